/*
 * The data plane's pure rules over sets: which services vipd owns before and
 * after a round, and which VIP addresses a table needs bound, for the whole
 * table or for a patch of some services. No kernel, no file: dataplane.c and
 * dataplane_patch.c apply them, tests/unit/test_dataplane_owned.c checks them.
 */
#include "vipd/dataplane.h"
#include "vipd/vec.h"

#include <stdbool.h>
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

/* Restricted to the patch's keys, the rule is dataplane_owned_after's with
 * part as the desired table and the remembered one as the read: the owned
 * keys outside the patch cannot change. */
int dataplane_owned_after_patch(const struct lb_keyset *owned, const struct lb_keyset *keys,
                                const struct lb_table *part, const struct lb_table *kernel,
                                const struct lb_keyset *deleted, struct lb_keyset *out)
{
	struct lb_keyset before;
	int rc = -1;

	lb_keyset_init(&before);
	for (size_t i = 0; i < owned->n; i++) {
		const struct lb_key *k = &owned->keys[i];

		if (lb_keyset_add(lb_keyset_contains(keys, k) ? &before : out, k) < 0)
			goto out;
	}
	rc = dataplane_owned_after(&before, part, kernel, deleted, out);
out:
	lb_keyset_free(&before);
	return rc;
}

static int addr_qsort_cmp(const void *a, const void *b)
{
	return lb_addr_cmp(a, b);
}

/* Sorts a[0..m) and drops repeats; *n gets how many are left. */
static void addrs_unique(struct lb_addr *a, size_t m, size_t *n)
{
	*n = 0;
	if (m > 1)
		vec_sort(a, m, sizeof(*a), addr_qsort_cmp);
	for (size_t i = 0; i < m; i++)
		if (*n == 0 || lb_addr_cmp(&a[*n - 1], &a[i]) != 0)
			a[(*n)++] = a[i];
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
	addrs_unique(a, m, n);
	return 0;
}

/* vec_lower_bound's order: an address against a service's. */
static int addr_svc_cmp(const void *key, const void *elem)
{
	const struct lb_service *s = elem;

	return lb_addr_cmp(key, &s->key.addr);
}

/* The first service of t (sorted) whose address is not below a: keys order
 * by address first, so the services of one address are adjacent. */
static size_t addr_lower_bound(const struct lb_table *t, const struct lb_addr *a)
{
	return vec_lower_bound(a, t->svcs, t->nsvcs, sizeof(*t->svcs), addr_svc_cmp);
}

/* Whether a service of t outside `except` (NULL: none) has address a. */
static bool addr_served(const struct lb_table *t, const struct lb_addr *a,
                        const struct lb_keyset *except)
{
	size_t i = t->sorted ? addr_lower_bound(t, a) : 0;

	for (; i < t->nsvcs; i++) {
		const struct lb_key *k = &t->svcs[i].key;
		int c = lb_addr_cmp(&k->addr, a);

		if (c > 0 && t->sorted)
			break;
		if (c == 0 && (except == NULL || !lb_keyset_contains(except, k)))
			return true;
	}
	return false;
}

/* Only the addresses of the patch's keys can change: each is bound before
 * when a remembered service has it (a complete round routes exactly those),
 * wanted after when a service of part has it or a remembered one the patch
 * leaves alone. dataplane_round_addrs' sets, restricted to those addresses. */
int dataplane_patch_addrs(const struct lb_table *kernel, const struct lb_keyset *keys,
                          const struct lb_table *part, struct lb_addr **bound, size_t *nbound,
                          struct lb_addr **wanted, size_t *nwanted)
{
	size_t m = keys->n ? keys->n : 1, n;

	*nbound = *nwanted = 0;
	*bound = malloc(m * sizeof(**bound));
	*wanted = malloc(m * sizeof(**wanted));
	if (*bound == NULL || *wanted == NULL)
		return -1;
	for (size_t i = 0; i < keys->n; i++)
		(*bound)[i] = keys->keys[i].addr;
	addrs_unique(*bound, keys->n, &n);
	for (size_t i = 0; i < n; i++) {
		const struct lb_addr a = (*bound)[i];

		if (addr_served(part, &a, NULL) || addr_served(kernel, &a, keys))
			(*wanted)[(*nwanted)++] = a;
		if (addr_served(kernel, &a, NULL))
			(*bound)[(*nbound)++] = a;
	}
	return 0;
}
