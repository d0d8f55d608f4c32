/*
 * Rebuilding some services of the desired table: after a health change,
 * only the services its app's VIP uses feed can change, so only they are
 * built again (from every use feeding them) and only their state entries
 * move on. The index of the last full build says which use feeds what.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vipd/desired.h"
#include "vipd/errbuf.h"

#include "desired_int.h"
#include "vipd/vec.h"

void desired_index_init(struct desired_index *ix)
{
	memset(ix, 0, sizeof(*ix));
}

void desired_index_free(struct desired_index *ix)
{
	vip_list_free(&ix->uses);
	vip_alloc_free(&ix->alloc);
	free(ix->feeds);
	desired_index_init(ix);
}

int desired_index_note(struct desired_index *ix, const struct lb_key *svc, size_t use)
{
	if (VEC_RESERVE(ix->feeds, ix->feeds_cap, ix->nfeeds + 1) < 0)
		return -1;
	ix->feeds[ix->nfeeds++] = (struct desired_feed){.svc = *svc, .use = use};
	return 0;
}

void desired_index_take(struct desired_index *ix, struct vip_list *vl, struct vip_alloc *va)
{
	ix->uses = *vl;
	ix->alloc = *va;
	memset(vl, 0, sizeof(*vl));
	memset(va, 0, sizeof(*va));
}

static int feed_cmp(const void *a, const void *b)
{
	const struct desired_feed *x = a, *y = b;
	int c = lb_key_cmp(&x->svc, &y->svc);

	if (c != 0)
		return c;
	return x->use < y->use ? -1 : x->use > y->use;
}

void desired_index_sort(struct desired_index *ix)
{
	if (ix->nfeeds > 1)
		vec_sort(ix->feeds, ix->nfeeds, sizeof(*ix->feeds), feed_cmp);
}

/* ---- which services, fed by which uses ---- */

/* vec_lower_bound's orders: a service key against a feed's, an entry's. */
static int feed_key_cmp(const void *key, const void *elem)
{
	const struct desired_feed *f = elem;

	return lb_key_cmp(key, &f->svc);
}

static int entry_key_cmp(const void *key, const void *elem)
{
	const struct desired_entry *e = elem;

	return lb_key_cmp(key, &e->svc);
}

size_t desired_feed_lower(const struct desired_index *ix, const struct lb_key *k)
{
	return vec_lower_bound(k, ix->feeds, ix->nfeeds, sizeof(*ix->feeds), feed_key_cmp);
}

/* ---- the state entries of some services ---- */

/* The first entry of service k. */
static size_t entry_lower(const struct desired_state *st, const struct lb_key *k)
{
	return vec_lower_bound(k, st->entries, st->n, sizeof(*st->entries), entry_key_cmp);
}

/* [*from, return) are the entries of service k. */
static size_t entry_range(const struct desired_state *st, const struct lb_key *k, size_t *from)
{
	size_t to = *from = entry_lower(st, k);

	while (to < st->n && lb_key_cmp(&st->entries[to].svc, k) == 0)
		to++;
	return to;
}

static int state_reserve(struct desired_state *st, size_t need)
{
	struct desired_entry *entries;

	if (need <= st->cap)
		return 0;
	entries = realloc(st->entries, need * sizeof(*entries));
	if (entries == NULL)
		return -1;
	st->entries = entries;
	st->cap = need;
	return 0;
}

/* The entries of the targets, in order, into out (initialised empty). */
static int state_select(const struct desired_state *st, const struct lb_keyset *targets,
                        struct desired_state *out)
{
	for (size_t t = 0; t < targets->n; t++) {
		size_t from, to = entry_range(st, &targets->keys[t], &from);

		if (to == from)
			continue;
		if (state_reserve(out, out->n + (to - from)) < 0)
			return -1;
		memcpy(out->entries + out->n, st->entries + from,
		       (to - from) * sizeof(*st->entries));
		out->n += to - from;
	}
	return 0;
}

/* Replaces each target's entries in st by its entries in fresh; st keeps
 * its order. Room is made first, so that a failure leaves st as it was:
 * targets are replaced one by one, so a target that grows before one that
 * shrinks needs up to st->n + fresh->n on the way. */
static int state_splice(struct desired_state *st, const struct lb_keyset *targets,
                        const struct desired_state *fresh)
{
	if (state_reserve(st, st->n + fresh->n) < 0)
		return -1;
	for (size_t t = 0; t < targets->n; t++) {
		const struct lb_key *k = &targets->keys[t];
		size_t from, to = entry_range(st, k, &from), ffrom,
		             fto = entry_range(fresh, k, &ffrom);
		size_t n = fto - ffrom;

		if (n == 0 && to == from)
			continue;
		memmove(st->entries + from + n, st->entries + to,
		        (st->n - to) * sizeof(*st->entries));
		if (n > 0)
			memcpy(st->entries + from, fresh->entries + ffrom,
			       n * sizeof(*st->entries));
		st->n = st->n - (to - from) + n;
	}
	return 0;
}

/* ---- the build ---- */

struct some {
	const char **ids; /* sorted, each once */
	size_t nids;
	struct desired_reindex rx;
	struct lb_keyset targets;
	struct vip_use *uses; /* to build, in build order */
	size_t *global;       /* each one's position in rx.uses */
	size_t nuses;
	const struct desired_vip *vips; /* whose remote backends changed */
	size_t nvips;
	struct desired_index noted; /* the feeds the build found, by position in uses */
	struct desired_feed *feeds; /* the new index's */
	size_t nfeeds;
	struct desired_state prev, fresh;
	struct diag_list diags; /* when the caller wants none */
};

static void some_free(struct some *s)
{
	free(s->ids);
	desired_reindex_free(&s->rx);
	lb_keyset_free(&s->targets);
	free(s->uses);
	free(s->global);
	desired_index_free(&s->noted);
	free(s->feeds);
	desired_state_free(&s->prev);
	desired_state_free(&s->fresh);
	diag_list_free(&s->diags);
}

static int sorted_ids(struct some *s, const char *const *ids, size_t n)
{
	s->ids = malloc((n ? n : 1) * sizeof(*s->ids));
	if (s->ids == NULL)
		return -1;
	if (n > 0)
		memcpy(s->ids, ids, n * sizeof(*ids));
	vec_sort(s->ids, n, sizeof(*s->ids), desired_id_cmp);
	for (size_t i = 0; i < n; i++)
		if (s->nids == 0 || strcmp(s->ids[s->nids - 1], s->ids[i]) != 0)
			s->ids[s->nids++] = s->ids[i];
	return 0;
}

/* A name that gets or loses its place in the allocation (a remote-only
 * named VIP appearing or going): the allocation is a whole build's. */
static int vip_names_stay(const struct desired_input *in, const struct desired_index *ix,
                          const struct some *s, char *err, size_t errlen)
{
	struct lb_addr addr;

	for (size_t i = 0; i < s->nvips; i++) {
		const struct vip_ref *r = &s->vips[i].vip;
		bool allocated, used;

		if (!r->named)
			continue;
		allocated = vip_name_address(&ix->alloc, r->name, &addr) == 0;
		used = desired_name_used(in, &s->rx.uses, r->name);
		if (allocated == used)
			continue;
		errbuf_set(err, errlen, "named VIP %s is %s", r->name,
		           used ? "new" : "no longer used");
		return 1;
	}
	return 0;
}

/* The services a VIP makes, in each family it has an address in. */
static int remote_vip_keys(const struct desired_vip *v, const struct vip_alloc *va,
                           struct lb_keyset *ks)
{
	struct vip_use u = desired_remote_use(v->protocol, &v->vip);

	return desired_use_keys(&u, va, ks);
}

/* Every service the changed apps' uses, old and new, could feed (a
 * service they no longer feed is rebuilt from its other uses, or goes),
 * and the services of the VIPs whose remote backends changed. */
static int collect_targets(const struct desired_index *ix, struct some *s)
{
	for (size_t i = 0; i < s->nvips; i++)
		if (remote_vip_keys(&s->vips[i], &ix->alloc, &s->targets) < 0)
			return -1;
	for (size_t i = 0; i < ix->uses.n; i++)
		if (s->rx.old_to_new[i] == SIZE_MAX &&
		    desired_use_keys(&ix->uses.items[i], &ix->alloc, &s->targets) < 0)
			return -1;
	for (size_t i = 0; i < s->rx.uses.n; i++)
		if (s->rx.changed[i] &&
		    desired_use_keys(&s->rx.uses.items[i], &ix->alloc, &s->targets) < 0)
			return -1;
	lb_keyset_sort(&s->targets);
	return 0;
}

/* The changed apps' uses and every other use feeding a target, in build
 * order. */
static int uses_to_build(const struct desired_index *ix, struct some *s)
{
	size_t n = s->rx.uses.n;
	bool *take = calloc(n ? n : 1, sizeof(*take));

	if (take == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		take[i] = s->rx.changed[i];
	for (size_t t = 0; t < s->targets.n; t++) {
		const struct lb_key *k = &s->targets.keys[t];

		for (size_t f = desired_feed_lower(ix, k);
		     f < ix->nfeeds && lb_key_cmp(&ix->feeds[f].svc, k) == 0; f++)
			if (s->rx.old_to_new[ix->feeds[f].use] != SIZE_MAX)
				take[s->rx.old_to_new[ix->feeds[f].use]] = true;
	}
	s->uses = malloc((n ? n : 1) * sizeof(*s->uses));
	s->global = malloc((n ? n : 1) * sizeof(*s->global));
	if (s->uses != NULL && s->global != NULL)
		for (size_t i = 0; i < n; i++)
			if (take[i]) {
				s->global[s->nuses] = i;
				s->uses[s->nuses++] = s->rx.uses.items[i];
			}
	free(take);
	return s->uses != NULL && s->global != NULL ? 0 : -1;
}

/* The new index's feeds: the old ones into services not rebuilt (their
 * uses renumbered), and the ones the rebuild found. */
static int next_feeds(const struct desired_index *ix, struct some *s)
{
	size_t cap = ix->nfeeds + s->noted.nfeeds;

	s->feeds = malloc((cap ? cap : 1) * sizeof(*s->feeds));
	if (s->feeds == NULL)
		return -1;
	for (size_t f = 0; f < ix->nfeeds; f++) {
		size_t use = s->rx.old_to_new[ix->feeds[f].use];

		if (use != SIZE_MAX && !lb_keyset_contains(&s->targets, &ix->feeds[f].svc))
			s->feeds[s->nfeeds++] =
			    (struct desired_feed){.svc = ix->feeds[f].svc, .use = use};
	}
	for (size_t f = 0; f < s->noted.nfeeds; f++)
		s->feeds[s->nfeeds++] = (struct desired_feed){
		    .svc = s->noted.feeds[f].svc, .use = s->global[s->noted.feeds[f].use]};
	if (s->nfeeds > 1)
		vec_sort(s->feeds, s->nfeeds, sizeof(*s->feeds), feed_cmp);
	return 0;
}

/* Nothing can fail after this: the index describes the new set. */
static void index_commit(struct desired_index *ix, struct some *s)
{
	vip_list_free(&ix->uses);
	ix->uses = s->rx.uses;
	memset(&s->rx.uses, 0, sizeof(s->rx.uses));
	free(ix->feeds);
	ix->feeds = s->feeds;
	ix->nfeeds = ix->feeds_cap = s->nfeeds;
	s->feeds = NULL;
}

int desired_build_changed(const struct desired_input *in, const struct apps_set *old,
                          const char *const *app_ids, size_t napp_ids,
                          const struct desired_vip *vips, size_t nvips, struct desired_index *ix,
                          struct desired_state *state, struct lb_table *out,
                          struct lb_keyset *targets, struct diag_list *diags,
                          int64_t *next_change_ms, char *err, size_t errlen)
{
	struct some s;
	struct diag_list *dl;
	int rc;

	memset(&s, 0, sizeof(s));
	lb_keyset_init(&s.targets);
	desired_index_init(&s.noted);
	s.vips = vips;
	s.nvips = nvips;
	dl = diags ? diags : &s.diags;
	if (sorted_ids(&s, app_ids, napp_ids) < 0)
		goto nomem;
	rc = desired_reindex_uses(in, old, ix, s.ids, s.nids, &s.rx, dl, err, errlen);
	if (rc == 0)
		rc = vip_names_stay(in, ix, &s, err, errlen);
	if (rc != 0)
		goto out;
	if (collect_targets(ix, &s) < 0 || uses_to_build(ix, &s) < 0 ||
	    state_select(state, &s.targets, &s.prev) < 0)
		goto nomem;
	if (desired_build_some(in, s.uses, s.nuses, &ix->alloc, &s.targets, &s.prev, out, &s.fresh,
	                       dl, next_change_ms, &s.noted) < 0 ||
	    next_feeds(ix, &s) < 0 || state_splice(state, &s.targets, &s.fresh) < 0)
		goto nomem;
	index_commit(ix, &s);
	if (targets != NULL) {
		lb_keyset_free(targets);
		*targets = s.targets;
		lb_keyset_init(&s.targets);
	}
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "desired: out of memory");
	rc = -1;
out:
	some_free(&s);
	return rc;
}

int desired_build_apps(const struct desired_input *in, const struct apps_set *old,
                       const char *const *app_ids, size_t napp_ids, struct desired_index *ix,
                       struct desired_state *state, struct lb_table *out, struct lb_keyset *targets,
                       struct diag_list *diags, int64_t *next_change_ms, char *err, size_t errlen)
{
	return desired_build_changed(in, old, app_ids, napp_ids, NULL, 0, ix, state, out, targets,
	                             diags, next_change_ms, err, errlen);
}

int desired_build_services(const struct desired_input *in, struct desired_index *ix,
                           const char *const *app_ids, size_t napp_ids, struct desired_state *state,
                           struct lb_table *out, int64_t *next_change_ms, char *err, size_t errlen)
{
	return desired_build_apps(in, in->apps, app_ids, napp_ids, ix, state, out, NULL, NULL,
	                          next_change_ms, err, errlen) == 0
	           ? 0
	           : -1;
}

/* ---- the rebuilt services into a whole table ---- */

bool desired_targets_same_services(const struct lb_table *t, const struct lb_keyset *targets,
                                   const struct lb_table *part)
{
	for (size_t i = 0; i < targets->n; i++)
		if ((lb_table_find(t, &targets->keys[i]) != NULL) !=
		    (lb_table_find(part, &targets->keys[i]) != NULL))
			return false;
	return true;
}

int desired_table_splice(struct lb_table *t, const struct lb_keyset *targets,
                         const struct lb_table *part)
{
	struct lb_table next;

	if (desired_targets_same_services(t, targets, part))
		return lb_table_patch(t, part);
	lb_table_init(&next);
	for (size_t i = 0; i < t->nsvcs; i++)
		if (!lb_keyset_contains(targets, &t->svcs[i].key) &&
		    lb_table_add_copy(&next, &t->svcs[i]) == NULL)
			goto nomem;
	for (size_t i = 0; i < part->nsvcs; i++)
		if (lb_table_add_copy(&next, &part->svcs[i]) == NULL)
			goto nomem;
	if (lb_table_sort(&next) < 0)
		goto nomem;
	lb_table_free(t);
	*t = next;
	return 0;
nomem:
	lb_table_free(&next);
	return -1;
}
