/*
 * The responder's record set: zones, address records and SRV records under
 * lowercase names, and the names above them (empty non-terminals), each
 * sorted for binary search once built, so that no answer scans the set.
 */
#include "vipd/dns.h"
#include "vipd/vec.h"

#include <stdlib.h>
#include <string.h>

void dns_records_init(struct dns_records *r, uint32_t ttl)
{
	memset(r, 0, sizeof(*r));
	r->ttl = ttl;
}

void dns_records_free(struct dns_records *r)
{
	for (size_t i = 0; i < r->nzones; i++)
		free(r->zones[i]);
	free(r->zones);
	for (size_t i = 0; i < r->nhosts; i++) {
		free(r->hosts[i].name);
		free(r->hosts[i].addrs);
	}
	free(r->hosts);
	for (size_t i = 0; i < r->nsrvs; i++) {
		free(r->srvs[i].name);
		free(r->srvs[i].target);
	}
	free(r->srvs);
	free(r->parents);
	dns_records_init(r, r->ttl);
}

static char *lower_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

int dns_records_add_zone(struct dns_records *r, const char *zone)
{
	char **z = realloc(r->zones, (r->nzones + 1) * sizeof(*z));

	if (z == NULL)
		return -1;
	r->zones = z;
	z[r->nzones] = lower_dup(zone);
	if (z[r->nzones] == NULL)
		return -1;
	r->nzones++;
	return 0;
}

/* Before dns_records_finish a name may have several entries; they merge. */
int dns_records_add_addr(struct dns_records *r, const char *name, const struct lb_addr *a)
{
	struct dns_host *h;

	if (VEC_RESERVE(r->hosts, r->hosts_cap, r->nhosts + 1) < 0)
		return -1;
	h = &r->hosts[r->nhosts];
	memset(h, 0, sizeof(*h));
	h->name = lower_dup(name);
	h->addrs = malloc(sizeof(*h->addrs));
	if (h->name == NULL || h->addrs == NULL) {
		free(h->name);
		free(h->addrs);
		return -1;
	}
	h->addrs[0] = *a;
	h->naddrs = h->cap = 1;
	r->nhosts++;
	return 0;
}

int dns_records_add_srv(struct dns_records *r, const char *name, const char *target, uint16_t port)
{
	struct dns_srv *s;

	if (VEC_RESERVE(r->srvs, r->srvs_cap, r->nsrvs + 1) < 0)
		return -1;
	s = &r->srvs[r->nsrvs];
	s->name = lower_dup(name);
	s->target = lower_dup(target);
	s->port = port;
	if (s->name == NULL || s->target == NULL) {
		free(s->name);
		free(s->target);
		return -1;
	}
	r->nsrvs++;
	return 0;
}

static int host_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dns_host *)a)->name, ((const struct dns_host *)b)->name);
}

static int srv_cmp(const void *a, const void *b)
{
	const struct dns_srv *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c == 0)
		c = strcmp(x->target, y->target);
	if (c == 0)
		c = (x->port > y->port) - (x->port < y->port);
	return c;
}

static int addr_qsort_cmp(const void *a, const void *b)
{
	return lb_addr_cmp(a, b);
}

/* Moves h's addresses into into's (both hold distinct arrays); h is freed
 * either way. -1 when out of memory. */
static int host_merge(struct dns_host *into, struct dns_host *h)
{
	int rc = VEC_RESERVE(into->addrs, into->cap, into->naddrs + h->naddrs);

	if (rc == 0) {
		memcpy(into->addrs + into->naddrs, h->addrs, h->naddrs * sizeof(*h->addrs));
		into->naddrs += h->naddrs;
	}
	free(h->name);
	free(h->addrs);
	return rc;
}

static int hosts_finish(struct dns_records *r)
{
	size_t n = 0;
	int rc = 0;

	vec_sort(r->hosts, r->nhosts, sizeof(*r->hosts), host_cmp);
	for (size_t i = 0; i < r->nhosts; i++) {
		if (n > 0 && strcmp(r->hosts[n - 1].name, r->hosts[i].name) == 0) {
			if (host_merge(&r->hosts[n - 1], &r->hosts[i]) < 0)
				rc = -1;
		} else {
			r->hosts[n++] = r->hosts[i];
		}
	}
	r->nhosts = n;
	for (size_t i = 0; i < n; i++) {
		struct dns_host *h = &r->hosts[i];

		h->naddrs = vec_sort_unique(h->addrs, h->naddrs, sizeof(*h->addrs), addr_qsort_cmp);
	}
	return rc;
}

static void srvs_finish(struct dns_records *r)
{
	size_t n = 0;

	vec_sort(r->srvs, r->nsrvs, sizeof(*r->srvs), srv_cmp);
	for (size_t i = 0; i < r->nsrvs; i++) {
		if (n > 0 && srv_cmp(&r->srvs[n - 1], &r->srvs[i]) == 0) {
			free(r->srvs[i].name);
			free(r->srvs[i].target);
			continue;
		}
		r->srvs[n++] = r->srvs[i];
	}
	r->nsrvs = n;
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every name after a dot of name: its parents, up to the last label. */
static size_t add_parents(const char *name, const char **out)
{
	size_t n = 0;

	for (const char *p = strchr(name, '.'); p; p = strchr(p + 1, '.'))
		if (out)
			out[n++] = p + 1;
		else
			n++;
	return n;
}

/* The sorted, unique parents of every record's name, pointing into the
 * names: whether a name without records exists is then one search. */
static int parents_finish(struct dns_records *r)
{
	size_t total = 0, n = 0;

	for (size_t i = 0; i < r->nhosts; i++)
		total += add_parents(r->hosts[i].name, NULL);
	for (size_t i = 0; i < r->nsrvs; i++)
		total += add_parents(r->srvs[i].name, NULL);
	if (total == 0)
		return 0;
	r->parents = malloc(total * sizeof(*r->parents));
	if (r->parents == NULL)
		return -1;
	for (size_t i = 0; i < r->nhosts; i++)
		n += add_parents(r->hosts[i].name, r->parents + n);
	for (size_t i = 0; i < r->nsrvs; i++)
		n += add_parents(r->srvs[i].name, r->parents + n);
	r->nparents = vec_sort_unique(r->parents, n, sizeof(*r->parents), str_ptr_cmp);
	return 0;
}

int dns_records_finish(struct dns_records *r)
{
	int rc = hosts_finish(r);

	srvs_finish(r);
	free(r->parents);
	r->parents = NULL;
	r->nparents = 0;
	if (parents_finish(r) < 0)
		rc = -1;
	return rc;
}

const struct dns_host *dns_records_host(const struct dns_records *r, const char *name)
{
	struct dns_host probe = {.name = (char *)name};

	return vec_find(&probe, r->hosts, r->nhosts, sizeof(*r->hosts), host_cmp);
}

static int srv_name_cmp(const void *name, const void *srv)
{
	return strcmp(name, ((const struct dns_srv *)srv)->name);
}

const struct dns_srv *dns_records_srv(const struct dns_records *r, const char *name, size_t *n)
{
	size_t lo = vec_lower_bound(name, r->srvs, r->nsrvs, sizeof(*r->srvs), srv_name_cmp), end;

	for (end = lo; end < r->nsrvs && strcmp(r->srvs[end].name, name) == 0; end++)
		;
	*n = end - lo;
	return *n ? &r->srvs[lo] : NULL;
}

/* name is zone or ends with "." zone. */
static bool is_under(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n == z)
		return strcmp(name, zone) == 0;
	return n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

const char *dns_records_zone_of(const struct dns_records *r, const char *name)
{
	const char *best = NULL;

	for (size_t i = 0; i < r->nzones; i++)
		if (is_under(name, r->zones[i]) && (!best || strlen(r->zones[i]) > strlen(best)))
			best = r->zones[i];
	return best;
}

bool dns_records_name_exists(const struct dns_records *r, const char *name)
{
	size_t n;

	if (dns_records_host(r, name) || dns_records_srv(r, name, &n))
		return true;
	/* marathon.l4lb.thisdcos.directory and the like: parents of names */
	return vec_find(&name, r->parents, r->nparents, sizeof(*r->parents), str_ptr_cmp) != NULL;
}

bool dns_records_equal(const struct dns_records *a, const struct dns_records *b)
{
	if (a->ttl != b->ttl || a->nzones != b->nzones || a->nhosts != b->nhosts ||
	    a->nsrvs != b->nsrvs)
		return false;
	for (size_t i = 0; i < a->nzones; i++)
		if (strcmp(a->zones[i], b->zones[i]) != 0)
			return false;
	for (size_t i = 0; i < a->nhosts; i++) {
		const struct dns_host *x = &a->hosts[i], *y = &b->hosts[i];

		if (strcmp(x->name, y->name) != 0 || x->naddrs != y->naddrs)
			return false;
		for (size_t j = 0; j < x->naddrs; j++)
			if (lb_addr_cmp(&x->addrs[j], &y->addrs[j]) != 0)
				return false;
	}
	for (size_t i = 0; i < a->nsrvs; i++)
		if (srv_cmp(&a->srvs[i], &b->srvs[i]) != 0)
			return false;
	return true;
}
