/*
 * The IPVS netlink handle: opening the socket and resolving the family, the
 * request/ack transport, info, timeouts and single operations (dumps are in
 * ipvs_dump.c).
 * Messages are built with libnl but sent and read on the raw socket, so that
 * a batch can put many requests in one datagram and match acks by sequence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/ip_vs.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "vipd/errbuf.h"

#include "ipvs_priv.h"

/* Acks of a batch queue up in the receive buffer while the kernel works
 * through the datagram; ask for room for thousands of them. */
#define IPVS_RCVBUF (4 * 1024 * 1024)
#define IPVS_SNDBUF (1024 * 1024)
/* The kernel answers a request while handling our send; a reply missing for
 * this long means a lost message, not a slow kernel. */
#define IPVS_REPLY_TIMEOUT_S 30

static void set_no_ipvs_error(char *err, size_t errlen)
{
	struct utsname u;
	const char *release = uname(&u) == 0 ? u.release : "?";

	errbuf_set(err, errlen,
	           "IPVS: the running kernel (%s) has no IPVS (generic netlink family \"%s\" "
	           "not found): load it with 'modprobe ip_vs', or run a kernel built with "
	           "CONFIG_IP_VS such as Debian's (apt-get install linux-image-amd64)",
	           release, IPVS_GENL_NAME);
}

/* Failures here only shrink what the socket can hold, so they are not
 * errors: SO_RCVBUFFORCE needs CAP_NET_ADMIN (which vipd has) and
 * NETLINK_CAP_ACK (acks without a copy of the request) needs Linux 4.3. */
static int tune_socket(struct ipvs_nl *nl, char *err, size_t errlen)
{
	int fd = nl_socket_get_fd(nl->sock);
	int rcvbuf = IPVS_RCVBUF, one = 1;
	struct timeval tv = {.tv_sec = IPVS_REPLY_TIMEOUT_S};
	int rc = nl_socket_set_buffer_size(nl->sock, IPVS_RCVBUF, IPVS_SNDBUF);

	if (rc < 0) {
		errbuf_set(err, errlen, "IPVS: cannot size the netlink socket: %s",
		           nl_geterror(rc));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		errbuf_set(err, errlen, "IPVS: cannot set the netlink reply timeout: %s",
		           strerror(errno));
		return -1;
	}
	return 0;
}

int ipvs_open(struct ipvs_nl **out, char *err, size_t errlen)
{
	struct ipvs_nl *nl;
	int rc;

	*out = NULL;
	nl = calloc(1, sizeof(*nl));
	if (nl == NULL) {
		errbuf_set(err, errlen, "IPVS: out of memory");
		return -1;
	}
	nl->rbuf = malloc(IPVS_RBUF_LEN);
	nl->sock = nl_socket_alloc();
	if (nl->rbuf == NULL || nl->sock == NULL) {
		errbuf_set(err, errlen, "IPVS: out of memory");
		goto fail;
	}
	rc = genl_connect(nl->sock);
	if (rc < 0) {
		errbuf_set(err, errlen, "IPVS: cannot open a generic netlink socket: %s",
		           nl_geterror(rc));
		goto fail;
	}
	nl->family = genl_ctrl_resolve(nl->sock, IPVS_GENL_NAME);
	if (nl->family == -NLE_OBJ_NOTFOUND) {
		set_no_ipvs_error(err, errlen);
		goto fail;
	}
	if (nl->family < 0) {
		errbuf_set(err, errlen, "IPVS: cannot resolve generic netlink family %s: %s",
		           IPVS_GENL_NAME, nl_geterror(nl->family));
		goto fail;
	}
	if (tune_socket(nl, err, errlen) < 0)
		goto fail;
	nl->port = nl_socket_get_local_port(nl->sock);
	nl->next_seq = (uint32_t)time(NULL);
	*out = nl;
	return 0;

fail:
	ipvs_close(nl);
	return -1;
}

void ipvs_close(struct ipvs_nl *nl)
{
	if (nl == NULL)
		return;
	nl_socket_free(nl->sock);
	free(nl->rbuf);
	free(nl);
}

int ipvs_last_errno(const struct ipvs_nl *nl)
{
	return nl->last_errno;
}

int ipvs_fd(const struct ipvs_nl *nl)
{
	return nl_socket_get_fd(nl->sock);
}

static int send_datagram(struct ipvs_nl *nl, const unsigned char *buf, size_t len, char *err,
                         size_t errlen)
{
	ssize_t n;

	do {
		n = send(nl_socket_get_fd(nl->sock), buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int saved = errno;

		errbuf_set(err, errlen, "netlink send: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		errbuf_set(err, errlen, "netlink send: %zd of %zu bytes sent", n, len);
		return -1;
	}
	return 0;
}

/* One datagram into nl->rbuf; its length, or -1 with errno set. With
 * MSG_DONTWAIT in flags, nothing to read is -1 with errno EAGAIN and err
 * untouched. */
static int recv_datagram(struct ipvs_nl *nl, int flags, char *err, size_t errlen)
{
	struct iovec iov = {.iov_base = nl->rbuf, .iov_len = IPVS_RBUF_LEN};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	do {
		n = recvmsg(nl_socket_get_fd(nl->sock), &mh, flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int saved = errno;

		if ((saved == EAGAIN || saved == EWOULDBLOCK) && (flags & MSG_DONTWAIT))
			; /* the caller waits for the socket */
		else if (saved == EAGAIN || saved == EWOULDBLOCK)
			errbuf_set(err, errlen, "no reply from the kernel within %d s",
			           IPVS_REPLY_TIMEOUT_S);
		else if (saved == ENOBUFS)
			errbuf_set(err, errlen,
			           "the kernel dropped replies "
			           "(netlink receive buffer full)");
		else
			errbuf_set(err, errlen, "netlink receive: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		errno = EMSGSIZE;
		errbuf_set(err, errlen, "netlink reply larger than %d bytes", IPVS_RBUF_LEN);
		return -1;
	}
	return (int)n;
}

static int ack_error(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = nlmsg_data(nlh);

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(e->error)))
		return EPROTO;
	return e->error < 0 ? -e->error : e->error;
}

int ipvs_nl_transact(struct ipvs_nl *nl, unsigned char *buf, size_t len, size_t count, int *errors,
                     char *err, size_t errlen)
{
	uint32_t first = nl->next_seq;
	size_t off = 0, pending = count;

	for (size_t i = 0; i < count; i++) {
		struct nlmsghdr *h = (struct nlmsghdr *)(buf + off);

		h->nlmsg_seq = first + (uint32_t)i;
		h->nlmsg_pid = nl->port;
		errors[i] = -1;
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	nl->next_seq += (uint32_t)count;
	if (send_datagram(nl, buf, len, err, errlen) < 0)
		goto fail;
	while (pending > 0) {
		int remaining = recv_datagram(nl, 0, err, errlen);
		struct nlmsghdr *h = (struct nlmsghdr *)nl->rbuf;

		if (remaining < 0)
			goto fail;
		for (; nlmsg_ok(h, remaining); h = nlmsg_next(h, &remaining)) {
			uint32_t idx = h->nlmsg_seq - first; /* wraps like the counter */

			if (h->nlmsg_type != NLMSG_ERROR || idx >= count || errors[idx] != -1)
				continue;
			errors[idx] = ack_error(h);
			pending--;
		}
	}
	return 0;

fail:
	for (size_t i = 0; i < count; i++)
		if (errors[i] == -1)
			errors[i] = errno != 0 ? errno : EIO;
	return -1;
}

/* A dump that fails part way ends with NLMSG_DONE carrying -errno. */
static int done_error(const struct nlmsghdr *nlh)
{
	int error;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(error)))
		return 0;
	memcpy(&error, nlmsg_data(nlh), sizeof(error));
	return error < 0 ? -error : 0;
}

int ipvs_req_send(struct ipvs_nl *nl, struct ipvs_req *rq, struct nl_msg *msg, ipvs_reply_fn fn,
                  void *arg, char *err, size_t errlen)
{
	struct nlmsghdr *req = nlmsg_hdr(msg);
	int rc;

	memset(rq, 0, sizeof(*rq));
	rq->nl = nl;
	rq->seq = nl->next_seq++;
	rq->fn = fn;
	rq->arg = arg;
	rq->result = -1;
	req->nlmsg_seq = rq->seq;
	req->nlmsg_pid = nl->port;
	rc = send_datagram(nl, (unsigned char *)req, req->nlmsg_len, err, errlen);
	nlmsg_free(msg);
	if (rc < 0)
		nl->last_errno = errno != 0 ? errno : EIO;
	return rc;
}

/* Hands the replies in one datagram of `len` bytes to rq. */
static void req_take(struct ipvs_req *rq, struct nlmsghdr *h, int len)
{
	for (; rq->result < 0 && nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
		if (h->nlmsg_seq != rq->seq || h->nlmsg_type == NLMSG_NOOP)
			continue;
		if (h->nlmsg_type == NLMSG_DONE)
			rq->result = done_error(h);
		else if (h->nlmsg_type == NLMSG_ERROR)
			rq->result = ack_error(h);
		else if (rq->fn != NULL && rq->fn_error == 0 && rq->fn(h, rq->arg) < 0)
			rq->fn_error = errno != 0 ? errno : EPROTO;
	}
}

int ipvs_req_read(struct ipvs_req *rq, bool wait, char *err, size_t errlen)
{
	struct ipvs_nl *nl = rq->nl;
	int len;

	if (rq->result >= 0)
		return IPVS_REQ_DONE;
	len = recv_datagram(nl, wait ? 0 : MSG_DONTWAIT, err, errlen);
	if (len < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK))
		return IPVS_REQ_WAIT;
	if (len < 0) {
		nl->last_errno = errno != 0 ? errno : EIO;
		return -1;
	}
	req_take(rq, (struct nlmsghdr *)nl->rbuf, len);
	if (rq->result < 0)
		return IPVS_REQ_MORE;
	nl->last_errno = rq->result != 0 ? rq->result : rq->fn_error;
	return IPVS_REQ_DONE;
}

/*
 * Sends one request (NLM_F_DUMP, or NLM_F_ACK so that the end is known),
 * hands each reply to fn and reads up to NLMSG_DONE or the ack. Frees msg.
 * Returns 0 or a positive errno (the kernel's, or the transport's with err).
 */
static int request(struct ipvs_nl *nl, struct nl_msg *msg, ipvs_reply_fn fn, void *arg, char *err,
                   size_t errlen)
{
	struct ipvs_req rq;
	int rc;

	if (ipvs_req_send(nl, &rq, msg, fn, arg, err, errlen) < 0)
		return -1;
	do
		rc = ipvs_req_read(&rq, true, err, errlen);
	while (rc == IPVS_REQ_MORE);
	return rc < 0 ? -1 : nl->last_errno;
}

/* request() for callers that describe the failure themselves. */
static int request_or_error(struct ipvs_nl *nl, struct nl_msg *msg, ipvs_reply_fn fn, void *arg,
                            const char *what, char *err, size_t errlen)
{
	char transport[160] = "";
	int rc;

	if (msg == NULL) {
		errbuf_set(err, errlen, "%s: out of memory", what);
		return -1;
	}
	rc = request(nl, msg, fn, arg, transport, sizeof(transport));
	if (rc != 0) {
		errbuf_set(err, errlen, "%s: %s", what, rc < 0 ? transport : strerror(rc));
		return -1;
	}
	return 0;
}

static int parse_info(struct nlmsghdr *nlh, void *arg)
{
	errno = EPROTO;
	return ipvs_msg_parse_info(nlh, arg);
}

int ipvs_info_get(struct ipvs_nl *nl, struct ipvs_info *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	return request_or_error(nl, ipvs_msg_new(nl, IPVS_CMD_GET_INFO, NLM_F_ACK), parse_info, out,
	                        "get info", err, errlen);
}

static int parse_timeouts(struct nlmsghdr *nlh, void *arg)
{
	errno = EPROTO;
	return ipvs_msg_parse_timeouts(nlh, arg);
}

int ipvs_timeouts_get(struct ipvs_nl *nl, struct ipvs_timeouts *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	return request_or_error(nl, ipvs_msg_new(nl, IPVS_CMD_GET_CONFIG, NLM_F_ACK),
	                        parse_timeouts, out, "get timeouts", err, errlen);
}

int ipvs_timeouts_set(struct ipvs_nl *nl, const struct ipvs_timeouts *t, char *err, size_t errlen)
{
	struct nl_msg *msg = ipvs_msg_new(nl, IPVS_CMD_SET_CONFIG, NLM_F_ACK);

	/* The kernel leaves a timeout alone when its attribute is 0 or absent. */
	if (msg != NULL && (nla_put_u32(msg, IPVS_CMD_ATTR_TIMEOUT_TCP, t->tcp) < 0 ||
	                    nla_put_u32(msg, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t->tcp_fin) < 0 ||
	                    nla_put_u32(msg, IPVS_CMD_ATTR_TIMEOUT_UDP, t->udp) < 0)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return request_or_error(nl, msg, NULL, NULL, "set timeouts", err, errlen);
}

int ipvs_op_run(struct ipvs_nl *nl, enum ipvs_op op, const struct ipvs_service *s,
                const struct ipvs_dest *d, char *err, size_t errlen)
{
	struct nl_msg *msg = ipvs_msg_op(nl, op, s, d);
	char what[192], transport[160];
	struct nlmsghdr *h;
	int error, rc;

	if (msg == NULL) {
		ipvs_op_error(op, s, d, d == NULL ? EINVAL : ENOMEM, err, errlen);
		nl->last_errno = d == NULL ? EINVAL : ENOMEM;
		return -1;
	}
	h = nlmsg_hdr(msg);
	rc = ipvs_nl_transact(nl, (unsigned char *)h, h->nlmsg_len, 1, &error, transport,
	                      sizeof(transport));
	nlmsg_free(msg);
	nl->last_errno = error;
	if (rc < 0) {
		ipvs_op_describe(op, s, d, what, sizeof(what));
		errbuf_set(err, errlen, "%s: %s", what, transport);
		return -1;
	}
	if (error != 0) {
		ipvs_op_error(op, s, d, error, err, errlen);
		return -1;
	}
	return 0;
}
