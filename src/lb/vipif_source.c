/*
 * The node's own address, src of the VIPs' local routes when lb.source_address
 * is unset: the address a connection to another node would take. Read from
 * the kernel's route tables in /proc and getifaddrs, once at start.
 */
#include "vipd/vipif.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The interface of the IPv4 default route: /proc/net/route lists it with
 * Destination and Mask 00000000. */
static bool default_if4(char *name, size_t len)
{
	FILE *f = fopen("/proc/net/route", "r");
	char line[256], ifn[IFNAMSIZ];
	unsigned dst, mask;
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%15s %x %*x %*x %*u %*u %*u %x", ifn, &dst, &mask) == 3 &&
		    dst == 0 && mask == 0) {
			snprintf(name, len, "%s", ifn);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* The interface of the IPv6 default route: /proc/net/ipv6_route lists it
 * with an all-zero destination of length 00; the name is the last field. */
static bool default_if6(char *name, size_t len)
{
	FILE *f = fopen("/proc/net/ipv6_route", "r");
	char line[256], dst[33], ifn[IFNAMSIZ];
	unsigned plen;
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %15s", dst, &plen, ifn) ==
		        3 &&
		    plen == 0 && strspn(dst, "0") == 32 && strcmp(ifn, "lo") != 0) {
			snprintf(name, len, "%s", ifn);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* A global unicast address of family af on i: not loopback, not link-local. */
static bool usable(const struct ifaddrs *i, int af, struct lb_addr *out)
{
	if (i->ifa_addr == NULL || i->ifa_addr->sa_family != af || (i->ifa_flags & IFF_LOOPBACK))
		return false;
	memset(out, 0, sizeof(*out));
	out->af = af;
	if (af == AF_INET) {
		out->u.v4 = ((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
		return (ntohl(out->u.v4.s_addr) >> 16) != 0xa9fe; /* 169.254/16 */
	}
	out->u.v6 = ((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
	return !IN6_IS_ADDR_LINKLOCAL(&out->u.v6) && !IN6_IS_ADDR_LOOPBACK(&out->u.v6);
}

int vipif_source_find(int af, const char *skip, struct lb_addr *out)
{
	struct ifaddrs *ifs, *i;
	char dflt[IFNAMSIZ] = "";
	bool have_dflt =
	    af == AF_INET ? default_if4(dflt, sizeof(dflt)) : default_if6(dflt, sizeof(dflt));
	int rc = -1;

	out->af = AF_UNSPEC;
	if (getifaddrs(&ifs) < 0)
		return -1;
	for (i = ifs; i != NULL && have_dflt && rc < 0; i = i->ifa_next)
		if (strcmp(i->ifa_name, dflt) == 0 && usable(i, af, out))
			rc = 0;
	for (i = ifs; i != NULL && rc < 0; i = i->ifa_next)
		if (strcmp(i->ifa_name, skip) != 0 && usable(i, af, out))
			rc = 0;
	freeifaddrs(ifs);
	if (rc < 0)
		out->af = AF_UNSPEC;
	return rc;
}
