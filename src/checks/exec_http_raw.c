/*
 * Plain HTTP checks run directly on the loop as HAProxy runs its httpchk:
 * Marathon's (numeric host, GET, status decides) and the curl tool's own
 * requests of native curl COMMAND checks (http:// to an address or
 * localhost). One non-blocking socket, one request, the response read until
 * its body ends (exec_http_raw_parse.c), one ev_io and one deadline. Results,
 * texts and curl codes are libcurl's for the same cases, so a check judges
 * the same whichever path exec_start picks.
 */
#include "vipd/exec.h"
#include "vipd/clock.h"
#include "vipd/errbuf.h"
#include "exec_http_raw_parse.h"
#include "exec_http_raw_url.h"
#include "exec_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef VIPD_VERSION
#define VIPD_VERSION "dev"
#endif

/* As exec_http.c keeps for the output when nobody reads the body. */
#define RAW_EXCERPT_MAX CHECK_OUTPUT_MAX

#define RAW_CONNECT_FAILED                                                                         \
	"Failed to connect to %s port %u after %ld ms: Couldn't connect to server"

enum raw_open {
	RAW_OPEN_PENDING,       /* connecting: wait until writable */
	RAW_OPEN_CONNECTED,     /* connected at once */
	RAW_OPEN_REFUSED,       /* no address left that accepts */
	RAW_OPEN_SOCKET_FAILED, /* socket() or the namespace failed: nserr says why */
};

struct raw_run {
	struct exec_run base;
	int fd; /* -1 once closed */
	ev_io io;
	ev_timer deadline; /* the connect timeout until connected, then the whole one */
	bool sending;      /* connecting, then writing the request */
	bool connected;    /* a send succeeded: later errors are not connect errors */
	bool ignore_http1xx;
	bool connect_deadline; /* the deadline is --connect-timeout's until connected */
	bool starting;         /* inside exec_start(): no callback from here */
	int curl_code;         /* the CURLcode libcurl would have given */
	double timeout_s;
	char *netns;              /* copy of the request's, for the next address */
	size_t next_addr;         /* of target.addrs, tried after a refused connect */
	struct raw_target target; /* target.path is not kept past the start */
	char *kept;               /* the body's head: excerpt, or body_keep bytes malloc'd */
	size_t kept_len, kept_cap;
	size_t body_total; /* body bytes, codings undone, as libcurl's write callback counts */
	size_t request_len, request_sent;
	struct raw_resp resp;
	char request[RAW_REQUEST_MAX];
	char excerpt[RAW_EXCERPT_MAX];
};

static void raw_close_fd(struct raw_run *r)
{
	ev_io_stop(r->base.ctx->loop, &r->io);
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
}

static void raw_release(struct exec_run *run)
{
	struct raw_run *r = (struct raw_run *)run;

	raw_close_fd(r);
	ev_timer_stop(run->ctx->loop, &r->deadline);
	raw_resp_free(&r->resp);
	free(r->netns);
	r->netns = NULL;
}

static void raw_free_extra(struct exec_run *run)
{
	struct raw_run *r = (struct raw_run *)run;

	if (r->kept != r->excerpt)
		free(r->kept);
	r->kept = NULL;
}

static const void *raw_body(const struct exec_run *run, size_t *len)
{
	const struct raw_run *r = (const struct raw_run *)run;

	if (len)
		*len = r->kept_len;
	return r->kept_len ? r->kept : NULL;
}

static size_t raw_body_total(const struct exec_run *run)
{
	return ((const struct raw_run *)run)->body_total;
}

static int raw_curl_code(const struct exec_run *run)
{
	return ((const struct raw_run *)run)->curl_code;
}

static long raw_elapsed_ms(const struct raw_run *r)
{
	return (long)clock_ms_since(&r->base.started);
}

/* The answer so far, judged by the rule exec_http.c applies too. */
static void raw_judge(struct raw_run *r, int curl_code, const char *error)
{
	struct check_result *res = &r->base.result;
	struct http_answer a = {.curl_code = curl_code,
	                        .status = r->resp.status,
	                        .error = error,
	                        .body = r->kept,
	                        .body_len = r->kept_len,
	                        .ignore_http1xx = r->ignore_http1xx};

	r->curl_code = curl_code;
	res->http_status = r->resp.status;
	res->outcome = http_verdict(&a, res->output, sizeof(res->output));
	exec_run_finish(&r->base);
}

static void raw_fail(struct raw_run *r, int curl_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void raw_fail(struct raw_run *r, int curl_code, const char *fmt, ...)
{
	char error[CHECK_OUTPUT_MAX];
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(error, sizeof(error), fmt, ap);
	va_end(ap);
	raw_judge(r, curl_code, error);
}

/* A failure before any response (connect, send, namespace), with
 * exec_http.c's outcome for it: from inside exec_start() delivered on the
 * next loop turn, never from there; from the loop at once. */
static void raw_fail_early(struct raw_run *r, enum check_outcome o, int curl_code, const char *text)
{
	r->curl_code = curl_code;
	if (r->starting) {
		ev_timer_stop(r->base.ctx->loop, &r->deadline);
		exec_run_finish_soon(&r->base, o, "%s", text);
		return;
	}
	r->base.result.outcome = o;
	exec_run_set_output(&r->base, "%s", text);
	exec_run_finish(&r->base);
}

static void raw_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct raw_run *r = w->data;
	const struct raw_resp *p = &r->resp;
	long ms = raw_elapsed_ms(r);

	(void)loop;
	(void)revents;
	if (!r->connected)
		raw_fail(r, CURLE_OPERATION_TIMEDOUT, "Connection timed out after %ld milliseconds",
		         ms);
	else if (p->final_status && p->has_length && !p->chunked)
		raw_fail(r, CURLE_OPERATION_TIMEDOUT,
		         "Operation timed out after %ld milliseconds with %zu out of %llu bytes "
		         "received",
		         ms, p->body_seen, p->body_length);
	else
		raw_fail(r, CURLE_OPERATION_TIMEDOUT,
		         "Operation timed out after %ld milliseconds with %zu bytes received", ms,
		         p->body_seen);
}

/* raw_resp_body_fn: keep the head of the body (allocated at the first
 * byte when the caller reads it) and read the rest, as curl -o /dev/null. */
static bool raw_on_body(void *arg, const char *data, size_t n)
{
	struct raw_run *r = arg;
	size_t keep = r->kept_cap - r->kept_len;

	if (keep > n)
		keep = n;
	if (keep && !r->kept && !(r->kept = malloc(r->kept_cap)))
		return false;
	if (keep)
		memcpy(r->kept + r->kept_len, data, keep);
	r->kept_len += keep;
	r->body_total += n;
	return true;
}

static void raw_step(struct raw_run *r, enum raw_resp_step step)
{
	switch (step) {
	case RAW_RESP_MORE:
		return;
	case RAW_RESP_DONE:
		raw_judge(r, r->resp.curl_code, NULL);
		return;
	case RAW_RESP_FAILED:
		raw_fail(r, r->resp.curl_code, "%s", r->resp.error);
		return;
	case RAW_RESP_STOPPED:
		/* Only a failed allocation stops the body: libcurl's write
		 * error, as exec_http.c's callback gives it. */
		raw_fail(r, CURLE_WRITE_ERROR, "Failure writing output to destination");
		return;
	}
}

static void raw_read(struct raw_run *r)
{
	size_t room;
	char *at = raw_resp_space(&r->resp, &room);
	ssize_t n;

	n = recv(r->fd, at, room, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		raw_fail(r, CURLE_RECV_ERROR, "Recv failure: %s", strerror(errno));
		return;
	}
	raw_step(r, n == 0 ? raw_resp_eof(&r->resp) : raw_resp_feed(&r->resp, (size_t)n));
}

static void raw_wait_readable(struct raw_run *r)
{
	struct ev_loop *loop = r->base.ctx->loop;

	r->sending = false;
	ev_io_stop(loop, &r->io);
	ev_io_set(&r->io, r->fd, EV_READ);
	ev_io_start(loop, &r->io);
}

static void raw_wait_writable(struct raw_run *r)
{
	if (ev_is_active(&r->io))
		return;
	ev_io_set(&r->io, r->fd, EV_WRITE);
	ev_io_start(r->base.ctx->loop, &r->io);
}

/* Connected: from here the deadline is the whole transfer's again. */
static void raw_mark_connected(struct raw_run *r)
{
	struct ev_loop *loop = r->base.ctx->loop;
	double left;

	if (r->connected)
		return;
	r->connected = true;
	if (!r->connect_deadline)
		return;
	left = r->timeout_s - (double)raw_elapsed_ms(r) / 1000.0;
	ev_timer_stop(loop, &r->deadline);
	ev_timer_set(&r->deadline, left > 0. ? left : 0., 0.);
	ev_timer_start(loop, &r->deadline);
}

/* The next address of the target, after the last one was refused (curl
 * goes on down its list of addresses the same way). */
static enum raw_open raw_open_next(struct raw_run *r, char *nserr, size_t nserrlen)
{
	struct exec_ctx *ctx = r->base.ctx;
	const struct raw_target *t = &r->target;
	size_t i;

	while (r->next_addr < t->naddrs) {
		i = r->next_addr++;
		raw_close_fd(r);
		r->fd = exec_netns_socket(ctx, r->netns, t->addrs[i].ss_family,
		                          SOCK_STREAM | SOCK_NONBLOCK, 0, nserr, nserrlen);
		/* curl skips an address of a family the host lacks (IPv6
		 * disabled) and goes on down its list. */
		if (r->fd < 0 && !r->netns && errno == EAFNOSUPPORT)
			continue;
		if (r->fd < 0) {
			if (!r->netns)
				errbuf_set(nserr, nserrlen, "socket: %s", strerror(errno));
			return RAW_OPEN_SOCKET_FAILED;
		}
		if (connect(r->fd, (const struct sockaddr *)&t->addrs[i], t->addrlens[i]) == 0)
			return RAW_OPEN_CONNECTED;
		if (errno == EINPROGRESS) {
			ev_io_set(&r->io, r->fd, EV_WRITE);
			ev_io_start(ctx->loop, &r->io);
			return RAW_OPEN_PENDING;
		}
	}
	return RAW_OPEN_REFUSED;
}

static void raw_send(struct raw_run *r);

/* Connects to the next address, or reports that none accepted. */
static void raw_connect_next(struct raw_run *r)
{
	char nserr[256], text[256];

	switch (raw_open_next(r, nserr, sizeof(nserr))) {
	case RAW_OPEN_PENDING:
		/* On loopback the handshake is often over by the time connect()
		 * says EINPROGRESS: writing now saves a loop turn and an
		 * epoll_ctl; a socket still connecting answers EAGAIN. */
		raw_send(r);
		return;
	case RAW_OPEN_CONNECTED:
		/* Loopback often connects at once: write without a loop turn. */
		raw_mark_connected(r);
		raw_send(r);
		return;
	case RAW_OPEN_REFUSED:
		snprintf(text, sizeof(text), RAW_CONNECT_FAILED, r->target.name, r->target.port,
		         raw_elapsed_ms(r));
		raw_fail_early(r, http_curl_outcome(CURLE_COULDNT_CONNECT), CURLE_COULDNT_CONNECT,
		               text);
		return;
	case RAW_OPEN_SOCKET_FAILED:
		/* libcurl reports a socket it could not open as a failed connect. */
		raw_fail_early(r, r->netns ? CHECK_FAIL_NETNS : CHECK_FAIL_INTERNAL,
		               CURLE_COULDNT_CONNECT, nserr);
		return;
	}
}

/* The first send also reports the connect's own error (the pending
 * SO_ERROR), which saves the getsockopt libcurl makes. */
static void raw_send(struct raw_run *r)
{
	char text[128];
	ssize_t n;

	n = send(r->fd, r->request + r->request_sent, r->request_len - r->request_sent,
	         MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		raw_wait_writable(r);
		return;
	}
	if (n < 0 && !r->connected) {
		raw_connect_next(r);
		return;
	}
	if (n < 0) {
		snprintf(text, sizeof(text), "Send failure: %s", strerror(errno));
		raw_fail_early(r, http_curl_outcome(CURLE_SEND_ERROR), CURLE_SEND_ERROR, text);
		return;
	}
	raw_mark_connected(r);
	r->request_sent += (size_t)n;
	if (r->request_sent < r->request_len)
		raw_wait_writable(r);
	else
		raw_wait_readable(r);
}

static void raw_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct raw_run *r = w->data;

	(void)loop;
	(void)revents;
	if (r->sending)
		raw_send(r);
	else
		raw_read(r);
}

static int raw_target_of(struct raw_target *t, const struct exec_request *req)
{
	if (req->url)
		return raw_target_from_url(t, req->url, req->ip_version);
	if (!req->host)
		return -1;
	return raw_target_from_host(t, req->host, req->port, req->path, req->ip_version);
}

bool exec_http_raw_eligible(const struct exec_ctx *ctx, const struct exec_request *req)
{
	struct raw_target t;

	if (ctx->http_via_curl || req->kind != EXEC_HTTP || req->body_regex ||
	    req->follow_redirects)
		return false;
	if (req->user_agent &&
	    (strlen(req->user_agent) > RAW_AGENT_MAX || strpbrk(req->user_agent, "\r\n")))
		return false;
	return raw_target_of(&t, req) == 0;
}

/* The request of a Marathon check adds Connection: close (the backend may
 * close first, saving it a wait for a next request that never comes); a
 * native curl check sends exactly what the curl tool sends. */
static int raw_prepare(struct raw_run *r, struct exec_ctx *ctx, const struct exec_request *req)
{
	const char *ua = req->user_agent ? req->user_agent : "vipd/" VIPD_VERSION;
	int n;

	if (raw_target_of(&r->target, req) < 0)
		return -1;
	n = raw_request_build(r->request, sizeof(r->request), &r->target, req->head_only, ua,
	                      !req->url);
	r->target.path = NULL;
	if (n < 0)
		return -1;
	r->request_len = (size_t)n;
	r->kept = req->capture_body ? NULL : r->excerpt;
	r->kept_cap = req->capture_body ? ctx->body_keep : sizeof(r->excerpt);
	return 0;
}

static int raw_launch(struct exec_run **out, struct exec_ctx *ctx, const struct exec_request *req,
                      exec_done_cb cb, void *arg, char *err, size_t errlen)
{
	struct raw_run *r;

	r = (struct raw_run *)exec_run_new(ctx, &exec_http_raw_ops, sizeof(*r), req, cb, arg);
	if (!r) {
		errbuf_set(err, errlen, "HTTP run: %s", strerror(ENOMEM));
		return -1;
	}
	r->fd = -1;
	r->ignore_http1xx = req->ignore_http1xx;
	r->sending = true;
	r->curl_code = -1;
	r->timeout_s = req->timeout_s;
	raw_resp_init(&r->resp, req->head_only, req->fail_on_error, raw_on_body, r);
	ev_init(&r->io, raw_io_cb);
	r->io.data = r;
	r->connect_deadline = req->connect_timeout_s > 0 && req->connect_timeout_s < req->timeout_s;
	ev_timer_init(&r->deadline, raw_deadline_cb,
	              r->connect_deadline ? req->connect_timeout_s : req->timeout_s, 0.);
	r->deadline.data = r;
	if (raw_prepare(r, ctx, req) < 0) {
		errbuf_set(err, errlen, "HTTP check: not a target for the raw client");
		exec_cancel(&r->base);
		return -1;
	}
	if (req->netns && !(r->netns = strdup(req->netns))) {
		errbuf_set(err, errlen, "HTTP run: %s", strerror(ENOMEM));
		exec_cancel(&r->base);
		return -1;
	}
	ctx->raw_runs++;
	*out = &r->base;
	ev_timer_start(ctx->loop, &r->deadline);
	r->starting = true;
	raw_connect_next(r);
	r->starting = false;
	return 0;
}

const struct exec_ops exec_http_raw_ops = {
    .name = "http-raw",
    .launch = raw_launch,
    .release = raw_release,
    .free_extra = raw_free_extra,
    .body = raw_body,
    .body_total = raw_body_total,
    .curl_code = raw_curl_code,
};
