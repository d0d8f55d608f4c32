/*
 * The dummy interface through which vipd routes its VIPs (/32 and /128 local
 * routes) so that the local stack accepts packets to them and IPVS sees them.
 * vipd creates it (or adopts one of the same name) and owns every local
 * route through it.
 */
#ifndef VIPD_VIPIF_H
#define VIPD_VIPIF_H

#include <stddef.h>

#include "vipd/errbuf.h"
#include "vipd/lbtable.h"

struct vipif;

/* Whether Linux takes `name` for an interface: 1 to IFNAMSIZ - 1 (15)
 * characters. 0, or -1 with "interface name \"N\": expected 1 to 15
 * characters" in err. vipif_open applies it; vipd --check-config too. */
int vipif_name_check(const char *name, char *err, size_t errlen) VIPD_MUST_CHECK;

/* Opens a route netlink socket, creates the dummy interface `name` if it is
 * absent and sets it up. -1 when it cannot, or when `name` exists and is
 * not a dummy interface (vipd would then be converging the routes of an
 * interface someone else uses). `source` (lb.source_address, NULL = found
 * by vipif_source_find) is the src of the VIP routes of its family. Addresses
 * an older vipd bound on the interface become routes, then are removed. */
int vipif_open(struct vipif **out, const char *name, const char *source, char *err, size_t errlen);
/* Closes the socket; the interface and its routes stay. NULL is fine. */
void vipif_close(struct vipif *vi);

/* The VIPs routed through the interface (type local routes of table local),
 * into *out (malloc'd, caller frees). */
int vipif_routes(struct vipif *vi, struct lb_addr **out, size_t *n, char *err, size_t errlen);
/* The same for the interface `name`, read only: neither created nor changed
 * (vipctl doctor). */
int vipif_routes_of(const char *name, struct lb_addr **out, size_t *n, char *err, size_t errlen);
/* Makes a a local address of the node: `local A/32 dev IF table local src
 * NODE` (/128 for IPv6). Already routed is done (replace). */
int vipif_route_add(struct vipif *vi, const struct lb_addr *a, char *err, size_t errlen);
/* Not routed is done. */
int vipif_route_del(struct vipif *vi, const struct lb_addr *a, char *err, size_t errlen);

/* The node's own address of family af: that of the interface holding the
 * default route, else the first global one of a non-loopback interface other
 * than `skip` (the VIP interface: an older vipd's VIPs may still be on it).
 * 0, or -1 when the node has none. */
int vipif_source_find(int af, const char *skip, struct lb_addr *out);

#endif
