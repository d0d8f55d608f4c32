/*
 * The sd_notify(3) datagram, by hand: systemd's protocol is one AF_UNIX
 * datagram of newline-separated KEY=VALUE lines to $NOTIFY_SOCKET, so a
 * dependency on libsystemd buys nothing here.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sd_notify.h"
#include "vipd/log.h"

/* "@name" is an abstract socket: sun_path starts with a NUL and its length
 * is given exactly, with no terminator (systemd's own rule). */
static int notify_address(const char *name, struct sockaddr_un *sa, socklen_t *salen, char *err,
                          size_t errlen)
{
	size_t len = strlen(name);

	if (name[0] != '/' && name[0] != '@') {
		errbuf_set(err, errlen,
		           "NOTIFY_SOCKET \"%s\": expected an absolute path or an abstract name "
		           "starting with '@'",
		           name);
		return -1;
	}
	if (len < 2 || len >= sizeof(sa->sun_path)) {
		errbuf_set(err, errlen, "NOTIFY_SOCKET \"%s\": expected 2 to %zu characters", name,
		           sizeof(sa->sun_path) - 1);
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name, len);
	if (name[0] == '@')
		sa->sun_path[0] = '\0';
	*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'));
	return 0;
}

int sd_notify_send(const char *state, char *err, size_t errlen)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	ssize_t sent;
	int fd;

	if (name == NULL || name[0] == '\0')
		return 0;
	if (notify_address(name, &sa, &salen, err, errlen) < 0)
		return -1;
	/* Non-blocking: a manager that stops reading must not stall the loop. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		errbuf_set(err, errlen, "NOTIFY_SOCKET %s: socket: %s", name, strerror(errno));
		return -1;
	}
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	if (sent < 0) {
		errbuf_set(err, errlen, "NOTIFY_SOCKET %s: sending %s: %s", name, state,
		           strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void sd_notify_state(const char *state)
{
	char err[256];

	if (sd_notify_send(state, err, sizeof(err)) < 0)
		log_warnx("systemd not told %s: %s", state, err);
}
