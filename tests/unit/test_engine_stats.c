/*
 * The health-to-kernel latency in the audit log's "stats" event
 * (engine_stats.c): measured from the oldest unapplied health change, over
 * the last 4,096 changes, p50 and p99 by nearest rank.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine.h"
#include "vipd/clock.h"

/* One applied change that took `seconds` (give or take the clock's read). */
static void applied_after(struct engine *e, double seconds)
{
	e->health_change_at = clock_now_s() - seconds;
	engine_record_apply_latency(e);
}

/* The last "stats" line of the audit file, parsed. */
static json_t *stats_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	json_t *last = NULL;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);

		assert_non_null(o);
		if (strcmp(json_string_value(json_object_get(o, "event")), "stats") == 0) {
			json_decref(last);
			last = o;
		} else {
			json_decref(o);
		}
	}
	fclose(f);
	assert_non_null(last);
	return last;
}

static double real_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_non_null(v);
	return json_number_value(v);
}

/* A second change before the round keeps the first one's time: the
 * latency is that of the change waiting longest. */
static void test_latency_counts_from_the_oldest_change(void **state)
{
	struct engine e;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.health_change_at = clock_now_s() - 0.5;
	engine_note_health_change_time(&e);
	engine_record_apply_latency(&e);
	assert_int_equal(e.apply_latency_n, 1);
	assert_true(engine_apply_latency_ms(&e, 0.5) >= 500.0);
	assert_true(engine_apply_latency_ms(&e, 0.5) < 600.0);
	/* A round with no change pending records nothing. */
	engine_record_apply_latency(&e);
	assert_int_equal(e.apply_latency_n, 1);
}

/* 5,000 changes: the first 904 took 100 s, then 1..4096 ms. Only the last
 * 4,096 count: p50 is the 2,048th smallest (2.048 s), p99 the 4,056th
 * (4.056 s), and the 100 s ones are gone; samples counts all 5,000. */
static void test_stats_event_percentiles_over_the_last_4096(void **state)
{
	char path[] = "/tmp/test_engine_stats.XXXXXX";
	int fd = mkstemp(path);
	struct engine e;
	char err[256];
	json_t *o;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	memset(&e, 0, sizeof(e));
	e.audit = audit_open(ev_default_loop(0), path, err, sizeof(err));
	assert_non_null(e.audit);
	for (int i = 0; i < 904; i++)
		applied_after(&e, 100.0);
	for (int i = 1; i <= 4096; i++)
		applied_after(&e, i / 1000.0);
	engine_audit_stats(&e, "stats");
	audit_close(e.audit);
	o = stats_line(path);
	assert_int_equal(json_integer_value(json_object_get(o, "health_to_kernel_samples")), 5000);
	assert_true(real_of(o, "health_to_kernel_p50_ms") >= 2048.0);
	assert_true(real_of(o, "health_to_kernel_p50_ms") < 2049.0);
	assert_true(real_of(o, "health_to_kernel_p99_ms") >= 4056.0);
	assert_true(real_of(o, "health_to_kernel_p99_ms") < 4057.0);
	json_decref(o);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_latency_counts_from_the_oldest_change),
	    cmocka_unit_test(test_stats_event_percentiles_over_the_last_4096),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
