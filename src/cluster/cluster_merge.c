/*
 * The cluster's merge and failure rules (issue 9 items 3-4), pure: every
 * node's backends into one backend set per VIP, and which rule decided the
 * fate of the backends of nodes whose lease expired (for the audit log).
 */
#include "vipd/cluster.h"
#include "vipd/errbuf.h"
#include "vipd/vec.h"

#include <stdlib.h>
#include <string.h>

/* Where a candidate backend comes from, in the order a duplicate is taken. */
enum source { SRC_LOCAL, SRC_LIVE, SRC_EXPIRED };

struct cand {
	const struct cluster_backend *b;
	enum source src;
};

const char *cluster_rule_name(enum cluster_rule r)
{
	switch (r) {
	case CLUSTER_RULE_LIVE:
		return "live";
	case CLUSTER_RULE_EXPIRED_DROPPED:
		return "expired_dropped";
	case CLUSTER_RULE_EXPIRED_KEPT:
		return "expired_kept_last_backends";
	}
	return "?";
}

static int vip_cmp(const struct vip_ref *a, const struct vip_ref *b)
{
	int c;

	if (a->named != b->named)
		return a->named ? -1 : 1;
	c = a->named ? strcmp(a->name, b->name) : lb_addr_cmp(&a->addr, &b->addr);
	if (c)
		return c;
	return (int)a->port - (int)b->port;
}

static int service_cmp(const struct cluster_backend *a, const struct cluster_backend *b)
{
	if (a->protocol != b->protocol)
		return (int)a->protocol - (int)b->protocol;
	return vip_cmp(&a->vip, &b->vip);
}

int cluster_service_cmp(const struct cluster_service *a, const struct cluster_service *b)
{
	if (a->protocol != b->protocol)
		return (int)a->protocol - (int)b->protocol;
	return vip_cmp(&a->vip, &b->vip);
}

static int service_qcmp(const void *a, const void *b)
{
	return cluster_service_cmp(a, b);
}

size_t cluster_services_sort(struct cluster_service *s, size_t n)
{
	return vec_sort_unique(s, n, sizeof(*s), service_qcmp);
}

/* only NULL: every VIP. */
static bool wanted(const struct cluster_backend *b, const struct cluster_service *only,
                   size_t n_only)
{
	struct cluster_service key = {b->protocol, b->vip};

	return only == NULL || vec_find(&key, only, n_only, sizeof(*only), service_qcmp) != NULL;
}

static int dest_cmp(const struct cluster_backend *a, const struct cluster_backend *b)
{
	int c = lb_addr_cmp(&a->addr, &b->addr);

	return c ? c : (int)a->port - (int)b->port;
}

static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	int c = service_cmp(a->b, b->b);

	if (c)
		return c;
	if ((c = dest_cmp(a->b, b->b)))
		return c;
	if (a->src != b->src)
		return (int)a->src - (int)b->src;
	return strcmp(a->b->node, b->b->node);
}

/* Which backends can take part: remote ones only when healthy (a remote
 * node's unhealthy backend has no connection of ours to drain). */
static size_t collect(const char *self, const struct cluster_backend *local, size_t n_local,
                      const struct cluster_remote *remote, size_t n_remote,
                      const struct cluster_service *only, size_t n_only, struct cand *out)
{
	size_t i, n = 0;

	for (i = 0; i < n_local; i++)
		if (wanted(&local[i], only, n_only))
			out[n++] = (struct cand){&local[i], SRC_LOCAL};
	for (i = 0; i < n_remote; i++) {
		const struct cluster_remote *r = &remote[i];

		if (strcmp(r->b.node, self) == 0 || r->b.health != CLUSTER_HEALTH_HEALTHY ||
		    !wanted(&r->b, only, n_only))
			continue;
		out[n++] = (struct cand){&r->b, r->lease_alive ? SRC_LIVE : SRC_EXPIRED};
	}
	return n;
}

/* One VIP's candidates [0, n), sorted, duplicates next to each other. */
static void merge_vip(const struct cand *c, size_t n, struct cluster_vip_backends *v,
                      const struct cluster_backend **slots)
{
	bool live_healthy = false, keep_expired;
	size_t i, expired = 0;

	for (i = 0; i < n; i++) {
		if (i > 0 && dest_cmp(c[i].b, c[i - 1].b) == 0)
			continue; /* a duplicate: the better source came first */
		if (c[i].src == SRC_EXPIRED)
			expired++;
		else if (c[i].src == SRC_LIVE || c[i].b->health == CLUSTER_HEALTH_HEALTHY)
			live_healthy = true;
	}
	/* DC/OS keeps unreachable agents' backends when no other would serve. */
	keep_expired = expired > 0 && !live_healthy;
	v->protocol = c[0].b->protocol;
	v->vip = c[0].b->vip;
	v->backends = slots;
	v->n = 0;
	v->expired = expired;
	v->rule = expired == 0   ? CLUSTER_RULE_LIVE
	          : keep_expired ? CLUSTER_RULE_EXPIRED_KEPT
	                         : CLUSTER_RULE_EXPIRED_DROPPED;
	for (i = 0; i < n; i++) {
		if (i > 0 && dest_cmp(c[i].b, c[i - 1].b) == 0)
			continue;
		if (c[i].src != SRC_EXPIRED || keep_expired)
			slots[v->n++] = c[i].b;
	}
}

int cluster_merge(const char *self, const struct cluster_backend *local, size_t n_local,
                  const struct cluster_remote *remote, size_t n_remote, struct cluster_merged *out,
                  char *err, size_t errlen)
{
	return cluster_merge_only(self, local, n_local, remote, n_remote, NULL, 0, out, err,
	                          errlen);
}

int cluster_merge_only(const char *self, const struct cluster_backend *local, size_t n_local,
                       const struct cluster_remote *remote, size_t n_remote,
                       const struct cluster_service *only, size_t n_only,
                       struct cluster_merged *out, char *err, size_t errlen)
{
	struct cand *c;
	size_t n, i, start, used = 0;

	memset(out, 0, sizeof(*out));
	c = calloc(n_local + n_remote + 1, sizeof(*c));
	out->all = calloc(n_local + n_remote + 1, sizeof(const struct cluster_backend *));
	out->vips = calloc(n_local + n_remote + 1, sizeof(*out->vips));
	if (!c || !out->all || !out->vips) {
		free(c);
		cluster_merged_free(out);
		errbuf_set(err, errlen, "cluster merge: out of memory");
		return -1;
	}
	n = collect(self, local, n_local, remote, n_remote, only, n_only, c);
	vec_sort(c, n, sizeof(*c), cand_cmp);
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && service_cmp(c[i].b, c[start].b) == 0; i++)
			;
		merge_vip(c + start, i - start, &out->vips[out->n], out->all + used);
		used += out->vips[out->n].n;
		out->n++;
	}
	free(c);
	return 0;
}

void cluster_merged_free(struct cluster_merged *m)
{
	free(m->vips);
	free(m->all);
	memset(m, 0, sizeof(*m));
}
