/*
 * The etcd client's I/O: one curl easy handle per request on a curl multi
 * driven by the caller's libev loop (after curl's evhiperfifo.c: one ev_io
 * per curl socket, one ev_timer for curl's timeouts, finished transfers
 * collected in one place). Owns endpoint failover, retry rounds with
 * backoff, the auth token, and the line splitting of watch streams.
 */
#include "vipd/etcd.h"
#include "vipd/curl_ev.h"
#include "vipd/errbuf.h"
#include "vipd/vec.h"

#include <curl/curl.h>
#include <ev.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETCD_BODY_MAX ((size_t)256 * 1024 * 1024) /* a range of 100,000 backends fits */
#define ETCD_ENDPOINT_MAX 256
#define ETCD_WHERE_MAX (ETCD_ENDPOINT_MAX + 64)
#define ETCD_ERR_MAX 512
/* gRPC's Unauthenticated: the token expired or the server restarted. */
#define ETCD_GRPC_UNAUTHENTICATED 16
/* A range has the timeout of every other request: etcd's gateway builds a
 * range's answer whole before its first byte, and a prefix of 100,000
 * backends read at once (44 MB of JSON, 6-7 s on a loaded 2-core host:
 * bench/cluster/run.sh) never fit in 2 s; cluster_node.c reads the prefix
 * in pages of a bounded number of keys instead, each one answer of its own. */

struct etcd_req {
	struct etcd_client *c;
	struct etcd_req *next; /* in c->reqs */
	enum etcd_op op;
	char *body; /* the request's JSON */
	etcd_done_fn done;
	etcd_watch_fn watch_fn; /* set for a watch */
	void *arg;
	CURL *easy; /* in c->curl.multi while set */
	struct curl_slist *headers;
	bool authing;    /* the running transfer is /v3/auth/authenticate */
	bool reauthed;   /* one fresh token per request, not a loop */
	bool streaming;  /* a watch that has answered: a break ends it */
	bool dead;       /* finished or cancelled: freed by the next sweep */
	size_t endpoint; /* index into cfg.endpoints */
	size_t tried;    /* endpoints tried in this round */
	unsigned round;
	ev_timer retry_timer;
	char *buf; /* the answer (a watch: bytes not yet split into lines) */
	size_t len, cap;
	char curl_error[CURL_ERROR_SIZE];
	char last_error[ETCD_ERR_MAX];
};

struct etcd_watch {
	struct etcd_req req; /* first: a watch is a request that streams */
};

struct etcd_client {
	struct ev_loop *loop;
	struct etcd_config cfg; /* strings are the caller's */
	etcd_warn_fn warn;
	void *warn_arg;
	struct curlev curl; /* the multi handle on the loop */
	size_t current;     /* the endpoint that last answered */
	char *token;        /* etcd auth token: a credential, never in a message */
	struct etcd_req *reqs;
	int dispatching; /* > 0 while callbacks run: frees wait for the sweep */
	unsigned long jitter_seed;
};

static void client_dispatch(struct etcd_client *c);
static int req_start_transfer(struct etcd_req *q);
static void req_finish(struct etcd_req *q, int status, const struct etcd_resp *r);

static void client_after(void *arg)
{
	client_dispatch(arg);
}

struct etcd_client *etcd_client_new(struct ev_loop *loop, const struct etcd_config *cfg,
                                    etcd_warn_fn warn, void *warn_arg, char *err, size_t errlen)
{
	struct etcd_client *c;
	size_t i;

	if (cfg->n_endpoints == 0 || cfg->n_endpoints > ETCD_ENDPOINTS_MAX) {
		errbuf_set(err, errlen, "etcd: between 1 and %d endpoints, got %zu",
		           ETCD_ENDPOINTS_MAX, cfg->n_endpoints);
		return NULL;
	}
	for (i = 0; i < cfg->n_endpoints; i++) {
		if (!cfg->endpoints[i] || strlen(cfg->endpoints[i]) > ETCD_ENDPOINT_MAX) {
			errbuf_set(err, errlen,
			           "etcd: endpoint %zu: expected a URL of at most %d bytes", i + 1,
			           ETCD_ENDPOINT_MAX);
			return NULL;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errbuf_set(err, errlen, "etcd: curl_global_init failed");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail_global;
	c->loop = loop;
	c->cfg = *cfg;
	if (c->cfg.timeout <= 0)
		c->cfg.timeout = 5;
	if (c->cfg.retry_base <= 0)
		c->cfg.retry_base = 0.2;
	if (c->cfg.retry_cap <= 0)
		c->cfg.retry_cap = 5;
	c->warn = warn;
	c->warn_arg = warn_arg;
	c->jitter_seed = (unsigned long)ev_now(loop) * 1000003ul ^ (unsigned long)(uintptr_t)c;
	if (curlev_init(&c->curl, loop, client_after, c, err, errlen) < 0)
		goto fail_client;
	return c;
fail_client:
	free(c);
fail_global:
	curl_global_cleanup();
	errbuf_set(err, errlen, "etcd: cannot set up curl multi");
	return NULL;
}

const char *etcd_client_endpoint(const struct etcd_client *c)
{
	return c->cfg.endpoints[c->current];
}

/* The one place a request's transfer is released. */
static void req_stop_transfer(struct etcd_req *q)
{
	if (q->easy) {
		curl_multi_remove_handle(q->c->curl.multi, q->easy);
		curl_easy_cleanup(q->easy);
		q->easy = NULL;
	}
	curl_slist_free_all(q->headers);
	q->headers = NULL;
	q->len = 0;
}

static void req_free(struct etcd_req *q)
{
	req_stop_transfer(q);
	ev_timer_stop(q->c->loop, &q->retry_timer);
	free(q->body);
	free(q->buf);
	free(q);
}

static void req_kill(struct etcd_req *q)
{
	req_stop_transfer(q);
	ev_timer_stop(q->c->loop, &q->retry_timer);
	q->dead = true;
}

static void client_sweep(struct etcd_client *c)
{
	struct etcd_req **pp = &c->reqs, *q;

	while ((q = *pp)) {
		if (q->dead) {
			*pp = q->next;
			req_free(q);
		} else {
			pp = &q->next;
		}
	}
}

void etcd_client_free(struct etcd_client *c)
{
	struct etcd_req *q;

	if (!c)
		return;
	for (q = c->reqs; q; q = q->next)
		q->dead = true;
	client_sweep(c);
	curlev_close(&c->curl);
	free(c->token);
	free(c);
	curl_global_cleanup();
}

/* CURLOPT_WRITEFUNCTION */
static size_t req_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct etcd_req *q = userp;
	size_t n = size * nmemb;

	if (q->len + n + 1 > ETCD_BODY_MAX || VEC_RESERVE(q->buf, q->cap, q->len + n + 1) < 0)
		return 0; /* CURLE_WRITE_ERROR */
	memcpy(q->buf + q->len, data, n);
	q->len += n;
	q->buf[q->len] = '\0';
	return n;
}

static const char *req_path(const struct etcd_req *q)
{
	return etcd_op_path(q->authing ? ETCD_OP_AUTH : q->op);
}

static void req_where(const struct etcd_req *q, char *buf, size_t len)
{
	(void)snprintf(buf, len, "etcd %s %s", q->c->cfg.endpoints[q->endpoint], req_path(q));
}

static char *auth_body(const struct etcd_config *cfg)
{
	json_t *o = json_pack("{s:s, s:s}", "name", cfg->user, "password",
	                      cfg->password ? cfg->password : "");
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static int req_set_tls(CURL *e, const struct etcd_config *cfg)
{
	if (cfg->cacert && curl_easy_setopt(e, CURLOPT_CAINFO, cfg->cacert))
		return -1;
	if (cfg->cert && curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cert))
		return -1;
	if (cfg->key && curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->key))
		return -1;
	return 0;
}

static int req_set_headers(struct etcd_req *q)
{
	struct etcd_client *c = q->c;
	struct curl_slist *h;
	char *auth;

	h = curl_slist_append(NULL, "Content-Type: application/json");
	if (!h)
		return -1;
	q->headers = h;
	if (c->token && !q->authing) {
		if (asprintf(&auth, "Authorization: %s", c->token) < 0)
			return -1;
		h = curl_slist_append(q->headers, auth);
		free(auth);
		if (!h)
			return -1;
		q->headers = h;
	}
	return curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->headers) ? -1 : 0;
}

static int req_set_options(struct etcd_req *q, const char *url, const char *body)
{
	CURL *e = q->easy;
	long ms = (long)(q->c->cfg.timeout * 1000);

	if (curl_easy_setopt(e, CURLOPT_URL, url) ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, req_write) ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, q) ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->curl_error) ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, q) ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms) ||
	    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L))
		return -1;
	/* A watch streams for as long as it lives: only its connect is timed. */
	if (!q->watch_fn || q->authing)
		if (curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms))
			return -1;
	if (req_set_tls(e, &q->c->cfg) < 0)
		return -1;
	return req_set_headers(q);
}

static int req_start_transfer(struct etcd_req *q)
{
	struct etcd_client *c = q->c;
	char url[1024], *auth = NULL;
	int rc = -1;

	q->authing = c->cfg.user && !c->token && q->op != ETCD_OP_AUTH;
	(void)snprintf(url, sizeof(url), "%s%s", c->cfg.endpoints[q->endpoint], req_path(q));
	if (q->authing) {
		auth = auth_body(&c->cfg);
		if (!auth)
			return -1;
	}
	q->curl_error[0] = '\0';
	q->easy = curl_easy_init();
	if (q->easy && req_set_options(q, url, auth ? auth : q->body) == 0 &&
	    curl_multi_add_handle(c->curl.multi, q->easy) == CURLM_OK)
		rc = 0;
	if (auth) {
		/* COPYPOSTFIELDS took a copy: the password lives no longer than needed. */
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	if (rc < 0)
		req_stop_transfer(q);
	return rc;
}

static void req_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct etcd_req *q = w->data;

	(void)loop;
	(void)revents;
	if (req_start_transfer(q) < 0) {
		errbuf_set(q->last_error, sizeof(q->last_error), "etcd: cannot start a request");
		req_finish(q, -1, NULL);
		if (!q->c->dispatching)
			client_sweep(q->c);
	}
}

static struct etcd_req *req_new(struct etcd_client *c, enum etcd_op op, json_t *body, char *err,
                                size_t errlen)
{
	struct etcd_watch *w;
	struct etcd_req *q;

	if (!body) {
		errbuf_set(err, errlen, "etcd: cannot build the request");
		return NULL;
	}
	w = calloc(1, sizeof(*w)); /* room for a watch: any request may be one */
	q = w ? &w->req : NULL;
	if (q)
		q->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!q || !q->body) {
		free(w);
		errbuf_set(err, errlen, "etcd: out of memory");
		return NULL;
	}
	q->c = c;
	q->op = op;
	q->endpoint = c->current;
	ev_timer_init(&q->retry_timer, req_retry_cb, 0., 0.);
	q->retry_timer.data = q;
	return q;
}

static int req_submit(struct etcd_req *q, char *err, size_t errlen)
{
	struct etcd_client *c = q->c;

	if (req_start_transfer(q) < 0) {
		req_free(q);
		errbuf_set(err, errlen, "etcd: cannot start a request");
		return -1;
	}
	q->next = c->reqs;
	c->reqs = q;
	return 0;
}

static void req_finish(struct etcd_req *q, int status, const struct etcd_resp *r)
{
	req_kill(q);
	if (q->watch_fn)
		q->watch_fn(q->arg, status, r, status < 0 ? q->last_error : NULL);
	else
		q->done(q->arg, status, r, status < 0 ? q->last_error : NULL);
}

/* This endpoint failed: the next one, then another round after a pause,
 * then the caller hears the last error. */
static void req_fail_over(struct etcd_req *q)
{
	struct etcd_client *c = q->c;
	double delay;

	req_stop_transfer(q);
	q->authing = false;
	if (++q->tried < c->cfg.n_endpoints) {
		q->endpoint = (q->endpoint + 1) % c->cfg.n_endpoints;
		if (req_start_transfer(q) == 0)
			return;
	} else if (q->round < c->cfg.retry_rounds) {
		c->jitter_seed = c->jitter_seed * 6364136223846793005ul + 1442695040888963407ul;
		delay = etcd_backoff_delay(q->round, c->cfg.retry_base, c->cfg.retry_cap,
		                           (double)(c->jitter_seed >> 33) / (double)(1ul << 31));
		q->round++;
		q->tried = 0;
		q->endpoint = (q->endpoint + 1) % c->cfg.n_endpoints;
		ev_timer_set(&q->retry_timer, delay, 0.);
		ev_timer_start(c->loop, &q->retry_timer);
		return;
	}
	req_finish(q, -1, NULL);
}

static void req_warn(void *arg, const char *msg)
{
	struct etcd_client *c = arg;

	if (c->warn)
		c->warn(c->warn_arg, msg);
}

/* The authenticate stage answered: keep the token, run the request itself. */
static void req_got_token(struct etcd_req *q, const struct etcd_resp *r)
{
	struct etcd_client *c = q->c;

	free(c->token);
	c->token = strdup(r->token);
	req_stop_transfer(q);
	if (!c->token || req_start_transfer(q) < 0) {
		errbuf_set(q->last_error, sizeof(q->last_error), "etcd: cannot start a request");
		req_finish(q, -1, NULL);
	}
}

/* A whole answer arrived (not a watch). */
static void req_answered(struct etcd_req *q, long http_status)
{
	struct etcd_client *c = q->c;
	enum etcd_op op = q->authing ? ETCD_OP_AUTH : q->op;
	char where[ETCD_WHERE_MAX];
	struct etcd_resp r;

	req_where(q, where, sizeof(where));
	if (etcd_decode(op, q->buf ? q->buf : "", q->len, where, &r, req_warn, c, q->last_error,
	                sizeof(q->last_error)) < 0) {
		if (r.error_code == ETCD_GRPC_UNAUTHENTICATED && c->cfg.user && !q->reauthed &&
		    !q->authing) {
			q->reauthed = true;
			free(c->token);
			c->token = NULL;
			req_stop_transfer(q);
			if (req_start_transfer(q) == 0) {
				etcd_resp_free(&r);
				return;
			}
		}
		etcd_resp_free(&r);
		if (http_status >= 500) /* etcd's Unavailable (no leader...): try another member */
			req_fail_over(q);
		else
			req_finish(q, -1, NULL);
		return;
	}
	if (http_status < 200 || http_status > 299) {
		/* JSON, but not etcd's error object: a proxy or another server. */
		errbuf_set(q->last_error, sizeof(q->last_error), "%s: HTTP status %ld", where,
		           http_status);
		etcd_resp_free(&r);
		if (http_status >= 500)
			req_fail_over(q);
		else
			req_finish(q, -1, NULL);
		return;
	}
	c->current = q->endpoint;
	if (q->authing)
		req_got_token(q, &r);
	else
		req_finish(q, 0, &r);
	etcd_resp_free(&r);
}

/* The watch's complete lines, one response each. */
static void watch_deliver_lines(struct etcd_req *q)
{
	char where[ETCD_WHERE_MAX], *nl;
	struct etcd_resp r;
	size_t line;

	req_where(q, where, sizeof(where));
	while (!q->dead && q->len && (nl = memchr(q->buf, '\n', q->len))) {
		line = (size_t)(nl - q->buf);
		if (etcd_decode(ETCD_OP_WATCH, q->buf, line, where, &r, req_warn, q->c,
		                q->last_error, sizeof(q->last_error)) < 0) {
			if (r.error_code == ETCD_GRPC_UNAUTHENTICATED) {
				/* The token expired: the caller's next watch authenticates again.
				 */
				free(q->c->token);
				q->c->token = NULL;
			}
			etcd_resp_free(&r);
			req_finish(q, -1, NULL);
			return;
		}
		memmove(q->buf, nl + 1, q->len - line - 1);
		q->len -= line + 1;
		q->streaming = true;
		q->c->current = q->endpoint;
		q->watch_fn(q->arg, 0, &r, NULL);
		if (!q->dead && r.canceled) {
			errbuf_set(q->last_error, sizeof(q->last_error),
			           "%s: canceled by etcd (compact revision %lld%s%s)", where,
			           (long long)r.compact_revision, r.cancel_reason ? ": " : "",
			           r.cancel_reason ? r.cancel_reason : "");
			req_finish(q, -1, NULL);
		}
		etcd_resp_free(&r);
	}
}

static void watch_ended(struct etcd_req *q, CURLcode rc)
{
	char where[ETCD_WHERE_MAX];

	if (q->len && rc == CURLE_OK) {
		/* The last line without its newline. */
		if (req_write("\n", 1, 1, q) == 1)
			watch_deliver_lines(q);
	}
	if (q->dead)
		return;
	req_where(q, where, sizeof(where));
	if (!q->streaming) {
		errbuf_set(q->last_error, sizeof(q->last_error), "%s: %s", where,
		           rc != CURLE_OK
		               ? (q->curl_error[0] ? q->curl_error : curl_easy_strerror(rc))
		               : "the stream ended before its first answer");
		req_fail_over(q);
		return;
	}
	errbuf_set(q->last_error, sizeof(q->last_error), "%s: the stream broke: %s", where,
	           rc != CURLE_OK ? (q->curl_error[0] ? q->curl_error : curl_easy_strerror(rc))
	                          : "closed by etcd");
	req_finish(q, -1, NULL);
}

static void req_transfer_done(struct etcd_req *q, CURLcode rc)
{
	char where[ETCD_WHERE_MAX];
	long status = 0;

	curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
	if (q->watch_fn && !q->authing) {
		watch_ended(q, rc);
		return;
	}
	if (rc != CURLE_OK) {
		req_where(q, where, sizeof(where));
		errbuf_set(q->last_error, sizeof(q->last_error), "%s: %s", where,
		           q->curl_error[0] ? q->curl_error : curl_easy_strerror(rc));
		req_fail_over(q);
		return;
	}
	req_answered(q, status);
}

static void client_dispatch(struct etcd_client *c)
{
	struct etcd_req *q;
	CURLMsg *msg;
	int left;

	c->dispatching++;
	for (q = c->reqs; q; q = q->next)
		if (q->watch_fn && !q->authing && !q->dead && q->len)
			watch_deliver_lines(q);
	while ((msg = curl_multi_info_read(c->curl.multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		q = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&q);
		if (q && !q->dead)
			req_transfer_done(q, msg->data.result);
	}
	if (--c->dispatching == 0)
		client_sweep(c);
}

/* ---- requests */

static char *b64_of_bytes(const char *s, size_t n)
{
	char *out = malloc(etcd_b64_encoded_size(n));

	if (out)
		etcd_b64_encode(s, n, out, etcd_b64_encoded_size(n));
	return out;
}

static char *b64_of(const char *s)
{
	return b64_of_bytes(s, strlen(s));
}

/* Sets field to base64(s); range_end "" is etcd's "\0" (every key from key on). */
static int json_set_b64(json_t *o, const char *field, const char *s)
{
	char *b = *s ? b64_of(s) : strdup("AA==");
	int rc;

	if (!b)
		return -1;
	rc = json_object_set_new(o, field, json_string(b));
	free(b);
	return rc;
}

static json_t *key_body(const char *key, const char *range_end)
{
	json_t *o = json_object();

	if (!o || json_set_b64(o, "key", key) < 0 ||
	    (range_end && json_set_b64(o, "range_end", range_end) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int req_go(struct etcd_client *c, enum etcd_op op, json_t *body, etcd_done_fn done,
                  void *arg, char *err, size_t errlen)
{
	struct etcd_req *q = req_new(c, op, body, err, errlen);

	if (!q)
		return -1;
	q->done = done;
	q->arg = arg;
	return req_submit(q, err, errlen);
}

int etcd_range(struct etcd_client *c, const char *key, const char *range_end, int64_t revision,
               etcd_done_fn done, void *arg, char *err, size_t errlen)
{
	return etcd_range_page(c, key, strlen(key), range_end, revision, 0, done, arg, err, errlen);
}

static json_t *range_body(const char *key, size_t key_len, const char *range_end, int64_t revision,
                          int64_t limit)
{
	json_t *o = key_body("", range_end);
	char *k = b64_of_bytes(key, key_len);

	if (!o || !k || json_object_set_new(o, "key", json_string(k)) < 0 ||
	    (revision > 0 && json_object_set_new(o, "revision", json_integer(revision)) < 0) ||
	    (limit > 0 && json_object_set_new(o, "limit", json_integer(limit)) < 0)) {
		json_decref(o);
		o = NULL;
	}
	free(k);
	return o;
}

int etcd_range_page(struct etcd_client *c, const char *key, size_t key_len, const char *range_end,
                    int64_t revision, int64_t limit, etcd_done_fn done, void *arg, char *err,
                    size_t errlen)
{
	return req_go(c, ETCD_OP_RANGE, range_body(key, key_len, range_end, revision, limit), done,
	              arg, err, errlen);
}

static json_t *put_body(const char *key, const char *value, int64_t lease)
{
	json_t *o = key_body(key, NULL);

	if (o && *value && json_set_b64(o, "value", value) < 0) {
		json_decref(o);
		return NULL;
	}
	if (o && lease && json_object_set_new(o, "lease", json_integer(lease)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int etcd_put(struct etcd_client *c, const char *key, const char *value, int64_t lease,
             etcd_done_fn done, void *arg, char *err, size_t errlen)
{
	return req_go(c, ETCD_OP_PUT, put_body(key, value, lease), done, arg, err, errlen);
}

int etcd_delete(struct etcd_client *c, const char *key, const char *range_end, etcd_done_fn done,
                void *arg, char *err, size_t errlen)
{
	return req_go(c, ETCD_OP_DELETE, key_body(key, range_end), done, arg, err, errlen);
}

/* The txn's compare: the key's create_revision is 0, i.e. it does not exist. */
static json_t *absent_compare(const char *key)
{
	json_t *cmp = key_body(key, NULL);

	if (cmp && (json_object_set_new(cmp, "target", json_string("CREATE")) < 0 ||
	            json_object_set_new(cmp, "result", json_string("EQUAL")) < 0 ||
	            json_object_set_new(cmp, "create_revision", json_integer(0)) < 0)) {
		json_decref(cmp);
		return NULL;
	}
	return cmp;
}

int etcd_create(struct etcd_client *c, const char *key, const char *value, int64_t lease,
                etcd_done_fn done, void *arg, char *err, size_t errlen)
{
	json_t *cmp = absent_compare(key), *put = put_body(key, value, lease);
	json_t *get = key_body(key, NULL), *o = NULL;

	if (cmp && put && get)
		o = json_pack("{s:[O], s:[{s:O}], s:[{s:O}]}", "compare", cmp, "success",
		              "request_put", put, "failure", "request_range", get);
	json_decref(cmp);
	json_decref(put);
	json_decref(get);
	return req_go(c, ETCD_OP_TXN, o, done, arg, err, errlen);
}

int etcd_lease_grant(struct etcd_client *c, int64_t ttl, etcd_done_fn done, void *arg, char *err,
                     size_t errlen)
{
	return req_go(c, ETCD_OP_LEASE_GRANT, json_pack("{s:I}", "TTL", (json_int_t)ttl), done, arg,
	              err, errlen);
}

int etcd_lease_keepalive(struct etcd_client *c, int64_t id, etcd_done_fn done, void *arg, char *err,
                         size_t errlen)
{
	return req_go(c, ETCD_OP_LEASE_KEEPALIVE, json_pack("{s:I}", "ID", (json_int_t)id), done,
	              arg, err, errlen);
}

int etcd_lease_revoke(struct etcd_client *c, int64_t id, etcd_done_fn done, void *arg, char *err,
                      size_t errlen)
{
	return req_go(c, ETCD_OP_LEASE_REVOKE, json_pack("{s:I}", "ID", (json_int_t)id), done, arg,
	              err, errlen);
}

struct etcd_watch *etcd_watch_start(struct etcd_client *c, const char *key, const char *range_end,
                                    int64_t start_revision, etcd_watch_fn fn, void *arg, char *err,
                                    size_t errlen)
{
	json_t *create = key_body(key, range_end), *o = NULL;
	struct etcd_req *q;

	if (create && start_revision > 0 &&
	    json_object_set_new(create, "start_revision", json_integer(start_revision)) < 0) {
		json_decref(create);
		create = NULL;
	}
	if (create)
		o = json_pack("{s:o}", "create_request", create);
	q = req_new(c, ETCD_OP_WATCH, o, err, errlen);
	if (!q)
		return NULL;
	q->watch_fn = fn;
	q->arg = arg;
	if (req_submit(q, err, errlen) < 0)
		return NULL;
	return (struct etcd_watch *)q;
}

void etcd_watch_cancel(struct etcd_watch *w)
{
	struct etcd_req *q = &w->req;

	req_kill(q);
	if (!q->c->dispatching)
		client_sweep(q->c);
}
