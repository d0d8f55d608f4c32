/*
 * IPVS generic netlink messages: encoding services and destinations into the
 * attributes of <linux/ip_vs.h>, decoding the kernel's dumps, and the text
 * of operations and their errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/ip_vs.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "vipd/errbuf.h"

#include "ipvs_priv.h"

_Static_assert(IPVS_FWD_MASQ == IP_VS_CONN_F_MASQ, "fwd values are the kernel's");
_Static_assert(IPVS_FWD_TUNNEL == IP_VS_CONN_F_TUNNEL, "fwd values are the kernel's");
_Static_assert(IPVS_FWD_DROUTE == IP_VS_CONN_F_DROUTE, "fwd values are the kernel's");
_Static_assert(IPVS_SCHED_MAX == IP_VS_SCHEDNAME_MAXLEN, "scheduler name length");

/* Room for a service and a destination with every attribute, with margin. */
#define IPVS_MSG_SIZE 512

static struct nla_policy cmd_policy[IPVS_CMD_ATTR_MAX + 1] = {
    [IPVS_CMD_ATTR_SERVICE] = {.type = NLA_NESTED},
    [IPVS_CMD_ATTR_DEST] = {.type = NLA_NESTED},
    [IPVS_CMD_ATTR_TIMEOUT_TCP] = {.type = NLA_U32},
    [IPVS_CMD_ATTR_TIMEOUT_TCP_FIN] = {.type = NLA_U32},
    [IPVS_CMD_ATTR_TIMEOUT_UDP] = {.type = NLA_U32},
};

static struct nla_policy svc_policy[IPVS_SVC_ATTR_MAX + 1] = {
    [IPVS_SVC_ATTR_AF] = {.type = NLA_U16},
    [IPVS_SVC_ATTR_PROTOCOL] = {.type = NLA_U16},
    [IPVS_SVC_ATTR_ADDR] = {.type = NLA_UNSPEC, .maxlen = sizeof(struct in6_addr)},
    [IPVS_SVC_ATTR_PORT] = {.type = NLA_U16},
    [IPVS_SVC_ATTR_FWMARK] = {.type = NLA_U32},
    [IPVS_SVC_ATTR_SCHED_NAME] = {.type = NLA_STRING},
    [IPVS_SVC_ATTR_FLAGS] = {.type = NLA_UNSPEC, .minlen = sizeof(struct ip_vs_flags)},
    [IPVS_SVC_ATTR_TIMEOUT] = {.type = NLA_U32},
    [IPVS_SVC_ATTR_NETMASK] = {.type = NLA_U32},
    [IPVS_SVC_ATTR_STATS] = {.type = NLA_NESTED},
    [IPVS_SVC_ATTR_PE_NAME] = {.type = NLA_STRING},
    [IPVS_SVC_ATTR_STATS64] = {.type = NLA_NESTED},
};

static struct nla_policy dest_policy[IPVS_DEST_ATTR_MAX + 1] = {
    [IPVS_DEST_ATTR_ADDR] = {.type = NLA_UNSPEC, .maxlen = sizeof(struct in6_addr)},
    [IPVS_DEST_ATTR_PORT] = {.type = NLA_U16},
    [IPVS_DEST_ATTR_FWD_METHOD] = {.type = NLA_U32},
    [IPVS_DEST_ATTR_WEIGHT] = {.type = NLA_U32},
    [IPVS_DEST_ATTR_U_THRESH] = {.type = NLA_U32},
    [IPVS_DEST_ATTR_L_THRESH] = {.type = NLA_U32},
    [IPVS_DEST_ATTR_ACTIVE_CONNS] = {.type = NLA_U32},
    [IPVS_DEST_ATTR_INACT_CONNS] = {.type = NLA_U32},
    [IPVS_DEST_ATTR_PERSIST_CONNS] = {.type = NLA_U32},
    [IPVS_DEST_ATTR_STATS] = {.type = NLA_NESTED},
    [IPVS_DEST_ATTR_ADDR_FAMILY] = {.type = NLA_U16},
    [IPVS_DEST_ATTR_STATS64] = {.type = NLA_NESTED},
};

static struct nla_policy info_policy[IPVS_INFO_ATTR_MAX + 1] = {
    [IPVS_INFO_ATTR_VERSION] = {.type = NLA_U32},
    [IPVS_INFO_ATTR_CONN_TAB_SIZE] = {.type = NLA_U32},
};

static size_t addr_len(int af)
{
	return af == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
}

/* The kernel copies all 16 bytes, so the tail past an IPv4 address must be
 * zero whatever the caller left there. */
static union ipvs_addr addr_clean(int af, const union ipvs_addr *a)
{
	union ipvs_addr out;

	memset(&out, 0, sizeof(out));
	memcpy(&out, a, addr_len(af));
	return out;
}

static uint32_t service_netmask(const struct ipvs_service *s)
{
	if (s->netmask != 0)
		return s->netmask;
	/* IPVS rejects an IPv6 service whose prefix length is outside 1..128. */
	return s->af == AF_INET6 ? 128 : 0xffffffffu;
}

struct nl_msg *ipvs_msg_new(const struct ipvs_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc_size(IPVS_MSG_SIZE);

	if (msg == NULL)
		return NULL;
	/* Sent raw, not through nl_send_auto(), which would add NLM_F_REQUEST:
	 * the kernel acks a message without it and does nothing. */
	if (genlmsg_put(msg, nl->port, 0, nl->family, 0, flags | NLM_F_REQUEST, cmd,
	                IPVS_GENL_VERSION) == NULL) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int ipvs_msg_put_service(struct nl_msg *msg, const struct ipvs_service *s)
{
	struct ip_vs_flags flags = {.flags = s->flags, .mask = ~0u};
	union ipvs_addr addr = addr_clean(s->af, &s->addr);
	const char *sched = s->sched[0] != '\0' ? s->sched : IPVS_SCHED_DEFAULT;
	struct nlattr *nest = nla_nest_start(msg, IPVS_CMD_ATTR_SERVICE);

	if (nest == NULL || nla_put_u16(msg, IPVS_SVC_ATTR_AF, (uint16_t)s->af) < 0)
		return -1;
	if (s->fwmark != 0) {
		if (nla_put_u32(msg, IPVS_SVC_ATTR_FWMARK, s->fwmark) < 0)
			return -1;
	} else if (nla_put_u16(msg, IPVS_SVC_ATTR_PROTOCOL, s->protocol) < 0 ||
	           nla_put(msg, IPVS_SVC_ATTR_ADDR, sizeof(addr), &addr) < 0 ||
	           nla_put_u16(msg, IPVS_SVC_ATTR_PORT, htons(s->port)) < 0) {
		return -1;
	}
	if (nla_put_string(msg, IPVS_SVC_ATTR_SCHED_NAME, sched) < 0 ||
	    nla_put(msg, IPVS_SVC_ATTR_FLAGS, sizeof(flags), &flags) < 0 ||
	    nla_put_u32(msg, IPVS_SVC_ATTR_TIMEOUT, s->timeout) < 0 ||
	    nla_put_u32(msg, IPVS_SVC_ATTR_NETMASK, service_netmask(s)) < 0)
		return -1;
	return nla_nest_end(msg, nest) < 0 ? -1 : 0;
}

static int put_dest(struct nl_msg *msg, const struct ipvs_dest *d)
{
	union ipvs_addr addr = addr_clean(d->af, &d->addr);
	struct nlattr *nest = nla_nest_start(msg, IPVS_CMD_ATTR_DEST);

	if (nest == NULL || nla_put_u16(msg, IPVS_DEST_ATTR_ADDR_FAMILY, (uint16_t)d->af) < 0 ||
	    nla_put(msg, IPVS_DEST_ATTR_ADDR, sizeof(addr), &addr) < 0 ||
	    nla_put_u16(msg, IPVS_DEST_ATTR_PORT, htons(d->port)) < 0 ||
	    nla_put_u32(msg, IPVS_DEST_ATTR_FWD_METHOD, (uint32_t)d->fwd & IP_VS_CONN_F_FWD_MASK) <
	        0 ||
	    nla_put_u32(msg, IPVS_DEST_ATTR_WEIGHT, d->weight) < 0 ||
	    nla_put_u32(msg, IPVS_DEST_ATTR_U_THRESH, d->u_threshold) < 0 ||
	    nla_put_u32(msg, IPVS_DEST_ATTR_L_THRESH, d->l_threshold) < 0)
		return -1;
	return nla_nest_end(msg, nest) < 0 ? -1 : 0;
}

static uint8_t op_cmd(enum ipvs_op op)
{
	switch (op) {
	case IPVS_OP_ADD_SERVICE:
		return IPVS_CMD_NEW_SERVICE;
	case IPVS_OP_EDIT_SERVICE:
		return IPVS_CMD_SET_SERVICE;
	case IPVS_OP_DEL_SERVICE:
		return IPVS_CMD_DEL_SERVICE;
	case IPVS_OP_ADD_DEST:
		return IPVS_CMD_NEW_DEST;
	case IPVS_OP_EDIT_DEST:
		return IPVS_CMD_SET_DEST;
	case IPVS_OP_DEL_DEST:
		return IPVS_CMD_DEL_DEST;
	}
	return IPVS_CMD_UNSPEC;
}

bool ipvs_op_has_dest(enum ipvs_op op)
{
	return op == IPVS_OP_ADD_DEST || op == IPVS_OP_EDIT_DEST || op == IPVS_OP_DEL_DEST;
}

struct nl_msg *ipvs_msg_op(const struct ipvs_nl *nl, enum ipvs_op op, const struct ipvs_service *s,
                           const struct ipvs_dest *d)
{
	uint8_t cmd = op_cmd(op);
	struct nl_msg *msg;

	if (cmd == IPVS_CMD_UNSPEC || (ipvs_op_has_dest(op) && d == NULL))
		return NULL;
	msg = ipvs_msg_new(nl, cmd, NLM_F_ACK);
	if (msg == NULL)
		return NULL;
	if (ipvs_msg_put_service(msg, s) < 0)
		goto fail;
	if (ipvs_op_has_dest(op) && put_dest(msg, d) < 0)
		goto fail;
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

/* STATS64 carries every counter as u64, STATS only the byte counters: the
 * attribute's length says which. */
static void parse_stats(struct nlattr *nest, struct ipvs_stats *out)
{
	struct nlattr *tb[IPVS_STATS_ATTR_MAX + 1];
	static const int ids[] = {IPVS_STATS_ATTR_CONNS, IPVS_STATS_ATTR_INPKTS,
	                          IPVS_STATS_ATTR_OUTPKTS, IPVS_STATS_ATTR_INBYTES,
	                          IPVS_STATS_ATTR_OUTBYTES};
	uint64_t *fields[] = {&out->conns, &out->inpkts, &out->outpkts, &out->inbytes,
	                      &out->outbytes};

	if (nla_parse_nested(tb, IPVS_STATS_ATTR_MAX, nest, NULL) < 0)
		return;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct nlattr *a = tb[ids[i]];

		if (a != NULL && nla_len(a) >= 8)
			*fields[i] = nla_get_u64(a);
		else if (a != NULL && nla_len(a) >= 4)
			*fields[i] = nla_get_u32(a);
	}
}

static void parse_addr(struct nlattr *a, int af, union ipvs_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (a != NULL)
		nla_memcpy(out, a, (int)addr_len(af));
}

static void parse_service_attrs(struct nlattr **tb, struct ipvs_service *s)
{
	s->af = nla_get_u16(tb[IPVS_SVC_ATTR_AF]);
	if (tb[IPVS_SVC_ATTR_FWMARK] != NULL)
		s->fwmark = nla_get_u32(tb[IPVS_SVC_ATTR_FWMARK]);
	if (tb[IPVS_SVC_ATTR_PROTOCOL] != NULL)
		s->protocol = (uint8_t)nla_get_u16(tb[IPVS_SVC_ATTR_PROTOCOL]);
	parse_addr(tb[IPVS_SVC_ATTR_ADDR], s->af, &s->addr);
	if (tb[IPVS_SVC_ATTR_PORT] != NULL)
		s->port = ntohs(nla_get_u16(tb[IPVS_SVC_ATTR_PORT]));
	if (tb[IPVS_SVC_ATTR_SCHED_NAME] != NULL)
		nla_strlcpy(s->sched, tb[IPVS_SVC_ATTR_SCHED_NAME], sizeof(s->sched));
	if (tb[IPVS_SVC_ATTR_FLAGS] != NULL) {
		struct ip_vs_flags flags;

		nla_memcpy(&flags, tb[IPVS_SVC_ATTR_FLAGS], sizeof(flags));
		s->flags = flags.flags;
	}
	if (tb[IPVS_SVC_ATTR_TIMEOUT] != NULL)
		s->timeout = nla_get_u32(tb[IPVS_SVC_ATTR_TIMEOUT]);
	if (tb[IPVS_SVC_ATTR_NETMASK] != NULL)
		s->netmask = nla_get_u32(tb[IPVS_SVC_ATTR_NETMASK]);
	if (tb[IPVS_SVC_ATTR_STATS64] != NULL)
		parse_stats(tb[IPVS_SVC_ATTR_STATS64], &s->stats);
	else if (tb[IPVS_SVC_ATTR_STATS] != NULL)
		parse_stats(tb[IPVS_SVC_ATTR_STATS], &s->stats);
}

int ipvs_msg_parse_service(struct nlmsghdr *nlh, struct ipvs_service *out)
{
	struct nlattr *cmd[IPVS_CMD_ATTR_MAX + 1];
	struct nlattr *tb[IPVS_SVC_ATTR_MAX + 1];

	memset(out, 0, sizeof(*out));
	if (genlmsg_parse(nlh, 0, cmd, IPVS_CMD_ATTR_MAX, cmd_policy) < 0 ||
	    cmd[IPVS_CMD_ATTR_SERVICE] == NULL)
		return -1;
	if (nla_parse_nested(tb, IPVS_SVC_ATTR_MAX, cmd[IPVS_CMD_ATTR_SERVICE], svc_policy) < 0)
		return -1;
	if (tb[IPVS_SVC_ATTR_AF] == NULL)
		return -1;
	parse_service_attrs(tb, out);
	return 0;
}

static uint32_t get_u32_or_0(struct nlattr *a)
{
	return a != NULL ? nla_get_u32(a) : 0;
}

int ipvs_msg_parse_dest(struct nlmsghdr *nlh, struct ipvs_dest *out)
{
	struct nlattr *cmd[IPVS_CMD_ATTR_MAX + 1];
	struct nlattr *tb[IPVS_DEST_ATTR_MAX + 1];

	memset(out, 0, sizeof(*out));
	if (genlmsg_parse(nlh, 0, cmd, IPVS_CMD_ATTR_MAX, cmd_policy) < 0 ||
	    cmd[IPVS_CMD_ATTR_DEST] == NULL)
		return -1;
	if (nla_parse_nested(tb, IPVS_DEST_ATTR_MAX, cmd[IPVS_CMD_ATTR_DEST], dest_policy) < 0)
		return -1;
	if (tb[IPVS_DEST_ATTR_ADDR] == NULL || tb[IPVS_DEST_ATTR_PORT] == NULL)
		return -1;
	/* Kernels before 3.18 send no family: the destination's is the
	 * service's then, and an IPv4 address fills only the first 4 bytes. */
	out->af = tb[IPVS_DEST_ATTR_ADDR_FAMILY] != NULL
	              ? nla_get_u16(tb[IPVS_DEST_ATTR_ADDR_FAMILY])
	              : (nla_len(tb[IPVS_DEST_ATTR_ADDR]) == 4 ? AF_INET : AF_INET6);
	parse_addr(tb[IPVS_DEST_ATTR_ADDR], out->af, &out->addr);
	out->port = ntohs(nla_get_u16(tb[IPVS_DEST_ATTR_PORT]));
	out->fwd =
	    (enum ipvs_fwd)(get_u32_or_0(tb[IPVS_DEST_ATTR_FWD_METHOD]) & IP_VS_CONN_F_FWD_MASK);
	out->weight = get_u32_or_0(tb[IPVS_DEST_ATTR_WEIGHT]);
	out->u_threshold = get_u32_or_0(tb[IPVS_DEST_ATTR_U_THRESH]);
	out->l_threshold = get_u32_or_0(tb[IPVS_DEST_ATTR_L_THRESH]);
	out->active_conns = get_u32_or_0(tb[IPVS_DEST_ATTR_ACTIVE_CONNS]);
	out->inactive_conns = get_u32_or_0(tb[IPVS_DEST_ATTR_INACT_CONNS]);
	out->persist_conns = get_u32_or_0(tb[IPVS_DEST_ATTR_PERSIST_CONNS]);
	if (tb[IPVS_DEST_ATTR_STATS64] != NULL)
		parse_stats(tb[IPVS_DEST_ATTR_STATS64], &out->stats);
	else if (tb[IPVS_DEST_ATTR_STATS] != NULL)
		parse_stats(tb[IPVS_DEST_ATTR_STATS], &out->stats);
	return 0;
}

int ipvs_msg_parse_info(struct nlmsghdr *nlh, struct ipvs_info *out)
{
	struct nlattr *tb[IPVS_INFO_ATTR_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, IPVS_INFO_ATTR_MAX, info_policy) < 0 ||
	    tb[IPVS_INFO_ATTR_VERSION] == NULL || tb[IPVS_INFO_ATTR_CONN_TAB_SIZE] == NULL)
		return -1;
	out->version = nla_get_u32(tb[IPVS_INFO_ATTR_VERSION]);
	out->conn_tab_size = nla_get_u32(tb[IPVS_INFO_ATTR_CONN_TAB_SIZE]);
	return 0;
}

int ipvs_msg_parse_timeouts(struct nlmsghdr *nlh, struct ipvs_timeouts *out)
{
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, IPVS_CMD_ATTR_MAX, cmd_policy) < 0)
		return -1;
	out->tcp = get_u32_or_0(tb[IPVS_CMD_ATTR_TIMEOUT_TCP]);
	out->tcp_fin = get_u32_or_0(tb[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]);
	out->udp = get_u32_or_0(tb[IPVS_CMD_ATTR_TIMEOUT_UDP]);
	return 0;
}

const char *ipvs_op_name(enum ipvs_op op)
{
	switch (op) {
	case IPVS_OP_ADD_SERVICE:
		return "add service";
	case IPVS_OP_EDIT_SERVICE:
		return "edit service";
	case IPVS_OP_DEL_SERVICE:
		return "delete service";
	case IPVS_OP_ADD_DEST:
		return "add dest";
	case IPVS_OP_EDIT_DEST:
		return "edit dest";
	case IPVS_OP_DEL_DEST:
		return "delete dest";
	}
	return "unknown operation";
}

static const char *proto_name(uint8_t protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_SCTP:
		return "SCTP";
	}
	return "proto?";
}

static const char *addr_port_format(int af, const union ipvs_addr *a, uint16_t port, char *buf,
                                    size_t len)
{
	char text[INET6_ADDRSTRLEN];

	if (inet_ntop(af, a, text, sizeof(text)) == NULL)
		(void)snprintf(text, sizeof(text), "af%d?", af);
	if (af == AF_INET6)
		(void)snprintf(buf, len, "[%s]:%u", text, port);
	else
		(void)snprintf(buf, len, "%s:%u", text, port);
	return buf;
}

const char *ipvs_service_format(const struct ipvs_service *s, char *buf, size_t len)
{
	char where[INET6_ADDRSTRLEN + 10];

	if (s->fwmark != 0) {
		(void)snprintf(buf, len, "FWM %u%s", s->fwmark, s->af == AF_INET6 ? " IPv6" : "");
		return buf;
	}
	(void)snprintf(buf, len, "%s %s", proto_name(s->protocol),
	               addr_port_format(s->af, &s->addr, s->port, where, sizeof(where)));
	return buf;
}

const char *ipvs_dest_format(const struct ipvs_dest *d, char *buf, size_t len)
{
	return addr_port_format(d->af, &d->addr, d->port, buf, len);
}

/* IPVS reuses errno values with meanings of its own; say them. */
static const char *error_hint(enum ipvs_op op, int error)
{
	if (error == ESRCH)
		return " (no such service)";
	if (error == ENOENT && ipvs_op_has_dest(op))
		return " (no such destination)";
	if (error == ENOENT && op == IPVS_OP_ADD_SERVICE)
		return " (no such scheduler or persistence engine)";
	if (error == EINVAL && ipvs_op_has_dest(op))
		return " (invalid destination: is its address unicast and routable?)";
	return "";
}

void ipvs_op_describe(enum ipvs_op op, const struct ipvs_service *s, const struct ipvs_dest *d,
                      char *buf, size_t len)
{
	char svc[96], dst[64];
	const char *joint =
	    op == IPVS_OP_ADD_DEST ? "to" : (op == IPVS_OP_DEL_DEST ? "from" : "of");

	ipvs_service_format(s, svc, sizeof(svc));
	if (ipvs_op_has_dest(op) && d != NULL)
		(void)snprintf(buf, len, "%s %s %s %s", ipvs_op_name(op),
		               ipvs_dest_format(d, dst, sizeof(dst)), joint, svc);
	else
		(void)snprintf(buf, len, "%s %s", ipvs_op_name(op), svc);
}

void ipvs_op_error(enum ipvs_op op, const struct ipvs_service *s, const struct ipvs_dest *d,
                   int error, char *err, size_t errlen)
{
	char what[192];

	if (err == NULL || errlen == 0)
		return;
	ipvs_op_describe(op, s, d, what, sizeof(what));
	errbuf_set(err, errlen, "%s: %s%s", what, strerror(error), error_hint(op, error));
}
