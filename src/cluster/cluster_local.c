/*
 * The weight a node publishes for its own backend: the one its desired
 * state gives it. A backend in slow start is published at its current step,
 * not at the labels' weight, so the other nodes ramp it up with this one.
 */
#include "vipd/cluster_local.h"

#include <string.h>
#include <sys/socket.h>

static int entry_cmp(const struct desired_entry *e, const struct lb_key *svc,
                     const struct lb_addr *addr, uint16_t port)
{
	int c = lb_key_cmp(&e->svc, svc);

	if (c == 0)
		c = lb_addr_cmp(&e->addr, addr);
	return c ? c : (int)e->port - (int)port;
}

static const struct desired_entry *entry_find(const struct desired_state *st,
                                              const struct lb_key *svc, const struct lb_addr *addr,
                                              uint16_t port)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = entry_cmp(&st->entries[mid], svc, addr, port);

		if (c == 0)
			return &st->entries[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

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
	e = entry_find(st, &k, &b->addr, b->port);
	return e != NULL && e->phase == DESIRED_PHASE_IN ? e->weight : b->weight;
}
