/*
 * HTTP/HTTPS executor against a real HTTP server on 127.0.0.1, served from
 * the same libev loop as the checks (so a "slow" backend is one that simply
 * never answers), and `openssl s_server` for HTTPS when openssl is present.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vipd/exec.h"

#define EXEC_WAIT_OWN_WAITER
#include "exec_wait.h"

#define BIG_BODY (4 * 1024 * 1024)

/* ---- a tiny HTTP/1.1 server on the test's loop ---- */

struct conn {
	int fd;
	ev_io io;
	char in[4096];
	size_t in_len;
	char head[512];
	size_t head_len, head_off;
	const char *body; /* NULL with body_left > 0: 'x' filler */
	size_t body_left;
	bool replying;
	bool hold; /* after the reply, keep the connection open (a stalled body) */
};

static int listen_fd = -1;
static unsigned http_port;
static ev_io accept_watcher;
static int open_conns;

static void conn_free(struct conn *c)
{
	ev_io_stop(loop, &c->io);
	close(c->fd);
	free(c);
	open_conns--;
}

static void conn_reply(struct conn *c, const char *status, const char *extra, const char *body,
                       size_t body_len)
{
	c->head_len = (size_t)snprintf(c->head, sizeof(c->head),
	                               "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: "
	                               "close\r\n\r\n",
	                               status, extra, body_len);
	c->body = body;
	c->body_left = body_len;
	c->replying = true;
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(loop, &c->io);
}

static void conn_raw(struct conn *c, const char *raw)
{
	c->head_len = (size_t)snprintf(c->head, sizeof(c->head), "%s", raw);
	c->body = "";
	c->body_left = 0;
	c->replying = true;
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(loop, &c->io);
}

static void conn_route(struct conn *c)
{
	char method[16], path[256];

	if (sscanf(c->in, "%15s %255s", method, path) != 2) {
		conn_reply(c, "400 Bad Request", "", "", 0);
		return;
	}
	if (!strcmp(path, "/ok"))
		conn_reply(c, "200 OK", "", "all good", 8);
	else if (!strcmp(path, "/redirect"))
		conn_reply(c, "302 Found", "Location: /ok\r\n", "moved", 5);
	else if (!strcmp(path, "/missing"))
		conn_reply(c, "404 Not Found", "", "nope", 4);
	else if (!strcmp(path, "/error"))
		conn_reply(c, "500 Internal Server Error", "", "boom", 4);
	else if (!strcmp(path, "/status"))
		conn_reply(c, "200 OK", "", "status: green\n", 14);
	else if (!strcmp(path, "/info"))
		conn_raw(c, "HTTP/1.1 102 Processing\r\n\r\n");
	else if (!strcmp(path, "/big"))
		conn_reply(c, "200 OK", "", NULL, BIG_BODY);
	else if (!strcmp(path, "/stall404")) {
		c->hold = true;
		conn_raw(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nab");
	} else if (!strcmp(path, "/slow"))
		return; /* never answers */
	else
		conn_reply(c, "404 Not Found", "", "", 0);
}

static void conn_write(struct conn *c)
{
	static char filler[16384];
	ssize_t n;

	if (c->head_off < c->head_len) {
		n = write(c->fd, c->head + c->head_off, c->head_len - c->head_off);
		if (n > 0)
			c->head_off += (size_t)n;
		else if (errno != EAGAIN)
			goto done;
		return;
	}
	if (c->body_left) {
		if (!filler[0])
			memset(filler, 'x', sizeof(filler));
		n = write(c->fd, c->body ? c->body : filler,
		          c->body_left < sizeof(filler) ? c->body_left : sizeof(filler));
		if (n > 0) {
			c->body_left -= (size_t)n;
			if (c->body)
				c->body += n;
		} else if (errno != EAGAIN) {
			goto done;
		}
		if (c->body_left)
			return;
	}
done:
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
		conn_free(c); /* the client went away (cancel, timeout) */
		return;
	}
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

static unsigned free_port(int *keep_fd, int backlog)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*keep_fd = fd;
	return ntohs(sin.sin_port);
}

static int server_up(void **state)
{
	(void)state;
	http_port = free_port(&listen_fd, 64);
	ev_io_init(&accept_watcher, accept_cb, listen_fd, EV_READ);
	ev_io_start(loop, &accept_watcher);
	return 0;
}

static int server_down(void **state)
{
	(void)state;
	ev_io_stop(loop, &accept_watcher);
	close(listen_fd);
	return 0;
}

/* ---- helpers ---- */

struct waiter {
	int calls;
	struct check_result res;
	int curl_code;
	char body[2048];
	size_t body_len, body_total;
};

static void on_done(struct exec_run *run, const struct check_result *res, void *arg)
{
	struct waiter *w = arg;
	const void *body;
	size_t len;

	w->calls++;
	w->res = *res;
	w->curl_code = exec_run_curl_code(run);
	body = exec_run_body(run, &len);
	w->body_total = exec_run_body_total(run);
	w->body_len = len;
	if (body)
		memcpy(w->body, body, len < sizeof(w->body) ? len : sizeof(w->body));
}

static struct exec_ctx *new_ctx(const struct exec_settings *s)
{
	char err[256] = "";
	struct exec_ctx *ctx = exec_ctx_new(loop, s, err, sizeof(err));

	if (!ctx)
		fail_msg("exec_ctx_new: %s", err);
	return ctx;
}

static struct exec_request http_req(const char *path)
{
	struct exec_request req = {.kind = EXEC_HTTP,
	                           .host = "127.0.0.1",
	                           .port = http_port,
	                           .path = path,
	                           .timeout_s = 3};
	return req;
}

static struct waiter run_req(struct exec_ctx *ctx, const struct exec_request *req)
{
	struct waiter w = {0};
	char err[256] = "";

	if (!exec_start(ctx, req, on_done, &w, err, sizeof(err)))
		fail_msg("exec_start: %s", err);
	assert_int_equal(w.calls, 0);
	wait_for(&w, req->timeout_s + 5);
	assert_int_equal(w.calls, 1);
	return w;
}

static struct waiter run_path(struct exec_ctx *ctx, const char *path)
{
	struct exec_request req = http_req(path);

	return run_req(ctx, &req);
}

/* ---- tests ---- */

static void test_200_is_healthy(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct waiter w = run_path(ctx, "/ok");

	(void)state;
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 200);
	assert_string_equal(w.res.output, "HTTP 200 all good");
	assert_int_equal(w.curl_code, 0);
	exec_ctx_free(ctx);
}

static void test_302_is_healthy_and_not_followed(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = http_req("/redirect");
	struct waiter w = run_req(ctx, &req);

	(void)state;
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 302);
	req.follow_redirects = true;
	req.capture_body = true;
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 200);
	assert_int_equal(w.body_len, 8);
	assert_memory_equal(w.body, "all good", 8);
	exec_ctx_free(ctx);
}

static void test_4xx_5xx_are_unhealthy(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = http_req("/missing");
	struct waiter w = run_req(ctx, &req);

	(void)state;
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.res.http_status, 404);
	assert_string_equal(w.res.output, "HTTP 404 nope");
	/* as the curl tool without -f: the exchange itself succeeded */
	assert_int_equal(w.curl_code, 0);
	w = run_path(ctx, "/error");
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.res.http_status, 500);
	/* curl -f: stops at the status line, CURLcode 22, same outcome */
	req.fail_on_error = true;
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.res.http_status, 404);
	assert_int_equal(w.curl_code, 22);
	/* ...before a stalled body, which without -f runs into the timeout */
	req.path = "/stall404";
	req.timeout_s = 0.5;
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.curl_code, 22);
	req.fail_on_error = false;
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_TIMEOUT);
	assert_int_equal(w.res.http_status, 404);
	assert_int_equal(w.curl_code, 28);
	exec_ctx_free(ctx);
}

static void test_1xx_ignored_only_when_asked(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = http_req("/info");
	struct waiter w = run_req(ctx, &req);

	(void)state;
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	assert_int_equal(w.res.http_status, 102);
	req.ignore_http1xx = true;
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_IGNORED);
	assert_int_equal(w.res.http_status, 102);
	assert_false(check_outcome_healthy(w.res.outcome));
	exec_ctx_free(ctx);
}

static void test_slow_backend_times_out(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = http_req("/slow");
	double started = now_s();
	struct waiter w;

	(void)state;
	req.timeout_s = 0.3;
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_TIMEOUT);
	assert_int_equal(w.res.http_status, 0);
	assert_true(now_s() - started < 0.3 + 2);
	exec_ctx_free(ctx);
}

static void test_refused_is_a_connect_failure(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = http_req("/ok");
	int fd;
	struct waiter w;

	(void)state;
	req.port = free_port(&fd, -1); /* bound, not listening */
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_CONNECT);
	assert_int_equal(w.curl_code, 7); /* what `curl` would exit with */
	assert_non_null(strstr(w.res.output, "onnect"));
	close(fd);
	exec_ctx_free(ctx);
}

static void test_body_regex(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = http_req("/status");
	struct waiter w;
	char err[256];

	(void)state;
	req.body_regex = "^status: (green|yellow)$";
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_OK);
	req.body_regex = "red";
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_BODY);
	assert_string_equal(w.res.output, "HTTP 200, body does not match: status: green.");
	/* a regex never turns a bad status into a good one */
	req.path = "/error";
	req.body_regex = "boom";
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_HTTP_STATUS);
	req.body_regex = "(unclosed";
	assert_null(exec_start(ctx, &req, on_done, &w, err, sizeof(err)));
	assert_string_equal(err,
	                    "body regex \"(unclosed\" at offset 9: missing closing parenthesis");
	assert_int_equal(exec_ctx_running(ctx), 0);
	exec_ctx_free(ctx);
}

static void test_large_body_is_capped(void **state)
{
	struct exec_settings s = {.body_keep = 1000};
	struct exec_ctx *ctx = new_ctx(&s);
	struct exec_request req = http_req("/big");
	struct waiter w;

	(void)state;
	req.capture_body = true;
	w = run_req(ctx, &req);
	/* 4 MiB are read to their end as `curl -o /dev/null` reads them (an
	 * earlier cap aborted the transfer with CURLcode 23); 1000 are kept */
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 200);
	assert_int_equal(w.curl_code, 0);
	assert_int_equal(w.body_len, 1000);
	assert_int_equal(w.body_total, BIG_BODY);
	assert_int_equal(w.body[999], 'x');
	exec_ctx_free(ctx);
}

static void test_head_request_has_no_body(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = http_req("/ok");
	struct waiter w;

	(void)state;
	req.head_only = true;
	req.capture_body = true;
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_int_equal(w.res.http_status, 200);
	assert_int_equal(w.body_len, 0);
	exec_ctx_free(ctx);
}

static void test_url_used_as_given(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = {.kind = EXEC_HTTP, .timeout_s = 3};
	char url[128];
	struct waiter w;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/missing", http_port);
	req.url = url;
	w = run_req(ctx, &req);
	assert_int_equal(w.res.http_status, 404);
	/* only http and https, whatever the URL says */
	req.url = "file:///etc/passwd";
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_PROTOCOL);
	assert_int_equal(w.curl_code, 1); /* CURLE_UNSUPPORTED_PROTOCOL */
	exec_ctx_free(ctx);
}

static void test_missing_netns(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = http_req("/ok");
	struct waiter w;

	(void)state;
	req.netns = "/run/netns/vipd-test-absent";
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_NETNS);
	assert_string_equal(w.res.output,
	                    "netns /run/netns/vipd-test-absent: open: No such file or directory");
	req.netns = "/dev/null"; /* opens, but is no namespace */
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_NETNS);
	assert_string_equal(w.res.output, "netns /dev/null: setns: Invalid argument");
	exec_ctx_free(ctx);
}

static void test_cancel_and_many_runs_leak_nothing(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	static const char *const paths[] = {"/ok", "/missing", "/slow", "/redirect"};
	struct exec_request req = http_req("/slow");
	struct waiter w[24], never = {0};
	struct exec_run *hanging;
	char err[256];
	int before, i;

	(void)state;
	run_path(ctx, "/ok"); /* let curl open what it keeps */
	spin(0.1);
	before = count_fds();
	req.timeout_s = 10;
	hanging = exec_start(ctx, &req, on_done, &never, err, sizeof(err));
	assert_non_null(hanging);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 24; i++) {
		req.path = paths[i % 4];
		req.timeout_s = i % 4 == 2 ? 0.3 : 5;
		assert_non_null(exec_start(ctx, &req, on_done, &w[i], err, sizeof(err)));
	}
	spin(0.1);
	exec_cancel(hanging);
	for (i = 0; i < 24; i++) {
		wait_for(&w[i], 6);
		assert_int_equal(w[i].calls, 1);
		assert_int_equal(w[i].res.outcome, i % 4 == 1   ? CHECK_FAIL_HTTP_STATUS
		                                   : i % 4 == 2 ? CHECK_FAIL_TIMEOUT
		                                                : CHECK_OK);
	}
	assert_int_equal(exec_ctx_running(ctx), 0);
	spin(0.2); /* the server side notices the closed connections */
	assert_int_equal(never.calls, 0);
	assert_int_equal(open_conns, 0);
	assert_int_equal(count_fds(), before);
	exec_ctx_free(ctx);
}

/* ---- HTTPS through openssl s_server with a self-signed certificate ---- */

static bool have_openssl(void)
{
	return system("command -v openssl >/dev/null 2>&1") == 0;
}

static pid_t start_tls_server(const char *dir, unsigned port)
{
	char cmd[512], accept_arg[64], cert[256], key[256];
	pid_t pid;
	int fd;

	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 "
	         "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
	         dir, dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%u", port);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	pid = fork();
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept_arg,
		       "-cert", cert, "-key", key, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool wait_listening(unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int i, fd, rc;

	sin.sin_port = htons((uint16_t)port);
	for (i = 0; i < 100; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
		if (rc == 0)
			return true;
		usleep(50000);
	}
	return false;
}

static void test_https_self_signed(void **state)
{
	char dir[] = "/tmp/vipd-exec-tls-XXXXXX";
	struct exec_ctx *ctx;
	struct exec_request req;
	struct waiter w;
	unsigned port;
	pid_t pid;
	int fd;
	char cmd[128];

	(void)state;
	if (!have_openssl()) {
		print_message("openssl not found: HTTPS case skipped\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	port = free_port(&fd, -1);
	close(fd); /* s_server binds it next; a tiny window for another user */
	pid = start_tls_server(dir, port);
	assert_true(pid > 0);
	assert_true(wait_listening(port));
	ctx = new_ctx(NULL);
	req = http_req("/");
	req.kind = EXEC_HTTPS;
	req.port = port;
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_OK); /* not verified, as Marathon */
	assert_int_equal(w.res.http_status, 200);
	req.verify_tls = true; /* the curl tool without -k */
	w = run_req(ctx, &req);
	assert_int_equal(w.res.outcome, CHECK_FAIL_TLS);
	assert_int_equal(w.curl_code, 60); /* CURLE_PEER_FAILED_VERIFICATION */
	req.kind = EXEC_HTTP;              /* plain HTTP to a TLS port */
	w = run_req(ctx, &req);
	assert_true(w.res.outcome != CHECK_OK);
	exec_ctx_free(ctx);
	kill(pid, SIGTERM);
	spin(0.2); /* libev's default loop reaps it */
	waitpid(pid, NULL, WNOHANG);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_200_is_healthy),
	    cmocka_unit_test(test_302_is_healthy_and_not_followed),
	    cmocka_unit_test(test_4xx_5xx_are_unhealthy),
	    cmocka_unit_test(test_1xx_ignored_only_when_asked),
	    cmocka_unit_test(test_slow_backend_times_out),
	    cmocka_unit_test(test_refused_is_a_connect_failure),
	    cmocka_unit_test(test_body_regex),
	    cmocka_unit_test(test_large_body_is_capped),
	    cmocka_unit_test(test_head_request_has_no_body),
	    cmocka_unit_test(test_url_used_as_given),
	    cmocka_unit_test(test_missing_netns),
	    cmocka_unit_test(test_cancel_and_many_runs_leak_nothing),
	    cmocka_unit_test(test_https_self_signed),
	};

	loop = ev_default_loop(0);
	signal(SIGPIPE, SIG_IGN); /* the test server writes to closed clients */
	return cmocka_run_group_tests(tests, server_up, server_down);
}
