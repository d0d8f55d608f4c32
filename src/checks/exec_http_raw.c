/*
 * Marathon's plain HTTP checks (numeric host, GET, status decides) run
 * directly on the loop as HAProxy runs its httpchk: one non-blocking socket,
 * one request, the response read until its body ends, one ev_io and one
 * deadline. Results, texts and curl codes are libcurl's for the same cases,
 * so a check judges the same whichever path exec_start picks.
 */
#define VIPD_EXEC_INTERNAL
#include "vipd/exec.h"
#include "vipd/errbuf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef VIPD_VERSION
#define VIPD_VERSION "dev"
#endif

/* Longer paths go through libcurl rather than a bigger buffer per run. */
#define RAW_PATH_MAX 1024
#define RAW_REQUEST_MAX (RAW_PATH_MAX + 256)
/* Response bytes buffered at once; one header line must fit, or is skipped. */
#define RAW_IN_MAX 4096
/* As exec_http.c keeps for the output when nobody reads the body. */
#define RAW_EXCERPT_MAX CHECK_OUTPUT_MAX

enum raw_state {
	RAW_SENDING,     /* connecting, then writing the request */
	RAW_STATUS,      /* waiting for a status line (first, or after a 1xx) */
	RAW_HEADERS,     /* header lines of that response */
	RAW_BODY_LENGTH, /* Content-Length bytes */
	RAW_BODY_EOF,    /* neither length nor chunked: the body ends at close */
	RAW_CHUNK_SIZE,
	RAW_CHUNK_DATA,
	RAW_CHUNK_END, /* the CRLF after a chunk's data */
	RAW_TRAILERS,  /* after the last chunk, until an empty line */
};

struct raw_run {
	struct exec_run base;
	int fd; /* -1 once closed */
	ev_io io;
	ev_timer deadline;
	enum raw_state state;
	bool connected;     /* a send succeeded: later errors are not connect errors */
	bool final_status;  /* a non-1xx status line came */
	bool chunked;       /* of the response being read */
	bool has_length;    /* of the response being read */
	bool skipping_line; /* discarding a header line longer than the buffer */
	bool ignore_http1xx;
	int curl_code; /* the CURLcode libcurl would have given */
	unsigned port;
	unsigned long long body_left; /* Content-Length or chunk bytes still due */
	unsigned long long body_length;
	size_t body_seen; /* all body bytes received */
	size_t request_len, request_sent;
	size_t in_len;
	size_t excerpt_len;
	char host_text[INET6_ADDRSTRLEN]; /* for connect messages, as curl names it */
	char request[RAW_REQUEST_MAX];
	char in[RAW_IN_MAX];
	char excerpt[RAW_EXCERPT_MAX];
};

static void raw_close(struct raw_run *r)
{
	struct ev_loop *loop = r->base.ctx->loop;

	ev_io_stop(loop, &r->io);
	ev_timer_stop(loop, &r->deadline);
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
}

static void raw_release(struct exec_run *run)
{
	raw_close((struct raw_run *)run);
}

const void *exec_http_raw_body(const struct exec_run *run, size_t *len)
{
	const struct raw_run *r = (const struct raw_run *)run;

	if (len)
		*len = r->excerpt_len;
	return r->excerpt_len ? r->excerpt : NULL;
}

size_t exec_http_raw_body_total(const struct exec_run *run)
{
	return ((const struct raw_run *)run)->body_seen;
}

int exec_http_raw_curl_code(const struct exec_run *run)
{
	return ((const struct raw_run *)run)->curl_code;
}

/* The subset of exec_http.c's CURLcode mapping this file can produce. */
static enum check_outcome raw_error_outcome(int curl_code)
{
	switch (curl_code) {
	case CURLE_OPERATION_TIMEDOUT:
		return CHECK_FAIL_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return CHECK_FAIL_CONNECT;
	default:
		return CHECK_FAIL_PROTOCOL;
	}
}

static long raw_elapsed_ms(const struct raw_run *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - r->base.started.tv_sec) * 1000 +
	       (now.tv_nsec - r->base.started.tv_nsec) / 1000000;
}

/* As exec_http.c's http_judge for a failed transfer: after a lone 1xx,
 * Marathon judges the 1xx; otherwise the error decides. */
static void raw_fail(struct raw_run *r, int curl_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void raw_fail(struct raw_run *r, int curl_code, const char *fmt, ...)
{
	struct check_result *res = &r->base.result;
	va_list ap;

	r->curl_code = curl_code;
	if (!r->final_status && res->http_status >= 100 && res->http_status <= 199) {
		res->outcome = r->ignore_http1xx ? CHECK_IGNORED : CHECK_FAIL_HTTP_STATUS;
		exec_run_set_output(&r->base, "HTTP %ld, then %s", res->http_status,
		                    curl_easy_strerror((CURLcode)curl_code));
	} else {
		res->outcome = raw_error_outcome(curl_code);
		va_start(ap, fmt);
		vsnprintf(res->output, sizeof(res->output), fmt, ap);
		va_end(ap);
	}
	exec_run_finish(&r->base);
}

/* Marathon: 200-399 healthy, else unhealthy; the output shows the head of
 * the body, printable, as exec_http.c's http_output. */
static void raw_judge(struct raw_run *r)
{
	struct check_result *res = &r->base.result;
	char *out = res->output;
	size_t cap = sizeof(res->output), len, i;

	r->curl_code = CURLE_OK;
	res->outcome =
	    res->http_status >= 200 && res->http_status <= 399 ? CHECK_OK : CHECK_FAIL_HTTP_STATUS;
	len = (size_t)snprintf(out, cap, "HTTP %ld", res->http_status);
	if (len < cap - 1 && r->excerpt_len) {
		out[len++] = ' ';
		for (i = 0; i < r->excerpt_len && len < cap - 1; i++) {
			unsigned char ch = (unsigned char)r->excerpt[i];

			out[len++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
		}
		out[len] = '\0';
	}
	exec_run_finish(&r->base);
}

static void raw_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct raw_run *r = w->data;
	long ms = raw_elapsed_ms(r);

	(void)loop;
	(void)revents;
	if (!r->connected)
		raw_fail(r, CURLE_OPERATION_TIMEDOUT, "Connection timed out after %ld milliseconds",
		         ms);
	else if (r->final_status && r->has_length && !r->chunked)
		raw_fail(r, CURLE_OPERATION_TIMEDOUT,
		         "Operation timed out after %ld milliseconds with %zu out of %llu bytes "
		         "received",
		         ms, r->body_seen, r->body_length);
	else
		raw_fail(r, CURLE_OPERATION_TIMEDOUT,
		         "Operation timed out after %ld milliseconds with %zu bytes received", ms,
		         r->body_seen);
}

/* Returns true when the run was finished (body past body_max: the status
 * decides, as exec_http.c does when it cuts a runaway body). */
static bool raw_body_bytes(struct raw_run *r, const char *data, size_t n)
{
	size_t keep = RAW_EXCERPT_MAX - r->excerpt_len;

	if (keep > n)
		keep = n;
	memcpy(r->excerpt + r->excerpt_len, data, keep);
	r->excerpt_len += keep;
	r->body_seen += n;
	if (r->body_seen > r->base.ctx->body_max) {
		raw_judge(r);
		return true;
	}
	return false;
}

/* libcurl's status-line rules (7.88): "HTTP/1.0", "HTTP/1.1" or HTTP/2
 * spelled either way, one space, exactly three digits. */
static bool raw_parse_status(struct raw_run *r, const char *line, size_t len)
{
	const char *p = line + 5, *end = line + len;
	int version;

	if (end - p >= 4 && isdigit((unsigned char)p[0]) && p[1] == '.' &&
	    isdigit((unsigned char)p[2]) && p[3] == ' ') {
		version = (p[0] - '0') * 10 + (p[2] - '0');
		p += 4;
	} else if (end - p >= 2 && isdigit((unsigned char)p[0]) && p[1] == ' ') {
		version = (p[0] - '0') * 10;
		p += 2;
	} else {
		raw_fail(r, CURLE_UNSUPPORTED_PROTOCOL, "Unsupported HTTP version in response");
		return false;
	}
	if (version != 10 && version != 11 && version != 20) {
		raw_fail(r, CURLE_UNSUPPORTED_PROTOCOL,
		         "Unsupported HTTP version (%d.%d) in response", version / 10,
		         version % 10);
		return false;
	}
	if (end - p < 3 || !isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || (end - p > 3 && !isspace((unsigned char)p[3]))) {
		raw_fail(r, CURLE_UNSUPPORTED_PROTOCOL,
		         "Unsupported response code in HTTP response");
		return false;
	}
	r->base.result.http_status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	r->final_status = r->base.result.http_status < 100 || r->base.result.http_status > 199;
	r->chunked = false;
	r->has_length = false;
	r->state = RAW_HEADERS;
	return true;
}

static bool raw_header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	*value = line + n + 1;
	return true;
}

/* Only the headers that delimit the body matter to a status check. */
static bool raw_parse_header(struct raw_run *r, const char *line, size_t len)
{
	const char *v, *end = line + len;
	unsigned long long n = 0;

	if (raw_header_is(line, len, "Transfer-Encoding", &v)) {
		if (memmem(v, (size_t)(end - v), "chunked", 7))
			r->chunked = true;
		return true;
	}
	if (!raw_header_is(line, len, "Content-Length", &v))
		return true;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	if (v == end || !isdigit((unsigned char)*v))
		goto bad;
	for (; v < end && isdigit((unsigned char)*v); v++) {
		if (n > (~0ULL - 9) / 10)
			goto bad;
		n = n * 10 + (unsigned long long)(*v - '0');
	}
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	if (v != end)
		goto bad;
	r->has_length = true;
	r->body_length = n;
	return true;
bad:
	raw_fail(r, CURLE_WEIRD_SERVER_REPLY, "Invalid Content-Length: value");
	return false;
}

/* The empty line: a 1xx is followed by another response (RFC 9110 15.2, as
 * libcurl reads it); a final one picks how its body is delimited. */
static bool raw_end_of_headers(struct raw_run *r)
{
	long status = r->base.result.http_status;

	if (!r->final_status) {
		r->state = RAW_STATUS;
		return true;
	}
	if (status == 204 || status == 304 || (r->has_length && !r->chunked && !r->body_length)) {
		raw_judge(r);
		return false;
	}
	if (r->chunked) {
		r->state = RAW_CHUNK_SIZE;
	} else if (r->has_length) {
		r->body_left = r->body_length;
		r->state = RAW_BODY_LENGTH;
	} else {
		r->state = RAW_BODY_EOF;
	}
	return true;
}

static bool raw_parse_chunk_size(struct raw_run *r, const char *line, size_t len)
{
	unsigned long long n = 0;
	size_t i;

	for (i = 0; i < len && isxdigit((unsigned char)line[i]); i++) {
		if (n >> 60)
			goto bad;
		n = n * 16 + (unsigned long long)(isdigit((unsigned char)line[i])
		                                      ? line[i] - '0'
		                                      : tolower((unsigned char)line[i]) - 'a' + 10);
	}
	if (!i || (i < len && line[i] != ';' && line[i] != ' ' && line[i] != '\t'))
		goto bad;
	r->body_left = n;
	r->state = n ? RAW_CHUNK_DATA : RAW_TRAILERS;
	return true;
bad:
	raw_fail(r, CURLE_RECV_ERROR,
	         "Illegal or missing hexadecimal sequence in chunked-encoding");
	return false;
}

/* One complete line (CR stripped) in a line state. Returns false when the
 * run was finished. */
static bool raw_line(struct raw_run *r, const char *line, size_t len)
{
	switch (r->state) {
	case RAW_STATUS:
		return raw_parse_status(r, line, len);
	case RAW_HEADERS:
		return len ? raw_parse_header(r, line, len) : raw_end_of_headers(r);
	case RAW_CHUNK_SIZE:
		return raw_parse_chunk_size(r, line, len);
	case RAW_CHUNK_END:
		if (len) {
			raw_fail(r, CURLE_RECV_ERROR,
			         "Malformed encoding found in chunked-encoding");
			return false;
		}
		r->state = RAW_CHUNK_SIZE;
		return true;
	case RAW_TRAILERS:
		if (len)
			return true;
		raw_judge(r);
		return false;
	default:
		return true;
	}
}

static bool raw_in_line_state(const struct raw_run *r)
{
	return r->state == RAW_STATUS || r->state == RAW_HEADERS || r->state == RAW_CHUNK_SIZE ||
	       r->state == RAW_CHUNK_END || r->state == RAW_TRAILERS;
}

/* Body bytes at the head of `data`; returns how many were used, or
 * (size_t)-1 when the run was finished. */
static size_t raw_body(struct raw_run *r, const char *data, size_t avail)
{
	size_t n = avail;

	if (r->state != RAW_BODY_EOF && r->body_left < n)
		n = (size_t)r->body_left;
	if (raw_body_bytes(r, data, n))
		return (size_t)-1;
	if (r->state == RAW_BODY_EOF)
		return n;
	r->body_left -= n;
	if (r->body_left)
		return n;
	if (r->state == RAW_CHUNK_DATA) {
		r->state = RAW_CHUNK_END;
		return n;
	}
	raw_judge(r);
	return (size_t)-1;
}

/* Everything buffered, as far as it goes. Returns false when the run was
 * finished. */
static bool raw_consume(struct raw_run *r)
{
	size_t off = 0, used, len;
	const char *nl;

	while (off < r->in_len) {
		if (!raw_in_line_state(r)) {
			used = raw_body(r, r->in + off, r->in_len - off);
			if (used == (size_t)-1)
				return false;
			off += used;
			continue;
		}
		/* libcurl gives up on a first line that cannot be a status line
		 * as soon as it sees five bytes, without waiting for its end. */
		if (r->state == RAW_STATUS &&
		    strncmp(r->in + off, "HTTP/", r->in_len - off < 5 ? r->in_len - off : 5) != 0) {
			raw_fail(r, CURLE_UNSUPPORTED_PROTOCOL,
			         "Received HTTP/0.9 when not allowed");
			return false;
		}
		nl = memchr(r->in + off, '\n', r->in_len - off);
		if (!nl)
			break;
		len = (size_t)(nl - (r->in + off));
		if (r->skipping_line) {
			r->skipping_line = false;
			off += len + 1;
			continue;
		}
		if (len && r->in[off + len - 1] == '\r')
			len--;
		if (!raw_line(r, r->in + off, len))
			return false;
		off = (size_t)(nl - r->in) + 1;
	}
	memmove(r->in, r->in + off, r->in_len - off);
	r->in_len -= off;
	if (r->in_len == sizeof(r->in)) {
		/* A header line longer than the buffer says nothing we read. */
		if (r->state != RAW_HEADERS && r->state != RAW_TRAILERS) {
			raw_fail(r, CURLE_WEIRD_SERVER_REPLY, "Response line too long");
			return false;
		}
		r->skipping_line = true;
		r->in_len = 0;
	}
	return true;
}

static void raw_eof(struct raw_run *r)
{
	switch (r->state) {
	case RAW_BODY_EOF:
		raw_judge(r);
		break;
	case RAW_BODY_LENGTH:
		raw_fail(r, CURLE_PARTIAL_FILE, "transfer closed with %llu bytes remaining to read",
		         r->body_left);
		break;
	case RAW_CHUNK_SIZE:
	case RAW_CHUNK_DATA:
	case RAW_CHUNK_END:
	case RAW_TRAILERS:
		raw_fail(r, CURLE_PARTIAL_FILE,
		         "transfer closed with outstanding read data remaining");
		break;
	default:
		raw_fail(r, CURLE_GOT_NOTHING, "Empty reply from server");
		break;
	}
}

static void raw_read(struct raw_run *r)
{
	ssize_t n;

	n = recv(r->fd, r->in + r->in_len, sizeof(r->in) - r->in_len, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		raw_fail(r, CURLE_RECV_ERROR, "Recv failure: %s", strerror(errno));
		return;
	}
	if (n == 0) {
		raw_eof(r);
		return;
	}
	r->in_len += (size_t)n;
	raw_consume(r);
}

#define RAW_CONNECT_FAILED                                                                         \
	"Failed to connect to %s port %u after %ld ms: Couldn't connect to server"

static void raw_wait_readable(struct raw_run *r)
{
	struct ev_loop *loop = r->base.ctx->loop;

	r->state = RAW_STATUS;
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

/* The first send also reports the connect's own error (the pending
 * SO_ERROR), which saves the getsockopt libcurl makes. */
static void raw_send(struct raw_run *r)
{
	ssize_t n;

	n = send(r->fd, r->request + r->request_sent, r->request_len - r->request_sent,
	         MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (!r->connected)
			raw_fail(r, CURLE_COULDNT_CONNECT, RAW_CONNECT_FAILED, r->host_text,
			         r->port, raw_elapsed_ms(r));
		else
			raw_fail(r, CURLE_SEND_ERROR, "Send failure: %s", strerror(errno));
		return;
	}
	r->connected = true;
	r->request_sent += (size_t)n;
	if (r->request_sent < r->request_len)
		raw_wait_writable(r);
	else
		raw_wait_readable(r);
}

/* After a connect that completed at once, still inside exec_start(): a
 * failure is delivered on the next loop turn, never from here. */
static void raw_send_first(struct raw_run *r)
{
	ssize_t n;

	n = send(r->fd, r->request, r->request_len, MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		ev_timer_stop(r->base.ctx->loop, &r->deadline);
		r->curl_code = CURLE_SEND_ERROR;
		exec_run_finish_soon(&r->base, CHECK_FAIL_CONNECT, "Send failure: %s",
		                     strerror(errno));
		return;
	}
	r->connected = true;
	if (n > 0)
		r->request_sent = (size_t)n;
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
	if (r->state == RAW_SENDING)
		raw_send(r);
	else
		raw_read(r);
}

/* libcurl rewrites or refuses some paths (dot segments, fragments, spaces
 * and controls); those keep going to it, so the backend sees the same
 * request either way. */
static bool raw_path_plain(const char *path)
{
	const char *p, *seg = path;
	size_t seglen;

	if (strlen(path) > RAW_PATH_MAX)
		return false;
	for (p = path;; p++) {
		if (*p == '/' || *p == '?' || !*p) {
			seglen = (size_t)(p - seg);
			if ((seglen == 1 && seg[0] == '.') ||
			    (seglen == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
			if (*p == '?' || !*p)
				return true;
			seg = p + 1;
			continue;
		}
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#' ||
		    *p == '\\')
			return false;
	}
}

bool exec_http_raw_eligible(const struct exec_ctx *ctx, const struct exec_request *req)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (ctx->http_via_curl || req->kind != EXEC_HTTP || req->url || !req->host || !req->port ||
	    req->port > 65535)
		return false;
	if (req->body_regex || req->capture_body || req->follow_redirects || req->head_only ||
	    req->user_agent || req->fail_on_error || req->ip_version || req->connect_timeout_s > 0)
		return false;
	if (req->path && !raw_path_plain(req->path))
		return false;
	return exec_parse_addr(req->host, req->port, &ss, &sslen) == 0;
}

/* libcurl's request for the same URL (Host without the default port, its
 * Accept), plus Connection: close: the backend may close first, saving it a
 * wait for a next request that never comes. */
static int raw_build_request(struct raw_run *r, const char *path, int family)
{
	const char *p = path && path[0] ? path : "/";
	char port_text[8] = "";
	int n;

	if (r->port != 80)
		snprintf(port_text, sizeof(port_text), ":%u", r->port);
	n = snprintf(r->request, sizeof(r->request),
	             "GET %s%s HTTP/1.1\r\nHost: %s%s%s%s\r\nUser-Agent: vipd/" VIPD_VERSION
	             "\r\nAccept: */*\r\nConnection: close\r\n\r\n",
	             p[0] == '/' ? "" : "/", p, family == AF_INET6 ? "[" : "", r->host_text,
	             family == AF_INET6 ? "]" : "", port_text);
	if (n < 0 || (size_t)n >= sizeof(r->request))
		return -1;
	r->request_len = (size_t)n;
	return 0;
}

static void raw_connect(struct raw_run *r, const char *netns, const struct sockaddr_storage *ss,
                        socklen_t sslen)
{
	struct exec_ctx *ctx = r->base.ctx;
	char nserr[256];

	/* libcurl reports a socket it could not open as a failed connect. */
	r->curl_code = CURLE_COULDNT_CONNECT;
	r->fd = exec_netns_socket(ctx, netns, ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0, nserr,
	                          sizeof(nserr));
	if (r->fd < 0) {
		exec_run_finish_soon(&r->base, netns ? CHECK_FAIL_NETNS : CHECK_FAIL_INTERNAL, "%s",
		                     nserr);
		return;
	}
	ev_timer_start(ctx->loop, &r->deadline);
	if (connect(r->fd, (const struct sockaddr *)ss, sslen) == 0) {
		/* Loopback often connects at once: write without a loop turn. */
		raw_send_first(r);
		return;
	}
	if (errno != EINPROGRESS) {
		ev_timer_stop(ctx->loop, &r->deadline);
		exec_run_finish_soon(&r->base, CHECK_FAIL_CONNECT, RAW_CONNECT_FAILED, r->host_text,
		                     r->port, raw_elapsed_ms(r));
		return;
	}
	ev_io_set(&r->io, r->fd, EV_WRITE);
	ev_io_start(ctx->loop, &r->io);
}

int exec_http_raw_start(struct exec_run **out, struct exec_ctx *ctx, const struct exec_request *req,
                        exec_done_cb cb, void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct raw_run *r;
	const void *addr;

	if (exec_parse_addr(req->host, req->port, &ss, &sslen) < 0) {
		errbuf_set(err, errlen, "HTTP check: \"%s\" is not a numeric address", req->host);
		return -1;
	}
	r = (struct raw_run *)exec_run_new(ctx, sizeof(*r), req, cb, arg);
	if (!r) {
		errbuf_set(err, errlen, "HTTP run: %s", strerror(ENOMEM));
		return -1;
	}
	r->fd = -1;
	r->base.http_raw = true;
	r->base.release = raw_release;
	r->ignore_http1xx = req->ignore_http1xx;
	r->port = req->port;
	r->state = RAW_SENDING;
	r->curl_code = -1;
	ev_init(&r->io, raw_io_cb);
	r->io.data = r;
	ev_timer_init(&r->deadline, raw_deadline_cb, req->timeout_s, 0.);
	r->deadline.data = r;
	addr = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
	                               : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (!inet_ntop(ss.ss_family, addr, r->host_text, sizeof(r->host_text)) ||
	    raw_build_request(r, req->path, ss.ss_family) < 0) {
		errbuf_set(err, errlen, "HTTP check: path too long");
		exec_cancel(&r->base);
		return -1;
	}
	*out = &r->base;
	raw_connect(r, req->netns, &ss, sslen);
	return 0;
}
