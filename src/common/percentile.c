/* Nearest-rank percentiles (include/vipd/percentile.h). */
#include <math.h>
#include <stdlib.h>

#include "vipd/percentile.h"
#include "vipd/vec.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double percentile_nearest_rank(double *samples, size_t n, double p)
{
	double rank;

	if (n == 0)
		return 0;
	vec_sort(samples, n, sizeof(*samples), cmp_double);
	/* p * n is inexact (0.07 * 100 = 7.000000000000001): a hair below an
	 * integer counts as that integer, not the next rank. */
	rank = ceil(p * (double)n - 1e-9);
	if (rank < 1)
		return samples[0];
	if (rank >= (double)n)
		return samples[n - 1];
	return samples[(size_t)rank - 1];
}
