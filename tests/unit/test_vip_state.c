/* The named VIPs' records in the state file: a restart reads back every
 * name's addresses and freeing time; the owned set and the records each
 * survive the other's save; an older file without records reads as none;
 * a malformed record is refused with its located message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vipd/dataplane.h"
#include "vipd/vip.h"

static char dir[] = "/tmp/vip_state.XXXXXX";
static char path[64];

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/owned.json", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return rmdir(dir);
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_roundtrip_keeps_owned(void **state)
{
	struct vip_records r = {0}, back;
	struct vip_record web = {.name = "/web"}, old = {.name = "/old", .freed_at = 1700000000};
	struct lb_keyset owned, owned_back;
	struct lb_key k = {.protocol = IPPROTO_TCP, .port = 80};
	char err[256], buf[64];

	(void)state;
	assert_int_equal(lb_addr_parse("11.0.0.7", &web.addr), 0);
	assert_int_equal(lb_addr_parse("fd01:c::7", &web.addr6), 0);
	assert_int_equal(lb_addr_parse("11.0.0.9", &old.addr), 0);
	assert_int_equal(vip_records_put(&r, &web), 0);
	assert_int_equal(vip_records_put(&r, &old), 0);
	lb_keyset_init(&owned);
	assert_int_equal(lb_addr_parse("11.0.0.7", &k.addr), 0);
	assert_int_equal(lb_keyset_add(&owned, &k), 0);
	assert_int_equal(dataplane_state_save(path, &owned, err, sizeof(err)), 0);
	assert_int_equal(dataplane_state_save_vips(path, &r, err, sizeof(err)), 0);
	/* the owned set's next save keeps the records, and the reverse */
	assert_int_equal(dataplane_state_save(path, &owned, err, sizeof(err)), 0);
	assert_int_equal(dataplane_state_load_vips(path, &back, err, sizeof(err)), 0);
	assert_true(vip_records_equal(&r, &back));
	assert_string_equal(lb_addr_format(&vip_records_find(&back, "/web")->addr6, buf, 64),
	                    "fd01:c::7");
	assert_int_equal(vip_records_find(&back, "/old")->freed_at, 1700000000);
	assert_int_equal(vip_records_find(&back, "/old")->addr6.af, 0);
	lb_keyset_init(&owned_back);
	assert_int_equal(dataplane_state_load(path, &owned_back, err, sizeof(err)), 0);
	assert_int_equal(owned_back.n, 1);
	lb_keyset_free(&owned_back);
	lb_keyset_free(&owned);
	vip_records_free(&back);
	vip_records_free(&r);
}

static void test_old_file_and_missing(void **state)
{
	struct vip_records back;
	char err[256];

	(void)state;
	(void)unlink(path);
	assert_int_equal(dataplane_state_load_vips(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 0);
	write_file("{\"version\":1,\"owned\":[]}");
	assert_int_equal(dataplane_state_load_vips(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 0);
}

static void expect_error(const char *text, const char *suffix)
{
	struct vip_records back;
	char err[256], want[256];

	write_file(text);
	assert_int_equal(dataplane_state_load_vips(path, &back, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s", path, suffix);
	assert_string_equal(err, want);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_error("{\"version\":1,\"owned\":[],\"vips\":{}}", "/vips: expected an array");
	expect_error("{\"version\":1,\"owned\":[],\"vips\":[{\"name\":\"web\"}]}",
	             "/vips/0/name: expected a VIP name starting with '/'");
	expect_error("{\"version\":1,\"owned\":[],\"vips\":[{\"name\":\"/a\"},"
	             "{\"name\":\"/b\",\"ipv4\":\"fd01:c::1\"}]}",
	             "/vips/1/ipv4: expected an IPv4 address");
	expect_error("{\"version\":1,\"owned\":[],\"vips\":[{\"name\":\"/a\",\"ipv6\":7}]}",
	             "/vips/0/ipv6: expected an IPv6 address");
	expect_error("{\"version\":1,\"owned\":[],\"vips\":[{\"name\":\"/a\",\"freed_at\":-1}]}",
	             "/vips/0/freed_at: expected seconds since the epoch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_keeps_owned),
	    cmocka_unit_test(test_old_file_and_missing),
	    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
