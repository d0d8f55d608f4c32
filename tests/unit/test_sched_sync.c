/*
 * A reload's sync (sched_sync with a newly read apps set): the checks of
 * tasks the reload did not touch keep everything, the same scheduler task,
 * health state, timer (still armed for the same instant: same phase), next
 * due time and run in flight, and borrow the new set; a changed task starts
 * over and a new one is armed. Looked at through the scheduler's private
 * structures, at one instant: nothing here depends on timing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/apps.h"
#include "vipd/sched.h"

#include "../../src/sched/sched_int.h"
#include "vipd/apps_diff.h"

static void on_event(const struct sched_event *ev, void *arg)
{
	(void)ev;
	(*(size_t *)arg)++;
}

/* Two apps; /b's task b.1 on `b1_host`, and b.2 when `with_b2`. */
static void load(struct apps_set *set, const char *b1_host, bool with_b2)
{
	char doc[2048];
	const char *check = "\"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": "
	                    "{\"value\": \"true\"}, \"intervalSeconds\": 1, \"timeoutSeconds\": 1, "
	                    "\"gracePeriodSeconds\": 0, \"delaySeconds\": 0}]";

	snprintf(doc, sizeof(doc),
	         "{\"apps\": ["
	         "{\"id\": \"/a\", %s, \"tasks\": [{\"id\": \"a.0\", \"host\": \"127.0.0.1\"},"
	         " {\"id\": \"a.1\", \"host\": \"127.0.0.1\"}]},"
	         "{\"id\": \"/b\", %s, \"tasks\": [{\"id\": \"b.0\", \"host\": \"127.0.0.1\"},"
	         " {\"id\": \"b.1\", \"host\": \"%s\"}%s]}]}",
	         check, check, b1_host,
	         with_b2 ? ", {\"id\": \"b.2\", \"host\": \"127.0.0.1\"}" : "");
	memset(set, 0, sizeof(*set));
	assert_int_equal(apps_load_buffer(set, "apps.json", doc, strlen(doc)), 0);
	assert_int_equal(diag_count(&set->diags, DIAG_ERROR), 0);
}

static struct sched_task *find(struct sched *s, const char *app, const char *task)
{
	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct sched_task *t = s->buckets[b]; t; t = t->hnext)
			if (strcmp(t->app_id, app) == 0 && strcmp(t->task_id, task) == 0)
				return t;
	return NULL;
}

struct snapshot {
	struct sched_task *t;
	enum health_state health;
	struct health_check_state hstate;
	bool armed;
	ev_tstamp at;
	double next_due;
	struct runner_run *run;
};

static void take(struct sched *s, const char *app, const char *task, struct snapshot *sn)
{
	sn->t = find(s, app, task);
	assert_non_null(sn->t);
	assert_int_equal(sn->t->ninst, 1);
	sn->health = sn->t->health;
	sn->hstate = sn->t->hstates[0];
	sn->armed = ev_is_active(&sn->t->inst[0].timer);
	sn->at = sn->t->inst[0].timer.at; /* while armed: the instant it fires */
	sn->next_due = sn->t->inst[0].next_due;
	sn->run = sn->t->inst[0].run;
}

static void assert_kept(struct sched *s, const char *app, const char *task,
                        const struct snapshot *before, const struct apps_set *now)
{
	struct snapshot after;
	const struct app *a = apps_find(now, app);

	take(s, app, task, &after);
	assert_ptr_equal(after.t, before->t);
	assert_int_equal(after.health, before->health);
	assert_memory_equal(&after.hstate, &before->hstate, sizeof(after.hstate));
	assert_int_equal(after.armed, before->armed);
	/* No loop iteration ran in between: the same instant remains. */
	assert_true(after.at == before->at);
	assert_true(after.next_due == before->next_due);
	assert_ptr_equal(after.run, before->run);
	/* It borrows the new set, not the one about to be freed. */
	assert_ptr_equal(after.t->app, a);
	assert_true(after.t->task >= a->tasks && after.t->task < a->tasks + a->ntasks);
	assert_ptr_equal(after.t->inst[0].hc, &a->checks[0]);
}

static void stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

/* Runs the loop until every task of `set` is healthy (a loaded machine
 * spawns slowly: up to 20 s). */
static void run_until_healthy(struct ev_loop *loop, struct sched *s)
{
	static const char *const tasks[][2] = {
	    {"/a", "a.0"}, {"/a", "a.1"}, {"/b", "b.0"}, {"/b", "b.1"}};
	ev_timer stop;

	for (int i = 0; i < 200; i++) {
		size_t healthy = 0;

		for (size_t t = 0; t < 4; t++)
			healthy += sched_task_health(s, tasks[t][0], tasks[t][1]) == HEALTH_HEALTHY;
		if (healthy == 4)
			return;
		ev_timer_init(&stop, stop_cb, 0.1, 0);
		ev_timer_start(loop, &stop);
		ev_run(loop, 0);
		ev_timer_stop(loop, &stop);
	}
	fail_msg("the tasks did not all turn healthy in 20 s");
}

static bool only_b(void *ctx, const char *app_id)
{
	(void)ctx;
	return strcmp(app_id, "/b") == 0;
}

enum reload_mode {
	RELOAD_UNTOLD,   /* sched_sync compares every task */
	RELOAD_TOLD,     /* sched_sync_changed: the reload says which apps changed */
	RELOAD_IN_PLACE, /* and the new set took the unchanged apps' objects */
};

/* What a cached directory read gives: /a copied from an unchanged file
 * (flagged against `old`'s read), /b parsed again; then the new set takes
 * old's /a, at its address, as the daemon does before syncing. */
static void keep_unchanged_a(struct apps_set *old, struct apps_set *fresh)
{
	const struct app *a_before = apps_find(old, "/a");
	const struct task *tasks_before = a_before->tasks;

	old->read_id = 41;
	fresh->read_id = 42;
	fresh->reused_from = 41;
	fresh->nreused = fresh->napps;
	fresh->reused = calloc(fresh->napps, sizeof(*fresh->reused));
	assert_non_null(fresh->reused);
	fresh->reused[apps_find(fresh, "/a") - fresh->apps] = true;
	assert_true(apps_keep_unchanged(old, fresh, only_b, NULL));
	assert_ptr_equal(apps_find(fresh, "/a"), a_before);
	assert_ptr_equal(apps_find(fresh, "/a")->tasks, tasks_before);
	assert_string_equal(apps_find(fresh, "/b")->tasks[1].host, "127.0.0.2");
	assert_string_equal(apps_find(old, "/b")->tasks[1].host, "127.0.0.1");
}

static void reload_keeps_untouched_checks(enum reload_mode mode)
{
	static const struct runner_settings rs = {.native_curl = true};
	struct ev_loop *loop = ev_default_loop(0);
	struct exec_settings es = {0};
	struct sched_settings ss = {.interval_scale = 1.0};
	struct apps_set first, reloaded;
	struct snapshot a0, a1, b0, b1;
	struct sched_stats st;
	size_t events = 0;
	char err[256];
	struct exec_ctx *ctx = exec_ctx_new(loop, &es, err, sizeof(err));
	struct sched *s;

	assert_non_null(ctx);
	s = sched_new(loop, ctx, &rs, &ss, on_event, &events);
	assert_non_null(s);
	load(&first, "127.0.0.1", false);
	sched_sync(s, &first);
	run_until_healthy(loop, s);
	take(s, "/a", "a.0", &a0);
	take(s, "/a", "a.1", &a1);
	take(s, "/b", "b.0", &b0);
	take(s, "/b", "b.1", &b1);
	assert_int_equal(a0.health, HEALTH_HEALTHY);
	assert_true(a0.armed);

	/* The reload: b.1 moved to another host, b.2 is new, the rest as it was. */
	load(&reloaded, "127.0.0.2", true);
	if (mode == RELOAD_IN_PLACE) {
		keep_unchanged_a(&first, &reloaded);
		sched_sync_changed_in_place(s, &reloaded, &first, only_b, NULL);
	} else if (mode == RELOAD_TOLD) {
		sched_sync_changed(s, &reloaded, &first, only_b, NULL);
	} else {
		sched_sync(s, &reloaded);
	}
	apps_set_free(&first);
	assert_kept(s, "/a", "a.0", &a0, &reloaded);
	assert_kept(s, "/a", "a.1", &a1, &reloaded);
	assert_kept(s, "/b", "b.0", &b0, &reloaded);
	/* The changed task starts over: its health unknown until checked. */
	assert_int_equal(sched_task_health(s, "/b", "b.1"), HEALTH_UNKNOWN);
	assert_int_equal(sched_task_health(s, "/b", "b.2"), HEALTH_UNKNOWN);
	assert_non_null(find(s, "/b", "b.2"));
	sched_get_stats(s, &st);
	assert_int_equal(st.tasks, 5);
	assert_int_equal(st.instances, 5);

	sched_free(s);
	exec_ctx_free(ctx);
	apps_set_free(&reloaded);
}

static void test_reload_keeps_untouched_checks(void **state)
{
	(void)state;
	reload_keeps_untouched_checks(RELOAD_UNTOLD);
}

static void test_reload_told_what_changed(void **state)
{
	(void)state;
	reload_keeps_untouched_checks(RELOAD_TOLD);
}

/* The unchanged app's tasks are not touched, and still borrow a live app
 * (ASan would see the freed one) equal to the new definition. */
static void test_reload_keeps_unchanged_objects(void **state)
{
	(void)state;
	reload_keeps_untouched_checks(RELOAD_IN_PLACE);
}

/* Apps without checks, many tasks: the maps grow past their first size. */
static void load_many(struct apps_set *set, size_t ntasks, uint32_t b_port)
{
	size_t cap = 256 + ntasks * 64 * 2, off = 0;
	char *doc = malloc(cap);

	off += (size_t)snprintf(doc + off, cap - off, "[");
	for (int app = 0; app < 2; app++) {
		off += (size_t)snprintf(doc + off, cap - off, "%s{\"id\": \"/%c\", \"tasks\": [",
		                        app ? ", " : "", app ? 'b' : 'a');
		for (size_t i = 0; i < ntasks; i++)
			off += (size_t)snprintf(
			    doc + off, cap - off,
			    "%s{\"id\": \"%c.%zu\", \"host\": \"127.0.0.1\", \"ports\": [%u]}",
			    i ? ", " : "", app ? 'b' : 'a', i, app ? b_port : 1000u);
		off += (size_t)snprintf(doc + off, cap - off, "]}");
	}
	snprintf(doc + off, cap - off, "]");
	memset(set, 0, sizeof(*set));
	assert_int_equal(apps_load_buffer(set, "apps.json", doc, strlen(doc)), 0);
	assert_int_equal(diag_count(&set->diags, DIAG_ERROR), 0);
	free(doc);
}

/* 2 x 600 tasks (the maps grow from 256 buckets): after a reload that
 * changed /b, every task of /a is the same scheduler task, re-pointed at
 * the new set at its own place; /b's tasks are new. */
static void test_reload_repoints_every_task(void **state)
{
	static const struct runner_settings rs = {.native_curl = true};
	struct ev_loop *loop = ev_default_loop(0);
	struct exec_settings es = {0};
	struct sched_settings ss = {.interval_scale = 1.0};
	struct apps_set first, reloaded;
	struct sched_task *before[600];
	struct sched_stats st;
	size_t events = 0;
	char err[256], id[16];
	struct exec_ctx *ctx = exec_ctx_new(loop, &es, err, sizeof(err));
	struct sched *s;

	(void)state;
	assert_non_null(ctx);
	s = sched_new(loop, ctx, &rs, &ss, on_event, &events);
	assert_non_null(s);
	load_many(&first, 600, 2000);
	sched_sync(s, &first);
	for (size_t i = 0; i < 600; i++) {
		snprintf(id, sizeof(id), "a.%zu", i);
		before[i] = find(s, "/a", id);
		assert_non_null(before[i]);
	}
	load_many(&reloaded, 600, 2001);
	sched_sync_changed(s, &reloaded, &first, only_b, NULL);
	apps_set_free(&first);
	const struct app *a = apps_find(&reloaded, "/a");

	for (size_t i = 0; i < 600; i++) {
		snprintf(id, sizeof(id), "a.%zu", i);
		assert_ptr_equal(find(s, "/a", id), before[i]);
		assert_ptr_equal(before[i]->app, a);
		assert_ptr_equal(before[i]->task, &a->tasks[i]);
	}
	sched_get_stats(s, &st);
	assert_int_equal(st.tasks, 1200);
	sched_free(s);
	exec_ctx_free(ctx);
	apps_set_free(&reloaded);
}

/* A Marathon status event changes one app's tasks in place (the array may
 * move): sched_sync_app syncs that app alone; b.1 killed is cancelled, the
 * started b.3 armed, b.0 kept and re-pointed, /a not touched at all. */
static void test_event_syncs_one_app(void **state)
{
	static const struct runner_settings rs = {.native_curl = true};
	struct ev_loop *loop = ev_default_loop(0);
	struct exec_settings es = {0};
	struct sched_settings ss = {.interval_scale = 1.0};
	struct apps_set set;
	struct snapshot a0, a1, b0;
	struct sched_stats st;
	size_t events = 0;
	char err[256];
	struct exec_ctx *ctx = exec_ctx_new(loop, &es, err, sizeof(err));
	struct sched *s;
	struct app *b;

	(void)state;
	assert_non_null(ctx);
	s = sched_new(loop, ctx, &rs, &ss, on_event, &events);
	assert_non_null(s);
	load(&set, "127.0.0.1", false);
	sched_sync(s, &set);
	run_until_healthy(loop, s);
	take(s, "/a", "a.0", &a0);
	take(s, "/a", "a.1", &a1);
	take(s, "/b", "b.0", &b0);

	b = (struct app *)apps_find(&set, "/b");
	b->tasks[1].state = TASK_STATE_KILLED;
	b->tasks = realloc(b->tasks, (b->ntasks + 1) * sizeof(*b->tasks));
	assert_non_null(b->tasks);
	b->tasks[b->ntasks++] = (struct task){
	    .id = strdup("b.3"), .host = strdup("127.0.0.1"), .state = TASK_STATE_RUNNING};
	sched_sync_app(s, b, "/b", "b.1");
	assert_kept(s, "/a", "a.0", &a0, &set);
	assert_kept(s, "/a", "a.1", &a1, &set);
	assert_kept(s, "/b", "b.0", &b0, &set);
	assert_null(find(s, "/b", "b.1"));
	assert_non_null(find(s, "/b", "b.3"));
	assert_int_equal(sched_task_health(s, "/b", "b.3"), HEALTH_UNKNOWN);
	sched_get_stats(s, &st);
	assert_int_equal(st.tasks, 4);
	assert_int_equal(st.instances, 4);

	sched_free(s);
	exec_ctx_free(ctx);
	apps_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reload_keeps_untouched_checks),
	    cmocka_unit_test(test_reload_told_what_changed),
	    cmocka_unit_test(test_reload_keeps_unchanged_objects),
	    cmocka_unit_test(test_event_syncs_one_app),
	    cmocka_unit_test(test_reload_repoints_every_task),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
