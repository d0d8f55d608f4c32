/*
 * The desired table and the weight policy: VIP uses become services, running
 * tasks become backends, and each backend's phase (in rotation, draining,
 * out) moves on from last round's state. The rules are in desired.h.
 */
#include "vipd/desired.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vipd/vip.h"

#include "desired_int.h"
#include "vipd/vec.h"

/* Per service of the table being built, at the same position. */
struct svc_policy {
	bool keep_all;
	uint32_t slow_start_s;
	size_t nhealthy;
	size_t nunhealthy;
	const char *raw[ATTR_COUNT];    /* the value that decided, NULL: default */
	const char *app_id[ATTR_COUNT]; /* the app whose label it was */
};

struct cand {
	struct lb_key svc;
	struct lb_addr addr;
	uint16_t port;
	uint32_t weight;
	enum desired_health health;
	size_t svc_idx;
};

struct build {
	const struct desired_input *in;
	struct lb_table *out;
	struct diag_list *diags;
	struct svc_policy *pol;
	size_t npol;
	struct cand *cands;
	size_t ncands, cands_cap;
	struct desired_state next;
	int64_t next_change;
	const struct lb_keyset *only; /* build just these services; NULL: all */
	struct desired_index *index;  /* records which use feeds which service; NULL: none */
	size_t use;                   /* the use being added, for index */
};

void desired_state_init(struct desired_state *st)
{
	memset(st, 0, sizeof(*st));
}

void desired_state_free(struct desired_state *st)
{
	free(st->entries);
	desired_state_init(st);
}

static int entry_push(struct desired_state *st, const struct desired_entry *e)
{
	if (VEC_RESERVE(st->entries, st->cap, st->n + 1) < 0)
		return -1;
	st->entries[st->n++] = *e;
	return 0;
}

static int backend_key_cmp(const struct lb_key *sa, const struct lb_addr *aa, uint16_t pa,
                           const struct lb_key *sb, const struct lb_addr *ab, uint16_t pb)
{
	int c = lb_key_cmp(sa, sb);

	if (c != 0)
		return c;
	c = lb_addr_cmp(aa, ab);
	if (c != 0)
		return c;
	return pa < pb ? -1 : pa > pb;
}

static int entry_qsort_cmp(const void *a, const void *b)
{
	const struct desired_entry *x = a, *y = b;

	return backend_key_cmp(&x->svc, &x->addr, x->port, &y->svc, &y->addr, y->port);
}

const struct desired_entry *desired_state_find(const struct desired_state *st,
                                               const struct lb_key *svc, const struct lb_addr *addr,
                                               uint16_t port)
{
	struct desired_entry probe = {.svc = *svc, .addr = *addr, .port = port};

	return vec_find(&probe, st->entries, st->n, sizeof(*st->entries), entry_qsort_cmp);
}

static int cand_qsort_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return backend_key_cmp(&x->svc, &x->addr, x->port, &y->svc, &y->addr, y->port);
}

int desired_state_adopt(struct desired_state *st, const struct lb_table *observed,
                        const struct lb_keyset *owned, int64_t drain_ms, int64_t now_ms)
{
	for (size_t i = 0; i < observed->nsvcs; i++) {
		const struct lb_service *s = &observed->svcs[i];

		if (!lb_keyset_contains(owned, &s->key))
			continue;
		for (size_t j = 0; j < s->ndests; j++) {
			const struct lb_dest *d = &s->dests[j];
			struct desired_entry e = {
			    .svc = s->key,
			    .addr = d->addr,
			    .port = d->port,
			    .phase = d->weight > 0 ? DESIRED_PHASE_IN : DESIRED_PHASE_DRAINING,
			    .drain_deadline_ms = now_ms + drain_ms,
			    .ramp_start_ms = -1,
			    .next_change_ms = d->weight > 0 ? INT64_MAX : now_ms + drain_ms,
			    .weight = d->weight,
			    .adopted = true,
			};

			if (entry_push(st, &e) < 0)
				return -1;
		}
	}
	if (st->n > 1)
		vec_sort(st->entries, st->n, sizeof(*st->entries), entry_qsort_cmp);
	return 0;
}

uint32_t desired_ramp_weight(uint32_t full, int64_t ramp_start_ms, uint32_t slow_start_s,
                             int64_t now_ms)
{
	int64_t span = (int64_t)slow_start_s * 1000, elapsed = now_ms - ramp_start_ms;

	if (full <= 1 || ramp_start_ms < 0 || span == 0 || elapsed >= span)
		return full;
	if (elapsed < 0)
		elapsed = 0;
	return 1 + (uint32_t)((uint64_t)(full - 1) * (uint64_t)elapsed / (uint64_t)span);
}

/* When a ramping weight next goes up: the smallest elapsed time at which
 * (full - 1) * elapsed / span reaches the next integer. */
static int64_t ramp_next_step(uint32_t full, int64_t start, uint32_t slow_s, int64_t now)
{
	uint64_t span = (uint64_t)slow_s * 1000, steps = full - 1;
	uint64_t elapsed = now > start ? (uint64_t)(now - start) : 0;
	uint64_t k = steps * elapsed / span + 1;

	return start + (int64_t)((k * span + steps - 1) / steps);
}

/* ---- services and candidates ---- */

static int pol_reserve(struct build *b)
{
	size_t need = b->out->nsvcs;
	struct svc_policy *pol;

	if (need <= b->npol)
		return 0;
	pol = realloc(b->pol, need * sizeof(*pol));
	if (pol == NULL)
		return -1;
	memset(pol + b->npol, 0, (need - b->npol) * sizeof(*pol));
	b->pol = pol;
	b->npol = need;
	return 0;
}

static void set_attr(struct lb_service *s, struct svc_policy *sp, const struct port_policy *p,
                     enum svc_attr i)
{
	switch (i) {
	case ATTR_SCHED:
		lb_service_set_sched(s, p->sched);
		break;
	case ATTR_FWD:
		s->fwd = p->fwd;
		break;
	case ATTR_KEEP:
		sp->keep_all = p->keep_all;
		break;
	case ATTR_SLOW:
		sp->slow_start_s = p->slow_start_s;
		break;
	case ATTR_COUNT:
		break;
	}
}

/* The first use (in app id order) that sets an attribute decides it for the
 * service; a later, different value is a located warning. */
static void apply_attrs(struct build *b, const struct app *a, struct lb_service *s,
                        struct svc_policy *sp, const struct port_policy *p)
{
	char key[INET6_ADDRSTRLEN + 16];

	for (int i = 0; i < ATTR_COUNT; i++) {
		if (p->raw[i] == NULL)
			continue;
		if (sp->raw[i] == NULL) {
			set_attr(s, sp, p, (enum svc_attr)i);
			sp->raw[i] = p->raw[i];
			sp->app_id[i] = a->id;
		} else if (strcmp(sp->raw[i], p->raw[i]) != 0) {
			diag_add(b->diags, DIAG_WARNING, a->source, p->path[i],
			         "\"%s\" ignored: %s takes \"%s\" from app %s", p->raw[i],
			         lb_key_format(&s->key, key, sizeof(key)), sp->raw[i],
			         sp->app_id[i]);
		}
	}
}

static int cand_push(struct build *b, const struct cand *c)
{
	if (VEC_RESERVE(b->cands, b->cands_cap, b->ncands + 1) < 0)
		return -1;
	b->cands[b->ncands++] = *c;
	return 0;
}

/* Backends of the key's family only: IPVS forwards a service's traffic to
 * destinations of the service's own family. */
static int add_use_key(struct build *b, const struct app *a, const struct lb_key *k,
                       const struct port_policy *p, const struct backend *bes, size_t nbes)
{
	struct lb_service *s;
	size_t idx;

	if (b->only != NULL && !lb_keyset_contains(b->only, k))
		return 0;
	if (b->index != NULL && desired_index_note(b->index, k, b->use) < 0)
		return -1;
	s = lb_table_add_service(b->out, k);
	if (s == NULL || pol_reserve(b) < 0)
		return -1;
	idx = (size_t)(s - b->out->svcs);
	apply_attrs(b, a, s, &b->pol[idx], p);
	for (size_t i = 0; i < nbes; i++) {
		if (bes[i].addr.af != k->addr.af)
			continue;
		struct cand c = {
		    .svc = *k,
		    .addr = bes[i].addr,
		    .port = bes[i].port,
		    .weight = p->weight,
		    .health = bes[i].health,
		    .svc_idx = idx,
		};

		if (cand_push(b, &c) < 0)
			return -1;
	}
	return 0;
}

static const char *af_name(int af)
{
	return af == AF_INET6 ? "IPv6" : "IPv4";
}

/* An address VIP has one family; its backends of the other are reported
 * where the VIP is declared and left out. */
static void warn_cross_family(struct build *b, const struct app *a, const struct vip_use *u,
                              const struct backend *bes, size_t nbes)
{
	const struct port_def *pd = &a->ports[u->port];
	char path[1024], vip[INET6_ADDRSTRLEN + 16], be[INET6_ADDRSTRLEN + 16];

	for (size_t i = 0; i < nbes; i++) {
		if (bes[i].addr.af == u->ref.addr.af)
			continue;
		diag_add(b->diags, DIAG_WARNING, a->source,
		         vip_label_path(a, u->port, pd->labels[u->label].key, path, sizeof(path)),
		         "task \"%s\": backend %s is %s but VIP %s is %s; skipped (IPVS NAT "
		         "cannot forward across address families)",
		         a->tasks[bes[i].task].id,
		         lb_addr_port_format(&bes[i].addr, bes[i].port, be, sizeof(be)),
		         af_name(bes[i].addr.af),
		         lb_addr_port_format(&u->ref.addr, u->ref.port, vip, sizeof(vip)),
		         af_name(u->ref.addr.af));
	}
}

static int add_use_af(struct build *b, const struct app *a, const struct vip_use *u, int af,
                      const struct port_policy *p, const struct backend *bes, size_t nbes,
                      const struct vip_alloc *va)
{
	struct lb_key keys[2];
	size_t nk = vip_keys_af(u, va, af, keys);

	for (size_t k = 0; k < nk; k++)
		if (add_use_key(b, a, &keys[k], p, bes, nbes) < 0)
			return -1;
	return 0;
}

/* As DC/OS does, a named VIP has an IPv4 service for its IPv4 backends and
 * an IPv6 one for its IPv6 backends; with no backend at all it keeps its
 * IPv4 service, present as every VIP is. */
static int add_use(struct build *b, const struct app *a, const struct vip_use *u,
                   const struct port_policy *p, const struct backend *bes, size_t nbes,
                   const struct vip_alloc *va)
{
	size_t n6 = 0;

	if (!u->ref.named) {
		warn_cross_family(b, a, u, bes, nbes);
		return add_use_af(b, a, u, u->ref.addr.af, p, bes, nbes, va);
	}
	for (size_t i = 0; i < nbes; i++)
		n6 += bes[i].addr.af == AF_INET6;
	if ((n6 < nbes || nbes == 0) && add_use_af(b, a, u, AF_INET, p, bes, nbes, va) < 0)
		return -1;
	if (n6 > 0 && add_use_af(b, a, u, AF_INET6, p, bes, nbes, va) < 0)
		return -1;
	return 0;
}

/* Uses [from, to) share one app port: its labels and tasks are read once. */
static int add_port_uses(struct build *b, const struct vip_use *uses, size_t from, size_t to,
                         const struct vip_alloc *va)
{
	const struct app *a = &b->in->apps->apps[uses[from].app];
	size_t pi = uses[from].port, nbes = 0;
	struct port_policy p;
	struct backend *bes;
	int rc = 0;

	desired_read_port_policy(b->diags, a, pi, &p);
	bes = desired_port_backends(b->diags, b->in, a, pi, p.scope, &nbes);
	if (bes == NULL)
		return -1;
	for (size_t u = from; u < to && rc == 0; u++) {
		b->use = u;
		rc = add_use(b, a, &uses[u], &p, bes, nbes, va);
	}
	free(bes);
	return rc;
}

/* Orders uses by app id, port and label, so that which app decides a shared
 * service's attributes does not depend on the order apps were loaded in. */
int desired_use_cmp(const struct vip_use *u, const struct vip_use *v, const struct apps_set *set)
{
	int c = strcmp(set->apps[u->app].id, set->apps[v->app].id);

	if (c != 0)
		return c;
	if (u->app != v->app)
		return u->app < v->app ? -1 : 1;
	if (u->port != v->port)
		return u->port < v->port ? -1 : 1;
	return u->label < v->label ? -1 : u->label > v->label;
}

static int use_qsort_cmp(const void *x, const void *y, void *ctx)
{
	return desired_use_cmp(x, y, ctx);
}

/* Uses sorted (use_qsort_cmp): each run sharing an app port at once. */
static int add_uses(struct build *b, const struct vip_use *uses, size_t n,
                    const struct vip_alloc *va)
{
	size_t from = 0;

	while (from < n) {
		size_t to = from + 1;

		while (to < n && uses[to].app == uses[from].app && uses[to].port == uses[from].port)
			to++;
		if (add_port_uses(b, uses, from, to, va) < 0)
			return -1;
		from = to;
	}
	return 0;
}

static int health_rank(enum desired_health h)
{
	return h == DESIRED_HEALTH_HEALTHY ? 2 : h == DESIRED_HEALTH_UNHEALTHY ? 1 : 0;
}

/* Sorts candidates and merges the same backend reached through several
 * apps or labels (the best health, the highest weight), then counts each
 * service's healthy and unhealthy backends for the all-unhealthy policy. */
static void cands_merge(struct build *b)
{
	size_t n = 0;

	if (b->ncands == 0)
		return;
	vec_sort(b->cands, b->ncands, sizeof(*b->cands), cand_qsort_cmp);
	for (size_t i = 0; i < b->ncands; i++) {
		struct cand *c = &b->cands[i], *last = n > 0 ? &b->cands[n - 1] : NULL;

		if (last != NULL && cand_qsort_cmp(last, c) == 0) {
			if (health_rank(c->health) > health_rank(last->health))
				last->health = c->health;
			if (c->weight > last->weight)
				last->weight = c->weight;
			continue;
		}
		b->cands[n++] = *c;
	}
	b->ncands = n;
	for (size_t i = 0; i < n; i++) {
		struct svc_policy *sp = &b->pol[b->cands[i].svc_idx];

		sp->nhealthy += b->cands[i].health == DESIRED_HEALTH_HEALTHY;
		sp->nunhealthy += b->cands[i].health == DESIRED_HEALTH_UNHEALTHY;
	}
}

/* ---- the weight policy ---- */

static void note_change(struct build *b, struct desired_entry *next, int64_t when)
{
	next->next_change_ms = when;
	if (when < b->next_change)
		b->next_change = when;
}

static bool step_in(struct build *b, const struct cand *c, const struct desired_entry *prev,
                    bool panic, uint32_t slow_s, struct desired_entry *next)
{
	int64_t now = b->in->now_ms;
	bool was_in = prev != NULL && prev->phase == DESIRED_PHASE_IN;

	if (!was_in)
		next->ramp_start_ms = (prev != NULL && !panic && slow_s > 0) ? now : -1;
	if (panic || slow_s == 0)
		next->ramp_start_ms = -1;
	next->phase = DESIRED_PHASE_IN;
	next->weight = desired_ramp_weight(c->weight, next->ramp_start_ms, slow_s, now);
	if (next->weight >= c->weight)
		next->ramp_start_ms = -1;
	else
		note_change(b, next, ramp_next_step(c->weight, next->ramp_start_ms, slow_s, now));
	return true;
}

static bool step_out(struct build *b, const struct desired_entry *prev, bool gone,
                     struct desired_entry *next)
{
	int64_t now = b->in->now_ms;

	next->ramp_start_ms = -1;
	next->weight = 0;
	if (prev != NULL && prev->phase == DESIRED_PHASE_IN) {
		next->phase = DESIRED_PHASE_DRAINING;
		next->drain_deadline_ms = now + b->in->drain_ms;
	}
	if (next->phase == DESIRED_PHASE_DRAINING && now < next->drain_deadline_ms) {
		note_change(b, next, next->drain_deadline_ms);
		return true;
	}
	next->phase = DESIRED_PHASE_OUT;
	/* A running task out of rotation is remembered, so that its return
	 * counts as a recovery (slow start); a vanished one is forgotten. */
	return !gone;
}

/* After a restart, an adopted backend whose health is not known yet keeps
 * what the kernel had. */
static bool step_adopted(struct build *b, struct desired_entry *next)
{
	if (next->phase != DESIRED_PHASE_DRAINING)
		return true;
	if (b->in->now_ms < next->drain_deadline_ms) {
		note_change(b, next, next->drain_deadline_ms);
		return true;
	}
	next->phase = DESIRED_PHASE_OUT;
	return true;
}

/* One backend from last round's entry (prev, may be NULL) and this round's
 * candidate (c, NULL when the task is gone). Returns whether *next stays in
 * the state. */
static bool step(struct build *b, const struct cand *c, const struct desired_entry *prev,
                 const struct svc_policy *sp, struct desired_entry *next)
{
	bool gone = c == NULL;
	enum desired_health h = gone ? DESIRED_HEALTH_UNKNOWN : c->health;
	bool panic = sp->keep_all && sp->nhealthy == 0 && sp->nunhealthy > 0;

	if (prev != NULL) {
		*next = *prev;
	} else {
		*next = (struct desired_entry){.svc = c->svc,
		                               .addr = c->addr,
		                               .port = c->port,
		                               .phase = DESIRED_PHASE_OUT,
		                               .ramp_start_ms = -1};
	}
	next->next_change_ms = INT64_MAX;
	if (prev != NULL && prev->adopted && !gone && h == DESIRED_HEALTH_UNKNOWN)
		return step_adopted(b, next);
	next->adopted = false;
	if (!gone && (h == DESIRED_HEALTH_HEALTHY || (panic && h == DESIRED_HEALTH_UNHEALTHY)))
		return step_in(b, c, prev, panic, sp->slow_start_s, next);
	return step_out(b, prev, gone, next);
}

static int emit(struct build *b, const struct cand *c, const struct desired_entry *prev)
{
	const struct lb_key *k = c ? &c->svc : &prev->svc;
	struct lb_service *s = lb_table_find(b->out, k);
	struct desired_entry next;
	struct lb_dest d;

	/* The VIP is gone: its service goes, and its backends with it. */
	if (s == NULL || (size_t)(s - b->out->svcs) >= b->npol)
		return 0;
	if (!step(b, c, prev, &b->pol[s - b->out->svcs], &next))
		return 0;
	if (entry_push(&b->next, &next) < 0)
		return -1;
	if (next.phase == DESIRED_PHASE_OUT)
		return 0;
	d = (struct lb_dest){.addr = next.addr, .port = next.port, .fwd = s->fwd};
	d.weight = next.phase == DESIRED_PHASE_IN ? next.weight : 0;
	return lb_service_add_dest(s, &d);
}

/* Merge walk of this round's candidates and last round's entries, both
 * sorted by (service, address, port). */
static int walk(struct build *b, const struct desired_state *prev)
{
	size_t i = 0, j = 0;
	int rc = 0;

	while (rc == 0 && (i < b->ncands || j < prev->n)) {
		const struct cand *c = i < b->ncands ? &b->cands[i] : NULL;
		const struct desired_entry *e = j < prev->n ? &prev->entries[j] : NULL;
		int cmp = c == NULL   ? 1
		          : e == NULL ? -1
		                      : backend_key_cmp(&c->svc, &c->addr, c->port, &e->svc,
		                                        &e->addr, e->port);

		if (cmp < 0) {
			rc = emit(b, c, NULL);
			i++;
		} else if (cmp > 0) {
			rc = emit(b, NULL, e);
			j++;
		} else {
			rc = emit(b, c, e);
			i++;
			j++;
		}
	}
	return rc;
}

/* The service key a remote backend joins, in its own family; false when
 * its VIP has no address of that family here. */
static bool remote_key(const struct desired_remote *r, const struct vip_alloc *va, struct lb_key *k)
{
	struct vip_use u = desired_remote_use(r->protocol, &r->vip);
	struct lb_key keys[2];

	if (vip_keys_af(&u, va, r->addr.af, keys) == 0)
		return false;
	*k = keys[0];
	return true;
}

/* r joins the service k (its VIP's here, in r's family). */
static int add_remote(struct build *b, const struct desired_remote *r, const struct lb_key *k)
{
	struct lb_service *s = lb_table_find(b->out, k);
	struct cand c;

	if (s == NULL && ((s = lb_table_add_service(b->out, k)) == NULL || pol_reserve(b) < 0))
		return -1;
	c = (struct cand){.svc = *k,
	                  .addr = r->addr,
	                  .port = r->port,
	                  .weight = r->weight,
	                  .health = DESIRED_HEALTH_HEALTHY,
	                  .svc_idx = (size_t)(s - b->out->svcs)};
	return cand_push(b, &c);
}

size_t desired_remote_runs(const struct desired_input *in)
{
	return in->nremote_vips + in->nremote;
}

const struct desired_remote *desired_remote_run(const struct desired_input *in, size_t i, size_t *n)
{
	if (i < in->nremote_vips) {
		*n = in->remote_vips[i].n;
		return in->remote_vips[i].items;
	}
	*n = 1;
	return &in->remote[i - in->nremote_vips];
}

/* Whether a remote backend joins service k: its VIP has an address here
 * (remote_key), and the build is of every service or of k's. */
static bool remote_wanted(const struct build *b, const struct lb_key *k)
{
	return b->only == NULL || lb_table_find(b->out, k) != NULL ||
	       lb_keyset_contains(b->only, k);
}

/* One VIP's backends: their service is looked up, and whether the build
 * wants it decided, once per VIP and family, not once per backend. */
static int add_remote_run(struct build *b, const struct desired_remote *r, size_t n,
                          const struct vip_alloc *va)
{
	struct lb_key k[2];
	int take[2] = {0, 0}; /* by family: 0 not decided, 1 taken, -1 left out */

	for (size_t i = 0; i < n; i++) {
		int f = r[i].addr.af == AF_INET6;

		if (take[f] == 0)
			take[f] = remote_key(&r[i], va, &k[f]) && remote_wanted(b, &k[f]) ? 1 : -1;
		if (take[f] > 0 && add_remote(b, &r[i], &k[f]) < 0)
			return -1;
	}
	return 0;
}

/* The table from sorted uses, the other nodes' backends, and the previous
 * state's entries of the services built. */
static int build_uses(struct build *b, const struct vip_use *uses, size_t n,
                      const struct vip_alloc *va, const struct desired_state *prev)
{
	if (add_uses(b, uses, n, va) < 0)
		return -1;
	for (size_t i = 0, nrun; i < desired_remote_runs(b->in); i++) {
		const struct desired_remote *r = desired_remote_run(b->in, i, &nrun);

		if (add_remote_run(b, r, nrun, va) < 0)
			return -1;
	}
	cands_merge(b);
	if (walk(b, prev) < 0 || lb_table_sort(b->out) < 0)
		return -1;
	return 0;
}

/* The named VIPs' addresses over every name used here and by the other
 * nodes' backends: with a node-local app source too, every node allocates
 * over the cluster's whole set of names, so they agree. */
static int alloc_names(const struct desired_input *in, const struct vip_list *vl,
                       const struct vip_ranges *ranges, struct vip_alloc *va, char *err,
                       size_t errlen)
{
	const char **names = calloc(vl->n + desired_remote_runs(in) + 1, sizeof(*names));
	size_t n = 0;
	int rc;

	if (names == NULL) {
		(void)snprintf(err, errlen, "named VIPs: out of memory");
		return -1;
	}
	for (size_t i = 0; i < vl->n; i++)
		if (vl->items[i].ref.named)
			names[n++] = vl->items[i].ref.name;
	for (size_t i = 0, nrun; i < desired_remote_runs(in); i++) {
		const struct desired_remote *r = desired_remote_run(in, i, &nrun);

		if (nrun > 0 && r->vip.named)
			names[n++] = r->vip.name;
	}
	struct vip_assign_in ai = {.ranges = ranges,
	                           .recorded = in->vip_recorded,
	                           .now_s = in->wall_s,
	                           .quarantine_s = in->vip_quarantine_s};

	rc = vip_alloc_assign(va, names, n, &ai, err, errlen);
	free(names);
	return rc;
}

static int build_table(struct build *b, struct desired_state *state, char *err, size_t errlen)
{
	const struct vip_ranges *ranges = b->in->ranges;
	struct vip_ranges defaults;
	struct vip_list vl = {0};
	struct vip_alloc va = {0};
	int rc = -1;

	if (ranges == NULL) {
		vip_ranges_default(&defaults);
		ranges = &defaults;
	}
	desired_check_labels(b->in->apps, b->diags);
	if (vip_collect_in(b->in->apps, ranges, &vl, b->diags) < 0)
		goto nomem;
	if (alloc_names(b->in, &vl, ranges, &va, err, errlen) < 0)
		goto out;
	if (vl.n > 1)
		qsort_r(vl.items, vl.n, sizeof(*vl.items), use_qsort_cmp, (void *)b->in->apps);
	if (build_uses(b, vl.items, vl.n, &va, state) < 0)
		goto nomem;
	if (b->index != NULL)
		desired_index_take(b->index, &vl, &va);
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "desired: out of memory");
out:
	vip_alloc_free(&va);
	vip_list_free(&vl);
	return rc;
}

static void build_free(struct build *b)
{
	free(b->pol);
	free(b->cands);
}

int desired_build_indexed(const struct desired_input *in, struct desired_state *state,
                          struct lb_table *out, struct diag_list *diags, int64_t *next_change_ms,
                          struct desired_index *ix, char *err, size_t errlen)
{
	struct build b = {
	    .in = in, .out = out, .diags = diags, .next_change = INT64_MAX, .index = ix};
	int rc;

	if (ix != NULL)
		desired_index_free(ix);
	rc = build_table(&b, state, err, errlen);
	build_free(&b);
	if (rc < 0) {
		if (ix != NULL)
			desired_index_free(ix);
		desired_state_free(&b.next);
		return -1;
	}
	if (ix != NULL)
		desired_index_sort(ix);
	desired_state_free(state);
	*state = b.next;
	if (next_change_ms != NULL)
		*next_change_ms = b.next_change;
	return 0;
}

int desired_build(const struct desired_input *in, struct desired_state *state, struct lb_table *out,
                  struct diag_list *diags, int64_t *next_change_ms, char *err, size_t errlen)
{
	return desired_build_indexed(in, state, out, diags, next_change_ms, NULL, err, errlen);
}

int desired_build_some(const struct desired_input *in, const struct vip_use *uses, size_t n,
                       const struct vip_alloc *va, const struct lb_keyset *only,
                       const struct desired_state *prev, struct lb_table *out,
                       struct desired_state *next, struct diag_list *diags, int64_t *next_change_ms,
                       struct desired_index *note)
{
	struct build b = {.in = in,
	                  .out = out,
	                  .diags = diags,
	                  .next_change = INT64_MAX,
	                  .only = only,
	                  .index = note};
	int rc = build_uses(&b, uses, n, va, prev);

	build_free(&b);
	if (rc < 0) {
		desired_state_free(&b.next);
		return -1;
	}
	*next = b.next;
	*next_change_ms = b.next_change;
	return 0;
}
