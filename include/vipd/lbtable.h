/*
 * An IPVS-shaped table of virtual services and their destinations, with no
 * netlink in it: the desired table and the kernel's observed table are both
 * lb_tables, so that the reconciler diffs two plain values.
 */
#ifndef VIPD_LBTABLE_H
#define VIPD_LBTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* IP_VS_SCHEDNAME_MAXLEN in <linux/ip_vs.h>, terminator included. */
#define LB_SCHED_MAX 16
#define LB_SCHED_DEFAULT "wlc"

/* Service flags vipd manages; the kernel adds IP_VS_SVC_F_HASHED (0x2) to
 * every service it reports, which must not read as drift. */
#define LB_SVC_F_PERSISTENT 0x0001
#define LB_SVC_F_ONEPACKET 0x0004
#define LB_SVC_F_SCHED1 0x0008
#define LB_SVC_F_SCHED2 0x0010
#define LB_SVC_F_SCHED3 0x0020
#define LB_SVC_F_MANAGED                                                                           \
	(LB_SVC_F_PERSISTENT | LB_SVC_F_ONEPACKET | LB_SVC_F_SCHED1 | LB_SVC_F_SCHED2 |            \
	 LB_SVC_F_SCHED3)

/* Forwarding method of a destination (IP_VS_CONN_F_MASQ/DROUTE/TUNNEL; the
 * netlink layer maps these to the kernel's values). */
enum lb_fwd {
	LB_FWD_MASQ = 0,
	LB_FWD_DROUTE,
	LB_FWD_TUNNEL,
};

/* An address; bytes past the family's length are zero so that compare and
 * hash can look at the whole union. */
struct lb_addr {
	int af; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

/* What identifies an IPVS service (fwmark services are not used by vipd). */
struct lb_key {
	struct lb_addr addr;
	uint16_t port;    /* host byte order */
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
};

struct lb_dest {
	struct lb_addr addr;
	uint16_t port;
	uint32_t weight;
	enum lb_fwd fwd;
};

struct lb_service {
	struct lb_key key;
	char sched[LB_SCHED_MAX];
	enum lb_fwd fwd; /* the method vipd gives this service's destinations */
	uint32_t flags;  /* LB_SVC_F_* */
	struct lb_dest *dests;
	size_t ndests;
	size_t dests_cap;
	bool dests_sorted;
};

/* Services in an array with a hash index for lookups while building;
 * lb_table_sort() orders everything for the reconciler's merge walk. */
struct lb_table {
	struct lb_service *svcs;
	size_t nsvcs;
	size_t cap;
	uint32_t *index; /* open addressing: service position + 1, 0 = empty */
	size_t index_cap;
	bool sorted;
};

/* A set of service keys: the services vipd owns. */
struct lb_keyset {
	struct lb_key *keys;
	size_t n;
	size_t cap;
	bool sorted;
};

int lb_addr_cmp(const struct lb_addr *a, const struct lb_addr *b);
int lb_key_cmp(const struct lb_key *a, const struct lb_key *b);
/* Orders destinations by address and port only. */
int lb_dest_cmp(const struct lb_dest *a, const struct lb_dest *b);

/* Parses an IPv4 or IPv6 literal (no brackets); -1 when it is neither. */
int lb_addr_parse(const char *s, struct lb_addr *out);
/* "10.0.0.1" or "fd00::1"; returns buf. */
const char *lb_addr_format(const struct lb_addr *a, char *buf, size_t len);
/* "10.0.0.1:80" or "[fd00::1]:80"; returns buf. */
const char *lb_addr_port_format(const struct lb_addr *a, uint16_t port, char *buf, size_t len);
/* "TCP 10.0.0.1:80"; returns buf. */
const char *lb_key_format(const struct lb_key *k, char *buf, size_t len);
const char *lb_proto_name(uint8_t protocol);
const char *lb_fwd_name(enum lb_fwd f);
/* "masq", "droute" or "tunnel"; -1 otherwise. */
int lb_fwd_parse(const char *s, enum lb_fwd *out);

void lb_table_init(struct lb_table *t);
void lb_table_free(struct lb_table *t);
/* The service with key k (hash lookup), NULL when absent. */
struct lb_service *lb_table_find(const struct lb_table *t, const struct lb_key *k);
/* The service with key k, added with the defaults (wlc, masq, no flags) when
 * absent; NULL when out of memory. Any add or sort may move the services:
 * pointers into the table are valid until the next add or sort. */
struct lb_service *lb_table_add_service(struct lb_table *t, const struct lb_key *k);
/* Appends a destination, duplicates included: sorting (lb_service_sort_dests,
 * lb_table_sort) keeps the last one added for an address and port. -1 when
 * out of memory. */
int lb_service_add_dest(struct lb_service *s, const struct lb_dest *d);
/* Binary search when sorted, linear otherwise. */
struct lb_dest *lb_service_find_dest(const struct lb_service *s, const struct lb_addr *a,
                                     uint16_t port);
/* -1 when the name does not fit IPVS's limit. */
int lb_service_set_sched(struct lb_service *s, const char *name);
/* Sorts services by key and each service's destinations by address and port,
 * the last duplicate destination added winning; O(n log n). -1 when out of
 * memory. */
int lb_table_sort(struct lb_table *t);
/* The same for one service's destinations only. */
int lb_service_sort_dests(struct lb_service *s);
/* Services and every service's destinations sorted (lb_table_sort is a
 * no-op then). */
bool lb_table_is_sorted(const struct lb_table *t);
size_t lb_table_dest_count(const struct lb_table *t);
/* Adds a copy of `from` (attributes and destinations) to t; NULL when out
 * of memory. */
struct lb_service *lb_table_add_copy(struct lb_table *t, const struct lb_service *from);
/* Adds a copy of every service of src to dst, then sorts dst. -1 when out of
 * memory. */
int lb_table_copy(struct lb_table *dst, const struct lb_table *src);
/* Gives each service of t that `part` also has part's attributes and
 * destinations (copied); t keeps its order and index. -1 with t unchanged
 * when part has a service t lacks; -1 when out of memory leaves t partly
 * patched (the caller forgets it). */
int lb_table_patch(struct lb_table *t, const struct lb_table *part);

void lb_keyset_init(struct lb_keyset *ks);
void lb_keyset_free(struct lb_keyset *ks);
/* Appends k, duplicates included (lb_keyset_sort drops them). -1 when out of
 * memory. */
int lb_keyset_add(struct lb_keyset *ks, const struct lb_key *k);
/* Adds every service key of t (vipd owns what it derived). -1 when out of
 * memory. */
int lb_keyset_add_table(struct lb_keyset *ks, const struct lb_table *t);
/* Sorts the keys and drops duplicates. */
void lb_keyset_sort(struct lb_keyset *ks);
/* Binary search when sorted, linear otherwise. */
bool lb_keyset_contains(const struct lb_keyset *ks, const struct lb_key *k);

#endif
