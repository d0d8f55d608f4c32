/*
 * Network namespaces of tasks: one cached fd per namespace path, owned by the
 * executor context, and sockets created inside a namespace from the loop
 * thread (setns in, socket(), setns back), as `ip netns exec` would not do
 * for a single socket.
 */
#include "vipd/exec.h"
#include "exec_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vipd/log.h"
#include "vipd/errbuf.h"

struct exec_netns {
	char *path;
	int fd;
	dev_t dev; /* identity of the namespace the fd refers to */
	ino_t ino;
	struct exec_netns *next;
};

static void netns_entry_free(struct exec_netns *ns)
{
	if (ns->fd >= 0)
		close(ns->fd);
	free(ns->path);
	free(ns);
}

/* Whether ns->path still names the namespace ns->fd keeps alive. */
static bool netns_current(const struct exec_netns *ns)
{
	struct stat st;

	return stat(ns->path, &st) == 0 && st.st_dev == ns->dev && st.st_ino == ns->ino;
}

static struct exec_netns *netns_find(struct exec_ctx *ctx, const char *path)
{
	struct exec_netns *ns;

	for (ns = ctx->netns; ns; ns = ns->next)
		if (strcmp(ns->path, path) == 0)
			return ns;
	return NULL;
}

/* The path comes from an app label (VIPD_NETNS) with the task id, checked by
 * the parser, in it: O_NONBLOCK so that a FIFO there cannot hold the loop in
 * open(); setns() refuses any fd that is not a network namespace. */
static int netns_open(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		errbuf_set(err, errlen, "netns %s: open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0) {
		errbuf_set(err, errlen, "netns %s: fstat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* An fd keeps its namespace alive after `ip netns del`: entries whose path
 * is gone or names another namespace are dropped whenever one is added, so
 * the cache holds about one fd per live task namespace. */
static void netns_sweep(struct exec_ctx *ctx)
{
	struct exec_netns **pp = &ctx->netns, *ns;

	while ((ns = *pp)) {
		if (netns_current(ns)) {
			pp = &ns->next;
			continue;
		}
		*pp = ns->next;
		netns_entry_free(ns);
	}
}

int exec_netns_fd(struct exec_ctx *ctx, const char *path, char *err, size_t errlen)
{
	struct exec_netns *ns = netns_find(ctx, path);
	struct stat st;
	int fd;

	/* `ip netns del` then `add` puts a new namespace at the same path: a
	 * cached fd would keep checking the dead one (the sweep drops it). */
	if (ns && netns_current(ns))
		return ns->fd;
	netns_sweep(ctx);
	fd = netns_open(path, &st, err, errlen);
	if (fd < 0)
		return -1;
	ns = calloc(1, sizeof(*ns));
	if (!ns || !(ns->path = strdup(path))) {
		free(ns);
		close(fd);
		errbuf_set(err, errlen, "netns %s: out of memory", path);
		return -1;
	}
	ns->fd = fd;
	ns->dev = st.st_dev;
	ns->ino = st.st_ino;
	ns->next = ctx->netns;
	ctx->netns = ns;
	return fd;
}

static int host_netns_fd(struct exec_ctx *ctx, char *err, size_t errlen)
{
	if (ctx->host_netns_fd >= 0)
		return ctx->host_netns_fd;
	/* thread-self: the namespace of the loop thread, which is the one
	 * we must return to even if other threads were moved elsewhere. */
	ctx->host_netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ctx->host_netns_fd < 0)
		errbuf_set(err, errlen, "own netns: open /proc/thread-self/ns/net: %s",
		           strerror(errno));
	return ctx->host_netns_fd;
}

int exec_netns_socket(struct exec_ctx *ctx, const char *path, int domain, int type, int protocol,
                      char *err, size_t errlen)
{
	int nsfd, selffd, fd, saved;

	if (!path)
		return socket(domain, type | SOCK_CLOEXEC, protocol);
	selffd = host_netns_fd(ctx, err, errlen);
	if (selffd < 0)
		return -1;
	nsfd = exec_netns_fd(ctx, path, err, errlen);
	if (nsfd < 0)
		return -1;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		errbuf_set(err, errlen, "netns %s: setns: %s", path, strerror(errno));
		return -1;
	}
	/* A socket stays in the namespace it was created in. */
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	saved = errno;
	if (setns(selffd, CLONE_NEWNET) < 0) {
		/* The loop thread would go on in the task's namespace: every
		 * later socket of vipd (netlink, API) would land there. */
		fatal("netns %s: cannot return to vipd's own network namespace", path);
	}
	if (fd < 0) {
		errbuf_set(err, errlen, "netns %s: socket: %s", path, strerror(saved));
		return -1;
	}
	return fd;
}

void exec_netns_free_all(struct exec_ctx *ctx)
{
	while (ctx->netns) {
		struct exec_netns *ns = ctx->netns;

		ctx->netns = ns->next;
		netns_entry_free(ns);
	}
	if (ctx->host_netns_fd >= 0) {
		close(ctx->host_netns_fd);
		ctx->host_netns_fd = -1;
	}
}
