/*
 * Ending the processes of a COMMAND run beyond its process group, on real
 * process trees: a whole tree whose members left the session, through the
 * /proc children files and through the /proc scan used where the kernel has
 * none; the orphan sweep kills what left our session and spares our own
 * children and the live run leaders it is told to keep.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec_procs.h"

#define TREE_MAX 4

/* In the child: leave the session if asked, report our pid, start the rest
 * of the chain (each member in a session of its own, as `setsid cmd &`
 * makes it) and wait to be killed. */
static _Noreturn void chain_member(int wfd, int depth, bool new_session)
{
	pid_t me;

	for (;;) {
		if (new_session)
			setsid();
		me = getpid();
		if (write(wfd, &me, sizeof(me)) != sizeof(me))
			_exit(1);
		/* the parent pauses, the child goes on down the chain */
		if (--depth < 1 || fork() != 0)
			break;
		new_session = true;
	}
	for (;;)
		pause();
}

/* Forks a chain of `depth` processes; pids[0] is our child. */
static void spawn_chain(int depth, bool new_session, pid_t *pids)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		chain_member(p[1], depth, new_session);
	}
	close(p[1]);
	for (int i = 0; i < depth; i++)
		assert_int_equal(read(p[0], &pids[i], sizeof(pids[i])), sizeof(pids[i]));
	close(p[0]);
	assert_int_equal(pids[0], pid);
}

/* Reaps the n processes (we are the subreaper of the grandchildren) and
 * asserts that SIGKILL ended each; fails after 5 s if one lives on. */
static void expect_killed(const pid_t *pids, int n)
{
	struct timespec pause_10ms = {0, 10 * 1000 * 1000};
	int reaped = 0, status, tries;

	for (tries = 0; reaped < n && tries < 500; tries++) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0) {
			nanosleep(&pause_10ms, NULL);
			continue;
		}
		for (int i = 0; i < n; i++)
			if (pids[i] == pid) {
				assert_true(WIFSIGNALED(status));
				assert_int_equal(WTERMSIG(status), SIGKILL);
				reaped++;
			}
	}
	assert_int_equal(reaped, n);
}

static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0 && kill(pid, 0) == 0;
}

static void tree_is_killed(bool scan)
{
	pid_t pids[TREE_MAX];

	exec_procs_force_proc_scan(scan);
	spawn_chain(TREE_MAX, true, pids);
	exec_procs_signal_tree(pids[0], SIGKILL);
	expect_killed(pids, TREE_MAX);
	exec_procs_force_proc_scan(false);
}

static void test_tree_in_new_sessions_is_killed(void **state)
{
	(void)state;
	tree_is_killed(false);
}

static void test_tree_is_killed_by_proc_scan(void **state)
{
	(void)state;
	tree_is_killed(true);
}

static void orphans_are_killed(bool scan)
{
	pid_t own[1], kept[1], orphan[3];

	exec_procs_force_proc_scan(scan);
	spawn_chain(1, false, own);   /* a child of ours in our session */
	spawn_chain(1, true, kept);   /* a live run leader */
	spawn_chain(3, true, orphan); /* what a finished run left */
	assert_int_equal(exec_procs_kill_orphans(kept, 1), 3);
	expect_killed(orphan, 3);
	assert_true(alive(own[0]));
	assert_true(alive(kept[0]));
	kill(own[0], SIGKILL);
	kill(kept[0], SIGKILL);
	expect_killed((pid_t[]){own[0], kept[0]}, 2);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	exec_procs_force_proc_scan(false);
}

static void test_orphans_are_killed_own_children_and_leaders_kept(void **state)
{
	(void)state;
	orphans_are_killed(false);
}

static void test_orphans_are_killed_by_proc_scan(void **state)
{
	(void)state;
	orphans_are_killed(true);
}

static void test_adopting_orphans_makes_us_their_subreaper(void **state)
{
	int on = 0;

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
	assert_int_equal(exec_procs_adopt_orphans(NULL, 0), 0);
	assert_int_equal(prctl(PR_GET_CHILD_SUBREAPER, &on), 0);
	assert_int_equal(on, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_adopting_orphans_makes_us_their_subreaper),
	    cmocka_unit_test(test_tree_in_new_sessions_is_killed),
	    cmocka_unit_test(test_tree_is_killed_by_proc_scan),
	    cmocka_unit_test(test_orphans_are_killed_own_children_and_leaders_kept),
	    cmocka_unit_test(test_orphans_are_killed_by_proc_scan),
	};

	/* The grandchildren of the trees come to us when their parents die. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
