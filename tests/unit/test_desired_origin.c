/* desired_origin_find: the VIP label, app and task behind an IPVS service or
 * destination (the audit log's ipvs events), by the table build's own rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "vipd/apps.h"
#include "vipd/desired.h"
#include "vipd/vip.h"

/* /web's web.1 and /shadow's shadow.1 are both 127.0.0.1:31001 behind
 * /web:80 (twice labelled on /web's port); /db's task is a container
 * (its ipAddress and container port); db.2 is not running. */
static const char apps_json[] =
    "{\"apps\": ["
    " {\"id\": \"/web\", \"portDefinitions\": [{\"port\": 0, \"labels\": "
    "   {\"VIP_0\": \"/web:80\", \"VIP_1\": \"web:80\"}}],"
    "  \"tasks\": [{\"id\": \"web.1\", \"host\": \"127.0.0.1\", \"ports\": [31001]},"
    "             {\"id\": \"web.2\", \"host\": \"127.0.0.1\", \"ports\": [31002]}]},"
    " {\"id\": \"/shadow\", \"portDefinitions\": [{\"port\": 0, \"labels\": {\"VIP_0\": "
    "\"/web:80\"}}],"
    "  \"tasks\": [{\"id\": \"shadow.1\", \"host\": \"127.0.0.1\", \"ports\": [31001]}]},"
    " {\"id\": \"/db\", \"container\": {\"type\": \"DOCKER\", \"portMappings\": "
    "   [{\"containerPort\": 5432, \"hostPort\": 0, \"labels\": {\"VIP_0\": \"10.0.0.9:5432\", "
    "\"network-scope\": \"container\"}}]},"
    "  \"tasks\": [{\"id\": \"db.1\", \"host\": \"127.0.0.1\", \"ports\": [31500],"
    "              \"ipAddresses\": [{\"ipAddress\": \"10.1.0.7\"}]},"
    "             {\"id\": \"db.2\", \"host\": \"127.0.0.1\", \"ports\": [31501], "
    "\"state\": \"TASK_KILLING\","
    "              \"ipAddresses\": [{\"ipAddress\": \"10.1.0.8\"}]}]}"
    "]}";

struct fixture {
	struct apps_set set;
	struct desired_state st;
	struct desired_index ix;
	struct lb_table table;
	struct desired_input in;
};

static int setup(void **state)
{
	static struct fixture f;
	struct diag_list diags = {0};
	char err[256];

	memset(&f, 0, sizeof(f));
	assert_int_equal(apps_load_buffer(&f.set, "apps.json", apps_json, strlen(apps_json)), 0);
	assert_int_equal(diag_count(&f.set.diags, DIAG_ERROR), 0);
	desired_state_init(&f.st);
	desired_index_init(&f.ix);
	lb_table_init(&f.table);
	f.in = (struct desired_input){.apps = &f.set};
	assert_int_equal(
	    desired_build_indexed(&f.in, &f.st, &f.table, &diags, NULL, &f.ix, err, sizeof(err)),
	    0);
	diag_list_free(&diags);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	lb_table_free(&f->table);
	desired_index_free(&f->ix);
	desired_state_free(&f->st);
	apps_set_free(&f->set);
	return 0;
}

static struct lb_key key(const char *addr, uint16_t port, uint8_t proto)
{
	struct lb_key k = {.port = port, .protocol = proto};

	assert_int_equal(lb_addr_parse(addr, &k.addr), 0);
	return k;
}

/* /web:80's IPv4 service, by its allocated address. */
static struct lb_key web_key(const struct fixture *f)
{
	struct lb_key k = {.port = 80, .protocol = IPPROTO_TCP};

	assert_int_equal(vip_name_address(&f->ix.alloc, "/web", &k.addr), 0);
	return k;
}

static void find(const struct fixture *f, const struct lb_key *svc, const char *dest, uint16_t port,
                 struct desired_origin *o)
{
	struct lb_addr a;

	assert_int_equal(lb_addr_parse(dest, &a), 0);
	assert_int_equal(desired_origin_find(&f->in, &f->ix, svc, &a, port, o), 0);
}

static void test_named_vip_task(void **state)
{
	struct fixture *f = *state;
	struct lb_key svc = web_key(f);
	struct desired_origin o;

	find(f, &svc, "127.0.0.1", 31002, &o);
	assert_non_null(o.use);
	assert_true(o.use->ref.named);
	assert_string_equal(o.use->ref.name, "/web");
	assert_int_equal(o.use->ref.port, 80);
	assert_string_equal(o.app_id, "/web");
	assert_string_equal(o.task_id, "web.2");
	assert_int_equal(o.ntasks, 1);
}

/* Two apps' tasks are one destination: the app sorting first names it, and
 * both are counted once each (the second label on /web's port adds none). */
static void test_shared_destination(void **state)
{
	struct fixture *f = *state;
	struct lb_key svc = web_key(f);
	struct desired_origin o;

	find(f, &svc, "127.0.0.1", 31001, &o);
	assert_string_equal(o.app_id, "/shadow");
	assert_string_equal(o.task_id, "shadow.1");
	assert_int_equal(o.ntasks, 2);
}

/* Container scope: the task's ipAddress and the container port; a task not
 * running is no destination. */
static void test_container_destination(void **state)
{
	struct fixture *f = *state;
	struct lb_key svc = key("10.0.0.9", 5432, IPPROTO_TCP);
	struct desired_origin o;

	find(f, &svc, "10.1.0.7", 5432, &o);
	assert_false(o.use->ref.named);
	assert_int_equal(o.use->ref.port, 5432);
	assert_string_equal(o.app_id, "/db");
	assert_string_equal(o.task_id, "db.1");
	find(f, &svc, "127.0.0.1", 31500, &o); /* its host port is not the destination */
	assert_null(o.app_id);
	assert_int_equal(o.ntasks, 0);
	find(f, &svc, "10.1.0.8", 5432, &o);
	assert_non_null(o.use);
	assert_null(o.task_id);
}

/* A service alone gives its use; a service no use feeds gives nothing. */
static void test_service_only_and_unknown(void **state)
{
	struct fixture *f = *state;
	struct lb_key svc = web_key(f), other = key("10.0.0.10", 80, IPPROTO_TCP);
	struct lb_key udp = key("10.0.0.9", 5432, IPPROTO_UDP);
	struct desired_origin o;

	assert_int_equal(desired_origin_find(&f->in, &f->ix, &svc, NULL, 0, &o), 0);
	assert_string_equal(o.use->ref.name, "/web");
	assert_null(o.app_id);
	assert_int_equal(desired_origin_find(&f->in, &f->ix, &other, NULL, 0, &o), 0);
	assert_null(o.use);
	find(f, &udp, "10.1.0.7", 5432, &o); /* a TCP-only port has no UDP service */
	assert_null(o.use);
	assert_null(o.app_id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_named_vip_task),
	    cmocka_unit_test(test_shared_destination),
	    cmocka_unit_test(test_container_destination),
	    cmocka_unit_test(test_service_only_and_unknown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
