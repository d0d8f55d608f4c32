/*
 * HTTP and HTTPS checks with Marathon's rules, on libcurl's multi interface
 * driven by the libev loop (after curl's evhiperfifo.c): one ev_io per curl
 * socket, one ev_timer for curl's timeouts, finished transfers collected and
 * freed in one place. Also gives the raw status and capped body to callers
 * that must reproduce the curl tool's output.
 */
#include "vipd/exec.h"
#include "vipd/errbuf.h"
#include "exec_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VIPD_VERSION
#define VIPD_VERSION "dev"
#endif

/* Body bytes kept for the output excerpt when nothing else reads the body. */
#define HTTP_EXCERPT_MAX CHECK_OUTPUT_MAX

struct http_run {
	struct exec_run base;
	CURL *easy;        /* in ctx->curl.multi while set */
	pcre2_code *regex; /* NULL = no body check */
	char *netns;       /* copy of the request's, for the socket hook */
	bool ignore_http1xx;
	bool connect_only; /* a TCP check of a name: resolve, connect, done */
	bool netns_failed; /* the socket hook could not enter the namespace */
	bool keep_body;    /* a regex or the caller reads it: else an excerpt only */
	int curl_code;
	char *body; /* the first body_keep bytes */
	size_t body_len;
	size_t body_seen; /* all body bytes received */
	char curl_error[CURL_ERROR_SIZE];
	char netns_error[256];
};

static void http_check_multi_info(struct exec_ctx *ctx);

static void http_after(void *arg)
{
	http_check_multi_info(arg);
}

int exec_http_init(struct exec_ctx *ctx, char *err, size_t errlen)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errbuf_set(err, errlen, "curl_global_init failed");
		return -1;
	}
	if (curlev_init(&ctx->curl, ctx->loop, http_after, ctx, err, errlen) < 0) {
		curl_global_cleanup();
		return -1;
	}
	return 0;
}

void exec_http_cleanup(struct exec_ctx *ctx)
{
	if (!ctx->curl.multi)
		return;
	curlev_close(&ctx->curl);
	curl_global_cleanup();
}

/* CURLOPT_OPENSOCKETFUNCTION: the task's namespace, and O_CLOEXEC always. */
static curl_socket_t http_open_socket(void *clientp, curlsocktype purpose,
                                      struct curl_sockaddr *addr)
{
	struct http_run *h = clientp;
	int fd;

	(void)purpose;
	fd = exec_netns_socket(h->base.ctx, h->netns, addr->family, addr->socktype, addr->protocol,
	                       h->netns_error, sizeof(h->netns_error));
	if (fd < 0) {
		h->netns_failed = h->netns != NULL;
		return CURL_SOCKET_BAD;
	}
	return fd;
}

/* CURLOPT_WRITEFUNCTION: keep the head of the body and read the rest, as
 * `curl -o /dev/null` does: a large status page is no failure. */
static size_t http_write_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_run *h = userp;
	struct exec_ctx *ctx = h->base.ctx;
	size_t n = size * nmemb, keep;
	size_t cap = h->keep_body ? ctx->body_keep : HTTP_EXCERPT_MAX;

	h->body_seen += n;
	if (h->body_len < cap) {
		keep = cap - h->body_len;
		if (keep > n)
			keep = n;
		if (!h->body) {
			h->body = malloc(cap);
			if (!h->body)
				return 0;
		}
		memcpy(h->body + h->body_len, data, keep);
		h->body_len += keep;
	}
	return n;
}

static void http_judge(struct http_run *h, CURLcode rc)
{
	struct check_result *r = &h->base.result;
	struct http_answer a;

	h->curl_code = (int)rc;
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &r->http_status);
	if (h->netns_failed) {
		r->outcome = CHECK_FAIL_NETNS;
		exec_run_set_output(&h->base, "%s", h->netns_error);
		return;
	}
	if (h->connect_only && rc == CURLE_OK) {
		r->outcome = CHECK_OK;
		return;
	}
	a = (struct http_answer){.curl_code = (int)rc,
	                         .status = r->http_status,
	                         .error = h->curl_error,
	                         .body = h->body,
	                         .body_len = h->body_len,
	                         .body_regex = h->regex,
	                         .ignore_http1xx = h->ignore_http1xx};
	r->outcome = http_verdict(&a, r->output, sizeof(r->output));
}

/* Finished transfers, judged and freed here only (exec_run_finish ->
 * http_release). */
static void http_check_multi_info(struct exec_ctx *ctx)
{
	struct http_run *h;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(ctx->curl.multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h) !=
		        CURLE_OK ||
		    !h)
			continue;
		http_judge(h, msg->data.result);
		exec_run_finish(&h->base);
	}
}

static void http_release(struct exec_run *run)
{
	struct http_run *h = (struct http_run *)run;

	if (h->easy) {
		curl_multi_remove_handle(run->ctx->curl.multi, h->easy);
		curl_easy_cleanup(h->easy);
		h->easy = NULL;
	}
	if (h->regex) {
		pcre2_code_free(h->regex);
		h->regex = NULL;
	}
	free(h->netns);
	h->netns = NULL;
}

static void http_free_extra(struct exec_run *run)
{
	struct http_run *h = (struct http_run *)run;

	free(h->body);
	h->body = NULL;
}

static const void *http_body(const struct exec_run *run, size_t *len)
{
	const struct http_run *h = (const struct http_run *)run;

	if (len)
		*len = h->body_len;
	return h->body;
}

static size_t http_body_total(const struct exec_run *run)
{
	return ((const struct http_run *)run)->body_seen;
}

static int http_curl_code(const struct exec_run *run)
{
	return ((const struct http_run *)run)->curl_code;
}

static char *http_url(const struct exec_request *req)
{
	const char *path = req->path && req->path[0] ? req->path : "/";
	bool v6 = strchr(req->host, ':') && req->host[0] != '[';
	char *url;

	if (asprintf(&url, "%s://%s%s%s:%u%s%s", req->kind == EXEC_HTTPS ? "https" : "http",
	             v6 ? "[" : "", req->host, v6 ? "]" : "", req->port, path[0] == '/' ? "" : "/",
	             path) < 0)
		return NULL;
	return url;
}

static long http_timeout_ms(double timeout_s)
{
	double ms = timeout_s * 1000.0;

	return ms < 1.0 ? 1 : (long)(ms + 0.5);
}

static int http_setup_easy(struct http_run *h, const struct exec_request *req, const char *url)
{
	CURL *e = h->easy;
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(e, opt, val);                                        \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PRIVATE, h);
	SET(CURLOPT_ERRORBUFFER, h->curl_error);
	SET(CURLOPT_WRITEFUNCTION, http_write_body);
	SET(CURLOPT_WRITEDATA, h);
	SET(CURLOPT_OPENSOCKETFUNCTION, http_open_socket);
	SET(CURLOPT_OPENSOCKETDATA, h);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, http_timeout_ms(req->timeout_s));
	/* A new connection per check, as HAProxy does: a pooled connection
	 * would hide a backend that no longer accepts. */
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	/* Marathon counts 3xx as healthy and does not follow it. */
	SET(CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	SET(CURLOPT_MAXREDIRS, 50L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* Marathon does not verify the certificates of its checks. */
	SET(CURLOPT_SSL_VERIFYPEER, req->verify_tls ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, req->verify_tls ? 2L : 0L);
	/* Backends are reached directly, whatever *_proxy the daemon inherited. */
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_USERAGENT, req->user_agent ? req->user_agent : "vipd/" VIPD_VERSION);
	SET(CURLOPT_NOBODY, req->head_only ? 1L : 0L);
	SET(CURLOPT_FAILONERROR, req->fail_on_error ? 1L : 0L);
	SET(CURLOPT_CONNECT_ONLY, h->connect_only ? 1L : 0L);
	SET(CURLOPT_IPRESOLVE, req->ip_version == 4   ? CURL_IPRESOLVE_V4
	                       : req->ip_version == 6 ? CURL_IPRESOLVE_V6
	                                              : CURL_IPRESOLVE_WHATEVER);
	if (req->connect_timeout_s > 0)
		SET(CURLOPT_CONNECTTIMEOUT_MS, http_timeout_ms(req->connect_timeout_s));
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

/* Also a TCP check of a name: libcurl resolves it and connects only. */
static int http_launch(struct exec_run **out, struct exec_ctx *ctx, const struct exec_request *req,
                       exec_done_cb cb, void *arg, char *err, size_t errlen)
{
	struct http_run *h;
	char *url = NULL;

	if (!req->url && (!req->host || !req->port || req->port > 65535)) {
		errbuf_set(err, errlen, "%s check needs a host and a port 1-65535",
		           exec_kind_name(req->kind));
		return -1;
	}
	h = (struct http_run *)exec_run_new(ctx, &exec_http_ops, sizeof(*h), req, cb, arg);
	if (!h) {
		errbuf_set(err, errlen, "%s run: %s", exec_kind_name(req->kind), strerror(ENOMEM));
		return -1;
	}
	h->ignore_http1xx = req->ignore_http1xx;
	h->connect_only = req->kind == EXEC_TCP;
	h->curl_code = -1;
	if (req->body_regex && !(h->regex = http_body_regex_compile(req->body_regex, err, errlen)))
		goto fail;
	/* Marathon's checks look at the status only: they keep an excerpt for
	 * the output, not a 64 KiB buffer per check. */
	h->keep_body = req->body_regex || req->capture_body;
	if (req->netns && !(h->netns = strdup(req->netns)))
		goto fail_nomem;
	url = req->url ? strdup(req->url) : http_url(req);
	h->easy = curl_easy_init();
	if (!url || !h->easy)
		goto fail_nomem;
	if (http_setup_easy(h, req, url) < 0) {
		errbuf_set(err, errlen, "%s check: curl_easy_setopt failed",
		           exec_kind_name(req->kind));
		goto fail;
	}
	/* curl copied the URL. */
	free(url);
	url = NULL;
	if (curl_multi_add_handle(ctx->curl.multi, h->easy) != CURLM_OK) {
		curl_easy_cleanup(h->easy);
		h->easy = NULL;
		exec_run_finish_soon(&h->base, CHECK_FAIL_INTERNAL, "curl_multi_add_handle failed");
	}
	*out = &h->base;
	return 0;
fail_nomem:
	errbuf_set(err, errlen, "%s run: %s", exec_kind_name(req->kind), strerror(ENOMEM));
fail:
	free(url);
	if (h->easy) {
		curl_easy_cleanup(h->easy);
		h->easy = NULL;
	}
	exec_cancel(&h->base);
	return -1;
}

const struct exec_ops exec_http_ops = {
    .name = "http",
    .launch = http_launch,
    .release = http_release,
    .free_extra = http_free_extra,
    .body = http_body,
    .body_total = http_body_total,
    .curl_code = http_curl_code,
};
