/*
 * Loading Marathon app definitions into the model: files, directories,
 * buffers. Every problem becomes a located diagnostic in the set; a broken
 * app is skipped and the others still load.
 */
#ifndef VIPD_APPS_H
#define VIPD_APPS_H

#include "vipd/model.h"

/* Larger documents are refused rather than parsed. */
#define APPS_MAX_FILE_BYTES (32u * 1024 * 1024)

/* Loads a file, or every *.json file of a directory in name order. Returns 0
 * when the path could be read (even if some apps in it were broken), -1 when
 * it could not; either way the problems are in set->diags. Only regular
 * files (or symbolic links to them) are read, and never with a blocking
 * call: a FIFO, device or socket is refused with a located error. */
int apps_load_path(struct apps_set *set, const char *path);

/* A source's files as last read: each one's parsed apps and diagnostics
 * with the file's identity (device, inode, size, mtime, ctime). */
struct apps_load_cache;

/* An empty cache (NULL when out of memory); freed with apps_load_cache_free
 * (NULL is fine). */
struct apps_load_cache *apps_load_cache_new(void);
void apps_load_cache_free(struct apps_load_cache *c);

/* apps_load_path, parsing only the files whose identity changed since the
 * cache last saw them (or that had errors then) and copying the others'
 * apps from it: the set is the one apps_load_path would give, in the same
 * order with the same diagnostics, and owns all it holds (nothing is shared
 * with the cache). A file changed within 20 ms before it was read is not
 * kept: its timestamps could miss a change in the same tick. The apps
 * copied from the cache are flagged in set->reused, against the cache's
 * previous read (set->reused_from): apps_diff skips them. */
int apps_load_path_cached(struct apps_set *set, const char *path, struct apps_load_cache *c);

/* How many files this cache's reads have parsed (what the tests count). */
size_t apps_load_cache_parses(const struct apps_load_cache *c);

/* Whether a directory entry's name is one apps_load_path reads (*.json, not
 * hidden). */
bool apps_is_definition_name(const char *name);

/* Parses one document of len bytes (no NUL needed) and appends its apps to
 * set, copying what it keeps; `name` is the file name used in diagnostics.
 * 0 when it was JSON (broken apps in it are located diagnostics), -1 when
 * it was too large or not JSON; either way the problems are in set->diags. */
int apps_load_buffer(struct apps_set *set, const char *name, const char *buf, size_t len);

/* The app with this absolute id ("/prod/web"), borrowed from set; NULL
 * when there is none. */
const struct app *apps_find(const struct apps_set *set, const char *id);

#endif
