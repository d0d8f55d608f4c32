/*
 * Marathon's rules for an HTTP health check's answer, applied once for both
 * HTTP clients (exec_http.c and exec_http_raw.c): status classes, the lone
 * 1xx, the body regex, CURLcodes to outcomes, and the audit text.
 */
#include "exec_int.h"

#include <curl/curl.h>
#include <stdio.h>

#include "vipd/errbuf.h"

enum check_outcome http_curl_outcome(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_OPERATION_TIMEDOUT:
		return CHECK_FAIL_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return CHECK_FAIL_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return CHECK_FAIL_TLS;
	case CURLE_FAILED_INIT:
		return CHECK_FAIL_INTERNAL;
	case CURLE_OUT_OF_MEMORY:
		/* libcurl 7.88's answer to a status or header line of 100 KiB
		 * (its header buffer's cap), for which curl exits 27: the
		 * backend's failure, not ours. */
	default:
		return CHECK_FAIL_PROTOCOL;
	}
}

pcre2_code *http_body_regex_compile(const char *pattern, char *err, size_t errlen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE offset;
	pcre2_code *re;
	int code;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &offset, NULL);
	if (re)
		return re;
	pcre2_get_error_message(code, msg, sizeof(msg));
	errbuf_set(err, errlen, "body regex \"%s\" at offset %zu: %s", pattern, (size_t)offset,
	           (char *)msg);
	return NULL;
}

int http_body_regex_check(const char *pattern, char *err, size_t errlen)
{
	pcre2_code *re = http_body_regex_compile(pattern, err, errlen);

	if (!re)
		return -1;
	pcre2_code_free(re);
	return 0;
}

static bool http_status_1xx(long status)
{
	return status >= 100 && status <= 199;
}

/* A complete answer, or curl -f stopping at a status >= 400 (libcurl's 22
 * comes once every header is in): the status decides. */
static bool http_judged_by_status(const struct http_answer *a)
{
	return a->curl_code == CURLE_OK ||
	       (a->curl_code == CURLE_HTTP_RETURNED_ERROR && a->status >= 400);
}

static bool http_body_matches(const struct http_answer *a)
{
	pcre2_match_data *md;
	int rc;

	md = pcre2_match_data_create_from_pattern(a->body_regex, NULL);
	if (!md)
		return false;
	rc = pcre2_match(a->body_regex, (PCRE2_SPTR)(a->body ? a->body : ""), a->body_len, 0, 0, md,
	                 NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* The audit log shows the head of the body after the prefix; kept
 * printable, cut at the text's size. */
static void http_excerpt(const struct http_answer *a, const char *prefix, char *text,
                         size_t textlen)
{
	size_t len, i;

	len = (size_t)snprintf(text, textlen, "%s", prefix);
	if (len >= textlen - 1 || !a->body_len)
		return;
	text[len++] = ' ';
	for (i = 0; i < a->body_len && len < textlen - 1; i++) {
		unsigned char ch = (unsigned char)a->body[i];

		text[len++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
	}
	text[len] = '\0';
}

/* Marathon: 200-399 healthy; 1xx ignored under ignoreHttp1xx; else unhealthy. */
static enum check_outcome http_judge_status(const struct http_answer *a, char *text, size_t textlen)
{
	enum check_outcome o = CHECK_FAIL_HTTP_STATUS;
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "HTTP %ld", a->status);
	if (a->status >= 200 && a->status <= 399) {
		o = CHECK_OK;
		if (a->body_regex && !http_body_matches(a)) {
			o = CHECK_FAIL_BODY;
			snprintf(prefix, sizeof(prefix),
			         "HTTP %ld, body does not match:", a->status);
		}
	} else if (http_status_1xx(a->status) && a->ignore_http1xx) {
		o = CHECK_IGNORED;
	}
	http_excerpt(a, prefix, text, textlen);
	return o;
}

enum check_outcome http_verdict(const struct http_answer *a, char *text, size_t textlen)
{
	const char *why =
	    a->error && a->error[0] ? a->error : curl_easy_strerror((CURLcode)a->curl_code);

	if (!text || !textlen)
		return CHECK_FAIL_INTERNAL;
	if (http_judged_by_status(a))
		return http_judge_status(a, text, textlen);
	/* Only a 1xx came, then the connection ended or timed out (curl waits
	 * for a final status after a 1xx): Marathon judges the 1xx. */
	if (http_status_1xx(a->status)) {
		snprintf(text, textlen, "HTTP %ld, then %s", a->status,
		         curl_easy_strerror((CURLcode)a->curl_code));
		return a->ignore_http1xx ? CHECK_IGNORED : CHECK_FAIL_HTTP_STATUS;
	}
	snprintf(text, textlen, "%s", why);
	return http_curl_outcome(a->curl_code);
}
