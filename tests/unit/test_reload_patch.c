/* Reloads that touch only what changed: apps_diff finds the apps a reload
 * changed, and desired_build_apps rebuilds only their services. For random
 * app sets and random changes (a task added, killed or moved to another
 * port, a port's protocols, a VIP label, a weight label, an app added or
 * removed, several apps at once; VIPs drawn from a small pool so that apps
 * share them), the incremental path must leave exactly what the whole build
 * leaves: the same table, the same state, the same index, and the same
 * planned operations. The same for the other nodes' changes (cluster mode:
 * a remote backend added, removed or reweighted, a VIP only other nodes
 * serve appearing or going, a VIP local apps use too), rebuilt by
 * desired_build_changed from the VIPs the merge reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "vipd/apps_diff.h"
#include "vipd/desired.h"
#include "vipd/reconcile.h"
#include "patch_world.h"

/* ---- a random world ---- */

/* VIPs drawn from a small pool, so that apps share some; now and then a
 * name no app had (a new named VIP: the allocation's, a whole build). */
static char *random_vip(void)
{
	switch (pw_rnd(7)) {
	case 0:
	case 1:
		return pw_fmt("10.0.0.%u:80", 1 + pw_rnd(4));
	case 2:
	case 3:
		return pw_fmt("/web%u:80", pw_rnd(3));
	case 4:
		return pw_fmt("/rare%u:80", pw_rnd(40));
	}
	return pw_fmt("/db%u:5432", pw_rnd(2));
}

static uint32_t task_serial;

/* Hosts are IPv4 or (for named VIPs' second family) IPv6, some shared. */
static void random_task(struct app *a, struct task *t)
{
	t->id = pw_fmt("%s.t%u", a->id + 1, task_serial++);
	t->host =
	    pw_rnd(5) == 0 ? pw_fmt("fd00::%u", 1 + pw_rnd(6)) : pw_fmt("10.1.0.%u", 1 + pw_rnd(6));
	t->state = pw_rnd(8) == 0 ? TASK_STATE_KILLING : TASK_STATE_RUNNING;
	t->nports = a->nports;
	t->ports = calloc(a->nports ? a->nports : 1, sizeof(*t->ports));
	for (size_t p = 0; p < a->nports; p++)
		t->ports[p] = 31000 + pw_rnd(2000);
}

static void random_app(struct app *a, const char *id)
{
	pw_random_app(a, strdup(id), pw_fmt("/apps/%s", id + 1), random_vip);
	for (size_t t = 0; t < a->ntasks; t++)
		random_task(a, &a->tasks[t]);
}

static void random_apps(struct apps_set *set)
{
	set->napps = 1 + pw_rnd(7);
	set->cap = set->napps;
	set->apps = calloc(set->napps, sizeof(*set->apps));
	for (size_t ai = 0; ai < set->napps; ai++) {
		char id[32];

		snprintf(id, sizeof(id), "/app%zu", ai);
		random_app(&set->apps[ai], id);
	}
}

/* ---- copying a set, so that the old one stays for the diff ---- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct label *labels_copy(const struct label *l, size_t n)
{
	struct label *c = calloc(n ? n : 1, sizeof(*c));

	for (size_t i = 0; i < n; i++)
		c[i] = (struct label){.key = strdup(l[i].key), .value = strdup(l[i].value)};
	return c;
}

static void task_copy(struct task *to, const struct task *from)
{
	*to = *from;
	to->id = strdup(from->id);
	to->host = dup_or_null(from->host);
	to->ports = calloc(from->nports ? from->nports : 1, sizeof(*to->ports));
	memcpy(to->ports, from->ports, from->nports * sizeof(*to->ports));
	to->ip_addresses = NULL;
	to->nip_addresses = 0;
	to->state_text = dup_or_null(from->state_text);
	to->started_at = dup_or_null(from->started_at);
	to->netns = dup_or_null(from->netns);
}

static void app_copy(struct app *to, const struct app *from)
{
	*to = *from;
	to->id = strdup(from->id);
	to->source = strdup(from->source);
	to->json_path = strdup(from->json_path);
	to->ports = calloc(from->nports ? from->nports : 1, sizeof(*to->ports));
	for (size_t p = 0; p < from->nports; p++) {
		to->ports[p] = from->ports[p];
		to->ports[p].name = NULL;
		to->ports[p].labels = labels_copy(from->ports[p].labels, from->ports[p].nlabels);
	}
	to->checks = calloc(1, sizeof(*to->checks));
	to->tasks = calloc(from->ntasks ? from->ntasks : 1, sizeof(*to->tasks));
	for (size_t t = 0; t < from->ntasks; t++)
		task_copy(&to->tasks[t], &from->tasks[t]);
	to->labels = labels_copy(from->labels, from->nlabels);
}

static void set_copy(struct apps_set *to, const struct apps_set *from)
{
	memset(to, 0, sizeof(*to));
	to->napps = to->cap = from->napps;
	to->apps = calloc(from->napps + 1, sizeof(*to->apps));
	for (size_t i = 0; i < from->napps; i++)
		app_copy(&to->apps[i], &from->apps[i]);
}

/* ---- random changes ---- */

static uint32_t app_serial;

static void set_label(struct label *labels, size_t n, const char *key, char *value)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0) {
			free(labels[i].value);
			labels[i].value = value;
			return;
		}
	free(value);
}

static void remove_app(struct apps_set *set, size_t ai)
{
	app_free(&set->apps[ai]);
	memmove(&set->apps[ai], &set->apps[ai + 1], (set->napps - ai - 1) * sizeof(*set->apps));
	set->napps--;
}

/* One change to one app (or a new app); what it was into *what. */
static void change_one(struct apps_set *set, const char **what)
{
	size_t ai = pw_rnd((uint32_t)set->napps);
	struct app *a = &set->apps[ai];
	struct port_def *p = &a->ports[pw_rnd((uint32_t)a->nports)];

	switch (pw_rnd(8)) {
	case 0:
		*what = "task added";
		a->tasks = realloc(a->tasks, (a->ntasks + 1) * sizeof(*a->tasks));
		memset(&a->tasks[a->ntasks], 0, sizeof(*a->tasks));
		random_task(a, &a->tasks[a->ntasks++]);
		return;
	case 1:
		if (a->ntasks == 0)
			break;
		*what = "task killed";
		a->tasks[pw_rnd((uint32_t)a->ntasks)].state = TASK_STATE_KILLED;
		return;
	case 2:
		if (a->ntasks == 0)
			break;
		*what = "task's port changed";
		a->tasks[pw_rnd((uint32_t)a->ntasks)].ports[0] += 1 + pw_rnd(3);
		return;
	case 3:
		*what = "port's protocols changed";
		p->protocols ^= PORT_PROTO_UDP;
		return;
	case 4:
		*what = "VIP label changed";
		set_label(p->labels, p->nlabels, "VIP_0", random_vip());
		return;
	case 5:
		*what = "weight label changed";
		pw_add_label(&p->labels, &p->nlabels, strdup("VIPD_WEIGHT"),
		             pw_fmt("%u", 1 + pw_rnd(5)));
		return;
	case 6:
		if (set->napps < 2)
			break;
		*what = "app removed";
		remove_app(set, ai);
		return;
	}
	*what = "app added";
	char id[32];

	snprintf(id, sizeof(id), "/new%u", app_serial++);
	set->apps = realloc(set->apps, (set->napps + 1) * sizeof(*set->apps));
	memset(&set->apps[set->napps], 0, sizeof(*set->apps));
	random_app(&set->apps[set->napps++], id);
}

/* ---- health: by task id, drawn once per task ---- */

#define MAX_TASKS 512

struct healths {
	char *task[MAX_TASKS];
	char *app[MAX_TASKS];
	enum desired_health health[MAX_TASKS];
	size_t n;
};

static enum desired_health health_of(void *ctx, const char *app_id, const char *task_id)
{
	struct healths *h = ctx;

	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->task[i], task_id) == 0)
			return h->health[i];
	if (h->n == MAX_TASKS)
		return DESIRED_HEALTH_UNKNOWN;
	h->task[h->n] = strdup(task_id);
	h->app[h->n] = strdup(app_id);
	h->health[h->n] = (enum desired_health)(pw_rng_state % 3);
	return h->health[h->n++];
}

static void healths_free(struct healths *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->task[i]);
		free(h->app[i]);
	}
	h->n = 0;
}

/* ---- comparing ---- */

/* The API lists VIPs and their apps from the index: it must describe the
 * new set as a whole build's does. */
static void assert_indexes_equal(const struct desired_index *a, const struct desired_index *b)
{
	assert_int_equal(a->uses.n, b->uses.n);
	for (size_t i = 0; i < a->uses.n; i++) {
		const struct vip_use *x = &a->uses.items[i], *y = &b->uses.items[i];

		assert_int_equal(x->app, y->app);
		assert_int_equal(x->port, y->port);
		assert_int_equal(x->label, y->label);
		assert_int_equal(x->protocols, y->protocols);
		assert_int_equal(x->ref.named, y->ref.named);
		if (x->ref.named)
			assert_string_equal(x->ref.name, y->ref.name);
		else
			assert_int_equal(lb_addr_cmp(&x->ref.addr, &y->ref.addr), 0);
		assert_int_equal(x->ref.port, y->ref.port);
	}
	assert_int_equal(a->nfeeds, b->nfeeds);
	for (size_t i = 0; i < a->nfeeds; i++) {
		assert_int_equal(lb_key_cmp(&a->feeds[i].svc, &b->feeds[i].svc), 0);
		assert_int_equal(a->feeds[i].use, b->feeds[i].use);
	}
	assert_int_equal(a->alloc.n, b->alloc.n);
}

/* ---- the two paths ---- */

/* The other nodes' backends (cluster mode); none in the reload worlds. */
#define MAX_REMOTE 48

struct remotes {
	struct desired_remote r[MAX_REMOTE];
	size_t n;
};

static struct remotes world_remote;

static struct desired_input input(const struct apps_set *set, struct healths *h, int64_t now)
{
	return (struct desired_input){.apps = set,
	                              .health = health_of,
	                              .health_ctx = h,
	                              .drain_ms = PW_DRAIN_MS,
	                              .now_ms = now,
	                              .remote = world_remote.n ? world_remote.r : NULL,
	                              .nremote = world_remote.n};
}

/* The whole build, planned against the whole last table. */
static void full_round(const struct apps_set *set, struct healths *h, struct pw_path *p,
                       int64_t now, struct rc_plan *plan)
{
	struct desired_input in = input(set, h, now);

	pw_full_round(&in, p, plan);
}
/* The apps a reload changed (the diff's, into *d) and the app whose task's
 * health changed (NULL: none), as the daemon notes them; their number. */
static size_t changed_ids(const struct apps_set *old, const struct apps_set *set,
                          const char *health_app, struct apps_diff *d, const char **ids)
{
	char err[256];
	size_t nids = 0;

	assert_int_equal(apps_diff(old, set, d, err, sizeof(err)), 0);
	assert_true(d->n < 63);
	for (size_t i = 0; i < d->n; i++)
		ids[nids++] = d->items[i].id;
	if (health_app != NULL)
		ids[nids++] = health_app;
	return nids;
}

/* A partial build's answer rc: 1 (the whole build asked for) must name the
 * named VIP that appeared or went away; 0 plans the targets and keeps the
 * earlier timer. The part and the targets are freed; rc returned. */
static int take_patch(int rc, const char *err, struct pw_path *p, struct lb_keyset *targets,
                      struct lb_table *part, int64_t next, struct rc_plan *plan)
{
	assert_true(rc == 0 || rc == 1);
	if (rc == 1) {
		assert_true(strncmp(err, "named VIP /", 11) == 0);
	} else {
		pw_plan_targets(p, targets, part, plan);
		if (next < p->next_change)
			p->next_change = next;
	}
	lb_table_free(part);
	lb_keyset_free(targets);
	return rc;
}

/* The incremental round, as the daemon runs it: the apps a reload changed
 * and the app whose task's health changed (NULL: none), rebuilt by
 * desired_build_apps; with the other nodes' VIPs `vips` (cluster mode,
 * non-NULL) all of them at once by desired_build_changed. 0 when patched,
 * 1 when the whole build was asked for (a named VIP appeared or went
 * away). */
static int patch_round(const struct apps_set *old, const struct apps_set *set, struct healths *h,
                       const char *health_app, const struct desired_vip *vips, size_t nvips,
                       struct pw_path *p, int64_t now, struct rc_plan *plan)
{
	struct desired_input in = input(set, h, now);
	struct apps_diff d;
	const char *ids[64];
	struct lb_table part;
	struct lb_keyset targets;
	struct diag_list diags = {0};
	int64_t next = INT64_MAX;
	char err[256];
	size_t nids = changed_ids(old, set, health_app, &d, ids);
	int rc;

	if (vips == NULL && nids == 0) { /* the change undid itself: nothing to rebuild */
		apps_diff_free(&d);
		return 0;
	}
	lb_table_init(&part);
	lb_keyset_init(&targets);
	if (vips != NULL)
		rc = desired_build_changed(&in, old, ids, nids, vips, nvips, &p->ix, &p->st, &part,
		                           &targets, &diags, &next, err, sizeof(err));
	else
		rc = desired_build_apps(&in, old, ids, nids, &p->ix, &p->st, &part, &targets,
		                        &diags, &next, err, sizeof(err));
	rc = take_patch(rc, err, p, &targets, &part, next, plan);
	diag_list_free(&diags);
	apps_diff_free(&d);
	return rc;
}

/* One task's health flipped to another value; its app. */
static const char *flip_health(struct healths *h)
{
	size_t t = pw_rnd((uint32_t)h->n);

	h->health[t] = (enum desired_health)((h->health[t] + 1 + pw_rnd(2)) % 3);
	return h->app[t];
}

/* The incremental path's round refused: it takes the whole build, as the
 * engine does. */
static void whole_round_instead(const struct apps_set *set, struct healths *h, struct pw_path *inc,
                                int64_t now, struct rc_plan *pi)
{
	rc_plan_free(pi);
	rc_plan_init(pi);
	full_round(set, h, inc, now, pi);
}

/* After each round the two paths planned the same and hold the same table,
 * state and index; both plans freed. */
static void assert_paths_agree(const struct pw_path *full, const struct pw_path *inc,
                               struct rc_plan *pf, struct rc_plan *pi)
{
	pw_assert_plans_equal(pf, pi);
	pw_assert_tables_equal(&full->kernel, &inc->kernel);
	pw_assert_states_equal(&full->st, &inc->st);
	assert_indexes_equal(&full->ix, &inc->ix);
	rc_plan_free(pf);
	rc_plan_free(pi);
}

static const char *const kinds[] = {
    "task added",        "task killed",          "task's port changed", "port's protocols changed",
    "VIP label changed", "weight label changed", "app removed",         "app added",
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

struct counts {
	size_t patched, whole;
	size_t patched_kind[NKINDS]; /* reloads of that one change patched */
};

static void count_kind(struct counts *c, const char *what)
{
	for (size_t k = 0; k < NKINDS; k++)
		if (strcmp(kinds[k], what) == 0)
			c->patched_kind[k]++;
}

/* The next round starts from the new set, a little later or (one time in
 * four) up to a drain period later. */
static void next_step(struct apps_set *set, struct apps_set *next, int64_t *now)
{
	apps_set_free(set);
	*set = *next;
	*now += pw_rnd(4) == 0 ? 1 + pw_rnd(PW_DRAIN_MS) : pw_rnd(500);
}

static void world_free(struct pw_path *full, struct pw_path *inc, struct apps_set *set,
                       struct healths *h)
{
	pw_path_free(full);
	pw_path_free(inc);
	apps_set_free(set);
	healths_free(h);
}

/* One world: both paths from the same first round, then a sequence of
 * reloads (one app changed, sometimes two) and health changes. The
 * incremental path takes the whole build when it must: its timer (a drain
 * deadline, a slow-start step) is due, or a named VIP came or went. */
static void run_world(uint32_t seed, struct counts *c)
{
	struct apps_set set, next;
	struct healths h = {0};
	struct pw_path full, inc;
	int64_t now = 1000000;

	pw_rng_state = seed;
	random_apps(&set);
	pw_path_init(&full);
	pw_path_init(&inc);
	for (int step = 0; step < 30; step++) {
		struct rc_plan pf, pi;
		const char *what = "first round", *health_app = NULL;

		rc_plan_init(&pf);
		rc_plan_init(&pi);
		set_copy(&next, &set);
		if (step > 0) {
			change_one(&next, &what);
			if (pw_rnd(5) == 0)
				change_one(&next, &what), what = "two changes";
		}
		if (pw_rnd(3) == 0 && h.n > 0) /* a health change too */
			health_app = flip_health(&h);
		full_round(&next, &h, &full, now, &pf);
		if (step == 0 || now >= inc.next_change) {
			full_round(&next, &h, &inc, now, &pi);
		} else if (patch_round(&set, &next, &h, health_app, NULL, 0, &inc, now, &pi) == 0) {
			c->patched++;
			count_kind(c, what);
		} else {
			c->whole++;
			whole_round_instead(&next, &h, &inc, now, &pi);
		}
		assert_paths_agree(&full, &inc, &pf, &pi);
		next_step(&set, &next, &now);
	}
	world_free(&full, &inc, &set, &h);
}

static void test_random_reloads(void **state)
{
	struct counts c = {0};

	(void)state;
	for (uint32_t seed = 1; seed <= 300; seed++)
		run_world(seed, &c);
	/* The property is only worth something if most reloads were patched;
	 * the whole build must still be taken for new or vanished names. */
	assert_true(c.patched > 300 * 15);
	assert_true(c.whole > 0);
	for (size_t k = 0; k < NKINDS; k++) {
		print_message("%-26s patched %zu times\n", kinds[k], c.patched_kind[k]);
		assert_true(c.patched_kind[k] > 100);
	}
}

/* ---- the other nodes' changes ---- */

/* A remote VIP: one local apps use too (10.0.0.x, /webN), one only other
 * nodes serve (10.0.9.x), or a name only other nodes use (/farN: its
 * coming or going is the allocation's, a whole build). */
static struct desired_vip random_remote_vip(void)
{
	struct desired_vip v = {.protocol = pw_rnd(5) == 0 ? IPPROTO_UDP : IPPROTO_TCP};
	char text[64], err[128];

	switch (pw_rnd(8)) {
	case 0:
	case 1:
		snprintf(text, sizeof(text), "10.0.0.%u:80", 1 + pw_rnd(4));
		break;
	case 2:
	case 3:
		snprintf(text, sizeof(text), "/web%u:80", pw_rnd(3));
		break;
	case 4:
	case 5:
	case 6:
		snprintf(text, sizeof(text), "10.0.9.%u:80", 1 + pw_rnd(3));
		break;
	default:
		snprintf(text, sizeof(text), "/far%u:80", pw_rnd(3));
	}
	assert_int_equal(vip_parse(text, &v.vip, err, sizeof(err)), 0);
	return v;
}

static bool vip_is(const struct desired_remote *r, const struct desired_vip *v)
{
	if (r->protocol != v->protocol || r->vip.named != v->vip.named ||
	    r->vip.port != v->vip.port)
		return false;
	return v->vip.named ? strcmp(r->vip.name, v->vip.name) == 0
	                    : lb_addr_cmp(&r->vip.addr, &v->vip.addr) == 0;
}

static size_t vip_count(const struct desired_vip *v)
{
	size_t n = 0;

	for (size_t i = 0; i < world_remote.n; i++)
		n += vip_is(&world_remote.r[i], v);
	return n;
}

static void remote_add(const struct desired_vip *v)
{
	struct desired_remote *r;
	char addr[64];

	if (world_remote.n == MAX_REMOTE)
		return;
	r = &world_remote.r[world_remote.n++];
	*r = (struct desired_remote){.protocol = v->protocol,
	                             .vip = v->vip,
	                             .port = (uint16_t)(32000 + pw_rnd(3)),
	                             .weight = 1 + pw_rnd(4)};
	if (pw_rnd(5) == 0)
		snprintf(addr, sizeof(addr), "fd00::2:%u", 1 + pw_rnd(4));
	else
		snprintf(addr, sizeof(addr), "10.2.0.%u", 1 + pw_rnd(4));
	assert_int_equal(lb_addr_parse(addr, &r->addr), 0);
}

static void remote_remove(size_t i)
{
	world_remote.r[i] = world_remote.r[--world_remote.n];
}

static const char *const remote_kinds[] = {
    "remote backend added",     "remote backend removed", "remote weight changed",
    "remote-only VIP appeared", "remote-only VIP went",   "shared VIP changed",
};
#define NREMOTE_KINDS (sizeof(remote_kinds) / sizeof(remote_kinds[0]))

static bool vip_shared(const struct desired_vip *v)
{
	return v->vip.named ? strncmp(v->vip.name, "/web", 4) == 0
	                    : (ntohl(v->vip.addr.u.v4.s_addr) >> 8) == 0x0a0000;
}

/* One change to the other nodes' backends, as the merge would report it:
 * the VIP whose backends changed, into *v; its kind. */
static size_t remote_change(struct desired_vip *v)
{
	uint32_t what;
	size_t i, kind;

	*v = random_remote_vip();
	what = pw_rnd(3);
	if (what == 0 || world_remote.n == 0) {
		/* a backend of a VIP (which may thereby appear); also when there
		 * is none to remove or reweight */
		kind = what == 0 && vip_count(v) != 0 ? 0 : 3;
		remote_add(v);
	} else {
		i = pw_rnd((uint32_t)world_remote.n);
		*v = (struct desired_vip){world_remote.r[i].protocol, world_remote.r[i].vip};
		if (what == 1) { /* one goes (its VIP may go with it) */
			remote_remove(i);
			kind = vip_count(v) == 0 ? 4 : 1;
		} else {
			world_remote.r[i].weight = 1 + (world_remote.r[i].weight + pw_rnd(3)) % 5;
			kind = 2;
		}
	}
	if (vip_shared(v) && kind != 3 && kind != 4)
		kind = 5;
	return kind;
}

/* One world of remote changes: both paths from the same first round
 * (some remote backends already there), then remote changes, now and then
 * with a reload and a health change in the same round. */
static void run_remote_world(uint32_t seed, size_t *patched, size_t *whole, size_t *kinds_n)
{
	struct apps_set set = {0}, next;
	struct healths h = {0};
	struct pw_path full, inc;
	int64_t now = 1000000;

	pw_rng_state = seed;
	world_remote.n = 0;
	random_apps(&set);
	for (uint32_t i = pw_rnd(8); i > 0; i--) {
		struct desired_vip v = random_remote_vip();

		remote_add(&v);
	}
	pw_path_init(&full);
	pw_path_init(&inc);
	for (int step = 0; step < 30; step++) {
		struct rc_plan pf, pi;
		const char *what = "", *health_app = NULL;
		struct desired_vip vips[2];
		size_t nvips = 0, kind = 0;

		rc_plan_init(&pf);
		rc_plan_init(&pi);
		set_copy(&next, &set);
		if (step > 0) {
			kind = remote_change(&vips[nvips++]);
			if (pw_rnd(4) == 0)
				(void)remote_change(&vips[nvips++]);
			if (pw_rnd(4) == 0)
				change_one(&next, &what);
		}
		if (pw_rnd(4) == 0 && h.n > 0)
			health_app = flip_health(&h);
		full_round(&next, &h, &full, now, &pf);
		if (step == 0 || now >= inc.next_change) {
			full_round(&next, &h, &inc, now, &pi);
		} else if (patch_round(&set, &next, &h, health_app, vips, nvips, &inc, now, &pi) ==
		           0) {
			(*patched)++;
			kinds_n[kind]++;
		} else {
			(*whole)++;
			whole_round_instead(&next, &h, &inc, now, &pi);
		}
		assert_paths_agree(&full, &inc, &pf, &pi);
		next_step(&set, &next, &now);
	}
	world_free(&full, &inc, &set, &h);
	world_remote.n = 0;
}

static void test_random_remote_changes(void **state)
{
	size_t patched = 0, whole = 0, kinds_n[NREMOTE_KINDS] = {0};

	(void)state;
	for (uint32_t seed = 1; seed <= 300; seed++)
		run_remote_world(seed, &patched, &whole, kinds_n);
	/* Most remote changes must have been patched; a remote-only name
	 * coming or going still takes the whole build. */
	assert_true(patched > 300 * 15);
	assert_true(whole > 0);
	for (size_t k = 0; k < NREMOTE_KINDS; k++) {
		print_message("%-26s patched %zu times\n", remote_kinds[k], kinds_n[k]);
		assert_true(kinds_n[k] > 100);
	}
}

/* ---- apps_diff ---- */

static void two_sets(struct apps_set *old, struct apps_set *fresh)
{
	pw_rng_state = 11;
	memset(old, 0, sizeof(*old));
	old->napps = 3;
	old->apps = calloc(4, sizeof(*old->apps));
	random_app(&old->apps[0], "/b");
	random_app(&old->apps[1], "/a");
	random_app(&old->apps[2], "/c");
	for (size_t i = 0; i < 3; i++) {
		struct app *a = &old->apps[i];

		if (a->ntasks == 0)
			random_task(a, &a->tasks[a->ntasks++]);
	}
	set_copy(fresh, old);
}

static void test_diff_unchanged(void **state)
{
	struct apps_set old, fresh;
	struct apps_diff d;
	char err[128];

	(void)state;
	two_sets(&old, &fresh);
	assert_int_equal(apps_diff(&old, &fresh, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.unchanged, 3);
	apps_diff_free(&d);
	apps_set_free(&old);
	apps_set_free(&fresh);
}

/* Sorted by id whatever the sets' order; each kind named. */
static void test_diff_kinds(void **state)
{
	struct apps_set old, fresh;
	struct apps_diff d;
	char err[128];

	(void)state;
	two_sets(&old, &fresh);
	fresh.apps[0].tasks[0].state = TASK_STATE_KILLED;   /* /b: tasks */
	fresh.apps[2].ports[0].protocols ^= PORT_PROTO_UDP; /* /c: definition */
	remove_app(&fresh, 1);                              /* /a: removed */
	memset(&fresh.apps[fresh.napps], 0, sizeof(fresh.apps[0]));
	random_app(&fresh.apps[fresh.napps++], "/0new"); /* added */
	assert_int_equal(apps_diff(&old, &fresh, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.unchanged, 0);
	assert_string_equal(d.items[0].id, "/0new");
	assert_string_equal(apps_change_name(d.items[0].change), "added");
	assert_string_equal(d.items[1].id, "/a");
	assert_string_equal(apps_change_name(d.items[1].change), "removed");
	assert_string_equal(d.items[2].id, "/b");
	assert_string_equal(apps_change_name(d.items[2].change), "tasks");
	assert_string_equal(d.items[3].id, "/c");
	assert_string_equal(apps_change_name(d.items[3].change), "definition");
	apps_diff_free(&d);
	apps_set_free(&old);
	apps_set_free(&fresh);
}

/* A task's start time changing is a change (the scheduler restarts its
 * grace period); a label's value too. */
static void test_diff_fields(void **state)
{
	struct apps_set old, fresh;
	struct apps_diff d;
	char err[128];

	(void)state;
	two_sets(&old, &fresh);
	fresh.apps[1].tasks[0].started_at = strdup("2026-12-01T10:00:00.000Z");
	set_label(fresh.apps[2].ports[0].labels, fresh.apps[2].ports[0].nlabels, "VIP_0",
	          strdup("10.0.0.77:80"));
	assert_int_equal(apps_diff(&old, &fresh, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.items[0].id, "/a");
	assert_int_equal(d.items[0].change, APPS_CHANGE_TASKS);
	assert_string_equal(d.items[1].id, "/c");
	assert_int_equal(d.items[1].change, APPS_CHANGE_DEFINITION);
	apps_diff_free(&d);
	apps_set_free(&old);
	apps_set_free(&fresh);
}

/* The same ids in the same order (compared in place): the changes still
 * come out sorted by id. */
static void test_diff_in_place_sorted(void **state)
{
	struct apps_set old, fresh;
	struct apps_diff d;
	char err[128];

	(void)state;
	two_sets(&old, &fresh); /* /b, /a, /c */
	fresh.apps[0].tasks[0].state = TASK_STATE_KILLED;
	fresh.apps[1].ports[0].protocols ^= PORT_PROTO_UDP;
	assert_int_equal(apps_diff(&old, &fresh, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.unchanged, 1);
	assert_string_equal(d.items[0].id, "/a");
	assert_int_equal(d.items[0].change, APPS_CHANGE_DEFINITION);
	assert_string_equal(d.items[1].id, "/b");
	assert_int_equal(d.items[1].change, APPS_CHANGE_TASKS);
	assert_true(apps_diff_has(&d, "/b"));
	assert_false(apps_diff_has(&d, "/c"));
	apps_diff_free(&d);
	apps_set_free(&old);
	apps_set_free(&fresh);
}

/* A new named VIP is the allocation's: the patch refuses, saying which,
 * and leaves the index and state as they were. */
static void test_new_name_refused(void **state)
{
	struct apps_set old, fresh;
	struct healths h = {0};
	struct pw_path p;
	struct rc_plan plan;
	struct lb_table part;
	const char *ids[] = {"/a"};
	size_t nuses;
	int64_t next;
	char err[256];

	(void)state;
	two_sets(&old, &fresh);
	pw_path_init(&p);
	rc_plan_init(&plan);
	full_round(&old, &h, &p, 1000, &plan);
	nuses = p.ix.uses.n;
	set_label(fresh.apps[1].ports[0].labels, fresh.apps[1].ports[0].nlabels, "VIP_0",
	          strdup("/brand-new:443"));
	lb_table_init(&part);
	struct desired_input in = input(&fresh, &h, 2000);
	assert_int_equal(desired_build_apps(&in, &old, ids, 1, &p.ix, &p.st, &part, NULL, NULL,
	                                    &next, err, sizeof(err)),
	                 1);
	assert_string_equal(err, "named VIP /brand-new is new");
	assert_int_equal(p.ix.uses.n, nuses);
	assert_int_equal(part.nsvcs, 0);
	lb_table_free(&part);
	rc_plan_free(&plan);
	pw_path_free(&p);
	healths_free(&h);
	apps_set_free(&old);
	apps_set_free(&fresh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_reloads),
	    cmocka_unit_test(test_random_remote_changes),
	    cmocka_unit_test(test_diff_unchanged),
	    cmocka_unit_test(test_diff_kinds),
	    cmocka_unit_test(test_diff_fields),
	    cmocka_unit_test(test_new_name_refused),
	    cmocka_unit_test(test_diff_in_place_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
