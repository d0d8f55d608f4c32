/*
 * The reconciler: the fewest IPVS operations that turn the observed table
 * into the desired one, touching only services vipd owns, and what each
 * kernel refusal means. It knows neither netlink nor JSON; the caller
 * applies the operations (docs/dataplane.md, "One round").
 */
#ifndef VIPD_RECONCILE_H
#define VIPD_RECONCILE_H

#include "vipd/lbtable.h"

enum rc_op_kind {
	RC_ADD_SERVICE,
	RC_EDIT_SERVICE,
	RC_DEL_SERVICE,
	RC_ADD_DEST,
	RC_EDIT_DEST,
	RC_DEL_DEST,
};

/* One kernel operation. The service attributes (sched, flags, fwd) are set
 * for service adds and edits; dest is set for destination operations. */
struct rc_op {
	enum rc_op_kind kind;
	struct lb_key svc;
	char sched[LB_SCHED_MAX];
	uint32_t flags;
	enum lb_fwd fwd;
	struct lb_dest dest;
	uint32_t old_weight; /* RC_EDIT_DEST: the weight observed, for the audit log */
};

struct rc_plan {
	struct rc_op *ops;
	size_t n;
	size_t cap;
};

void rc_plan_init(struct rc_plan *p);
void rc_plan_free(struct rc_plan *p);
/* Appends a copy of op; -1 out of memory. */
__attribute__((warn_unused_result)) int rc_plan_add(struct rc_plan *p, const struct rc_op *op);

/*
 * Plans the operations from observed to desired, in the order they must be
 * applied:
 *   1. service adds and edits (a service exists before its destinations),
 *   2. destination adds, then 3. destination edits (new backends take load
 *      before old ones are weighted down or removed),
 *   4. destination deletions, 5. service deletions.
 * Every service in desired is vipd's. A service in observed but not in
 * desired is deleted only when `owned` holds its key; others (kube-proxy's,
 * an operator's) are never touched. A service present in both is adopted
 * as it stands: only differing attributes or destinations produce
 * operations. Deleting a service removes its destinations in the kernel, so
 * no destination deletions are planned for it. A weight or forwarding change
 * is one RC_EDIT_DEST. Service attributes compared: scheduler and the
 * LB_SVC_F_MANAGED flags (the dest fwd lives on each destination).
 * Both tables are sorted in place (lb_table_sort) and so are not const.
 * Appends to `out`; 0, or -1 with err filled (out of memory).
 */
__attribute__((warn_unused_result)) int
reconcile_plan(struct lb_table *observed, struct lb_table *desired, const struct lb_keyset *owned,
               struct rc_plan *out, char *err, size_t errlen);

/*
 * reconcile_plan one service at a time, for a caller that reads the kernel
 * service by service between other work: each call plans one key, `obs` the
 * service as observed (NULL: the kernel lacks it), `want` as desired (NULL:
 * not desired), the destinations of both sorted (lb_service_sort_dests); a
 * key must be planned once. rc_planner_finish appends the plan, in the phase
 * order above, to out and frees the planner. Called in key order, the plan is
 * exactly reconcile_plan's (which is built this way); in any other order,
 * only the order of operations inside one phase differs. -1 out of memory.
 */
enum { RC_PHASE_COUNT = 5 };
struct rc_planner {
	struct rc_plan phase[RC_PHASE_COUNT];
};
void rc_planner_init(struct rc_planner *pl);
void rc_planner_free(struct rc_planner *pl);
__attribute__((warn_unused_result)) int rc_planner_service(struct rc_planner *pl,
                                                           const struct lb_service *obs,
                                                           const struct lb_service *want,
                                                           const struct lb_keyset *owned);
__attribute__((warn_unused_result)) int
rc_planner_finish(struct rc_planner *pl, struct rc_plan *out, char *err, size_t errlen);

/* reconcile_plan over tables already sorted (lb_table_is_sorted), which it
 * only reads; -1 with err when one is not sorted or out of memory. */
__attribute__((warn_unused_result)) int
reconcile_plan_sorted(const struct lb_table *observed, const struct lb_table *desired,
                      const struct lb_keyset *owned, struct rc_plan *out, char *err, size_t errlen);

const char *rc_op_kind_name(enum rc_op_kind k);
/* "add dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 1 masq"; returns buf. */
const char *rc_op_format(const struct rc_op *op, char *buf, size_t len);

/*
 * What the caller does after applying one operation through netlink, given
 * the errno it got (0 on success; sign ignored). This is the one place that
 * decides what a kernel refusal means: the netlink layer (ipvs.h) returns the
 * errno as it is. Kernel operations are idempotent as IPVS reports them:
 *   - add service: EEXIST -> done (someone made it; the next plan edits it).
 *   - del service: ESRCH or ENOENT -> done (already gone).
 *   - edit service: ESRCH or ENOENT -> RC_RESULT_RETRY_AS_ADD.
 *   - add dest: EEXIST -> done (the next plan corrects its weight).
 *   - del dest: ENOENT (no such dest) or ESRCH (no such service) -> done.
 *   - edit dest: ENOENT (no such dest) -> RC_RESULT_RETRY_AS_ADD;
 *     ESRCH (service gone) -> RC_RESULT_REPLAN.
 *   - anything else -> RC_RESULT_REPLAN: the caller stops applying this
 *     plan, re-reads the kernel's table (dump) and plans again; the kernel is
 *     the truth, the plan only a guess about it.
 */
enum rc_result {
	RC_RESULT_DONE,
	RC_RESULT_RETRY_AS_ADD,
	RC_RESULT_REPLAN,
};

enum rc_result reconcile_apply_result(const struct rc_op *op, int err);
/* The add that replaces an edit which found nothing. */
struct rc_op rc_op_as_add(const struct rc_op *op);

#endif
