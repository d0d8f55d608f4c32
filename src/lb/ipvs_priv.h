/*
 * Shared between the IPVS netlink files only: the handle, message encoding
 * and decoding (ipvs_msg.c) and the request/ack transport (ipvs_nl.c).
 */
#ifndef VIPD_IPVS_PRIV_H
#define VIPD_IPVS_PRIV_H

#include <stdbool.h>
#include <linux/netlink.h>
#include <netlink/msg.h>

#include "vipd/ipvs.h"

/* Large enough for any datagram the kernel sends to a genl socket (dumps
 * are built into skbs of at most 32 KiB). */
#define IPVS_RBUF_LEN 65536

struct ipvs_nl {
	struct nl_sock *sock;
	int family;
	uint32_t port; /* our netlink port id, for nlmsg_pid */
	uint32_t next_seq;
	int last_errno;
	unsigned char *rbuf; /* IPVS_RBUF_LEN bytes */
};

/* ipvs_msg.c */
bool ipvs_op_has_dest(enum ipvs_op op);
struct nl_msg *ipvs_msg_new(const struct ipvs_nl *nl, uint8_t cmd, int flags);
/* One request of op, flagged NLM_F_ACK; NULL when it cannot be encoded. */
struct nl_msg *ipvs_msg_op(const struct ipvs_nl *nl, enum ipvs_op op, const struct ipvs_service *s,
                           const struct ipvs_dest *d);
int ipvs_msg_put_service(struct nl_msg *msg, const struct ipvs_service *s);
int ipvs_msg_parse_service(struct nlmsghdr *nlh, struct ipvs_service *out);
int ipvs_msg_parse_dest(struct nlmsghdr *nlh, struct ipvs_dest *out);
int ipvs_msg_parse_info(struct nlmsghdr *nlh, struct ipvs_info *out);
int ipvs_msg_parse_timeouts(struct nlmsghdr *nlh, struct ipvs_timeouts *out);
/* "add dest 10.1.0.2:80 to TCP 11.0.0.1:80" */
void ipvs_op_describe(enum ipvs_op op, const struct ipvs_service *s, const struct ipvs_dest *d,
                      char *buf, size_t len);
/* "add dest 10.1.0.2:80 to TCP 11.0.0.1:80: No such process (no such service)" */
void ipvs_op_error(enum ipvs_op op, const struct ipvs_service *s, const struct ipvs_dest *d,
                   int error, char *err, size_t errlen);

/* ipvs_nl.c */
typedef int (*ipvs_reply_fn)(struct nlmsghdr *nlh, void *arg);

/* One request in flight: its replies are handed to fn until the ack or
 * NLMSG_DONE, read one datagram at a time. */
struct ipvs_req {
	struct ipvs_nl *nl;
	uint32_t seq;
	ipvs_reply_fn fn;
	void *arg;
	int fn_error; /* errno of the first reply fn refused */
	int result;   /* -1 while running, then 0 or the kernel's errno */
};

enum {
	IPVS_REQ_DONE = 0, /* complete: nl->last_errno says how */
	IPVS_REQ_MORE = 1, /* a datagram was read, more is to come */
	IPVS_REQ_WAIT = 2, /* nothing to read yet (only when not waiting) */
};

/* Sends msg (frees it) as rq's request; -1 when the socket fails. */
int ipvs_req_send(struct ipvs_nl *nl, struct ipvs_req *rq, struct nl_msg *msg, ipvs_reply_fn fn,
                  void *arg, char *err, size_t errlen);
/* Reads at most one datagram for rq (waiting for it when wait): an
 * IPVS_REQ_* value, or -1 when the socket fails (err says why). */
int ipvs_req_read(struct ipvs_req *rq, bool wait, char *err, size_t errlen);
/*
 * Sends `count` complete requests laid end to end in buf (each with NLM_F_ACK)
 * in one datagram, numbering them, and stores each one's ack in errors[i]
 * (0 or a positive errno). -1 when the socket fails; err says why.
 */
int ipvs_nl_transact(struct ipvs_nl *nl, unsigned char *buf, size_t len, size_t count, int *errors,
                     char *err, size_t errlen);

#endif
