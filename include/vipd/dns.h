/*
 * vipd's DNS responder for VIP names: the record set (dns_records.c), the
 * names of named VIPs whose services are programmed (dns_vips.c), answering
 * one query packet with no I/O (dns_packet.c), which TCP connection is let
 * in (dns_tcp_admit.c), and the UDP and TCP sockets on the libev loop
 * (dns_server.c).
 */
#ifndef VIPD_DNS_H
#define VIPD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vipd/lbtable.h"
#include "vipd/model.h"

#define DNS_TTL_DEFAULT 5     /* seconds, as DC/OS answers */
#define DNS_UDP_PLAIN_MAX 512 /* RFC 1035, a query without EDNS */
#define DNS_UDP_EDNS_MAX 1232 /* the payload vipd offers over EDNS (DNS flag day 2020) */
#define DNS_MSG_MAX 65535     /* TCP, after the two-byte length */

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_ANY = 255,
};

/* ---- the record set (dns_records.c) ---- */

struct dns_host {
	char *name; /* lowercase, no final dot */
	struct lb_addr *addrs;
	size_t naddrs, cap;
};

struct dns_srv {
	char *name; /* _http._tcp.web.marathon.l4lb.thisdcos.directory */
	char *target;
	uint16_t port;
};

/* What the responder answers: names in its zones, with one TTL. Built with
 * the add functions, then dns_records_finish before any lookup. */
struct dns_records {
	char **zones;
	size_t nzones;
	uint32_t ttl;
	uint32_t serial; /* SOA serial: the caller bumps it when the set changes */
	struct dns_host *hosts;
	size_t nhosts, hosts_cap;
	struct dns_srv *srvs;
	size_t nsrvs, srvs_cap;
	const char **parents; /* names above the records' names, into them; sorted, unique */
	size_t nparents;
};

/* An empty set answering with `ttl`; nothing allocated yet. */
void dns_records_init(struct dns_records *r, uint32_t ttl);
/* Frees what the set owns and leaves it empty (its TTL kept), ready for
 * reuse; no need to call it on a set handed to dns_server_set_records. */
void dns_records_free(struct dns_records *r);
/* Each copies its strings (lowered) into the set; -1 only when out of
 * memory, and the set is then unchanged by that call. */
int dns_records_add_zone(struct dns_records *r, const char *zone)
    __attribute__((warn_unused_result));
int dns_records_add_addr(struct dns_records *r, const char *name, const struct lb_addr *a)
    __attribute__((warn_unused_result));
int dns_records_add_srv(struct dns_records *r, const char *name, const char *target, uint16_t port)
    __attribute__((warn_unused_result));
/* Sorts, merges duplicates and indexes the names above the records'. -1
 * when out of memory: the set must then be freed, not served. */
int dns_records_finish(struct dns_records *r) __attribute__((warn_unused_result));
/* Lookups on a finished set; name lowercase; each O(log n). */
const struct dns_host *dns_records_host(const struct dns_records *r, const char *name);
/* The first SRV record of name and how many there are (0: none). */
const struct dns_srv *dns_records_srv(const struct dns_records *r, const char *name, size_t *n);
/* The zone name is in or under (the longest match), NULL when none. */
const char *dns_records_zone_of(const struct dns_records *r, const char *name);
/* Whether name owns records or has names below it (an empty non-terminal,
 * which is NODATA rather than NXDOMAIN). */
bool dns_records_name_exists(const struct dns_records *r, const char *name);
/* The same content (zones, TTL and records), serial aside. */
bool dns_records_equal(const struct dns_records *a, const struct dns_records *b);

/* ---- the names of named VIPs (dns_vips.c) ---- */

struct vip_ranges;
struct vip_alloc;

struct dns_naming {
	const struct vip_ranges *ranges; /* named-VIP ranges; NULL = DC/OS's */
	const char *framework;           /* "marathon" */
	const char *const *zones;        /* DC/OS's four by default */
	size_t nzones;
	uint32_t ttl;
	/* The named VIPs' addresses the desired table was built with
	 * (desired_index.alloc, from the recorded assignments): NULL only
	 * where no build exists (unit tests), then allocated here from the
	 * names alone by the same rule. */
	const struct vip_alloc *alloc;
};

/*
 * For every named VIP of `set` that has a service in `programmed` (a sorted
 * keyset; an address counts when any of its protocols is programmed): A or
 * AAAA records for <name>.<framework>.<zone> in each zone, and SRV records
 * _<port name>._<tcp|udp>.<name>.<framework>.<zone> for ports with a name.
 * The addresses are those desired_build gives (same labels, same
 * allocation). Names with no usable DNS label are skipped. `out` is
 * initialised here and finished. -1 with err only when out of memory.
 */
int dns_records_from_vips(const struct apps_set *set, const struct lb_keyset *programmed,
                          const struct dns_naming *naming, struct dns_records *out, char *err,
                          size_t errlen) __attribute__((warn_unused_result));

/* ---- one packet (dns_packet.c) ---- */

/*
 * The response to one query packet, written to out (at least DNS_MSG_MAX
 * bytes). `tcp` lifts the size limit from the UDP one (512, or the client's
 * EDNS size up to DNS_UDP_EDNS_MAX) to 65535; an answer that does not fit
 * is cut to the question with TC set, so that the client retries over TCP.
 * Returns the response length, or 0 to send nothing (shorter than a header,
 * or itself a response).
 *   - outside every zone: REFUSED; a class other than IN: REFUSED;
 *   - opcode other than QUERY: NOTIMP; not exactly one question, a bad name
 *     or a truncated record: FORMERR;
 *   - in a zone: A, AAAA, SRV (with the target's addresses as additional
 *     records when they fit) and ANY; SOA at the apex; a name with no record
 *     of the type asked is NODATA and an unknown name NXDOMAIN, both with
 *     the zone's SOA in the authority section (negative TTL = the TTL);
 *   - EDNS: an OPT in the query gets one in the response; version > 0 is
 *     BADVERS.
 */
size_t dns_answer(const struct dns_records *r, const uint8_t *q, size_t qlen, bool tcp,
                  uint8_t *out);

/* ---- who gets a TCP connection (dns_tcp_admit.c) ---- */

/* Limits of the TCP side (RFC 7766 section 10: a server bounds the
 * connections it holds, per client and in all, and how long a connection
 * may take to deliver a query). */
#define DNS_TCP_CONNS_MAX 64
#define DNS_TCP_CONNS_PER_PEER 8
/* From a connection's start or its previous answer to its next whole
 * query; bytes trickling in do not extend it (a connection with nothing
 * to ask is closed after the same time, the RFC's idle timeout). */
#define DNS_TCP_QUERY_S 10.0

/* What the admission needs to know of one open connection. */
struct dns_tcp_slot {
	struct lb_addr peer;
	uint64_t waiting_since; /* when it began waiting for its query, as a sequence number */
	bool answering;         /* a reply is being written to it: never dropped */
};

enum dns_tcp_verdict {
	DNS_TCP_ADMIT,       /* room for it */
	DNS_TCP_ADMIT_EVICT, /* room once *victim is closed */
	DNS_TCP_REFUSE,      /* every connection it could replace is answering */
};

/*
 * Whether a new connection from `peer` may join the `n` open ones. A peer at
 * its cap (per_peer) replaces its own connection that has waited longest;
 * when the server is at max, the new one replaces the connection that has
 * waited longest of all. So a client holding connections open delays
 * nobody but itself for more than the time it takes to connect.
 */
enum dns_tcp_verdict dns_tcp_admit(const struct dns_tcp_slot *slots, size_t n,
                                   const struct lb_addr *peer, size_t max, size_t per_peer,
                                   size_t *victim);

/* ---- the sockets (dns_server.c) ---- */

struct ev_loop;
struct dns_server;

struct dns_server_stats {
	uint64_t udp_queries, tcp_queries, dropped, tcp_refused;
	uint64_t tcp_evicted, tcp_deadline; /* replaced by a newer one; closed at DNS_TCP_QUERY_S */
};

/* Binds UDP and TCP on "ADDR:PORT" ("127.0.0.1:53", "[::1]:5353") and
 * starts their watchers on loop. Answers from an empty set (REFUSED) until
 * dns_server_set_records. NULL with err naming the address and the cause. */
struct dns_server *dns_server_open(struct ev_loop *loop, const char *listen, char *err,
                                   size_t errlen) __attribute__((warn_unused_result));
/* Takes r's contents (r is left empty); the old set is freed. */
void dns_server_set_records(struct dns_server *s, struct dns_records *r);
/* The set being served, owned by the server: valid until the next
 * dns_server_set_records or dns_server_close. */
const struct dns_records *dns_server_records(const struct dns_server *s);
/* A copy of the counters since dns_server_open. */
void dns_server_stats(const struct dns_server *s, struct dns_server_stats *out);
/* Stops the watchers and closes every socket; NULL is fine. */
void dns_server_close(struct dns_server *s);

/* "ADDR:PORT" to a sockaddr; -1 with err quoting the text. */
int dns_listen_parse(const char *text, struct lb_addr *addr, uint16_t *port, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

#endif
