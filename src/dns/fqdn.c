/*
 * DC/OS's FQDN scheme for named VIPs: how a Marathon app id becomes a DNS
 * label, and the names <name>.<framework>.<zone> built from it.
 */
#include "vipd/fqdn.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vipd/errbuf.h"

#define ZONE_MAX 200

static const char *const default_zones[] = {
    "l4lb.thisdcos.directory",
    "l4lb.thisdcos.global",
    "dclb.thisdcos.directory",
    "dclb.thisdcos.global",
};

const char *const *fqdn_default_zones(size_t *n)
{
	*n = sizeof(default_zones) / sizeof(default_zones[0]);
	return default_zones;
}

static char label_char(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
		return c;
	if (c == '_' || c == '.')
		return '-';
	return '\0'; /* dropped, '/' included */
}

int fqdn_label(const char *name, char *out, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return -1;
	for (const char *p = name; *p && n < FQDN_LABEL_MAX && n + 1 < len; p++) {
		char c = label_char(*p);

		if (c == '\0' || (c == '-' && n == 0))
			continue;
		out[n++] = c;
	}
	out[n] = '\0';
	return n > 0 ? (int)n : -1;
}

int fqdn_build(const char *name, const char *framework, const char *zone, char *out, size_t len,
               char *err, size_t errlen)
{
	char nl[FQDN_LABEL_MAX + 1], fl[FQDN_LABEL_MAX + 1];
	int w;

	if (fqdn_label(name, nl, sizeof(nl)) < 0) {
		errbuf_set(err, errlen, "VIP name \"%s\" has no character DNS can use", name);
		return -1;
	}
	if (fqdn_label(framework, fl, sizeof(fl)) < 0) {
		errbuf_set(err, errlen, "framework \"%s\" has no character DNS can use", framework);
		return -1;
	}
	w = snprintf(out, len, "%s.%s.%s", nl, fl, zone);
	if (w < 0 || (size_t)w >= len || w > FQDN_NAME_MAX) {
		errbuf_set(err, errlen,
		           "the name of VIP \"%s\" in zone %s is longer than %d characters", name,
		           zone, FQDN_NAME_MAX);
		return -1;
	}
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

static bool zone_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

int fqdn_zone_check(const char *zone, char *err, size_t errlen)
{
	size_t label = 0, total = strlen(zone);

	if (total == 0 || total > ZONE_MAX)
		goto bad;
	for (const char *p = zone; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				goto bad;
			label = 0;
		} else if (!zone_char_ok(*p) || ++label > FQDN_LABEL_MAX) {
			goto bad;
		}
	}
	if (label == 0)
		goto bad;
	return 0;
bad:
	errbuf_set(
	    err, errlen,
	    "zone \"%s\": expected dot-separated labels of letters, digits and '-', each 1 to "
	    "63 long, at most %d characters, no leading or trailing dot",
	    zone, ZONE_MAX);
	return -1;
}
