/* The daemon's engine: apps → checks → health → desired table → kernel,
 * with the audit log beside every step. Private to src/daemon/. */
#ifndef VIPD_ENGINE_H
#define VIPD_ENGINE_H

#include <stdbool.h>

#include "vipd/audit.h"
#include "vipd/config.h"
#include "vipd/dataplane.h"
#include "vipd/desired.h"
#include "vipd/dns.h"
#include "vipd/exec.h"
#include "vipd/model.h"
#include "vipd/sched.h"

#define ENGINE_LATENCY_SAMPLES 4096

struct engine {
	struct ev_loop *loop;
	struct vipd_config cfg;
	struct apps_set apps;
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
	int64_t next_change_ms;      /* when the next_change timer fires; INT64_MAX: not armed */
	bool log_desired_diags;      /* once per reload, not every round */
	struct dns_server *dns;      /* NULL when dns.listen is unset */
	struct lb_keyset dns_served; /* services in the kernel whose names are answered */
	struct lb_keyset dns_added;  /* services added this round (their op succeeded) */
	/* The planned services of the round dataplane_request runs, and of the
	 * one waiting for it: their names follow in on_round_done. */
	struct lb_keyset round_planned, round_planned_next;
	ev_timer reconcile_soon;
	ev_timer next_change;
	ev_timer resync;
	ev_timer reload;
	ev_timer run_for;
	ev_signal sig_hup, sig_term, sig_int, sig_usr1;
	uint64_t rounds, ops_applied, ops_failed;
	uint64_t health_rounds;    /* rounds that rebuilt only the changed apps' services */
	uint64_t health_fallbacks; /* health rounds given up for a whole-table round */
	/* From a task's health change to the kernel holding its new weight. */
	double health_change_at; /* monotonic seconds of the oldest unapplied change; 0 = none */
	double apply_latency[ENGINE_LATENCY_SAMPLES];
	size_t apply_latency_n;
};

int engine_init(struct engine *e, struct ev_loop *loop, const struct vipd_config *cfg,
                double run_for_s, char *err, size_t errlen);
void engine_fini(struct engine *e);
/* A round soon that rebuilds the whole table (a reload). */
void engine_reconcile_now(struct engine *e);
int engine_reload(struct engine *e, bool force);
/* engine_reload.c: the definitions at start-up, programmed before checks run. */
int engine_load_first(struct engine *e);
/* One round over the whole table now; `full` re-reads the kernel first. */
void engine_round(struct engine *e, bool full);

/* engine.c, for engine_patch.c */
int64_t engine_mono_ms(void);
enum desired_health engine_health_of(void *ctx, const char *app_id, const char *task_id);
/* The desired table's input as of now: the apps, their tasks' health, the
 * drain time. */
struct desired_input engine_desired_input(struct engine *e);
void engine_on_op(void *arg, const struct rc_op *op, int error, const char *msg);
void engine_record_apply_latency(struct engine *e);
void engine_arm_next_change(struct engine *e, int64_t next_ms);

/* engine_patch.c: the round after health changes only. */
int engine_note_health_change(struct engine *e, const char *app_id);
void engine_forget_health_changes(struct engine *e);
/* Rebuilds and applies only the services of the apps whose health changed;
 * 0 when done, -1 when a whole-table round must run instead (nothing to go
 * on, or anything failed: logged at debug level). */
int engine_patch_round(struct engine *e);

/* engine_audit.c: one audit line per event. */
void engine_audit_check(struct engine *e, const struct sched_event *ev);
void engine_audit_task(struct engine *e, const struct sched_event *ev);
void engine_audit_op(struct engine *e, const struct rc_op *op, int error, const char *msg,
                     bool dry_run);
void engine_audit_reload(struct engine *e, const struct apps_set *set, size_t kept);
void engine_audit_stats(struct engine *e, const char *event);
/* p in [0, 1] of the recorded health-change-to-kernel latencies, in ms. */
double engine_apply_latency_ms(const struct engine *e, double p);

#endif
