/*
 * Recognition of COMMAND checks that are only a curl call, and expansion of
 * their URL from the task's environment. Anchored PCRE2 patterns accept the
 * whole command or nothing: whatever is not certain runs through the shell.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/curlcmd.h"
#include "vipd/errbuf.h"

/*
 * Shell words we can read with certainty: unquoted characters that no shell
 * expands (no glob, brace, tilde, history, escape or operator characters),
 * single-quoted text, double-quoted text without backslash, backquote or
 * `!`, and $NAME / ${NAME} variables. A word has one reading only, so every
 * group is atomic or possessive: a failing command is rejected in linear
 * time instead of backtracking through every way to cut it into pieces.
 */
#define RE_DEFINE                                                                                  \
	"(?(DEFINE)"                                                                               \
	"(?<var>\\$(?>[A-Za-z_][A-Za-z0-9_]*+|\\{[A-Za-z_][A-Za-z0-9_]*+\\}))"                     \
	"(?<part>(?>[A-Za-z0-9_%+,./:=@-]++|(?&var)|'[^'$]*+'|\"(?>[^\"\\\\$`!]++|(?&var))*+\"))"  \
	"(?<word>(?>(?&part)++))"                                                                  \
	"(?<args>(?>(?:[ \\t]++(?&word))++))"                                                      \
	")"

#define RE_STATUS "(?:[0-9]{3}|\"[0-9]{3}\"|'[0-9]{3}')"
#define RE_SPACE_STR "(?:\" \"|' ')"

/* curl [opts] URL [|| exit N] */
static const char re_plain[] =
    RE_DEFINE "\\A[ \\t\\n]*curl(?<curlargs>(?&args))"
              "(?:[ \\t]*\\|\\|[ \\t]*exit[ \\t]+(?<orexit>[0-9]{1,3}))?[ \\t\\n]*\\z";

/* curl [opts] -o /dev/null -w '%{http_code}' URL | grep -q 200 */
static const char re_grep[] =
    RE_DEFINE "\\A[ \\t\\n]*curl(?<curlargs>(?&args))[ \\t]*\\|"
              "[ \\t]*grep[ \\t]+-q[ \\t]+(?<expect>" RE_STATUS ")[ \\t\\n]*\\z";

/*
 * test "$(curl [opts] -w '%{http_code}' URL [| cut -f1 -d" "])" == 200, the
 * DC/OS documentation's example, with `=` or `==`, and as [ ... ].
 */
static const char re_test[] =
    RE_DEFINE "\\A[ \\t\\n]*(?:test|(?<bracket>\\[))[ \\t]+"
              "\"\\$\\([ \\t]*curl(?<curlargs>(?&args))[ \\t]*"
              "(?<cut>\\|[ \\t]*cut(?:[ \\t]+-f[ \\t]*1[ \\t]+-d[ \\t]*" RE_SPACE_STR
              "|[ \\t]+-d[ \\t]*" RE_SPACE_STR "[ \\t]+-f[ \\t]*1))?[ \\t]*\\)\""
              "[ \\t]+(?<op>==?)[ \\t]+(?<expect>" RE_STATUS ")"
              "(?(bracket)[ \\t]+\\])[ \\t\\n]*\\z";

#define WORD_MAX CURLCMD_URL_MAX
#define WORDS_MAX 32

/* One curl argument after quote removal; variables kept as ${NAME}. */
struct word {
	char text[WORD_MAX];
	bool has_var;
};

const char *curlcmd_form_name(enum curlcmd_form f)
{
	switch (f) {
	case CURLCMD_FORM_PLAIN:
		return "curl";
	case CURLCMD_FORM_TEST:
		return "test_http_code";
	case CURLCMD_FORM_GREP:
		return "grep_http_code";
	}
	return "invalid";
}

const char *curlcmd_shell_name(enum curlcmd_shell s)
{
	switch (s) {
	case CURLCMD_SHELL_DASH:
		return "dash";
	case CURLCMD_SHELL_BASH:
		return "bash";
	case CURLCMD_SHELL_BUSYBOX:
		return "busybox";
	}
	return "invalid";
}

/* Not recognised, with why: 0 as curlcmd_recognise() returns it. */
#define reason(why, whylen, ...) (errbuf_set((why), (whylen), __VA_ARGS__), 0)

#define PATTERN_CACHE_MAX 8

/* The form patterns are compiled once and kept for the process's life:
 * recognition runs on every COMMAND check, and compiling was most of its
 * cost. Keyed by the pattern's address (they are string constants); one
 * thread, so no lock. */
static pcre2_code *pattern_compiled(const char *re, bool *owned)
{
	static struct {
		const char *re;
		pcre2_code *code;
	} cache[PATTERN_CACHE_MAX];
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code;
	size_t i;

	*owned = false;
	for (i = 0; i < PATTERN_CACHE_MAX && cache[i].re; i++)
		if (cache[i].re == re)
			return cache[i].code;
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &errcode, &erroff, NULL);
	if (code == NULL || i == PATTERN_CACHE_MAX) {
		*owned = code != NULL; /* uncached: the caller frees it */
		return code;
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* the interpreter when JIT is absent */
	cache[i].re = re;
	cache[i].code = code;
	return code;
}

/* Matches `re` against the whole command; returns the match data or NULL.
 * *code_out is what the caller must free (NULL for a cached pattern). */
static pcre2_match_data *match_form(const char *re, pcre2_code **code_out, const char *command)
{
	bool owned;
	pcre2_code *code = pattern_compiled(re, &owned);
	pcre2_match_data *md;

	*code_out = NULL;
	if (code == NULL)
		return NULL;
	md = pcre2_match_data_create_from_pattern(code, NULL);
	if (md == NULL ||
	    pcre2_match(code, (PCRE2_SPTR)command, strlen(command), 0, 0, md, NULL) < 0) {
		pcre2_match_data_free(md);
		if (owned)
			pcre2_code_free(code);
		return NULL;
	}
	*code_out = owned ? code : NULL;
	return md;
}

/* The named group's text, or an empty string when it did not take part. */
static void group_text(pcre2_match_data *md, const char *name, char *buf, size_t len)
{
	PCRE2_SIZE n = len;

	if (pcre2_substring_copy_byname(md, (PCRE2_SPTR)name, (PCRE2_UCHAR *)buf, &n) < 0)
		buf[0] = '\0';
}

static bool group_set(pcre2_match_data *md, const char *name)
{
	PCRE2_SIZE n;

	return pcre2_substring_length_byname(md, (PCRE2_SPTR)name, &n) == 0;
}

/* Appends n bytes to w; -1 when the word is too long. */
static int word_append(struct word *w, size_t *used, const char *s, size_t n)
{
	if (*used + n + 1 > sizeof(w->text))
		return -1;
	memcpy(w->text + *used, s, n);
	*used += n;
	w->text[*used] = '\0';
	return 0;
}

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/*
 * Reads a variable at s ("$NAME" or "${NAME}") as the shell does (the
 * longest name), appends "${NAME}" to w. Returns the characters consumed.
 */
static size_t read_var(const char *s, struct word *w, size_t *used, int *err)
{
	size_t i = 1, start, n;
	bool braced = s[1] == '{';

	if (braced)
		i++;
	start = i;
	while (is_name_char(s[i]))
		i++;
	n = i - start;
	if (braced)
		i++;
	if (word_append(w, used, "${", 2) < 0 || word_append(w, used, s + start, n) < 0 ||
	    word_append(w, used, "}", 1) < 0)
		*err = -1;
	w->has_var = true;
	return i;
}

/*
 * Splits the curl arguments (already validated by the pattern) into words,
 * removing quotes. Returns the number of words, -1 when too many or too long.
 */
static int split_words(const char *args, struct word *words, size_t max)
{
	size_t nwords = 0;
	const char *p = args;
	int err = 0;

	for (;;) {
		struct word *w;
		size_t used = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (nwords == max)
			return -1;
		w = &words[nwords++];
		w->text[0] = '\0';
		w->has_var = false;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');

				if (word_append(w, &used, p + 1, (size_t)(end - p - 1)) < 0)
					return -1;
				p = end + 1;
			} else if (*p == '"') {
				p++;
				while (*p != '"') {
					if (*p == '$')
						p += read_var(p, w, &used, &err);
					else if (word_append(w, &used, p++, 1) < 0)
						return -1;
				}
				p++;
			} else if (*p == '$') {
				p += read_var(p, w, &used, &err);
			} else if (word_append(w, &used, p++, 1) < 0) {
				return -1;
			}
			if (err < 0)
				return -1;
		}
	}
	return (int)nwords;
}

/* Marathon/Mesos variables a URL may use: PORT, PORT<n>, HOST. */
static bool allowed_var(const char *name, size_t n)
{
	size_t i;

	if (n == 4 && strncmp(name, "HOST", 4) == 0)
		return true;
	if (n < 4 || strncmp(name, "PORT", 4) != 0)
		return false;
	if (n == 4)
		return true;
	if (n > 9 || (name[4] == '0' && n > 5))
		return false;
	for (i = 4; i < n; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

/*
 * Characters a URL may hold after quote removal. Excluded: whatever curl's
 * URL globbing reads ([]{}), white space, quotes, backslash and controls;
 * '$' only as ${NAME} from split_words().
 */
static int check_url(const char *url, char *why, size_t whylen)
{
	const char *p;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return reason(why, whylen, "URL \"%s\": not http:// or https://", url);
	for (p = url; *p != '\0'; p++) {
		if (*p == '$') {
			const char *name = p + 2;
			const char *end = strchr(name, '}');

			if (p[1] != '{' || end == NULL || !allowed_var(name, (size_t)(end - name)))
				return reason(why, whylen,
				              "URL \"%s\": variable not PORT, PORTn or HOST", url);
			p = end;
			continue;
		}
		if (*p <= ' ' || *p >= 0x7f || strchr("[]{}\\\"'<>^`|", *p) != NULL)
			return reason(why, whylen, "URL \"%s\": character '%c' not modelled", url,
			              *p);
	}
	return 1;
}

/* curl's number syntax for -m / --connect-timeout: digits, optional fraction. */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	const char *p;

	if (*s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++)
		if ((*p < '0' || *p > '9') && *p != '.')
			return -1;
	*out = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

/* Applies an option that takes a value (short letter or long name). */
static int apply_valued(struct curlcmd *c, char opt, const char *value, char *why, size_t whylen)
{
	switch (opt) {
	case 'o':
		if (strcmp(value, "/dev/null") != 0)
			return reason(why, whylen, "-o %s: only /dev/null is modelled", value);
		c->output_null = true;
		return 1;
	case 'w':
		if (strcmp(value, "%{http_code}") == 0) {
			c->write_code = true;
			c->write_newline = false;
			return 1;
		}
		if (strcmp(value, "%{http_code}\\n") == 0) {
			c->write_code = true;
			c->write_newline = true;
			return 1;
		}
		return reason(why, whylen, "-w %s: only %%{http_code} is modelled", value);
	case 'm':
		if (parse_seconds(value, &c->max_time_s) < 0)
			return reason(why, whylen, "-m %s: not a number of seconds", value);
		return 1;
	case 'c':
		if (parse_seconds(value, &c->connect_timeout_s) < 0)
			return reason(why, whylen, "--connect-timeout %s: not a number of seconds",
			              value);
		return 1;
	}
	return reason(why, whylen, "option with a value not modelled");
}

/* Boolean short options curl takes in a cluster such as -fsSL. */
static int apply_flag(struct curlcmd *c, char opt, char *why, size_t whylen)
{
	switch (opt) {
	case 's': /* --silent: stderr only */
	case 'S': /* --show-error: stderr only */
	case 'v': /* --verbose: stderr only */
		return 1;
	case 'f':
		c->fail = true;
		return 1;
	case 'L':
		c->location = true;
		return 1;
	case 'k':
		c->insecure = true;
		return 1;
	case '4':
	case '6':
		if (c->ip_version != 0 && c->ip_version != opt - '0')
			return reason(why, whylen, "both -4 and -6");
		c->ip_version = opt - '0';
		return 1;
	case 'I':
		c->method = CURLCMD_HEAD;
		return 1;
	}
	return reason(why, whylen, "curl option -%c not modelled", opt);
}

struct long_opt {
	const char *name;
	char letter; /* the short equivalent, or 'c' for --connect-timeout */
	bool valued;
};

static const struct long_opt long_opts[] = {
    {"--silent", 's', false},         {"--show-error", 'S', false}, {"--verbose", 'v', false},
    {"--fail", 'f', false},           {"--location", 'L', false},   {"--insecure", 'k', false},
    {"--ipv4", '4', false},           {"--ipv6", '6', false},       {"--head", 'I', false},
    {"--output", 'o', true},          {"--write-out", 'w', true},   {"--max-time", 'm', true},
    {"--connect-timeout", 'c', true},
};

static int parse_options(struct curlcmd *c, const struct word *w, int n, char *why, size_t whylen)
{
	bool have_url = false;
	int i;

	for (i = 0; i < n; i++) {
		const char *t = w[i].text;

		if (t[0] != '-' || t[1] == '\0') {
			if (have_url)
				return reason(why, whylen, "more than one URL");
			if (check_url(t, why, whylen) == 0)
				return 0;
			snprintf(c->url, sizeof(c->url), "%s", t);
			have_url = true;
			continue;
		}
		if (w[i].has_var)
			return reason(why, whylen, "variable in option %s", t);
		if (t[1] == '-') {
			size_t k;

			for (k = 0; k < sizeof(long_opts) / sizeof(long_opts[0]); k++)
				if (strcmp(t, long_opts[k].name) == 0)
					break;
			if (k == sizeof(long_opts) / sizeof(long_opts[0]))
				return reason(why, whylen, "curl option %s not modelled", t);
			if (!long_opts[k].valued) {
				if (apply_flag(c, long_opts[k].letter, why, whylen) == 0)
					return 0;
				continue;
			}
			if (i + 1 == n || w[i + 1].has_var)
				return reason(why, whylen, "%s without a literal value", t);
			if (apply_valued(c, long_opts[k].letter, w[++i].text, why, whylen) == 0)
				return 0;
			continue;
		}
		/* A cluster: flags, then at most one valued letter taking the rest or the next
		 * word. */
		for (t++; *t != '\0'; t++) {
			if (*t == 'o' || *t == 'w' || *t == 'm') {
				const char *value = t + 1;

				if (*value == '\0') {
					if (i + 1 == n || w[i + 1].has_var)
						return reason(why, whylen,
						              "-%c without a literal value", *t);
					value = w[++i].text;
				}
				if (apply_valued(c, *t, value, why, whylen) == 0)
					return 0;
				break;
			}
			if (apply_flag(c, *t, why, whylen) == 0)
				return 0;
		}
	}
	if (!have_url)
		return reason(why, whylen, "no URL");
	return 1;
}

static void copy_expect(struct curlcmd *c, const char *quoted)
{
	const char *p = quoted[0] == '"' || quoted[0] == '\'' ? quoted + 1 : quoted;

	memcpy(c->expect, p, 3);
	c->expect[3] = '\0';
}

/* Rules that depend on the form, once the options are known. */
static int check_form(const struct curlcmd *c, char *why, size_t whylen)
{
	if (c->form == CURLCMD_FORM_PLAIN)
		return 1;
	if (c->method == CURLCMD_HEAD)
		return reason(why, whylen, "-I writes headers to the output compared");
	if (!c->write_code)
		return reason(why, whylen, "the output compared has no -w '%%{http_code}'");
	if (c->form == CURLCMD_FORM_GREP && !c->output_null)
		return reason(why, whylen, "grep without -o /dev/null sees the body");
	return 1;
}

int curlcmd_recognise(const char *command, struct curlcmd *out, char *why, size_t whylen)
{
	static const struct {
		const char *re;
		enum curlcmd_form form;
	} forms[] = {
	    {re_plain, CURLCMD_FORM_PLAIN},
	    {re_grep, CURLCMD_FORM_GREP},
	    {re_test, CURLCMD_FORM_TEST},
	};
	struct word *words;
	char *args = NULL;
	pcre2_code *code = NULL;
	pcre2_match_data *md = NULL;
	struct curlcmd c;
	size_t i;
	int n, ret = 0;

	errbuf_set(why, whylen, "not one of the curl forms vipd can run natively");
	memset(&c, 0, sizeof(c));
	c.or_exit = -1;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]) && md == NULL; i++) {
		md = match_form(forms[i].re, &code, command);
		c.form = forms[i].form;
	}
	if (md == NULL)
		return 0;
	words = calloc(WORDS_MAX, sizeof(*words));
	args = malloc(strlen(command) + 1);
	if (words == NULL || args == NULL) {
		errbuf_set(why, whylen, "out of memory");
		goto done;
	}
	group_text(md, "curlargs", args, strlen(command) + 1);
	if (c.form != CURLCMD_FORM_PLAIN) {
		char expect[8];

		group_text(md, "expect", expect, sizeof(expect));
		copy_expect(&c, expect);
	}
	if (c.form == CURLCMD_FORM_PLAIN && group_set(md, "orexit")) {
		char n[8];

		group_text(md, "orexit", n, sizeof(n));
		c.or_exit = atoi(n);
		if (c.or_exit > 255) {
			errbuf_set(why, whylen, "exit %d: beyond 255", c.or_exit);
			goto done;
		}
	}
	if (c.form == CURLCMD_FORM_TEST) {
		char op[4];

		group_text(md, "op", op, sizeof(op));
		c.test_double_equals = strcmp(op, "==") == 0;
		c.cut_first_field = group_set(md, "cut");
		c.test_bracket = group_set(md, "bracket");
	}
	n = split_words(args, words, WORDS_MAX);
	if (n < 0) {
		errbuf_set(why, whylen, "too many or too long curl arguments");
		goto done;
	}
	if (parse_options(&c, words, n, why, whylen) == 0 || check_form(&c, why, whylen) == 0)
		goto done;
	*out = c;
	errbuf_set(why, whylen, "recognised as %s", curlcmd_form_name(c.form));
	ret = 1;
done:
	free(args);
	free(words);
	pcre2_match_data_free(md);
	pcre2_code_free(code);
	return ret;
}

static const char *env_lookup(char *const *envp, const char *name, size_t n)
{
	size_t i;

	for (i = 0; envp != NULL && envp[i] != NULL; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

/*
 * A value is substituted only when it cannot be split by the shell, globbed
 * by it, or globbed by curl: letters, digits, '.', '-', '_' and ':' (Mesos's
 * HOST is a host name, PORTn a number).
 */
static bool safe_value(const char *v)
{
	for (; *v != '\0'; v++)
		if (!is_name_char(*v) && *v != '.' && *v != '-' && *v != ':')
			return false;
	return true;
}

int curlcmd_url_expand(const struct curlcmd *c, char *const *envp, char *buf, size_t len, char *err,
                       size_t errlen)
{
	const char *p = c->url;
	size_t used = 0;

	if (len == 0)
		return -1;
	while (*p != '\0') {
		const char *piece = p;
		size_t n = 1;
		char name[64];

		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p, '}');
			size_t nlen = (size_t)(end - p - 2);

			snprintf(name, sizeof(name), "%.*s", (int)nlen, p + 2);
			/* The shell expands an unset variable to nothing. */
			piece = env_lookup(envp, p + 2, nlen);
			if (piece == NULL)
				piece = "";
			if (!safe_value(piece)) {
				errbuf_set(err, errlen, "$%s=\"%s\": not a plain host name or port",
				           name, piece);
				return -1;
			}
			n = strlen(piece);
			p = end + 1;
		} else {
			p++;
		}
		if (used + n + 1 > len) {
			errbuf_set(err, errlen, "URL longer than %zu bytes", len - 1);
			return -1;
		}
		memcpy(buf + used, piece, n);
		used += n;
	}
	buf[used] = '\0';
	return 0;
}
