/*
 * Marathon's HTTP verdict (http_verdict.c), the one rule both HTTP clients
 * apply: each rule with the outcome and the audit text a user reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <string.h>

#include "exec_int.h"

static char text[CHECK_OUTPUT_MAX];

static enum check_outcome judge(const struct http_answer *a)
{
	memset(text, '#', sizeof(text));
	return http_verdict(a, text, sizeof(text));
}

static struct http_answer answer(long status, const char *body)
{
	struct http_answer a = {.curl_code = CURLE_OK,
	                        .status = status,
	                        .body = body,
	                        .body_len = body ? strlen(body) : 0};
	return a;
}

static pcre2_code *compile(const char *pattern)
{
	PCRE2_SIZE offset;
	int code;
	pcre2_code *re =
	    pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &offset, NULL);

	assert_non_null(re);
	return re;
}

/* 200-399 healthy, the edges included; 3xx is not followed, so healthy. */
static void test_2xx_3xx_healthy(void **state)
{
	struct http_answer a = answer(200, "all good");

	(void)state;
	assert_int_equal(judge(&a), CHECK_OK);
	assert_string_equal(text, "HTTP 200 all good");
	a = answer(399, NULL);
	assert_int_equal(judge(&a), CHECK_OK);
	assert_string_equal(text, "HTTP 399");
	a = answer(301, "moved");
	assert_int_equal(judge(&a), CHECK_OK);
	assert_string_equal(text, "HTTP 301 moved");
}

static void test_other_statuses_unhealthy(void **state)
{
	struct http_answer a = answer(400, "bad");

	(void)state;
	assert_int_equal(judge(&a), CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(text, "HTTP 400 bad");
	a = answer(503, NULL);
	assert_int_equal(judge(&a), CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(text, "HTTP 503");
	a = answer(199, NULL);
	assert_int_equal(judge(&a), CHECK_FAIL_HTTP_STATUS);
	a = answer(600, NULL);
	assert_int_equal(judge(&a), CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(text, "HTTP 600");
}

/* A lone 1xx: ignored (neither healthy nor unhealthy) only under
 * ignoreHttp1xx, whether the transfer then ended or timed out. */
static void test_lone_1xx(void **state)
{
	struct http_answer a = answer(102, NULL);

	(void)state;
	a.curl_code = CURLE_GOT_NOTHING;
	a.error = "Empty reply from server";
	assert_int_equal(judge(&a), CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(text, "HTTP 102, then Server returned nothing (no headers, no data)");
	a.ignore_http1xx = true;
	assert_int_equal(judge(&a), CHECK_IGNORED);
	assert_string_equal(text, "HTTP 102, then Server returned nothing (no headers, no data)");
	a.curl_code = CURLE_OPERATION_TIMEDOUT;
	a.error = "Operation timed out after 300 milliseconds with 0 bytes received";
	assert_int_equal(judge(&a), CHECK_IGNORED);
	assert_string_equal(text, "HTTP 102, then Timeout was reached");
	a.ignore_http1xx = false;
	assert_int_equal(judge(&a), CHECK_FAIL_HTTP_STATUS);
	/* a complete answer with a 1xx status (libcurl can report one) */
	a = answer(100, NULL);
	a.ignore_http1xx = true;
	assert_int_equal(judge(&a), CHECK_IGNORED);
	assert_string_equal(text, "HTTP 100");
}

/* The regex applies to healthy statuses only, and never rescues a bad one. */
static void test_body_regex(void **state)
{
	pcre2_code *re = compile("status: (green|yellow)");
	struct http_answer a = answer(200, "status: yellow");

	(void)state;
	a.body_regex = re;
	assert_int_equal(judge(&a), CHECK_OK);
	assert_string_equal(text, "HTTP 200 status: yellow");
	a = answer(200, "status: red\n");
	a.body_regex = re;
	assert_int_equal(judge(&a), CHECK_FAIL_BODY);
	assert_string_equal(text, "HTTP 200, body does not match: status: red.");
	a = answer(204, NULL);
	a.body_regex = re;
	assert_int_equal(judge(&a), CHECK_FAIL_BODY);
	assert_string_equal(text, "HTTP 204, body does not match:");
	a = answer(500, "status: green");
	a.body_regex = re;
	assert_int_equal(judge(&a), CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(text, "HTTP 500 status: green");
	pcre2_code_free(re);
}

/* The table build's check of a VIPD_BODY_REGEX label (vipctl validate, vipd
 * --check-config) refuses exactly what the HTTP check would not compile,
 * in the check's words; an empty pattern matches every body. */
static void test_body_regex_check(void **state)
{
	char err[256] = "";
	pcre2_code *re;

	(void)state;
	assert_int_equal(http_body_regex_check("^ok$", err, sizeof(err)), 0);
	assert_int_equal(http_body_regex_check("", err, sizeof(err)), 0);
	assert_int_equal(http_body_regex_check("(ok", err, sizeof(err)), -1);
	assert_string_equal(err, "body regex \"(ok\" at offset 3: missing closing parenthesis");
	assert_int_equal(http_body_regex_check("a{2,1}", err, sizeof(err)), -1);
	assert_string_equal(
	    err, "body regex \"a{2,1}\" at offset 5: numbers out of order in {} quantifier");
	re = http_body_regex_compile("a{2,1}", err, sizeof(err));
	assert_null(re);
	assert_string_equal(
	    err, "body regex \"a{2,1}\" at offset 5: numbers out of order in {} quantifier");
}

/* Transfers that failed before a status decides: the CURLcode does, and the
 * text is the transfer's own, or libcurl's for that code. */
static void test_curl_code_mapping(void **state)
{
	static const struct {
		int code;
		enum check_outcome outcome;
		const char *text;
	} cases[] = {
	    {CURLE_OPERATION_TIMEDOUT, CHECK_FAIL_TIMEOUT, "Timeout was reached"},
	    {CURLE_COULDNT_CONNECT, CHECK_FAIL_CONNECT, "Couldn't connect to server"},
	    {CURLE_COULDNT_RESOLVE_HOST, CHECK_FAIL_CONNECT, "Couldn't resolve host name"},
	    {CURLE_SEND_ERROR, CHECK_FAIL_CONNECT, "Failed sending data to the peer"},
	    {CURLE_RECV_ERROR, CHECK_FAIL_CONNECT, "Failure when receiving data from the peer"},
	    {CURLE_SSL_CONNECT_ERROR, CHECK_FAIL_TLS, "SSL connect error"},
	    {CURLE_PEER_FAILED_VERIFICATION, CHECK_FAIL_TLS,
	     "SSL peer certificate or SSH remote key was not OK"},
	    {CURLE_OUT_OF_MEMORY, CHECK_FAIL_PROTOCOL, "Out of memory"},
	    {CURLE_FAILED_INIT, CHECK_FAIL_INTERNAL, "Failed initialization"},
	    {CURLE_PARTIAL_FILE, CHECK_FAIL_PROTOCOL, "Transferred a partial file"},
	    {CURLE_GOT_NOTHING, CHECK_FAIL_PROTOCOL,
	     "Server returned nothing (no headers, no data)"},
	    {CURLE_UNSUPPORTED_PROTOCOL, CHECK_FAIL_PROTOCOL, "Unsupported protocol"},
	    {CURLE_WRITE_ERROR, CHECK_FAIL_PROTOCOL,
	     "Failed writing received data to disk/application"},
	};
	struct http_answer a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = answer(0, NULL);
		a.curl_code = cases[i].code;
		assert_int_equal(judge(&a), cases[i].outcome);
		assert_string_equal(text, cases[i].text);
		assert_int_equal(http_curl_outcome(cases[i].code), cases[i].outcome);
	}
	/* the transfer's own text wins; a status already in does not decide */
	a = answer(200, "abc");
	a.curl_code = CURLE_PARTIAL_FILE;
	a.error = "transfer closed with 7 bytes remaining to read";
	assert_int_equal(judge(&a), CHECK_FAIL_PROTOCOL);
	assert_string_equal(text, "transfer closed with 7 bytes remaining to read");
	a.error = "";
	assert_int_equal(judge(&a), CHECK_FAIL_PROTOCOL);
	assert_string_equal(text, "Transferred a partial file");
}

/* curl -f's 22 after a status >= 400 ends the transfer early, but the
 * status decides; a write error (our allocation failed) does not. */
static void test_stopped_on_purpose_judged_by_status(void **state)
{
	struct http_answer a = answer(404, "nope");

	(void)state;
	a.curl_code = CURLE_HTTP_RETURNED_ERROR;
	a.error = "The requested URL returned error: 404";
	assert_int_equal(judge(&a), CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(text, "HTTP 404 nope");
	a = answer(200, "xxxx");
	a.curl_code = CURLE_WRITE_ERROR;
	a.error = "Failure writing output to destination";
	assert_int_equal(judge(&a), CHECK_FAIL_PROTOCOL);
	assert_string_equal(text, "Failure writing output to destination");
}

/* The excerpt: printable bytes only, cut at the text's size. */
static void test_excerpt(void **state)
{
	static const char binary[] = "a\tb\x01\xff"
	                             "c";
	char big[2000], want[CHECK_OUTPUT_MAX];
	struct http_answer a = answer(503, binary);

	(void)state;
	assert_int_equal(judge(&a), CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(text, "HTTP 503 a.b..c");
	memset(big, 'y', sizeof(big));
	a = answer(200, NULL);
	a.body = big;
	a.body_len = sizeof(big);
	assert_int_equal(judge(&a), CHECK_OK);
	assert_int_equal(strlen(text), CHECK_OUTPUT_MAX - 1);
	memset(want, 'y', sizeof(want));
	memcpy(want, "HTTP 200 ", 9);
	want[CHECK_OUTPUT_MAX - 1] = '\0';
	assert_string_equal(text, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_2xx_3xx_healthy),
	    cmocka_unit_test(test_other_statuses_unhealthy),
	    cmocka_unit_test(test_lone_1xx),
	    cmocka_unit_test(test_body_regex),
	    cmocka_unit_test(test_body_regex_check),
	    cmocka_unit_test(test_curl_code_mapping),
	    cmocka_unit_test(test_stopped_on_purpose_judged_by_status),
	    cmocka_unit_test(test_excerpt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
