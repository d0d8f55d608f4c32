/*
 * Private to the executor files of src/checks/: the context, the common part
 * of a run, the one ops table per kind of executor that exec_start() picks
 * (as keepalived's checker_t), the network-namespace cache of netns.c, and
 * the HTTP verdict both HTTP clients apply.
 */
#ifndef VIPD_EXEC_INT_H
#define VIPD_EXEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <curl/curl.h>
#include <ev.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "vipd/check_result.h"
#include "vipd/curl_ev.h"
#include "vipd/exec.h"

struct exec_netns;

struct exec_ctx {
	struct ev_loop *loop;
	char *shell;
	size_t output_cap;
	size_t body_keep;
	double kill_grace_s;
	unsigned nofile_limit;
	bool drop_privileges; /* vipd runs as root: commands switch to run_uid/run_gid */
	uid_t run_uid;
	gid_t run_gid;
	struct curlev curl;    /* libcurl's multi handle on the loop (exec_http.c) */
	struct exec_run *runs; /* in flight, doubly linked */
	size_t nruns;
	struct exec_netns *netns; /* cache, owned here, closed by exec_netns_free_all() */
	int host_netns_fd;        /* vipd's own namespace, to return to; -1 until needed */
	bool http_via_curl;       /* no exec_http_raw.c path */
	size_t raw_runs;          /* started by exec_http_raw.c */
};

/*
 * One kind of executor, chosen once per run by exec_start(). Every run of
 * the kind points to its table; the accessors are for HTTP runs' callers.
 */
struct exec_ops {
	const char *name;
	/* Starts a run of `req`: 0 with *out set, its result to come through the
	 * callback; -1 with err when the request itself is invalid. */
	int (*launch)(struct exec_run **out, struct exec_ctx *ctx, const struct exec_request *req,
	              exec_done_cb cb, void *arg, char *err, size_t errlen);
	/* Frees every resource touching ctx; runs before the callback and on
	 * cancel, once. */
	void (*release)(struct exec_run *run);
	/* Frees what the accessors expose, after the callback; may be NULL. */
	void (*free_extra)(struct exec_run *run);
	/* exec_run_body(), exec_run_body_total(), exec_run_curl_code(); NULL for
	 * kinds without them. */
	const void *(*body)(const struct exec_run *run, size_t *len);
	size_t (*body_total)(const struct exec_run *run);
	int (*curl_code)(const struct exec_run *run);
};

extern const struct exec_ops exec_command_ops;  /* exec_command.c */
extern const struct exec_ops exec_http_ops;     /* exec_http.c: libcurl */
extern const struct exec_ops exec_http_raw_ops; /* exec_http_raw.c */
extern const struct exec_ops exec_tcp_ops;      /* exec_tcp.c */

struct exec_run {
	struct exec_ctx *ctx;
	const struct exec_ops *ops;
	enum exec_kind kind;
	exec_done_cb cb;
	void *arg;
	struct timespec started; /* CLOCK_MONOTONIC */
	struct check_result result;
	ev_timer soon; /* delivers a result decided at start on the next loop turn */
	struct exec_run *prev, *next;
};

/* Allocates `size` bytes (a struct starting with struct exec_run) of kind
 * `ops` and links it. */
struct exec_run *exec_run_new(struct exec_ctx *ctx, const struct exec_ops *ops, size_t size,
                              const struct exec_request *req, exec_done_cb cb, void *arg);
/* Records the latency, releases, unlinks, calls back, frees. */
void exec_run_finish(struct exec_run *run);
/* Finishes with this outcome and text on the next loop turn. */
void exec_run_finish_soon(struct exec_run *run, enum check_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void exec_run_set_output(struct exec_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* libcurl's multi handle of the context (exec_http.c). */
int exec_http_init(struct exec_ctx *ctx, char *err, size_t errlen);
void exec_http_cleanup(struct exec_ctx *ctx);
/* A plain HTTP check exec_http_raw.c runs without libcurl (Marathon's usual
 * one: numeric host; or a native curl check's http:// URL to an address or
 * localhost, without -L); the rest goes to exec_http_ops. */
bool exec_http_raw_eligible(const struct exec_ctx *ctx, const struct exec_request *req);

/* An fd of the namespace at `path`, cached and owned by ctx (O_CLOEXEC);
 * -1 with err (path and errno) when it cannot be opened. */
int exec_netns_fd(struct exec_ctx *ctx, const char *path, char *err, size_t errlen);
/* socket() created inside the namespace at `path` (NULL = here), from the
 * loop thread, which is back in its own namespace on return. */
int exec_netns_socket(struct exec_ctx *ctx, const char *path, int domain, int type, int protocol,
                      char *err, size_t errlen);
void exec_netns_free_all(struct exec_ctx *ctx);
/* A numeric IPv4 or IPv6 target (brackets allowed, as in URLs) and port as
 * a socket address: Marathon's targets are addresses. -1 for anything else. */
int exec_parse_addr(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *sslen);

/* What one HTTP transfer gave, whichever client ran it. */
struct http_answer {
	int curl_code; /* the transfer's CURLcode (the raw client gives libcurl's) */
	long status;   /* of the last status line; 0 when none came */
	/* The transfer's own error text (libcurl's error buffer); NULL or ""
	 * gives curl_easy_strerror(curl_code). */
	const char *error;
	const char *body; /* the kept head of the body; may be NULL when body_len is 0 */
	size_t body_len;
	const pcre2_code *body_regex; /* NULL = no body check */
	bool ignore_http1xx;          /* Marathon's ignoreHttp1xx */
};

/*
 * Marathon's verdict on one HTTP answer, the one rule both clients apply:
 * a final status 200-399 is healthy (and must match the body regex when
 * there is one), a lone 1xx is ignored under ignoreHttp1xx and unhealthy
 * otherwise, any other status is unhealthy; a transfer that failed before a
 * status decides is judged by its CURLcode. Writes the audit text (the
 * status and a printable head of the body, or the error) into text.
 */
enum check_outcome http_verdict(const struct http_answer *a, char *text, size_t textlen);

/* A VIPD_BODY_REGEX pattern compiled as the HTTP check runs it (the one
 * place its PCRE2 options live); NULL with a message naming the pattern and
 * the offset in err when it is invalid or memory runs out. The caller frees
 * the code with pcre2_code_free. */
pcre2_code *http_body_regex_compile(const char *pattern, char *err, size_t errlen);

/* The outcome of a transfer that failed with this CURLcode. */
enum check_outcome http_curl_outcome(int curl_code);

#endif
