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
	struct lb_keyset owned; /* sorted */
	/* What the last complete round left in the kernel for vipd's services
	 * (its desired table, sorted), for dataplane_apply_quick and
	 * dataplane_apply_patch; valid while kernel_known. */
	struct lb_table kernel;
	bool kernel_known;
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
};

void dataplane_round_init(struct round *r, struct dataplane *dp, dataplane_op_cb cb, void *arg);
void dataplane_round_free(struct round *r);

/* Applies one plan in one batch (edits that find nothing retried as adds),
 * reporting every operation; r->failures says whether it must be
 * re-planned. -1 only when the batch could not be sent or out of memory. */
int dataplane_apply_plan(struct round *r, const struct rc_plan *plan, char *err, size_t errlen);

#endif
