/*
 * The VIP interface over route netlink (libnl-route-3): the dummy link
 * itself, and the VIPs as /32 and /128 local routes through it (table local,
 * src = the node's own address), as dcos-net does on its minuteman link.
 * Not addresses: a connection the node opens to a VIP it holds as an address
 * takes the VIP as its source, and a backend on another node that holds the
 * same VIP answers itself. Routes are listed with one raw RTM_GETROUTE dump
 * parsed here, not through a libnl cache, because a round lists them every
 * time and a cache would build objects for every route of the host.
 */
#include "vipd/vipif.h"
#include "vipd/errbuf.h"
#include "vipd/vec.h"

#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

struct vipif {
	struct nl_sock *sock;
	int ifindex;
	char name[IFNAMSIZ];
	struct lb_addr src4, src6; /* af AF_UNSPEC: none known, the kernel picks */
};

static int link_create(struct vipif *vi, char *err, size_t errlen)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int rc;

	if (link == NULL) {
		errbuf_set(err, errlen, "interface %s: out of memory", vi->name);
		return -1;
	}
	rtnl_link_set_name(link, vi->name);
	rc = rtnl_link_set_type(link, "dummy");
	if (rc == 0)
		rc = rtnl_link_add(vi->sock, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(link);
	/* Another process made it between our look-up and our add: adopt it. */
	if (rc < 0 && rc != -NLE_EXIST) {
		errbuf_set(err, errlen,
		           "cannot create dummy interface %s: %s (is the dummy module available? "
		           "modprobe dummy)",
		           vi->name, nl_geterror(rc));
		return -1;
	}
	return 0;
}

static int link_up(struct vipif *vi, struct rtnl_link *link, char *err, size_t errlen)
{
	struct rtnl_link *change;
	int rc;

	if (rtnl_link_get_flags(link) & IFF_UP)
		return 0;
	change = rtnl_link_alloc();
	if (change == NULL) {
		errbuf_set(err, errlen, "interface %s: out of memory", vi->name);
		return -1;
	}
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_link_change(vi->sock, link, change, 0);
	rtnl_link_put(change);
	if (rc < 0) {
		errbuf_set(err, errlen, "cannot set interface %s up: %s", vi->name,
		           nl_geterror(rc));
		return -1;
	}
	return 0;
}

/* Looks the link up, creating it once when absent, and checks it is ours to
 * own: a dummy. */
static int link_adopt(struct vipif *vi, char *err, size_t errlen)
{
	struct rtnl_link *link = NULL;
	const char *type;
	int rc = rtnl_link_get_kernel(vi->sock, 0, vi->name, &link);

	if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV) {
		if (link_create(vi, err, errlen) < 0)
			return -1;
		rc = rtnl_link_get_kernel(vi->sock, 0, vi->name, &link);
	}
	if (rc < 0) {
		errbuf_set(err, errlen, "cannot read interface %s: %s", vi->name, nl_geterror(rc));
		return -1;
	}
	type = rtnl_link_get_type(link);
	if (type == NULL || strcmp(type, "dummy") != 0) {
		errbuf_set(
		    err, errlen,
		    "interface %s exists and is a %s interface, not a dummy: vipd owns every "
		    "address on its VIP interface, so name one that nothing else uses",
		    vi->name, type != NULL ? type : "non-virtual");
		rtnl_link_put(link);
		return -1;
	}
	vi->ifindex = rtnl_link_get_ifindex(link);
	rc = link_up(vi, link, err, errlen);
	rtnl_link_put(link);
	return rc;
}

int vipif_name_check(const char *name, char *err, size_t errlen)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= IFNAMSIZ) {
		errbuf_set(err, errlen, "interface name \"%s\": expected 1 to %d characters",
		           name != NULL ? name : "", IFNAMSIZ - 1);
		return -1;
	}
	return 0;
}

static int routes_adopt(struct vipif *vi, char *err, size_t errlen);

/* lb.source_address for its family; the other family's (and both when it is
 * unset) is found from the host's interfaces. */
static int sources_set(struct vipif *vi, const char *source, char *err, size_t errlen)
{
	struct lb_addr a;

	vi->src4.af = AF_UNSPEC;
	vi->src6.af = AF_UNSPEC;
	if (source != NULL) {
		if (lb_addr_parse(source, &a) < 0) {
			errbuf_set(err, errlen,
			           "/lb/source_address: \"%s\": expected an IPv4 or IPv6 address "
			           "of this node",
			           source);
			return -1;
		}
		if (a.af == AF_INET)
			vi->src4 = a;
		else
			vi->src6 = a;
	}
	if (vi->src4.af == AF_UNSPEC)
		(void)vipif_source_find(AF_INET, vi->name, &vi->src4);
	if (vi->src6.af == AF_UNSPEC)
		(void)vipif_source_find(AF_INET6, vi->name, &vi->src6);
	return 0;
}

int vipif_open(struct vipif **out, const char *name, const char *source, char *err, size_t errlen)
{
	struct vipif *vi;
	int rc;

	*out = NULL;
	if (vipif_name_check(name, err, errlen) < 0)
		return -1;
	vi = calloc(1, sizeof(*vi));
	if (vi == NULL) {
		errbuf_set(err, errlen, "interface %s: out of memory", name);
		return -1;
	}
	snprintf(vi->name, sizeof(vi->name), "%s", name);
	vi->sock = nl_socket_alloc();
	if (vi->sock == NULL) {
		errbuf_set(err, errlen, "interface %s: out of memory", name);
		goto fail;
	}
	rc = nl_connect(vi->sock, NETLINK_ROUTE);
	if (rc < 0) {
		errbuf_set(err, errlen, "cannot open a route netlink socket: %s", nl_geterror(rc));
		goto fail;
	}
	if (sources_set(vi, source, err, errlen) < 0)
		goto fail;
	if (link_adopt(vi, err, errlen) < 0)
		goto fail;
	if (routes_adopt(vi, err, errlen) < 0)
		goto fail;
	*out = vi;
	return 0;
fail:
	vipif_close(vi);
	return -1;
}

void vipif_close(struct vipif *vi)
{
	if (vi == NULL)
		return;
	nl_socket_free(vi->sock);
	free(vi);
}

struct addr_list {
	int ifindex;
	struct lb_addr *items;
	size_t n;
	size_t cap;
	int failed;
};

static int addr_list_push(struct addr_list *l, const struct lb_addr *a)
{
	if (VEC_RESERVE(l->items, l->cap, l->n + 1) < 0) {
		l->failed = ENOMEM;
		return NL_STOP;
	}
	l->items[l->n++] = *a;
	return NL_OK;
}

/* NL_CB_VALID of the RTM_GETADDR dump. */
static int collect_addr(struct nl_msg *msg, void *arg)
{
	struct addr_list *l = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct ifaddrmsg *ifa = nlmsg_data(nlh);
	struct nlattr *tb[IFA_MAX + 1];
	struct nlattr *a;
	struct lb_addr addr;

	if (nlh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != l->ifindex ||
	    ifa->ifa_scope == RT_SCOPE_LINK)
		return NL_OK;
	if (nlmsg_parse(nlh, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return NL_OK;
	/* IFA_LOCAL is the address itself on IPv4 (IFA_ADDRESS may be a peer);
	 * IPv6 sends only IFA_ADDRESS. */
	a = tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a == NULL)
		return NL_OK;
	memset(&addr, 0, sizeof(addr));
	addr.af = ifa->ifa_family;
	if (ifa->ifa_family == AF_INET && nla_len(a) == 4)
		memcpy(&addr.u.v4, nla_data(a), 4);
	else if (ifa->ifa_family == AF_INET6 && nla_len(a) == 16)
		memcpy(&addr.u.v6, nla_data(a), 16);
	else
		return NL_OK;
	return addr_list_push(l, &addr);
}

/* One RTM_GET* dump of `type` whose replies `collect` turns into addresses. */
static int dump_addrs(struct vipif *vi, int type, void *req, size_t reqlen,
                      nl_recvmsg_msg_cb_t collect, struct lb_addr **out, size_t *n, char *err,
                      size_t errlen)
{
	struct addr_list l = {.ifindex = vi->ifindex};
	struct nl_cb *base, *cb;
	int rc;

	*out = NULL;
	*n = 0;
	/* A callback set of our own, so that the socket's keeps no pointer to
	 * the list on our stack once we return. */
	base = nl_socket_get_cb(vi->sock); /* a reference of our own */
	cb = base != NULL ? nl_cb_clone(base) : NULL;
	nl_cb_put(base);
	if (cb == NULL) {
		errbuf_set(err, errlen, "cannot list the VIPs of %s: out of memory", vi->name);
		return -1;
	}
	rc = nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, collect, &l);
	if (rc >= 0)
		rc = nl_send_simple(vi->sock, type, NLM_F_DUMP, req, reqlen);
	if (rc >= 0)
		rc = nl_recvmsgs(vi->sock, cb);
	nl_cb_put(cb);
	if (rc < 0 || l.failed) {
		errbuf_set(err, errlen, "cannot list the VIPs of %s: %s", vi->name,
		           l.failed ? strerror(l.failed) : nl_geterror(rc));
		free(l.items);
		return -1;
	}
	*out = l.items;
	*n = l.n;
	return 0;
}

/* Addresses left on the interface by vipd versions that bound VIPs there. */
static int legacy_addrs(struct vipif *vi, struct lb_addr **out, size_t *n, char *err, size_t errlen)
{
	struct ifaddrmsg req = {.ifa_family = AF_UNSPEC, .ifa_index = (unsigned)vi->ifindex};

	return dump_addrs(vi, RTM_GETADDR, &req, sizeof(req), collect_addr, out, n, err, errlen);
}

static struct rtnl_addr *addr_object(struct vipif *vi, const struct lb_addr *a)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local;
	int rc;

	if (ra == NULL)
		return NULL;
	local = nl_addr_build(a->af, &a->u, a->af == AF_INET6 ? 16 : 4);
	if (local == NULL) {
		rtnl_addr_put(ra);
		return NULL;
	}
	nl_addr_set_prefixlen(local, a->af == AF_INET6 ? 128 : 32);
	rtnl_addr_set_ifindex(ra, vi->ifindex);
	rtnl_addr_set_family(ra, a->af);
	rc = rtnl_addr_set_local(ra, local);
	nl_addr_put(local);
	if (rc < 0) {
		rtnl_addr_put(ra);
		return NULL;
	}
	rtnl_addr_set_prefixlen(ra, a->af == AF_INET6 ? 128 : 32);
	/* Duplicate address detection would leave a new IPv6 VIP tentative,
	 * unusable, for a second or more; the address is local to this node. */
	if (a->af == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	return ra;
}

static int legacy_addr_del(struct vipif *vi, const struct lb_addr *a, char *err, size_t errlen)
{
	struct rtnl_addr *ra = addr_object(vi, a);
	char ab[INET6_ADDRSTRLEN];
	int rc;

	if (ra == NULL) {
		errbuf_set(err, errlen, "unbind %s: out of memory",
		           lb_addr_format(a, ab, sizeof(ab)));
		return -1;
	}
	rc = rtnl_addr_delete(vi->sock, ra, 0);
	rtnl_addr_put(ra);
	if (rc < 0 && rc != -NLE_NOADDR && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NODEV) {
		errbuf_set(err, errlen, "unbind %s from %s: %s", lb_addr_format(a, ab, sizeof(ab)),
		           vi->name, nl_geterror(rc));
		return -1;
	}
	return 0;
}

/* NL_CB_VALID of the RTM_GETROUTE dump: vipd's routes are type local in
 * table local through the interface, one host each. */
static int collect_route(struct nl_msg *msg, void *arg)
{
	struct addr_list *l = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct rtmsg *rtm = nlmsg_data(nlh);
	struct nlattr *tb[RTA_MAX + 1];
	struct lb_addr addr;
	uint32_t table;
	int len;

	/* The kernel's own (proto kernel) local routes are those of addresses:
	 * the fe80:: of the link, and an older vipd's VIPs until adopted. */
	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_type != RTN_LOCAL ||
	    rtm->rtm_protocol == RTPROT_KERNEL)
		return NL_OK;
	if (nlmsg_parse(nlh, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NL_OK;
	table = tb[RTA_TABLE] != NULL ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_LOCAL || tb[RTA_DST] == NULL || tb[RTA_OIF] == NULL ||
	    (int)nla_get_u32(tb[RTA_OIF]) != l->ifindex)
		return NL_OK;
	len = rtm->rtm_family == AF_INET6 ? 16 : 4;
	if ((rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    rtm->rtm_dst_len != len * 8 || nla_len(tb[RTA_DST]) != len)
		return NL_OK;
	memset(&addr, 0, sizeof(addr));
	addr.af = rtm->rtm_family;
	memcpy(&addr.u, nla_data(tb[RTA_DST]), (size_t)len);
	return addr_list_push(l, &addr);
}

int vipif_routes(struct vipif *vi, struct lb_addr **out, size_t *n, char *err, size_t errlen)
{
	struct rtmsg req = {.rtm_family = AF_UNSPEC, .rtm_table = RT_TABLE_LOCAL};

	return dump_addrs(vi, RTM_GETROUTE, &req, sizeof(req), collect_route, out, n, err, errlen);
}

/* RTM_NEWROUTE or RTM_DELROUTE of a's local route, waiting for the ack. */
static int route_talk(struct vipif *vi, int type, int flags, const struct lb_addr *a)
{
	int len = a->af == AF_INET6 ? 16 : 4;
	const struct lb_addr *src = a->af == AF_INET6 ? &vi->src6 : &vi->src4;
	struct rtmsg rtm = {
	    .rtm_family = (unsigned char)a->af,
	    .rtm_dst_len = (unsigned char)(len * 8),
	    .rtm_table = RT_TABLE_LOCAL,
	    /* A delete matches any protocol and scope: a VIP routed by hand (or by
	     * another tool) through vipd's interface is vipd's to remove. */
	    .rtm_protocol = type == RTM_NEWROUTE ? RTPROT_STATIC : RTPROT_UNSPEC,
	    .rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_HOST : RT_SCOPE_NOWHERE,
	    .rtm_type = RTN_LOCAL,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags | NLM_F_ACK);
	int rc;

	if (msg == NULL)
		return -NLE_NOMEM;
	rc = nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO);
	if (rc >= 0)
		rc = nla_put(msg, RTA_DST, len, &a->u);
	if (rc >= 0)
		rc = nla_put_u32(msg, RTA_OIF, (uint32_t)vi->ifindex);
	if (rc >= 0 && type == RTM_NEWROUTE && src->af == a->af)
		rc = nla_put(msg, RTA_PREFSRC, len, &src->u);
	if (rc >= 0)
		rc = nl_send_auto(vi->sock, msg);
	nlmsg_free(msg);
	if (rc >= 0)
		rc = nl_wait_for_ack(vi->sock);
	return rc < 0 ? rc : 0;
}

int vipif_route_add(struct vipif *vi, const struct lb_addr *a, char *err, size_t errlen)
{
	char ab[INET6_ADDRSTRLEN];
	int rc = route_talk(vi, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, a);

	if (rc < 0) {
		errbuf_set(err, errlen, "route %s via %s: %s", lb_addr_format(a, ab, sizeof(ab)),
		           vi->name, nl_geterror(rc));
		return -1;
	}
	return 0;
}

int vipif_route_del(struct vipif *vi, const struct lb_addr *a, char *err, size_t errlen)
{
	char ab[INET6_ADDRSTRLEN];
	int rc = route_talk(vi, RTM_DELROUTE, 0, a);

	if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NOADDR && rc != -NLE_NODEV) {
		errbuf_set(err, errlen, "unroute %s from %s: %s", lb_addr_format(a, ab, sizeof(ab)),
		           vi->name, nl_geterror(rc));
		return -1;
	}
	return 0;
}

/* An address an older vipd bound becomes a route first, then the address
 * goes: the VIP stays local throughout. The kernel deletes the address's own
 * local route with it (matched by its src, the VIP), so the route is put
 * back in case a kernel matched ours too. */
static int routes_adopt(struct vipif *vi, char *err, size_t errlen)
{
	struct lb_addr *old = NULL;
	size_t n = 0;
	int rc = 0;

	if (legacy_addrs(vi, &old, &n, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = vipif_route_add(vi, &old[i], err, errlen);
		if (rc == 0)
			rc = legacy_addr_del(vi, &old[i], err, errlen);
		if (rc == 0)
			rc = vipif_route_add(vi, &old[i], err, errlen);
	}
	free(old);
	return rc;
}

int vipif_routes_of(const char *name, struct lb_addr **out, size_t *n, char *err, size_t errlen)
{
	struct vipif vi = {.ifindex = (int)if_nametoindex(name)};
	int rc;

	*out = NULL;
	*n = 0;
	if (vi.ifindex == 0) {
		errbuf_set(err, errlen, "interface %s: %s", name, strerror(errno));
		return -1;
	}
	snprintf(vi.name, sizeof(vi.name), "%s", name);
	vi.sock = nl_socket_alloc();
	if (vi.sock == NULL) {
		errbuf_set(err, errlen, "interface %s: out of memory", name);
		return -1;
	}
	rc = nl_connect(vi.sock, NETLINK_ROUTE);
	if (rc < 0)
		errbuf_set(err, errlen, "cannot open a route netlink socket: %s", nl_geterror(rc));
	else
		rc = vipif_routes(&vi, out, n, err, errlen);
	nl_socket_free(vi.sock);
	return rc < 0 ? -1 : 0;
}
