/*
 * IPVS dumps: the services, or one service's destinations, read one datagram
 * at a time. The kernel builds the next datagram of a dump only when the
 * previous one has been read, so a caller that steps a dump between other
 * work (dataplane_async.c) holds its event loop for one datagram at most.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/ip_vs.h>

#include "vipd/errbuf.h"

#include "ipvs_priv.h"

/* A growing array that dump callbacks append to. */
struct dump_array {
	void *items;
	size_t n;
	size_t cap;
	size_t size;
};

struct ipvs_dump {
	struct ipvs_req rq;
	struct dump_array a;
	bool running;   /* sent and not yet complete: the kernel holds a dump */
	char what[128]; /* "dump services", "dump dests of TCP 11.0.0.1:80" */
};

static void *dump_array_push(struct dump_array *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void *items = realloc(a->items, cap * a->size);

		if (items == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		a->items = items;
		a->cap = cap;
	}
	return (char *)a->items + a->n++ * a->size;
}

static int collect_service(struct nlmsghdr *nlh, void *arg)
{
	struct ipvs_service *s = dump_array_push(arg);

	if (s == NULL)
		return -1;
	errno = EPROTO;
	return ipvs_msg_parse_service(nlh, s);
}

static int collect_dest(struct nlmsghdr *nlh, void *arg)
{
	struct ipvs_dest *d = dump_array_push(arg);

	if (d == NULL)
		return -1;
	errno = EPROTO;
	return ipvs_msg_parse_dest(nlh, d);
}

/* Sends msg (freed) as d's request. */
static int dump_send(struct ipvs_nl *nl, struct ipvs_dump *d, struct nl_msg *msg, ipvs_reply_fn fn,
                     char *err, size_t errlen)
{
	char transport[160] = "";

	if (msg == NULL) {
		nl->last_errno = ENOMEM;
		errbuf_set(err, errlen, "%s: out of memory", d->what);
		return -1;
	}
	if (ipvs_req_send(nl, &d->rq, msg, fn, &d->a, transport, sizeof(transport)) < 0) {
		errbuf_set(err, errlen, "%s: %s", d->what, transport);
		return -1;
	}
	d->running = true;
	return 0;
}

static struct ipvs_dump *dump_new(size_t size)
{
	struct ipvs_dump *d = calloc(1, sizeof(*d));

	if (d != NULL)
		d->a.size = size;
	return d;
}

int ipvs_services_dump_begin(struct ipvs_nl *nl, struct ipvs_dump **out, char *err, size_t errlen)
{
	struct ipvs_dump *d = dump_new(sizeof(struct ipvs_service));

	*out = NULL;
	if (d == NULL) {
		errbuf_set(err, errlen, "dump services: out of memory");
		return -1;
	}
	strcpy(d->what, "dump services");
	if (dump_send(nl, d, ipvs_msg_new(nl, IPVS_CMD_GET_SERVICE, NLM_F_DUMP), collect_service,
	              err, errlen) < 0) {
		ipvs_dump_free(d);
		return -1;
	}
	*out = d;
	return 0;
}

int ipvs_dests_dump_begin(struct ipvs_nl *nl, const struct ipvs_service *s, struct ipvs_dump **out,
                          char *err, size_t errlen)
{
	struct ipvs_dump *d = dump_new(sizeof(struct ipvs_dest));
	struct nl_msg *msg;
	size_t used;

	*out = NULL;
	if (d == NULL) {
		errbuf_set(err, errlen, "dump dests: out of memory");
		return -1;
	}
	strcpy(d->what, "dump dests of ");
	used = strlen(d->what);
	ipvs_service_format(s, d->what + used, sizeof(d->what) - used);
	msg = ipvs_msg_new(nl, IPVS_CMD_GET_DEST, NLM_F_DUMP);
	if (msg != NULL && ipvs_msg_put_service(msg, s) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	if (dump_send(nl, d, msg, collect_dest, err, errlen) < 0) {
		ipvs_dump_free(d);
		return -1;
	}
	*out = d;
	return 0;
}

static int dump_step(struct ipvs_dump *d, bool wait, char *err, size_t errlen)
{
	char transport[160] = "";
	int rc = ipvs_req_read(&d->rq, wait, transport, sizeof(transport));

	if (rc == IPVS_REQ_MORE || rc == IPVS_REQ_WAIT)
		return rc;
	d->running = false;
	if (rc < 0) {
		errbuf_set(err, errlen, "%s: %s", d->what, transport);
		return -1;
	}
	if (ipvs_last_errno(d->rq.nl) != 0) {
		errbuf_set(err, errlen, "%s: %s", d->what, strerror(ipvs_last_errno(d->rq.nl)));
		return -1;
	}
	return IPVS_DUMP_DONE;
}

int ipvs_dump_step(struct ipvs_dump *d, char *err, size_t errlen)
{
	return dump_step(d, false, err, errlen);
}

void *ipvs_dump_take(struct ipvs_dump *d, size_t *n)
{
	void *items = d->a.items;

	*n = d->a.n;
	d->a.items = NULL;
	d->a.n = d->a.cap = 0;
	return items;
}

/* A dump left running would make the socket's next dump fail with EBUSY:
 * read it to its end (the kernel has it ready) before letting go. */
void ipvs_dump_free(struct ipvs_dump *d)
{
	if (d == NULL)
		return;
	while (d->running && dump_step(d, true, NULL, 0) == IPVS_DUMP_MORE)
		;
	free(d->a.items);
	free(d);
}

/* The blocking dumps: the same steps, each waiting for its datagram. */
static int dump_all(struct ipvs_dump *d, void **out, size_t *n, char *err, size_t errlen)
{
	int rc;

	do
		rc = dump_step(d, true, err, errlen);
	while (rc == IPVS_DUMP_MORE);
	if (rc < 0) {
		ipvs_dump_free(d);
		return -1;
	}
	*out = ipvs_dump_take(d, n);
	ipvs_dump_free(d);
	return 0;
}

int ipvs_services_dump(struct ipvs_nl *nl, struct ipvs_service **out, size_t *n, char *err,
                       size_t errlen)
{
	struct ipvs_dump *d;
	void *items = NULL;

	*out = NULL;
	*n = 0;
	if (ipvs_services_dump_begin(nl, &d, err, errlen) < 0 ||
	    dump_all(d, &items, n, err, errlen) < 0)
		return -1;
	*out = items;
	return 0;
}

int ipvs_dests_dump(struct ipvs_nl *nl, const struct ipvs_service *s, struct ipvs_dest **out,
                    size_t *n, char *err, size_t errlen)
{
	struct ipvs_dump *d;
	void *items = NULL;

	*out = NULL;
	*n = 0;
	if (ipvs_dests_dump_begin(nl, s, &d, err, errlen) < 0 ||
	    dump_all(d, &items, n, err, errlen) < 0)
		return -1;
	*out = items;
	return 0;
}
