/*
 * The list of Marathon masters a client is given: base URLs separated by
 * commas, each also kept without its credentials for messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon_int.h"
#include "vipd/errbuf.h"
#include "vipd/marathon.h"

bool marathon_is_source(const char *apps)
{
	return apps && (strncmp(apps, "http://", 7) == 0 || strncmp(apps, "https://", 8) == 0);
}

/* "http://user:secret@host:8080/" shown as "http://host:8080". */
static int master_add(struct marathon_master *m, const char *s, size_t n, char *err, size_t errlen)
{
	const char *host, *at, *slash;

	while (n && s[n - 1] == '/')
		n--;
	if (!((n > 7 && strncmp(s, "http://", 7) == 0) ||
	      (n > 8 && strncmp(s, "https://", 8) == 0))) {
		errbuf_set(err, errlen,
		           "marathon: expected an http:// or https:// URL, got \"%.*s\"", (int)n,
		           s);
		return -1;
	}
	m->url = strndup(s, n);
	if (!m->url)
		goto nomem;
	host = strstr(m->url, "://") + 3;
	slash = strchr(host, '/');
	at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	if (asprintf(&m->shown, "%.*s%s", (int)(host - m->url), m->url, at ? at + 1 : host) < 0) {
		m->shown = NULL;
		goto nomem;
	}
	return 0;
nomem:
	free(m->url);
	m->url = NULL;
	errbuf_set(err, errlen, "marathon: out of memory");
	return -1;
}

int marathon_masters_parse(const char *urls, struct marathon_master **out, size_t *n, char *err,
                           size_t errlen)
{
	struct marathon_master *masters;
	size_t count = 1, used = 0;
	const char *p, *comma;

	*out = NULL;
	*n = 0;
	for (p = urls; *p; p++)
		count += *p == ',';
	masters = calloc(count, sizeof(*masters));
	if (!masters) {
		errbuf_set(err, errlen, "marathon: out of memory");
		return -1;
	}
	for (p = urls;; p = comma + 1) {
		comma = strchr(p, ',');
		if (master_add(&masters[used], p, comma ? (size_t)(comma - p) : strlen(p), err,
		               errlen) < 0) {
			marathon_masters_free(masters, used);
			return -1;
		}
		used++;
		if (!comma)
			break;
	}
	*out = masters;
	*n = used;
	return 0;
}

void marathon_masters_free(struct marathon_master *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].url);
		free(m[i].shown);
		free(m[i].problem);
	}
	free(m);
}
