/*
 * An incremental parser of Server-Sent Events (text/event-stream, the
 * WHATWG "event stream interpretation" rules): fed byte chunks cut anywhere,
 * it calls back once per dispatched event. Pure: no I/O, no clock.
 */
#ifndef VIPD_SSE_H
#define VIPD_SSE_H

#include <stddef.h>

#include "vipd/errbuf.h"

/* Marathon writes each event's JSON on one data: line; a deployment plan of
 * a large group runs to a few MiB. */
#define SSE_DEFAULT_MAX_BYTES ((size_t)8 * 1024 * 1024)

struct sse_event {
	const char *type; /* the event: field, "message" when there was none */
	const char *data; /* data: lines joined with '\n', NUL-terminated */
	size_t data_len;  /* may contain NUL bytes: use this, not strlen */
	const char *id;   /* the last event ID so far, "" when none */
};

typedef void (*sse_event_fn)(void *arg, const struct sse_event *ev);

struct sse_buf {
	char *p;
	size_t len, cap;
};

struct sse_parser {
	sse_event_fn on_event;
	void *arg;
	size_t max_bytes;       /* bound on one line and on one event's data */
	unsigned long line;     /* number of the line being read, from 1 */
	int after_cr;           /* the last byte ended a line with '\r' */
	int skip_line;          /* discarding the rest of an overlong line */
	int skip_event;         /* discarding lines up to the next blank one */
	int at_stream_start;    /* the current line is the stream's first (BOM) */
	long retry_ms;          /* the last retry: field, -1 when none */
	struct sse_buf cur;     /* the line being read */
	struct sse_buf data;    /* data buffer */
	struct sse_buf type;    /* event type buffer */
	struct sse_buf id;      /* "last event ID buffer": set by id: */
	struct sse_buf last_id; /* "last event ID string": set at dispatch */
};

/* max_bytes 0 means SSE_DEFAULT_MAX_BYTES. */
void sse_init(struct sse_parser *p, size_t max_bytes, sse_event_fn on_event, void *arg);

/* Parses len more bytes of the stream, calling on_event for each complete
 * event. Returns 0, or -1 when part of the stream had to be discarded (a
 * line or an event over max_bytes, out of memory): err says where (the
 * first such problem of this chunk); the parser has resynchronised on the
 * next event and parses later chunks normally. */
VIPD_MUST_CHECK int sse_feed(struct sse_parser *p, const char *buf, size_t len, char *err,
                             size_t errlen);

/* The reconnection time the stream asked for (retry:), -1 when none. */
long sse_retry_ms(const struct sse_parser *p);

/* Starts a new stream (after a reconnect): a pending event is dropped, as
 * at the end of a stream; the last event ID and retry are kept. */
void sse_reset(struct sse_parser *p);

void sse_free(struct sse_parser *p);

#endif
