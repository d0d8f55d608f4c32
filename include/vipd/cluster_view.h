/*
 * A node's view of the other nodes' records in etcd, fed the answers of a
 * read of the whole prefix and of the watch that follows it. Pure: no I/O;
 * changes are reported through the audit callback as they are applied.
 */
#ifndef VIPD_CLUSTER_VIEW_H
#define VIPD_CLUSTER_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "vipd/cluster.h"
#include "vipd/etcd.h"

struct cluster_view_ops {
	/* "cluster_backend" events (docs/audit-log.md); takes the reference. */
	void (*audit)(void *arg, const char *event, json_t *fields);
	/* A record that does not decode: skipped, with a located message. */
	void (*warn)(void *arg, const char *msg);
	/* A record of this app changed (the services it feeds need a rebuild). */
	void (*app_changed)(void *arg, const char *app_id);
};

struct cluster_view_rec;
struct cluster_view_svc;

struct cluster_view {
	char self[CLUSTER_NODE_MAX]; /* this node: its own records are not the view's */
	char prefix[CLUSTER_KEY_MAX];
	struct cluster_view_rec **recs; /* sorted by key */
	size_t nrecs, recs_cap;
	struct cluster_view_svc *svcs; /* the same records by VIP, by cluster_service_cmp */
	size_t nsvcs, svcs_cap;
	char (*live)[CLUSTER_NODE_MAX]; /* nodes whose live/<node> key exists */
	size_t nlive, live_cap;
	struct cluster_remote *out;
	bool out_fresh; /* out is the records as they are */
	/* the VIPs whose records changed since cluster_view_dirty_clear */
	struct cluster_service *dirty;
	size_t ndirty, dirty_cap;
	bool dirty_all;          /* too many to list, or out of memory: every VIP */
	struct vip_records vips; /* the named VIPs' recorded addresses (vips/<name>) */
	uint64_t vips_changes;   /* counts changes of vips: a caller compares */
	void (*audit)(void *arg, const char *event, json_t *fields);
	void (*warn)(void *arg, const char *msg);
	void (*app_changed)(void *arg, const char *app_id);
	void *arg;
};

/* -1 when self or prefix is too long. */
int cluster_view_init(struct cluster_view *v, const char *self, const char *prefix,
                      const struct cluster_view_ops *ops, void *arg);
void cluster_view_free(struct cluster_view *v);

/* A read of the whole prefix (r->kvs) replaces the view: a record missing
 * from it was withdrawn when its node's live key is in the read (dropped),
 * else deleted by its lease's expiry (kept, expired). True when the view
 * changed. */
bool cluster_view_snapshot(struct cluster_view *v, const struct etcd_resp *r);
/* The same read in pages (cluster_read.h): begin, each page in key order,
 * end (the records no page held are withdrawn or expired then). A read
 * restarted midway begins again. True when the view changed. */
void cluster_view_read_begin(struct cluster_view *v);
bool cluster_view_read_page(struct cluster_view *v, const struct etcd_resp *r);
bool cluster_view_read_end(struct cluster_view *v);
/* One watch response (r->events): live keys deleted first (a lease's
 * expiry deletes a node's live key and its backends in one revision), then
 * the backends (a put is a live record; a delete while the node's live key
 * exists is a withdrawal, else an expiry), then live keys put (the node's
 * expired records it has not put again are dropped). True when the view
 * changed. */
bool cluster_view_events(struct cluster_view *v, const struct etcd_resp *r);
/* Every record with whether its node's lease lives, by key; valid until
 * the view changes or the next call. NULL when out of memory. */
const struct cluster_remote *cluster_view_remotes(struct cluster_view *v, size_t *count);
/* The same for the records of the VIPs in `only` (each once; NULL: every
 * record): a round that merges a few VIPs copies their records only. */
const struct cluster_remote *cluster_view_remotes_of(struct cluster_view *v,
                                                     const struct cluster_service *only,
                                                     size_t nonly, size_t *count);
/* The VIPs (protocol and VIP) whose records changed since the last clear,
 * unsorted, maybe repeated; *all: every VIP may have. */
const struct cluster_service *cluster_view_dirty(const struct cluster_view *v, size_t *n,
                                                 bool *all);
void cluster_view_dirty_clear(struct cluster_view *v);
/* A vips/<name> key and value (a read's, a watch's put, a create txn's):
 * into v->vips. True when the records changed; a value that does not decode
 * is skipped with a located warning. */
bool cluster_view_vip(struct cluster_view *v, const struct etcd_kv *kv);

#endif
