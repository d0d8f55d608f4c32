/* Unit tests of curl command recognition, URL expansion, emulation and lint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/curlcmd.h"

#define DCOS_DOC                                                                                   \
	"test \"$(curl -4 -w '%{http_code}' -s http://localhost:${PORT0}/|cut -f1 -d\" \")\" == "  \
	"200"

static int run(const char *cmd, enum curlcmd_shell sh, int curl_code, long status, const char *body,
               size_t body_len);
#define RUN(cmd, sh, code, status, lit) run(cmd, sh, code, status, lit, sizeof(lit) - 1)

static struct curlcmd must_recognise(const char *cmd)
{
	struct curlcmd c;
	char why[256];

	if (curlcmd_recognise(cmd, &c, why, sizeof(why)) != 1)
		fail_msg("not recognised: %s: %s", cmd, why);
	return c;
}

static void must_not_recognise(const char *cmd, const char *why_expected)
{
	struct curlcmd c;
	char why[256];

	if (curlcmd_recognise(cmd, &c, why, sizeof(why)) != 0)
		fail_msg("recognised: %s", cmd);
	if (why_expected != NULL)
		assert_string_equal(why, why_expected);
}

static void test_recognise_dcos_doc(void **unused)
{
	struct curlcmd c = must_recognise(DCOS_DOC);

	(void)unused;
	assert_int_equal(c.form, CURLCMD_FORM_TEST);
	assert_string_equal(c.url, "http://localhost:${PORT0}/");
	assert_int_equal(c.ip_version, 4);
	assert_true(c.write_code);
	assert_false(c.write_newline);
	assert_false(c.output_null);
	assert_false(c.fail);
	assert_true(c.cut_first_field);
	assert_true(c.test_double_equals);
	assert_string_equal(c.expect, "200");
	assert_int_equal(c.method, CURLCMD_GET);
}

static void test_recognise_plain(void **unused)
{
	struct curlcmd c;

	(void)unused;
	c = must_recognise("curl -f http://localhost:$PORT0/health");
	assert_int_equal(c.form, CURLCMD_FORM_PLAIN);
	assert_string_equal(c.url, "http://localhost:${PORT0}/health");
	assert_true(c.fail);

	c = must_recognise("curl -sf -o /dev/null http://127.0.0.1:$PORT1/ping");
	assert_true(c.fail);
	assert_true(c.output_null);
	assert_string_equal(c.url, "http://127.0.0.1:${PORT1}/ping");

	c = must_recognise("curl --fail --silent http://$HOST:${PORT0}/");
	assert_true(c.fail);
	assert_string_equal(c.url, "http://${HOST}:${PORT0}/");

	c = must_recognise("  curl -fsSL -k -6 --max-time 2.5 --connect-timeout 1 "
	                   "\"https://localhost:$PORT/a?b=c&d\"\n");
	assert_true(c.fail);
	assert_true(c.location);
	assert_true(c.insecure);
	assert_int_equal(c.ip_version, 6);
	assert_true(c.max_time_s == 2.5);
	assert_true(c.connect_timeout_s == 1.0);
	assert_string_equal(c.url, "https://localhost:${PORT}/a?b=c&d");

	c = must_recognise("curl -m5 -so/dev/null 'http://localhost:8080/x' -f");
	assert_true(c.max_time_s == 5.0);
	assert_true(c.output_null);
	assert_true(c.fail);
	assert_string_equal(c.url, "http://localhost:8080/x");

	c = must_recognise("curl -I http://localhost:\"$PORT0\"/");
	assert_int_equal(c.method, CURLCMD_HEAD);
	assert_false(c.fail);
	assert_string_equal(c.url, "http://localhost:${PORT0}/");
}

static void test_recognise_or_exit(void **unused)
{
	struct curlcmd c;

	(void)unused;
	c = must_recognise("curl -f http://localhost:$PORT0/health");
	assert_int_equal(c.or_exit, -1);
	c = must_recognise("curl -f http://localhost:$PORT0/health || exit 1");
	assert_int_equal(c.form, CURLCMD_FORM_PLAIN);
	assert_int_equal(c.or_exit, 1);
	c = must_recognise("curl -sf http://localhost:$PORT0/||exit 255 ");
	assert_int_equal(c.or_exit, 255);
	must_not_recognise("curl -f http://localhost:$PORT0/ || exit 256", "exit 256: beyond 255");
	must_not_recognise("curl -f http://localhost:$PORT0/ || exit", NULL);
	must_not_recognise("curl -f http://localhost:$PORT0/ || exit $X", NULL);
	must_not_recognise("curl -f http://localhost:$PORT0/ || echo down", NULL);
	assert_int_equal(
	    RUN("curl -sf http://localhost:8080/ || exit 1", CURLCMD_SHELL_DASH, 7, 0, ""), 1);
	assert_int_equal(
	    RUN("curl -sf http://localhost:8080/ || exit 1", CURLCMD_SHELL_BASH, 0, 404, "x"), 1);
	assert_int_equal(
	    RUN("curl -sf http://localhost:8080/ || exit 3", CURLCMD_SHELL_BUSYBOX, 0, 200, "x"),
	    0);
	assert_int_equal(
	    RUN("curl -sf http://localhost:8080/ || exit 0", CURLCMD_SHELL_DASH, 7, 0, ""), 0);
}

static void test_recognise_grep_and_test(void **unused)
{
	struct curlcmd c;

	(void)unused;
	c = must_recognise("curl -s -o /dev/null -w \"%{http_code}\" http://localhost:$PORT0/ | "
	                   "grep -q 200");
	assert_int_equal(c.form, CURLCMD_FORM_GREP);
	assert_true(c.output_null);
	assert_true(c.write_code);
	assert_string_equal(c.expect, "200");

	c = must_recognise("curl -s -o /dev/null -w '%{http_code}\\n' http://localhost:$PORT0/ "
	                   "|grep -q '204'");
	assert_true(c.write_newline);
	assert_string_equal(c.expect, "204");

	c = must_recognise("[ \"$(curl -s -o /dev/null -w '%{http_code}' "
	                   "http://localhost:$PORT0/)\" = \"200\" ]");
	assert_int_equal(c.form, CURLCMD_FORM_TEST);
	assert_false(c.test_double_equals);
	assert_false(c.cut_first_field);
	assert_true(c.output_null);

	c = must_recognise("test \"$(curl -w '%{http_code}' -s http://localhost:${PORT0}/ | cut "
	                   "-d ' ' -f 1)\" = 200");
	assert_true(c.cut_first_field);
	assert_false(c.test_double_equals);
}

static void test_not_recognised(void **unused)
{
	(void)unused;
	must_not_recognise("curl -f http://localhost:$PORT0/ && echo ok", NULL);
	must_not_recognise("curl -f http://localhost:$PORT0/; exit 0", NULL);
	must_not_recognise("curl -f http://localhost:$PORT0/ > /tmp/out", NULL);
	must_not_recognise("curl -f http://localhost:$PORT0/ 2>/dev/null", NULL);
	must_not_recognise("curl -f http://localhost:`cat /port`/", NULL);
	must_not_recognise("curl -f http://localhost:$(cat /port)/", NULL);
	must_not_recognise("curl -f http://localhost:$PORT0/*", NULL);
	must_not_recognise("curl -f http://localhost:$PORT0/{a,b}", NULL);
	must_not_recognise("curl -f ~/x", NULL);
	must_not_recognise("curl -f http://localhost:\\$PORT0/", NULL);
	must_not_recognise("/usr/bin/curl -f http://localhost:8080/", NULL);
	must_not_recognise("curl -f http://localhost:$PORT0/ | grep ok", NULL);
	must_not_recognise("test \"$(curl -s http://localhost:$PORT0/)\" == ok", NULL);
	must_not_recognise("test $(curl -s -w '%{http_code}' http://localhost:$PORT0/) = 200",
	                   NULL);
	must_not_recognise("curl -f -H 'Host: x' http://localhost:$PORT0/",
	                   "curl option -H not modelled");
	must_not_recognise("curl --retry 3 http://localhost:$PORT0/",
	                   "curl option --retry not modelled");
	must_not_recognise(
	    "curl -f http://localhost:$PORT0abc/",
	    "URL \"http://localhost:${PORT0abc}/\": variable not PORT, PORTn or HOST");
	must_not_recognise("curl -f http://localhost:$PORTS/", NULL);
	must_not_recognise("curl -f 'http://localhost:8080/[1-3]'",
	                   "URL \"http://localhost:8080/[1-3]\": character '[' not modelled");
	must_not_recognise("curl -f 'http://x/$PORT0'", NULL);
	must_not_recognise("curl -f localhost:8080/",
	                   "URL \"localhost:8080/\": not http:// or https://");
	must_not_recognise("curl -f -o /tmp/x http://localhost:8080/",
	                   "-o /tmp/x: only /dev/null is modelled");
	must_not_recognise("curl -f -w '%{time_total}' http://localhost:8080/",
	                   "-w %{time_total}: only %{http_code} is modelled");
	must_not_recognise("curl -f -m $T http://localhost:8080/", "-m without a literal value");
	must_not_recognise("curl -4 -6 http://localhost:8080/", "both -4 and -6");
	must_not_recognise("curl http://localhost:8080/ http://localhost:8081/",
	                   "more than one URL");
	must_not_recognise("curl -f", NULL);
	must_not_recognise("curl -s -w '%{http_code}' http://localhost:8080/ | grep -q 200",
	                   "grep without -o /dev/null sees the body");
	must_not_recognise("test \"$(curl -sI -w '%{http_code}' http://localhost:8080/)\" = 200",
	                   "-I writes headers to the output compared");
	must_not_recognise("test \"$(curl -s http://localhost:8080/)\" = 200",
	                   "the output compared has no -w '%{http_code}'");
	must_not_recognise("test \"$(curl -s -w '%{http_code}' http://localhost:8080/|cut -f2 -d\" "
	                   "\")\" = 200",
	                   NULL);
	must_not_recognise("sh -c 'curl -f http://localhost:8080/'", NULL);
	must_not_recognise("", NULL);
}

static void test_url_expand(void **unused)
{
	char *env[] = {"HOST=agent-1.example", "PORT0=31000", "PORT=31000",
	               "PORT1=31001",          "EVIL=a b",    NULL};
	char *bad_env[] = {"PORT0=1 2", NULL};
	char *glob_env[] = {"HOST=[::1]", NULL};
	struct curlcmd c;
	char url[256], err[128];

	(void)unused;
	c = must_recognise("curl -f http://$HOST:${PORT0}/x/$PORT1");
	assert_int_equal(curlcmd_url_expand(&c, env, url, sizeof(url), err, sizeof(err)), 0);
	assert_string_equal(url, "http://agent-1.example:31000/x/31001");
	/* Unset: empty, as in the shell. */
	c = must_recognise("curl -f http://localhost:$PORT2/");
	assert_int_equal(curlcmd_url_expand(&c, env, url, sizeof(url), err, sizeof(err)), 0);
	assert_string_equal(url, "http://localhost:/");
	c = must_recognise("curl -f http://localhost:$PORT0/");
	assert_int_equal(curlcmd_url_expand(&c, bad_env, url, sizeof(url), err, sizeof(err)), -1);
	assert_string_equal(err, "$PORT0=\"1 2\": not a plain host name or port");
	c = must_recognise("curl -f http://$HOST:8080/");
	assert_int_equal(curlcmd_url_expand(&c, glob_env, url, sizeof(url), err, sizeof(err)), -1);
	assert_string_equal(err, "$HOST=\"[::1]\": not a plain host name or port");
	assert_int_equal(curlcmd_url_expand(&c, env, url, 10, err, sizeof(err)), -1);
	assert_string_equal(err, "URL longer than 9 bytes");
}

static int run(const char *cmd, enum curlcmd_shell sh, int curl_code, long status, const char *body,
               size_t body_len)
{
	struct curlcmd c = must_recognise(cmd);
	struct curlcmd_http_result r = {curl_code, status, (const unsigned char *)body, body_len,
	                                false};

	return curlcmd_emulate(&c, sh, &r, NULL, 0);
}

static void test_emulate_plain(void **unused)
{
	const char *f = "curl -sf http://localhost:8080/";
	const char *nf = "curl -s http://localhost:8080/";
	enum curlcmd_shell sh;

	(void)unused;
	for (sh = CURLCMD_SHELL_DASH; sh <= CURLCMD_SHELL_BUSYBOX; sh++) {
		assert_int_equal(RUN(f, sh, 0, 200, "ok"), 0);
		assert_int_equal(RUN(f, sh, 0, 301, ""), 0);
		assert_int_equal(RUN(f, sh, 0, 404, "no"), 22);
		assert_int_equal(RUN(f, sh, 22, 500, ""), 22);
		assert_int_equal(RUN(f, sh, 7, 0, ""), 7);
		assert_int_equal(RUN(f, sh, 28, 0, ""), 28);
		assert_int_equal(RUN(f, sh, 52, 0, ""), 52);
		assert_int_equal(RUN(nf, sh, 0, 500, "boom"), 0);
		assert_int_equal(RUN(nf, sh, 6, 0, ""), 6);
	}
}

/* A transfer without FAILONERROR that stalled in the body of a 404: curl -f stopped at the
 * headers with 22. With FAILONERROR the CURLcode is the curl tool's exit status. */
static void test_emulate_fail_raw_or_strict(void **unused)
{
	struct curlcmd c = must_recognise("curl -sf -m 1 http://localhost:8080/");
	struct curlcmd_http_result raw = {28, 404, (const unsigned char *)"go", 2, false};
	struct curlcmd_http_result strict = {28, 404, NULL, 0, true};
	struct curlcmd_http_result strict22 = {22, 404, NULL, 0, true};

	(void)unused;
	assert_int_equal(curlcmd_emulate(&c, CURLCMD_SHELL_DASH, &raw, NULL, 0), 22);
	assert_int_equal(curlcmd_emulate(&c, CURLCMD_SHELL_DASH, &strict, NULL, 0), 28);
	assert_int_equal(curlcmd_emulate(&c, CURLCMD_SHELL_DASH, &strict22, NULL, 0), 22);
}

static void test_emulate_test_dcos(void **unused)
{
	(void)unused;
	/* dash: `==` is a syntax error whatever the answer. */
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_DASH, 0, 200, ""), 2);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_DASH, 7, 0, ""), 2);
	/* bash: only an empty body passes. */
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 200, ""), 0);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 200, "OK"), 1);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 200, "OK\n"), 1);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 500, ""), 1);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 7, 0, ""), 1);
	/* cut stops at the first space: "200 ok" + "200" -> "200". */
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 200, "200 ok"), 0);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 503, "200 ok"), 0);
	/* A later line whose first field is empty: "200\n x500" -> "200\n" -> "200". */
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 500, "200\n x"), 0);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 200, " x"), 1);
	/* NUL bytes vanish in "$(...)". */
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 200, "\0"), 0);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BUSYBOX, 0, 200, "\0"), 1);
	/* busybox cut ends a line at NUL, GNU cut does not. */
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BUSYBOX, 0, 200, "200\0 x"), 0);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 200, "200\0 x"), 0);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BUSYBOX, 0, 500,
	                     "\0"
	                     "200 x"),
	                 1);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BASH, 0, 500,
	                     "\0"
	                     "200 x"),
	                 0);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BUSYBOX, 0, 200, ""), 0);
	assert_int_equal(RUN(DCOS_DOC, CURLCMD_SHELL_BUSYBOX, 0, 200, "x"), 1);
}

static void test_emulate_test_output_null(void **unused)
{
	const char *eq = "[ \"$(curl -s -o /dev/null -w '%{http_code}' http://localhost:8080/)\" = "
	                 "200 ]";
	const char *eqeq = "test \"$(curl -s -o /dev/null -w '%{http_code}\\n' "
	                   "http://localhost:8080/)\" == 200";
	enum curlcmd_shell sh;

	(void)unused;
	for (sh = CURLCMD_SHELL_DASH; sh <= CURLCMD_SHELL_BUSYBOX; sh++) {
		assert_int_equal(RUN(eq, sh, 0, 200, "anything"), 0);
		assert_int_equal(RUN(eq, sh, 0, 204, ""), 1);
		assert_int_equal(RUN(eq, sh, 7, 0, ""), 1);
		/* a timeout after the status line still writes the code */
		assert_int_equal(RUN(eq, sh, 28, 200, "part"), 0);
	}
	assert_int_equal(RUN(eqeq, CURLCMD_SHELL_DASH, 0, 200, ""), 2);
	assert_int_equal(RUN(eqeq, CURLCMD_SHELL_BASH, 0, 200, ""), 0);
	assert_int_equal(RUN(eqeq, CURLCMD_SHELL_BUSYBOX, 0, 200, ""), 0);
}

static void test_emulate_test_fail_flag(void **unused)
{
	const char *cmd = "test \"$(curl -sf -w '%{http_code}' http://localhost:8080/)\" = 404";

	(void)unused;
	/* -f writes no body for >= 400, with or without FAILONERROR in the transfer. */
	assert_int_equal(RUN(cmd, CURLCMD_SHELL_DASH, 0, 404, "not found"), 0);
	assert_int_equal(RUN(cmd, CURLCMD_SHELL_DASH, 22, 404, ""), 0);
}

static void test_emulate_grep(void **unused)
{
	const char *cmd = "curl -s -o /dev/null -w '%{http_code}' http://localhost:8080/ | grep "
	                  "-q 200";
	enum curlcmd_shell sh;

	(void)unused;
	for (sh = CURLCMD_SHELL_DASH; sh <= CURLCMD_SHELL_BUSYBOX; sh++) {
		assert_int_equal(RUN(cmd, sh, 0, 200, "x"), 0);
		assert_int_equal(RUN(cmd, sh, 0, 201, ""), 1);
		assert_int_equal(RUN(cmd, sh, 7, 0, ""), 1);
		assert_int_equal(RUN(cmd, sh, 28, 200, ""), 0);
	}
}

/* Feeding the body in pieces gives the same as all at once. */
static void test_emulate_streamed(void **unused)
{
	static const char body[] = "200\n x \0y\n";
	struct curlcmd c = must_recognise(DCOS_DOC);
	enum curlcmd_shell sh;
	size_t i;

	(void)unused;
	for (sh = CURLCMD_SHELL_DASH; sh <= CURLCMD_SHELL_BUSYBOX; sh++) {
		struct curlcmd_http_result r = {0, 200, (const unsigned char *)body,
		                                sizeof(body) - 1, false};
		int whole = curlcmd_emulate(&c, sh, &r, NULL, 0);
		struct curlcmd_emu e;

		curlcmd_emu_init(&e, &c, sh);
		for (i = 0; i < sizeof(body) - 1; i++)
			curlcmd_emu_body(&e, body + i, 1);
		assert_int_equal(curlcmd_emu_finish(&e, 0, 200), whole);
	}
}

static void assert_findings(const char *cmd, size_t nports, size_t n,
                            const enum curlcmd_lint_code *codes)
{
	struct curlcmd_findings f;
	size_t i;

	if (curlcmd_lint(cmd, nports, &f) != n) {
		for (i = 0; i < f.count; i++)
			print_message("  %s: %s\n", curlcmd_lint_code_name(f.items[i].code),
			              f.items[i].message);
		fail_msg("%s: %zu findings, expected %zu", cmd, f.count, n);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(f.items[i].code, codes[i]);
}

static void test_lint(void **unused)
{
	struct curlcmd_findings f;
	static const enum curlcmd_lint_code dcos[] = {CURLCMD_LINT_TEST_DOUBLE_EQUALS,
	                                              CURLCMD_LINT_BODY_BEFORE_STATUS};
	static const enum curlcmd_lint_code dcos_port[] = {CURLCMD_LINT_TEST_DOUBLE_EQUALS,
	                                                   CURLCMD_LINT_BODY_BEFORE_STATUS,
	                                                   CURLCMD_LINT_PORT_OUT_OF_RANGE};
	static const enum curlcmd_lint_code nofail[] = {CURLCMD_LINT_NO_STATUS_CHECK};
	static const enum curlcmd_lint_code port[] = {CURLCMD_LINT_PORT_OUT_OF_RANGE};
	static const enum curlcmd_lint_code dbl[] = {CURLCMD_LINT_DOUBLE_BRACKET};

	(void)unused;
	assert_findings(DCOS_DOC, 1, 2, dcos);
	assert_findings(DCOS_DOC, 0, 3, dcos_port);
	assert_findings("curl -f http://localhost:$PORT0/health", 1, 0, NULL);
	assert_findings("curl -sSf -o /dev/null http://localhost:$PORT0/", 1, 0, NULL);
	assert_findings("curl --fail http://localhost:$PORT0/ || exit 1", 1, 0, NULL);
	assert_findings("curl -s http://localhost:$PORT0/", 1, 1, nofail);
	assert_findings("curl -s -o /dev/null http://localhost:$PORT0/ && echo ok", 1, 1, nofail);
	assert_findings("curl -s http://localhost:$PORT0/ | grep -q ok", 1, 0, NULL);
	assert_findings("curl -s -o /dev/null -w '%{http_code}' http://localhost:$PORT0/ | grep -q "
	                "200",
	                1, 0, NULL);
	assert_findings(
	    "[ \"$(curl -so /dev/null -w '%{http_code}' http://localhost:${PORT2}/)\" = "
	    "200 ]",
	    2, 1, port);
	assert_findings("curl -f http://localhost:$PORT1/ && curl -f http://localhost:$PORT1/x", 1,
	                1, port);
	assert_findings("curl -f http://localhost:$PORT10_x/", 1, 0, NULL);
	assert_findings("[[ $(curl -so /dev/null -w '%{http_code}' http://x/) == 200 ]]", 1, 1,
	                dbl);
	assert_findings("/bin/true", 0, 0, NULL);

	curlcmd_lint(DCOS_DOC, 0, &f);
	assert_string_equal(f.items[0].message,
	                    "`test ... == ...` is not POSIX: with /bin/sh = dash it always exits 2 "
	                    "(\"unexpected operator\")");
	assert_string_equal(f.items[0].fix, "use `=` to compare strings");
	assert_string_equal(f.items[1].message,
	                    "curl writes the response body before %{http_code}: the status test "
	                    "sees both and passes only by accident (with bash: an empty body)");
	assert_string_equal(f.items[1].fix,
	                    "add -o /dev/null so that only the status code is written");
	assert_string_equal(f.items[2].message,
	                    "$PORT0: the app has no ports, so it expands to an empty string");
	curlcmd_lint("curl -s http://localhost:$PORT3/", 2, &f);
	assert_string_equal(f.items[0].message,
	                    "curl without -f exits 0 on any HTTP answer, 500 included: the check "
	                    "passes whenever the server answers");
	assert_string_equal(f.items[0].fix, "add -f (--fail) so that HTTP >= 400 fails the check");
	assert_string_equal(f.items[1].message,
	                    "$PORT3: beyond the app's 2 port(s), it expands to an empty string");
}

static void test_names(void **unused)
{
	(void)unused;
	assert_string_equal(curlcmd_form_name(CURLCMD_FORM_PLAIN), "curl");
	assert_string_equal(curlcmd_form_name(CURLCMD_FORM_TEST), "test_http_code");
	assert_string_equal(curlcmd_form_name(CURLCMD_FORM_GREP), "grep_http_code");
	assert_string_equal(curlcmd_shell_name(CURLCMD_SHELL_BUSYBOX), "busybox");
	assert_string_equal(curlcmd_lint_code_name(CURLCMD_LINT_NO_STATUS_CHECK),
	                    "no_status_check");
}

/*
 * The DC/OS form under dash: the native output is dash's own message, with
 * the operand it quotes (body, then the code curl's -w appends); bash takes
 * `==` as `=` and says nothing, nor does dash for `=`.
 */
static void test_emulate_shell_message(void **unused)
{
	const char *dcos = "test \"$(curl -s -w '%{http_code}' http://localhost:$PORT0/)\" == 200";
	const char *bracket = "[ \"$(curl -s -w '%{http_code}' http://localhost:$PORT0/ | cut -f1 "
	                      "-d ' ')\" == \"200\" ]";
	const char *posix = "test \"$(curl -s -w '%{http_code}' http://localhost:$PORT0/)\" = 200";
	struct curlcmd_http_result r = {0, 200, (const unsigned char *)"web-1\n", 6, false};
	struct curlcmd_http_result none = {7, 0, NULL, 0, false};
	char msg[128];
	struct curlcmd c;

	(void)unused;
	c = must_recognise(dcos);
	assert_int_equal(curlcmd_emulate(&c, CURLCMD_SHELL_DASH, &r, msg, sizeof(msg)), 2);
	assert_string_equal(msg, "test: web-1\n200: unexpected operator");
	assert_int_equal(curlcmd_emulate(&c, CURLCMD_SHELL_DASH, &none, msg, sizeof(msg)), 2);
	assert_string_equal(msg, "test: 000: unexpected operator");
	assert_int_equal(curlcmd_emulate(&c, CURLCMD_SHELL_BASH, &r, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "");
	c = must_recognise(bracket);
	assert_int_equal(curlcmd_emulate(&c, CURLCMD_SHELL_DASH, &r, msg, sizeof(msg)), 2);
	assert_string_equal(msg, "[: web-1\n200: unexpected operator");
	c = must_recognise(posix);
	assert_int_equal(curlcmd_emulate(&c, CURLCMD_SHELL_DASH, &r, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "");
	/* The message is cut to the buffer, never overrun. */
	c = must_recognise(dcos);
	assert_int_equal(curlcmd_emulate(&c, CURLCMD_SHELL_DASH, &r, msg, 8), 2);
	assert_string_equal(msg, "test: w");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recognise_dcos_doc),
	    cmocka_unit_test(test_recognise_plain),
	    cmocka_unit_test(test_recognise_or_exit),
	    cmocka_unit_test(test_recognise_grep_and_test),
	    cmocka_unit_test(test_not_recognised),
	    cmocka_unit_test(test_url_expand),
	    cmocka_unit_test(test_emulate_plain),
	    cmocka_unit_test(test_emulate_fail_raw_or_strict),
	    cmocka_unit_test(test_emulate_test_dcos),
	    cmocka_unit_test(test_emulate_test_output_null),
	    cmocka_unit_test(test_emulate_test_fail_flag),
	    cmocka_unit_test(test_emulate_grep),
	    cmocka_unit_test(test_emulate_streamed),
	    cmocka_unit_test(test_emulate_shell_message),
	    cmocka_unit_test(test_lint),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
