/*
 * TCP executor against real loopback sockets: a listener is healthy, a
 * closed port is refused, a listener whose accept queue is full times out.
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
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vipd/exec.h"

#include "exec_wait.h"

/* A TCP socket bound to 127.0.0.1 on a free port; listening with `backlog`
 * unless backlog < 0 (then connections to it are refused). */
static int loopback_socket(int backlog, unsigned *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static struct check_result run_tcp(struct exec_ctx *ctx, const char *host, unsigned port,
                                   double timeout_s)
{
	struct exec_request req = {
	    .kind = EXEC_TCP, .host = host, .port = port, .timeout_s = timeout_s};
	struct waiter w = {0};
	char err[256] = "";

	if (!exec_start(ctx, &req, on_done, &w, err, sizeof(err)))
		fail_msg("exec_start: %s", err);
	assert_int_equal(w.calls, 0);
	wait_for(&w, timeout_s + 5);
	assert_int_equal(w.calls, 1);
	return w.res;
}

static struct exec_ctx *new_ctx(void)
{
	char err[256] = "";
	struct exec_ctx *ctx = exec_ctx_new(loop, NULL, err, sizeof(err));

	if (!ctx)
		fail_msg("exec_ctx_new: %s", err);
	return ctx;
}

static void test_listening_port_is_healthy(void **state)
{
	struct exec_ctx *ctx = new_ctx();
	unsigned port;
	int lfd = loopback_socket(16, &port);
	struct check_result r = run_tcp(ctx, "127.0.0.1", port, 2);

	(void)state;
	assert_int_equal(r.outcome, CHECK_OK);
	assert_int_equal(r.exit_code, -1);
	close(lfd);
	exec_ctx_free(ctx);
}

static void test_ipv6_loopback(void **state)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof(sin6);
	struct exec_ctx *ctx;
	struct check_result r;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)state;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) {
		if (fd >= 0)
			close(fd);
		skip(); /* no IPv6 loopback here */
	}
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin6, &len), 0);
	ctx = new_ctx();
	r = run_tcp(ctx, "[::1]", ntohs(sin6.sin6_port), 2);
	assert_int_equal(r.outcome, CHECK_OK);
	r = run_tcp(ctx, "::1", ntohs(sin6.sin6_port), 2);
	assert_int_equal(r.outcome, CHECK_OK);
	close(fd);
	exec_ctx_free(ctx);
}

static void test_closed_port_is_refused(void **state)
{
	struct exec_ctx *ctx = new_ctx();
	unsigned port;
	int fd = loopback_socket(-1, &port); /* bound, not listening: RST */
	struct check_result r = run_tcp(ctx, "127.0.0.1", port, 2);

	(void)state;
	assert_int_equal(r.outcome, CHECK_FAIL_CONNECT);
	assert_string_equal(r.output, "connect: Connection refused");
	close(fd);
	exec_ctx_free(ctx);
}

/* Linux drops SYNs to a listener whose accept queue is full: the connect
 * hangs in SYN_SENT until our deadline, all on loopback. */
static void test_full_accept_queue_times_out(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct exec_ctx *ctx = new_ctx();
	unsigned port;
	int lfd = loopback_socket(0, &port), fillers[3], i;
	double started;
	struct check_result r;

	(void)state;
	sin.sin_port = htons((uint16_t)port);
	for (i = 0; i < 3; i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(fillers[i] >= 0);
		connect(fillers[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100000);
	started = now_s();
	r = run_tcp(ctx, "127.0.0.1", port, 0.4);
	assert_int_equal(r.outcome, CHECK_FAIL_TIMEOUT);
	assert_true(now_s() - started < 0.4 + 2);
	for (i = 0; i < 3; i++)
		close(fillers[i]);
	close(lfd);
	exec_ctx_free(ctx);
}

struct ran {
	int calls;
	const char *executor;
	int curl_code;
	struct check_result res;
};

static void on_ran(struct exec_run *run, const struct check_result *res, void *arg)
{
	struct ran *r = arg;

	r->calls++;
	r->executor = exec_run_executor(run);
	r->curl_code = exec_run_curl_code(run);
	r->res = *res;
}

/* exec_start() picks the executor once: an address connects on the loop, a
 * name goes to libcurl's connect-only mode; neither has a CURLcode for its
 * caller. */
static void test_executor_chosen_by_target(void **state)
{
	static const char *const hosts[] = {"127.0.0.1", "localhost"};
	static const char *const executors[] = {"tcp", "http"};
	struct exec_ctx *ctx = new_ctx();
	unsigned port;
	int lfd = loopback_socket(16, &port);
	struct exec_request req = {.kind = EXEC_TCP, .port = port, .timeout_s = 2};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct ran r = {0};

		req.host = hosts[i];
		assert_non_null(exec_start(ctx, &req, on_ran, &r, err, sizeof(err)));
		spin_until(&r.calls, 5);
		assert_int_equal(r.calls, 1);
		assert_string_equal(r.executor, executors[i]);
		assert_int_equal(r.res.outcome, CHECK_OK);
		assert_int_equal(r.curl_code, -1);
	}
	/* a bad port is refused with one text whichever executor would run it */
	req.port = 0;
	for (i = 0; i < 2; i++) {
		req.host = hosts[i];
		assert_null(exec_start(ctx, &req, on_ran, NULL, err, sizeof(err)));
		assert_string_equal(err, "TCP check needs a host and a port 1-65535");
	}
	close(lfd);
	exec_ctx_free(ctx);
}

/* Names are resolved without blocking the loop ("localhost" from
 * /etc/hosts: no query leaves the host). */
static void test_name_is_resolved(void **state)
{
	struct exec_ctx *ctx = new_ctx();
	unsigned port_ok, port_refused;
	int lok = loopback_socket(16, &port_ok), lref = loopback_socket(-1, &port_refused);
	struct check_result r;

	(void)state;
	r = run_tcp(ctx, "localhost", port_ok, 2);
	assert_int_equal(r.outcome, CHECK_OK);
	assert_int_equal(r.http_status, 0);
	r = run_tcp(ctx, "localhost", port_refused, 2);
	assert_int_equal(r.outcome, CHECK_FAIL_CONNECT);
	close(lok);
	close(lref);
	exec_ctx_free(ctx);
}

static void test_missing_netns(void **state)
{
	struct exec_ctx *ctx = new_ctx();
	struct exec_request req = {.kind = EXEC_TCP,
	                           .host = "127.0.0.1",
	                           .port = 9,
	                           .timeout_s = 1,
	                           .netns = "/run/netns/vipd-test-absent"};
	struct waiter w = {0};
	char err[256];

	(void)state;
	assert_non_null(exec_start(ctx, &req, on_done, &w, err, sizeof(err)));
	wait_for(&w, 3);
	assert_int_equal(w.res.outcome, CHECK_FAIL_NETNS);
	assert_string_equal(w.res.output,
	                    "netns /run/netns/vipd-test-absent: open: No such file or directory");
	exec_ctx_free(ctx);
}

static void test_cancel_and_many_runs_leak_nothing(void **state)
{
	struct exec_ctx *ctx = new_ctx();
	unsigned port_ok, port_refused, port_full;
	int lok = loopback_socket(128, &port_ok), lref = loopback_socket(-1, &port_refused);
	int lfull = loopback_socket(0, &port_full), filler[2], before, i;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct exec_request req = {.kind = EXEC_TCP, .host = "127.0.0.1", .timeout_s = 0.3};
	struct waiter w[30], never = {0};
	struct exec_run *hanging;
	char err[256];

	(void)state;
	sin.sin_port = htons((uint16_t)port_full);
	for (i = 0; i < 2; i++) {
		filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		connect(filler[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100000);
	before = count_fds();
	memset(w, 0, sizeof(w));
	for (i = 0; i < 30; i++) {
		req.port = i % 3 == 0 ? port_ok : i % 3 == 1 ? port_refused : port_full;
		assert_non_null(exec_start(ctx, &req, on_done, &w[i], err, sizeof(err)));
	}
	req.port = port_full;
	req.timeout_s = 10;
	hanging = exec_start(ctx, &req, on_done, &never, err, sizeof(err));
	assert_non_null(hanging);
	for (i = 0; i < 30; i++) {
		wait_for(&w[i], 5);
		assert_int_equal(w[i].calls, 1);
		assert_int_equal(w[i].res.outcome, i % 3 == 0   ? CHECK_OK
		                                   : i % 3 == 1 ? CHECK_FAIL_CONNECT
		                                                : CHECK_FAIL_TIMEOUT);
	}
	exec_cancel(hanging);
	assert_int_equal(exec_ctx_running(ctx), 0);
	assert_int_equal(never.calls, 0);
	assert_int_equal(count_fds(), before);
	for (i = 0; i < 2; i++)
		close(filler[i]);
	close(lok);
	close(lref);
	close(lfull);
	exec_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listening_port_is_healthy),
	    cmocka_unit_test(test_ipv6_loopback),
	    cmocka_unit_test(test_closed_port_is_refused),
	    cmocka_unit_test(test_full_accept_queue_times_out),
	    cmocka_unit_test(test_name_is_resolved),
	    cmocka_unit_test(test_executor_chosen_by_target),
	    cmocka_unit_test(test_missing_netns),
	    cmocka_unit_test(test_cancel_and_many_runs_leak_nothing),
	};

	loop = ev_default_loop(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
