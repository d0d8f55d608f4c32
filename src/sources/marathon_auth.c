/*
 * Marathon's credentials from vipd's settings: HTTP basic auth
 * (marathon.user with marathon.password_file) and the DC/OS token
 * (marathon.token_file). Owns the secrets it reads until
 * marathon_auth_free wipes them; they never go into a message. And
 * what a TLS failure says.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/marathon.h"

/* Secrets are short: a DC/OS token is about 1 KiB. */
#define SECRET_MAX 16384

static void secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* A secret file's first line, without its line end. */
static char *secret_read(const char *path, const char *setting, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = calloc(1, SECRET_MAX);

	if (!f || !buf) {
		errbuf_set(err, errlen, "%s: cannot read \"%s\": %s", setting, path,
		           f ? "out of memory" : strerror(errno));
		goto fail;
	}
	if (!fgets(buf, SECRET_MAX, f) || buf[strcspn(buf, "\r\n")] == buf[0]) {
		errbuf_set(err, errlen, "%s: \"%s\" is empty", setting, path);
		goto fail;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	fclose(f);
	return buf;
fail:
	if (f)
		fclose(f);
	secret_free(buf);
	return NULL;
}

static int userpwd_read(const struct vipd_config *cfg, struct marathon_auth *a, char *err,
                        size_t errlen)
{
	char *pw;
	int rc = 0;

	if (!cfg->marathon_user)
		return 0;
	if (!cfg->marathon_password_file) {
		errbuf_set(err, errlen, "/marathon/user: needs /marathon/password_file");
		return -1;
	}
	pw = secret_read(cfg->marathon_password_file, "/marathon/password_file", err, errlen);
	if (!pw)
		return -1;
	if (asprintf(&a->userpwd, "%s:%s", cfg->marathon_user, pw) < 0) {
		a->userpwd = NULL;
		errbuf_set(err, errlen, "out of memory");
		rc = -1;
	}
	secret_free(pw);
	return rc;
}

int marathon_auth_read(const struct vipd_config *cfg, struct marathon_auth *a, char *err,
                       size_t errlen)
{
	*a = (struct marathon_auth){.ca_file = cfg->marathon_ca_file};
	if (userpwd_read(cfg, a, err, errlen) < 0)
		return -1;
	if (cfg->marathon_token_file &&
	    !(a->token =
	          secret_read(cfg->marathon_token_file, "/marathon/token_file", err, errlen)))
		return -1;
	return 0;
}

/* curl's text for a refused certificate ("SSL peer certificate or SSH
 * remote key was not OK") does not say what is wrong; its error buffer does
 * ("SSL certificate problem: unable to get local issuer certificate", or the
 * name that does not match). Other failures keep curl's fixed texts. */
const char *marathon_curl_why(int curl_code, const char *errorbuffer)
{
	bool tls = curl_code == CURLE_PEER_FAILED_VERIFICATION ||
	           curl_code == CURLE_SSL_CONNECT_ERROR || curl_code == CURLE_SSL_CACERT_BADFILE ||
	           curl_code == CURLE_SSL_CERTPROBLEM;

	if (tls && errorbuffer && errorbuffer[0])
		return errorbuffer;
	return curl_easy_strerror((CURLcode)curl_code);
}

void marathon_auth_free(struct marathon_auth *a)
{
	secret_free(a->userpwd);
	secret_free(a->token);
	*a = (struct marathon_auth){0};
}
