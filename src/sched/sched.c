/*
 * Check timers, the in-flight limit and its wait queue, and the health of
 * each instance and task. The task map and syncing live in sched_sync.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"
#include "vipd/clock.h"
#include "vipd/hash.h"
#include "vipd/percentile.h"

static void inst_start(struct sched_inst *in);

static double now_wall(const struct sched *s)
{
	return ev_now(s->loop);
}

static void lateness_record(struct sched *s, double late_s)
{
	s->lateness[s->lateness_next % SCHED_LATENESS_SAMPLES] = late_s;
	s->lateness_next++;
	if (late_s > s->lateness_max)
		s->lateness_max = late_s;
}

static void queue_push(struct sched *s, struct sched_inst *in)
{
	in->queued = true;
	in->queued_at = now_wall(s);
	in->qnext = NULL;
	if (s->qtail)
		s->qtail->qnext = in;
	else
		s->qhead = in;
	s->qtail = in;
	s->nwaiting++;
	s->stats_waited++;
}

static struct sched_inst *queue_pop(struct sched *s)
{
	struct sched_inst *in = s->qhead;

	if (!in)
		return NULL;
	s->qhead = in->qnext;
	if (!s->qhead)
		s->qtail = NULL;
	in->qnext = NULL;
	in->queued = false;
	s->nwaiting--;
	return in;
}

void sched_queue_remove(struct sched *s, struct sched_inst *in)
{
	struct sched_inst **pp = &s->qhead, *prev = NULL;

	if (!in->queued)
		return;
	for (; *pp; prev = *pp, pp = &(*pp)->qnext) {
		if (*pp != in)
			continue;
		*pp = in->qnext;
		if (s->qtail == in)
			s->qtail = prev;
		break;
	}
	in->qnext = NULL;
	in->queued = false;
	s->nwaiting--;
}

/* Applies a result to the instance and its task, then tells the owner. */
static void inst_report(struct sched_inst *in, const struct check_result *res)
{
	struct sched_task *t = in->task;
	struct sched *s = t->s;
	struct sched_event ev = {
	    .app = t->app,
	    .task = t->task,
	    .hc = in->hc,
	    .check_idx = in->idx,
	    .res = res,
	    .now = now_wall(s),
	};

	ev.check_changed = health_check_apply(&t->hstates[in->idx], res, ev.now, &ev.check_tr);
	ev.task_changed =
	    health_task_eval(&t->health, t->task->state, t->hstates, t->ninst, &ev.task_tr);
	s->cb(&ev, s->cb_arg);
}

/* The iteration is libev's count, not its cached time: exec_start updates
 * that time for every run it starts, which made every start look like the
 * first of a new iteration and the budget never ran out. */
static bool start_budget_left(struct sched *s)
{
	if (ev_iteration(s->loop) != s->iter) {
		s->iter = ev_iteration(s->loop);
		s->iter_spent = 0;
	}
	return s->iter_spent < SCHED_START_BUDGET_S;
}

static void inst_start_timed(struct sched_inst *in)
{
	struct sched *s = in->task->s;
	double t0 = clock_now_s();

	if (ev_iteration(s->loop) != s->start_iteration || s->stats_start_wakeups == 0) {
		s->start_iteration = ev_iteration(s->loop);
		s->stats_start_wakeups++;
	}

	inst_start(in);
	s->iter_spent += clock_now_s() - t0;
}

static void slot_freed(struct sched *s)
{
	struct sched_inst *next;
	double waited;

	while (s->in_flight < s->max_in_flight && start_budget_left(s) && (next = queue_pop(s))) {
		waited = now_wall(s) - next->queued_at;
		if (waited > s->wait_max)
			s->wait_max = waited;
		inst_start_timed(next);
	}
	/* Out of budget with slots free: go on next iteration, whether or not
	 * a run completes meanwhile. */
	if (s->qhead && s->in_flight < s->max_in_flight && !ev_is_active(&s->kick))
		ev_timer_start(s->loop, &s->kick);
}

/* ev_timer callback: the next iteration's share of waiting starts. */
static void on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	slot_freed(w->data);
}

/* runner_done_cb */
static void inst_done(const struct check_result *res, void *arg)
{
	struct sched_inst *in = arg;
	struct sched *s = in->task->s;

	in->run = NULL;
	s->in_flight--;
	s->stats_completed++;
	inst_report(in, res);
	slot_freed(s);
}

static void inst_start(struct sched_inst *in)
{
	struct sched_task *t = in->task;
	struct sched *s = t->s;
	struct check_result res = {.outcome = CHECK_FAIL_CONFIG, .exit_code = -1};
	char err[CHECK_OUTPUT_MAX];

	in->run_started = clock_now_s();
	in->run =
	    runner_start(s->exec, &s->rs, t->app, t->task, in->hc, inst_done, in, err, sizeof(err));
	s->stats_started++;
	if (in->run) {
		s->in_flight++;
		return;
	}
	snprintf(res.output, sizeof(res.output), "%s", err);
	s->stats_completed++;
	inst_report(in, &res);
}

/* A run still going when the next one is due is cancelled and counted as a
 * timeout, as the check's own deadline would have; its latency is the time
 * it ran, as the executor measures a finished run's. */
static void inst_overrun(struct sched_inst *in)
{
	struct sched *s = in->task->s;
	struct check_result res = {.outcome = CHECK_FAIL_TIMEOUT,
	                           .exit_code = -1,
	                           .latency_ms = (clock_now_s() - in->run_started) * 1000.0};

	runner_cancel(in->run);
	in->run = NULL;
	s->in_flight--;
	s->stats_overruns++;
	s->stats_completed++;
	snprintf(res.output, sizeof(res.output), "still running when the next interval began");
	inst_report(in, &res);
}

/* The phase grid. Each interval is cut into slots of about the grid step
 * (exactly interval / k for a whole k, so that a due time on a slot stays on
 * one run after run), counted from the epoch: checks with the same interval
 * fall due at the same instants and start in one loop wake-up. At 100
 * checks/s an idle loop woken for each check alone spends more on the
 * wake-up (a context switch onto a cold CPU) than on the check. Only the
 * phase moves, by less than one slot: the interval between runs stays
 * intervalSeconds, and a due time is a slot instant, so the timer is not
 * late for it (the runs of a slot then start one after another, each
 * measured late by the starts before it). 0 when the grid is off. */
double sched_slot_width(double interval, double grid)
{
	double k;

	if (grid <= 0 || interval <= 0)
		return 0;
	k = round(interval / grid);
	return interval / (k < 1 ? 1 : k);
}

/* The slot instant nearest t; t itself when there are no slots. */
static double slot_nearest(double t, double width)
{
	return width > 0 ? round(t / width) * width : t;
}

/* The first slot instant at or after t (a microsecond's rounding error of
 * the wall clock's large values counts as on it). */
double sched_slot_at(double t, double width)
{
	double near = slot_nearest(t, width);

	if (width <= 0 || fabs(near - t) < 1e-6)
		return near;
	return ceil(t / width) * width;
}

/* The due time after `due`: one interval later. When the loop was held for
 * whole intervals (a start-up round, a long resync), the missed runs are
 * skipped and the instance keeps its own phase, a full interval at least
 * after a late run starts (the next due time cuts it off): re-arming every
 * late timer at "now" would run the checks spread over the interval in one
 * burst from then on. */
double sched_due_next(double due, double now, double interval, double width)
{
	double next = due + interval;

	if (next <= now)
		next += ceil((now + interval - next) / interval) * interval;
	return slot_nearest(next, width);
}

static void inst_timer_arm(struct sched *s, struct sched_inst *in)
{
	ev_timer_stop(s->loop, &in->timer);
	ev_timer_set(&in->timer, fmax(0.0, in->next_due - now_wall(s)), 0.);
	ev_timer_start(s->loop, &in->timer);
}

/* The timer is one-shot, re-armed here for the next due time (a repeating
 * timer would drift off the slot instants). */
static void inst_next_due(struct sched *s, struct sched_inst *in)
{
	if (in->interval <= 0)
		return;
	in->next_due = sched_due_next(in->next_due, now_wall(s), in->interval,
	                              sched_slot_width(in->interval, s->phase_grid));
	inst_timer_arm(s, in);
}

/* ev_timer callback: the instance is due. */
static void inst_due(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sched_inst *in = w->data;
	struct sched *s = in->task->s;

	(void)loop;
	(void)revents;
	lateness_record(s, now_wall(s) - in->next_due);
	inst_next_due(s, in);
	if (in->run)
		inst_overrun(in);
	if (in->queued) {
		s->stats_overload_skips++;
		return;
	}
	if (s->in_flight >= s->max_in_flight || !start_budget_left(s)) {
		queue_push(s, in);
		slot_freed(s);
		return;
	}
	inst_start_timed(in);
	slot_freed(s);
}

/* FNV-1a: a stable spread of first runs over the interval, so that many
 * checks with the same interval do not fire in one burst. */
uint64_t sched_hash(const char *a, const char *b, uint64_t salt)
{
	uint64_t h = hash_fnv1a(HASH_VIPD_SEED ^ salt, a, strlen(a));

	h = hash_fnv1a(h, "\xff", 1);
	h = hash_fnv1a(h, b, strlen(b));
	/* FNV's last multiply leaves the high bits alike for names differing in
	 * their last byte: finish with splitmix64's avalanche. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

void sched_inst_arm(struct sched *s, struct sched_inst *in)
{
	double scale = s->interval_scale;
	double frac = (double)(sched_hash(in->task->app_id, in->task->task_id, in->idx) >> 11) /
	              (double)(1ULL << 53);
	double first;

	/* The loop's cached time can be stale by the whole of a start-up or a
	 * long reload: a timer armed from it is already late when it first
	 * fires, and its next due time (and so the overrun cut-off) comes less
	 * than an interval after the run began. */
	ev_now_update(s->loop);
	in->interval = in->hc->interval_s * scale;
	first = in->hc->delay_s * scale + frac * in->interval;
	in->next_due =
	    sched_slot_at(now_wall(s) + first, sched_slot_width(in->interval, s->phase_grid));
	ev_timer_init(&in->timer, inst_due, 0., 0.);
	in->timer.data = in;
	inst_timer_arm(s, in);
}

void sched_inst_stop(struct sched *s, struct sched_inst *in)
{
	ev_timer_stop(s->loop, &in->timer);
	sched_queue_remove(s, in);
	if (in->run) {
		runner_cancel(in->run);
		in->run = NULL;
		s->in_flight--;
	}
}

struct sched *sched_new(struct ev_loop *loop, struct exec_ctx *exec,
                        const struct runner_settings *rs, const struct sched_settings *ss,
                        sched_event_cb cb, void *arg)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = loop;
	s->exec = exec;
	s->rs = *rs;
	s->max_in_flight =
	    ss && ss->max_in_flight ? ss->max_in_flight : SCHED_DEFAULT_MAX_IN_FLIGHT;
	s->interval_scale = ss && ss->interval_scale > 0 ? ss->interval_scale : 1.0;
	s->phase_grid = ss && ss->phase_grid_s != 0 ? ss->phase_grid_s : SCHED_DEFAULT_PHASE_GRID_S;
	s->task_filter = ss ? ss->task_filter : NULL;
	s->task_filter_ctx = ss ? ss->task_filter_ctx : NULL;
	s->cb = cb;
	s->cb_arg = arg;
	ev_timer_init(&s->kick, on_kick, 0, 0);
	s->kick.data = s;
	if (sched_map_init(s) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void sched_get_stats(const struct sched *s, struct sched_stats *out)
{
	size_t n =
	    s->lateness_next < SCHED_LATENESS_SAMPLES ? s->lateness_next : SCHED_LATENESS_SAMPLES;
	double *samples = malloc((n + 1) * sizeof(*samples));

	*out = (struct sched_stats){
	    .tasks = s->ntasks,
	    .instances = s->ninstances,
	    .in_flight = s->in_flight,
	    .waiting = s->nwaiting,
	    .started = s->stats_started,
	    .completed = s->stats_completed,
	    .waited = s->stats_waited,
	    .overload_skips = s->stats_overload_skips,
	    .overruns = s->stats_overruns,
	    .start_wakeups = s->stats_start_wakeups,
	    .wait_max_s = s->wait_max,
	    .lateness_max_ms = s->lateness_max * 1000,
	};
	if (!samples)
		return;
	memcpy(samples, s->lateness, n * sizeof(*samples));
	out->lateness_p50_ms = percentile_nearest_rank(samples, n, 0.50) * 1000;
	out->lateness_p99_ms = percentile_nearest_rank(samples, n, 0.99) * 1000;
	free(samples);
}
