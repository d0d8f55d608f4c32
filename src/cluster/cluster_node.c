/*
 * A vipd's membership in the cluster: its lease (granted, kept alive every
 * third of its TTL, granted again when lost, with a full re-publish), the
 * publication of its backends (only the diff, one batch at a time, retried
 * with backoff), and the reads and watch that feed its view of every other
 * node's records (cluster_view.c): read in pages at one revision
 * (cluster_read.c), then watched from that revision; read again when the
 * watch ends or a page fails.
 */
#include "vipd/cluster_node.h"
#include "vipd/cluster_read.h"
#include "vipd/cluster_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "vipd/errbuf.h"

#define NODE_RETRY_BASE_S 0.2
#define NODE_RETRY_CAP_S 5.0

struct cluster_node {
	struct ev_loop *loop;
	struct etcd_client *etcd;
	const struct cluster_node_ops *ops;
	void *arg;
	char node[CLUSTER_NODE_MAX];
	char prefix[CLUSTER_KEY_MAX];
	char prefix_end[CLUSTER_KEY_MAX];
	char live_key[CLUSTER_KEY_MAX];
	unsigned ttl;
	int connected; /* -1 unknown, 0 no, 1 yes: audited on change */
	/* the lease */
	int64_t lease;    /* 0: none */
	bool lease_asked; /* grant in flight */
	bool keepalive_asked;
	bool live_written; /* live/<node> under this lease */
	unsigned grant_attempt;
	ev_timer keepalive;
	ev_timer grant_retry;
	ev_timer live_later;
	/* publishing */
	struct cluster_records held;    /* what etcd is believed to hold */
	struct cluster_records want;    /* what it should hold */
	struct cluster_records sending; /* want as the batch in flight was made */
	int64_t sending_lease;
	size_t writes_left;
	bool want_complete, sending_complete; /* every local backend's health known */
	bool writes_failed, publish_again;
	unsigned publish_attempt;
	ev_timer publish_retry;
	/* the view */
	struct cluster_view view;
	struct cluster_read read; /* the pages of the read under way */
	int64_t page_keys;
	bool read_changed, read_vips_changed; /* by the pages so far */
	bool read_asked;
	unsigned read_attempt;
	struct etcd_watch *watch;
	ev_timer read_retry;
	/* named VIPs being claimed (create txns in flight) */
	struct vip_claim **claims;
	size_t nclaims;
	unsigned claim_attempt;
	bool view_read_once;  /* the records below are etcd's, not just empty */
	ev_timer claim_retry; /* a claim failed: a round soon claims again */
	/* leaving */
	bool leaving;
	void (*left)(void *arg);
	void *left_arg;
	ev_timer leave_deadline;
};

static double retry_delay(unsigned *attempt)
{
	double d = etcd_backoff_delay(*attempt, NODE_RETRY_BASE_S, NODE_RETRY_CAP_S,
	                              (double)rand() / RAND_MAX);

	if (*attempt < 30)
		(*attempt)++;
	return d;
}

static void arm(struct cluster_node *n, ev_timer *t, double after)
{
	ev_timer_stop(n->loop, t);
	ev_timer_set(t, after, 0);
	ev_timer_start(n->loop, t);
}

static void warn(struct cluster_node *n, const char *fmt, const char *what)
{
	char msg[1024];

	(void)snprintf(msg, sizeof(msg), fmt, what);
	n->ops->warn(n->arg, msg);
}

/* etcd_warn_fn */
static void on_etcd_warn(void *arg, const char *msg)
{
	struct cluster_node *n = arg;

	n->ops->warn(n->arg, msg);
}

static void set_connected(struct cluster_node *n, bool up, const char *err)
{
	json_t *o;

	if (n->connected == (int)up)
		return;
	n->connected = up;
	o = json_pack("{s:s, s:s}", "state", up ? "connected" : "disconnected", "endpoint",
	              etcd_client_endpoint(n->etcd));
	if (o && !up)
		json_object_set_new(o, "error", json_string(err ? err : ""));
	n->ops->audit(n->arg, "cluster_etcd", o);
}

static void audit_lease(struct cluster_node *n, const char *state, int64_t lease)
{
	n->ops->audit(n->arg, "cluster_lease",
	              json_pack("{s:s, s:I, s:I}", "state", state, "lease", (json_int_t)lease,
	                        "ttl", (json_int_t)n->ttl));
}

/* ---------------------------------------------------------------- publish */

static int records_copy(const struct cluster_records *from, struct cluster_records *to)
{
	memset(to, 0, sizeof(*to));
	to->items = calloc(from->n + 1, sizeof(*to->items));
	if (to->items == NULL)
		return -1;
	for (size_t i = 0; i < from->n; i++) {
		struct cluster_record *r = &to->items[to->n++];

		r->key = strdup(from->items[i].key);
		r->value = from->items[i].value ? strdup(from->items[i].value) : NULL;
		if (r->key == NULL || (from->items[i].value && r->value == NULL)) {
			cluster_records_free(to);
			return -1;
		}
	}
	return 0;
}

static void publish_sync(struct cluster_node *n);
static void write_live(struct cluster_node *n);

/* The batch ended: etcd holds `sending` when every write succeeded under
 * the lease that still lives; otherwise anything between. */
static void batch_done(struct cluster_node *n)
{
	struct cluster_records next;

	if (!n->writes_failed && n->sending_lease == n->lease) {
		cluster_records_free(&n->held);
		n->held = n->sending;
		memset(&n->sending, 0, sizeof(n->sending));
		n->publish_attempt = 0;
		if (!n->live_written && n->lease != 0 && n->sending_complete)
			write_live(n);
	} else if (n->sending_lease == n->lease &&
	           cluster_records_uncertain(&n->held, &n->sending, &next) == 0) {
		cluster_records_free(&n->held);
		n->held = next;
		arm(n, &n->publish_retry, retry_delay(&n->publish_attempt));
	} else {
		arm(n, &n->publish_retry, retry_delay(&n->publish_attempt));
	}
	cluster_records_free(&n->sending);
	if (n->publish_again && !ev_is_active(&n->publish_retry))
		publish_sync(n);
}

/* etcd_done_fn of a put or delete */
static void on_write(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct cluster_node *n = arg;

	(void)r;
	/* A failed write is not a lost connection (the lease may be gone):
	 * the keep-alive, the read and the watch tell the connection's state. */
	if (status < 0) {
		if (!n->writes_failed)
			warn(n, "cluster: publishing: %s", err);
		n->writes_failed = true;
	}
	if (--n->writes_left == 0 && !n->leaving)
		batch_done(n);
}

static int send_write(struct cluster_node *n, const struct cluster_write *w)
{
	char err[512];
	int rc = w->kind == CLUSTER_WRITE_PUT
	             ? etcd_put(n->etcd, w->key, w->value, n->lease, on_write, n, err, sizeof(err))
	             : etcd_delete(n->etcd, w->key, NULL, on_write, n, err, sizeof(err));

	if (rc < 0)
		warn(n, "cluster: publishing: %s", err);
	return rc;
}

/* One batch at a time: the diff from what etcd holds to what is wanted. */
static void publish_sync(struct cluster_node *n)
{
	struct cluster_write *w = NULL;
	size_t nw = 0;

	n->publish_again = false;
	if (n->lease == 0 || n->leaving)
		return;
	if (n->writes_left > 0 || ev_is_active(&n->publish_retry)) {
		n->publish_again = true;
		return;
	}
	if (cluster_records_diff(&n->held, &n->want, &w, &nw) < 0 ||
	    records_copy(&n->want, &n->sending) < 0) {
		free(w);
		warn(n, "cluster: publishing: %s", "out of memory");
		arm(n, &n->publish_retry, retry_delay(&n->publish_attempt));
		return;
	}
	n->sending_lease = n->lease;
	n->sending_complete = n->want_complete;
	n->writes_failed = false;
	for (size_t i = 0; i < nw; i++) {
		if (send_write(n, &w[i]) < 0) {
			n->writes_failed = true;
			continue;
		}
		n->writes_left++;
	}
	free(w);
	if (n->writes_left == 0)
		batch_done(n);
}

/* etcd_done_fn of live/<node> */
static void on_live_written(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct cluster_node *n = arg;

	(void)r;
	if (status < 0) {
		n->live_written = false;
		warn(n, "cluster: writing the live key: %s", err);
	}
}

static void write_live(struct cluster_node *n)
{
	char value[CLUSTER_NODE_MAX + 16], err[512];

	(void)snprintf(value, sizeof(value), "{\"node\":\"%s\"}", n->node);
	n->live_written = true;
	if (etcd_put(n->etcd, n->live_key, value, n->lease, on_live_written, n, err, sizeof(err)) <
	    0) {
		n->live_written = false;
		warn(n, "cluster: writing the live key: %s", err);
	}
}

int cluster_node_publish(struct cluster_node *n, const struct cluster_backend *b, size_t nb,
                         bool complete, char *err, size_t errlen)
{
	struct cluster_records want;

	if (cluster_records_build(n->prefix, b, nb, &want, err, errlen) < 0)
		return -1;
	cluster_records_free(&n->want);
	n->want = want;
	n->want_complete = complete;
	publish_sync(n);
	return 0;
}

/* ---------------------------------------------------------------- lease */

static void lease_grant(struct cluster_node *n);

/* The lease is gone: etcd deleted every key under it. */
static void lease_lost(struct cluster_node *n)
{
	audit_lease(n, "lost", n->lease);
	n->lease = 0;
	n->live_written = false;
	cluster_records_free(&n->held);
	ev_timer_stop(n->loop, &n->keepalive);
	lease_grant(n);
}

/* etcd_done_fn */
static void on_keepalive(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct cluster_node *n = arg;

	n->keepalive_asked = false;
	if (n->leaving)
		return;
	if (status < 0) {
		set_connected(n, false, err);
		return;
	}
	set_connected(n, true, NULL);
	if (r->ttl <= 0)
		lease_lost(n);
}

/* ev_timer: every third of the TTL */
static void on_keepalive_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster_node *n = w->data;
	char err[512];

	(void)loop;
	(void)revents;
	if (n->lease == 0 || n->keepalive_asked)
		return;
	if (etcd_lease_keepalive(n->etcd, n->lease, on_keepalive, n, err, sizeof(err)) == 0)
		n->keepalive_asked = true;
	else
		warn(n, "cluster: lease keep-alive: %s", err);
}

/* etcd_done_fn */
static void on_grant(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct cluster_node *n = arg;

	n->lease_asked = false;
	if (n->leaving)
		return;
	if (status < 0 || r->lease_id == 0) {
		set_connected(n, false, err ? err : "no lease in the answer");
		arm(n, &n->grant_retry, retry_delay(&n->grant_attempt));
		return;
	}
	set_connected(n, true, NULL);
	n->grant_attempt = 0;
	n->lease = r->lease_id;
	audit_lease(n, "granted", n->lease);
	ev_timer_set(&n->keepalive, n->ttl / 3.0, n->ttl / 3.0);
	ev_timer_start(n->loop, &n->keepalive);
	/* The live key follows the first complete publication (a node back
	 * after a crash replaces its expired records before the others drop
	 * what is left of them), or a TTL later whatever its checks say. */
	arm(n, &n->live_later, n->ttl);
	publish_sync(n);
}

static void lease_grant(struct cluster_node *n)
{
	char err[512];

	if (n->lease_asked || n->leaving)
		return;
	if (etcd_lease_grant(n->etcd, n->ttl, on_grant, n, err, sizeof(err)) == 0) {
		n->lease_asked = true;
		return;
	}
	warn(n, "cluster: lease grant: %s", err);
	arm(n, &n->grant_retry, retry_delay(&n->grant_attempt));
}

/* ev_timer */
static void on_live_later(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster_node *n = w->data;

	(void)loop;
	(void)revents;
	if (!n->live_written && n->lease != 0)
		write_live(n);
}

/* ev_timer */
static void on_grant_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	lease_grant(w->data);
}

static void on_publish_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	publish_sync(w->data);
}

/* ---------------------------------------------------------------- the view */

static void read_later(struct cluster_node *n)
{
	arm(n, &n->read_retry, retry_delay(&n->read_attempt));
}

/* etcd_watch_fn */
static void on_watch(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct cluster_node *n = arg;

	if (status < 0) {
		/* The watch is freed after this call: a compaction, a broken
		 * stream or etcd gone; a fresh read closes the gap. */
		n->watch = NULL;
		warn(n, "cluster: watch ended: %s; reading again", err);
		set_connected(n, false, err);
		read_later(n);
		return;
	}
	uint64_t vips_before = n->view.vips_changes;

	set_connected(n, true, NULL);
	if (cluster_view_events(&n->view, r))
		n->ops->changed(n->arg);
	if (n->view.vips_changes != vips_before)
		n->ops->vips_changed(n->arg);
}

static void watch_from(struct cluster_node *n, int64_t revision)
{
	char err[512];

	n->watch = etcd_watch_start(n->etcd, n->prefix, n->prefix_end, revision, on_watch, n, err,
	                            sizeof(err));
	if (n->watch == NULL) {
		warn(n, "cluster: watch: %s", err);
		read_later(n);
	}
}

/* Every page is in: the records none held are gone, the engine hears of
 * the read once, and the watch goes on from the read's revision, so that
 * no change is missed or seen twice. */
static void read_done(struct cluster_node *n)
{
	bool changed = cluster_view_read_end(&n->view) || n->read_changed;
	bool vips_changed = n->read_vips_changed;

	n->read_attempt = 0;
	n->read_changed = n->read_vips_changed = false;
	if (changed)
		n->ops->changed(n->arg);
	if (!n->view_read_once || vips_changed) {
		/* the records are known now: a whole build claims the names
		 * that have none */
		n->view_read_once = true;
		n->ops->vips_changed(n->arg);
	}
	watch_from(n, n->read.revision + 1);
}

static void read_page_ask(struct cluster_node *n);

/* etcd_done_fn of one page of the prefix's read */
static void on_read(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct cluster_node *n = arg;
	char rerr[256];
	uint64_t vips_before;

	n->read_asked = false;
	if (n->leaving)
		return;
	if (status < 0) {
		/* etcd gone, or the read's revision compacted between two
		 * pages (etcd's OutOfRange): the whole read again. */
		set_connected(n, false, err);
		read_later(n);
		return;
	}
	set_connected(n, true, NULL);
	vips_before = n->view.vips_changes;
	if (cluster_view_read_page(&n->view, r))
		n->read_changed = true;
	if (n->view.vips_changes != vips_before)
		n->read_vips_changed = true;
	switch (cluster_read_page(&n->read, r, rerr, sizeof(rerr))) {
	case CLUSTER_READ_MORE:
		read_page_ask(n);
		return;
	case CLUSTER_READ_DONE:
		read_done(n);
		return;
	case CLUSTER_READ_BAD:
		warn(n, "cluster: read: %s; reading again", rerr);
		read_later(n);
		return;
	}
}

static void read_page_ask(struct cluster_node *n)
{
	char err[512];
	const char *key = n->read.next_key ? n->read.next_key : n->prefix;
	size_t len = n->read.next_key ? n->read.next_key_len : strlen(n->prefix);

	if (etcd_range_page(n->etcd, key, len, n->prefix_end, n->read.revision, n->page_keys,
	                    on_read, n, err, sizeof(err)) == 0) {
		n->read_asked = true;
		return;
	}
	warn(n, "cluster: read: %s", err);
	read_later(n);
}

static void view_read(struct cluster_node *n)
{
	if (n->read_asked || n->leaving)
		return;
	cluster_read_start(&n->read);
	cluster_view_read_begin(&n->view);
	read_page_ask(n);
}

/* ev_timer */
static void on_read_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	view_read(w->data);
}

const struct cluster_remote *cluster_node_remotes(struct cluster_node *n, size_t *count)
{
	return cluster_view_remotes(&n->view, count);
}

const struct cluster_remote *cluster_node_remotes_of(struct cluster_node *n,
                                                     const struct cluster_service *only,
                                                     size_t nonly, size_t *count)
{
	return cluster_view_remotes_of(&n->view, only, nonly, count);
}

const struct cluster_service *cluster_node_dirty(const struct cluster_node *n, size_t *count,
                                                 bool *all)
{
	return cluster_view_dirty(&n->view, count, all);
}

void cluster_node_dirty_clear(struct cluster_node *n)
{
	cluster_view_dirty_clear(&n->view);
}

uint64_t cluster_node_vips_changes(const struct cluster_node *n)
{
	return n->view.vips_changes;
}

/* ---------------------------------------------------------- named VIPs */

/* One create txn in flight: freed by its callback, or by cluster_node_free
 * (which frees the etcd client first: its requests end with no callback). */
struct vip_claim {
	struct cluster_node *n;
	char name[VIP_NAME_MAX];
	char key[CLUSTER_KEY_MAX];
	char *value;
};

const struct vip_records *cluster_node_vips(const struct cluster_node *n)
{
	return n->view_read_once ? &n->view.vips : NULL;
}

static bool claim_pending(const struct cluster_node *n, const char *name)
{
	for (size_t i = 0; i < n->nclaims; i++)
		if (strcmp(n->claims[i]->name, name) == 0)
			return true;
	return false;
}

static void claim_forget(struct cluster_node *n, struct vip_claim *c)
{
	for (size_t i = 0; i < n->nclaims; i++) {
		if (n->claims[i] != c)
			continue;
		n->claims[i] = n->claims[--n->nclaims];
		break;
	}
	free(c->value);
	free(c);
}

/* etcd_done_fn of a create txn: ours (succeeded) or the winner's (the
 * failure branch's range holds the existing key). */
static void on_claimed(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct vip_claim *c = arg;
	struct cluster_node *n = c->n;
	struct etcd_kv ours = {.key = c->key, .key_len = strlen(c->key), .value = c->value};
	bool changed = false;

	if (status < 0) {
		warn(n, "cluster: named VIP not recorded (claimed again after a delay): %s", err);
		if (!ev_is_active(&n->claim_retry))
			arm(n, &n->claim_retry, retry_delay(&n->claim_attempt));
		claim_forget(n, c);
		return;
	}
	n->claim_attempt = 0;
	ours.value_len = strlen(c->value);
	/* ours, or the winner's from the failure branch's range */
	if (r->succeeded)
		changed = cluster_view_vip(&n->view, &ours);
	else if (r->n_kvs > 0)
		changed = cluster_view_vip(&n->view, &r->kvs[0]);
	claim_forget(n, c);
	if (changed)
		n->ops->vips_changed(n->arg);
}

/* ev_timer */
static void on_claim_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster_node *n = w->data;

	(void)loop;
	(void)revents;
	if (!n->leaving)
		n->ops->vips_changed(n->arg);
}

static int claim_value(const struct vip_record *rec, char **value)
{
	struct cluster_vip_assign a = {0};

	(void)snprintf(a.name, sizeof(a.name), "%s", rec->name);
	if (rec->addr.af != 0)
		lb_addr_format(&rec->addr, a.ipv4, sizeof(a.ipv4));
	if (rec->addr6.af != 0)
		lb_addr_format(&rec->addr6, a.ipv6, sizeof(a.ipv6));
	*value = cluster_vip_value(&a);
	return *value ? 0 : -1;
}

int cluster_node_claim_vip(struct cluster_node *n, const struct vip_record *rec, char *err,
                           size_t errlen)
{
	struct vip_claim *c, **grown;

	if (n->leaving || claim_pending(n, rec->name))
		return 0;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	if (cluster_vip_key(n->prefix, rec->name, c->key, sizeof(c->key), err, errlen) < 0)
		goto fail;
	grown = realloc(n->claims, (n->nclaims + 1) * sizeof(*grown));
	if (grown != NULL)
		n->claims = grown;
	if (grown == NULL || claim_value(rec, &c->value) < 0) {
		errbuf_set(err, errlen, "out of memory");
		goto fail;
	}
	c->n = n;
	(void)snprintf(c->name, sizeof(c->name), "%s", rec->name);
	if (etcd_create(n->etcd, c->key, c->value, 0, on_claimed, c, err, errlen) < 0)
		goto fail;
	n->claims[n->nclaims++] = c;
	return 0;
fail:
	free(c->value);
	free(c);
	return -1;
}

static void on_rerecorded(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct cluster_node *n = arg;

	(void)r;
	if (status < 0)
		warn(n, "cluster: named VIP's new address not recorded (retried next round): %s",
		     err);
}

int cluster_node_rerecord_vip(struct cluster_node *n, const struct vip_record *rec, char *err,
                              size_t errlen)
{
	char key[CLUSTER_KEY_MAX], *value = NULL;
	int rc;

	if (n->leaving)
		return 0;
	if (cluster_vip_key(n->prefix, rec->name, key, sizeof(key), err, errlen) < 0)
		return -1;
	if (claim_value(rec, &value) < 0) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	rc = etcd_put(n->etcd, key, value, 0, on_rerecorded, n, err, errlen);
	free(value);
	return rc;
}

/* ---------------------------------------------------------------- lifetime */

/* cluster_view_ops */
static void on_view_audit(void *arg, const char *event, json_t *fields)
{
	struct cluster_node *n = arg;

	n->ops->audit(n->arg, event, fields);
}

static void on_view_app_changed(void *arg, const char *app_id)
{
	struct cluster_node *n = arg;

	n->ops->app_changed(n->arg, app_id);
}

static const struct cluster_view_ops view_ops = {
    .audit = on_view_audit, .warn = on_etcd_warn, .app_changed = on_view_app_changed};

static int settings_check(const struct cluster_node_settings *s, char *err, size_t errlen)
{
	size_t len = strlen(s->prefix);

	if (!cluster_node_valid(s->node)) {
		errbuf_set(err, errlen, "cluster.node \"%.80s\": expected 1-63 of [A-Za-z0-9._-]",
		           s->node);
		return -1;
	}
	if (len == 0 || s->prefix[len - 1] != '/' ||
	    len + 2 * (size_t)CLUSTER_NODE_MAX >= CLUSTER_KEY_MAX) {
		errbuf_set(err, errlen, "cluster.prefix \"%.80s\": expected a path ending with /",
		           s->prefix);
		return -1;
	}
	if (s->lease_ttl < 2) {
		errbuf_set(err, errlen, "cluster.lease_ttl: expected at least 2 seconds");
		return -1;
	}
	return 0;
}

static void timers_init(struct cluster_node *n)
{
	ev_timer_init(&n->keepalive, on_keepalive_timer, 0, 0);
	ev_timer_init(&n->grant_retry, on_grant_retry, 0, 0);
	ev_timer_init(&n->live_later, on_live_later, 0, 0);
	n->live_later.data = n;
	ev_timer_init(&n->publish_retry, on_publish_retry, 0, 0);
	ev_timer_init(&n->read_retry, on_read_retry, 0, 0);
	ev_timer_init(&n->claim_retry, on_claim_retry, 0, 0);
	n->claim_retry.data = n;
	n->keepalive.data = n->grant_retry.data = n->publish_retry.data = n;
	n->read_retry.data = n->leave_deadline.data = n;
}

struct cluster_node *cluster_node_new(struct ev_loop *loop, const struct cluster_node_settings *s,
                                      const struct cluster_node_ops *ops, void *arg, char *err,
                                      size_t errlen)
{
	struct cluster_node *n;

	if (settings_check(s, err, errlen) < 0)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	n->loop = loop;
	n->ops = ops;
	n->arg = arg;
	n->ttl = s->lease_ttl;
	n->connected = -1;
	n->page_keys = cluster_read_page_keys(getenv("VIPD_CLUSTER_READ_PAGE_KEYS"));
	(void)snprintf(n->node, sizeof(n->node), "%s", s->node);
	(void)snprintf(n->prefix, sizeof(n->prefix), "%s", s->prefix);
	timers_init(n);
	if (cluster_view_init(&n->view, n->node, n->prefix, &view_ops, n) < 0 ||
	    etcd_prefix_end(n->prefix, n->prefix_end, sizeof(n->prefix_end)) < 0 ||
	    cluster_live_key(n->prefix, n->node, n->live_key, sizeof(n->live_key)) < 0) {
		errbuf_set(err, errlen, "cluster.prefix \"%.80s\": too long", s->prefix);
		cluster_view_free(&n->view);
		free(n);
		return NULL;
	}
	n->etcd = etcd_client_new(loop, &s->etcd, on_etcd_warn, n, err, errlen);
	if (n->etcd == NULL) {
		cluster_view_free(&n->view);
		free(n);
		return NULL;
	}
	lease_grant(n);
	view_read(n);
	return n;
}

static void timers_stop(struct cluster_node *n)
{
	ev_timer_stop(n->loop, &n->keepalive);
	ev_timer_stop(n->loop, &n->grant_retry);
	ev_timer_stop(n->loop, &n->live_later);
	ev_timer_stop(n->loop, &n->publish_retry);
	ev_timer_stop(n->loop, &n->read_retry);
	ev_timer_stop(n->loop, &n->claim_retry);
	ev_timer_stop(n->loop, &n->leave_deadline);
}

void cluster_node_free(struct cluster_node *n)
{
	if (n == NULL)
		return;
	timers_stop(n);
	if (n->watch)
		etcd_watch_cancel(n->watch);
	etcd_client_free(n->etcd);
	cluster_records_free(&n->held);
	cluster_records_free(&n->want);
	cluster_records_free(&n->sending);
	cluster_view_free(&n->view);
	cluster_read_free(&n->read);
	for (size_t i = 0; i < n->nclaims; i++) {
		free(n->claims[i]->value);
		free(n->claims[i]);
	}
	free(n->claims);
	free(n);
}

/* ---------------------------------------------------------------- leaving */

static void leave_finish(struct cluster_node *n)
{
	void (*done)(void *) = n->left;

	if (done == NULL)
		return;
	n->left = NULL;
	ev_timer_stop(n->loop, &n->leave_deadline);
	done(n->left_arg);
}

/* etcd_done_fn of the revoke */
static void on_revoked(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	struct cluster_node *n = arg;

	(void)r;
	if (status < 0)
		warn(n, "cluster: lease revoke: %s", err);
	else
		audit_lease(n, "revoked", n->lease);
	leave_finish(n);
}

static void lease_revoke(struct cluster_node *n)
{
	char err[512];

	if (n->lease != 0 &&
	    etcd_lease_revoke(n->etcd, n->lease, on_revoked, n, err, sizeof(err)) == 0)
		return;
	leave_finish(n);
}

/* ev_timer */
static void on_leave_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cluster_node *n = w->data;

	(void)loop;
	(void)revents;
	warn(n, "cluster: %s", "etcd did not answer in time; leaving without it");
	leave_finish(n);
}

void cluster_node_leave(struct cluster_node *n, double wait_s, void (*done)(void *arg), void *arg)
{
	n->leaving = true;
	n->left = done;
	n->left_arg = arg;
	timers_stop(n);
	if (n->watch) {
		etcd_watch_cancel(n->watch);
		n->watch = NULL;
	}
	ev_timer_init(&n->leave_deadline, on_leave_deadline, wait_s, 0);
	n->leave_deadline.data = n;
	ev_timer_start(n->loop, &n->leave_deadline);
	/* Revoking deletes the backends with the live key in one revision, so
	 * the others apply the failure rules, as for a node that died: its
	 * backends leave at once wherever another node's healthy one serves the
	 * VIP, and stay where they are the VIP's last ones (a restart must not
	 * black-hole a VIP whose only tasks run here). Deleting them first,
	 * while the live key exists, would drop those too. */
	lease_revoke(n);
}
