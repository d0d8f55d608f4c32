/*
 * The cluster's records in etcd (docs/cluster-keys.md, layout version 1) and
 * the pure rules that merge every node's backends into one set per VIP.
 * No I/O: the etcd client (vipd/etcd.h) moves the bytes.
 */
#ifndef VIPD_CLUSTER_H
#define VIPD_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vipd/lbtable.h"
#include "vipd/vip.h"

#define CLUSTER_PREFIX_DEFAULT "/vipd/v1/"
#define CLUSTER_NODE_MAX 64 /* a host name label: 63 characters */
#define CLUSTER_ID_MAX 512  /* app and task ids */
#define CLUSTER_KEY_MAX 2048

enum cluster_health {
	CLUSTER_HEALTH_UNKNOWN = 0,
	CLUSTER_HEALTH_HEALTHY,
	CLUSTER_HEALTH_UNHEALTHY,
};

/* One VIP backend a node publishes: backends/<node>/<vip-key>/<backend-key>. */
struct cluster_backend {
	char node[CLUSTER_NODE_MAX];
	struct vip_ref vip;
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
	struct lb_addr addr;
	uint16_t port;
	uint32_t weight; /* 0-65535 */
	enum cluster_health health;
	char app[CLUSTER_ID_MAX];
	char task[CLUSTER_ID_MAX];
};

/* A named VIP's recorded addresses: vips/<name>. Either may be absent (""). */
struct cluster_vip_assign {
	char name[VIP_NAME_MAX];
	char ipv4[INET_ADDRSTRLEN];
	char ipv6[INET6_ADDRSTRLEN];
};

enum cluster_key_kind {
	CLUSTER_KEY_BACKEND,
	CLUSTER_KEY_VIP,
};

/* What a key alone says (a watch's DELETE has no value). */
struct cluster_key {
	enum cluster_key_kind kind;
	char node[CLUSTER_NODE_MAX]; /* backend */
	uint8_t protocol;            /* backend */
	struct vip_ref vip;          /* backend */
	struct lb_addr addr;         /* backend */
	uint16_t port;               /* backend */
	char name[VIP_NAME_MAX];     /* vip */
};

const char *cluster_health_name(enum cluster_health h);

/* A node name: 1-63 of [A-Za-z0-9._-], as a host name's first label. */
bool cluster_node_valid(const char *node);

/* The keys; -1 with a message when a part does not fit or is not valid. */
int cluster_backend_key(const char *prefix, const struct cluster_backend *b, char *out,
                        size_t outlen, char *err, size_t errlen);
int cluster_vip_key(const char *prefix, const char *name, char *out, size_t outlen, char *err,
                    size_t errlen);
/* The node's own keys: "<prefix>backends/<node>/" (a range prefix). */
int cluster_node_prefix(const char *prefix, const char *node, char *out, size_t outlen);

/* The JSON values (malloc'd; NULL when out of memory). */
char *cluster_backend_value(const struct cluster_backend *b);
char *cluster_vip_value(const struct cluster_vip_assign *a);

/* Reads a key under prefix. -1 with "<key>: ..." when it is not one of
 * the layout's keys or a part does not parse. */
int cluster_key_parse(const char *prefix, const char *key, struct cluster_key *out, char *err,
                      size_t errlen);
/* A key and its value; the value must agree with the key. -1 with a
 * message located by key and JSON pointer: "<key>: /weight: expected ...". */
int cluster_backend_decode(const char *prefix, const char *key, const char *value, size_t value_len,
                           struct cluster_backend *out, char *err, size_t errlen);
int cluster_vip_decode(const char *prefix, const char *key, const char *value, size_t value_len,
                       struct cluster_vip_assign *out, char *err, size_t errlen);

/* ---- a node's liveness: live/<node> */

/* "<prefix>live/<node>", attached to the node's lease like its backends:
 * while it exists the node is alive, so a backend key it deletes is a
 * deliberate removal (dropped at once); a backend key deleted when the live
 * key is gone too was deleted by its lease's expiry (the failure rules).
 * -1 when the node or the key's length is not valid. */
int cluster_live_key(const char *prefix, const char *node, char *out, size_t outlen);
/* Whether key is a live/<node> key under prefix; the node's name in node. */
bool cluster_live_parse(const char *prefix, const char *key, char node[CLUSTER_NODE_MAX]);

/* ---- what a node publishes: the diff against what etcd holds */

/* One key and its JSON value as published. value NULL: not known (a write
 * whose result was lost); the next diff writes it again. */
struct cluster_record {
	char *key;
	char *value;
};

/* Sorted by key, each key once. */
struct cluster_records {
	struct cluster_record *items;
	size_t n;
};

/* The records of backends (one node's): keys and values of
 * docs/cluster-keys.md, sorted; a key listed twice (two apps sharing a VIP
 * and a task's port) is taken once, with the value that sorts first. -1 with err: a backend whose
 * key cannot be made (the rest is not built), or out of memory. */
int cluster_records_build(const char *prefix, const struct cluster_backend *b, size_t n,
                          struct cluster_records *out, char *err, size_t errlen);
void cluster_records_free(struct cluster_records *r);

enum cluster_write_kind { CLUSTER_WRITE_PUT, CLUSTER_WRITE_DELETE };

struct cluster_write {
	enum cluster_write_kind kind;
	const char *key;   /* into the records diffed */
	const char *value; /* PUT */
};

/* The writes that take etcd from `held` (what it is believed to hold) to
 * `want`: a put per key new or whose value differs (or is not known), a
 * delete per key no longer wanted; none when they agree. *out calloc'd (NULL
 * when there is none), pointers into held and want. -1: out of memory. */
int cluster_records_diff(const struct cluster_records *held, const struct cluster_records *want,
                         struct cluster_write **out, size_t *n);
/* What etcd may hold after writes from `held` to `want` of which some
 * failed: every key of either, none with a known value, so that the next
 * diff puts every wanted key again and deletes every other. -1: out of memory. */
int cluster_records_uncertain(const struct cluster_records *held,
                              const struct cluster_records *want, struct cluster_records *out);

/* ---- merge and failure rules */

/* A record read from etcd, with whether its node's lease still lives (a
 * record whose lease expired is one the watch reported deleted, or whose
 * node the caller knows to have lost its lease). */
struct cluster_remote {
	struct cluster_backend b;
	bool lease_alive;
};

enum cluster_rule {
	CLUSTER_RULE_LIVE,            /* no expired node had backends for this VIP */
	CLUSTER_RULE_EXPIRED_DROPPED, /* expired nodes' backends removed */
	CLUSTER_RULE_EXPIRED_KEPT,    /* kept: without them the VIP had no healthy backend */
};

const char *cluster_rule_name(enum cluster_rule r);

struct cluster_vip_backends {
	uint8_t protocol;
	struct vip_ref vip;
	const struct cluster_backend **backends; /* into the inputs; by address, port */
	size_t n;
	enum cluster_rule rule;
	size_t expired; /* expired nodes' backends the rule dropped or kept */
};

struct cluster_merged {
	struct cluster_vip_backends *vips; /* by protocol, then VIP */
	size_t n;
	const struct cluster_backend **all; /* storage of every vips[i].backends */
};

/* The backend set of every VIP: all local backends (whatever their health:
 * the local weight policy drains them), the healthy backends of nodes whose
 * lease lives, and the healthy backends of expired nodes only for a VIP that
 * would otherwise have no healthy backend (DC/OS keeps unreachable agents'
 * backends then). Remote records of `self` are ignored (the local ones are
 * the truth); a backend (address, port) listed twice is taken once, local
 * first, then live, then expired. -1 only when out of memory. */
int cluster_merge(const char *self, const struct cluster_backend *local, size_t n_local,
                  const struct cluster_remote *remote, size_t n_remote, struct cluster_merged *out,
                  char *err, size_t errlen);

/* A VIP as the merge keys it: protocol, then VIP (named first). */
struct cluster_service {
	uint8_t protocol;
	struct vip_ref vip;
};

int cluster_service_cmp(const struct cluster_service *a, const struct cluster_service *b);
/* Sorts and removes duplicates; returns the count left. */
size_t cluster_services_sort(struct cluster_service *s, size_t n);
/* cluster_merge of only the VIPs in `only` (sorted by cluster_services_sort):
 * the same rule VIP by VIP, so that cluster_merge is this over every VIP. */
int cluster_merge_only(const char *self, const struct cluster_backend *local, size_t n_local,
                       const struct cluster_remote *remote, size_t n_remote,
                       const struct cluster_service *only, size_t n_only,
                       struct cluster_merged *out, char *err, size_t errlen);
void cluster_merged_free(struct cluster_merged *m);

#endif
