/*
 * The Server-Sent Events parser: lines ended by CRLF, LF or CR, fields
 * split at the first ':', events dispatched at a blank line, as in the
 * WHATWG HTML standard's "event stream interpretation". Owns its buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "vipd/sse.h"
#include "vipd/vec.h"

static const char BOM[] = "\xEF\xBB\xBF";

static int buf_reserve(struct sse_buf *b, size_t more)
{
	return VEC_RESERVE(b->p, b->cap, b->len + more + 1);
}

static int buf_append(struct sse_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int buf_set(struct sse_buf *b, const char *s, size_t n)
{
	b->len = 0;
	return buf_append(b, s, n);
}

static void buf_free(struct sse_buf *b)
{
	free(b->p);
	*b = (struct sse_buf){0};
}

void sse_init(struct sse_parser *p, size_t max_bytes, sse_event_fn on_event, void *arg)
{
	*p = (struct sse_parser){
	    .on_event = on_event,
	    .arg = arg,
	    .max_bytes = max_bytes ? max_bytes : SSE_DEFAULT_MAX_BYTES,
	    .line = 1,
	    .at_stream_start = 1,
	    .retry_ms = -1,
	};
}

long sse_retry_ms(const struct sse_parser *p)
{
	return p->retry_ms;
}

static void event_clear(struct sse_parser *p)
{
	p->data.len = 0;
	p->type.len = 0;
}

void sse_reset(struct sse_parser *p)
{
	event_clear(p);
	p->cur.len = 0;
	p->line = 1;
	p->after_cr = 0;
	p->skip_line = 0;
	p->skip_event = 0;
	p->at_stream_start = 1;
}

void sse_free(struct sse_parser *p)
{
	buf_free(&p->cur);
	buf_free(&p->data);
	buf_free(&p->type);
	buf_free(&p->id);
	buf_free(&p->last_id);
}

/* Records the first problem of a feed; the rest of the event is dropped so
 * that no event is delivered with a line missing. */
static void discard_event(struct sse_parser *p, int *rc, char *err, size_t errlen, const char *what)
{
	if (*rc == 0)
		errbuf_set(err, errlen, "line %lu: %s, event skipped", p->line, what);
	*rc = -1;
	event_clear(p);
	p->skip_event = 1;
}

/* The standard's "dispatch the event" at a blank line. */
static int dispatch(struct sse_parser *p)
{
	struct sse_event ev;

	if (buf_set(&p->last_id, p->id.p ? p->id.p : "", p->id.len) < 0)
		return -1;
	if (p->data.len == 0) {
		event_clear(p);
		return 0;
	}
	/* Each data: line appended a '\n'; the last one is not part of the data. */
	p->data.p[--p->data.len] = '\0';
	ev.type = p->type.len ? p->type.p : "message";
	ev.data = p->data.p;
	ev.data_len = p->data.len;
	ev.id = p->last_id.p;
	p->on_event(p->arg, &ev);
	event_clear(p);
	return 0;
}

/* retry: only when the value is all ASCII digits; others are ignored. */
static void field_retry(struct sse_parser *p, const char *v, size_t n)
{
	long ms = 0;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return;
		if (ms > (__LONG_MAX__ - 9) / 10)
			return;
		ms = ms * 10 + (v[i] - '0');
	}
	p->retry_ms = ms;
}

static int field_apply(struct sse_parser *p, const char *name, size_t nlen, const char *v,
                       size_t vlen, int *rc, char *err, size_t errlen)
{
	if (nlen == 5 && memcmp(name, "event", 5) == 0)
		return buf_set(&p->type, v, vlen);
	if (nlen == 4 && memcmp(name, "data", 4) == 0) {
		if (p->data.len + vlen + 1 > p->max_bytes) {
			discard_event(p, rc, err, errlen, "event data over the size limit");
			return 0;
		}
		if (buf_append(&p->data, v, vlen) < 0)
			return -1;
		return buf_append(&p->data, "\n", 1);
	}
	/* An id containing NUL is ignored, so it cannot be cut short. */
	if (nlen == 2 && memcmp(name, "id", 2) == 0 && !memchr(v, '\0', vlen))
		return buf_set(&p->id, v, vlen);
	if (nlen == 5 && memcmp(name, "retry", 5) == 0)
		field_retry(p, v, vlen);
	return 0;
}

static int line_process(struct sse_parser *p, int *rc, char *err, size_t errlen)
{
	const char *s = p->cur.p ? p->cur.p : "";
	size_t n = p->cur.len;
	const char *colon;
	size_t nlen;

	/* One U+FEFF at the very start of the stream is not part of it. */
	if (p->at_stream_start && n >= 3 && memcmp(s, BOM, 3) == 0) {
		s += 3;
		n -= 3;
	}
	p->at_stream_start = 0;
	if (n == 0) {
		if (p->skip_event) {
			p->skip_event = 0;
			event_clear(p);
			return 0;
		}
		return dispatch(p);
	}
	if (p->skip_event || s[0] == ':')
		return 0;
	colon = memchr(s, ':', n);
	if (!colon)
		return field_apply(p, s, n, "", 0, rc, err, errlen);
	nlen = (size_t)(colon - s);
	colon++;
	if (colon < s + n && *colon == ' ')
		colon++;
	return field_apply(p, s, nlen, colon, (size_t)(s + n - colon), rc, err, errlen);
}

static void line_skip(struct sse_parser *p, int *rc, char *err, size_t errlen, const char *why)
{
	p->cur.len = 0;
	p->skip_line = 1;
	p->at_stream_start = 0;
	discard_event(p, rc, err, errlen, why);
}

/* Appends bytes of the current line, switching to skipping past the bound. */
static void line_append(struct sse_parser *p, const char *s, size_t n, int *rc, char *err,
                        size_t errlen)
{
	if (p->skip_line)
		return;
	if (p->cur.len + n > p->max_bytes)
		line_skip(p, rc, err, errlen, "line over the size limit");
	else if (buf_append(&p->cur, s, n) < 0)
		line_skip(p, rc, err, errlen, "out of memory");
}

static void line_end(struct sse_parser *p, int *rc, char *err, size_t errlen)
{
	if (!p->skip_line && line_process(p, rc, err, errlen) < 0)
		discard_event(p, rc, err, errlen, "out of memory");
	p->skip_line = 0;
	p->cur.len = 0;
	p->line++;
}

int sse_feed(struct sse_parser *p, const char *buf, size_t len, char *err, size_t errlen)
{
	size_t i = 0, start;
	int rc = 0;

	while (i < len) {
		if (p->after_cr) {
			p->after_cr = 0;
			if (buf[i] == '\n') {
				i++;
				continue;
			}
		}
		start = i;
		while (i < len && buf[i] != '\r' && buf[i] != '\n')
			i++;
		line_append(p, buf + start, i - start, &rc, err, errlen);
		if (i == len)
			break;
		p->after_cr = buf[i] == '\r';
		i++;
		line_end(p, &rc, err, errlen);
	}
	return rc;
}
