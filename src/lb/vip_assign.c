/*
 * The recorded named-VIP assignments: which address each name holds, and
 * which freed addresses are in quarantine. Pure bookkeeping; the allocator
 * (vip_alloc.c) reads them, the state file and etcd store them.
 */
#include "vipd/vip.h"
#include "vipd/vec.h"

#include <stdlib.h>
#include <string.h>

static int record_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vip_record *)a)->name, ((const struct vip_record *)b)->name);
}

const struct vip_record *vip_records_find(const struct vip_records *r, const char *name)
{
	struct vip_record probe;

	if (r->n == 0 || strlen(name) >= sizeof(probe.name))
		return NULL;
	strcpy(probe.name, name);
	return vec_find(&probe, r->items, r->n, sizeof(*r->items), record_cmp);
}

int vip_records_put(struct vip_records *r, const struct vip_record *rec)
{
	struct vip_record *found = (struct vip_record *)vip_records_find(r, rec->name);
	struct vip_record *grown;

	if (found != NULL) {
		*found = *rec;
		return 0;
	}
	grown = realloc(r->items, (r->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	r->items = grown;
	r->items[r->n++] = *rec;
	vec_sort(r->items, r->n, sizeof(*r->items), record_cmp);
	return 0;
}

void vip_records_free(struct vip_records *r)
{
	free(r->items);
	r->items = NULL;
	r->n = 0;
}

static bool addr_same(const struct lb_addr *a, const struct lb_addr *b)
{
	if (a->af != b->af)
		return false;
	return a->af == 0 || lb_addr_cmp(a, b) == 0;
}

bool vip_records_equal(const struct vip_records *a, const struct vip_records *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct vip_record *x = &a->items[i], *y = &b->items[i];

		if (strcmp(x->name, y->name) != 0 || x->freed_at != y->freed_at ||
		    !addr_same(&x->addr, &y->addr) || !addr_same(&x->addr6, &y->addr6))
			return false;
	}
	return true;
}

/* A recorded in-use address that the allocation changed: a move. */
static int note_move(const char *name, const struct lb_addr *from, const struct lb_addr *to,
                     struct vip_move **moves, size_t *nmoves)
{
	struct vip_move *grown;

	if (from->af == 0 || addr_same(from, to))
		return 0;
	grown = realloc(*moves, (*nmoves + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	*moves = grown;
	memset(&grown[*nmoves], 0, sizeof(*grown));
	strcpy(grown[*nmoves].name, name);
	grown[*nmoves].from = *from;
	grown[*nmoves].to = *to;
	(*nmoves)++;
	return 0;
}

static int next_in_use(const struct vip_records *recorded, const struct vip_alloc *va,
                       struct vip_records *next, struct vip_move **moves, size_t *nmoves)
{
	for (size_t i = 0; i < va->n; i++) {
		const struct vip_alloc_entry *e = &va->items[i];
		const struct vip_record *old =
		    recorded ? vip_records_find(recorded, e->name) : NULL;
		struct vip_record rec = {.addr = e->addr, .addr6 = e->addr6};

		if (strlen(e->name) >= sizeof(rec.name))
			continue;
		strcpy(rec.name, e->name);
		if (old != NULL && old->freed_at == 0 &&
		    (note_move(e->name, &old->addr, &e->addr, moves, nmoves) < 0 ||
		     note_move(e->name, &old->addr6, &e->addr6, moves, nmoves) < 0))
			return -1;
		next->items[next->n++] = rec;
	}
	return 0;
}

int vip_records_next(const struct vip_records *recorded, const struct vip_alloc *va, int64_t now_s,
                     int64_t quarantine_s, struct vip_records *next, struct vip_move **moves,
                     size_t *nmoves)
{
	size_t nrec = recorded ? recorded->n : 0;

	*moves = NULL;
	*nmoves = 0;
	memset(next, 0, sizeof(*next));
	next->items = calloc(va->n + nrec + 1, sizeof(*next->items));
	if (next->items == NULL || next_in_use(recorded, va, next, moves, nmoves) < 0)
		goto nomem;
	for (size_t i = 0; i < nrec; i++) {
		struct vip_record rec = recorded->items[i];
		struct lb_addr still;

		if (vip_name_address(va, rec.name, &still) == 0)
			continue;
		if (rec.freed_at == 0)
			rec.freed_at = now_s;
		if (rec.freed_at + quarantine_s > now_s)
			next->items[next->n++] = rec;
	}
	vec_sort(next->items, next->n, sizeof(*next->items), record_cmp);
	return 0;
nomem:
	vip_records_free(next);
	free(*moves);
	*moves = NULL;
	*nmoves = 0;
	return -1;
}
