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
	struct lb_table last_desired;
	bool log_desired_diags;      /* once per reload, not every round */
	struct dns_server *dns;      /* NULL when dns.listen is unset */
	struct lb_keyset dns_served; /* services in the kernel whose names are answered */
	struct lb_keyset dns_added;  /* services added this round (their op succeeded) */
	ev_timer reconcile_soon;
	ev_timer next_change;
	ev_timer resync;
	ev_timer reload;
	ev_timer run_for;
	ev_signal sig_hup, sig_term, sig_int, sig_usr1;
	uint64_t rounds, ops_applied, ops_failed;
	/* From a task's health change to the kernel holding its new weight. */
	double health_change_at; /* monotonic seconds of the oldest unapplied change; 0 = none */
	double apply_latency[ENGINE_LATENCY_SAMPLES];
	size_t apply_latency_n;
};

int engine_init(struct engine *e, struct ev_loop *loop, const struct vipd_config *cfg,
                double run_for_s, char *err, size_t errlen);
void engine_fini(struct engine *e);
void engine_reconcile_now(struct engine *e);
int engine_reload(struct engine *e, bool force);

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
