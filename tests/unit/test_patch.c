/* The incremental round for health changes (desired_build_services,
 * dataplane_patch_plan, lb_table_patch) against the whole-table build and
 * plan it replaces: the same state, the same remembered table, the same
 * operations in the same order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "vipd/dataplane.h"
#include "vipd/desired.h"
#include "vipd/reconcile.h"

/* ---- a random world ---- */

static uint32_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

static char *fmt(const char *f, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return strdup(buf);
}

static void add_label(struct label **labels, size_t *n, char *k, char *v)
{
	*labels = realloc(*labels, (*n + 1) * sizeof(**labels));
	(*labels)[(*n)++] = (struct label){.key = k, .value = v};
}

/* VIPs drawn from a small pool, so that apps share some. */
static char *random_vip(void)
{
	switch (rnd(3)) {
	case 0:
		return fmt("10.0.0.%u:80", 1 + rnd(4));
	case 1:
		return fmt("/web%u:80", rnd(3));
	}
	return fmt("/db%u:5432", rnd(2));
}

static void random_port(struct app *a, size_t i)
{
	struct port_def *p = &a->ports[i];

	p->port = 8000 + (uint32_t)i;
	p->protocols = rnd(4) == 0 ? PORT_PROTO_TCP | PORT_PROTO_UDP : PORT_PROTO_TCP;
	add_label(&p->labels, &p->nlabels, strdup("VIP_0"), random_vip());
	if (rnd(4) == 0)
		add_label(&p->labels, &p->nlabels, strdup("VIPD_SLOW_START_SECONDS"),
		          fmt("%u", 5 + rnd(20)));
	if (rnd(4) == 0)
		add_label(&p->labels, &p->nlabels, strdup("VIPD_ALL_UNHEALTHY"), strdup("keep"));
	if (rnd(4) == 0)
		add_label(&p->labels, &p->nlabels, strdup("VIPD_WEIGHT"), fmt("%u", 1 + rnd(5)));
}

/* Hosts are IPv4 or (for named VIPs' second family) IPv6, some shared. */
static void random_task(struct app *a, size_t ai, size_t i)
{
	struct task *t = &a->tasks[i];

	t->id = fmt("app%zu.t%zu", ai, i);
	t->host = rnd(5) == 0 ? fmt("fd00::%u", 1 + rnd(6)) : fmt("10.1.0.%u", 1 + rnd(6));
	t->state = rnd(8) == 0 ? TASK_STATE_KILLING : TASK_STATE_RUNNING;
	t->nports = a->nports;
	t->ports = calloc(a->nports, sizeof(*t->ports));
	for (size_t p = 0; p < a->nports; p++)
		t->ports[p] = 31000 + (uint32_t)(ai * 100 + i * 10 + p);
}

static void random_apps(struct apps_set *set)
{
	set->napps = 1 + rnd(6);
	set->apps = calloc(set->napps, sizeof(*set->apps));
	for (size_t ai = 0; ai < set->napps; ai++) {
		struct app *a = &set->apps[ai];

		a->id = fmt("/app%zu", ai);
		a->source = strdup("apps.json");
		a->json_path = fmt("/apps/%zu", ai);
		a->nchecks = rnd(6) == 0 ? 0 : 1;
		a->checks = calloc(1, sizeof(*a->checks));
		a->nports = 1 + rnd(3);
		a->ports = calloc(a->nports, sizeof(*a->ports));
		for (size_t p = 0; p < a->nports; p++)
			random_port(a, p);
		a->ntasks = rnd(6);
		a->tasks = calloc(a->ntasks ? a->ntasks : 1, sizeof(*a->tasks));
		for (size_t t = 0; t < a->ntasks; t++)
			random_task(a, ai, t);
	}
}

/* ---- health ---- */

#define MAX_TASKS 64

struct world {
	struct apps_set set;
	const char *task[MAX_TASKS];
	const char *app_of[MAX_TASKS];
	enum desired_health health[MAX_TASKS];
	size_t ntasks;
};

static enum desired_health health_of(void *ctx, const char *app_id, const char *task_id)
{
	struct world *w = ctx;

	(void)app_id;
	for (size_t i = 0; i < w->ntasks; i++)
		if (strcmp(w->task[i], task_id) == 0)
			return w->health[i];
	return DESIRED_HEALTH_UNKNOWN;
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	random_apps(&w->set);
	for (size_t a = 0; a < w->set.napps; a++)
		for (size_t t = 0; t < w->set.apps[a].ntasks && w->ntasks < MAX_TASKS; t++) {
			w->task[w->ntasks] = w->set.apps[a].tasks[t].id;
			w->app_of[w->ntasks] = w->set.apps[a].id;
			w->health[w->ntasks++] = (enum desired_health)rnd(3);
		}
}

/* ---- comparing ---- */

static void assert_tables_equal(const struct lb_table *a, const struct lb_table *b)
{
	assert_int_equal(a->nsvcs, b->nsvcs);
	for (size_t i = 0; i < a->nsvcs; i++) {
		const struct lb_service *x = &a->svcs[i], *y = &b->svcs[i];

		assert_int_equal(lb_key_cmp(&x->key, &y->key), 0);
		assert_string_equal(x->sched, y->sched);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->fwd, y->fwd);
		assert_int_equal(x->ndests, y->ndests);
		for (size_t j = 0; j < x->ndests; j++) {
			assert_int_equal(lb_dest_cmp(&x->dests[j], &y->dests[j]), 0);
			assert_int_equal(x->dests[j].weight, y->dests[j].weight);
			assert_int_equal(x->dests[j].fwd, y->dests[j].fwd);
		}
	}
}

static void assert_plans_equal(const struct rc_plan *a, const struct rc_plan *b)
{
	char x[256], y[256];

	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(rc_op_format(&a->ops[i], x, sizeof(x)),
		                    rc_op_format(&b->ops[i], y, sizeof(y)));
		assert_int_equal(a->ops[i].old_weight, b->ops[i].old_weight);
	}
}

static void assert_states_equal(const struct desired_state *a, const struct desired_state *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_memory_equal(&a->entries[i], &b->entries[i], sizeof(a->entries[i]));
}

/* ---- the two paths ---- */

#define DRAIN_MS 20000

struct path {
	struct desired_state st;
	struct lb_table kernel; /* what the last round left */
	struct desired_index ix;
	int64_t next_change; /* the timer the engine would have armed */
};

static struct desired_input input(struct world *w, int64_t now)
{
	return (struct desired_input){.apps = &w->set,
	                              .health = health_of,
	                              .health_ctx = w,
	                              .drain_ms = DRAIN_MS,
	                              .now_ms = now};
}

/* Today's quick round: the whole table, planned against the whole
 * remembered table; the kernel then holds the table. */
static void full_round(struct world *w, struct path *p, int64_t now, struct rc_plan *plan)
{
	struct desired_input in = input(w, now);
	struct lb_table table;
	struct lb_keyset owned;
	struct diag_list diags = {0};
	char err[256];

	lb_table_init(&table);
	lb_keyset_init(&owned);
	assert_int_equal(desired_build_indexed(&in, &p->st, &table, &diags, &p->next_change, &p->ix,
	                                       err, sizeof(err)),
	                 0);
	lb_keyset_add_table(&owned, &p->kernel);
	lb_keyset_add_table(&owned, &table);
	lb_keyset_sort(&owned);
	assert_int_equal(reconcile_plan(&p->kernel, &table, &owned, plan, err, sizeof(err)), 0);
	lb_table_free(&p->kernel);
	p->kernel = table;
	lb_keyset_free(&owned);
	diag_list_free(&diags);
}

/* The incremental round for the apps given. */
static void patch_round(struct world *w, struct path *p, int64_t now, const char *const *apps,
                        size_t napps, struct rc_plan *plan)
{
	struct desired_input in = input(w, now);
	struct lb_table part;
	int64_t next = INT64_MAX;
	char err[256];

	lb_table_init(&part);
	assert_int_equal(desired_build_services(&in, &p->ix, apps, napps, &p->st, &part, &next, err,
	                                        sizeof(err)),
	                 0);
	assert_int_equal(dataplane_patch_plan(&p->kernel, &part, plan, err, sizeof(err)), 0);
	assert_int_equal(lb_table_patch(&p->kernel, &part), 0);
	if (next < p->next_change)
		p->next_change = next;
	lb_table_free(&part);
}

static void path_init(struct path *p)
{
	desired_state_init(&p->st);
	lb_table_init(&p->kernel);
	desired_index_init(&p->ix);
	p->next_change = INT64_MAX;
}

static void path_free(struct path *p)
{
	desired_state_free(&p->st);
	lb_table_free(&p->kernel);
	desired_index_free(&p->ix);
}

/* Flips 1..3 tasks' health; their apps, once each, into apps. */
static size_t flip_some(struct world *w, const char **apps)
{
	size_t n = 0, flips = 1 + rnd(3);

	for (size_t f = 0; f < flips && w->ntasks > 0; f++) {
		size_t t = rnd((uint32_t)w->ntasks);
		bool seen = false;

		w->health[t] = (enum desired_health)((w->health[t] + 1 + rnd(2)) % 3);
		for (size_t i = 0; i < n; i++)
			seen = seen || strcmp(apps[i], w->app_of[t]) == 0;
		if (!seen)
			apps[n++] = w->app_of[t];
	}
	return n;
}

/* One world: both paths from the same first round, then a sequence of
 * health changes; the incremental path falls back to the whole table when
 * its timer (a drain deadline, a slow-start step) is due, as the engine's. */
static size_t run_world(uint32_t seed)
{
	struct world w;
	struct path full, inc;
	int64_t now = 1000000;
	size_t patched = 0;

	rng_state = seed;
	world_init(&w);
	path_init(&full);
	path_init(&inc);
	for (int step = 0; step < 40; step++) {
		struct rc_plan pf, pi;
		const char *apps[8];
		size_t napps = step == 0 ? 0 : flip_some(&w, apps);

		rc_plan_init(&pf);
		rc_plan_init(&pi);
		full_round(&w, &full, now, &pf);
		if (step == 0 || now >= inc.next_change) {
			full_round(&w, &inc, now, &pi);
		} else {
			patch_round(&w, &inc, now, apps, napps, &pi);
			patched++;
		}
		assert_plans_equal(&pf, &pi);
		assert_tables_equal(&full.kernel, &inc.kernel);
		assert_states_equal(&full.st, &inc.st);
		rc_plan_free(&pf);
		rc_plan_free(&pi);
		now += rnd(4) == 0 ? 1 + rnd(DRAIN_MS) : rnd(500);
	}
	path_free(&full);
	path_free(&inc);
	apps_set_free(&w.set);
	return patched;
}

static void test_random_health_changes(void **state)
{
	size_t patched = 0;

	(void)state;
	for (uint32_t seed = 1; seed <= 300; seed++)
		patched += run_world(seed);
	/* The property is only worth something if most rounds took the
	 * incremental path. */
	assert_true(patched > 300 * 20);
}

/* ---- refusals: the caller falls back to the whole table ---- */

static void add_svc(struct lb_table *t, const char *addr, uint32_t weight)
{
	struct lb_key k = {.port = 80, .protocol = IPPROTO_TCP};
	struct lb_dest d = {.port = 8080, .weight = weight};
	struct lb_service *s;

	assert_int_equal(lb_addr_parse(addr, &k.addr), 0);
	assert_int_equal(lb_addr_parse("10.1.0.1", &d.addr), 0);
	s = lb_table_add_service(t, &k);
	assert_non_null(s);
	assert_int_equal(lb_service_add_dest(s, &d), 0);
}

static void test_service_not_remembered(void **state)
{
	struct lb_table kernel, part;
	struct rc_plan plan;
	char err[256];

	(void)state;
	lb_table_init(&kernel);
	lb_table_init(&part);
	rc_plan_init(&plan);
	add_svc(&kernel, "10.0.0.1", 1);
	add_svc(&part, "10.0.0.1", 0);
	add_svc(&part, "10.0.0.9", 1);
	assert_int_equal(dataplane_patch_plan(&kernel, &part, &plan, err, sizeof(err)), -1);
	assert_string_equal(err, "dataplane: TCP 10.0.0.9:80 is not in the remembered table");
	assert_int_equal(plan.n, 0);
	/* Nor is the remembered table patched in part. */
	assert_int_equal(lb_table_patch(&kernel, &part), -1);
	assert_int_equal(kernel.svcs[0].dests[0].weight, 1);
	rc_plan_free(&plan);
	lb_table_free(&kernel);
	lb_table_free(&part);
}

static void test_one_weight_change(void **state)
{
	struct lb_table kernel, part;
	struct rc_plan plan;
	char err[256], op[256];

	(void)state;
	lb_table_init(&kernel);
	lb_table_init(&part);
	rc_plan_init(&plan);
	add_svc(&kernel, "10.0.0.2", 1);
	add_svc(&kernel, "10.0.0.1", 1);
	lb_table_sort(&kernel);
	add_svc(&part, "10.0.0.2", 0);
	assert_int_equal(dataplane_patch_plan(&kernel, &part, &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.n, 1);
	assert_string_equal(rc_op_format(&plan.ops[0], op, sizeof(op)),
	                    "edit dest TCP 10.0.0.2:80 -> 10.1.0.1:8080 weight 0 masq");
	assert_int_equal(plan.ops[0].old_weight, 1);
	assert_int_equal(lb_table_patch(&kernel, &part), 0);
	assert_int_equal(kernel.svcs[1].dests[0].weight, 0);
	assert_int_equal(kernel.svcs[0].dests[0].weight, 1);
	rc_plan_free(&plan);
	lb_table_free(&kernel);
	lb_table_free(&part);
}

/* The part is read-only to the plan (one contract for every round): a
 * caller that keeps it, as the daemon keeps its last desired table, finds it
 * as it handed it over, in its own order. */
static void test_part_left_as_given(void **state)
{
	struct lb_table kernel, part;
	struct rc_plan plan;
	char err[256], k[64];

	(void)state;
	lb_table_init(&kernel);
	lb_table_init(&part);
	rc_plan_init(&plan);
	add_svc(&kernel, "10.0.0.1", 1);
	add_svc(&kernel, "10.0.0.2", 1);
	add_svc(&kernel, "10.0.0.3", 1);
	add_svc(&part, "10.0.0.3", 2);
	add_svc(&part, "10.0.0.1", 0);
	assert_false(part.sorted);
	assert_int_equal(dataplane_patch_plan(&kernel, &part, &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.n, 2);
	assert_int_equal(part.nsvcs, 2);
	assert_false(part.sorted);
	assert_string_equal(lb_key_format(&part.svcs[0].key, k, sizeof(k)), "TCP 10.0.0.3:80");
	assert_string_equal(lb_key_format(&part.svcs[1].key, k, sizeof(k)), "TCP 10.0.0.1:80");
	assert_int_equal(part.svcs[0].dests[0].weight, 2);
	rc_plan_free(&plan);
	lb_table_free(&kernel);
	lb_table_free(&part);
}

/* An app the index does not know (the apps changed since): no service,
 * the state untouched. */
static void test_unknown_app(void **state)
{
	struct world w;
	struct path p;
	struct desired_state before;
	struct lb_table part;
	struct rc_plan plan;
	const char *apps[] = {"/nosuch"};
	int64_t next = INT64_MAX;
	char err[256];

	(void)state;
	rng_state = 7;
	world_init(&w);
	path_init(&p);
	rc_plan_init(&plan);
	full_round(&w, &p, 1000, &plan);
	before = p.st;
	before.entries = malloc((p.st.n ? p.st.n : 1) * sizeof(*before.entries));
	memcpy(before.entries, p.st.entries, p.st.n * sizeof(*before.entries));
	lb_table_init(&part);
	struct desired_input in = input(&w, 2000);
	assert_int_equal(
	    desired_build_services(&in, &p.ix, apps, 1, &p.st, &part, &next, err, sizeof(err)), 0);
	assert_int_equal(part.nsvcs, 0);
	assert_int_equal(next, INT64_MAX);
	assert_states_equal(&before, &p.st);
	free(before.entries);
	lb_table_free(&part);
	rc_plan_free(&plan);
	path_free(&p);
	apps_set_free(&w.set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_health_changes),
	    cmocka_unit_test(test_service_not_remembered),
	    cmocka_unit_test(test_one_weight_change),
	    cmocka_unit_test(test_part_left_as_given),
	    cmocka_unit_test(test_unknown_app),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
