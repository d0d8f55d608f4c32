/*
 * Transfer codings as libcurl 7.88 undoes them (lib/content_encoding.c):
 * a stack of decoders built from Transfer-Encoding, the last coding named
 * undone first; gzip and deflate through zlib with libcurl's calls (so a
 * damaged stream fails where libcurl's fails, with its text), identity
 * passed through, an unknown coding failing at the first body byte.
 */
#include "exec_http_raw_decode.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vipd/errbuf.h"

/* libcurl's DECOMPRESS_BUFFER_SIZE: zlib writes its output in such pieces. */
#define RAW_INFLATE_OUT 16384

/* libcurl's zlibInitState. */
enum {
	RAW_Z_UNINIT,
	RAW_Z_INIT,
	RAW_Z_INFLATING,
	RAW_Z_EXTERNAL_TRAILER,
	RAW_Z_INIT_GZIP,
};

static enum raw_decode_step raw_decode_fail(struct raw_decode *d, int curl_code, const char *text)
{
	d->curl_code = curl_code;
	errbuf_set(d->error, sizeof(d->error), "%s", text);
	return RAW_DECODE_FAILED;
}

/* libcurl's process_zlib_error. */
static enum raw_decode_step raw_zlib_error(struct raw_decode *d, const z_stream *z)
{
	d->curl_code = CURLE_BAD_CONTENT_ENCODING;
	errbuf_set(d->error, sizeof(d->error), "Error while processing content unencoding: %s",
	           z->msg ? z->msg : "Unknown failure within decompression software.");
	return RAW_DECODE_FAILED;
}

/* libcurl's exit_zlib: ends the stream; `step` stands unless ending fails. */
static enum raw_decode_step raw_zlib_exit(struct raw_decode *d, struct raw_decoder *s,
                                          enum raw_decode_step step)
{
	if (s->zstate == RAW_Z_UNINIT)
		return step;
	s->zstate = RAW_Z_UNINIT;
	if (inflateEnd(&s->z) != Z_OK && step == RAW_DECODE_OK)
		return raw_zlib_error(d, &s->z);
	return step;
}

/* A write error without a text of its own: libcurl's error buffer stays
 * empty and its strerror speaks. */
static enum raw_decode_step raw_write_error(struct raw_decode *d, struct raw_decoder *s)
{
	raw_decode_fail(d, CURLE_WRITE_ERROR, "");
	return raw_zlib_exit(d, s, RAW_DECODE_FAILED);
}

/* libcurl's process_trailer: bytes past the end of the stream are an error,
 * but for the 4 a raw deflate stream may carry. */
static enum raw_decode_step raw_zlib_trailer(struct raw_decode *d, struct raw_decoder *s)
{
	z_stream *z = &s->z;
	uInt len = z->avail_in < s->trailer_left ? z->avail_in : s->trailer_left;

	s->trailer_left -= len;
	z->avail_in -= len;
	z->next_in += len;
	if (z->avail_in)
		return raw_write_error(d, s);
	if (!s->trailer_left)
		return raw_zlib_exit(d, s, RAW_DECODE_OK);
	s->zstate = RAW_Z_EXTERNAL_TRAILER;
	return RAW_DECODE_OK;
}

static enum raw_decode_step raw_decode_level(struct raw_decode *d, size_t level, const char *data,
                                             size_t len, raw_decode_out_fn out, void *arg);

/* libcurl's inflate_stream, for stage `level` (its output goes below). */
static enum raw_decode_step raw_inflate(struct raw_decode *d, size_t level, int started,
                                        raw_decode_out_fn out, void *arg)
{
	struct raw_decoder *s = &d->stage[level];
	z_stream *z = &s->z;
	uInt nread = z->avail_in;
	Bytef *orig_in = z->next_in;
	enum raw_decode_step step = RAW_DECODE_OK;
	bool done = false;
	int status;

	if (s->zstate != RAW_Z_INIT && s->zstate != RAW_Z_INFLATING && s->zstate != RAW_Z_INIT_GZIP)
		return raw_write_error(d, s);
	while (!done) {
		done = true;
		z->next_out = (Bytef *)s->out;
		z->avail_out = RAW_INFLATE_OUT;
		status = inflate(z, Z_BLOCK);
		if (z->avail_out != RAW_INFLATE_OUT && (status == Z_OK || status == Z_STREAM_END)) {
			s->zstate = started;
			step = raw_decode_level(d, level, s->out, RAW_INFLATE_OUT - z->avail_out,
			                        out, arg);
			if (step != RAW_DECODE_OK) {
				raw_zlib_exit(d, s, step);
				break;
			}
		}
		switch (status) {
		case Z_OK:
			done = false; /* zlib may hold more output */
			break;
		case Z_BUF_ERROR:
			break;
		case Z_STREAM_END:
			step = raw_zlib_trailer(d, s);
			break;
		case Z_DATA_ERROR:
			/* libcurl: some servers send deflate without its zlib
			 * header; retry the first bytes as raw deflate. */
			if (s->zstate == RAW_Z_INIT) {
				if (inflateReset2(z, -MAX_WBITS) == Z_OK) {
					z->next_in = orig_in;
					z->avail_in = nread;
					s->zstate = RAW_Z_INFLATING;
					s->trailer_left = 4;
					done = false;
					break;
				}
			}
			step = raw_zlib_exit(d, s, raw_zlib_error(d, z));
			break;
		default:
			step = raw_zlib_exit(d, s, raw_zlib_error(d, z));
			break;
		}
	}
	if (nread && s->zstate == RAW_Z_INIT)
		s->zstate = started; /* no restart as raw deflate past this */
	return step;
}

static enum raw_decode_step raw_zlib_write(struct raw_decode *d, size_t level, const char *data,
                                           size_t len, raw_decode_out_fn out, void *arg)
{
	struct raw_decoder *s = &d->stage[level];

	if (!s->out && !(s->out = malloc(RAW_INFLATE_OUT)))
		return raw_decode_fail(d, CURLE_OUT_OF_MEMORY, "Out of memory");
	s->z.next_in = (Bytef *)data;
	s->z.avail_in = (uInt)len;
	if (s->coding == RAW_CODING_GZIP)
		return s->zstate == RAW_Z_INIT_GZIP
		           ? raw_inflate(d, level, RAW_Z_INIT_GZIP, out, arg)
		           : raw_write_error(d, s);
	if (s->zstate == RAW_Z_EXTERNAL_TRAILER)
		return raw_zlib_trailer(d, s);
	return raw_inflate(d, level, RAW_Z_INFLATING, out, arg);
}

/* Bytes into the stage below `level` (level 0: out, the body itself). */
static enum raw_decode_step raw_decode_level(struct raw_decode *d, size_t level, const char *data,
                                             size_t len, raw_decode_out_fn out, void *arg)
{
	struct raw_decoder *s;

	if (!len)
		return RAW_DECODE_OK;
	if (!level)
		return out(arg, data, len) ? RAW_DECODE_OK : RAW_DECODE_STOPPED;
	s = &d->stage[level - 1];
	switch (s->coding) {
	case RAW_CODING_IDENTITY:
		return raw_decode_level(d, level - 1, data, len, out, arg);
	case RAW_CODING_DEFLATE:
	case RAW_CODING_GZIP:
		return raw_zlib_write(d, level - 1, data, len, out, arg);
	case RAW_CODING_UNKNOWN:
		break;
	}
	return raw_decode_fail(d, CURLE_BAD_CONTENT_ENCODING,
	                       "Unrecognized content encoding type. libcurl understands deflate, "
	                       "gzip, br, zstd content encodings.");
}

enum raw_decode_step raw_decode_write(struct raw_decode *d, const char *data, size_t len,
                                      raw_decode_out_fn out, void *arg)
{
	return raw_decode_level(d, d->depth, data, len, out, arg);
}

static bool raw_coding_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

static enum raw_coding raw_coding_of(const char *name, size_t len)
{
	if (raw_coding_is(name, len, "identity") || raw_coding_is(name, len, "none"))
		return RAW_CODING_IDENTITY;
	if (raw_coding_is(name, len, "deflate"))
		return RAW_CODING_DEFLATE;
	if (raw_coding_is(name, len, "gzip") || raw_coding_is(name, len, "x-gzip"))
		return RAW_CODING_GZIP;
	return RAW_CODING_UNKNOWN;
}

/* zlib is set up when the coding is stacked, as libcurl does. */
static int raw_decode_push(struct raw_decode *d, enum raw_coding coding)
{
	struct raw_decoder *s = &d->stage[d->depth];
	int rc = Z_OK;

	memset(s, 0, sizeof(*s));
	s->coding = coding;
	if (coding == RAW_CODING_DEFLATE)
		rc = inflateInit(&s->z);
	else if (coding == RAW_CODING_GZIP)
		rc = inflateInit2(&s->z, MAX_WBITS + 32);
	if (rc != Z_OK) {
		raw_zlib_error(d, &s->z);
		return -1;
	}
	s->zstate = coding == RAW_CODING_DEFLATE ? RAW_Z_INIT
	            : coding == RAW_CODING_GZIP  ? RAW_Z_INIT_GZIP
	                                         : RAW_Z_UNINIT;
	d->depth++;
	return 0;
}

static bool raw_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool raw_space(char c)
{
	return raw_blank(c) || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* libcurl's Curl_build_unencoding_stack for Transfer-Encoding: names split
 * at commas, blanks before and spaces after one dropped; "chunked" is the
 * reader's, the rest are stacked. */
int raw_decode_header(struct raw_decode *d, const char *value, size_t len, bool *chunked)
{
	const char *at = value, *end = value + len, *name;
	size_t namelen;

	while (at < end) {
		while (at < end && (raw_blank(*at) || *at == ','))
			at++;
		name = at;
		for (namelen = 0; at < end && *at != ','; at++)
			if (!raw_space(*at))
				namelen = (size_t)(at - name) + 1;
		if (raw_coding_is(name, namelen, "chunked")) {
			*chunked = true;
			continue;
		}
		if (!namelen)
			continue;
		if (d->depth >= RAW_DECODE_STACK_MAX) {
			raw_decode_fail(d, CURLE_BAD_CONTENT_ENCODING,
			                "Reject response due to more than 5 content encodings");
			return -1;
		}
		if (raw_decode_push(d, raw_coding_of(name, namelen)) < 0)
			return -1;
	}
	return 0;
}

void raw_decode_free(struct raw_decode *d)
{
	struct raw_decoder *s;

	while (d->depth) {
		s = &d->stage[--d->depth];
		if (s->zstate != RAW_Z_UNINIT)
			inflateEnd(&s->z);
		free(s->out);
		s->out = NULL;
		s->zstate = RAW_Z_UNINIT;
	}
}
