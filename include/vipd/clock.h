/*
 * The one reader of the monotonic clock (CLOCK_MONOTONIC: it never jumps
 * with the wall clock). Deadlines, latencies and lateness are measured on it.
 */
#ifndef VIPD_CLOCK_H
#define VIPD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Seconds since an arbitrary fixed point, to the nanosecond. */
double clock_now_s(void);
/* The same clock in whole milliseconds (truncated). */
int64_t clock_now_ms(void);
/* The same clock as a timespec, for a start time kept in one. */
void clock_now_ts(struct timespec *ts);
/* Milliseconds from `since` (a clock_now_ts() value) to now. */
double clock_ms_since(const struct timespec *since);

#endif
