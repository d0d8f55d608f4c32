/*
 * Reading app definition files: one file, or the *.json files of a
 * directory in name order (so every node reads the same set the same way).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vipd/apps.h"

static int read_file(struct apps_set *set, const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	size_t n;

	if (!f) {
		diag_add(&set->diags, DIAG_ERROR, path, "", "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || (size_t)st.st_size > APPS_MAX_FILE_BYTES) {
		diag_add(&set->diags, DIAG_ERROR, path, "",
		         "file too large: %lld bytes (the limit is %u)", (long long)st.st_size,
		         APPS_MAX_FILE_BYTES);
		fclose(f);
		return -1;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		fclose(f);
		return -1;
	}
	n = fread(*buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		diag_add(&set->diags, DIAG_ERROR, path, "", "cannot read: %s", strerror(errno));
		free(*buf);
		*buf = NULL;
		fclose(f);
		return -1;
	}
	fclose(f);
	*len = n;
	return 0;
}

static int load_file(struct apps_set *set, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (read_file(set, path, &buf, &len) < 0)
		return -1;
	rc = apps_load_buffer(set, path, buf, len);
	free(buf);
	return rc;
}

static int has_json_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".json") == 0 && name[0] != '.';
}

static int load_dir(struct apps_set *set, const char *dir)
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
		if (has_json_suffix(names[i]->d_name)) {
			snprintf(path, sizeof(path), "%s%s%s", dir,
			         dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]->d_name);
			load_file(set, path);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

int apps_load_path(struct apps_set *set, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		diag_add(&set->diags, DIAG_ERROR, path, "", "cannot open: %s", strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return load_dir(set, path);
	load_file(set, path);
	return 0;
}
