/*
 * The health rules of one check instance and of a task, after Marathon's
 * HealthCheckActor (grace period, consecutive failures, kill decision) and
 * Mesos's health checker. Pure functions over plain structs; time passed in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/errbuf.h"
#include "vipd/health.h"

const char *health_state_name(enum health_state s)
{
	switch (s) {
	case HEALTH_UNKNOWN:
		return "unknown";
	case HEALTH_HEALTHY:
		return "healthy";
	case HEALTH_UNHEALTHY:
		return "unhealthy";
	case HEALTH_KILLABLE:
		return "killable";
	}
	return "invalid";
}

const char *health_rule_name(enum health_rule r)
{
	switch (r) {
	case HEALTH_RULE_NONE:
		return "none";
	case HEALTH_RULE_GRACE_IGNORED:
		return "grace_ignored";
	case HEALTH_RULE_NOT_A_RESULT:
		return "not_a_result";
	case HEALTH_RULE_IGNORED:
		return "ignored";
	case HEALTH_RULE_FIRST_SUCCESS:
		return "first_success";
	case HEALTH_RULE_SUCCESS:
		return "success";
	case HEALTH_RULE_RISE_PENDING:
		return "rise_pending";
	case HEALTH_RULE_RISE:
		return "rise";
	case HEALTH_RULE_FAILURE:
		return "failure";
	case HEALTH_RULE_FALL_PENDING:
		return "fall_pending";
	case HEALTH_RULE_FALL:
		return "fall";
	case HEALTH_RULE_MAX_CONSECUTIVE_FAILURES:
		return "max_consecutive_failures";
	case HEALTH_RULE_TASK_NOT_RUNNING:
		return "task_not_running";
	case HEALTH_RULE_NO_CHECKS:
		return "no_checks";
	case HEALTH_RULE_ALL_CHECKS_HEALTHY:
		return "all_checks_healthy";
	case HEALTH_RULE_CHECK_UNKNOWN:
		return "check_unknown";
	case HEALTH_RULE_CHECK_UNHEALTHY:
		return "check_unhealthy";
	case HEALTH_RULE_CHECK_KILLABLE:
		return "check_killable";
	}
	return "invalid";
}

void health_hysteresis_default(struct health_hysteresis *hy)
{
	hy->rise = 1;
	hy->fall = 1;
}

static int parse_count(const char *key, const char *value, unsigned *out, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < 1 || v > HEALTH_HYSTERESIS_MAX) {
		errbuf_set(err, errlen, "label %s: \"%s\": expected an integer from 1 to %d", key,
		           value, HEALTH_HYSTERESIS_MAX);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int health_hysteresis_from_labels(const struct label *labels, size_t nlabels,
                                  struct health_hysteresis *hy, char *err, size_t errlen)
{
	struct health_hysteresis parsed;
	const char *rise = label_get(labels, nlabels, HEALTH_LABEL_RISE);
	const char *fall = label_get(labels, nlabels, HEALTH_LABEL_FALL);

	health_hysteresis_default(hy);
	health_hysteresis_default(&parsed);
	if (rise != NULL && parse_count(HEALTH_LABEL_RISE, rise, &parsed.rise, err, errlen) < 0)
		return -1;
	if (fall != NULL && parse_count(HEALTH_LABEL_FALL, fall, &parsed.fall, err, errlen) < 0)
		return -1;
	*hy = parsed;
	return 0;
}

/*
 * Marathon runs HTTP, HTTPS and TCP checks itself and decides to kill in
 * checkConsecutiveFailures() with the failure count from *before* the
 * failure being handled: with maxConsecutiveFailures 3 the kill comes with
 * the 4th failure in a row. COMMAND and MESOS_* checks run in Mesos's health
 * checker, which counts the failure first and kills at the 3rd.
 */
static unsigned kill_threshold(const struct health_check *hc)
{
	if (hc->max_consecutive_failures == 0)
		return 0;
	switch (hc->protocol) {
	case HC_PROTO_HTTP:
	case HC_PROTO_HTTPS:
	case HC_PROTO_TCP:
		return hc->max_consecutive_failures + 1;
	case HC_PROTO_COMMAND:
	case HC_PROTO_MESOS_HTTP:
	case HC_PROTO_MESOS_HTTPS:
	case HC_PROTO_MESOS_TCP:
		return hc->max_consecutive_failures;
	}
	return hc->max_consecutive_failures;
}

void health_check_init(struct health_check_state *st, const struct health_check *hc,
                       double task_start)
{
	memset(st, 0, sizeof(*st));
	st->state = HEALTH_UNKNOWN;
	st->task_start = task_start;
	st->grace_until = task_start + (double)hc->grace_period_s;
	st->kill_after = kill_threshold(hc);
	health_hysteresis_default(&st->hysteresis);
	st->last_success = -1;
	st->last_failure = -1;
	st->last_outcome = CHECK_OK;
}

void health_check_set_hysteresis(struct health_check_state *st, const struct health_hysteresis *hy)
{
	st->hysteresis.rise = hy->rise > 0 ? hy->rise : 1;
	st->hysteresis.fall = hy->fall > 0 ? hy->fall : 1;
}

/* Marathon's ignoreFailures(): no success yet and startedAt + gracePeriod > now. */
bool health_check_in_grace(const struct health_check_state *st, double now)
{
	return !st->had_success && st->grace_until > now;
}

/*
 * Outcomes that are not health results: a cancelled run (its task went
 * away) says nothing about the backend, and Marathon counts a 1xx answer
 * with ignoreHttp1xx neither healthy nor unhealthy. Every other outcome,
 * a timeout included, is a success or a failure.
 */
static enum health_rule non_result_rule(enum check_outcome o)
{
	if (o == CHECK_CANCELLED)
		return HEALTH_RULE_NOT_A_RESULT;
	if (o == CHECK_IGNORED)
		return HEALTH_RULE_IGNORED;
	return HEALTH_RULE_NONE;
}

static enum health_rule apply_success(struct health_check_state *st, double now)
{
	bool first = !st->had_success;

	st->had_success = true;
	st->last_success = now;
	st->consecutive_failures = 0;
	st->consecutive_successes++;
	if (st->state == HEALTH_HEALTHY)
		return HEALTH_RULE_SUCCESS;
	if (st->consecutive_successes < st->hysteresis.rise)
		return HEALTH_RULE_RISE_PENDING;
	st->state = HEALTH_HEALTHY;
	if (st->hysteresis.rise > 1)
		return HEALTH_RULE_RISE;
	return first ? HEALTH_RULE_FIRST_SUCCESS : HEALTH_RULE_SUCCESS;
}

/*
 * A counted failure. Mesos's rule: one failure outside grace makes the task
 * unhealthy (Marathon's `alive` is lastSuccess > lastFailure). The fall
 * hysteresis only delays leaving the healthy state; the kill threshold
 * overrides it, since Marathon would kill the task whatever vipd thinks.
 */
static enum health_rule apply_failure(struct health_check_state *st, double now)
{
	st->last_failure = now;
	st->consecutive_successes = 0;
	st->consecutive_failures++;
	if (st->kill_after > 0 && st->consecutive_failures >= st->kill_after) {
		st->state = HEALTH_KILLABLE;
		return HEALTH_RULE_MAX_CONSECUTIVE_FAILURES;
	}
	if (st->state == HEALTH_HEALTHY) {
		if (st->consecutive_failures < st->hysteresis.fall)
			return HEALTH_RULE_FALL_PENDING;
		st->state = HEALTH_UNHEALTHY;
		return st->hysteresis.fall > 1 ? HEALTH_RULE_FALL : HEALTH_RULE_FAILURE;
	}
	if (st->state == HEALTH_UNKNOWN)
		st->state = HEALTH_UNHEALTHY;
	return HEALTH_RULE_FAILURE;
}

int health_check_apply(struct health_check_state *st, const struct check_result *res, double now,
                       struct health_transition *out)
{
	enum health_state from = st->state;
	enum health_rule rule;

	rule = non_result_rule(res->outcome);
	if (rule != HEALTH_RULE_NONE) {
		/* no change */
	} else if (check_outcome_healthy(res->outcome)) {
		st->reported = true;
		st->last_outcome = res->outcome;
		rule = apply_success(st, now);
	} else if (health_check_in_grace(st, now)) {
		/* Marathon: "Don't update health"; Mesos: "Ignoring failure". */
		st->reported = true;
		st->last_outcome = res->outcome;
		rule = HEALTH_RULE_GRACE_IGNORED;
	} else {
		st->reported = true;
		st->last_outcome = res->outcome;
		rule = apply_failure(st, now);
	}
	if (out != NULL) {
		out->from = from;
		out->to = st->state;
		out->rule = rule;
		out->consecutive_failures = st->consecutive_failures;
		out->consecutive_successes = st->consecutive_successes;
	}
	return st->state != from;
}

/*
 * The worst check decides: killable over unhealthy (one failed check makes
 * the task unhealthy, as in Mesos) over unknown (a check that has never
 * reported keeps the task out of rotation) over healthy.
 */
static enum health_state worst_check(const struct health_check_state *checks, size_t nchecks,
                                     enum health_rule *rule)
{
	enum health_state worst = HEALTH_HEALTHY;
	size_t i;

	*rule = HEALTH_RULE_ALL_CHECKS_HEALTHY;
	for (i = 0; i < nchecks; i++) {
		enum health_state s = checks[i].state;

		if (s == HEALTH_KILLABLE) {
			*rule = HEALTH_RULE_CHECK_KILLABLE;
			return HEALTH_KILLABLE;
		}
		if (s == HEALTH_UNHEALTHY) {
			worst = HEALTH_UNHEALTHY;
			*rule = HEALTH_RULE_CHECK_UNHEALTHY;
		} else if (s == HEALTH_UNKNOWN && worst == HEALTH_HEALTHY) {
			worst = HEALTH_UNKNOWN;
			*rule = HEALTH_RULE_CHECK_UNKNOWN;
		}
	}
	return worst;
}

int health_task_eval(enum health_state *task_health, enum task_state task_state,
                     const struct health_check_state *checks, size_t nchecks,
                     struct health_transition *out)
{
	enum health_state from = *task_health;
	enum health_state to;
	enum health_rule rule;

	if (task_state != TASK_STATE_RUNNING) {
		to = HEALTH_UNHEALTHY;
		rule = HEALTH_RULE_TASK_NOT_RUNNING;
	} else if (nchecks == 0) {
		to = HEALTH_HEALTHY;
		rule = HEALTH_RULE_NO_CHECKS;
	} else {
		to = worst_check(checks, nchecks, &rule);
	}
	*task_health = to;
	if (out != NULL) {
		out->from = from;
		out->to = to;
		out->rule = rule;
		out->consecutive_failures = 0;
		out->consecutive_successes = 0;
	}
	return to != from;
}
