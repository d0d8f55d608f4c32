/*
 * Carrying the index of a full build over to a reloaded apps set: the VIP
 * uses of unchanged apps keep their place (their app renumbered), the
 * changed apps' uses are read again, and the named VIPs must stay the same
 * set, or the allocation (vip_alloc_assign) would have to run again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vipd/desired.h"
#include "vipd/errbuf.h"

#include "desired_int.h"
#include "vipd/vec.h"

void desired_reindex_free(struct desired_reindex *rx)
{
	vip_list_free(&rx->uses);
	free(rx->old_to_new);
	free(rx->changed);
	memset(rx, 0, sizeof(*rx));
}

struct vip_use desired_remote_use(uint8_t protocol, const struct vip_ref *ref)
{
	return (struct vip_use){
	    .protocols = protocol == IPPROTO_UDP ? PORT_PROTO_UDP : PORT_PROTO_TCP, .ref = *ref};
}

int desired_use_keys(const struct vip_use *u, const struct vip_alloc *va, struct lb_keyset *ks)
{
	static const int families[] = {AF_INET, AF_INET6};

	for (size_t f = 0; f < 2; f++) {
		struct lb_key keys[2];
		size_t nk = vip_keys_af(u, va, families[f], keys);

		for (size_t k = 0; k < nk; k++)
			if (lb_keyset_add(ks, &keys[k]) < 0)
				return -1;
	}
	return 0;
}

int desired_id_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An old app without an id is one the reload moved into the new set (a
 * broken file's app kept at its last good definition): changed, as the
 * diff then sees it added. */
static bool id_changed(const char *const *ids, size_t nids, const char *id)
{
	return id == NULL || (vec_find(&id, ids, nids, sizeof(*ids), desired_id_cmp) != NULL);
}

/* The fresh set's app indices by id, to renumber unchanged apps. */
struct by_id {
	const struct apps_set *set;
	size_t *order; /* NULL: the set did not change (identity) */
};

static int order_cmp(const void *a, const void *b, void *ctx)
{
	const struct apps_set *set = ctx;

	return strcmp(set->apps[*(const size_t *)a].id, set->apps[*(const size_t *)b].id);
}

/* 1 when an id repeats: apps can then not be told apart by id. */
static int by_id_init(struct by_id *bi, const struct apps_set *fresh, const struct apps_set *old)
{
	bi->set = fresh;
	bi->order = NULL;
	if (fresh == old)
		return 0;
	bi->order = malloc((fresh->napps ? fresh->napps : 1) * sizeof(*bi->order));
	if (bi->order == NULL)
		return -1;
	for (size_t i = 0; i < fresh->napps; i++)
		bi->order[i] = i;
	qsort_r(bi->order, fresh->napps, sizeof(*bi->order), order_cmp, (void *)fresh);
	for (size_t i = 1; i < fresh->napps; i++)
		if (strcmp(fresh->apps[bi->order[i - 1]].id, fresh->apps[bi->order[i]].id) == 0)
			return 1;
	return 0;
}

/* The fresh index of app `id`; SIZE_MAX when it has none. */
static size_t by_id_find(const struct by_id *bi, const char *id)
{
	size_t lo = 0, hi = bi->set->napps;

	if (bi->order == NULL) {
		for (size_t i = 0; i < bi->set->napps; i++)
			if (strcmp(bi->set->apps[i].id, id) == 0)
				return i;
		return SIZE_MAX;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(bi->set->apps[bi->order[mid]].id, id);

		if (c == 0)
			return bi->order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

/* The changed apps' uses in the fresh set, app by app in id order (each
 * app's in port and label order, as vip_collect_in gives them). */
static int collect_changed(const struct desired_input *in, const struct by_id *bi,
                           const char *const *ids, size_t nids, struct vip_list *out,
                           struct diag_list *diags)
{
	for (size_t i = 0; i < nids; i++) {
		size_t ai = by_id_find(bi, ids[i]), from = out->n;
		struct apps_set one;

		if (ai == SIZE_MAX)
			continue; /* removed */
		one = (struct apps_set){.apps = &in->apps->apps[ai], .napps = 1};
		desired_check_labels(&one, diags);
		if (vip_collect_in(&one, in->ranges, out, diags) < 0)
			return -1;
		for (size_t u = from; u < out->n; u++)
			out->items[u].app = ai;
	}
	return 0;
}

static bool name_in(const struct vip_use *uses, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (uses[i].ref.named && strcmp(uses[i].ref.name, name) == 0)
			return true;
	return false;
}

static bool name_remote(const struct desired_input *in, const char *name)
{
	for (size_t i = 0, n; i < desired_remote_runs(in); i++) {
		const struct desired_remote *r = desired_remote_run(in, i, &n);

		if (n > 0 && r->vip.named && strcmp(r->vip.name, name) == 0)
			return true;
	}
	return false;
}

bool desired_name_used(const struct desired_input *in, const struct vip_list *uses,
                       const char *name)
{
	return name_in(uses->items, uses->n, name) || name_remote(in, name);
}

/* A new name needs an address; a name no app or other node uses any more
 * frees one: either is the allocation's to settle, in a whole build. */
static int names_stay(const struct desired_input *in, const struct apps_set *old,
                      const struct desired_index *ix, const char *const *ids, size_t nids,
                      const struct vip_list *fresh_uses, const struct vip_list *changed, char *err,
                      size_t errlen)
{
	struct lb_addr addr;

	for (size_t i = 0; i < changed->n; i++) {
		const struct vip_ref *r = &changed->items[i].ref;

		if (r->named && vip_name_address(&ix->alloc, r->name, &addr) < 0) {
			errbuf_set(err, errlen, "named VIP %s is new", r->name);
			return 1;
		}
	}
	for (size_t i = 0; i < ix->uses.n; i++) {
		const struct vip_use *u = &ix->uses.items[i];

		if (!u->ref.named || !id_changed(ids, nids, old->apps[u->app].id) ||
		    name_in(changed->items, changed->n, u->ref.name))
			continue;
		if (!name_in(fresh_uses->items, fresh_uses->n, u->ref.name) &&
		    !name_remote(in, u->ref.name)) {
			errbuf_set(err, errlen, "named VIP %s is no longer used", u->ref.name);
			return 1;
		}
	}
	return 0;
}

static int list_reserve(struct vip_list *l, size_t n)
{
	struct vip_use *items;

	if (n <= l->cap)
		return 0;
	items = realloc(l->items, n * sizeof(*items));
	if (items == NULL)
		return -1;
	l->items = items;
	l->cap = n;
	return 0;
}

/* The unchanged apps' old uses, renumbered into the fresh set. */
static int carry_unchanged(const struct apps_set *old, const struct desired_index *ix,
                           const struct by_id *bi, const char *const *ids, size_t nids,
                           struct vip_list *kept, size_t *kept_from)
{
	size_t last_old = SIZE_MAX, last_new = SIZE_MAX;

	if (list_reserve(kept, ix->uses.n ? ix->uses.n : 1) < 0)
		return -1;
	for (size_t i = 0; i < ix->uses.n; i++) {
		struct vip_use u = ix->uses.items[i];
		const char *id = old->apps[u.app].id;

		if (u.app != last_old) {
			last_old = u.app;
			last_new = id_changed(ids, nids, id) ? SIZE_MAX
			           : bi->order == NULL       ? u.app /* the same set */
			                                     : by_id_find(bi, id);
		}
		if (last_new == SIZE_MAX)
			continue; /* changed (or gone: then it is among ids too) */
		u.app = last_new;
		kept_from[kept->n] = i;
		kept->items[kept->n++] = u;
	}
	return 0;
}

/* Both lists in build order: merged into rx, with where each old use went. */
static int merge_uses(const struct apps_set *fresh, const struct vip_list *kept,
                      const size_t *kept_from, const struct vip_list *changed,
                      struct desired_reindex *rx)
{
	size_t n = kept->n + changed->n, i = 0, j = 0;

	if (list_reserve(&rx->uses, n ? n : 1) < 0)
		return -1;
	rx->changed = calloc(n ? n : 1, sizeof(*rx->changed));
	if (rx->changed == NULL)
		return -1;
	while (i < kept->n || j < changed->n) {
		bool take_kept = j == changed->n ||
		                 (i < kept->n &&
		                  desired_use_cmp(&kept->items[i], &changed->items[j], fresh) < 0);

		if (take_kept) {
			rx->old_to_new[kept_from[i]] = rx->uses.n;
			rx->uses.items[rx->uses.n++] = kept->items[i++];
		} else {
			rx->changed[rx->uses.n] = true;
			rx->uses.items[rx->uses.n++] = changed->items[j++];
		}
	}
	return 0;
}

int desired_reindex_uses(const struct desired_input *in, const struct apps_set *old,
                         const struct desired_index *ix, const char *const *ids, size_t nids,
                         struct desired_reindex *rx, struct diag_list *diags, char *err,
                         size_t errlen)
{
	struct by_id bi;
	struct vip_list kept = {0}, changed = {0};
	size_t *kept_from = NULL;
	int rc;

	memset(rx, 0, sizeof(*rx));
	rc = by_id_init(&bi, in->apps, old);
	if (rc > 0)
		errbuf_set(err, errlen, "app ids repeat");
	if (rc != 0)
		goto out;
	rc = -1;
	rx->nold = ix->uses.n;
	rx->old_to_new = malloc((rx->nold ? rx->nold : 1) * sizeof(*rx->old_to_new));
	kept_from = malloc((rx->nold ? rx->nold : 1) * sizeof(*kept_from));
	if (rx->old_to_new == NULL || kept_from == NULL)
		goto out;
	for (size_t i = 0; i < rx->nold; i++)
		rx->old_to_new[i] = SIZE_MAX;
	if (collect_changed(in, &bi, ids, nids, &changed, diags) < 0 ||
	    carry_unchanged(old, ix, &bi, ids, nids, &kept, kept_from) < 0 ||
	    merge_uses(in->apps, &kept, kept_from, &changed, rx) < 0)
		goto out;
	rc = names_stay(in, old, ix, ids, nids, &rx->uses, &changed, err, errlen);
out:
	if (rc < 0)
		errbuf_set(err, errlen, "desired: out of memory");
	if (rc != 0)
		desired_reindex_free(rx);
	vip_list_free(&kept);
	vip_list_free(&changed);
	free(kept_from);
	free(bi.order);
	return rc;
}
