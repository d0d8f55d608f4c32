/*
 * The IPVS-shaped table: services with their destinations, a hash index for
 * building, sorting for diffing, and the text forms used in logs and the CLI.
 */
#include "vipd/lbtable.h"
#include "vipd/vec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static size_t addr_len(int af)
{
	return af == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
}

int lb_addr_cmp(const struct lb_addr *a, const struct lb_addr *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(&a->u, &b->u, addr_len(a->af));
}

int lb_key_cmp(const struct lb_key *a, const struct lb_key *b)
{
	int c = lb_addr_cmp(&a->addr, &b->addr);

	if (c != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->protocol != b->protocol)
		return a->protocol < b->protocol ? -1 : 1;
	return 0;
}

int lb_dest_cmp(const struct lb_dest *a, const struct lb_dest *b)
{
	int c = lb_addr_cmp(&a->addr, &b->addr);

	if (c != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

int lb_addr_parse(const char *s, struct lb_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->u.v4) == 1) {
		out->af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->u.v6) == 1) {
		out->af = AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

const char *lb_addr_format(const struct lb_addr *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (inet_ntop(a->af, &a->u, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *lb_addr_port_format(const struct lb_addr *a, uint16_t port, char *buf, size_t len)
{
	char ab[INET6_ADDRSTRLEN];

	lb_addr_format(a, ab, sizeof(ab));
	if (a->af == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ab, (unsigned)port);
	else
		snprintf(buf, len, "%s:%u", ab, (unsigned)port);
	return buf;
}

const char *lb_proto_name(uint8_t protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_SCTP:
		return "SCTP";
	}
	return "?";
}

const char *lb_key_format(const struct lb_key *k, char *buf, size_t len)
{
	char ap[INET6_ADDRSTRLEN + 8];

	snprintf(buf, len, "%s %s", lb_proto_name(k->protocol),
	         lb_addr_port_format(&k->addr, k->port, ap, sizeof(ap)));
	return buf;
}

const char *lb_fwd_name(enum lb_fwd f)
{
	switch (f) {
	case LB_FWD_MASQ:
		return "masq";
	case LB_FWD_DROUTE:
		return "droute";
	case LB_FWD_TUNNEL:
		return "tunnel";
	}
	return "?";
}

int lb_fwd_parse(const char *s, enum lb_fwd *out)
{
	if (strcmp(s, "masq") == 0)
		*out = LB_FWD_MASQ;
	else if (strcmp(s, "droute") == 0)
		*out = LB_FWD_DROUTE;
	else if (strcmp(s, "tunnel") == 0)
		*out = LB_FWD_TUNNEL;
	else
		return -1;
	return 0;
}

/* FNV-1a over the key's significant bytes. */
static uint32_t key_hash(const struct lb_key *k)
{
	const uint8_t *p = (const uint8_t *)&k->addr.u;
	size_t n = addr_len(k->addr.af);
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (uint8_t)k->addr.af) * 16777619u;
	h = (h ^ (k->port >> 8)) * 16777619u;
	h = (h ^ (k->port & 0xff)) * 16777619u;
	h = (h ^ k->protocol) * 16777619u;
	return h;
}

void lb_table_init(struct lb_table *t)
{
	memset(t, 0, sizeof(*t));
	t->sorted = true;
}

void lb_table_free(struct lb_table *t)
{
	for (size_t i = 0; i < t->nsvcs; i++)
		free(t->svcs[i].dests);
	free(t->svcs);
	free(t->index);
	lb_table_init(t);
}

static void index_insert(uint32_t *index, size_t cap, const struct lb_key *k, size_t pos)
{
	size_t mask = cap - 1;
	size_t slot = key_hash(k) & mask;

	while (index[slot] != 0)
		slot = (slot + 1) & mask;
	index[slot] = (uint32_t)(pos + 1);
}

static int index_rebuild(struct lb_table *t, size_t cap)
{
	uint32_t *index = calloc(cap, sizeof(*index));

	if (index == NULL)
		return -1;
	for (size_t i = 0; i < t->nsvcs; i++)
		index_insert(index, cap, &t->svcs[i].key, i);
	free(t->index);
	t->index = index;
	t->index_cap = cap;
	return 0;
}

struct lb_service *lb_table_find(const struct lb_table *t, const struct lb_key *k)
{
	size_t mask, slot;

	if (t->index_cap == 0)
		return NULL;
	mask = t->index_cap - 1;
	slot = key_hash(k) & mask;
	while (t->index[slot] != 0) {
		struct lb_service *s = &t->svcs[t->index[slot] - 1];

		if (lb_key_cmp(&s->key, k) == 0)
			return s;
		slot = (slot + 1) & mask;
	}
	return NULL;
}

/* Keeps the index at most half full so probes stay short. */
static int table_reserve(struct lb_table *t)
{
	if (VEC_RESERVE(t->svcs, t->cap, t->nsvcs + 1) < 0)
		return -1;
	if ((t->nsvcs + 1) * 2 > t->index_cap)
		return index_rebuild(t, t->index_cap ? t->index_cap * 2 : 32);
	return 0;
}

struct lb_service *lb_table_add_service(struct lb_table *t, const struct lb_key *k)
{
	struct lb_service *s = lb_table_find(t, k);

	if (s != NULL)
		return s;
	if (table_reserve(t) < 0)
		return NULL;
	s = &t->svcs[t->nsvcs];
	memset(s, 0, sizeof(*s));
	s->key = *k;
	snprintf(s->sched, sizeof(s->sched), "%s", LB_SCHED_DEFAULT);
	s->fwd = LB_FWD_MASQ;
	s->dests_sorted = true;
	index_insert(t->index, t->index_cap, k, t->nsvcs);
	if (t->nsvcs > 0 && lb_key_cmp(&t->svcs[t->nsvcs - 1].key, k) > 0)
		t->sorted = false;
	t->nsvcs++;
	return s;
}

int lb_service_add_dest(struct lb_service *s, const struct lb_dest *d)
{
	if (VEC_RESERVE(s->dests, s->dests_cap, s->ndests + 1) < 0)
		return -1;
	if (s->ndests > 0 && lb_dest_cmp(&s->dests[s->ndests - 1], d) >= 0)
		s->dests_sorted = false;
	s->dests[s->ndests++] = *d;
	return 0;
}

static int dest_qsort_cmp(const void *a, const void *b)
{
	return lb_dest_cmp(a, b);
}

struct lb_dest *lb_service_find_dest(const struct lb_service *s, const struct lb_addr *a,
                                     uint16_t port)
{
	struct lb_dest probe = {.addr = *a, .port = port};

	if (s->dests_sorted) /* bsearch must not be given a NULL array */
		return s->ndests > 0
		           ? vec_find(&probe, s->dests, s->ndests, sizeof(probe), dest_qsort_cmp)
		           : NULL;
	for (size_t i = 0; i < s->ndests; i++)
		if (lb_dest_cmp(&s->dests[i], &probe) == 0)
			return &s->dests[i];
	return NULL;
}

int lb_service_set_sched(struct lb_service *s, const char *name)
{
	if (strlen(name) >= sizeof(s->sched) || name[0] == '\0')
		return -1;
	snprintf(s->sched, sizeof(s->sched), "%s", name);
	return 0;
}

static int svc_qsort_cmp(const void *a, const void *b)
{
	return lb_key_cmp(&((const struct lb_service *)a)->key,
	                  &((const struct lb_service *)b)->key);
}

/* Position in the input breaks ties so that the last duplicate added wins
 * deterministically (qsort is not stable). */
struct dest_pos {
	struct lb_dest d;
	size_t pos;
};

static int dest_pos_cmp(const void *a, const void *b)
{
	const struct dest_pos *x = a, *y = b;
	int c = lb_dest_cmp(&x->d, &y->d);

	if (c != 0)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int lb_service_sort_dests(struct lb_service *s)
{
	struct dest_pos *tmp;
	size_t n = 0;

	if (s->dests_sorted)
		return 0;
	tmp = malloc(s->ndests * sizeof(*tmp));
	if (tmp == NULL)
		return -1;
	for (size_t i = 0; i < s->ndests; i++)
		tmp[i] = (struct dest_pos){.d = s->dests[i], .pos = i};
	vec_sort(tmp, s->ndests, sizeof(*tmp), dest_pos_cmp);
	for (size_t i = 0; i < s->ndests; i++) {
		if (n > 0 && lb_dest_cmp(&s->dests[n - 1], &tmp[i].d) == 0)
			s->dests[n - 1] = tmp[i].d;
		else
			s->dests[n++] = tmp[i].d;
	}
	free(tmp);
	s->ndests = n;
	s->dests_sorted = true;
	return 0;
}

bool lb_table_is_sorted(const struct lb_table *t)
{
	if (!t->sorted)
		return false;
	for (size_t i = 0; i < t->nsvcs; i++)
		if (!t->svcs[i].dests_sorted)
			return false;
	return true;
}

int lb_table_sort(struct lb_table *t)
{
	for (size_t i = 0; i < t->nsvcs; i++)
		if (lb_service_sort_dests(&t->svcs[i]) < 0)
			return -1;
	if (t->sorted)
		return 0;
	vec_sort(t->svcs, t->nsvcs, sizeof(*t->svcs), svc_qsort_cmp);
	if (index_rebuild(t, t->index_cap) < 0)
		return -1;
	t->sorted = true;
	return 0;
}

struct lb_service *lb_table_add_copy(struct lb_table *t, const struct lb_service *from)
{
	struct lb_service *to = lb_table_add_service(t, &from->key);

	if (to == NULL)
		return NULL;
	memcpy(to->sched, from->sched, sizeof(to->sched));
	to->fwd = from->fwd;
	to->flags = from->flags;
	for (size_t j = 0; j < from->ndests; j++)
		if (lb_service_add_dest(to, &from->dests[j]) < 0)
			return NULL;
	return to;
}

int lb_table_copy(struct lb_table *dst, const struct lb_table *src)
{
	for (size_t i = 0; i < src->nsvcs; i++)
		if (lb_table_add_copy(dst, &src->svcs[i]) == NULL)
			return -1;
	return lb_table_sort(dst);
}

/* The attributes and destinations of `from` into `to` (same key). */
static int service_assign(struct lb_service *to, const struct lb_service *from)
{
	struct lb_dest *dests = malloc((from->ndests ? from->ndests : 1) * sizeof(*dests));

	if (dests == NULL)
		return -1;
	if (from->ndests > 0)
		memcpy(dests, from->dests, from->ndests * sizeof(*dests));
	free(to->dests);
	to->dests = dests;
	to->ndests = to->dests_cap = from->ndests;
	to->dests_sorted = from->dests_sorted;
	memcpy(to->sched, from->sched, sizeof(to->sched));
	to->fwd = from->fwd;
	to->flags = from->flags;
	return 0;
}

int lb_table_patch(struct lb_table *t, const struct lb_table *part)
{
	for (size_t i = 0; i < part->nsvcs; i++)
		if (lb_table_find(t, &part->svcs[i].key) == NULL)
			return -1;
	for (size_t i = 0; i < part->nsvcs; i++)
		if (service_assign(lb_table_find(t, &part->svcs[i].key), &part->svcs[i]) < 0)
			return -1;
	return 0;
}

size_t lb_table_dest_count(const struct lb_table *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nsvcs; i++)
		n += t->svcs[i].ndests;
	return n;
}

void lb_keyset_init(struct lb_keyset *ks)
{
	memset(ks, 0, sizeof(*ks));
	ks->sorted = true;
}

void lb_keyset_free(struct lb_keyset *ks)
{
	free(ks->keys);
	lb_keyset_init(ks);
}

int lb_keyset_add(struct lb_keyset *ks, const struct lb_key *k)
{
	if (VEC_RESERVE(ks->keys, ks->cap, ks->n + 1) < 0)
		return -1;
	if (ks->n > 0 && lb_key_cmp(&ks->keys[ks->n - 1], k) >= 0)
		ks->sorted = false;
	ks->keys[ks->n++] = *k;
	return 0;
}

int lb_keyset_add_table(struct lb_keyset *ks, const struct lb_table *t)
{
	for (size_t i = 0; i < t->nsvcs; i++)
		if (lb_keyset_add(ks, &t->svcs[i].key) < 0)
			return -1;
	return 0;
}

static int key_qsort_cmp(const void *a, const void *b)
{
	return lb_key_cmp(a, b);
}

void lb_keyset_sort(struct lb_keyset *ks)
{
	if (ks->sorted)
		return;
	ks->n = vec_sort_unique(ks->keys, ks->n, sizeof(*ks->keys), key_qsort_cmp);
	ks->sorted = true;
}

bool lb_keyset_contains(const struct lb_keyset *ks, const struct lb_key *k)
{
	if (ks->sorted)
		return vec_find(k, ks->keys, ks->n, sizeof(*k), key_qsort_cmp) != NULL;
	for (size_t i = 0; i < ks->n; i++)
		if (lb_key_cmp(&ks->keys[i], k) == 0)
			return true;
	return false;
}
