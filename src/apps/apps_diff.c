/*
 * Comparing two apps sets app by app (apps_diff.h): each set's apps sorted
 * by id, then one merge walk (or, when both list the same ids in the same
 * order, a walk in place); an app in both is compared field by field
 * (model.c), its definition first, then its tasks, unless the loader
 * copied it from a file unchanged since `old` was read: then it is equal
 * by construction, and a directory reload costs a pass over the ids plus
 * the comparison of the changed files' apps.
 */
#include "vipd/apps_diff.h"

#include <stdlib.h>
#include <string.h>

#include "vipd/errbuf.h"
#include "vipd/vec.h"

static const char *const change_names[] = {
    [APPS_CHANGE_ADDED] = "added",
    [APPS_CHANGE_REMOVED] = "removed",
    [APPS_CHANGE_DEFINITION] = "definition",
    [APPS_CHANGE_TASKS] = "tasks",
};

const char *apps_change_name(enum apps_change c)
{
	if ((size_t)c >= sizeof(change_names) / sizeof(change_names[0]))
		return "unknown";
	return change_names[c];
}

static int app_ptr_cmp(const void *a, const void *b)
{
	const struct app *x = *(const struct app *const *)a, *y = *(const struct app *const *)b;

	return strcmp(x->id, y->id);
}

/* The set's apps with an id, sorted by it. */
static const struct app **sorted_apps(const struct apps_set *set, size_t *n)
{
	const struct app **v = malloc((set->napps ? set->napps : 1) * sizeof(*v));

	*n = 0;
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < set->napps; i++)
		if (set->apps[i].id)
			v[(*n)++] = &set->apps[i];
	vec_sort(v, *n, sizeof(*v), app_ptr_cmp);
	return v;
}

static int push(struct apps_diff *d, const char *id, enum apps_change c)
{
	if (VEC_RESERVE(d->items, d->cap, d->n + 1) < 0)
		return -1;
	d->items[d->n].id = strdup(id);
	if (d->items[d->n].id == NULL)
		return -1;
	d->items[d->n++].change = c;
	return 0;
}

/* Whether fresh's app b was copied from a file unchanged since old was
 * read (apps.h's read_id and reused flags): then it equals old's app of
 * the same id by construction, and is not compared again. */
static bool reused_from_old(const struct apps_set *old, const struct apps_set *fresh,
                            const struct app *b)
{
	size_t i = (size_t)(b - fresh->apps);

	return fresh->reused_from != 0 && fresh->reused_from == old->read_id &&
	       i < fresh->nreused && fresh->reused[i];
}

/* One app in both sets (b in `fresh`). */
static int compare_app(struct apps_diff *d, const struct apps_set *old,
                       const struct apps_set *fresh, const struct app *a, const struct app *b)
{
	if (reused_from_old(old, fresh, b)) {
		d->unchanged++;
		d->reused++;
		return 0;
	}
	if (!app_definition_equal(a, b))
		return push(d, a->id, APPS_CHANGE_DEFINITION);
	if (!app_tasks_equal(a, b))
		return push(d, a->id, APPS_CHANGE_TASKS);
	d->unchanged++;
	return 0;
}

static int walk(struct apps_diff *d, const struct apps_set *old, const struct apps_set *fresh,
                const struct app **o, size_t no, const struct app **f, size_t nf)
{
	size_t i = 0, j = 0;
	int rc = 0;

	while (rc == 0 && (i < no || j < nf)) {
		int c = i == no ? 1 : j == nf ? -1 : strcmp(o[i]->id, f[j]->id);

		if (c < 0) {
			rc = push(d, o[i++]->id, APPS_CHANGE_REMOVED);
		} else if (c > 0) {
			rc = push(d, f[j++]->id, APPS_CHANGE_ADDED);
		} else {
			rc = compare_app(d, old, fresh, o[i++], f[j++]);
		}
	}
	return rc;
}

/* The same ids at the same places: a directory read again in name order,
 * or Marathon's answer, usually is. */
static bool same_order(const struct apps_set *old, const struct apps_set *fresh)
{
	if (old->napps != fresh->napps)
		return false;
	for (size_t i = 0; i < old->napps; i++)
		if (!old->apps[i].id || !fresh->apps[i].id ||
		    strcmp(old->apps[i].id, fresh->apps[i].id) != 0)
			return false;
	return true;
}

static int item_sort_cmp(const void *a, const void *b)
{
	return strcmp(((const struct apps_diff_item *)a)->id,
	              ((const struct apps_diff_item *)b)->id);
}

/* Pairs at the same places compared without sorting every app; only the
 * changes are sorted. */
static int walk_in_place(struct apps_diff *d, const struct apps_set *old,
                         const struct apps_set *fresh)
{
	for (size_t i = 0; i < old->napps; i++)
		if (compare_app(d, old, fresh, &old->apps[i], &fresh->apps[i]) < 0)
			return -1;
	vec_sort(d->items, d->n, sizeof(*d->items), item_sort_cmp);
	return 0;
}

int apps_diff(const struct apps_set *old, const struct apps_set *fresh, struct apps_diff *out,
              char *err, size_t errlen)
{
	size_t no, nf;
	const struct app **o = NULL, **f = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (same_order(old, fresh)) {
		rc = walk_in_place(out, old, fresh);
	} else {
		o = sorted_apps(old, &no);
		f = sorted_apps(fresh, &nf);
		if (o != NULL && f != NULL)
			rc = walk(out, old, fresh, o, no, f, nf);
	}
	free(o);
	free(f);
	if (rc < 0) {
		apps_diff_free(out);
		errbuf_set(err, errlen, "apps: out of memory comparing definitions");
	}
	return rc;
}

static void app_swap(struct app *a, struct app *b)
{
	struct app t = *a;

	*a = *b;
	*b = t;
}

/* fresh takes old's array, its changed apps swapped into it at their
 * places first (old gets theirs back in its new array); the other places
 * keep old's objects, equal to fresh's by the diff (compared, or copied
 * from an unchanged file). Only for a cached directory read that follows
 * old's: other sources keep their own objects. */
bool apps_keep_unchanged(struct apps_set *old, struct apps_set *fresh,
                         bool (*changed)(void *ctx, const char *app_id), void *ctx)
{
	struct app *arr;
	size_t cap;

	if (fresh->reused_from == 0 || fresh->reused_from != old->read_id ||
	    !same_order(old, fresh))
		return false;
	for (size_t i = 0; i < fresh->napps; i++)
		if (changed(ctx, fresh->apps[i].id))
			app_swap(&old->apps[i], &fresh->apps[i]);
	arr = old->apps;
	cap = old->cap;
	old->apps = fresh->apps;
	old->cap = fresh->cap;
	fresh->apps = arr;
	fresh->cap = cap;
	return true;
}

void apps_diff_free(struct apps_diff *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].id);
	free(d->items);
	memset(d, 0, sizeof(*d));
}

static int item_cmp(const void *key, const void *item)
{
	return strcmp(key, ((const struct apps_diff_item *)item)->id);
}

bool apps_diff_has(void *d, const char *id)
{
	const struct apps_diff *diff = d;

	return vec_find(id, diff->items, diff->n, sizeof(*diff->items), item_cmp);
}
