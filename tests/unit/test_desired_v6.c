/* The desired table's address families: a named VIP's IPv4 and IPv6
 * services, an address VIP's single family, and configured named-VIP ranges. */
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

#include "vipd/desired.h"
#include "vipd/vip.h"

/* ---- hand-built model ---- */

static void add_label(struct label **labels, size_t *n, const char *k, const char *v)
{
	*labels = realloc(*labels, (*n + 1) * sizeof(**labels));
	(*labels)[*n] = (struct label){.key = strdup(k), .value = strdup(v)};
	(*n)++;
}

static struct app *add_app(struct apps_set *set, const char *id)
{
	struct app *a;
	char path[32];

	set->apps = realloc(set->apps, (set->napps + 1) * sizeof(*set->apps));
	a = &set->apps[set->napps];
	memset(a, 0, sizeof(*a));
	snprintf(path, sizeof(path), "/apps/%zu", set->napps);
	set->napps++;
	a->id = strdup(id);
	a->source = strdup("apps/web.json");
	a->json_path = strdup(path);
	return a;
}

static void add_port(struct app *a, unsigned protocols, const char *vip)
{
	struct port_def *p;

	a->ports = realloc(a->ports, (a->nports + 1) * sizeof(*a->ports));
	p = &a->ports[a->nports++];
	memset(p, 0, sizeof(*p));
	p->protocols = protocols;
	add_label(&p->labels, &p->nlabels, "VIP_0", vip);
}

/* A running task on agent `host` with one host port. */
static void add_task(struct app *a, const char *id, const char *host, uint32_t hport)
{
	struct task *t;

	a->tasks = realloc(a->tasks, (a->ntasks + 1) * sizeof(*a->tasks));
	t = &a->tasks[a->ntasks++];
	memset(t, 0, sizeof(*t));
	t->id = strdup(id);
	t->host = strdup(host);
	t->state = TASK_STATE_RUNNING;
	t->ports = calloc(1, sizeof(*t->ports));
	t->ports[0] = hport;
	t->nports = 1;
}

struct fixture {
	struct apps_set set;
	struct desired_state st;
	struct lb_table table;
	struct diag_list diags;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	desired_state_init(&f->st);
	lb_table_init(&f->table);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	apps_set_free(&f->set);
	desired_state_free(&f->st);
	lb_table_free(&f->table);
	diag_list_free(&f->diags);
	free(f);
	return 0;
}

/* Tasks of apps without checks are healthy: no health callback needed. */
static void build_in(struct fixture *f, const struct vip_ranges *ranges)
{
	struct desired_input in = {.apps = &f->set, .ranges = ranges, .drain_ms = 30000};
	char err[128];

	lb_table_free(&f->table);
	lb_table_init(&f->table);
	assert_int_equal(desired_build(&in, &f->st, &f->table, &f->diags, NULL, err, sizeof(err)),
	                 0);
}

static void build(struct fixture *f)
{
	build_in(f, NULL);
}

/* The address vipd gives `name` in family af, alone in the default ranges. */
static void name_addr(const char *name, int af, char *buf, size_t len)
{
	struct vip_alloc va;
	struct lb_addr a;
	char err[128];

	assert_int_equal(vip_alloc_build(&va, &name, 1, err, sizeof(err)), 0);
	assert_int_equal(
	    af == AF_INET6 ? vip_name_address6(&va, name, &a) : vip_name_address(&va, name, &a), 0);
	lb_addr_format(&a, buf, len);
	vip_alloc_free(&va);
}

static const struct lb_service *svc(struct fixture *f, const char *addr, uint16_t port,
                                    uint8_t proto)
{
	struct lb_key k = {.port = port, .protocol = proto};

	assert_int_equal(lb_addr_parse(addr, &k.addr), 0);
	return lb_table_find(&f->table, &k);
}

/* The backend's weight in the TCP service, or -1 when it is not there. */
static long weight(struct fixture *f, const char *vip, uint16_t vport, const char *addr,
                   uint16_t port)
{
	const struct lb_service *s = svc(f, vip, vport, IPPROTO_TCP);
	const struct lb_dest *d;
	struct lb_addr a;

	assert_non_null(s);
	assert_int_equal(lb_addr_parse(addr, &a), 0);
	d = lb_service_find_dest(s, &a, port);
	return d ? (long)d->weight : -1;
}

static void assert_diag(struct fixture *f, size_t i, const char *text)
{
	char buf[512];

	assert_true(i < f->diags.count);
	assert_string_equal(diag_format(&f->diags.items[i], buf, sizeof(buf)), text);
}

/* ---- named VIPs ---- */

static void test_named_ipv6_only(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web");
	char v6[INET6_ADDRSTRLEN];
	const struct lb_service *s;

	add_port(a, PORT_PROTO_TCP, "/web:80");
	add_task(a, "web.1", "fd00:1::2", 10001);
	add_task(a, "web.2", "fd00:1::3", 10002);
	build(f);
	name_addr("/web", AF_INET6, v6, sizeof(v6));
	assert_int_equal(strncmp(v6, "fd01:c::", 8), 0);
	assert_int_equal(f->table.nsvcs, 1);
	s = svc(f, v6, 80, IPPROTO_TCP);
	assert_non_null(s);
	assert_int_equal(s->ndests, 2);
	assert_int_equal(weight(f, v6, 80, "fd00:1::2", 10001), 1);
	assert_int_equal(weight(f, v6, 80, "fd00:1::3", 10002), 1);
	assert_int_equal(f->diags.count, 0);
}

/* Both families, tcp and udp: four services, each with its family's
 * backends at the app's weight. */
static void test_named_mixed_gets_both(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web");
	char v4[INET6_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	const struct lb_service *s;

	add_label(&a->labels, &a->nlabels, "VIPD_WEIGHT", "5");
	add_port(a, PORT_PROTO_TCP | PORT_PROTO_UDP, "/web:80");
	add_task(a, "web.1", "10.1.0.2", 10001);
	add_task(a, "web.2", "fd00:1::3", 10002);
	add_task(a, "web.3", "10.1.0.4", 10003);
	build(f);
	name_addr("/web", AF_INET, v4, sizeof(v4));
	name_addr("/web", AF_INET6, v6, sizeof(v6));
	assert_int_equal(f->table.nsvcs, 4);
	assert_int_equal(svc(f, v4, 80, IPPROTO_TCP)->ndests, 2);
	assert_int_equal(weight(f, v4, 80, "10.1.0.2", 10001), 5);
	assert_int_equal(weight(f, v4, 80, "10.1.0.4", 10003), 5);
	assert_int_equal(weight(f, v4, 80, "fd00:1::3", 10002), -1);
	assert_int_equal(svc(f, v6, 80, IPPROTO_TCP)->ndests, 1);
	assert_int_equal(weight(f, v6, 80, "fd00:1::3", 10002), 5);
	s = svc(f, v6, 80, IPPROTO_UDP);
	assert_non_null(s);
	assert_int_equal(s->ndests, 1);
	assert_int_equal(svc(f, v4, 80, IPPROTO_UDP)->ndests, 2);
	assert_int_equal(f->diags.count, 0);
}

/* Two apps share one name, one per family: each family's service gets its
 * app's backends. */
static void test_named_shared_across_families(void **state)
{
	struct fixture *f = *state;
	struct app *blue = add_app(&f->set, "/web-blue");
	struct app *green;
	char v4[INET6_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];

	add_port(blue, PORT_PROTO_TCP, "/web:80");
	add_task(blue, "blue.1", "10.1.0.2", 10001);
	green = add_app(&f->set, "/web-green");
	add_port(green, PORT_PROTO_TCP, "/web:80");
	add_task(green, "green.1", "fd00:1::3", 10002);
	build(f);
	name_addr("/web", AF_INET, v4, sizeof(v4));
	name_addr("/web", AF_INET6, v6, sizeof(v6));
	assert_int_equal(f->table.nsvcs, 2);
	assert_int_equal(svc(f, v4, 80, IPPROTO_TCP)->ndests, 1);
	assert_int_equal(weight(f, v4, 80, "10.1.0.2", 10001), 1);
	assert_int_equal(svc(f, v6, 80, IPPROTO_TCP)->ndests, 1);
	assert_int_equal(weight(f, v6, 80, "fd00:1::3", 10002), 1);
}

/* With no backend at all, a named VIP keeps its IPv4 service, as before. */
static void test_named_no_backend_is_ipv4(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web");
	char v4[INET6_ADDRSTRLEN];

	add_port(a, PORT_PROTO_TCP, "/web:80");
	build(f);
	name_addr("/web", AF_INET, v4, sizeof(v4));
	assert_int_equal(f->table.nsvcs, 1);
	assert_non_null(svc(f, v4, 80, IPPROTO_TCP));
	assert_int_equal(svc(f, v4, 80, IPPROTO_TCP)->ndests, 0);
}

/* The last IPv6 backend gone: the IPv6 service goes with it. */
static void test_named_family_follows_backends(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web");
	char v4[INET6_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];

	add_port(a, PORT_PROTO_TCP, "/web:80");
	add_task(a, "web.1", "10.1.0.2", 10001);
	add_task(a, "web.2", "fd00:1::3", 10002);
	build(f);
	assert_int_equal(f->table.nsvcs, 2);
	a->tasks[1].state = TASK_STATE_KILLING;
	build(f);
	name_addr("/web", AF_INET, v4, sizeof(v4));
	name_addr("/web", AF_INET6, v6, sizeof(v6));
	assert_int_equal(f->table.nsvcs, 1);
	assert_non_null(svc(f, v4, 80, IPPROTO_TCP));
	assert_null(svc(f, v6, 80, IPPROTO_TCP));
}

/* ---- address VIPs ---- */

static void test_ipv4_vip_skips_ipv6_backend(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web");

	add_port(a, PORT_PROTO_TCP | PORT_PROTO_UDP, "10.0.0.9:80");
	add_task(a, "web.1", "10.1.0.2", 10001);
	add_task(a, "web.2", "fd00:1::3", 10002);
	build(f);
	assert_int_equal(f->table.nsvcs, 2);
	assert_int_equal(svc(f, "10.0.0.9", 80, IPPROTO_TCP)->ndests, 1);
	assert_int_equal(svc(f, "10.0.0.9", 80, IPPROTO_UDP)->ndests, 1);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 10001), 1);
	assert_int_equal(weight(f, "10.0.0.9", 80, "fd00:1::3", 10002), -1);
	/* One warning per backend and label, not per protocol. */
	assert_int_equal(f->diags.count, 1);
	assert_int_equal(f->diags.items[0].severity, DIAG_WARNING);
	assert_diag(f, 0,
	            "apps/web.json: /apps/0/portDefinitions/0/labels/VIP_0: warning: task "
	            "\"web.2\": backend [fd00:1::3]:10002 is IPv6 but VIP 10.0.0.9:80 is IPv4; "
	            "skipped (IPVS NAT cannot forward across address families)");
}

static void test_ipv6_vip_skips_ipv4_backend(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web");

	add_port(a, PORT_PROTO_TCP, "[fd00::9]:443");
	add_task(a, "web.1", "10.1.0.2", 10001);
	add_task(a, "web.2", "fd00:1::3", 10002);
	build(f);
	assert_int_equal(f->table.nsvcs, 1);
	assert_int_equal(svc(f, "fd00::9", 443, IPPROTO_TCP)->ndests, 1);
	assert_int_equal(weight(f, "fd00::9", 443, "fd00:1::3", 10002), 1);
	assert_int_equal(f->diags.count, 1);
	assert_diag(f, 0,
	            "apps/web.json: /apps/0/portDefinitions/0/labels/VIP_0: warning: task "
	            "\"web.1\": backend 10.1.0.2:10001 is IPv4 but VIP [fd00::9]:443 is IPv6; "
	            "skipped (IPVS NAT cannot forward across address families)");
}

/* ---- configured ranges ---- */

static void test_configured_ranges(void **state)
{
	struct fixture *f = *state;
	struct app *a, *b;
	struct vip_ranges r;
	struct lb_addr v4 = {0}, v6 = {0};
	char err[128];

	assert_int_equal(vip_range_parse("10.9.0.0-10.9.0.15", AF_INET, &r.v4, err, sizeof(err)),
	                 0);
	assert_int_equal(vip_range_parse("fd02::-fd02::ff", AF_INET6, &r.v6, err, sizeof(err)), 0);
	a = add_app(&f->set, "/web");
	add_port(a, PORT_PROTO_TCP, "/web:80");
	add_task(a, "web.1", "10.1.0.2", 10001);
	add_task(a, "web.2", "fd00:1::3", 10002);
	b = add_app(&f->set, "/db"); /* moves the apps: a is stale from here */
	/* An address inside the configured range is refused (a name may get it). */
	add_port(b, PORT_PROTO_TCP, "10.9.0.3:5432");
	build_in(f, &r);
	assert_int_equal(f->table.nsvcs, 2);
	for (size_t i = 0; i < f->table.nsvcs; i++)
		*(f->table.svcs[i].key.addr.af == AF_INET ? &v4 : &v6) = f->table.svcs[i].key.addr;
	assert_true(vip_range_contains(&r.v4, &v4));
	assert_true(vip_range_contains(&r.v6, &v6));
	assert_int_equal(f->diags.count, 1);
	assert_int_equal(f->diags.items[0].severity, DIAG_ERROR);
	assert_diag(f, 0,
	            "apps/web.json: /apps/1/portDefinitions/0/labels/VIP_0: VIP "
	            "\"10.9.0.3:5432\": 10.9.0.3 is inside the named-VIP range "
	            "10.9.0.0-10.9.0.15, where names get their addresses; use a name (/app:port) "
	            "or an address outside it");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_named_ipv6_only),
	    T(test_named_mixed_gets_both),
	    T(test_named_shared_across_families),
	    T(test_named_no_backend_is_ipv4),
	    T(test_named_family_follows_backends),
	    T(test_ipv4_vip_skips_ipv6_backend),
	    T(test_ipv6_vip_skips_ipv4_backend),
	    T(test_configured_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
