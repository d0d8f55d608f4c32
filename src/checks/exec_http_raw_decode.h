/*
 * Transfer codings of a response body (Transfer-Encoding: gzip, chunked) as
 * libcurl 7.88 undoes them, for the raw client's parser: the same stack of
 * decoders, the same zlib calls, CURLcodes and texts. No I/O.
 */
#ifndef VIPD_EXEC_HTTP_RAW_DECODE_H
#define VIPD_EXEC_HTTP_RAW_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include <zlib.h>

/* libcurl's MAX_ENCODE_STACK. */
#define RAW_DECODE_STACK_MAX 5
#define RAW_DECODE_ERROR_MAX 256

enum raw_coding {
	RAW_CODING_IDENTITY, /* "identity", "none" */
	RAW_CODING_DEFLATE,
	RAW_CODING_GZIP, /* "gzip", "x-gzip" */
	RAW_CODING_UNKNOWN,
};

enum raw_decode_step {
	RAW_DECODE_OK,
	RAW_DECODE_FAILED,  /* curl_code and error say why, as libcurl would */
	RAW_DECODE_STOPPED, /* the output callback asked to stop */
};

/* Decoded bytes as they come; false stops the transfer. */
typedef bool (*raw_decode_out_fn)(void *arg, const char *data, size_t len);

struct raw_decoder {
	enum raw_coding coding;
	int zstate;            /* libcurl's zlibInitState */
	unsigned trailer_left; /* raw deflate: trailer bytes tolerated */
	char *out;             /* zlib's output, allocated at the first byte */
	z_stream z;
};

struct raw_decode {
	size_t depth; /* decoders stacked; the last one named decodes first */
	struct raw_decoder stage[RAW_DECODE_STACK_MAX];
	int curl_code;
	char error[RAW_DECODE_ERROR_MAX];
};

/*
 * Stacks the codings of one Transfer-Encoding value (len bytes, not
 * NUL-terminated); *chunked is set when "chunked" is among them. -1 with
 * curl_code and error when the stack would pass libcurl's limit.
 */
int raw_decode_header(struct raw_decode *d, const char *value, size_t len, bool *chunked);
/* Body bytes through the stack (or straight to out when it is empty). */
enum raw_decode_step raw_decode_write(struct raw_decode *d, const char *data, size_t len,
                                      raw_decode_out_fn out, void *arg);
/* Releases every decoder; the stack is empty again. */
void raw_decode_free(struct raw_decode *d);

#endif
