/*
 * The etcd v3 client: etcd's JSON gateway (/v3/kv/..., /v3/watch,
 * /v3/lease/..., /v3/auth/authenticate) over libcurl multi on the caller's
 * libev loop. The decoding of the gateway's answers, base64 (the gateway's
 * form of keys and values) and the retry delay are pure and usable alone.
 */
#ifndef VIPD_ETCD_H
#define VIPD_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- base64 (RFC 4648 standard alphabet, padded: protobuf's JSON bytes) */

/* Bytes etcd_b64_encode writes for n input bytes, with the final NUL. */
size_t etcd_b64_encoded_size(size_t n);
/* -1 when out is shorter than etcd_b64_encoded_size(n). */
int etcd_b64_encode(const void *src, size_t n, char *out, size_t outlen);
/* Decodes len characters into a new NUL-terminated buffer (*out, *out_len
 * without the NUL). Padding is required as the gateway sends it; -1 (and
 * *out NULL) on any character, length or padding that is not base64. */
int etcd_b64_decode(const char *src, size_t len, char **out, size_t *out_len);

/* ---- retry delay */

/* Seconds to wait before retry round `attempt` (0 = the first retry):
 * base * 2^attempt, capped at cap, then scaled by jitter in [0.5, 1.0]
 * (jitter01 in [0, 1] is passed in, so the function stays pure). */
double etcd_backoff_delay(unsigned attempt, double base, double cap, double jitter01);

/* ---- answers, decoded */

enum etcd_op {
	ETCD_OP_RANGE,
	ETCD_OP_PUT,
	ETCD_OP_DELETE,
	ETCD_OP_TXN,
	ETCD_OP_LEASE_GRANT,
	ETCD_OP_LEASE_KEEPALIVE,
	ETCD_OP_LEASE_REVOKE,
	ETCD_OP_AUTH,
	ETCD_OP_WATCH, /* one line of the watch stream */
};

/* The gateway's path for an operation ("/v3/kv/range"...). */
const char *etcd_op_path(enum etcd_op op);

struct etcd_kv {
	char *key; /* decoded, NUL-terminated */
	size_t key_len;
	char *value; /* decoded, NUL-terminated ("" when absent: proto3 omits it) */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
};

enum etcd_event_type { ETCD_EVENT_PUT, ETCD_EVENT_DELETE };

struct etcd_event {
	enum etcd_event_type type;
	struct etcd_kv kv;
};

/* Every field any operation can answer; the rest stay zero. */
struct etcd_resp {
	int64_t revision;    /* header.revision (0 in a canceled watch's header) */
	struct etcd_kv *kvs; /* range; txn: the failure branch's range */
	size_t n_kvs;
	int64_t count;    /* range */
	bool more;        /* range with a limit: keys are left after the last one */
	int64_t deleted;  /* deleterange */
	bool succeeded;   /* txn */
	int64_t lease_id; /* lease grant and keepalive */
	int64_t ttl;      /* keepalive: 0 means the lease no longer exists */
	char *token;      /* auth */
	/* watch */
	bool created;
	bool canceled;
	int64_t watch_id;
	int64_t compact_revision; /* > 0: the start revision was compacted, read again */
	char *cancel_reason;
	struct etcd_event *events;
	size_t n_events;
	size_t skipped; /* keys or events left out, each with a warning */
	int error_code; /* etcd's error object: its gRPC code (decode returned -1) */
};

/* Called once per key or event that is skipped, with a located message. */
typedef void (*etcd_warn_fn)(void *arg, const char *msg);

/* Decodes one answer of `op` (for ETCD_OP_WATCH, one line of the stream).
 * `where` starts every message ("etcd http://127.0.0.1:2379 /v3/kv/range").
 * An answer that is not JSON, is etcd's error object, or misses a field the
 * operation needs is -1 with a located message in err; a key or event that
 * does not decode is skipped with a located warning through warn (may be
 * NULL), and the rest is kept. *r is always safe to etcd_resp_free. */
int etcd_decode(enum etcd_op op, const char *body, size_t len, const char *where,
                struct etcd_resp *r, etcd_warn_fn warn, void *warn_arg, char *err, size_t errlen);
void etcd_resp_free(struct etcd_resp *r);

/* ---- the client (I/O, on the caller's loop) */

struct ev_loop;
struct etcd_client;
struct etcd_watch;

#define ETCD_ENDPOINTS_MAX 16

struct etcd_config {
	const char *endpoints[ETCD_ENDPOINTS_MAX]; /* "http://127.0.0.1:2379", tried in turn */
	size_t n_endpoints;
	const char *cacert; /* TLS: CA bundle (NULL: the system's) */
	const char *cert;   /* TLS client certificate and key (NULL: none) */
	const char *key;
	const char *user; /* etcd auth (NULL: none); never written to a message */
	const char *password;
	double timeout;        /* seconds per request attempt (0: 5 s) */
	unsigned retry_rounds; /* extra rounds over every endpoint (0: none) */
	double retry_base;     /* etcd_backoff_delay's base and cap (0: 0.2 s, 5 s) */
	double retry_cap;
};

/* status 0: r is the decoded answer (valid during the call only). status -1:
 * err says what failed; r is NULL. */
typedef void (*etcd_done_fn)(void *arg, int status, const struct etcd_resp *r, const char *err);
/* One call per watch response (status 0, r); then, when the stream ends
 * (broken, refused by every endpoint, cancelled by etcd after a compaction,
 * or an answer that does not decode), one call with status -1, r NULL and
 * err: the caller reads again. The watch is freed after that call;
 * etcd_watch_cancel ends a watch without one. */
typedef void (*etcd_watch_fn)(void *arg, int status, const struct etcd_resp *r, const char *err);

struct etcd_client *etcd_client_new(struct ev_loop *loop, const struct etcd_config *cfg,
                                    etcd_warn_fn warn, void *warn_arg, char *err, size_t errlen);
/* Aborts every request and watch without calling their callbacks. Not to
 * be called from one of the client's callbacks. */
void etcd_client_free(struct etcd_client *c);
/* The endpoint the next request goes to first (the last that answered). */
const char *etcd_client_endpoint(const struct etcd_client *c);

/* Each returns 0 when the request is started (done is then called exactly
 * once, later, from the loop) or -1 with err. range_end NULL: the one key;
 * "" : every key from key on; else [key, range_end). */
int etcd_range(struct etcd_client *c, const char *key, const char *range_end, int64_t revision,
               etcd_done_fn done, void *arg, char *err, size_t errlen);
/* One page of [key, range_end): at most limit keys (0: all) from the key of
 * key_len bytes (it may hold NULs: a page continues from the last key
 * + "\0"), read at revision (0: the current one). */
int etcd_range_page(struct etcd_client *c, const char *key, size_t key_len, const char *range_end,
                    int64_t revision, int64_t limit, etcd_done_fn done, void *arg, char *err,
                    size_t errlen);
int etcd_put(struct etcd_client *c, const char *key, const char *value, int64_t lease,
             etcd_done_fn done, void *arg, char *err, size_t errlen);
int etcd_delete(struct etcd_client *c, const char *key, const char *range_end, etcd_done_fn done,
                void *arg, char *err, size_t errlen);
/* Compare-and-swap: puts key=value only when key does not exist
 * (create_revision == 0); otherwise r->succeeded is false and r->kvs holds
 * the existing key. */
int etcd_create(struct etcd_client *c, const char *key, const char *value, int64_t lease,
                etcd_done_fn done, void *arg, char *err, size_t errlen);
int etcd_lease_grant(struct etcd_client *c, int64_t ttl, etcd_done_fn done, void *arg, char *err,
                     size_t errlen);
int etcd_lease_keepalive(struct etcd_client *c, int64_t id, etcd_done_fn done, void *arg, char *err,
                         size_t errlen);
int etcd_lease_revoke(struct etcd_client *c, int64_t id, etcd_done_fn done, void *arg, char *err,
                      size_t errlen);

/* Watches [key, range_end) from start_revision (0: from now). */
struct etcd_watch *etcd_watch_start(struct etcd_client *c, const char *key, const char *range_end,
                                    int64_t start_revision, etcd_watch_fn fn, void *arg, char *err,
                                    size_t errlen);
/* Stops and frees a watch; its callback is not called again. */
void etcd_watch_cancel(struct etcd_watch *w);

/* The end of the range that holds every key starting with prefix (etcd's
 * "prefix + 1" rule); out must hold strlen(prefix) + 1 bytes. */
int etcd_prefix_end(const char *prefix, char *out, size_t outlen);

#endif
