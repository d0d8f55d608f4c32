/*
 * Batches of IPVS operations: requests are encoded as they are queued, laid
 * end to end, and sent many per datagram; acks are matched back to each
 * operation by sequence number and reported in queue order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/errbuf.h"

#include "ipvs_priv.h"

/* Per datagram. The kernel answers each request with an ack while it handles
 * our send, before we read any: the count bounds what must fit in the
 * receive buffer even when it could not be enlarged past rmem_max. */
#define IPVS_BATCH_CHUNK_MSGS 256
#define IPVS_BATCH_CHUNK_BYTES ((size_t)64 * 1024)

struct ipvs_batch_op {
	enum ipvs_op op;
	struct ipvs_service svc;
	struct ipvs_dest dest;
	size_t off; /* of the request in buf */
	size_t len; /* aligned */
};

struct ipvs_batch {
	struct ipvs_nl *nl;
	unsigned char *buf;
	size_t len;
	size_t cap;
	struct ipvs_batch_op *ops;
	size_t n;
	size_t ops_cap;
	size_t sent; /* operations sent and reported so far */
};

int ipvs_batch_begin(struct ipvs_nl *nl, struct ipvs_batch **out, char *err, size_t errlen)
{
	struct ipvs_batch *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (b == NULL) {
		errbuf_set(err, errlen, "batch: out of memory");
		return -1;
	}
	b->nl = nl;
	*out = b;
	return 0;
}

void ipvs_batch_free(struct ipvs_batch *b)
{
	if (b == NULL)
		return;
	free(b->buf);
	free(b->ops);
	free(b);
}

size_t ipvs_batch_len(const struct ipvs_batch *b)
{
	return b->n;
}

static int reserve(struct ipvs_batch *b, size_t bytes)
{
	if (b->n == b->ops_cap) {
		size_t cap = b->ops_cap ? b->ops_cap * 2 : 64;
		struct ipvs_batch_op *ops = realloc(b->ops, cap * sizeof(*ops));

		if (ops == NULL)
			return -1;
		b->ops = ops;
		b->ops_cap = cap;
	}
	if (b->len + bytes > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16384;
		unsigned char *buf;

		while (cap < b->len + bytes)
			cap *= 2;
		buf = realloc(b->buf, cap);
		if (buf == NULL)
			return -1;
		b->buf = buf;
		b->cap = cap;
	}
	return 0;
}

int ipvs_batch_queue(struct ipvs_batch *b, enum ipvs_op op, const struct ipvs_service *s,
                     const struct ipvs_dest *d, char *err, size_t errlen)
{
	struct nl_msg *msg = ipvs_msg_op(b->nl, op, s, d);
	struct ipvs_batch_op *o;
	struct nlmsghdr *h;
	size_t len;

	if (msg == NULL) {
		ipvs_op_error(op, s, d, d == NULL ? EINVAL : ENOMEM, err, errlen);
		return -1;
	}
	h = nlmsg_hdr(msg);
	len = NLMSG_ALIGN(h->nlmsg_len);
	if (reserve(b, len) < 0) {
		nlmsg_free(msg);
		ipvs_op_error(op, s, d, ENOMEM, err, errlen);
		return -1;
	}
	memset(b->buf + b->len, 0, len);
	memcpy(b->buf + b->len, h, h->nlmsg_len);
	nlmsg_free(msg);
	o = &b->ops[b->n++];
	memset(o, 0, sizeof(*o));
	o->op = op;
	o->svc = *s;
	if (d != NULL)
		o->dest = *d;
	o->off = b->len;
	o->len = len;
	b->len += len;
	return 0;
}

/* Reports one operation; returns 1 when the kernel refused it. */
static int report(const struct ipvs_batch_op *o, size_t index, int error, ipvs_batch_cb cb,
                  void *arg)
{
	struct ipvs_batch_result r = {
	    .index = index,
	    .op = o->op,
	    .svc = &o->svc,
	    .dest = ipvs_op_has_dest(o->op) ? &o->dest : NULL,
	    .error = error,
	};
	char msg[256] = "";

	if (error != 0)
		ipvs_op_error(o->op, r.svc, r.dest, error, msg, sizeof(msg));
	r.msg = msg;
	if (cb != NULL)
		cb(arg, &r);
	return error != 0;
}

/* The end of the chunk that starts at first: bounded in count and bytes,
 * and never empty. */
static size_t chunk_end(const struct ipvs_batch *b, size_t first)
{
	size_t end = first, bytes = 0;

	while (end < b->n && end - first < IPVS_BATCH_CHUNK_MSGS &&
	       (end == first || bytes + b->ops[end].len <= IPVS_BATCH_CHUNK_BYTES)) {
		bytes += b->ops[end].len;
		end++;
	}
	return end;
}

/* Sends the chunk at b->sent and reports it; -1 when the socket failed,
 * then every unsent operation is reported too. */
static int commit_chunk(struct ipvs_batch *b, ipvs_batch_cb cb, void *arg, size_t *failed,
                        char *err, size_t errlen)
{
	int errors[IPVS_BATCH_CHUNK_MSGS];
	char transport[160];
	size_t first = b->sent, end = chunk_end(b, first);
	size_t bytes = b->ops[end - 1].off + b->ops[end - 1].len - b->ops[first].off;
	int transport_errno = 0;

	if (ipvs_nl_transact(b->nl, b->buf + b->ops[first].off, bytes, end - first, errors,
	                     transport, sizeof(transport)) < 0) {
		transport_errno = errno != 0 ? errno : EIO;
		errbuf_set(err, errlen, "batch of %zu operations, at #%zu: %s", b->n, first,
		           transport);
	}
	for (size_t i = first; i < end; i++)
		*failed += (size_t)report(&b->ops[i], i, errors[i - first], cb, arg);
	b->sent = end;
	if (transport_errno == 0)
		return 0;
	/* Not sent at all: the socket failed on an earlier chunk. */
	for (size_t i = end; i < b->n; i++)
		*failed += (size_t)report(&b->ops[i], i, transport_errno, cb, arg);
	b->sent = b->n;
	return -1;
}

static void batch_reset(struct ipvs_batch *b)
{
	b->n = 0;
	b->len = 0;
	b->sent = 0;
}

int ipvs_batch_commit(struct ipvs_batch *b, ipvs_batch_cb cb, void *arg, char *err, size_t errlen)
{
	size_t failed = 0;
	int rc = 0;

	while (rc == 0 && b->sent < b->n)
		rc = commit_chunk(b, cb, arg, &failed, err, errlen);
	batch_reset(b);
	return rc < 0 ? -1 : (int)failed;
}
