/* The scheduler's private structures, shared by sched.c and sched_sync.c. */
#ifndef VIPD_SCHED_INT_H
#define VIPD_SCHED_INT_H

#include <stdbool.h>

#include "vipd/sched.h"

#define SCHED_LATENESS_SAMPLES 8192
/* Loop time one iteration may spend starting checks: a spawn blocks until
 * the child execs (vfork semantics), and hundreds in one iteration stall
 * every timer behind them. The rest wait for the next iteration. */
#define SCHED_START_BUDGET_S 0.002

struct sched_task;

struct sched_inst {
	struct sched_task *task;
	size_t idx;
	const struct health_check *hc; /* borrowed from the current set */
	ev_timer timer;
	double interval;
	double next_due; /* wall-clock seconds, on a slot of the phase grid */
	struct runner_run *run;
	double run_started; /* monotonic seconds, while run is set */
	bool queued;
	double queued_at;
	struct sched_inst *qnext;
};

struct sched_task {
	struct sched *s;
	char *app_id;
	char *task_id;
	uint64_t fingerprint;  /* of the task's check targets and the app's checks */
	const struct app *app; /* borrowed from the current set */
	const struct task *task;
	struct sched_inst *inst;
	struct health_check_state *hstates; /* one per instance, contiguous for health_task_eval */
	size_t ninst;
	enum health_state health;
	bool seen; /* in the set being synced */
	struct sched_task *hnext;
	/* Its app's chain (abuckets): an unchanged app's tasks are re-pointed
	 * at a reloaded set by walking it, task_idx being its place in
	 * app->tasks as of the last sync. */
	struct sched_task *anext, *aprev;
	size_t task_idx;
};

struct sched {
	struct ev_loop *loop;
	struct exec_ctx *exec;
	struct runner_settings rs;
	unsigned max_in_flight;
	double interval_scale;
	double phase_grid; /* seconds; <= 0: each instance at its own phase */
	bool (*task_filter)(void *ctx, const struct task *t);
	void *task_filter_ctx;
	sched_event_cb cb;
	void *cb_arg;
	/* task map: chained hash on (app id, task id) */
	struct sched_task **buckets;
	size_t nbuckets;
	size_t ntasks;
	/* the same tasks chained by app id */
	struct sched_task **abuckets;
	size_t nabuckets;
	size_t ninstances;
	/* in flight and waiting */
	size_t in_flight;
	struct sched_inst *qhead, *qtail;
	size_t nwaiting;
	ev_timer kick;     /* resumes starting waiting checks on the next iteration */
	unsigned iter;     /* ev_iteration that iter_spent belongs to */
	double iter_spent; /* seconds spent starting checks in that iteration */
	/* metrics */
	uint64_t stats_started, stats_completed, stats_waited, stats_overload_skips, stats_overruns;
	uint64_t stats_start_wakeups;
	unsigned start_iteration; /* ev_iteration of the last wake-up that started a check */
	double wait_max;
	double lateness[SCHED_LATENESS_SAMPLES];
	size_t lateness_next;
	double lateness_max;
};

uint64_t sched_hash(const char *a, const char *b, uint64_t salt);
int sched_map_init(struct sched *s);
void sched_inst_arm(struct sched *s, struct sched_inst *in);
void sched_inst_stop(struct sched *s, struct sched_inst *in);
void sched_queue_remove(struct sched *s, struct sched_inst *in);

/* The phase grid's rule, pure (time in seconds, passed in): the slot width
 * of an interval, the first slot instant at or after t, and the due time
 * after `due` at `now` (missed runs skipped, on the slots). */
double sched_slot_width(double interval, double grid);
double sched_slot_at(double t, double width);
double sched_due_next(double due, double now, double interval, double width);

#endif
