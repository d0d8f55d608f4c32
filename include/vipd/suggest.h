/*
 * "Did you mean": the known name nearest to a mistyped one, by edit
 * distance, for warnings about keys vipd would otherwise silently ignore.
 */
#ifndef VIPD_SUGGEST_H
#define VIPD_SUGGEST_H

#include <stddef.h>

#define SUGGEST_MAX_LEN 128
/* Levenshtein distance (insert, delete, substitute one byte each cost 1);
 * SIZE_MAX when a string is longer than SUGGEST_MAX_LEN. */
size_t suggest_distance(const char *a, const char *b);

/* The name in `known` (NULL-terminated) nearest to `typed`, when it is near
 * enough to be a typo: at most 2 edits, or a third of its length for longer
 * names. NULL when none is. */
const char *suggest_nearest(const char *typed, const char *const *known);

#endif
