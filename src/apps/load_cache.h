/*
 * The per-file cache of a directory source (load.c's side of it): each
 * definition file's parsed apps and diagnostics kept with the identity of
 * the file they came from, so a reload re-parses only what changed.
 */
#ifndef VIPD_LOAD_CACHE_H
#define VIPD_LOAD_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "vipd/apps.h"

struct load_entry {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	struct apps_set parsed; /* the file's own apps and diagnostics, owned */
};

/* The ids of a set being assembled, hashed: a cached file is reused only
 * when none of its apps' ids is already taken (else the parse would have
 * reported a duplicate, which only a parse in order can say the same way). */
struct load_ids {
	size_t *slots; /* index into set->apps + 1; 0 = empty */
	size_t nslots;
	size_t indexed; /* set->apps[0, indexed) are in the table */
};

struct apps_load_cache {
	struct load_entry *entries; /* the last read's files, in its order */
	size_t nentries;
	size_t hint;             /* where the next file is looked for first: they come in order */
	struct load_entry *next; /* this read's, being built */
	size_t nnext, capnext;
	struct load_ids ids;
	size_t parses;
	/* The last read's number: every entry's apps are, field for field,
	 * in that read's set (each entry was parsed into it or copied into
	 * it), which is what the next read's reused flags refer to. */
	uint64_t last_read;
	bool keep; /* false: a one-off read, nothing is kept */
};

void load_cache_begin(struct apps_load_cache *c);
void load_cache_end(struct apps_load_cache *c);
void load_cache_release(struct apps_load_cache *c);
/* Appends the file's cached apps and diagnostics to set when it is the
 * same file as when they were parsed; 0 then, -1 when it must be parsed. */
int load_cache_reuse(struct apps_load_cache *c, struct apps_set *set, const char *path);
/* Keeps what parsing `path` added to set (apps from napps0, diagnostics
 * from ndiags0); st: the file as read, `read_began` the wall clock then. */
void load_cache_keep(struct apps_load_cache *c, const struct apps_set *set, const char *path,
                     const struct stat *st, const struct timespec *read_began, size_t napps0,
                     size_t ndiags0, const size_t lost0[2]);

#endif
