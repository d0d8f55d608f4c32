/*
 * COMMAND health checks that are only a curl call: recognising them with
 * certainty, expanding their URL from the task's environment, computing the
 * exit status the real shell pipeline would give for an HTTP exchange, and
 * linting commands that can never pass or pass only by accident. Pure.
 */
#ifndef VIPD_CURLCMD_H
#define VIPD_CURLCMD_H

#include <stdbool.h>
#include <stddef.h>

#define CURLCMD_URL_MAX 1024
#define CURLCMD_EXPECT_MAX 4
/* Operand bytes kept for a shell message: more than a check's output keeps. */
#define CURLCMD_OPERAND_KEEP 512

/* The shapes recognised; anything else runs through the real shell. */
enum curlcmd_form {
	/* curl [opts] URL [|| exit N]: the exit status is curl's own (or N when not 0). */
	CURLCMD_FORM_PLAIN = 0,
	/* test "$(curl [opts] -w '%{http_code}' URL [| cut -f1 -d" "])" (=|==) NNN, or [ ... ] */
	CURLCMD_FORM_TEST,
	/* curl [opts] -o /dev/null -w '%{http_code}' URL | grep -q NNN */
	CURLCMD_FORM_GREP,
};

enum curlcmd_method {
	CURLCMD_GET = 0,
	CURLCMD_HEAD, /* -I / --head; plain form only */
};

/* The shell that runs the command: its `test` builtin, and the cut it uses. */
enum curlcmd_shell {
	CURLCMD_SHELL_DASH = 0, /* Debian's /bin/sh, with GNU coreutils cut */
	CURLCMD_SHELL_BASH,     /* bash (also as sh), with GNU coreutils cut */
	CURLCMD_SHELL_BUSYBOX,  /* busybox sh, its cut and grep applets */
};

struct curlcmd {
	enum curlcmd_form form;
	/* The URL as a template: "${NAME}" where a variable stands; no other '$'. */
	char url[CURLCMD_URL_MAX];
	enum curlcmd_method method;
	bool fail;                /* -f, --fail: HTTP >= 400 is exit 22 and no body is written */
	bool location;            /* -L, --location (the curl tool stops after 50 redirects) */
	bool insecure;            /* -k, --insecure */
	int ip_version;           /* 0 = any, 4 = -4/--ipv4, 6 = -6/--ipv6 */
	bool output_null;         /* -o /dev/null: the body is not written to stdout */
	bool write_code;          /* -w '%{http_code}' */
	bool write_newline;       /* -w '%{http_code}\n' */
	double max_time_s;        /* -m, --max-time; 0 = none */
	double connect_timeout_s; /* --connect-timeout; 0 = libcurl's default */
	int or_exit;              /* CURLCMD_FORM_PLAIN: N of `|| exit N`; -1 when absent */
	/* CURLCMD_FORM_TEST */
	bool cut_first_field;    /* piped through cut -f1 -d" " */
	bool test_double_equals; /* `==`, which dash's test does not know */
	bool test_bracket;       /* written `[ ... ]` rather than `test ...` */
	/* CURLCMD_FORM_TEST and _GREP: the status text compared with, e.g. "200" */
	char expect[CURLCMD_EXPECT_MAX];
};

/*
 * What the HTTP exchange produced, as the curl tool would have seen it with
 * the same options (user agent "curl/<version>", at most 50 redirects with -L).
 * With -f, a transfer made with CURLOPT_FAILONERROR (as the curl tool does)
 * gives the exact exit status. A transfer made without it is read as the curl
 * tool would have ended it: any status >= 400 is exit 22 and no body; that
 * is exact unless the transfer failed after the status line but before the
 * end of the headers (the curl tool then exits with that failure, 28, 56...).
 */
struct curlcmd_http_result {
	int curl_code;             /* CURLcode of the transfer; 0 = complete */
	long http_status;          /* CURLINFO_RESPONSE_CODE of the last response; 0 = none */
	const unsigned char *body; /* every body byte received (what curl writes to stdout) */
	size_t body_len;
	bool failonerror; /* the transfer used CURLOPT_FAILONERROR */
};

/* Static names for the audit log and tests ("curl", "dash"...); "invalid"
 * for a value outside the enum. */
const char *curlcmd_form_name(enum curlcmd_form f);
const char *curlcmd_shell_name(enum curlcmd_shell s);

/*
 * Recognises `command`. Returns 1 and fills *out when it is one of the forms
 * above with only known curl options; 0 when it is not (it must then run
 * through the shell), with the reason in why (may be NULL).
 */
int curlcmd_recognise(const char *command, struct curlcmd *out, char *why, size_t whylen);

/*
 * Expands the URL template with the task's environment (NAME=VALUE strings,
 * NULL-terminated), as the shell would: an unset variable is empty. Returns
 * 0, or -1 with a message when a value could make the shell or curl's URL
 * globbing behave differently (spaces, glob or brace characters...): then
 * run the command through the shell.
 */
int curlcmd_url_expand(const struct curlcmd *c, char *const *envp, char *buf, size_t len, char *err,
                       size_t errlen);

/* The exit status of the real command under `shell` for that HTTP exchange,
 * and into msg (NULL: none) what the shell itself would write to stderr, as
 * curlcmd_emu_message() gives it. */
int curlcmd_emulate(const struct curlcmd *c, enum curlcmd_shell shell,
                    const struct curlcmd_http_result *r, char *msg, size_t msglen);

/*
 * The same, fed as the transfer runs so that no body needs keeping: init,
 * then every body chunk libcurl delivers (CURLOPT_WRITEFUNCTION), then
 * finish. With c->fail the transfer must use CURLOPT_FAILONERROR, as the
 * curl tool does, so that no body of a response >= 400 arrives.
 */
struct curlcmd_emu {
	const struct curlcmd *cmd;
	enum curlcmd_shell shell;
	bool at_field;  /* cut: still in the first field of the current line */
	bool line_open; /* cut: bytes since the last line end */
	size_t matched; /* bytes of cmd->expect seen so far in the test operand */
	bool mismatch;  /* the test operand can no longer equal cmd->expect */
	/* The test operand's first bytes as the shell has it (NULs dropped,
	 * trailing newlines held back until another byte follows), kept only
	 * where the shell quotes it in an error: dash's test with `==`. */
	char operand[CURLCMD_OPERAND_KEEP];
	size_t operand_len;
	size_t newlines_held;
};

/* Starts an emulation of c under shell; e borrows c, which must outlive it.
 * Nothing is allocated: e needs no release. */
void curlcmd_emu_init(struct curlcmd_emu *e, const struct curlcmd *c, enum curlcmd_shell shell);
/* One chunk of the body as curl writes it, in order; any length, NULs too. */
void curlcmd_emu_body(struct curlcmd_emu *e, const void *data, size_t len);
/* The transfer's CURLcode and last HTTP status (0 = none): returns the
 * command's exit status, as curlcmd_emulate would for the same run. */
int curlcmd_emu_finish(struct curlcmd_emu *e, int curl_code, long http_status);
/*
 * After finish: the message the shell itself writes to stderr for this run,
 * without its "$0: LINE: " prefix and final newline, e.g. dash's
 * "test: web-1\n200: unexpected operator"; "" when the shell writes none.
 * Returns msg.
 */
const char *curlcmd_emu_message(const struct curlcmd_emu *e, char *msg, size_t msglen);

enum curlcmd_lint_code {
	CURLCMD_LINT_TEST_DOUBLE_EQUALS = 0, /* `test a == b`: dash exits 2 */
	CURLCMD_LINT_DOUBLE_BRACKET,         /* `[[ ]]`: not in dash */
	CURLCMD_LINT_BODY_BEFORE_STATUS,     /* -w '%{http_code}' without -o /dev/null */
	CURLCMD_LINT_PORT_OUT_OF_RANGE,      /* $PORTn beyond the app's ports */
	CURLCMD_LINT_NO_STATUS_CHECK,        /* curl without -f nor status test: 500 passes */
};

#define CURLCMD_LINT_MAX 16
#define CURLCMD_LINT_TEXT_MAX 200

struct curlcmd_finding {
	enum curlcmd_lint_code code;
	char message[CURLCMD_LINT_TEXT_MAX];
	char fix[CURLCMD_LINT_TEXT_MAX];
};

struct curlcmd_findings {
	struct curlcmd_finding items[CURLCMD_LINT_MAX];
	size_t count;
};

/* The finding's static name for vipctl lint --json; "invalid" outside the enum. */
const char *curlcmd_lint_code_name(enum curlcmd_lint_code c);

/*
 * Looks for checks that can never pass or pass only by accident in any
 * command (recognised or not), for an app with `nports` ports. Returns the
 * number of findings (also out->count); extra findings beyond the array are
 * dropped.
 */
size_t curlcmd_lint(const char *command, size_t nports, struct curlcmd_findings *out);

#endif
