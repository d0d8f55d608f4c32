/* systemd's readiness protocol (sd_notify(3)), spoken by hand so vipd needs
 * no libsystemd: one datagram to $NOTIFY_SOCKET per state change. */
#ifndef VIPD_SD_NOTIFY_H
#define VIPD_SD_NOTIFY_H

#include <stddef.h>

#include "vipd/errbuf.h"

/*
 * Sends `state` ("READY=1", "STOPPING=1"...) to the socket named by
 * $NOTIFY_SOCKET: a path, or an abstract name written with a leading '@'.
 * 0 when sent or when NOTIFY_SOCKET is unset (not run by systemd); -1 with
 * err when the variable is malformed or the send fails. Never blocks.
 */
int sd_notify_send(const char *state, char *err, size_t errlen) VIPD_MUST_CHECK;

/* sd_notify_send, a failure logged as a warning: systemd is told or not,
 * vipd goes on either way. */
void sd_notify_state(const char *state);

#endif
