/* The daemon's engine: apps → checks → health → desired table → kernel,
 * with the audit log beside every step. Private to src/daemon/. */
#ifndef VIPD_ENGINE_H
#define VIPD_ENGINE_H

#include <stdbool.h>

#include "vipd/api.h"
#include "vipd/audit.h"
#include "vipd/config.h"
#include "vipd/dataplane.h"
#include "vipd/desired.h"
#include "vipd/dns.h"
#include "vipd/errbuf.h"
#include "vipd/exec.h"
#include "vipd/model.h"
#include "vipd/reconcile.h"
#include "vipd/sched.h"

#define ENGINE_LATENCY_SAMPLES 4096

struct engine_cluster;

/* The VIP label, app and task an IPVS service or destination was last
 * audited with (engine_origin.c); a service's own entry has addr.af 0. */
struct engine_origin {
	struct lb_key svc;
	struct lb_addr addr;
	uint16_t port;
	char *vip, *app, *task; /* strdup'd; NULL when unknown */
};

/* Sorted by service, address, port; a forgotten entry (no names) waits
 * for the next compaction. */
struct engine_origins {
	struct engine_origin *items;
	size_t n, cap;
	size_t gone;
};

struct engine {
	struct ev_loop *loop;
	struct vipd_config cfg; /* a copy of *cfg_src, whose strings it borrows */
	/* SIGHUP's configuration re-read (unset: SIGHUP re-reads the apps
	 * only): the caller's configuration, replaced in place, and how to read
	 * it again (0, or -1 with its located errors logged). */
	struct vipd_config *cfg_src;
	int (*config_reread)(void *arg, struct vipd_config *out);
	void *config_reread_arg;
	struct apps_set apps;
	struct apps_load_cache *apps_cache; /* the files' parsed apps: reloads parse the changed */
	char apps_signature[64];
	struct exec_ctx *exec;
	struct sched *sched;
	struct audit *audit;
	struct dataplane *dp; /* NULL when lb.ipvs is false: plan and log only */
	struct desired_state dstate;
	struct desired_index dindex; /* of the last full build; valid while dindex_valid */
	bool dindex_valid;
	struct lb_table last_desired;
	/* Apps with a task whose health changed since the last round (strdup'd
	 * ids): the next round rebuilds only their services (engine_patch.c),
	 * unless rebuild_all says the whole table must be built. */
	char **changed_apps;
	size_t nchanged_apps, changed_apps_cap;
	bool rebuild_all;
	bool cluster_changed;        /* other nodes' records changed: the round merges them */
	int64_t next_change_ms;      /* when the next_change timer fires; INT64_MAX: not armed */
	bool log_desired_diags;      /* once per reload, not every round */
	struct dns_server *dns;      /* NULL when dns.listen is unset */
	struct api *api;             /* NULL when api.listen is unset */
	struct lb_keyset dns_served; /* services in the kernel whose names are answered */
	struct lb_keyset dns_added;  /* services added this round (their op succeeded) */
	/* The planned services of the round dataplane_request runs, and of the
	 * one waiting for it: their names follow in on_round_done. */
	struct lb_keyset round_planned, round_planned_next;
	ev_timer reconcile_soon;
	ev_timer next_change;
	ev_timer resync;
	ev_timer reload;                  /* polling: only while apps_watch cannot watch */
	struct dirwatch *apps_watch;      /* inotify on the apps path; NULL when polling */
	struct marathon_client *marathon; /* the apps source when it is Marathon's URLs */
	ev_timer run_for;
	ev_signal sig_hup, sig_term, sig_int, sig_usr1;
	uint64_t rounds, ops_applied, ops_failed;
	uint64_t health_rounds;    /* rounds that rebuilt only the changed apps' services */
	uint64_t health_fallbacks; /* health rounds given up for a whole-table round */
	uint64_t reload_rounds;    /* reloads that rebuilt only the changed apps' services */
	uint64_t reload_fallbacks; /* reloads that rebuilt the whole table */
	uint64_t remote_rounds;    /* patch rounds that took other nodes' changed VIPs */
	uint64_t timed_rounds; /* drain ends / slow-start steps rebuilding only the services due */
	uint64_t timed_fallbacks; /* timed rounds given up for a whole-table round */
	uint64_t rounds_deferred; /* patch rounds whose kernel part waited for a round in flight */
	bool round_after_flight;  /* a patch waited: one round when the round in flight ends */
	double source_change_at;  /* monotonic s of the oldest unapplied task event; 0 = none */
	/* From a task's health change to the kernel holding its new weight. */
	double health_change_at; /* monotonic seconds of the oldest unapplied change; 0 = none */
	double apply_latency[ENGINE_LATENCY_SAMPLES];
	size_t apply_latency_n;
	struct engine_cluster *cluster; /* NULL: a single node (no cluster.endpoints) */
	struct vip_records vip_records; /* named VIPs' addresses (engine_vips.c) */
	struct vip_records vip_moved;   /* cluster: moves audited (etcd keeps the old record) */
	struct engine_origins origins;  /* who each destination is, for its deletion's audit */
};

/* engine.c: the wiring. */
/* Opens the audit log, the executors, the scheduler, the dataplane (lb.ipvs:
 * adopting the kernel's table) and the DNS server, then programs the
 * definitions before any check runs. -1 with err set; engine_fini releases
 * whatever was opened either way. */
int engine_init(struct engine *e, struct ev_loop *loop, const struct vipd_config *cfg,
                double run_for_s, char *err, size_t errlen) VIPD_MUST_CHECK;
void engine_fini(struct engine *e);
/* A round soon that rebuilds the whole table (a reload). */
void engine_reconcile_now(struct engine *e);
/* A round soon for what was noted (changed apps, or rebuild_all). */
void engine_round_soon(struct engine *e);

/* engine_reload.c */
/* Installs a newly read set of definitions (moved from *fresh): apps whose
 * source now has errors keep their last good definition (`whole`: the
 * source whose error breaks every app, the apps path or Marathon's
 * answer), the change is audited, the scheduler synced and a whole-table
 * round runs soon. */
void engine_apps_install(struct engine *e, struct apps_set *fresh, const char *whole);
/* The apps source for messages and the audit log (no credentials). */
const char *engine_apps_shown(const struct engine *e);
/* Re-reads the definitions when they changed (or `force`), syncs the
 * scheduler and runs a whole-table round soon. Cannot fail: a file with
 * errors keeps its apps' last good definitions (logged). */
void engine_reload(struct engine *e, bool force);
/* The definitions at start-up, programmed before checks run. */
void engine_load_first(struct engine *e);
/* Changes seen through inotify, or polled every reload_seconds (the reload
 * timer) while inotify cannot watch. */
void engine_watch_apps(struct engine *e);
void engine_reload_poll(struct engine *e);
void engine_unwatch_apps(struct engine *e);

/* engine_config.c: SIGHUP's new configuration (moved from *fresh) in
 * force: the settings fixed at start-up keep their running value (one
 * warning each), the others take effect; the apps are read again. */
void engine_config_apply(struct engine *e, struct vipd_config *fresh);

/* engine_marathon.c: Marathon's masters as the apps source. */
/* Starts following Marathon when the apps source names it (else 0 and
 * nothing); -1 with err: a bad URL list or an unreadable secret file. */
int engine_marathon_start(struct engine *e, char *err, size_t errlen) VIPD_MUST_CHECK;
/* Reads Marathon's whole state again (SIGHUP). */
void engine_marathon_resync(struct engine *e);
void engine_marathon_stop(struct engine *e);

/* engine_round.c: the reconcile round. */
/* One round over the whole table now; `full` re-reads the kernel first. */
void engine_round(struct engine *e, bool full);
/* desired_health_fn over the scheduler's task health. */
enum desired_health engine_health_of(void *ctx, const char *app_id, const char *task_id);
/* The desired table's input as of now: the apps, their tasks' health, the
 * drain time. */
struct desired_input engine_desired_input(struct engine *e);
/* dataplane_op_cb: counts, notes services added for DNS, audits. */
void engine_on_op(void *arg, const struct rc_op *op, int error, const char *msg);
/* dataplane_done_cb: a round handed to dataplane_request ended; its DNS
 * names and latency figure follow. */
void engine_on_round_done(void *arg, int rc, const char *err);
/* The desired table's problems: errors as warnings, the rest as info. */
void engine_log_desired_diags(const struct diag_list *dl);
/* Arms the drain/slow-start timer for next_ms (monotonic ms); INT64_MAX disarms. */
void engine_arm_next_change(struct engine *e, int64_t next_ms);

/* engine_patch.c: the round after health changes only. */
/* Notes an app whose task health changed; -1: out of memory. */
int engine_note_health_change(struct engine *e, const char *app_id) VIPD_MUST_CHECK;
void engine_forget_health_changes(struct engine *e);
/* Rebuilds and applies only the services of the apps whose health changed;
 * 0 when done, -1 when a whole-table round must run instead (nothing to go
 * on, or anything failed: logged at debug level). */
int engine_patch_round(struct engine *e) VIPD_MUST_CHECK;
/* The next_change timer's round: only the services whose drain ends or
 * slow-start step is due (and what else was noted), the timer armed for
 * the next deadline. -1 when a whole-table round must run instead. */
int engine_timed_round(struct engine *e) VIPD_MUST_CHECK;
struct apps_diff;
/* After a reload replaced `old` (the set the index describes) by e->apps,
 * which differ by d, and the scheduler was synced: rebuilds and applies
 * only the services of the apps that changed (and of those noted before);
 * `started` (monotonic seconds) is when the reload began, for the debug
 * line. -1 when a whole-table round must run instead (logged at debug
 * level). */
int engine_reload_round(struct engine *e, const struct apps_diff *d, const struct apps_set *old,
                        double started) VIPD_MUST_CHECK;

/* engine_cluster.c: the node in the cluster (issue 9); all no-ops without
 * cluster.endpoints. */
/* Joins (lease, publish, watch: on the loop). -1 with err: bad settings. */
int engine_cluster_open(struct engine *e, char *err, size_t errlen) VIPD_MUST_CHECK;
void engine_cluster_close(struct engine *e);
/* Whether a task is this node's (its host is one of cluster.hosts). */
bool engine_task_local(void *ctx, const struct task *t);
/* Before a table build: publishes this node's backends (what changed) and
 * merges every node's into the remote input (engine_cluster_remote). */
void engine_cluster_update(struct engine *e);
void engine_cluster_remote(const struct engine *e, struct desired_input *in);
/* After a table build: publishes this node's backends (what changed), each
 * with the weight the build gave it. */
void engine_cluster_publish(struct engine *e);
/* The VIPs whose other nodes' backends changed since the last clear
 * (*vips calloc'd, the caller frees); -1 with err when the whole table must
 * be built instead (etcd's view replaced the kept one, a whole merge). */
int engine_cluster_changes(const struct engine *e, struct desired_vip **vips, size_t *n, char *err,
                           size_t errlen) VIPD_MUST_CHECK;
/* After a round that built them (a patch round, or the whole table). */
void engine_cluster_changes_clear(struct engine *e);
/* SIGTERM: revokes the lease, then stops the loop
 * (bounded). false when not in a cluster. */
bool engine_cluster_leave(struct engine *e);
/* After a build: records in etcd each named VIP that has no record yet
 * (create-if-absent; the loser of a race adopts the winner's address). */
void engine_cluster_claim_vips(struct engine *e, const struct vip_alloc *va);

/* engine_vips.c: the named VIPs' recorded addresses (issue 9 item 5). */
/* Reads them from lb.state_file (a cluster node: its copy of etcd's, used
 * until etcd is read). None recorded: fine; -1 only for a file that does
 * not parse, with its located message. */
int engine_vips_load(struct engine *e, char *err, size_t errlen) VIPD_MUST_CHECK;
/* After a full build: records the allocation (new names, freed ones into
 * quarantine), audits any move, and saves when something changed. */
void engine_vips_record(struct engine *e, const struct vip_alloc *va);
/* Writes them to lb.state_file (when kept there); a failure is logged. */
void engine_vips_save(struct engine *e);
int64_t engine_wall_s(void);
int64_t engine_vip_quarantine_s(const struct engine *e);

/* engine_dns.c: which names are answered. */
enum engine_dns_phase {
	ENGINE_DNS_BEFORE_APPLY,     /* a VIP leaving loses its name before its service */
	ENGINE_DNS_AFTER_COMPLETE,   /* the kernel holds every planned service */
	ENGINE_DNS_AFTER_INCOMPLETE, /* it holds what was served and stays, and what was added */
};
/* Pure: adds to `out` (empty, sorted on return) the services whose names may
 * be answered at `phase` of a round. `served`: answered until now; `planned`
 * (sorted): the round's table; `added`: services whose add or edit the kernel
 * accepted this round (NULL: none). A name is answered only while its service
 * is in the kernel. -1: out of memory. */
int engine_dns_answerable(enum engine_dns_phase phase, const struct lb_keyset *served,
                          const struct lb_keyset *planned, const struct lb_keyset *added,
                          struct lb_keyset *out) VIPD_MUST_CHECK;
/* Around a round's apply: the names answered before and after it. */
void engine_dns_before_apply(struct engine *e, const struct lb_keyset *planned);
void engine_dns_after_apply(struct engine *e, const struct lb_keyset *planned, bool complete);
/* Notes a service the kernel accepted (an add or edit without error). */
void engine_dns_note_op(struct engine *e, const struct rc_op *op, int error);

/* engine_origin.c: who an IPVS operation concerns, for its audit line. */
struct engine_op_origin {
	char vip[VIP_NAME_MAX + 16]; /* "/web:80", "10.0.0.9:80", "[fd00::9]:80"; "" unknown */
	char app[512], task[512];    /* "" unknown */
	size_t ntasks;               /* tasks that are the destination now (0: none running) */
};
/* The op's VIP label, and for a destination its app and task: from the
 * definitions while they name it, else as remembered from the operation
 * that added it; remembered on adds and edits, forgotten on deletions. */
void engine_origin_of(struct engine *e, const struct rc_op *op, struct engine_op_origin *out);
void engine_origins_free(struct engine_origins *o);

/* engine_audit.c: one audit line per event. */
void engine_audit_check(struct engine *e, const struct sched_event *ev);
void engine_audit_task(struct engine *e, const struct sched_event *ev);
/* One stderr line when a task enters or leaves rotation (HAProxy's UP/DOWN). */
void engine_log_rotation(struct engine *e, const struct sched_event *ev);
void engine_audit_op(struct engine *e, const struct rc_op *op, int error, const char *msg,
                     bool dry_run);
/* set's last `kept` apps are those kept at their last good definition
 * (engine_reload.c appends them). */
void engine_audit_reload(struct engine *e, const struct apps_set *set, size_t kept);

/* engine_stats.c: latencies and counters. */
/* A task's health changed: starts the health-to-kernel clock unless running. */
void engine_note_health_change_time(struct engine *e);
/* A round applied the changes: records the time since the oldest of them. */
void engine_record_apply_latency(struct engine *e);
/* Nearest-rank percentile p in [0, 1] of the recorded health-change-to-kernel
 * latencies, in ms; 0 without samples. */
double engine_apply_latency_ms(const struct engine *e, double p);
/* One audit event `event` with the scheduler's and the engine's counters. */
void engine_audit_stats(struct engine *e, const char *event);

#endif
