/*
 * The data plane's set rules (dataplane_owned.c): which services vipd owns
 * before and after a round, and which VIP addresses a table needs. These
 * decide what vipd will delete one day, so each case is a promise to users:
 * a service vipd made is never orphaned, one it did not make never adopted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "vipd/dataplane.h"

static struct lb_key key(const char *addr, uint16_t port)
{
	struct lb_key k = {.port = port, .protocol = IPPROTO_TCP};

	assert_int_equal(lb_addr_parse(addr, &k.addr), 0);
	return k;
}

static void add_svc(struct lb_table *t, const char *addr, uint16_t port)
{
	struct lb_key k = key(addr, port);

	assert_non_null(lb_table_add_service(t, &k));
}

static void add_key(struct lb_keyset *ks, const char *addr, uint16_t port)
{
	struct lb_key k = key(addr, port);

	assert_int_equal(lb_keyset_add(ks, &k), 0);
}

/* The set as text, "TCP 11.0.0.1:80,TCP 11.0.0.2:80", in its order. */
static const char *keys_text(const struct lb_keyset *ks, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ks->n && off < len; i++) {
		char k[64];

		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
		                        lb_key_format(&ks->keys[i], k, sizeof(k)));
	}
	return buf;
}

static void test_union_is_written_ahead_and_sorted(void **state)
{
	struct lb_keyset owned, out;
	struct lb_table desired;
	char buf[256];

	(void)state;
	lb_keyset_init(&owned);
	lb_keyset_init(&out);
	lb_table_init(&desired);
	add_key(&owned, "11.0.0.3", 80);
	add_key(&owned, "11.0.0.1", 80);
	lb_keyset_sort(&owned);
	add_svc(&desired, "11.0.0.2", 80);
	add_svc(&desired, "11.0.0.1", 80);
	assert_int_equal(dataplane_owned_union(&owned, &desired, &out), 0);
	/* Every service about to be made is owned before it is made; one
	 * owned and desired counts once. */
	assert_string_equal(keys_text(&out, buf, sizeof(buf)),
	                    "TCP 11.0.0.1:80,TCP 11.0.0.2:80,TCP 11.0.0.3:80");
	assert_true(out.sorted);
	assert_int_equal(owned.n, 2);
	lb_keyset_free(&owned);
	lb_keyset_free(&out);
	lb_table_free(&desired);
}

/* The same union when both inputs are sorted (a round's own copy): one
 * merge, the same answer. */
static void test_union_of_sorted_inputs(void **state)
{
	struct lb_keyset owned, out;
	struct lb_table desired;
	char buf[256];

	(void)state;
	lb_keyset_init(&owned);
	lb_keyset_init(&out);
	lb_table_init(&desired);
	add_key(&owned, "11.0.0.1", 80);
	add_key(&owned, "11.0.0.3", 80);
	add_key(&owned, "fd00::1", 80);
	lb_keyset_sort(&owned);
	add_svc(&desired, "11.0.0.4", 80);
	add_svc(&desired, "11.0.0.1", 80);
	add_svc(&desired, "11.0.0.2", 80);
	assert_int_equal(lb_table_sort(&desired), 0);
	assert_int_equal(dataplane_owned_union(&owned, &desired, &out), 0);
	assert_string_equal(keys_text(&out, buf, sizeof(buf)),
	                    "TCP 11.0.0.1:80,TCP 11.0.0.2:80,TCP 11.0.0.3:80,TCP 11.0.0.4:80,"
	                    "TCP [fd00::1]:80");
	assert_true(out.sorted);
	lb_keyset_free(&owned);
	lb_keyset_free(&out);
	lb_table_free(&desired);
}

static void test_after_keeps_what_may_still_need_deleting(void **state)
{
	struct lb_keyset before, deleted, out;
	struct lb_table desired, observed;
	char buf[256];

	(void)state;
	lb_keyset_init(&before);
	lb_keyset_init(&deleted);
	lb_keyset_init(&out);
	lb_table_init(&desired);
	lb_table_init(&observed);
	add_key(&before, "11.0.0.1", 80); /* left desired, delete failed: still there */
	add_key(&before, "11.0.0.2", 80); /* still desired */
	add_key(&before, "11.0.0.3", 80); /* gone before the round (someone deleted it) */
	add_key(&before, "11.0.0.4", 80); /* deleted by this round */
	lb_keyset_sort(&before);
	add_svc(&desired, "11.0.0.2", 80);
	add_svc(&desired, "11.0.0.5", 80); /* new */
	add_svc(&observed, "11.0.0.1", 80);
	add_svc(&observed, "11.0.0.2", 80);
	add_svc(&observed, "11.0.0.4", 80);
	add_svc(&observed, "11.0.0.9", 80); /* an operator's: never vipd's */
	add_key(&deleted, "11.0.0.4", 80);
	lb_keyset_sort(&deleted);
	assert_int_equal(dataplane_owned_after(&before, &desired, &observed, &deleted, &out), 0);
	assert_string_equal(keys_text(&out, buf, sizeof(buf)),
	                    "TCP 11.0.0.1:80,TCP 11.0.0.2:80,TCP 11.0.0.5:80");
	assert_true(out.sorted);
	lb_keyset_free(&before);
	lb_keyset_free(&deleted);
	lb_keyset_free(&out);
	lb_table_free(&desired);
	lb_table_free(&observed);
}

static void test_after_empty_desired_forgets_deleted(void **state)
{
	struct lb_keyset before, deleted, out;
	struct lb_table desired, observed;

	(void)state;
	lb_keyset_init(&before);
	lb_keyset_init(&deleted);
	lb_keyset_init(&out);
	lb_table_init(&desired);
	lb_table_init(&observed);
	add_key(&before, "11.0.0.1", 80);
	add_key(&before, "fd00::1", 80);
	lb_keyset_sort(&before);
	add_svc(&observed, "11.0.0.1", 80);
	add_svc(&observed, "fd00::1", 80);
	add_key(&deleted, "fd00::1", 80);
	add_key(&deleted, "11.0.0.1", 80);
	lb_keyset_sort(&deleted);
	assert_int_equal(dataplane_owned_after(&before, &desired, &observed, &deleted, &out), 0);
	assert_int_equal(out.n, 0);
	lb_keyset_free(&before);
	lb_keyset_free(&deleted);
	lb_keyset_free(&out);
	lb_table_free(&desired);
	lb_table_free(&observed);
}

static void test_table_addrs_distinct_sorted(void **state)
{
	struct lb_table t;
	struct lb_key k = key("11.0.0.2", 53);
	struct lb_addr *a = NULL;
	size_t n = 99;
	char buf[64];

	(void)state;
	lb_table_init(&t);
	add_svc(&t, "fd00::1", 80);
	add_svc(&t, "11.0.0.2", 80);
	add_svc(&t, "11.0.0.1", 443);
	k.protocol = IPPROTO_UDP;
	assert_non_null(lb_table_add_service(&t, &k)); /* same address, other protocol */
	add_svc(&t, "11.0.0.2", 443);
	assert_int_equal(dataplane_table_addrs(&t, &a, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(lb_addr_format(&a[0], buf, sizeof(buf)), "11.0.0.1");
	assert_string_equal(lb_addr_format(&a[1], buf, sizeof(buf)), "11.0.0.2");
	assert_string_equal(lb_addr_format(&a[2], buf, sizeof(buf)), "fd00::1");
	free(a);
	lb_table_free(&t);
	lb_table_init(&t);
	assert_int_equal(dataplane_table_addrs(&t, &a, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(a);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_union_is_written_ahead_and_sorted),
	    cmocka_unit_test(test_union_of_sorted_inputs),
	    cmocka_unit_test(test_after_keeps_what_may_still_need_deleting),
	    cmocka_unit_test(test_after_empty_desired_forgets_deleted),
	    cmocka_unit_test(test_table_addrs_distinct_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
