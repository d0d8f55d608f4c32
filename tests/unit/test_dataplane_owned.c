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
#include "lb_fixture.h"

static void test_union_is_written_ahead_and_sorted(void **state)
{
	struct lb_fixture *f = *state;
	char buf[256];

	fixture_add_key(&f->owned, "11.0.0.3", 80);
	fixture_add_key(&f->owned, "11.0.0.1", 80);
	lb_keyset_sort(&f->owned);
	fixture_add_svc(&f->desired, "11.0.0.2", 80);
	fixture_add_svc(&f->desired, "11.0.0.1", 80);
	assert_int_equal(dataplane_owned_union(&f->owned, &f->desired, &f->out), 0);
	/* Every service about to be made is owned before it is made; one
	 * owned and desired counts once. */
	assert_string_equal(fixture_keys_text(&f->out, buf, sizeof(buf)),
	                    "TCP 11.0.0.1:80,TCP 11.0.0.2:80,TCP 11.0.0.3:80");
	assert_true(f->out.sorted);
	assert_int_equal(f->owned.n, 2);
}

/* The same union when both inputs are sorted (a round's own copy): one
 * merge, the same answer. */
static void test_union_of_sorted_inputs(void **state)
{
	struct lb_fixture *f = *state;
	char buf[256];

	fixture_add_key(&f->owned, "11.0.0.1", 80);
	fixture_add_key(&f->owned, "11.0.0.3", 80);
	fixture_add_key(&f->owned, "fd00::1", 80);
	lb_keyset_sort(&f->owned);
	fixture_add_svc(&f->desired, "11.0.0.4", 80);
	fixture_add_svc(&f->desired, "11.0.0.1", 80);
	fixture_add_svc(&f->desired, "11.0.0.2", 80);
	assert_int_equal(lb_table_sort(&f->desired), 0);
	assert_int_equal(dataplane_owned_union(&f->owned, &f->desired, &f->out), 0);
	assert_string_equal(fixture_keys_text(&f->out, buf, sizeof(buf)),
	                    "TCP 11.0.0.1:80,TCP 11.0.0.2:80,TCP 11.0.0.3:80,TCP 11.0.0.4:80,"
	                    "TCP [fd00::1]:80");
	assert_true(f->out.sorted);
}

/* f->owned is what vipd owned before the round. */
static void test_after_keeps_what_may_still_need_deleting(void **state)
{
	struct lb_fixture *f = *state;
	char buf[256];

	fixture_add_key(&f->owned, "11.0.0.1", 80); /* left desired, delete failed: still there */
	fixture_add_key(&f->owned, "11.0.0.2", 80); /* still desired */
	fixture_add_key(&f->owned, "11.0.0.3", 80); /* gone before the round (someone deleted it) */
	fixture_add_key(&f->owned, "11.0.0.4", 80); /* deleted by this round */
	lb_keyset_sort(&f->owned);
	fixture_add_svc(&f->desired, "11.0.0.2", 80);
	fixture_add_svc(&f->desired, "11.0.0.5", 80); /* new */
	fixture_add_svc(&f->observed, "11.0.0.1", 80);
	fixture_add_svc(&f->observed, "11.0.0.2", 80);
	fixture_add_svc(&f->observed, "11.0.0.4", 80);
	fixture_add_svc(&f->observed, "11.0.0.9", 80); /* an operator's: never vipd's */
	fixture_add_key(&f->deleted, "11.0.0.4", 80);
	lb_keyset_sort(&f->deleted);
	assert_int_equal(
	    dataplane_owned_after(&f->owned, &f->desired, &f->observed, &f->deleted, &f->out), 0);
	assert_string_equal(fixture_keys_text(&f->out, buf, sizeof(buf)),
	                    "TCP 11.0.0.1:80,TCP 11.0.0.2:80,TCP 11.0.0.5:80");
	assert_true(f->out.sorted);
}

static void test_after_empty_desired_forgets_deleted(void **state)
{
	struct lb_fixture *f = *state;

	fixture_add_key(&f->owned, "11.0.0.1", 80);
	fixture_add_key(&f->owned, "fd00::1", 80);
	lb_keyset_sort(&f->owned);
	fixture_add_svc(&f->observed, "11.0.0.1", 80);
	fixture_add_svc(&f->observed, "fd00::1", 80);
	fixture_add_key(&f->deleted, "fd00::1", 80);
	fixture_add_key(&f->deleted, "11.0.0.1", 80);
	lb_keyset_sort(&f->deleted);
	assert_int_equal(
	    dataplane_owned_after(&f->owned, &f->desired, &f->observed, &f->deleted, &f->out), 0);
	assert_int_equal(f->out.n, 0);
}

static void test_table_addrs_distinct_sorted(void **state)
{
	struct lb_table t;
	struct lb_key k = fixture_key("11.0.0.2", 53);
	struct lb_addr *a = NULL;
	size_t n = 99;
	char buf[64];

	(void)state;
	lb_table_init(&t);
	fixture_add_svc(&t, "fd00::1", 80);
	fixture_add_svc(&t, "11.0.0.2", 80);
	fixture_add_svc(&t, "11.0.0.1", 443);
	k.protocol = IPPROTO_UDP;
	assert_non_null(lb_table_add_service(&t, &k)); /* same address, other protocol */
	fixture_add_svc(&t, "11.0.0.2", 443);
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
	    cmocka_unit_test_setup_teardown(test_union_is_written_ahead_and_sorted, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_union_of_sorted_inputs, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_after_keeps_what_may_still_need_deleting,
	                                    fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_after_empty_desired_forgets_deleted, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test(test_table_addrs_distinct_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
