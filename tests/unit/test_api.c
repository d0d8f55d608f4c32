/* The API's pure parts: the listen address, the VIP view and its JSON, the
 * metrics text, over apps loaded from JSON and a real desired build. */
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
#include <ev.h>

#include "vipd/api.h"
#include "vipd/apps.h"
#include "vipd/exec.h"
#include "expect_fields.h"

static void test_listen_port_alone_is_loopback(void **state)
{
	struct lb_addr a;
	uint16_t port = 0;
	char err[256], buf[64];

	(void)state;
	assert_int_equal(api_listen_parse("9090", &a, &port, err, sizeof(err)), 0);
	assert_string_equal(lb_addr_port_format(&a, port, buf, sizeof(buf)), "127.0.0.1:9090");
	assert_int_equal(api_listen_parse("[::1]:80", &a, &port, err, sizeof(err)), 0);
	assert_string_equal(lb_addr_port_format(&a, port, buf, sizeof(buf)), "[::1]:80");
	assert_int_equal(api_listen_parse("0.0.0.0:8080", &a, &port, err, sizeof(err)), 0);
	assert_string_equal(lb_addr_port_format(&a, port, buf, sizeof(buf)), "0.0.0.0:8080");
}

static void test_listen_malformed(void **state)
{
	static const char *const bad[] = {"localhost:http", "0", "70000", "::1:80", ""};
	struct lb_addr a;
	uint16_t port;
	char err[256], want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(api_listen_parse(bad[i], &a, &port, err, sizeof(err)), -1);
		snprintf(
		    want, sizeof(want),
		    "API listen address \"%s\": expected PORT or ADDR:PORT (IPv6 in brackets), "
		    "port 1-65535",
		    bad[i]);
		assert_string_equal(err, want);
	}
}

/* /web: no checks (healthy), the same VIP on two labels, one staging task;
 * /db: an address VIP and a check that has not reported (unknown). */
static const char apps_json[] =
    "{\"apps\": ["
    "{\"id\": \"/web\", \"portDefinitions\": [{\"port\": 0, \"labels\":"
    "   {\"VIP_0\": \"/web:80\", \"VIP_1\": \"/web:80\"}}],"
    " \"tasks\": [{\"id\": \"web.1\", \"host\": \"10.1.0.1\", \"ports\": [31001]},"
    "             {\"id\": \"web.2\", \"host\": \"10.1.0.2\", \"ports\": [31002]},"
    "             {\"id\": \"web.3\", \"host\": \"10.1.0.3\", \"ports\": [31003],"
    "              \"state\": \"TASK_STAGING\"}]},"
    "{\"id\": \"/db\", \"portDefinitions\": [{\"port\": 0, \"labels\":"
    "   {\"VIP_0\": \"10.0.0.9:5432\"}}],"
    " \"healthChecks\": [{\"protocol\": \"TCP\", \"portIndex\": 0}],"
    " \"tasks\": [{\"id\": \"db.1\", \"host\": \"10.1.0.4\", \"ports\": [31004]}]}]}";

struct fixture {
	struct ev_loop *loop;
	struct exec_ctx *exec;
	struct sched *sched;
	struct vipd_config cfg;
	struct apps_set apps;
	struct lb_table table;
	struct desired_state dstate;
	struct desired_index index;
	bool index_valid;
	uint64_t rounds, ops_applied, ops_failed;
	struct api_state st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct exec_settings es = {0};
	struct runner_settings rs = {0};
	struct sched_settings ss = {0};
	struct desired_input in = {0};
	struct diag_list diags = {0};
	int64_t next;
	char err[256];

	assert_non_null(f);
	f->loop = ev_default_loop(0);
	f->exec = exec_ctx_new(f->loop, &es, err, sizeof(err));
	assert_non_null(f->exec);
	f->sched = sched_new(f->loop, f->exec, &rs, &ss, NULL, NULL);
	assert_non_null(f->sched);
	assert_int_equal(config_defaults(&f->cfg), 0);
	assert_int_equal(apps_load_buffer(&f->apps, "apps.json", apps_json, strlen(apps_json)), 0);
	assert_int_equal(diag_count(&f->apps.diags, DIAG_ERROR), 0);
	lb_table_init(&f->table);
	desired_state_init(&f->dstate);
	desired_index_init(&f->index);
	in.apps = &f->apps;
	assert_int_equal(desired_build_indexed(&in, &f->dstate, &f->table, &diags, &next, &f->index,
	                                       err, sizeof(err)),
	                 0);
	diag_list_free(&diags);
	f->index_valid = true;
	f->rounds = 3;
	f->st = (struct api_state){.cfg = &f->cfg,
	                           .apps = &f->apps,
	                           .table = &f->table,
	                           .dstate = &f->dstate,
	                           .index = &f->index,
	                           .index_valid = &f->index_valid,
	                           .sched = f->sched,
	                           .rounds = &f->rounds,
	                           .ops_applied = &f->ops_applied,
	                           .ops_failed = &f->ops_failed};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	desired_index_free(&f->index);
	desired_state_free(&f->dstate);
	lb_table_free(&f->table);
	apps_set_free(&f->apps);
	config_free(&f->cfg);
	sched_free(f->sched);
	exec_ctx_free(f->exec);
	free(f);
	return 0;
}

static const char *backend_field(json_t *vip, size_t i, const char *key)
{
	json_t *v = json_object_get(json_array_get(json_object_get(vip, "backends"), i), key);
	static char buf[64];

	if (json_is_string(v))
		return json_string_value(v);
	snprintf(buf, sizeof(buf), "%lld",
	         json_is_integer(v) ? (long long)json_integer_value(v)
	         : json_is_true(v)  ? 1LL
	                            : 0LL);
	return buf;
}

struct backend_ref {
	json_t *vip;
	size_t i;
};

/* field_of_fn over backend_field */
static const char *backend_field_of(void *ctx, const char *key, char *buf, size_t len)
{
	struct backend_ref *b = ctx;

	(void)buf;
	(void)len;
	return backend_field(b->vip, b->i, key);
}

/* Backend i of the VIP named `name` has each "key=value" of `want`; a
 * failure names the VIP, the backend and the field. */
static void assert_backend(json_t *vip, const char *name, size_t i, const char *want)
{
	struct backend_ref b = {vip, i};
	char what[96];

	snprintf(what, sizeof(what), "%s backend %zu", name, i);
	expect_fields(what, want, backend_field_of, &b);
}

static void test_vips_view(void **state)
{
	struct fixture *f = *state;
	struct api_vips v;
	json_t *doc, *db, *web;

	assert_int_equal(api_vips_build(&f->st, &v), 0);
	doc = api_vips_json(&f->st, &v, 0);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "vips")), 2);
	/* Sorted by address: 10.0.0.9 before the named range's 11.x. */
	db = json_array_get(json_object_get(doc, "vips"), 0);
	web = json_array_get(json_object_get(doc, "vips"), 1);
	assert_string_equal(json_string_value(json_object_get(db, "vip")), "10.0.0.9:5432");
	assert_null(json_object_get(db, "name"));
	assert_int_equal(json_array_size(json_object_get(db, "fqdns")), 0);
	assert_int_equal(json_array_size(json_object_get(db, "backends")), 1);
	assert_backend(db, "10.0.0.9:5432", 0,
	               "task=db.1 health=unknown weight=0 in_rotation=0 address=10.1.0.4:31004 "
	               "phase=out");

	assert_string_equal(json_string_value(json_object_get(web, "name")), "/web");
	assert_string_equal(json_string_value(json_object_get(web, "protocol")), "TCP");
	assert_string_equal(json_string_value(json_array_get(json_object_get(web, "fqdns"), 0)),
	                    "web.marathon.l4lb.thisdcos.directory");
	/* Two labels, one staging task: each running task once. */
	assert_int_equal(json_array_size(json_object_get(web, "backends")), 2);
	assert_backend(web, "/web", 0,
	               "task=web.1 app=/web health=healthy weight=1 in_rotation=1 phase=in");
	assert_backend(web, "/web", 1, "address=10.1.0.2:31002");
	json_decref(doc);
	api_vips_free(&v);
}

static enum desired_health db_health;

/* desired_health_fn */
static enum desired_health health_of(void *ctx, const char *app_id, const char *task_id)
{
	(void)ctx;
	(void)app_id;
	(void)task_id;
	return db_health;
}

static void rebuild(struct fixture *f, int64_t now_ms)
{
	struct desired_input in = {
	    .apps = &f->apps, .health = health_of, .drain_ms = 30000, .now_ms = now_ms};
	struct diag_list diags = {0};
	int64_t next;
	char err[256];

	lb_table_free(&f->table);
	lb_table_init(&f->table);
	assert_int_equal(desired_build_indexed(&in, &f->dstate, &f->table, &diags, &next, &f->index,
	                                       err, sizeof(err)),
	                 0);
	diag_list_free(&diags);
}

/* A backend leaving rotation drains with weight 0 until its deadline. */
static void test_vips_draining(void **state)
{
	struct fixture *f = *state;
	struct api_vips v;
	json_t *doc, *db, *left;

	db_health = DESIRED_HEALTH_HEALTHY;
	rebuild(f, 0);
	db_health = DESIRED_HEALTH_UNHEALTHY;
	rebuild(f, 1000);
	assert_int_equal(api_vips_build(&f->st, &v), 0);
	doc = api_vips_json(&f->st, &v, 11000);
	db = json_array_get(json_object_get(doc, "vips"), 0);
	assert_backend(db, "10.0.0.9:5432", 0, "task=db.1 phase=draining weight=0 in_rotation=0");
	left = json_object_get(json_array_get(json_object_get(db, "backends"), 0),
	                       "drain_seconds_left");
	assert_true(json_is_real(left));
	assert_float_equal(json_real_value(left), 20.0, 1e-9);
	json_decref(doc);
	api_vips_free(&v);
}

static void test_vips_before_first_build(void **state)
{
	struct fixture *f = *state;
	struct api_vips v;

	f->index_valid = false;
	assert_int_equal(api_vips_build(&f->st, &v), 1);
	assert_int_equal(v.n, 0);
	api_vips_free(&v);
}

/* After a reload the index's app positions may not match the apps. */
static void test_vips_stale_index(void **state)
{
	struct fixture *f = *state;
	struct api_vips v;
	bool stale = true;

	f->st.index_stale = &stale;
	assert_int_equal(api_vips_build(&f->st, &v), 1);
	assert_int_equal(v.n, 0);
	api_vips_free(&v);
	stale = false;
	assert_int_equal(api_vips_build(&f->st, &v), 0);
	assert_int_equal(v.n, 2);
	api_vips_free(&v);
}

/* The metrics text holds `line` (a whole line where it starts and ends
 * with a newline); a failure names it. */
static void assert_metric(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fail_msg("the metrics lack \"%s\"", line);
}

static void test_metrics_text(void **state)
{
	struct fixture *f = *state;
	struct api_counters c = {0};
	struct api_vips v;
	char want[256], web[64];
	size_t len;
	char *text;

	c.checks_run[HC_KIND_TCP] = 7;
	c.checks_failed[HC_KIND_TCP] = 2;
	c.task_transitions[HEALTH_UNHEALTHY] = 4;
	c.ops[RC_EDIT_DEST][1] = 5;
	assert_int_equal(api_vips_build(&f->st, &v), 0);
	lb_addr_port_format(&v.items[1].svc.addr, v.items[1].svc.port, web, sizeof(web));
	text = api_metrics_text(&f->st, &c, &v, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_metric(text, "\nvipd_checks_total{kind=\"tcp\"} 7\n");
	assert_metric(text, "\nvipd_checks_total{kind=\"http\"} 0\n");
	assert_metric(text, "\nvipd_checks_failed_total{kind=\"tcp\"} 2\n");
	assert_metric(text, "\nvipd_task_health_transitions_total{to=\"unhealthy\"} 4\n");
	assert_metric(text, "\nvipd_reconcile_rounds_total 3\n");
	assert_metric(text, "\nvipd_ipvs_operations_total{op=\"edit_dest\",result=\"error\"} 5\n");
	assert_metric(text, "\nvipd_ipvs_operations_total{op=\"add_service\",result=\"ok\"} 0\n");
	assert_metric(text, "# TYPE vipd_vip_backends gauge\n");
	snprintf(want, sizeof(want),
	         "\nvipd_vip_backends{vip=\"%s\",protocol=\"TCP\",state=\"healthy\"} 2\n", web);
	assert_metric(text, want);
	assert_metric(
	    text,
	    "\nvipd_vip_backends{vip=\"10.0.0.9:5432\",protocol=\"TCP\",state=\"unknown\"} 1\n");
	assert_metric(
	    text,
	    "\nvipd_vip_backends{vip=\"10.0.0.9:5432\",protocol=\"TCP\",state=\"healthy\"} 0\n");
	free(text);
	api_vips_free(&v);
}

static void test_status_records(void **state)
{
	struct fixture *f = *state;
	struct api_counters c = {0};
	struct rc_op op = {.kind = RC_ADD_DEST};
	json_t *doc, *lb;

	doc = api_status_json(&f->st, &c, 0);
	assert_non_null(doc);
	/* Nothing failed, nothing loaded yet: no last_error, no last load. */
	assert_null(json_object_get(json_object_get(doc, "lb"), "last_error"));
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(doc, "loads"), "count")), 0);
	assert_null(json_object_get(json_object_get(doc, "loads"), "last"));
	json_decref(doc);

	assert_int_equal(lb_addr_parse("11.0.0.1", &op.svc.addr), 0);
	op.svc.port = 80;
	op.svc.protocol = IPPROTO_TCP;
	assert_int_equal(lb_addr_parse("10.1.0.2", &op.dest.addr), 0);
	op.dest.port = 8080;
	op.dest.weight = 1;
	api_counters_note_op(&c, &op, 0, NULL, 1.0);
	api_counters_note_op(&c, &op, ENOENT, NULL, 1796138647.0);
	api_counters_note_load(&c, &f->apps, 1, 1796138600.0);
	assert_int_equal(c.ops[RC_ADD_DEST][0], 1);
	assert_int_equal(c.ops[RC_ADD_DEST][1], 1);
	doc = api_status_json(&f->st, &c, 0);
	lb = json_object_get(json_object_get(doc, "lb"), "last_error");
	assert_string_equal(json_string_value(json_object_get(lb, "at")), "2026-12-01T15:24:07Z");
	assert_string_equal(json_string_value(json_object_get(lb, "op")),
	                    "add dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 1 masq");
	assert_string_equal(json_string_value(json_object_get(lb, "error")),
	                    "No such file or directory");
	lb = json_object_get(doc, "loads");
	assert_int_equal(json_integer_value(json_object_get(lb, "count")), 1);
	assert_string_equal(json_string_value(json_object_get(lb, "last")), "2026-12-01T15:23:20Z");
	assert_int_equal(json_integer_value(json_object_get(lb, "apps")), 2);
	assert_int_equal(json_integer_value(json_object_get(lb, "kept_last_good")), 1);
	json_decref(doc);
}

static void note_tcp_check(struct api_counters *c, double latency_ms, enum check_outcome o)
{
	struct health_check hc = {.protocol = HC_PROTO_MESOS_TCP};
	struct check_result res = {.outcome = o, .latency_ms = latency_ms};
	struct sched_event ev = {.hc = &hc, .res = &res};

	api_counters_note_check(c, &ev);
}

static void test_check_durations(void **state)
{
	struct fixture *f = *state;
	struct api_counters c = {0};
	struct api_vips v = {0};
	size_t len;
	char *text;

	note_tcp_check(&c, 30, CHECK_OK);
	note_tcp_check(&c, 2000, CHECK_FAIL_TIMEOUT);
	note_tcp_check(&c, 20000, CHECK_FAIL_TIMEOUT);
	note_tcp_check(&c, 1, CHECK_IGNORED); /* run, not failed */
	text = api_metrics_text(&f->st, &c, &v, &len);
	assert_non_null(text);
	assert_metric(text, "# TYPE vipd_check_duration_seconds histogram\n");
	assert_metric(text, "\nvipd_checks_total{kind=\"tcp\"} 4\n");
	assert_metric(text, "\nvipd_checks_failed_total{kind=\"tcp\"} 2\n");
	assert_metric(text, "\nvipd_check_duration_seconds_bucket{kind=\"tcp\",le=\"0.025\"} 1\n");
	assert_metric(text, "\nvipd_check_duration_seconds_bucket{kind=\"tcp\",le=\"0.05\"} 2\n");
	assert_metric(text, "\nvipd_check_duration_seconds_bucket{kind=\"tcp\",le=\"2.5\"} 3\n");
	assert_metric(text, "\nvipd_check_duration_seconds_bucket{kind=\"tcp\",le=\"10\"} 3\n");
	assert_metric(text, "\nvipd_check_duration_seconds_bucket{kind=\"tcp\",le=\"+Inf\"} 4\n");
	assert_metric(text, "\nvipd_check_duration_seconds_sum{kind=\"tcp\"} 22.031000\n");
	assert_metric(text, "\nvipd_check_duration_seconds_count{kind=\"tcp\"} 4\n");
	assert_metric(text, "\nvipd_check_duration_seconds_count{kind=\"http\"} 0\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listen_port_alone_is_loopback),
	    cmocka_unit_test(test_listen_malformed),
	    cmocka_unit_test_setup_teardown(test_vips_view, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vips_draining, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vips_before_first_build, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vips_stale_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_durations, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
