/*
 * Conversion between vipd's lb_table and the IPVS netlink structs. The two
 * number forwarding methods differently (lb_fwd is vipd's, ipvs_fwd the
 * kernel's IP_VS_CONN_F_* values), and the kernel reports flags vipd does not
 * manage (HASHED on every service), which must not read as drift.
 */
#include "vipd/dataplane.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* ipvsadm's default persistence timeout: vipd's labels turn persistence on
 * or off but carry no timeout, so a persistent service gets the usual one. */
#define DATAPLANE_PERSIST_TIMEOUT_S 300

static enum ipvs_fwd fwd_to_ipvs(enum lb_fwd f)
{
	switch (f) {
	case LB_FWD_MASQ:
		return IPVS_FWD_MASQ;
	case LB_FWD_DROUTE:
		return IPVS_FWD_DROUTE;
	case LB_FWD_TUNNEL:
		return IPVS_FWD_TUNNEL;
	}
	return IPVS_FWD_MASQ;
}

static enum lb_fwd fwd_from_ipvs(enum ipvs_fwd f)
{
	switch (f) {
	case IPVS_FWD_MASQ:
		return LB_FWD_MASQ;
	case IPVS_FWD_DROUTE:
		return LB_FWD_DROUTE;
	case IPVS_FWD_TUNNEL:
		return LB_FWD_TUNNEL;
	}
	/* IP_VS_CONN_F_LOCALNODE (1) is what the kernel reports for a
	 * destination that is a local address added as masq: it is masq. */
	return LB_FWD_MASQ;
}

static void addr_to_ipvs(const struct lb_addr *a, int *af, union ipvs_addr *out)
{
	*af = a->af;
	memset(out, 0, sizeof(*out));
	if (a->af == AF_INET6)
		out->v6 = a->u.v6;
	else
		out->v4 = a->u.v4;
}

static void addr_from_ipvs(int af, const union ipvs_addr *a, struct lb_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->af = af;
	if (af == AF_INET6)
		out->u.v6 = a->v6;
	else
		out->u.v4 = a->v4;
}

/* The key and attributes of an operation's service as IPVS takes them. */
static void service_to_ipvs(const struct lb_key *k, const char *sched, uint32_t flags,
                            struct ipvs_service *out)
{
	memset(out, 0, sizeof(*out));
	addr_to_ipvs(&k->addr, &out->af, &out->addr);
	out->protocol = k->protocol;
	out->port = k->port;
	if (sched != NULL)
		snprintf(out->sched, sizeof(out->sched), "%s", sched);
	out->flags = flags & LB_SVC_F_MANAGED;
	if (out->flags & LB_SVC_F_PERSISTENT)
		out->timeout = DATAPLANE_PERSIST_TIMEOUT_S;
}

static void dest_to_ipvs(const struct lb_dest *d, struct ipvs_dest *out)
{
	memset(out, 0, sizeof(*out));
	addr_to_ipvs(&d->addr, &out->af, &out->addr);
	out->port = d->port;
	out->weight = d->weight;
	out->fwd = fwd_to_ipvs(d->fwd);
}

int dataplane_service_from_ipvs(const struct ipvs_service *s, struct lb_key *key, char *sched,
                                uint32_t *flags)
{
	if (s->fwmark != 0 || (s->af != AF_INET && s->af != AF_INET6))
		return -1;
	memset(key, 0, sizeof(*key));
	addr_from_ipvs(s->af, &s->addr, &key->addr);
	key->port = s->port;
	key->protocol = s->protocol;
	snprintf(sched, LB_SCHED_MAX, "%s", s->sched[0] != '\0' ? s->sched : LB_SCHED_DEFAULT);
	*flags = s->flags & LB_SVC_F_MANAGED;
	return 0;
}

void dataplane_dest_from_ipvs(const struct ipvs_dest *d, struct lb_dest *out)
{
	memset(out, 0, sizeof(*out));
	addr_from_ipvs(d->af, &d->addr, &out->addr);
	out->port = d->port;
	out->weight = d->weight;
	out->fwd = fwd_from_ipvs(d->fwd);
}

enum ipvs_op dataplane_op_to_ipvs(const struct rc_op *op, struct ipvs_service *svc,
                                  struct ipvs_dest *dest)
{
	service_to_ipvs(&op->svc, op->sched, op->flags, svc);
	memset(dest, 0, sizeof(*dest));
	if (op->kind == RC_ADD_DEST || op->kind == RC_EDIT_DEST || op->kind == RC_DEL_DEST)
		dest_to_ipvs(&op->dest, dest);
	switch (op->kind) {
	case RC_ADD_SERVICE:
		return IPVS_OP_ADD_SERVICE;
	case RC_EDIT_SERVICE:
		return IPVS_OP_EDIT_SERVICE;
	case RC_DEL_SERVICE:
		return IPVS_OP_DEL_SERVICE;
	case RC_ADD_DEST:
		return IPVS_OP_ADD_DEST;
	case RC_EDIT_DEST:
		return IPVS_OP_EDIT_DEST;
	case RC_DEL_DEST:
		return IPVS_OP_DEL_DEST;
	}
	return IPVS_OP_ADD_SERVICE;
}
