/*
 * The diff between the kernel's IPVS table and the desired one, as an
 * ordered list of operations, and what to do when one of them fails.
 * A merge walk over both tables sorted by key: O(n log n) for the sort,
 * linear after it.
 */
#include "vipd/reconcile.h"

#include <stdbool.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/errbuf.h"
#include "vipd/vec.h"

/* The plan is built in phases so that the order documented in reconcile.h
 * holds however services interleave in key order. */
enum phase {
	PHASE_SERVICE,
	PHASE_DEST_ADD,
	PHASE_DEST_EDIT,
	PHASE_DEST_DEL,
	PHASE_SERVICE_DEL,
	PHASE_COUNT,
};

_Static_assert((int)PHASE_COUNT == (int)RC_PHASE_COUNT, "the planner holds one plan per phase");

void rc_plan_init(struct rc_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void rc_plan_free(struct rc_plan *p)
{
	free(p->ops);
	rc_plan_init(p);
}

int rc_plan_add(struct rc_plan *p, const struct rc_op *op)
{
	if (VEC_RESERVE(p->ops, p->cap, p->n + 1) < 0)
		return -1;
	p->ops[p->n++] = *op;
	return 0;
}

static struct rc_op service_op(enum rc_op_kind kind, const struct lb_service *s)
{
	struct rc_op op = {.kind = kind, .svc = s->key, .flags = s->flags, .fwd = s->fwd};

	memcpy(op.sched, s->sched, sizeof(op.sched));
	return op;
}

static struct rc_op dest_op(enum rc_op_kind kind, const struct lb_service *s,
                            const struct lb_dest *d)
{
	struct rc_op op = service_op(kind, s);

	op.dest = *d;
	return op;
}

static bool service_attrs_differ(const struct lb_service *obs, const struct lb_service *want)
{
	if (strncmp(obs->sched, want->sched, LB_SCHED_MAX) != 0)
		return true;
	return (obs->flags & LB_SVC_F_MANAGED) != (want->flags & LB_SVC_F_MANAGED);
}

/* Destinations of a service present on both sides; both lists sorted. */
static int plan_dests(struct rc_planner *pl, const struct lb_service *obs,
                      const struct lb_service *want)
{
	size_t i = 0, j = 0;
	struct rc_op op;

	while (i < obs->ndests || j < want->ndests) {
		int c = i == obs->ndests    ? 1
		        : j == want->ndests ? -1
		                            : lb_dest_cmp(&obs->dests[i], &want->dests[j]);

		if (c < 0) {
			op = dest_op(RC_DEL_DEST, want, &obs->dests[i++]);
			if (rc_plan_add(&pl->phase[PHASE_DEST_DEL], &op) < 0)
				return -1;
		} else if (c > 0) {
			op = dest_op(RC_ADD_DEST, want, &want->dests[j++]);
			if (rc_plan_add(&pl->phase[PHASE_DEST_ADD], &op) < 0)
				return -1;
		} else {
			const struct lb_dest *o = &obs->dests[i++], *w = &want->dests[j++];

			if (o->weight == w->weight && o->fwd == w->fwd)
				continue;
			op = dest_op(RC_EDIT_DEST, want, w);
			op.old_weight = o->weight;
			if (rc_plan_add(&pl->phase[PHASE_DEST_EDIT], &op) < 0)
				return -1;
		}
	}
	return 0;
}

static int plan_new_service(struct rc_planner *pl, const struct lb_service *want)
{
	struct rc_op op = service_op(RC_ADD_SERVICE, want);

	if (rc_plan_add(&pl->phase[PHASE_SERVICE], &op) < 0)
		return -1;
	for (size_t j = 0; j < want->ndests; j++) {
		op = dest_op(RC_ADD_DEST, want, &want->dests[j]);
		if (rc_plan_add(&pl->phase[PHASE_DEST_ADD], &op) < 0)
			return -1;
	}
	return 0;
}

static int plan_gone_service(struct rc_planner *pl, const struct lb_service *obs,
                             const struct lb_keyset *owned)
{
	struct rc_op op;

	if (owned == NULL || !lb_keyset_contains(owned, &obs->key))
		return 0;
	op = service_op(RC_DEL_SERVICE, obs);
	return rc_plan_add(&pl->phase[PHASE_SERVICE_DEL], &op);
}

static int plan_both(struct rc_planner *pl, const struct lb_service *obs,
                     const struct lb_service *want)
{
	struct rc_op op;

	if (service_attrs_differ(obs, want)) {
		op = service_op(RC_EDIT_SERVICE, want);
		if (rc_plan_add(&pl->phase[PHASE_SERVICE], &op) < 0)
			return -1;
	}
	return plan_dests(pl, obs, want);
}

void rc_planner_init(struct rc_planner *pl)
{
	for (int p = 0; p < PHASE_COUNT; p++)
		rc_plan_init(&pl->phase[p]);
}

void rc_planner_free(struct rc_planner *pl)
{
	for (int p = 0; p < PHASE_COUNT; p++)
		rc_plan_free(&pl->phase[p]);
}

int rc_planner_service(struct rc_planner *pl, const struct lb_service *obs,
                       const struct lb_service *want, const struct lb_keyset *owned)
{
	if (obs != NULL && want != NULL)
		return plan_both(pl, obs, want);
	if (want != NULL)
		return plan_new_service(pl, want);
	if (obs != NULL)
		return plan_gone_service(pl, obs, owned);
	return 0;
}

int rc_planner_finish(struct rc_planner *pl, struct rc_plan *out, char *err, size_t errlen)
{
	for (int p = 0; p < PHASE_COUNT; p++)
		for (size_t k = 0; k < pl->phase[p].n; k++)
			if (rc_plan_add(out, &pl->phase[p].ops[k]) < 0) {
				errbuf_set(err, errlen, "reconcile: out of memory");
				rc_planner_free(pl);
				return -1;
			}
	rc_planner_free(pl);
	return 0;
}

static int plan_walk(struct rc_planner *pl, const struct lb_table *obs, const struct lb_table *want,
                     const struct lb_keyset *owned)
{
	size_t i = 0, j = 0;
	int rc = 0;

	while (rc == 0 && (i < obs->nsvcs || j < want->nsvcs)) {
		int c = i == obs->nsvcs    ? 1
		        : j == want->nsvcs ? -1
		                           : lb_key_cmp(&obs->svcs[i].key, &want->svcs[j].key);

		if (c < 0)
			rc = rc_planner_service(pl, &obs->svcs[i++], NULL, owned);
		else if (c > 0)
			rc = rc_planner_service(pl, NULL, &want->svcs[j++], owned);
		else
			rc = rc_planner_service(pl, &obs->svcs[i++], &want->svcs[j++], owned);
	}
	return rc;
}

int reconcile_plan_sorted(const struct lb_table *observed, const struct lb_table *desired,
                          const struct lb_keyset *owned, struct rc_plan *out, char *err,
                          size_t errlen)
{
	struct rc_planner pl;

	if (!lb_table_is_sorted(observed) || !lb_table_is_sorted(desired)) {
		errbuf_set(err, errlen, "reconcile: a table is not sorted");
		return -1;
	}
	rc_planner_init(&pl);
	if (plan_walk(&pl, observed, desired, owned) < 0) {
		rc_planner_free(&pl);
		errbuf_set(err, errlen, "reconcile: out of memory");
		return -1;
	}
	return rc_planner_finish(&pl, out, err, errlen);
}

int reconcile_plan(struct lb_table *observed, struct lb_table *desired,
                   const struct lb_keyset *owned, struct rc_plan *out, char *err, size_t errlen)
{
	if (lb_table_sort(observed) < 0 || lb_table_sort(desired) < 0) {
		errbuf_set(err, errlen, "reconcile: out of memory");
		return -1;
	}
	return reconcile_plan_sorted(observed, desired, owned, out, err, errlen);
}

const char *rc_op_kind_name(enum rc_op_kind k)
{
	switch (k) {
	case RC_ADD_SERVICE:
		return "add service";
	case RC_EDIT_SERVICE:
		return "edit service";
	case RC_DEL_SERVICE:
		return "del service";
	case RC_ADD_DEST:
		return "add dest";
	case RC_EDIT_DEST:
		return "edit dest";
	case RC_DEL_DEST:
		return "del dest";
	}
	return "?";
}

const char *rc_op_format(const struct rc_op *op, char *buf, size_t len)
{
	char key[INET6_ADDRSTRLEN + 16], dst[INET6_ADDRSTRLEN + 8];

	lb_key_format(&op->svc, key, sizeof(key));
	switch (op->kind) {
	case RC_ADD_SERVICE:
	case RC_EDIT_SERVICE:
		snprintf(buf, len, "%s %s sched %.*s flags 0x%x", rc_op_kind_name(op->kind), key,
		         LB_SCHED_MAX, op->sched, (unsigned)op->flags);
		break;
	case RC_DEL_SERVICE:
		snprintf(buf, len, "%s %s", rc_op_kind_name(op->kind), key);
		break;
	case RC_ADD_DEST:
	case RC_EDIT_DEST:
		snprintf(buf, len, "%s %s -> %s weight %u %s", rc_op_kind_name(op->kind), key,
		         lb_addr_port_format(&op->dest.addr, op->dest.port, dst, sizeof(dst)),
		         (unsigned)op->dest.weight, lb_fwd_name(op->dest.fwd));
		break;
	case RC_DEL_DEST:
		snprintf(buf, len, "%s %s -> %s", rc_op_kind_name(op->kind), key,
		         lb_addr_port_format(&op->dest.addr, op->dest.port, dst, sizeof(dst)));
		break;
	}
	return buf;
}

/* IPVS reuses errno values with meanings of its own (net/netfilter/ipvs/
 * ip_vs_ctl.c): EEXIST is "the service or destination is there already",
 * ESRCH "no such service", ENOENT "no such destination" (and, from older
 * kernels, "no such service" on a delete). Each case is written out on its
 * own: "already so" is decided here and nowhere else. */
static bool already_present(int err)
{
	return err == EEXIST;
}

static bool service_absent(int err)
{
	return err == ESRCH || err == ENOENT;
}

enum rc_result reconcile_apply_result(const struct rc_op *op, int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return RC_RESULT_DONE;
	switch (op->kind) {
	case RC_ADD_SERVICE:
		/* Someone made it: the next plan edits what differs. */
		return already_present(err) ? RC_RESULT_DONE : RC_RESULT_REPLAN;
	case RC_ADD_DEST:
		/* ESRCH (no service to add it to) is not done: replan. */
		return already_present(err) ? RC_RESULT_DONE : RC_RESULT_REPLAN;
	case RC_DEL_SERVICE:
		return service_absent(err) ? RC_RESULT_DONE : RC_RESULT_REPLAN;
	case RC_DEL_DEST:
		/* ENOENT: no such destination; ESRCH: no such service, so none
		 * of its destinations either. */
		return err == ENOENT || err == ESRCH ? RC_RESULT_DONE : RC_RESULT_REPLAN;
	case RC_EDIT_SERVICE:
		return service_absent(err) ? RC_RESULT_RETRY_AS_ADD : RC_RESULT_REPLAN;
	case RC_EDIT_DEST:
		/* ENOENT: the service is there but not the destination; ESRCH:
		 * the service itself is gone, and adding its dest would fail. */
		return err == ENOENT ? RC_RESULT_RETRY_AS_ADD : RC_RESULT_REPLAN;
	}
	return RC_RESULT_REPLAN;
}

struct rc_op rc_op_as_add(const struct rc_op *op)
{
	struct rc_op add = *op;

	if (op->kind == RC_EDIT_SERVICE)
		add.kind = RC_ADD_SERVICE;
	else if (op->kind == RC_EDIT_DEST)
		add.kind = RC_ADD_DEST;
	return add;
}
