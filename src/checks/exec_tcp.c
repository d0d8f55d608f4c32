/*
 * TCP checks, as Marathon's: a connection established within the timeout is
 * healthy, and is closed at once without sending anything. A non-blocking
 * connect on the loop, an ev_io for writability and an ev_timer deadline;
 * targets given by name go through libcurl's connect-only mode instead.
 */
#include "vipd/exec.h"
#include "vipd/errbuf.h"
#include "exec_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tcp_run {
	struct exec_run base;
	int fd;                /* the connecting socket; -1 once closed */
	ev_io connect_watcher; /* writable: the connect finished, either way */
	ev_timer deadline;
	double timeout_s; /* for the message at the deadline */
};

static void tcp_close(struct tcp_run *t)
{
	struct ev_loop *loop = t->base.ctx->loop;

	ev_io_stop(loop, &t->connect_watcher);
	ev_timer_stop(loop, &t->deadline);
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
}

static void tcp_release(struct exec_run *run)
{
	tcp_close((struct tcp_run *)run);
}

static void tcp_done(struct tcp_run *t, enum check_outcome o, int error)
{
	t->base.result.outcome = o;
	if (error)
		exec_run_set_output(&t->base, "connect: %s", strerror(error));
	exec_run_finish(&t->base);
}

static void tcp_connected_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tcp_run *t = w->data;
	socklen_t len = sizeof(int);
	int error = 0;

	(void)loop;
	(void)revents;
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
		error = errno;
	tcp_done(t, error ? CHECK_FAIL_CONNECT : CHECK_OK, error);
}

static void tcp_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tcp_run *t = w->data;

	(void)loop;
	(void)revents;
	exec_run_set_output(&t->base, "no connection within %.3g s", t->timeout_s);
	t->base.result.outcome = CHECK_FAIL_TIMEOUT;
	exec_run_finish(&t->base);
}

static void tcp_connect(struct tcp_run *t, const struct exec_request *req,
                        const struct sockaddr_storage *ss, socklen_t sslen)
{
	struct exec_ctx *ctx = t->base.ctx;
	char nserr[256];

	t->fd = exec_netns_socket(ctx, req->netns, ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0,
	                          nserr, sizeof(nserr));
	if (t->fd < 0) {
		exec_run_finish_soon(&t->base, req->netns ? CHECK_FAIL_NETNS : CHECK_FAIL_INTERNAL,
		                     "%s", nserr);
		return;
	}
	if (connect(t->fd, (const struct sockaddr *)ss, sslen) == 0) {
		exec_run_finish_soon(&t->base, CHECK_OK, "%s", "");
		return;
	}
	if (errno != EINPROGRESS) {
		exec_run_finish_soon(&t->base, CHECK_FAIL_CONNECT, "connect: %s", strerror(errno));
		return;
	}
	ev_io_set(&t->connect_watcher, t->fd, EV_WRITE);
	ev_io_start(ctx->loop, &t->connect_watcher);
	t->timeout_s = req->timeout_s;
	ev_timer_set(&t->deadline, req->timeout_s, 0.);
	ev_timer_start(ctx->loop, &t->deadline);
}

/* exec_start() gives a target that is a name to exec_http_ops instead. */
static int tcp_launch(struct exec_run **out, struct exec_ctx *ctx, const struct exec_request *req,
                      exec_done_cb cb, void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct tcp_run *t;

	if (!req->host || !req->port || req->port > 65535) {
		errbuf_set(err, errlen, "TCP check needs a host and a port 1-65535");
		return -1;
	}
	if (exec_parse_addr(req->host, req->port, &ss, &sslen) < 0) {
		errbuf_set(err, errlen, "TCP check: \"%s\" is not an address", req->host);
		return -1;
	}
	t = (struct tcp_run *)exec_run_new(ctx, &exec_tcp_ops, sizeof(*t), req, cb, arg);
	if (!t) {
		errbuf_set(err, errlen, "TCP run: %s", strerror(ENOMEM));
		return -1;
	}
	t->fd = -1;
	ev_init(&t->connect_watcher, tcp_connected_cb);
	t->connect_watcher.data = t;
	ev_init(&t->deadline, tcp_deadline_cb);
	t->deadline.data = t;
	*out = &t->base;
	tcp_connect(t, req, &ss, sslen);
	return 0;
}

const struct exec_ops exec_tcp_ops = {
    .name = "tcp",
    .launch = tcp_launch,
    .release = tcp_release,
};
