/*
 * One vipd per audit log: the common lockfile, with the audit log's advice.
 */
#include "vipd/audit.h"
#include "vipd/lockfile.h"

int audit_lock(int fd, const char *path, char *err, size_t errlen)
{
	return lockfile_take(fd, "audit log", path,
	                     "two vipd must not share one audit log, give each its own --audit",
	                     err, errlen);
}
