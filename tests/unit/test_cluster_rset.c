/* The other nodes' backends handed to the desired table by VIP
 * (desired_input.remote_vips, kept by cluster_rset): after random changes
 * of remote VIPs (backends in both families, a named VIP only other nodes
 * use appearing and going), the grouped input gives the table and state the
 * same backends give as a flat list, and the round that rebuilds only the
 * changed VIPs' services (desired_build_changed) gives the whole build's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "vipd/apps.h"
#include "vipd/desired.h"
#include "patch_world.h"

#define STEPS 400
#define MAXB 6 /* backends per VIP */

/* One app of this node's feeding /a:80; the others' VIPs below. */
static const char apps_json[] =
    "{\"id\": \"/loc\", \"portDefinitions\": [{\"port\": 0, \"labels\": "
    "{\"VIP_0\": \"/a:80\"}}], \"tasks\": [{\"id\": \"loc.1\", \"host\": \"h1\", "
    "\"ports\": [31000]}]}";
static const char *pool[] = {"/a:80", "/b:80", "/c:443", "10.0.0.9:8080", "fd00::9:8080"};
#define NPOOL (sizeof(pool) / sizeof(*pool))

struct world {
	struct desired_remote b[NPOOL][MAXB]; /* each VIP's backends on other nodes */
	size_t n[NPOOL];
	struct desired_remote flat[NPOOL * MAXB];
	size_t nflat;
	struct desired_remote_vip groups[NPOOL];
	size_t ngroups;
};

static bool on_h1(void *ctx, const struct task *t)
{
	(void)ctx;
	return strcmp(t->host, "h1") == 0;
}

/* VIP v's backends drawn again: 0 to MAXB of a small pool of addresses. */
static void vip_draw(struct world *w, size_t v)
{
	char err[256], addr[32];

	w->n[v] = (size_t)rand() % (MAXB + 1);
	for (size_t i = 0; i < w->n[v]; i++) {
		struct desired_remote *r = &w->b[v][i];
		int host = 1 + rand() % 4;

		memset(r, 0, sizeof(*r));
		r->protocol = IPPROTO_TCP;
		assert_int_equal(vip_parse(pool[v], &r->vip, err, sizeof(err)), 0);
		if (rand() % 3 == 0)
			snprintf(addr, sizeof(addr), "fd00::2:%d", host);
		else
			snprintf(addr, sizeof(addr), "10.2.0.%d", host);
		assert_int_equal(lb_addr_parse(addr, &r->addr), 0);
		r->port = (uint16_t)(32000 + i); /* each (address, port) once per VIP */
		r->weight = 1 + (uint32_t)(rand() % 3);
	}
}

/* The same backends as a flat list and as groups (the grouped ones in
 * reverse: the build takes them in any order). */
static void world_inputs(struct world *w)
{
	w->nflat = 0;
	w->ngroups = 0;
	for (size_t v = 0; v < NPOOL; v++) {
		for (size_t i = 0; i < w->n[v]; i++)
			w->flat[w->nflat++] = w->b[v][i];
		if (w->n[NPOOL - 1 - v] > 0)
			w->groups[w->ngroups++] =
			    (struct desired_remote_vip){IPPROTO_TCP, w->b[NPOOL - 1 - v][0].vip,
			                                w->b[NPOOL - 1 - v], w->n[NPOOL - 1 - v]};
	}
}

static void assert_tables_equal(const struct lb_table *a, const struct lb_table *b, int step)
{
	if (a->nsvcs != b->nsvcs)
		fail_msg("step %d: %zu services, the whole build has %zu", step, a->nsvcs,
		         b->nsvcs);
	for (size_t i = 0; i < a->nsvcs; i++) {
		const struct lb_service *x = &a->svcs[i], *y = &b->svcs[i];

		assert_int_equal(lb_key_cmp(&x->key, &y->key), 0);
		assert_int_equal(x->ndests, y->ndests);
		for (size_t k = 0; k < x->ndests; k++) {
			assert_int_equal(lb_addr_cmp(&x->dests[k].addr, &y->dests[k].addr), 0);
			assert_int_equal(x->dests[k].port, y->dests[k].port);
			assert_int_equal(x->dests[k].weight, y->dests[k].weight);
		}
	}
}

struct run {
	struct desired_state st;
	struct desired_index ix;
	struct lb_table t;
};

static void run_init(struct run *r)
{
	desired_state_init(&r->st);
	desired_index_init(&r->ix);
	lb_table_init(&r->t);
}

static void run_free(struct run *r)
{
	desired_state_free(&r->st);
	desired_index_free(&r->ix);
	lb_table_free(&r->t);
}

static void whole(const struct desired_input *in, struct run *r)
{
	struct diag_list diags = {0};
	char err[256];

	lb_table_free(&r->t);
	lb_table_init(&r->t);
	assert_int_equal(
	    desired_build_indexed(in, &r->st, &r->t, &diags, NULL, &r->ix, err, sizeof(err)), 0);
	diag_list_free(&diags);
}

/* The changed VIP's services only, spliced into the last table; a named
 * VIP appearing or going is the allocation's: a whole build. Whether it
 * was a partial build. */
static bool partial(const struct desired_input *in, const struct desired_vip *vip, struct run *r)
{
	struct lb_table part;
	struct lb_keyset targets;
	int64_t next = INT64_MAX;
	char err[256];
	int rc;

	lb_table_init(&part);
	lb_keyset_init(&targets);
	rc = desired_build_changed(in, in->apps, NULL, 0, vip, 1, &r->ix, &r->st, &part, &targets,
	                           NULL, &next, err, sizeof(err));
	assert_true(rc >= 0);
	if (rc == 0)
		assert_int_equal(desired_table_splice(&r->t, &targets, &part), 0);
	else
		whole(in, r);
	lb_table_free(&part);
	lb_keyset_free(&targets);
	return rc == 0;
}

static void test_grouped_and_partial_equal_whole(void **state)
{
	struct apps_set set = {0};
	struct world w;
	struct run flat, grouped, inc;
	struct desired_input in;
	size_t partial_rounds = 0, services_max = 0;

	(void)state;
	srand(23);
	memset(&w, 0, sizeof(w));
	assert_int_equal(apps_load_buffer(&set, "apps.json", apps_json, strlen(apps_json)), 0);
	run_init(&flat);
	run_init(&grouped);
	run_init(&inc);
	in = (struct desired_input){
	    .apps = &set, .drain_ms = 60000, .now_ms = 1000, .task_local = on_h1};
	for (int step = 0; step < STEPS; step++) {
		size_t v = (size_t)rand() % NPOOL;
		struct desired_vip changed = {IPPROTO_TCP, {0}};
		char err[256];

		vip_draw(&w, v);
		world_inputs(&w);
		assert_int_equal(vip_parse(pool[v], &changed.vip, err, sizeof(err)), 0);
		in.remote = w.nflat ? w.flat : NULL;
		in.nremote = w.nflat;
		in.remote_vips = NULL;
		in.nremote_vips = 0;
		whole(&in, &flat);
		in.remote = NULL;
		in.nremote = 0;
		in.remote_vips = w.ngroups ? w.groups : NULL;
		in.nremote_vips = w.ngroups;
		whole(&in, &grouped);
		assert_tables_equal(&grouped.t, &flat.t, step);
		pw_assert_states_equal(&grouped.st, &flat.st);
		if (step == 0)
			whole(&in, &inc);
		else
			partial_rounds += partial(&in, &changed, &inc);
		assert_tables_equal(&inc.t, &flat.t, step);
		pw_assert_states_equal(&inc.st, &flat.st);
		services_max = flat.t.nsvcs > services_max ? flat.t.nsvcs : services_max;
	}
	/* most rounds were partial ones, over tables of several services */
	assert_true(partial_rounds > STEPS / 2);
	assert_true(services_max >= 4);
	run_free(&flat);
	run_free(&grouped);
	run_free(&inc);
	apps_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grouped_and_partial_equal_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
