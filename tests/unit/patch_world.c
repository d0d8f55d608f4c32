/* The random worlds of the incremental-round tests (test_patch.c,
 * test_reload_patch.c): one generator, the app pieces both draw alike, the
 * whole-table round and the comparisons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "patch_world.h"

uint32_t pw_rng_state;

uint32_t pw_rnd(uint32_t n)
{
	pw_rng_state = pw_rng_state * 1103515245u + 12345u;
	return (pw_rng_state >> 8) % n;
}

char *pw_fmt(const char *f, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return strdup(buf);
}

void pw_add_label(struct label **labels, size_t *n, char *k, char *v)
{
	*labels = realloc(*labels, (*n + 1) * sizeof(**labels));
	(*labels)[(*n)++] = (struct label){.key = k, .value = v};
}

void pw_random_port(struct app *a, size_t i, char *(*random_vip)(void))
{
	struct port_def *p = &a->ports[i];

	p->port = 8000 + (uint32_t)i;
	p->protocols = pw_rnd(4) == 0 ? PORT_PROTO_TCP | PORT_PROTO_UDP : PORT_PROTO_TCP;
	pw_add_label(&p->labels, &p->nlabels, strdup("VIP_0"), random_vip());
	if (pw_rnd(4) == 0)
		pw_add_label(&p->labels, &p->nlabels, strdup("VIPD_SLOW_START_SECONDS"),
		             pw_fmt("%u", 5 + pw_rnd(20)));
	if (pw_rnd(4) == 0)
		pw_add_label(&p->labels, &p->nlabels, strdup("VIPD_ALL_UNHEALTHY"), strdup("keep"));
	if (pw_rnd(4) == 0)
		pw_add_label(&p->labels, &p->nlabels, strdup("VIPD_WEIGHT"),
		             pw_fmt("%u", 1 + pw_rnd(5)));
}

void pw_random_app(struct app *a, char *id, char *json_path, char *(*random_vip)(void))
{
	a->id = id;
	a->source = strdup("apps.json");
	a->json_path = json_path;
	a->nchecks = pw_rnd(6) == 0 ? 0 : 1;
	a->checks = calloc(1, sizeof(*a->checks));
	a->nports = 1 + pw_rnd(3);
	a->ports = calloc(a->nports, sizeof(*a->ports));
	for (size_t p = 0; p < a->nports; p++)
		pw_random_port(a, p, random_vip);
	a->ntasks = pw_rnd(6);
	a->tasks = calloc(a->ntasks ? a->ntasks : 1, sizeof(*a->tasks));
}

void pw_path_init(struct pw_path *p)
{
	desired_state_init(&p->st);
	lb_table_init(&p->kernel);
	desired_index_init(&p->ix);
	p->next_change = INT64_MAX;
}

void pw_path_free(struct pw_path *p)
{
	desired_state_free(&p->st);
	lb_table_free(&p->kernel);
	desired_index_free(&p->ix);
}

void pw_full_round(const struct desired_input *in, struct pw_path *p, struct rc_plan *plan)
{
	struct lb_table table;
	struct lb_keyset owned;
	struct diag_list diags = {0};
	char err[256];

	lb_table_init(&table);
	lb_keyset_init(&owned);
	assert_int_equal(desired_build_indexed(in, &p->st, &table, &diags, &p->next_change, &p->ix,
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

void pw_assert_tables_equal(const struct lb_table *a, const struct lb_table *b)
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

void pw_assert_plans_equal(const struct rc_plan *a, const struct rc_plan *b)
{
	char x[256], y[256];

	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(rc_op_format(&a->ops[i], x, sizeof(x)),
		                    rc_op_format(&b->ops[i], y, sizeof(y)));
		assert_int_equal(a->ops[i].old_weight, b->ops[i].old_weight);
	}
}

/* Field by field: an entry's padding is not part of it (a compound
 * literal leaves it unset, and compilers differ in what it then holds). */
void pw_assert_entries_equal(const struct desired_entry *a, const struct desired_entry *b)
{
	assert_int_equal(lb_key_cmp(&a->svc, &b->svc), 0);
	assert_int_equal(lb_addr_cmp(&a->addr, &b->addr), 0);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->phase, b->phase);
	assert_int_equal(a->drain_deadline_ms, b->drain_deadline_ms);
	assert_int_equal(a->ramp_start_ms, b->ramp_start_ms);
	assert_int_equal(a->next_change_ms, b->next_change_ms);
	assert_int_equal(a->weight, b->weight);
	assert_int_equal(a->adopted, b->adopted);
}

void pw_assert_states_equal(const struct desired_state *a, const struct desired_state *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		pw_assert_entries_equal(&a->entries[i], &b->entries[i]);
}

void pw_tasks_add_app(struct pw_tasks *t, const struct app *a)
{
	for (size_t i = 0; i < a->ntasks && t->ntasks < PW_MAX_TASKS; i++) {
		t->task[t->ntasks] = a->tasks[i].id;
		t->app_of[t->ntasks] = a->id;
		t->health[t->ntasks++] = (enum desired_health)pw_rnd(3);
	}
}

enum desired_health pw_health_of(void *ctx, const char *app_id, const char *task_id)
{
	const struct pw_tasks *t = ctx;

	(void)app_id;
	for (size_t i = 0; i < t->ntasks; i++)
		if (strcmp(t->task[i], task_id) == 0)
			return t->health[i];
	return DESIRED_HEALTH_UNKNOWN;
}

void pw_plan_targets(struct pw_path *p, const struct lb_keyset *targets,
                     const struct lb_table *part, struct rc_plan *plan)
{
	struct rc_planner pl;
	char err[256];

	rc_planner_init(&pl);
	for (size_t i = 0; i < targets->n; i++)
		assert_int_equal(
		    rc_planner_service(&pl, lb_table_find(&p->kernel, &targets->keys[i]),
		                       lb_table_find(part, &targets->keys[i]), targets),
		    0);
	assert_int_equal(rc_planner_finish(&pl, plan, err, sizeof(err)), 0);
	assert_int_equal(desired_table_splice(&p->kernel, targets, part), 0);
}

char *pw_random_vip(void)
{
	switch (pw_rnd(3)) {
	case 0:
		return pw_fmt("10.0.0.%u:80", 1 + pw_rnd(4));
	case 1:
		return pw_fmt("/web%u:80", pw_rnd(3));
	}
	return pw_fmt("/db%u:5432", pw_rnd(2));
}

void pw_random_task(struct app *a, size_t ai, size_t i)
{
	struct task *t = &a->tasks[i];

	t->id = pw_fmt("app%zu.t%zu", ai, i);
	t->host =
	    pw_rnd(5) == 0 ? pw_fmt("fd00::%u", 1 + pw_rnd(6)) : pw_fmt("10.1.0.%u", 1 + pw_rnd(6));
	t->state = pw_rnd(8) == 0 ? TASK_STATE_KILLING : TASK_STATE_RUNNING;
	t->nports = a->nports;
	t->ports = calloc(a->nports, sizeof(*t->ports));
	for (size_t p = 0; p < a->nports; p++)
		t->ports[p] = 31000 + (uint32_t)(ai * 100 + i * 10 + p);
}
