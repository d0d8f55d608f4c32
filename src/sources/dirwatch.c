/*
 * inotify on an app source. Two watches: the source's parent directory,
 * filtered to the source's name (a file replaced by rename, the directory
 * itself replaced, created or removed), and, while the source is a
 * directory, the directory (its entries written, created, renamed in or out,
 * deleted). A burst of events becomes one callback after a settle delay, so
 * an editor's write-then-rename or a half-written file is read once, whole.
 */
#include <errno.h>
#include <ev.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "vipd/dirwatch.h"
#include "vipd/errbuf.h"

/* IN_CLOSE_WRITE, not IN_MODIFY: a file still being written is not read. */
#define ENTRY_EVENTS                                                                               \
	(IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB)
#define DIR_EVENTS (ENTRY_EVENTS | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define PARENT_EVENTS (ENTRY_EVENTS | IN_ONLYDIR)

/* Kubernetes' ConfigMap volumes update a file by re-pointing the link
 * "..data" (the file itself is a link through it): for a file source, an
 * event on that name counts too. */
#define CONFIGMAP_LINK "..data"

struct dirwatch {
	struct ev_loop *loop;
	int fd;
	int parent_wd;
	int dir_wd; /* -1 while the source is not a directory */
	char *path, *parent, *name;
	double settle_s, max_wait_s;
	double burst_start; /* ev_now of the burst's first event; 0: none pending */
	ev_io io;
	ev_timer settle;
	dirwatch_cb cb;
	void *arg;
};

static int split_path(struct dirwatch *w, const char *path)
{
	char *a = strdup(path), *b = strdup(path);
	int rc = -1;

	if (a && b) {
		w->parent = strdup(dirname(a));
		w->name = strdup(basename(b));
		rc = w->parent && w->name ? 0 : -1;
	}
	free(a);
	free(b);
	return rc;
}

/* (Re)places the watch on the source directory, or none when the source is
 * not one now. 0, or -1 when inotify refused for another reason. */
static int watch_dir(struct dirwatch *w)
{
	if (w->dir_wd >= 0)
		inotify_rm_watch(w->fd, w->dir_wd); /* EINVAL when already gone: fine */
	w->dir_wd = inotify_add_watch(w->fd, w->path, DIR_EVENTS);
	if (w->dir_wd >= 0 || errno == ENOTDIR || errno == ENOENT)
		return 0;
	return -1;
}

/* Arms the callback settle_s after this event, capped at max_wait_s after
 * the first of the burst (a steady stream of events still gets read). */
static void note_change(struct dirwatch *w)
{
	double now = ev_now(w->loop), at;

	if (w->burst_start == 0)
		w->burst_start = now;
	at = now + w->settle_s;
	if (at > w->burst_start + w->max_wait_s)
		at = w->burst_start + w->max_wait_s;
	ev_timer_stop(w->loop, &w->settle);
	ev_timer_set(&w->settle, at - now > 0 ? at - now : 0, 0);
	ev_timer_start(w->loop, &w->settle);
}

static bool names_source(const struct dirwatch *w, const struct inotify_event *ev)
{
	if (ev->len == 0)
		return false;
	if (strcmp(ev->name, w->name) == 0)
		return true;
	return w->dir_wd < 0 && strcmp(ev->name, CONFIGMAP_LINK) == 0;
}

/* One event; false when the watch is lost. */
static bool handle_event(struct dirwatch *w, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		/* Events were dropped: only a full re-read is sure to see them. */
		note_change(w);
		return true;
	}
	if (ev->wd == w->parent_wd) {
		if (ev->mask & IN_IGNORED)
			return false; /* the parent was deleted or unmounted */
		if (!names_source(w, ev))
			return true;
		/* The source created, replaced or removed: watch what is there now. */
		if (watch_dir(w) < 0)
			return false;
		note_change(w);
		return true;
	}
	if (w->dir_wd >= 0 && ev->wd == w->dir_wd) {
		if (ev->mask & IN_IGNORED)
			w->dir_wd = -1; /* removed: the parent's watch sees a new one come */
		note_change(w);
	}
	return true; /* anything else is from a watch already replaced */
}

/* Reads every queued event (the fd is non-blocking); false when lost. */
static bool drain_events(struct dirwatch *w)
{
	char buf[16 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			return false;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (!handle_event(w, ev))
				return false;
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void stop_watchers(struct dirwatch *w)
{
	ev_io_stop(w->loop, &w->io);
	ev_timer_stop(w->loop, &w->settle);
}

/* ev_io callback on the inotify fd */
static void on_events(struct ev_loop *loop, ev_io *io, int revents)
{
	struct dirwatch *w = io->data;

	(void)loop;
	(void)revents;
	if (drain_events(w))
		return;
	stop_watchers(w);
	w->cb(w->arg, DIRWATCH_LOST); /* last: it closes w */
}

/* ev_timer callback: the burst settled */
static void on_settled(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct dirwatch *w = t->data;

	(void)loop;
	(void)revents;
	w->burst_start = 0;
	w->cb(w->arg, DIRWATCH_CHANGED); /* last: it may close w */
}

static int start_watches(struct dirwatch *w, char *err, size_t errlen)
{
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		errbuf_set(err, errlen, "inotify: %s", strerror(errno));
		return -1;
	}
	w->parent_wd = inotify_add_watch(w->fd, w->parent, PARENT_EVENTS);
	if (w->parent_wd < 0) {
		errbuf_set(err, errlen, "inotify on %s: %s", w->parent, strerror(errno));
		return -1;
	}
	if (watch_dir(w) < 0) {
		errbuf_set(err, errlen, "inotify on %s: %s", w->path, strerror(errno));
		return -1;
	}
	return 0;
}

struct dirwatch *dirwatch_open(struct ev_loop *loop, const char *path, double settle_s,
                               double max_wait_s, dirwatch_cb cb, void *arg, char *err,
                               size_t errlen)
{
	struct dirwatch *w = calloc(1, sizeof(*w));

	if (!w) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	w->loop = loop;
	w->fd = w->parent_wd = w->dir_wd = -1;
	w->settle_s = settle_s;
	w->max_wait_s = max_wait_s;
	w->cb = cb;
	w->arg = arg;
	ev_init(&w->io, on_events);
	ev_timer_init(&w->settle, on_settled, 0, 0);
	w->io.data = w->settle.data = w;
	w->path = strdup(path);
	if (!w->path || split_path(w, path) < 0) {
		errbuf_set(err, errlen, "out of memory");
		goto fail;
	}
	if (start_watches(w, err, errlen) < 0)
		goto fail;
	ev_io_set(&w->io, w->fd, EV_READ);
	ev_io_start(loop, &w->io);
	return w;
fail:
	dirwatch_close(w);
	return NULL;
}

void dirwatch_close(struct dirwatch *w)
{
	if (!w)
		return;
	stop_watchers(w);
	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	free(w->parent);
	free(w->name);
	free(w);
}
