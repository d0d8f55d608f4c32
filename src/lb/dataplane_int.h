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

/* One operation's result: the kernel's errno (0 done) and its message. */
struct dataplane_op_result {
	int error;
	char *msg; /* NULL when the kernel said nothing worth reporting */
};

/* Sends ops[0..n) through nl as one batch; (*out)[i] is each one's result,
 * freed with dataplane_results_free. A socket failure marks the unacked ones
 * with its errno (the round re-reads and re-plans); -1 only when the batch
 * could not be built or reported, with err. */
int dataplane_commit_ops(struct ipvs_nl *nl, const struct rc_op *ops, size_t n,
                         struct dataplane_op_result **out, char *err, size_t errlen);
void dataplane_results_free(struct dataplane_op_result *res, size_t n);
/* Takes one operation's result into the round as reconcile_apply_result
 * decides: reported through the round's callback, a deleted service or a
 * failure recorded; an edit that found nothing is appended to retry as an
 * add instead (a failure when retry is NULL). -1 out of memory. */
int dataplane_take_result(struct round *r, const struct rc_op *op,
                          const struct dataplane_op_result *res, struct rc_plan *retry);

/* Applies one plan in one batch (edits that find nothing retried as adds),
 * reporting every operation; r->failures says whether it must be
 * re-planned. -1 only when the batch could not be sent or out of memory. */
int dataplane_apply_plan(struct round *r, const struct rc_plan *plan, char *err, size_t errlen);

/* ---- the steps of a whole-table round (dataplane.c), shared with the
 * rounds driven by the loop (dataplane_async.c) ---- */

/* Before anything is read: the owned set written ahead (with every key of
 * want). Clears the remembered table. */
int dataplane_round_begin(struct round *r, const struct lb_table *want, char *err, size_t errlen);
/* The round's addresses: what the interface holds, what want needs (none
 * without an interface). */
int dataplane_round_addrs(struct dataplane *dp, const struct lb_table *desired,
                          struct round_addrs *ra, char *err, size_t errlen);
/* The first plan's: addresses of VIPs that leave, before any service goes. */
int dataplane_unbind_unwanted(struct dataplane *dp, const struct round_addrs *ra, char *err,
                              size_t errlen);
/* Routes the wanted addresses not bound, except those of a service in
 * `failed` (sorted): a VIP is routed once all its services exist. */
int dataplane_bind_wanted(struct dataplane *dp, const struct round_addrs *ra,
                          const struct lb_keyset *failed, char *err, size_t errlen);
/* Makes `next` the owned set (swapped with the old one), saved when it
 * differs; -1 with err when the save failed (the set in memory is next). */
int dataplane_persist_owned(struct round *r, struct lb_keyset *next, char *err, size_t errlen);
/* After the last plan: bind the addresses of VIPs whose services exist,
 * persist the owned set without the services gone (`observed` the last
 * complete read). */
int dataplane_finish_round(struct round *r, const struct lb_table *desired,
                           const struct lb_table *observed, const struct round_addrs *ra, char *err,
                           size_t errlen);
/* The round's sorted copy becomes the remembered table (want is emptied). */
void dataplane_remember_kernel(struct dataplane *dp, struct lb_table *want);
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
