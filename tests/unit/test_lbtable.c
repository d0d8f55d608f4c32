/* The IPVS-shaped table: keys, lookups, sorting and its text forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "vipd/lbtable.h"

static struct lb_key key(const char *addr, uint16_t port, uint8_t proto)
{
	struct lb_key k = {.port = port, .protocol = proto};

	assert_int_equal(lb_addr_parse(addr, &k.addr), 0);
	return k;
}

static struct lb_dest dest(const char *addr, uint16_t port, uint32_t weight)
{
	struct lb_dest d = {.port = port, .weight = weight, .fwd = LB_FWD_MASQ};

	assert_int_equal(lb_addr_parse(addr, &d.addr), 0);
	return d;
}

static void test_addr_parse_and_format(void **state)
{
	struct lb_addr a;
	char buf[64];
	struct lb_key k;

	(void)state;
	assert_int_equal(lb_addr_parse("10.0.0.1", &a), 0);
	assert_int_equal(a.af, AF_INET);
	assert_int_equal(lb_addr_parse("fd00::9", &a), 0);
	assert_int_equal(a.af, AF_INET6);
	assert_int_equal(lb_addr_parse("web", &a), -1);
	assert_int_equal(lb_addr_parse("10.0.0", &a), -1);
	k = key("fd00::9", 80, IPPROTO_UDP);
	assert_string_equal(lb_key_format(&k, buf, sizeof(buf)), "UDP [fd00::9]:80");
	k = key("11.0.0.1", 443, IPPROTO_TCP);
	assert_string_equal(lb_key_format(&k, buf, sizeof(buf)), "TCP 11.0.0.1:443");
}

static void test_fwd_names(void **state)
{
	enum lb_fwd f;

	(void)state;
	assert_int_equal(lb_fwd_parse("droute", &f), 0);
	assert_int_equal(f, LB_FWD_DROUTE);
	assert_int_equal(lb_fwd_parse("tunnel", &f), 0);
	assert_string_equal(lb_fwd_name(f), "tunnel");
	assert_int_equal(lb_fwd_parse("nat", &f), -1);
}

static void test_add_find_defaults(void **state)
{
	struct lb_table t;
	struct lb_key k1 = key("11.0.0.1", 80, IPPROTO_TCP), k2 = key("11.0.0.1", 80, IPPROTO_UDP);
	struct lb_service *s;

	(void)state;
	lb_table_init(&t);
	s = lb_table_add_service(&t, &k1);
	assert_non_null(s);
	assert_string_equal(s->sched, "wlc");
	assert_int_equal(s->fwd, LB_FWD_MASQ);
	assert_ptr_equal(lb_table_add_service(&t, &k1), s);
	assert_null(lb_table_find(&t, &k2));
	assert_non_null(lb_table_add_service(&t, &k2));
	assert_int_equal(t.nsvcs, 2);
	assert_int_equal(lb_service_set_sched(lb_table_find(&t, &k2), "rr"), 0);
	assert_int_equal(lb_service_set_sched(lb_table_find(&t, &k2), "a-name-far-too-long"), -1);
	assert_string_equal(lb_table_find(&t, &k2)->sched, "rr");
	lb_table_free(&t);
}

static void test_sort_merges_duplicate_dests(void **state)
{
	struct lb_table t;
	struct lb_key k = key("11.0.0.1", 80, IPPROTO_TCP);
	struct lb_service *s;
	struct lb_dest d;
	struct lb_addr a;

	(void)state;
	lb_table_init(&t);
	s = lb_table_add_service(&t, &k);
	d = dest("10.0.0.3", 80, 1);
	assert_int_equal(lb_service_add_dest(s, &d), 0);
	d = dest("10.0.0.1", 80, 1);
	assert_int_equal(lb_service_add_dest(s, &d), 0);
	d = dest("10.0.0.3", 80, 7);
	assert_int_equal(lb_service_add_dest(s, &d), 0);
	assert_int_equal(lb_table_sort(&t), 0);
	s = lb_table_find(&t, &k);
	assert_int_equal(s->ndests, 2);
	assert_int_equal(lb_addr_parse("10.0.0.3", &a), 0);
	assert_int_equal(lb_service_find_dest(s, &a, 80)->weight, 7);
	assert_null(lb_service_find_dest(s, &a, 81));
	lb_table_free(&t);
}

/* 10,000 services inserted in reverse order: every one found, sorted after. */
static void test_many_services(void **state)
{
	struct lb_table t;
	struct lb_key k = key("11.0.0.0", 80, IPPROTO_TCP);

	(void)state;
	lb_table_init(&t);
	for (uint32_t i = 10000; i > 0; i--) {
		k.addr.u.v4.s_addr = htonl(0x0b000000u + i);
		assert_non_null(lb_table_add_service(&t, &k));
	}
	assert_false(t.sorted);
	assert_int_equal(lb_table_sort(&t), 0);
	for (uint32_t i = 1; i <= 10000; i++) {
		k.addr.u.v4.s_addr = htonl(0x0b000000u + i);
		assert_non_null(lb_table_find(&t, &k));
		if (i > 1)
			assert_true(lb_key_cmp(&t.svcs[i - 2].key, &t.svcs[i - 1].key) < 0);
	}
	lb_table_free(&t);
}

static void test_keyset(void **state)
{
	struct lb_keyset ks;
	struct lb_key a = key("11.0.0.2", 80, IPPROTO_TCP), b = key("11.0.0.1", 80, IPPROTO_TCP);
	struct lb_key c = key("11.0.0.1", 80, IPPROTO_UDP);

	(void)state;
	lb_keyset_init(&ks);
	assert_int_equal(lb_keyset_add(&ks, &a), 0);
	assert_int_equal(lb_keyset_add(&ks, &b), 0);
	assert_int_equal(lb_keyset_add(&ks, &a), 0);
	lb_keyset_sort(&ks);
	assert_int_equal(ks.n, 2);
	assert_true(lb_keyset_contains(&ks, &a));
	assert_true(lb_keyset_contains(&ks, &b));
	assert_false(lb_keyset_contains(&ks, &c));
	lb_keyset_free(&ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_parse_and_format),
	    cmocka_unit_test(test_fwd_names),
	    cmocka_unit_test(test_add_find_defaults),
	    cmocka_unit_test(test_sort_merges_duplicate_dests),
	    cmocka_unit_test(test_many_services),
	    cmocka_unit_test(test_keyset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
