/*
 * Shared by the executor tests: running the default loop for a bounded time
 * or until a run completes, and the simple completion recorder the COMMAND
 * and TCP tests use (the HTTP tests record more and define their own), and
 * the open-fd count the leak checks compare.
 * Header-only (static inline: a test may not use every helper).
 */
#ifndef VIPD_TEST_EXEC_WAIT_H
#define VIPD_TEST_EXEC_WAIT_H

#include <dirent.h>
#include <time.h>

#include "vipd/exec.h"

static struct ev_loop *loop;

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void wake_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

/* Runs the loop until *calls is non-zero (calls NULL: for the whole time)
 * or `seconds` pass; a short wake-up timer keeps ev_run from blocking. */
static inline void spin_until(const int *calls, double seconds)
{
	double until = now_s() + seconds;
	ev_timer wake;

	ev_timer_init(&wake, wake_cb, 0.02, 0.02);
	ev_timer_start(loop, &wake);
	while ((!calls || !*calls) && now_s() < until)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &wake);
}

static inline void spin(double seconds)
{
	spin_until(NULL, seconds);
}

#ifndef EXEC_WAIT_OWN_WAITER
struct waiter {
	int calls;
	struct check_result res;
};

static inline void on_done(struct exec_run *run, const struct check_result *res, void *arg)
{
	struct waiter *w = arg;

	(void)run;
	w->calls++;
	w->res = *res;
}
#endif

/* The process's open fds, to show that a run leaks none. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Runs the loop until the waiter is called or `limit_s` passes. */
#define wait_for(w, limit_s) spin_until(&(w)->calls, (limit_s))

#endif
