/* VIP labels: forms DC/OS accepts, located errors, and named-VIP addresses. */
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

static void test_label_keys(void **state)
{
	(void)state;
	assert_true(vip_label_is_vip("VIP_0"));
	assert_true(vip_label_is_vip("vip_web"));
	assert_true(vip_label_is_vip("VIP"));
	assert_false(vip_label_is_vip("VIPD_WEIGHT"));
	assert_false(vip_label_is_vip("HAPROXY_VHOST"));
	assert_false(vip_label_is_vip("Vip_0"));
}

static void test_parse_addresses(void **state)
{
	struct vip_ref r;
	char err[256];

	(void)state;
	assert_int_equal(vip_parse("10.0.0.9:80", &r, err, sizeof(err)), 0);
	assert_false(r.named);
	assert_addr(&r.addr, "10.0.0.9");
	assert_int_equal(r.port, 80);
	assert_int_equal(vip_parse("fd00::9:80", &r, err, sizeof(err)), 0);
	assert_int_equal(r.addr.af, AF_INET6);
	assert_addr(&r.addr, "fd00::9");
	assert_int_equal(r.port, 80);
	assert_int_equal(vip_parse("[fd00::9]:8443", &r, err, sizeof(err)), 0);
	assert_addr(&r.addr, "fd00::9");
	assert_int_equal(r.port, 8443);
}

static void test_parse_names(void **state)
{
	struct vip_ref r;
	char err[256];

	(void)state;
	assert_int_equal(vip_parse("/web:80", &r, err, sizeof(err)), 0);
	assert_true(r.named);
	assert_string_equal(r.name, "/web");
	assert_int_equal(r.port, 80);
	assert_int_equal(vip_parse("/prod/web:8080", &r, err, sizeof(err)), 0);
	assert_string_equal(r.name, "/prod/web");
	assert_int_equal(vip_parse("web:80", &r, err, sizeof(err)), 0);
	assert_true(r.named);
	assert_string_equal(r.name, "/web");
	assert_int_equal(vip_parse("my-app.v2_x:1", &r, err, sizeof(err)), 0);
	assert_string_equal(r.name, "/my-app.v2_x");
}

static void assert_bad(const char *value, const char *msg)
{
	struct vip_ref r;
	char err[256];

	assert_int_equal(vip_parse(value, &r, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static void test_parse_errors(void **state)
{
	(void)state;
	assert_bad("10.0.0.9", "VIP \"10.0.0.9\": expected <address or name>:<port>");
	assert_bad("/web:http", "VIP \"/web:http\": port \"http\" is not a number from 1 to 65535");
	assert_bad("/web:0", "VIP \"/web:0\": port \"0\" is not a number from 1 to 65535");
	assert_bad("/web:65536",
	           "VIP \"/web:65536\": port \"65536\" is not a number from 1 to 65535");
	assert_bad("/web:", "VIP \"/web:\": port \"\" is not a number from 1 to 65535");
	assert_bad(":80", "VIP \":80\": expected an address or a name before the port");
	assert_bad("10.0.0:80", "VIP \"10.0.0:80\": \"10.0.0\" is not an IPv4 address");
	assert_bad("10.0.0.256:80", "VIP \"10.0.0.256:80\": \"10.0.0.256\" is not an IPv4 address");
	assert_bad("fd00:::9:80", "VIP \"fd00:::9:80\": \"fd00:::9\" is not an IPv6 address");
	assert_bad("[fd00::9:80", "VIP \"[fd00::9:80\": \"[fd00::9\" is not an IPv6 address");
	assert_bad("[10.0.0.1]:80", "VIP \"[10.0.0.1]:80\": \"10.0.0.1\" is not an IPv6 address");
	assert_bad("we b:80", "VIP \"we b:80\": \"we b\" is not a name (segments of letters, "
	                      "digits, '-', '.' or '_' separated by '/')");
	assert_bad("/prod//web:80",
	           "VIP \"/prod//web:80\": \"/prod//web\" is not a name "
	           "(segments of letters, digits, '-', '.' or '_' separated by '/')");
	assert_bad("/:80", "VIP \"/:80\": \"/\" is not a name (segments of letters, digits, "
	                   "'-', '.' or '_' separated by '/')");
}

/* Hand-built model pieces, freed with apps_set_free. */
static void add_label(struct label **labels, size_t *n, const char *k, const char *v)
{
	*labels = realloc(*labels, (*n + 1) * sizeof(**labels));
	(*labels)[*n] = (struct label){.key = strdup(k), .value = strdup(v)};
	(*n)++;
}

static struct app *add_app(struct apps_set *set, const char *id, const char *json_path)
{
	struct app *a;

	set->apps = realloc(set->apps, (set->napps + 1) * sizeof(*set->apps));
	a = &set->apps[set->napps++];
	memset(a, 0, sizeof(*a));
	a->id = strdup(id);
	a->source = strdup("apps/web.json");
	a->json_path = strdup(json_path);
	return a;
}

static struct port_def *add_port(struct app *a, uint32_t port, unsigned protocols)
{
	struct port_def *p;

	a->ports = realloc(a->ports, (a->nports + 1) * sizeof(*a->ports));
	p = &a->ports[a->nports++];
	memset(p, 0, sizeof(*p));
	p->port = port;
	p->protocols = protocols;
	return p;
}

static void test_collect_and_locate_errors(void **state)
{
	struct apps_set set = {0};
	struct diag_list diags = {0};
	struct vip_list vl = {0};
	struct app *a = add_app(&set, "/web", "/apps/1");
	struct port_def *p;
	char buf[512];
	struct lb_key keys[2];

	(void)state;
	p = add_port(a, 80, PORT_PROTO_TCP | PORT_PROTO_UDP);
	add_label(&p->labels, &p->nlabels, "VIP_0", "10.0.0.9:80");
	add_label(&p->labels, &p->nlabels, "VIPD_WEIGHT", "3");
	p = add_port(a, 81, PORT_PROTO_TCP);
	add_label(&p->labels, &p->nlabels, "vip_bad", "10.0.0.9:http");
	add_label(&p->labels, &p->nlabels, "VIP/1", "nope");
	add_label(&p->labels, &p->nlabels, "VIP_1", "/web:81");
	assert_int_equal(vip_collect(&set, &vl, &diags), 0);
	assert_int_equal(vl.n, 2);
	assert_int_equal(diags.count, 2);
	assert_string_equal(diag_format(&diags.items[0], buf, sizeof(buf)),
	                    "apps/web.json: /apps/1/portDefinitions/1/labels/vip_bad: VIP "
	                    "\"10.0.0.9:http\": port \"http\" is not a number from 1 to 65535");
	assert_string_equal(diag_format(&diags.items[1], buf, sizeof(buf)),
	                    "apps/web.json: /apps/1/portDefinitions/1/labels/VIP~11: VIP \"nope\": "
	                    "expected <address or name>:<port>");
	/* tcp,udp gives two services */
	assert_int_equal(vip_keys_af(&vl.items[0], NULL, AF_INET, keys), 2);
	assert_int_equal(keys[0].protocol, IPPROTO_TCP);
	assert_int_equal(keys[1].protocol, IPPROTO_UDP);
	assert_int_equal(keys[1].port, 80);
	/* a named VIP needs an allocation */
	assert_int_equal(vip_keys_af(&vl.items[1], NULL, AF_INET, keys), 0);
	vip_list_free(&vl);
	diag_list_free(&diags);
	apps_set_free(&set);
}

static void test_mapping_label_path(void **state)
{
	struct app a = {.json_path = "", .ports_are_mappings = true};
	char buf[256];

	(void)state;
	assert_string_equal(vip_label_path(&a, 2, "VIP_0", buf, sizeof(buf)),
	                    "/container/portMappings/2/labels/VIP_0");
}

static void test_alloc_range_and_lookup(void **state)
{
	const char *names[] = {"/web", "/prod/web", "/web"};
	struct vip_alloc va;
	struct lb_addr a, b;
	char err[128];
	uint32_t ip;

	(void)state;
	assert_int_equal(vip_alloc_build(&va, names, 3, err, sizeof(err)), 0);
	assert_int_equal(va.n, 2);
	assert_int_equal(vip_name_address(&va, "/web", &a), 0);
	assert_int_equal(vip_name_address(&va, "/prod/web", &b), 0);
	assert_int_not_equal(lb_addr_cmp(&a, &b), 0);
	ip = ntohl(a.u.v4.s_addr);
	assert_int_equal(ip, 0x0b000000u + vip_name_home("/web"));
	assert_true(ip >= 0x0b000000u && ip <= 0x0bfffffeu);
	assert_int_equal(vip_name_address(&va, "/other", &a), -1);
	vip_alloc_free(&va);
}

/* Finds two names sharing a home by brute force over a small space. */
static void test_alloc_collision_rule(void **state)
{
	char names[2][32];
	const char *list[2];
	struct vip_alloc va;
	struct lb_addr a0, a1;
	char err[128];
	static uint32_t seen[1 << 16];
	int found = 0;

	(void)state;
	memset(seen, 0, sizeof(seen));
	/* Homes mod 2^16 collide quickly; look for a full collision among
	 * those that agree on the low bits. */
	for (uint32_t i = 1; i < 3000000 && !found; i++) {
		char n[32];
		uint32_t h;

		snprintf(n, sizeof(n), "/n%u", i);
		h = vip_name_home(n);
		if (seen[h & 0xffff] != 0) {
			char m[32];

			snprintf(m, sizeof(m), "/n%u", seen[h & 0xffff]);
			if (vip_name_home(m) == h) {
				snprintf(names[0], sizeof(names[0]), "%s", m);
				snprintf(names[1], sizeof(names[1]), "%s", n);
				found = 1;
			}
		}
		seen[h & 0xffff] = i;
	}
	if (!found)
		skip();
	list[0] = names[1];
	list[1] = names[0];
	assert_int_equal(vip_alloc_build(&va, list, 2, err, sizeof(err)), 0);
	assert_int_equal(vip_name_address(&va, names[0], &a0), 0);
	assert_int_equal(vip_name_address(&va, names[1], &a1), 0);
	/* the smaller name keeps the home, the other takes the next address */
	{
		const char *lo = strcmp(names[0], names[1]) < 0 ? names[0] : names[1];
		struct lb_addr *alo = lo == names[0] ? &a0 : &a1, *ahi = lo == names[0] ? &a1 : &a0;

		assert_int_equal(ntohl(alo->u.v4.s_addr), 0x0b000000u + vip_name_home(lo));
		assert_int_equal(ntohl(ahi->u.v4.s_addr), ntohl(alo->u.v4.s_addr) + 1);
	}
	vip_alloc_free(&va);
}

static void shuffle(const char **v, size_t n, unsigned *seed)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)rand_r(seed) % (i + 1);
		const char *t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void assert_all_distinct(const struct vip_alloc *va)
{
	uint32_t *ips = malloc(va->n * sizeof(*ips));

	for (size_t i = 0; i < va->n; i++)
		ips[i] = ntohl(va->items[i].addr.u.v4.s_addr);
	qsort(ips, va->n, sizeof(*ips), u32_cmp);
	for (size_t i = 1; i < va->n; i++)
		assert_true(ips[i - 1] < ips[i]);
	free(ips);
}

/* Property: the same set of names, in any order and with repeats, gives
 * every name the same, distinct address. */
static void test_alloc_order_independent(void **state)
{
	enum { N = 4000 };
	static char store[N][24];
	static const char *names[N * 2];
	struct vip_alloc ref, va;
	unsigned seed = 12345;
	char err[128];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		/* a narrow alphabet makes prefixes and near-duplicates common */
		size_t len = 1 + (size_t)rand_r(&seed) % 12;

		store[i][0] = '/';
		for (size_t k = 1; k <= len; k++)
			store[i][k] = "abc-/."[rand_r(&seed) % 6];
		store[i][len + 1] = '\0';
		names[i] = store[i];
		names[N + i] = store[i];
	}
	assert_int_equal(vip_alloc_build(&ref, names, N, err, sizeof(err)), 0);
	assert_all_distinct(&ref);
	for (int round = 0; round < 20; round++) {
		shuffle(names, N * 2, &seed);
		assert_int_equal(vip_alloc_build(&va, names, N * 2, err, sizeof(err)), 0);
		assert_int_equal(va.n, ref.n);
		for (size_t i = 0; i < ref.n; i++) {
			assert_string_equal(va.items[i].name, ref.items[i].name);
			assert_int_equal(lb_addr_cmp(&va.items[i].addr, &ref.items[i].addr), 0);
		}
		vip_alloc_free(&va);
	}
	vip_alloc_free(&ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label_keys),
	    cmocka_unit_test(test_parse_addresses),
	    cmocka_unit_test(test_parse_names),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_collect_and_locate_errors),
	    cmocka_unit_test(test_mapping_label_path),
	    cmocka_unit_test(test_alloc_range_and_lookup),
	    cmocka_unit_test(test_alloc_collision_rule),
	    cmocka_unit_test(test_alloc_order_independent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
