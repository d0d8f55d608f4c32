/*
 * The response side of exec_http_raw.c: an HTTP/1.x response parser with
 * libcurl 7.88's acceptance rules, CURLcodes and error texts, over bytes the
 * caller receives. No I/O; body bytes go to a callback.
 */
#ifndef VIPD_EXEC_HTTP_RAW_PARSE_H
#define VIPD_EXEC_HTTP_RAW_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "exec_http_raw_decode.h"

/* Response bytes buffered at once; a longer status line keeps its head,
 * a longer header line is skipped. */
#define RAW_RESP_IN_MAX 4096
/* libcurl 7.88's limits (CURL_MAX_HTTP_HEADER, and Debian's backport of
 * MAX_HTTP_RESP_HEADER_SIZE): one status or header line, CRLF included, must
 * be shorter than the first; all of a request's, 1xx responses included,
 * may add up to the second. */
#define RAW_RESP_LINE_MAX ((size_t)100 * 1024)
#define RAW_RESP_HEADERS_MAX ((size_t)300 * 1024)
#define RAW_RESP_ERROR_MAX 256

enum raw_resp_state {
	RAW_RESP_STATUS,      /* waiting for a status line (first, or after a 1xx) */
	RAW_RESP_HEADERS,     /* header lines of that response */
	RAW_RESP_BODY_LENGTH, /* Content-Length bytes */
	RAW_RESP_BODY_EOF,    /* neither length nor chunked: the body ends at close */
	RAW_RESP_CHUNK_SIZE,
	RAW_RESP_CHUNK_DATA,
	RAW_RESP_CHUNK_END, /* the CRLF after a chunk's data */
	RAW_RESP_TRAILERS,  /* after the last chunk, until an empty line */
};

enum raw_resp_step {
	RAW_RESP_MORE,    /* the response goes on */
	RAW_RESP_DONE,    /* complete: curl_code is CURLE_OK, or 22 under fail_on_error */
	RAW_RESP_FAILED,  /* curl_code and error say why, as libcurl would */
	RAW_RESP_STOPPED, /* the body callback asked to stop */
};

/* Body bytes as they arrive, codings undone; returns false to stop the
 * transfer. */
typedef bool (*raw_resp_body_fn)(void *arg, const char *data, size_t len);

struct raw_resp {
	enum raw_resp_state state;
	bool head_only;      /* the request was HEAD: no body follows the headers */
	bool fail_on_error;  /* curl -f: a final status >= 400 ends it with 22 */
	bool final_status;   /* a non-1xx status line came */
	bool chunked;        /* of the response being read */
	bool has_length;     /* of the response being read */
	bool skipping_line;  /* discarding a header line longer than the buffer */
	size_t line_dropped; /* bytes of the current line no longer in the buffer */
	size_t header_bytes; /* status and header lines so far, for RAW_RESP_HEADERS_MAX */
	long status;         /* of the last status line; 0 before one */
	int curl_code;
	unsigned long long body_left; /* Content-Length or chunk bytes still due */
	unsigned long long body_length;
	size_t body_seen; /* all body bytes received, before Transfer-Encoding is undone */
	size_t in_len;
	raw_resp_body_fn on_body;
	void *arg;
	struct raw_decode decode; /* Transfer-Encoding's codings but chunked */
	char error[RAW_RESP_ERROR_MAX];
	char in[RAW_RESP_IN_MAX];
};

void raw_resp_init(struct raw_resp *p, bool head_only, bool fail_on_error, raw_resp_body_fn on_body,
                   void *arg);
/* Where the next received bytes go, and how many fit (never 0). */
char *raw_resp_space(struct raw_resp *p, size_t *room);
/* n bytes were written at raw_resp_space(). */
enum raw_resp_step raw_resp_feed(struct raw_resp *p, size_t n);
/* The server closed the connection. */
enum raw_resp_step raw_resp_eof(struct raw_resp *p);
/* Releases the decoders of the body's codings. */
void raw_resp_free(struct raw_resp *p);

#endif
