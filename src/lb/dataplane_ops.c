/*
 * Applying planned operations, shared by every kind of round (dataplane.c,
 * dataplane_patch.c, dataplane_async.c): sending them as IPVS batches, and
 * what each one's result means for the round, as the reconciler decides it.
 */
#include "vipd/dataplane.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/clock.h"
#include "vipd/errbuf.h"

#include "dataplane_int.h"

/* One operation's result: the kernel's errno (0 done) and its message. */
struct op_result {
	int error;
	char *msg; /* NULL when the kernel said nothing worth reporting */
};

struct commit_ctx {
	struct op_result *res;
	size_t n;
	size_t reported; /* results the batch handed to collect_result */
};

/* ipvs_batch_cb */
static void collect_result(void *arg, const struct ipvs_batch_result *r)
{
	struct commit_ctx *c = arg;

	if (r->index >= c->n)
		return;
	c->reported++;
	c->res[r->index].error = r->error;
	if (r->msg != NULL && r->msg[0] != '\0')
		c->res[r->index].msg = strdup(r->msg);
}

static void results_free(struct op_result *res, size_t n)
{
	if (res == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(res[i].msg);
	free(res);
}

/* Sends ops[0..n) through nl as one batch; (*out)[i] is each one's result,
 * freed with results_free. A socket failure marks the unacked ones with its
 * errno (the round re-reads and re-plans); -1 only when the batch could not
 * be built or reported, with err. */
static int commit_ops(struct ipvs_nl *nl, const struct rc_op *ops, size_t n, struct op_result **out,
                      char *err, size_t errlen)
{
	struct ipvs_batch *b = NULL;
	struct commit_ctx c = {.res = calloc(n ? n : 1, sizeof(*c.res)), .n = n};
	struct ipvs_service svc;
	struct ipvs_dest dest;
	int rc = -1;

	*out = NULL;
	if (c.res == NULL) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		return -1;
	}
	if (ipvs_batch_begin(nl, &b, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		enum ipvs_op iop = dataplane_op_to_ipvs(&ops[i], &svc, &dest);

		if (ipvs_batch_queue(b, iop, &svc, &dest, err, errlen) < 0)
			goto out;
	}
	/* After a socket failure every operation still has a result (the
	 * unacked ones carry the socket's errno), which the reconciler calls a
	 * reason to re-read and re-plan: that is the handling. Only a batch that
	 * left operations unreported is a failure of this round. */
	if (ipvs_batch_commit(b, collect_result, &c, err, errlen) < 0 && c.reported != n)
		goto out;
	rc = 0;
out:
	ipvs_batch_free(b);
	if (rc < 0)
		results_free(c.res, n);
	else
		*out = c.res;
	return rc;
}

void dataplane_round_init(struct round *r, struct dataplane *dp, dataplane_op_cb cb, void *arg)
{
	memset(r, 0, sizeof(*r));
	r->dp = dp;
	r->cb = cb;
	r->arg = arg;
	lb_keyset_init(&r->failed);
	lb_keyset_init(&r->deleted);
}

void dataplane_round_free(struct round *r)
{
	lb_keyset_free(&r->failed);
	lb_keyset_free(&r->deleted);
}

void dataplane_round_reset(struct round *r)
{
	r->failures = 0;
	r->adds_found = 0;
	r->failed.n = 0;
	r->failed.sorted = true;
	r->deleted.n = 0;
	r->deleted.sorted = true;
}

static void report(struct round *r, const struct rc_op *op, int error, const char *msg)
{
	if (r->cb != NULL)
		r->cb(r->arg, op, error, msg != NULL ? msg : "");
}

static int note_failure(struct round *r, const struct rc_op *op, const char *msg)
{
	char buf[256];

	if (r->failures++ == 0)
		snprintf(r->first_failure, sizeof(r->first_failure), "%s",
		         msg != NULL ? msg : rc_op_format(op, buf, sizeof(buf)));
	return lb_keyset_add(&r->failed, &op->svc);
}

/* Takes one operation's result into the round as reconcile_apply_result
 * decides: reported through the round's callback, a deleted service or a
 * failure recorded; an edit that found nothing is appended to retry as an
 * add instead (a failure when retry is NULL). -1 out of memory. */
static int take_result(struct round *r, const struct rc_op *op, const struct op_result *res,
                       struct rc_plan *retry)
{
	enum rc_result what = reconcile_apply_result(op, res->error);

	if (what == RC_RESULT_RETRY_AS_ADD && retry != NULL) {
		struct rc_op add = rc_op_as_add(op);

		return rc_plan_add(retry, &add);
	}
	if (what == RC_RESULT_DONE) {
		report(r, op, 0, res->msg);
		if (res->error != 0 && (op->kind == RC_ADD_SERVICE || op->kind == RC_ADD_DEST))
			r->adds_found++;
		if (op->kind == RC_DEL_SERVICE)
			return lb_keyset_add(&r->deleted, &op->svc);
		return 0;
	}
	report(r, op, res->error, res->msg);
	return note_failure(r, op, res->msg);
}

int dataplane_apply_ops(struct round *r, struct ipvs_nl *nl, const struct rc_op *ops, size_t n,
                        struct rc_plan *retry, double *sent_ms, char *err, size_t errlen)
{
	struct op_result *res;
	double start = clock_now_s();
	int rc = 0;

	if (n == 0)
		return 0;
	if (commit_ops(nl, ops, n, &res, err, errlen) < 0)
		return -1;
	if (sent_ms != NULL)
		*sent_ms = (clock_now_s() - start) * 1e3;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = take_result(r, &ops[i], &res[i], retry);
	results_free(res, n);
	if (rc < 0)
		errbuf_set(err, errlen, "dataplane: out of memory");
	return rc;
}

int dataplane_apply_plan(struct round *r, const struct rc_plan *plan, char *err, size_t errlen)
{
	struct rc_plan retry;
	int rc;

	rc_plan_init(&retry);
	rc = dataplane_apply_ops(r, r->dp->nl, plan->ops, plan->n, &retry, NULL, err, errlen);
	/* Edits that found nothing, turned into adds: a second batch. */
	if (rc == 0)
		rc = dataplane_apply_ops(r, r->dp->nl, retry.ops, retry.n, NULL, NULL, err, errlen);
	rc_plan_free(&retry);
	return rc;
}
