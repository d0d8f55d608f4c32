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

#include "vipd/vec.h"

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

/* vec_locate's order: svc (the key) against a group. */
static int group_qcmp(const void *key, const void *elem)
{
	const struct desired_remote_vip *g = elem;
	struct cluster_service gs = {g->protocol, g->vip};

	return cluster_service_cmp(key, &gs);
}

static int vip_update(struct cluster_rset *r, const struct cluster_mset *m,
                      const struct cluster_service *svc)
{
	const struct cluster_mset_vip *v = cluster_mset_find(m, svc);
	struct desired_remote_vip g = {0};
	bool found;
	size_t i = vec_locate(svc, r->vips, r->n, sizeof(*r->vips), group_qcmp, &found);

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
	if (VEC_INSERT(r->vips, r->n, r->cap, i, &g) < 0) {
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
		if (g.n > 0 && VEC_INSERT(r->vips, r->n, r->cap, r->n, &g) < 0) {
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
