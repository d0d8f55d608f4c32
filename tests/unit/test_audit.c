/* The audit writer: check output made valid UTF-8 and cut between characters,
 * one vipd per log, and a reader too slow for the memory queue: the lines
 * shed are counted and said, in sequence, in the next line written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "vipd/audit.h"

static void assert_sanitized(const char *in, const char *want)
{
	char out[AUDIT_TEXT_MAX + 1];

	assert_int_equal(audit_utf8_sanitize(in, out, sizeof(out)), strlen(want));
	assert_string_equal(out, want);
}

static void test_utf8_sanitize(void **state)
{
	(void)state;
	assert_sanitized("plain ascii", "plain ascii");
	assert_sanitized("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
	                 "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	/* Stray bytes, an overlong '/', a surrogate, past U+10FFFF. */
	assert_sanitized("a\xFF"
	                 "b",
	                 "a\xEF\xBF\xBD"
	                 "b");
	assert_sanitized("\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD");
	assert_sanitized("\xED\xA0\x80x", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx");
	assert_sanitized("\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	/* A character cut by the 511-byte capture is left out, not replaced. */
	assert_sanitized("ok\xC3", "ok");
	assert_sanitized("ok\xE2\x82", "ok");
	/* An invalid start in the middle is replaced, the rest kept. */
	assert_sanitized("\xE2\x82x", "\xEF\xBF\xBD\xEF\xBF\xBDx");
}

static void test_text_cut_on_boundary(void **state)
{
	char in[601], want[AUDIT_TEXT_MAX + 1];
	json_t *s;

	(void)state;
	/* 600 bytes of é: 511 would cut the 256th in half; 255 whole ones stay. */
	for (int i = 0; i < 300; i++)
		memcpy(in + 2 * i, "\xC3\xA9", 2);
	in[600] = '\0';
	memcpy(want, in, 510);
	want[510] = '\0';
	s = audit_text(in);
	assert_non_null(s);
	assert_string_equal(json_string_value(s), want);
	json_decref(s);
	/* Replacements count against the limit too: 511 bad bytes -> 170 U+FFFD. */
	memset(in, 0xFF, 511);
	in[511] = '\0';
	s = audit_text(in);
	assert_non_null(s);
	assert_int_equal(strlen(json_string_value(s)), 510);
	json_decref(s);
}

static void test_second_writer_refused(void **state)
{
	char path[] = "/tmp/test_audit_lock.XXXXXX", err[512], want[512];
	struct ev_loop *loop = ev_loop_new(0);
	struct audit *a, *b;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	a = audit_open(loop, path, err, sizeof(err));
	assert_non_null(a);
	b = audit_open(loop, path, err, sizeof(err));
	assert_null(b);
	snprintf(
	    want, sizeof(want),
	    "audit log %s is locked by another process (pid %d, test_audit): two vipd must not "
	    "share one audit log, give each its own --audit",
	    path, (int)getpid());
	assert_string_equal(err, want);
	audit_close(a);
	/* Released at close: the next instance may have it. */
	b = audit_open(loop, path, err, sizeof(err));
	assert_non_null(b);
	audit_close(b);
	unlink(path);
	ev_loop_destroy(loop);
}

/* Reads what the FIFO holds now into `log` (grown as needed). */
static void read_all(int rfd, char **log, size_t *len, size_t *cap)
{
	for (;;) {
		ssize_t n;

		if (*cap - *len < 65536) {
			*cap = *cap * 2 + 65536;
			*log = realloc(*log, *cap);
			assert_non_null(*log);
		}
		n = read(rfd, *log + *len, *cap - *len);
		if (n <= 0)
			return;
		*len += (size_t)n;
	}
}

static void test_slow_reader_sheds_counted_lines(void **state)
{
	char dir[] = "/tmp/test_audit_fifo.XXXXXX", path[128], err[512], pad[400];
	struct ev_loop *loop = ev_loop_new(0);
	char *log = NULL, *line, *save;
	size_t len = 0, cap = 0;
	long long expect_seq = 1, lost_said = 0, lines = 0;
	struct audit *a;
	int rfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	a = audit_open(loop, path, err, sizeof(err));
	assert_non_null(a);
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	/* ~12 MiB while nobody reads: past the 8 MiB queue and the pipe. */
	for (int i = 0; i < 28000; i++)
		audit_emit(a, "test", json_pack("{s:i, s:s}", "i", i, "pad", pad));
	assert_true(audit_lines_dropped(a) > 0);
	assert_true(audit_lines_written(a) + audit_lines_dropped(a) == 28000);
	/* The reader catches up; the next line is preceded by the count. */
	for (int i = 0; i < 1000; i++) {
		read_all(rfd, &log, &len, &cap);
		ev_run(loop, EVRUN_NOWAIT);
	}
	audit_emit(a, "test", json_pack("{s:s}", "last", "yes"));
	for (int i = 0; i < 200; i++) {
		read_all(rfd, &log, &len, &cap);
		ev_run(loop, EVRUN_NOWAIT);
	}
	read_all(rfd, &log, &len, &cap);
	assert_true(len > 0 && log[len - 1] == '\n');
	log[len] = '\0';
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		const char *event;

		assert_non_null(o);
		event = json_string_value(json_object_get(o, "event"));
		if (strcmp(event, "audit_lost") == 0) {
			long long n = json_integer_value(json_object_get(o, "lines"));

			assert_int_equal(n, (long long)audit_lines_dropped(a));
			assert_string_equal(json_string_value(json_object_get(o, "reason")),
			                    "reader too slow, memory queue full");
			expect_seq += n;
			lost_said += n;
		}
		assert_int_equal(json_integer_value(json_object_get(o, "seq")), expect_seq);
		expect_seq++;
		lines++;
		json_decref(o);
	}
	assert_int_equal(lost_said, (long long)audit_lines_dropped(a));
	assert_int_equal(lines + lost_said, 28000 + 2); /* + the audit_lost line and the last */
	audit_close(a);
	close(rfd);
	unlink(path);
	rmdir(dir);
	free(log);
	ev_loop_destroy(loop);
}

static void set_file_limit(rlim_t soft)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = soft;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	return buf;
}

/* Every line of `path` whole, one JSON object, numbered from *seq + 1 on;
 * returns the number of lines and leaves *seq at the last. */
static int check_whole_lines(const char *path, long long *seq)
{
	size_t len;
	char *buf = slurp(path, &len), *line, *save;
	int n = 0;

	assert_true(len > 0);
	assert_int_equal(buf[len - 1], '\n');
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);

		assert_non_null(o);
		assert_int_equal(json_integer_value(json_object_get(o, "seq")), ++*seq);
		json_decref(o);
		n++;
	}
	free(buf);
	return n;
}

static void emit_lines(struct audit *a, int n)
{
	char pad[200];

	memset(pad, 'y', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (int i = 0; i < n; i++)
		audit_emit(a, "test", json_pack("{s:i, s:s}", "i", i, "pad", pad));
}

/* A file that stops taking bytes mid-line (RLIMIT_FSIZE: a short write, then
 * EFBIG, as a full disk gives a short write, then ENOSPC): nothing is dropped,
 * a reopen for logrotate waits for the line to be finished in the old file,
 * and a stop while it cannot be finished takes the half line back off. */
static void test_file_cut_mid_line_keeps_every_line(void **state)
{
	char dir[] = "/tmp/test_audit_file.XXXXXX", path[128], old[160], err[512];
	struct ev_loop *loop = ev_loop_new(0);
	struct audit *a;
	long long seq = 0;
	struct stat st;
	int lines;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	snprintf(old, sizeof(old), "%s/audit.log.1", dir);
	set_file_limit(4000); /* not a multiple of a line: the write stops mid-line */
	a = audit_open(loop, path, err, sizeof(err));
	assert_non_null(a);
	emit_lines(a, 40);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4000);
	rename(path, old);
	audit_reopen(a);
	/* The half line is not finished yet: no switch to a new file. */
	assert_int_not_equal(access(path, F_OK), 0);
	set_file_limit(RLIM_INFINITY);
	ev_run(loop, EVRUN_ONCE); /* the retry timer */
	assert_int_equal(audit_lines_dropped(a), 0);
	emit_lines(a, 5);
	lines = check_whole_lines(old, &seq);
	lines += check_whole_lines(path, &seq);
	assert_int_equal(lines, 45);
	assert_int_equal(audit_lines_written(a), 45);

	/* Stuck mid-line at stop: the written part of that line is removed. */
	assert_int_equal(stat(path, &st), 0);
	set_file_limit((rlim_t)st.st_size + 1000);
	emit_lines(a, 20);
	audit_close(a);
	set_file_limit(RLIM_INFINITY);
	seq = 0;
	lines = check_whole_lines(old, &seq);
	lines += check_whole_lines(path, &seq);
	assert_true(lines > 45 && lines < 65);
	unlink(old);
	unlink(path);
	rmdir(dir);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_sanitize),
	    cmocka_unit_test(test_text_cut_on_boundary),
	    cmocka_unit_test(test_second_writer_refused),
	    cmocka_unit_test(test_slow_reader_sheds_counted_lines),
	    cmocka_unit_test(test_file_cut_mid_line_keeps_every_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
