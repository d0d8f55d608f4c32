/* The timed round (a drain deadline, a slow-start step) rebuilding only the
 * services due (desired_state_due, desired_vips_add_services, then the
 * patch round's desired_build_changed) against the whole-table round it
 * replaces. For random worlds (apps sharing VIPs, slow-start labels, health
 * flips, other nodes' backends coming, going and reweighted), with time
 * moving by small steps, by jumps and to the timer's deadline exactly, the
 * two paths must leave the same table, the same state and plan the same
 * operations, and the timer must be armed for the whole state's next
 * change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "vipd/desired.h"
#include "vipd/reconcile.h"
#include "patch_world.h"

/* ---- a random world ---- */

#define MAX_REMOTE 32

struct world {
	struct apps_set set;
	struct pw_tasks tasks;
	struct desired_remote remote[MAX_REMOTE];
	size_t nremote;
};

/* Another node's backend: of a VIP local apps use too, or of one only
 * other nodes serve (10.0.9.x). */
static void remote_add(struct world *w)
{
	struct desired_remote *r;
	char text[64], err[128];

	if (w->nremote == MAX_REMOTE)
		return;
	r = &w->remote[w->nremote++];
	memset(r, 0, sizeof(*r));
	r->protocol = IPPROTO_TCP;
	switch (pw_rnd(3)) {
	case 0:
		snprintf(text, sizeof(text), "10.0.0.%u:80", 1 + pw_rnd(4));
		break;
	case 1:
		snprintf(text, sizeof(text), "/web%u:80", pw_rnd(3));
		break;
	default:
		snprintf(text, sizeof(text), "10.0.9.%u:80", 1 + pw_rnd(3));
	}
	assert_int_equal(vip_parse(text, &r->vip, err, sizeof(err)), 0);
	r->port = (uint16_t)(32000 + pw_rnd(3));
	r->weight = 1 + pw_rnd(4);
	snprintf(text, sizeof(text), "10.2.0.%u", 1 + pw_rnd(4));
	assert_int_equal(lb_addr_parse(text, &r->addr), 0);
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->set.napps = 1 + pw_rnd(6);
	w->set.apps = calloc(w->set.napps, sizeof(*w->set.apps));
	for (size_t ai = 0; ai < w->set.napps; ai++) {
		struct app *a = &w->set.apps[ai];

		pw_random_app(a, pw_fmt("/app%zu", ai), pw_fmt("/apps/%zu", ai), pw_random_vip);
		for (size_t t = 0; t < a->ntasks; t++)
			pw_random_task(a, ai, t);
		pw_tasks_add_app(&w->tasks, a);
	}
	for (uint32_t i = pw_rnd(6); i > 0; i--)
		remote_add(w);
}

static struct desired_input input(struct world *w, int64_t now)
{
	return (struct desired_input){.apps = &w->set,
	                              .health = pw_health_of,
	                              .health_ctx = &w->tasks,
	                              .drain_ms = PW_DRAIN_MS,
	                              .now_ms = now,
	                              .remote = w->nremote ? w->remote : NULL,
	                              .nremote = w->nremote};
}

static void full_round(struct world *w, struct pw_path *p, int64_t now, struct rc_plan *plan)
{
	struct desired_input in = input(w, now);

	pw_full_round(&in, p, plan);
}

/* ---- changes, as the engine notes them ---- */

struct noted {
	const char *apps[8];
	size_t napps;
	struct desired_vip vips[4];
	size_t nvips;
};

static void note_app(struct noted *n, const char *id)
{
	for (size_t i = 0; i < n->napps; i++)
		if (strcmp(n->apps[i], id) == 0)
			return;
	n->apps[n->napps++] = id;
}

static void flip_health(struct world *w, struct noted *n)
{
	size_t t;

	if (w->tasks.ntasks == 0)
		return;
	t = pw_rnd((uint32_t)w->tasks.ntasks);
	w->tasks.health[t] = (enum desired_health)((w->tasks.health[t] + 1 + pw_rnd(2)) % 3);
	note_app(n, w->tasks.app_of[t]);
}

/* A backend added, removed (it drains) or reweighted; its VIP noted. */
static void remote_change(struct world *w, struct noted *n)
{
	uint32_t what = pw_rnd(3);
	size_t i;

	if (what == 0 || w->nremote == 0) {
		remote_add(w);
		i = w->nremote - 1;
	} else {
		i = pw_rnd((uint32_t)w->nremote);
	}
	n->vips[n->nvips++] = (struct desired_vip){w->remote[i].protocol, w->remote[i].vip};
	if (what == 1 && w->nremote > 0)
		w->remote[i] = w->remote[--w->nremote];
	else if (what == 2)
		w->remote[i].weight = 1 + (w->remote[i].weight + pw_rnd(3)) % 5;
}

/* ---- the two paths ---- */

/* The engine's patch round: the noted apps and VIPs and, when timed, the
 * services due at now; the timer lowered to the build's next change, or
 * (timed) set to the next change of the rest of the state first. 0 when
 * patched (*ndue: services due), 1 when the whole build is asked for (a
 * named VIP only other nodes use came). */
static int patch_round(struct world *w, struct pw_path *p, int64_t now, const struct noted *n,
                       bool timed, size_t *ndue, struct rc_plan *plan)
{
	struct desired_input in = input(w, now);
	struct desired_vip *vips = NULL;
	size_t nvips = n->nvips;
	struct lb_table part;
	struct lb_keyset targets, due;
	int64_t next = INT64_MAX, rest;
	char err[256];
	int rc;

	lb_table_init(&part);
	lb_keyset_init(&targets);
	lb_keyset_init(&due);
	vips = malloc(sizeof(*vips) * (nvips ? nvips : 1));
	memcpy(vips, n->vips, nvips * sizeof(*vips));
	if (timed) {
		assert_int_equal(desired_state_due(&p->st, now, &due, &rest), 0);
		assert_int_equal(desired_vips_add_services(&vips, &nvips, &due), 0);
		assert_int_equal(nvips, n->nvips + due.n);
		p->next_change = rest;
		*ndue = due.n;
	}
	rc = desired_build_changed(&in, &w->set, n->apps, n->napps, vips, nvips, &p->ix, &p->st,
	                           &part, &targets, NULL, &next, err, sizeof(err));
	assert_true(rc == 0 || rc == 1);
	if (rc == 1) {
		assert_true(strncmp(err, "named VIP /web", 14) == 0);
	} else {
		/* Every service due is rebuilt. */
		for (size_t i = 0; i < due.n; i++)
			assert_true(lb_keyset_contains(&targets, &due.keys[i]));
		pw_plan_targets(p, &targets, &part, plan);
	}
	if (rc == 0 && next < p->next_change)
		p->next_change = next;
	free(vips);
	lb_keyset_free(&due);
	lb_keyset_free(&targets);
	lb_table_free(&part);
	return rc;
}

/* ---- the property ---- */

struct counts {
	size_t timed, timed_partial, due, whole_instead, patched;
};

/* The whole build's timer is its next_change; each of its entries carries
 * its own, and the earliest of them after now is that timer. */
static void assert_timer_is_the_states(const struct pw_path *full, int64_t now)
{
	struct lb_keyset due;
	int64_t next;

	lb_keyset_init(&due);
	assert_int_equal(desired_state_due(&full->st, now, &due, &next), 0);
	assert_int_equal(due.n, 0);
	assert_true(next == full->next_change);
	lb_keyset_free(&due);
}

/* How far time moves: to the timer's deadline exactly (as the engine's
 * timer fires), a little, or up to a drain period. */
static int64_t next_now(const struct pw_path *inc, int64_t now)
{
	if (pw_rnd(3) == 0 && inc->next_change != INT64_MAX && inc->next_change > now)
		return inc->next_change;
	return now + (pw_rnd(4) == 0 ? 1 + pw_rnd(PW_DRAIN_MS) : pw_rnd(800));
}

static void run_world(uint32_t seed, struct counts *c)
{
	struct world w;
	struct pw_path full, inc;
	int64_t now = 1000000;

	pw_rng_state = seed;
	world_init(&w);
	pw_path_init(&full);
	pw_path_init(&inc);
	for (int step = 0; step < 40; step++) {
		struct rc_plan pf, pi;
		struct noted n = {0};
		bool timed = now >= inc.next_change;
		size_t ndue = 0;
		int rc = 0;

		rc_plan_init(&pf);
		rc_plan_init(&pi);
		if (step > 0 && pw_rnd(3) == 0)
			flip_health(&w, &n);
		if (step > 0 && pw_rnd(3) == 0)
			remote_change(&w, &n);
		full_round(&w, &full, now, &pf);
		assert_timer_is_the_states(&full, now);
		if (step == 0)
			full_round(&w, &inc, now, &pi);
		else if (timed || n.napps > 0 || n.nvips > 0)
			rc = patch_round(&w, &inc, now, &n, timed, &ndue, &pi);
		if (rc == 1) {
			c->whole_instead++;
			rc_plan_free(&pi);
			rc_plan_init(&pi);
			full_round(&w, &inc, now, &pi);
		} else if (step > 0 && timed) {
			c->timed++;
			c->timed_partial += ndue > 0;
			c->due += ndue;
		} else if (step > 0) {
			c->patched += n.napps > 0 || n.nvips > 0;
		}
		pw_assert_plans_equal(&pf, &pi);
		pw_assert_tables_equal(&full.kernel, &inc.kernel);
		pw_assert_states_equal(&full.st, &inc.st);
		/* Never late; exact after a timed round with nothing else. */
		assert_true(inc.next_change <= full.next_change);
		if (timed && rc == 0 && n.napps == 0 && n.nvips == 0)
			assert_true(inc.next_change == full.next_change);
		rc_plan_free(&pf);
		rc_plan_free(&pi);
		now = next_now(&inc, now);
	}
	pw_path_free(&full);
	pw_path_free(&inc);
	apps_set_free(&w.set);
}

static void test_random_timed_rounds(void **state)
{
	struct counts c = {0};

	(void)state;
	for (uint32_t seed = 1; seed <= 400; seed++)
		run_world(seed, &c);
	print_message("timed rounds %zu (%zu with services due, %zu due in all), patched %zu, "
	              "whole instead %zu\n",
	              c.timed, c.timed_partial, c.due, c.patched, c.whole_instead);
	/* Worth something only if many timed rounds had services due. */
	assert_true(c.timed_partial > 400 * 3);
	assert_true(c.patched > 400 * 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_timed_rounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
