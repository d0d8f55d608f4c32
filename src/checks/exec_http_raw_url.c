/*
 * Targets and requests of the raw HTTP client. A URL is taken only when
 * curl 7.88's URL parser would keep it as written (no normalisation, no
 * userinfo, no fragment); `localhost` is resolved as curl resolves it itself,
 * without the resolver: 127.0.0.1 first, then ::1 (measured with curl -v).
 */
#include "vipd/exec.h"
#include "exec_int.h"
#include "exec_http_raw_url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int raw_target_family_ok(int family, int ip_version)
{
	if (ip_version == 4 && family != AF_INET)
		return -1;
	if (ip_version == 6 && family != AF_INET6)
		return -1;
	return 0;
}

static int raw_target_add(struct raw_target *t, const char *addr, int ip_version)
{
	size_t i = t->naddrs;

	if (i >= RAW_TARGET_ADDRS ||
	    exec_parse_addr(addr, t->port, &t->addrs[i], &t->addrlens[i]) < 0)
		return -1;
	if (raw_target_family_ok(t->addrs[i].ss_family, ip_version) < 0)
		return 0;
	t->naddrs++;
	return 0;
}

/* curl rewrites an address into its canonical text (127.1, ::0:1, upper
 * case hex): only that text is taken, so Host: says what curl's would. */
static bool raw_addr_canonical(int family, const char *text)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char back[INET6_ADDRSTRLEN];

	return inet_pton(family, text, bin) == 1 && inet_ntop(family, bin, back, sizeof(back)) &&
	       strcmp(back, text) == 0;
}

/* "[v6]" or "v4" or "localhost" at s, up to ':', '/' or the end. */
static const char *raw_url_host(struct raw_target *t, const char *s)
{
	const char *end;
	size_t len;

	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return NULL;
		len = (size_t)(end - s - 1);
		if (len >= sizeof(t->name))
			return NULL;
		memcpy(t->name, s + 1, len);
		t->name[len] = '\0';
		if (!raw_addr_canonical(AF_INET6, t->name))
			return NULL;
		t->ipv6_literal = true;
		return end + 1;
	}
	len = strcspn(s, ":/");
	if (len >= sizeof(t->name))
		return NULL;
	memcpy(t->name, s, len);
	t->name[len] = '\0';
	if (strcmp(t->name, "localhost") != 0 && !raw_addr_canonical(AF_INET, t->name))
		return NULL;
	return s + len;
}

/* ":port" as curl writes it back: 1-65535 without leading zeros. */
static const char *raw_url_port(struct raw_target *t, const char *s)
{
	const char *digits;
	unsigned long port = 0;
	size_t n = 0;

	t->port = 80;
	if (*s != ':')
		return s;
	digits = ++s;
	for (; *s >= '0' && *s <= '9' && n < 5; s++, n++)
		port = port * 10 + (unsigned long)(*s - '0');
	if (!n || port == 0 || port > 65535 || digits[0] == '0')
		return NULL;
	t->port = (unsigned)port;
	return s;
}

int raw_target_from_url(struct raw_target *t, const char *url, int ip_version)
{
	const char *s;

	memset(t, 0, sizeof(*t));
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	s = raw_url_host(t, url + 7);
	if (s)
		s = raw_url_port(t, s);
	if (!s || (*s != '/' && *s != '\0') || !raw_path_plain(s))
		return -1;
	t->path = s;
	if (strcmp(t->name, "localhost") == 0)
		return raw_target_add(t, "127.0.0.1", ip_version) < 0 ||
		               raw_target_add(t, "::1", ip_version) < 0 || !t->naddrs
		           ? -1
		           : 0;
	return raw_target_add(t, t->name, ip_version) < 0 || !t->naddrs ? -1 : 0;
}

int raw_target_from_host(struct raw_target *t, const char *host, unsigned port, const char *path,
                         int ip_version)
{
	const void *bin;

	memset(t, 0, sizeof(*t));
	t->port = port;
	t->path = path ? path : "";
	if (!port || port > 65535 || !raw_path_plain(t->path) ||
	    exec_parse_addr(host, port, &t->addrs[0], &t->addrlens[0]) < 0 ||
	    raw_target_family_ok(t->addrs[0].ss_family, ip_version) < 0)
		return -1;
	t->naddrs = 1;
	t->ipv6_literal = t->addrs[0].ss_family == AF_INET6;
	bin = t->ipv6_literal ? (const void *)&((struct sockaddr_in6 *)&t->addrs[0])->sin6_addr
	                      : (const void *)&((struct sockaddr_in *)&t->addrs[0])->sin_addr;
	return inet_ntop(t->addrs[0].ss_family, bin, t->name, sizeof(t->name)) ? 0 : -1;
}

/* libcurl rewrites or refuses some paths (dot segments, fragments, spaces
 * and controls); those keep going to it, so the backend sees the same
 * request either way. */
bool raw_path_plain(const char *path)
{
	const char *p, *seg = path;
	bool in_query = false;
	size_t seglen;

	if (strlen(path) > RAW_PATH_MAX || strcasestr(path, "%2e"))
		return false;
	for (p = path;; p++) {
		if (!in_query && (*p == '/' || *p == '?' || !*p)) {
			seglen = (size_t)(p - seg);
			if ((seglen == 1 && seg[0] == '.') ||
			    (seglen == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
			in_query = *p == '?';
			seg = p + 1;
		}
		if (!*p)
			return true;
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#' ||
		    *p == '\\')
			return false;
	}
}

int raw_request_build(char *buf, size_t cap, const struct raw_target *t, bool head_only,
                      const char *user_agent, bool connection_close)
{
	const char *path = t->path[0] ? t->path : "/";
	char port_text[8] = "";
	int n;

	/* curl leaves the default port out of Host:. */
	if (t->port != 80)
		snprintf(port_text, sizeof(port_text), ":%u", t->port);
	n = snprintf(
	    buf, cap,
	    "%s %s%s HTTP/1.1\r\nHost: %s%s%s%s\r\nUser-Agent: %s\r\nAccept: */*\r\n%s\r\n",
	    head_only ? "HEAD" : "GET", path[0] == '/' ? "" : "/", path, t->ipv6_literal ? "[" : "",
	    t->name, t->ipv6_literal ? "]" : "", port_text, user_agent,
	    connection_close ? "Connection: close\r\n" : "");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
