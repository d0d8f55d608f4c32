/*
 * The one percentile of vipd's statistics and benchmarks: nearest rank
 * (the smallest sample with at least ceil(p * n) samples at or below it).
 * The daemon's health-to-kernel p50/p99 and the scheduler's lateness p99 in
 * the audit log's "stats" event are this function's answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vipd/percentile.h"

static void test_nearest_rank_of_ten(void **state)
{
	double v[10] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5};

	(void)state;
	/* p50 of 10 is the 5th smallest, not an interpolation (5.5) nor the 6th. */
	assert_true(percentile_nearest_rank(v, 10, 0.50) == 5);
	/* p99 of 10 is the largest: no sample has 99% of the ten at or below it otherwise. */
	assert_true(percentile_nearest_rank(v, 10, 0.99) == 10);
	assert_true(percentile_nearest_rank(v, 10, 0.10) == 1);
	assert_true(percentile_nearest_rank(v, 10, 0.11) == 2);
	assert_true(percentile_nearest_rank(v, 10, 1.0) == 10);
	assert_true(percentile_nearest_rank(v, 10, 0.0) == 1);
	/* The samples are left sorted. */
	for (int i = 0; i < 10; i++)
		assert_true(v[i] == i + 1);
}

/* p99 of 100 samples is the 99th smallest; the formula the engine used
 * before (round(p * (n - 1))) gave the 99th too here, but p50 of 4 samples
 * gave the 3rd where nearest rank gives the 2nd. */
static void test_nearest_rank_of_hundred_and_four(void **state)
{
	double v[100], four[4] = {40, 10, 30, 20};

	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = 100 - i;
	assert_true(percentile_nearest_rank(v, 100, 0.99) == 99);
	assert_true(percentile_nearest_rank(v, 100, 0.50) == 50);
	assert_true(percentile_nearest_rank(four, 4, 0.50) == 20);
}

/* p * n computed in floating point lands a hair above an integer (0.07 *
 * 100 is 7.000000000000001): that is still rank 7, not 8. */
static void test_inexact_products_keep_their_rank(void **state)
{
	double v[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = i + 1;
	assert_true(percentile_nearest_rank(v, 100, 0.07) == 7);
	assert_true(percentile_nearest_rank(v, 100, 0.57) == 57);
	assert_true(percentile_nearest_rank(v, 100, 0.29) == 29);
}

static void test_no_samples_is_zero_one_is_itself(void **state)
{
	double one = 3.5;

	(void)state;
	assert_true(percentile_nearest_rank(NULL, 0, 0.99) == 0);
	assert_true(percentile_nearest_rank(&one, 1, 0.01) == 3.5);
	assert_true(percentile_nearest_rank(&one, 1, 0.99) == 3.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nearest_rank_of_ten),
	    cmocka_unit_test(test_nearest_rank_of_hundred_and_four),
	    cmocka_unit_test(test_inexact_products_keep_their_rank),
	    cmocka_unit_test(test_no_samples_is_zero_one_is_itself),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
