/* libFuzzer target: any byte stream, cut into chunks anywhere, must give the
 * SSE parser events or located errors, never a crash, leak or UB; and the
 * events must not depend on where the stream was cut. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct digest {
	size_t events;
	uint64_t hash;
};

static void on_event(void *arg, const struct sse_event *ev)
{
	struct digest *d = arg;
	const char *parts[3] = {ev->type, ev->data, ev->id};
	size_t lens[3] = {strlen(ev->type), ev->data_len, strlen(ev->id)};

	d->events++;
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < lens[k]; i++)
			d->hash = (d->hash ^ (unsigned char)parts[k][i]) * 1099511628211u;
		d->hash = (d->hash ^ 0x100u) * 1099511628211u;
	}
}

static struct digest run(const char *s, size_t n, size_t max, size_t step)
{
	struct digest d = {0, 14695981039346656037u};
	struct sse_parser p;
	char err[128];

	sse_init(&p, max, on_event, &d);
	for (size_t at = 0; at < n; at += step)
		(void)!sse_feed(&p, s + at, n - at < step ? n - at : step, err, sizeof(err));
	sse_free(&p);
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digest whole, cut;
	size_t step, max;

	if (size < 2)
		return 0;
	step = (size_t)data[0] % 7 + 1;
	/* A small bound sometimes, so the skip-and-resync path runs. */
	max = data[1] & 1 ? 24 : 0;
	whole = run((const char *)data + 2, size - 2, max, size);
	cut = run((const char *)data + 2, size - 2, max, step);
	if (!max && (whole.events != cut.events || whole.hash != cut.hash))
		abort();
	return 0;
}
