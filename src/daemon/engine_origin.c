/*
 * Who each IPVS operation concerns, for the audit log's `ipvs` events: the
 * VIP label, app and task behind a service or destination, found by the
 * table build's own rule while the definitions name it, and remembered from
 * its add so that its deletion (the task already gone) still names it.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "vipd/vip.h"
#include "vipd/vec.h"

/* A service's entry has addr.af 0 and port 0. */
static int origin_cmp(const struct engine_origin *a, const struct engine_origin *b)
{
	int c = lb_key_cmp(&a->svc, &b->svc);

	if (c == 0)
		c = lb_addr_cmp(&a->addr, &b->addr);
	if (c == 0 && a->port != b->port)
		c = a->port < b->port ? -1 : 1;
	return c;
}

static int origin_key_cmp(const void *key, const void *elem)
{
	return origin_cmp(key, elem);
}

/* The first entry not below key. */
static size_t origin_lower(const struct engine_origins *o, const struct engine_origin *key)
{
	return vec_lower_bound(key, o->items, o->n, sizeof(*o->items), origin_key_cmp);
}

static void origin_clear(struct engine_origin *it)
{
	free(it->vip);
	free(it->app);
	free(it->task);
}

static bool origin_gone(const struct engine_origin *it)
{
	return !it->vip && !it->app && !it->task;
}

/* Drops the forgotten entries in one pass once they are half the array. */
static void origins_compact(struct engine_origins *o)
{
	size_t kept = 0;

	if (o->gone < 64 || o->gone * 2 < o->n)
		return;
	for (size_t i = 0; i < o->n; i++)
		if (!origin_gone(&o->items[i]))
			o->items[kept++] = o->items[i];
	o->n = kept;
	o->gone = 0;
}

/* The entry stays (without names) until the next compaction: deleting a
 * whole app's destinations moves the array once, not once per destination. */
static void origin_forget_at(struct engine_origins *o, size_t i)
{
	if (origin_gone(&o->items[i]))
		return;
	origin_clear(&o->items[i]);
	o->items[i].vip = o->items[i].app = o->items[i].task = NULL;
	o->gone++;
}

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

/* Out of memory only loses the memory of one origin: its deletion's line
 * then lacks the names. */
static void origin_remember(struct engine_origins *o, const struct engine_origin *key,
                            const struct engine_op_origin *who)
{
	size_t i = origin_lower(o, key);
	struct engine_origin it = *key;

	it.vip = dup_or_null(who->vip);
	it.app = dup_or_null(who->app);
	it.task = dup_or_null(who->task);
	/* Replaced in place: a round of weight edits moves nothing. */
	if (i < o->n && origin_cmp(&o->items[i], key) == 0) {
		o->gone -= origin_gone(&o->items[i]);
		origin_clear(&o->items[i]);
		o->items[i] = it;
		return;
	}
	if (VEC_RESERVE(o->items, o->cap, o->n + 1) < 0) {
		origin_clear(&it);
		return;
	}
	memmove(&o->items[i + 1], &o->items[i], (o->n - i) * sizeof(o->items[0]));
	o->items[i] = it;
	o->n++;
}

static void copy_missing(char *dst, size_t len, const char *src)
{
	if (dst[0] == '\0' && src)
		(void)snprintf(dst, len, "%s", src);
}

/* What the definitions say now: the index holds e->apps' uses only until
 * the apps change (rebuild_all), as the API's view of it. */
static void origin_from_apps(struct engine *e, const struct engine_origin *key,
                             struct engine_op_origin *out)
{
	struct desired_input in = {
	    .apps = &e->apps,
	    .ranges = &e->cfg.vip_ranges,
	    .task_local = e->cluster ? engine_task_local : NULL,
	    .task_local_ctx = e,
	};
	struct desired_origin found;
	const struct vip_ref *v;

	if (!e->dindex_valid || e->rebuild_all ||
	    desired_origin_find(&in, &e->dindex, &key->svc, key->addr.af ? &key->addr : NULL,
	                        key->port, &found) < 0)
		return;
	if (found.use != NULL) {
		v = &found.use->ref;
		if (v->named)
			(void)snprintf(out->vip, sizeof(out->vip), "%s:%u", v->name,
			               (unsigned)v->port);
		else
			lb_addr_port_format(&v->addr, v->port, out->vip, sizeof(out->vip));
	}
	copy_missing(out->app, sizeof(out->app), found.app_id);
	copy_missing(out->task, sizeof(out->task), found.task_id);
	out->ntasks = found.ntasks;
}

/* A deleted service takes its destinations' memories with it. */
static void origin_forget_service(struct engine_origins *o, const struct lb_key *svc)
{
	struct engine_origin key = {.svc = *svc};
	size_t i = origin_lower(o, &key);

	for (; i < o->n && lb_key_cmp(&o->items[i].svc, svc) == 0; i++)
		origin_forget_at(o, i);
}

void engine_origin_of(struct engine *e, const struct rc_op *op, struct engine_op_origin *out)
{
	bool dest = op->kind == RC_ADD_DEST || op->kind == RC_EDIT_DEST || op->kind == RC_DEL_DEST;
	struct engine_origin key = {.svc = op->svc};
	size_t i;

	memset(out, 0, sizeof(*out));
	if (dest) {
		key.addr = op->dest.addr;
		key.port = op->dest.port;
	}
	origin_from_apps(e, &key, out);
	i = origin_lower(&e->origins, &key);
	if (i < e->origins.n && origin_cmp(&e->origins.items[i], &key) == 0) {
		copy_missing(out->vip, sizeof(out->vip), e->origins.items[i].vip);
		copy_missing(out->app, sizeof(out->app), e->origins.items[i].app);
		copy_missing(out->task, sizeof(out->task), e->origins.items[i].task);
	}
	if (op->kind == RC_DEL_SERVICE)
		origin_forget_service(&e->origins, &op->svc);
	else if (op->kind == RC_DEL_DEST && i < e->origins.n &&
	         origin_cmp(&e->origins.items[i], &key) == 0)
		origin_forget_at(&e->origins, i);
	else if (op->kind != RC_DEL_DEST && (out->vip[0] || out->app[0]))
		origin_remember(&e->origins, &key, out);
	origins_compact(&e->origins);
}

void engine_origins_free(struct engine_origins *o)
{
	for (size_t i = 0; i < o->n; i++)
		origin_clear(&o->items[i]);
	free(o->items);
	memset(o, 0, sizeof(*o));
}
