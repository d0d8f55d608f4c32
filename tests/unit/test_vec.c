/* Unit tests for include/vipd/vec.h: growth by doubling, refusals that
 * leave the array as it was, and sort and search of empty arrays. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vipd/vec.h"

static void test_reserve_doubles_and_keeps_elements(void **state)
{
	int *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(VEC_RESERVE(v, cap, 1), 0);
	assert_non_null(v);
	assert_int_equal(cap, VEC_MIN_CAP);
	for (int i = 0; i < VEC_MIN_CAP; i++)
		v[i] = i;
	assert_int_equal(VEC_RESERVE(v, cap, VEC_MIN_CAP + 1), 0);
	assert_int_equal(cap, 2 * VEC_MIN_CAP);
	for (int i = 0; i < VEC_MIN_CAP; i++)
		assert_int_equal(v[i], i);
	/* One step past twice the capacity doubles as often as it takes. */
	assert_int_equal(VEC_RESERVE(v, cap, 5 * VEC_MIN_CAP), 0);
	assert_int_equal(cap, 8 * VEC_MIN_CAP);
	assert_int_equal(v[VEC_MIN_CAP - 1], VEC_MIN_CAP - 1);
	free(v);
}

static void test_reserve_within_capacity_keeps_the_array(void **state)
{
	char *v = NULL;
	size_t cap = 0;
	char *before;

	(void)state;
	assert_int_equal(VEC_RESERVE(v, cap, 3), 0);
	before = v;
	assert_int_equal(VEC_RESERVE(v, cap, cap), 0);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, VEC_MIN_CAP);
	free(v);
}

static void test_reserve_zero_elements_allocates_nothing(void **state)
{
	double *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(VEC_RESERVE(v, cap, 0), 0);
	assert_null(v);
	assert_int_equal(cap, 0);
}

static void test_reserve_refuses_overflow_and_keeps_the_array(void **state)
{
	uint64_t *v = NULL;
	size_t cap = 0;
	uint64_t *before;

	(void)state;
	assert_int_equal(VEC_RESERVE(v, cap, 2), 0);
	v[1] = 42;
	before = v;
	errno = 0;
	/* need * 8 bytes wraps around SIZE_MAX. */
	assert_int_equal(VEC_RESERVE(v, cap, SIZE_MAX / 4), -1);
	assert_int_equal(errno, ENOMEM);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, VEC_MIN_CAP);
	assert_int_equal(v[1], 42);
	/* Fits size_t but not malloc (more than PTRDIFF_MAX bytes). */
	errno = 0;
	assert_int_equal(VEC_RESERVE(v, cap, (size_t)PTRDIFF_MAX / 8 + 1), -1);
	assert_int_equal(errno, ENOMEM);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, VEC_MIN_CAP);
	free(v);
}

static void test_reserve_refuses_large_elements_before_allocating(void **state)
{
	struct big {
		char b[4096];
	} *v = NULL;
	size_t cap = 0;

	(void)state;
	/* One element more than can be addressed: a refusal, not a wrapped
	 * size, and nothing allocated. */
	errno = 0;
	assert_int_equal(VEC_RESERVE(v, cap, (size_t)PTRDIFF_MAX / sizeof(*v) + 1), -1);
	assert_int_equal(errno, ENOMEM);
	assert_null(v);
	assert_int_equal(cap, 0);
	assert_int_equal(VEC_RESERVE(v, cap, 1), 0);
	assert_int_equal(cap, VEC_MIN_CAP);
	free(v);
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static void test_sort_and_find_accept_an_empty_null_array(void **state)
{
	int key = 3;

	(void)state;
	vec_sort(NULL, 0, sizeof(int), int_cmp);
	assert_null(vec_find(&key, NULL, 0, sizeof(int), int_cmp));
	assert_int_equal(vec_lower_bound(&key, NULL, 0, sizeof(int), int_cmp), 0);
}

static void test_sort_find_and_lower_bound(void **state)
{
	int v[] = {9, 3, 7, 3, 1};
	int key;

	(void)state;
	vec_sort(v, 5, sizeof(*v), int_cmp);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 3);
	assert_int_equal(v[2], 3);
	assert_int_equal(v[4], 9);
	key = 7;
	assert_ptr_equal(vec_find(&key, v, 5, sizeof(*v), int_cmp), &v[3]);
	key = 4;
	assert_null(vec_find(&key, v, 5, sizeof(*v), int_cmp));
	/* Lower bound: the first of equal elements, an insertion point, the end. */
	key = 3;
	assert_int_equal(vec_lower_bound(&key, v, 5, sizeof(*v), int_cmp), 1);
	key = 4;
	assert_int_equal(vec_lower_bound(&key, v, 5, sizeof(*v), int_cmp), 3);
	key = 0;
	assert_int_equal(vec_lower_bound(&key, v, 5, sizeof(*v), int_cmp), 0);
	key = 10;
	assert_int_equal(vec_lower_bound(&key, v, 5, sizeof(*v), int_cmp), 5);
}

static void test_sort_unique_keeps_each_value_once(void **state)
{
	int v[] = {5, 1, 5, 3, 1, 1, 9};
	int one = 4;

	(void)state;
	assert_int_equal(vec_sort_unique(v, 7, sizeof(*v), int_cmp), 4);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 3);
	assert_int_equal(v[2], 5);
	assert_int_equal(v[3], 9);
	assert_int_equal(vec_sort_unique(&one, 1, sizeof(one), int_cmp), 1);
	assert_int_equal(one, 4);
	assert_int_equal(vec_sort_unique(NULL, 0, sizeof(int), int_cmp), 0);
}

/* Sorted inserts: at the front, in the middle, at the end, into an empty
 * array, across growth; the order and every element kept. */
static void test_insert_keeps_order_across_growth(void **state)
{
	int *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	for (int x = 0; x < 100; x++) {
		int key = (x * 37) % 100; /* every value once, out of order */
		size_t at = vec_lower_bound(&key, v, n, sizeof(*v), int_cmp);

		assert_int_equal(VEC_INSERT(v, n, cap, at, &key), 0);
		assert_int_equal(n, (size_t)x + 1);
		assert_true(cap >= n);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], (int)i);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reserve_doubles_and_keeps_elements),
	    cmocka_unit_test(test_reserve_within_capacity_keeps_the_array),
	    cmocka_unit_test(test_reserve_zero_elements_allocates_nothing),
	    cmocka_unit_test(test_reserve_refuses_overflow_and_keeps_the_array),
	    cmocka_unit_test(test_reserve_refuses_large_elements_before_allocating),
	    cmocka_unit_test(test_sort_and_find_accept_an_empty_null_array),
	    cmocka_unit_test(test_sort_find_and_lower_bound),
	    cmocka_unit_test(test_sort_unique_keeps_each_value_once),
	    cmocka_unit_test(test_insert_keeps_order_across_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
