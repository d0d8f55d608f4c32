/* The cluster's key layout (docs/cluster-keys.md) and its merge and failure
 * rules: round trips, exact located messages for malformed keys and values,
 * and one test per rule. */
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

static struct cluster_backend backend(const char *node, const char *vip, uint8_t proto,
                                      const char *addr, uint16_t port, enum cluster_health health)
{
	char task[64];

	snprintf(task, sizeof(task), "web.%s.%u", node, (unsigned)port);
	return cluster_fixture_backend(node, vip, proto, addr, port, health, task);
}

static void assert_round_trip(const struct cluster_backend *b, const char *want_key,
                              const char *want_value)
{
	char key[CLUSTER_KEY_MAX], err[512];
	struct cluster_backend back;
	char *value;

	assert_int_equal(cluster_backend_key(P, b, key, sizeof(key), err, sizeof(err)), 0);
	assert_string_equal(key, want_key);
	value = cluster_backend_value(b);
	assert_non_null(value);
	assert_string_equal(value, want_value);
	assert_int_equal(
	    cluster_backend_decode(P, key, value, strlen(value), &back, err, sizeof(err)), 0);
	assert_memory_equal(&back, b, sizeof(back));
	free(value);
}

static void test_backend_round_trip(void **state)
{
	struct cluster_backend b =
	    backend("a1", "/prod/web:80", IPPROTO_TCP, "10.1.2.3", 31000, CLUSTER_HEALTH_HEALTHY);

	(void)state;
	assert_round_trip(&b, P "backends/a1/tcp:%2Fprod%2Fweb:80/10.1.2.3:31000",
	                  "{\"vip\":\"/prod/web:80\",\"protocol\":\"tcp\",\"address\":\"10.1.2.3\","
	                  "\"port\":31000,\"weight\":1,\"health\":\"healthy\",\"app\":\"/web\","
	                  "\"task\":\"web.a1.31000\",\"node\":\"a1\"}");
	b = backend("node-2.dc", "[fd00::9]:53", IPPROTO_UDP, "fd00:1::7", 5353,
	            CLUSTER_HEALTH_UNHEALTHY);
	b.weight = 65535;
	assert_round_trip(
	    &b, P "backends/node-2.dc/udp:[fd00::9]:53/[fd00:1::7]:5353",
	    "{\"vip\":\"[fd00::9]:53\",\"protocol\":\"udp\",\"address\":\"fd00:1::7\","
	    "\"port\":5353,\"weight\":65535,\"health\":\"unhealthy\",\"app\":\"/web\","
	    "\"task\":\"web.node-2.dc.5353\",\"node\":\"node-2.dc\"}");
	b = backend("n", "/a.b_c-d/e:8080", IPPROTO_TCP, "10.0.0.1", 1, CLUSTER_HEALTH_UNKNOWN);
	b.weight = 0;
	assert_round_trip(
	    &b, P "backends/n/tcp:%2Fa.b_c-d%2Fe:8080/10.0.0.1:1",
	    "{\"vip\":\"/a.b_c-d/e:8080\",\"protocol\":\"tcp\",\"address\":\"10.0.0.1\","
	    "\"port\":1,\"weight\":0,\"health\":\"unknown\",\"app\":\"/web\","
	    "\"task\":\"web.n.1\",\"node\":\"n\"}");
}

static void test_backend_key_refuses_bad_node(void **state)
{
	struct cluster_backend b =
	    backend("a1", "/web:80", IPPROTO_TCP, "10.1.2.3", 31000, CLUSTER_HEALTH_HEALTHY);
	char key[CLUSTER_KEY_MAX], err[256];

	(void)state;
	snprintf(b.node, sizeof(b.node), "a/b");
	assert_int_equal(cluster_backend_key(P, &b, key, sizeof(key), err, sizeof(err)), -1);
	assert_string_equal(err, "node \"a/b\": expected 1-63 of [A-Za-z0-9._-]");
	assert_false(cluster_node_valid(""));
	assert_true(cluster_node_valid("ip-10-0-0-1.ec2.internal"));
	snprintf(b.node, sizeof(b.node), "a1");
	assert_int_equal(cluster_backend_key(P, &b, key, 30, err, sizeof(err)), -1);
	assert_string_equal(err, "backend key under \"/vipd/v1/\": longer than 29 bytes");
	assert_int_equal(cluster_node_prefix(P, "a1", key, sizeof(key)), 0);
	assert_string_equal(key, P "backends/a1/");
}

static void assert_key_error(const char *key, const char *want)
{
	struct cluster_key k;
	char err[512];

	assert_int_equal(cluster_key_parse(P, key, &k, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void test_key_parse(void **state)
{
	struct cluster_key k;
	char err[512], addr[64];

	(void)state;
	assert_int_equal(cluster_key_parse(P, P "backends/a1/udp:%2Fdns:53/[fd00::1]:5353", &k, err,
	                                   sizeof(err)),
	                 0);
	assert_int_equal(k.kind, CLUSTER_KEY_BACKEND);
	assert_string_equal(k.node, "a1");
	assert_int_equal(k.protocol, IPPROTO_UDP);
	assert_true(k.vip.named);
	assert_string_equal(k.vip.name, "/dns");
	assert_int_equal(k.vip.port, 53);
	assert_string_equal(lb_addr_format(&k.addr, addr, sizeof(addr)), "fd00::1");
	assert_int_equal(k.port, 5353);
	assert_int_equal(cluster_key_parse(P, P "vips/%2Fprod%2Fweb", &k, err, sizeof(err)), 0);
	assert_int_equal(k.kind, CLUSTER_KEY_VIP);
	assert_string_equal(k.name, "/prod/web");

	assert_key_error("/other/backends/a", "/other/backends/a: not under /vipd/v1/");
	assert_key_error(P "nodes/a1", P "nodes/a1: expected backends/... or vips/... after " P);
	assert_key_error(P "backends/a1/tcp:%2Fweb:80",
	                 P "backends/a1/tcp:%2Fweb:80: expected "
	                   "backends/<node>/<protocol>:<vip>/<address>:<port>, each part non-empty "
	                   "and percent-encoded");
	assert_key_error(P "backends/a1/tcp:%2Fweb:80/10.0.0.1:80/x",
	                 P "backends/a1/tcp:%2Fweb:80/10.0.0.1:80/x: expected "
	                   "backends/<node>/<protocol>:<vip>/<address>:<port>, each part non-empty "
	                   "and percent-encoded");
	assert_key_error(P "backends/a1/tcp:%2Gweb:80/10.0.0.1:80",
	                 P "backends/a1/tcp:%2Gweb:80/10.0.0.1:80: expected "
	                   "backends/<node>/<protocol>:<vip>/<address>:<port>, each part non-empty "
	                   "and percent-encoded");
	assert_key_error(P "backends/a%20b/tcp:%2Fweb:80/10.0.0.1:80", P
	                 "backends/a%20b/tcp:%2Fweb:80/10.0.0.1:80: node \"a b\": expected 1-63 of "
	                 "[A-Za-z0-9._-]");
	assert_key_error(P "backends/a1/sctp:%2Fweb:80/10.0.0.1:80",
	                 P "backends/a1/sctp:%2Fweb:80/10.0.0.1:80: VIP \"sctp:/web:80\": expected "
	                   "tcp:<vip> or udp:<vip>");
	assert_key_error(P "backends/a1/tcp:%2Fweb/10.0.0.1:80",
	                 P "backends/a1/tcp:%2Fweb/10.0.0.1:80: VIP \"tcp:/web\": VIP \"/web\": "
	                   "expected <address or name>:<port>");
	assert_key_error(P "backends/a1/tcp:%2Fweb:80/10.0.0.1:0",
	                 P "backends/a1/tcp:%2Fweb:80/10.0.0.1:0: backend \"10.0.0.1:0\": expected "
	                   "<IPv4>:<port> or [<IPv6>]:<port>, port 1-65535");
	assert_key_error(P "backends/a1/tcp:%2Fweb:80/fd00::1:80",
	                 P "backends/a1/tcp:%2Fweb:80/fd00::1:80: backend \"fd00::1:80\": expected "
	                   "<IPv4>:<port> or [<IPv6>]:<port>, port 1-65535");
	assert_key_error(P "vips/web", P "vips/web: expected vips/<name>, the name percent-encoded "
	                                 "with its leading /");
}

#define KEY P "backends/a1/tcp:%2Fweb:80/10.1.2.3:31000"
#define GOOD_HEAD                                                                                  \
	"{\"vip\":\"/web:80\",\"protocol\":\"tcp\",\"address\":\"10.1.2.3\",\"port\":31000,"

static void assert_value_error(const char *value, const char *want)
{
	struct cluster_backend b;
	char err[512];

	assert_int_equal(cluster_backend_decode(P, KEY, value, strlen(value), &b, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, want);
}

static void test_backend_value_errors(void **state)
{
	(void)state;
	assert_value_error("{\"vip\":", KEY ": not JSON: unexpected token near end of file at line "
	                                    "1 column 7");
	assert_value_error("[]", KEY ": expected a JSON object");
	assert_value_error("{}", KEY ": /vip: expected a string of 1-263 characters, got nothing");
	assert_value_error("{\"vip\":\"/web\"}",
	                   KEY ": /vip: VIP \"/web\": expected <address or name>:<port>");
	assert_value_error("{\"vip\":\"/api:80\"}", KEY ": /vip: \"/api:80\" differs from the "
	                                                "key's /web:80");
	assert_value_error("{\"vip\":\"/web:80\",\"protocol\":\"sctp\"}",
	                   KEY ": /protocol: expected \"tcp\" or \"udp\", got \"sctp\"");
	assert_value_error("{\"vip\":\"/web:80\",\"protocol\":\"udp\"}",
	                   KEY ": /protocol: \"udp\" differs from the key's tcp");
	assert_value_error("{\"vip\":\"/web:80\",\"protocol\":\"tcp\",\"address\":\"10.1.2\"}",
	                   KEY ": /address: expected an IPv4 or IPv6 address, got \"10.1.2\"");
	assert_value_error("{\"vip\":\"/web:80\",\"protocol\":\"tcp\",\"address\":\"10.1.2.4\"}",
	                   KEY ": /address: \"10.1.2.4\" differs from the key's 10.1.2.3:31000");
	assert_value_error(
	    "{\"vip\":\"/"
	    "web:80\",\"protocol\":\"tcp\",\"address\":\"10.1.2.3\",\"port\":\"31000\"}",
	    KEY ": /port: expected an integer 1-65535, got \"31000\"");
	assert_value_error(
	    "{\"vip\":\"/web:80\",\"protocol\":\"tcp\",\"address\":\"10.1.2.3\",\"port\":31001}",
	    KEY ": /port: 31001 differs from the key's 10.1.2.3:31000");
	assert_value_error(GOOD_HEAD "\"weight\":70000}",
	                   KEY ": /weight: expected an integer 0-65535, got 70000");
	assert_value_error(GOOD_HEAD "\"weight\":1,\"health\":\"up\"}",
	                   KEY ": /health: expected \"healthy\", \"unhealthy\" or \"unknown\", got "
	                       "\"up\"");
	assert_value_error(GOOD_HEAD "\"weight\":1,\"health\":\"healthy\",\"app\":\"\"}",
	                   KEY ": /app: expected a string of 1-511 characters, got \"\"");
	assert_value_error(GOOD_HEAD "\"weight\":1,\"health\":\"healthy\",\"app\":\"/web\","
	                             "\"task\":\"t1\",\"node\":\"b2\"}",
	                   KEY ": /node: \"b2\" differs from the key's a1");
	assert_value_error(GOOD_HEAD "\"weight\":1,\"weight\":2}",
	                   KEY ": not JSON: duplicate object key near '\"weight\"' at line 1 "
	                       "column 87");
}

static void test_backend_value_extra_fields_ignored(void **state)
{
	const char *v = GOOD_HEAD "\"weight\":3,\"health\":\"healthy\",\"app\":\"/web\","
	                          "\"task\":\"t1\",\"node\":\"a1\",\"zone\":\"eu-1\"}";
	struct cluster_backend b;
	char err[512];

	(void)state;
	assert_int_equal(cluster_backend_decode(P, KEY, v, strlen(v), &b, err, sizeof(err)), 0);
	assert_int_equal(b.weight, 3);
	assert_string_equal(b.task, "t1");
}

static void test_vip_assignment(void **state)
{
	struct cluster_vip_assign a = {"/prod/web", "11.0.0.7", "fd01:c::7"}, back;
	char key[CLUSTER_KEY_MAX], err[512], *v;

	(void)state;
	assert_int_equal(cluster_vip_key(P, a.name, key, sizeof(key), err, sizeof(err)), 0);
	assert_string_equal(key, P "vips/%2Fprod%2Fweb");
	v = cluster_vip_value(&a);
	assert_string_equal(v, "{\"ipv4\":\"11.0.0.7\",\"ipv6\":\"fd01:c::7\"}");
	assert_int_equal(cluster_vip_decode(P, key, v, strlen(v), &back, err, sizeof(err)), 0);
	assert_memory_equal(&back, &a, sizeof(a));
	free(v);
	assert_int_equal(cluster_vip_key(P, "web", key, sizeof(key), err, sizeof(err)), -1);
	assert_string_equal(err, "VIP name \"web\": expected /<name>");
	assert_int_equal(cluster_vip_decode(P, P "vips/%2Fweb", "{\"ipv4\":\"fd01:c::7\"}", 20,
	                                    &back, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, P "vips/%2Fweb: /ipv4: expected an IPv4 address, got "
	                           "\"fd01:c::7\"");
	assert_int_equal(cluster_vip_decode(P, P "vips/%2Fweb", "{}", 2, &back, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, P "vips/%2Fweb: expected \"ipv4\" or \"ipv6\" or both");
	assert_int_equal(cluster_vip_decode(P, KEY, "{}", 2, &back, err, sizeof(err)), -1);
	assert_string_equal(err, KEY ": expected a vips/... key");
}

/* ---- merge rules */

static const struct cluster_vip_backends *find_vip(const struct cluster_merged *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->vips[i].vip.named && strcmp(m->vips[i].vip.name, name) == 0)
			return &m->vips[i];
	fail_msg("no VIP %s in the merge", name);
	return NULL;
}

static void assert_backends(const struct cluster_vip_backends *v, const char *want)
{
	char got[1024] = "", one[128], addr[64];
	size_t i, o = 0;

	for (i = 0; i < v->n; i++) {
		snprintf(one, sizeof(one), "%s%s:%u@%s", i ? " " : "",
		         lb_addr_format(&v->backends[i]->addr, addr, sizeof(addr)),
		         (unsigned)v->backends[i]->port, v->backends[i]->node);
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s", one);
	}
	assert_string_equal(got, want);
}

static void test_merge_live(void **state)
{
	struct cluster_backend local[] = {
	    backend("a", "/web:80", IPPROTO_TCP, "10.0.0.2", 80, CLUSTER_HEALTH_HEALTHY),
	    backend("a", "/web:80", IPPROTO_TCP, "10.0.0.1", 80, CLUSTER_HEALTH_UNHEALTHY),
	};
	struct cluster_remote remote[] = {
	    {backend("b", "/web:80", IPPROTO_TCP, "10.0.1.1", 80, CLUSTER_HEALTH_HEALTHY), true},
	    {backend("b", "/web:80", IPPROTO_TCP, "10.0.1.2", 80, CLUSTER_HEALTH_UNHEALTHY), true},
	    {backend("c", "/web:80", IPPROTO_TCP, "10.0.2.1", 80, CLUSTER_HEALTH_UNKNOWN), true},
	    {backend("c", "/web:80", IPPROTO_UDP, "10.0.2.1", 80, CLUSTER_HEALTH_HEALTHY), true},
	    /* our own old record: the local set is the truth */
	    {backend("a", "/web:80", IPPROTO_TCP, "10.0.0.9", 80, CLUSTER_HEALTH_HEALTHY), true},
	};
	struct cluster_merged m;
	char err[128];

	(void)state;
	assert_int_equal(cluster_merge("a", local, 2, remote, 5, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, 2); /* /web:80 TCP and UDP, TCP first */
	assert_int_equal(m.vips[0].protocol, IPPROTO_TCP);
	/* local ones whatever their health; remote ones only healthy */
	assert_backends(&m.vips[0], "10.0.0.1:80@a 10.0.0.2:80@a 10.0.1.1:80@b");
	assert_int_equal(m.vips[0].rule, CLUSTER_RULE_LIVE);
	assert_int_equal(m.vips[0].expired, 0);
	assert_int_equal(m.vips[1].protocol, IPPROTO_UDP);
	assert_backends(&m.vips[1], "10.0.2.1:80@c");
	assert_string_equal(cluster_rule_name(m.vips[0].rule), "live");
	cluster_merged_free(&m);
}

static void test_merge_expired_dropped(void **state)
{
	struct cluster_backend local[] = {
	    backend("a", "/web:80", IPPROTO_TCP, "10.0.0.1", 80, CLUSTER_HEALTH_UNHEALTHY),
	};
	struct cluster_remote remote[] = {
	    {backend("b", "/web:80", IPPROTO_TCP, "10.0.1.1", 80, CLUSTER_HEALTH_HEALTHY), true},
	    {backend("dead", "/web:80", IPPROTO_TCP, "10.0.9.1", 80, CLUSTER_HEALTH_HEALTHY),
	     false},
	    {backend("dead", "/web:80", IPPROTO_TCP, "10.0.9.2", 80, CLUSTER_HEALTH_HEALTHY),
	     false},
	};
	struct cluster_merged m;
	char err[128];

	(void)state;
	assert_int_equal(cluster_merge("a", local, 1, remote, 3, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, 1);
	assert_backends(&m.vips[0], "10.0.0.1:80@a 10.0.1.1:80@b");
	assert_int_equal(m.vips[0].rule, CLUSTER_RULE_EXPIRED_DROPPED);
	assert_int_equal(m.vips[0].expired, 2);
	assert_string_equal(cluster_rule_name(m.vips[0].rule), "expired_dropped");
	cluster_merged_free(&m);
}

static void test_merge_expired_kept_when_nothing_else_serves(void **state)
{
	struct cluster_backend local[] = {
	    /* a local backend that fails its checks serves nothing */
	    backend("a", "/web:80", IPPROTO_TCP, "10.0.0.1", 80, CLUSTER_HEALTH_UNHEALTHY),
	    backend("a", "/api:80", IPPROTO_TCP, "10.0.0.5", 80, CLUSTER_HEALTH_HEALTHY),
	};
	struct cluster_remote remote[] = {
	    {backend("b", "/web:80", IPPROTO_TCP, "10.0.1.1", 80, CLUSTER_HEALTH_UNHEALTHY), true},
	    {backend("dead", "/web:80", IPPROTO_TCP, "10.0.9.1", 80, CLUSTER_HEALTH_HEALTHY),
	     false},
	    {backend("dead", "/web:80", IPPROTO_TCP, "10.0.9.2", 80, CLUSTER_HEALTH_UNHEALTHY),
	     false},
	    /* /only: every backend on a node that died */
	    {backend("dead", "/only:80", IPPROTO_TCP, "10.0.9.3", 80, CLUSTER_HEALTH_HEALTHY),
	     false},
	    {backend("dead", "/api:80", IPPROTO_TCP, "10.0.9.4", 80, CLUSTER_HEALTH_HEALTHY),
	     false},
	};
	const struct cluster_vip_backends *v;
	struct cluster_merged m;
	char err[128];

	(void)state;
	assert_int_equal(cluster_merge("a", local, 2, remote, 5, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, 3);
	v = find_vip(&m, "/web");
	assert_backends(v, "10.0.0.1:80@a 10.0.9.1:80@dead");
	assert_int_equal(v->rule, CLUSTER_RULE_EXPIRED_KEPT);
	assert_int_equal(v->expired, 1);
	assert_string_equal(cluster_rule_name(v->rule), "expired_kept_last_backends");
	v = find_vip(&m, "/only");
	assert_backends(v, "10.0.9.3:80@dead");
	assert_int_equal(v->rule, CLUSTER_RULE_EXPIRED_KEPT);
	/* /api has a healthy local backend: the dead node's goes */
	v = find_vip(&m, "/api");
	assert_backends(v, "10.0.0.5:80@a");
	assert_int_equal(v->rule, CLUSTER_RULE_EXPIRED_DROPPED);
	cluster_merged_free(&m);
}

static void test_merge_duplicates_take_the_best_source(void **state)
{
	struct cluster_backend local[] = {
	    backend("a", "/web:80", IPPROTO_TCP, "10.0.0.1", 80, CLUSTER_HEALTH_UNHEALTHY),
	};
	struct cluster_remote remote[] = {
	    {backend("dead", "/web:80", IPPROTO_TCP, "10.0.0.1", 80, CLUSTER_HEALTH_HEALTHY),
	     false},
	    {backend("c", "/web:80", IPPROTO_TCP, "10.0.5.5", 80, CLUSTER_HEALTH_HEALTHY), false},
	    {backend("b", "/web:80", IPPROTO_TCP, "10.0.5.5", 80, CLUSTER_HEALTH_HEALTHY), true},
	};
	struct cluster_merged m;
	char err[128];

	(void)state;
	assert_int_equal(cluster_merge("a", local, 1, remote, 3, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, 1);
	/* the local record wins over a dead node's for the same address; the live
	 * node's over the dead one's; no expired backend is left, so the VIP is live */
	assert_backends(&m.vips[0], "10.0.0.1:80@a 10.0.5.5:80@b");
	assert_int_equal(m.vips[0].rule, CLUSTER_RULE_LIVE);
	cluster_merged_free(&m);
}

static void test_merge_empty(void **state)
{
	struct cluster_merged m;
	char err[128];

	(void)state;
	assert_int_equal(cluster_merge("a", NULL, 0, NULL, 0, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, 0);
	cluster_merged_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backend_round_trip),
	    cmocka_unit_test(test_backend_key_refuses_bad_node),
	    cmocka_unit_test(test_key_parse),
	    cmocka_unit_test(test_backend_value_errors),
	    cmocka_unit_test(test_backend_value_extra_fields_ignored),
	    cmocka_unit_test(test_vip_assignment),
	    cmocka_unit_test(test_merge_live),
	    cmocka_unit_test(test_merge_expired_dropped),
	    cmocka_unit_test(test_merge_expired_kept_when_nothing_else_serves),
	    cmocka_unit_test(test_merge_duplicates_take_the_best_source),
	    cmocka_unit_test(test_merge_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
