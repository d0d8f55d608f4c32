/* A node's view of the other nodes' records (src/cluster/cluster_view.c):
 * fed reads and watch responses as etcd sends them, it must tell a backend
 * its node withdrew (dropped at once) from one its lease's expiry deleted
 * (kept, expired, for the failure rules), with the audit events that say so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/cluster_view.h"

#define P CLUSTER_PREFIX_DEFAULT
#define KA1 P "backends/a/tcp:%2Fweb:80/10.0.0.1:31000"
#define KA2 P "backends/a/tcp:%2Fsolo:80/10.0.0.2:31000"
#define KB1 P "backends/b/tcp:%2Fweb:80/10.0.0.3:31000"
#define KSELF P "backends/self/tcp:%2Fweb:80/10.0.0.9:31000"

struct log {
	char text[8192];
};

static void on_audit(void *arg, const char *event, json_t *fields)
{
	struct log *l = arg;
	size_t len = strlen(l->text);
	json_t *change = json_object_get(fields, "change"),
	       *reason = json_object_get(fields, "reason");

	snprintf(l->text + len, sizeof(l->text) - len, "%s %s %s %s%s%s\n", event,
	         json_string_value(change), json_string_value(json_object_get(fields, "node")),
	         json_string_value(json_object_get(fields, "backend")), reason ? " " : "",
	         reason ? json_string_value(reason) : "");
	json_decref(fields);
}

static void on_warn(void *arg, const char *msg)
{
	struct log *l = arg;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "warn %s\n", msg);
}

static void on_app_changed(void *arg, const char *app_id)
{
	struct log *l = arg;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "app %s\n", app_id);
}

static const struct cluster_view_ops ops = {
    .audit = on_audit, .warn = on_warn, .app_changed = on_app_changed};

static char *value_of(const char *key, const char *health)
{
	static char buf[8][512];
	static int next;
	char node[8], vip[16], addr[16];
	char *v = buf[next++ % 8];

	assert_int_equal(
	    sscanf(key, P "backends/%7[^/]/tcp:%%2F%15[^:]:80/%15[^:]", node, vip, addr), 3);
	snprintf(
	    v, 512,
	    "{\"vip\":\"/%s:80\",\"protocol\":\"tcp\",\"address\":\"%s\",\"port\":31000,"
	    "\"weight\":1,\"health\":\"%s\",\"app\":\"/%s\",\"task\":\"%s.%s\",\"node\":\"%s\"}",
	    vip, addr, health, vip, vip, node, node);
	return v;
}

static struct etcd_kv kv(const char *key, const char *value)
{
	return (struct etcd_kv){.key = (char *)key,
	                        .key_len = strlen(key),
	                        .value = (char *)value,
	                        .value_len = strlen(value)};
}

static struct etcd_event put(const char *key, const char *value)
{
	return (struct etcd_event){ETCD_EVENT_PUT, kv(key, value)};
}

static struct etcd_event del(const char *key)
{
	return (struct etcd_event){ETCD_EVENT_DELETE, kv(key, "")};
}

static bool events(struct cluster_view *v, struct etcd_event *ev, size_t n)
{
	struct etcd_resp r = {.events = ev, .n_events = n};

	return cluster_view_events(v, &r);
}

static bool snapshot(struct cluster_view *v, struct etcd_kv *kvs, size_t n)
{
	struct etcd_resp r = {.kvs = kvs, .n_kvs = n};

	return cluster_view_snapshot(v, &r);
}

/* "<node> <backend> alive|expired" per record. */
static void assert_view(struct cluster_view *v, const char *expected)
{
	char text[2048] = "", be[64];
	size_t n;
	const struct cluster_remote *r = cluster_view_remotes(v, &n);

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(text);

		snprintf(text + len, sizeof(text) - len, "%s %s %s\n", r[i].b.node,
		         lb_addr_port_format(&r[i].b.addr, r[i].b.port, be, sizeof(be)),
		         r[i].lease_alive ? "alive" : "expired");
	}
	assert_string_equal(text, expected);
}

static void start(struct cluster_view *v, struct log *l)
{
	struct etcd_kv kvs[] = {
	    kv(P "live/a", "{\"node\":\"a\"}"), kv(P "live/b", "{\"node\":\"b\"}"),
	    kv(KA1, value_of(KA1, "healthy")),  kv(KA2, value_of(KA2, "healthy")),
	    kv(KB1, value_of(KB1, "healthy")),  kv(KSELF, value_of(KSELF, "healthy")),
	};

	memset(l, 0, sizeof(*l));
	assert_int_equal(cluster_view_init(v, "self", P, &ops, l), 0);
	assert_true(snapshot(v, kvs, 6));
	assert_view(v, "a 10.0.0.2:31000 alive\na 10.0.0.1:31000 alive\nb 10.0.0.3:31000 alive\n");
	l->text[0] = '\0';
}

static void test_read_skips_own_records(void **state)
{
	struct cluster_view v;
	struct log l;

	(void)state;
	start(&v, &l);
	cluster_view_free(&v);
}

/* Deleted while the node's live key exists: the node withdrew it. */
static void test_withdrawn_dropped_at_once(void **state)
{
	struct etcd_event ev[] = {del(KA1)};
	struct cluster_view v;
	struct log l;

	(void)state;
	start(&v, &l);
	assert_true(events(&v, ev, 1));
	assert_view(&v, "a 10.0.0.2:31000 alive\nb 10.0.0.3:31000 alive\n");
	assert_string_equal(l.text, "cluster_backend left a 10.0.0.1:31000 deleted\napp /web\n");
	cluster_view_free(&v);
}

/* A lease's expiry: the live key and the backends in one response, the
 * live key last. The records stay, expired; a put brings one back. */
static void test_expiry_kept_as_expired(void **state)
{
	struct etcd_event expiry[] = {del(KA1), del(KA2), del(P "live/a")};
	struct etcd_event back[] = {put(KA1, value_of(KA1, "healthy"))};
	struct cluster_view v;
	struct log l;

	(void)state;
	start(&v, &l);
	assert_true(events(&v, expiry, 3));
	assert_view(&v, "a 10.0.0.2:31000 expired\na 10.0.0.1:31000 expired\nb 10.0.0.3:31000 "
	                "alive\n");
	assert_string_equal(l.text,
	                    "cluster_backend expired a 10.0.0.1:31000 lease_expired\napp /web\n"
	                    "cluster_backend expired a 10.0.0.2:31000 lease_expired\napp /solo\n");
	/* Deleted again (nothing new): no change. */
	assert_false(events(&v, expiry, 3));
	l.text[0] = '\0';
	assert_true(events(&v, back, 1));
	assert_view(&v,
	            "a 10.0.0.2:31000 expired\na 10.0.0.1:31000 alive\nb 10.0.0.3:31000 alive\n");
	assert_string_equal(l.text, "cluster_backend changed a 10.0.0.1:31000\napp /web\n");
	cluster_view_free(&v);
}

/* The node back under a new lease: its live key drops what it did not put
 * again (puts in the same response count as put again). */
static void test_node_back_drops_its_expired_records(void **state)
{
	struct etcd_event expiry[] = {del(P "live/a"), del(KA1), del(KA2)};
	struct etcd_event back[] = {put(KA1, value_of(KA1, "healthy")),
	                            put(P "live/a", "{\"node\":\"a\"}")};
	struct cluster_view v;
	struct log l;

	(void)state;
	start(&v, &l);
	assert_true(events(&v, expiry, 3));
	l.text[0] = '\0';
	assert_true(events(&v, back, 2));
	assert_view(&v, "a 10.0.0.1:31000 alive\nb 10.0.0.3:31000 alive\n");
	assert_string_equal(l.text, "cluster_backend changed a 10.0.0.1:31000\napp /web\n"
	                            "cluster_backend left a 10.0.0.2:31000 node_back\napp /solo\n");
	cluster_view_free(&v);
}

/* A fresh read after a broken watch: what vanished is a withdrawal when
 * its node is live in the read, else an expiry; a changed value is seen. */
static void test_read_again_classifies_what_vanished(void **state)
{
	struct etcd_kv kvs[] = {
	    kv(P "live/a", "{\"node\":\"a\"}"),
	    kv(KA2, value_of(KA2, "unhealthy")),
	};
	struct cluster_view v;
	struct log l;

	(void)state;
	start(&v, &l);
	assert_true(snapshot(&v, kvs, 2));
	assert_view(&v, "a 10.0.0.2:31000 alive\nb 10.0.0.3:31000 expired\n");
	assert_string_equal(l.text,
	                    "cluster_backend changed a 10.0.0.2:31000\napp /solo\n"
	                    "cluster_backend expired b 10.0.0.3:31000 lease_expired\napp /web\n"
	                    "cluster_backend left a 10.0.0.1:31000 deleted\napp /web\n");
	/* The same read again: nothing changes. */
	l.text[0] = '\0';
	assert_false(snapshot(&v, kvs, 2));
	assert_string_equal(l.text, "");
	cluster_view_free(&v);
}

/* The same read in pages (in key order, as etcd sends them) does what one
 * answer does, whatever the page size; a read restarted midway (its
 * revision compacted) begins again and ends the same. */
static void test_read_in_pages_as_one_answer(void **state)
{
	char a2[512], c1[512];
	struct etcd_kv kvs[] = {
	    kv(KA2, strcpy(a2, value_of(KA2, "unhealthy"))),
	    kv(P "backends/c/tcp:%2Fweb:80/10.0.0.5:31000",
	       strcpy(c1, value_of(P "backends/c/tcp:%2Fweb:80/10.0.0.5:31000", "healthy"))),
	    kv(P "live/a", "{\"node\":\"a\"}"),
	    kv(P "live/c", "{\"node\":\"c\"}"),
	};
	const char *view = "a 10.0.0.2:31000 alive\nb 10.0.0.3:31000 expired\n"
	                   "c 10.0.0.5:31000 alive\n";
	struct cluster_view whole, v;
	struct log lw, l;

	(void)state;
	start(&whole, &lw);
	assert_true(snapshot(&whole, kvs, 4));
	assert_view(&whole, view);
	for (size_t limit = 1; limit <= 4; limit++) {
		bool changed = false;

		start(&v, &l);
		cluster_view_read_begin(&v);
		/* a first attempt that stops after one page */
		changed |= cluster_view_read_page(&v, &(struct etcd_resp){.kvs = kvs, .n_kvs = 1});
		cluster_view_read_begin(&v);
		for (size_t i = 0; i < 4; i += limit) {
			struct etcd_resp r = {.kvs = kvs + i,
			                      .n_kvs = i + limit > 4 ? 4 - i : limit};

			changed |= cluster_view_read_page(&v, &r);
		}
		changed |= cluster_view_read_end(&v);
		assert_true(changed);
		assert_view(&v, view);
		assert_string_equal(l.text, lw.text);
		cluster_view_free(&v);
	}
	cluster_view_free(&whole);
}

static void test_bad_record_skipped_with_located_warning(void **state)
{
	struct etcd_event ev[] = {put(P "backends/c/tcp:%2Fweb:80/10.0.0.4:31000", "{\"vip\":1}"),
	                          put(P "backends/c", "{}")};
	struct cluster_view v;
	struct log l;

	(void)state;
	start(&v, &l);
	assert_false(events(&v, ev, 2));
	assert_string_equal(l.text, "warn cluster: skipped: " P
	                            "backends/c/tcp:%2Fweb:80/10.0.0.4:31000: /vip: expected a "
	                            "string of 1-263 characters, got 1\n"
	                            "warn cluster: skipped: " P
	                            "backends/c: expected backends/<node>/<protocol>:<vip>/"
	                            "<address>:<port>, each part non-empty and percent-encoded\n");
	assert_view(&v, "a 10.0.0.2:31000 alive\na 10.0.0.1:31000 alive\nb 10.0.0.3:31000 alive\n");
	cluster_view_free(&v);
}

/* vips/<name> records: read and watched into v.vips (the allocator's
 * input); the same value again is no change; a bad value is a located
 * warning and leaves the record as it was. */
static void test_vip_records(void **state)
{
	struct etcd_kv kvs[] = {
	    kv(P "vips/%2Fweb", "{\"ipv4\":\"11.0.0.7\",\"ipv6\":\"fd01:c::7\"}")};
	struct etcd_event same[] = {
	    put(P "vips/%2Fweb", "{\"ipv6\":\"fd01:c::7\",\"ipv4\":\"11.0.0.7\"}")};
	struct etcd_event moved[] = {put(P "vips/%2Fweb", "{\"ipv4\":\"11.0.0.8\"}"),
	                             put(P "vips/%2Fdb", "{\"ipv4\":\"fd01:c::1\"}")};
	const struct vip_record *r;
	struct cluster_view v;
	struct log l = {0};
	char buf[64];

	(void)state;
	assert_int_equal(cluster_view_init(&v, "self", P, &ops, &l), 0);
	assert_true(snapshot(&v, kvs, 1));
	r = vip_records_find(&v.vips, "/web");
	assert_non_null(r);
	assert_string_equal(lb_addr_format(&r->addr, buf, sizeof(buf)), "11.0.0.7");
	assert_string_equal(lb_addr_format(&r->addr6, buf, sizeof(buf)), "fd01:c::7");
	assert_false(events(&v, same, 1));
	assert_true(events(&v, moved, 2));
	r = vip_records_find(&v.vips, "/web");
	assert_string_equal(lb_addr_format(&r->addr, buf, sizeof(buf)), "11.0.0.8");
	assert_int_equal(r->addr6.af, 0);
	assert_null(vip_records_find(&v.vips, "/db"));
	assert_string_equal(l.text,
	                    "warn cluster: skipped: " P "vips/%2Fdb: /ipv4: expected an IPv4 "
	                    "address, got \"fd01:c::1\"\n");
	assert_view(&v, "");
	cluster_view_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_skips_own_records),
	    cmocka_unit_test(test_withdrawn_dropped_at_once),
	    cmocka_unit_test(test_expiry_kept_as_expired),
	    cmocka_unit_test(test_node_back_drops_its_expired_records),
	    cmocka_unit_test(test_read_again_classifies_what_vanished),
	    cmocka_unit_test(test_read_in_pages_as_one_answer),
	    cmocka_unit_test(test_bad_record_skipped_with_located_warning),
	    cmocka_unit_test(test_vip_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
