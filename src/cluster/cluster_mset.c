/*
 * The merged set kept from round to round: a round with one remote change
 * merges that change's VIP, not the 100,000 backends of every VIP (bench/
 * README.md, "Cluster (etcd)"). The rule is cluster_merge_only's, the same
 * for one VIP and for all.
 */
#include "vipd/cluster_mset.h"

#include <stdlib.h>
#include <string.h>

#include "vipd/vec.h"

#include "vipd/errbuf.h"

static int vip_qcmp(const void *a, const void *b)
{
	const struct cluster_mset_vip *x = a, *y = b;

	return cluster_service_cmp(&x->svc, &y->svc);
}

static struct cluster_mset_vip *vip_find(struct cluster_mset_vip *v, size_t n,
                                         const struct cluster_service *svc)
{
	struct cluster_mset_vip key = {.svc = *svc};

	return vec_find(&key, v, n, sizeof(*v), vip_qcmp);
}

static int service_qcmp(const void *a, const void *b)
{
	return cluster_service_cmp(a, b);
}

static bool in_services(const struct cluster_service *s, size_t n,
                        const struct cluster_service *svc)
{
	return vec_find(svc, s, n, sizeof(*s), service_qcmp) != NULL;
}

static bool local_same(const struct cluster_mset *s, const struct cluster_backend *local,
                       size_t nlocal)
{
	return s->nlocal == nlocal &&
	       (nlocal == 0 || memcmp(s->local, local, nlocal * sizeof(*local)) == 0);
}

/* dirty, plus every VIP of the old and new local backends when these
 * changed (a node has few: the whole lot is cheaper than a diff), sorted. */
static struct cluster_service *services_make(const struct cluster_mset *s,
                                             const struct cluster_backend *local, size_t nlocal,
                                             const struct cluster_service *dirty, size_t ndirty,
                                             size_t *n)
{
	bool same = local_same(s, local, nlocal);
	struct cluster_service *out =
	    calloc(ndirty + (same ? 0 : s->nlocal + nlocal) + 1, sizeof(*out));

	if (out == NULL)
		return NULL;
	*n = 0;
	for (size_t i = 0; i < ndirty; i++)
		out[(*n)++] = dirty[i];
	for (size_t i = 0; !same && i < s->nlocal; i++)
		out[(*n)++] = (struct cluster_service){s->local[i].protocol, s->local[i].vip};
	for (size_t i = 0; !same && i < nlocal; i++)
		out[(*n)++] = (struct cluster_service){local[i].protocol, local[i].vip};
	*n = cluster_services_sort(out, *n);
	return out;
}

static int vip_from(const char *self, const struct cluster_vip_backends *v,
                    struct cluster_mset_vip *out)
{
	out->svc = (struct cluster_service){v->protocol, v->vip};
	out->rule = v->rule;
	out->expired = v->expired;
	out->n = v->n;
	out->dests = calloc(v->n + 1, sizeof(*out->dests));
	if (out->dests == NULL)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		const struct cluster_backend *b = v->backends[i];

		out->dests[i] = (struct cluster_mset_dest){b->addr, b->port, b->weight,
		                                           strcmp(b->node, self) == 0};
	}
	return 0;
}

static void vips_free(struct cluster_mset_vip *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].dests);
	free(v);
}

/* The kept VIPs (not merged again) and the merged ones, in order. */
static struct cluster_mset_vip *vips_make(const struct cluster_mset *s, const char *self,
                                          const struct cluster_merged *m,
                                          const struct cluster_service *only, size_t nonly,
                                          bool all, size_t *n)
{
	struct cluster_mset_vip *out = calloc(s->n + m->n + 1, sizeof(*out));

	if (out == NULL)
		return NULL;
	*n = 0;
	for (size_t i = 0; !all && i < s->n; i++)
		if (!in_services(only, nonly, &s->vips[i].svc))
			out[(*n)++] = s->vips[i]; /* its dests move; not freed with s */
	for (size_t i = 0; i < m->n; i++) {
		if (vip_from(self, &m->vips[i], &out[*n]) < 0) {
			for (size_t k = *n - i; k < *n; k++) /* the new ones only */
				free(out[k].dests);
			free(out);
			return NULL;
		}
		(*n)++;
	}
	vec_sort(out, *n, sizeof(*out), vip_qcmp);
	return out;
}

static bool rule_differs(const struct cluster_mset_vip *a, const struct cluster_mset_vip *b)
{
	enum cluster_rule ra = a ? a->rule : CLUSTER_RULE_LIVE,
	                  rb = b ? b->rule : CLUSTER_RULE_LIVE;
	size_t ea = a ? a->expired : 0, eb = b ? b->expired : 0;

	return ra != rb || ea != eb;
}

static void rules_tell(struct cluster_mset_vip *old, size_t nold, struct cluster_mset_vip *now,
                       size_t nnow, cluster_mset_rule_fn fn, void *arg)
{
	for (size_t i = 0; fn && i < nnow; i++) {
		struct cluster_mset_vip *was = vip_find(old, nold, &now[i].svc);

		if (rule_differs(was, &now[i]))
			fn(arg, &now[i].svc, now[i].rule, now[i].expired);
	}
	for (size_t i = 0; fn && i < nold; i++)
		if (vip_find(now, nnow, &old[i].svc) == NULL && rule_differs(&old[i], NULL))
			fn(arg, &old[i].svc, CLUSTER_RULE_LIVE, 0);
}

static bool dests_differ(const struct cluster_mset_vip *a, const struct cluster_mset_vip *b)
{
	size_t na = a ? a->n : 0, nb = b ? b->n : 0;

	if (na != nb)
		return true;
	for (size_t i = 0; i < na; i++) {
		const struct cluster_mset_dest *x = &a->dests[i], *y = &b->dests[i];

		if (lb_addr_cmp(&x->addr, &y->addr) != 0 || x->port != y->port ||
		    x->weight != y->weight || x->local != y->local)
			return true;
	}
	return false;
}

static void change_note(struct cluster_mset *s, const struct cluster_service *svc)
{
	if (VEC_RESERVE(s->changed, s->changed_cap, s->nchanged + 1) < 0) {
		s->changed_all = true;
		return;
	}
	s->changed[s->nchanged++] = *svc;
}

/* The merged-again VIPs whose backends came out different. */
static void changes_note(struct cluster_mset *s, struct cluster_mset_vip *now, size_t nnow,
                         const struct cluster_service *only, size_t nonly, bool all)
{
	if (all) {
		s->changed_all = true;
		return;
	}
	for (size_t i = 0; i < nonly && !s->changed_all; i++)
		if (dests_differ(vip_find(s->vips, s->n, &only[i]), vip_find(now, nnow, &only[i])))
			change_note(s, &only[i]);
}

const struct cluster_mset_vip *cluster_mset_find(const struct cluster_mset *s,
                                                 const struct cluster_service *svc)
{
	return vip_find(s->vips, s->n, svc);
}

void cluster_mset_changes_clear(struct cluster_mset *s)
{
	s->nchanged = 0;
	s->changed_all = false;
}

static struct cluster_backend *local_copy(const struct cluster_backend *local, size_t nlocal)
{
	struct cluster_backend *copy = calloc(nlocal + 1, sizeof(*copy));

	if (copy && nlocal)
		memcpy(copy, local, nlocal * sizeof(*local));
	return copy;
}

/* cluster_mset_source over one array holding every record */
struct array_source {
	const struct cluster_remote *remote;
	size_t n;
};

static const struct cluster_remote *array_remotes(void *arg, const struct cluster_service *only,
                                                  size_t nonly, size_t *n)
{
	static const struct cluster_remote none; /* NULL would say out of memory */
	const struct array_source *a = arg;

	(void)only;
	(void)nonly;
	*n = a->n;
	return a->remote != NULL ? a->remote : &none;
}

int cluster_mset_update(struct cluster_mset *s, const char *self,
                        const struct cluster_backend *local, size_t nlocal,
                        const struct cluster_remote *remote, size_t nremote,
                        const struct cluster_service *dirty, size_t ndirty, bool all,
                        cluster_mset_rule_fn fn, void *arg, char *err, size_t errlen)
{
	struct array_source a = {remote, nremote};
	struct cluster_mset_source src = {array_remotes, &a};

	return cluster_mset_update_from(s, self, local, nlocal, &src, dirty, ndirty, all, fn, arg,
	                                err, errlen);
}

int cluster_mset_update_from(struct cluster_mset *s, const char *self,
                             const struct cluster_backend *local, size_t nlocal,
                             const struct cluster_mset_source *src,
                             const struct cluster_service *dirty, size_t ndirty, bool all,
                             cluster_mset_rule_fn fn, void *arg, char *err, size_t errlen)
{
	struct cluster_service *only = NULL;
	const struct cluster_remote *remote;
	struct cluster_mset_vip *now;
	struct cluster_backend *lcopy;
	struct cluster_merged m;
	size_t nonly = 0, nnow = 0, nremote = 0;

	all = all || !s->primed;
	if (!all) {
		only = services_make(s, local, nlocal, dirty, ndirty, &nonly);
		if (only == NULL)
			goto oom;
		if (nonly == 0) {
			free(only);
			return 0;
		}
	}
	remote = src->remotes(src->arg, all ? NULL : only, nonly, &nremote);
	if (remote == NULL) {
		free(only);
		goto oom;
	}
	if (cluster_merge_only(self, local, nlocal, remote, nremote, all ? NULL : only, nonly, &m,
	                       err, errlen) < 0) {
		free(only);
		return -1;
	}
	now = vips_make(s, self, &m, only, nonly, all, &nnow);
	cluster_merged_free(&m);
	lcopy = now ? local_copy(local, nlocal) : NULL;
	if (lcopy == NULL) {
		/* the kept entries in now are still s's: only the new ones go */
		for (size_t i = 0; now && i < nnow; i++)
			if (all || in_services(only, nonly, &now[i].svc))
				free(now[i].dests);
		free(now);
		free(only);
		goto oom;
	}
	rules_tell(s->vips, s->n, now, nnow, fn, arg);
	changes_note(s, now, nnow, only, nonly, all);
	for (size_t i = 0; i < s->n; i++)
		if (all || in_services(only, nonly, &s->vips[i].svc))
			free(s->vips[i].dests);
	free(s->vips);
	free(only);
	s->vips = now;
	s->n = nnow;
	free(s->local);
	s->local = lcopy;
	s->nlocal = nlocal;
	s->primed = true;
	return 1;
oom:
	errbuf_set(err, errlen, "cluster merge: out of memory");
	return -1;
}

void cluster_mset_free(struct cluster_mset *s)
{
	vips_free(s->vips, s->n);
	free(s->local);
	free(s->changed);
	memset(s, 0, sizeof(*s));
}
