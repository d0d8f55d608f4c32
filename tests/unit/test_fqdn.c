/* DC/OS's label rules and FQDN scheme for named VIPs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/fqdn.h"

static void assert_label(const char *name, const char *want)
{
	char out[FQDN_LABEL_MAX + 1];

	assert_true(fqdn_label(name, out, sizeof(out)) > 0);
	assert_string_equal(out, want);
}

static void test_label_rules(void **state)
{
	char out[FQDN_LABEL_MAX + 1], long_name[200];

	(void)state;
	assert_label("/web", "web");
	assert_label("/prod/web", "prodweb");
	assert_label("/Prod/Web", "prodweb");
	assert_label("/my_app.v2", "my-app-v2");
	assert_label("/a+b=c@d", "abcd");
	assert_label("/--web", "web");
	assert_label("/_x", "x");
	assert_label("/-/-a-", "a-");
	assert_label("/über", "ber");
	memset(long_name, 'a', sizeof(long_name));
	long_name[0] = '/';
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(fqdn_label(long_name, out, sizeof(out)), FQDN_LABEL_MAX);
	assert_int_equal(strlen(out), 63);
	assert_int_equal(fqdn_label("/---/__", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(fqdn_label("/+", out, sizeof(out)), -1);
}

static void test_build(void **state)
{
	char out[FQDN_NAME_MAX + 1], err[256];
	size_t n;
	const char *const *zones = fqdn_default_zones(&n);

	(void)state;
	assert_int_equal(n, 4);
	assert_string_equal(zones[0], "l4lb.thisdcos.directory");
	assert_string_equal(zones[1], "l4lb.thisdcos.global");
	assert_string_equal(zones[2], "dclb.thisdcos.directory");
	assert_string_equal(zones[3], "dclb.thisdcos.global");
	assert_int_equal(fqdn_build("/web", FQDN_FRAMEWORK_DEFAULT, zones[0], out, sizeof(out), err,
	                            sizeof(err)),
	                 0);
	assert_string_equal(out, "web.marathon.l4lb.thisdcos.directory");
	assert_int_equal(fqdn_build("/prod/web", "Marathon_User", "Example.COM", out, sizeof(out),
	                            err, sizeof(err)),
	                 0);
	assert_string_equal(out, "prodweb.marathon-user.example.com");
	assert_int_equal(fqdn_build("/__", "marathon", "z", out, sizeof(out), err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "VIP name \"/__\" has no character DNS can use");
	assert_int_equal(fqdn_build("/a", "+", "z", out, sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "framework \"+\" has no character DNS can use");
}

static void test_zone_check(void **state)
{
	char err[256], big[220];

	(void)state;
	assert_int_equal(fqdn_zone_check("l4lb.thisdcos.directory", err, sizeof(err)), 0);
	assert_int_equal(fqdn_zone_check("a", err, sizeof(err)), 0);
	assert_int_equal(fqdn_zone_check(".a", err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "zone \".a\": expected dot-separated labels of letters, digits and "
	                    "'-', each 1 to 63 long, at most 200 characters, no leading or "
	                    "trailing dot");
	assert_int_equal(fqdn_zone_check("a.", err, sizeof(err)), -1);
	assert_int_equal(fqdn_zone_check("a..b", err, sizeof(err)), -1);
	assert_int_equal(fqdn_zone_check("a_b.c", err, sizeof(err)), -1);
	assert_int_equal(fqdn_zone_check("", err, sizeof(err)), -1);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(fqdn_zone_check(big, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label_rules),
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_zone_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
