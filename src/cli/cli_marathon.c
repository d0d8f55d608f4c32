/*
 * vipctl reading what a live Marathon declares: one blocking GET of
 * /v2/apps?embed=apps.tasks per master in turn (a command may block; the
 * daemon reads it on its loop instead), with the credentials of -c's
 * marathon.* settings, into the same app parser as a file.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vipd/apps.h"
#include "vipd/marathon.h"
#include "vipd/vec.h"

#define FETCH_TIMEOUT_MS 10000L
#define CONNECT_TIMEOUT_MS 5000L

struct body {
	char *data;
	size_t len, cap;
	int too_large;
};

/* CURLOPT_WRITEFUNCTION: bounded like an apps file. */
static size_t body_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct body *b = userp;
	size_t n = size * nmemb;

	if (b->len + n > (size_t)APPS_MAX_FILE_BYTES) {
		b->too_large = 1;
		return 0;
	}
	if (VEC_RESERVE(b->data, b->cap, b->len + n + 1) < 0)
		return 0;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static CURLcode fetch_setup(CURL *easy, const char *url, const struct marathon_auth *auth,
                            struct curl_slist *headers, struct body *b)
{
	CURLcode rc = curl_easy_setopt(easy, CURLOPT_URL, url);

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(easy, opt, val);                                     \
	} while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, FETCH_TIMEOUT_MS);
	SET(CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	/* Marathon's standby masters answer with a redirect to the leader. */
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, 5L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_USERAGENT, "vipctl/" VIPD_VERSION);
	SET(CURLOPT_WRITEFUNCTION, body_write);
	SET(CURLOPT_WRITEDATA, b);
	if (auth->userpwd)
		SET(CURLOPT_USERPWD, auth->userpwd);
	if (auth->ca_file)
		SET(CURLOPT_CAINFO, auth->ca_file);
	if (headers)
		SET(CURLOPT_HTTPHEADER, headers);
#undef SET
	return rc;
}

/* One master's state into *b; -1 with why (no credentials in it). */
static int fetch_one(const struct marathon_master *m, const struct marathon_auth *auth,
                     struct curl_slist *headers, struct body *b, char *why, size_t whylen)
{
	CURL *easy = curl_easy_init();
	char *url = NULL, curl_error[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;
	int ret = -1;

	if (!easy || asprintf(&url, "%s%s", m->url, MARATHON_STATE_PATH) < 0) {
		url = NULL;
		errbuf_set(why, whylen, "out of memory");
		goto out;
	}
	rc = fetch_setup(easy, url, auth, headers, b);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, curl_error);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(easy);
	if (rc != CURLE_OK) {
		errbuf_set(why, whylen, "%s",
		           b->too_large ? "answer too large" : marathon_curl_why(rc, curl_error));
		goto out;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		errbuf_set(why, whylen, "HTTP %ld", code);
		goto out;
	}
	ret = 0;
out:
	free(url);
	curl_easy_cleanup(easy);
	return ret;
}

/* The first master that answers is read. Those that do not are warnings
 * when another answered (Marathon's standbys may be down), else errors,
 * each located at its master. */
static void fetch_masters(struct apps_set *set, const struct marathon_master *masters, size_t n,
                          const struct marathon_auth *auth, struct curl_slist *headers)
{
	char(*why)[512] = calloc(n, sizeof(*why));
	char origin[512];
	size_t tried;
	enum diag_severity sev = DIAG_ERROR;

	if (!why) {
		diag_add(&set->diags, DIAG_ERROR, "marathon", "", "out of memory");
		return;
	}
	for (tried = 0; tried < n; tried++) {
		struct body b = {0};

		if (fetch_one(&masters[tried], auth, headers, &b, why[tried], sizeof(*why)) == 0) {
			snprintf(origin, sizeof(origin), "marathon %s %s", masters[tried].shown,
			         MARATHON_STATE_PATH);
			apps_load_buffer(set, origin, b.data ? b.data : "", b.len);
			free(b.data);
			sev = DIAG_WARNING;
			break;
		}
		free(b.data);
	}
	for (size_t i = 0; i < tried && i < n; i++) {
		snprintf(origin, sizeof(origin), "marathon %s %s", masters[i].shown,
		         MARATHON_STATE_PATH);
		diag_add(&set->diags, sev, origin, "", "%s", why[i]);
	}
	free(why);
}

void cli_marathon_load(const struct vipd_config *cfg, struct apps_set *set, const char *urls)
{
	struct marathon_master *masters = NULL;
	struct marathon_auth auth;
	struct curl_slist *headers = NULL;
	char err[512], *line = NULL;
	size_t n = 0;

	if (marathon_auth_read(cfg, &auth, err, sizeof(err)) < 0 ||
	    marathon_masters_parse(urls, &masters, &n, err, sizeof(err)) < 0) {
		diag_add(&set->diags, DIAG_ERROR, "marathon", "", "%s", err);
		goto out;
	}
	if (auth.token) {
		if (asprintf(&line, "Authorization: token=%s", auth.token) < 0 ||
		    !(headers = curl_slist_append(NULL, line))) {
			diag_add(&set->diags, DIAG_ERROR, "marathon", "", "out of memory");
			goto out;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		diag_add(&set->diags, DIAG_ERROR, "marathon", "", "curl_global_init failed");
		goto out;
	}
	fetch_masters(set, masters, n, &auth, headers);
	curl_global_cleanup();
out:
	if (line) {
		explicit_bzero(line, strlen(line));
		free(line);
	}
	curl_slist_free_all(headers);
	marathon_masters_free(masters, n);
	marathon_auth_free(&auth);
}
