/*
 * One vipd per state file. Two instances sharing it would each delete the
 * services the other programmed as "owned but no longer wanted", so the
 * second is refused at start-up, told which process holds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vipd/dataplane.h"
#include "vipd/errbuf.h"
#include "vipd/lockfile.h"

int dataplane_state_lock(const char *path, char *err, size_t errlen)
{
	char *lock_path = NULL, *dir = NULL;
	int fd = -1;

	if (asprintf(&lock_path, "%s.lock", path) < 0 || (dir = strdup(path)) == NULL) {
		free(lock_path);
		errbuf_set(err, errlen, "%s: out of memory", path);
		return -1;
	}
	/* The state file's own save creates its directory the same way. */
	(void)mkdir(dirname(dir), 0755);
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		errbuf_set(err, errlen, "state file lock %s: %s", lock_path, strerror(errno));
	else if (lockfile_take(fd, "state file", path,
	                       "two vipd must not share one state file, give each its own "
	                       "lb.state_file",
	                       err, errlen) < 0) {
		close(fd);
		fd = -1;
	}
	free(dir);
	free(lock_path);
	return fd;
}
