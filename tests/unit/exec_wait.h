/*
 * Shared by the executor tests: a completion recorder and a bounded wait on
 * the default loop. Header-only; each test program includes it once.
 */
#ifndef VIPD_TEST_EXEC_WAIT_H
#define VIPD_TEST_EXEC_WAIT_H

#include <time.h>

#include "vipd/exec.h"

struct waiter {
	int calls;
	struct check_result res;
};

static struct ev_loop *loop;

static void on_done(struct exec_run *run, const struct check_result *res, void *arg)
{
	struct waiter *w = arg;

	(void)run;
	w->calls++;
	w->res = *res;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wake_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

/* Runs the loop until the waiter is called or `limit_s` passes. */
static void wait_for(struct waiter *w, double limit_s)
{
	double until = now_s() + limit_s;
	ev_timer wake;

	ev_timer_init(&wake, wake_cb, 0.05, 0.05);
	ev_timer_start(loop, &wake);
	while (!w->calls && now_s() < until)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &wake);
}

#endif
