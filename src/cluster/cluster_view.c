/*
 * A node's view of the other nodes' records in etcd (issue 9 items 3-4),
 * pure: fed the answers of a read and of the watch, it keeps each record
 * with whether its node's lease lives, and tells a record its node withdrew
 * (dropped at once) from one its lease's expiry deleted (kept, expired, for
 * the failure rules), by the node's live/<node> key.
 */
#include "vipd/cluster_view.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/vec.h"

struct cluster_view_rec {
	char *key;
	struct cluster_backend b;
	bool alive; /* false: deleted by its lease's expiry, kept for the failure rules */
	bool seen;  /* in the pages of the read under way */
};

/* The records of one VIP: what a round that merges a few VIPs asks for
 * (100 of 100,000 in bench/cluster), without a walk of every record. */
struct cluster_view_svc {
	struct cluster_service svc;
	struct cluster_view_rec **recs; /* in no order */
	size_t n, cap;
};

static void view_warn(struct cluster_view *v, const char *fmt, const char *what)
{
	char msg[1200];

	(void)snprintf(msg, sizeof(msg), fmt, what);
	v->warn(v->arg, msg);
}

/* Past this many VIPs changed in one round, every VIP is merged again. */
#define VIEW_DIRTY_MAX 65536

static void dirty_add(struct cluster_view *v, const struct cluster_backend *b)
{
	struct cluster_service svc = {b->protocol, b->vip};

	v->out_fresh = false;
	if (v->dirty_all ||
	    (v->ndirty > 0 && cluster_service_cmp(&v->dirty[v->ndirty - 1], &svc) == 0))
		return;
	if (v->ndirty >= VIEW_DIRTY_MAX || VEC_RESERVE(v->dirty, v->dirty_cap, v->ndirty + 1) < 0) {
		v->dirty_all = true;
		return;
	}
	v->dirty[v->ndirty++] = svc;
}

const struct cluster_service *cluster_view_dirty(const struct cluster_view *v, size_t *n, bool *all)
{
	*n = v->ndirty;
	*all = v->dirty_all;
	return v->dirty;
}

void cluster_view_dirty_clear(struct cluster_view *v)
{
	v->ndirty = 0;
	v->dirty_all = false;
}

/* Every change of a record is audited here: the one place that also notes
 * its VIP as changed. */
static void audit_rec(struct cluster_view *v, const char *change, const struct cluster_view_rec *r,
                      const char *reason)
{
	dirty_add(v, &r->b);
	char vip[VIP_NAME_MAX + 64], be[INET6_ADDRSTRLEN + 8];
	json_t *o;

	if (r->b.vip.named)
		(void)snprintf(vip, sizeof(vip), "%s:%u", r->b.vip.name, r->b.vip.port);
	else
		lb_addr_port_format(&r->b.vip.addr, r->b.vip.port, vip, sizeof(vip));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "change", change, "node",
	              r->b.node, "vip", vip, "protocol",
	              r->b.protocol == IPPROTO_UDP ? "udp" : "tcp", "backend",
	              lb_addr_port_format(&r->b.addr, r->b.port, be, sizeof(be)), "weight",
	              (json_int_t)r->b.weight, "health", cluster_health_name(r->b.health), "app",
	              r->b.app, "task", r->b.task);
	if (o && reason)
		json_object_set_new(o, "reason", json_string(reason));
	v->audit(v->arg, "cluster_backend", o);
	v->app_changed(v->arg, r->b.app);
}

static bool node_live(const struct cluster_view *v, const char *node)
{
	for (size_t i = 0; i < v->nlive; i++)
		if (strcmp(v->live[i], node) == 0)
			return true;
	return false;
}

static void live_set(struct cluster_view *v, const char *node, bool on)
{
	for (size_t i = 0; i < v->nlive; i++) {
		if (strcmp(v->live[i], node) == 0) {
			if (!on)
				memmove(v->live[i], v->live[--v->nlive], CLUSTER_NODE_MAX);
			return;
		}
	}
	if (!on)
		return;
	if (VEC_RESERVE(v->live, v->live_cap, v->nlive + 1) < 0)
		return; /* then its deletes count as expiry: the safe side */
	(void)snprintf(v->live[v->nlive++], CLUSTER_NODE_MAX, "%s", node);
}

/* vec_locate's orders: a key against a record, a VIP against a VIP's list. */
static int rec_qcmp(const void *key, const void *elem)
{
	const struct cluster_view_rec *const *r = elem;

	return strcmp(key, (*r)->key);
}

static int svc_qcmp(const void *key, const void *elem)
{
	const struct cluster_view_svc *s = elem;

	return cluster_service_cmp(key, &s->svc);
}

static size_t rec_find(const struct cluster_view *v, const char *key, bool *found)
{
	return vec_locate(key, v->recs, v->nrecs, sizeof(*v->recs), rec_qcmp, found);
}

static size_t svc_find(const struct cluster_view *v, const struct cluster_service *svc, bool *found)
{
	return vec_locate(svc, v->svcs, v->nsvcs, sizeof(*v->svcs), svc_qcmp, found);
}

static void svc_drop(struct cluster_view *v, size_t i)
{
	free(v->svcs[i].recs);
	memmove(&v->svcs[i], &v->svcs[i + 1], (v->nsvcs - i - 1) * sizeof(*v->svcs));
	v->nsvcs--;
}

static int svc_add(struct cluster_view *v, struct cluster_view_rec *r)
{
	struct cluster_service key = {r->b.protocol, r->b.vip};
	struct cluster_view_svc *s;
	bool found;
	size_t i = svc_find(v, &key, &found);

	if (!found) {
		struct cluster_view_svc fresh = {.svc = key};

		if (VEC_INSERT(v->svcs, v->nsvcs, v->svcs_cap, i, &fresh) < 0)
			return -1;
	}
	s = &v->svcs[i];
	if (VEC_RESERVE(s->recs, s->cap, s->n + 1) < 0) {
		if (s->n == 0)
			svc_drop(v, i);
		return -1;
	}
	s->recs[s->n++] = r;
	return 0;
}

static void svc_remove(struct cluster_view *v, const struct cluster_view_rec *r)
{
	struct cluster_service key = {r->b.protocol, r->b.vip};
	struct cluster_view_svc *s;
	bool found;
	size_t i = svc_find(v, &key, &found);

	if (!found)
		return;
	s = &v->svcs[i];
	for (size_t k = 0; k < s->n; k++) {
		if (s->recs[k] == r) {
			s->recs[k] = s->recs[--s->n];
			break;
		}
	}
	if (s->n == 0)
		svc_drop(v, i);
}

static void rec_remove(struct cluster_view *v, size_t i)
{
	struct cluster_view_rec *r = v->recs[i];

	svc_remove(v, r);
	memmove(&v->recs[i], &v->recs[i + 1], (v->nrecs - i - 1) * sizeof(*v->recs));
	v->nrecs--;
	free(r->key);
	free(r);
}

static bool same_backend(const struct cluster_backend *a, const struct cluster_backend *b)
{
	return a->weight == b->weight && a->health == b->health && strcmp(a->app, b->app) == 0 &&
	       strcmp(a->task, b->task) == 0;
}

/* A record put: appeared, changed, or back from expiry. */
static bool rec_put(struct cluster_view *v, const char *key, const struct cluster_backend *b)
{
	bool found;
	size_t i = rec_find(v, key, &found);
	struct cluster_view_rec *r;

	if (found) {
		r = v->recs[i];
		if (r->alive && same_backend(&r->b, b))
			return false;
		r->b = *b;
		r->alive = true;
		audit_rec(v, "changed", r, NULL);
		return true;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->key = strdup(key)) == NULL) {
		free(r);
		return false;
	}
	r->b = *b;
	r->alive = true;
	if (svc_add(v, r) < 0) {
		free(r->key);
		free(r);
		return false;
	}
	if (VEC_INSERT(v->recs, v->nrecs, v->recs_cap, i, &r) < 0) {
		svc_remove(v, r);
		free(r->key);
		free(r);
		return false;
	}
	audit_rec(v, "appeared", r, NULL);
	return true;
}

/* A record deleted: by its node while it lives (dropped), or by its lease's
 * expiry (kept as expired: the failure rules decide). */
static bool rec_gone(struct cluster_view *v, size_t i)
{
	struct cluster_view_rec *r = v->recs[i];

	if (node_live(v, r->b.node)) {
		audit_rec(v, "left", r, "deleted");
		rec_remove(v, i);
		return true;
	}
	if (!r->alive)
		return false;
	r->alive = false;
	audit_rec(v, "expired", r, "lease_expired");
	return true;
}

/* A node is live again: its records expired under a former lease are no
 * longer its truth (it publishes afresh). */
static bool drop_expired_of(struct cluster_view *v, const char *node)
{
	bool changed = false;

	for (size_t i = v->nrecs; i-- > 0;) {
		if (v->recs[i]->alive || strcmp(v->recs[i]->b.node, node) != 0)
			continue;
		audit_rec(v, "left", v->recs[i], "node_back");
		rec_remove(v, i);
		changed = true;
	}
	return changed;
}

/* A backends/ key and its value; records of this node are not the view's. */
static bool decode_backend(struct cluster_view *v, const struct etcd_kv *kv,
                           struct cluster_backend *b)
{
	char err[1024];

	if (cluster_backend_decode(v->prefix, kv->key, kv->value, kv->value_len, b, err,
	                           sizeof(err)) < 0) {
		view_warn(v, "cluster: skipped: %s", err);
		return false;
	}
	return strcmp(b->node, v->self) != 0;
}

static bool is_vip_key(const struct cluster_view *v, const char *key)
{
	size_t len = strlen(v->prefix);

	return strncmp(key, v->prefix, len) == 0 && strncmp(key + len, "vips/", 5) == 0;
}

bool cluster_view_vip(struct cluster_view *v, const struct etcd_kv *kv)
{
	struct cluster_vip_assign a;
	struct vip_record rec = {0};
	const struct vip_record *old;
	char err[1024];

	if (cluster_vip_decode(v->prefix, kv->key, kv->value, kv->value_len, &a, err, sizeof(err)) <
	    0) {
		view_warn(v, "cluster: skipped: %s", err);
		return false;
	}
	(void)snprintf(rec.name, sizeof(rec.name), "%s", a.name);
	/* cluster_vip_decode checked both addresses */
	if (a.ipv4[0])
		(void)lb_addr_parse(a.ipv4, &rec.addr);
	if (a.ipv6[0])
		(void)lb_addr_parse(a.ipv6, &rec.addr6);
	old = vip_records_find(&v->vips, rec.name);
	if (old != NULL && vip_records_equal(&(struct vip_records){(struct vip_record *)old, 1},
	                                     &(struct vip_records){&rec, 1}))
		return false;
	if (vip_records_put(&v->vips, &rec) < 0) {
		view_warn(v, "cluster: %s", "out of memory recording a named VIP");
		return false;
	}
	v->vips_changes++;
	return true;
}

/* The named VIPs' records of a response: puts only (a record is never
 * deleted: its name keeps its address; see docs/cluster-keys.md). */
static bool apply_vip_events(struct cluster_view *v, const struct etcd_resp *r)
{
	bool changed = false;

	for (size_t i = 0; i < r->n_events; i++)
		if (r->events[i].type == ETCD_EVENT_PUT && is_vip_key(v, r->events[i].kv.key))
			changed |= cluster_view_vip(v, &r->events[i].kv);
	return changed;
}

static bool is_backend_key(const struct cluster_view *v, const char *key)
{
	size_t len = strlen(v->prefix);

	return strncmp(key, v->prefix, len) == 0 && strncmp(key + len, "backends/", 9) == 0;
}

/* The live keys of one type in a response. Deletes go before the backends
 * (a lease's expiry deletes a node's live key and its backends in one
 * revision, and the backends' fate depends on it); puts after them (the
 * node's records put with it are its own again, not leftovers). */
static bool apply_live_events(struct cluster_view *v, const struct etcd_resp *r,
                              enum etcd_event_type type)
{
	char node[CLUSTER_NODE_MAX];
	bool changed = false;

	for (size_t i = 0; i < r->n_events; i++) {
		const struct etcd_event *ev = &r->events[i];

		if (ev->type != type || !cluster_live_parse(v->prefix, ev->kv.key, node) ||
		    strcmp(node, v->self) == 0)
			continue;
		live_set(v, node, type == ETCD_EVENT_PUT);
		if (type == ETCD_EVENT_PUT)
			changed |= drop_expired_of(v, node);
	}
	return changed;
}

static bool apply_backend_events(struct cluster_view *v, const struct etcd_resp *r)
{
	bool changed = false;

	for (size_t i = 0; i < r->n_events; i++) {
		const struct etcd_event *ev = &r->events[i];
		struct cluster_backend b;
		bool found;
		size_t at;

		if (!is_backend_key(v, ev->kv.key))
			continue;
		if (ev->type == ETCD_EVENT_PUT) {
			if (decode_backend(v, &ev->kv, &b))
				changed |= rec_put(v, ev->kv.key, &b);
			continue;
		}
		at = rec_find(v, ev->kv.key, &found);
		if (found)
			changed |= rec_gone(v, at);
	}
	return changed;
}

bool cluster_view_events(struct cluster_view *v, const struct etcd_resp *r)
{
	bool changed = apply_live_events(v, r, ETCD_EVENT_DELETE);

	changed |= apply_backend_events(v, r);
	changed |= apply_vip_events(v, r);
	changed |= apply_live_events(v, r, ETCD_EVENT_PUT);
	return changed;
}

/* A fresh read replaces the view, page by page: what vanished while
 * unwatched is a deliberate removal when its node is live in the read, else
 * an expiry; that is decided once every page is in (live/ keys sort after
 * backends/ ones). */
void cluster_view_read_begin(struct cluster_view *v)
{
	v->nlive = 0;
	for (size_t i = 0; i < v->nrecs; i++)
		v->recs[i]->seen = false;
}

bool cluster_view_read_page(struct cluster_view *v, const struct etcd_resp *r)
{
	char node[CLUSTER_NODE_MAX];
	bool changed = false;

	for (size_t i = 0; i < r->n_kvs; i++) {
		const struct etcd_kv *kv = &r->kvs[i];
		struct cluster_backend b;
		bool found;
		size_t at;

		if (cluster_live_parse(v->prefix, kv->key, node) && strcmp(node, v->self) != 0)
			live_set(v, node, true);
		if (is_vip_key(v, kv->key))
			changed |= cluster_view_vip(v, kv);
		if (!is_backend_key(v, kv->key))
			continue;
		if (decode_backend(v, kv, &b))
			changed |= rec_put(v, kv->key, &b);
		at = rec_find(v, kv->key, &found);
		if (found)
			v->recs[at]->seen = true;
	}
	return changed;
}

bool cluster_view_read_end(struct cluster_view *v)
{
	bool changed = false;

	for (size_t i = v->nrecs; i-- > 0;)
		if (!v->recs[i]->seen)
			changed |= rec_gone(v, i);
	return changed;
}

bool cluster_view_snapshot(struct cluster_view *v, const struct etcd_resp *r)
{
	bool changed;

	cluster_view_read_begin(v);
	changed = cluster_view_read_page(v, r);
	return cluster_view_read_end(v) || changed;
}

static bool out_reserve(struct cluster_view *v, size_t n)
{
	/* exactly n: a whole list (100,000 records, 140 MB) is not kept for
	 * the rounds that ask for one VIP's */
	struct cluster_remote *out = realloc(v->out, (n + 1) * sizeof(*out));

	if (out == NULL)
		return false;
	v->out = out;
	return true;
}

static struct cluster_remote remote_of(const struct cluster_view_rec *r)
{
	return (struct cluster_remote){.b = r->b, .lease_alive = r->alive};
}

static const struct cluster_remote *remotes_all(struct cluster_view *v, size_t *count)
{
	if (!v->out_fresh) {
		if (!out_reserve(v, v->nrecs))
			return NULL;
		for (size_t i = 0; i < v->nrecs; i++)
			v->out[i] = remote_of(v->recs[i]);
		v->out_fresh = true;
	}
	*count = v->nrecs;
	return v->out;
}

/* The records of one VIP, none when it has none. */
static const struct cluster_view_svc *svc_of(const struct cluster_view *v,
                                             const struct cluster_service *svc)
{
	bool found;
	size_t i = svc_find(v, svc, &found);

	return found ? &v->svcs[i] : NULL;
}

const struct cluster_remote *cluster_view_remotes_of(struct cluster_view *v,
                                                     const struct cluster_service *only,
                                                     size_t nonly, size_t *count)
{
	const struct cluster_view_svc *s;
	size_t n = 0;

	*count = 0;
	if (only == NULL)
		return remotes_all(v, count);
	for (size_t i = 0; i < nonly; i++)
		if ((s = svc_of(v, &only[i])) != NULL)
			n += s->n;
	v->out_fresh = false;
	if (!out_reserve(v, n))
		return NULL;
	for (size_t i = 0; i < nonly; i++)
		for (size_t k = 0; (s = svc_of(v, &only[i])) != NULL && k < s->n; k++)
			v->out[(*count)++] = remote_of(s->recs[k]);
	return v->out;
}

const struct cluster_remote *cluster_view_remotes(struct cluster_view *v, size_t *count)
{
	return cluster_view_remotes_of(v, NULL, 0, count);
}

int cluster_view_init(struct cluster_view *v, const char *self, const char *prefix,
                      const struct cluster_view_ops *ops, void *arg)
{
	memset(v, 0, sizeof(*v));
	if (strlen(self) >= sizeof(v->self) || strlen(prefix) >= sizeof(v->prefix))
		return -1;
	(void)snprintf(v->self, sizeof(v->self), "%s", self);
	(void)snprintf(v->prefix, sizeof(v->prefix), "%s", prefix);
	v->audit = ops->audit;
	v->warn = ops->warn;
	v->app_changed = ops->app_changed;
	v->arg = arg;
	return 0;
}

void cluster_view_free(struct cluster_view *v)
{
	for (size_t i = 0; i < v->nrecs; i++) {
		free(v->recs[i]->key);
		free(v->recs[i]);
	}
	free(v->recs);
	for (size_t i = 0; i < v->nsvcs; i++)
		free(v->svcs[i].recs);
	free(v->svcs);
	free(v->live);
	free(v->out);
	free(v->dirty);
	vip_records_free(&v->vips);
	memset(v, 0, sizeof(*v));
}
