/*
 * The weight a node publishes for its own backend: the one its desired
 * state gives it. A backend in slow start is published at its current step,
 * not at the labels' weight, so the other nodes ramp it up with this one.
 */
#include "vipd/cluster_local.h"

#include <string.h>
#include <sys/socket.h>

/* The service b's VIP makes here in b's family; false when it has none. */
static bool service_key(const struct cluster_backend *b, const struct vip_alloc *va,
                        struct lb_key *k)
{
	memset(k, 0, sizeof(*k));
	k->protocol = b->protocol;
	k->port = b->vip.port;
	if (!b->vip.named) {
		k->addr = b->vip.addr;
		return k->addr.af == b->addr.af;
	}
	if (b->addr.af == AF_INET6)
		return vip_name_address6(va, b->vip.name, &k->addr) == 0;
	return vip_name_address(va, b->vip.name, &k->addr) == 0;
}

uint32_t cluster_local_weight(const struct cluster_backend *b, const struct desired_state *st,
                              const struct vip_alloc *va)
{
	const struct desired_entry *e;
	struct lb_key k;

	if (!service_key(b, va, &k))
		return b->weight;
	e = desired_state_find(st, &k, &b->addr, b->port);
	return e != NULL && e->phase == DESIRED_PHASE_IN ? e->weight : b->weight;
}
