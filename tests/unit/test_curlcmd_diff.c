/*
 * Differential test of the curl command emulation against the real shells:
 * a loopback HTTP server answers many response shapes, each recognised
 * command runs through the real dash, bash and busybox sh, and the exit
 * status must equal curlcmd_emulate() fed by a libcurl transfer made
 * with the command's curl options, and the exit status vipd's native path
 * gives (runner.c on the exec context), which must have run on the raw HTTP
 * client for every command without -L.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vipd/curlcmd.h"
#include "vipd/exec.h"
#include "vipd/model.h"
#include "vipd/runner.h"

#include "test_ports.h"

struct shape {
	const char *path;
	const char *head; /* status line and headers, without the blank line */
	const char *body;
	size_t body_len;
	int delay_s;     /* wait before answering */
	bool no_length;  /* no Content-Length: the body ends at close */
	bool close_only; /* close without a byte: curl's "empty reply" */
	int stall_s;     /* wait after the headers and half the body */
};

#define B(lit) lit, sizeof(lit) - 1

static char big_body[100 * 1024];
/* Past the raw client's former 1 MiB body limit (curl had none). */
static char huge_body[3 * 1024 * 1024];
/* Status lines past the raw client's 4 KiB line buffer, and past curl's
 * 100 KiB header line limit (curl exits 27); filled in by setup(). */
static char status_5k[5000 + 1];
static char status_200k[200000 + 1];

/* "hello gzip" gzipped (as in test_exec_http_raw.c). */
#define GZIP_HELLO                                                                                 \
	"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\x57\x48\xaf\xca\x2c\x00\x00" \
	"\x19"                                                                                     \
	"\x6a\xd2\xdf\x0a\x00\x00\x00"
#define TE_GZIP_CHUNKED "Transfer-Encoding: gzip, chunked"

static struct shape shapes[] = {
    {"/empty200", "HTTP/1.1 200 OK", B(""), 0, false, false, 0},
    {"/ok", "HTTP/1.1 200 OK", B("OK"), 0, false, false, 0},
    {"/oknl", "HTTP/1.1 200 OK", B("OK\n"), 0, false, false, 0},
    {"/okcrlf", "HTTP/1.1 200 OK", B("OK\r\n"), 0, false, false, 0},
    {"/nl", "HTTP/1.1 200 OK", B("\n"), 0, false, false, 0},
    {"/spaces", "HTTP/1.1 200 OK", B("hello world 200"), 0, false, false, 0},
    {"/lead200", "HTTP/1.1 200 OK", B("200 ok"), 0, false, false, 0},
    {"/lead200nl", "HTTP/1.1 200 OK", B("200\n"), 0, false, false, 0},
    {"/multiline", "HTTP/1.1 200 OK", B("line one\nline two\n"), 0, false, false, 0},
    {"/multi200", "HTTP/1.1 500 Internal Server Error", B("200\n x"), 0, false, false, 0},
    {"/leadspace", "HTTP/1.1 200 OK", B(" x"), 0, false, false, 0},
    {"/trailspace", "HTTP/1.1 200 OK", B("ok "), 0, false, false, 0},
    {"/nul", "HTTP/1.1 200 OK", B("\0"), 0, false, false, 0},
    {"/nul200", "HTTP/1.1 500 Internal Server Error",
     B("\0"
       "200 x"),
     0, false, false, 0},
    {"/nulmid", "HTTP/1.1 200 OK", B("200\0 x"), 0, false, false, 0},
    {"/nulnl", "HTTP/1.1 200 OK", B("\0\n"), 0, false, false, 0},
    {"/bang", "HTTP/1.1 200 OK", B("! x"), 0, false, false, 0},
    {"/paren", "HTTP/1.1 200 OK", B("( x"), 0, false, false, 0},
    {"/dashn", "HTTP/1.1 200 OK", B("-n x"), 0, false, false, 0},
    {"/equals", "HTTP/1.1 200 OK", B("= x"), 0, false, false, 0},
    {"/301", "HTTP/1.1 301 Moved Permanently\r\nLocation: /empty200", B("moved"), 0, false, false,
     0},
    {"/302", "HTTP/1.1 302 Found\r\nLocation: /ok", B(""), 0, false, false, 0},
    {"/302to404", "HTTP/1.1 302 Found\r\nLocation: /404", B(""), 0, false, false, 0},
    {"/loop", "HTTP/1.1 302 Found\r\nLocation: /loop", B(""), 0, false, false, 0},
    {"/204", "HTTP/1.1 204 No Content", B(""), 0, false, false, 0},
    {"/404", "HTTP/1.1 404 Not Found", B("not found"), 0, false, false, 0},
    {"/404empty", "HTTP/1.1 404 Not Found", B(""), 0, false, false, 0},
    {"/500", "HTTP/1.1 500 Internal Server Error", B("boom"), 0, false, false, 0},
    {"/500empty", "HTTP/1.1 500 Internal Server Error", B(""), 0, false, false, 0},
    {"/503lead", "HTTP/1.1 503 Service Unavailable", B("200 busy"), 0, false, false, 0},
    {"/http10", "HTTP/1.0 200 OK", B("old"), 0, true, false, 0},
    {"/chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", B("2\r\nOK\r\n0\r\n\r\n"), 0,
     true, false, 0},
    {"/big", "HTTP/1.1 200 OK", big_body, sizeof(big_body), 0, false, false, 0},
    {"/slow", "HTTP/1.1 200 OK", B(""), 3, false, false, 0},
    {"/stall", "HTTP/1.1 200 OK", B("200 partial answer"), 0, false, false, 3},
    {"/stallnl", "HTTP/1.1 200 OK", B("\nrest"), 0, false, false, 3},
    {"/stall404", "HTTP/1.1 404 Not Found", B("gone"), 0, false, false, 3},
    /* Item 8's shapes: the raw client was made to answer each as curl 7.88. */
    {"/huge", "HTTP/1.1 200 OK", huge_body, sizeof(huge_body), 0, false, false, 0},
    {"/hugeclose", "HTTP/1.1 200 OK", huge_body, sizeof(huge_body), 0, true, false, 0},
    {"/status5k", status_5k, B("OK"), 0, false, false, 0},
    {"/status200k", status_200k, B("OK"), 0, false, false, 0},
    {"/cl2e63", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808", B("200 OK"), 0, true,
     false, 0},
    {"/clmax", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807", B("200 OK"), 0, true,
     false, 0},
    {"/cl4x", "HTTP/1.1 200 OK\r\nContent-Length: 4x", B("200 OK"), 0, true, false, 0},
    {"/clneg", "HTTP/1.1 200 OK\r\nContent-Length: -4", B("200 OK"), 0, true, false, 0},
    {"/gzplain", "HTTP/1.1 200 OK\r\n" TE_GZIP_CHUNKED, B("6\r\n200 OK\r\n0\r\n\r\n"), 0, true,
     false, 0},
    {"/gzreal", "HTTP/1.1 200 OK\r\n" TE_GZIP_CHUNKED, B("1e\r\n" GZIP_HELLO "\r\n0\r\n\r\n"), 0,
     true, false, 0},
    {"/gz404", "HTTP/1.1 404 Not Found\r\n" TE_GZIP_CHUNKED, B("4\r\nnope\r\n0\r\n\r\n"), 0, true,
     false, 0},
    {"/gzclose", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip", B(GZIP_HELLO), 0, true, false, 0},
    {"/xyzchunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: xyz, chunked",
     B("6\r\n200 OK\r\n0\r\n\r\n"), 0, true, false, 0},
    {"/close", "", B(""), 0, false, true, 0},
    {"/refused", NULL, B(""), 0, false, false, 0}, /* PORT0 is a closed port */
};

#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* Commands as operators write them; "@" stands for the path of the shape. */
static const char *commands[] = {
    "test \"$(curl -4 -w '%{http_code}' -s http://localhost:${PORT0}@|cut -f1 -d\" \")\" == "
    "200",
    "test \"$(curl -4 -w '%{http_code}' -s http://localhost:${PORT0}@|cut -f1 -d\" \")\" = 200",
    "[ \"$(curl -w '%{http_code}' -s http://127.0.0.1:$PORT0@ | cut -d ' ' -f 1)\" == \"200\" ]",
    "curl -f http://localhost:$PORT0@",
    "curl -sf -o /dev/null http://127.0.0.1:$PORT0@",
    "curl --fail --silent http://localhost:$PORT0@",
    "curl -s http://localhost:$PORT0@",
    "curl -s -o /dev/null -w \"%{http_code}\" http://localhost:$PORT0@ | grep -q 200",
    "curl -s -o /dev/null -w '%{http_code}\\n' http://localhost:$PORT0@ | grep -q 200",
    "[ \"$(curl -s -o /dev/null -w '%{http_code}' http://localhost:$PORT0@)\" = 200 ]",
    "test \"$(curl -s -w '%{http_code}' http://localhost:$PORT0@)\" = 200",
    "curl -fsSL -m 0.5 http://localhost:$PORT0@",
    "test \"$(curl -sL -m 0.5 -w '%{http_code}\\n' http://localhost:$PORT0@ | cut -d ' ' -f "
    "1)\" = 200",
    "curl -sfI http://localhost:$PORT0@",
    "test \"$(curl -sf -w '%{http_code}' http://localhost:$PORT0@|cut -f1 -d\" \")\" == 404",
    "curl -sS --max-time 0.5 --connect-timeout 1 -4 http://localhost:$PORT0@",
    "curl -sf http://localhost:$PORT0@ || exit 1",
    "curl -s -o /dev/null -L http://localhost:$PORT0@||exit 3",
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

struct shell {
	enum curlcmd_shell kind;
	const char *path;
	const char *argv0;
	const char *argv1; /* "sh" for busybox, NULL otherwise */
};

static const struct shell shells[] = {
    {CURLCMD_SHELL_DASH, "/usr/bin/dash", "dash", NULL},
    {CURLCMD_SHELL_BASH, "/usr/bin/bash", "bash", NULL},
    {CURLCMD_SHELL_BUSYBOX, "/usr/bin/busybox", "busybox", "sh"},
};

static struct ev_loop *loop;
static struct exec_ctx *ectx;
static pid_t server_pid = -1;
static int server_port;
static int closed_port;
static char home_dir[] = "/tmp/vipd-curlcmd-diff-XXXXXX";

static const struct shape *find_shape(const char *path)
{
	size_t i;

	for (i = 0; i < NSHAPES; i++)
		if (strcmp(shapes[i].path, path) == 0)
			return &shapes[i];
	return NULL;
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

/* One connection, in its own process so that a slow answer blocks nothing. */
static void serve(int fd)
{
	char req[4096], path[256], method[16], hdr[128];
	size_t len = 0;
	const struct shape *s;

	while (len < sizeof(req) - 1) {
		ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);

		if (r <= 0)
			break;
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[len] = '\0';
	if (sscanf(req, "%15s %255s", method, path) != 2)
		return;
	s = find_shape(path);
	if (s == NULL)
		s = find_shape("/404");
	if (s->delay_s > 0)
		sleep((unsigned)s->delay_s);
	if (s->close_only)
		return;
	/* The head is written as it is: a status line may be 200 KB. */
	write_all(fd, s->head, strlen(s->head));
	if (s->no_length)
		snprintf(hdr, sizeof(hdr), "\r\n\r\n");
	else
		snprintf(hdr, sizeof(hdr), "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		         s->body_len);
	write_all(fd, hdr, strlen(hdr));
	if (strcmp(method, "HEAD") == 0 || strncmp(s->head, "HTTP/1.1 204", 12) == 0)
		return;
	if (s->stall_s > 0) {
		write_all(fd, s->body, s->body_len / 2);
		sleep((unsigned)s->stall_s);
		write_all(fd, s->body + s->body_len / 2, s->body_len - s->body_len / 2);
		return;
	}
	write_all(fd, s->body, s->body_len);
}

static void server_loop(int lfd)
{
	signal(SIGCHLD, SIG_IGN); /* connection processes reap themselves */
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			serve(fd);
			shutdown(fd, SHUT_WR);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}

static int listen_loopback(int *port)
{
	unsigned p = 0;
	int fd = test_bind_loopback(AF_INET, SOCK_STREAM, 64, &p);

	*port = (int)p;
	return fd;
}

/* "HTTP/1.1 200 " and a reason phrase that makes the line len - 1 bytes. */
static void fill_status_line(char *line, size_t len)
{
	static const char start[] = "HTTP/1.1 200 ";

	memset(line, 'x', len - 1);
	memcpy(line, start, sizeof(start) - 1);
	line[len - 1] = '\0';
}

static int setup(void **unused)
{
	int lfd, cfd;
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(big_body); i++)
		big_body[i] = (char)(i % 97 == 96 ? '\n' : 'a' + i % 26);
	memcpy(big_body, "200 ", 4);
	for (i = 0; i < sizeof(huge_body); i++)
		huge_body[i] = (char)(i % 97 == 96 ? '\n' : 'a' + i % 26);
	memcpy(huge_body, "200 ", 4);
	fill_status_line(status_5k, sizeof(status_5k));
	fill_status_line(status_200k, sizeof(status_200k));
	if (mkdtemp(home_dir) == NULL)
		return -1;
	/* A port with no listener: bound, never listened on, then closed. */
	cfd = listen_loopback(&closed_port);
	if (cfd < 0)
		return -1;
	close(cfd);
	lfd = listen_loopback(&server_port);
	if (lfd < 0)
		return -1;
	server_pid = fork();
	if (server_pid < 0)
		return -1;
	if (server_pid == 0)
		server_loop(lfd);
	close(lfd);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	loop = ev_default_loop(0);
	ectx = exec_ctx_new(loop, &(struct exec_settings){0}, NULL, 0);
	return ectx ? 0 : -1;
}

static int teardown(void **unused)
{
	(void)unused;
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	rmdir(home_dir);
	if (ectx)
		exec_ctx_free(ectx);
	curl_global_cleanup();
	return 0;
}

/* The command with the shape's path in place of "@". */
static void make_command(const char *tmpl, const char *path, char *buf, size_t len)
{
	const char *at = strchr(tmpl, '@');

	snprintf(buf, len, "%.*s%s%s", (int)(at - tmpl), tmpl, path, at + 1);
}

/* Reads what the pipe holds into out (at most len - 1 bytes in all, `used`
 * already there) and discards the rest, so that a shell printing a 3 MiB
 * body never blocks on a full pipe. Returns the bytes now in out. */
static size_t drain_output(int fd, char *out, size_t len, size_t used)
{
	char scratch[65536];
	ssize_t got;

	for (;;) {
		if (used < len - 1)
			got = read(fd, out + used, len - 1 - used);
		else
			got = read(fd, scratch, sizeof(scratch));
		if (got <= 0)
			return used;
		if (used < len - 1)
			used += (size_t)got;
	}
}

/* Runs cmd through the real shell; returns its exit status, or -1. With
 * `out`, its stdout and stderr (at most len - 1 bytes) are kept there. */
static int run_shell(const struct shell *sh, const char *cmd, int port, char *out, size_t len)
{
	char port_env[32], home_env[64];
	char *envp[] = {"PATH=/usr/bin:/bin", port_env, home_env, "LC_ALL=C", NULL};
	char *argv[5];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int i = 0, status, pipefd[2] = {-1, -1};
	size_t used = 0;
	struct timespec start, now;

	snprintf(port_env, sizeof(port_env), "PORT0=%d", port);
	/* An empty HOME: no ~/.curlrc can add options. */
	snprintf(home_env, sizeof(home_env), "HOME=%s", home_dir);
	argv[i++] = (char *)sh->argv0;
	if (sh->argv1 != NULL)
		argv[i++] = (char *)sh->argv1;
	argv[i++] = "-c";
	argv[i++] = (char *)cmd;
	argv[i] = NULL;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out != NULL) {
		assert_int_equal(pipe2(pipefd, O_CLOEXEC | O_NONBLOCK), 0);
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
		out[0] = '\0';
	} else {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	if (posix_spawn(&pid, sh->path, &fa, NULL, argv, envp) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (pipefd[0] >= 0)
			used = drain_output(pipefd[0], out, len, used);
		if (r == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (r < 0 || now.tv_sec - start.tv_sec > 20) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(2000);
	}
	if (pipefd[0] >= 0) {
		used = drain_output(pipefd[0], out, len, used);
		out[used] = '\0';
		close(pipefd[0]);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct body {
	unsigned char *data;
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	unsigned char *grown = realloc(b->data, b->len + size * n + 1);

	if (grown == NULL)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, p, size * n);
	b->len += size * n;
	return size * n;
}

/* The HTTP exchange as the curl tool would make it for command c. */
static void fetch(const struct curlcmd *c, const char *url, bool failonerror, struct body *b,
                  struct curlcmd_http_result *r)
{
	CURL *h = curl_easy_init();
	long status = 0;

	assert_non_null(h);
	b->data = NULL;
	b->len = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "curl/" LIBCURL_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (failonerror)
		curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	if (c->location) {
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 50L); /* the curl tool's default */
	}
	if (c->method == CURLCMD_HEAD)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (c->ip_version == 4)
		curl_easy_setopt(h, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
	if (c->ip_version == 6)
		curl_easy_setopt(h, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V6);
	if (c->max_time_s > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->max_time_s * 1000));
	if (c->connect_timeout_s > 0)
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->connect_timeout_s * 1000));
	r->curl_code = (int)curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	r->http_status = status;
	r->body = b->data;
	r->body_len = b->len;
	r->failonerror = failonerror;
	curl_easy_cleanup(h);
}

struct native_wait {
	int calls;
	struct check_result res;
};

static void native_cb(const struct check_result *res, void *arg)
{
	struct native_wait *w = arg;

	w->calls++;
	w->res = *res;
}

/*
 * The check as vipd runs it for `task` (runner.c, the shell's quirks of
 * `shell`): natively when `native`, else through the real /bin/sh. Fails the
 * test when a native run did not run natively, or when it did not take the
 * raw HTTP client although it could (`raw`).
 */
static struct check_result run_task(const char *cmd, const struct task *task,
                                    enum curlcmd_shell shell, bool native, bool raw)
{
	struct health_check hc = {.protocol = HC_PROTO_COMMAND,
	                          .command = (char *)cmd,
	                          .port_index = -1,
	                          .timeout_s = 10};
	struct runner_settings rs = {.native_curl = native, .shell = shell};
	size_t raw_before = exec_ctx_raw_runs(ectx);
	struct native_wait w = {0};
	struct timespec start, now;
	char err[256];

	if (!runner_start(ectx, &rs, NULL, task, &hc, native_cb, &w, err, sizeof(err)))
		fail_msg("runner_start: %s: %s", cmd, err);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!w.calls) {
		ev_run(loop, EVRUN_ONCE);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 20)
			fail_msg("run never ended: %s", cmd);
	}
	if (w.res.native != native)
		fail_msg("%s natively: %s", native ? "not run" : "run", cmd);
	if (native && exec_ctx_raw_runs(ectx) - raw_before != (raw ? 1u : 0u))
		fail_msg("the native run took %s: %s",
		         raw ? "libcurl, not the raw client" : "the raw client", cmd);
	return w.res;
}

/* The exit status of the native run of cmd for a one-port task on 127.0.0.1,
 * and its output in out. */
static int run_native(const char *cmd, int port, enum curlcmd_shell shell, bool raw,
                      char out[CHECK_OUTPUT_MAX])
{
	uint32_t ports[1] = {(uint32_t)port};
	struct task task = {.id = "diff", .host = "127.0.0.1", .ports = ports, .nports = 1};
	struct check_result res = run_task(cmd, &task, shell, true, raw);

	memcpy(out, res.output, CHECK_OUTPUT_MAX);
	return res.exit_code;
}

struct tally {
	bool have[3];
	unsigned runs[3];
	unsigned retries;
	bool verbose;
};

/*
 * One command against one shape under every shell. Returns the number of
 * disagreements; with `last` false they are only reported as a retry, since
 * the real run and the libcurl transfer are two exchanges and a loaded
 * machine can shift a timeout between them.
 */
static unsigned compare_case(const char *tmpl, const struct shape *s, struct tally *t, bool last)
{
	int port = s->head == NULL ? closed_port : server_port;
	char cmd[1024], url[CURLCMD_URL_MAX], err[128], port_env[32];
	char *envp[] = {port_env, NULL};
	struct curlcmd c;
	struct curlcmd_http_result raw, strict;
	struct body braw, bstrict;
	unsigned bad = 0;
	size_t hi;

	make_command(tmpl, s->path, cmd, sizeof(cmd));
	if (curlcmd_recognise(cmd, &c, err, sizeof(err)) != 1)
		fail_msg("not recognised: %s: %s", cmd, err);
	/* Without a time limit a slow answer only costs time. */
	if ((s->delay_s > 0 || s->stall_s > 0) && c.max_time_s == 0)
		return 0;
	snprintf(port_env, sizeof(port_env), "PORT0=%d", port);
	assert_int_equal(curlcmd_url_expand(&c, envp, url, sizeof(url), err, sizeof(err)), 0);
	fetch(&c, url, false, &braw, &raw);
	fetch(&c, url, c.fail, &bstrict, &strict);
	for (hi = 0; hi < 3; hi++) {
		int real, emu_raw, emu_strict, native;
		char real_out[CHECK_OUTPUT_MAX + 64], native_out[CHECK_OUTPUT_MAX];
		char want_out[CHECK_OUTPUT_MAX + 64];
		bool said;

		if (!t->have[hi])
			continue;
		/* Where the shell itself speaks (dash's test on `==`), the
		 * native output is its message. Every such command here has
		 * curl -s, so the message is all the real run writes. */
		said = shells[hi].kind == CURLCMD_SHELL_DASH && c.test_double_equals;
		real = run_shell(&shells[hi], cmd, port, said ? real_out : NULL, sizeof(real_out));
		emu_raw = curlcmd_emulate(&c, shells[hi].kind, &raw, NULL, 0);
		emu_strict = curlcmd_emulate(&c, shells[hi].kind, &strict, NULL, 0);
		/* -L stays on libcurl; everything else here is http:// to
		 * localhost or 127.0.0.1, the raw client's. */
		native = run_native(cmd, port, shells[hi].kind, !c.location, native_out);
		snprintf(want_out, sizeof(want_out), "%s: 1: %s\n", shells[hi].argv0, native_out);
		/* A check's output keeps CHECK_OUTPUT_MAX - 1 bytes: a longer
		 * message must start the same. */
		if (strlen(native_out) == CHECK_OUTPUT_MAX - 1)
			want_out[strlen(want_out) - 1] = '\0';
		if (said && (strncmp(real_out, want_out, strlen(want_out)) != 0 ||
		             (strlen(native_out) < CHECK_OUTPUT_MAX - 1 &&
		              strcmp(real_out, want_out) != 0))) {
			bad++;
			print_message("%s %s %s: real output \"%s\", native \"%s\"\n    %s\n",
			              last ? "MISMATCH" : "RETRY",
			              curlcmd_shell_name(shells[hi].kind), s->path, real_out,
			              native_out, cmd);
			continue;
		}
		if (real == emu_raw && real == emu_strict && real == native) {
			t->runs[hi]++;
			if (t->verbose)
				print_message("%-8s %-11s real %2d emulated %2d  %s\n",
				              curlcmd_shell_name(shells[hi].kind), s->path, real,
				              emu_raw, tmpl);
			continue;
		}
		bad++;
		print_message(
		    "%s %s %s: real %d, emulated %d (FAILONERROR: %d), native %d; curl %d, HTTP "
		    "%ld, body %zu bytes\n    %s\n",
		    last ? "MISMATCH" : "RETRY", curlcmd_shell_name(shells[hi].kind), s->path, real,
		    emu_raw, emu_strict, native, raw.curl_code, raw.http_status, raw.body_len, cmd);
	}
	free(braw.data);
	free(bstrict.data);
	return bad;
}

#define ATTEMPTS 3

static void test_real_shells(void **unused)
{
	struct tally t = {.verbose = getenv("VIPD_DIFF_VERBOSE") != NULL};
	unsigned mismatches = 0;
	size_t si, ci, hi;

	(void)unused;
	for (hi = 0; hi < 3; hi++) {
		t.have[hi] = access(shells[hi].path, X_OK) == 0;
		if (!t.have[hi])
			print_message("SKIP shell %s: %s not installed\n",
			              curlcmd_shell_name(shells[hi].kind), shells[hi].path);
	}
	for (ci = 0; ci < NCOMMANDS; ci++) {
		for (si = 0; si < NSHAPES; si++) {
			int attempt;

			for (attempt = 1; attempt <= ATTEMPTS; attempt++) {
				unsigned bad = compare_case(commands[ci], &shapes[si], &t,
				                            attempt == ATTEMPTS);

				if (bad == 0)
					break;
				if (attempt == ATTEMPTS)
					mismatches += bad;
				else
					t.retries++;
			}
		}
	}
	for (hi = 0; hi < 3; hi++)
		print_message("%s: %u runs agreed\n", curlcmd_shell_name(shells[hi].kind),
		              t.runs[hi]);
	print_message("%u cases retried after a disagreement; %zu native runs on the raw client\n",
	              t.retries, exec_ctx_raw_runs(ectx));
	assert_int_equal(mismatches, 0);
}

/*
 * The emulation's model of `test "$x" OP NNN` and `[ "$x" OP NNN ]` for any
 * operand, including the ones that are themselves test operators: a string
 * comparison, except dash with `==` (exit 2). Each shell runs all operands
 * in one process and prints one status per line.
 */
static const char *operands[] = {
    "",   "200", "0200", " 200", "200 ", "2OO",   "!",  "(",          ")",   "-a",
    "-o", "-n",  "-z",   "-e",   "-f",   "-t",    "=",  "==",         "!=",  "-eq",
    "\\", "-",   "--",   "[",    "]",    "200\n", "-x", "web-1\n200", "a b",
};

#define NOPERANDS (sizeof(operands) / sizeof(operands[0]))

static void run_operands(const struct shell *sh, const char *script, char *out, size_t len)
{
	char *argv[NOPERANDS + 6];
	int pipefd[2], i = 0, status;
	size_t k, used = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	ssize_t r;

	argv[i++] = (char *)sh->argv0;
	if (sh->argv1 != NULL)
		argv[i++] = (char *)sh->argv1;
	argv[i++] = "-c";
	argv[i++] = (char *)script;
	argv[i++] = "sh";
	for (k = 0; k < NOPERANDS; k++)
		argv[i++] = (char *)operands[k];
	argv[i] = NULL;
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawn(&pid, sh->path, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	while (used < len - 1 && (r = read(pipefd[0], out + used, len - 1 - used)) > 0)
		used += (size_t)r;
	out[used] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
}

static void test_test_builtin(void **unused)
{
	static const char *scripts[][2] = {
	    {"==", "for x in \"$@\"; do test \"$x\" == 200; echo $?; done"},
	    {"=", "for x in \"$@\"; do test \"$x\" = 200; echo $?; done"},
	    {"==", "for x in \"$@\"; do [ \"$x\" == \"200\" ]; echo $?; done"},
	    {"=", "for x in \"$@\"; do [ \"$x\" = '200' ]; echo $?; done"},
	};
	size_t hi, si, k;

	(void)unused;
	for (hi = 0; hi < 3; hi++) {
		if (access(shells[hi].path, X_OK) != 0)
			continue;
		for (si = 0; si < sizeof(scripts) / sizeof(scripts[0]); si++) {
			char out[1024], want[1024] = "";
			bool eqeq = strcmp(scripts[si][0], "==") == 0;

			for (k = 0; k < NOPERANDS; k++) {
				int code = eqeq && shells[hi].kind == CURLCMD_SHELL_DASH ? 2
				           : strcmp(operands[k], "200") == 0             ? 0
				                                                         : 1;
				size_t n = strlen(want);

				snprintf(want + n, sizeof(want) - n, "%d\n", code);
			}
			run_operands(&shells[hi], scripts[si][1], out, sizeof(out));
			if (strcmp(out, want) != 0)
				fail_msg("%s: %s\nreal:\n%s\nmodel:\n%s", shells[hi].argv0,
				         scripts[si][1], out, want);
		}
	}
}

/*
 * The task environment is one (task_env.c) for the shell and the native
 * path, with no limit a real task reaches: an agent FQDN of 70 characters
 * (curl resolves *.localhost to loopback itself, as libcurl does) and $PORT39
 * of a 40-port task reach curl whole on both paths. The native path used to
 * cut HOST at 58 characters (curl code 6) and stop after 36 ports (code 7).
 */
static void test_task_env_both_paths(void **unused)
{
	static const char long_host[] =
	    "a123456789.b123456789.c123456789.d123456789.e123456789.f1234.localhost";
	uint32_t ports[40];
	struct task fqdn = {.id = "web.1", .host = (char *)long_host, .ports = ports, .nports = 1};
	struct task many = {.id = "web.2", .host = "127.0.0.1", .ports = ports, .nports = 40};
	static const char fqdn_cmd[] = "curl -sf -o /dev/null http://$HOST:$PORT0/ok";
	static const char many_cmd[] = "curl -sf -o /dev/null http://$HOST:$PORT39/ok";
	size_t i;

	(void)unused;
	assert_int_equal(strlen(long_host), 70);
	ports[0] = (uint32_t)server_port;
	assert_int_equal(run_task(fqdn_cmd, &fqdn, CURLCMD_SHELL_DASH, false, false).exit_code, 0);
	/* Not an address nor "localhost": the native run takes libcurl. */
	assert_int_equal(run_task(fqdn_cmd, &fqdn, CURLCMD_SHELL_DASH, true, false).exit_code, 0);
	/* Every port but the last is closed, so only $PORT39 itself passes. */
	for (i = 0; i < 39; i++)
		ports[i] = (uint32_t)closed_port;
	ports[39] = (uint32_t)server_port;
	assert_int_equal(run_task(many_cmd, &many, CURLCMD_SHELL_DASH, false, false).exit_code, 0);
	assert_int_equal(run_task(many_cmd, &many, CURLCMD_SHELL_DASH, true, true).exit_code, 0);
	ports[39] = (uint32_t)closed_port;
	assert_int_equal(run_task(many_cmd, &many, CURLCMD_SHELL_DASH, false, false).exit_code, 7);
	assert_int_equal(run_task(many_cmd, &many, CURLCMD_SHELL_DASH, true, true).exit_code, 7);
}

/*
 * The emulation's model of dash's message for `test X == 200` and
 * `[ X == 200 ]` (curlcmd_emu_message) against dash itself, for every
 * operand above, the test operators among them: the operand is the whole
 * output of "$(...)", fed to the emulation as curl's body.
 */
static void dash_message(const char *script, const char *operand, char *out, size_t len)
{
	char *argv[] = {"dash", "-c", (char *)script, "sh", (char *)operand, NULL};
	posix_spawn_file_actions_t fa;
	int pipefd[2], status;
	size_t used = 0;
	ssize_t r;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawn(&pid, shells[0].path, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	while (used < len - 1 && (r = read(pipefd[0], out + used, len - 1 - used)) > 0)
		used += (size_t)r;
	out[used] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}

static void test_dash_test_messages(void **unused)
{
	static const char *forms[][2] = {
	    {"test \"$(curl -s -w '%{http_code}' http://localhost/)\" == 200",
	     "test \"$(printf %s \"$1\")\" == 200"},
	    {"[ \"$(curl -s -w '%{http_code}' http://localhost/)\" == \"200\" ]",
	     "[ \"$(printf %s \"$1\")\" == \"200\" ]"},
	};
	char real[512], msg[512], want[600], err[128];
	struct curlcmd_emu e;
	struct curlcmd c;
	size_t fi, k;

	(void)unused;
	if (access(shells[0].path, X_OK) != 0)
		skip();
	for (fi = 0; fi < 2; fi++) {
		assert_int_equal(curlcmd_recognise(forms[fi][0], &c, err, sizeof(err)), 1);
		c.write_code = false; /* the operand alone, as the body */
		for (k = 0; k < NOPERANDS; k++) {
			curlcmd_emu_init(&e, &c, CURLCMD_SHELL_DASH);
			curlcmd_emu_body(&e, operands[k], strlen(operands[k]));
			assert_int_equal(curlcmd_emu_finish(&e, 0, 200), 2);
			curlcmd_emu_message(&e, msg, sizeof(msg));
			snprintf(want, sizeof(want), "sh: 1: %s\n", msg);
			dash_message(forms[fi][1], operands[k], real, sizeof(real));
			if (strcmp(real, want) != 0)
				fail_msg("operand \"%s\": dash said \"%s\", the model \"%s\"",
				         operands[k], real, want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_test_builtin),
	    cmocka_unit_test(test_dash_test_messages),
	    cmocka_unit_test(test_real_shells),
	    cmocka_unit_test(test_task_env_both_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
