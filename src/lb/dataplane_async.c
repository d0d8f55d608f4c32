/*
 * Whole-table rounds driven by the event loop, so that checks and DNS are
 * never held behind the kernel: the round of dataplane_apply (observe, plan,
 * apply, re-plan after a failure, finish) cut into slices, each one small
 * piece of kernel work, run from an ev_idle watcher for at most
 * DATAPLANE_SLICE_BUDGET_MS per loop iteration, with an ev_io watcher on the
 * round's own IPVS socket when the kernel has not answered yet. It owns that
 * socket, both watchers and the state of the round in flight.
 */
#include "vipd/clock.h"
#include "vipd/dataplane.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ev.h>

#include "vipd/errbuf.h"

#include "dataplane_int.h"

/* Operations per batch in one slice. The kernel applies a batch while
 * handling its send, so a batch is one unbreakable piece of work: its size
 * follows the time the last one took per operation, to fit the slice budget
 * (in the TCG guest some 30 us an operation: about 30 a batch). */
#define DATAPLANE_SLICE_OPS_FIRST 16
#define DATAPLANE_SLICE_OPS_MIN 4
#define DATAPLANE_SLICE_OPS_MAX 256
/* Services whose absence from the kernel one slice checks. */
#define DATAPLANE_SLICE_KEYS 64

enum phase {
	PHASE_IDLE,
	PHASE_START,    /* owned set written ahead */
	PHASE_ADDRS,    /* the interface's addresses read */
	PHASE_SERVICES, /* the services dump, one datagram a slice */
	PHASE_DESTS,    /* each service's destinations, one dump a slice, planned as read */
	PHASE_NEW,      /* desired services the kernel lacks */
	PHASE_APPLY,    /* the plan, one batch a slice */
	PHASE_RETRY,    /* edits that found nothing, as adds */
	PHASE_FINISH,   /* addresses bound, owned set persisted, table remembered */
	PHASE_QUICK,    /* a coalesced quick round, run in one slice */
};

enum slice_rc {
	SLICE_DONE = 0, /* the round ended (end_round ran): on_step reports it */
	SLICE_MORE = 1,
	SLICE_WAIT = 2, /* the kernel has not answered: wait for the socket */
};

struct dataplane_async {
	struct dataplane *dp;
	struct ev_loop *loop;
	struct ipvs_nl *nl; /* the rounds' own socket: synchronous calls never read its replies */
	ev_idle step;
	ev_io readable;
	dataplane_op_cb cb;
	dataplane_done_cb done;
	void *arg;
	struct dataplane_async_stats stats; /* counts, and the last round's figures */
	struct dataplane_async_stats cur;   /* the round in flight's figures */
	double round_started_ms;

	/* The round in flight. */
	enum phase phase;
	int attempt;
	struct lb_table want; /* its own sorted copy of the desired table */
	struct round r;
	struct round_addrs ra;
	struct lb_table observed;
	struct ipvs_dump *dump;
	struct ipvs_service *svcs; /* the services dump */
	size_t nsvcs;
	size_t at; /* next service (PHASE_DESTS), key (PHASE_NEW) or op (APPLY, RETRY) */
	struct rc_planner planner;
	struct rc_plan plan, retry;
	size_t slice_ops; /* operations in the next batch */
	char err[512];

	/* A round that ended in the current iteration, reported after it. */
	bool ended;
	int end_rc;
	char end_msg[512];

	/* Requests that came while it ran: one round towards the latest. */
	bool next_wanted;
	bool next_full;
	struct lb_table next;
};

/* ---- the round's state ---- */

static void round_state_free(struct dataplane_async *a)
{
	ipvs_dump_free(a->dump);
	a->dump = NULL;
	free(a->svcs);
	a->svcs = NULL;
	a->nsvcs = a->at = 0;
	rc_planner_free(&a->planner);
	rc_plan_free(&a->plan);
	rc_plan_free(&a->retry);
	lb_table_free(&a->observed);
	lb_table_init(&a->observed);
	dataplane_round_addrs_free(&a->ra);
	memset(&a->ra, 0, sizeof(a->ra));
	dataplane_round_free(&a->r);
	lb_table_free(&a->want);
	lb_table_init(&a->want);
	a->phase = PHASE_IDLE;
}

static void start_next(struct dataplane_async *a);

/* Ends the round in flight; on_step reports it once the iteration's time
 * is counted (the caller's done callback is not the data plane's time). */
static void end_round(struct dataplane_async *a, int rc, const char *err)
{
	a->ended = true;
	a->end_rc = rc;
	snprintf(a->end_msg, sizeof(a->end_msg), "%s", rc < 0 ? err : "");
	round_state_free(a);
}

/* Starts the coalesced round before reporting, so that done sees
 * dataplane_busy() true exactly when another round follows (a request made
 * from done waits for that one). */
static void report_end(struct dataplane_async *a)
{
	a->ended = false;
	a->cur.rounds = a->stats.rounds + 1;
	a->cur.failed_rounds = a->stats.failed_rounds + (a->end_rc < 0);
	a->cur.coalesced = a->stats.coalesced;
	a->cur.round_ms = (clock_now_s() * 1e3) - a->round_started_ms;
	a->stats = a->cur;
	memset(&a->cur, 0, sizeof(a->cur));
	start_next(a);
	if (a->done != NULL)
		a->done(a->arg, a->end_rc, a->end_msg);
}

static int fail_round(struct dataplane_async *a)
{
	end_round(a, -1, a->err);
	return SLICE_DONE;
}

/* ---- slices ---- */

static int begin_services(struct dataplane_async *a)
{
	if (ipvs_services_dump_begin(a->nl, &a->dump, a->err, sizeof(a->err)) < 0)
		return fail_round(a);
	lb_table_free(&a->observed);
	lb_table_init(&a->observed);
	rc_planner_free(&a->planner);
	rc_planner_init(&a->planner);
	a->phase = PHASE_SERVICES;
	return SLICE_MORE;
}

static int slice_start(struct dataplane_async *a)
{
	dataplane_round_init(&a->r, a->dp, a->cb, a->arg);
	a->attempt = 0;
	a->dp->kernel_known = false;
	if (dataplane_write_ahead(&a->r, &a->want, a->err, sizeof(a->err)) < 0)
		return fail_round(a);
	a->phase = PHASE_ADDRS;
	return SLICE_MORE;
}

static int slice_addrs(struct dataplane_async *a)
{
	if (dataplane_round_addrs(a->dp, &a->want, &a->ra, a->err, sizeof(a->err)) < 0)
		return fail_round(a);
	return begin_services(a);
}

static int slice_services(struct dataplane_async *a)
{
	int rc = ipvs_dump_step(a->dump, a->err, sizeof(a->err));

	if (rc < 0)
		return fail_round(a);
	if (rc == IPVS_DUMP_WAIT)
		return SLICE_WAIT;
	if (rc == IPVS_DUMP_MORE)
		return SLICE_MORE;
	a->svcs = ipvs_dump_take(a->dump, &a->nsvcs);
	ipvs_dump_free(a->dump);
	a->dump = NULL;
	a->at = 0;
	a->phase = PHASE_DESTS;
	return SLICE_MORE;
}

/* A service read whole: into the observed table, and planned at once
 * against its desired state. */
static int take_service(struct dataplane_async *a, const struct ipvs_service *is)
{
	size_t n = 0;
	struct ipvs_dest *dests = ipvs_dump_take(a->dump, &n);
	struct lb_service *s = dataplane_observed_add(&a->observed, is, dests, n);
	int rc = -1;

	if (s != NULL && lb_service_sort_dests(s) == 0)
		rc = rc_planner_service(&a->planner, s, lb_table_find(&a->want, &s->key),
		                        &a->dp->owned);
	free(dests);
	if (rc < 0)
		errbuf_set(a->err, sizeof(a->err), "dataplane: out of memory");
	return rc;
}

static int slice_dests(struct dataplane_async *a)
{
	const struct ipvs_service *is;
	struct lb_key key;
	char sched[LB_SCHED_MAX];
	uint32_t flags;
	int rc;

	if (a->at == a->nsvcs) {
		a->phase = PHASE_NEW;
		a->at = 0;
		return SLICE_MORE;
	}
	is = &a->svcs[a->at];
	if (a->dump == NULL) {
		if (dataplane_service_from_ipvs(is, &key, sched, &flags) < 0) {
			a->at++; /* firewall mark: not an lb_table's, never vipd's */
			return SLICE_MORE;
		}
		if (ipvs_dests_dump_begin(a->nl, is, &a->dump, a->err, sizeof(a->err)) < 0)
			return fail_round(a);
	}
	rc = ipvs_dump_step(a->dump, a->err, sizeof(a->err));
	if (rc == IPVS_DUMP_WAIT || rc == IPVS_DUMP_MORE)
		return rc == IPVS_DUMP_WAIT ? SLICE_WAIT : SLICE_MORE;
	/* ESRCH: removed since the services dump, so simply not there. */
	if (rc < 0 && ipvs_last_errno(a->nl) != ESRCH)
		return fail_round(a);
	if (rc == IPVS_DUMP_DONE && take_service(a, is) < 0)
		return fail_round(a);
	ipvs_dump_free(a->dump);
	a->dump = NULL;
	a->at++;
	return SLICE_MORE;
}

static int begin_apply(struct dataplane_async *a)
{
	rc_plan_init(&a->plan);
	if (rc_planner_finish(&a->planner, &a->plan, a->err, sizeof(a->err)) < 0)
		return fail_round(a);
	rc_planner_init(&a->planner);
	if (a->attempt == 0 && a->dp->vif != NULL &&
	    dataplane_unbind_unwanted(a->dp, &a->ra, a->err, sizeof(a->err)) < 0)
		return fail_round(a);
	dataplane_round_reset(&a->r);
	rc_plan_free(&a->retry);
	a->at = 0;
	a->phase = PHASE_APPLY;
	return SLICE_MORE;
}

static int slice_new(struct dataplane_async *a)
{
	size_t end = a->at + DATAPLANE_SLICE_KEYS;

	if (end > a->want.nsvcs)
		end = a->want.nsvcs;
	for (; a->at < end; a->at++) {
		const struct lb_service *w = &a->want.svcs[a->at];

		if (lb_table_find(&a->observed, &w->key) == NULL &&
		    rc_planner_service(&a->planner, NULL, w, &a->dp->owned) < 0) {
			errbuf_set(a->err, sizeof(a->err), "dataplane: out of memory");
			return fail_round(a);
		}
	}
	return a->at < a->want.nsvcs ? SLICE_MORE : begin_apply(a);
}

/* The next batch's size from the last one's time per operation. */
static void size_next_batch(struct dataplane_async *a, size_t n, double spent_ms)
{
	double per_op = spent_ms / (double)n, fit;

	if (per_op <= 0)
		return;
	/* Half the budget: an iteration that has used part of it still sends
	 * one more batch, and should end near the budget, not at twice it. */
	fit = DATAPLANE_SLICE_BUDGET_MS / 2 / per_op;
	if (fit < DATAPLANE_SLICE_OPS_MIN)
		fit = DATAPLANE_SLICE_OPS_MIN;
	if (fit > DATAPLANE_SLICE_OPS_MAX)
		fit = DATAPLANE_SLICE_OPS_MAX;
	a->slice_ops = (size_t)fit;
}

/* Sends the next batch of ops and takes their results; retry collects
 * edits that found nothing (NULL: they fail). */
static int apply_some(struct dataplane_async *a, const struct rc_plan *ops, struct rc_plan *retry)
{
	size_t n = ops->n - a->at;
	double sent_ms = 0;

	if (n > a->slice_ops)
		n = a->slice_ops;
	if (dataplane_apply_ops(&a->r, a->nl, ops->ops + a->at, n, retry, &sent_ms, a->err,
	                        sizeof(a->err)) < 0)
		return -1;
	size_next_batch(a, n, sent_ms);
	a->at += n;
	return 0;
}

static int slice_apply(struct dataplane_async *a)
{
	if (a->at < a->plan.n)
		return apply_some(a, &a->plan, &a->retry) < 0 ? fail_round(a) : SLICE_MORE;
	a->at = 0;
	a->phase = PHASE_RETRY;
	return SLICE_MORE;
}

/* The plans are over, with rc: finish in a slice of its own. */
static int finish(struct dataplane_async *a, int rc)
{
	a->end_rc = rc;
	a->phase = PHASE_FINISH;
	return SLICE_MORE;
}

static int slice_finish(struct dataplane_async *a)
{
	int rc = dataplane_end_full_round(&a->r, &a->want, &a->observed, &a->ra, a->end_rc, a->err,
	                                  sizeof(a->err));

	end_round(a, rc, a->err);
	return SLICE_DONE;
}

/* After a plan: done, or read the kernel again and re-plan (a few times). */
static int after_plan(struct dataplane_async *a)
{
	rc_plan_free(&a->plan);
	rc_plan_free(&a->retry);
	if (a->r.failures == 0)
		return finish(a, 0);
	if (++a->attempt < DATAPLANE_MAX_PLANS)
		return begin_services(a);
	return finish(a, dataplane_plans_spent(&a->r, a->err, sizeof(a->err)));
}

static int slice_retry(struct dataplane_async *a)
{
	if (a->at < a->retry.n)
		return apply_some(a, &a->retry, NULL) < 0 ? fail_round(a) : SLICE_MORE;
	return after_plan(a);
}

/* A quick round (plans against the remembered table, no dump) is one
 * batch of the changes since the last round: run whole. When the remembered
 * table proves wrong, the round goes on as a whole-table one, in slices. */
static int slice_quick(struct dataplane_async *a)
{
	int rc =
	    dataplane_quick_round(a->dp, &a->want, &a->want, a->cb, a->arg, a->err, sizeof(a->err));

	if (rc == 1) {
		a->phase = PHASE_START;
		return SLICE_MORE;
	}
	end_round(a, rc, a->err);
	return SLICE_DONE;
}

static int slice(struct dataplane_async *a)
{
	switch (a->phase) {
	case PHASE_IDLE:
		return SLICE_DONE;
	case PHASE_START:
		return slice_start(a);
	case PHASE_ADDRS:
		return slice_addrs(a);
	case PHASE_SERVICES:
		return slice_services(a);
	case PHASE_DESTS:
		return slice_dests(a);
	case PHASE_NEW:
		return slice_new(a);
	case PHASE_APPLY:
		return slice_apply(a);
	case PHASE_RETRY:
		return slice_retry(a);
	case PHASE_FINISH:
		return slice_finish(a);
	case PHASE_QUICK:
		return slice_quick(a);
	}
	return SLICE_DONE;
}

/* ---- driving it from the loop ---- */

static void note_iteration(struct dataplane_async_stats *st, int phase, double spent)
{
	st->iterations++;
	if (phase > 0 && phase < DATAPLANE_ASYNC_PHASES + 1)
		st->phase_ms[phase - 1] += spent;
	if (spent > st->max_iteration_ms) {
		st->max_iteration_ms = spent;
		st->max_iteration_phase = phase - 1;
	}
}

const char *dataplane_async_phase_name(int phase)
{
	static const char *const names[] = {"start", "addrs", "services", "dests", "new",
	                                    "apply", "retry", "finish",   "quick"};

	if (phase < 0 || phase >= (int)(sizeof(names) / sizeof(names[0])))
		return "";
	return names[phase];
}

/* ev_idle callback: slices until the budget is spent, the round waits for
 * the kernel or ends. Idle watchers run only when no other watcher is
 * pending, so a due check or a DNS query goes first. */
static void on_step(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct dataplane_async *a = w->data;
	double start = (clock_now_s() * 1e3), spent;
	int rc, first = (int)a->phase;

	(void)revents;
	do {
		double t0 = (clock_now_s() * 1e3), took;
		int phase = (int)a->phase;

		rc = slice(a);
		took = (clock_now_s() * 1e3) - t0;
		if (took > a->cur.max_slice_ms) {
			a->cur.max_slice_ms = took;
			a->cur.max_slice_phase = phase - 1;
		}
	} while (rc == SLICE_MORE && (clock_now_s() * 1e3) - start < DATAPLANE_SLICE_BUDGET_MS);
	spent = (clock_now_s() * 1e3) - start;
	note_iteration(&a->cur, first, spent);
	if (rc == SLICE_WAIT)
		a->cur.waits++;
	if (a->ended)
		report_end(a);
	if (rc == SLICE_WAIT) {
		ev_idle_stop(loop, w);
		ev_io_start(loop, &a->readable);
	} else if (a->phase == PHASE_IDLE) {
		ev_idle_stop(loop, w);
	}
}

/* ev_io callback: the kernel answered; the next slice reads it. */
static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dataplane_async *a = w->data;

	(void)revents;
	ev_io_stop(loop, w);
	ev_idle_start(loop, &a->step);
}

static void start_round(struct dataplane_async *a, struct lb_table *want, bool full)
{
	a->want = *want;
	lb_table_init(want);
	a->phase = full || !a->dp->kernel_known ? PHASE_START : PHASE_QUICK;
	a->round_started_ms = (clock_now_s() * 1e3);
	ev_idle_start(a->loop, &a->step);
}

static void start_next(struct dataplane_async *a)
{
	if (!a->next_wanted)
		return;
	a->next_wanted = false;
	start_round(a, &a->next, a->next_full);
	a->next_full = false;
}

int dataplane_attach(struct dataplane *dp, struct ev_loop *loop, dataplane_op_cb cb,
                     dataplane_done_cb done, void *arg, char *err, size_t errlen)
{
	struct dataplane_async *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		return -1;
	}
	if (ipvs_open(&a->nl, err, errlen) < 0) {
		free(a);
		return -1;
	}
	a->dp = dp;
	a->loop = loop;
	a->slice_ops = DATAPLANE_SLICE_OPS_FIRST;
	a->cb = cb;
	a->done = done;
	a->arg = arg;
	lb_table_init(&a->want);
	lb_table_init(&a->observed);
	lb_table_init(&a->next);
	rc_planner_init(&a->planner);
	rc_plan_init(&a->plan);
	rc_plan_init(&a->retry);
	dataplane_round_init(&a->r, dp, cb, arg);
	ev_idle_init(&a->step, on_step);
	a->step.data = a;
	ev_io_init(&a->readable, on_readable, ipvs_fd(a->nl), EV_READ);
	a->readable.data = a;
	dataplane_detach(dp);
	dp->async = a;
	return 0;
}

void dataplane_detach(struct dataplane *dp)
{
	struct dataplane_async *a = dp->async;

	if (a == NULL)
		return;
	ev_idle_stop(a->loop, &a->step);
	ev_io_stop(a->loop, &a->readable);
	round_state_free(a);
	lb_table_free(&a->next);
	ipvs_close(a->nl);
	free(a);
	dp->async = NULL;
}

bool dataplane_busy(const struct dataplane *dp)
{
	return dp->async != NULL && (dp->async->phase != PHASE_IDLE || dp->async->next_wanted);
}

int dataplane_request(struct dataplane *dp, const struct lb_table *desired, bool full, char *err,
                      size_t errlen)
{
	struct dataplane_async *a = dp->async;
	struct lb_table copy;

	if (a == NULL) {
		errbuf_set(err, errlen, "dataplane: not attached to a loop");
		return -1;
	}
	lb_table_init(&copy);
	if (lb_table_copy(&copy, desired) < 0) {
		lb_table_free(&copy);
		errbuf_set(err, errlen, "dataplane: out of memory");
		return -1;
	}
	if (a->phase == PHASE_IDLE) {
		start_round(a, &copy, full);
		return 0;
	}
	lb_table_free(&a->next);
	a->next = copy;
	a->next_wanted = true;
	a->next_full = a->next_full || full;
	a->stats.coalesced++;
	return 0;
}

void dataplane_async_stats(const struct dataplane *dp, struct dataplane_async_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (dp->async != NULL)
		*out = dp->async->stats;
}
