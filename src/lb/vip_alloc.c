/*
 * Addresses for named VIPs: a deterministic function of the set of names, so
 * that every node gives /web:80 the same address with no coordination. The
 * rule is in vip.h.
 */
#include "vipd/vip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define VIP_ALLOC_BASE 0x0b000000u /* 11.0.0.0 */
#define SLOT_EMPTY UINT32_MAX

uint32_t vip_name_home(const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % VIP_ALLOC_RANGE;
}

struct pending {
	const char *name;
	uint32_t home;
};

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->home != y->home)
		return x->home < y->home ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vip_alloc_entry *)a)->name,
	              ((const struct vip_alloc_entry *)b)->name);
}

/* The offsets taken so far, as an open-addressing set. */
struct taken {
	uint32_t *slots;
	size_t cap;
};

static bool taken_has(const struct taken *t, uint32_t off)
{
	size_t mask = t->cap - 1, i = (off * 2654435761u) & mask;

	while (t->slots[i] != SLOT_EMPTY) {
		if (t->slots[i] == off)
			return true;
		i = (i + 1) & mask;
	}
	return false;
}

static void taken_put(struct taken *t, uint32_t off)
{
	size_t mask = t->cap - 1, i = (off * 2654435761u) & mask;

	while (t->slots[i] != SLOT_EMPTY)
		i = (i + 1) & mask;
	t->slots[i] = off;
}

static int taken_init(struct taken *t, size_t n)
{
	t->cap = 16;
	while (t->cap < n * 2)
		t->cap *= 2;
	t->slots = malloc(t->cap * sizeof(*t->slots));
	if (t->slots == NULL)
		return -1;
	memset(t->slots, 0xff, t->cap * sizeof(*t->slots));
	return 0;
}

/* Sorted by (home, name) with duplicates dropped; returns the count. */
static size_t pending_unique(struct pending *p, const char *const *names, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		p[i] = (struct pending){.name = names[i], .home = vip_name_home(names[i])};
	qsort(p, n, sizeof(*p), pending_cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || strcmp(p[m - 1].name, p[i].name) != 0)
			p[m++] = p[i];
	return m;
}

static void assign(struct vip_alloc_entry *e, struct taken *t, const struct pending *p)
{
	uint32_t off = p->home;

	while (taken_has(t, off))
		off = (off + 1) % VIP_ALLOC_RANGE;
	taken_put(t, off);
	memset(&e->addr, 0, sizeof(e->addr));
	e->addr.af = AF_INET;
	e->addr.u.v4.s_addr = htonl(VIP_ALLOC_BASE + off);
}

static int assign_all(struct vip_alloc *va, struct pending *p, size_t m)
{
	struct taken t;

	if (taken_init(&t, m) < 0)
		return -1;
	for (size_t i = 0; i < m; i++) {
		va->items[i].name = strdup(p[i].name);
		if (va->items[i].name == NULL) {
			free(t.slots);
			return -1;
		}
		va->n = i + 1;
		assign(&va->items[i], &t, &p[i]);
	}
	free(t.slots);
	qsort(va->items, va->n, sizeof(*va->items), entry_cmp);
	return 0;
}

int vip_alloc_build(struct vip_alloc *va, const char *const *names, size_t n, char *err,
                    size_t errlen)
{
	struct pending *p = NULL;
	size_t m;

	memset(va, 0, sizeof(*va));
	if (n == 0)
		return 0;
	p = malloc(n * sizeof(*p));
	if (p == NULL)
		goto nomem;
	m = pending_unique(p, names, n);
	if (m > VIP_ALLOC_RANGE) {
		snprintf(err, errlen, "%zu named VIPs, more than the %u addresses of 11.0.0.0/8", m,
		         VIP_ALLOC_RANGE);
		free(p);
		return -1;
	}
	va->items = calloc(m, sizeof(*va->items));
	if (va->items == NULL || assign_all(va, p, m) < 0)
		goto nomem;
	free(p);
	return 0;
nomem:
	free(p);
	vip_alloc_free(va);
	snprintf(err, errlen, "named VIPs: out of memory");
	return -1;
}

int vip_name_address(const struct vip_alloc *va, const char *name, struct lb_addr *out)
{
	struct vip_alloc_entry probe = {.name = (char *)name};
	const struct vip_alloc_entry *e;

	if (va->n == 0)
		return -1;
	e = bsearch(&probe, va->items, va->n, sizeof(*va->items), entry_cmp);
	if (e == NULL)
		return -1;
	*out = e->addr;
	return 0;
}

void vip_alloc_free(struct vip_alloc *va)
{
	for (size_t i = 0; i < va->n; i++)
		free(va->items[i].name);
	free(va->items);
	memset(va, 0, sizeof(*va));
}
