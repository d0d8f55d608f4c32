/* The weight a node publishes for its own backend (src/cluster/cluster_local.c):
 * the one its own table gives it, a slow-start step included, so that the
 * other nodes program the same weight; the labels' weight while it is out
 * of rotation. */
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
#include "vipd/cluster_local.h"

/* /web:80, weight 10, 100 s of slow start, one task with a TCP check. */
static const char apps_json[] =
    "{\"id\": \"/web\", \"portDefinitions\": [{\"port\": 0, \"labels\": {\"VIP_0\": "
    "\"/web:80\", \"VIPD_WEIGHT\": \"10\", \"VIPD_SLOW_START_SECONDS\": \"100\"}}], "
    "\"healthChecks\": [{\"protocol\": \"TCP\", \"portIndex\": 0}], "
    "\"tasks\": [{\"id\": \"web.1\", \"host\": \"10.1.0.1\", \"ports\": [31000]}]}";

static enum desired_health health_now;

static enum desired_health health_of(void *ctx, const char *app_id, const char *task_id)
{
	(void)ctx;
	(void)app_id;
	(void)task_id;
	return health_now;
}

struct node {
	struct apps_set set;
	struct desired_input in;
	struct desired_state st;
	struct desired_index ix;
	uint32_t programmed; /* the table's weight for the task; 0: none */
};

/* A round at now_ms: the table built, and the task's weight in it. */
static void round_at(struct node *n, int64_t now_ms, enum desired_health h)
{
	struct diag_list diags = {0};
	struct lb_table t;
	char err[256];

	health_now = h;
	n->in.now_ms = now_ms;
	lb_table_init(&t);
	assert_int_equal(
	    desired_build_indexed(&n->in, &n->st, &t, &diags, NULL, &n->ix, err, sizeof(err)), 0);
	assert_int_equal(t.nsvcs, 1);
	assert_int_equal(t.svcs[0].ndests, 1);
	n->programmed = t.svcs[0].dests[0].weight;
	lb_table_free(&t);
	diag_list_free(&diags);
}

/* What the node publishes for its task: its local backend as the daemon
 * lists it (the labels' weight), with cluster_local_weight's weight. */
static uint32_t published(const struct node *n)
{
	struct desired_local_backend *l;
	struct cluster_backend b;
	size_t nl;
	uint32_t w;

	assert_int_equal(desired_local_backends(&n->in, &l, &nl), 0);
	assert_int_equal(nl, 1);
	assert_int_equal(l[0].weight, 10);
	memset(&b, 0, sizeof(b));
	b.vip = l[0].vip;
	b.protocol = l[0].protocol;
	b.addr = l[0].addr;
	b.port = l[0].port;
	b.weight = l[0].weight;
	w = cluster_local_weight(&b, &n->st, &n->ix.alloc);
	free(l);
	return w;
}

static void test_slow_start_step_published(void **state)
{
	struct node n;
	uint32_t mid;

	(void)state;
	memset(&n, 0, sizeof(n));
	assert_int_equal(apps_load_buffer(&n.set, "apps.json", apps_json, strlen(apps_json)), 0);
	n.in = (struct desired_input){
	    .apps = &n.set, .health = health_of, .drain_ms = 30000, .now_ms = 1000};
	desired_state_init(&n.st);
	desired_index_init(&n.ix);

	/* in rotation from the start: the labels' weight */
	round_at(&n, 1000, DESIRED_HEALTH_HEALTHY);
	assert_int_equal(n.programmed, 10);
	assert_int_equal(published(&n), 10);
	/* failing: drained at weight 0 here, published as the labels say (its
	 * health tells the others to leave it out) */
	round_at(&n, 2000, DESIRED_HEALTH_UNHEALTHY);
	assert_int_equal(n.programmed, 0);
	assert_int_equal(published(&n), 10);
	/* recovered: slow start from a low step; half-way: half-way up */
	round_at(&n, 3000, DESIRED_HEALTH_HEALTHY);
	assert_true(n.programmed < 10);
	assert_int_equal(published(&n), n.programmed);
	round_at(&n, 53000, DESIRED_HEALTH_HEALTHY);
	mid = n.programmed;
	assert_true(mid > 1 && mid < 10);
	assert_int_equal(published(&n), mid);
	/* the ramp over: the labels' weight again */
	round_at(&n, 104000, DESIRED_HEALTH_HEALTHY);
	assert_int_equal(n.programmed, 10);
	assert_int_equal(published(&n), 10);

	desired_state_free(&n.st);
	desired_index_free(&n.ix);
	apps_set_free(&n.set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slow_start_step_published),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
