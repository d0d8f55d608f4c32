/*
 * A vipd's membership in the cluster (issue 9 items 2-4, 8): its lease kept
 * alive, its backends published (only changes), every other node's read and
 * watched, with the failure rules' notion of an expired node. I/O through
 * the etcd client on the caller's loop; the caller merges (cluster_merge).
 */
#ifndef VIPD_CLUSTER_NODE_H
#define VIPD_CLUSTER_NODE_H

#include <jansson.h>

#include "vipd/cluster.h"
#include "vipd/etcd.h"

struct cluster_node_ops {
	/* The other nodes' records changed (a round should merge them), after
	 * one app_changed call per app whose records changed. */
	void (*changed)(void *arg);
	void (*app_changed)(void *arg, const char *app_id);
	/* An audit event: takes the reference to fields. */
	void (*audit)(void *arg, const char *event, json_t *fields);
	/* A located warning (a record that does not decode, a failed write). */
	void (*warn)(void *arg, const char *msg);
	/* The named VIPs' recorded addresses changed (a whole build should
	 * allocate with them). */
	void (*vips_changed)(void *arg);
};

struct cluster_node_settings {
	const char *node;
	const char *prefix; /* ends with '/' */
	unsigned lease_ttl; /* seconds, >= 2 */
	struct etcd_config etcd;
};

struct ev_loop;
struct cluster_node;

/* Starts: lease, read and watch. NULL with err when the settings are not
 * valid or out of memory; etcd being down is not an error (retried). */
struct cluster_node *cluster_node_new(struct ev_loop *loop, const struct cluster_node_settings *s,
                                      const struct cluster_node_ops *ops, void *arg, char *err,
                                      size_t errlen);
/* Aborts everything in flight, no callback. NULL is fine. */
void cluster_node_free(struct cluster_node *n);

/* The node's backends now (their node field is the node's name): what
 * differs from what etcd holds is written when the lease lives. `complete`:
 * no local backend was left out for want of a health verdict (the node's
 * live key is written after its first complete publication). -1 with err
 * when a record cannot be built (nothing changes then). */
int cluster_node_publish(struct cluster_node *n, const struct cluster_backend *b, size_t nb,
                         bool complete, char *err, size_t errlen);
/* The other nodes' records as last read, each with whether its lease lives.
 * Valid until the loop runs again. */
const struct cluster_remote *cluster_node_remotes(struct cluster_node *n, size_t *count);
/* Those of the VIPs in `only` (cluster_view_remotes_of). NULL when out of
 * memory. */
const struct cluster_remote *cluster_node_remotes_of(struct cluster_node *n,
                                                     const struct cluster_service *only,
                                                     size_t nonly, size_t *count);
/* The VIPs whose records changed since the last clear (cluster_view_dirty);
 * the caller clears once it has merged them. */
const struct cluster_service *cluster_node_dirty(const struct cluster_node *n, size_t *count,
                                                 bool *all);
void cluster_node_dirty_clear(struct cluster_node *n);

/* The named VIPs' addresses recorded in etcd, as last read (vips/<name>);
 * NULL until the first read of the prefix succeeded. */
const struct vip_records *cluster_node_vips(const struct cluster_node *n);
/* Counts the changes of those records: a caller copies them when it moved. */
uint64_t cluster_node_vips_changes(const struct cluster_node *n);
/* Records rec's addresses for its name unless a record exists (etcd's
 * create-if-absent transaction): every node proposes, the first wins, and
 * the others adopt the winner's value from the same transaction's answer.
 * Either way the records change and vips_changed follows. A name already
 * being claimed is not sent again. -1 with err when the request cannot be
 * made (retried by the caller's next round). */
int cluster_node_claim_vip(struct cluster_node *n, const struct vip_record *rec, char *err,
                           size_t errlen);
/* Overwrites name's record: only for a move every node computes alike (the
 * recorded address is outside a changed range, or two names created in the
 * same instant recorded the same address and this one sorts after the
 * other), so concurrent writers write the same value. The watch brings it
 * back to the view. -1 with err when the request cannot be made. */
int cluster_node_rerecord_vip(struct cluster_node *n, const struct vip_record *rec, char *err,
                              size_t errlen);
/* A deliberate stop: revokes the lease (the others drop the node's backends
 * at once, but for a VIP's last ones, as for a failed node's), then calls
 * done(arg) once, after at most
 * `wait_s` seconds whatever etcd answers. No other callback after this. */
void cluster_node_leave(struct cluster_node *n, double wait_s, void (*done)(void *arg), void *arg);

#endif
