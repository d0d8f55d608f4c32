/*
 * Addresses for named VIPs: a pure function of the set of names and the
 * recorded assignments (vip_assign.c), so that every node given the same
 * records gives /web:80 the same addresses. The rule: docs/dataplane.md.
 */
#include "vipd/vip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vipd/hash.h"
#include "vipd/vec.h"

static uint32_t fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static uint64_t fnv1a64(const char *s)
{
	return hash_fnv1a(HASH_FNV1A_BASIS, s, strlen(s));
}

/* The low 64 bits of an IPv6 address, or the IPv4 address. */
static uint64_t addr_low(const struct lb_addr *a)
{
	uint64_t v = 0;

	if (a->af == AF_INET)
		return ntohl(a->u.v4.s_addr);
	for (int i = 8; i < 16; i++)
		v = (v << 8) | a->u.v6.s6_addr[i];
	return v;
}

/* Offsets run from 0 to this, both included. */
static uint64_t range_last_offset(const struct vip_range *r)
{
	return addr_low(&r->last) - addr_low(&r->first);
}

static void range_addr_at(const struct vip_range *r, uint64_t off, struct lb_addr *out)
{
	uint64_t v = addr_low(&r->first) + off;

	*out = r->first;
	if (out->af == AF_INET) {
		out->u.v4.s_addr = htonl((uint32_t)v);
		return;
	}
	for (int i = 15; i >= 8; i--, v >>= 8)
		out->u.v6.s6_addr[i] = (uint8_t)v;
}

void vip_ranges_default(struct vip_ranges *r)
{
	char err[128];

	/* Constants: parsing them cannot fail. */
	vip_range_parse(VIP_RANGE4_DEFAULT, AF_INET, &r->v4, err, sizeof(err));
	vip_range_parse(VIP_RANGE6_DEFAULT, AF_INET6, &r->v6, err, sizeof(err));
}

static int range_check(const struct vip_range *r)
{
	if (lb_addr_cmp(&r->first, &r->last) > 0)
		return -1;
	/* Offsets are 64 bits wide: an IPv6 range stays inside one /64. */
	if (r->first.af == AF_INET6 && memcmp(r->first.u.v6.s6_addr, r->last.u.v6.s6_addr, 8) != 0)
		return -1;
	return 0;
}

int vip_range_parse(const char *text, int af, struct vip_range *out, char *err, size_t errlen)
{
	const char *dash = strchr(text, '-');
	char first[INET6_ADDRSTRLEN + 1];
	size_t n = dash ? (size_t)(dash - text) : 0;
	const char *fam = af == AF_INET ? "IPv4" : "IPv6";

	memset(out, 0, sizeof(*out));
	if (dash == NULL || n == 0 || n >= sizeof(first))
		goto bad;
	memcpy(first, text, n);
	first[n] = '\0';
	if (lb_addr_parse(first, &out->first) < 0 || out->first.af != af ||
	    lb_addr_parse(dash + 1, &out->last) < 0 || out->last.af != af)
		goto bad;
	if (range_check(out) < 0) {
		snprintf(err, errlen,
		         "named VIP range \"%s\": the first address must not be after the last%s",
		         text, af == AF_INET6 ? ", and both must be in one /64" : "");
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "named VIP range \"%s\": expected FIRST-LAST, two %s addresses", text,
	         fam);
	return -1;
}

bool vip_range_contains(const struct vip_range *r, const struct lb_addr *a)
{
	return a->af == r->first.af && lb_addr_cmp(a, &r->first) >= 0 &&
	       lb_addr_cmp(a, &r->last) <= 0;
}

const char *vip_range_format(const struct vip_range *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s-%s", lb_addr_format(&r->first, a, sizeof(a)),
	         lb_addr_format(&r->last, b, sizeof(b)));
	return buf;
}

uint64_t vip_name_home_in(const struct vip_range *r, const char *name)
{
	uint64_t last = range_last_offset(r);

	if (r->first.af == AF_INET)
		return (uint64_t)fnv1a32(name) % (last + 1);
	return last == UINT64_MAX ? fnv1a64(name) : fnv1a64(name) % (last + 1);
}

uint32_t vip_name_home(const char *name)
{
	return fnv1a32(name) % VIP_ALLOC_RANGE;
}

/* The offsets taken so far, as an open-addressing set (every offset is a
 * valid value, so occupancy is a separate flag). */
struct taken {
	uint64_t *offs;
	bool *used;
	size_t cap;
};

static size_t taken_slot(const struct taken *t, uint64_t off)
{
	return (size_t)((off * 0x9e3779b97f4a7c15ull) >> 17) & (t->cap - 1);
}

static bool taken_has(const struct taken *t, uint64_t off)
{
	for (size_t i = taken_slot(t, off); t->used[i]; i = (i + 1) & (t->cap - 1))
		if (t->offs[i] == off)
			return true;
	return false;
}

static void taken_put(struct taken *t, uint64_t off)
{
	size_t i = taken_slot(t, off);

	while (t->used[i])
		i = (i + 1) & (t->cap - 1);
	t->used[i] = true;
	t->offs[i] = off;
}

static int taken_init(struct taken *t, size_t n)
{
	t->cap = 16;
	while (t->cap < n * 2)
		t->cap *= 2;
	t->offs = malloc(t->cap * sizeof(*t->offs));
	t->used = calloc(t->cap, sizeof(*t->used));
	if (t->offs == NULL || t->used == NULL) {
		free(t->offs);
		free(t->used);
		return -1;
	}
	return 0;
}

static void taken_free(struct taken *t)
{
	free(t->offs);
	free(t->used);
}

struct pending {
	size_t idx; /* into vip_alloc.items */
	const char *name;
	uint64_t home;
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

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct vip_alloc_entry *entry_find(const struct vip_alloc *va, const char *name)
{
	struct vip_alloc_entry probe = {.name = (char *)name};

	if (va->n == 0)
		return NULL;
	return vec_find(&probe, va->items, va->n, sizeof(*va->items), entry_cmp);
}

static uint64_t addr_offset(const struct vip_range *r, const struct lb_addr *a)
{
	return addr_low(a) - addr_low(&r->first);
}

/* A record's address of r's family, when it is inside r. */
static const struct lb_addr *record_addr_in(const struct vip_record *rec, const struct vip_range *r)
{
	const struct lb_addr *a = r->first.af == AF_INET ? &rec->addr : &rec->addr6;

	return a->af == r->first.af && vip_range_contains(r, a) ? a : NULL;
}

static bool record_reserved(const struct vip_record *rec, const struct vip_assign_in *in)
{
	return rec->freed_at == 0 || rec->freed_at + in->quarantine_s > in->now_s;
}

/* The first offset from home upward that neither set holds (q may be NULL),
 * trying at most `steps` offsets. */
static bool probe_free(const struct taken *used, const struct taken *q, uint64_t home,
                       uint64_t last, uint64_t steps, uint64_t *out)
{
	uint64_t off = home;

	for (uint64_t i = 0; i < steps; i++) {
		if (!taken_has(used, off) && (q == NULL || !taken_has(q, off))) {
			*out = off;
			return true;
		}
		off = off == last ? 0 : off + 1;
	}
	return false;
}

/* Which records hold their address: of two reserved records with one
 * address (two nodes' names recorded in the same instant), the one whose
 * name sorts first, whether or not its name is used here, so that every
 * node settles it alike. winners[i] for rec->items[i]. */
static int mark_winners(const struct vip_records *rec, const struct vip_range *r,
                        const struct vip_assign_in *in, const struct vip_alloc *va, bool *winners)
{
	struct taken held;

	if (taken_init(&held, rec->n) < 0)
		return -1;
	for (size_t i = 0; i < rec->n; i++) {
		const struct lb_addr *a = record_addr_in(&rec->items[i], r);

		if (a == NULL || taken_has(&held, addr_offset(r, a)) ||
		    (!record_reserved(&rec->items[i], in) &&
		     entry_find(va, rec->items[i].name) == NULL))
			continue;
		taken_put(&held, addr_offset(r, a));
		winners[i] = true;
	}
	taken_free(&held);
	return 0;
}

/* Keeps the recorded addresses of the names still here (mark_winners
 * settles a shared one), reserves those of names gone while in quarantine;
 * the names left to place go to p. Returns how many. */
static size_t keep_recorded(struct vip_alloc *va, const struct vip_range *r,
                            const struct vip_assign_in *in, const bool *winners, struct taken *used,
                            struct taken *quar, struct pending *p)
{
	const struct vip_records *rec = in->recorded;
	size_t np = 0;

	for (size_t i = 0; i < va->n; i++) {
		struct vip_alloc_entry *e = &va->items[i];
		const struct vip_record *rr = rec ? vip_records_find(rec, e->name) : NULL;
		const struct lb_addr *a = rr ? record_addr_in(rr, r) : NULL;

		if (a != NULL && winners[rr - rec->items] && !taken_has(used, addr_offset(r, a))) {
			taken_put(used, addr_offset(r, a));
			*(r->first.af == AF_INET ? &e->addr : &e->addr6) = *a;
			continue;
		}
		p[np++] = (struct pending){
		    .idx = i, .name = e->name, .home = vip_name_home_in(r, e->name)};
	}
	for (size_t i = 0; rec != NULL && i < rec->n; i++) {
		const struct lb_addr *a = record_addr_in(&rec->items[i], r);

		if (a != NULL && entry_find(va, rec->items[i].name) == NULL &&
		    record_reserved(&rec->items[i], in) && !taken_has(quar, addr_offset(r, a)))
			taken_put(quar, addr_offset(r, a));
	}
	return np;
}

/* One family: recorded names keep their addresses; the others, in (home,
 * name) order, take the first offset from their home that is neither used
 * nor in quarantine, or, when every free one is in quarantine, the first
 * unused. The caller made sure there are no more names than offsets. */
static int assign_family(struct vip_alloc *va, const struct vip_range *r,
                         const struct vip_assign_in *in, struct pending *p)
{
	uint64_t last = range_last_offset(r);
	size_t nrec = in->recorded ? in->recorded->n : 0;
	struct taken used, quar;
	bool *winners = calloc(nrec + 1, sizeof(*winners));
	size_t np;

	if (winners == NULL || (nrec > 0 && mark_winners(in->recorded, r, in, va, winners) < 0)) {
		free(winners);
		return -1;
	}
	if (taken_init(&used, va->n) < 0) {
		free(winners);
		return -1;
	}
	if (taken_init(&quar, nrec) < 0) {
		taken_free(&used);
		free(winners);
		return -1;
	}
	np = keep_recorded(va, r, in, winners, &used, &quar, p);
	free(winners);
	vec_sort(p, np, sizeof(*p), pending_cmp);
	for (size_t i = 0; i < np; i++) {
		uint64_t size = last == UINT64_MAX ? UINT64_MAX : last + 1;
		uint64_t steps = va->n + nrec + 1 < size ? va->n + nrec + 1 : size;
		struct vip_alloc_entry *e = &va->items[p[i].idx];
		uint64_t off = 0;

		if (!probe_free(&used, &quar, p[i].home, last, steps, &off))
			(void)probe_free(&used, NULL, p[i].home, last, size, &off);
		taken_put(&used, off);
		range_addr_at(r, off, r->first.af == AF_INET ? &e->addr : &e->addr6);
	}
	taken_free(&quar);
	taken_free(&used);
	return 0;
}

/* The distinct names, sorted, copied into va (freed by the caller on
 * failure through vip_alloc_free). */
static int copy_unique(struct vip_alloc *va, const char *const *names, size_t n)
{
	const char **sorted = malloc(n * sizeof(*sorted));
	int rc = 0;

	if (sorted == NULL)
		return -1;
	memcpy(sorted, names, n * sizeof(*sorted));
	vec_sort(sorted, n, sizeof(*sorted), str_cmp);
	va->items = calloc(n, sizeof(*va->items));
	if (va->items == NULL)
		rc = -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (va->n > 0 && strcmp(va->items[va->n - 1].name, sorted[i]) == 0)
			continue;
		va->items[va->n].name = strdup(sorted[i]);
		if (va->items[va->n].name == NULL)
			rc = -1;
		else
			va->n++;
	}
	free(sorted);
	return rc;
}

static bool too_many(const struct vip_range *r, size_t m)
{
	uint64_t last = range_last_offset(r);

	return last != UINT64_MAX && (uint64_t)m > last + 1;
}

int vip_alloc_assign(struct vip_alloc *va, const char *const *names, size_t n,
                     const struct vip_assign_in *in, char *err, size_t errlen)
{
	struct vip_ranges defaults;
	const struct vip_ranges *ranges = in->ranges;

	if (!ranges) {
		vip_ranges_default(&defaults);
		ranges = &defaults;
	}
	const struct vip_range *fam[2] = {&ranges->v4, &ranges->v6};
	struct pending *p = NULL;
	char rbuf[2 * INET6_ADDRSTRLEN + 2];

	memset(va, 0, sizeof(*va));
	if (n == 0)
		return 0;
	if (copy_unique(va, names, n) < 0)
		goto nomem;
	for (int f = 0; f < 2; f++) {
		if (too_many(fam[f], va->n)) {
			snprintf(err, errlen, "%zu named VIPs, more than the %llu addresses of %s",
			         va->n, (unsigned long long)range_last_offset(fam[f]) + 1,
			         vip_range_format(fam[f], rbuf, sizeof(rbuf)));
			vip_alloc_free(va);
			return -1;
		}
	}
	p = malloc(va->n * sizeof(*p));
	if (p == NULL || assign_family(va, fam[0], in, p) < 0 ||
	    assign_family(va, fam[1], in, p) < 0)
		goto nomem;
	free(p);
	return 0;
nomem:
	free(p);
	vip_alloc_free(va);
	snprintf(err, errlen, "named VIPs: out of memory");
	return -1;
}

int vip_alloc_build_in(struct vip_alloc *va, const char *const *names, size_t n,
                       const struct vip_ranges *ranges, char *err, size_t errlen)
{
	struct vip_assign_in in = {.ranges = ranges};

	return vip_alloc_assign(va, names, n, &in, err, errlen);
}

int vip_alloc_build(struct vip_alloc *va, const char *const *names, size_t n, char *err,
                    size_t errlen)
{
	struct vip_ranges r;

	vip_ranges_default(&r);
	return vip_alloc_build_in(va, names, n, &r, err, errlen);
}

int vip_name_address(const struct vip_alloc *va, const char *name, struct lb_addr *out)
{
	const struct vip_alloc_entry *e = entry_find(va, name);

	if (e == NULL)
		return -1;
	*out = e->addr;
	return 0;
}

int vip_name_address6(const struct vip_alloc *va, const char *name, struct lb_addr *out)
{
	const struct vip_alloc_entry *e = entry_find(va, name);

	if (e == NULL)
		return -1;
	*out = e->addr6;
	return 0;
}

void vip_alloc_free(struct vip_alloc *va)
{
	for (size_t i = 0; i < va->n; i++)
		free(va->items[i].name);
	free(va->items);
	memset(va, 0, sizeof(*va));
}

int vip_alloc_from_list(struct vip_alloc *va, const struct vip_list *vl,
                        const struct vip_ranges *ranges, char *err, size_t errlen)
{
	const char **names = calloc(vl->n + 1, sizeof(*names));
	size_t n = 0;
	int rc;

	if (names == NULL) {
		snprintf(err, errlen, "named VIPs: out of memory");
		return -1;
	}
	for (size_t i = 0; i < vl->n; i++)
		if (vl->items[i].ref.named)
			names[n++] = vl->items[i].ref.name;
	rc = vip_alloc_build_in(va, names, n, ranges, err, errlen);
	free(names);
	return rc;
}
