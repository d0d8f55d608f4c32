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

#include "desired_int.h"

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
	if (ix->nfeeds == ix->feeds_cap) {
		size_t cap = ix->feeds_cap ? ix->feeds_cap * 2 : 64;
		struct desired_feed *feeds = realloc(ix->feeds, cap * sizeof(*feeds));

		if (feeds == NULL)
			return -1;
		ix->feeds = feeds;
		ix->feeds_cap = cap;
	}
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
		qsort(ix->feeds, ix->nfeeds, sizeof(*ix->feeds), feed_cmp);
}

/* ---- which services, fed by which uses ---- */

/* The first element of base[0..n) (each `size` bytes, its service key at
 * `off`, sorted by it) whose key is not below k. */
static size_t key_lower(const void *base, size_t n, size_t size, size_t off, const struct lb_key *k)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct lb_key *at = (const void *)((const char *)base + mid * size + off);

		if (lb_key_cmp(at, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first feed of service k. */
static size_t feed_lower(const struct desired_index *ix, const struct lb_key *k)
{
	return key_lower(ix->feeds, ix->nfeeds, sizeof(*ix->feeds),
	                 offsetof(struct desired_feed, svc), k);
}

static bool feeds(const struct desired_index *ix, const struct lb_key *k, size_t use)
{
	struct desired_feed probe = {.svc = *k, .use = use};

	return ix->nfeeds > 0 &&
	       bsearch(&probe, ix->feeds, ix->nfeeds, sizeof(*ix->feeds), feed_cmp) != NULL;
}

/* The first use of app `id` (uses are in app id order). */
static size_t use_lower(const struct desired_input *in, const struct desired_index *ix,
                        const char *id)
{
	size_t lo = 0, hi = ix->uses.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(in->apps->apps[ix->uses.items[mid].app].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds the services that app `id`'s uses feed. */
static int app_services(const struct desired_input *in, const struct desired_index *ix,
                        const char *id, struct lb_keyset *targets)
{
	static const int families[] = {AF_INET, AF_INET6};

	for (size_t u = use_lower(in, ix, id); u < ix->uses.n; u++) {
		const struct vip_use *use = &ix->uses.items[u];

		if (strcmp(in->apps->apps[use->app].id, id) != 0)
			break;
		for (size_t f = 0; f < 2; f++) {
			struct lb_key keys[2];
			size_t nk = vip_keys_af(use, &ix->alloc, families[f], keys);

			for (size_t k = 0; k < nk; k++)
				if (feeds(ix, &keys[k], u) && lb_keyset_add(targets, &keys[k]) < 0)
					return -1;
		}
	}
	return 0;
}

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Every use feeding a target, once each, in build order. */
static int feeding_uses(const struct desired_index *ix, const struct lb_keyset *targets,
                        struct vip_use **out, size_t *n)
{
	size_t *idx = NULL, m = 0, cap = 0;

	*out = NULL;
	*n = 0;
	for (size_t t = 0; t < targets->n; t++) {
		for (size_t f = feed_lower(ix, &targets->keys[t]);
		     f < ix->nfeeds && lb_key_cmp(&ix->feeds[f].svc, &targets->keys[t]) == 0; f++) {
			if (m == cap) {
				size_t *grown =
				    realloc(idx, (cap = cap ? cap * 2 : 16) * sizeof(*idx));

				if (grown == NULL)
					goto oom;
				idx = grown;
			}
			idx[m++] = ix->feeds[f].use;
		}
	}
	if (m > 1)
		qsort(idx, m, sizeof(*idx), size_cmp);
	*out = malloc((m ? m : 1) * sizeof(**out));
	if (*out == NULL)
		goto oom;
	for (size_t i = 0; i < m; i++)
		if (*n == 0 || idx[i] != idx[i - 1])
			(*out)[(*n)++] = ix->uses.items[idx[i]];
	free(idx);
	return 0;
oom:
	free(idx);
	return -1;
}

/* ---- the state entries of some services ---- */

/* The first entry of service k. */
static size_t entry_lower(const struct desired_state *st, const struct lb_key *k)
{
	return key_lower(st->entries, st->n, sizeof(*st->entries),
	                 offsetof(struct desired_entry, svc), k);
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
 * its order. Room is made first, so that a failure leaves st as it was. */
static int state_splice(struct desired_state *st, const struct lb_keyset *targets,
                        const struct desired_state *fresh)
{
	size_t old = 0;

	for (size_t t = 0; t < targets->n; t++) {
		size_t from, to = entry_range(st, &targets->keys[t], &from);

		old += to - from;
	}
	if (state_reserve(st, st->n - old + fresh->n) < 0)
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
	struct lb_keyset targets;
	struct vip_use *uses;
	size_t nuses;
	struct desired_state prev, fresh;
	struct diag_list diags;
};

static void some_free(struct some *s)
{
	lb_keyset_free(&s->targets);
	free(s->uses);
	desired_state_free(&s->prev);
	desired_state_free(&s->fresh);
	diag_list_free(&s->diags);
}

int desired_build_services(const struct desired_input *in, const struct desired_index *ix,
                           const char *const *app_ids, size_t napp_ids, struct desired_state *state,
                           struct lb_table *out, int64_t *next_change_ms, char *err, size_t errlen)
{
	struct some s;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	lb_keyset_init(&s.targets);
	for (size_t i = 0; i < napp_ids; i++)
		if (app_services(in, ix, app_ids[i], &s.targets) < 0)
			goto out;
	lb_keyset_sort(&s.targets);
	if (feeding_uses(ix, &s.targets, &s.uses, &s.nuses) < 0 ||
	    state_select(state, &s.targets, &s.prev) < 0)
		goto out;
	if (desired_build_some(in, s.uses, s.nuses, &ix->alloc, &s.targets, &s.prev, out, &s.fresh,
	                       &s.diags, next_change_ms) < 0 ||
	    state_splice(state, &s.targets, &s.fresh) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		snprintf(err, errlen, "desired: out of memory");
	some_free(&s);
	return rc;
}
