/*
 * vipctl doctor's cluster store check: each of cluster.endpoints asked for
 * etcd's /version with the config's TLS settings, and, when cluster.auth is
 * set, the user authenticated, as vipd will do at start. One finding per
 * endpoint. vipctl may block here: a short timeout bounds each request.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

#define CLUSTER_CONNECT_TIMEOUT_MS 2000L
#define CLUSTER_TIMEOUT_MS 3000L
#define CLUSTER_BODY_MAX 4096

struct body {
	char buf[CLUSTER_BODY_MAX];
	size_t len;
};

/* CURLOPT_WRITEFUNCTION: keeps the start of the answer, enough for /version. */
static size_t body_write(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n, room = sizeof(b->buf) - 1 - b->len;

	memcpy(b->buf + b->len, p, len < room ? len : room);
	b->len += len < room ? len : room;
	b->buf[b->len] = '\0';
	return len;
}

/* An easy handle for url with the config's TLS settings; NULL out of memory. */
static CURL *cluster_handle(const struct vipd_config *cfg, const char *url, struct body *b)
{
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	b->len = 0;
	b->buf[0] = '\0';
	if (curl_easy_setopt(e, CURLOPT_URL, url) || curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CLUSTER_CONNECT_TIMEOUT_MS) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, CLUSTER_TIMEOUT_MS) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_write) ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, b) ||
	    (cfg->cluster_cacert && curl_easy_setopt(e, CURLOPT_CAINFO, cfg->cluster_cacert)) ||
	    (cfg->cluster_cert && curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cluster_cert)) ||
	    (cfg->cluster_key && curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->cluster_key))) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

/* The fix for a transfer that failed with rc. */
static const char *transfer_fix(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return "check \"cluster.tls\" (cacert, cert, key) against the etcd server's "
		       "certificates";
	default:
		return "start etcd there, or correct \"cluster.endpoints\" in vipd's config";
	}
}

/* 0 and the answer in b, or -1 with a finding added. post NULL: a GET. */
static int cluster_request(struct doctor *d, const char *endpoint, const char *path,
                           const char *post, struct body *b)
{
	char url[1024];
	CURL *e;
	CURLcode rc;
	long status = 0;

	(void)snprintf(url, sizeof(url), "%s%s", endpoint, path);
	e = cluster_handle(d->cfg, url, b);
	if (e == NULL || (post && curl_easy_setopt(e, CURLOPT_POSTFIELDS, post))) {
		doctor_add(d, DOCTOR_FAIL, "cluster", "retry", "etcd %s: out of memory", endpoint);
		curl_easy_cleanup(e);
		return -1;
	}
	rc = curl_easy_perform(e);
	if (rc == CURLE_OK)
		(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	if (rc != CURLE_OK) {
		doctor_add(d, DOCTOR_FAIL, "cluster", transfer_fix(rc), "etcd %s unreachable: %s",
		           endpoint, curl_easy_strerror(rc));
		return -1;
	}
	if (status != 200 && post == NULL) {
		doctor_add(d, DOCTOR_FAIL, "cluster",
		           "check that \"cluster.endpoints\" names etcd's client URLs",
		           "etcd %s answered HTTP %ld to %s", endpoint, status, path);
		return -1;
	}
	if (status != 200) {
		doctor_add(d, DOCTOR_FAIL, "cluster",
		           "check \"cluster.auth\" (etcdctl user get shows the user)",
		           "etcd %s refused user %s: HTTP %ld", endpoint, d->cfg->cluster_user,
		           status);
		return -1;
	}
	return 0;
}

/* The user and password as /v3/auth/authenticate takes them; NULL out of memory. */
static char *auth_body(const struct vipd_config *cfg)
{
	json_t *o = json_pack("{s:s, s:s}", "name", cfg->cluster_user, "password",
	                      cfg->cluster_password ? cfg->cluster_password : "");
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static void check_endpoint(struct doctor *d, const char *endpoint)
{
	struct body b;
	json_t *v;
	const char *server = NULL;
	char *auth;

	if (cluster_request(d, endpoint, "/version", NULL, &b) < 0)
		return;
	v = json_loads(b.buf, 0, NULL);
	if (v == NULL || json_unpack(v, "{s:s}", "etcdserver", &server) < 0) {
		doctor_add(d, DOCTOR_FAIL, "cluster",
		           "check that \"cluster.endpoints\" names etcd's client URLs",
		           "%s answered /version without etcd's {\"etcdserver\": ...}", endpoint);
		json_decref(v);
		return;
	}
	if (d->cfg->cluster_user != NULL) {
		auth = auth_body(d->cfg);
		if (auth == NULL ||
		    cluster_request(d, endpoint, "/v3/auth/authenticate", auth, &b) < 0) {
			if (auth == NULL)
				doctor_add(d, DOCTOR_FAIL, "cluster", "retry",
				           "etcd %s: out of memory", endpoint);
			free(auth);
			json_decref(v);
			return;
		}
		free(auth);
	}
	doctor_add(d, DOCTOR_OK, "cluster", NULL, "etcd %s reachable: etcd %s%s%s", endpoint,
	           server, d->cfg->cluster_user ? ", authenticated as " : "",
	           d->cfg->cluster_user ? d->cfg->cluster_user : "");
	json_decref(v);
}

void doctor_check_cluster(struct doctor *d)
{
	char *copy, *save = NULL;

	if (d->cfg->cluster_endpoints == NULL)
		return;
	copy = strdup(d->cfg->cluster_endpoints);
	if (copy == NULL) {
		doctor_add(d, DOCTOR_FAIL, "cluster", "retry", "out of memory");
		return;
	}
	for (char *url = strtok_r(copy, ", ", &save); url; url = strtok_r(NULL, ", ", &save))
		check_endpoint(d, url);
	free(copy);
}
