/*
 * The executors' common part: the context shared by all runs, the life of a
 * run (start, deliver its result once, cancel), the choice of an executor
 * per run, and building a request from the model with Marathon's rules. The
 * kinds live in exec_command.c, exec_http.c, exec_http_raw.c and exec_tcp.c,
 * each behind its struct exec_ops.
 */
#include "vipd/exec.h"
#include "exec_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vipd/model.h"
#include "vipd/clock.h"
#include "vipd/errbuf.h"

#define EXEC_DEFAULT_USER "nobody"
#define EXEC_DEFAULT_SHELL "/bin/sh"
#define EXEC_DEFAULT_BODY_KEEP ((size_t)64 * 1024)
#define EXEC_DEFAULT_KILL_GRACE_S 2.0
#define EXEC_DEFAULT_NOFILE 1024

const char *exec_kind_name(enum exec_kind k)
{
	switch (k) {
	case EXEC_COMMAND:
		return "COMMAND";
	case EXEC_HTTP:
		return "HTTP";
	case EXEC_HTTPS:
		return "HTTPS";
	case EXEC_TCP:
		return "TCP";
	}
	return "unknown";
}

/* getpwnam may consult NSS and block: done once, at start-up. */
static int resolve_run_as(struct exec_ctx *ctx, const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0; /* not root: commands keep our (already unprivileged) user */
	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		errbuf_set(err, errlen, "run-as user \"%s\": %s", user,
		           errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		errbuf_set(err, errlen, "run-as user \"%s\" is root; checks must run unprivileged",
		           user);
		return -1;
	}
	ctx->drop_privileges = true;
	ctx->run_uid = pw->pw_uid;
	ctx->run_gid = pw->pw_gid;
	return 0;
}

/* Set, non-empty and not "0". */
static bool env_flag(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] && strcmp(v, "0") != 0;
}

struct exec_ctx *exec_ctx_new(struct ev_loop *loop, const struct exec_settings *settings, char *err,
                              size_t errlen)
{
	static const struct exec_settings defaults;
	struct exec_ctx *ctx;

	if (!settings)
		settings = &defaults;
	if (!loop || !ev_is_default_loop(loop)) {
		errbuf_set(err, errlen,
		           "executors need libev's default loop (ev_child works only there)");
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	ctx->loop = loop;
	ctx->host_netns_fd = -1;
	ctx->shell = strdup(settings->shell ? settings->shell : EXEC_DEFAULT_SHELL);
	if (!ctx->shell) {
		errbuf_set(err, errlen, "out of memory");
		goto fail;
	}
	if (ctx->shell[0] != '/') {
		errbuf_set(err, errlen, "shell \"%s\" must be an absolute path", ctx->shell);
		goto fail;
	}
	ctx->output_cap = settings->output_cap;
	if (!ctx->output_cap || ctx->output_cap > CHECK_OUTPUT_MAX - 1)
		ctx->output_cap = CHECK_OUTPUT_MAX - 1;
	ctx->body_keep = settings->body_keep ? settings->body_keep : EXEC_DEFAULT_BODY_KEEP;
	ctx->kill_grace_s =
	    settings->kill_grace_s > 0 ? settings->kill_grace_s : EXEC_DEFAULT_KILL_GRACE_S;
	ctx->nofile_limit = settings->nofile_limit ? settings->nofile_limit : EXEC_DEFAULT_NOFILE;
	ctx->http_via_curl = settings->http_via_curl || env_flag("VIPD_HTTP_VIA_CURL");
	if (resolve_run_as(ctx, settings->run_as_user ? settings->run_as_user : EXEC_DEFAULT_USER,
	                   err, errlen) < 0)
		goto fail;
	if (exec_http_init(ctx, err, errlen) < 0)
		goto fail;
	return ctx;
fail:
	free(ctx->shell);
	free(ctx);
	return NULL;
}

static void run_unlink(struct exec_run *run)
{
	struct exec_ctx *ctx = run->ctx;

	if (run->prev)
		run->prev->next = run->next;
	else
		ctx->runs = run->next;
	if (run->next)
		run->next->prev = run->prev;
	run->prev = run->next = NULL;
	ctx->nruns--;
}

static void run_free(struct exec_run *run)
{
	if (run->ops->free_extra)
		run->ops->free_extra(run);
	free(run);
}

void exec_cancel(struct exec_run *run)
{
	if (!run)
		return;
	ev_timer_stop(run->ctx->loop, &run->soon);
	run->ops->release(run);
	run_unlink(run);
	run_free(run);
}

void exec_ctx_free(struct exec_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->runs)
		exec_cancel(ctx->runs);
	exec_http_cleanup(ctx);
	exec_netns_free_all(ctx);
	free(ctx->shell);
	free(ctx);
}

size_t exec_ctx_running(const struct exec_ctx *ctx)
{
	return ctx->nruns;
}

size_t exec_ctx_raw_runs(const struct exec_ctx *ctx)
{
	return ctx->raw_runs;
}

void exec_run_finish(struct exec_run *run)
{
	run->result.latency_ms = clock_ms_since(&run->started);
	ev_timer_stop(run->ctx->loop, &run->soon);
	/* Release before calling back: the callback may free other runs or
	 * start new ones, and must find the context consistent. */
	run->ops->release(run);
	run_unlink(run);
	run->cb(run, &run->result, run->arg);
	run_free(run);
}

static void soon_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	exec_run_finish(w->data);
}

void exec_run_set_output(struct exec_run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->result.output, sizeof(run->result.output), fmt, ap);
	va_end(ap);
}

void exec_run_finish_soon(struct exec_run *run, enum check_outcome o, const char *fmt, ...)
{
	va_list ap;

	run->result.outcome = o;
	va_start(ap, fmt);
	vsnprintf(run->result.output, sizeof(run->result.output), fmt, ap);
	va_end(ap);
	ev_timer_start(run->ctx->loop, &run->soon);
}

struct exec_run *exec_run_new(struct exec_ctx *ctx, const struct exec_ops *ops, size_t size,
                              const struct exec_request *req, exec_done_cb cb, void *arg)
{
	struct exec_run *run = calloc(1, size);

	if (!run)
		return NULL;
	run->ctx = ctx;
	run->ops = ops;
	run->kind = req->kind;
	run->cb = cb;
	run->arg = arg;
	clock_now_ts(&run->started);
	run->result.outcome = CHECK_FAIL_INTERNAL;
	run->result.exit_code = -1;
	ev_timer_init(&run->soon, soon_cb, 0., 0.);
	run->soon.data = run;
	run->next = ctx->runs;
	if (ctx->runs)
		ctx->runs->prev = run;
	ctx->runs = run;
	ctx->nruns++;
	return run;
}

/* The one place a run's executor is chosen. */
static const struct exec_ops *exec_ops_of(const struct exec_ctx *ctx,
                                          const struct exec_request *req)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	switch (req->kind) {
	case EXEC_COMMAND:
		return &exec_command_ops;
	case EXEC_HTTP:
	case EXEC_HTTPS:
		return exec_http_raw_eligible(ctx, req) ? &exec_http_raw_ops : &exec_http_ops;
	case EXEC_TCP:
		/* A name (Marathon's agent host often is one) would block the
		 * loop in getaddrinfo(): libcurl resolves it asynchronously and
		 * connects only. */
		if (req->host && exec_parse_addr(req->host, req->port, &ss, &sslen) < 0)
			return &exec_http_ops;
		return &exec_tcp_ops;
	}
	return NULL;
}

struct exec_run *exec_start(struct exec_ctx *ctx, const struct exec_request *req, exec_done_cb cb,
                            void *arg, char *err, size_t errlen)
{
	const struct exec_ops *ops;
	struct exec_run *run = NULL;

	if (!ctx || !req || !cb) {
		errbuf_set(err, errlen, "exec_start: missing context, request or callback");
		return NULL;
	}
	if (!(req->timeout_s > 0)) {
		errbuf_set(err, errlen, "%s check: timeout must be positive, got %g",
		           exec_kind_name(req->kind), req->timeout_s);
		return NULL;
	}
	/* Relative timers count from the loop's cached time, which may be stale
	 * by the time spent in this loop iteration. */
	ev_now_update(ctx->loop);
	ops = exec_ops_of(ctx, req);
	if (!ops) {
		errbuf_set(err, errlen, "unknown check kind %d", (int)req->kind);
		return NULL;
	}
	return ops->launch(&run, ctx, req, cb, arg, err, errlen) < 0 ? NULL : run;
}

const char *exec_run_executor(const struct exec_run *run)
{
	return run ? run->ops->name : "none";
}

/* HTTP and HTTPS runs only: a TCP check of a name runs on libcurl too, but
 * has no body or CURLcode for its caller. */
static bool run_is_http(const struct exec_run *run)
{
	return run && (run->kind == EXEC_HTTP || run->kind == EXEC_HTTPS);
}

const void *exec_run_body(const struct exec_run *run, size_t *len)
{
	if (len)
		*len = 0;
	if (!run_is_http(run) || !run->ops->body)
		return NULL;
	return run->ops->body(run, len);
}

size_t exec_run_body_total(const struct exec_run *run)
{
	if (!run_is_http(run) || !run->ops->body_total)
		return 0;
	return run->ops->body_total(run);
}

int exec_run_curl_code(const struct exec_run *run)
{
	if (!run_is_http(run) || !run->ops->curl_code)
		return -1;
	return run->ops->curl_code(run);
}

/* Marathon runs MESOS_* checks through Mesos; we run them as the plain kind.
 * Spelled out here so the executors do not depend on the app parser. */
static enum exec_kind kind_of(enum hc_protocol p)
{
	switch (p) {
	case HC_PROTO_HTTP:
	case HC_PROTO_MESOS_HTTP:
		return EXEC_HTTP;
	case HC_PROTO_HTTPS:
	case HC_PROTO_MESOS_HTTPS:
		return EXEC_HTTPS;
	case HC_PROTO_TCP:
	case HC_PROTO_MESOS_TCP:
		return EXEC_TCP;
	case HC_PROTO_COMMAND:
		break;
	}
	return EXEC_COMMAND;
}

int exec_request_from_check(struct exec_request *req, const struct app *app,
                            const struct task *task, const struct health_check *hc, char *err,
                            size_t errlen)
{
	memset(req, 0, sizeof(*req));
	req->kind = kind_of(hc->protocol);
	req->host = task->host;
	req->path = hc->path;
	req->command = hc->command;
	req->timeout_s = hc->timeout_s;
	req->ignore_http1xx = hc->ignore_http1xx;
	req->netns = task->netns;
	req->task_id = task->id;
	req->app_id = app ? app->id : NULL;
	req->ports = task->ports;
	req->nports = task->nports;
	if (req->kind == EXEC_COMMAND)
		return 0;
	if (hc->port_index >= 0) {
		/* Marathon probes the task's host port at that index. */
		if ((size_t)hc->port_index >= task->nports || !task->ports[hc->port_index]) {
			errbuf_set(err, errlen, "task %s has no port at portIndex %d (it has %zu)",
			           task->id ? task->id : "?", hc->port_index, task->nports);
			return -1;
		}
		req->port = task->ports[hc->port_index];
	} else {
		req->port = (unsigned)hc->port;
	}
	if (!req->port || req->port > 65535) {
		errbuf_set(err, errlen, "task %s: check port %u is not a TCP port",
		           task->id ? task->id : "?", req->port);
		return -1;
	}
	if (!req->host && task->nip_addresses)
		req->host = task->ip_addresses[0];
	if (!req->host) {
		errbuf_set(err, errlen, "task %s has no host to check", task->id ? task->id : "?");
		return -1;
	}
	return 0;
}

/* Marathon's targets are addresses (the agent's or the task's); brackets
 * around an IPv6 address are accepted as in URLs. */
int exec_parse_addr(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
		return 0;
	}
	len = strlen(host);
	if (len >= 2 && len < sizeof(buf) && host[0] == '[' && host[len - 1] == ']') {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	return -1;
}
