/*
 * The direct HTTP/1.x path of exec_http_raw.c against an in-process server
 * on 127.0.0.1 and ::1 (served from the checks' own loop): every case runs
 * once raw and once through libcurl (http_via_curl) and must judge the same.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "vipd/exec.h"
/* for exec_http_raw_eligible() */
#include "exec_int.h"

#define EXEC_WAIT_OWN_WAITER
#include "exec_wait.h"
#include "test_ports.h"

/* ---- a tiny HTTP server on the test's loop, answering canned bytes ---- */

struct conn {
	int fd;
	ev_io io;
	char in[4096];
	size_t in_len;
	const char *out;
	size_t out_len, out_off;
	bool replying;
	bool hold; /* after the reply, keep the connection open */
};

struct listener {
	int fd;
	unsigned port;
	ev_io watcher;
};

static struct listener v4, v6;
static int open_conns;
static char last_request[4096]; /* what the last client sent, for the path check */

static char long_reply[4096];
/* Bodies past the 1 MiB that once failed the transfer: Content-Length and
 * until close. */
#define HUGE_BODY (3 * 1024 * 1024)
static char *huge_reply, *huge_close_reply;
static size_t huge_reply_len, huge_close_reply_len;

/* Replies made at set-up, for heads past the client's 4 KiB buffer. */
struct made_reply {
	const char *path;
	char *raw;
	size_t len;
};
static struct made_reply made[12];
static size_t nmade;

static void conn_free(struct conn *c)
{
	ev_io_stop(loop, &c->io);
	close(c->fd);
	free(c);
	open_conns--;
}

static void conn_send(struct conn *c, const char *raw, size_t len, bool hold)
{
	c->out = raw;
	c->out_len = len;
	c->hold = hold;
	c->replying = true;
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(loop, &c->io);
}

#define REPLY(c, lit) conn_send(c, lit, sizeof(lit) - 1, false)
#define REPLY_HOLD(c, lit) conn_send(c, lit, sizeof(lit) - 1, true)

static void conn_reset(struct conn *c)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_free(c);
}

static bool made_reply_send(struct conn *c, const char *path)
{
	size_t i;

	for (i = 0; i < nmade; i++) {
		if (!strcmp(path, made[i].path)) {
			conn_send(c, made[i].raw, made[i].len, false);
			return true;
		}
	}
	return false;
}

/* "hello gzip" gzipped, "hello deflate" in zlib's wrapper, "hello raw
 * deflate" without it (Python's gzip and zlib modules made them). */
#define GZIP_HELLO                                                                                 \
	"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\x57\x48\xaf\xca\x2c\x00\x00" \
	"\x19"                                                                                     \
	"\x6a\xd2\xdf\x0a\x00\x00\x00"
#define ZLIB_HELLO                                                                                 \
	"\x78\x9c\xcb\x48\xcd\xc9\xc9\x57\x48\x49\x4d\xcb\x49\x2c\x49\x05\x00\x23\x0c\x05\x0a"
#define RAW_DEFLATE_HELLO                                                                          \
	"\xcb\x48\xcd\xc9\xc9\x57\x28\x4a\x2c\x57\x48\x49\x4d\xcb\x49\x2c\x49\x05\x00"
#define TE_HEAD(codings) "HTTP/1.1 200 OK\r\nTransfer-Encoding: " codings "\r\n\r\n"

/* Transfer codings curl 7.88 undoes (or refuses) after the chunks. */
static void route_coding(struct conn *c, const char *path)
{
	if (!strcmp(path, "/te-gzip-plain"))
		REPLY(c, TE_HEAD("gzip, chunked") "4\r\nbody\r\n0\r\n\r\n");
	else if (!strcmp(path, "/te-gzip"))
		REPLY(c, TE_HEAD("gzip, chunked") "1e\r\n" GZIP_HELLO "\r\n0\r\n\r\n");
	else if (!strcmp(path, "/te-gzip-close"))
		REPLY(c, TE_HEAD("x-gzip") GZIP_HELLO);
	else if (!strcmp(path, "/te-gzip-extra"))
		REPLY(c, TE_HEAD("gzip, chunked") "21\r\n" GZIP_HELLO "xyz\r\n0\r\n\r\n");
	else if (!strcmp(path, "/te-gzip-close-extra"))
		REPLY(c, TE_HEAD("gzip") GZIP_HELLO "xyz");
	else if (!strcmp(path, "/te-gzip-empty"))
		REPLY(c, TE_HEAD("gzip, chunked") "0\r\n\r\n");
	else if (!strcmp(path, "/te-gzip-404"))
		REPLY(c, "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
		         "4\r\nnope\r\n0\r\n\r\n");
	else if (!strcmp(path, "/te-deflate"))
		REPLY(c, TE_HEAD("deflate, chunked") "15\r\n" ZLIB_HELLO "\r\n0\r\n\r\n");
	else if (!strcmp(path, "/te-deflate-raw"))
		REPLY(c, TE_HEAD("Deflate ,chunked") "13\r\n" RAW_DEFLATE_HELLO "\r\n0\r\n\r\n");
	else if (!strcmp(path, "/te-two"))
		REPLY(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: "
		         "chunked\r\n\r\n1e\r\n" GZIP_HELLO "\r\n0\r\n\r\n");
	else if (!strcmp(path, "/te-identity"))
		REPLY(c, TE_HEAD("identity, CHUNKED") "4\r\nbody\r\n0\r\n\r\n");
	else if (!strcmp(path, "/te-unknown"))
		REPLY(c, TE_HEAD("xyz, chunked") "4\r\nbody\r\n0\r\n\r\n");
	else if (!strcmp(path, "/te-six"))
		REPLY(c,
		      TE_HEAD(
		          "identity, none, identity, none, identity, none, chunked") "4\r\nbody\r\n"
		                                                                     "0\r\n\r\n");
	else
		REPLY(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

static void conn_route(struct conn *c)
{
	char method[16], path[256];

	snprintf(last_request, sizeof(last_request), "%s", c->in);
	if (sscanf(c->in, "%15s %255s", method, path) != 2)
		REPLY(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	else if (!strcmp(path, "/ok"))
		REPLY(c, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nall good");
	else if (!strcmp(path, "/moved"))
		REPLY(c, "HTTP/1.1 301 Moved Permanently\r\nLocation: /ok\r\nContent-Length: "
		         "5\r\n\r\nmoved");
	else if (!strcmp(path, "/missing"))
		REPLY(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
	else if (!strcmp(path, "/error"))
		REPLY(c, "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\nboom");
	else if (!strcmp(path, "/empty"))
		REPLY(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	else if (!strcmp(path, "/nocontent"))
		REPLY_HOLD(c, "HTTP/1.1 204 No Content\r\n\r\n");
	else if (!strcmp(path, "/info"))
		REPLY(c, "HTTP/1.1 102 Processing\r\n\r\n");
	else if (!strcmp(path, "/info-hold"))
		REPLY_HOLD(c, "HTTP/1.1 102 Processing\r\n\r\n");
	else if (!strcmp(path, "/continue"))
		REPLY(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
		         "5\r\n\r\nfinal");
	else if (!strcmp(path, "/continue-404"))
		REPLY(c, "HTTP/1.1 100 Continue\r\nX-A: b\r\n\r\nHTTP/1.1 404 Not Found\r\n"
		         "Content-Length: 0\r\n\r\n");
	else if (!strcmp(path, "/chunked"))
		REPLY(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n"
		         "A\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n");
	else if (!strcmp(path, "/chunked-cut"))
		REPLY(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab");
	else if (!strcmp(path, "/chunked-bad"))
		REPLY(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n");
	else if (!strcmp(path, "/until-close"))
		REPLY(c, "HTTP/1.0 200 OK\nServer: old\n\nbody until close");
	else if (!strcmp(path, "/short"))
		REPLY(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	else if (!strcmp(path, "/bad-length"))
		REPLY(c, "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nok");
	else if (!strcmp(path, "/binary"))
		REPLY(c, "HTTP/1.1 503 Busy\r\nContent-Length: 6\r\n\r\na\tb\x01\xff"
		         "c");
	else if (!strcmp(path, "/long"))
		conn_send(c, long_reply, strlen(long_reply), false);
	else if (made_reply_send(c, path))
		return;
	else if (!strncmp(path, "/te-", 4))
		route_coding(c, path);
	else if (!strcmp(path, "/cl-over"))
		REPLY(c, "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\nbody");
	else if (!strcmp(path, "/cl-max"))
		REPLY(c, "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nbody");
	else if (!strcmp(path, "/cl-plus"))
		REPLY(c, "HTTP/1.1 200 OK\r\nContent-Length:\t+4 \r\n\r\nbody");
	else if (!strcmp(path, "/cl-junk"))
		REPLY(c, "HTTP/1.1 200 OK\r\nContent-Length: 4x\r\n\r\nbody and more");
	else if (!strcmp(path, "/cl-neg"))
		REPLY(c, "HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\nbody");
	else if (!strcmp(path, "/huge"))
		conn_send(c, huge_reply, huge_reply_len, false);
	else if (!strcmp(path, "/huge-close"))
		conn_send(c, huge_close_reply, huge_close_reply_len, false);
	else if (!strcmp(path, "/garbage"))
		REPLY(c, "garbage\r\n\r\n");
	else if (!strcmp(path, "/bad-code"))
		REPLY(c, "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n");
	else if (!strcmp(path, "/bad-version"))
		REPLY(c, "HTTP/1.3 200 OK\r\nContent-Length: 0\r\n\r\n");
	else if (!strcmp(path, "/cut-status"))
		REPLY(c, "HTTP/1.1 20");
	else if (!strcmp(path, "/close"))
		conn_free(c);
	else if (!strcmp(path, "/reset"))
		conn_reset(c);
	else if (!strcmp(path, "/stall404"))
		REPLY_HOLD(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nab");
	else if (!strcmp(path, "/slow"))
		return; /* never answers */
	else
		REPLY(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

static void conn_write(struct conn *c)
{
	ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

	if (n > 0)
		c->out_off += (size_t)n;
	else if (errno == EAGAIN)
		return;
	if (n > 0 && c->out_off < c->out_len)
		return;
	if (c->hold) {
		c->replying = false;
		ev_io_stop(loop, &c->io);
		ev_io_set(&c->io, c->fd, EV_READ);
		ev_io_start(loop, &c->io);
		return;
	}
	conn_free(c);
}

static void conn_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct conn *c = w->data;
	ssize_t n;

	(void)l;
	if (c->replying) {
		if (revents & EV_WRITE)
			conn_write(c);
		return;
	}
	n = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		conn_free(c); /* the client went away */
		return;
	}
	if (c->hold)
		return; /* a held connection ignores anything more */
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	if (strstr(c->in, "\r\n\r\n"))
		conn_route(c);
}

static void accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct conn *c;
	int fd;

	(void)l;
	(void)revents;
	fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->fd = fd;
	ev_io_init(&c->io, conn_cb, fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	open_conns++;
}

/* Bound on loopback (test_ports.h); listening when backlog >= 0. */
static unsigned bound_port(int family, int *keep_fd, int backlog)
{
	unsigned port = 0;

	*keep_fd =
	    test_bind_loopback(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, backlog, &port);
	assert_true(*keep_fd >= 0);
	return port;
}

static void listener_up(struct listener *l, int family)
{
	l->port = bound_port(family, &l->fd, 64);
	ev_io_init(&l->watcher, accept_cb, l->fd, EV_READ);
	ev_io_start(loop, &l->watcher);
}

static void listener_down(struct listener *l)
{
	ev_io_stop(loop, &l->watcher);
	close(l->fd);
}

/* head, then HUGE_BODY bytes of 'z' */
static char *make_reply(const char *head, size_t *len)
{
	size_t n = strlen(head);
	char *reply = malloc(n + HUGE_BODY);

	assert_non_null(reply);
	memcpy(reply, head, n);
	memset(reply + n, 'z', HUGE_BODY);
	*len = n + HUGE_BODY;
	return reply;
}

/* A reply whose status line, CRLF included, is status_len bytes; then, when
 * header_len, one header line of that length; then headers of 1000 bytes
 * and one filler line so that the whole head (blank line included) is
 * head_len bytes when head_len is not 0; then a 2-byte body. */
static void make_head(const char *path, size_t status_len, size_t header_len, size_t head_len)
{
	static const char tail[] = "Content-Length: 2\r\n\r\nok";
	size_t cap = status_len + header_len + head_len + sizeof(tail) + 64, n;
	char *raw = malloc(cap);

	assert_non_null(raw);
	assert_true(nmade < sizeof(made) / sizeof(made[0]));
	n = (size_t)snprintf(raw, cap, "HTTP/1.1 200 ");
	memset(raw + n, 'O', status_len - n - 2);
	n = status_len - 2;
	n += (size_t)snprintf(raw + n, cap - n, "\r\n");
	if (header_len) {
		n += (size_t)snprintf(raw + n, cap - n, "X-A: ");
		memset(raw + n, 'a', header_len - 7);
		n += header_len - 7;
		n += (size_t)snprintf(raw + n, cap - n, "\r\n");
	}
	while (head_len && n + 1000 + sizeof(tail) - 1 - 2 + 8 < head_len) {
		n += (size_t)snprintf(raw + n, cap - n, "X-B: ");
		memset(raw + n, 'b', 993);
		n += 993;
		n += (size_t)snprintf(raw + n, cap - n, "\r\n");
	}
	if (head_len) {
		size_t fill = head_len - n - (sizeof(tail) - 1 - 2); /* this line, CRLF included */

		n += (size_t)snprintf(raw + n, cap - n, "X-C: ");
		memset(raw + n, 'c', fill - 7);
		n += fill - 7;
		n += (size_t)snprintf(raw + n, cap - n, "\r\n");
	}
	n += (size_t)snprintf(raw + n, cap - n, "%s", tail);
	if (head_len)
		assert_int_equal(n - 2, head_len);
	made[nmade++] = (struct made_reply){.path = path, .raw = raw, .len = n};
}

/* GZIP_BIG_BODY bytes of text, gzipped and sent in chunks of 1000 bytes:
 * zlib's output runs past one 16 KiB piece, its input over many reads. */
#define GZIP_BIG_BODY (2 * 1024 * 1024)
static void make_gzip_chunked(const char *path)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
	size_t plain_len = GZIP_BIG_BODY, cap, n, off, piece;
	char *plain = malloc(plain_len), *gz, *raw;
	z_stream z = {0};
	size_t i;

	assert_non_null(plain);
	for (i = 0; i < plain_len; i++)
		plain[i] = "health check body, "[i % 19];
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	cap = deflateBound(&z, plain_len);
	gz = malloc(cap);
	assert_non_null(gz);
	z.next_in = (Bytef *)plain;
	z.avail_in = (uInt)plain_len;
	z.next_out = (Bytef *)gz;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	n = z.total_out;
	deflateEnd(&z);
	raw = malloc(sizeof(head) + n + (n / 1000 + 1) * 16 + 16);
	assert_non_null(raw);
	off = (size_t)sprintf(raw, "%s", head);
	for (i = 0; i < n; i += piece) {
		piece = n - i < 1000 ? n - i : 1000;
		off += (size_t)sprintf(raw + off, "%zx\r\n", piece);
		memcpy(raw + off, gz + i, piece);
		off += piece;
		off += (size_t)sprintf(raw + off, "\r\n");
	}
	off += (size_t)sprintf(raw + off, "0\r\n\r\n");
	free(plain);
	free(gz);
	assert_true(nmade < sizeof(made) / sizeof(made[0]));
	made[nmade++] = (struct made_reply){.path = path, .raw = raw, .len = off};
}

static int server_up(void **state)
{
	size_t n;

	(void)state;
	n = (size_t)snprintf(long_reply, sizeof(long_reply),
	                     "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n");
	memset(long_reply + n, 'y', 2000);
	long_reply[n + 2000] = '\0';
	huge_reply =
	    make_reply("HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\n\r\n", &huge_reply_len);
	huge_close_reply = make_reply("HTTP/1.0 200 OK\r\n\r\n", &huge_close_reply_len);
	make_head("/status-5k", 5000, 0, 0);
	make_head("/status-100k-1", 100 * 1024 - 1, 0, 0);
	make_head("/status-100k", 100 * 1024, 0, 0);
	make_head("/header-100k-1", 17, 100 * 1024 - 1, 0);
	make_head("/header-100k", 17, 100 * 1024, 0);
	make_head("/head-300k", 17, 0, 300 * 1024);
	make_head("/head-300k+1", 17, 0, 300 * 1024 + 1);
	make_gzip_chunked("/te-gzip-big");
	listener_up(&v4, AF_INET);
	listener_up(&v6, AF_INET6);
	return 0;
}

static int server_down(void **state)
{
	(void)state;
	listener_down(&v4);
	listener_down(&v6);
	free(huge_reply);
	free(huge_close_reply);
	while (nmade)
		free(made[--nmade].raw);
	return 0;
}

/* ---- helpers ---- */

struct waiter {
	int calls;
	struct check_result res;
	int curl_code;
	size_t body_len, body_total;
	const char *executor;
	char request[4096]; /* what the server saw */
};

static void on_done(struct exec_run *run, const struct check_result *res, void *arg)
{
	struct waiter *w = arg;

	w->calls++;
	w->res = *res;
	w->curl_code = exec_run_curl_code(run);
	exec_run_body(run, &w->body_len);
	w->body_total = exec_run_body_total(run);
	w->executor = exec_run_executor(run);
}

static size_t ctx_body_keep; /* 0: the default */

static struct exec_ctx *new_ctx(bool via_curl)
{
	struct exec_settings s = {.http_via_curl = via_curl, .body_keep = ctx_body_keep};
	char err[256] = "";
	struct exec_ctx *ctx = exec_ctx_new(loop, &s, err, sizeof(err));

	if (!ctx)
		fail_msg("exec_ctx_new: %s", err);
	return ctx;
}

static struct exec_request http_req(const char *path)
{
	struct exec_request req = {
	    .kind = EXEC_HTTP, .host = "127.0.0.1", .port = v4.port, .path = path, .timeout_s = 3};
	return req;
}

static struct waiter run_req(bool via_curl, const struct exec_request *req)
{
	struct exec_ctx *ctx = new_ctx(via_curl);
	struct waiter w = {0};
	char err[256] = "";

	last_request[0] = '\0';
	if (!exec_start(ctx, req, on_done, &w, err, sizeof(err)))
		fail_msg("exec_start: %s", err);
	assert_int_equal(w.calls, 0); /* never from inside exec_start */
	spin_until(&w.calls, req->timeout_s + 5);
	assert_int_equal(w.calls, 1);
	assert_int_equal(exec_ctx_running(ctx), 0);
	assert_int_equal(exec_ctx_raw_runs(ctx), via_curl ? 0 : 1);
	assert_string_equal(w.executor, via_curl ? "http" : "http-raw");
	snprintf(w.request, sizeof(w.request), "%s", last_request);
	exec_ctx_free(ctx);
	return w;
}

/* a == b, but for the figure after "after " (a duration: "Failed to connect
 * to localhost port N after 0 ms" may say 1 ms on the other path). */
static void assert_same_text(const char *a, const char *b)
{
	const char *a0 = a, *b0 = b;

	while (*a && *a == *b) {
		a++;
		b++;
		if (a - a0 >= 6 && !strncmp(a - 6, "after ", 6)) {
			while (*a >= '0' && *a <= '9')
				a++;
			while (*b >= '0' && *b <= '9')
				b++;
		}
	}
	if (*a || *b)
		fail_msg("\"%s\" != \"%s\"", a0, b0);
}

/*
 * Runs `req` raw (run_req checks it took the raw path), then through
 * libcurl, and asserts the two agree on everything a caller sees; the output
 * too unless it holds a duration. A Marathon check's raw request adds
 * "Connection: close"; a native curl check's (req->url) is libcurl's own.
 */
static struct waiter run_both(const struct exec_request *req, bool same_output)
{
	struct waiter raw = run_req(false, req);
	struct waiter curl = run_req(true, req);

	if (raw.request[0] && !req->url)
		assert_non_null(strstr(raw.request, "\r\nConnection: close\r\n"));
	if (raw.request[0] && req->url)
		assert_string_equal(raw.request, curl.request);
	if (curl.request[0])
		assert_null(strstr(curl.request, "Connection: close"));
	assert_int_equal(raw.body_len, curl.body_len);
	assert_int_equal(raw.body_total, curl.body_total);
	assert_int_equal(raw.res.outcome, curl.res.outcome);
	assert_int_equal(raw.res.http_status, curl.res.http_status);
	assert_int_equal(raw.curl_code, curl.curl_code);
	if (same_output)
		assert_same_text(raw.res.output, curl.res.output);
	return raw;
}

static struct waiter run_path(const char *path)
{
	struct exec_request req = http_req(path);

	return run_both(&req, true);
}

/* ---- tests ---- */

static void test_request_is_what_curl_sends(void **state)
{
	struct exec_request req = http_req("ok");
	struct waiter w;
	char want[512];

	(void)state;
	w = run_req(false, &req); /* a path without its slash gets one, as in the URL */
	snprintf(want, sizeof(want),
	         "GET /ok HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: vipd/" VIPD_VERSION
	         "\r\nAccept: */*\r\nConnection: close\r\n\r\n",
	         v4.port);
	assert_string_equal(w.request, want);
	w = run_req(true, &req);
	snprintf(want, sizeof(want),
	         "GET /ok HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: vipd/" VIPD_VERSION
	         "\r\nAccept: */*\r\n\r\n",
	         v4.port);
	assert_string_equal(w.request, want);
}

static void test_2xx_3xx_healthy(void **state)
{
	struct waiter w;

	(void)state;
	w = run_path("/ok");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 200);
	assert_string_equal(w.res.output, "HTTP 200 all good");
	assert_int_equal(w.curl_code, 0);
	assert_int_equal(w.body_len, 8);
	assert_int_equal(w.body_total, 8);
	w = run_path("/moved"); /* 3xx healthy, not followed */
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 301);
	assert_string_equal(w.res.output, "HTTP 301 moved");
	w = run_path("/empty");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200");
	w = run_path("/nocontent"); /* no body, whatever the server leaves open */
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 204);
}

static void test_4xx_5xx_unhealthy(void **state)
{
	struct waiter w;

	(void)state;
	w = run_path("/missing");
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.res.http_status, 404);
	assert_string_equal(w.res.output, "HTTP 404 nope");
	assert_int_equal(w.curl_code, 0);
	w = run_path("/error");
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.res.http_status, 500);
	assert_string_equal(w.res.output, "HTTP 500 boom");
}

static void test_body_framing(void **state)
{
	struct waiter w;

	(void)state;
	w = run_path("/chunked");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200 abc0123456789");
	w = run_path("/until-close"); /* HTTP/1.0, bare LF, no length */
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200 body until close");
	w = run_path("/binary");
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(w.res.output, "HTTP 503 a.b..c");
	w = run_path("/long"); /* the excerpt fills the output, no more */
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(strlen(w.res.output), CHECK_OUTPUT_MAX - 1);
	assert_int_equal(w.body_total, 2000);
	w = run_path("/short");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 18);
	assert_string_equal(w.res.output, "transfer closed with 7 bytes remaining to read");
	w = run_path("/chunked-cut");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 18);
	w = run_path("/chunked-bad");
	assert_int_equal(w.res.outcome, CHECK_FAIL_CONNECT);
	assert_int_equal(w.curl_code, 56);
	w = run_path("/bad-length");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.res.http_status, 200);
	assert_string_equal(w.res.output, "Invalid Content-Length: value");
}

/* A status page past 1 MiB is read to its end, as curl -o /dev/null reads
 * it: healthy, CURLcode 0, whether its length is given or it ends at close. */
static void test_large_body_read_to_end(void **state)
{
	struct waiter w;
	char want[CHECK_OUTPUT_MAX];

	(void)state;
	memset(want, 'z', sizeof(want));
	memcpy(want, "HTTP 200 ", 9);
	want[sizeof(want) - 1] = '\0';
	w = run_path("/huge");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.curl_code, 0);
	assert_int_equal(w.body_total, HUGE_BODY);
	assert_string_equal(w.res.output, want);
	w = run_path("/huge-close");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.curl_code, 0);
	assert_int_equal(w.body_total, HUGE_BODY);
}

/* A status line past the 4 KiB buffer is read as curl reads it; curl's own
 * limits (a line of 100 KiB, a head of 300 KiB) fail as they fail there. */
static void test_long_head(void **state)
{
	struct waiter w;

	(void)state;
	w = run_path("/status-5k");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 200);
	assert_int_equal(w.curl_code, 0);
	assert_string_equal(w.res.output, "HTTP 200 ok");
	w = run_path("/status-100k-1");
	assert_int_equal(w.res.outcome, CHECK_OK);
	w = run_path("/status-100k");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.res.http_status, 0);
	assert_int_equal(w.curl_code, 27);
	assert_string_equal(w.res.output, "Out of memory");
	w = run_path("/header-100k-1");
	assert_int_equal(w.res.outcome, CHECK_OK);
	w = run_path("/header-100k");
	assert_int_equal(w.res.http_status, 200);
	assert_int_equal(w.curl_code, 27);
	w = run_path("/head-300k");
	assert_int_equal(w.res.outcome, CHECK_OK);
	w = run_path("/head-300k+1");
	assert_int_equal(w.res.outcome, CHECK_FAIL_CONNECT);
	assert_int_equal(w.res.http_status, 200);
	assert_int_equal(w.curl_code, 56);
	assert_string_equal(w.res.output, "Too large response headers: 307201 > 307200");
}

/* Content-Length as curl 7.88 reads it: past INT64_MAX the body ends at
 * close; a sign, blanks and what follows the digits as curlx_strtoofft. */
static void test_content_length_range(void **state)
{
	struct waiter w;

	(void)state;
	w = run_path("/cl-over");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.curl_code, 0);
	assert_string_equal(w.res.output, "HTTP 200 body");
	w = run_path("/cl-max");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 18);
	assert_string_equal(w.res.output,
	                    "transfer closed with 9223372036854775803 bytes remaining to read");
	w = run_path("/cl-plus");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200 body");
	w = run_path("/cl-junk");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.body_total, 4);
	assert_string_equal(w.res.output, "HTTP 200 body");
	w = run_path("/cl-neg");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 8);
	assert_string_equal(w.res.output, "Invalid Content-Length: value");
}

/* Transfer-Encoding as curl 7.88 reads it: the codings before chunked are
 * undone (gzip, deflate with or without zlib's wrapper), a body that is not
 * what it says fails with curl's code 61 and zlib's text, bytes past the
 * end with 23, an unknown coding or more than five with 61. */
static void test_transfer_codings(void **state)
{
	struct waiter w;

	(void)state;
	w = run_path("/te-gzip-plain");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.res.http_status, 200);
	assert_int_equal(w.curl_code, 61);
	assert_string_equal(w.res.output,
	                    "Error while processing content unencoding: incorrect header check");
	w = run_path("/te-gzip");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.curl_code, 0);
	assert_int_equal(w.body_total, 10);
	assert_string_equal(w.res.output, "HTTP 200 hello gzip");
	w = run_path("/te-gzip-big");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.curl_code, 0);
	assert_int_equal(w.body_total, GZIP_BIG_BODY);
	assert_memory_equal(w.res.output, "HTTP 200 health check body, health", 34);
	w = run_path("/te-gzip-close");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200 hello gzip");
	w = run_path("/te-two");
	assert_string_equal(w.res.output, "HTTP 200 hello gzip");
	w = run_path("/te-gzip-extra");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 23);
	assert_string_equal(w.res.output, "Failed reading the chunked-encoded stream");
	w = run_path("/te-gzip-close-extra");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 23);
	assert_string_equal(w.res.output, "Failed writing received data to disk/application");
	w = run_path("/te-gzip-empty");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200");
	w = run_path("/te-gzip-404");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.res.http_status, 404);
	assert_int_equal(w.curl_code, 61);
	w = run_path("/te-deflate");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200 hello deflate");
	w = run_path("/te-deflate-raw");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200 hello raw deflate");
	w = run_path("/te-identity");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200 body");
	w = run_path("/te-unknown");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 61);
	assert_string_equal(w.res.output, "Unrecognized content encoding type. libcurl "
	                                  "understands deflate, gzip, br, zstd content encodings.");
	w = run_path("/te-six");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 61);
	assert_string_equal(w.res.output, "Reject response due to more than 5 content encodings");
}

static void test_1xx(void **state)
{
	struct exec_request req = http_req("/info");
	struct waiter w;

	(void)state;
	/* a lone 1xx, then the server closes: Marathon judges the 1xx */
	w = run_both(&req, true);
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.res.http_status, 102);
	assert_string_equal(w.res.output, "HTTP 102, then Server returned nothing (no headers, "
	                                  "no data)");
	req.ignore_http1xx = true;
	w = run_both(&req, true);
	assert_int_equal(w.res.outcome, CHECK_IGNORED);
	/* ...or the deadline comes */
	req.path = "/info-hold";
	req.timeout_s = 0.3;
	w = run_both(&req, true);
	assert_int_equal(w.res.outcome, CHECK_IGNORED);
	assert_int_equal(w.res.http_status, 102);
	assert_int_equal(w.curl_code, 28);
	assert_string_equal(w.res.output, "HTTP 102, then Timeout was reached");
	/* a 1xx followed by the final status: the final one decides */
	req = http_req("/continue");
	w = run_both(&req, true);
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 200);
	assert_string_equal(w.res.output, "HTTP 200 final");
	req.ignore_http1xx = true;
	req.path = "/continue-404";
	w = run_both(&req, true);
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.res.http_status, 404);
}

static void test_malformed_status_line(void **state)
{
	struct waiter w;

	(void)state;
	w = run_path("/garbage");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.res.http_status, 0);
	assert_int_equal(w.curl_code, 1);
	assert_string_equal(w.res.output, "Received HTTP/0.9 when not allowed");
	w = run_path("/bad-code");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_string_equal(w.res.output, "Unsupported response code in HTTP response");
	w = run_path("/bad-version");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_string_equal(w.res.output, "Unsupported HTTP version (1.3) in response");
	w = run_path("/cut-status");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 52);
}

static void test_closed_or_reset_without_answer(void **state)
{
	struct waiter w;

	(void)state;
	w = run_path("/close");
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 52);
	assert_string_equal(w.res.output, "Empty reply from server");
	w = run_path("/reset");
	assert_int_equal(w.res.outcome, CHECK_FAIL_CONNECT);
	assert_int_equal(w.curl_code, 56);
	assert_string_equal(w.res.output, "Recv failure: Connection reset by peer");
}

static void test_refused(void **state)
{
	struct exec_request req = http_req("/ok");
	struct waiter w;
	char want[128];
	int fd;

	(void)state;
	req.port = bound_port(AF_INET, &fd, -1); /* bound, not listening */
	w = run_both(&req, false);
	assert_int_equal(w.res.outcome, CHECK_FAIL_CONNECT);
	assert_int_equal(w.curl_code, 7);
	snprintf(want, sizeof(want), "Failed to connect to 127.0.0.1 port %u after ", req.port);
	assert_memory_equal(w.res.output, want, strlen(want));
	assert_non_null(strstr(w.res.output, " ms: Couldn't connect to server"));
	close(fd);
}

static void test_timeouts(void **state)
{
	struct exec_request req = http_req("/slow");
	double started;
	struct waiter w;

	(void)state;
	req.timeout_s = 0.3;
	started = now_s();
	w = run_req(false, &req);
	assert_true(now_s() - started < 0.3 + 1);
	assert_int_equal(w.res.outcome, CHECK_FAIL_TIMEOUT);
	assert_int_equal(w.res.http_status, 0);
	assert_int_equal(w.curl_code, 28);
	assert_non_null(strstr(w.res.output, "Operation timed out after "));
	assert_non_null(strstr(w.res.output, " milliseconds with 0 bytes received"));
	run_both(&req, false);
	/* a status, then a body that never completes */
	req.path = "/stall404";
	w = run_both(&req, false);
	assert_int_equal(w.res.outcome, CHECK_FAIL_TIMEOUT);
	assert_int_equal(w.res.http_status, 404);
	assert_non_null(strstr(w.res.output, " milliseconds with 2 out of 100 bytes received"));
}

static void test_ipv6_loopback(void **state)
{
	struct exec_request req = http_req("/ok");
	struct waiter w;
	char want[64];

	(void)state;
	req.host = "::1";
	req.port = v6.port;
	w = run_both(&req, true);
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200 all good");
	snprintf(want, sizeof(want), "\r\nHost: [::1]:%u\r\n", v6.port);
	assert_non_null(strstr(w.request, want));
	req.host = "[::1]";
	req.path = "/missing";
	w = run_both(&req, true);
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_string_equal(w.res.output, "HTTP 404 nope");
}

static void test_missing_netns(void **state)
{
	struct exec_request req = http_req("/ok");
	struct waiter w;

	(void)state;
	req.netns = "/run/netns/vipd-test-absent";
	w = run_both(&req, true);
	assert_int_equal(w.res.outcome, CHECK_FAIL_NETNS);
	assert_string_equal(w.res.output,
	                    "netns /run/netns/vipd-test-absent: open: No such file or directory");
}

/* ---- native curl checks' requests (runner.c's native_request) ---- */

static struct exec_request native_req(const char *url)
{
	struct exec_request req = {.kind = EXEC_HTTP,
	                           .url = url,
	                           .timeout_s = 3,
	                           .capture_body = true,
	                           .user_agent = "curl/7.88.1"};
	return req;
}

static struct waiter run_url(const char *fmt, unsigned port, const char *path,
                             void (*tweak)(struct exec_request *))
{
	char url[256];
	struct exec_request req;

	snprintf(url, sizeof(url), fmt, port, path);
	req = native_req(url);
	if (tweak)
		tweak(&req);
	return run_both(&req, true);
}

/* What the curl tool sends for `target` on `host` (as written in Host:). */
static void assert_curl_request(const char *got, const char *target, const char *host,
                                unsigned port)
{
	char want[512];

	snprintf(want, sizeof(want),
	         "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
	         target, host, port);
	assert_string_equal(got, want);
}

/* The request line and headers are byte for byte the curl tool's (run_both
 * compares them with libcurl's), Host written as curl writes it. */
static void test_native_request_bytes(void **state)
{
	struct waiter w;

	(void)state;
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/ok", NULL);
	assert_curl_request(w.request, "/ok", "127.0.0.1", v4.port);
	assert_int_equal(w.res.outcome, CHECK_OK);
	w = run_url("http://localhost:%u%s", v4.port, "", NULL);
	assert_curl_request(w.request, "/", "localhost", v4.port);
	w = run_url("http://[::1]:%u%s", v6.port, "/ok?x=1&y", NULL);
	assert_int_equal(w.res.http_status, 404); /* the server routes on the whole target */
	assert_curl_request(w.request, "/ok?x=1&y", "[::1]", v6.port);
}

static void ipv4_only(struct exec_request *req)
{
	req->ip_version = 4;
}

static void ipv6_only(struct exec_request *req)
{
	req->ip_version = 6;
}

/* curl 7.88 resolves localhost itself and tries 127.0.0.1, then ::1 when
 * that is refused; -4 and -6 keep one of them. The v4 and v6 listeners are
 * on different ports, each on one loopback address only. */
static void test_native_localhost_fallback(void **state)
{
	struct waiter w;
	unsigned closed;
	int fd;

	(void)state;
	w = run_url("http://localhost:%u%s", v4.port, "/ok", NULL);
	assert_int_equal(w.res.outcome, CHECK_OK);
	w = run_url("http://localhost:%u%s", v6.port, "/ok", NULL); /* 127.0.0.1 refuses */
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "HTTP 200 all good");
	w = run_url("http://localhost:%u%s", v6.port, "/ok", ipv6_only);
	assert_int_equal(w.res.outcome, CHECK_OK);
	w = run_url("http://localhost:%u%s", v4.port, "/ok", ipv6_only);
	assert_int_equal(w.res.outcome, CHECK_FAIL_CONNECT);
	assert_int_equal(w.curl_code, 7);
	w = run_url("http://localhost:%u%s", v6.port, "/ok", ipv4_only);
	assert_int_equal(w.res.outcome, CHECK_FAIL_CONNECT);
	assert_int_equal(w.curl_code, 7);
	/* Refused on both: curl names the host as written. */
	closed = bound_port(AF_INET, &fd, -1);
	close(fd);
	w = run_url("http://localhost:%u%s", closed, "/ok", NULL);
	assert_int_equal(w.res.outcome, CHECK_FAIL_CONNECT);
	assert_int_equal(w.curl_code, 7);
	assert_non_null(strstr(w.res.output, "Failed to connect to localhost port"));
}

static void head_only(struct exec_request *req)
{
	req->head_only = true;
}

static void fail_on_error(struct exec_request *req)
{
	req->fail_on_error = true;
}

/* curl -I reads no body; curl -f stops at a status >= 400 with 22. */
static void test_native_head_and_fail(void **state)
{
	struct waiter w;

	(void)state;
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/ok", head_only);
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.body_total, 0);
	assert_memory_equal(w.request, "HEAD /ok HTTP/1.1\r\n", 19);
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/missing", fail_on_error);
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.curl_code, 22);
	assert_string_equal(w.res.output, "HTTP 404");
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/ok", fail_on_error);
	assert_int_equal(w.curl_code, 0);
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/moved", fail_on_error);
	assert_int_equal(w.curl_code, 0);
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/continue-404", fail_on_error);
	assert_int_equal(w.curl_code, 22);
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/stall404", fail_on_error);
	assert_int_equal(w.curl_code, 22);
}

/* The kept body is its first body_keep bytes; the rest is read to its end
 * and dropped, as `curl -o /dev/null` does. */
static void test_native_body_capture(void **state)
{
	struct waiter w;

	(void)state;
	ctx_body_keep = 100;
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/long", NULL);
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.body_len, 100);
	assert_int_equal(w.body_total, 2000);
	assert_int_equal(w.curl_code, 0);
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/chunked", NULL);
	assert_int_equal(w.body_len, 13);
	/* past 1 MiB: curl exits 0 where this client once gave 23 */
	w = run_url("http://127.0.0.1:%u%s", v4.port, "/huge", NULL);
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.curl_code, 0);
	assert_int_equal(w.body_len, 100);
	assert_int_equal(w.body_total, HUGE_BODY);
	ctx_body_keep = 0;
}

static void connect_timeout(struct exec_request *req)
{
	req->connect_timeout_s = 0.2;
	req->timeout_s = 0.8;
}

/* --connect-timeout ends once connected: the whole timeout still holds. */
static void test_native_connect_timeout(void **state)
{
	struct exec_request req;
	struct waiter w;
	char url[128];

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/slow", v4.port);
	req = native_req(url);
	connect_timeout(&req);
	w = run_both(&req, false);
	assert_int_equal(w.res.outcome, CHECK_FAIL_TIMEOUT);
	assert_int_equal(w.curl_code, 28);
	assert_true(w.res.latency_ms >= 700);
}

/* What stays on libcurl: anything the raw path would do differently. */
static void test_eligibility(void **state)
{
	struct exec_ctx *raw = new_ctx(false), *curl = new_ctx(true);
	struct exec_request req = http_req("/ok");

	(void)state;
	assert_true(exec_http_raw_eligible(raw, &req));
	assert_false(exec_http_raw_eligible(curl, &req));
	req.path = NULL;
	assert_true(exec_http_raw_eligible(raw, &req));
	req.path = "/a/../b";
	assert_false(exec_http_raw_eligible(raw, &req));
	req.path = "/a b";
	assert_false(exec_http_raw_eligible(raw, &req));
	req.path = "/x#frag";
	assert_false(exec_http_raw_eligible(raw, &req));
	req.path = "/health?a=../b";
	assert_true(exec_http_raw_eligible(raw, &req));
	req = http_req("/ok");
	req.host = "localhost";
	assert_false(exec_http_raw_eligible(raw, &req));
	req.host = "[::1]";
	assert_true(exec_http_raw_eligible(raw, &req));
	req = http_req("/ok");
	req.kind = EXEC_HTTPS;
	assert_false(exec_http_raw_eligible(raw, &req));
	req = http_req("/ok");
	req.capture_body = true;
	assert_true(exec_http_raw_eligible(raw, &req));
	req = http_req("/ok");
	req.user_agent = "curl/8";
	assert_true(exec_http_raw_eligible(raw, &req));
	req.user_agent = "curl/8\r\nX-Injected: 1";
	assert_false(exec_http_raw_eligible(raw, &req));
	req = http_req("/ok");
	req.body_regex = "ok";
	assert_false(exec_http_raw_eligible(raw, &req));
	/* Native curl checks: http:// to an address or localhost, without -L. */
	req = native_req("http://127.0.0.1/");
	assert_true(exec_http_raw_eligible(raw, &req));
	assert_false(exec_http_raw_eligible(curl, &req));
	req.head_only = req.fail_on_error = true;
	req.connect_timeout_s = 1;
	assert_true(exec_http_raw_eligible(raw, &req));
	req.follow_redirects = true;
	assert_false(exec_http_raw_eligible(raw, &req));
	req = native_req("https://127.0.0.1/");
	req.kind = EXEC_HTTPS;
	assert_false(exec_http_raw_eligible(raw, &req));
	req = native_req("http://localhost:8080/health");
	assert_true(exec_http_raw_eligible(raw, &req));
	req.ip_version = 6;
	assert_true(exec_http_raw_eligible(raw, &req));
	req = native_req("http://[::1]:8080/");
	assert_true(exec_http_raw_eligible(raw, &req));
	req.ip_version = 4; /* curl -4 cannot reach an IPv6 address: libcurl says how */
	assert_false(exec_http_raw_eligible(raw, &req));
	req = native_req("http://example.com/");
	assert_false(exec_http_raw_eligible(raw, &req));
	exec_ctx_free(raw);
	exec_ctx_free(curl);
}

static void test_cancel_and_many_runs_leak_nothing(void **state)
{
	static const char *const paths[] = {"/ok", "/missing", "/slow", "/reset", "/chunked"};
	struct exec_ctx *ctx = new_ctx(false);
	struct exec_request req = http_req("/slow");
	struct waiter w[25], never = {0};
	struct exec_run *hanging;
	char err[256];
	int before, i;

	(void)state;
	spin_until(NULL, 0.1);
	before = count_fds();
	req.timeout_s = 10;
	hanging = exec_start(ctx, &req, on_done, &never, err, sizeof(err));
	assert_non_null(hanging);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 25; i++) {
		req.path = paths[i % 5];
		req.timeout_s = i % 5 == 2 ? 0.3 : 5;
		assert_non_null(exec_start(ctx, &req, on_done, &w[i], err, sizeof(err)));
	}
	spin_until(NULL, 0.05);
	exec_cancel(hanging);
	for (i = 0; i < 25; i++) {
		spin_until(&w[i].calls, 6);
		assert_int_equal(w[i].calls, 1);
		assert_int_equal(w[i].res.outcome, i % 5 == 1   ? CHECK_FAIL_HTTP_STATUS
		                                   : i % 5 == 2 ? CHECK_FAIL_TIMEOUT
		                                   : i % 5 == 3 ? CHECK_FAIL_CONNECT
		                                                : CHECK_OK);
	}
	assert_int_equal(exec_ctx_running(ctx), 0);
	spin_until(NULL, 0.2); /* the server side notices the closed connections */
	assert_int_equal(never.calls, 0);
	assert_int_equal(open_conns, 0);
	assert_int_equal(count_fds(), before);
	exec_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_is_what_curl_sends),
	    cmocka_unit_test(test_2xx_3xx_healthy),
	    cmocka_unit_test(test_4xx_5xx_unhealthy),
	    cmocka_unit_test(test_body_framing),
	    cmocka_unit_test(test_large_body_read_to_end),
	    cmocka_unit_test(test_long_head),
	    cmocka_unit_test(test_content_length_range),
	    cmocka_unit_test(test_transfer_codings),
	    cmocka_unit_test(test_1xx),
	    cmocka_unit_test(test_malformed_status_line),
	    cmocka_unit_test(test_closed_or_reset_without_answer),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_timeouts),
	    cmocka_unit_test(test_ipv6_loopback),
	    cmocka_unit_test(test_missing_netns),
	    cmocka_unit_test(test_native_request_bytes),
	    cmocka_unit_test(test_native_localhost_fallback),
	    cmocka_unit_test(test_native_head_and_fail),
	    cmocka_unit_test(test_native_body_capture),
	    cmocka_unit_test(test_native_connect_timeout),
	    cmocka_unit_test(test_eligibility),
	    cmocka_unit_test(test_cancel_and_many_runs_leak_nothing),
	};

	loop = ev_default_loop(0);
	signal(SIGPIPE, SIG_IGN); /* the test server writes to closed clients */
	return cmocka_run_group_tests(tests, server_up, server_down);
}
