/*
 * Lint of COMMAND checks: health checks that can never pass, or pass only by
 * accident, found in the command text (recognised by curlcmd or not). Each
 * finding is a code, a one-line message and the suggested fix.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/curlcmd.h"

const char *curlcmd_lint_code_name(enum curlcmd_lint_code c)
{
	switch (c) {
	case CURLCMD_LINT_TEST_DOUBLE_EQUALS:
		return "test_double_equals";
	case CURLCMD_LINT_DOUBLE_BRACKET:
		return "double_bracket";
	case CURLCMD_LINT_BODY_BEFORE_STATUS:
		return "body_before_status";
	case CURLCMD_LINT_PORT_OUT_OF_RANGE:
		return "port_out_of_range";
	case CURLCMD_LINT_NO_STATUS_CHECK:
		return "no_status_check";
	}
	return "invalid";
}

static void add(struct curlcmd_findings *out, enum curlcmd_lint_code code, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(struct curlcmd_findings *out, enum curlcmd_lint_code code, const char *fix,
                const char *fmt, ...)
{
	struct curlcmd_finding *f;
	va_list ap;

	if (out->count == CURLCMD_LINT_MAX)
		return;
	f = &out->items[out->count++];
	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	snprintf(f->fix, sizeof(f->fix), "%s", fix);
}

/* Calls fn for each match of re in s, with the match data. */
static void each_match(const char *re, const char *s,
                       void (*fn)(const char *s, PCRE2_SIZE *ov, int rc, void *arg), void *arg)
{
	int errcode, rc;
	PCRE2_SIZE erroff, start = 0, len = strlen(s);
	pcre2_code *code;
	pcre2_match_data *md;

	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &errcode, &erroff, NULL);
	if (code == NULL)
		return;
	md = pcre2_match_data_create_from_pattern(code, NULL);
	if (md == NULL) {
		pcre2_code_free(code);
		return;
	}
	while (start <= len &&
	       (rc = pcre2_match(code, (PCRE2_SPTR)s, len, start, 0, md, NULL)) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

		fn(s, ov, rc, arg);
		start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	pcre2_match_data_free(md);
	pcre2_code_free(code);
}

struct port_ctx {
	struct curlcmd_findings *out;
	size_t nports;
	unsigned long reported[CURLCMD_LINT_MAX];
	size_t nreported;
};

static void port_found(const char *s, PCRE2_SIZE *ov, int rc, void *arg)
{
	struct port_ctx *ctx = arg;
	int g = rc > 1 && ov[2] != PCRE2_UNSET ? 1 : 2;
	unsigned long idx = strtoul(s + ov[2 * (size_t)g], NULL, 10);
	size_t i;

	if (idx < ctx->nports)
		return;
	for (i = 0; i < ctx->nreported; i++)
		if (ctx->reported[i] == idx)
			return;
	if (ctx->nreported < CURLCMD_LINT_MAX)
		ctx->reported[ctx->nreported++] = idx;
	if (ctx->nports == 0)
		add(ctx->out, CURLCMD_LINT_PORT_OUT_OF_RANGE,
		    "give the app a port definition or use a fixed port",
		    "$PORT%lu: the app has no ports, so it expands to an empty string", idx);
	else
		add(ctx->out, CURLCMD_LINT_PORT_OUT_OF_RANGE,
		    "use a port variable from $PORT0 to the app's last port, or add a port",
		    "$PORT%lu: beyond the app's %zu port(s), it expands to an empty string", idx,
		    ctx->nports);
}

/*
 * Marathon sets PORT0..PORT<n-1> for an app with n ports; a larger index is
 * unset, and the shell expands it to nothing ("localhost:/" is port 80).
 */
static void lint_ports(const char *command, size_t nports, struct curlcmd_findings *out)
{
	struct port_ctx ctx = {out, nports, {0}, 0};

	each_match("\\$(?:\\{PORT([0-9]+)\\}|PORT([0-9]+)(?![A-Za-z0-9_]))", command, port_found,
	           &ctx);
}

static void flag_found(const char *s, PCRE2_SIZE *ov, int rc, void *arg)
{
	(void)s;
	(void)ov;
	(void)rc;
	*(bool *)arg = true;
}

static bool matches(const char *re, const char *s)
{
	bool found = false;

	each_match(re, s, flag_found, &found);
	return found;
}

/*
 * POSIX test has `=`; dash's test fails on `==` with "unexpected operator"
 * (exit 2) whatever the operands, so under Debian's /bin/sh the check can
 * never pass. `[[ ]]` does not exist in dash at all (exit 127).
 */
static void lint_test_syntax(const char *command, struct curlcmd_findings *out)
{
	if (matches("(?:^|[\\s;&|(])(?:test|\\[)\\s.*\\s==\\s", command) &&
	    !matches("\\[\\[", command))
		add(out, CURLCMD_LINT_TEST_DOUBLE_EQUALS, "use `=` to compare strings",
		    "`test ... == ...` is not POSIX: with /bin/sh = dash it always exits 2 "
		    "(\"unexpected operator\")");
	if (matches("(?:^|[\\s;&|(])\\[\\[\\s", command))
		add(out, CURLCMD_LINT_DOUBLE_BRACKET, "use `[ ... = ... ]` or `test`",
		    "`[[ ... ]]` is bash-only: with /bin/sh = dash the check exits 127");
}

/* One curl invocation: its words up to the end of its simple command. */
struct curl_call {
	bool fail;
	bool output_null;
	bool write_code;
	bool piped; /* its output goes into a pipe */
};

/* curl short options that take a value; a cluster ends at the first of them. */
static bool short_takes_value(char c)
{
	return c != '\0' && strchr("AbcCdDeEFHKmoPQrtTuUwxXyYz", c) != NULL;
}

/* A word without its quotes (good enough for option names and /dev/null). */
static void unquote(const char *s, size_t n, char *buf, size_t len)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < len; i++)
		if (s[i] != '\'' && s[i] != '"')
			buf[k++] = s[i];
	buf[k] = '\0';
}

/*
 * Scans the words after `curl` until an unquoted `|`, `;`, `&`, `)` or the
 * end, tracking quotes, and notes the options that matter for the lint.
 */
static const char *scan_curl_call(const char *p, struct curl_call *cc)
{
	char prev[256] = "";

	memset(cc, 0, sizeof(*cc));
	for (;;) {
		const char *w;
		char word[256];
		char quote = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0' || strchr("|;&)", *p) != NULL)
			break;
		w = p;
		while (*p != '\0' && (quote != 0 || strchr(" \t\n|;&)", *p) == NULL)) {
			if (quote == 0 && (*p == '\'' || *p == '"'))
				quote = *p;
			else if (quote != 0 && *p == quote)
				quote = 0;
			p++;
		}
		unquote(w, (size_t)(p - w), word, sizeof(word));
		if (strcmp(word, "--fail") == 0 || strcmp(word, "--fail-with-body") == 0)
			cc->fail = true;
		if (strstr(word, "%{http_code}") != NULL)
			cc->write_code = true;
		if (strcmp(word, "/dev/null") == 0 &&
		    (strcmp(prev, "--output") == 0 ||
		     (prev[0] == '-' && prev[1] != '-' && prev[strlen(prev) - 1] == 'o')))
			cc->output_null = true;
		if (word[0] == '-' && word[1] != '-') {
			const char *q;

			for (q = word + 1; *q != '\0' && !short_takes_value(*q); q++)
				if (*q == 'f')
					cc->fail = true;
			if (*q == 'o' && strcmp(q + 1, "/dev/null") == 0)
				cc->output_null = true;
		}
		snprintf(prev, sizeof(prev), "%s", word);
	}
	cc->piped = *p == '|' && p[1] != '|';
	return p;
}

static void lint_curl_calls(const char *command, struct curlcmd_findings *out)
{
	bool compares = strstr(command, "http_code") != NULL;
	const char *p = command;

	while ((p = strstr(p, "curl")) != NULL) {
		struct curl_call cc;
		bool word_start = p == command || strchr(" \t\n;&|(`", p[-1]) != NULL;

		p += 4;
		if (!word_start || (*p != ' ' && *p != '\t'))
			continue;
		p = scan_curl_call(p, &cc);
		if (cc.write_code && !cc.output_null)
			add(out, CURLCMD_LINT_BODY_BEFORE_STATUS,
			    "add -o /dev/null so that only the status code is written",
			    "curl writes the response body before %%{http_code}: the status test "
			    "sees both and passes only by accident (with bash: an empty body)");
		if (!cc.fail && !compares && !cc.piped)
			add(out, CURLCMD_LINT_NO_STATUS_CHECK,
			    "add -f (--fail) so that HTTP >= 400 fails the check",
			    "curl without -f exits 0 on any HTTP answer, 500 included: the check "
			    "passes whenever the server answers");
	}
}

size_t curlcmd_lint(const char *command, size_t nports, struct curlcmd_findings *out)
{
	out->count = 0;
	lint_test_syntax(command, out);
	lint_curl_calls(command, out);
	lint_ports(command, nports, out);
	return out->count;
}
