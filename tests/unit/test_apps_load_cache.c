/*
 * The per-file cache of a directory source: a reload parses only the files
 * that changed (counted), a file replaced by rename with the same size and
 * times is caught by its inode, and after random edits the cached read
 * gives exactly what a whole read gives (apps, order, diagnostics); the
 * diff of two reads, which skips the apps copied from unchanged files,
 * gives exactly what comparing every app gives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vipd/apps.h"
#include "vipd/apps_diff.h"

struct fixture {
	char dir[64];
	struct apps_load_cache *cache;
};

/* Files written less than 20 ms before a read are not kept (their times
 * could hide a change in the same tick): the tests let that pass before
 * reading, so that what they count is the cache's choice. */
static void settle(void)
{
	struct timespec ts = {0, 30 * 1000000L};

	nanosleep(&ts, NULL);
}

static void path_of(const struct fixture *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

static void write_file(const struct fixture *f, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	path_of(f, name, path, sizeof(path));
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vipd-load-cache.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->cache = apps_load_cache_new();
	assert_non_null(f->cache);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	apps_load_cache_free(f->cache);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void assert_same_set(const struct apps_set *a, const struct apps_set *b)
{
	char la[2048], lb[2048];

	assert_int_equal(a->napps, b->napps);
	for (size_t i = 0; i < a->napps; i++) {
		assert_string_equal(a->apps[i].id, b->apps[i].id);
		assert_true(app_definition_equal(&a->apps[i], &b->apps[i]));
		assert_true(app_tasks_equal(&a->apps[i], &b->apps[i]));
	}
	assert_int_equal(a->diags.count, b->diags.count);
	for (size_t i = 0; i < a->diags.count; i++)
		assert_string_equal(diag_format(&a->diags.items[i], la, sizeof(la)),
		                    diag_format(&b->diags.items[i], lb, sizeof(lb)));
	assert_int_equal(a->files_read, b->files_read);
}

/* The cached read, checked against a whole read of the same files. */
static struct apps_set read_both(const struct fixture *f)
{
	struct apps_set cached = {0}, whole = {0};

	assert_int_equal(apps_load_path_cached(&cached, f->dir, f->cache),
	                 apps_load_path(&whole, f->dir));
	assert_same_set(&cached, &whole);
	apps_set_free(&whole);
	return cached;
}

static const char *app_json(const char *id, const char *host)
{
	static char buf[256];

	snprintf(buf, sizeof(buf),
	         "{\"id\": \"%s\", \"portDefinitions\": [{\"port\": 0, \"labels\": "
	         "{\"VIP_0\": \"%s:80\"}}], \"tasks\": [{\"id\": \"%s.1\", \"host\": \"%s\", "
	         "\"ports\": [31000]}]}",
	         id, id, id + 1, host);
	return buf;
}

static void test_only_changed_files_are_parsed(void **state)
{
	struct fixture *f = *state;
	struct apps_set set;

	write_file(f, "a.json", app_json("/a", "10.0.0.1"));
	write_file(f, "b.json", app_json("/b", "10.0.0.1"));
	write_file(f, "c.json", app_json("/c", "10.0.0.1"));
	settle();
	set = read_both(f);
	assert_int_equal(apps_load_cache_parses(f->cache), 3);
	apps_set_free(&set);

	set = read_both(f); /* nothing changed: nothing parsed, the same set */
	assert_int_equal(apps_load_cache_parses(f->cache), 3);
	assert_int_equal(set.napps, 3);
	apps_set_free(&set);

	write_file(f, "b.json", app_json("/b", "10.0.0.22"));
	settle();
	set = read_both(f);
	assert_int_equal(apps_load_cache_parses(f->cache), 4);
	assert_string_equal(set.apps[1].tasks[0].host, "10.0.0.22");
	assert_string_equal(set.apps[2].id, "/c");
	apps_set_free(&set);
}

/* An editor's write-then-rename can leave size and mtime as they were (a
 * tool preserving times, or a change within one timestamp tick): the new
 * inode still says it is another file. */
static void test_rename_with_same_size_and_mtime_is_caught(void **state)
{
	struct fixture *f = *state;
	char path[256], tmp[256];
	struct stat st;
	struct apps_set set;
	struct timespec times[2];

	write_file(f, "a.json", app_json("/a", "10.0.0.1"));
	write_file(f, "b.json", app_json("/b", "10.0.0.1"));
	settle();
	set = read_both(f);
	apps_set_free(&set);
	path_of(f, "b.json", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);

	write_file(f, ".b.json.swp", app_json("/b", "10.0.0.9"));
	path_of(f, ".b.json.swp", tmp, sizeof(tmp));
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, tmp, times, 0), 0);
	assert_int_equal(rename(tmp, path), 0);
	settle();
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mtim.tv_nsec, times[1].tv_nsec);

	set = read_both(f);
	assert_int_equal(apps_load_cache_parses(f->cache), 3);
	assert_string_equal(set.apps[1].tasks[0].host, "10.0.0.9");
	apps_set_free(&set);
}

/* A file that was broken is parsed again on every read (its errors are
 * reported each time) until fixed; the others are not. */
static void test_broken_file_is_parsed_each_time(void **state)
{
	struct fixture *f = *state;
	struct apps_set set;
	char line[512];

	write_file(f, "a.json", app_json("/a", "10.0.0.1"));
	write_file(f, "b.json", "{\"id\": \"/b\", \"tasks\": 3}");
	settle();
	set = read_both(f);
	apps_set_free(&set);
	set = read_both(f);
	assert_int_equal(apps_load_cache_parses(f->cache), 3);
	assert_int_equal(set.diags.count, 1);
	assert_string_equal(diag_format(&set.diags.items[0], line, sizeof(line)) + strlen(f->dir),
	                    "/b.json: /tasks: expected an array, got 3");
	apps_set_free(&set);
}

/* Random edits: rewrites with ids from a small pool (so apps collide
 * within and across files), invalid JSON, deletions, a FIFO in a file's
 * place; after each, the cached read equals a whole read. */
static void random_edit(const struct fixture *f, unsigned *seed)
{
	char name[32], path[256], text[2048];
	int file = rand_r(seed) % 6, op = rand_r(seed) % 10;
	size_t len = 0;

	snprintf(name, sizeof(name), "f%d.json", file);
	path_of(f, name, path, sizeof(path));
	if (op == 0 || op == 1) {
		unlink(path);
		if (op == 1)
			assert_int_equal(mkfifo(path, 0600), 0);
		return;
	}
	unlink(path); /* a FIFO is not written to */
	if (op == 2) {
		write_file(f, name, "{\"apps\": [");
		return;
	}
	len += (size_t)snprintf(text + len, sizeof(text) - len, "{\"apps\": [");
	for (int i = 0, n = 1 + rand_r(seed) % 3; i < n; i++) {
		char id[16], host[16];

		snprintf(id, sizeof(id), "/pa%d", rand_r(seed) % 24);
		snprintf(host, sizeof(host), "10.0.0.%d", rand_r(seed) % 4);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", i ? ", " : "",
		                        app_json(id, host));
	}
	snprintf(text + len, sizeof(text) - len, "]}");
	write_file(f, name, text);
}

static size_t count_duplicates(const struct apps_set *set)
{
	size_t n = 0;

	for (size_t i = 0; i < set->diags.count; i++)
		n += strstr(set->diags.items[i].message, "duplicate app id") != NULL;
	return n;
}

static void test_cached_read_equals_whole_read_after_random_edits(void **state)
{
	struct fixture *f = *state;
	unsigned seed = 10;
	size_t files = 0, duplicates = 0;
	struct apps_set set;

	for (int round = 0; round < 60; round++) {
		for (int k = 0, n = 1 + rand_r(&seed) % 2; k < n; k++)
			random_edit(f, &seed);
		settle();
		set = read_both(f);
		files += set.files_read;
		duplicates += count_duplicates(&set);
		apps_set_free(&set);
	}
	/* The cache did its part: a third of the files read came from it
	 * (edits, broken files and duplicates are parsed each time). */
	print_message("%zu parses for %zu files read, %zu duplicates\n",
	              apps_load_cache_parses(f->cache), files, duplicates);
	assert_true(duplicates > 0); /* the case only a parse in order reports was met */
	assert_true(apps_load_cache_parses(f->cache) < files * 2 / 3);
}

/* The diff as it was before the reused flags: every app compared. */
static void diff_full(const struct apps_set *old, const struct apps_set *fresh,
                      struct apps_diff *out)
{
	struct apps_set plain = *fresh; /* a view: not freed */

	plain.reused = NULL;
	plain.nreused = 0;
	assert_int_equal(apps_diff(old, &plain, out, NULL, 0), 0);
	assert_int_equal(out->reused, 0);
}

static void assert_same_diff(const struct apps_diff *a, const struct apps_diff *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->items[i].id, b->items[i].id);
		assert_string_equal(apps_change_name(a->items[i].change),
		                    apps_change_name(b->items[i].change));
	}
	assert_int_equal(a->unchanged, b->unchanged);
}

/* Each read diffed against the one before; now and then against a whole
 * read instead (a set the flags do not refer to: all of it compared), and
 * now and then without waiting (files too recent to keep). */
static void test_diff_skipping_reused_apps_equals_full_diff(void **state)
{
	struct fixture *f = *state;
	unsigned seed = 77;
	size_t reused = 0, changes = 0, kept = 0;
	struct apps_set prev = {0}, fresh;

	for (int round = 0; round < 60; round++) {
		struct apps_diff fast, full;
		bool other = rand_r(&seed) % 5 == 0;

		for (int k = 0, n = rand_r(&seed) % 3; k < n; k++)
			random_edit(f, &seed);
		if (rand_r(&seed) % 4 != 0)
			settle();
		if (other) {
			apps_set_free(&prev);
			(void)apps_load_path(&prev, f->dir);
		}
		fresh = (struct apps_set){0};
		(void)apps_load_path_cached(&fresh, f->dir, f->cache);
		const struct app *prev_apps = prev.apps;
		const struct task *prev_tasks[32] = {0};

		assert_int_equal(apps_diff(&prev, &fresh, &fast, NULL, 0), 0);
		diff_full(&prev, &fresh, &full);
		assert_same_diff(&fast, &full);
		if (other || round == 0)
			assert_int_equal(fast.reused, 0);
		assert_true(prev.napps <= 32);
		for (size_t i = 0; i < prev.napps; i++)
			prev_tasks[i] = prev.apps[i].tasks;
		/* The new set taking the previous one's objects for the equal
		 * apps (copied or compared) still is what a whole read gives,
		 * and those objects did not move. */
		if (apps_keep_unchanged(&prev, &fresh, apps_diff_has, &fast)) {
			struct apps_set whole = {0};

			assert_false(other);
			assert_ptr_equal(fresh.apps, prev_apps);
			for (size_t i = 0; i < fresh.napps; i++)
				if (!apps_diff_has(&fast, fresh.apps[i].id))
					assert_ptr_equal(fresh.apps[i].tasks, prev_tasks[i]);
			(void)apps_load_path(&whole, f->dir);
			assert_same_set(&fresh, &whole);
			apps_set_free(&whole);
			kept++;
		}
		reused += fast.reused;
		changes += fast.n;
		apps_diff_free(&fast);
		apps_diff_free(&full);
		apps_set_free(&prev);
		prev = fresh;
	}
	apps_set_free(&prev);
	print_message("%zu apps skipped as reused, %zu changes, %zu sets took the old objects\n",
	              reused, changes, kept);
	assert_true(reused > 0);
	assert_true(kept > 0);
	assert_true(changes > 0);
}

/* One file of three changed: only its app is compared, and the change is
 * the one a full comparison finds. */
static void test_diff_compares_only_the_changed_files_apps(void **state)
{
	struct fixture *f = *state;
	struct apps_set a = {0}, b = {0};
	struct apps_diff d;

	write_file(f, "a.json", app_json("/a", "10.0.0.1"));
	write_file(f, "b.json", app_json("/b", "10.0.0.1"));
	write_file(f, "c.json", app_json("/c", "10.0.0.1"));
	settle();
	assert_int_equal(apps_load_path_cached(&a, f->dir, f->cache), 0);
	write_file(f, "b.json", app_json("/b", "10.0.0.2"));
	settle();
	assert_int_equal(apps_load_path_cached(&b, f->dir, f->cache), 0);
	assert_int_equal(apps_diff(&a, &b, &d, NULL, 0), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.items[0].id, "/b");
	assert_string_equal(apps_change_name(d.items[0].change), "tasks");
	assert_int_equal(d.unchanged, 2);
	assert_int_equal(d.reused, 2);
	/* b takes a's /a and /c, at their addresses; a keeps its old /b. */
	const struct app *a0 = &a.apps[0], *c0 = &a.apps[2];
	const struct task *a0_tasks = a.apps[0].tasks;

	assert_true(apps_keep_unchanged(&a, &b, apps_diff_has, &d));
	apps_diff_free(&d);
	assert_ptr_equal(&b.apps[0], a0);
	assert_ptr_equal(&b.apps[2], c0);
	assert_ptr_equal(b.apps[0].tasks, a0_tasks);
	assert_string_equal(b.apps[1].tasks[0].host, "10.0.0.2");
	assert_string_equal(a.apps[1].tasks[0].host, "10.0.0.1");
	assert_string_equal(a.apps[0].id, "/a");
	/* An app added: the places differ, nothing moves. */
	write_file(f, "d.json", app_json("/d", "10.0.0.1"));
	settle();
	apps_set_free(&a);
	assert_int_equal(apps_load_path_cached(&a, f->dir, f->cache), 0);
	assert_int_equal(apps_diff(&b, &a, &d, NULL, 0), 0);
	assert_false(apps_keep_unchanged(&b, &a, apps_diff_has, &d));
	apps_diff_free(&d);
	assert_ptr_equal(&b.apps[0], a0);
	apps_set_free(&a);
	apps_set_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_only_changed_files_are_parsed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rename_with_same_size_and_mtime_is_caught, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_broken_file_is_parsed_each_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cached_read_equals_whole_read_after_random_edits,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diff_skipping_reused_apps_equals_full_diff, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_diff_compares_only_the_changed_files_apps, setup,
	                                    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
