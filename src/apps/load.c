/*
 * Reading app definition files: one file, or the *.json files of a
 * directory in name order (so every node reads the same set the same way).
 * Only regular files are read, without blocking and up to a size limit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "load_cache.h"
#include "vipd/apps.h"

static const char *file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "of an unknown kind";
}

static int refuse_kind(struct apps_set *set, const char *path, mode_t mode)
{
	diag_add(&set->diags, DIAG_ERROR, path, "", "not a regular file (%s)", file_kind(mode));
	return -1;
}

/* A FIFO opened for reading waits for a writer and a read from it waits for
 * data: either would stop the loop for good. So the kind is checked before
 * opening (opening a device can have effects of its own), the open never
 * waits (O_NONBLOCK), and the kind is checked again on the fd, in case the
 * name was replaced in between. Symbolic links to regular files are
 * followed: Kubernetes ConfigMap volumes are made of them. */
static int open_regular(struct apps_set *set, const char *path, struct stat *st)
{
	int fd;

	if (stat(path, st) < 0) {
		diag_add(&set->diags, DIAG_ERROR, path, "", "cannot open: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st->st_mode))
		return refuse_kind(set, path, st->st_mode);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		diag_add(&set->diags, DIAG_ERROR, path, "", "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0) {
		diag_add(&set->diags, DIAG_ERROR, path, "", "cannot read: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return refuse_kind(set, path, st->st_mode);
	}
	return fd;
}

/* Reads at most `size` bytes: a file that grows meanwhile is read as it was
 * when measured, and the parser reports what that cut off. */
static int read_all(int fd, char *buf, size_t size, size_t *len)
{
	size_t n = 0;

	while (n < size) {
		ssize_t got = read(fd, buf + n, size - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*len = n;
	return 0;
}

static int read_file(struct apps_set *set, const char *path, struct stat *st, char **buf,
                     size_t *len)
{
	int fd = open_regular(set, path, st);

	if (fd < 0)
		return -1;
	if ((size_t)st->st_size > APPS_MAX_FILE_BYTES) {
		diag_add(&set->diags, DIAG_ERROR, path, "",
		         "file too large: %lld bytes (the limit is %u)", (long long)st->st_size,
		         APPS_MAX_FILE_BYTES);
		close(fd);
		return -1;
	}
	*buf = malloc((size_t)st->st_size + 1);
	if (!*buf) {
		diag_add(&set->diags, DIAG_ERROR, path, "", "out of memory");
		close(fd);
		return -1;
	}
	if (read_all(fd, *buf, (size_t)st->st_size, len) < 0) {
		diag_add(&set->diags, DIAG_ERROR, path, "", "cannot read: %s", strerror(errno));
		free(*buf);
		*buf = NULL;
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The file's apps from the cache while it is the same file, else parsed
 * (and kept for next time): the same apps and diagnostics either way. A
 * file that could not be read is never kept: it is tried again each time. */
static void load_file(struct apps_set *set, const char *path, struct apps_load_cache *c)
{
	size_t napps0 = set->napps, ndiags0 = set->diags.count;
	size_t lost0[2] = {set->diags.lost[0], set->diags.lost[1]};
	struct timespec began;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;

	if (load_cache_reuse(c, set, path) == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &began);
	if (read_file(set, path, &st, &buf, &len) < 0)
		return;
	apps_load_buffer(set, path, buf, len);
	free(buf);
	load_cache_keep(c, set, path, &st, &began, napps0, ndiags0, lost0);
}

bool apps_is_definition_name(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".json") == 0 && name[0] != '.';
}

static int load_dir(struct apps_set *set, const char *dir, struct apps_load_cache *c)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	char path[4096];

	if (n < 0) {
		diag_add(&set->diags, DIAG_ERROR, dir, "", "cannot read directory: %s",
		         strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (apps_is_definition_name(names[i]->d_name)) {
			snprintf(path, sizeof(path), "%s%s%s", dir,
			         dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]->d_name);
			load_file(set, path, c);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

static int load_path(struct apps_set *set, const char *path, struct apps_load_cache *c)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		diag_add(&set->diags, DIAG_ERROR, path, "", "cannot open: %s", strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return load_dir(set, path, c);
	if (!S_ISREG(st.st_mode))
		return refuse_kind(set, path, st.st_mode);
	load_file(set, path, c);
	return 0;
}

/* The files not met this time (gone, or the path unreadable) leave the
 * cache: a directory that comes back is parsed whole. */
int apps_load_path_cached(struct apps_set *set, const char *path, struct apps_load_cache *c)
{
	/* Process-wide, so that no two reads (of any cache) share a number:
	 * a set's reused flags are trusted only against the very read they
	 * refer to. */
	static uint64_t reads;
	int rc;

	load_cache_begin(c);
	set->read_id = ++reads;
	set->reused_from = c->last_read;
	rc = load_path(set, path, c);
	load_cache_end(c);
	c->last_read = set->read_id;
	return rc;
}

/* A one-off read is the cached read with an empty cache that keeps nothing. */
int apps_load_path(struct apps_set *set, const char *path)
{
	struct apps_load_cache once = {.keep = false};
	int rc = apps_load_path_cached(set, path, &once);

	load_cache_release(&once);
	return rc;
}
