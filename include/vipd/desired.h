/*
 * The desired IPVS table: from apps, their VIP labels, their tasks and the
 * tasks' health, with vipd's weight policy (docs/weights-and-draining.md).
 * Pure: time comes in as a value, and the state carried between rounds lives
 * in a struct the caller owns.
 */
#ifndef VIPD_DESIRED_H
#define VIPD_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vipd/lbtable.h"
#include "vipd/model.h"
#include "vipd/vip.h"

/* A task's health as the weight policy sees it. The health module's
 * HEALTH_KILLABLE is UNHEALTHY here. */
enum desired_health {
	DESIRED_HEALTH_UNKNOWN = 0, /* checks have not reported yet: not in rotation */
	DESIRED_HEALTH_HEALTHY,
	DESIRED_HEALTH_UNHEALTHY,
};

/* The health of one task, keyed by app id and task id. Called only for
 * TASK_RUNNING tasks of apps that have health checks (a task of an app
 * without checks is healthy). */
typedef enum desired_health (*desired_health_fn)(void *ctx, const char *app_id,
                                                 const char *task_id);

#define DESIRED_DRAIN_DEFAULT_MS 30000
#define DESIRED_WEIGHT_MAX 65535 /* ipvsadm's limit */
#define DESIRED_SLOW_START_MAX_S 3600

/* Labels, on the port (checked first) or on the app. */
#define DESIRED_LABEL_WEIGHT "VIPD_WEIGHT"                 /* 0..65535, default 1 */
#define DESIRED_LABEL_SCHEDULER "VIPD_SCHEDULER"           /* IPVS scheduler, default wlc */
#define DESIRED_LABEL_FORWARD "VIPD_FORWARD"               /* masq (default), droute, tunnel */
#define DESIRED_LABEL_ALL_UNHEALTHY "VIPD_ALL_UNHEALTHY"   /* none (default) or keep */
#define DESIRED_LABEL_SLOW_START "VIPD_SLOW_START_SECONDS" /* 0 (default) .. 3600 */
#define DESIRED_LABEL_NETWORK_SCOPE "network-scope"        /* host or container (DC/OS) */

enum desired_phase {
	DESIRED_PHASE_IN,       /* in the table with its weight */
	DESIRED_PHASE_DRAINING, /* in the table with weight 0 until drain_deadline_ms */
	DESIRED_PHASE_OUT,      /* known, running, not in the table (unknown or unhealthy) */
};

/* One backend of one service, as decided last round. */
struct desired_entry {
	struct lb_key svc;
	struct lb_addr addr;
	uint16_t port;
	enum desired_phase phase;
	int64_t drain_deadline_ms; /* DRAINING: removed from the table at this time */
	int64_t ramp_start_ms;     /* IN: slow start began here; -1 when not ramping */
	/* When this backend moves on with no new input (its drain ends, its
	 * slow start takes a step): the build's next_change, per backend.
	 * INT64_MAX: never. */
	int64_t next_change_ms;
	uint32_t weight; /* the weight given (IN) */
	bool adopted;    /* taken over from the kernel at start, health not yet known */
};

/* Carried by the caller from one round to the next; entries sorted by
 * (svc, addr, port). Starts empty (desired_state_init). */
struct desired_state {
	struct desired_entry *entries;
	size_t n;
	size_t cap;
};

struct vip_ranges;

/* A backend another node serves (cluster mode), already chosen by the
 * cluster's merge rules (cluster_merge): in rotation with its weight. It
 * joins the service its VIP makes here; a VIP no local app uses gets a
 * service with the defaults. Named VIPs are allocated over the local names
 * and the remote backends' names together, so that nodes with node-local
 * app sources agree on the addresses. */
struct desired_remote {
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
	struct vip_ref vip;
	struct lb_addr addr;
	uint16_t port;
	uint32_t weight;
};

/* One VIP's backends on other nodes (each item has the group's protocol and
 * VIP), as a cluster node keeps them between rounds. */
struct desired_remote_vip {
	uint8_t protocol;
	struct vip_ref vip;
	struct desired_remote *items;
	size_t n;
};

struct desired_input {
	const struct apps_set *apps;
	const struct vip_ranges *ranges; /* named-VIP ranges; NULL: DC/OS's defaults */
	desired_health_fn health;        /* NULL: every task of an app with checks is UNKNOWN */
	void *health_ctx;
	int64_t drain_ms; /* how long a backend leaving rotation keeps weight 0 */
	int64_t now_ms;   /* monotonic */
	/* Cluster mode: the tasks this node serves; the others' backends come
	 * in `remote`. NULL: every task is this node's. */
	bool (*task_local)(void *ctx, const struct task *t);
	void *task_local_ctx;
	const struct desired_remote *remote; /* NULL when nremote is 0 */
	size_t nremote;
	/* More of them grouped by VIP: a build of a few services then looks
	 * at each VIP once, not at each backend (issue 9, scale). */
	const struct desired_remote_vip *remote_vips; /* NULL when nremote_vips is 0 */
	size_t nremote_vips;
	/* Named VIPs' recorded assignments (vip_alloc_assign); NULL: none. */
	const struct vip_records *vip_recorded;
	int64_t wall_s; /* wall-clock seconds, for the quarantine of freed addresses */
	int64_t vip_quarantine_s;
};

void desired_state_init(struct desired_state *st);
void desired_state_free(struct desired_state *st);
/* The entry of backend (addr, port) of service svc; NULL when none. */
const struct desired_entry *desired_state_find(const struct desired_state *st,
                                               const struct lb_key *svc, const struct lb_addr *addr,
                                               uint16_t port);

/*
 * Seeds an empty state with the destinations the kernel already has for
 * services in `owned`: until its task's health is first known, an adopted
 * backend keeps the kernel's weight (a weight-0 one drains; "Restarts" in
 * docs/weights-and-draining.md). -1 when out of memory.
 */
int desired_state_adopt(struct desired_state *st, const struct lb_table *observed,
                        const struct lb_keyset *owned, int64_t drain_ms, int64_t now_ms);

/*
 * Builds the desired table into `out` (initialised by the caller) by the
 * weight policy of docs/weights-and-draining.md, and moves `state` to this
 * round. *next_change_ms gets the earliest time at which the table would
 * change with no new input (a drain deadline, a slow-start step), INT64_MAX
 * when none. Malformed labels and unusable tasks go to diags with their
 * location. 0, or -1 with err (out of memory; state is then unchanged).
 */
int desired_build(const struct desired_input *in, struct desired_state *state, struct lb_table *out,
                  struct diag_list *diags, int64_t *next_change_ms, char *err, size_t errlen);

/* One VIP use feeding one service, as a full build found it. */
struct desired_feed {
	struct lb_key svc;
	size_t use; /* index into desired_index.uses */
};

/* What a full build leaves for desired_build_services: the VIP uses in the
 * order the build walks them, the named-VIP addresses (the set of names,
 * which a health change does not alter), and which use feeds which service.
 * It refers to the apps_set by index: valid until the apps change. */
struct desired_index {
	struct vip_list uses;
	struct vip_alloc alloc;
	struct desired_feed *feeds; /* sorted by service, then use */
	size_t nfeeds, feeds_cap;
};

void desired_index_init(struct desired_index *ix);
void desired_index_free(struct desired_index *ix);

/* desired_build, also filling ix (replacing what it held; emptied on -1). */
int desired_build_indexed(const struct desired_input *in, struct desired_state *state,
                          struct lb_table *out, struct diag_list *diags, int64_t *next_change_ms,
                          struct desired_index *ix, char *err, size_t errlen);

/*
 * The one way to rebuild part of the table, for a reload as for a health
 * change. ix was built over `old` (a whole build, or this function since);
 * in->apps is the new set (`old` itself when only tasks or their health
 * changed in place). `app_ids` (any order, repeats allowed) must name every
 * app added, removed or changed in any way; every other app is the same in
 * both sets. Rebuilds the services that those apps' VIP uses, old and new,
 * could feed, each from every use feeding it (apps sharing a VIP merge their
 * backends), exactly as desired_build would over in->apps: `out`
 * (initialised by the caller) gets those of them that exist, complete;
 * *targets (when not NULL; freed and replaced) every key rebuilt, so a
 * target missing from `out` is a service that goes. The entries of `state`
 * for the targets move on to this round and the others stay as they are;
 * ix then describes in->apps. *next_change_ms gets the earliest change
 * among the targets only. The changed apps' label and VIP problems go to
 * diags (NULL: dropped). 0; 1 with err when a named VIP appears or goes
 * away, or ids repeat (the allocation is a whole build's: nothing changed);
 * -1 with err when out of memory (state and ix unchanged).
 */
int desired_build_apps(const struct desired_input *in, const struct apps_set *old,
                       const char *const *app_ids, size_t napp_ids, struct desired_index *ix,
                       struct desired_state *state, struct lb_table *out, struct lb_keyset *targets,
                       struct diag_list *diags, int64_t *next_change_ms, char *err, size_t errlen);

/* A VIP whose other nodes' backends changed (cluster mode). */
struct desired_vip {
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
	struct vip_ref vip;
};

/*
 * desired_build_apps, and also the services the VIPs `vips` make (any
 * order, repeats allowed): those whose other nodes' backends (in->remote)
 * changed since ix was built. Each such service is rebuilt from every
 * local use feeding it and every remote backend joining it, exactly as
 * desired_build would, a VIP only other nodes serve included (its service
 * may appear or go). 1 with err also when one of those named VIPs is new
 * (no address in ix) or no longer used by any app or node.
 */
int desired_build_changed(const struct desired_input *in, const struct apps_set *old,
                          const char *const *app_ids, size_t napp_ids,
                          const struct desired_vip *vips, size_t nvips, struct desired_index *ix,
                          struct desired_state *state, struct lb_table *out,
                          struct lb_keyset *targets, struct diag_list *diags,
                          int64_t *next_change_ms, char *err, size_t errlen);

/*
 * The services a round at now_ms must rebuild with no new input (a drain
 * ends, a slow-start step is due: an entry's next_change_ms at or before
 * now_ms) into `due` (NULL: not wanted; added to, then sorted), and the
 * earliest next_change_ms after now_ms of every other entry into *next_ms
 * (INT64_MAX when none). Rebuilding just those services at now_ms gives
 * the whole build's table and state: every other service would come out
 * as it is. desired_due.c; -1 when out of memory.
 */
int desired_state_due(const struct desired_state *st, int64_t now_ms, struct lb_keyset *due,
                      int64_t *next_ms);

/* Appends each service of svcs to *vips as the VIP, by address, that makes
 * it: given to desired_build_changed, that VIP rebuilds exactly that
 * service, from every local use feeding it and every other node's backend
 * joining it. -1 when out of memory (*vips and *n unchanged). */
int desired_vips_add_services(struct desired_vip **vips, size_t *n, const struct lb_keyset *svcs);

/*
 * After health changes of tasks of the apps `app_ids` and nothing else
 * (same apps and labels as when ix was built, tasks changed in place at
 * most): desired_build_apps with old = in->apps, no targets, no diags.
 * An app id not in the set gives no service. 0, or -1 with err.
 */
int desired_build_services(const struct desired_input *in, struct desired_index *ix,
                           const char *const *app_ids, size_t napp_ids, struct desired_state *state,
                           struct lb_table *out, int64_t *next_change_ms, char *err, size_t errlen);

/* Whether each target is a service of t exactly when it is one of part
 * (the rebuild adds and removes no service). */
bool desired_targets_same_services(const struct lb_table *t, const struct lb_keyset *targets,
                                   const struct lb_table *part);
/* t with the targets' services replaced by part's (a target part lacks is
 * removed, one t lacks added). -1 when out of memory (t may be partly
 * patched: the caller rebuilds it whole). */
int desired_table_splice(struct lb_table *t, const struct lb_keyset *targets,
                         const struct lb_table *part);

/* One VIP backend of a task this node serves, as a build finds it: what a
 * cluster node publishes (desired_local.c). */
struct desired_local_backend {
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
	struct vip_ref vip;
	struct lb_addr addr;
	uint16_t port;
	uint32_t weight; /* the labels' weight (VIPD_WEIGHT), not a ramp step */
	enum desired_health health;
	const char *app_id; /* into in->apps */
	const char *task_id;
};

/* Every VIP backend of the running tasks in->task_local accepts (every task
 * when NULL), one per VIP label, protocol and family-compatible backend, in
 * app, port, label, task order. *out is calloc'd (the caller frees it). -1
 * when out of memory. Problems in the definitions are the build's to report,
 * not repeated here. */
int desired_local_backends(const struct desired_input *in, struct desired_local_backend **out,
                           size_t *n);

/* Where one destination of a service comes from (the audit log's `ipvs`
 * events): the first VIP use feeding svc in ix, and the first running task
 * (apps in definition order, then tasks) whose backend is addr:port by the
 * build's own rule. Borrowed from ix and in->apps. */
struct desired_origin {
	const struct vip_use *use; /* NULL: no use feeds svc */
	const char *app_id;        /* NULL: no task is that destination */
	const char *task_id;
	size_t ntasks; /* the tasks that are that destination (several apps may share it) */
};

/* ix from a full build over in->apps (still the same apps); addr NULL
 * looks for the service's use only. 0, or -1 when out of memory. */
int desired_origin_find(const struct desired_input *in, const struct desired_index *ix,
                        const struct lb_key *svc, const struct lb_addr *addr, uint16_t port,
                        struct desired_origin *out);

/* The weight of a backend ramping from ramp_start_ms: 1 + (full - 1) *
 * elapsed / slow_start, capped at full (0 stays 0). */
uint32_t desired_ramp_weight(uint32_t full, int64_t ramp_start_ms, uint32_t slow_start_s,
                             int64_t now_ms);

#endif
