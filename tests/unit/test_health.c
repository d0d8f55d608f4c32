/* Unit tests of the health rules with a fake clock: every rule and its edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/health.h"

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

static void test_never_reported_is_unknown(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_HTTP, 300, 3);
	struct health_check_state st;

	(void)unused;
	health_check_init(&st, &hc, 1000.0);
	assert_int_equal(st.state, HEALTH_UNKNOWN);
	assert_false(st.reported);
	assert_true(health_check_in_grace(&st, 1000.0));
	assert_true(health_check_in_grace(&st, 1299.9));
	assert_false(health_check_in_grace(&st, 1300.0));
}

static void test_grace_failures_ignored_then_first_success(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_HTTP, 300, 3);
	struct health_check_state st;
	struct health_transition tr;
	int i;

	(void)unused;
	health_check_init(&st, &hc, 1000.0);
	/* Many failures, more than maxConsecutiveFailures, all within grace. */
	for (i = 0; i < 10; i++) {
		assert_int_equal(feed(&st, CHECK_FAIL_CONNECT, 1010.0 + 20 * i, &tr), 0);
		assert_int_equal(tr.rule, HEALTH_RULE_GRACE_IGNORED);
		assert_int_equal(tr.to, HEALTH_UNKNOWN);
		assert_int_equal(st.consecutive_failures, 0);
	}
	assert_true(st.reported);
	assert_int_equal(feed(&st, CHECK_OK, 1250.0, &tr), 1);
	assert_int_equal(tr.from, HEALTH_UNKNOWN);
	assert_int_equal(tr.to, HEALTH_HEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_FIRST_SUCCESS);
	assert_true(st.last_success == 1250.0);
}

static void test_first_success_ends_grace(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_HTTP, 300, 3);
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 1000.0);
	feed(&st, CHECK_OK, 1010.0, &tr);
	assert_false(health_check_in_grace(&st, 1020.0));
	/* Still within the 300 s, but grace is over: the failure counts. */
	assert_int_equal(feed(&st, CHECK_FAIL_HTTP_STATUS, 1020.0, &tr), 1);
	assert_int_equal(tr.from, HEALTH_HEALTHY);
	assert_int_equal(tr.to, HEALTH_UNHEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_FAILURE);
	assert_int_equal(tr.consecutive_failures, 1);
}

static void test_grace_expires_without_success(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_HTTP, 60, 3);
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	feed(&st, CHECK_FAIL_CONNECT, 30.0, &tr);
	assert_int_equal(tr.rule, HEALTH_RULE_GRACE_IGNORED);
	/* The boundary: Marathon ignores while startedAt + grace > now. */
	assert_int_equal(feed(&st, CHECK_FAIL_CONNECT, 60.0, &tr), 1);
	assert_int_equal(tr.from, HEALTH_UNKNOWN);
	assert_int_equal(tr.to, HEALTH_UNHEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_FAILURE);
	/* The ignored failure did not count. */
	assert_int_equal(st.consecutive_failures, 1);
}

static void test_zero_grace(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_TCP, 0, 3);
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 100.0);
	assert_int_equal(feed(&st, CHECK_FAIL_CONNECT, 100.0, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_FAILURE);
}

static void test_timeout_is_failure(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_HTTP, 0, 0);
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	feed(&st, CHECK_OK, 1.0, &tr);
	assert_int_equal(feed(&st, CHECK_FAIL_TIMEOUT, 2.0, &tr), 1);
	assert_int_equal(tr.to, HEALTH_UNHEALTHY);
	assert_int_equal(st.last_outcome, CHECK_FAIL_TIMEOUT);
}

/* Marathon-run (HTTP/HTTPS/TCP): the kill decision sees the count before the failure. */
static void test_max_failures_marathon(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_HTTP, 0, 3);
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	feed(&st, CHECK_OK, 1.0, &tr);
	assert_int_equal(feed(&st, CHECK_FAIL_HTTP_STATUS, 2.0, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_FAILURE);
	assert_int_equal(feed(&st, CHECK_FAIL_HTTP_STATUS, 3.0, &tr), 0);
	assert_int_equal(tr.rule, HEALTH_RULE_FAILURE);
	assert_int_equal(feed(&st, CHECK_FAIL_HTTP_STATUS, 4.0, &tr), 0);
	assert_int_equal(tr.to, HEALTH_UNHEALTHY);
	assert_int_equal(tr.consecutive_failures, 3);
	assert_int_equal(feed(&st, CHECK_FAIL_HTTP_STATUS, 5.0, &tr), 1);
	assert_int_equal(tr.from, HEALTH_UNHEALTHY);
	assert_int_equal(tr.to, HEALTH_KILLABLE);
	assert_int_equal(tr.rule, HEALTH_RULE_MAX_CONSECUTIVE_FAILURES);
	/* Stays killable; vipd records, it does not kill. */
	assert_int_equal(feed(&st, CHECK_FAIL_HTTP_STATUS, 6.0, &tr), 0);
	assert_int_equal(tr.rule, HEALTH_RULE_MAX_CONSECUTIVE_FAILURES);
	/* A success brings it back (the task was not killed after all). */
	assert_int_equal(feed(&st, CHECK_OK, 7.0, &tr), 1);
	assert_int_equal(tr.from, HEALTH_KILLABLE);
	assert_int_equal(tr.to, HEALTH_HEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_SUCCESS);
	assert_int_equal(st.consecutive_failures, 0);
}

/* Mesos-run (COMMAND, MESOS_*): count first, kill when it reaches the maximum. */
static void test_max_failures_mesos(void **unused)
{
	enum hc_protocol protos[] = {HC_PROTO_COMMAND, HC_PROTO_MESOS_HTTP, HC_PROTO_MESOS_HTTPS,
	                             HC_PROTO_MESOS_TCP};
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		struct health_check hc = make_hc(protos[i], 0, 3);
		struct health_check_state st;
		struct health_transition tr;

		health_check_init(&st, &hc, 0.0);
		feed(&st, CHECK_FAIL_EXIT, 1.0, &tr);
		feed(&st, CHECK_FAIL_EXIT, 2.0, &tr);
		assert_int_equal(tr.to, HEALTH_UNHEALTHY);
		assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 3.0, &tr), 1);
		assert_int_equal(tr.to, HEALTH_KILLABLE);
		assert_int_equal(tr.rule, HEALTH_RULE_MAX_CONSECUTIVE_FAILURES);
	}
}

static void test_max_failures_zero_never_kills(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_COMMAND, 0, 0);
	struct health_check_state st;
	struct health_transition tr;
	int i;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	for (i = 0; i < 50; i++)
		feed(&st, CHECK_FAIL_EXIT, 1.0 + i, &tr);
	assert_int_equal(st.state, HEALTH_UNHEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_FAILURE);
	assert_int_equal(st.consecutive_failures, 50);
}

static void test_max_failures_one(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_COMMAND, 0, 1);
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	feed(&st, CHECK_OK, 1.0, &tr);
	assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 2.0, &tr), 1);
	assert_int_equal(tr.from, HEALTH_HEALTHY);
	assert_int_equal(tr.to, HEALTH_KILLABLE);
}

static void test_success_resets_failures(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_COMMAND, 0, 3);
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	feed(&st, CHECK_FAIL_EXIT, 1.0, &tr);
	feed(&st, CHECK_FAIL_EXIT, 2.0, &tr);
	assert_int_equal(feed(&st, CHECK_OK, 3.0, &tr), 1);
	assert_int_equal(tr.from, HEALTH_UNHEALTHY);
	assert_int_equal(tr.rule, HEALTH_RULE_FIRST_SUCCESS);
	feed(&st, CHECK_FAIL_EXIT, 4.0, &tr);
	feed(&st, CHECK_FAIL_EXIT, 5.0, &tr);
	assert_int_equal(st.state, HEALTH_UNHEALTHY);
	assert_int_equal(feed(&st, CHECK_OK, 6.0, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_SUCCESS);
	assert_int_equal(feed(&st, CHECK_OK, 7.0, &tr), 0);
	assert_int_equal(tr.rule, HEALTH_RULE_SUCCESS);
}

static void test_cancelled_is_not_a_result(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_HTTP, 0, 1);
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	assert_int_equal(feed(&st, CHECK_CANCELLED, 10.0, &tr), 0);
	assert_int_equal(tr.rule, HEALTH_RULE_NOT_A_RESULT);
	assert_false(st.reported);
	assert_int_equal(st.state, HEALTH_UNKNOWN);
	feed(&st, CHECK_OK, 11.0, &tr);
	assert_int_equal(feed(&st, CHECK_CANCELLED, 12.0, &tr), 0);
	assert_int_equal(st.state, HEALTH_HEALTHY);
	assert_int_equal(st.consecutive_successes, 1);
	assert_int_equal(st.last_outcome, CHECK_OK);
}

/* An ignored 1xx answer (ignoreHttp1xx) is no result: it neither ends grace nor counts. */
static void test_ignored_1xx_is_not_a_result(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_HTTP, 0, 1);
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	hc.ignore_http1xx = true;
	health_check_init(&st, &hc, 0.0);
	assert_int_equal(feed(&st, CHECK_IGNORED, 10.0, &tr), 0);
	assert_int_equal(tr.rule, HEALTH_RULE_IGNORED);
	assert_false(st.reported);
	assert_int_equal(st.state, HEALTH_UNKNOWN);
	feed(&st, CHECK_OK, 11.0, &tr);
	feed(&st, CHECK_FAIL_HTTP_STATUS, 12.0, &tr);
	assert_int_equal(st.state, HEALTH_UNHEALTHY);
	assert_int_equal(feed(&st, CHECK_IGNORED, 13.0, &tr), 0);
	assert_int_equal(st.consecutive_failures, 1);
	assert_int_equal(st.last_outcome, CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(health_rule_name(HEALTH_RULE_IGNORED), "ignored");
}

static void test_rise(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_HTTP, 300, 0);
	struct health_hysteresis hy = {.rise = 3, .fall = 1};
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	health_check_set_hysteresis(&st, &hy);
	assert_int_equal(feed(&st, CHECK_OK, 1.0, &tr), 0);
	assert_int_equal(tr.rule, HEALTH_RULE_RISE_PENDING);
	/* The first success ended grace even though the state did not change. */
	assert_false(health_check_in_grace(&st, 2.0));
	assert_int_equal(feed(&st, CHECK_OK, 2.0, &tr), 0);
	assert_int_equal(feed(&st, CHECK_OK, 3.0, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_RISE);
	assert_int_equal(tr.to, HEALTH_HEALTHY);
	/* Fall 1: one failure and it is out, then rise 3 again. */
	assert_int_equal(feed(&st, CHECK_FAIL_CONNECT, 4.0, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_FAILURE);
	feed(&st, CHECK_OK, 5.0, &tr);
	feed(&st, CHECK_FAIL_CONNECT, 6.0, &tr); /* interrupts the run */
	feed(&st, CHECK_OK, 7.0, &tr);
	assert_int_equal(feed(&st, CHECK_OK, 8.0, &tr), 0);
	assert_int_equal(tr.rule, HEALTH_RULE_RISE_PENDING);
	assert_int_equal(feed(&st, CHECK_OK, 9.0, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_RISE);
}

static void test_fall(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_COMMAND, 0, 5);
	struct health_hysteresis hy = {.rise = 1, .fall = 3};
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	health_check_set_hysteresis(&st, &hy);
	feed(&st, CHECK_OK, 1.0, &tr);
	assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 2.0, &tr), 0);
	assert_int_equal(tr.rule, HEALTH_RULE_FALL_PENDING);
	assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 3.0, &tr), 0);
	feed(&st, CHECK_OK, 4.0, &tr); /* resets the run */
	assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 5.0, &tr), 0);
	assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 6.0, &tr), 0);
	assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 7.0, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_FALL);
	assert_int_equal(tr.to, HEALTH_UNHEALTHY);
	feed(&st, CHECK_FAIL_EXIT, 8.0, &tr);
	assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 9.0, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_MAX_CONSECUTIVE_FAILURES);
}

/* The kill threshold wins over a longer fall: Marathon would kill anyway. */
static void test_kill_overrides_fall(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_COMMAND, 0, 2);
	struct health_hysteresis hy = {.rise = 1, .fall = 5};
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	health_check_set_hysteresis(&st, &hy);
	feed(&st, CHECK_OK, 1.0, &tr);
	feed(&st, CHECK_FAIL_EXIT, 2.0, &tr);
	assert_int_equal(tr.rule, HEALTH_RULE_FALL_PENDING);
	assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 3.0, &tr), 1);
	assert_int_equal(tr.from, HEALTH_HEALTHY);
	assert_int_equal(tr.to, HEALTH_KILLABLE);
}

/* Fall guards the healthy state only: an instance never healthy goes unhealthy at once. */
static void test_fall_from_unknown(void **unused)
{
	struct health_check hc = make_hc(HC_PROTO_COMMAND, 10, 0);
	struct health_hysteresis hy = {.rise = 2, .fall = 3};
	struct health_check_state st;
	struct health_transition tr;

	(void)unused;
	health_check_init(&st, &hc, 0.0);
	health_check_set_hysteresis(&st, &hy);
	feed(&st, CHECK_FAIL_EXIT, 5.0, &tr);
	assert_int_equal(tr.rule, HEALTH_RULE_GRACE_IGNORED);
	assert_int_equal(feed(&st, CHECK_FAIL_EXIT, 15.0, &tr), 1);
	assert_int_equal(tr.rule, HEALTH_RULE_FAILURE);
	assert_int_equal(tr.to, HEALTH_UNHEALTHY);
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
	    cmocka_unit_test(test_grace_expires_without_success),
	    cmocka_unit_test(test_zero_grace),
	    cmocka_unit_test(test_timeout_is_failure),
	    cmocka_unit_test(test_max_failures_marathon),
	    cmocka_unit_test(test_max_failures_mesos),
	    cmocka_unit_test(test_max_failures_zero_never_kills),
	    cmocka_unit_test(test_max_failures_one),
	    cmocka_unit_test(test_success_resets_failures),
	    cmocka_unit_test(test_cancelled_is_not_a_result),
	    cmocka_unit_test(test_ignored_1xx_is_not_a_result),
	    cmocka_unit_test(test_rise),
	    cmocka_unit_test(test_fall),
	    cmocka_unit_test(test_kill_overrides_fall),
	    cmocka_unit_test(test_fall_from_unknown),
	    cmocka_unit_test(test_hysteresis_labels),
	    cmocka_unit_test(test_task_no_checks),
	    cmocka_unit_test(test_task_aggregation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
