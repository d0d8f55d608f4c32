/* Named-VIP allocation: IPv6 and configurable ranges, located errors for
 * address labels in the named range and warnings for public ones, and the
 * stability property over thousands of random names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "vipd/vip.h"

static void assert_addr(const struct lb_addr *a, const char *want)
{
	char buf[64];

	assert_string_equal(lb_addr_format(a, buf, sizeof(buf)), want);
}

static uint64_t low64(const struct lb_addr *a)
{
	uint64_t v = 0;

	if (a->af == AF_INET)
		return ntohl(a->u.v4.s_addr);
	for (int i = 8; i < 16; i++)
		v = (v << 8) | a->u.v6.s6_addr[i];
	return v;
}

static void test_default_ranges(void **state)
{
	const char *names[] = {"/web", "/prod/web"};
	struct vip_ranges r;
	struct vip_alloc va;
	struct lb_addr a;
	char err[128], buf[128];
	uint64_t h = 14695981039346656037ull;

	(void)state;
	vip_ranges_default(&r);
	assert_string_equal(vip_range_format(&r.v4, buf, sizeof(buf)), "11.0.0.0-11.255.255.254");
	assert_string_equal(vip_range_format(&r.v6, buf, sizeof(buf)),
	                    "fd01:c::-fd01:c::ffff:ffff:ffff:ffff");
	assert_int_equal(vip_name_home_in(&r.v4, "/web"), vip_name_home("/web"));
	assert_int_equal(vip_alloc_build(&va, names, 2, err, sizeof(err)), 0);
	assert_int_equal(vip_name_address6(&va, "/web", &a), 0);
	assert_int_equal(a.af, AF_INET6);
	assert_true(vip_range_contains(&r.v6, &a));
	/* the documented rule: fd01:c:: + FNV-1a-64("/web") */
	for (const char *p = "/web"; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	assert_true(low64(&a) == h);
	assert_memory_equal(a.u.v6.s6_addr, "\xfd\x01\x00\x0c\x00\x00\x00\x00", 8);
	assert_int_equal(vip_name_address6(&va, "/nope", &a), -1);
	vip_alloc_free(&va);
}

static void assert_range_bad(const char *text, int af, const char *msg)
{
	struct vip_range r;
	char err[256];

	assert_int_equal(vip_range_parse(text, af, &r, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static void test_range_parse(void **state)
{
	struct vip_range r;
	char err[256], buf[128];

	(void)state;
	assert_int_equal(vip_range_parse("10.9.0.0-10.9.255.255", AF_INET, &r, err, sizeof(err)),
	                 0);
	assert_string_equal(vip_range_format(&r, buf, sizeof(buf)), "10.9.0.0-10.9.255.255");
	assert_range_bad("10.9.0.0", AF_INET,
	                 "named VIP range \"10.9.0.0\": expected FIRST-LAST, two IPv4 addresses");
	assert_range_bad("fd00::1-fd00::2", AF_INET,
	                 "named VIP range \"fd00::1-fd00::2\": expected FIRST-LAST, two IPv4 "
	                 "addresses");
	assert_range_bad("10.9.0.9-10.9.0.1", AF_INET,
	                 "named VIP range \"10.9.0.9-10.9.0.1\": the first address must not be "
	                 "after the last");
	assert_range_bad("fd01:c::-fd01:d::", AF_INET6,
	                 "named VIP range \"fd01:c::-fd01:d::\": the first address must not be "
	                 "after the last, and both must be in one /64");
}

static void test_small_range_full_and_wrap(void **state)
{
	const char *names[] = {"/a", "/b", "/c", "/d", "/e"};
	struct vip_ranges r;
	struct vip_alloc va;
	char err[256];
	int seen[4] = {0};

	(void)state;
	vip_ranges_default(&r);
	assert_int_equal(vip_range_parse("10.1.0.0-10.1.0.3", AF_INET, &r.v4, err, sizeof(err)), 0);
	assert_int_equal(vip_range_parse("fd00::10-fd00::13", AF_INET6, &r.v6, err, sizeof(err)),
	                 0);
	/* four names fill four addresses, whatever their homes (wrapping) */
	assert_int_equal(vip_alloc_build_in(&va, names, 4, &r, err, sizeof(err)), 0);
	for (size_t i = 0; i < 4; i++) {
		uint64_t o4 = low64(&va.items[i].addr) - 0x0a010000u;
		uint64_t o6 = low64(&va.items[i].addr6) - 0x10;

		assert_true(o4 < 4 && o6 < 4);
		seen[o4] |= 1;
		seen[o6] |= 2;
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(seen[i], 3);
	vip_alloc_free(&va);
	assert_int_equal(vip_alloc_build_in(&va, names, 5, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "5 named VIPs, more than the 4 addresses of 10.1.0.0-10.1.0.3");
	assert_int_equal(va.n, 0);
}

/* ---- stability: one name added or removed moves only names of its run ---- */

#define NAMES 3000

static char store[NAMES + 1][24];

static void random_name(char *out, unsigned *seed)
{
	size_t len = 2 + (size_t)rand_r(seed) % 14;

	out[0] = '/';
	for (size_t k = 1; k <= len; k++)
		out[k] = "abcdefgh-_./0123"[rand_r(seed) % 16];
	out[len + 1] = '\0';
}

struct offs {
	uint64_t *v;
	size_t n;
	uint64_t size; /* of the range */
};

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void offs_of(const struct vip_alloc *va, const struct vip_range *r, bool v6, struct offs *o)
{
	o->v = malloc(va->n * sizeof(*o->v));
	o->n = va->n;
	o->size = low64(&r->last) - low64(&r->first) + 1;
	for (size_t i = 0; i < va->n; i++)
		o->v[i] = low64(v6 ? &va->items[i].addr6 : &va->items[i].addr) - low64(&r->first);
	qsort(o->v, o->n, sizeof(*o->v), u64_cmp);
}

static bool offs_has(const struct offs *o, uint64_t off)
{
	return bsearch(&off, o->v, o->n, sizeof(off), u64_cmp) != NULL;
}

/* The run of taken offsets around `off`, as [lo, lo + len) modulo size. */
static void run_around(const struct offs *o, uint64_t off, uint64_t *lo, uint64_t *len)
{
	uint64_t a = off, n = 1;

	while (n < o->size && offs_has(o, (a + o->size - 1) % o->size)) {
		a = (a + o->size - 1) % o->size;
		n++;
	}
	while (n < o->size && offs_has(o, (a + n) % o->size))
		n++;
	*lo = a;
	*len = n;
}

static bool in_run(uint64_t off, uint64_t lo, uint64_t len, uint64_t size)
{
	return (off + size - lo) % size < len;
}

/* `big` is `small` plus one name; changed is that name. Every name that has
 * a different address in the two lies, before and after, in the run of
 * taken addresses of `big` that holds the changed name, so the number moved
 * is bounded by that run (the collisions the change touches). */
static size_t check_moves(const struct vip_alloc *small, const struct vip_alloc *big,
                          const char *changed, const struct vip_range *r, bool v6)
{
	struct offs o;
	struct lb_addr at;
	uint64_t lo, len, base = low64(&r->first);
	size_t moved = 0;

	offs_of(big, r, v6, &o);
	assert_int_equal((v6 ? vip_name_address6 : vip_name_address)(big, changed, &at), 0);
	run_around(&o, low64(&at) - base, &lo, &len);
	for (size_t i = 0, j = 0; i < small->n; i++, j++) {
		const struct lb_addr *a, *b;

		if (strcmp(big->items[j].name, changed) == 0)
			j++;
		assert_string_equal(small->items[i].name, big->items[j].name);
		a = v6 ? &small->items[i].addr6 : &small->items[i].addr;
		b = v6 ? &big->items[j].addr6 : &big->items[j].addr;
		if (lb_addr_cmp(a, b) == 0)
			continue;
		moved++;
		assert_true(in_run(low64(a) - base, lo, len, o.size));
		assert_true(in_run(low64(b) - base, lo, len, o.size));
		assert_true(in_run(vip_name_home_in(r, big->items[j].name), lo, len, o.size));
	}
	assert_true(moved + 1 <= len);
	free(o.v);
	return moved;
}

static size_t stability_rounds(const struct vip_ranges *r, int rounds, unsigned seed)
{
	static const char *names[NAMES + 1];
	struct vip_alloc small, big;
	char err[256];
	size_t moved = 0;

	for (size_t i = 0; i <= NAMES; i++) {
		random_name(store[i], &seed);
		names[i] = store[i];
	}
	for (int round = 0; round < rounds; round++) {
		/* names[NAMES] is added (or, read the other way, removed) */
		size_t k = (size_t)rand_r(&seed) % NAMES;
		const char *t = names[k];
		bool dup = false;

		random_name(store[NAMES], &seed);
		names[k] = names[NAMES];
		names[NAMES] = t;
		for (size_t i = 0; i < NAMES && !dup; i++)
			dup = strcmp(names[i], names[NAMES]) == 0;
		if (dup)
			continue;
		assert_int_equal(vip_alloc_build_in(&small, names, NAMES, r, err, sizeof(err)), 0);
		assert_int_equal(vip_alloc_build_in(&big, names, NAMES + 1, r, err, sizeof(err)),
		                 0);
		if (small.n + 1 == big.n) {
			moved += check_moves(&small, &big, names[NAMES], &r->v4, false);
			moved += check_moves(&small, &big, names[NAMES], &r->v6, true);
		}
		vip_alloc_free(&small);
		vip_alloc_free(&big);
	}
	return moved;
}

/* A dense range (3000 names in 4096 addresses) makes long runs and many
 * moves, so the bound is exercised; the default ranges must move (almost)
 * nothing. */
static void test_stability_dense(void **state)
{
	struct vip_ranges r;
	char err[128];
	size_t moved;

	(void)state;
	assert_int_equal(vip_range_parse("10.0.0.0-10.0.15.255", AF_INET, &r.v4, err, sizeof(err)),
	                 0);
	assert_int_equal(vip_range_parse("fd00::-fd00::fff", AF_INET6, &r.v6, err, sizeof(err)), 0);
	moved = stability_rounds(&r, 150, 7);
	assert_true(moved > 0);
}

static void test_stability_default(void **state)
{
	struct vip_ranges r;
	size_t moved;

	(void)state;
	vip_ranges_default(&r);
	moved = stability_rounds(&r, 150, 99);
	/* 3000 names in 2^24 addresses: a move needs a neighbouring home */
	assert_true(moved <= 3);
}

/* Order independence holds for IPv6 too. */
static void test_v6_order_independent(void **state)
{
	static const char *names[NAMES];
	struct vip_ranges r;
	struct vip_alloc ref, va;
	unsigned seed = 5;
	char err[128];

	(void)state;
	vip_ranges_default(&r);
	assert_int_equal(vip_range_parse("fd00::-fd00::ffff", AF_INET6, &r.v6, err, sizeof(err)),
	                 0);
	for (size_t i = 0; i < NAMES; i++) {
		random_name(store[i], &seed);
		names[i] = store[i];
	}
	assert_int_equal(vip_alloc_build_in(&ref, names, NAMES, &r, err, sizeof(err)), 0);
	for (int round = 0; round < 10; round++) {
		for (size_t i = NAMES - 1; i > 0; i--) {
			size_t j = (size_t)rand_r(&seed) % (i + 1);
			const char *t = names[i];

			names[i] = names[j];
			names[j] = t;
		}
		assert_int_equal(vip_alloc_build_in(&va, names, NAMES, &r, err, sizeof(err)), 0);
		assert_int_equal(va.n, ref.n);
		for (size_t i = 0; i < ref.n; i++) {
			assert_int_equal(lb_addr_cmp(&va.items[i].addr6, &ref.items[i].addr6), 0);
			assert_int_equal(lb_addr_cmp(&va.items[i].addr, &ref.items[i].addr), 0);
		}
		vip_alloc_free(&va);
	}
	vip_alloc_free(&ref);
}

/* ---- address labels: in the named range, not private ---- */

static struct app *add_app(struct apps_set *set)
{
	struct app *a;

	set->apps = calloc(1, sizeof(*set->apps));
	set->napps = set->cap = 1;
	a = &set->apps[0];
	a->id = strdup("/web");
	a->source = strdup("apps/web.json");
	a->json_path = strdup("/apps/0");
	return a;
}

static void add_vip_port(struct app *a, const char *value)
{
	struct port_def *p;

	a->ports = realloc(a->ports, (a->nports + 1) * sizeof(*a->ports));
	p = &a->ports[a->nports++];
	memset(p, 0, sizeof(*p));
	p->port = 80;
	p->protocols = PORT_PROTO_TCP;
	p->labels = calloc(1, sizeof(*p->labels));
	p->labels[0].key = strdup("VIP_0");
	p->labels[0].value = strdup(value);
	p->nlabels = 1;
}

static void test_collect_ranges_and_private(void **state)
{
	struct apps_set set = {0};
	struct diag_list diags = {0};
	struct vip_list vl = {0};
	struct app *a = add_app(&set);
	char buf[512];

	(void)state;
	add_vip_port(a, "11.0.0.5:80");
	add_vip_port(a, "[fd01:c::7]:80");
	add_vip_port(a, "8.8.8.8:53");
	add_vip_port(a, "2001:db8::1:80");
	add_vip_port(a, "172.16.0.1:80");
	add_vip_port(a, "fd00::9:80");
	add_vip_port(a, "/web:80");
	assert_int_equal(vip_collect(&set, &vl, &diags), 0);
	assert_int_equal(vl.n, 5);
	assert_int_equal(diags.count, 4);
	assert_int_equal(diags.items[0].severity, DIAG_ERROR);
	assert_string_equal(diag_format(&diags.items[0], buf, sizeof(buf)),
	                    "apps/web.json: /apps/0/portDefinitions/0/labels/VIP_0: VIP "
	                    "\"11.0.0.5:80\": 11.0.0.5 is inside the named-VIP range "
	                    "11.0.0.0-11.255.255.254, where names get their addresses; use a name "
	                    "(/app:port) or an address outside it");
	assert_string_equal(diag_format(&diags.items[1], buf, sizeof(buf)),
	                    "apps/web.json: /apps/0/portDefinitions/1/labels/VIP_0: VIP "
	                    "\"[fd01:c::7]:80\": fd01:c::7 is inside the named-VIP range "
	                    "fd01:c::-fd01:c::ffff:ffff:ffff:ffff, where names get their "
	                    "addresses; use a name (/app:port) or an address outside it");
	assert_int_equal(diags.items[2].severity, DIAG_WARNING);
	assert_string_equal(
	    diag_format(&diags.items[2], buf, sizeof(buf)),
	    "apps/web.json: /apps/0/portDefinitions/2/labels/VIP_0: warning: VIP "
	    "\"8.8.8.8:53\": 8.8.8.8 is not a private address (RFC 1918): it may be "
	    "in use elsewhere in the network, and this node would send traffic for "
	    "it to the VIP");
	assert_int_equal(diags.items[3].severity, DIAG_WARNING);
	assert_string_equal(diag_format(&diags.items[3], buf, sizeof(buf)),
	                    "apps/web.json: /apps/0/portDefinitions/3/labels/VIP_0: warning: VIP "
	                    "\"2001:db8::1:80\": 2001:db8::1 is not a private address (IPv6 ULA "
	                    "fc00::/7): it may be in use elsewhere in the network, and this node "
	                    "would send traffic for it to the VIP");
	assert_addr(&vl.items[0].ref.addr, "8.8.8.8");
	vip_list_free(&vl);
	diag_list_free(&diags);
	apps_set_free(&set);
}

static void test_collect_custom_range(void **state)
{
	struct apps_set set = {0};
	struct diag_list diags = {0};
	struct vip_list vl = {0};
	struct vip_ranges r;
	struct app *a = add_app(&set);
	char err[128];

	(void)state;
	vip_ranges_default(&r);
	assert_int_equal(vip_range_parse("10.9.0.0-10.9.255.255", AF_INET, &r.v4, err, sizeof(err)),
	                 0);
	add_vip_port(a, "10.9.1.1:80");
	add_vip_port(a, "11.0.0.5:80"); /* outside the configured range: public, kept */
	assert_int_equal(vip_collect_in(&set, &r, &vl, &diags), 0);
	assert_int_equal(vl.n, 1);
	assert_int_equal(diags.count, 2);
	assert_int_equal(diags.items[0].severity, DIAG_ERROR);
	assert_int_equal(diags.items[1].severity, DIAG_WARNING);
	assert_non_null(strstr(diags.items[0].message, "range 10.9.0.0-10.9.255.255"));
	vip_list_free(&vl);
	diag_list_free(&diags);
	apps_set_free(&set);
}

static void test_private_ranges(void **state)
{
	const char *priv[] = {"10.0.0.1",    "172.16.0.1", "172.31.255.255",
	                      "192.168.1.1", "fc00::1",    "fd12::1"};
	const char *pub[] = {"172.32.0.1", "172.15.0.1", "192.169.0.1", "11.0.0.1",
	                     "127.0.0.1",  "fe80::1",    "2001:db8::1", "::1"};
	struct lb_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(priv) / sizeof(*priv); i++) {
		assert_int_equal(lb_addr_parse(priv[i], &a), 0);
		assert_true(vip_addr_is_private(&a));
	}
	for (size_t i = 0; i < sizeof(pub) / sizeof(*pub); i++) {
		assert_int_equal(lb_addr_parse(pub[i], &a), 0);
		assert_false(vip_addr_is_private(&a));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_ranges),
	    cmocka_unit_test(test_range_parse),
	    cmocka_unit_test(test_small_range_full_and_wrap),
	    cmocka_unit_test(test_stability_dense),
	    cmocka_unit_test(test_stability_default),
	    cmocka_unit_test(test_v6_order_independent),
	    cmocka_unit_test(test_collect_ranges_and_private),
	    cmocka_unit_test(test_collect_custom_range),
	    cmocka_unit_test(test_private_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
