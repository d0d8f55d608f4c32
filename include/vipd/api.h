/*
 * vipd's read-only HTTP API (docs/api.md): /v1/status, /v1/vips,
 * /v1/apps/ID, /v1/events, /metrics and the status page at /, served by libmicrohttpd driven from
 * the libev loop. It reads the engine's state through the pointers of an api_state on each request
 * and counts check events itself.
 */
#ifndef VIPD_API_H
#define VIPD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vipd/config.h"
#include "vipd/desired.h"
#include "vipd/errbuf.h"
#include "vipd/health.h"
#include "vipd/ipvs.h"
#include "vipd/lbtable.h"
#include "vipd/reconcile.h"
#include "vipd/sched.h"

#define API_SCHEMA_VERSION 1
/* Limits against slow or hostile clients. */
#define API_CONNECTION_LIMIT 64
#define API_PER_IP_CONNECTION_LIMIT 8
#define API_CONNECTION_TIMEOUT_S 10
#define API_CONNECTION_MEMORY_LIMIT (32 * 1024)
#define API_REQUEST_DEADLINE_S 10.0 /* from connect, or the previous request's end */

/* The owner's state, read on each request; every pointer outlives the api. */
struct api_state {
	const struct vipd_config *cfg;
	const struct apps_set *apps;
	const struct lb_table *table;       /* the last desired table */
	const struct desired_state *dstate; /* each backend's phase and drain deadline */
	const struct desired_index *index;  /* which VIP use feeds which service */
	const bool *index_valid;
	const bool *index_stale; /* the apps changed since the index was built */
	const struct sched *sched;
	const uint64_t *rounds, *ops_applied, *ops_failed;
	const struct api_record *record; /* last results and events; NULL: none */
	const struct api_kstats *kstats; /* the kernel's counters; NULL: none (api_open sets it) */
	const struct vip_records *vip_records; /* named VIPs' recorded addresses; NULL: none */
	bool ipvs;                             /* false: the table is planned, not applied */
	double started_at;                     /* monotonic seconds */
	double started_wall;                   /* wall-clock seconds since the epoch */
};

#define API_KIND_COUNT 4   /* enum hc_kind */
#define API_HEALTH_COUNT 4 /* enum health_state */

#define API_OP_KIND_COUNT 6 /* enum rc_op_kind */
/* Check duration buckets' upper bounds (seconds), +Inf after the last. */
#define API_DURATION_BUCKETS 11
extern const double api_duration_bounds[API_DURATION_BUCKETS];

/* The API's requests by path, for the loop time spent answering them
 * (/v1/apps/ID counts as /v1/apps; "other": 404s and refused methods). */
enum api_path {
	API_PATH_STATUS,
	API_PATH_VIPS,
	API_PATH_APPS,
	API_PATH_EVENTS,
	API_PATH_METRICS,
	API_PATH_PAGE,
	API_PATH_OTHER,
	API_PATH_COUNT,
};
extern const char *const api_path_names[API_PATH_COUNT];
/* Request duration buckets' upper bounds (seconds), +Inf after the last. */
#define API_REQUEST_BUCKETS 11
extern const double api_request_bounds[API_REQUEST_BUCKETS];

/* What the api records from the engine's events (api_note_*). */
struct api_counters {
	uint64_t checks_run[API_KIND_COUNT];
	uint64_t checks_failed[API_KIND_COUNT];
	uint64_t task_transitions[API_HEALTH_COUNT]; /* by the health entered */
	/* Check durations by kind: per bucket (not cumulative; the last is
	 * +Inf) and their sum in seconds. */
	uint64_t duration_buckets[API_KIND_COUNT][API_DURATION_BUCKETS + 1];
	double duration_sum[API_KIND_COUNT];
	uint64_t ops[API_OP_KIND_COUNT][2];    /* kernel operations: [kind][failed] */
	uint64_t loads;                        /* of the definitions, the first included */
	double last_load_wall;                 /* seconds since the epoch; 0: none */
	size_t last_load_apps, last_load_kept; /* kept: at their last good definition */
	size_t last_load_errors;
	/* Loop time answering requests (building the answer, up to handing it
	 * to libmicrohttpd), by path: per bucket (not cumulative) and sum. */
	uint64_t request_buckets[API_PATH_COUNT][API_REQUEST_BUCKETS + 1];
	double request_sum[API_PATH_COUNT];
	/* The loop thread's CPU time in the same span: the answer's own cost,
	 * without the time the host gave other processes meanwhile. */
	double request_cpu_sum[API_PATH_COUNT];
	double last_error_wall; /* of the last failed kernel operation; 0: none */
	char last_error_op[160];
	char last_error_msg[256];
};

/* One backend of one VIP service: a running task of an app whose VIP label
 * feeds the service, with the weight the table gives it (0 when absent). */
struct api_backend {
	const struct app *app;
	const struct task *task;
	struct lb_addr addr;
	uint16_t port;
	enum health_state health;
	uint32_t weight;
	bool in_table;
	enum desired_phase phase;  /* DESIRED_PHASE_OUT when the state has no entry */
	int64_t drain_deadline_ms; /* DRAINING: monotonic ms */
	int64_t ramp_start_ms;     /* IN: slow start began here (monotonic ms); -1: not ramping */
};

struct api_vip {
	struct lb_key svc;
	const char *name; /* the named VIP ("/web"), NULL for an address label */
	struct api_backend *backends;
	size_t nbackends;
};

/* The kernel's IPVS counters of one destination and one service, from the
 * last complete dump (api_kstats.c). */
struct api_kstats_dest {
	struct lb_addr addr;
	uint16_t port;
	uint32_t active, inactive; /* connections now, established and not */
	struct ipvs_stats stats;   /* since the destination was added */
	uint32_t syn_recv;         /* connections in SYN_RECV (/proc/net/ip_vs_conn) */
};

struct api_kstats_svc {
	struct lb_key key;
	struct ipvs_stats stats;
	struct api_kstats_dest *dests; /* sorted by address and port */
	size_t ndests;
	bool syn_known; /* the connection table was read: dests' syn_recv are counts */
};

/* One connection of /proc/net/ip_vs_conn (api_ipvsconn.c). */
struct api_ipvsconn {
	struct lb_key svc; /* protocol, virtual address and port */
	struct lb_addr dest;
	uint16_t dport;
	char state[16]; /* "SYN_RECV", "ESTABLISHED"... */
};
/* 0, or -1 for a line that is not a TCP or UDP connection (the heading,
 * SCTP, a malformed one). */
int api_ipvsconn_parse(const char *line, struct api_ipvsconn *out);

struct api_kstats_snap {
	struct api_kstats_svc *svcs; /* sorted by key */
	size_t n, cap;
};

/* Seconds between two reads of the kernel's counters. */
#define API_KSTATS_INTERVAL_S 5.0

/* Reads the kernel's counters now and every interval_s on its own IPVS
 * socket, from the loop, never waiting; NULL with err when IPVS cannot be
 * opened. */
struct api_kstats;
struct ev_loop;
struct api_kstats *api_kstats_open(struct ev_loop *loop, double interval_s, char *err,
                                   size_t errlen);
void api_kstats_close(struct api_kstats *k);
/* The last complete dump's service (NULL: not in it, or none read yet) and
 * that service's destination (NULL: not in it). */
const struct api_kstats_svc *api_kstats_service(const struct api_kstats *k,
                                                const struct lb_key *key);
const struct api_kstats_dest *api_kstats_dest(const struct api_kstats_svc *s,
                                              const struct lb_addr *addr, uint16_t port);

struct api_vips {
	struct api_vip *items;
	size_t n;
};

/* The last result of one check instance (task x check), as the API shows it. */
struct api_result {
	char *app, *task;
	size_t check_idx;
	enum health_state health; /* the instance's health after this result */
	unsigned consecutive_failures;
	struct check_result res;
	double at_wall;
	struct api_result *next; /* hash chain */
};

/* The events of /v1/events: a task's health changed, or a kernel operation. */
enum api_event_type { API_EVENT_HEALTH, API_EVENT_OP };

struct api_event {
	uint64_t seq; /* from 1, one up per event */
	enum api_event_type type;
	double at_wall;
	/* API_EVENT_HEALTH */
	char *app, *task;
	enum health_state from, to;
	size_t check_idx;
	enum check_outcome outcome;
	long http_status;
	int exit_code;
	char *output; /* the result that caused it, as in the check result */
	/* API_EVENT_OP: the operation's text ("add dest TCP ... weight 1"),
	 * its error (NULL: done) */
	char *op, *error;
};

#define API_EVENTS_MAX 4096 /* the ring's size: older events are forgotten */

/* What the API remembers: each check instance's last result (a hash by
 * app, task and check) and the ring of recent events. */
struct api_record {
	struct api_result **buckets;
	size_t nbuckets, nresults;
	struct api_event events[API_EVENTS_MAX];
	uint64_t next_seq; /* 0 before the first event */
};

/* api_record.c; records copy what they keep. -1 when out of memory (the
 * record stays consistent, the result or event is lost). */
void api_record_init(struct api_record *r);
void api_record_free(struct api_record *r);
int api_record_check(struct api_record *r, const struct sched_event *ev,
                     double now_wall) VIPD_MUST_CHECK;
int api_record_op(struct api_record *r, const struct rc_op *op, int error, const char *msg,
                  double now_wall) VIPD_MUST_CHECK;
/* Forgets the results of tasks and checks no longer in `set`. */
void api_record_prune(struct api_record *r, const struct apps_set *set);
/* The last result of a check instance; NULL when none yet. */
const struct api_result *api_record_result(const struct api_record *r, const char *app,
                                           const char *task, size_t check_idx);
/* {"schema":1,"last":SEQ,"events":[...]}: the events after `since`. */
json_t *api_events_json(const struct api_record *r, uint64_t since);
/* A result as docs/api.md shows it ("last" of a check). */
json_t *api_result_json(const struct api_result *res);
/* A task's checks: each one's health and "last" result (api_app.c). */
json_t *api_task_checks_json(const struct api_state *st, const struct app *a, const struct task *t);
/* {"schema":1,"app":{...}}; NULL when out of memory. */
json_t *api_app_json(const struct api_state *st, const struct app *a);
/* The status page: one self-contained HTML document. */
extern const char api_page_html[];

/* Every VIP service of the table with its backends: 0; 1 (and none) while
 * the index is stale (the apps were reloaded, a whole-table round is due:
 * the index's app positions may not match them); -1 when out of memory. */
int api_vips_build(const struct api_state *st, struct api_vips *out) VIPD_MUST_CHECK;
void api_vips_free(struct api_vips *v);

/* The documents of docs/api.md; NULL when out of memory. */
json_t *api_status_json(const struct api_state *st, const struct api_counters *c, double now_mono);
json_t *api_vips_json(const struct api_state *st, const struct api_vips *v, int64_t now_ms);
/* Prometheus text format 0.0.4; malloc'd, NULL when out of memory. */
char *api_metrics_text(const struct api_state *st, const struct api_counters *c,
                       const struct api_vips *v, size_t *len);

/* "ADDR:PORT" (IPv6 in brackets), or just "PORT" for loopback. */
int api_listen_parse(const char *text, struct lb_addr *addr, uint16_t *port, char *err,
                     size_t errlen) VIPD_MUST_CHECK;

struct ev_loop;
struct api;

/* Listens on `listen`; NULL with err set. */
struct api *api_open(struct ev_loop *loop, const char *listen, const struct api_state *st,
                     char *err, size_t errlen);
/* Closes every connection and the socket; NULL is fine. */
void api_close(struct api *a);
/* The engine's events, recorded for /v1/status and /metrics (NULL a:
 * nothing): a check result, a kernel operation's result, a load of the
 * definitions. */
void api_note_check(struct api *a, const struct sched_event *ev);
void api_note_op(struct api *a, const struct rc_op *op, int error, const char *msg);
void api_note_load(struct api *a, const struct apps_set *set, size_t kept);

/* api_note.c: the same into plain counters, for the server and the tests. */
void api_counters_note_check(struct api_counters *c, const struct sched_event *ev);
/* A kernel operation's result (error: 0 or an errno; msg may be NULL). */
void api_counters_note_op(struct api_counters *c, const struct rc_op *op, int error,
                          const char *msg, double now_wall);
/* The definitions were read: `set` as loaded, `kept` apps at their last
 * good definition. */
void api_counters_note_load(struct api_counters *c, const struct apps_set *set, size_t kept,
                            double now_wall);

#endif
