/*
 * The check scheduler: one timer per check instance (task x health check) on
 * the libev loop, with delaySeconds, intervalSeconds and spread start times
 * on a phase grid (checks with one interval fall due together and start in
 * one loop wake-up); a global limit on checks in flight (excess waits in a
 * FIFO, counted); the health state of every instance and task, updated with
 * the health rules.
 * Tasks appearing and disappearing are synced in without disturbing others.
 */
#ifndef VIPD_SCHED_H
#define VIPD_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vipd/errbuf.h"
#include "vipd/health.h"
#include "vipd/runner.h"

struct sched_settings {
	unsigned max_in_flight; /* 0 = SCHED_DEFAULT_MAX_IN_FLIGHT */
	double interval_scale;  /* tests and benchmarks: multiply every interval/delay; 0 = 1 */
	/* Phase grid step, seconds: each instance's phase within its interval
	 * is moved (later, by less than a step) onto slots of about this width
	 * shared by every instance with that interval, so that their runs fall
	 * due together in one loop wake-up; intervals between runs are unchanged
	 * and a due time is a slot instant (the runs of one slot still start one
	 * after another). 0 = SCHED_DEFAULT_PHASE_GRID_S; negative: each
	 * instance at its own phase. */
	double phase_grid_s;
	/* Cluster mode: only tasks for which this says true are checked (the
	 * others run on other nodes, which check them). NULL: every task. */
	bool (*task_filter)(void *ctx, const struct task *t);
	void *task_filter_ctx;
};

#define SCHED_DEFAULT_MAX_IN_FLIGHT 256
#define SCHED_DEFAULT_PHASE_GRID_S 0.05

/* One result, with what it changed. */
struct sched_event {
	const struct app *app;
	const struct task *task;
	const struct health_check *hc;
	size_t check_idx;
	const struct check_result *res;
	struct health_transition check_tr;
	int check_changed;
	struct health_transition task_tr;
	int task_changed;
	double now; /* wall-clock seconds */
};

typedef void (*sched_event_cb)(const struct sched_event *ev, void *arg);

struct sched_stats {
	size_t tasks;
	size_t instances;
	size_t in_flight;
	size_t waiting; /* due, waiting for a slot */
	uint64_t started;
	uint64_t completed;
	uint64_t waited;         /* runs that had to wait for a slot */
	uint64_t overload_skips; /* due again while still waiting: run once, counted here */
	uint64_t overruns;       /* still running at the next interval: cancelled as timeouts */
	uint64_t start_wakeups;  /* loop wake-ups (iterations) that started at least one check */
	double wait_max_s;
	double lateness_p50_ms; /* timer firing after its due time */
	double lateness_p99_ms;
	double lateness_max_ms;
};

struct sched;

/* A scheduler with no instances on `loop`, starting runs through `exec`
 * and reporting every result to cb(arg). NULL: out of memory. */
struct sched *sched_new(struct ev_loop *loop, struct exec_ctx *exec,
                        const struct runner_settings *rs, const struct sched_settings *ss,
                        sched_event_cb cb, void *arg) VIPD_MUST_CHECK;
/* Stops every timer and cancels every run in flight (no event is reported
 * for them); NULL is fine. */
void sched_free(struct sched *s);

/*
 * Brings the instances in line with `set`: every check of every TASK_RUNNING
 * task has one. New ones get their first run at delaySeconds plus a spread
 * offset within the interval; ones whose task and check are unchanged keep
 * their timers, runs and health; the rest are cancelled. The scheduler
 * borrows `set` until the next sync or sched_free.
 */
void sched_sync(struct sched *s, const struct apps_set *set);
/* What sched_sync compares to keep a task's checks and health: a hash of
 * the task's host, ports and addresses and its app's checks and labels. A
 * task whose fingerprint changes starts over with unknown health. */
uint64_t sched_task_fingerprint(const struct app *a, const struct task *t);
/* sched_sync after a reload from `old` (the last synced set, still
 * allocated) that changed only the apps for which changed(ctx, app id) is
 * true: every other app is the same, field for field, with the same tasks
 * in the same order, so its tasks are re-pointed at `set` without being
 * looked up or compared again, and only the changed apps' tasks are swept.
 * changed or old NULL: sched_sync. */
void sched_sync_changed(struct sched *s, const struct apps_set *set, const struct apps_set *old,
                        bool (*changed)(void *ctx, const char *app_id), void *ctx);
/* sched_sync_changed where every unchanged app of `set` is the very object
 * (same address, same tasks and checks) the scheduler borrowed from the
 * last synced set (apps_keep_unchanged moved it): their tasks are not
 * walked at all, only the changed apps' tasks are synced and swept. */
void sched_sync_changed_in_place(struct sched *s, const struct apps_set *set,
                                 const struct apps_set *old,
                                 bool (*changed)(void *ctx, const char *app_id), void *ctx);
/* After the tasks of app `app_id` (a, NULL when it is gone) changed in
 * place, the rest of the last synced set untouched (a Marathon status
 * event): its running tasks synced, and task_id (NULL: none), when no
 * longer one of them, cancelled. O(the app's tasks). */
void sched_sync_app(struct sched *s, const struct app *a, const char *app_id, const char *task_id);

/* The task's aggregated health; HEALTH_UNKNOWN when not scheduled. */
enum health_state sched_task_health(const struct sched *s, const char *app_id, const char *task_id);

/* Counters since sched_new; lateness percentiles (nearest rank) over the
 * last 8,192 runs, 0 when none (or out of memory). */
void sched_get_stats(const struct sched *s, struct sched_stats *out);

#endif
