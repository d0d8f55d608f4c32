/*
 * Audit lines go to a buffer first; the buffer is flushed with non-blocking
 * writes, and an ev_io waits for the fd when a pipe or terminal is full, so
 * a slow reader never stalls the checks or the dataplane.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "vipd/audit.h"
#include "vipd/errbuf.h"

struct audit {
	struct ev_loop *loop;
	int fd;
	bool owns_fd;
	ev_io writable;
	char *buf;
	size_t len, cap;
	uint64_t written, dropped;
};

static void audit_flush(struct audit *a)
{
	while (a->len > 0) {
		ssize_t n = write(a->fd, a->buf, a->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!ev_is_active(&a->writable))
				ev_io_start(a->loop, &a->writable);
			return;
		}
		if (n <= 0) {
			/* A broken audit destination must not stop vipd: count and drop. */
			a->len = 0;
			return;
		}
		memmove(a->buf, a->buf + n, a->len - (size_t)n);
		a->len -= (size_t)n;
	}
	if (ev_is_active(&a->writable))
		ev_io_stop(a->loop, &a->writable);
}

/* ev_io callback: the fd can take more. */
static void audit_on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	audit_flush(w->data);
}

struct audit *audit_open(struct ev_loop *loop, const char *path, char *err, size_t errlen)
{
	struct audit *a = calloc(1, sizeof(*a));
	int flags;

	if (!a) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	a->loop = loop;
	if (strcmp(path, "-") == 0) {
		a->fd = STDOUT_FILENO;
	} else {
		a->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		a->owns_fd = true;
	}
	if (a->fd < 0) {
		errbuf_set(err, errlen, "cannot open audit log %s: %s", path, strerror(errno));
		free(a);
		return NULL;
	}
	flags = fcntl(a->fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(a->fd, F_SETFL, flags | O_NONBLOCK);
	ev_io_init(&a->writable, audit_on_writable, a->fd, EV_WRITE);
	a->writable.data = a;
	return a;
}

void audit_close(struct audit *a)
{
	int flags;

	if (!a)
		return;
	if (ev_is_active(&a->writable))
		ev_io_stop(a->loop, &a->writable);
	flags = fcntl(a->fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(a->fd, F_SETFL, flags & ~O_NONBLOCK);
	audit_flush(a);
	if (a->owns_fd)
		close(a->fd);
	free(a->buf);
	free(a);
}

static void format_ts(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (ts.tv_nsec / 1000000) % 1000);
}

static int audit_append(struct audit *a, const char *line, size_t n)
{
	if (a->len + n + 1 > AUDIT_BUFFER_MAX)
		return -1;
	if (a->len + n + 1 > a->cap) {
		size_t cap = a->cap ? a->cap : 4096;
		char *buf;

		while (cap < a->len + n + 1)
			cap *= 2;
		buf = realloc(a->buf, cap);
		if (!buf)
			return -1;
		a->buf = buf;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, line, n);
	a->buf[a->len + n] = '\n';
	a->len += n + 1;
	return 0;
}

void audit_emit(struct audit *a, const char *event, json_t *fields)
{
	char ts[64];
	json_t *line = json_object();
	char *text;

	if (!a || !line || !fields) {
		json_decref(line);
		json_decref(fields);
		return;
	}
	format_ts(ts, sizeof(ts));
	json_object_set_new(line, "v", json_integer(AUDIT_FORMAT_VERSION));
	json_object_set_new(line, "ts", json_string(ts));
	json_object_set_new(line, "event", json_string(event));
	json_object_update(line, fields);
	json_decref(fields);
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
	                            JSON_REAL_PRECISION(6));
	json_decref(line);
	if (!text || audit_append(a, text, strlen(text)) < 0) {
		a->dropped++;
		free(text);
		return;
	}
	free(text);
	a->written++;
	if (!ev_is_active(&a->writable))
		audit_flush(a);
}

uint64_t audit_lines_written(const struct audit *a)
{
	return a->written;
}

uint64_t audit_lines_dropped(const struct audit *a)
{
	return a->dropped;
}
