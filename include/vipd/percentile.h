/*
 * The one percentile definition of vipd's statistics and benchmarks:
 * nearest rank. The p-th percentile of n samples is the smallest sample
 * with at least ceil(p * n) samples at or below it, so it is always one of
 * the samples (p99 of 100 samples is the 99th smallest, of 10 the largest).
 */
#ifndef VIPD_PERCENTILE_H
#define VIPD_PERCENTILE_H

#include <stddef.h>

/* Sorts `samples` ascending in place and returns their p-th percentile,
 * p in [0, 1] (p <= 0 gives the smallest); 0 when n is 0. */
double percentile_nearest_rank(double *samples, size_t n, double p);

#endif
