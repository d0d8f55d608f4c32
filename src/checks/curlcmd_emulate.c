/*
 * The exit status a recognised curl command would give under a real shell,
 * computed from the HTTP exchange, quirks included, as a stream over the
 * body so nothing is kept. Each rule was measured on Debian 12 (dash 0.5.12,
 * bash 5.2, busybox 1.35, curl 7.88) and is checked against the real shells
 * by tests/unit/test_curlcmd_diff.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vipd/curlcmd.h"

/* The CURLcode the curl tool returns as its exit status for -f. */
#define CURL_EXIT_HTTP_RETURNED_ERROR 22

/* Exit status of `test` / `[` when it cannot parse its arguments. */
#define TEST_SYNTAX_ERROR 2

void curlcmd_emu_init(struct curlcmd_emu *e, const struct curlcmd *c, enum curlcmd_shell shell)
{
	memset(e, 0, sizeof(*e));
	e->cmd = c;
	e->shell = shell;
	e->at_field = true;
}

/* dash's test cannot parse `==`: it exits 2 and quotes its first operand. */
static bool dash_double_equals(const struct curlcmd_emu *e)
{
	return e->cmd->test_double_equals && e->shell == CURLCMD_SHELL_DASH;
}

static void operand_keep(struct curlcmd_emu *e, char ch)
{
	if (ch == '\n') {
		e->newlines_held++;
		return;
	}
	for (; e->newlines_held > 0 && e->operand_len < sizeof(e->operand) - 1; e->newlines_held--)
		e->operand[e->operand_len++] = '\n';
	e->newlines_held = 0;
	if (e->operand_len < sizeof(e->operand) - 1)
		e->operand[e->operand_len++] = ch;
}

/*
 * One byte of the test operand, i.e. of the output of "$(...)": dash, bash
 * and busybox sh all drop NUL bytes there (bash warns "ignored null byte in
 * input") and strip every trailing newline, so the operand equals `expect`
 * exactly when the output, NULs aside, is `expect` followed by newlines.
 */
static void operand_put(struct curlcmd_emu *e, char ch)
{
	size_t want = strlen(e->cmd->expect);

	if (ch == '\0')
		return;
	if (dash_double_equals(e))
		operand_keep(e, ch);
	if (e->mismatch)
		return;
	if (e->matched < want && ch == e->cmd->expect[e->matched])
		e->matched++;
	else if (e->matched < want || ch != '\n')
		e->mismatch = true;
}

/*
 * cut -f1 -d" ": per line, the text before the first space (the whole line
 * when it has none), each followed by a newline, the last line too when it
 * had none. GNU cut treats NUL as an ordinary byte; busybox's cut applet
 * (which busybox sh runs rather than /usr/bin/cut) ends a line at NUL as at
 * a newline.
 */
static void cut_put(struct curlcmd_emu *e, char ch)
{
	bool nul_ends_line = e->shell == CURLCMD_SHELL_BUSYBOX;

	if (ch == '\n' || (ch == '\0' && nul_ends_line)) {
		operand_put(e, '\n');
		e->at_field = true;
		e->line_open = false;
		return;
	}
	e->line_open = true;
	if (!e->at_field)
		return;
	if (ch == ' ')
		e->at_field = false;
	else
		operand_put(e, ch);
}

/* One byte of curl's stdout, through the rest of the pipeline. */
static void stdout_put(struct curlcmd_emu *e, char ch)
{
	if (e->cmd->form != CURLCMD_FORM_TEST)
		return;
	if (e->cmd->cut_first_field)
		cut_put(e, ch);
	else
		operand_put(e, ch);
}

void curlcmd_emu_body(struct curlcmd_emu *e, const void *data, size_t len)
{
	const char *p = data;
	size_t i;

	if (e->cmd->output_null)
		return;
	for (i = 0; i < len; i++)
		stdout_put(e, p[i]);
}

/*
 * curl -f: with CURLOPT_FAILONERROR libcurl gives up with 22 once it has
 * the headers of a response >= 400, before any body byte, and its CURLcode
 * is the curl tool's exit status. A transfer made without it went on past
 * those headers: a status >= 400 means the curl tool would have stopped
 * there with 22, whatever happened to the rest of the body.
 */
static bool failed_on_status(const struct curlcmd *c, int curl_code, long http_status,
                             bool failonerror)
{
	if (!c->fail)
		return false;
	if (curl_code == CURL_EXIT_HTTP_RETURNED_ERROR)
		return true;
	return http_status >= 400 && (curl_code == 0 || !failonerror);
}

/*
 * test "$x" == NNN: dash's test has no `==` (POSIX has `=`) and, with three
 * arguments whose middle one is not a binary operator, fails with
 * "unexpected operator", exit 2, whatever $x is. bash's and busybox's test
 * take `==` as `=` and, with three arguments, always compare the strings.
 */
static int test_exit(const struct curlcmd_emu *e)
{
	if (dash_double_equals(e))
		return TEST_SYNTAX_ERROR;
	return !e->mismatch && e->matched == strlen(e->cmd->expect) ? 0 : 1;
}

/*
 * curl -o /dev/null -w '%{http_code}' | grep -q NNN: the output is only the
 * three-digit code (and a newline), so grep matches exactly when the code is
 * NNN; the pipeline's status is grep's (sh has no pipefail).
 */
static int grep_exit(const struct curlcmd *c, long http_status)
{
	char code[24];

	snprintf(code, sizeof(code), "%03ld", http_status);
	return strstr(code, c->expect) != NULL ? 0 : 1;
}

/* curl's own status; `A || exit N` turns any failure of A into N. */
static int plain_exit(const struct curlcmd *c, int curl_code, long http_status)
{
	int code = curl_code;

	if (failed_on_status(c, curl_code, http_status, true))
		code = CURL_EXIT_HTTP_RETURNED_ERROR;
	if (code != 0 && c->or_exit >= 0)
		return c->or_exit;
	return code;
}

int curlcmd_emu_finish(struct curlcmd_emu *e, int curl_code, long http_status)
{
	const struct curlcmd *c = e->cmd;
	char code[24];
	size_t i;

	switch (c->form) {
	case CURLCMD_FORM_PLAIN:
		return plain_exit(c, curl_code, http_status);
	case CURLCMD_FORM_GREP:
		return grep_exit(c, http_status);
	case CURLCMD_FORM_TEST:
		break;
	}
	/* -w '%{http_code}' is written after the body even when the transfer
	 * failed, as three digits: "000" when no response arrived. */
	if (c->write_code) {
		snprintf(code, sizeof(code), "%03ld", http_status);
		for (i = 0; code[i] != '\0'; i++)
			stdout_put(e, code[i]);
	}
	if (c->write_newline)
		stdout_put(e, '\n');
	if (c->cut_first_field && e->line_open)
		operand_put(e, '\n');
	e->line_open = false;
	return test_exit(e);
}

/* dash's unary primaries: `test OP == 200` reads `==` as OP's file or string. */
static bool dash_unary_op(const char *s)
{
	return s[0] == '-' && s[1] != '\0' && s[2] == '\0' && strchr("bcdefghkLnOGprsSuwxz", s[1]);
}

/*
 * What dash 0.5.12's test writes for `test X == NNN` (or `[ X == NNN ]`),
 * after its "$0: LINE: " prefix; measured for every kind of X and checked
 * against dash by tests/unit/test_curlcmd_diff.c. Three arguments whose
 * middle one is no binary operator are parsed as an expression: "(" wants
 * its ")", "!" and the unary primaries take `==` as their operand and leave
 * NNN over, -t wants a number; anything else leaves `== NNN` over.
 */
static void dash_test_message(const struct curlcmd_emu *e, char *msg, size_t msglen)
{
	const char *name = e->cmd->test_bracket ? "[" : "test";
	char x[sizeof(e->operand)];

	memcpy(x, e->operand, e->operand_len);
	x[e->operand_len] = '\0';
	if (strcmp(x, "(") == 0)
		snprintf(msg, msglen, "%s: closing paren expected", name);
	else if (strcmp(x, "-t") == 0)
		snprintf(msg, msglen, "%s: Illegal number: ==", name);
	else if (strcmp(x, "!") == 0 || dash_unary_op(x))
		snprintf(msg, msglen, "%s: ==: unexpected operator", name);
	else if (x[0] == '\0')
		snprintf(msg, msglen, "%s: unexpected operator", name);
	else
		snprintf(msg, msglen, "%s: %s: unexpected operator", name, x);
}

const char *curlcmd_emu_message(const struct curlcmd_emu *e, char *msg, size_t msglen)
{
	if (msglen == 0)
		return msg;
	msg[0] = '\0';
	if (e->cmd->form == CURLCMD_FORM_TEST && dash_double_equals(e))
		dash_test_message(e, msg, msglen);
	return msg;
}

int curlcmd_emulate(const struct curlcmd *c, enum curlcmd_shell shell,
                    const struct curlcmd_http_result *r, char *msg, size_t msglen)
{
	struct curlcmd_emu e;
	int curl_code = r->curl_code, code;

	/* The curl tool writes no body for a response -f failed on. */
	if (failed_on_status(c, r->curl_code, r->http_status, r->failonerror))
		curl_code = CURL_EXIT_HTTP_RETURNED_ERROR;
	curlcmd_emu_init(&e, c, shell);
	if (r->body != NULL && curl_code != CURL_EXIT_HTTP_RETURNED_ERROR)
		curlcmd_emu_body(&e, r->body, r->body_len);
	code = curlcmd_emu_finish(&e, curl_code, r->http_status);
	if (msg)
		curlcmd_emu_message(&e, msg, msglen);
	return code;
}
