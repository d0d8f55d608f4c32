/*
 * What a reload changed, app by app: two apps sets compared by app id, so
 * that only the apps added, removed or changed are rebuilt and re-checked.
 * Pure.
 */
#ifndef VIPD_APPS_DIFF_H
#define VIPD_APPS_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "vipd/model.h"

enum apps_change {
	APPS_CHANGE_ADDED,
	APPS_CHANGE_REMOVED,
	APPS_CHANGE_DEFINITION, /* ports, labels, checks, where it is defined */
	APPS_CHANGE_TASKS,      /* the same definition, its tasks differ */
};

struct apps_diff_item {
	char *id;
	enum apps_change change;
};

struct apps_diff {
	struct apps_diff_item *items; /* sorted by id */
	size_t n, cap;
	size_t unchanged; /* apps in both sets, equal */
	size_t reused;    /* of those, copied from unchanged files: not compared */
};

/* "added", "removed", "definition", "tasks". */
const char *apps_change_name(enum apps_change c);
/* The apps that differ between old and fresh, by id (an id repeated in
 * one set, which the parser refuses, is listed at least once). fresh's
 * apps flagged reused against old's read (apps_load_path_cached) are
 * equal by construction and not compared; the result is the same. 0,
 * or -1 with err when out of memory (out then empty). */
int apps_diff(const struct apps_set *old, const struct apps_set *fresh, struct apps_diff *out,
              char *err, size_t errlen);
/* After a cached directory read that follows old's and lists old's apps
 * at the same places (a task changed, a definition edited; not an app
 * added, removed or moved): every app for which changed(ctx, id) is false
 * (apps_diff_has over the diff of old and fresh: equal apps) is replaced
 * in fresh by old's own object, at the same address with its tasks and
 * checks, so whatever borrows it (the scheduler) still points at a live,
 * equal app; old is left with fresh's copies and its own changed apps, to
 * be freed. Both sets keep their ids at their places. false (nothing
 * moved) for another kind of set or when the places differ. */
bool apps_keep_unchanged(struct apps_set *old, struct apps_set *fresh,
                         bool (*changed)(void *ctx, const char *app_id), void *ctx);
/* Whether app `id` is among the changes (d: a struct apps_diff *; the
 * shape of a predicate callback). */
bool apps_diff_has(void *d, const char *id);
void apps_diff_free(struct apps_diff *d);

#endif
