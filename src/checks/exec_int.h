/*
 * Private to the executor files of src/checks/: what both HTTP clients
 * (exec_http.c on libcurl, exec_http_raw.c on its own socket) share.
 */
#ifndef VIPD_EXEC_INT_H
#define VIPD_EXEC_INT_H

#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "vipd/check_result.h"

/* What one HTTP transfer gave, whichever client ran it. */
struct http_answer {
	int curl_code; /* the transfer's CURLcode (the raw client gives libcurl's) */
	long status;   /* of the last status line; 0 when none came */
	/* The transfer's own error text (libcurl's error buffer); NULL or ""
	 * gives curl_easy_strerror(curl_code). */
	const char *error;
	const char *body; /* the kept head of the body; may be NULL when body_len is 0 */
	size_t body_len;
	const pcre2_code *body_regex; /* NULL = no body check */
	bool ignore_http1xx;          /* Marathon's ignoreHttp1xx */
};

/*
 * Marathon's verdict on one HTTP answer, the one rule both clients apply:
 * a final status 200-399 is healthy (and must match the body regex when
 * there is one), a lone 1xx is ignored under ignoreHttp1xx and unhealthy
 * otherwise, any other status is unhealthy; a transfer that failed before a
 * status decides is judged by its CURLcode. Writes the audit text (the
 * status and a printable head of the body, or the error) into text.
 */
enum check_outcome http_verdict(const struct http_answer *a, char *text, size_t textlen);

/* The outcome of a transfer that failed with this CURLcode. */
enum check_outcome http_curl_outcome(int curl_code);

#endif
