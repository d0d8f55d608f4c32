/*
 * Marathon's /v2/events messages decoded (the shapes of Marathon's event bus
 * documentation), every malformed shape with its exact located message, and
 * status updates applied to an app's task list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/apps.h"
#include "vipd/marathon.h"

#define ORIGIN "marathon http://127.0.0.1:8080 /v2/events"

static void decode_ok(const char *type, const char *json, struct marathon_event *ev)
{
	char err[512] = "";

	if (marathon_event_decode(ORIGIN, type, json, strlen(json), ev, err, sizeof(err)) < 0)
		fail_msg("unexpected error: %s", err);
	assert_string_equal(err, "");
}

/* Decoding fails with exactly `want`. */
static void decode_bad(const char *type, const char *json, const char *want)
{
	struct marathon_event ev;
	char err[512] = "";

	assert_int_equal(
	    marathon_event_decode(ORIGIN, type, json, strlen(json), &ev, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_int_equal(ev.kind, MARATHON_EVENT_IGNORED);
	assert_null(ev.type);
}

/* (type, json) decodes to an event of that kind, named want_type; a
 * failure names the event. */
static void assert_kind(const char *type, const char *json, enum marathon_event_kind kind,
                        const char *want_type)
{
	struct marathon_event ev;

	decode_ok(type, json, &ev);
	if (ev.kind != kind)
		fail_msg("%s %s: kind %d, expected %d", type, json, (int)ev.kind, (int)kind);
	if (ev.type == NULL || strcmp(ev.type, want_type) != 0)
		fail_msg("%s %s: type %s, expected %s", type, json, ev.type ? ev.type : "(none)",
		         want_type);
	marathon_event_free(&ev);
}

#define RUNNING_EVENT                                                                              \
	"{\"eventType\":\"status_update_event\",\"timestamp\":\"2026-12-01T10:00:00.000Z\","       \
	"\"slaveId\":\"s1\",\"taskId\":\"prod_web.1\",\"taskStatus\":\"TASK_RUNNING\","            \
	"\"appId\":\"/prod/web\",\"host\":\"10.0.0.5\",\"ports\":[31000,31001],"                   \
	"\"ipAddresses\":[{\"ipAddress\":\"172.17.0.2\",\"protocol\":\"IPv4\"}],"                  \
	"\"version\":\"2026-12-01T09:59:00.000Z\"}"

static void test_status_update_running(void **state)
{
	struct marathon_event ev;
	const struct task *t = &ev.status.task;

	(void)state;
	decode_ok("status_update_event", RUNNING_EVENT, &ev);
	assert_int_equal(ev.kind, MARATHON_EVENT_STATUS_UPDATE);
	assert_string_equal(ev.type, "status_update_event");
	assert_string_equal(ev.status.app_id, "/prod/web");
	assert_string_equal(ev.status.task_status, "TASK_RUNNING");
	assert_int_equal(ev.status.action, MARATHON_TASK_UPSERT);
	assert_string_equal(ev.status.timestamp, "2026-12-01T10:00:00.000Z");
	assert_string_equal(t->id, "prod_web.1");
	assert_string_equal(t->host, "10.0.0.5");
	assert_int_equal(t->nports, 2);
	assert_int_equal(t->ports[0], 31000);
	assert_int_equal(t->ports[1], 31001);
	assert_int_equal(t->nip_addresses, 1);
	assert_string_equal(t->ip_addresses[0], "172.17.0.2");
	assert_int_equal(t->state, TASK_STATE_RUNNING);
	assert_string_equal(t->started_at, "2026-12-01T10:00:00.000Z");
	marathon_event_free(&ev);
}

/* Without an event: line the JSON's eventType names the event. */
static void test_type_from_event_type(void **state)
{
	(void)state;
	assert_kind("message", RUNNING_EVENT, MARATHON_EVENT_STATUS_UPDATE, "status_update_event");
	assert_kind("message", "{\"eventType\":\"event_stream_attached\",\"remoteAddress\":\"1\"}",
	            MARATHON_EVENT_IGNORED, "event_stream_attached");
}

/* A type vipd does not act on is not even parsed. */
static void test_other_types_ignored(void **state)
{
	(void)state;
	assert_kind("deployment_info", "{not json at all", MARATHON_EVENT_IGNORED,
	            "deployment_info");
}

static void test_status_update_terminal_and_killing(void **state)
{
	struct marathon_event ev;

	(void)state;
	decode_ok(
	    "status_update_event",
	    "{\"appId\":\"/prod/web\",\"taskId\":\"prod_web.1\",\"taskStatus\":\"TASK_GONE\"}",
	    &ev);
	assert_int_equal(ev.status.action, MARATHON_TASK_REMOVE);
	assert_string_equal(ev.status.task.id, "prod_web.1");
	assert_string_equal(ev.status.task.state_text, "TASK_GONE");
	assert_null(ev.status.timestamp);
	marathon_event_free(&ev);
	decode_ok("status_update_event",
	          "{\"appId\":\"/prod/web\",\"taskId\":\"prod_web.1\",\"taskStatus\":\"TASK_LOST\","
	          "\"host\":\"agent-1\",\"ports\":[]}",
	          &ev);
	assert_int_equal(ev.status.action, MARATHON_TASK_REMOVE);
	assert_int_equal(ev.status.task.state, TASK_STATE_LOST);
	marathon_event_free(&ev);
	decode_ok(
	    "status_update_event",
	    "{\"appId\":\"/prod/web\",\"taskId\":\"prod_web.1\",\"taskStatus\":\"TASK_KILLING\","
	    "\"host\":\"agent-1\",\"ports\":[31000]}",
	    &ev);
	assert_int_equal(ev.status.action, MARATHON_TASK_KILLING);
	assert_int_equal(ev.status.task.state, TASK_STATE_KILLING);
	marathon_event_free(&ev);
}

/* Events that change apps: the ids of the apps to read again, in order. */
static const struct {
	const char *type, *json;
	size_t n;
	const char *ids[2];
} app_changes[] = {
    {"api_post_event",
     "{\"eventType\":\"api_post_event\",\"clientIp\":\"::1\",\"uri\":\"/v2/apps/my-app\","
     "\"appDefinition\":{\"id\":\"/my-app\",\"instances\":2,\"cmd\":\"sleep 30\"}}",
     1,
     {"/my-app"}},
    {"app_terminated_event",
     "{\"eventType\":\"app_terminated_event\",\"appId\":\"/prod/db\","
     "\"timestamp\":\"2026-12-01T10:00:00.000Z\"}",
     1,
     {"/prod/db"}},
    /* Each app once, pods left out. */
    {"deployment_success",
     "{\"eventType\":\"deployment_success\",\"id\":\"867ed450\",\"plan\":{"
     "\"id\":\"867ed450\",\"original\":{},\"target\":{},\"steps\":["
     "{\"actions\":[{\"action\":\"StartApplication\",\"app\":\"/a\"},"
     "{\"action\":\"StartPod\",\"pod\":\"/p\"}]},"
     "{\"actions\":[{\"action\":\"ScaleApplication\",\"app\":\"/a\"},"
     "{\"action\":\"StopApplication\",\"app\":\"/g/b\"}]}]}}",
     2,
     {"/a", "/g/b"}},
};

static void test_app_changes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(app_changes) / sizeof(app_changes[0]); i++) {
		const char *type = app_changes[i].type;
		struct marathon_event ev;

		decode_ok(type, app_changes[i].json, &ev);
		if (ev.kind != MARATHON_EVENT_APPS_CHANGED)
			fail_msg("%s: kind %d, expected apps changed", type, (int)ev.kind);
		if (ev.napp_ids != app_changes[i].n)
			fail_msg("%s: %zu app ids, expected %zu", type, ev.napp_ids,
			         app_changes[i].n);
		for (size_t k = 0; k < app_changes[i].n; k++)
			if (strcmp(ev.app_ids[k], app_changes[i].ids[k]) != 0)
				fail_msg("%s: app id %zu is %s, expected %s", type, k,
				         ev.app_ids[k], app_changes[i].ids[k]);
		marathon_event_free(&ev);
	}
}

static void test_malformed_documents(void **state)
{
	(void)state;
	decode_bad("status_update_event", "{\"appId\":",
	           ORIGIN ": status_update_event: not JSON at line 1, column 9: "
	                  "unexpected token near end of file");
	decode_bad("status_update_event", "[1]",
	           ORIGIN ": status_update_event: expected an event object, got an array");
	decode_bad("message", "{\"appId\":\"/a\"}",
	           ORIGIN ": message: missing required field \"eventType\"");
	decode_bad("message", "{\"eventType\":4}",
	           ORIGIN ": message: /eventType: expected a string, got 4");
	decode_bad("status_update_event", "{\"eventType\":\"api_post_event\"}",
	           ORIGIN ": status_update_event: /eventType: expected \"status_update_event\" "
	                  "(as the event: line says), got \"api_post_event\"");
}

#define SU(fields) "{\"eventType\":\"status_update_event\"," fields "}"
#define SU_OK_ID "\"appId\":\"/prod/web\",\"taskId\":\"prod_web.1\""

static void test_malformed_status_updates(void **state)
{
	(void)state;
	decode_bad("status_update_event", SU("\"taskId\":\"t\",\"taskStatus\":\"TASK_RUNNING\""),
	           ORIGIN ": status_update_event: missing required field \"appId\"");
	decode_bad("status_update_event", SU("\"appId\":\"/a\",\"taskStatus\":\"TASK_RUNNING\""),
	           ORIGIN ": status_update_event: missing required field \"taskId\"");
	decode_bad("status_update_event", SU(SU_OK_ID),
	           ORIGIN ": status_update_event: missing required field \"taskStatus\"");
	decode_bad("status_update_event", SU(SU_OK_ID ",\"taskStatus\":\"TASK_RUNNING\""),
	           ORIGIN ": status_update_event: missing required field \"host\"");
	decode_bad(
	    "status_update_event",
	    SU("\"appId\":\"/a\",\"taskId\":3,\"taskStatus\":\"TASK_RUNNING\",\"host\":\"h\""),
	    ORIGIN ": status_update_event: /taskId: expected a string, got 3");
	decode_bad("status_update_event",
	           SU("\"appId\":\"/a\",\"taskId\":\"../etc\",\"taskStatus\":\"TASK_KILLED\""),
	           ORIGIN ": status_update_event: /taskId: expected a Marathon task id (letters, "
	                  "digits, '-', '_' and '.', no \"..\"), got \"../etc\"");
	decode_bad("status_update_event", SU(SU_OK_ID ",\"taskStatus\":5,\"host\":\"h\""),
	           ORIGIN ": status_update_event: /taskStatus: expected a string, got 5");
	decode_bad("status_update_event", SU(SU_OK_ID ",\"taskStatus\":\"TASK_DANCING\""),
	           ORIGIN ": status_update_event: /taskStatus: expected a Mesos task state such "
	                  "as \"TASK_RUNNING\" or \"TASK_KILLING\", got \"TASK_DANCING\"");
	decode_bad("status_update_event",
	           SU("\"appId\":\"prod/web\",\"taskId\":\"t\",\"taskStatus\":\"TASK_FAILED\""),
	           ORIGIN ": status_update_event: /appId: expected an absolute app id (starting "
	                  "with '/'), got \"prod/web\"");
	decode_bad("status_update_event",
	           SU("\"appId\":\"/Prod\",\"taskId\":\"t\",\"taskStatus\":\"TASK_FAILED\""),
	           ORIGIN ": status_update_event: /appId: expected an id of lowercase letters, "
	                  "digits, '-' and '.' (segment \"Prod\" is not), got \"/Prod\"");
	decode_bad("status_update_event",
	           SU("\"appId\":\"/\",\"taskId\":\"t\",\"taskStatus\":\"TASK_FAILED\""),
	           ORIGIN ": status_update_event: /appId: expected an app id, got the root group "
	                  "\"/\"");
	decode_bad("status_update_event",
	           SU("\"appId\":[],\"taskId\":\"t\",\"taskStatus\":\"TASK_FAILED\""),
	           ORIGIN ": status_update_event: /appId: expected a string, got an array");
	decode_bad(
	    "status_update_event",
	    SU(SU_OK_ID ",\"taskStatus\":\"TASK_RUNNING\",\"host\":\"h\",\"ports\":[80,\"x\"]"),
	    ORIGIN ": status_update_event: /ports/1: expected a port number from 1 to 65535, "
	           "got \"x\"");
	decode_bad("status_update_event",
	           SU(SU_OK_ID ",\"taskStatus\":\"TASK_RUNNING\",\"host\":\"h\",\"ports\":[70000]"),
	           ORIGIN
	           ": status_update_event: /ports/0: expected a port number from 1 to 65535, "
	           "got 70000");
	decode_bad("status_update_event",
	           SU(SU_OK_ID ",\"taskStatus\":\"TASK_RUNNING\",\"host\":\"h\",\"ports\":{}"),
	           ORIGIN ": status_update_event: /ports: expected an array, got an object");
	decode_bad("status_update_event",
	           SU(SU_OK_ID ",\"taskStatus\":\"TASK_RUNNING\",\"host\":\"a b;rm\""),
	           ORIGIN ": status_update_event: /host: expected a host name or an IP address, "
	                  "got \"a b;rm\"");
	decode_bad(
	    "status_update_event",
	    SU(SU_OK_ID ",\"taskStatus\":\"TASK_STAGING\",\"host\":\"h\",\"ipAddresses\":[{}]"),
	    ORIGIN ": status_update_event: /ipAddresses/0: missing required field "
	           "\"ipAddress\"");
	decode_bad("status_update_event",
	           SU(SU_OK_ID ",\"taskStatus\":\"TASK_RUNNING\",\"host\":\"h\",\"timestamp\":5"),
	           ORIGIN ": status_update_event: /timestamp: expected a string, got 5");
}

static void test_malformed_app_changes(void **state)
{
	(void)state;
	decode_bad("api_post_event", "{\"uri\":\"/v2/apps/x\"}",
	           ORIGIN ": api_post_event: missing required field \"appDefinition\"");
	decode_bad("api_post_event", "{\"appDefinition\":[]}",
	           ORIGIN ": api_post_event: /appDefinition: expected an app object, got an array");
	decode_bad("api_post_event", "{\"appDefinition\":{\"cmd\":\"x\"}}",
	           ORIGIN ": api_post_event: /appDefinition: missing required field \"id\"");
	decode_bad("api_post_event", "{\"appDefinition\":{\"id\":7}}",
	           ORIGIN ": api_post_event: /appDefinition/id: expected a string, got 7");
	decode_bad("app_terminated_event", "{\"timestamp\":\"t\"}",
	           ORIGIN ": app_terminated_event: missing required field \"appId\"");
	decode_bad("app_terminated_event", "{\"appId\":\"/a/../..\"}",
	           ORIGIN ": app_terminated_event: /appId: expected an id inside the root group, "
	                  "got \"/a/../..\"");
	decode_bad("deployment_success", "{\"id\":\"x\"}",
	           ORIGIN ": deployment_success: missing required field \"plan\"");
	decode_bad("deployment_success", "{\"plan\":1}",
	           ORIGIN ": deployment_success: /plan: expected a deployment plan object, got 1");
	decode_bad("deployment_success", "{\"plan\":{\"steps\":{}}}",
	           ORIGIN ": deployment_success: /plan/steps: expected an array, got an object");
	decode_bad("deployment_success", "{\"plan\":{\"steps\":[null]}}",
	           ORIGIN ": deployment_success: /plan/steps/0: expected a step object, got null");
	decode_bad("deployment_success", "{\"plan\":{\"steps\":[{}]}}",
	           ORIGIN
	           ": deployment_success: /plan/steps/0: missing required field \"actions\"");
	decode_bad(
	    "deployment_success",
	    "{\"plan\":{\"steps\":[{\"actions\":[]},{\"actions\":[{\"app\":\"/a\"},\"x\"]}]}}",
	    ORIGIN ": deployment_success: /plan/steps/1/actions/1: expected an action object, "
	           "got \"x\"");
	decode_bad("deployment_success", "{\"plan\":{\"steps\":[{\"actions\":[{\"app\":3}]}]}}",
	           ORIGIN ": deployment_success: /plan/steps/0/actions/0/app: expected a string, "
	                  "got 3");
}

/* The app set the updates apply to, as loaded from /v2/apps. */
static const char APPS[] =
    "{\"apps\":["
    "{\"id\":\"/prod/web\",\"labels\":{\"VIPD_NETNS\":\"/run/netns/${TASK_ID}\"},"
    "\"portDefinitions\":[{\"port\":0}],\"tasks\":["
    "{\"id\":\"prod_web.a\",\"host\":\"10.0.0.1\",\"ports\":[31000],\"state\":\"TASK_RUNNING\","
    "\"startedAt\":\"2026-12-01T09:00:00.000Z\"},"
    "{\"id\":\"prod_web.b\",\"host\":\"10.0.0.2\",\"ports\":[31001],\"state\":\"TASK_RUNNING\"},"
    "{\"id\":\"prod_web.c\",\"host\":\"10.0.0.3\",\"ports\":[31002],\"state\":\"TASK_RUNNING\"}"
    "]}]}";

static void load_apps(struct apps_set *set)
{
	memset(set, 0, sizeof(*set));
	assert_int_equal(apps_load_buffer(set, "apps.json", APPS, strlen(APPS)), 0);
	assert_int_equal(diag_count(&set->diags, DIAG_ERROR), 0);
	assert_int_equal(set->napps, 1);
	assert_int_equal(set->apps[0].ntasks, 3);
}

/* Decodes `json` and applies it; returns the result. */
static enum marathon_apply_result apply_json(struct apps_set *set, const char *json)
{
	struct marathon_event ev;
	enum marathon_apply_result r;
	char err[512] = "";

	decode_ok("status_update_event", json, &ev);
	r = marathon_status_apply(set, &ev.status, err, sizeof(err));
	assert_string_equal(err, "");
	marathon_event_free(&ev);
	return r;
}

#define TASK_EVENT(id, status, port, ts)                                                           \
	"{\"appId\":\"/prod/web\",\"taskId\":\"" id "\",\"taskStatus\":\"" status "\","            \
	"\"host\":\"10.0.0.9\",\"ports\":[" port "],\"timestamp\":\"" ts "\"}"

static void test_apply_running_adds_then_updates(void **state)
{
	struct apps_set set;
	const struct app *app;

	(void)state;
	load_apps(&set);
	app = &set.apps[0];
	assert_int_equal(apply_json(&set, TASK_EVENT("prod_web.d", "TASK_STAGING", "31003", "T1")),
	                 MARATHON_APPLY_ADDED);
	assert_int_equal(app->ntasks, 4);
	assert_string_equal(app->tasks[3].id, "prod_web.d");
	assert_int_equal(app->tasks[3].state, TASK_STATE_STAGING);
	assert_null(app->tasks[3].started_at);
	/* The namespace comes from the app's VIPD_NETNS label, as on a full read. */
	assert_string_equal(app->tasks[3].netns, "/run/netns/prod_web.d");

	assert_int_equal(apply_json(&set, TASK_EVENT("prod_web.d", "TASK_RUNNING", "31003", "T2")),
	                 MARATHON_APPLY_UPDATED);
	assert_int_equal(app->ntasks, 4);
	assert_int_equal(app->tasks[3].state, TASK_STATE_RUNNING);
	assert_string_equal(app->tasks[3].started_at, "T2");

	/* A repeat, later: the start time stays, so nothing changed. */
	assert_int_equal(apply_json(&set, TASK_EVENT("prod_web.d", "TASK_RUNNING", "31003", "T3")),
	                 MARATHON_APPLY_UNCHANGED);
	assert_string_equal(app->tasks[3].started_at, "T2");

	assert_int_equal(apply_json(&set, TASK_EVENT("prod_web.d", "TASK_RUNNING", "31009", "T4")),
	                 MARATHON_APPLY_UPDATED);
	assert_int_equal(app->tasks[3].ports[0], 31009);
	assert_string_equal(app->tasks[3].host, "10.0.0.9");

	/* A listed task keeps its start time from /v2/apps. */
	assert_int_equal(apply_json(&set, TASK_EVENT("prod_web.a", "TASK_RUNNING", "31000", "T5")),
	                 MARATHON_APPLY_UPDATED);
	assert_string_equal(app->tasks[0].started_at, "2026-12-01T09:00:00.000Z");
	assert_string_equal(app->tasks[0].host, "10.0.0.9");
	apps_set_free(&set);
}

static void test_apply_killing_marks(void **state)
{
	struct apps_set set;
	const struct app *app;

	(void)state;
	load_apps(&set);
	app = &set.apps[0];
	assert_int_equal(apply_json(&set, TASK_EVENT("prod_web.b", "TASK_KILLING", "31001", "T")),
	                 MARATHON_APPLY_UPDATED);
	assert_int_equal(app->tasks[1].state, TASK_STATE_KILLING);
	assert_string_equal(app->tasks[1].state_text, "TASK_KILLING");
	assert_int_equal(app->ntasks, 3);
	assert_int_equal(apply_json(&set, TASK_EVENT("prod_web.b", "TASK_KILLING", "31001", "T")),
	                 MARATHON_APPLY_UNCHANGED);
	/* Killing a task vipd never listed lists nothing. */
	assert_int_equal(apply_json(&set, TASK_EVENT("prod_web.z", "TASK_KILLING", "31001", "T")),
	                 MARATHON_APPLY_UNCHANGED);
	assert_int_equal(app->ntasks, 3);
	apps_set_free(&set);
}

static void test_apply_terminal_removes(void **state)
{
	static const char *const terminal[] = {
	    "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED",      "TASK_LOST",
	    "TASK_GONE",     "TASK_ERROR",  "TASK_UNREACHABLE", "TASK_DROPPED",
	};
	struct apps_set set;
	char json[512];

	(void)state;
	for (size_t i = 0; i < sizeof(terminal) / sizeof(terminal[0]); i++) {
		load_apps(&set);
		snprintf(
		    json, sizeof(json),
		    "{\"appId\":\"/prod/web\",\"taskId\":\"prod_web.b\",\"taskStatus\":\"%s\"}",
		    terminal[i]);
		assert_int_equal(apply_json(&set, json), MARATHON_APPLY_REMOVED);
		assert_int_equal(set.apps[0].ntasks, 2);
		/* The others keep their order. */
		assert_string_equal(set.apps[0].tasks[0].id, "prod_web.a");
		assert_string_equal(set.apps[0].tasks[1].id, "prod_web.c");
		assert_int_equal(apply_json(&set, json), MARATHON_APPLY_UNCHANGED);
		assert_int_equal(set.apps[0].ntasks, 2);
		apps_set_free(&set);
	}
}

static void test_apply_unknown_app(void **state)
{
	struct apps_set set;

	(void)state;
	load_apps(&set);
	assert_int_equal(apply_json(&set, "{\"appId\":\"/prod/other\",\"taskId\":\"prod_other.1\","
	                                  "\"taskStatus\":\"TASK_RUNNING\",\"host\":\"h\"}"),
	                 MARATHON_APPLY_UNKNOWN_APP);
	assert_int_equal(set.apps[0].ntasks, 3);
	assert_string_equal(marathon_apply_result_name(MARATHON_APPLY_UNKNOWN_APP), "unknown app");
	apps_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_update_running),
	    cmocka_unit_test(test_type_from_event_type),
	    cmocka_unit_test(test_other_types_ignored),
	    cmocka_unit_test(test_status_update_terminal_and_killing),
	    cmocka_unit_test(test_app_changes),
	    cmocka_unit_test(test_malformed_documents),
	    cmocka_unit_test(test_malformed_status_updates),
	    cmocka_unit_test(test_malformed_app_changes),
	    cmocka_unit_test(test_apply_running_adds_then_updates),
	    cmocka_unit_test(test_apply_killing_marks),
	    cmocka_unit_test(test_apply_terminal_removes),
	    cmocka_unit_test(test_apply_unknown_app),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
