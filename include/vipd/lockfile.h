/* One process per file: an exclusive flock that names its holder. */
#ifndef VIPD_LOCKFILE_H
#define VIPD_LOCKFILE_H

#include <stddef.h>

/* Takes an exclusive flock on fd, open on `path`, without waiting. When
 * another process holds it: -1 and err "WHAT PATH is locked by another
 * process (pid N, NAME): ADVICE", the holder read from /proc/locks (the
 * pid and name are left out when it cannot be found). */
int lockfile_take(int fd, const char *what, const char *path, const char *advice, char *err,
                  size_t errlen);

#endif
