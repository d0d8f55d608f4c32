/* The monotonic clock, read in one place (include/vipd/clock.h). */
#include "vipd/clock.h"

/* clock_gettime cannot fail with CLOCK_MONOTONIC and a valid pointer. */
void clock_now_ts(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

double clock_now_s(void)
{
	struct timespec ts;

	clock_now_ts(&ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_now_ts(&ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double clock_ms_since(const struct timespec *since)
{
	struct timespec now;

	clock_now_ts(&now);
	return (double)(now.tv_sec - since->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}
