/*
 * The app-definition parser: the shapes Marathon users have, Marathon's
 * defaults, group id resolution, and a corpus of malformed input each with
 * its exact located message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vipd/apps.h"
#include "vipd/suggest.h"

static struct apps_set load(const char *json)
{
	struct apps_set set = {0};

	apps_load_buffer(&set, "apps/web.json", json, strlen(json));
	return set;
}

static void assert_diags(const struct apps_set *set, const char *const *expected, size_t n)
{
	char line[2048];

	for (size_t i = 0; i < set->diags.count && i < n; i++)
		assert_string_equal(diag_format(&set->diags.items[i], line, sizeof(line)),
		                    expected[i]);
	if (set->diags.count != n) {
		for (size_t i = 0; i < set->diags.count; i++)
			print_message("got: %s\n",
			              diag_format(&set->diags.items[i], line, sizeof(line)));
	}
	assert_int_equal(set->diags.count, n);
}

static void test_single_app_defaults(void **state)
{
	(void)state;
	struct apps_set set = load("{\"id\": \"web\", \"portDefinitions\": [{\"port\": 80}],"
	                           " \"healthChecks\": [{}]}");
	const struct health_check *hc;

	assert_diags(&set, NULL, 0);
	assert_int_equal(set.napps, 1);
	assert_string_equal(set.apps[0].id, "/web");
	assert_int_equal(set.apps[0].nports, 1);
	assert_int_equal(set.apps[0].ports[0].protocols, PORT_PROTO_TCP);
	hc = &set.apps[0].checks[0];
	assert_int_equal(hc->protocol, HC_PROTO_HTTP);
	assert_string_equal(hc->path, "/");
	assert_int_equal(hc->port_index, 0);
	assert_int_equal(hc->grace_period_s, 300);
	assert_int_equal(hc->interval_s, 60);
	assert_int_equal(hc->timeout_s, 20);
	assert_int_equal(hc->max_consecutive_failures, 3);
	assert_int_equal(hc->delay_s, 15);
	assert_false(hc->ignore_http1xx);
	apps_set_free(&set);
}

static void test_app_wrapper_and_list(void **state)
{
	(void)state;
	struct apps_set set = load("{\"app\": {\"id\": \"/a\"}}");

	assert_int_equal(set.napps, 1);
	assert_string_equal(set.apps[0].json_path, "/app");
	apps_set_free(&set);
	set = load("{\"apps\": [{\"id\": \"/a\"}, {\"id\": \"/b\", \"tasks\": [{\"id\": \"b.1\","
	           " \"host\": \"10.1.0.2\", \"ports\": [31000, 31001], \"state\": "
	           "\"TASK_KILLING\", \"startedAt\": \"2026-01-01T00:00:00.000Z\","
	           " \"ipAddresses\": [{\"ipAddress\": \"9.0.0.2\", \"protocol\": \"IPv4\"}]}]}]}");
	assert_diags(&set, NULL, 0);
	assert_int_equal(set.napps, 2);
	assert_string_equal(set.apps[1].json_path, "/apps/1");
	assert_int_equal(set.apps[1].ntasks, 1);
	assert_int_equal(set.apps[1].tasks[0].state, TASK_STATE_KILLING);
	assert_int_equal(set.apps[1].tasks[0].nports, 2);
	assert_int_equal(task_port(&set.apps[1].tasks[0], 1), 31001);
	assert_int_equal(task_port(&set.apps[1].tasks[0], 2), 0);
	assert_string_equal(set.apps[1].tasks[0].ip_addresses[0], "9.0.0.2");
	assert_string_equal(set.apps[1].tasks[0].started_at, "2026-01-01T00:00:00.000Z");
	apps_set_free(&set);
}

static void test_nested_groups_resolve_ids(void **state)
{
	(void)state;
	struct apps_set set =
	    load("{\"id\": \"/prod\", \"apps\": [{\"id\": \"web\"}, {\"id\": \"/abs\"}],"
	         " \"groups\": [{\"id\": \"backend\", \"apps\": [{\"id\": \"db\"},"
	         " {\"id\": \"../cache\"}, {\"id\": \"./q\"}], \"groups\": [{\"id\": \"/other\","
	         " \"apps\": [{\"id\": \"x\"}]}]}]}");

	assert_diags(&set, NULL, 0);
	assert_int_equal(set.napps, 6);
	assert_string_equal(set.apps[0].id, "/prod/web");
	assert_string_equal(set.apps[1].id, "/abs");
	assert_string_equal(set.apps[2].id, "/prod/backend/db");
	assert_string_equal(set.apps[3].id, "/prod/cache");
	assert_string_equal(set.apps[4].id, "/prod/backend/q");
	assert_string_equal(set.apps[5].id, "/other/x");
	assert_string_equal(set.apps[5].json_path, "/groups/0/groups/0/apps/0");
	apps_set_free(&set);
}

static void test_port_mappings_and_labels(void **state)
{
	(void)state;
	struct apps_set set = load(
	    "{\"id\": \"/c\", \"container\": {\"docker\": {\"portMappings\": [{\"containerPort\":"
	    " 8080, \"hostPort\": 0, \"protocol\": \"tcp,udp\", \"name\": \"web\", \"labels\":"
	    " {\"VIP_0\": \"/c:80\"}}]}}, \"labels\": {\"VIPD_NETNS\": \"ns-${TASK_ID}\"},"
	    " \"tasks\": [{\"id\": \"c.1\"}]}");
	const struct port_def *p;

	assert_diags(&set, NULL, 0);
	assert_true(set.apps[0].ports_are_mappings);
	p = &set.apps[0].ports[0];
	assert_int_equal(p->port, 8080);
	assert_int_equal(p->protocols, PORT_PROTO_TCP | PORT_PROTO_UDP);
	assert_string_equal(p->name, "web");
	assert_string_equal(label_get(p->labels, p->nlabels, "VIP_0"), "/c:80");
	assert_string_equal(set.apps[0].tasks[0].netns, "/var/run/netns/ns-c.1");
	assert_int_equal(set.apps[0].tasks[0].state, TASK_STATE_RUNNING);
	apps_set_free(&set);
}

static void test_command_check_fields(void **state)
{
	(void)state;
	struct apps_set set = load(
	    "{\"id\": \"/w\", \"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\":"
	    " {\"value\": \"true\"}, \"gracePeriodSeconds\": 0, \"intervalSeconds\": 2,"
	    " \"timeoutSeconds\": 1, \"maxConsecutiveFailures\": 0, \"delaySeconds\": 0},"
	    " {\"protocol\": \"TCP\", \"port\": 9000}, {\"protocol\": \"MESOS_HTTPS\", \"port\": 1,"
	    " \"ignoreHttp1xx\": true, \"path\": \"/h\"}]}");
	const struct health_check *hc = set.apps[0].checks;

	assert_diags(&set, NULL, 0);
	assert_int_equal(hc[0].protocol, HC_PROTO_COMMAND);
	assert_string_equal(hc[0].command, "true");
	assert_int_equal(hc[0].grace_period_s, 0);
	assert_int_equal(hc[0].max_consecutive_failures, 0);
	assert_int_equal(hc[1].port_index, -1);
	assert_int_equal(hc[1].port, 9000);
	assert_int_equal(hc_protocol_kind(hc[2].protocol), HC_KIND_HTTPS);
	assert_true(hc[2].ignore_http1xx);
	assert_string_equal(hc[2].json_path, "/healthChecks/2");
	apps_set_free(&set);
}

/* One malformed document and the exact diagnostics it must produce (napps
 * omitted means no app loads). */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
struct bad_case {
	const char *json;
	const char *expected[3];
	size_t napps; /* apps that still load */
};

static const struct bad_case bad_cases[] = {
    {"{\"id\": \"/web\", \"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\":"
     " \"true\"}, \"intervalSeconds\": -5}]}",
     {"apps/web.json: /healthChecks/0/intervalSeconds: expected a positive integer, got -5"}},
    {"{\"id\": \"/web\"",
     {"apps/web.json: invalid JSON at line 1, column 13: '}' expected near end of file"}},
    {"", {"apps/web.json: invalid JSON at line 1, column 0: '[' or '{' expected near end of file"}},
    {"42", {"apps/web.json: invalid JSON at line 1, column 2: '[' or '{' expected near '42'"}},
    {"{\"id\": 7}", {"apps/web.json: /id: expected a string, got 7"}},
    {"{\"cmd\": \"x\"}",
     {"apps/web.json: expected an app (with \"id\"), {\"app\": ...}, {\"apps\": [...]} or a "
      "group"}},
    {"{\"apps\": [{\"cmd\": \"x\"}]}",
     {"apps/web.json: /apps/0: missing required field \"id\" (the app's id)"}},
    {"{\"id\": \"Web_1\"}",
     {"apps/web.json: /id: expected an id of lowercase letters, digits, '-' and '.' (segment "
      "\"Web_1\" is not), got \"Web_1\""}},
    {"{\"id\": \"/a/../..\"}",
     {"apps/web.json: /id: expected an id inside the root group, got \"/a/../..\""}},
    {"{\"id\": \"/w\", \"portDefinitions\": [{\"port\": 70000}]}",
     {"apps/web.json: /portDefinitions/0/port: expected a port number from 0 to 65535, got "
      "70000"}},
    {"{\"id\": \"/w\", \"portDefinitions\": [{\"port\": -1}]}",
     {"apps/web.json: /portDefinitions/0/port: expected a port number from 0 to 65535, got "
      "-1"}},
    {"{\"id\": \"/w\", \"portDefinitions\": [{\"port\": 80, \"protocol\": \"sctp\"}]}",
     {"apps/web.json: /portDefinitions/0/protocol: expected \"tcp\", \"udp\" or \"tcp,udp\", "
      "got \"sctp\""}},
    {"{\"id\": \"/w\", \"portDefinitions\": {\"port\": 80}}",
     {"apps/web.json: /portDefinitions: expected an array, got an object"}},
    {"{\"id\": \"/w\", \"portDefinitions\": [{\"port\": \"80\"}]}",
     {"apps/web.json: /portDefinitions/0/port: expected a port number from 0 to 65535, got "
      "\"80\""}},
    {"{\"id\": \"/w\", \"ports\": [80, 99999]}",
     {"apps/web.json: /ports/1: expected a port number from 0 to 65535, got 99999"}},
    {"{\"id\": \"/w\", \"container\": {\"portMappings\": [{\"containerPort\": 1, \"hostPort\":"
     " 65536}]}}",
     {"apps/web.json: /container/portMappings/0/hostPort: expected a port number from 0 to "
      "65535, got 65536"}},
    {"{\"id\": \"/w\", \"portDefinitions\": [{\"port\": 1, \"labels\": {\"VIP_0\": 5}}]}",
     {"apps/web.json: /portDefinitions/0/labels/VIP_0: expected a string label value, got 5"}},
    {"{\"id\": \"/w\", \"healthChecks\": [{\"protocol\": \"FTP\"}]}",
     {"apps/web.json: /healthChecks/0/protocol: expected one of HTTP, HTTPS, TCP, COMMAND, "
      "MESOS_HTTP, MESOS_HTTPS, MESOS_TCP, got \"FTP\""}},
    {"{\"id\": \"/w\", \"healthChecks\": [{\"protocol\": \"COMMAND\"}]}",
     {"apps/web.json: /healthChecks/0: missing required field \"command\" for protocol "
      "COMMAND"}},
    {"{\"id\": \"/w\", \"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {}}]}",
     {"apps/web.json: /healthChecks/0/command: missing required field \"value\" (the command to "
      "run)"}},
    {"{\"id\": \"/w\", \"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\":"
     " \"\"}}]}",
     {"apps/web.json: /healthChecks/0/command/value: expected a command, got \"\""}},
    {"{\"id\": \"/w\", \"portDefinitions\": [{\"port\": 1}], \"healthChecks\": [{\"portIndex\":"
     " 3}]}",
     {"apps/web.json: /healthChecks/0/portIndex: expected a port index below 1 (the app has 1 "
      "port), got 3"}},
    {"{\"id\": \"/w\", \"healthChecks\": [{\"protocol\": \"TCP\"}]}",
     {"apps/web.json: /healthChecks/0: the app has no ports for this TCP check to use: add "
      "portDefinitions or set \"port\""}},
    {"{\"id\": \"/w\", \"healthChecks\": [{\"portIndex\": 0, \"port\": 80}]}",
     {"apps/web.json: /healthChecks/0: expected either \"portIndex\" or \"port\", got both"}},
    {"{\"id\": \"/w\", \"healthChecks\": [{\"port\": 8, \"timeoutSeconds\": 2.5,"
     " \"gracePeriodSeconds\": -1, \"ignoreHttp1xx\": \"yes\"}]}",
     {"apps/web.json: /healthChecks/0/gracePeriodSeconds: expected an integer >= 0, got -1",
      "apps/web.json: /healthChecks/0/timeoutSeconds: expected a positive integer, got 2.5",
      "apps/web.json: /healthChecks/0/ignoreHttp1xx: expected true or false, got \"yes\""}},
    {"{\"id\": \"/w\", \"healthChecks\": [{\"port\": 8, \"path\": \"health\"}]}",
     {"apps/web.json: /healthChecks/0/path: expected a path starting with \"/\", got "
      "\"health\""}},
    {"{\"id\": \"/w\", \"healthChecks\": [7]}",
     {"apps/web.json: /healthChecks/0: expected a health check object, got 7"}},
    {"[{\"id\": \"/a\"}, {\"id\": \"/a\"}]",
     {"apps/web.json: /1/id: duplicate app id \"/a\" (first defined in apps/web.json at /0)"},
     1},
    /* A broken task is skipped; its app stays. */
    {"{\"id\": \"/w\", \"tasks\": [{\"id\": \"w.1\", \"state\": \"RUNNING\"}, {\"id\": \"w.2\","
     " \"ports\": [0]}, {\"host\": \"h\"}, {\"id\": \"w.3\"}]}",
     {"apps/web.json: /tasks/0/state: expected a Mesos task state such as \"TASK_RUNNING\" or "
      "\"TASK_KILLING\", got \"RUNNING\"",
      "apps/web.json: /tasks/1/ports/0: expected a port number from 1 to 65535, got 0",
      "apps/web.json: /tasks/2: missing required field \"id\" (the task's id)"},
     1},
    /* One broken app does not stop its siblings. */
    {"{\"apps\": [{\"id\": \"/ok1\"}, {\"id\": \"/bad\", \"healthChecks\": [{\"protocol\":"
     " \"X\"}]}, {\"id\": \"/ok2\"}]}",
     {"apps/web.json: /apps/1/healthChecks/0/protocol: expected one of HTTP, HTTPS, TCP, "
      "COMMAND, MESOS_HTTP, MESOS_HTTPS, MESOS_TCP, got \"X\""},
     2},
    {"{\"id\": \"/g\", \"groups\": [3]}",
     {"apps/web.json: /groups/0: expected a group object, got 3"}},
    {"{\"id\": \"/w\", \"labels\": {\"a~b/c\": false}}",
     {"apps/web.json: /labels/a~0b~1c: expected a string label value, got false"}},
};

static void test_bad_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct apps_set set = load(bc->json);
		size_t n = 0;

		while (n < 3 && bc->expected[n])
			n++;
		print_message("case %zu\n", i);
		assert_diags(&set, bc->expected, n);
		assert_int_equal(diag_count(&set.diags, DIAG_ERROR), n);
		assert_int_equal(set.napps, bc->napps);
		apps_set_free(&set);
	}
}

static void test_timeout_not_below_interval_warns(void **state)
{
	(void)state;
	struct apps_set set = load("{\"id\": \"/w\", \"healthChecks\": [{\"port\": 80, "
	                           "\"intervalSeconds\": 5, \"timeoutSeconds\": 5}]}");
	const char *expected[] = {
	    "apps/web.json: /healthChecks/0: warning: timeoutSeconds (5) is not below "
	    "intervalSeconds (5): a check still running when the next one is due is "
	    "cancelled and counts as a timeout"};

	assert_diags(&set, expected, 1);
	assert_int_equal(diag_count(&set.diags, DIAG_ERROR), 0);
	assert_int_equal(set.napps, 1);
	apps_set_free(&set);
}

static void test_deep_nesting_is_an_error(void **state)
{
	(void)state;
	size_t depth = 100000;
	char *doc = malloc(depth * 2 + 1);
	struct apps_set set = {0};

	memset(doc, '[', depth);
	memset(doc + depth, ']', depth);
	doc[depth * 2] = '\0';
	assert_int_equal(apps_load_buffer(&set, "deep.json", doc, depth * 2), -1);
	assert_int_equal(set.diags.count, 1);
	assert_non_null(strstr(set.diags.items[0].message, "maximum parsing depth"));
	assert_string_equal(set.diags.items[0].file, "deep.json");
	apps_set_free(&set);
	free(doc);
}

static void test_huge_document_refused(void **state)
{
	(void)state;
	size_t len = APPS_MAX_FILE_BYTES + 1;
	char *doc = malloc(len);
	struct apps_set set = {0};
	char line[256];

	memset(doc, ' ', len);
	assert_int_equal(apps_load_buffer(&set, "big.json", doc, len), -1);
	assert_string_equal(diag_format(&set.diags.items[0], line, sizeof(line)),
	                    "big.json: file too large: 33554433 bytes (the limit is 33554432)");
	apps_set_free(&set);
	free(doc);
}

static void test_many_apps_load(void **state)
{
	(void)state;
	size_t n = 5000, cap = n * 160 + 64, off = 0;
	char *doc = malloc(cap);
	struct apps_set set = {0};

	off += (size_t)snprintf(doc + off, cap - off, "{\"apps\": [");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(doc + off, cap - off,
		                        "%s{\"id\": \"/app-%zu\", \"portDefinitions\": [{\"port\": "
		                        "%zu}], \"healthChecks\": [{\"protocol\": \"TCP\"}]}",
		                        i ? "," : "", i, 1000 + i);
	off += (size_t)snprintf(doc + off, cap - off, "]}");
	assert_int_equal(apps_load_buffer(&set, "many.json", doc, off), 0);
	assert_diags(&set, NULL, 0);
	assert_int_equal(set.napps, n);
	assert_string_equal(set.apps[n - 1].id, "/app-4999");
	apps_set_free(&set);
	free(doc);
}

static void test_examples_directory(void **state)
{
	(void)state;
	struct apps_set set = {0};
	char dir[1024];
	const struct app *web;

	snprintf(dir, sizeof(dir), "%s/examples/apps", VIPD_SOURCE_DIR);
	assert_int_equal(apps_load_path(&set, dir), 0);
	assert_int_equal(diag_count(&set.diags, DIAG_ERROR), 0);
	assert_int_equal(set.files_read, 4);
	assert_int_equal(set.napps, 7);
	web = apps_find(&set, "/web");
	assert_non_null(web);
	assert_int_equal(web->ntasks, 2);
	assert_int_equal(web->checks[0].protocol, HC_PROTO_COMMAND);
	assert_non_null(apps_find(&set, "/prod/backend/orders"));
	assert_non_null(apps_find(&set, "/prod/frontend"));
	apps_set_free(&set);
}

static void test_missing_path(void **state)
{
	(void)state;
	struct apps_set set = {0};
	char line[512];

	assert_int_equal(apps_load_path(&set, "/nonexistent/apps"), -1);
	assert_string_equal(diag_format(&set.diags.items[0], line, sizeof(line)),
	                    "/nonexistent/apps: cannot open: No such file or directory");
	apps_set_free(&set);
}

/* A COMMAND is one argument of `sh -c`: Linux refuses one longer than
 * MAX_ARG_STRLEN (131072 bytes with its NUL) every run. */
static char *command_app(size_t command_len)
{
	const char *head = "{\"id\": \"big\", \"healthChecks\": [{\"protocol\": \"COMMAND\", "
	                   "\"command\": {\"value\": \"";
	const char *tail = "\"}}]}";
	size_t hl = strlen(head), tl = strlen(tail);
	char *doc = malloc(hl + command_len + tl + 1);

	assert_non_null(doc);
	memcpy(doc, head, hl);
	memset(doc + hl, 'x', command_len);
	memcpy(doc + hl + command_len, tail, tl + 1);
	return doc;
}

static void test_command_over_arg_limit(void **state)
{
	(void)state;
	char *doc = command_app(131071);
	struct apps_set set = load(doc);
	static const char *const expected[] = {
	    "apps/web.json: /healthChecks/0/command/value: expected a command of at most 131071 "
	    "bytes (Linux's limit for one argument, MAX_ARG_STRLEN: every run would fail with "
	    "\"Argument list too long\"), got 131072 bytes",
	};

	assert_diags(&set, NULL, 0);
	assert_int_equal(set.napps, 1);
	assert_int_equal(strlen(set.apps[0].checks[0].command), 131071);
	apps_set_free(&set);
	free(doc);

	doc = command_app(131072);
	set = load(doc);
	assert_diags(&set, expected, 1);
	assert_int_equal(set.napps, 0);
	apps_set_free(&set);
	free(doc);
}

static void test_unknown_fields_warn(void **state)
{
	(void)state;
	struct apps_set set =
	    load("{\"id\": \"web\", \"cpus\": 1, \"mem\": 64, \"healthchecks\": [],"
	         " \"portDefinitions\": [{\"port\": 80, \"protocl\": \"tcp\", \"lables\": {}}],"
	         " \"healthChecks\": [{\"protocol\": \"HTTP\", \"timeoutSecs\": 3, \"ipProtocol\": "
	         "\"IPv4\", \"x-team\": \"a\"}]}");
	static const char *const expected[] = {
	    "apps/web.json: /healthchecks: warning: unknown field \"healthchecks\" is ignored; did "
	    "you mean \"healthChecks\"?",
	    "apps/web.json: /portDefinitions/0/protocl: warning: unknown field \"protocl\" is "
	    "ignored; did you mean \"protocol\"?",
	    "apps/web.json: /portDefinitions/0/lables: warning: unknown field \"lables\" is "
	    "ignored; did you mean \"labels\"?",
	    "apps/web.json: /healthChecks/0/timeoutSecs: warning: unknown field \"timeoutSecs\" is "
	    "ignored; did you mean \"timeoutSeconds\"?",
	    "apps/web.json: /healthChecks/0/x-team: warning: unknown field \"x-team\" is ignored",
	};

	assert_diags(&set, expected, 5);
	/* Warnings only: the app loads, with the fields vipd does read. */
	assert_int_equal(set.napps, 1);
	assert_int_equal(set.apps[0].checks[0].timeout_s, 20);
	apps_set_free(&set);
}

static void test_docker_port_mappings_located(void **state)
{
	(void)state;
	struct apps_set set = load("{\"id\": \"web\", \"container\": {\"docker\": "
	                           "{\"portMappings\": [{\"containerPort\": -1}]}}}");
	static const char *const expected[] = {
	    "apps/web.json: /container/docker/portMappings/0/containerPort: expected a port number "
	    "from 0 to 65535, got -1",
	};

	assert_diags(&set, expected, 1);
	apps_set_free(&set);
}

static void test_suggest_nearest(void **state)
{
	(void)state;
	static const char *const known[] = {"VIPD_WEIGHT", "VIPD_SCHEDULER", "timeoutSeconds",
	                                    NULL};

	assert_int_equal(suggest_distance("kitten", "sitting"), 3);
	assert_int_equal(suggest_distance("", "abc"), 3);
	assert_int_equal(suggest_distance("same", "same"), 0);
	assert_string_equal(suggest_nearest("VIPD_WEIGHTT", known), "VIPD_WEIGHT");
	assert_string_equal(suggest_nearest("VIPD_SCHEDULAR", known), "VIPD_SCHEDULER");
	assert_string_equal(suggest_nearest("timeoutSecs", known), "timeoutSeconds");
	assert_null(suggest_nearest("colour", known));
}

/*
 * A task's host becomes $HOST (used unquoted in commands) and its id
 * $MESOS_TASK_ID and a component of the VIPD_NETNS path: a host that is
 * neither a host name nor an IP address, or an id Marathon would not give,
 * is a located error and only that task is skipped.
 */
static void test_task_host_and_id_are_checked(void **state)
{
	static const char *good_hosts[] = {
	    "127.0.0.1",
	    "::1",
	    "fe80::1",
	    "h",
	    "agent-1.example.com",
	    "agent-1.example.com.",
	    "a123456789.b123456789.c123456789.d123456789.e123456789.f1234.localhost",
	    "300.1.1.1", /* a host name by RFC 1123's letter: it only fails to resolve */
	};
	static const char *bad_hosts[][2] = {
	    {"127.0.0.1 -o /some/path http://127.0.0.1:1/ok",
	     "\"127.0.0.1 -o /some/path http://127.0.0.1...\""},
	    {"", "\"\""},
	    {"agent_1.example.com", "\"agent_1.example.com\""},
	    {"-agent", "\"-agent\""},
	    {"agent-.example.com", "\"agent-.example.com\""},
	    {"a..b", "\"a..b\""},
	    {"[::1]", "\"[::1]\""},
	    {"10.0.0.1;id", "\"10.0.0.1;id\""},
	    {"$(id)", "\"$(id)\""},
	    {"agent.example.com..", "\"agent.example.com..\""},
	    /* a 64-character label */
	    {"a123456789b123456789c123456789d123456789e123456789f123456789abcd.com",
	     "\"a123456789b123456789c123456789d123456789...\""},
	};
	static const char *good_ids[] = {
	    "w.1",
	    "prod_web.8b4d5e6f-5b70-11ef-b2c3-0242ac110002",
	    "prod_web.instance-8b4d5e6f-5b70-11ef-b2c3-0242ac110002._app.1",
	    "_x",
	};
	/* As written in JSON, and as the message quotes it. */
	static const char *bad_ids[][2] = {
	    {"../../etc", "../../etc"}, {"..", ".."},   {".", "."},
	    {".hidden", ".hidden"},     {"-rf", "-rf"}, {"a/b", "a/b"},
	    {"a..b", "a..b"},           {"w 1", "w 1"}, {"", ""},
	    {"w.1\\n", "w.1\n"},        {"w$1", "w$1"}, {"w.1/../x", "w.1/../x"},
	};
	char doc[1024], want[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_hosts) / sizeof(good_hosts[0]); i++) {
		snprintf(doc, sizeof(doc),
		         "{\"id\": \"/w\", \"tasks\": [{\"id\": \"w.1\", \"host\": \"%s\"}]}",
		         good_hosts[i]);
		struct apps_set set = load(doc);

		print_message("host %s\n", good_hosts[i]);
		assert_diags(&set, NULL, 0);
		assert_int_equal(set.apps[0].ntasks, 1);
		assert_string_equal(set.apps[0].tasks[0].host, good_hosts[i]);
		apps_set_free(&set);
	}
	for (i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
		snprintf(doc, sizeof(doc),
		         "{\"id\": \"/w\", \"tasks\": [{\"id\": \"w.1\", \"host\": \"%s\"},"
		         " {\"id\": \"w.2\", \"host\": \"10.0.0.2\"}]}",
		         bad_hosts[i][0]);
		snprintf(
		    want, sizeof(want),
		    "apps/web.json: /tasks/0/host: expected a host name or an IP address, got %s",
		    bad_hosts[i][1]);
		struct apps_set set = load(doc);
		const char *expected[] = {want};

		assert_diags(&set, expected, 1);
		assert_int_equal(set.napps, 1);
		assert_int_equal(set.apps[0].ntasks, 1);
		assert_string_equal(set.apps[0].tasks[0].id, "w.2");
		apps_set_free(&set);
	}
	for (i = 0; i < sizeof(good_ids) / sizeof(good_ids[0]); i++) {
		snprintf(doc, sizeof(doc),
		         "{\"id\": \"/w\", \"labels\": {\"VIPD_NETNS\": \"/run/netns/${TASK_ID}\"},"
		         " \"tasks\": [{\"id\": \"%s\", \"host\": \"10.0.0.1\"}]}",
		         good_ids[i]);
		snprintf(want, sizeof(want), "/run/netns/%s", good_ids[i]);
		struct apps_set set = load(doc);

		assert_diags(&set, NULL, 0);
		assert_int_equal(set.apps[0].ntasks, 1);
		assert_string_equal(set.apps[0].tasks[0].netns, want);
		apps_set_free(&set);
	}
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		snprintf(doc, sizeof(doc),
		         "{\"id\": \"/w\", \"labels\": {\"VIPD_NETNS\": \"/run/netns/${TASK_ID}\"},"
		         " \"tasks\": [{\"id\": \"w.0\", \"host\": \"10.0.0.1\"}, {\"id\": \"%s\","
		         " \"host\": \"10.0.0.2\"}]}",
		         bad_ids[i][0]);
		snprintf(
		    want, sizeof(want),
		    "apps/web.json: /tasks/1/id: expected a Marathon task id (letters, digits, "
		    "'-', '_' and '.', no \"..\"), got \"%s\"",
		    bad_ids[i][1]);
		struct apps_set set = load(doc);
		const char *expected[] = {want};

		print_message("id %s\n", bad_ids[i][0]);
		assert_diags(&set, expected, 1);
		assert_int_equal(set.apps[0].ntasks, 1);
		assert_string_equal(set.apps[0].tasks[0].netns, "/run/netns/w.0");
		apps_set_free(&set);
	}
}

/* A scratch directory of definition files for the source-reading tests. */
static void scratch_dir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vipd-apps-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void scratch_path(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void remove_scratch(const char *dir)
{
	char cmd[1100];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Reading a FIFO waits for a writer for good: a FIFO named *.json in the
 * apps directory froze vipd (every check, and SIGTERM). It is refused with
 * its location and the other files still load; the alarm turns a hang into a
 * failure. */
static void test_fifo_in_directory_refused(void **state)
{
	(void)state;
	char dir[64], fifo[128], good[128], want[256];
	struct apps_set set = {0};

	scratch_dir(dir, sizeof(dir));
	scratch_path(fifo, sizeof(fifo), dir, "x.json");
	scratch_path(good, sizeof(good), dir, "web.json");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	write_text(good, "{\"id\": \"/web\"}");
	snprintf(want, sizeof(want), "%s: not a regular file (a FIFO)", fifo);
	const char *expected[] = {want};

	alarm(10);
	assert_int_equal(apps_load_path(&set, dir), 0);
	alarm(0);
	assert_diags(&set, expected, 1);
	assert_int_equal(set.napps, 1);
	assert_non_null(apps_find(&set, "/web"));
	apps_set_free(&set);
	remove_scratch(dir);
}

/* The apps path itself a FIFO, a device or a socket: refused, nothing read. */
static void test_special_apps_path_refused(void **state)
{
	(void)state;
	char dir[64], fifo[96], sock_path[96], want[256];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int sock = socket(AF_UNIX, SOCK_STREAM, 0);

	scratch_dir(dir, sizeof(dir));
	scratch_path(fifo, sizeof(fifo), dir, "apps.json");
	scratch_path(sock_path, sizeof(sock_path), dir, "apps.sock");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_true(sock >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	alarm(10);
	{
		struct apps_set set = {0};

		snprintf(want, sizeof(want), "%s: not a regular file (a FIFO)", fifo);
		const char *expected[] = {want};
		assert_int_equal(apps_load_path(&set, fifo), -1);
		assert_diags(&set, expected, 1);
		assert_int_equal(set.napps, 0);
		apps_set_free(&set);
	}
	{
		struct apps_set set = {0};
		const char *expected[] = {"/dev/null: not a regular file (a character device)"};

		assert_int_equal(apps_load_path(&set, "/dev/null"), -1);
		assert_diags(&set, expected, 1);
		apps_set_free(&set);
	}
	{
		struct apps_set set = {0};

		snprintf(want, sizeof(want), "%s: not a regular file (a socket)", sock_path);
		const char *expected[] = {want};
		assert_int_equal(apps_load_path(&set, sock_path), -1);
		assert_diags(&set, expected, 1);
		apps_set_free(&set);
	}
	alarm(0);
	close(sock);
	remove_scratch(dir);
}

/* Symbolic links to regular files are read (Kubernetes ConfigMap volumes
 * are links into a timestamped directory); a link to a FIFO, a dangling link
 * and a directory named *.json are refused with their location. */
static void test_links_and_directories_in_directory(void **state)
{
	(void)state;
	char dir[64], real[128], link_ok[128], fifo[128], link_fifo[128], dangling[128],
	    subdir[128], want[3][256];
	struct apps_set set = {0};

	scratch_dir(dir, sizeof(dir));
	scratch_path(real, sizeof(real), dir, ".data-web");
	scratch_path(link_ok, sizeof(link_ok), dir, "a-web.json");
	scratch_path(fifo, sizeof(fifo), dir, ".pipe");
	scratch_path(link_fifo, sizeof(link_fifo), dir, "b-pipe.json");
	scratch_path(dangling, sizeof(dangling), dir, "c-gone.json");
	scratch_path(subdir, sizeof(subdir), dir, "d-dir.json");
	write_text(real, "{\"id\": \"/web\"}");
	assert_int_equal(symlink(".data-web", link_ok), 0);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(symlink(".pipe", link_fifo), 0);
	assert_int_equal(symlink("nowhere", dangling), 0);
	assert_int_equal(mkdir(subdir, 0755), 0);
	snprintf(want[0], sizeof(want[0]), "%s: not a regular file (a FIFO)", link_fifo);
	snprintf(want[1], sizeof(want[1]), "%s: cannot open: No such file or directory", dangling);
	snprintf(want[2], sizeof(want[2]), "%s: not a regular file (a directory)", subdir);
	const char *expected[] = {want[0], want[1], want[2]};

	alarm(10);
	assert_int_equal(apps_load_path(&set, dir), 0);
	alarm(0);
	assert_diags(&set, expected, 3);
	assert_int_equal(set.napps, 1);
	assert_string_equal(set.apps[0].source, link_ok);
	apps_set_free(&set);
	remove_scratch(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_app_defaults),
	    cmocka_unit_test(test_app_wrapper_and_list),
	    cmocka_unit_test(test_nested_groups_resolve_ids),
	    cmocka_unit_test(test_port_mappings_and_labels),
	    cmocka_unit_test(test_command_check_fields),
	    cmocka_unit_test(test_bad_corpus),
	    cmocka_unit_test(test_timeout_not_below_interval_warns),
	    cmocka_unit_test(test_deep_nesting_is_an_error),
	    cmocka_unit_test(test_huge_document_refused),
	    cmocka_unit_test(test_many_apps_load),
	    cmocka_unit_test(test_examples_directory),
	    cmocka_unit_test(test_missing_path),
	    cmocka_unit_test(test_command_over_arg_limit),
	    cmocka_unit_test(test_unknown_fields_warn),
	    cmocka_unit_test(test_docker_port_mappings_located),
	    cmocka_unit_test(test_suggest_nearest),
	    cmocka_unit_test(test_task_host_and_id_are_checked),
	    cmocka_unit_test(test_fifo_in_directory_refused),
	    cmocka_unit_test(test_special_apps_path_refused),
	    cmocka_unit_test(test_links_and_directories_in_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
