/* desired_state_due: which services a timed round must rebuild (an entry's
 * drain end or slow-start step at or before now), and when the timer goes
 * next; desired_vips_add_services: those services as VIPs by address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "vipd/desired.h"

static struct lb_key key(const char *addr, uint16_t port)
{
	struct lb_key k = {.port = port, .protocol = IPPROTO_TCP};

	assert_int_equal(lb_addr_parse(addr, &k.addr), 0);
	return k;
}

static void push(struct desired_state *st, const char *svc, const char *backend,
                 enum desired_phase phase, int64_t next_change_ms)
{
	struct desired_entry *e;

	st->entries = realloc(st->entries, (st->n + 1) * sizeof(*st->entries));
	e = &st->entries[st->n++];
	memset(e, 0, sizeof(*e));
	e->svc = key(svc, 80);
	assert_int_equal(lb_addr_parse(backend, &e->addr), 0);
	e->port = 8080;
	e->phase = phase;
	e->ramp_start_ms = -1;
	e->next_change_ms = next_change_ms;
}

/* Sorted by service as a build leaves it: 10.0.0.1 has a backend draining
 * until 5000 and two in rotation (one ramping, next step at 5000 too),
 * 10.0.0.2 one ramping (next step 3000), 10.0.0.3 one out. */
static void four_services(struct desired_state *st)
{
	desired_state_init(st);
	push(st, "10.0.0.1", "10.1.0.1", DESIRED_PHASE_DRAINING, 5000);
	push(st, "10.0.0.1", "10.1.0.2", DESIRED_PHASE_IN, INT64_MAX);
	push(st, "10.0.0.1", "10.1.0.3", DESIRED_PHASE_IN, 5000);
	push(st, "10.0.0.2", "10.1.0.1", DESIRED_PHASE_IN, 3000);
	push(st, "10.0.0.3", "10.1.0.1", DESIRED_PHASE_OUT, INT64_MAX);
}

static void assert_keys(const struct lb_keyset *ks, const char *const *want, size_t n)
{
	char k[64];

	assert_int_equal(ks->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(lb_key_format(&ks->keys[i], k, sizeof(k)), want[i]);
}

static void test_nothing_due_before_the_first_deadline(void **state)
{
	struct desired_state st;
	struct lb_keyset due;
	int64_t next = 0;

	(void)state;
	four_services(&st);
	lb_keyset_init(&due);
	assert_int_equal(desired_state_due(&st, 2999, &due, &next), 0);
	assert_int_equal(due.n, 0);
	assert_true(next == 3000);
	lb_keyset_free(&due);
	desired_state_free(&st);
}

/* A deadline at now is due (the whole build moves it at now too); the
 * timer goes next at the others' earliest. */
static void test_due_at_the_deadline(void **state)
{
	const char *const want[] = {"TCP 10.0.0.2:80"};
	struct desired_state st;
	struct lb_keyset due;
	int64_t next = 0;

	(void)state;
	four_services(&st);
	lb_keyset_init(&due);
	assert_int_equal(desired_state_due(&st, 3000, &due, &next), 0);
	assert_keys(&due, want, 1);
	assert_true(next == 5000);
	lb_keyset_free(&due);
	desired_state_free(&st);
}

/* A service with several entries due is named once; with nothing left to
 * come the timer is not armed. */
static void test_each_service_once(void **state)
{
	const char *const want[] = {"TCP 10.0.0.1:80", "TCP 10.0.0.2:80"};
	struct desired_state st;
	struct lb_keyset due;
	int64_t next = 0;

	(void)state;
	four_services(&st);
	lb_keyset_init(&due);
	assert_int_equal(desired_state_due(&st, 9000, &due, &next), 0);
	assert_keys(&due, want, 2);
	assert_true(next == INT64_MAX);
	lb_keyset_free(&due);
	/* Without a keyset: the timer only. */
	next = 0;
	assert_int_equal(desired_state_due(&st, 4000, NULL, &next), 0);
	assert_true(next == 5000);
	desired_state_free(&st);
}

/* ---- through a build ---- */

static void add_label(struct port_def *p, const char *k, const char *v)
{
	p->labels = realloc(p->labels, (p->nlabels + 1) * sizeof(*p->labels));
	p->labels[p->nlabels++] = (struct label){.key = strdup(k), .value = strdup(v)};
}

/* One app with a check, VIP 10.0.0.1:80, weight 11 with a 10 s slow
 * start, and two tasks. */
static void one_app(struct apps_set *set)
{
	struct app *a;

	memset(set, 0, sizeof(*set));
	set->apps = calloc(1, sizeof(*set->apps));
	set->napps = set->cap = 1;
	a = &set->apps[0];
	a->id = strdup("/web");
	a->source = strdup("apps/web.json");
	a->json_path = strdup("/apps/0");
	a->checks = calloc(1, sizeof(*a->checks));
	a->nchecks = 1;
	a->ports = calloc(1, sizeof(*a->ports));
	a->nports = 1;
	a->ports[0].port = 8080;
	a->ports[0].protocols = PORT_PROTO_TCP;
	add_label(&a->ports[0], "VIP_0", "10.0.0.1:80");
	add_label(&a->ports[0], "VIPD_WEIGHT", "11");
	add_label(&a->ports[0], "VIPD_SLOW_START_SECONDS", "10");
	a->tasks = calloc(2, sizeof(*a->tasks));
	a->ntasks = 2;
	for (size_t i = 0; i < 2; i++) {
		struct task *t = &a->tasks[i];

		t->id = strdup(i == 0 ? "web.t1" : "web.t2");
		t->host = strdup(i == 0 ? "10.1.0.1" : "10.1.0.2");
		t->state = TASK_STATE_RUNNING;
		t->ports = calloc(1, sizeof(*t->ports));
		t->ports[0] = 31000;
		t->nports = 1;
	}
}

static enum desired_health t1_health;

static enum desired_health health_of(void *ctx, const char *app_id, const char *task_id)
{
	(void)ctx;
	(void)app_id;
	return strcmp(task_id, "web.t1") == 0 ? t1_health : DESIRED_HEALTH_HEALTHY;
}

/* A round at now; the build's timer into *next. */
static void round_at(const struct apps_set *set, struct desired_state *st, int64_t now,
                     int64_t *next)
{
	struct desired_input in = {
	    .apps = set, .health = health_of, .drain_ms = 20000, .now_ms = now};
	struct lb_table t;
	struct diag_list diags = {0};
	char err[256];

	lb_table_init(&t);
	assert_int_equal(desired_build(&in, st, &t, &diags, next, err, sizeof(err)), 0);
	lb_table_free(&t);
	diag_list_free(&diags);
}

/* A build notes each backend's own next change: the drain's end for one
 * leaving rotation, the next slow-start step for one coming back; the
 * timer desired_state_due finds is the build's. */
static void test_build_notes_each_backend(void **state)
{
	const char *const want[] = {"TCP 10.0.0.1:80"};
	struct apps_set set;
	struct desired_state st;
	struct lb_keyset due;
	int64_t next, found;

	(void)state;
	one_app(&set);
	desired_state_init(&st);
	lb_keyset_init(&due);
	t1_health = DESIRED_HEALTH_HEALTHY;
	round_at(&set, &st, 0, &next);
	assert_int_equal(st.n, 2);
	assert_true(next == INT64_MAX);
	assert_true(st.entries[0].next_change_ms == INT64_MAX);
	t1_health = DESIRED_HEALTH_UNHEALTHY; /* drains until 1000 + 20000 */
	round_at(&set, &st, 1000, &next);
	assert_int_equal(st.entries[0].phase, DESIRED_PHASE_DRAINING);
	assert_true(st.entries[0].next_change_ms == 21000);
	assert_true(st.entries[1].next_change_ms == INT64_MAX);
	assert_int_equal(desired_state_due(&st, 20999, NULL, &found), 0);
	assert_true(found == 21000 && next == 21000);
	t1_health = DESIRED_HEALTH_HEALTHY; /* ramps 1..11 over 10 s: a step a second */
	round_at(&set, &st, 2000, &next);
	assert_int_equal(st.entries[0].phase, DESIRED_PHASE_IN);
	assert_int_equal(st.entries[0].weight, 1);
	assert_true(st.entries[0].next_change_ms == 3000);
	assert_int_equal(desired_state_due(&st, 2999, &due, &found), 0);
	assert_true(due.n == 0 && found == 3000 && next == 3000);
	assert_int_equal(desired_state_due(&st, 3000, &due, &found), 0);
	assert_keys(&due, want, 1);
	assert_true(found == INT64_MAX);
	round_at(&set, &st, 3000, &next);
	assert_int_equal(st.entries[0].weight, 2);
	assert_true(st.entries[0].next_change_ms == 4000);
	lb_keyset_free(&due);
	desired_state_free(&st);
	apps_set_free(&set);
}

static void test_services_as_vips_by_address(void **state)
{
	struct lb_keyset ks;
	struct desired_vip *vips = NULL;
	size_t n = 0;
	struct lb_key k6 = key("fd00::1", 443);
	char a[64];

	(void)state;
	lb_keyset_init(&ks);
	assert_int_equal(desired_vips_add_services(&vips, &n, &ks), 0);
	assert_int_equal(n, 0);
	k6.protocol = IPPROTO_UDP;
	assert_int_equal(lb_keyset_add(&ks, &k6), 0);
	assert_int_equal(desired_vips_add_services(&vips, &n, &ks), 0);
	assert_int_equal(desired_vips_add_services(&vips, &n, &ks), 0);
	assert_int_equal(n, 2);
	assert_int_equal(vips[1].protocol, IPPROTO_UDP);
	assert_false(vips[1].vip.named);
	assert_string_equal(lb_addr_format(&vips[1].vip.addr, a, sizeof(a)), "fd00::1");
	assert_int_equal(vips[1].vip.port, 443);
	free(vips);
	lb_keyset_free(&ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nothing_due_before_the_first_deadline),
	    cmocka_unit_test(test_due_at_the_deadline),
	    cmocka_unit_test(test_each_service_once),
	    cmocka_unit_test(test_build_notes_each_backend),
	    cmocka_unit_test(test_services_as_vips_by_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
