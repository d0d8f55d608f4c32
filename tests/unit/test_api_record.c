/* What the API remembers: the ring of /v1/events (bounded, sequence
 * numbers, `since`) and each check instance's last result (kept over
 * cancelled runs, forgotten when the task goes away). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>

#include "vipd/api.h"
#include "vipd/apps.h"

static struct rc_op dest_op(uint32_t weight)
{
	struct rc_op op = {.kind = RC_ADD_DEST};

	assert_int_equal(lb_addr_parse("10.0.0.9", &op.svc.addr), 0);
	op.svc.port = 5432;
	op.svc.protocol = IPPROTO_TCP;
	assert_int_equal(lb_addr_parse("10.1.0.4", &op.dest.addr), 0);
	op.dest.port = 31004;
	op.dest.weight = weight;
	return op;
}

static void test_events_ring_is_bounded(void **state)
{
	struct api_record *r = malloc(sizeof(*r));
	struct rc_op op;
	json_t *doc, *evs;
	char want[512];

	(void)state;
	assert_non_null(r);
	api_record_init(r);
	doc = api_events_json(r, 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "last")), 0);
	assert_int_equal(json_array_size(json_object_get(doc, "events")), 0);
	json_decref(doc);
	for (uint32_t i = 1; i <= API_EVENTS_MAX + 4; i++) {
		op = dest_op(i);
		assert_int_equal(api_record_op(r, &op, i == API_EVENTS_MAX + 4 ? EEXIST : 0,
		                               i == API_EVENTS_MAX + 4 ? "File exists" : "",
		                               1796138647.25),
		                 0);
	}
	/* Only the last 4,096 are kept: the first four are gone. */
	doc = api_events_json(r, 0);
	evs = json_object_get(doc, "events");
	assert_int_equal(json_integer_value(json_object_get(doc, "last")), API_EVENTS_MAX + 4);
	assert_int_equal(json_array_size(evs), API_EVENTS_MAX);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, 0), "seq")), 5);
	json_decref(doc);
	/* since: only newer ones, the error with the kernel's message. */
	doc = api_events_json(r, API_EVENTS_MAX + 2);
	evs = json_object_get(doc, "events");
	assert_int_equal(json_array_size(evs), 2);
	op = dest_op(API_EVENTS_MAX + 4);
	rc_op_format(&op, want, sizeof(want));
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 1), "op")), want);
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 1), "result")),
	                    "error");
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 1), "error")),
	                    "File exists");
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 1), "at")),
	                    "2026-12-01T15:24:07.250Z");
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 0), "result")),
	                    "ok");
	json_decref(doc);
	doc = api_events_json(r, API_EVENTS_MAX + 4);
	assert_int_equal(json_array_size(json_object_get(doc, "events")), 0);
	json_decref(doc);
	/* Beyond the last (a poller from before a restart): none, and `last`
	 * tells it to start again. */
	doc = api_events_json(r, UINT64_MAX);
	assert_int_equal(json_array_size(json_object_get(doc, "events")), 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "last")), API_EVENTS_MAX + 4);
	json_decref(doc);
	api_record_free(r);
	free(r);
}

static const char apps_json[] =
    "{\"id\": \"/db\", \"portDefinitions\": [{\"port\": 0}],"
    " \"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\": \"true\"}}],"
    " \"tasks\": [{\"id\": \"db.1\", \"host\": \"10.1.0.4\", \"ports\": [31004]},"
    "             {\"id\": \"db.2\", \"host\": \"10.1.0.5\", \"ports\": [31005]}]}";

static void test_last_results(void **state)
{
	struct api_record *r = malloc(sizeof(*r));
	struct apps_set set = {0};
	struct check_result res = {.outcome = CHECK_FAIL_EXIT, .exit_code = 3, .latency_ms = 12.5};
	struct sched_event ev = {0};
	const struct api_result *got;
	json_t *doc, *e;

	(void)state;
	assert_non_null(r);
	api_record_init(r);
	assert_int_equal(apps_load_buffer(&set, "apps.json", apps_json, strlen(apps_json)), 0);
	assert_int_equal(set.napps, 1);
	snprintf(res.output, sizeof(res.output), "pg_isready: no response");
	ev = (struct sched_event){.app = &set.apps[0],
	                          .task = &set.apps[0].tasks[1],
	                          .hc = &set.apps[0].checks[0],
	                          .res = &res,
	                          .check_changed = 1,
	                          .task_changed = 1};
	ev.check_tr.to = HEALTH_UNHEALTHY;
	ev.check_tr.consecutive_failures = 1;
	ev.task_tr.from = HEALTH_HEALTHY;
	ev.task_tr.to = HEALTH_UNHEALTHY;
	assert_int_equal(api_record_check(r, &ev, 1796138647.0), 0);
	assert_null(api_record_result(r, "/db", "db.1", 0));
	got = api_record_result(r, "/db", "db.2", 0);
	assert_non_null(got);
	assert_int_equal(got->health, HEALTH_UNHEALTHY);
	assert_string_equal(got->res.output, "pg_isready: no response");

	/* A cancelled run leaves the last real result. */
	res.outcome = CHECK_CANCELLED;
	ev.task_changed = 0;
	assert_int_equal(api_record_check(r, &ev, 1796138648.0), 0);
	got = api_record_result(r, "/db", "db.2", 0);
	assert_int_equal(got->res.outcome, CHECK_FAIL_EXIT);
	doc = api_result_json(got);
	assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "exit_nonzero");
	assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 3);
	assert_null(json_object_get(doc, "http_status"));
	json_decref(doc);

	/* The transition is an event with its cause. */
	doc = api_events_json(r, 0);
	e = json_array_get(json_object_get(doc, "events"), 0);
	assert_int_equal(json_array_size(json_object_get(doc, "events")), 1);
	assert_string_equal(json_string_value(json_object_get(e, "type")), "health");
	assert_string_equal(json_string_value(json_object_get(e, "task")), "db.2");
	assert_string_equal(json_string_value(json_object_get(e, "from")), "healthy");
	assert_string_equal(json_string_value(json_object_get(e, "to")), "unhealthy");
	assert_string_equal(json_string_value(json_object_get(e, "output")),
	                    "pg_isready: no response");
	json_decref(doc);

	/* db.2 goes away: its result is forgotten. */
	set.apps[0].ntasks = 1;
	api_record_prune(r, &set);
	set.apps[0].ntasks = 2;
	assert_null(api_record_result(r, "/db", "db.2", 0));
	assert_int_equal(r->nresults, 0);
	apps_set_free(&set);
	api_record_free(r);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_events_ring_is_bounded),
	    cmocka_unit_test(test_last_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
