/*
 * A question about a desired_index's feeds asked by the desired table's
 * own walk (src/lb/desired_local.c) and by the API's VIP view: inline so
 * that either side can use it without depending on the other.
 */
#ifndef VIPD_DESIRED_FEED_H
#define VIPD_DESIRED_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include "vipd/desired.h"

/* Whether one of the feeds [first, f) of a service comes from the same app
 * port as feed f: two VIP labels of one port naming the same VIP feed it
 * the same tasks, which count once. Linear in the service's feeds. */
static inline bool desired_feed_port_seen(const struct desired_index *ix, size_t first, size_t f)
{
	const struct vip_use *u = &ix->uses.items[ix->feeds[f].use];

	for (size_t i = first; i < f; i++) {
		const struct vip_use *p = &ix->uses.items[ix->feeds[i].use];

		if (p->app == u->app && p->port == u->port)
			return true;
	}
	return false;
}

#endif
