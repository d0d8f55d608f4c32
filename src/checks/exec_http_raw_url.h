/*
 * The request side of exec_http_raw.c: which targets it can reach exactly as
 * the curl tool would (http:// URLs with an address or `localhost`, or
 * Marathon's numeric host and port), the addresses tried in curl's order, and
 * the request bytes curl sends for them.
 */
#ifndef VIPD_EXEC_HTTP_RAW_URL_H
#define VIPD_EXEC_HTTP_RAW_URL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Longer paths and user agents go through libcurl rather than a bigger
 * buffer per run. */
#define RAW_PATH_MAX 1024
#define RAW_AGENT_MAX 128
#define RAW_REQUEST_MAX (RAW_PATH_MAX + RAW_AGENT_MAX + 256)
#define RAW_TARGET_ADDRS 2

struct raw_target {
	char name[INET6_ADDRSTRLEN]; /* as curl names the host: "localhost", "::1" */
	bool ipv6_literal;           /* written in brackets in Host: */
	unsigned port;
	const char *path; /* borrowed from the URL or request; "" = "/" */
	size_t naddrs;    /* addresses to try in this order, >= 1 */
	struct sockaddr_storage addrs[RAW_TARGET_ADDRS];
	socklen_t addrlens[RAW_TARGET_ADDRS];
};

/* An http:// URL curl would read as host, port and path with nothing
 * rewritten; ip_version 0, 4 or 6 as curl's -4/-6. -1 for anything else,
 * which then goes to libcurl. */
int raw_target_from_url(struct raw_target *t, const char *url, int ip_version);
/* Marathon's form: a numeric host (brackets allowed), a port, a path. */
int raw_target_from_host(struct raw_target *t, const char *host, unsigned port, const char *path,
                         int ip_version);
/* A path libcurl sends as written (no dot segments, fragment, controls). */
bool raw_path_plain(const char *path);
/* The curl tool's request for t (GET or HEAD, its Host, User-Agent and
 * Accept), plus Connection: close when asked. Returns its length, or -1
 * when it does not fit in cap. */
int raw_request_build(char *buf, size_t cap, const struct raw_target *t, bool head_only,
                      const char *user_agent, bool connection_close);

#endif
