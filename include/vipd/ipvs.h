/*
 * The kernel's IPVS table over generic netlink (family "IPVS"): services,
 * destinations, timeouts, dumps, and batches of many operations in one round
 * of sends. It knows nothing of apps or JSON, and it never logs: every call
 * returns 0/-1 (the kernel's errno as it is, never interpreted here) and
 * fills the caller's error buffer. Calls block until the kernel answers,
 * which it does while handling the request (a reply missing for 30 s is
 * reported as an error, not waited for); the stepped dumps below never wait.
 * Where this layer sits: docs/dataplane.md.
 */
#ifndef VIPD_IPVS_H
#define VIPD_IPVS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* IP_VS_SCHEDNAME_MAXLEN, terminator included. */
#define IPVS_SCHED_MAX 16
/* The scheduler used when a service names none (ipvsadm's default too). */
#define IPVS_SCHED_DEFAULT "wlc"

/* Values are the kernel's IP_VS_CONN_F_MASQ/TUNNEL/DROUTE. */
enum ipvs_fwd {
	IPVS_FWD_MASQ = 0,
	IPVS_FWD_TUNNEL = 2,
	IPVS_FWD_DROUTE = 3,
};

enum ipvs_op {
	IPVS_OP_ADD_SERVICE,
	IPVS_OP_EDIT_SERVICE,
	IPVS_OP_DEL_SERVICE,
	IPVS_OP_ADD_DEST,
	IPVS_OP_EDIT_DEST,
	IPVS_OP_DEL_DEST,
};

union ipvs_addr {
	struct in_addr v4;
	struct in6_addr v6;
};

/* Counters the kernel reports with a dump; ignored when writing. */
struct ipvs_stats {
	uint64_t conns;
	uint64_t inpkts;
	uint64_t outpkts;
	uint64_t inbytes;
	uint64_t outbytes;
};

/*
 * A virtual service, keyed by (af, protocol, addr, port) or, when fwmark is
 * not 0, by (af, fwmark). Zero the struct before filling it: bytes of addr
 * past the family's length must be zero.
 */
struct ipvs_service {
	int af;           /* AF_INET or AF_INET6 */
	uint8_t protocol; /* IPPROTO_TCP, IPPROTO_UDP (or IPPROTO_SCTP); unused with fwmark */
	union ipvs_addr addr;
	uint16_t port; /* host byte order */
	uint32_t fwmark;
	char sched[IPVS_SCHED_MAX]; /* "" means IPVS_SCHED_DEFAULT */
	uint32_t flags;             /* IP_VS_SVC_F_*; the kernel adds HASHED (0x2) in dumps */
	uint32_t timeout;           /* persistence timeout, seconds */
	/* Persistence netmask as the kernel takes it: for IPv4 a mask in network
	 * byte order, for IPv6 a prefix length; 0 means the full mask. */
	uint32_t netmask;
	struct ipvs_stats stats; /* read-only, filled by dumps */
};

/* A real server of a service. Zero it before filling, as for services. */
struct ipvs_dest {
	int af; /* may differ from the service's only with IPVS_FWD_TUNNEL */
	union ipvs_addr addr;
	uint16_t port;   /* host byte order */
	uint32_t weight; /* 0 drains: no new connections, existing ones go on */
	enum ipvs_fwd fwd;
	uint32_t u_threshold; /* 0: no upper connection limit */
	uint32_t l_threshold;
	/* read-only, filled by dumps */
	uint32_t active_conns;
	uint32_t inactive_conns;
	uint32_t persist_conns;
	struct ipvs_stats stats;
};

struct ipvs_info {
	uint32_t version; /* 0x010201 is 1.2.1 */
	uint32_t conn_tab_size;
};

/* Connection timeouts in seconds; 0 in ipvs_timeouts_set leaves one as it is. */
struct ipvs_timeouts {
	uint32_t tcp;
	uint32_t tcp_fin;
	uint32_t udp;
};

struct ipvs_nl;
struct ipvs_batch;

#define IPVS_MUST_CHECK __attribute__((warn_unused_result))

/*
 * Opens a generic netlink socket and resolves the IPVS family. -1 when the
 * running kernel has no IPVS (module ip_vs not loaded or not built) or the
 * socket fails, with one line in err saying which and what to do.
 */
IPVS_MUST_CHECK int ipvs_open(struct ipvs_nl **out, char *err, size_t errlen);
/* Closes the socket and frees the handle; NULL is fine. */
void ipvs_close(struct ipvs_nl *nl);
/* The kernel's errno for the last single operation, dump, info or timeout
 * request on nl: 0 when it succeeded (batches report per operation). */
int ipvs_last_errno(const struct ipvs_nl *nl);

IPVS_MUST_CHECK int ipvs_info_get(struct ipvs_nl *nl, struct ipvs_info *out, char *err,
                                  size_t errlen);
IPVS_MUST_CHECK int ipvs_timeouts_get(struct ipvs_nl *nl, struct ipvs_timeouts *out, char *err,
                                      size_t errlen);
IPVS_MUST_CHECK int ipvs_timeouts_set(struct ipvs_nl *nl, const struct ipvs_timeouts *t, char *err,
                                      size_t errlen);

/*
 * One operation (d: the destination of a dest op, NULL for a service op),
 * one request and one ack: 0 when the kernel did it, -1 when it refused or
 * the socket failed, with err filled ("add dest 10.1.0.2:80 to TCP
 * 11.0.0.1:80: No such process (no such service)") and the errno in
 * ipvs_last_errno(nl). This layer never decides that a refusal means
 * "already so" (EEXIST on an add, ENOENT on a delete): that rule is the
 * reconciler's (reconcile_apply_result), in one place.
 */
IPVS_MUST_CHECK int ipvs_op_run(struct ipvs_nl *nl, enum ipvs_op op, const struct ipvs_service *s,
                                const struct ipvs_dest *d, char *err, size_t errlen);

/*
 * Dumps. On success *out is a malloc'd array of *n entries that the caller
 * frees with free(); on -1 *out is NULL. The kernel answers a dest dump of
 * a service that does not exist with no destinations, not with an error.
 */
IPVS_MUST_CHECK int ipvs_services_dump(struct ipvs_nl *nl, struct ipvs_service **out, size_t *n,
                                       char *err, size_t errlen);
IPVS_MUST_CHECK int ipvs_dests_dump(struct ipvs_nl *nl, const struct ipvs_service *s,
                                    struct ipvs_dest **out, size_t *n, char *err, size_t errlen);

/*
 * The same dumps read in steps, for a caller that must not hold its event
 * loop: begin sends the request; each ipvs_dump_step reads at most one
 * datagram (the kernel builds the next only once this one is read) and never
 * waits. It returns IPVS_DUMP_DONE when the dump is complete, IPVS_DUMP_MORE
 * after a datagram, IPVS_DUMP_WAIT when none has come yet (wait for ipvs_fd
 * to be readable), or -1 with err (the errno in ipvs_last_errno). Then
 * ipvs_dump_take hands over the malloc'd entries (struct ipvs_service or
 * struct ipvs_dest). One dump at a time per handle: the kernel refuses a
 * second one with EBUSY, and ipvs_dump_free reads an unfinished one to its
 * end before freeing it.
 */
struct ipvs_dump;
enum {
	IPVS_DUMP_DONE = 0,
	IPVS_DUMP_MORE = 1,
	IPVS_DUMP_WAIT = 2,
};
IPVS_MUST_CHECK int ipvs_services_dump_begin(struct ipvs_nl *nl, struct ipvs_dump **out, char *err,
                                             size_t errlen);
IPVS_MUST_CHECK int ipvs_dests_dump_begin(struct ipvs_nl *nl, const struct ipvs_service *s,
                                          struct ipvs_dump **out, char *err, size_t errlen);
IPVS_MUST_CHECK int ipvs_dump_step(struct ipvs_dump *d, char *err, size_t errlen);
void *ipvs_dump_take(struct ipvs_dump *d, size_t *n);
void ipvs_dump_free(struct ipvs_dump *d);
/* The socket, for an event loop to wait on (readable); the handle keeps it. */
int ipvs_fd(const struct ipvs_nl *nl);

/*
 * Batches: queue many operations, then send them all with NLM_F_ACK, many
 * per datagram, and collect one ack each. The kernel applies them in queue
 * order and goes on after a failed one, so an add of a destination queued
 * after the add of its service works, and one bad operation costs only
 * itself. Results come back per operation through the callback, in order,
 * with the kernel's errno as it is (the caller decides what it means).
 */
struct ipvs_batch_result {
	size_t index; /* position in the batch, from 0 */
	enum ipvs_op op;
	const struct ipvs_service *svc;
	const struct ipvs_dest *dest; /* NULL for service operations */
	int error;                    /* errno from the kernel, 0 when it succeeded */
	const char *msg;              /* as a single operation's err; "" when error is 0 */
};
typedef void (*ipvs_batch_cb)(void *arg, const struct ipvs_batch_result *r);

IPVS_MUST_CHECK int ipvs_batch_begin(struct ipvs_nl *nl, struct ipvs_batch **out, char *err,
                                     size_t errlen);
/* Queues one operation (dest is ignored for service operations); -1 when
 * out of memory or the operation cannot be encoded. */
IPVS_MUST_CHECK int ipvs_batch_queue(struct ipvs_batch *b, enum ipvs_op op,
                                     const struct ipvs_service *s, const struct ipvs_dest *d,
                                     char *err, size_t errlen);
/* Operations queued and not yet committed. */
size_t ipvs_batch_len(const struct ipvs_batch *b);
/*
 * Sends everything queued and reports each operation to cb (may be NULL).
 * Returns how many operations the kernel refused (error not 0), or -1 when the
 * socket itself failed: then err says why, and every operation whose ack never
 * came, or that was never sent, is reported with the socket's errno (EIO when
 * it set none); the kernel may have applied some of them, so the caller
 * re-reads the table. The batch is empty after, ready for new operations.
 */
IPVS_MUST_CHECK int ipvs_batch_commit(struct ipvs_batch *b, ipvs_batch_cb cb, void *arg, char *err,
                                      size_t errlen);
void ipvs_batch_free(struct ipvs_batch *b);

const char *ipvs_op_name(enum ipvs_op op);
/* "TCP 10.0.0.1:80", "UDP [fd00::1]:53", "FWM 7"; returns buf. */
const char *ipvs_service_format(const struct ipvs_service *s, char *buf, size_t len);
/* "10.0.0.1:80" or "[fd00::1]:80"; returns buf. */
const char *ipvs_dest_format(const struct ipvs_dest *d, char *buf, size_t len);

#endif
