/*
 * The scheduler's task map and its sync with a new apps set: unchanged tasks
 * keep their timers, runs and health; new ones are armed; gone ones are
 * cancelled and freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched_int.h"
#include "vipd/hash.h"

#define SCHED_INITIAL_BUCKETS 256

int sched_map_init(struct sched *s)
{
	s->buckets = calloc(SCHED_INITIAL_BUCKETS, sizeof(*s->buckets));
	s->nbuckets = SCHED_INITIAL_BUCKETS;
	s->abuckets = calloc(SCHED_INITIAL_BUCKETS, sizeof(*s->abuckets));
	s->nabuckets = SCHED_INITIAL_BUCKETS;
	return s->buckets && s->abuckets ? 0 : -1;
}

static size_t app_bucket_of(const struct sched *s, const char *app_id)
{
	return sched_hash(app_id, "", 1) & (s->nabuckets - 1);
}

static void app_link(struct sched *s, struct sched_task *t)
{
	size_t b = app_bucket_of(s, t->app_id);

	t->aprev = NULL;
	t->anext = s->abuckets[b];
	if (t->anext)
		t->anext->aprev = t;
	s->abuckets[b] = t;
}

static void app_unlink(struct sched *s, struct sched_task *t)
{
	if (t->aprev)
		t->aprev->anext = t->anext;
	else
		s->abuckets[app_bucket_of(s, t->app_id)] = t->anext;
	if (t->anext)
		t->anext->aprev = t->aprev;
}

/* The app chains rebuilt over twice the buckets; kept as they are when
 * memory runs out (longer chains, still correct). */
static void app_map_grow(struct sched *s)
{
	struct sched_task **nb = calloc(s->nabuckets * 2, sizeof(*nb));

	if (!nb)
		return;
	free(s->abuckets);
	s->abuckets = nb;
	s->nabuckets *= 2;
	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct sched_task *t = s->buckets[b]; t; t = t->hnext)
			app_link(s, t);
}

static size_t bucket_of(const struct sched *s, const char *app_id, const char *task_id)
{
	return sched_hash(app_id, task_id, 0) & (s->nbuckets - 1);
}

static struct sched_task *task_find(const struct sched *s, const char *app_id, const char *task_id)
{
	struct sched_task *t = s->buckets[bucket_of(s, app_id, task_id)];

	for (; t; t = t->hnext)
		if (strcmp(t->task_id, task_id) == 0 && strcmp(t->app_id, app_id) == 0)
			return t;
	return NULL;
}

static void map_grow(struct sched *s)
{
	size_t old_n = s->nbuckets;
	struct sched_task **old = s->buckets, *t, *next;
	struct sched_task **nb = calloc(old_n * 2, sizeof(*nb));

	if (!nb)
		return; /* longer chains, still correct */
	s->buckets = nb;
	s->nbuckets = old_n * 2;
	for (size_t i = 0; i < old_n; i++) {
		for (t = old[i]; t; t = next) {
			size_t b = bucket_of(s, t->app_id, t->task_id);

			next = t->hnext;
			t->hnext = nb[b];
			nb[b] = t;
		}
	}
	free(old);
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	return s ? hash_fnv1a(h, s, strlen(s) + 1) : hash_fnv1a(h, "\xff", 1);
}

/* Anything that changes what a check probes, or how, changes this. */
uint64_t sched_task_fingerprint(const struct app *a, const struct task *t)
{
	uint64_t h = HASH_VIPD_SEED;

	h = mix_str(h, t->host);
	h = mix_str(h, t->netns);
	h = mix_str(h, t->started_at);
	h = hash_fnv1a(h, t->ports, t->nports * sizeof(*t->ports));
	for (size_t i = 0; i < t->nip_addresses; i++)
		h = mix_str(h, t->ip_addresses[i]);
	for (size_t i = 0; i < a->nchecks; i++) {
		const struct health_check *hc = &a->checks[i];
		unsigned v[] = {
		    hc->protocol,       hc->grace_period_s,           hc->interval_s,
		    hc->timeout_s,      hc->max_consecutive_failures, hc->delay_s,
		    hc->ignore_http1xx, (unsigned)hc->port_index,     (unsigned)hc->port};

		h = hash_fnv1a(h, v, sizeof(v));
		h = mix_str(h, hc->command);
		h = mix_str(h, hc->path);
	}
	for (size_t i = 0; i < a->nlabels; i++) {
		h = mix_str(h, a->labels[i].key);
		h = mix_str(h, a->labels[i].value);
	}
	return h;
}

/* Marathon's startedAt ("2026-11-26T10:00:00.000Z") as epoch seconds; the
 * grace period runs from it. */
static double task_start_time(const struct task *t, double now)
{
	struct tm tm = {0};
	const char *rest;

	if (!t->started_at)
		return now;
	rest = strptime(t->started_at, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return now;
	return (double)timegm(&tm);
}

static void sched_task_free(struct sched *s, struct sched_task *t)
{
	for (size_t i = 0; i < t->ninst; i++)
		sched_inst_stop(s, &t->inst[i]);
	s->ninstances -= t->ninst;
	free(t->inst);
	free(t->hstates);
	free(t->app_id);
	free(t->task_id);
	free(t);
}

static struct sched_task *task_new(struct sched *s, const struct app *a, const struct task *tk,
                                   uint64_t fp)
{
	struct sched_task *t = calloc(1, sizeof(*t));
	struct health_hysteresis hy;
	double start = task_start_time(tk, ev_now(s->loop));
	char err[128];

	if (!t)
		return NULL;
	t->s = s;
	t->app_id = strdup(a->id);
	t->task_id = strdup(tk->id);
	/* calloc(0) may return NULL: one element at least, not one extra. */
	t->inst = calloc(a->nchecks ? a->nchecks : 1, sizeof(*t->inst));
	t->hstates = calloc(a->nchecks ? a->nchecks : 1, sizeof(*t->hstates));
	if (!t->app_id || !t->task_id || !t->inst || !t->hstates) {
		sched_task_free(s, t);
		return NULL;
	}
	t->fingerprint = fp;
	t->app = a;
	t->task = tk;
	t->ninst = a->nchecks;
	/* An invalid VIPD_HEALTH_RISE/FALL is the table build's located error
	 * (desired_check_labels), which the daemon logs once per reload of the
	 * definitions; the checks then run with Marathon's 1/1. */
	if (health_hysteresis_from_labels(a->labels, a->nlabels, &hy, err, sizeof(err)) < 0)
		health_hysteresis_default(&hy);
	for (size_t i = 0; i < t->ninst; i++) {
		struct sched_inst *in = &t->inst[i];

		in->task = t;
		in->idx = i;
		in->hc = &a->checks[i];
		health_check_init(&t->hstates[i], in->hc, start);
		health_check_set_hysteresis(&t->hstates[i], &hy);
		sched_inst_arm(s, in);
	}
	s->ninstances += t->ninst;
	return t;
}

static void task_insert(struct sched *s, struct sched_task *t)
{
	size_t b;

	if (s->ntasks >= s->nbuckets)
		map_grow(s);
	b = bucket_of(s, t->app_id, t->task_id);
	t->hnext = s->buckets[b];
	s->buckets[b] = t;
	s->ntasks++;
	app_link(s, t);
	if (s->ntasks >= s->nabuckets)
		app_map_grow(s);
}

/* Unlinks *pp (from both maps) and frees it. */
static void task_remove(struct sched *s, struct sched_task **pp)
{
	struct sched_task *t = *pp;

	*pp = t->hnext;
	app_unlink(s, t);
	s->ntasks--;
	sched_task_free(s, t);
}

static void sync_task(struct sched *s, const struct app *a, const struct task *tk)
{
	uint64_t fp = sched_task_fingerprint(a, tk);
	struct sched_task *t = task_find(s, a->id, tk->id);

	if (t && t->fingerprint == fp) {
		t->app = a;
		t->task = tk;
		t->task_idx = (size_t)(tk - a->tasks);
		for (size_t i = 0; i < t->ninst; i++)
			t->inst[i].hc = &a->checks[i];
		t->seen = true;
		return;
	}
	if (t)
		t->seen = false; /* changed: replaced below, its old self swept */
	t = task_new(s, a, tk, fp);
	if (!t)
		return;
	t->task_idx = (size_t)(tk - a->tasks);
	t->seen = true;
	task_insert(s, t);
}

/* Drops every task not seen in this sync (and the replaced ones). */
static void sweep(struct sched *s)
{
	for (size_t b = 0; b < s->nbuckets; b++) {
		struct sched_task **pp = &s->buckets[b];

		while (*pp) {
			struct sched_task *t = *pp;

			if (t->seen) {
				t->seen = false;
				pp = &t->hnext;
				continue;
			}
			task_remove(s, pp);
		}
	}
}

/* What the scheduler runs checks for. */
static bool task_scheduled(const struct sched *s, const struct task *tk)
{
	return tk->state == TASK_STATE_RUNNING &&
	       (s->task_filter == NULL || s->task_filter(s->task_filter_ctx, tk));
}

/* Frees the unseen entries of (app_id, task_id) (a replaced or gone task)
 * and, when `clear`, clears the seen one: the sweep of one task's chain. */
static void sweep_task(struct sched *s, const char *app_id, const char *task_id, bool clear)
{
	struct sched_task **pp = &s->buckets[bucket_of(s, app_id, task_id)];

	while (*pp) {
		struct sched_task *t = *pp;

		if (strcmp(t->task_id, task_id) != 0 || strcmp(t->app_id, app_id) != 0) {
			pp = &t->hnext;
		} else if (t->seen) {
			t->seen = !clear;
			pp = &t->hnext;
		} else {
			task_remove(s, pp);
		}
	}
}

/* An app the reload did not change: each of its tasks keeps its place in
 * the (equal) task list, so its scheduler tasks are re-pointed by walking
 * the app's chain, with no lookup per task. */
static void repoint_app(struct sched *s, const struct app *a)
{
	for (struct sched_task *t = s->abuckets[app_bucket_of(s, a->id)]; t; t = t->anext) {
		if (strcmp(t->app_id, a->id) != 0 || t->task_idx >= a->ntasks)
			continue;
		t->app = a;
		t->task = &a->tasks[t->task_idx];
		for (size_t i = 0; i < t->ninst; i++)
			t->inst[i].hc = &a->checks[i];
	}
}

/* The changed apps' tasks, old and new, swept key by key: no pass over
 * every task of the set. Old keys first, without clearing, so that a task
 * in both sets is still seen when its new key is swept. */
static void sweep_changed(struct sched *s, const struct apps_set *set, const struct apps_set *old,
                          bool (*changed)(void *ctx, const char *app_id), void *ctx)
{
	for (size_t i = 0; i < old->napps; i++) {
		const struct app *a = &old->apps[i];

		for (size_t k = 0; a->id && changed(ctx, a->id) && k < a->ntasks; k++)
			sweep_task(s, a->id, a->tasks[k].id, false);
	}
	for (size_t i = 0; i < set->napps; i++) {
		const struct app *a = &set->apps[i];

		for (size_t k = 0; changed(ctx, a->id) && k < a->ntasks; k++)
			if (task_scheduled(s, &a->tasks[k]))
				sweep_task(s, a->id, a->tasks[k].id, true);
	}
}

/* `repoint`: the unchanged apps are new objects (their tasks re-pointed
 * at them) or the very ones the tasks borrow (left alone). */
static void sync_changed(struct sched *s, const struct apps_set *set, const struct apps_set *old,
                         bool (*changed)(void *ctx, const char *app_id), void *ctx, bool repoint)
{
	/* A changed task's new entry goes to its chain's head, before the old
	 * one (left unseen), so lookups find the new one and the sweep frees
	 * the old. */
	bool partial = changed != NULL && old != NULL;

	for (size_t i = 0; i < set->napps; i++) {
		const struct app *a = &set->apps[i];

		if (partial && !changed(ctx, a->id)) {
			if (repoint)
				repoint_app(s, a);
			continue;
		}
		for (size_t k = 0; k < a->ntasks; k++)
			if (task_scheduled(s, &a->tasks[k]))
				sync_task(s, a, &a->tasks[k]);
	}
	if (partial)
		sweep_changed(s, set, old, changed, ctx);
	else
		sweep(s);
}

void sched_sync_changed(struct sched *s, const struct apps_set *set, const struct apps_set *old,
                        bool (*changed)(void *ctx, const char *app_id), void *ctx)
{
	sync_changed(s, set, old, changed, ctx, true);
}

void sched_sync_changed_in_place(struct sched *s, const struct apps_set *set,
                                 const struct apps_set *old,
                                 bool (*changed)(void *ctx, const char *app_id), void *ctx)
{
	sync_changed(s, set, old, changed, ctx, false);
}

void sched_sync(struct sched *s, const struct apps_set *set)
{
	sched_sync_changed(s, set, NULL, NULL, NULL);
}

void sched_sync_app(struct sched *s, const struct app *a, const char *app_id, const char *task_id)
{
	bool kept = false;

	/* O(the app's tasks): every other app's tasks, untouched in place,
	 * keep what they borrow. */
	for (size_t k = 0; a != NULL && k < a->ntasks; k++)
		if (task_scheduled(s, &a->tasks[k]))
			sync_task(s, a, &a->tasks[k]);
	for (size_t k = 0; a != NULL && k < a->ntasks; k++)
		if (task_scheduled(s, &a->tasks[k])) {
			sweep_task(s, app_id, a->tasks[k].id, true);
			kept = kept || (task_id != NULL && strcmp(a->tasks[k].id, task_id) == 0);
		}
	if (task_id != NULL && !kept)
		sweep_task(s, app_id, task_id, true);
}

enum health_state sched_task_health(const struct sched *s, const char *app_id, const char *task_id)
{
	const struct sched_task *t = task_find(s, app_id, task_id);

	return t ? t->health : HEALTH_UNKNOWN;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	for (size_t b = 0; b < s->nbuckets; b++) {
		struct sched_task *t = s->buckets[b], *next;

		for (; t; t = next) {
			next = t->hnext;
			sched_task_free(s, t);
		}
	}
	ev_timer_stop(s->loop, &s->kick);
	free(s->buckets);
	free(s->abuckets);
	free(s);
}
