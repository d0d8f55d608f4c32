/*
 * The desired table's remote input kept by VIP: a round after one remote
 * change replaces that VIP's group, not the 100,000 backends of every VIP
 * (bench/README.md, "Cluster results"). One rule, group_make, for one VIP
 * and for all.
 */
#include "vipd/cluster_rset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One VIP's group: the other nodes' backends of its merged set, in the
 * merge's order (this node's own come from its apps). g->n 0: none. */
static int group_make(const struct cluster_mset_vip *v, struct desired_remote_vip *g)
{
	size_t n = 0;

	*g = (struct desired_remote_vip){.protocol = v->svc.protocol, .vip = v->svc.vip};
	for (size_t i = 0; i < v->n; i++)
		n += !v->dests[i].local;
	if (n == 0)
		return 0;
	g->items = calloc(n, sizeof(*g->items));
	if (g->items == NULL)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		const struct cluster_mset_dest *d = &v->dests[i];

		if (!d->local)
			g->items[g->n++] = (struct desired_remote){v->svc.protocol, v->svc.vip,
			                                           d->addr, d->port, d->weight};
	}
	return 0;
}

static int group_cmp(const struct desired_remote_vip *g, const struct cluster_service *svc)
{
	struct cluster_service gs = {g->protocol, g->vip};

	return cluster_service_cmp(&gs, svc);
}

/* The index of svc's group, or where it would go (*found false). */
static size_t group_find(const struct cluster_rset *r, const struct cluster_service *svc,
                         bool *found)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = group_cmp(&r->vips[mid], svc);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int group_put(struct cluster_rset *r, size_t i, const struct desired_remote_vip *g)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct desired_remote_vip *grown = realloc(r->vips, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		r->vips = grown;
		r->cap = cap;
	}
	memmove(&r->vips[i + 1], &r->vips[i], (r->n - i) * sizeof(*r->vips));
	r->vips[i] = *g;
	r->n++;
	return 0;
}

static int vip_update(struct cluster_rset *r, const struct cluster_mset *m,
                      const struct cluster_service *svc)
{
	const struct cluster_mset_vip *v = cluster_mset_find(m, svc);
	struct desired_remote_vip g = {0};
	bool found;
	size_t i = group_find(r, svc, &found);

	if (v != NULL && group_make(v, &g) < 0)
		return -1;
	if (found) {
		free(r->vips[i].items);
		if (g.n > 0) {
			r->vips[i] = g;
			return 0;
		}
		memmove(&r->vips[i], &r->vips[i + 1], (r->n - i - 1) * sizeof(*r->vips));
		r->n--;
		return 0;
	}
	if (g.n == 0)
		return 0;
	if (group_put(r, i, &g) < 0) {
		free(g.items);
		return -1;
	}
	return 0;
}

int cluster_rset_update(struct cluster_rset *r, const struct cluster_mset *m,
                        const struct cluster_service *svcs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vip_update(r, m, &svcs[i]) < 0)
			return -1;
	return 0;
}

int cluster_rset_rebuild(struct cluster_rset *r, const struct cluster_mset *m)
{
	struct desired_remote_vip g;

	cluster_rset_free(r);
	for (size_t i = 0; i < m->n; i++) {
		if (group_make(&m->vips[i], &g) < 0)
			goto oom;
		if (g.n > 0 && group_put(r, r->n, &g) < 0) {
			free(g.items);
			goto oom;
		}
	}
	return 0;
oom:
	cluster_rset_free(r);
	return -1;
}

void cluster_rset_free(struct cluster_rset *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->vips[i].items);
	free(r->vips);
	memset(r, 0, sizeof(*r));
}
