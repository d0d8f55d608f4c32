/*
 * COMMAND executor against real processes: outcomes, Marathon's environment,
 * the unprivileged user, limits, bounded output, deadlines, cancel, no
 * process left by a run (even one that left its group: setsid, double fork,
 * nohup), and no leaked fd or process after many runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vipd/exec.h"

#include "exec_wait.h"

static struct exec_ctx *new_ctx(const struct exec_settings *s)
{
	char err[256] = "";
	struct exec_ctx *ctx = exec_ctx_new(loop, s, err, sizeof(err));

	if (!ctx)
		fail_msg("exec_ctx_new: %s", err);
	return ctx;
}

static struct check_result run_cmd(struct exec_ctx *ctx, const char *command, double timeout_s)
{
	struct exec_request req = {
	    .kind = EXEC_COMMAND, .command = command, .timeout_s = timeout_s};
	struct waiter w = {0};
	char err[256] = "";

	if (!exec_start(ctx, &req, on_done, &w, err, sizeof(err)))
		fail_msg("exec_start: %s", err);
	wait_for(&w, timeout_s + 10);
	assert_int_equal(w.calls, 1);
	return w.res;
}

/* Our direct children, from /proc (CONFIG_PROC_CHILDREN). */
static int count_children(void)
{
	char path[64], buf[4096];
	FILE *f;
	int n = 0;
	char *tok, *save;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
			n++;
	fclose(f);
	return n;
}

static void test_exit_zero_is_ok_and_output_is_captured(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct check_result r = run_cmd(ctx, "echo hello; echo oops >&2", 5);

	(void)state;
	assert_int_equal(r.outcome, CHECK_OK);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.output, "hello\noops\n");
	assert_true(r.latency_ms >= 0 && r.latency_ms < 5000);
	exec_ctx_free(ctx);
}

static void test_exit_nonzero_fails_with_code(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct check_result r = run_cmd(ctx, "echo down >&2; exit 3", 5);

	(void)state;
	assert_int_equal(r.outcome, CHECK_FAIL_EXIT);
	assert_int_equal(r.exit_code, 3);
	assert_string_equal(r.output, "down\n");
	exec_ctx_free(ctx);
}

static void test_killed_by_signal(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct check_result r = run_cmd(ctx, "kill -KILL $$", 5);

	(void)state;
	assert_int_equal(r.outcome, CHECK_FAIL_SIGNAL);
	assert_int_equal(r.signal, SIGKILL);
	exec_ctx_free(ctx);
}

static void test_marathon_environment_and_nothing_else(void **state)
{
	static const uint32_t ports[] = {31000, 31001, 31002};
	static const char *const extra[] = {"EXTRA=yes", NULL};
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = {
	    .kind = EXEC_COMMAND,
	    .command = "echo \"$PORT0 $PORT1 $PORT2 $PORT $PORTS $HOST $MESOS_TASK_ID "
	               "$MARATHON_APP_ID $EXTRA ${VIPD_TEST_SECRET:-clean}\"; "
	               "command -v sh >/dev/null && echo path-ok",
	    .timeout_s = 5,
	    .host = "10.1.2.3",
	    .task_id = "web.1234",
	    .app_id = "/prod/web",
	    .ports = ports,
	    .nports = 3,
	    .extra_env = extra,
	};
	struct waiter w = {0};
	char err[256];

	(void)state;
	setenv("VIPD_TEST_SECRET", "leaked", 1);
	assert_non_null(exec_start(ctx, &req, on_done, &w, err, sizeof(err)));
	wait_for(&w, 10);
	unsetenv("VIPD_TEST_SECRET");
	assert_int_equal(w.res.outcome, CHECK_OK);
	assert_string_equal(w.res.output, "31000 31001 31002 31000 31000,31001,31002 10.1.2.3 "
	                                  "web.1234 /prod/web yes clean\npath-ok\n");
	exec_ctx_free(ctx);
}

static void test_runs_unprivileged_with_limits(void **state)
{
	struct exec_settings s = {.nofile_limit = 64};
	struct exec_ctx *ctx = new_ctx(&s);
	/* Field 19 of /proc/self/stat is the niceness: checks yield to vipd.
	 * vipd renices the run's group once spawn() returns, so a command's
	 * first milliseconds may run before it on a loaded host: read it after
	 * a pause (with -j2 under ASan the shell once got to `cut` first). */
	struct check_result r = run_cmd(ctx,
	                                "id -u; id -G; ulimit -n; ulimit -c; pwd; sleep 0.3; "
	                                "cut -d' ' -f19 /proc/self/stat; cat",
	                                5);
	char expect[128];

	(void)state;
	assert_int_equal(r.outcome, CHECK_OK);
	/* `cat` returned at once: stdin is /dev/null. */
	if (geteuid() == 0)
		snprintf(expect, sizeof(expect), "65534\n65534\n64\n0\n/\n10\n");
	else
		snprintf(expect, sizeof(expect), "%d\n", (int)getuid()); /* prefix only */
	if (geteuid() == 0)
		assert_string_equal(r.output, expect);
	else
		assert_memory_equal(r.output, expect, strlen(expect));
	exec_ctx_free(ctx);
}

static void test_output_is_bounded_and_excess_drained(void **state)
{
	struct exec_settings s = {.output_cap = 100};
	struct exec_ctx *ctx = new_ctx(&s);
	/* 4 MB through a 64 KiB pipe: the command finishes only if we keep
	 * reading past the cap. */
	struct check_result r = run_cmd(ctx, "head -c 4000000 /dev/zero | tr '\\0' x; echo", 10);

	(void)state;
	assert_int_equal(r.outcome, CHECK_OK);
	assert_int_equal(strlen(r.output), 100);
	assert_int_equal(strspn(r.output, "x"), 100);
	exec_ctx_free(ctx);
}

static void test_timeout_kills_the_group(void **state)
{
	struct exec_settings s = {.kill_grace_s = 0.3};
	struct exec_ctx *ctx = new_ctx(&s);
	double started = now_s();
	struct check_result r = run_cmd(ctx, "sleep 30 & sleep 30", 0.3);

	(void)state;
	assert_int_equal(r.outcome, CHECK_FAIL_TIMEOUT);
	assert_true(now_s() - started < 0.3 + 0.3 + 2.0);
	spin(0.2);
	/* Both sleeps are gone (the test is their subreaper: see main). */
	assert_int_equal(count_children(), 0);
	exec_ctx_free(ctx);
}

static void test_timeout_ignoring_sigterm_gets_sigkill(void **state)
{
	struct exec_settings s = {.kill_grace_s = 0.3};
	struct exec_ctx *ctx = new_ctx(&s);
	double started = now_s();
	struct check_result r =
	    run_cmd(ctx, "trap '' TERM; echo armed; while :; do sleep 1; done", 0.3);

	(void)state;
	assert_int_equal(r.outcome, CHECK_FAIL_TIMEOUT);
	assert_int_equal(r.signal, SIGKILL);
	assert_string_equal(r.output, "armed\n");
	assert_true(now_s() - started < 0.3 + 0.3 + 2.0);
	spin(0.2);
	assert_int_equal(count_children(), 0);
	exec_ctx_free(ctx);
}

static void test_background_leftovers_are_killed_on_exit(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	/* The sleep keeps the pipe open: we must not wait for its EOF. */
	double started = now_s();
	struct check_result r = run_cmd(ctx, "sleep 30 & echo started", 5);

	(void)state;
	assert_int_equal(r.outcome, CHECK_OK);
	assert_string_equal(r.output, "started\n");
	assert_true(now_s() - started < 5);
	spin(0.2);
	assert_int_equal(count_children(), 0);
	exec_ctx_free(ctx);
}

/* Processes anywhere on the host whose argv holds `arg`: a run's leftover
 * that escaped to init is found as well as one re-parented to us. */
static int count_procs_with_arg(const char *arg)
{
	char path[300], buf[4096];
	struct dirent *e;
	DIR *d = opendir("/proc");
	size_t n, off;
	FILE *f;
	int found = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		for (off = 0; off < n; off += strlen(buf + off) + 1)
			if (strcmp(buf + off, arg) == 0)
				found++;
	}
	closedir(d);
	return found;
}

/* Runs the loop until no process has `arg` and we have no child left
 * (killed processes are gone and reaped), or 3 s pass on a busy host: a
 * leftover sleep lives for 97 s. */
static void spin_until_gone(const char *arg)
{
	for (int i = 0; i < 60 && (count_procs_with_arg(arg) || count_children()); i++)
		spin(0.05);
}

/* Runs the loop until n processes have `arg` or 3 s pass. */
static void spin_until_count(const char *arg, int n)
{
	for (int i = 0; i < 60 && count_procs_with_arg(arg) != n; i++)
		spin(0.05);
}

/* A sleep argument no other process on the host uses. */
static const char *unique_sleep(int variant)
{
	static char arg[32];

	snprintf(arg, sizeof(arg), "97.%d%d", (int)getpid(), variant);
	return arg;
}

/* Runs `fmt` (with the unique sleep argument for %s) and shows that no
 * process of the run is left, though the command's background sleep left
 * its process group (setsid), its parent (double fork) or ignores SIGHUP
 * (nohup). The executor adopts the orphans itself: the test's own
 * subreaper flag (see main) is cleared first. */
static void expect_no_process_left(const char *fmt, int variant, double timeout_s,
                                   enum check_outcome outcome)
{
	struct exec_settings s = {.kill_grace_s = 0.3};
	struct exec_ctx *ctx = new_ctx(&s);
	const char *arg = unique_sleep(variant);
	char command[256];
	struct check_result r;

	snprintf(command, sizeof(command), fmt, arg);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	r = run_cmd(ctx, command, timeout_s);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	assert_int_equal(r.outcome, outcome);
	spin_until_gone(arg);
	if (count_procs_with_arg(arg) != 0)
		fail_msg("`%s` left %d process(es) running", command, count_procs_with_arg(arg));
	/* and no zombie: every orphan was reaped */
	assert_int_equal(count_children(), 0);
	exec_ctx_free(ctx);
}

static void test_setsid_background_ends_with_the_run(void **state)
{
	(void)state;
	expect_no_process_left("setsid sleep %s & sleep 0.2", 1, 5, CHECK_OK);
}

static void test_double_fork_background_ends_with_the_run(void **state)
{
	(void)state;
	expect_no_process_left("(sleep %s &) ; sleep 0.2", 2, 5, CHECK_OK);
}

static void test_nohup_background_ends_with_the_run(void **state)
{
	(void)state;
	expect_no_process_left("nohup sleep %s >/dev/null 2>&1 & sleep 0.2", 3, 5, CHECK_OK);
}

/* The same escapes from a run killed at its deadline: one still the
 * shell's child, one orphaned before the deadline (a double fork of a
 * setsid), both outside the group the deadline signals. */
static void test_escaped_processes_end_with_a_timed_out_run(void **state)
{
	(void)state;
	expect_no_process_left("setsid sleep %s & sleep 30", 4, 0.3, CHECK_FAIL_TIMEOUT);
	expect_no_process_left("(setsid sleep %s &) ; sleep 30", 5, 0.3, CHECK_FAIL_TIMEOUT);
	expect_no_process_left("(setsid sh -c 'trap \"\" TERM; sleep %s') & sleep 30", 6, 0.3,
	                       CHECK_FAIL_TIMEOUT);
}

/* A cancelled run (the scheduler's overrun) leaves nothing either. */
static void test_cancel_ends_escaped_processes(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	const char *arg = unique_sleep(7);
	char command[128];
	struct exec_request req = {.kind = EXEC_COMMAND, .command = command, .timeout_s = 20};
	struct waiter w = {0};
	struct exec_run *run;
	char err[256];

	(void)state;
	snprintf(command, sizeof(command), "(setsid sleep %s &) ; setsid sleep %s & sleep 30", arg,
	         arg);
	run = exec_start(ctx, &req, on_done, &w, err, sizeof(err));
	assert_non_null(run);
	spin_until_count(arg, 2);
	assert_int_equal(count_procs_with_arg(arg), 2);
	exec_cancel(run);
	spin_until_gone(arg);
	assert_int_equal(w.calls, 0);
	assert_int_equal(count_procs_with_arg(arg), 0);
	assert_int_equal(count_children(), 0);
	exec_ctx_free(ctx);
}

/* Another run's live leader is no orphan: ending one run leaves the
 * other (and its background process) running. */
static void test_one_run_ending_leaves_other_runs_alone(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	const char *arg = unique_sleep(8);
	char command[128];
	struct exec_request req = {.kind = EXEC_COMMAND, .command = command, .timeout_s = 20};
	struct waiter slow = {0};

	(void)state;
	snprintf(command, sizeof(command), "setsid sleep %s & sleep 4; echo still-here", arg);
	assert_non_null(exec_start(ctx, &req, on_done, &slow, NULL, 0));
	spin_until_count(arg, 1);
	assert_int_equal(run_cmd(ctx, "setsid sleep 30 & true", 5).outcome, CHECK_OK);
	assert_int_equal(slow.calls, 0);
	assert_int_equal(count_procs_with_arg(arg), 1);
	wait_for(&slow, 10);
	assert_int_equal(slow.res.outcome, CHECK_OK);
	assert_string_equal(slow.res.output, "still-here\n");
	spin_until_gone(arg);
	assert_int_equal(count_procs_with_arg(arg), 0);
	assert_int_equal(count_children(), 0);
	exec_ctx_free(ctx);
}

static void test_cancel_kills_and_does_not_call_back(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = {.kind = EXEC_COMMAND, .command = "sleep 30", .timeout_s = 20};
	struct waiter w = {0};
	struct exec_run *run;
	char err[256];

	(void)state;
	run = exec_start(ctx, &req, on_done, &w, err, sizeof(err));
	assert_non_null(run);
	spin(0.2);
	assert_int_equal(count_children(), 1);
	assert_int_equal(exec_ctx_running(ctx), 1);
	exec_cancel(run);
	assert_int_equal(exec_ctx_running(ctx), 0);
	spin(0.3);
	assert_int_equal(w.calls, 0);
	assert_int_equal(count_children(), 0);
	exec_ctx_free(ctx);
}

static void test_ctx_free_cancels_runs_in_flight(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = {.kind = EXEC_COMMAND, .command = "sleep 30", .timeout_s = 20};
	struct waiter w = {0};
	char err[256];
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_non_null(exec_start(ctx, &req, on_done, &w, err, sizeof(err)));
	spin(0.2);
	exec_ctx_free(ctx);
	spin(0.3);
	assert_int_equal(w.calls, 0);
	assert_int_equal(count_children(), 0);
}

static void test_many_runs_leak_no_fd_and_no_process(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = {.kind = EXEC_COMMAND, .timeout_s = 5};
	struct waiter w[40];
	char err[256];
	int before, i, ok = 0;

	(void)state;
	memset(w, 0, sizeof(w));
	run_cmd(ctx, "true", 5); /* let lazily opened fds settle */
	before = count_fds();
	for (i = 0; i < 40; i++) {
		/* a mix of ends: success, failure, timeout, huge output */
		static const char *const cmds[] = {"echo ok", "exit 1", "sleep 5",
		                                   "head -c 200000 /dev/zero"};

		req.command = cmds[i % 4];
		req.timeout_s = i % 4 == 2 ? 0.2 : 5;
		assert_non_null(exec_start(ctx, &req, on_done, &w[i], err, sizeof(err)));
	}
	for (i = 0; i < 40; i++) {
		wait_for(&w[i], 15);
		assert_int_equal(w[i].calls, 1);
		ok += w[i].res.outcome == CHECK_OK;
	}
	assert_int_equal(ok, 20);
	assert_int_equal(exec_ctx_running(ctx), 0);
	spin(0.2);
	assert_int_equal(count_fds(), before);
	assert_int_equal(count_children(), 0);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	exec_ctx_free(ctx);
}

static void test_missing_shell_is_a_spawn_failure(void **state)
{
	struct exec_settings s = {.shell = "/nonexistent/sh"};
	struct exec_ctx *ctx = new_ctx(&s);
	struct check_result r = run_cmd(ctx, "true", 5);

	(void)state;
	assert_int_equal(r.outcome, CHECK_FAIL_SPAWN);
	assert_string_equal(r.output, "execve: No such file or directory");
	exec_ctx_free(ctx);
}

static void test_missing_netns_is_a_netns_failure(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = {.kind = EXEC_COMMAND,
	                           .command = "true",
	                           .timeout_s = 5,
	                           .netns = "/run/netns/vipd-test-absent"};
	struct waiter w = {0};
	char err[256];

	(void)state;
	assert_non_null(exec_start(ctx, &req, on_done, &w, err, sizeof(err)));
	/* never from inside exec_start */
	assert_int_equal(w.calls, 0);
	wait_for(&w, 5);
	assert_int_equal(w.res.outcome, CHECK_FAIL_NETNS);
	assert_string_equal(w.res.output,
	                    "netns /run/netns/vipd-test-absent: open: No such file or directory");
	exec_ctx_free(ctx);
}

/* A file that is not a namespace: opened fine, refused by setns() in the child. */
static void test_non_namespace_path_is_a_netns_failure(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = {
	    .kind = EXEC_COMMAND, .command = "true", .timeout_s = 5, .netns = "/dev/null"};
	struct waiter w = {0};
	char err[256];

	(void)state;
	assert_non_null(exec_start(ctx, &req, on_done, &w, err, sizeof(err)));
	wait_for(&w, 5);
	assert_int_equal(w.res.outcome, CHECK_FAIL_NETNS);
	assert_string_equal(w.res.output, "netns /dev/null: setns: Invalid argument");
	exec_ctx_free(ctx);
}

static void test_invalid_requests_are_refused(void **state)
{
	struct exec_ctx *ctx = new_ctx(NULL);
	struct exec_request req = {.kind = EXEC_COMMAND, .timeout_s = 5};
	struct waiter w = {0};
	char err[256];

	(void)state;
	assert_null(exec_start(ctx, &req, on_done, &w, err, sizeof(err)));
	assert_string_equal(err, "COMMAND check without a command");
	req.command = "true";
	req.timeout_s = 0;
	assert_null(exec_start(ctx, &req, on_done, &w, err, sizeof(err)));
	assert_string_equal(err, "COMMAND check: timeout must be positive, got 0");
	assert_int_equal(exec_ctx_running(ctx), 0);
	exec_ctx_free(ctx);
}

static void test_context_needs_default_loop(void **state)
{
	struct ev_loop *other = ev_loop_new(EVFLAG_AUTO);
	char err[256];

	(void)state;
	assert_null(exec_ctx_new(other, NULL, err, sizeof(err)));
	assert_string_equal(err, "executors need libev's default loop (ev_child works only there)");
	ev_loop_destroy(other);
}

static void test_unknown_user_is_refused_when_root(void **state)
{
	struct exec_settings s = {.run_as_user = "vipd-no-such-user"};
	char err[256];

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_null(exec_ctx_new(loop, &s, err, sizeof(err)));
	assert_string_equal(err, "run-as user \"vipd-no-such-user\": no such user");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exit_zero_is_ok_and_output_is_captured),
	    cmocka_unit_test(test_exit_nonzero_fails_with_code),
	    cmocka_unit_test(test_killed_by_signal),
	    cmocka_unit_test(test_marathon_environment_and_nothing_else),
	    cmocka_unit_test(test_runs_unprivileged_with_limits),
	    cmocka_unit_test(test_output_is_bounded_and_excess_drained),
	    cmocka_unit_test(test_timeout_kills_the_group),
	    cmocka_unit_test(test_timeout_ignoring_sigterm_gets_sigkill),
	    cmocka_unit_test(test_background_leftovers_are_killed_on_exit),
	    cmocka_unit_test(test_setsid_background_ends_with_the_run),
	    cmocka_unit_test(test_double_fork_background_ends_with_the_run),
	    cmocka_unit_test(test_nohup_background_ends_with_the_run),
	    cmocka_unit_test(test_escaped_processes_end_with_a_timed_out_run),
	    cmocka_unit_test(test_cancel_ends_escaped_processes),
	    cmocka_unit_test(test_one_run_ending_leaves_other_runs_alone),
	    cmocka_unit_test(test_cancel_kills_and_does_not_call_back),
	    cmocka_unit_test(test_ctx_free_cancels_runs_in_flight),
	    cmocka_unit_test(test_many_runs_leak_no_fd_and_no_process),
	    cmocka_unit_test(test_missing_shell_is_a_spawn_failure),
	    cmocka_unit_test(test_missing_netns_is_a_netns_failure),
	    cmocka_unit_test(test_non_namespace_path_is_a_netns_failure),
	    cmocka_unit_test(test_invalid_requests_are_refused),
	    cmocka_unit_test(test_context_needs_default_loop),
	    cmocka_unit_test(test_unknown_user_is_refused_when_root),
	};

	loop = ev_default_loop(0);
	/* Orphans of the commands (their background processes) become our
	 * children, so "no process remains" can be checked from here. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
