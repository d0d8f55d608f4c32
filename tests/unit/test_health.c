/* Unit tests of the health rules with a fake clock: every rule and its edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/health.h"
#include "expect_fields.h"

static struct health_check make_hc(enum hc_protocol proto, unsigned grace, unsigned max_failures)
{
	struct health_check hc;

	memset(&hc, 0, sizeof(hc));
	hc.protocol = proto;
	hc.grace_period_s = grace;
	hc.interval_s = HC_DEFAULT_INTERVAL_S;
	hc.timeout_s = HC_DEFAULT_TIMEOUT_S;
	hc.max_consecutive_failures = max_failures;
	hc.port_index = 0;
	return hc;
}

static struct check_result result(enum check_outcome o)
{
	struct check_result r;

	memset(&r, 0, sizeof(r));
	r.outcome = o;
	r.exit_code = -1;
	return r;
}

/* Applies one outcome at `now`; checks the return against the transition. */
static int feed(struct health_check_state *st, enum check_outcome o, double now,
                struct health_transition *tr)
{
	struct check_result r = result(o);
	int changed = health_check_apply(st, &r, now, tr);

	assert_int_equal(changed, tr->from != tr->to);
	return changed;
}

static void test_names(void **unused)
{
	(void)unused;
	assert_string_equal(health_state_name(HEALTH_UNKNOWN), "unknown");
	assert_string_equal(health_state_name(HEALTH_HEALTHY), "healthy");
	assert_string_equal(health_state_name(HEALTH_UNHEALTHY), "unhealthy");
	assert_string_equal(health_state_name(HEALTH_KILLABLE), "killable");
	assert_string_equal(health_rule_name(HEALTH_RULE_GRACE_IGNORED), "grace_ignored");
	assert_string_equal(health_rule_name(HEALTH_RULE_FIRST_SUCCESS), "first_success");
	assert_string_equal(health_rule_name(HEALTH_RULE_FAILURE), "failure");
	assert_string_equal(health_rule_name(HEALTH_RULE_MAX_CONSECUTIVE_FAILURES),
	                    "max_consecutive_failures");
	assert_string_equal(health_rule_name(HEALTH_RULE_RISE), "rise");
	assert_string_equal(health_rule_name(HEALTH_RULE_FALL), "fall");
	assert_string_equal(health_rule_name(HEALTH_RULE_NOT_A_RESULT), "not_a_result");
	assert_string_equal(health_rule_name(HEALTH_RULE_NO_CHECKS), "no_checks");
}

/* One check instance under test: its definition, its state and the last
 * transition the rules gave. */
struct hrun {
	struct health_check hc;
	struct health_check_state st;
	struct health_transition tr;
};

/* A check of that protocol, grace and maxConsecutiveFailures started at
 * `now`, with the rise and fall given (NULL: none). */
static void hrun_start(struct hrun *r, enum hc_protocol proto, unsigned grace,
                       unsigned max_failures, double now, const struct health_hysteresis *hy)
{
	r->hc = make_hc(proto, grace, max_failures);
	health_check_init(&r->st, &r->hc, now);
	if (hy != NULL)
		health_check_set_hysteresis(&r->st, hy);
}

/* The value of one field of the run, as text (field_of_fn): the
 * transition's rule, from, to and failures (its consecutive failures), the
 * state's state, st_failures, successes, last (outcome) and reported. */
static const char *hrun_field(void *ctx, const char *key, char *buf, size_t len)
{
	const struct hrun *r = ctx;

	if (strcmp(key, "rule") == 0)
		return health_rule_name(r->tr.rule);
	if (strcmp(key, "from") == 0)
		return health_state_name(r->tr.from);
	if (strcmp(key, "to") == 0)
		return health_state_name(r->tr.to);
	if (strcmp(key, "state") == 0)
		return health_state_name(r->st.state);
	if (strcmp(key, "last") == 0)
		return check_outcome_name(r->st.last_outcome);
	if (strcmp(key, "reported") == 0)
		return r->st.reported ? "true" : "false";
	if (strcmp(key, "failures") == 0)
		snprintf(buf, len, "%u", (unsigned)r->tr.consecutive_failures);
	else if (strcmp(key, "st_failures") == 0)
		snprintf(buf, len, "%u", (unsigned)r->st.consecutive_failures);
	else if (strcmp(key, "successes") == 0)
		snprintf(buf, len, "%u", (unsigned)r->st.consecutive_successes);
	else
		fail_msg("no field %s", key);
	return buf;
}

/* Each "key=value" of `want` holds, else the case and its step are named
 * with the field, its value and the one expected. */
static void hrun_expect(struct hrun *r, const char *name, const char *step, const char *want)
{
	char what[160];

	snprintf(what, sizeof(what), "%s, %s", name, step);
	expect_fields(what, want, hrun_field, r);
}

#define ANY (-1)

/* One result fed to the rules: whether it changed the state (0, 1 or
 * ANY) and what must hold after it. */
struct step {
	enum check_outcome outcome;
	double at;
	int changed;
	const char *want;
};

/* Feeds steps[first..n-1]; a failure names the case, the step (counted
 * from 1), its outcome and its time. */
static void hrun_play(struct hrun *r, const char *name, const struct step *steps, size_t first,
                      size_t n)
{
	for (size_t i = first; i < n; i++) {
		const struct step *s = &steps[i];
		char label[96];
		int changed = feed(&r->st, s->outcome, s->at, &r->tr);

		snprintf(label, sizeof(label), "step %zu (%s at %.1f)", i + 1,
		         check_outcome_name(s->outcome), s->at);
		if (s->changed != ANY && changed != s->changed)
			fail_msg("%s, %s: changed %d, expected %d", name, label, changed,
			         s->changed);
		hrun_expect(r, name, label, s->want);
	}
}

#define NSTEPS(a) (sizeof(a) / sizeof((a)[0]))

static void test_never_reported_is_unknown(void **unused)
{
	struct hrun r;

	(void)unused;
	hrun_start(&r, HC_PROTO_HTTP, 300, 3, 1000.0, NULL);
	assert_int_equal(r.st.state, HEALTH_UNKNOWN);
	assert_false(r.st.reported);
	assert_true(health_check_in_grace(&r.st, 1000.0));
	assert_true(health_check_in_grace(&r.st, 1299.9));
	assert_false(health_check_in_grace(&r.st, 1300.0));
}

static void test_grace_failures_ignored_then_first_success(void **unused)
{
	static const struct step success[] = {
	    {CHECK_OK, 1250.0, 1, "from=unknown to=healthy rule=first_success"},
	};
	struct hrun r;

	(void)unused;
	hrun_start(&r, HC_PROTO_HTTP, 300, 3, 1000.0, NULL);
	/* Many failures, more than maxConsecutiveFailures, all within grace. */
	for (int i = 0; i < 10; i++) {
		const struct step fail = {CHECK_FAIL_CONNECT, 1010.0 + 20 * i, 0,
		                          "rule=grace_ignored to=unknown st_failures=0"};

		hrun_play(&r, "failures in grace", &fail, 0, 1);
	}
	hrun_expect(&r, "failures in grace", "after them", "reported=true");
	hrun_play(&r, "first success in grace", success, 0, NSTEPS(success));
	assert_true(r.st.last_success == 1250.0);
}

/* Cases that differ only by their check and the results fed: each step's
 * expectations written as the fields that must hold after it. */
struct hcase {
	const char *name;
	enum hc_protocol proto;
	unsigned grace, max_failures;
	double start;
	struct health_hysteresis hy; /* {0, 0}: none */
	const struct step *steps;
	size_t nsteps;
	const char *after; /* what must hold after the last step */
};

static void hcase_run(const struct hcase *c)
{
	struct hrun r;

	hrun_start(&r, c->proto, c->grace, c->max_failures, c->start,
	           c->hy.rise || c->hy.fall ? &c->hy : NULL);
	hrun_play(&r, c->name, c->steps, 0, c->nsteps);
	hrun_expect(&r, c->name, "after the last step", c->after);
}

#define HCASE(name, proto, grace, max, start, rise, fall, steps, after)                            \
	{                                                                                          \
		name, proto, grace, max, start, {rise, fall}, steps, NSTEPS(steps), after          \
	}

static const struct step grace_expires[] = {
    {CHECK_FAIL_CONNECT, 30.0, ANY, "rule=grace_ignored"},
    /* The boundary: Marathon ignores while startedAt + grace > now. */
    {CHECK_FAIL_CONNECT, 60.0, 1, "from=unknown to=unhealthy rule=failure"},
};
static const struct step zero_grace[] = {
    {CHECK_FAIL_CONNECT, 100.0, 1, "rule=failure"},
};
static const struct step timeout_fails[] = {
    {CHECK_OK, 1.0, ANY, ""},
    {CHECK_FAIL_TIMEOUT, 2.0, 1, "to=unhealthy"},
};
/* Marathon-run (HTTP/HTTPS/TCP): the kill decision sees the count before
 * the failure. */
static const struct step marathon_kills[] = {
    {CHECK_OK, 1.0, ANY, ""},
    {CHECK_FAIL_HTTP_STATUS, 2.0, 1, "rule=failure"},
    {CHECK_FAIL_HTTP_STATUS, 3.0, 0, "rule=failure"},
    {CHECK_FAIL_HTTP_STATUS, 4.0, 0, "to=unhealthy failures=3"},
    {CHECK_FAIL_HTTP_STATUS, 5.0, 1, "from=unhealthy to=killable rule=max_consecutive_failures"},
    /* Stays killable; vipd records, it does not kill. */
    {CHECK_FAIL_HTTP_STATUS, 6.0, 0, "rule=max_consecutive_failures"},
    /* A success brings it back (the task was not killed after all). */
    {CHECK_OK, 7.0, 1, "from=killable to=healthy rule=success"},
};
/* Mesos-run (COMMAND, MESOS_*): count first, kill when it reaches the
 * maximum. */
static const struct step mesos_kills[] = {
    {CHECK_FAIL_EXIT, 1.0, ANY, ""},
    {CHECK_FAIL_EXIT, 2.0, ANY, "to=unhealthy"},
    {CHECK_FAIL_EXIT, 3.0, 1, "to=killable rule=max_consecutive_failures"},
};
static const struct step kills_at_one[] = {
    {CHECK_OK, 1.0, ANY, ""},
    {CHECK_FAIL_EXIT, 2.0, 1, "from=healthy to=killable"},
};
static const struct step success_resets[] = {
    {CHECK_FAIL_EXIT, 1.0, ANY, ""},
    {CHECK_FAIL_EXIT, 2.0, ANY, ""},
    {CHECK_OK, 3.0, 1, "from=unhealthy rule=first_success"},
    {CHECK_FAIL_EXIT, 4.0, ANY, ""},
    {CHECK_FAIL_EXIT, 5.0, ANY, "state=unhealthy"},
    {CHECK_OK, 6.0, 1, "rule=success"},
    {CHECK_OK, 7.0, 0, "rule=success"},
};
static const struct step cancelled[] = {
    {CHECK_CANCELLED, 10.0, 0, "rule=not_a_result reported=false state=unknown"},
    {CHECK_OK, 11.0, ANY, ""},
    {CHECK_CANCELLED, 12.0, 0, "state=healthy successes=1 last=ok"},
};
static const struct step fall[] = {
    {CHECK_OK, 1.0, ANY, ""},
    {CHECK_FAIL_EXIT, 2.0, 0, "rule=fall_pending"},
    {CHECK_FAIL_EXIT, 3.0, 0, ""},
    {CHECK_OK, 4.0, ANY, ""}, /* resets the run */
    {CHECK_FAIL_EXIT, 5.0, 0, ""},
    {CHECK_FAIL_EXIT, 6.0, 0, ""},
    {CHECK_FAIL_EXIT, 7.0, 1, "rule=fall to=unhealthy"},
    {CHECK_FAIL_EXIT, 8.0, ANY, ""},
    {CHECK_FAIL_EXIT, 9.0, 1, "rule=max_consecutive_failures"},
};
/* The kill threshold wins over a longer fall: Marathon would kill anyway. */
static const struct step kill_overrides_fall[] = {
    {CHECK_OK, 1.0, ANY, ""},
    {CHECK_FAIL_EXIT, 2.0, ANY, "rule=fall_pending"},
    {CHECK_FAIL_EXIT, 3.0, 1, "from=healthy to=killable"},
};
/* Fall guards the healthy state only: an instance never healthy goes
 * unhealthy at once. */
static const struct step fall_from_unknown[] = {
    {CHECK_FAIL_EXIT, 5.0, ANY, "rule=grace_ignored"},
    {CHECK_FAIL_EXIT, 15.0, 1, "rule=failure to=unhealthy"},
};

static const struct hcase hcases[] = {
    /* The ignored failure did not count. */
    HCASE("grace expires without success", HC_PROTO_HTTP, 60, 3, 0.0, 0, 0, grace_expires,
          "st_failures=1"),
    HCASE("zero grace", HC_PROTO_TCP, 0, 3, 100.0, 0, 0, zero_grace, ""),
    HCASE("timeout is a failure", HC_PROTO_HTTP, 0, 0, 0.0, 0, 0, timeout_fails, "last=timeout"),
    HCASE("max failures, Marathon", HC_PROTO_HTTP, 0, 3, 0.0, 0, 0, marathon_kills,
          "st_failures=0"),
    HCASE("max failures, COMMAND", HC_PROTO_COMMAND, 0, 3, 0.0, 0, 0, mesos_kills, ""),
    HCASE("max failures, MESOS_HTTP", HC_PROTO_MESOS_HTTP, 0, 3, 0.0, 0, 0, mesos_kills, ""),
    HCASE("max failures, MESOS_HTTPS", HC_PROTO_MESOS_HTTPS, 0, 3, 0.0, 0, 0, mesos_kills, ""),
    HCASE("max failures, MESOS_TCP", HC_PROTO_MESOS_TCP, 0, 3, 0.0, 0, 0, mesos_kills, ""),
    HCASE("max failures 1", HC_PROTO_COMMAND, 0, 1, 0.0, 0, 0, kills_at_one, ""),
    HCASE("success resets failures", HC_PROTO_COMMAND, 0, 3, 0.0, 0, 0, success_resets, ""),
    HCASE("cancelled is not a result", HC_PROTO_HTTP, 0, 1, 0.0, 0, 0, cancelled, ""),
    HCASE("fall", HC_PROTO_COMMAND, 0, 5, 0.0, 1, 3, fall, ""),
    HCASE("kill overrides fall", HC_PROTO_COMMAND, 0, 2, 0.0, 1, 5, kill_overrides_fall, ""),
    HCASE("fall from unknown", HC_PROTO_COMMAND, 10, 0, 0.0, 2, 3, fall_from_unknown, ""),
};

static void test_rule_cases(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < NSTEPS(hcases); i++)
		hcase_run(&hcases[i]);
}

static void test_first_success_ends_grace(void **unused)
{
	static const struct step steps[] = {
	    {CHECK_OK, 1010.0, ANY, ""},
	    /* Still within the 300 s, but grace is over: the failure counts. */
	    {CHECK_FAIL_HTTP_STATUS, 1020.0, 1,
	     "from=healthy to=unhealthy rule=failure failures=1"},
	};
	struct hrun r;

	(void)unused;
	hrun_start(&r, HC_PROTO_HTTP, 300, 3, 1000.0, NULL);
	hrun_play(&r, "first success ends grace", steps, 0, 1);
	assert_false(health_check_in_grace(&r.st, 1020.0));
	hrun_play(&r, "first success ends grace", steps, 1, NSTEPS(steps));
}

static void test_max_failures_zero_never_kills(void **unused)
{
	struct hrun r;

	(void)unused;
	hrun_start(&r, HC_PROTO_COMMAND, 0, 0, 0.0, NULL);
	for (int i = 0; i < 50; i++)
		feed(&r.st, CHECK_FAIL_EXIT, 1.0 + i, &r.tr);
	hrun_expect(&r, "max failures 0", "after 50 failures",
	            "state=unhealthy rule=failure st_failures=50");
}

/* An ignored 1xx answer (ignoreHttp1xx) is no result: it neither ends grace nor counts. */
static void test_ignored_1xx_is_not_a_result(void **unused)
{
	static const struct step steps[] = {
	    {CHECK_IGNORED, 10.0, 0, "rule=ignored reported=false state=unknown"},
	    {CHECK_OK, 11.0, ANY, ""},
	    {CHECK_FAIL_HTTP_STATUS, 12.0, ANY, "state=unhealthy"},
	    {CHECK_IGNORED, 13.0, 0, "st_failures=1 last=http_status"},
	};
	struct hrun r;

	(void)unused;
	r.hc = make_hc(HC_PROTO_HTTP, 0, 1);
	r.hc.ignore_http1xx = true;
	health_check_init(&r.st, &r.hc, 0.0);
	hrun_play(&r, "ignored 1xx", steps, 0, NSTEPS(steps));
	assert_string_equal(health_rule_name(HEALTH_RULE_IGNORED), "ignored");
}

static void test_rise(void **unused)
{
	static const struct step steps[] = {
	    {CHECK_OK, 1.0, 0, "rule=rise_pending"},
	    {CHECK_OK, 2.0, 0, ""},
	    {CHECK_OK, 3.0, 1, "rule=rise to=healthy"},
	    /* Fall 1: one failure and it is out, then rise 3 again. */
	    {CHECK_FAIL_CONNECT, 4.0, 1, "rule=failure"},
	    {CHECK_OK, 5.0, ANY, ""},
	    {CHECK_FAIL_CONNECT, 6.0, ANY, ""}, /* interrupts the run */
	    {CHECK_OK, 7.0, ANY, ""},
	    {CHECK_OK, 8.0, 0, "rule=rise_pending"},
	    {CHECK_OK, 9.0, 1, "rule=rise"},
	};
	const struct health_hysteresis hy = {.rise = 3, .fall = 1};
	struct hrun r;

	(void)unused;
	hrun_start(&r, HC_PROTO_HTTP, 300, 0, 0.0, &hy);
	hrun_play(&r, "rise", steps, 0, 1);
	/* The first success ended grace even though the state did not change. */
	assert_false(health_check_in_grace(&r.st, 2.0));
	hrun_play(&r, "rise", steps, 1, NSTEPS(steps));
}

static void test_hysteresis_labels(void **unused)
{
	struct label ok[] = {{"VIPD_HEALTH_RISE", "3"}, {"VIPD_HEALTH_FALL", "2"}};
	struct label bad_rise[] = {{"VIPD_HEALTH_RISE", "0"}};
	struct label bad_fall[] = {{"VIPD_HEALTH_FALL", "2x"}};
	struct label big[] = {{"VIPD_HEALTH_FALL", "101"}};
	struct health_hysteresis hy;
	char err[128];

	(void)unused;
	assert_int_equal(health_hysteresis_from_labels(NULL, 0, &hy, err, sizeof(err)), 0);
	assert_int_equal(hy.rise, 1);
	assert_int_equal(hy.fall, 1);
	assert_int_equal(health_hysteresis_from_labels(ok, 2, &hy, err, sizeof(err)), 0);
	assert_int_equal(hy.rise, 3);
	assert_int_equal(hy.fall, 2);
	assert_int_equal(health_hysteresis_from_labels(bad_rise, 1, &hy, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "label VIPD_HEALTH_RISE: \"0\": expected an integer from 1 to 100");
	assert_int_equal(hy.rise, 1);
	assert_int_equal(health_hysteresis_from_labels(bad_fall, 1, &hy, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "label VIPD_HEALTH_FALL: \"2x\": expected an integer from 1 to 100");
	assert_int_equal(health_hysteresis_from_labels(big, 1, &hy, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "label VIPD_HEALTH_FALL: \"101\": expected an integer from 1 to 100");
}

static void test_task_no_checks(void **unused)
{
	enum health_state th = HEALTH_UNKNOWN;
	struct health_transition tr;

	(void)unused;
	assert_int_equal(health_task_eval(&th, TASK_STATE_RUNNING, NULL, 0, &tr), 1);
	assert_int_equal(th, HEALTH_HEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_NO_CHECKS);
	assert_int_equal(health_task_eval(&th, TASK_STATE_RUNNING, NULL, 0, &tr), 0);
	assert_int_equal(health_task_eval(&th, TASK_STATE_KILLING, NULL, 0, &tr), 1);
	assert_int_equal(th, HEALTH_UNHEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_TASK_NOT_RUNNING);
	th = HEALTH_UNKNOWN;
	assert_int_equal(health_task_eval(&th, TASK_STATE_STAGING, NULL, 0, &tr), 1);
	assert_int_equal(th, HEALTH_UNHEALTHY);
}

static void test_task_aggregation(void **unused)
{
	struct health_check hc_http = make_hc(HC_PROTO_HTTP, 0, 1);
	struct health_check hc_cmd = make_hc(HC_PROTO_COMMAND, 0, 2);
	struct health_check_state st[2];
	enum health_state th = HEALTH_UNKNOWN;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st[0], &hc_http, 0.0);
	health_check_init(&st[1], &hc_cmd, 0.0);
	/* Neither has reported. */
	assert_int_equal(health_task_eval(&th, TASK_STATE_RUNNING, st, 2, &tr), 0);
	assert_int_equal(tr.rule, HEALTH_RULE_CHECK_UNKNOWN);
	/* One healthy, one never reported: still unknown. */
	feed(&st[0], CHECK_OK, 1.0, &tr);
	assert_int_equal(health_task_eval(&th, TASK_STATE_RUNNING, st, 2, &tr), 0);
	assert_int_equal(th, HEALTH_UNKNOWN);
	/* Both healthy. */
	feed(&st[1], CHECK_OK, 1.0, &tr);
	assert_int_equal(health_task_eval(&th, TASK_STATE_RUNNING, st, 2, &tr), 1);
	assert_int_equal(th, HEALTH_HEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_ALL_CHECKS_HEALTHY);
	/* One failed check makes the task unhealthy. */
	feed(&st[1], CHECK_FAIL_EXIT, 2.0, &tr);
	assert_int_equal(health_task_eval(&th, TASK_STATE_RUNNING, st, 2, &tr), 1);
	assert_int_equal(th, HEALTH_UNHEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_CHECK_UNHEALTHY);
	assert_int_equal(tr.from, HEALTH_HEALTHY);
	/* Killable wins over unhealthy, whatever the order. */
	feed(&st[0], CHECK_FAIL_CONNECT, 3.0, &tr);
	assert_int_equal(st[0].state, HEALTH_UNHEALTHY);
	feed(&st[1], CHECK_FAIL_EXIT, 3.0, &tr);
	assert_int_equal(st[1].state, HEALTH_KILLABLE);
	assert_int_equal(health_task_eval(&th, TASK_STATE_RUNNING, st, 2, &tr), 1);
	assert_int_equal(th, HEALTH_KILLABLE);
	assert_int_equal(tr.rule, HEALTH_RULE_CHECK_KILLABLE);
	/* Unhealthy wins over unknown. */
	health_check_init(&st[1], &hc_cmd, 3.0);
	assert_int_equal(health_task_eval(&th, TASK_STATE_RUNNING, st, 2, &tr), 1);
	assert_int_equal(th, HEALTH_UNHEALTHY);
	/* A task leaving TASK_RUNNING is out whatever its checks say. */
	feed(&st[0], CHECK_OK, 4.0, &tr);
	feed(&st[1], CHECK_OK, 4.0, &tr);
	assert_int_equal(health_task_eval(&th, TASK_STATE_RUNNING, st, 2, &tr), 1);
	assert_int_equal(th, HEALTH_HEALTHY);
	assert_int_equal(health_task_eval(&th, TASK_STATE_KILLING, st, 2, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_TASK_NOT_RUNNING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_never_reported_is_unknown),
	    cmocka_unit_test(test_grace_failures_ignored_then_first_success),
	    cmocka_unit_test(test_first_success_ends_grace),
	    cmocka_unit_test(test_rule_cases),
	    cmocka_unit_test(test_max_failures_zero_never_kills),
	    cmocka_unit_test(test_ignored_1xx_is_not_a_result),
	    cmocka_unit_test(test_rise),
	    cmocka_unit_test(test_hysteresis_labels),
	    cmocka_unit_test(test_task_no_checks),
	    cmocka_unit_test(test_task_aggregation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
