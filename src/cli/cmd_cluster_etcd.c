/*
 * vipctl's one read of etcd: every key under a prefix, with the config's
 * endpoints (or --etcd), TLS and auth as vipd uses them, through vipd's own
 * etcd client run on a loop of its own until the answer comes, in pages at
 * one revision as the daemon reads it (cluster_read.h: a cluster of 100,000
 * backends is one 44 MB answer otherwise). vipctl may block; a short
 * timeout per request bounds it, and each endpoint is tried once in turn.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vipd/cluster_read.h"
#include "vipd/cluster_view.h"
#include "vipd/vec.h"

#define CLI_ETCD_TIMEOUT_S 2.0

/* A read restarted more often than this (its revision compacted between
 * pages each time) is given up. */
#define CLI_ETCD_READ_TRIES 3

struct etcd_read {
	cli_etcd_use_fn use;
	void *arg;
	bool done;
	int rc;
	char err[1024];
	char endpoint[256];
	struct etcd_client *client;
	const char *pages_key; /* the prefix: a restarted read's first key */
	const char *end;       /* the prefix's range end */
	int64_t limit;         /* keys per page */
	struct cluster_read pages;
	struct etcd_resp all; /* the pages' keys, copied */
	size_t cap, tries;
};

/* etcd_warn_fn: a key that does not decode, in the daemon's words. */
static void read_warn(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "vipctl: warning: %s\n", msg);
}

static void read_fail(struct etcd_read *rd, const char *err)
{
	rd->done = true;
	rd->rc = CLI_EXIT_UNAVAILABLE;
	(void)snprintf(rd->err, sizeof(rd->err), "%s", err ? err : "no answer");
}

/* A page's keys appended to rd->all. -1 out of memory. */
static int keep_page(struct etcd_read *rd, const struct etcd_resp *r)
{
	for (size_t i = 0; i < r->n_kvs; i++) {
		struct etcd_kv kv = r->kvs[i];

		if (VEC_RESERVE(rd->all.kvs, rd->cap, rd->all.n_kvs + 1) < 0)
			return -1;
		kv.key = malloc(kv.key_len + 1);
		kv.value = malloc(kv.value_len + 1);
		if (kv.key == NULL || kv.value == NULL) {
			free(kv.key);
			free(kv.value);
			return -1;
		}
		memcpy(kv.key, r->kvs[i].key, kv.key_len + 1);
		memcpy(kv.value, r->kvs[i].value, kv.value_len + 1);
		rd->all.kvs[rd->all.n_kvs++] = kv;
	}
	return 0;
}

static void read_done(void *arg, int status, const struct etcd_resp *r, const char *err);

/* Asks for the next page (the first one after cluster_read_start). */
static void read_next(struct etcd_read *rd, const char *key)
{
	const char *from = rd->pages.next_key ? rd->pages.next_key : key;
	size_t len = rd->pages.next_key ? rd->pages.next_key_len : strlen(key);
	char err[512];

	if (etcd_range_page(rd->client, from, len, rd->end, rd->pages.revision, rd->limit,
	                    read_done, rd, err, sizeof(err)) < 0)
		read_fail(rd, err);
}

/* A read that cannot go on from where it is (a page refused, say its
 * revision compacted meanwhile, or one that cannot be continued): read
 * again from the first page, a few times. */
static void read_again(struct etcd_read *rd, const char *why)
{
	if (++rd->tries >= CLI_ETCD_READ_TRIES) {
		read_fail(rd, why);
		return;
	}
	etcd_resp_free(&rd->all);
	rd->cap = 0;
	cluster_read_start(&rd->pages);
	read_next(rd, rd->pages_key);
}

/* etcd_done_fn: one page. */
static void read_done(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct etcd_read *rd = arg;
	char why[512];

	if (status < 0) {
		if (rd->pages.pages > 0)
			read_again(rd, err ? err : "no answer");
		else
			read_fail(rd, err);
		return;
	}
	if (keep_page(rd, r) < 0) {
		read_fail(rd, "out of memory");
		return;
	}
	switch (cluster_read_page(&rd->pages, r, why, sizeof(why))) {
	case CLUSTER_READ_MORE:
		read_next(rd, NULL);
		return;
	case CLUSTER_READ_BAD:
		read_again(rd, why);
		return;
	case CLUSTER_READ_DONE:
		break;
	}
	rd->done = true;
	rd->all.revision = rd->pages.revision;
	(void)snprintf(rd->endpoint, sizeof(rd->endpoint), "%s", etcd_client_endpoint(rd->client));
	rd->rc = rd->use(rd->arg, rd->endpoint, &rd->all);
}

/* What to do when the last endpoint tried failed with err (etcd_client's
 * message names the request and curl's or etcd's error). */
static const char *read_fix(const char *err, const char *from)
{
	static char fix[128];

	if (strstr(err, "/v3/auth/authenticate") != NULL)
		return "check \"cluster.auth\" (etcdctl user get shows the user)";
	if (strstr(err, "SSL") != NULL || strstr(err, "certificate") != NULL)
		return "check \"cluster.tls\" (cacert, cert, key) against the etcd server's "
		       "certificates";
	(void)snprintf(fix, sizeof(fix), "start etcd there, or correct %s", from);
	return fix;
}

/* The endpoints, split in place in list (a copy the caller frees). -1: none
 * or too many, with the message on stderr. */
static int split_endpoints(char *list, struct etcd_config *ec, const char *from)
{
	char *save = NULL;

	for (char *url = strtok_r(list, ", ", &save); url; url = strtok_r(NULL, ", ", &save)) {
		if (ec->n_endpoints == ETCD_ENDPOINTS_MAX) {
			fprintf(stderr, "vipctl: %s: more than %d etcd endpoints\n", from,
			        ETCD_ENDPOINTS_MAX);
			return -1;
		}
		ec->endpoints[ec->n_endpoints++] = url;
	}
	if (ec->n_endpoints == 0) {
		fprintf(stderr, "vipctl: %s: expected at least one etcd URL\n", from);
		return -1;
	}
	return 0;
}

/* cluster_view_ops: vipctl audits nothing; a record that does not decode is
 * the daemon's warning. */
static void view_audit(void *arg, const char *event, json_t *fields)
{
	(void)arg;
	(void)event;
	json_decref(fields);
}

static void view_warn(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "vipctl: warning: %s\n", msg);
}

static void view_app_changed(void *arg, const char *app_id)
{
	(void)arg;
	(void)app_id;
}

static const struct cluster_view_ops cli_view_ops = {
    .audit = view_audit, .warn = view_warn, .app_changed = view_app_changed};

int cli_view_init(struct cluster_view *v, const char *prefix)
{
	/* no node's side: "" is no node's name, so every record is the view's */
	if (cluster_view_init(v, "", prefix, &cli_view_ops, NULL) < 0) {
		fprintf(stderr, "vipctl: cluster.prefix \"%s\": too long\n", prefix);
		return -1;
	}
	return 0;
}

const char *cli_etcd_endpoints(const struct vipd_config *cfg, const char *opt)
{
	return opt ? opt : cfg->cluster_endpoints;
}

int cli_etcd_read(const struct vipd_config *cfg, const char *opt, const char *key,
                  cli_etcd_use_fn use, void *arg)
{
	struct etcd_config ec = {.cacert = cfg->cluster_cacert,
	                         .cert = cfg->cluster_cert,
	                         .key = cfg->cluster_key,
	                         .user = cfg->cluster_user,
	                         .password = cfg->cluster_password,
	                         .timeout = CLI_ETCD_TIMEOUT_S};
	struct etcd_read rd = {.use = use, .arg = arg};
	const char *from = opt ? "--etcd" : "cluster.endpoints";
	char *list = strdup(cli_etcd_endpoints(cfg, opt)), err[512], *end = NULL;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct etcd_client *c = NULL;
	int rc = CLI_EXIT_FAIL;

	if (list == NULL || loop == NULL || (end = malloc(strlen(key) + 1)) == NULL) {
		fprintf(stderr, "vipctl: out of memory reading etcd\n");
		goto out;
	}
	if (split_endpoints(list, &ec, from) < 0) {
		rc = CLI_EXIT_CONFIG;
		goto out;
	}
	c = etcd_client_new(loop, &ec, read_warn, NULL, err, sizeof(err));
	rd.client = c;
	if (c == NULL || etcd_prefix_end(key, end, strlen(key) + 1) < 0) {
		fprintf(stderr, "vipctl: %s\n", err);
		goto out;
	}
	rd.pages_key = key;
	rd.end = end;
	rd.limit = cluster_read_page_keys(getenv("VIPD_CLUSTER_READ_PAGE_KEYS"));
	cluster_read_start(&rd.pages);
	read_next(&rd, key);
	while (!rd.done)
		ev_run(loop, EVRUN_ONCE);
	rc = rd.rc;
	if (rc == CLI_EXIT_UNAVAILABLE)
		fprintf(stderr, "vipctl: cannot read etcd (%s): %s; fix: %s\n",
		        cli_etcd_endpoints(cfg, opt), rd.err, read_fix(rd.err, from));
out:
	cluster_read_free(&rd.pages);
	etcd_resp_free(&rd.all);
	etcd_client_free(c);
	if (loop)
		ev_loop_destroy(loop);
	free(end);
	free(list);
	return rc;
}
