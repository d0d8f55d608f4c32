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
/* Lines waiting for a slow reader beyond this are dropped and counted. */
#define AUDIT_BUFFER_MAX (8u * 1024 * 1024)

struct audit;

/* `path` "-" is stdout; otherwise a file opened for appending. NULL and err
 * when it cannot be opened. */
struct audit *audit_open(struct ev_loop *loop, const char *path, char *err,
                         size_t errlen) VIPD_MUST_CHECK;
/* Writes what is buffered (blocking, at shutdown) and closes. */
void audit_close(struct audit *a);

/* Adds "v", "ts" (UTC, milliseconds) and "event" to `fields`, writes the line,
 * and takes the reference to `fields`. */
void audit_emit(struct audit *a, const char *event, json_t *fields);

uint64_t audit_lines_written(const struct audit *a);
uint64_t audit_lines_dropped(const struct audit *a);

#endif
