/* What a cluster node publishes (src/cluster/cluster_publish.c): the records
 * of its backends, the writes from what etcd holds to them (only changes),
 * what etcd may hold after a batch that partly failed, and the live key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "vipd/cluster.h"
#include "cluster_fixture.h"

#define P CLUSTER_PREFIX_DEFAULT

static struct cluster_backend backend(const char *vip, const char *addr, uint16_t port,
                                      enum cluster_health health)
{
	char task[64];

	snprintf(task, sizeof(task), "web.%u", (unsigned)port);
	return cluster_fixture_backend("a1", vip, IPPROTO_TCP, addr, port, health, task);
}

static void build(const struct cluster_backend *b, size_t n, struct cluster_records *out)
{
	char err[256];

	assert_int_equal(cluster_records_build(P, b, n, out, err, sizeof(err)), 0);
}

/* "put KEY" / "delete KEY" lines, in order. */
static void assert_writes(const struct cluster_records *held, const struct cluster_records *want,
                          const char *expected)
{
	struct cluster_write *w;
	char text[4096] = "";
	size_t n;

	assert_int_equal(cluster_records_diff(held, want, &w, &n), 0);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(text);

		snprintf(text + len, sizeof(text) - len, "%s %s\n",
		         w[i].kind == CLUSTER_WRITE_PUT ? "put" : "delete", w[i].key);
		if (w[i].kind == CLUSTER_WRITE_PUT)
			assert_non_null(w[i].value);
	}
	assert_string_equal(text, expected);
	free(w);
}

#define K1 P "backends/a1/tcp:%2Fweb:80/10.0.0.1:31000"
#define K2 P "backends/a1/tcp:%2Fweb:80/10.0.0.2:31000"
#define K3 P "backends/a1/tcp:%2Fweb:80/10.0.0.3:31000"

static void test_records_sorted_and_deduplicated(void **state)
{
	struct cluster_backend b[] = {
	    backend("/web:80", "10.0.0.2", 31000, CLUSTER_HEALTH_HEALTHY),
	    backend("/web:80", "10.0.0.1", 31000, CLUSTER_HEALTH_UNHEALTHY),
	    backend("/web:80", "10.0.0.2", 31000, CLUSTER_HEALTH_HEALTHY),
	};
	struct cluster_records r;

	(void)state;
	build(b, 3, &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.items[0].key, K1);
	assert_string_equal(r.items[1].key, K2);
	assert_non_null(strstr(r.items[0].value, "\"health\":\"unhealthy\""));
	cluster_records_free(&r);
}

static void test_records_bad_backend_is_an_error(void **state)
{
	struct cluster_backend b = backend("/web:80", "10.0.0.1", 31000, CLUSTER_HEALTH_HEALTHY);
	struct cluster_records r;
	char err[256];

	(void)state;
	snprintf(b.node, sizeof(b.node), "a/1");
	assert_int_equal(cluster_records_build(P, &b, 1, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "node \"a/1\": expected 1-63 of [A-Za-z0-9._-]");
	assert_int_equal(r.n, 0);
	assert_null(r.items);
}

static void test_diff_nothing_changed_writes_nothing(void **state)
{
	struct cluster_backend b[] = {
	    backend("/web:80", "10.0.0.1", 31000, CLUSTER_HEALTH_HEALTHY),
	    backend("/web:80", "10.0.0.2", 31000, CLUSTER_HEALTH_HEALTHY),
	};
	struct cluster_records held, want;

	(void)state;
	build(b, 2, &held);
	build(b, 2, &want);
	assert_writes(&held, &want, "");
	cluster_records_free(&held);
	cluster_records_free(&want);
}

static void test_diff_only_changes(void **state)
{
	struct cluster_backend before[] = {
	    backend("/web:80", "10.0.0.1", 31000, CLUSTER_HEALTH_HEALTHY),
	    backend("/web:80", "10.0.0.2", 31000, CLUSTER_HEALTH_HEALTHY),
	};
	struct cluster_backend after[] = {
	    backend("/web:80", "10.0.0.2", 31000, CLUSTER_HEALTH_UNHEALTHY),
	    backend("/web:80", "10.0.0.3", 31000, CLUSTER_HEALTH_HEALTHY),
	};
	struct cluster_records held, want, none = {0};

	(void)state;
	build(before, 2, &held);
	build(after, 2, &want);
	/* 1 gone, 2's health changed, 3 new. */
	assert_writes(&held, &want, "delete " K1 "\nput " K2 "\nput " K3 "\n");
	/* A fresh lease holds nothing: everything is put. */
	assert_writes(&none, &want, "put " K2 "\nput " K3 "\n");
	/* Nothing wanted: everything held is deleted. */
	assert_writes(&held, &none, "delete " K1 "\ndelete " K2 "\n");
	cluster_records_free(&held);
	cluster_records_free(&want);
}

/* A batch that partly failed: the next diff puts every wanted key again and
 * deletes every other one either side knew. */
static void test_uncertain_rewrites_everything(void **state)
{
	struct cluster_backend before[] = {
	    backend("/web:80", "10.0.0.1", 31000, CLUSTER_HEALTH_HEALTHY),
	    backend("/web:80", "10.0.0.2", 31000, CLUSTER_HEALTH_HEALTHY),
	};
	struct cluster_backend after[] = {
	    backend("/web:80", "10.0.0.2", 31000, CLUSTER_HEALTH_HEALTHY),
	    backend("/web:80", "10.0.0.3", 31000, CLUSTER_HEALTH_HEALTHY),
	};
	struct cluster_backend later[] = {
	    backend("/web:80", "10.0.0.2", 31000, CLUSTER_HEALTH_HEALTHY),
	};
	struct cluster_records held, sent, maybe, want;

	(void)state;
	build(before, 2, &held);
	build(after, 2, &sent);
	build(later, 1, &want);
	assert_int_equal(cluster_records_uncertain(&held, &sent, &maybe), 0);
	assert_int_equal(maybe.n, 3);
	for (size_t i = 0; i < maybe.n; i++)
		assert_null(maybe.items[i].value);
	/* 3's put may have landed: deleted; 2 may not be there: put. */
	assert_writes(&maybe, &want, "delete " K1 "\nput " K2 "\ndelete " K3 "\n");
	cluster_records_free(&held);
	cluster_records_free(&sent);
	cluster_records_free(&maybe);
	cluster_records_free(&want);
}

static void test_live_key(void **state)
{
	char key[CLUSTER_KEY_MAX], node[CLUSTER_NODE_MAX];

	(void)state;
	assert_int_equal(cluster_live_key(P, "a1", key, sizeof(key)), 0);
	assert_string_equal(key, P "live/a1");
	assert_true(cluster_live_parse(P, key, node));
	assert_string_equal(node, "a1");
	assert_int_equal(cluster_live_key(P, "a/1", key, sizeof(key)), -1);
	assert_int_equal(cluster_live_key(P, "a1", key, 8), -1);
	assert_false(cluster_live_parse(P, P "live/", node));
	assert_false(cluster_live_parse(P, P "live/a%2F1", node));
	assert_false(cluster_live_parse(P, "/other/live/a1", node));
	assert_false(cluster_live_parse(P, K1, node));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records_sorted_and_deduplicated),
	    cmocka_unit_test(test_records_bad_backend_is_an_error),
	    cmocka_unit_test(test_diff_nothing_changed_writes_nothing),
	    cmocka_unit_test(test_diff_only_changes),
	    cmocka_unit_test(test_uncertain_rewrites_everything),
	    cmocka_unit_test(test_live_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
