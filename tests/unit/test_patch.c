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
#include "patch_world.h"

/* ---- a random world ---- */

static void random_apps(struct apps_set *set)
{
	set->napps = 1 + pw_rnd(6);
	set->apps = calloc(set->napps, sizeof(*set->apps));
	for (size_t ai = 0; ai < set->napps; ai++) {
		struct app *a = &set->apps[ai];

		pw_random_app(a, pw_fmt("/app%zu", ai), pw_fmt("/apps/%zu", ai), pw_random_vip);
		for (size_t t = 0; t < a->ntasks; t++)
			pw_random_task(a, ai, t);
	}
}

/* ---- health ---- */

struct world {
	struct apps_set set;
	struct pw_tasks tasks;
};

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	random_apps(&w->set);
	for (size_t a = 0; a < w->set.napps; a++)
		pw_tasks_add_app(&w->tasks, &w->set.apps[a]);
}

/* ---- the two paths ---- */

static struct desired_input input(struct world *w, int64_t now)
{
	return (struct desired_input){.apps = &w->set,
	                              .health = pw_health_of,
	                              .health_ctx = &w->tasks,
	                              .drain_ms = PW_DRAIN_MS,
	                              .now_ms = now};
}

/* Today's quick round: the whole table, planned against the whole
 * remembered table. */
static void full_round(struct world *w, struct pw_path *p, int64_t now, struct rc_plan *plan)
{
	struct desired_input in = input(w, now);

	pw_full_round(&in, p, plan);
}
/* The incremental round for the apps given. */
static void patch_round(struct world *w, struct pw_path *p, int64_t now, const char *const *apps,
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

/* Flips 1..3 tasks' health; their apps, once each, into apps. */
static size_t flip_some(struct world *w, const char **apps)
{
	size_t n = 0, flips = 1 + pw_rnd(3);

	for (size_t f = 0; f < flips && w->tasks.ntasks > 0; f++) {
		size_t t = pw_rnd((uint32_t)w->tasks.ntasks);
		bool seen = false;

		w->tasks.health[t] =
		    (enum desired_health)((w->tasks.health[t] + 1 + pw_rnd(2)) % 3);
		for (size_t i = 0; i < n; i++)
			seen = seen || strcmp(apps[i], w->tasks.app_of[t]) == 0;
		if (!seen)
			apps[n++] = w->tasks.app_of[t];
	}
	return n;
}

/* One world: both paths from the same first round, then a sequence of
 * health changes; the incremental path falls back to the whole table when
 * its timer (a drain deadline, a slow-start step) is due, as the engine's. */
static size_t run_world(uint32_t seed)
{
	struct world w;
	struct pw_path full, inc;
	int64_t now = 1000000;
	size_t patched = 0;

	pw_rng_state = seed;
	world_init(&w);
	pw_path_init(&full);
	pw_path_init(&inc);
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
		pw_assert_plans_equal(&pf, &pi);
		pw_assert_tables_equal(&full.kernel, &inc.kernel);
		pw_assert_states_equal(&full.st, &inc.st);
		rc_plan_free(&pf);
		rc_plan_free(&pi);
		now += pw_rnd(4) == 0 ? 1 + pw_rnd(PW_DRAIN_MS) : pw_rnd(500);
	}
	pw_path_free(&full);
	pw_path_free(&inc);
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
	struct pw_path p;
	struct desired_state before;
	struct lb_table part;
	struct rc_plan plan;
	const char *apps[] = {"/nosuch"};
	int64_t next = INT64_MAX;
	char err[256];

	(void)state;
	pw_rng_state = 7;
	world_init(&w);
	pw_path_init(&p);
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
	pw_assert_states_equal(&before, &p.st);
	free(before.entries);
	lb_table_free(&part);
	rc_plan_free(&plan);
	pw_path_free(&p);
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
