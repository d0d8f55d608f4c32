/*
 * The raw HTTP client's URL reading and request bytes (exec_http_raw_url.c):
 * which URLs it takes as curl would read them, which it leaves to libcurl,
 * the addresses it tries for each, and the request it writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "exec_http_raw_url.h"

static void addr_text(const struct raw_target *t, size_t i, char *buf, size_t len)
{
	const struct sockaddr_storage *ss = &t->addrs[i];
	const void *bin = ss->ss_family == AF_INET
	                      ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
	                      : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	unsigned port =
	    ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
	                                   : ((const struct sockaddr_in6 *)ss)->sin6_port);
	char a[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(ss->ss_family, bin, a, sizeof(a)));
	snprintf(buf, len, "%s %u", a, port);
}

/* Parses url, expects success, and the addresses in order ("a port|b port"). */
static void expect_url(const char *url, int ip_version, const char *name, unsigned port,
                       const char *path, const char *addrs)
{
	struct raw_target t;
	char got[128] = "", one[64];
	size_t i;

	if (raw_target_from_url(&t, url, ip_version) != 0)
		fail_msg("refused: %s -%d", url, ip_version);
	assert_string_equal(t.name, name);
	assert_int_equal(t.port, port);
	assert_string_equal(t.path, path);
	for (i = 0; i < t.naddrs; i++) {
		addr_text(&t, i, one, sizeof(one));
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "|" : "", one);
	}
	assert_string_equal(got, addrs);
}

static void expect_refused(const char *url, int ip_version)
{
	struct raw_target t;

	if (raw_target_from_url(&t, url, ip_version) == 0)
		fail_msg("taken, should go to libcurl: %s -%d", url, ip_version);
}

static void test_urls_taken(void **state)
{
	(void)state;
	expect_url("http://127.0.0.1:8080/health", 0, "127.0.0.1", 8080, "/health",
	           "127.0.0.1 8080");
	expect_url("http://10.0.0.9/", 4, "10.0.0.9", 80, "/", "10.0.0.9 80");
	expect_url("http://10.0.0.9", 0, "10.0.0.9", 80, "", "10.0.0.9 80");
	expect_url("http://10.0.0.9:31000", 0, "10.0.0.9", 31000, "", "10.0.0.9 31000");
	expect_url("http://[::1]:8080/a/b?c=../d", 6, "::1", 8080, "/a/b?c=../d", "::1 8080");
	expect_url("http://[fe80::1]/", 0, "fe80::1", 80, "/", "fe80::1 80");
	expect_url("http://localhost:9000/ping", 0, "localhost", 9000, "/ping",
	           "127.0.0.1 9000|::1 9000");
	expect_url("http://localhost:9000/", 4, "localhost", 9000, "/", "127.0.0.1 9000");
	expect_url("http://localhost:9000/", 6, "localhost", 9000, "/", "::1 9000");
	expect_url("http://localhost:65535//x", 0, "localhost", 65535, "//x",
	           "127.0.0.1 65535|::1 65535");
}

/* Whatever curl would rewrite, resolve, or read otherwise stays on libcurl. */
static void test_urls_left_to_libcurl(void **state)
{
	static const char *const urls[] = {
	    "https://127.0.0.1/",
	    "HTTP://127.0.0.1/",
	    "127.0.0.1:80/",
	    "http://example.com/",
	    "http://LOCALHOST/",
	    "http://localhost./",
	    "http://foo.localhost/",
	    "http://127.1/",       /* curl normalises it to 127.0.0.1 */
	    "http://0x7f.0.0.1/",  /* and this */
	    "http://127.000.0.1/", /* leading zeros */
	    "http://[0:0::1]/",    /* curl writes ::1 */
	    "http://[::FFFF:1.2.3.4]/",
	    "http://[fe80::1%25eth0]/", /* a zone */
	    "http://[::1/",
	    "http://user@127.0.0.1/",
	    "http://127.0.0.1:/",
	    "http://127.0.0.1:0/",
	    "http://127.0.0.1:080/",
	    "http://127.0.0.1:65536/",
	    "http://127.0.0.1:123456/",
	    "http://127.0.0.1:80x/",
	    "http://127.0.0.1?x",
	    "http://127.0.0.1#x",
	    "http://127.0.0.1/a/../b",
	    "http://127.0.0.1/./b",
	    "http://127.0.0.1/a/..",
	    "http://127.0.0.1/%2e%2E/b",
	    "http://127.0.0.1/a#frag",
	    "http://127.0.0.1/a?b#frag",
	    "http://127.0.0.1/a b",
	    "http://127.0.0.1/a\\b",
	    "http://127.0.0.1/\x7f",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		expect_refused(urls[i], 0);
	/* -4/-6 that the address cannot meet: libcurl reports it. */
	expect_refused("http://[::1]/", 4);
	expect_refused("http://127.0.0.1/", 6);
}

/* The port at each length curl accepts, and a leading zero refused at each
 * (curl writes the port back without it). The digits are looked at from the
 * colon on: the clang UBSan build aborted here on the first URL with a port
 * when the first digit was reached by a negative unsigned index. */
static void test_port_digits(void **state)
{
	static const char *const refused[] = {
	    "http://127.0.0.1:0/",     "http://127.0.0.1:01/",     "http://127.0.0.1:001/",
	    "http://127.0.0.1:0001/",  "http://127.0.0.1:00001/",  "http://127.0.0.1:65536/",
	    "http://127.0.0.1:99999/", "http://127.0.0.1:100000/",
	};
	size_t i;

	(void)state;
	expect_url("http://127.0.0.1:1/", 0, "127.0.0.1", 1, "/", "127.0.0.1 1");
	expect_url("http://127.0.0.1:80/", 0, "127.0.0.1", 80, "/", "127.0.0.1 80");
	expect_url("http://127.0.0.1:808/x", 0, "127.0.0.1", 808, "/x", "127.0.0.1 808");
	expect_url("http://127.0.0.1:8080", 0, "127.0.0.1", 8080, "", "127.0.0.1 8080");
	expect_url("http://[::1]:10000/", 0, "::1", 10000, "/", "::1 10000");
	expect_url("http://localhost:65535/", 4, "localhost", 65535, "/", "127.0.0.1 65535");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		expect_refused(refused[i], 0);
}

static void test_marathon_targets(void **state)
{
	struct raw_target t;

	(void)state;
	assert_int_equal(raw_target_from_host(&t, "10.1.2.3", 8080, "health", 0), 0);
	assert_string_equal(t.name, "10.1.2.3");
	assert_int_equal(t.naddrs, 1);
	assert_int_equal(raw_target_from_host(&t, "[::0001]", 80, NULL, 0), 0);
	assert_string_equal(t.name, "::1");
	assert_true(t.ipv6_literal);
	assert_int_equal(raw_target_from_host(&t, "localhost", 80, NULL, 0), -1);
	assert_int_equal(raw_target_from_host(&t, "10.1.2.3", 0, NULL, 0), -1);
	assert_int_equal(raw_target_from_host(&t, "10.1.2.3", 70000, NULL, 0), -1);
	assert_int_equal(raw_target_from_host(&t, "10.1.2.3", 80, "/a/../b", 0), -1);
}

static void expect_request(const char *url, bool head, bool close, const char *want)
{
	struct raw_target t;
	char buf[RAW_REQUEST_MAX];
	int n;

	assert_int_equal(raw_target_from_url(&t, url, 0), 0);
	n = raw_request_build(buf, sizeof(buf), &t, head, "curl/7.88.1", close);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(want));
	assert_string_equal(buf, want);
}

/* The curl tool's bytes: Host without the default port, IPv6 in brackets. */
static void test_request_bytes(void **state)
{
	struct raw_target t;
	char small[32];

	(void)state;
	expect_request("http://localhost:8080/x?y", false, false,
	               "GET /x?y HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\n"
	               "Accept: */*\r\n\r\n");
	expect_request("http://10.0.0.9:80", true, false,
	               "HEAD / HTTP/1.1\r\nHost: 10.0.0.9\r\nUser-Agent: curl/7.88.1\r\n"
	               "Accept: */*\r\n\r\n");
	expect_request("http://[::1]:81/", false, true,
	               "GET / HTTP/1.1\r\nHost: [::1]:81\r\nUser-Agent: curl/7.88.1\r\n"
	               "Accept: */*\r\nConnection: close\r\n\r\n");
	assert_int_equal(raw_target_from_url(&t, "http://10.0.0.9/", 0), 0);
	assert_int_equal(raw_request_build(small, sizeof(small), &t, false, "curl", false), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_urls_taken),    cmocka_unit_test(test_urls_left_to_libcurl),
	    cmocka_unit_test(test_port_digits),   cmocka_unit_test(test_marathon_targets),
	    cmocka_unit_test(test_request_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
