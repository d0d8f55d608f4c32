/*
 * One vipd per state file: dataplane_state_lock refuses a second holder and
 * names the first (its pid and process name), and lets go at close.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vipd/dataplane.h"

struct dir {
	char root[64];
	char state[128];
};

static void dir_make(struct dir *d)
{
	(void)snprintf(d->root, sizeof(d->root), "/tmp/test_state_lock.XXXXXX");
	assert_non_null(mkdtemp(d->root));
	/* A directory that does not exist yet, as /run/vipd after a boot. */
	(void)snprintf(d->state, sizeof(d->state), "%s/run/owned.json", d->root);
}

static void dir_remove(struct dir *d)
{
	char path[160];

	(void)snprintf(path, sizeof(path), "%s.lock", d->state);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/run", d->root);
	(void)rmdir(path);
	(void)rmdir(d->root);
}

static void test_second_holder_refused_with_holder_named(void **state)
{
	struct dir d;
	char err[512] = "", want[512];
	int fd, fd2;

	(void)state;
	dir_make(&d);
	fd = dataplane_state_lock(d.state, err, sizeof(err));
	assert_true(fd >= 0);
	fd2 = dataplane_state_lock(d.state, err, sizeof(err));
	assert_int_equal(fd2, -1);
	(void)snprintf(want, sizeof(want),
	               "state file %s is locked by another process (pid %d, test_state_lock): two "
	               "vipd must not share one state file, give each its own lb.state_file",
	               d.state, (int)getpid());
	assert_string_equal(err, want);
	close(fd);
	/* Released at close: the next instance may have it. */
	fd2 = dataplane_state_lock(d.state, err, sizeof(err));
	assert_true(fd2 >= 0);
	close(fd2);
	dir_remove(&d);
}

/* The holder is another process: its pid, not ours, is named. */
static void test_holder_in_other_process_named(void **state)
{
	struct dir d;
	char err[512] = "", want[512];
	int ready[2], stop[2], status;
	pid_t child;
	char c;

	(void)state;
	dir_make(&d);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(stop), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd;

		/* Our copy of the write end would keep the read below waiting. */
		close(stop[1]);
		fd = dataplane_state_lock(d.state, err, sizeof(err));
		c = fd >= 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(stop[0], &c, 1) < 0)
			_exit(2);
		_exit(fd >= 0 ? 0 : 1);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(dataplane_state_lock(d.state, err, sizeof(err)), -1);
	(void)snprintf(want, sizeof(want),
	               "state file %s is locked by another process (pid %d, test_state_lock): two "
	               "vipd must not share one state file, give each its own lb.state_file",
	               d.state, (int)child);
	assert_string_equal(err, want);
	close(stop[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready[0]);
	close(ready[1]);
	close(stop[0]);
	dir_remove(&d);
}

static void test_unwritable_directory_said(void **state)
{
	char err[512] = "";

	(void)state;
	assert_int_equal(dataplane_state_lock("/proc/vipd-no/owned.json", err, sizeof(err)), -1);
	assert_string_equal(err, "state file lock /proc/vipd-no/owned.json.lock: No such file or "
	                         "directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_second_holder_refused_with_holder_named),
	    cmocka_unit_test(test_holder_in_other_process_named),
	    cmocka_unit_test(test_unwritable_directory_said),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
