/*
 * The health rules: the state of one check instance (task x health check),
 * updated by check results with Marathon's and Mesos's semantics, and the
 * aggregation of a task's check instances. Pure: no I/O, time passed in.
 */
#ifndef VIPD_HEALTH_H
#define VIPD_HEALTH_H

#include <stddef.h>
#include <stdbool.h>

#include "vipd/check_result.h"
#include "vipd/errbuf.h"
#include "vipd/model.h"

enum health_state {
	HEALTH_UNKNOWN = 0, /* no counted result yet: never reported, or only failures in grace */
	HEALTH_HEALTHY,
	HEALTH_UNHEALTHY,
	HEALTH_KILLABLE, /* unhealthy, and Marathon/Mesos would kill the task now */
};

/* Which rule decided an update; one name per rule for the audit log. */
enum health_rule {
	HEALTH_RULE_NONE = 0,
	HEALTH_RULE_GRACE_IGNORED, /* failure before the first success, within the grace period */
	HEALTH_RULE_NOT_A_RESULT,  /* cancelled run (its task went away): not a health result */
	HEALTH_RULE_IGNORED,       /* HTTP 1xx with ignoreHttp1xx: Marathon counts it neither way */
	HEALTH_RULE_FIRST_SUCCESS, /* first success ever (rise 1): ends grace */
	HEALTH_RULE_SUCCESS,       /* success, already healthy or rise 1 */
	HEALTH_RULE_RISE_PENDING,  /* success, fewer than `rise` in a row */
	HEALTH_RULE_RISE,          /* `rise` successes in a row */
	HEALTH_RULE_FAILURE,       /* counted failure, fall 1 or not healthy before */
	HEALTH_RULE_FALL_PENDING,  /* failure while healthy, fewer than `fall` in a row */
	HEALTH_RULE_FALL,          /* `fall` failures in a row while healthy */
	HEALTH_RULE_MAX_CONSECUTIVE_FAILURES, /* Marathon/Mesos would kill the task */
	/* task aggregation */
	HEALTH_RULE_TASK_NOT_RUNNING,
	HEALTH_RULE_NO_CHECKS,
	HEALTH_RULE_ALL_CHECKS_HEALTHY,
	HEALTH_RULE_CHECK_UNKNOWN,
	HEALTH_RULE_CHECK_UNHEALTHY,
	HEALTH_RULE_CHECK_KILLABLE,
};

/* Rise/fall hysteresis of one app (labels VIPD_HEALTH_RISE / VIPD_HEALTH_FALL). */
struct health_hysteresis {
	unsigned rise; /* successes in a row to become healthy, >= 1 */
	unsigned fall; /* failures in a row for a healthy instance to become unhealthy, >= 1 */
};

#define HEALTH_LABEL_RISE "VIPD_HEALTH_RISE"
#define HEALTH_LABEL_FALL "VIPD_HEALTH_FALL"
#define HEALTH_HYSTERESIS_MAX 100

struct health_check_state {
	enum health_state state;
	double task_start;   /* startedAt, or when vipd first saw the task */
	double grace_until;  /* task_start + gracePeriodSeconds */
	unsigned kill_after; /* counted failures in a row that mean a kill; 0 = never */
	struct health_hysteresis hysteresis;
	bool had_success;              /* Marathon's firstSuccess is set: grace is over */
	unsigned consecutive_failures; /* counted ones: grace-ignored failures are not */
	unsigned consecutive_successes;
	double last_success; /* -1 when none */
	double last_failure; /* -1 when none; counted failures only */
	enum check_outcome last_outcome;
	bool reported; /* at least one health result arrived (counted or not) */
};

/* One update: the state before and after and the rule that fired. */
struct health_transition {
	enum health_state from;
	enum health_state to;
	enum health_rule rule;
	unsigned consecutive_failures;
	unsigned consecutive_successes;
};

/* Static names for the audit log ("healthy", "first_success"...);
 * "invalid" for a value outside the enum. */
const char *health_state_name(enum health_state s);
const char *health_rule_name(enum health_rule r);

/* Rise 1, fall 1: Marathon's own behaviour. */
void health_hysteresis_default(struct health_hysteresis *hy);
/*
 * Reads VIPD_HEALTH_RISE / VIPD_HEALTH_FALL from an app's labels (absent =
 * 1). Returns 0, or -1 with a message in err when a value is not an integer
 * in 1..HEALTH_HYSTERESIS_MAX; *hy then holds the defaults.
 */
int health_hysteresis_from_labels(const struct label *labels, size_t nlabels,
                                  struct health_hysteresis *hy, char *err,
                                  size_t errlen) VIPD_MUST_CHECK;

/* A fresh check instance: unknown, in grace from task_start. Hysteresis 1/1. */
void health_check_init(struct health_check_state *st, const struct health_check *hc,
                       double task_start);
/* Sets the instance's rise/fall (from health_hysteresis_from_labels; a 0
 * is taken as 1); the counts so far are kept. */
void health_check_set_hysteresis(struct health_check_state *st, const struct health_hysteresis *hy);

/*
 * Applies one check result at time `now`. Fills *out (when not NULL) with
 * the rule that fired even when nothing changed; returns 1 when the state
 * changed, 0 otherwise.
 */
int health_check_apply(struct health_check_state *st, const struct check_result *res, double now,
                       struct health_transition *out);

/* Whether a failure at `now` would be ignored under the grace rule. */
bool health_check_in_grace(const struct health_check_state *st, double now);

/*
 * Aggregates a task's check instances into *task_health (the caller keeps
 * it between calls, starting at HEALTH_UNKNOWN). A task is healthy only when
 * it is TASK_RUNNING and all its checks are healthy (healthy with no checks).
 * Returns 1 when *task_health changed, 0 otherwise; *out gets the rule.
 */
int health_task_eval(enum health_state *task_health, enum task_state task_state,
                     const struct health_check_state *checks, size_t nchecks,
                     struct health_transition *out);

#endif
