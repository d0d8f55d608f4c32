/*
 * The sysctls IPVS needs for vipd's topology (VIPs local to each node on a
 * dummy interface, masq by default, backends in containers or on other
 * hosts), each with the reason it is set. They are per network namespace;
 * the net.ipv4.vs ones exist only once ip_vs is loaded, which
 * dataplane_open has made sure of by then.
 */
#include "vipd/dataplane.h"
#include "vipd/errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct dataplane_sysctl sysctls[] = {
    {"net.ipv4.vs.conntrack", "1",
     "IPVS connections get netfilter conntrack entries, so the host's conntrack-based rules "
     "(Docker's and CNI's MASQUERADE of container networks, 'ctstate INVALID drop' firewalls) "
     "see VIP traffic; without it a NAT'd reply is INVALID to conntrack and such rules drop "
     "it"},
    {"net.ipv4.vs.expire_nodest_conn", "1",
     "when a backend is removed (its task is gone), its connections are expired at their next "
     "packet, so clients get a reset and reconnect to a live backend, instead of their packets "
     "being dropped silently until the connection times out"},
    {"net.ipv4.vs.expire_quiescent_template", "1",
     "a backend drained to weight 0 gets no new connection through a persistence template "
     "made before, so persistent services send nothing new to a backend known to be down"},
    {"net.ipv4.ip_forward", "1",
     "masq mode: a client in a container on this host reaches the VIP through a bridge, and "
     "the backend's reply to it is forwarded, where IPVS reverses the NAT; with forwarding off "
     "the kernel drops that reply. (net.ipv6.conf.all.forwarding is not set: it turns off "
     "router advertisements on every interface and could take the host's IPv6 default route "
     "away; set it with accept_ra=2 where IPv6 clients live in containers)"},
};

const struct dataplane_sysctl *dataplane_sysctls(size_t *n)
{
	*n = sizeof(sysctls) / sizeof(sysctls[0]);
	return sysctls;
}

static void sysctl_path(const char *name, char *path, size_t len)
{
	size_t off = (size_t)snprintf(path, len, "/proc/sys/");

	for (const char *c = name; *c != '\0' && off + 1 < len; c++)
		path[off++] = *c == '.' ? '/' : *c;
	path[off < len ? off : len - 1] = '\0';
}

/* Reads first and writes only a different value, so a host that already
 * has it (or a read-only /proc/sys that has it) is not an error. */
static int sysctl_set(const struct dataplane_sysctl *s, char *err, size_t errlen)
{
	char path[128], cur[32] = "";
	size_t want = strlen(s->value);
	ssize_t n;
	int fd;

	sysctl_path(s->name, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == EROFS)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errbuf_set(err, errlen, "sysctl %s: %s: %s", s->name, path, strerror(errno));
		return -1;
	}
	n = read(fd, cur, sizeof(cur) - 1);
	if (n > 0 && (size_t)n >= want && strncmp(cur, s->value, want) == 0 &&
	    (cur[want] == '\n' || cur[want] == '\0')) {
		close(fd);
		return 0;
	}
	if (lseek(fd, 0, SEEK_SET) < 0 || write(fd, s->value, want) != (ssize_t)want) {
		errbuf_set(err, errlen,
		           "cannot set sysctl %s=%s: %s (vipd needs CAP_NET_ADMIN and a "
		           "writable /proc/sys)",
		           s->name, s->value, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int dataplane_sysctls_apply(char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++)
		if (sysctl_set(&sysctls[i], err, errlen) < 0)
			return -1;
	return 0;
}
