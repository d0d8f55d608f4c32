/*
 * etcd_tool: vipd's etcd client alone, for the host tests. It reads one
 * command per line on stdin and prints each answer (and each watch event,
 * as it arrives) as one line on stdout, all on one libev loop:
 *
 *   grant TTL | keepalive ID | revoke ID | put KEY VALUE [LEASE] | get PREFIX
 *   del KEY | create KEY VALUE | watch PREFIX [REV] | unwatch | endpoint
 *
 *   etcd_tool --endpoints URL[,URL...] [--user U --password P]
 *             [--cacert F] [--cert F --key F] [--retry-rounds N]
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "vipd/etcd.h"

static struct etcd_client *client;
static struct etcd_watch *watch;
static char *stdin_buf;
static size_t stdin_len;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void on_warn(void *arg, const char *msg)
{
	(void)arg;
	out("warning: %s", msg);
}

static void on_done(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	const char *op = arg;
	size_t i;

	if (status < 0) {
		out("error %s: %s", op, err);
		return;
	}
	if (strcmp(op, "grant") == 0 || strcmp(op, "keepalive") == 0)
		out("%s %lld ttl %lld", op, (long long)r->lease_id, (long long)r->ttl);
	else if (strcmp(op, "get") == 0) {
		out("get rev %lld count %lld", (long long)r->revision, (long long)r->count);
		for (i = 0; i < r->n_kvs; i++)
			out("kv %s %s lease %lld", r->kvs[i].key, r->kvs[i].value,
			    (long long)r->kvs[i].lease);
	} else if (strcmp(op, "del") == 0)
		out("del %lld", (long long)r->deleted);
	else if (strcmp(op, "create") == 0)
		out("create %s%s%s", r->succeeded ? "succeeded" : "exists",
		    !r->succeeded && r->n_kvs ? " " : "",
		    !r->succeeded && r->n_kvs ? r->kvs[0].value : "");
	else
		out("%s ok rev %lld", op, (long long)r->revision);
}

static void on_watch(void *arg, int status, const struct etcd_resp *r, const char *err)
{
	size_t i;

	(void)arg;
	if (status < 0) {
		watch = NULL; /* freed by the client */
		out("watch end: %s", err);
		return;
	}
	if (r->created)
		out("watch created rev %lld", (long long)r->revision);
	if (r->canceled)
		out("watch canceled compact %lld", (long long)r->compact_revision);
	for (i = 0; i < r->n_events; i++)
		out("event %s %s %s", r->events[i].type == ETCD_EVENT_PUT ? "PUT" : "DELETE",
		    r->events[i].kv.key, r->events[i].kv.value);
}

static void run_watch(const char *prefix, const char *rev)
{
	char end[512], err[512];

	if (watch)
		etcd_watch_cancel(watch);
	etcd_prefix_end(prefix, end, sizeof(end));
	watch = etcd_watch_start(client, prefix, end, rev ? atoll(rev) : 0, on_watch, NULL, err,
	                         sizeof(err));
	if (!watch)
		out("error watch: %s", err);
}

static int run_request(char **w, int n, char *err, size_t errlen)
{
	char end[512];

	if (strcmp(w[0], "grant") == 0 && n == 2)
		return etcd_lease_grant(client, atoll(w[1]), on_done, "grant", err, errlen);
	if (strcmp(w[0], "keepalive") == 0 && n == 2)
		return etcd_lease_keepalive(client, atoll(w[1]), on_done, "keepalive", err, errlen);
	if (strcmp(w[0], "revoke") == 0 && n == 2)
		return etcd_lease_revoke(client, atoll(w[1]), on_done, "revoke", err, errlen);
	if (strcmp(w[0], "put") == 0 && (n == 3 || n == 4))
		return etcd_put(client, w[1], w[2], n == 4 ? atoll(w[3]) : 0, on_done, "put", err,
		                errlen);
	if (strcmp(w[0], "get") == 0 && n == 2) {
		etcd_prefix_end(w[1], end, sizeof(end));
		return etcd_range(client, w[1], end, 0, on_done, "get", err, errlen);
	}
	if (strcmp(w[0], "del") == 0 && n == 2)
		return etcd_delete(client, w[1], NULL, on_done, "del", err, errlen);
	if (strcmp(w[0], "create") == 0 && n == 3)
		return etcd_create(client, w[1], w[2], 0, on_done, "create", err, errlen);
	(void)snprintf(err, errlen, "unknown command or wrong arguments");
	return -1;
}

static void run_line(struct ev_loop *loop, char *line)
{
	char *w[8], *save = NULL, err[512];
	int n = 0;

	for (char *t = strtok_r(line, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (n == 0)
		return;
	if (strcmp(w[0], "quit") == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (strcmp(w[0], "endpoint") == 0) {
		out("endpoint %s", etcd_client_endpoint(client));
		return;
	}
	if (strcmp(w[0], "watch") == 0 && (n == 2 || n == 3)) {
		run_watch(w[1], n == 3 ? w[2] : NULL);
		return;
	}
	if (strcmp(w[0], "unwatch") == 0) {
		if (watch)
			etcd_watch_cancel(watch);
		watch = NULL;
		out("unwatched");
		return;
	}
	if (run_request(w, n, err, sizeof(err)) < 0)
		out("error %s: %s", w[0], err);
}

static void on_stdin(struct ev_loop *loop, ev_io *w, int revents)
{
	char chunk[4096], *nl, *grown;
	ssize_t n;

	(void)revents;
	n = read(w->fd, chunk, sizeof(chunk));
	if (n <= 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	grown = realloc(stdin_buf, stdin_len + (size_t)n + 1);
	if (!grown) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	stdin_buf = grown;
	memcpy(stdin_buf + stdin_len, chunk, (size_t)n);
	stdin_len += (size_t)n;
	stdin_buf[stdin_len] = '\0';
	while ((nl = strchr(stdin_buf, '\n'))) {
		*nl = '\0';
		run_line(loop, stdin_buf);
		stdin_len -= (size_t)(nl + 1 - stdin_buf);
		memmove(stdin_buf, nl + 1, stdin_len + 1);
	}
}

static int parse_endpoints(char *list, struct etcd_config *cfg)
{
	char *save = NULL;

	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (cfg->n_endpoints == ETCD_ENDPOINTS_MAX)
			return -1;
		cfg->endpoints[cfg->n_endpoints++] = t;
	}
	return cfg->n_endpoints ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"endpoints", required_argument, NULL, 'e'},
	                                         {"user", required_argument, NULL, 'u'},
	                                         {"password", required_argument, NULL, 'p'},
	                                         {"cacert", required_argument, NULL, 'C'},
	                                         {"cert", required_argument, NULL, 'c'},
	                                         {"key", required_argument, NULL, 'k'},
	                                         {"retry-rounds", required_argument, NULL, 'r'},
	                                         {NULL, 0, NULL, 0}};
	struct etcd_config cfg = {0};
	struct ev_loop *loop = EV_DEFAULT;
	char err[512];
	ev_io in;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (parse_endpoints(optarg, &cfg) < 0) {
				fprintf(stderr, "etcd_tool: bad --endpoints\n");
				return 64;
			}
			break;
		case 'u':
			cfg.user = optarg;
			break;
		case 'p':
			cfg.password = optarg;
			break;
		case 'C':
			cfg.cacert = optarg;
			break;
		case 'c':
			cfg.cert = optarg;
			break;
		case 'k':
			cfg.key = optarg;
			break;
		case 'r':
			cfg.retry_rounds = (unsigned)atoi(optarg);
			break;
		default:
			return 64;
		}
	}
	cfg.timeout = 3;
	client = etcd_client_new(loop, &cfg, on_warn, NULL, err, sizeof(err));
	if (!client) {
		fprintf(stderr, "etcd_tool: %s\n", err);
		return 1;
	}
	ev_io_init(&in, on_stdin, 0, EV_READ);
	ev_io_start(loop, &in);
	out("ready");
	ev_run(loop, 0);
	if (watch)
		etcd_watch_cancel(watch);
	etcd_client_free(client);
	free(stdin_buf);
	return 0;
}
