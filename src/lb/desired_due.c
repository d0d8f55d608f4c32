/*
 * Which services move on by time alone: the entries whose drain ends or
 * whose slow start takes a step by now, so that a timed round rebuilds
 * those services and not the whole table (issue 9, scale).
 */
#include <stdlib.h>
#include <string.h>

#include "vipd/desired.h"

int desired_state_due(const struct desired_state *st, int64_t now_ms, struct lb_keyset *due,
                      int64_t *next_ms)
{
	const struct lb_key *last = NULL;

	*next_ms = INT64_MAX;
	for (size_t i = 0; i < st->n; i++) {
		const struct desired_entry *e = &st->entries[i];

		if (e->next_change_ms > now_ms) {
			if (e->next_change_ms < *next_ms)
				*next_ms = e->next_change_ms;
			continue;
		}
		/* Entries are sorted by service: one key per run. */
		if (due == NULL || (last != NULL && lb_key_cmp(last, &e->svc) == 0))
			continue;
		if (lb_keyset_add(due, &e->svc) < 0)
			return -1;
		last = &e->svc;
	}
	if (due != NULL)
		lb_keyset_sort(due);
	return 0;
}

int desired_vips_add_services(struct desired_vip **vips, size_t *n, const struct lb_keyset *svcs)
{
	struct desired_vip *grown;

	if (svcs->n == 0)
		return 0;
	grown = realloc(*vips, (*n + svcs->n) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	for (size_t i = 0; i < svcs->n; i++) {
		struct desired_vip *v = &grown[*n + i];

		memset(v, 0, sizeof(*v));
		v->protocol = svcs->keys[i].protocol;
		v->vip.addr = svcs->keys[i].addr;
		v->vip.port = svcs->keys[i].port;
	}
	*vips = grown;
	*n += svcs->n;
	return 0;
}
