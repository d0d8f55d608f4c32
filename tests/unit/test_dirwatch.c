/*
 * The inotify watch on an app source, on a real libev loop over a scratch
 * directory: one callback per burst after the settle delay, a cap on the
 * wait under a steady stream, a file source's name filter and rename-over,
 * the directory replaced, and the watch lost when its parent goes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ev.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vipd/dirwatch.h"

struct seen {
	struct ev_loop *loop;
	int changed, lost;
	double first_at; /* ev_now of the first callback */
	struct dirwatch *w;
};

static void on_watch(void *arg, enum dirwatch_event ev)
{
	struct seen *s = arg;

	if (ev == DIRWATCH_LOST) {
		s->lost++;
		dirwatch_close(s->w);
		s->w = NULL;
		return;
	}
	if (s->changed++ == 0)
		s->first_at = ev_now(s->loop);
}

static void on_stop(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop for `seconds`. */
static void run_for(struct ev_loop *loop, double seconds)
{
	ev_timer stop;

	ev_timer_init(&stop, on_stop, seconds, 0);
	ev_timer_start(loop, &stop);
	ev_run(loop, 0);
	ev_timer_stop(loop, &stop);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void scratch(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vipd-watch-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void remove_tree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Writes one file per tick into a directory: a burst spread over time. */
struct writer {
	ev_timer t;
	const char *dir;
	int left, n;
	double last_at;
};

static void on_write_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct writer *wr = t->data;
	char path[256];

	(void)revents;
	snprintf(path, sizeof(path), "%s/f%d.json", wr->dir, wr->n++);
	write_text(path, "{}");
	wr->last_at = ev_time();
	if (--wr->left == 0)
		ev_timer_stop(loop, t);
}

static void start_writer(struct ev_loop *loop, struct writer *wr, const char *dir, int count,
                         double every)
{
	wr->dir = dir;
	wr->left = count;
	wr->n = 0;
	ev_timer_init(&wr->t, on_write_tick, every, every);
	wr->t.data = wr;
	ev_timer_start(loop, &wr->t);
}

/* Six files written 50 ms apart: one callback, no earlier than the settle
 * delay after the last. */
static void test_burst_is_one_change(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct seen s = {.loop = loop};
	struct writer wr;
	char dir[64], err[256];

	scratch(dir, sizeof(dir));
	s.w = dirwatch_open(loop, dir, 0.15, 5.0, on_watch, &s, err, sizeof(err));
	assert_non_null(s.w);
	start_writer(loop, &wr, dir, 6, 0.05);
	run_for(loop, 1.0);
	assert_int_equal(s.changed, 1);
	assert_true(s.first_at >= wr.last_at + 0.14);
	assert_true(s.first_at <= wr.last_at + 0.6);
	dirwatch_close(s.w);
	ev_loop_destroy(loop);
	remove_tree(dir);
}

/* Writes that never stop for the settle delay are still read: at most
 * max_wait after the first. */
static void test_steady_stream_capped(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct seen s = {.loop = loop};
	struct writer wr;
	char dir[64], err[256];
	double started;

	scratch(dir, sizeof(dir));
	s.w = dirwatch_open(loop, dir, 0.15, 0.3, on_watch, &s, err, sizeof(err));
	assert_non_null(s.w);
	ev_now_update(loop);
	started = ev_now(loop);
	start_writer(loop, &wr, dir, 20, 0.05);
	run_for(loop, 0.7);
	assert_true(s.changed >= 1);
	assert_true(s.first_at <= started + 0.05 + 0.3 + 0.1);
	ev_timer_stop(loop, &wr.t);
	dirwatch_close(s.w);
	ev_loop_destroy(loop);
	remove_tree(dir);
}

/* A file source: other names in its directory are no change; the file
 * written, or replaced by rename, is. */
static void test_file_source_filter_and_rename(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct seen s = {.loop = loop};
	char dir[64], file[128], other[128], tmp[128], err[256];

	scratch(dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/apps.json", dir);
	snprintf(other, sizeof(other), "%s/other.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/.apps.json.tmp", dir);
	write_text(file, "{}");
	s.w = dirwatch_open(loop, file, 0.05, 1.0, on_watch, &s, err, sizeof(err));
	assert_non_null(s.w);
	write_text(other, "{}");
	write_text(tmp, "{}");
	run_for(loop, 0.3);
	assert_int_equal(s.changed, 0);
	assert_int_equal(rename(tmp, file), 0);
	run_for(loop, 0.3);
	assert_int_equal(s.changed, 1);
	write_text(file, "{\"id\": \"/x\"}");
	run_for(loop, 0.3);
	assert_int_equal(s.changed, 2);
	dirwatch_close(s.w);
	ev_loop_destroy(loop);
	remove_tree(dir);
}

/* The directory renamed away and another renamed in: a change, and the new
 * one is watched from then on, not the old. */
static void test_directory_replaced(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct seen s = {.loop = loop};
	char dir[64], apps[128], fresh[128], old[128], path[192], err[256];

	scratch(dir, sizeof(dir));
	snprintf(apps, sizeof(apps), "%s/apps", dir);
	snprintf(fresh, sizeof(fresh), "%s/apps.new", dir);
	snprintf(old, sizeof(old), "%s/apps.old", dir);
	assert_int_equal(mkdir(apps, 0755), 0);
	assert_int_equal(mkdir(fresh, 0755), 0);
	s.w = dirwatch_open(loop, apps, 0.05, 1.0, on_watch, &s, err, sizeof(err));
	assert_non_null(s.w);
	assert_int_equal(rename(apps, old), 0);
	assert_int_equal(rename(fresh, apps), 0);
	run_for(loop, 0.3);
	assert_int_equal(s.changed, 1);
	snprintf(path, sizeof(path), "%s/a.json", old);
	write_text(path, "{}");
	run_for(loop, 0.3);
	assert_int_equal(s.changed, 1);
	snprintf(path, sizeof(path), "%s/a.json", apps);
	write_text(path, "{}");
	run_for(loop, 0.3);
	assert_int_equal(s.changed, 2);
	assert_int_equal(s.lost, 0);
	dirwatch_close(s.w);
	ev_loop_destroy(loop);
	remove_tree(dir);
}

/* No parent directory: no watch, and why. Its parent removed: lost. */
static void test_unwatchable_and_lost(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct seen s = {.loop = loop};
	char dir[64], sub[128], path[192], err[256], want[320];

	scratch(dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(path, sizeof(path), "%s/apps", sub);
	assert_null(dirwatch_open(loop, path, 0.05, 1.0, on_watch, &s, err, sizeof(err)));
	snprintf(want, sizeof(want), "inotify on %s: No such file or directory", sub);
	assert_string_equal(err, want);
	assert_int_equal(mkdir(sub, 0755), 0);
	s.w = dirwatch_open(loop, path, 0.05, 1.0, on_watch, &s, err, sizeof(err));
	assert_non_null(s.w);
	assert_int_equal(rmdir(sub), 0);
	run_for(loop, 0.3);
	assert_int_equal(s.lost, 1);
	assert_null(s.w);
	ev_loop_destroy(loop);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_is_one_change),
	    cmocka_unit_test(test_steady_stream_capped),
	    cmocka_unit_test(test_file_source_filter_and_rename),
	    cmocka_unit_test(test_directory_replaced),
	    cmocka_unit_test(test_unwatchable_and_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
