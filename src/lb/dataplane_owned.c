/*
 * The data plane's pure rules over sets: which services vipd owns before and
 * after a round, and which VIP addresses a table needs bound. No kernel, no
 * file: dataplane.c applies them, tests/unit/test_dataplane_owned.c checks them.
 */
#include "vipd/dataplane.h"

#include <stdlib.h>

/* Both sorted: one merge, no sort (a round's desired table is its sorted
 * copy, and the owned set is kept sorted). */
static int merge_union(const struct lb_keyset *owned, const struct lb_table *desired,
                       struct lb_keyset *out)
{
	size_t i = 0, j = 0;

	while (i < owned->n || j < desired->nsvcs) {
		int c = i == owned->n         ? 1
		        : j == desired->nsvcs ? -1
		                              : lb_key_cmp(&owned->keys[i], &desired->svcs[j].key);
		const struct lb_key *k = c <= 0 ? &owned->keys[i] : &desired->svcs[j].key;

		if (lb_keyset_add(out, k) < 0)
			return -1;
		i += c <= 0;
		j += c >= 0;
	}
	return 0;
}

int dataplane_owned_union(const struct lb_keyset *owned, const struct lb_table *desired,
                          struct lb_keyset *out)
{
	if (owned->sorted && desired->sorted && out->n == 0) {
		if (merge_union(owned, desired, out) < 0)
			return -1;
		lb_keyset_sort(out); /* sorted already: only marks it so */
		return 0;
	}
	for (size_t i = 0; i < owned->n; i++)
		if (lb_keyset_add(out, &owned->keys[i]) < 0)
			return -1;
	if (lb_keyset_add_table(out, desired) < 0)
		return -1;
	lb_keyset_sort(out);
	return 0;
}

/* A service owned before the round stays owned while it may still be in the
 * kernel: vipd must go on trying to delete it, or nobody ever will. */
static bool still_owned(const struct lb_key *k, const struct lb_table *desired,
                        const struct lb_table *observed, const struct lb_keyset *deleted)
{
	if (lb_table_find(desired, k) != NULL)
		return false; /* counted with desired */
	if (lb_table_find(observed, k) == NULL)
		return false; /* gone before the round */
	return !lb_keyset_contains(deleted, k);
}

int dataplane_owned_after(const struct lb_keyset *before, const struct lb_table *desired,
                          const struct lb_table *observed, const struct lb_keyset *deleted,
                          struct lb_keyset *out)
{
	if (lb_keyset_add_table(out, desired) < 0)
		return -1;
	for (size_t i = 0; i < before->n; i++) {
		const struct lb_key *k = &before->keys[i];

		if (still_owned(k, desired, observed, deleted) && lb_keyset_add(out, k) < 0)
			return -1;
	}
	lb_keyset_sort(out);
	return 0;
}

static int addr_qsort_cmp(const void *a, const void *b)
{
	return lb_addr_cmp(a, b);
}

int dataplane_table_addrs(const struct lb_table *t, struct lb_addr **out, size_t *n)
{
	struct lb_addr *a = malloc((t->nsvcs ? t->nsvcs : 1) * sizeof(*a));
	size_t m = 0;

	*out = a;
	*n = 0;
	if (a == NULL)
		return -1;
	for (size_t i = 0; i < t->nsvcs; i++)
		a[m++] = t->svcs[i].key.addr;
	qsort(a, m, sizeof(*a), addr_qsort_cmp);
	for (size_t i = 0; i < m; i++)
		if (*n == 0 || lb_addr_cmp(&a[*n - 1], &a[i]) != 0)
			a[(*n)++] = a[i];
	return 0;
}
