/*
 * The VIP interface over route netlink (libnl-route-3): the dummy link
 * itself, and its /32 and /128 addresses. Addresses are listed with one raw
 * RTM_GETADDR dump parsed here, not through a libnl cache, because a round
 * lists them every time and a cache would build objects for every address
 * of every interface of the host.
 */
#include "vipd/vipif.h"
#include "vipd/errbuf.h"

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

int vipif_open(struct vipif **out, const char *name, char *err, size_t errlen)
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
	if (link_adopt(vi, err, errlen) < 0)
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

const char *vipif_name(const struct vipif *vi)
{
	return vi->name;
}

struct addr_list {
	int ifindex;
	struct lb_addr *items;
	size_t n;
	size_t cap;
	int failed;
};

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
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct lb_addr *items = realloc(l->items, cap * sizeof(*items));

		if (items == NULL) {
			l->failed = ENOMEM;
			return NL_STOP;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n++] = addr;
	return NL_OK;
}

int vipif_addrs(struct vipif *vi, struct lb_addr **out, size_t *n, char *err, size_t errlen)
{
	struct ifaddrmsg req = {.ifa_family = AF_UNSPEC, .ifa_index = (unsigned)vi->ifindex};
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
		errbuf_set(err, errlen, "cannot list the addresses of %s: out of memory", vi->name);
		return -1;
	}
	rc = nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, collect_addr, &l);
	if (rc >= 0)
		rc = nl_send_simple(vi->sock, RTM_GETADDR, NLM_F_DUMP, &req, sizeof(req));
	if (rc >= 0)
		rc = nl_recvmsgs(vi->sock, cb);
	nl_cb_put(cb);
	if (rc < 0 || l.failed) {
		errbuf_set(err, errlen, "cannot list the addresses of %s: %s", vi->name,
		           l.failed ? strerror(l.failed) : nl_geterror(rc));
		free(l.items);
		return -1;
	}
	*out = l.items;
	*n = l.n;
	return 0;
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

int vipif_addr_add(struct vipif *vi, const struct lb_addr *a, char *err, size_t errlen)
{
	struct rtnl_addr *ra = addr_object(vi, a);
	char ab[INET6_ADDRSTRLEN];
	int rc;

	if (ra == NULL) {
		errbuf_set(err, errlen, "bind %s: out of memory",
		           lb_addr_format(a, ab, sizeof(ab)));
		return -1;
	}
	rc = rtnl_addr_add(vi->sock, ra, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_addr_put(ra);
	if (rc < 0 && rc != -NLE_EXIST) {
		errbuf_set(err, errlen, "bind %s on %s: %s", lb_addr_format(a, ab, sizeof(ab)),
		           vi->name, nl_geterror(rc));
		return -1;
	}
	return 0;
}

int vipif_addr_del(struct vipif *vi, const struct lb_addr *a, char *err, size_t errlen)
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
