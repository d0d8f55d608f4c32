/*
 * The other nodes' backends as the desired table's input (issue 9, scale):
 * one group per VIP (desired_remote_vip), kept from round to round and made
 * again only for the VIPs whose merged set changed (cluster_mset's changes),
 * by the same per-VIP rule as a whole rebuild. Pure.
 */
#ifndef VIPD_CLUSTER_RSET_H
#define VIPD_CLUSTER_RSET_H

#include <stddef.h>

#include "vipd/cluster_mset.h"
#include "vipd/desired.h"

struct cluster_rset {
	struct desired_remote_vip *vips; /* by cluster_service_cmp; none empty */
	size_t n, cap;
};

/* The groups of the VIPs svcs (any order, repeats allowed) made again from
 * m; a VIP without another node's backend has none. -1 when out of memory
 * (some groups may be made again, not all: cluster_rset_rebuild then). */
int cluster_rset_update(struct cluster_rset *r, const struct cluster_mset *m,
                        const struct cluster_service *svcs, size_t n);
/* Every group made again from m. -1 when out of memory (r is empty). */
int cluster_rset_rebuild(struct cluster_rset *r, const struct cluster_mset *m);
void cluster_rset_free(struct cluster_rset *r);

#endif
