/*
 * An exclusive flock that, when another process holds it, says which one:
 * its pid from /proc/locks and its name from /proc/PID/comm. The audit log
 * and the state file each allow one vipd.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vipd/errbuf.h"
#include "vipd/lockfile.h"

/* /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF". */
static int lock_holder(const struct stat *st)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256], kind[16];
	unsigned maj, min;
	unsigned long ino;
	int pid, holder = -1;

	if (!f)
		return -1;
	while (holder < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", kind, &pid, &maj, &min, &ino) ==
		        5 &&
		    strcmp(kind, "FLOCK") == 0 && maj == major(st->st_dev) &&
		    min == minor(st->st_dev) && ino == (unsigned long)st->st_ino)
			holder = pid;
	}
	fclose(f);
	return holder;
}

static void process_name(int pid, char *out, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

int lockfile_take(int fd, const char *what, const char *path, const char *advice, char *err,
                  size_t errlen)
{
	struct stat st;
	char name[64];
	int pid;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK) {
		errbuf_set(err, errlen, "cannot lock %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	pid = fstat(fd, &st) == 0 ? lock_holder(&st) : -1;
	if (pid <= 0) {
		errbuf_set(err, errlen, "%s %s is locked by another process: %s", what, path,
		           advice);
		return -1;
	}
	process_name(pid, name, sizeof(name));
	errbuf_set(err, errlen, "%s %s is locked by another process (pid %d, %s): %s", what, path,
	           pid, name, advice);
	return -1;
}
