/*
 * Shared between dataplane.c (the whole-table rounds) and dataplane_patch.c
 * (the round for a few services) only: the data plane's state and the
 * applying of one plan.
 */
#ifndef VIPD_DATAPLANE_INT_H
#define VIPD_DATAPLANE_INT_H

#include <stdbool.h>

#include "vipd/dataplane.h"
#include "vipd/vipif.h"

/* A plan that fails for a reason other than "already so" is re-planned from
 * a fresh read this many times in one round; a failure that persists is the
 * kernel refusing (an unknown scheduler, an unroutable backend), which
 * another read will not change. */
#define DATAPLANE_MAX_PLANS 3

struct dataplane {
	struct ipvs_nl *nl;
	struct vipif *vif;      /* NULL: addresses are not managed */
	char *state_path;       /* NULL: the owned set lives only in memory */
	int state_lock_fd;      /* dataplane_state_lock's; -1 without a state file */
	struct lb_keyset owned; /* sorted */
	/* What the last complete round left in the kernel for vipd's services
	 * (its desired table, sorted), for dataplane_apply_quick and
	 * dataplane_apply_patch; valid while kernel_known. */
	struct lb_table kernel;
	bool kernel_known;
	struct dataplane_async *async; /* NULL until dataplane_attach */
};

/* -1 with err while a round driven by the loop is in flight (or waiting):
 * the synchronous rounds never interleave with it. */
int dataplane_refuse_busy(const struct dataplane *dp, char *err, size_t errlen);

/* The addresses of a round: what the interface holds, what is wanted
 * (both sorted). */
struct round_addrs {
	struct lb_addr *bound;
	size_t nbound;
	struct lb_addr *wanted;
	size_t nwanted;
};

/* One round's reporting and what its last plan's failures were. */
struct round {
	struct dataplane *dp;
	dataplane_op_cb cb;
	void *arg;
	size_t failures; /* operations that failed in the last plan */
	char first_failure[512];
	struct lb_keyset failed;  /* services with a failed operation in the last plan */
	struct lb_keyset deleted; /* services the last plan deleted */
	size_t adds_found;        /* adds of the last plan that found their object there */
};

void dataplane_round_init(struct round *r, struct dataplane *dp, dataplane_op_cb cb, void *arg);
void dataplane_round_free(struct round *r);
/* Forgets the last plan's failures and deletions, before the next plan. */
void dataplane_round_reset(struct round *r);

/* Sends ops[0..n) through nl as one batch and takes each result into the
 * round as reconcile_apply_result decides: reported through the callback, a
 * deleted service or a failure recorded, an edit that found nothing appended
 * to retry as an add (a failure when retry is NULL). A socket failure marks
 * the unacked operations failed with its errno (the round re-reads and
 * re-plans). sent_ms (NULL: not measured) gets the time the batch took to
 * send and be answered. -1 with err only when the batch could not be built
 * or reported, or out of memory. */
int dataplane_apply_ops(struct round *r, struct ipvs_nl *nl, const struct rc_op *ops, size_t n,
                        struct rc_plan *retry, double *sent_ms, char *err, size_t errlen);

/* Applies one plan in one batch (edits that find nothing retried as adds),
 * reporting every operation; r->failures says whether it must be
 * re-planned. -1 only when the batch could not be sent or out of memory. */
int dataplane_apply_plan(struct round *r, const struct rc_plan *plan, char *err, size_t errlen);

/* ---- the steps of a whole-table round (dataplane.c), shared with the
 * rounds driven by the loop (dataplane_async.c) ---- */

/* Before anything is made: the owned set written ahead with every key of
 * want (a crash cannot leave a service vipd would never delete). */
int dataplane_write_ahead(struct round *r, const struct lb_table *want, char *err, size_t errlen);
/* The round's addresses: what the interface holds, what want needs (none
 * without an interface). */
int dataplane_round_addrs(struct dataplane *dp, const struct lb_table *desired,
                          struct round_addrs *ra, char *err, size_t errlen);
/* The first plan's: addresses of VIPs that leave, before any service goes. */
int dataplane_unbind_unwanted(struct dataplane *dp, const struct round_addrs *ra, char *err,
                              size_t errlen);
/* After the last plan: bind the addresses of VIPs whose services exist,
 * persist the owned set without the services gone (`observed` the last
 * complete read): dataplane_owned_after's rule, or with `keys` (a patch's)
 * dataplane_owned_after_patch's. */
int dataplane_finish_round(struct round *r, const struct lb_table *desired,
                           const struct lb_table *observed, const struct lb_keyset *keys,
                           const struct round_addrs *ra, char *err, size_t errlen);
/* The end of a whole-table round whose plans ended with rc: finished as
 * above (its own error kept only when rc is 0: a plan's failure is the
 * round's), and when complete the round's sorted copy (want, emptied)
 * becomes the remembered table. Returns the round's rc. */
int dataplane_end_full_round(struct round *r, struct lb_table *want,
                             const struct lb_table *observed, const struct round_addrs *ra, int rc,
                             char *err, size_t errlen);
/* DATAPLANE_MAX_PLANS spent with r->failures left: -1 with err saying so. */
int dataplane_plans_spent(const struct round *r, char *err, size_t errlen);
void dataplane_round_addrs_free(struct round_addrs *ra);
/* The quick round towards `desired` (sorted): 0, -1 with err, or 1 when a
 * whole-table round must follow (the remembered table was wrong or the
 * kernel refused), nothing finished then. `own`, when not NULL, is desired
 * itself as the round's own copy, moved into the remembered table when it
 * completes; otherwise the remembered table takes the planned services from
 * desired. Needs dp->kernel_known. */
int dataplane_quick_round(struct dataplane *dp, const struct lb_table *desired,
                          struct lb_table *own, dataplane_op_cb cb, void *arg, char *err,
                          size_t errlen);
/* One service of a dump added to an observed table, converted; NULL for a
 * service an lb_table cannot hold (firewall mark) or out of memory. */
struct lb_service *dataplane_observed_add(struct lb_table *out, const struct ipvs_service *is,
                                          const struct ipvs_dest *dests, size_t n);

#endif
