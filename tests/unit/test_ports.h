/*
 * Loopback ports for the tests' own servers: below 32768, out of the
 * kernel's ephemeral range where clients' ports land, so a test server never
 * takes a port a connection of the same machine is using; and below 10000,
 * apart from the ports the script tests (tests/cli, tests/host) pick at
 * random in 10000-30001, since CTest runs both kinds side by side.
 * Header-only.
 */
#ifndef VIPD_TEST_PORTS_H
#define VIPD_TEST_PORTS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TEST_PORT_FIRST 5000
#define TEST_PORT_LAST 9999

/* A socket of `type` (SOCK_STREAM, with SOCK_NONBLOCK... as wanted) bound
 * on 127.0.0.1 or ::1 to a free port in the range, listening when
 * backlog >= 0; its port in *port. -1 when none could be had. */
static inline int test_bind_loopback(int family, int type, int backlog, unsigned *port)
{
	static unsigned next;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = family == AF_INET ? sizeof(*sin) : sizeof(*sin6);
	int fd = socket(family, type, 0);
	unsigned tries;

	if (fd < 0)
		return -1;
	if (!next)
		next = TEST_PORT_FIRST + (unsigned)getpid() % (TEST_PORT_LAST - TEST_PORT_FIRST);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		sin6->sin6_addr = in6addr_loopback;
	for (tries = 0; tries < 1000; tries++) {
		next = next >= TEST_PORT_LAST ? TEST_PORT_FIRST : next + 1;
		if (family == AF_INET)
			sin->sin_port = htons((uint16_t)next);
		else
			sin6->sin6_port = htons((uint16_t)next);
		if (bind(fd, (struct sockaddr *)&ss, len) == 0)
			break;
	}
	if (tries == 1000 || (backlog >= 0 && listen(fd, backlog) < 0)) {
		close(fd);
		return -1;
	}
	*port = next;
	return fd;
}

#endif
