/*
 * The dummy interface that holds vipd's VIP addresses (/32 and /128) so that
 * the local stack accepts packets to them and IPVS sees them. vipd creates it
 * (or adopts one of the same name) and owns every global address on it.
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
 * not a dummy interface (vipd would then be converging the addresses of an
 * interface someone else uses). */
int vipif_open(struct vipif **out, const char *name, char *err, size_t errlen);
/* Closes the socket; the interface and its addresses stay. NULL is fine. */
void vipif_close(struct vipif *vi);
/* The interface's name, owned by vi. */
const char *vipif_name(const struct vipif *vi);

/* The interface's addresses other than link-local ones (the kernel's own
 * fe80:: address is not vipd's), into *out (malloc'd, caller frees). */
int vipif_addrs(struct vipif *vi, struct lb_addr **out, size_t *n, char *err, size_t errlen);
/* Binds a /32 or /128; IPv6 with IFA_F_NODAD so it is usable at once.
 * Already bound is done. */
int vipif_addr_add(struct vipif *vi, const struct lb_addr *a, char *err, size_t errlen);
/* Not bound is done. */
int vipif_addr_del(struct vipif *vi, const struct lb_addr *a, char *err, size_t errlen);

#endif
