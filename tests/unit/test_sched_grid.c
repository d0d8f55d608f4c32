/*
 * The scheduler's phase grid, as pure functions over time values: due times
 * fall on shared slot instants, never earlier than the spread phase asked
 * for, exactly one interval apart run after run (Marathon's
 * intervalSeconds), and the hash still spreads many instances over every
 * slot of the interval.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sched_int.h"

/* A wall-clock time of today's order: the rounding of large values is the
 * case that matters. */
#define EPOCH_NOW 1796000000.123456

/* cmocka's assert_float_equal compares floats: too coarse for wall-clock
 * seconds. */
#define assert_near(a, b, eps) assert_true(near_report((a), (b), (eps)))

static bool near_report(double a, double b, double eps)
{
	if (fabs(a - b) <= eps)
		return true;
	print_message("%.9f is not %.9f (within %g)\n", a, b, eps);
	return false;
}

static bool on_slot(double t, double width)
{
	return fabs(t - round(t / width) * width) < 1e-6;
}

/* Whole-second intervals keep the grid step; others get the nearest width
 * that divides them, and one slot when the interval is below the step. */
static void test_slot_width(void **state)
{
	(void)state;
	assert_near(sched_slot_width(10, 0.02), 0.02, 1e-12);
	assert_near(sched_slot_width(1, 0.05), 0.05, 1e-12);
	assert_near(sched_slot_width(0.05, 0.02), 0.05 / 3, 1e-12);
	assert_near(sched_slot_width(0.01, 0.02), 0.01, 1e-12);
	/* Marathon's intervals are whole seconds: the default step divides them. */
	assert_near(sched_slot_width(1, SCHED_DEFAULT_PHASE_GRID_S), SCHED_DEFAULT_PHASE_GRID_S,
	            1e-12);
	assert_near(sched_slot_width(10, -1), 0, 0);
	assert_near(sched_slot_width(0, 0.02), 0, 0);
}

/* The first due time is the next slot instant: later than the phase by less
 * than one slot (delaySeconds is still waited), the phase itself when it is
 * on a slot, and unchanged when the grid is off. */
static void test_first_due_on_next_slot(void **state)
{
	const double w = 0.02;

	(void)state;
	for (double t = EPOCH_NOW; t < EPOCH_NOW + 1; t += 0.0037) {
		double due = sched_slot_at(t, w);

		assert_true(due >= t - 1e-6);
		assert_true(due < t + w);
		assert_true(on_slot(due, w));
	}
	assert_near(sched_slot_at(1796000000.04, w), 1796000000.04, 1e-6);
	assert_near(sched_slot_at(EPOCH_NOW, 0), EPOCH_NOW, 0);
}

/* Run after run, due times stay on the slots and exactly one interval
 * apart, for 10,000 runs (no drift from adding floating-point intervals). */
static void test_interval_unchanged(void **state)
{
	const double intervals[] = {1, 10, 30, 0.05};

	(void)state;
	for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
		double iv = intervals[i], w = sched_slot_width(iv, 0.02);
		double due = sched_slot_at(EPOCH_NOW, w), first = due;

		for (int run = 1; run <= 10000; run++) {
			double next = sched_due_next(due, due, iv, w);

			assert_near(next - due, iv, 1e-6);
			assert_true(on_slot(next, w));
			due = next;
		}
		assert_near(due - first, 10000 * iv, 1e-5);
	}
}

/* A loop held for 2.5 intervals: the run made late now is the only one;
 * the missed ones are skipped and the next due time is a full interval at
 * least after now, in the instance's own phase and on its slot. */
static void test_stall_skips_to_own_phase(void **state)
{
	const double iv = 10, w = 0.02;
	double due = sched_slot_at(EPOCH_NOW, w);
	double next = sched_due_next(due, due + 25, iv, w);

	(void)state;
	assert_true(next >= due + 25 + iv);
	assert_near(next - due, 40, 1e-6);
	assert_true(on_slot(next, w));
	/* Without the grid, the same rule. */
	assert_near(sched_due_next(EPOCH_NOW, EPOCH_NOW + 25, iv, 0) - EPOCH_NOW, 40, 1e-6);
}

/* The scheduler's spread (sched_hash of app and task id) over the 500
 * slots of a 10 s interval: 10,000 instances fill every slot and no slot
 * holds twice its share; 100 instances never meet more than 3 to a slot.
 * The grid merges instances that were due within one slot, and no more. */
static void slot_counts(size_t n, unsigned counts[500])
{
	const double iv = 10, w = sched_slot_width(iv, 0.02);
	const double t0 = sched_slot_at(EPOCH_NOW, iv);

	memset(counts, 0, 500 * sizeof(counts[0]));
	for (size_t i = 0; i < n; i++) {
		char task[32];
		uint64_t h;
		double frac, due;
		long slot;

		snprintf(task, sizeof(task), "web.%zu", i);
		h = sched_hash("/web", task, 0);
		frac = (double)(h >> 11) / (double)(1ULL << 53);
		due = sched_slot_at(t0 + frac * iv, w);
		slot = lround((due - t0) / w) % 500;
		counts[slot]++;
	}
}

static void test_spread_over_slots(void **state)
{
	unsigned counts[500], max = 0, min = UINT32_MAX;

	(void)state;
	slot_counts(10000, counts);
	for (size_t i = 0; i < 500; i++) {
		max = counts[i] > max ? counts[i] : max;
		min = counts[i] < min ? counts[i] : min;
	}
	print_message("10,000 instances over 500 slots: %u to %u per slot\n", min, max);
	assert_true(min >= 1);
	assert_true(max <= 40);
	slot_counts(100, counts);
	max = 0;
	for (size_t i = 0; i < 500; i++)
		max = counts[i] > max ? counts[i] : max;
	assert_true(max <= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slot_width),
	    cmocka_unit_test(test_first_due_on_next_slot),
	    cmocka_unit_test(test_interval_unchanged),
	    cmocka_unit_test(test_stall_skips_to_own_phase),
	    cmocka_unit_test(test_spread_over_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
