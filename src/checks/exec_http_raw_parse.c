/*
 * HTTP/1.x responses as libcurl 7.88 reads them for a status check: status
 * lines, the headers that delimit the body, Content-Length, chunked and
 * close-delimited bodies, 1xx responses before the final one. Errors carry
 * libcurl's CURLcode and text, so the raw path reports what libcurl would.
 */
#include "exec_http_raw_parse.h"

#include <ctype.h>
#include <stddef.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vipd/errbuf.h"

/* Of a status line too long for the buffer: "HTTP/1.1 200 " and more. */
#define RAW_STATUS_HEAD 64

static enum raw_resp_step raw_resp_fail(struct raw_resp *p, int curl_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum raw_resp_step raw_resp_fail(struct raw_resp *p, int curl_code, const char *fmt, ...)
{
	va_list ap;

	p->curl_code = curl_code;
	va_start(ap, fmt);
	errbuf_vset(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	return RAW_RESP_FAILED;
}

static enum raw_resp_step raw_resp_done(struct raw_resp *p)
{
	p->curl_code = CURLE_OK;
	return RAW_RESP_DONE;
}

void raw_resp_init(struct raw_resp *p, bool head_only, bool fail_on_error, raw_resp_body_fn on_body,
                   void *arg)
{
	memset(p, 0, offsetof(struct raw_resp, in));
	p->state = RAW_RESP_STATUS;
	p->head_only = head_only;
	p->fail_on_error = fail_on_error;
	p->on_body = on_body;
	p->arg = arg;
	p->curl_code = -1;
}

char *raw_resp_space(struct raw_resp *p, size_t *room)
{
	*room = sizeof(p->in) - p->in_len;
	return p->in + p->in_len;
}

/* libcurl's status-line rules (7.88): "HTTP/1.0", "HTTP/1.1" or HTTP/2
 * spelled either way, one space, exactly three digits. */
static enum raw_resp_step raw_resp_status_line(struct raw_resp *p, const char *line, size_t len)
{
	const char *s = line + 5, *end = line + len;
	int version;

	if (end - s >= 4 && isdigit((unsigned char)s[0]) && s[1] == '.' &&
	    isdigit((unsigned char)s[2]) && s[3] == ' ') {
		version = (s[0] - '0') * 10 + (s[2] - '0');
		s += 4;
	} else if (end - s >= 2 && isdigit((unsigned char)s[0]) && s[1] == ' ') {
		version = (s[0] - '0') * 10;
		s += 2;
	} else {
		return raw_resp_fail(p, CURLE_UNSUPPORTED_PROTOCOL,
		                     "Unsupported HTTP version in response");
	}
	if (version != 10 && version != 11 && version != 20)
		return raw_resp_fail(p, CURLE_UNSUPPORTED_PROTOCOL,
		                     "Unsupported HTTP version (%d.%d) in response", version / 10,
		                     version % 10);
	if (end - s < 3 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || (end - s > 3 && !isspace((unsigned char)s[3])))
		return raw_resp_fail(p, CURLE_UNSUPPORTED_PROTOCOL,
		                     "Unsupported response code in HTTP response");
	p->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	p->final_status = p->status < 100 || p->status > 199;
	p->chunked = false;
	p->has_length = false;
	p->state = RAW_RESP_HEADERS;
	return RAW_RESP_MORE;
}

static bool raw_resp_header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	*value = line + n + 1;
	return true;
}

/* Content-Length as libcurl 7.88 reads it (curlx_strtoofft): blanks, an
 * optional '+', decimal digits, anything after them ignored. A value past
 * INT64_MAX is not an error there: the length stays unknown and the body
 * ends at close. */
static enum raw_resp_step raw_resp_content_length(struct raw_resp *p, const char *v,
                                                  const char *end)
{
	unsigned long long n = 0;
	unsigned digit;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	if (v < end && *v == '+')
		v++;
	if (v == end || !isdigit((unsigned char)*v))
		return raw_resp_fail(p, CURLE_WEIRD_SERVER_REPLY, "Invalid Content-Length: value");
	for (; v < end && isdigit((unsigned char)*v); v++) {
		digit = (unsigned)(*v - '0');
		if (n > ((unsigned long long)INT64_MAX - digit) / 10)
			return RAW_RESP_MORE;
		n = n * 10 + digit;
	}
	p->has_length = true;
	p->body_length = n;
	return RAW_RESP_MORE;
}

/* Only the headers that delimit the body matter to a status check. */
static enum raw_resp_step raw_resp_header(struct raw_resp *p, const char *line, size_t len)
{
	const char *v, *end = line + len;

	if (raw_resp_header_is(line, len, "Transfer-Encoding", &v)) {
		if (raw_decode_header(&p->decode, v, (size_t)(end - v), &p->chunked) < 0)
			return raw_resp_fail(p, p->decode.curl_code, "%s", p->decode.error);
		return RAW_RESP_MORE;
	}
	if (raw_resp_header_is(line, len, "Content-Length", &v))
		return raw_resp_content_length(p, v, end);
	return RAW_RESP_MORE;
}

/* The empty line: a 1xx is followed by another response (RFC 9110 15.2, as
 * libcurl reads it); a final one picks how its body is delimited. libcurl
 * applies CURLOPT_FAILONERROR here, once it has every header. */
static enum raw_resp_step raw_resp_end_of_headers(struct raw_resp *p)
{
	if (!p->final_status) {
		p->state = RAW_RESP_STATUS;
		return RAW_RESP_MORE;
	}
	if (p->fail_on_error && p->status >= 400) {
		p->curl_code = CURLE_HTTP_RETURNED_ERROR;
		errbuf_set(p->error, sizeof(p->error), "The requested URL returned error: %ld",
		           p->status);
		return RAW_RESP_DONE;
	}
	if (p->head_only || p->status == 204 || p->status == 304 ||
	    (p->has_length && !p->chunked && !p->body_length))
		return raw_resp_done(p);
	if (p->chunked) {
		p->state = RAW_RESP_CHUNK_SIZE;
	} else if (p->has_length) {
		p->body_left = p->body_length;
		p->state = RAW_RESP_BODY_LENGTH;
	} else {
		p->state = RAW_RESP_BODY_EOF;
	}
	return RAW_RESP_MORE;
}

static enum raw_resp_step raw_resp_chunk_size(struct raw_resp *p, const char *line, size_t len)
{
	unsigned long long n = 0;
	size_t i;

	for (i = 0; i < len && isxdigit((unsigned char)line[i]); i++) {
		if (n >> 60)
			goto bad;
		n = n * 16 + (unsigned long long)(isdigit((unsigned char)line[i])
		                                      ? line[i] - '0'
		                                      : tolower((unsigned char)line[i]) - 'a' + 10);
	}
	if (!i || (i < len && line[i] != ';' && line[i] != ' ' && line[i] != '\t'))
		goto bad;
	p->body_left = n;
	p->state = n ? RAW_RESP_CHUNK_DATA : RAW_RESP_TRAILERS;
	return RAW_RESP_MORE;
bad:
	return raw_resp_fail(p, CURLE_RECV_ERROR,
	                     "Illegal or missing hexadecimal sequence in chunked-encoding");
}

/* One complete line (CR stripped) in a line state. */
static enum raw_resp_step raw_resp_line(struct raw_resp *p, const char *line, size_t len)
{
	switch (p->state) {
	case RAW_RESP_STATUS:
		return raw_resp_status_line(p, line, len);
	case RAW_RESP_HEADERS:
		return len ? raw_resp_header(p, line, len) : raw_resp_end_of_headers(p);
	case RAW_RESP_CHUNK_SIZE:
		return raw_resp_chunk_size(p, line, len);
	case RAW_RESP_CHUNK_END:
		if (len)
			return raw_resp_fail(p, CURLE_RECV_ERROR,
			                     "Malformed encoding found in chunked-encoding");
		p->state = RAW_RESP_CHUNK_SIZE;
		return RAW_RESP_MORE;
	case RAW_RESP_TRAILERS:
		return len ? RAW_RESP_MORE : raw_resp_done(p);
	default:
		return RAW_RESP_MORE;
	}
}

static bool raw_resp_in_head(const struct raw_resp *p)
{
	return p->state == RAW_RESP_STATUS || p->state == RAW_RESP_HEADERS;
}

/* libcurl's size limits on the head, for a status or header line of
 * `len` bytes (its newline included, once it has come). */
static enum raw_resp_step raw_resp_head_limits(struct raw_resp *p, size_t len, bool complete)
{
	if (!raw_resp_in_head(p))
		return RAW_RESP_MORE;
	if (len >= RAW_RESP_LINE_MAX)
		return raw_resp_fail(p, CURLE_OUT_OF_MEMORY, "Out of memory");
	if (!complete)
		return RAW_RESP_MORE;
	p->header_bytes += len;
	if (p->header_bytes > RAW_RESP_HEADERS_MAX)
		return raw_resp_fail(p, CURLE_RECV_ERROR, "Too large response headers: %zu > %zu",
		                     p->header_bytes, RAW_RESP_HEADERS_MAX);
	return RAW_RESP_MORE;
}

static bool raw_resp_in_line_state(const struct raw_resp *p)
{
	return p->state == RAW_RESP_STATUS || p->state == RAW_RESP_HEADERS ||
	       p->state == RAW_RESP_CHUNK_SIZE || p->state == RAW_RESP_CHUNK_END ||
	       p->state == RAW_RESP_TRAILERS;
}

/* Body bytes at the head of `data`; *used says how many were taken. */
static enum raw_resp_step raw_resp_body(struct raw_resp *p, const char *data, size_t avail,
                                        size_t *used)
{
	size_t n = avail;

	if (p->state != RAW_RESP_BODY_EOF && p->body_left < n)
		n = (size_t)p->body_left;
	*used = n;
	p->body_seen += n;
	switch (raw_decode_write(&p->decode, data, n, p->on_body, p->arg)) {
	case RAW_DECODE_OK:
		break;
	case RAW_DECODE_FAILED:
		/* libcurl's chunked reader names a decoder's error that has no
		 * text of its own (the first text stands). */
		if (!p->decode.error[0] && p->state == RAW_RESP_CHUNK_DATA)
			return raw_resp_fail(p, p->decode.curl_code,
			                     "Failed reading the chunked-encoded stream");
		return raw_resp_fail(p, p->decode.curl_code, "%s", p->decode.error);
	case RAW_DECODE_STOPPED:
		return RAW_RESP_STOPPED;
	}
	if (p->state == RAW_RESP_BODY_EOF)
		return RAW_RESP_MORE;
	p->body_left -= n;
	if (p->body_left)
		return RAW_RESP_MORE;
	if (p->state == RAW_RESP_CHUNK_DATA) {
		p->state = RAW_RESP_CHUNK_END;
		return RAW_RESP_MORE;
	}
	return raw_resp_done(p);
}

/* The next line or body piece at in + *off. */
static enum raw_resp_step raw_resp_step_at(struct raw_resp *p, size_t *off, bool *need_more)
{
	const char *at = p->in + *off, *nl;
	size_t avail = p->in_len - *off, len, used;
	enum raw_resp_step step;

	if (!raw_resp_in_line_state(p)) {
		step = raw_resp_body(p, at, avail, &used);
		*off += used;
		return step;
	}
	/* libcurl gives up on a first line that cannot be a status line as
	 * soon as it sees five bytes, without waiting for its end. */
	if (p->state == RAW_RESP_STATUS && strncmp(at, "HTTP/", avail < 5 ? avail : 5) != 0)
		return raw_resp_fail(p, CURLE_UNSUPPORTED_PROTOCOL,
		                     "Received HTTP/0.9 when not allowed");
	nl = memchr(at, '\n', avail);
	if (!nl) {
		*need_more = true;
		return RAW_RESP_MORE;
	}
	len = (size_t)(nl - at);
	*off += len + 1;
	step = raw_resp_head_limits(p, p->line_dropped + len + 1, true);
	p->line_dropped = 0;
	if (step != RAW_RESP_MORE)
		return step;
	if (p->skipping_line) {
		p->skipping_line = false;
		return RAW_RESP_MORE;
	}
	if (len && at[len - 1] == '\r')
		len--;
	return raw_resp_line(p, at, len);
}

/* A line fills the buffer. A status line keeps its head, all that is read of
 * it (curl takes one of any length up to RAW_RESP_LINE_MAX); a header line
 * longer than the buffer says nothing we read and is skipped. */
static enum raw_resp_step raw_resp_drop_line(struct raw_resp *p)
{
	size_t keep = p->state == RAW_RESP_STATUS ? RAW_STATUS_HEAD : 0;

	if (p->state != RAW_RESP_STATUS && p->state != RAW_RESP_HEADERS &&
	    p->state != RAW_RESP_TRAILERS)
		return raw_resp_fail(p, CURLE_WEIRD_SERVER_REPLY, "Response line too long");
	p->line_dropped += p->in_len - keep;
	p->in_len = keep;
	p->skipping_line = p->state != RAW_RESP_STATUS;
	return raw_resp_head_limits(p, p->line_dropped + p->in_len, false);
}

enum raw_resp_step raw_resp_feed(struct raw_resp *p, size_t n)
{
	enum raw_resp_step step = RAW_RESP_MORE;
	bool need_more = false;
	size_t off = 0;

	p->in_len += n;
	while (off < p->in_len && !need_more) {
		step = raw_resp_step_at(p, &off, &need_more);
		if (step != RAW_RESP_MORE)
			return step;
	}
	memmove(p->in, p->in + off, p->in_len - off);
	p->in_len -= off;
	if (p->in_len < sizeof(p->in))
		return raw_resp_head_limits(p, p->line_dropped + p->in_len, false);
	return raw_resp_drop_line(p);
}

enum raw_resp_step raw_resp_eof(struct raw_resp *p)
{
	switch (p->state) {
	case RAW_RESP_BODY_EOF:
		return raw_resp_done(p);
	case RAW_RESP_BODY_LENGTH:
		return raw_resp_fail(p, CURLE_PARTIAL_FILE,
		                     "transfer closed with %llu bytes remaining to read",
		                     p->body_left);
	case RAW_RESP_CHUNK_SIZE:
	case RAW_RESP_CHUNK_DATA:
	case RAW_RESP_CHUNK_END:
	case RAW_RESP_TRAILERS:
		return raw_resp_fail(p, CURLE_PARTIAL_FILE,
		                     "transfer closed with outstanding read data remaining");
	default:
		return raw_resp_fail(p, CURLE_GOT_NOTHING, "Empty reply from server");
	}
}

void raw_resp_free(struct raw_resp *p)
{
	raw_decode_free(&p->decode);
}
