/*
 * The audit log: one JSON object per line for every health transition,
 * weight change and kernel operation, written without blocking the loop.
 * The line format is a contract (docs/audit-log.md), versioned by "v".
 */
#ifndef VIPD_AUDIT_H
#define VIPD_AUDIT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "vipd/errbuf.h"

#define AUDIT_FORMAT_VERSION 1
/* Lines waiting for a slow reader or a full disk beyond this are dropped,
 * counted, and said in the next line that can be written. */
#define AUDIT_BUFFER_MAX ((size_t)8 * 1024 * 1024)
/* A destination that cannot take lines is tried again this often. */
#define AUDIT_RETRY_S 1.0
/* At stop, lines still waiting get this long to be written. */
#define AUDIT_STOP_WAIT_S 2.0
/* Text fields (a check's output) are at most this many bytes of UTF-8. */
#define AUDIT_TEXT_MAX 511

struct audit;

/* `path` "-" is stdout; otherwise a file opened for appending and locked
 * (flock) against a second vipd, or a FIFO that must already have a reader.
 * NULL and err when it cannot be opened. */
struct audit *audit_open(struct ev_loop *loop, const char *path, char *err,
                         size_t errlen) VIPD_MUST_CHECK;
/* Writes what is waiting for at most AUDIT_STOP_WAIT_S, counts and reports
 * on stderr what could not be written, and closes. */
void audit_close(struct audit *a);
/* Reopens the path (after logrotate moved the file away) once the line being
 * written is complete; later lines go to the new file. A failure is logged
 * and the old file kept. */
void audit_reopen(struct audit *a);

/* Adds "v", "ts" (UTC, milliseconds), "seq" and "event" to `fields`, queues
 * the line, and takes the reference to `fields`. */
void audit_emit(struct audit *a, const char *event, json_t *fields);

uint64_t audit_lines_written(const struct audit *a);
uint64_t audit_lines_dropped(const struct audit *a);

/* A JSON string of `s` made valid UTF-8: each invalid byte becomes U+FFFD,
 * a sequence cut at the end is left out, and the result is cut on a
 * character boundary at AUDIT_TEXT_MAX bytes. Never NULL unless out of
 * memory. */
json_t *audit_text(const char *s);
/* The same into `out` (at most outcap - 1 bytes and a NUL); returns the
 * length written. */
size_t audit_utf8_sanitize(const char *s, char *out, size_t outcap);

/* Takes an exclusive flock on fd (the audit log at `path`); -1 and err naming
 * the process that holds it when another does. */
int audit_lock(int fd, const char *path, char *err, size_t errlen);

#endif
