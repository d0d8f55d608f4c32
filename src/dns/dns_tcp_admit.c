/*
 * Which TCP connection the responder lets in and which it drops for it: a
 * pure decision over the open connections, so that a client holding many
 * connections open (slowloris) cannot keep others from being answered.
 */
#include "vipd/dns.h"

#define NONE ((size_t)-1)

/* The connection that has waited longest for its query, among those from
 * peer (or all when peer is NULL) that are not being answered. */
static size_t longest_waiting(const struct dns_tcp_slot *slots, size_t n,
                              const struct lb_addr *peer)
{
	size_t best = NONE;

	for (size_t i = 0; i < n; i++) {
		if (slots[i].answering || (peer && lb_addr_cmp(&slots[i].peer, peer) != 0))
			continue;
		if (best == NONE || slots[i].waiting_since < slots[best].waiting_since)
			best = i;
	}
	return best;
}

static size_t count_peer(const struct dns_tcp_slot *slots, size_t n, const struct lb_addr *peer)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += lb_addr_cmp(&slots[i].peer, peer) == 0;
	return k;
}

enum dns_tcp_verdict dns_tcp_admit(const struct dns_tcp_slot *slots, size_t n,
                                   const struct lb_addr *peer, size_t max, size_t per_peer,
                                   size_t *victim)
{
	size_t v;

	if (count_peer(slots, n, peer) >= per_peer)
		v = longest_waiting(slots, n, peer);
	else if (n >= max)
		v = longest_waiting(slots, n, NULL);
	else
		return DNS_TCP_ADMIT;
	if (v == NONE)
		return DNS_TCP_REFUSE;
	*victim = v;
	return DNS_TCP_ADMIT_EVICT;
}
