/*
 * The scheduler on a real libev loop with real check processes: spread of
 * first runs, the in-flight limit and its wait queue, syncing tasks in and
 * out without disturbing the others, and health transitions reaching the
 * owner. Intervals are scaled down (interval_scale) to keep the test short.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vipd/apps.h"
#include "vipd/sched.h"

struct recorder {
	struct exec_ctx *ctx;
	size_t events;
	size_t max_running;
	size_t task_unhealthy, task_healthy;
	double first_at[4096];
	size_t nfirst;
	char seen_tasks[64][64];
	size_t nseen;
	size_t overruns;
	double overrun_latency_ms; /* of the first run cancelled at its next interval */
};

static void on_event(const struct sched_event *ev, void *arg)
{
	struct recorder *r = arg;
	size_t running = exec_ctx_running(r->ctx);

	r->events++;
	if (running > r->max_running)
		r->max_running = running;
	if (ev->task_changed && ev->task_tr.to == HEALTH_UNHEALTHY)
		r->task_unhealthy++;
	if (ev->task_changed && ev->task_tr.to == HEALTH_HEALTHY)
		r->task_healthy++;
	if (ev->res->outcome == CHECK_FAIL_TIMEOUT &&
	    strcmp(ev->res->output, "still running when the next interval began") == 0 &&
	    r->overruns++ == 0)
		r->overrun_latency_ms = ev->res->latency_ms;
	if (r->nseen < 64) {
		snprintf(r->seen_tasks[r->nseen], sizeof(r->seen_tasks[0]), "%s", ev->task->id);
		r->nseen++;
	}
}

static char *apps_json(size_t ntasks, const char *command, unsigned interval, const char *skip)
{
	size_t cap = 256 + ntasks * 128, off = 0;
	char *doc = malloc(cap);

	off += (size_t)snprintf(
	    doc + off, cap - off,
	    "{\"id\": \"/t\", \"healthChecks\": [{\"protocol\": \"COMMAND\", "
	    "\"command\": {\"value\": \"%s\"}, \"intervalSeconds\": %u, "
	    "\"timeoutSeconds\": 5, \"gracePeriodSeconds\": 0, \"delaySeconds\": 0}],"
	    " \"tasks\": [",
	    command, interval);
	for (size_t i = 0, first = 1; i < ntasks; i++) {
		char id[32];

		snprintf(id, sizeof(id), "t.%zu", i);
		if (skip && strcmp(id, skip) == 0)
			continue;
		off += (size_t)snprintf(doc + off, cap - off,
		                        "%s{\"id\": \"%s\", \"host\": \"127.0.0.1\"}",
		                        first ? "" : ",", id);
		first = 0;
	}
	snprintf(doc + off, cap - off, "]}");
	return doc;
}

static void load(struct apps_set *set, char *doc)
{
	memset(set, 0, sizeof(*set));
	assert_int_equal(apps_load_buffer(set, "t.json", doc, strlen(doc)), 0);
	assert_int_equal(diag_count(&set->diags, DIAG_ERROR), 0);
	free(doc);
}

static struct exec_ctx *ctx_new(struct ev_loop *loop)
{
	struct exec_settings es = {0};
	char err[256];
	struct exec_ctx *ctx = exec_ctx_new(loop, &es, err, sizeof(err));

	assert_non_null(ctx);
	return ctx;
}

/* A scheduler on the default loop with a fresh executor context, its
 * events recorded in r; stop_sched frees both. */
static struct sched *start_sched(struct recorder *r, const struct sched_settings *ss)
{
	static const struct runner_settings rs = {.native_curl = true};
	struct ev_loop *loop = ev_default_loop(0);
	struct sched *s;

	r->ctx = ctx_new(loop);
	s = sched_new(loop, r->ctx, &rs, ss, on_event, r);
	assert_non_null(s);
	return s;
}

static void stop_sched(struct sched *s, struct recorder *r)
{
	sched_free(s);
	exec_ctx_free(r->ctx);
}

/* One scheduler run: the default loop, a scheduler recording its events
 * in r, and the apps it was given (set); srun_stop frees them. */
struct srun {
	struct ev_loop *loop;
	struct recorder r;
	struct sched *s;
	struct apps_set set;
};

/* The scheduler with settings ss, synced to the apps of doc (taken). */
static void srun_start(struct srun *run, const struct sched_settings *ss, char *doc)
{
	memset(&run->r, 0, sizeof(run->r));
	run->loop = ev_default_loop(0);
	run->s = start_sched(&run->r, ss);
	load(&run->set, doc);
	sched_sync(run->s, &run->set);
}

static void srun_stop(struct srun *run)
{
	stop_sched(run->s, &run->r);
	apps_set_free(&run->set);
}

static void stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

static void run_loop(struct ev_loop *loop, double seconds)
{
	ev_timer stop;

	ev_timer_init(&stop, stop_cb, seconds, 0);
	ev_timer_start(loop, &stop);
	ev_run(loop, 0);
	ev_timer_stop(loop, &stop);
}

/* Runs the loop in short steps until `task` of /t has health `want` or
 * `limit` seconds pass (a loaded machine spawns slowly). */
static void run_until_health(struct ev_loop *loop, struct sched *s, const char *task,
                             enum health_state want, double limit)
{
	for (double t = 0; t < limit && sched_task_health(s, "/t", task) != want; t += 0.1)
		run_loop(loop, 0.1);
}

static void test_limit_and_queue(void **state)
{
	(void)state;
	struct sched_settings ss = {.max_in_flight = 2, .interval_scale = 0.5};
	struct srun run;
	struct sched_stats st;

	/* 8 checks sleeping 0.3 s, all due within 0.5 s, two slots. */
	srun_start(&run, &ss, apps_json(8, "sleep 0.3", 1, NULL));
	sched_get_stats(run.s, &st);
	assert_int_equal(st.tasks, 8);
	assert_int_equal(st.instances, 8);
	run_loop(run.loop, 1.6);
	sched_get_stats(run.s, &st);
	assert_true(run.r.max_running <= 2);
	assert_true(st.waited > 0);
	assert_true(run.r.events >= 4);
	srun_stop(&run);
}

static void test_spread_over_interval(void **state)
{
	(void)state;
	struct sched_settings ss = {.max_in_flight = 512, .interval_scale = 1.0};
	struct srun run;
	size_t early;
	struct sched_stats st;

	/* 200 instances, interval 2 s: after 0.5 s about a quarter have run,
	 * not all of them (a burst) and not none. */
	srun_start(&run, &ss, apps_json(200, "true", 2, NULL));
	run_loop(run.loop, 0.5);
	sched_get_stats(run.s, &st);
	early = st.started;
	print_message("started after 0.5 s: %zu of 200\n", early);
	assert_true(early > 10);
	assert_true(early < 120);
	srun_stop(&run);
}

/* The loop held for longer than the interval (a start-up round, a resync):
 * every overdue check runs once, then goes back to its own phase; it does
 * not run again at once, and later runs are not counted late. */
static void test_stall_keeps_phase(void **state)
{
	(void)state;
	struct sched_settings ss = {.max_in_flight = 512, .interval_scale = 1.0};
	struct srun run;
	struct sched_stats st;

	srun_start(&run, &ss, apps_json(20, "true", 1, NULL));
	usleep(2500 * 1000);
	run_loop(run.loop, 0.5);
	sched_get_stats(run.s, &st);
	print_message("started in the 0.5 s after a 2.5 s stall: %zu\n", (size_t)st.started);
	assert_true(st.started <= 20);
	run_loop(run.loop, 3.0);
	sched_get_stats(run.s, &st);
	print_message("lateness p50 %.1f ms p99 %.1f ms over %zu runs\n", st.lateness_p50_ms,
	              st.lateness_p99_ms, (size_t)st.started);
	assert_true(st.started >= 50);
	assert_true(st.lateness_p50_ms < 300);
	srun_stop(&run);
}

static void test_sync_adds_and_removes(void **state)
{
	(void)state;
	struct sched_settings ss = {.interval_scale = 0.5};
	struct srun run;
	struct apps_set b;
	struct sched_stats st;

	srun_start(&run, &ss, apps_json(3, "true", 1, NULL));
	for (int i = 0; i < 3; i++) {
		char task[8];

		snprintf(task, sizeof(task), "t.%d", i);
		run_until_health(run.loop, run.s, task, HEALTH_HEALTHY, 10);
		assert_int_equal(sched_task_health(run.s, "/t", task), HEALTH_HEALTHY);
	}
	/* t.1 goes away; t.0 and t.2 keep their health, nothing restarts them. */
	load(&b, apps_json(3, "true", 1, "t.1"));
	sched_sync(run.s, &b);
	apps_set_free(&run.set);
	run.set = b;
	sched_get_stats(run.s, &st);
	assert_int_equal(st.tasks, 2);
	assert_int_equal(sched_task_health(run.s, "/t", "t.0"), HEALTH_HEALTHY);
	assert_int_equal(sched_task_health(run.s, "/t", "t.1"), HEALTH_UNKNOWN);
	run.r.nseen = 0;
	run_loop(run.loop, 1.5);
	for (size_t i = 0; i < run.r.nseen; i++)
		assert_string_not_equal(run.r.seen_tasks[i], "t.1");
	assert_true(run.r.nseen > 0);
	assert_int_equal(run.r.task_healthy, 3);
	srun_stop(&run);
}

static void test_failing_check_turns_task_unhealthy(void **state)
{
	(void)state;
	struct sched_settings ss = {.interval_scale = 0.2};
	struct srun run;

	srun_start(&run, &ss, apps_json(1, "exit 3", 1, NULL));
	run_until_health(run.loop, run.s, "t.0", HEALTH_UNHEALTHY, 10);
	/* The first counted failure (grace 0) makes it unhealthy at once. */
	assert_int_equal(run.r.task_unhealthy, 1);
	assert_int_equal(run.r.task_healthy, 0);
	assert_int_equal(sched_task_health(run.s, "/t", "t.0"), HEALTH_UNHEALTHY);
	srun_stop(&run);
}

/* A run cancelled when its next interval begins ran about an interval: its
 * result says so (it said 0.0 ms), like a run the executor's own deadline
 * ends. */
static void test_overrun_reports_the_time_it_ran(void **state)
{
	(void)state;
	struct sched_settings ss = {.interval_scale = 1.0};
	struct srun run;
	struct sched_stats st;

	/* interval 1 s, timeout 5 s: the next interval cuts the run off, about
	 * 1 s after it started (less the start's lateness on a busy host) */
	srun_start(&run, &ss, apps_json(1, "sleep 30", 1, NULL));
	for (double t = 0; t < 10 && !run.r.overruns; t += 0.1)
		run_loop(run.loop, 0.1);
	sched_get_stats(run.s, &st);
	assert_true(st.overruns >= 1);
	assert_int_equal(run.r.overruns, st.overruns);
	print_message("cancelled run's latency %.1f ms (interval 1000 ms)\n",
	              run.r.overrun_latency_ms);
	assert_true(run.r.overrun_latency_ms >= 500);
	assert_true(run.r.overrun_latency_ms < 3000);
	srun_stop(&run);
}

/* n tasks of /t with one TCP check each on 127.0.0.1:1 (nothing listens:
 * refused at once, no process), every `interval` seconds. */
static char *tcp_apps_json(size_t ntasks, unsigned interval)
{
	size_t cap = 256 + ntasks * 96, off = 0;
	char *doc = malloc(cap);

	off +=
	    (size_t)snprintf(doc + off, cap - off,
	                     "{\"id\": \"/t\", \"portDefinitions\": [{\"port\": 0}], "
	                     "\"healthChecks\": [{\"protocol\": \"TCP\", \"intervalSeconds\": %u, "
	                     "\"timeoutSeconds\": 1, \"gracePeriodSeconds\": 0, "
	                     "\"delaySeconds\": 0}], \"tasks\": [",
	                     interval);
	for (size_t i = 0; i < ntasks; i++)
		off += (size_t)snprintf(
		    doc + off, cap - off,
		    "%s{\"id\": \"t.%zu\", \"host\": \"127.0.0.1\", \"ports\": [1]}", i ? "," : "",
		    i);
	snprintf(doc + off, cap - off, "]}");
	return doc;
}

/* Checks started, and loop wake-ups that started them, in `seconds` of 10
 * instances sharing one interval of 50 ms. */
static void starts_per_wakeup(double grid_s, double seconds, struct sched_stats *st)
{
	struct sched_settings ss = {
	    .max_in_flight = 512, .interval_scale = 0.025, .phase_grid_s = grid_s};
	struct srun run;

	srun_start(&run, &ss, tcp_apps_json(10, 2));
	run_loop(run.loop, seconds);
	sched_get_stats(run.s, st);
	print_message("grid %g s: %llu checks started in %llu wake-ups, lateness max %.1f ms\n",
	              grid_s, (unsigned long long)st->started,
	              (unsigned long long)st->start_wakeups, st->lateness_max_ms);
	srun_stop(&run);
}

/* Checks due on one slot of the phase grid start in one loop wake-up: with
 * the grid step as long as their interval, the 10 instances, spread over it,
 * fall due together each time; each alone when the grid is off. */
static void test_due_checks_start_in_one_wakeup(void **state)
{
	struct sched_stats batched, alone;

	(void)state;
	starts_per_wakeup(0.05, 0.6, &batched);
	assert_true(batched.started >= 50);
	assert_true(batched.started >= 6 * batched.start_wakeups);
	starts_per_wakeup(-1, 0.6, &alone);
	assert_true(alone.started >= 50);
	/* Spread over 50 ms, each alone wakes the loop for itself: 10 times the
	 * grid's wake-ups on a quiet host; a loaded host that wakes late starts
	 * a few together anyway, hence only twice. */
	assert_true(alone.start_wakeups > 2 * batched.start_wakeups);
}

/* The default grid (SCHED_DEFAULT_PHASE_GRID_S) adds no lateness: a due
 * time is a slot instant, so checks start on it, not up to a slot after it
 * (test_sched_grid.c proves the rule itself). The bound is half a 50 ms
 * slot, what starting at a slot's end instead of its instant would cost on
 * average, not a timing target: a loaded host's stalls stay far below it
 * (the lateness itself is reported by bench/run.sh). The 10 instances fall
 * due together, one wake-up per 50 ms: 3 s give the median some 60
 * wake-ups. */
static void test_default_batch_keeps_lateness_small(void **state)
{
	struct sched_stats st;

	(void)state;
	starts_per_wakeup(0, 3.0, &st);
	assert_true(st.started >= 50);
	assert_true(st.lateness_p50_ms < 25.0);
}

/* 400 COMMAND checks due at one instant (a grid step as long as their 1 s
 * interval): each spawn holds the loop until the child execs, 400 of them
 * some 20 ms at least, so with at most SCHED_START_BUDGET_S (2 ms) of starts
 * per loop iteration they start over many wake-ups, other watchers served
 * between them. Without the budget every slot would start in one wake-up:
 * 2 for the two slots the first runs may straddle. */
static void test_start_budget_spreads_a_burst(void **state)
{
	struct sched_settings ss = {
	    .max_in_flight = 512, .interval_scale = 0.1, .phase_grid_s = 1.0};
	struct srun run;
	struct sched_stats st = {0};

	(void)state;
	srun_start(&run, &ss, apps_json(400, "true", 10, NULL));
	for (double t = 0; t < 20 && st.started < 400; t += 0.05) {
		run_loop(run.loop, 0.05);
		sched_get_stats(run.s, &st);
	}
	print_message("400 due at once: started %llu in %llu wake-ups, waited %llu\n",
	              (unsigned long long)st.started, (unsigned long long)st.start_wakeups,
	              (unsigned long long)st.waited);
	assert_true(st.started >= 400);
	assert_true(st.start_wakeups >= 4);
	assert_true(st.waited > 0);
	srun_stop(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limit_and_queue),
	    cmocka_unit_test(test_spread_over_interval),
	    cmocka_unit_test(test_stall_keeps_phase),
	    cmocka_unit_test(test_sync_adds_and_removes),
	    cmocka_unit_test(test_failing_check_turns_task_unhealthy),
	    cmocka_unit_test(test_overrun_reports_the_time_it_ran),
	    cmocka_unit_test(test_due_checks_start_in_one_wakeup),
	    cmocka_unit_test(test_default_batch_keeps_lateness_small),
	    cmocka_unit_test(test_start_budget_spreads_a_burst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
