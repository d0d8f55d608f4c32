/*
 * Drives the executors from tests/host/exec_netns.test.sh:
 *   exec_netns_tool check KIND TARGET [--netns PATH] [--timeout S] [--path P]
 *                   [--count N] [--between SHELL-CMD]
 *     runs the check N times (SHELL-CMD between runs, through system()) and
 *     prints one line per run: "<outcome> <http status> <exit code> <output>".
 *     KIND is http, https, tcp (TARGET = ADDR:PORT) or command (TARGET = the
 *     command string).
 *   exec_netns_tool serve ADDR PORT
 *     a blocking HTTP server answering 200 "inside" to every request, until
 *     killed; run it inside a namespace with `ip netns exec`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vipd/exec.h"

static int serve(const char *addr, const char *port)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: "
	                            "close\r\n\r\ninside";
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	char buf[4096];
	int one = 1, fd, c;

	signal(SIGPIPE, SIG_IGN);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "serve: bad address %s\n", addr);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 64) < 0) {
		perror("serve");
		return 2;
	}
	for (;;) {
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 2;
		}
		/* One read is enough for the checks' small requests; a TCP
		 * check sends nothing and closes, then read returns 0. */
		if (read(c, buf, sizeof(buf)) > 0 && write(c, reply, sizeof(reply) - 1) < 0)
			perror("write");
		close(c);
	}
}

struct outcome {
	int done;
	struct check_result res;
};

static void on_done(struct exec_run *run, const struct check_result *res, void *arg)
{
	struct outcome *o = arg;

	(void)run;
	o->done = 1;
	o->res = *res;
}

static int parse_kind(const char *s, enum exec_kind *k)
{
	if (!strcmp(s, "http"))
		*k = EXEC_HTTP;
	else if (!strcmp(s, "https"))
		*k = EXEC_HTTPS;
	else if (!strcmp(s, "tcp"))
		*k = EXEC_TCP;
	else if (!strcmp(s, "command"))
		*k = EXEC_COMMAND;
	else
		return -1;
	return 0;
}

static int check(int argc, char **argv)
{
	struct exec_request req = {.timeout_s = 2};
	struct ev_loop *loop = ev_default_loop(0);
	const char *between = NULL;
	char host[256], err[256], *colon;
	struct exec_ctx *ctx;
	int count = 1, i;

	if (argc < 2 || parse_kind(argv[0], &req.kind) < 0) {
		fprintf(stderr, "check: KIND TARGET expected\n");
		return 2;
	}
	if (req.kind == EXEC_COMMAND) {
		req.command = argv[1];
	} else {
		snprintf(host, sizeof(host), "%s", argv[1]);
		colon = strrchr(host, ':');
		if (!colon) {
			fprintf(stderr, "check: ADDR:PORT expected, got %s\n", argv[1]);
			return 2;
		}
		*colon = '\0';
		req.host = host;
		req.port = (unsigned)atoi(colon + 1);
	}
	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--netns"))
			req.netns = argv[i + 1];
		else if (!strcmp(argv[i], "--timeout"))
			req.timeout_s = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--path"))
			req.path = argv[i + 1];
		else if (!strcmp(argv[i], "--count"))
			count = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--between"))
			between = argv[i + 1];
		else {
			fprintf(stderr, "check: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	ctx = exec_ctx_new(loop, NULL, err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "exec_ctx_new: %s\n", err);
		return 2;
	}
	for (i = 0; i < count; i++) {
		struct outcome o = {0};

		if (i > 0 && between && system(between) != 0) {
			fprintf(stderr, "between-command failed: %s\n", between);
			return 2;
		}
		if (!exec_start(ctx, &req, on_done, &o, err, sizeof(err))) {
			fprintf(stderr, "exec_start: %s\n", err);
			return 2;
		}
		while (!o.done)
			ev_run(loop, EVRUN_ONCE);
		for (char *p = o.res.output; *p; p++)
			if (*p == '\n')
				*p = ' ';
		printf("%s %ld %d %s\n", check_outcome_name(o.res.outcome), o.res.http_status,
		       o.res.exit_code, o.res.output);
		fflush(stdout);
	}
	exec_ctx_free(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3]);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return check(argc - 2, argv + 2);
	fprintf(stderr, "usage: %s check KIND TARGET [options] | serve ADDR PORT\n", argv[0]);
	return 2;
}
