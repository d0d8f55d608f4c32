/*
 * The merged backend set of every VIP, kept from round to round (issue 9,
 * scale): each round merges again only the VIPs whose records changed (the
 * view says which) or whose local backends changed, with the one rule of
 * cluster_merge_only. Pure.
 */
#ifndef VIPD_CLUSTER_MSET_H
#define VIPD_CLUSTER_MSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vipd/cluster.h"

struct cluster_mset_dest {
	struct lb_addr addr;
	uint16_t port;
	uint32_t weight;
	bool local; /* this node's own backend */
};

struct cluster_mset_vip {
	struct cluster_service svc;
	enum cluster_rule rule;
	size_t expired;
	struct cluster_mset_dest *dests; /* as cluster_merge orders them */
	size_t n;
};

struct cluster_mset {
	struct cluster_mset_vip *vips; /* by cluster_service_cmp */
	size_t n;
	struct cluster_backend *local; /* the last update's local backends */
	size_t nlocal;
	bool primed; /* merged whole once */
	/* The VIPs whose merged backends changed since the last
	 * cluster_mset_changes_clear (repeats possible); changed_all: any
	 * may have (a whole merge, or no memory to list them). */
	struct cluster_service *changed;
	size_t nchanged, changed_cap;
	bool changed_all;
};

/* A VIP whose rule is not the one it had (absent counts as live, 0). */
typedef void (*cluster_mset_rule_fn)(void *arg, const struct cluster_service *svc,
                                     enum cluster_rule rule, size_t expired);

/* Merges again the VIPs in dirty (the services whose remote records changed
 * since the last update; all: every VIP) and those whose local backends
 * changed; the others keep their merged set. 1 when some VIP was merged
 * again (its set may have come out the same), 0 when none needed it, -1
 * (err; the set as it was) when out of memory. */
int cluster_mset_update(struct cluster_mset *s, const char *self,
                        const struct cluster_backend *local, size_t nlocal,
                        const struct cluster_remote *remote, size_t nremote,
                        const struct cluster_service *dirty, size_t ndirty, bool all,
                        cluster_mset_rule_fn fn, void *arg, char *err, size_t errlen);

/* The other nodes' records of the VIPs in `only` (sorted, each once; NULL:
 * every VIP's), others allowed; NULL when out of memory. Valid until the
 * next call. */
struct cluster_mset_source {
	const struct cluster_remote *(*remotes)(void *arg, const struct cluster_service *only,
	                                        size_t nonly, size_t *n);
	void *arg;
};

/* cluster_mset_update asking src for the records of the VIPs it merges
 * again only: a round with one changed VIP copies and walks that VIP's
 * records, not every VIP's (cluster_view_remotes_of). */
int cluster_mset_update_from(struct cluster_mset *s, const char *self,
                             const struct cluster_backend *local, size_t nlocal,
                             const struct cluster_mset_source *src,
                             const struct cluster_service *dirty, size_t ndirty, bool all,
                             cluster_mset_rule_fn fn, void *arg, char *err, size_t errlen);
void cluster_mset_changes_clear(struct cluster_mset *s);
/* A VIP's merged set; NULL when it has none. */
const struct cluster_mset_vip *cluster_mset_find(const struct cluster_mset *s,
                                                 const struct cluster_service *svc);
void cluster_mset_free(struct cluster_mset *s);

#endif
