/*
 * Audit lines go to a queue of whole lines first; the queue is written with
 * non-blocking writes, so a slow reader, a vanished reader or a full disk
 * never stalls the checks or the dataplane, and a line is never split.
 * Its troubles (a full disk, a reader gone, lines shed) are logged here: they
 * arise in the loop's callbacks, where no caller waits for an answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vipd/audit.h"
#include "vipd/errbuf.h"
#include "vipd/log.h"
#include "vipd/vec.h"

struct audit {
	struct ev_loop *loop;
	char *path; /* NULL for stdout */
	int fd;
	bool owns_fd;
	/* A regular file keeps every line while memory allows; a pipe or
	 * terminal whose reader is gone sheds them. */
	bool regular;
	bool broken;        /* reader gone: lines are dropped until a reopen */
	bool mid_line;      /* the first queued line is partly written */
	size_t partial;     /* and this many of its bytes are */
	bool reopen_wanted; /* SIGUSR1: switch files at the next line boundary */
	/* The queue was full: lines are shed until half of it is written, so a
	 * reader that keeps up barely does not get a loss notice every other line. */
	bool shedding;
	int write_errno; /* why the destination is not taking lines, or 0 */
	ev_io writable;
	ev_timer retry;
	char *buf;
	size_t head, len, cap; /* queued bytes are buf[head, len) */
	uint64_t seq, written, dropped;
	uint64_t unreported; /* dropped lines not yet said in the log */
	char first_lost_ts[32];
	char lost_reason[96];
	int stdout_flags; /* restored at close: the shell shares them */
};

static const char *audit_name(const struct audit *a)
{
	return a->path ? a->path : "(stdout)";
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

static void note_dropped(struct audit *a, uint64_t lines, const char *reason)
{
	if (lines == 0)
		return;
	if (a->unreported == 0) {
		format_ts(a->first_lost_ts, sizeof(a->first_lost_ts));
		log_warnx("audit log %s: dropping lines (%s); the loss is counted and logged",
		          audit_name(a), reason);
	}
	a->dropped += lines;
	a->unreported += lines;
	snprintf(a->lost_reason, sizeof(a->lost_reason), "%s", reason);
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t lines = 0;

	for (size_t i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines;
}

/* The reader of a pipe or terminal is gone (EPIPE, a hung-up tty): what is
 * queued can never be delivered. */
static void audit_mark_broken(struct audit *a, int err)
{
	log_warnx("audit log %s: %s; lines are dropped until it is reopened (SIGUSR1)",
	          audit_name(a), strerror(err));
	a->broken = true;
	note_dropped(a, count_lines(a->buf + a->head, a->len - a->head), "reader gone");
	a->head = a->len = 0;
	a->mid_line = false;
	a->partial = 0;
}

static int open_fd(const char *path, bool *regular, char *err, size_t errlen)
{
	struct stat st;
	/* O_NONBLOCK: opening a FIFO without a reader fails with ENXIO at once
	 * instead of hanging start-up. */
	int fd =
	    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);

	if (fd < 0 && errno == ENXIO) {
		errbuf_set(
		    err, errlen,
		    "cannot open audit log %s: it is a FIFO with no reader; start the reader "
		    "first",
		    path);
		return -1;
	}
	if (fd < 0) {
		errbuf_set(err, errlen, "cannot open audit log %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		errbuf_set(err, errlen, "cannot stat audit log %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	*regular = S_ISREG(st.st_mode);
	if (*regular && audit_lock(fd, path, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Called only at a line boundary, so the old file ends with a whole line. */
static void audit_switch(struct audit *a)
{
	char err[512];
	bool regular;
	int fd;

	a->reopen_wanted = false;
	fd = open_fd(a->path, &regular, err, sizeof(err));
	if (fd < 0) {
		log_warnx("%s; still writing to the old file", err);
		return;
	}
	if (ev_is_active(&a->writable))
		ev_io_stop(a->loop, &a->writable);
	if (a->owns_fd)
		close(a->fd);
	a->fd = fd;
	a->regular = regular;
	a->broken = false;
	a->write_errno = 0;
	ev_io_set(&a->writable, fd, EV_WRITE);
	log_info("audit log %s reopened", a->path);
}

static void audit_advance(struct audit *a, size_t n)
{
	const char *nl = memrchr(a->buf + a->head, '\n', n);

	a->partial = nl ? (size_t)(a->buf + a->head + n - nl - 1) : a->partial + n;
	a->head += n;
	a->mid_line = a->partial > 0;
}

enum write_result { WRITE_DONE, WRITE_AGAIN, WRITE_FAILED };

static void audit_recovered(struct audit *a)
{
	log_warnx("audit log %s: writing again", audit_name(a));
	a->write_errno = 0;
}

static enum write_result audit_write_queue(struct audit *a)
{
	for (;;) {
		ssize_t n;

		if (a->reopen_wanted && !a->mid_line)
			audit_switch(a);
		if (a->head == a->len || a->broken)
			break;
		n = write(a->fd, a->buf + a->head, a->len - a->head);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return WRITE_AGAIN;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			if (!a->regular) {
				audit_mark_broken(a, err);
				return WRITE_DONE;
			}
			/* A full disk (ENOSPC, EDQUOT, EFBIG, EIO): keep every line,
			 * including the rest of one cut short, and try again. */
			if (a->write_errno != err)
				log_warnx(
				    "audit log %s: %s; keeping lines in memory (up to %u MiB) and "
				    "retrying",
				    audit_name(a), strerror(err),
				    (unsigned)(AUDIT_BUFFER_MAX >> 20));
			a->write_errno = err;
			return WRITE_FAILED;
		}
		if (a->write_errno)
			audit_recovered(a);
		audit_advance(a, (size_t)n);
	}
	a->head = a->len = 0;
	return WRITE_DONE;
}

static void audit_flush(struct audit *a)
{
	enum write_result r = audit_write_queue(a);

	if (r == WRITE_AGAIN) {
		if (!ev_is_active(&a->writable))
			ev_io_start(a->loop, &a->writable);
	} else if (ev_is_active(&a->writable)) {
		ev_io_stop(a->loop, &a->writable);
	}
	if (r == WRITE_FAILED) {
		if (!ev_is_active(&a->retry))
			ev_timer_again(a->loop, &a->retry);
	} else if (ev_is_active(&a->retry)) {
		ev_timer_stop(a->loop, &a->retry);
	}
}

/* ev_io callback: the pipe or terminal can take more. */
static void audit_on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	audit_flush(w->data);
}

/* ev_timer callback: try a refusing file again. */
static void audit_on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	ev_timer_stop(loop, w);
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
		struct stat st;

		a->fd = STDOUT_FILENO;
		a->regular = fstat(a->fd, &st) == 0 && S_ISREG(st.st_mode);
		/* Stdout is shared with whoever started us: non-blocking only when a
		 * reader can stall it. */
		flags = fcntl(a->fd, F_GETFL);
		a->stdout_flags = flags;
		if (!a->regular && flags >= 0 && fcntl(a->fd, F_SETFL, flags | O_NONBLOCK) < 0)
			log_warn("audit log (stdout): cannot make it non-blocking");
	} else {
		a->path = strdup(path);
		if (!a->path) {
			errbuf_set(err, errlen, "out of memory");
			free(a);
			return NULL;
		}
		a->fd = open_fd(path, &a->regular, err, errlen);
		if (a->fd < 0) {
			free(a->path);
			free(a);
			return NULL;
		}
		a->owns_fd = true;
	}
	ev_io_init(&a->writable, audit_on_writable, a->fd, EV_WRITE);
	ev_init(&a->retry, audit_on_retry);
	a->retry.repeat = AUDIT_RETRY_S;
	a->writable.data = a->retry.data = a;
	return a;
}

void audit_reopen(struct audit *a)
{
	if (!a || !a->path)
		return;
	a->reopen_wanted = true;
	audit_flush(a);
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A regular file must not end in half a line that will never be finished:
 * take its written part back off. */
static void audit_cut_partial(struct audit *a)
{
	struct stat st;

	if (!a->regular || !a->mid_line || fstat(a->fd, &st) < 0 || st.st_size < (off_t)a->partial)
		return;
	if (ftruncate(a->fd, st.st_size - (off_t)a->partial) < 0)
		log_warn("audit log %s: cannot remove a partly written last line", audit_name(a));
}

/* At stop the loop no longer runs: wait for the fd ourselves, bounded. */
static void audit_drain(struct audit *a, double wait_s)
{
	double deadline = mono_now() + wait_s;

	for (;;) {
		enum write_result r = audit_write_queue(a);
		double left = deadline - mono_now();
		struct pollfd p = {.fd = a->fd, .events = POLLOUT};

		if (r == WRITE_DONE || left <= 0)
			break;
		if (r == WRITE_FAILED)
			poll(NULL, 0, left < 0.1 ? (int)(left * 1000) + 1 : 100);
		else
			poll(&p, 1, (int)(left * 1000) + 1);
	}
	if (a->head < a->len) {
		uint64_t lost = count_lines(a->buf + a->head, a->len - a->head);

		a->dropped += lost;
		audit_cut_partial(a);
		log_warnx(
		    "audit log %s: the last %llu lines (up to seq %llu) not written at stop (%s)",
		    audit_name(a), (unsigned long long)lost, (unsigned long long)a->seq,
		    a->write_errno ? strerror(a->write_errno) : "the reader is not reading");
	}
	if (a->unreported)
		log_warnx("audit log %s: %llu lines were lost in all", audit_name(a),
		          (unsigned long long)a->dropped);
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (ev_is_active(&a->writable))
		ev_io_stop(a->loop, &a->writable);
	if (ev_is_active(&a->retry))
		ev_timer_stop(a->loop, &a->retry);
	a->reopen_wanted = false;
	audit_drain(a, AUDIT_STOP_WAIT_S);
	if (a->owns_fd)
		close(a->fd);
	else if (a->stdout_flags >= 0)
		(void)fcntl(a->fd, F_SETFL, a->stdout_flags);
	free(a->path);
	free(a->buf);
	free(a);
}

static int audit_reserve(struct audit *a, size_t n)
{
	size_t need;

	if (a->len - a->head + n > AUDIT_BUFFER_MAX)
		return -1;
	if (a->head > 0 && a->len + n > a->cap) {
		memmove(a->buf, a->buf + a->head, a->len - a->head);
		a->len -= a->head;
		a->head = 0;
	}
	need = a->len + n;
	return VEC_RESERVE(a->buf, a->cap, need);
}

static char *audit_format(struct audit *a, const char *event, json_t *fields)
{
	char ts[64];
	json_t *line = json_object();
	char *text;

	if (!line) {
		json_decref(fields);
		return NULL;
	}
	format_ts(ts, sizeof(ts));
	json_object_set_new(line, "v", json_integer(AUDIT_FORMAT_VERSION));
	json_object_set_new(line, "ts", json_string(ts));
	json_object_set_new(line, "seq", json_integer((json_int_t)++a->seq));
	json_object_set_new(line, "event", json_string(event));
	json_object_update(line, fields);
	json_decref(fields);
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
	                            JSON_REAL_PRECISION(6));
	json_decref(line);
	return text;
}

static int audit_queue(struct audit *a, char *text)
{
	size_t n = strlen(text);

	if (a->shedding && a->len - a->head <= AUDIT_BUFFER_MAX / 2)
		a->shedding = false;
	if (a->broken || a->shedding || audit_reserve(a, n + 1) < 0) {
		a->shedding = !a->broken;
		free(text);
		return -1;
	}
	memcpy(a->buf + a->len, text, n);
	a->buf[a->len + n] = '\n';
	a->len += n + 1;
	free(text);
	return 0;
}

/* The next line that can be written says how many were lost before it. */
static void audit_report_loss(struct audit *a)
{
	json_t *o = json_pack("{s:I, s:s, s:s}", "lines", (json_int_t)a->unreported, "since",
	                      a->first_lost_ts, "reason", a->lost_reason);
	char *text;

	if (!o)
		return;
	text = audit_format(a, "audit_lost", o);
	if (!text)
		return;
	if (audit_queue(a, text) < 0) {
		a->seq--; /* not written: its number goes to the next line */
		return;
	}
	log_warnx("audit log %s: writing lines again; %llu were lost since %s", audit_name(a),
	          (unsigned long long)a->unreported, a->first_lost_ts);
	a->written++;
	a->unreported = 0;
}

void audit_emit(struct audit *a, const char *event, json_t *fields)
{
	char *text;

	if (!a || !fields) {
		json_decref(fields);
		return;
	}
	if (a->unreported && !a->broken)
		audit_report_loss(a);
	text = audit_format(a, event, fields);
	if (!text) {
		note_dropped(a, 1, "out of memory");
		return;
	}
	if (audit_queue(a, text) < 0) {
		char reason[96];

		if (a->broken)
			snprintf(reason, sizeof(reason), "reader gone");
		else if (a->write_errno)
			snprintf(reason, sizeof(reason), "%s, memory queue full",
			         strerror(a->write_errno));
		else
			snprintf(reason, sizeof(reason), "reader too slow, memory queue full");
		note_dropped(a, 1, reason);
		return;
	}
	a->written++;
	if (!ev_is_active(&a->writable) && !ev_is_active(&a->retry))
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
