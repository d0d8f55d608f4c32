/*
 * What the API records from the engine's events: checks and failures by
 * kind, task health transitions, kernel operations by kind and result with
 * the last error, and the loads of the definitions. Plain counters,
 * kept by the server (api_note_* in api_server.c).
 */
#include <stdio.h>
#include <string.h>

#include "vipd/api.h"

/* Prometheus's default buckets, with 2.5 s and 10 s for slow checks. */
const double api_duration_bounds[API_DURATION_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                          0.5,   1,    2.5,   5,    10};

static void note_duration(struct api_counters *c, enum hc_kind k, double seconds)
{
	size_t b = 0;

	while (b < API_DURATION_BUCKETS && seconds > api_duration_bounds[b])
		b++;
	c->duration_buckets[k][b]++;
	c->duration_sum[k] += seconds;
}

/* An ignored result (HTTP 1xx under ignoreHttp1xx) or a cancelled run is
 * not a failure, as the health rules see it. */
static bool outcome_failed(enum check_outcome o)
{
	return o != CHECK_OK && o != CHECK_IGNORED && o != CHECK_CANCELLED;
}

void api_counters_note_check(struct api_counters *c, const struct sched_event *ev)
{
	enum hc_kind k = hc_protocol_kind(ev->hc->protocol);

	if ((unsigned)k < API_KIND_COUNT) {
		c->checks_run[k]++;
		if (outcome_failed(ev->res->outcome))
			c->checks_failed[k]++;
		note_duration(c, k, ev->res->latency_ms / 1000.0);
	}
	if (ev->task_changed && (unsigned)ev->task_tr.to < API_HEALTH_COUNT)
		c->task_transitions[ev->task_tr.to]++;
}

void api_counters_note_op(struct api_counters *c, const struct rc_op *op, int error,
                          const char *msg, double now_wall)
{
	if ((unsigned)op->kind < API_OP_KIND_COUNT)
		c->ops[op->kind][error != 0]++;
	if (!error)
		return;
	c->last_error_wall = now_wall;
	rc_op_format(op, c->last_error_op, sizeof(c->last_error_op));
	(void)snprintf(c->last_error_msg, sizeof(c->last_error_msg), "%s",
	               msg && msg[0] ? msg : strerror(error < 0 ? -error : error));
}

void api_counters_note_load(struct api_counters *c, const struct apps_set *set, size_t kept,
                            double now_wall)
{
	c->loads++;
	c->last_load_wall = now_wall;
	c->last_load_apps = set->napps;
	c->last_load_kept = kept;
	c->last_load_errors = diag_count(&set->diags, DIAG_ERROR);
}
