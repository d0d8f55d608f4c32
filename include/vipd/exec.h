/*
 * Check executors: run one COMMAND, HTTP/HTTPS or TCP check for one task on
 * the daemon's libev loop, optionally inside the task's network namespace,
 * and report a filled struct check_result through a completion callback.
 */
#ifndef VIPD_EXEC_H
#define VIPD_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "vipd/check_result.h"
#include "vipd/errbuf.h"

struct app;
struct task;
struct health_check;

enum exec_kind {
	EXEC_COMMAND,
	EXEC_HTTP,
	EXEC_HTTPS,
	EXEC_TCP,
};

/* Shared by every run of one context. Zero or NULL fields take the default. */
struct exec_settings {
	const char *run_as_user; /* COMMAND user when vipd runs as root; NULL = "nobody" */
	const char *shell;       /* NULL = "/bin/sh", run as `shell -c command` */
	size_t output_cap;       /* command output bytes kept; 0 or > CHECK_OUTPUT_MAX-1 = that */
	/* HTTP body bytes kept for the regex and callers; 0 = 64 KiB. The rest
	 * is read and dropped, as `curl -o /dev/null` does. */
	size_t body_keep;
	double kill_grace_s;   /* SIGTERM to SIGKILL of a timed-out command; 0 = 2 s */
	unsigned nofile_limit; /* RLIMIT_NOFILE of commands; 0 = 1024 */
	/* Run every HTTP check through libcurl, also those exec_http_raw.c would
	 * take (for comparison); so does VIPD_HTTP_VIA_CURL=1 in the environment,
	 * read when the context is made. */
	bool http_via_curl;
};

/*
 * One run of one check. Strings are borrowed: they need only live until
 * exec_start() returns (the executors copy what they keep).
 */
struct exec_request {
	enum exec_kind kind;
	const char *host;       /* HTTP/HTTPS/TCP target, address or name; COMMAND: $HOST */
	unsigned port;          /* HTTP/HTTPS/TCP target port */
	const char *path;       /* HTTP/HTTPS; NULL = "/" */
	const char *url;        /* HTTP/HTTPS: used as is instead of scheme://host:port/path */
	const char *command;    /* COMMAND: the shell string */
	double timeout_s;       /* > 0; fractions allowed */
	bool ignore_http1xx;    /* Marathon's ignoreHttp1xx: 1xx gives CHECK_IGNORED */
	const char *body_regex; /* HTTP/HTTPS: PCRE2 the kept body must match; NULL = none */
	bool follow_redirects;  /* HTTP/HTTPS: off for Marathon checks (3xx is healthy) */
	bool capture_body;      /* HTTP/HTTPS: keep the body for exec_run_body() */
	/* HTTP/HTTPS knobs for reproducing the curl tool; Marathon checks leave
	 * them zero. */
	const char *user_agent;   /* NULL = "vipd/<version>" */
	bool head_only;           /* HEAD, as curl -I */
	bool fail_on_error;       /* stop at a status >= 400 as curl -f (CURLcode 22) */
	bool verify_tls;          /* verify the peer (curl without -k); Marathon never does */
	int ip_version;           /* 0 = any, 4 or 6 (curl -4 / -6) */
	double connect_timeout_s; /* 0 = libcurl's default; the run still ends by timeout_s */
	const char *netns;        /* network namespace path (/run/netns/x); NULL = vipd's own */
	/* COMMAND environment, as Marathon and Mesos give it to a task. */
	const char *task_id;   /* $MESOS_TASK_ID */
	const char *app_id;    /* $MARATHON_APP_ID */
	const uint32_t *ports; /* $PORT0.., $PORTS, $PORT */
	size_t nports;
	const char *const *extra_env; /* more "NAME=value" strings, NULL-terminated; may be NULL */
};

struct exec_ctx;
struct exec_run;

/*
 * Called once per run that was not cancelled, always from the loop, never
 * from inside exec_start(). `run` is valid during the call only (for
 * exec_run_body() and exec_run_curl_code()); it is freed when the callback
 * returns, so do not pass it to exec_cancel(). The callback may start new
 * runs and cancel other runs, but must not free the context.
 */
typedef void (*exec_done_cb)(struct exec_run *run, const struct check_result *res, void *arg);

/*
 * `loop` must be libev's default loop: commands are reaped with ev_child,
 * which libev only supports there (its SIGCHLD handler reaps every child of
 * the process, so nothing else in vipd may wait for children of its own).
 * From its first COMMAND run the process is the child subreaper of the
 * runs' orphans, and kills any child of its own outside its session that
 * is not a run in flight (each run is a session of its own).
 * Returns NULL and fills err on failure (unknown run-as user, curl set-up).
 */
struct exec_ctx *exec_ctx_new(struct ev_loop *loop, const struct exec_settings *settings, char *err,
                              size_t errlen) VIPD_MUST_CHECK;
/* Cancels every run in flight (no callbacks) and releases the context. */
void exec_ctx_free(struct exec_ctx *ctx);
/* Runs in flight. */
size_t exec_ctx_running(const struct exec_ctx *ctx);
/* HTTP runs started on the raw client (exec_http_raw.c) rather than libcurl
 * since the context was made: tests and benchmarks see which path ran. */
size_t exec_ctx_raw_runs(const struct exec_ctx *ctx);

/*
 * Starts one run. Returns NULL and fills err only when the request itself is
 * invalid (no command, bad regex, timeout <= 0) or memory runs out; every
 * other failure, including spawn and namespace errors, is reported through
 * the callback as a result.
 */
struct exec_run *exec_start(struct exec_ctx *ctx, const struct exec_request *req, exec_done_cb cb,
                            void *arg, char *err, size_t errlen) VIPD_MUST_CHECK;

/*
 * Stops a run in flight and frees it; its callback is NOT called. Every
 * process of a command's run gets SIGKILL (the default loop reaps them); an HTTP
 * transfer or TCP connection is closed.
 */
void exec_cancel(struct exec_run *run);

/* HTTP/HTTPS with capture_body, during the callback: the first body_keep
 * bytes of the (last) response body, not NUL-terminated; NULL when none. */
const void *exec_run_body(const struct exec_run *run, size_t *len);
/* HTTP/HTTPS during the callback: all body bytes received, more than the
 * kept length when the body was cut at body_keep. */
size_t exec_run_body_total(const struct exec_run *run);
/* HTTP/HTTPS during the callback: libcurl's CURLcode of the transfer, which is
 * also what the curl tool exits with; -1 for other kinds. */
int exec_run_curl_code(const struct exec_run *run);
/* During the callback: the executor that ran it, as chosen by exec_start():
 * "command", "http" (libcurl; also a TCP check of a name), "http-raw" or
 * "tcp". */
const char *exec_run_executor(const struct exec_run *run);

/*
 * Fills req for check `hc` of `task` of `app` with Marathon's semantics:
 * the target is the task's host at port `hc->port` or the task's host port
 * number `hc->port_index`; MESOS_* protocols run as their plain kinds. The
 * request borrows strings from the model. Returns -1 with err when the check
 * cannot run for this task (no such port index).
 */
int exec_request_from_check(struct exec_request *req, const struct app *app,
                            const struct task *task, const struct health_check *hc, char *err,
                            size_t errlen) VIPD_MUST_CHECK;

/* "COMMAND", "HTTP", "HTTPS" or "TCP", a static string; "unknown" outside
 * the enum. */
const char *exec_kind_name(enum exec_kind k);

/* Whether `pattern` (a VIPD_BODY_REGEX[_n] label's value) compiles as an
 * HTTP check compiles it: 0, or -1 with "body regex \"P\" at offset N: why"
 * in err. For the table build, which refuses what the check would refuse. */
int http_body_regex_check(const char *pattern, char *err, size_t errlen) VIPD_MUST_CHECK;

#endif
