/*
 * The pure rules around etcd requests: how long to wait before the next
 * round over the endpoints, and the range end that selects a prefix.
 */
#include "vipd/etcd.h"

#include <string.h>

double etcd_backoff_delay(unsigned attempt, double base, double cap, double jitter01)
{
	double d = base;
	unsigned i;

	if (jitter01 < 0)
		jitter01 = 0;
	if (jitter01 > 1)
		jitter01 = 1;
	for (i = 0; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Half fixed, half random: nodes that lost etcd together do not all
	 * come back in the same millisecond. */
	return d * (0.5 + jitter01 / 2);
}

/* etcd's clientv3.GetPrefixRangeEnd: the last byte below 0xff plus one, the
 * rest cut; a prefix of only 0xff bytes has no end ("\0": every key). */
int etcd_prefix_end(const char *prefix, char *out, size_t outlen)
{
	size_t n = strlen(prefix);

	if (outlen < n + 1 || outlen < 2)
		return -1;
	memcpy(out, prefix, n + 1);
	while (n > 0) {
		unsigned char c = (unsigned char)out[n - 1];

		if (c < 0xff) {
			out[n - 1] = (char)(c + 1);
			out[n] = '\0';
			return 0;
		}
		n--;
	}
	out[0] = '\0';
	return 0;
}
