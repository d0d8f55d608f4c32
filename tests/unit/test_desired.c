/* The desired table and the weight policy, over hand-built apps. */
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
#include "vipd/reconcile.h"
#include "vipd/vip.h"

/* ---- hand-built model ---- */

static void add_label(struct label **labels, size_t *n, const char *k, const char *v)
{
	*labels = realloc(*labels, (*n + 1) * sizeof(**labels));
	(*labels)[*n] = (struct label){.key = strdup(k), .value = strdup(v)};
	(*n)++;
}

static struct app *add_app(struct apps_set *set, const char *id, bool with_checks)
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
	if (with_checks) {
		a->checks = calloc(1, sizeof(*a->checks));
		a->nchecks = 1;
	}
	return a;
}

static struct port_def *add_port(struct app *a, uint32_t port, unsigned protocols, const char *vip)
{
	struct port_def *p;

	a->ports = realloc(a->ports, (a->nports + 1) * sizeof(*a->ports));
	p = &a->ports[a->nports++];
	memset(p, 0, sizeof(*p));
	p->port = port;
	p->protocols = protocols;
	if (vip)
		add_label(&p->labels, &p->nlabels, "VIP_0", vip);
	return p;
}

/* A task with one host port (0: none) and optionally an ipAddress. */
static struct task *add_task(struct app *a, const char *id, const char *host, uint32_t hport,
                             const char *ip)
{
	struct task *t;

	a->tasks = realloc(a->tasks, (a->ntasks + 1) * sizeof(*a->tasks));
	t = &a->tasks[a->ntasks++];
	memset(t, 0, sizeof(*t));
	t->id = strdup(id);
	t->host = strdup(host);
	t->state = TASK_STATE_RUNNING;
	if (hport) {
		t->ports = calloc(1, sizeof(*t->ports));
		t->ports[0] = hport;
		t->nports = 1;
	}
	if (ip) {
		t->ip_addresses = calloc(1, sizeof(char *));
		t->ip_addresses[0] = strdup(ip);
		t->nip_addresses = 1;
	}
	return t;
}

static struct task *find_task(struct apps_set *set, const char *id)
{
	for (size_t i = 0; i < set->napps; i++)
		for (size_t j = 0; j < set->apps[i].ntasks; j++)
			if (strcmp(set->apps[i].tasks[j].id, id) == 0)
				return &set->apps[i].tasks[j];
	return NULL;
}

/* ---- health, keyed by task id ---- */

struct health_entry {
	const char *task;
	enum desired_health h;
};

struct fixture {
	struct apps_set set;
	struct health_entry health[16];
	size_t nhealth;
	struct desired_state st;
	struct lb_table table;
	struct diag_list diags;
	int64_t next;
};

static enum desired_health health_of(void *ctx, const char *app_id, const char *task_id)
{
	struct fixture *f = ctx;

	(void)app_id;
	for (size_t i = 0; i < f->nhealth; i++)
		if (strcmp(f->health[i].task, task_id) == 0)
			return f->health[i].h;
	return DESIRED_HEALTH_UNKNOWN;
}

static void set_health(struct fixture *f, const char *task, enum desired_health h)
{
	for (size_t i = 0; i < f->nhealth; i++)
		if (strcmp(f->health[i].task, task) == 0) {
			f->health[i].h = h;
			return;
		}
	f->health[f->nhealth++] = (struct health_entry){task, h};
}

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

/* One round at now_ms; the table is rebuilt each time. */
static void build(struct fixture *f, int64_t now_ms)
{
	struct desired_input in = {
	    .apps = &f->set,
	    .health = health_of,
	    .health_ctx = f,
	    .drain_ms = 30000,
	    .now_ms = now_ms,
	};
	char err[128];

	lb_table_free(&f->table);
	assert_int_equal(
	    desired_build(&in, &f->st, &f->table, &f->diags, &f->next, err, sizeof(err)), 0);
}

static const struct lb_service *svc(struct fixture *f, const char *addr, uint16_t port,
                                    uint8_t proto)
{
	struct lb_key k = {.port = port, .protocol = proto};

	assert_int_equal(lb_addr_parse(addr, &k.addr), 0);
	return lb_table_find(&f->table, &k);
}

/* The weight of a backend, or -1 when it is not in the service. */
static long weight(struct fixture *f, const char *vip, uint16_t vport, const char *addr,
                   uint16_t port)
{
	const struct lb_service *s = svc(f, vip, vport, IPPROTO_TCP);
	struct lb_addr a;
	const struct lb_dest *d;

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

/* ---- tests ---- */

static void test_tcp_udp_host_backend(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", false);
	const struct lb_service *s;

	add_port(a, 0, PORT_PROTO_TCP | PORT_PROTO_UDP, "10.0.0.9:80");
	add_task(a, "web.1", "10.1.0.2", 31000, "172.17.0.5");
	build(f, 0);
	assert_int_equal(f->table.nsvcs, 2);
	s = svc(f, "10.0.0.9", 80, IPPROTO_UDP);
	assert_non_null(s);
	assert_string_equal(s->sched, "wlc");
	assert_int_equal(s->fwd, LB_FWD_MASQ);
	assert_int_equal(s->ndests, 1);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 1);
	assert_int_equal(f->diags.count, 0);
	assert_int_equal(f->next, INT64_MAX);
}

static void test_container_backend_and_scope_label(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", false);
	struct port_def *p;

	a->ports_are_mappings = true;
	add_port(a, 8080, PORT_PROTO_TCP, "10.0.0.9:80");
	add_task(a, "web.1", "10.1.0.2", 0, "172.17.0.5");
	build(f, 0);
	assert_int_equal(weight(f, "10.0.0.9", 80, "172.17.0.5", 8080), 1);
	/* a mapping with a host port is reached on the agent... */
	lb_table_free(&f->table);
	desired_state_free(&f->st);
	p = &a->ports[0];
	p->host_port = 31005;
	free(a->tasks[0].ports);
	a->tasks[0].ports = calloc(1, sizeof(uint32_t));
	a->tasks[0].ports[0] = 31005;
	a->tasks[0].nports = 1;
	build(f, 0);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31005), 1);
	/* ...unless network-scope says container */
	add_label(&p->labels, &p->nlabels, "network-scope", "container");
	build(f, 1);
	assert_int_equal(weight(f, "10.0.0.9", 80, "172.17.0.5", 8080), 1);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31005), 0); /* drains */
}

static void test_host_not_ip_is_located_warning(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", false);

	add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");
	add_task(a, "web.1", "agent-3.example", 31000, NULL);
	add_task(a, "web.2", "10.1.0.3", 0, NULL);
	build(f, 0);
	assert_int_equal(svc(f, "10.0.0.9", 80, IPPROTO_TCP)->ndests, 0);
	assert_int_equal(f->diags.count, 2);
	assert_diag(f, 0,
	            "apps/web.json: /apps/0/tasks/0: warning: task \"web.1\": host "
	            "\"agent-3.example\" is not an IP address; not a backend of port 0");
	assert_diag(f, 1,
	            "apps/web.json: /apps/0/tasks/1: warning: task \"web.2\": no host port at "
	            "index 0; not a backend");
}

static void test_unknown_health_not_in_rotation(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", true);

	add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");
	add_task(a, "web.1", "10.1.0.2", 31000, NULL);
	build(f, 0);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), -1);
	set_health(f, "web.1", DESIRED_HEALTH_HEALTHY);
	build(f, 1000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 1);
}

static void test_drain_then_remove_at_deadline(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", true);

	add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");
	add_task(a, "web.1", "10.1.0.2", 31000, NULL);
	add_task(a, "web.2", "10.1.0.3", 31000, NULL);
	set_health(f, "web.1", DESIRED_HEALTH_HEALTHY);
	set_health(f, "web.2", DESIRED_HEALTH_HEALTHY);
	build(f, 0);
	set_health(f, "web.1", DESIRED_HEALTH_UNHEALTHY);
	build(f, 1000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 0);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.3", 31000), 1);
	assert_int_equal(f->next, 31000);
	build(f, 30999);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 0);
	build(f, 31000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), -1);
	assert_int_equal(f->next, INT64_MAX);
}

static void test_killing_and_vanished_tasks_drain(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", false);

	add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");
	add_task(a, "web.1", "10.1.0.2", 31000, NULL);
	add_task(a, "web.2", "10.1.0.3", 31000, NULL);
	build(f, 0);
	find_task(&f->set, "web.1")->state = TASK_STATE_KILLING;
	task_free(&a->tasks[1]); /* web.2 vanishes */
	a->ntasks = 1;
	build(f, 5000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 0);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.3", 31000), 0);
	build(f, 34999);
	assert_int_equal(svc(f, "10.0.0.9", 80, IPPROTO_TCP)->ndests, 2);
	build(f, 35000);
	assert_int_equal(svc(f, "10.0.0.9", 80, IPPROTO_TCP)->ndests, 0);
	assert_int_equal(f->st.n, 0);
}

static void all_unhealthy(struct fixture *f, const char *policy)
{
	struct app *a = add_app(&f->set, "/web", true);

	if (policy)
		add_label(&a->labels, &a->nlabels, "VIPD_ALL_UNHEALTHY", policy);
	add_label(&a->labels, &a->nlabels, "VIPD_WEIGHT", "4");
	add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");
	add_task(a, "web.1", "10.1.0.2", 31000, NULL);
	add_task(a, "web.2", "10.1.0.3", 31000, NULL);
	add_task(a, "web.3", "10.1.0.4", 31000, NULL);
	set_health(f, "web.1", DESIRED_HEALTH_HEALTHY);
	set_health(f, "web.2", DESIRED_HEALTH_HEALTHY);
	build(f, 0);
	set_health(f, "web.1", DESIRED_HEALTH_UNHEALTHY);
	set_health(f, "web.2", DESIRED_HEALTH_UNHEALTHY);
	build(f, 1000);
}

static void test_all_unhealthy_default_none(void **state)
{
	struct fixture *f = *state;

	all_unhealthy(f, NULL);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 0);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.3", 31000), 0);
	build(f, 31000);
	assert_non_null(svc(f, "10.0.0.9", 80, IPPROTO_TCP)); /* the VIP stays */
	assert_int_equal(svc(f, "10.0.0.9", 80, IPPROTO_TCP)->ndests, 0);
}

static void test_all_unhealthy_keep(void **state)
{
	struct fixture *f = *state;

	all_unhealthy(f, "keep");
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 4);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.3", 31000), 4);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.4", 31000), -1); /* unknown */
	build(f, 100000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 4);
	/* one recovers: panic ends, the others drain from now */
	set_health(f, "web.1", DESIRED_HEALTH_HEALTHY);
	build(f, 200000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 4);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.3", 31000), 0);
	assert_int_equal(f->next, 230000);
}

static void test_slow_start_ramp(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", true);
	struct port_def *p;

	p = add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");
	add_label(&p->labels, &p->nlabels, "VIPD_SLOW_START_SECONDS", "10");
	add_label(&p->labels, &p->nlabels, "VIPD_WEIGHT", "11");
	add_task(a, "web.1", "10.1.0.2", 31000, NULL);
	set_health(f, "web.1", DESIRED_HEALTH_UNHEALTHY);
	build(f, 0);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), -1);
	set_health(f, "web.1", DESIRED_HEALTH_HEALTHY);
	build(f, 1000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 1);
	assert_int_equal(f->next, 2000);
	build(f, 6000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 6);
	build(f, 10999);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 10);
	assert_int_equal(f->next, 11000);
	build(f, 11000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 11);
	assert_int_equal(f->next, INT64_MAX);
	assert_int_equal(desired_ramp_weight(0, 0, 10, 5000), 0);
}

/* Two apps on one named VIP: one service, both backends. The app with the
 * smaller id decides the scheduler whatever the load order; the other's
 * different value is a located warning. */
static void test_shared_vip_merges_backends(void **state)
{
	struct fixture *f = *state;
	struct app *green, *blue;
	const struct lb_service *s;
	struct port_def *p;
	char buf[64], want[256];

	add_app(&f->set, "/web-green", false);
	add_app(&f->set, "/web-blue", false); /* moves the apps: take pointers after */
	green = &f->set.apps[0];
	blue = &f->set.apps[1];
	p = add_port(green, 0, PORT_PROTO_TCP, "web:80");
	add_label(&p->labels, &p->nlabels, "VIPD_SCHEDULER", "wrr");
	add_task(green, "green.1", "10.1.0.3", 31001, NULL);
	p = add_port(blue, 0, PORT_PROTO_TCP, "/web:80");
	add_label(&p->labels, &p->nlabels, "VIPD_SCHEDULER", "rr");
	add_label(&p->labels, &p->nlabels, "VIPD_FORWARD", "droute");
	add_task(blue, "blue.1", "10.1.0.2", 31000, NULL);
	build(f, 0);
	assert_int_equal(f->table.nsvcs, 1);
	s = &f->table.svcs[0];
	assert_int_equal(s->key.addr.af, AF_INET);
	assert_int_equal(ntohl(s->key.addr.u.v4.s_addr), 0x0b000000u + vip_name_home("/web"));
	assert_string_equal(s->sched, "rr");
	assert_int_equal(s->ndests, 2);
	assert_int_equal(s->dests[0].fwd, LB_FWD_DROUTE);
	assert_int_equal(s->dests[1].fwd, LB_FWD_DROUTE);
	lb_addr_format(&s->dests[1].addr, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.0.3");
	assert_int_equal(f->diags.count, 1);
	snprintf(want, sizeof(want),
	         "apps/web.json: /apps/0/portDefinitions/0/labels/VIPD_SCHEDULER: warning: "
	         "\"wrr\" ignored: %s takes \"rr\" from app /web-blue",
	         lb_key_format(&s->key, buf, sizeof(buf)));
	assert_diag(f, 0, want);
}

/* VIPD_WEIGHT on the port overrides the app's; IPv6 VIP and backends. */
static void test_weight_labels_and_ipv6(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", false);
	struct port_def *p;
	const struct lb_service *s;
	char buf[64];

	add_label(&a->labels, &a->nlabels, "VIPD_WEIGHT", "5");
	add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");
	p = add_port(a, 0, PORT_PROTO_TCP, "[fd00::9]:443");
	add_label(&p->labels, &p->nlabels, "VIPD_WEIGHT", "0");
	add_task(a, "web.1", "fd00:1::2", 31000, NULL);
	a->tasks[0].ports = realloc(a->tasks[0].ports, 2 * sizeof(uint32_t));
	a->tasks[0].ports[1] = 31001;
	a->tasks[0].nports = 2;
	build(f, 0);
	/* An IPv4 VIP cannot masquerade to an IPv6 backend (the kernel refuses
	 * the destination): left out with a warning, see test_desired_v6.c. */
	assert_int_equal(weight(f, "10.0.0.9", 80, "fd00:1::2", 31000), -1);
	s = svc(f, "fd00::9", 443, IPPROTO_TCP);
	assert_non_null(s);
	assert_int_equal(s->ndests, 1);
	assert_int_equal(s->dests[0].weight, 0);
	assert_int_equal(s->dests[0].port, 31001);
	assert_string_equal(lb_addr_format(&s->dests[0].addr, buf, sizeof(buf)), "fd00:1::2");
}

static void test_bad_policy_labels_located(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", false);
	struct port_def *p;

	add_label(&a->labels, &a->nlabels, "VIPD_WEIGHT", "heavy");
	p = add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");
	add_label(&p->labels, &p->nlabels, "VIPD_FORWARD", "nat");
	add_label(&p->labels, &p->nlabels, "VIPD_SCHEDULER", "fastest");
	add_label(&p->labels, &p->nlabels, "VIPD_ALL_UNHEALTHY", "yes");
	add_label(&p->labels, &p->nlabels, "VIPD_SLOW_START_SECONDS", "-1");
	add_label(&p->labels, &p->nlabels, "network-scope", "bridge");
	add_task(a, "web.1", "10.1.0.2", 31000, NULL);
	build(f, 0);
	assert_int_equal(f->diags.count, 6);
	assert_diag(f, 0,
	            "apps/web.json: /apps/0/labels/VIPD_WEIGHT: expected a weight from 0 to "
	            "65535, got \"heavy\"");
	assert_diag(f, 1,
	            "apps/web.json: /apps/0/portDefinitions/0/labels/network-scope: expected host "
	            "or container, got \"bridge\"");
	assert_diag(f, 2,
	            "apps/web.json: /apps/0/portDefinitions/0/labels/VIPD_SCHEDULER: expected an "
	            "IPVS scheduler (rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, "
	            "twos), got \"fastest\"");
	assert_diag(f, 3,
	            "apps/web.json: /apps/0/portDefinitions/0/labels/VIPD_FORWARD: expected masq, "
	            "droute or tunnel, got \"nat\"");
	assert_diag(f, 4,
	            "apps/web.json: /apps/0/portDefinitions/0/labels/VIPD_ALL_UNHEALTHY: expected "
	            "none or keep, got \"yes\"");
	assert_diag(f, 5,
	            "apps/web.json: /apps/0/portDefinitions/0/labels/VIPD_SLOW_START_SECONDS: "
	            "expected seconds from 0 to 3600, got \"-1\"");
	/* defaults apply; the backend is still there */
	assert_string_equal(svc(f, "10.0.0.9", 80, IPPROTO_TCP)->sched, "wlc");
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 1);
}

static void test_bad_vip_label_skips_only_it(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", false);
	struct port_def *p = add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");

	add_label(&p->labels, &p->nlabels, "VIP_1", "10.0.0.10");
	add_task(a, "web.1", "10.1.0.2", 31000, NULL);
	build(f, 0);
	assert_int_equal(f->table.nsvcs, 1);
	assert_int_equal(f->diags.count, 1);
	assert_diag(f, 0,
	            "apps/web.json: /apps/0/portDefinitions/0/labels/VIP_1: VIP \"10.0.0.10\": "
	            "expected <address or name>:<port>");
}

/* A restart: the kernel already has the table; adopting it while health is
 * unknown plans no operation, and a weight-0 dest is not put back. */
static void test_adopt_after_restart_zero_ops(void **state)
{
	struct fixture *f = *state;
	struct app *a = add_app(&f->set, "/web", true);
	struct lb_table observed;
	struct lb_keyset owned;
	struct rc_plan plan;
	struct lb_service *s;
	struct lb_dest d = {.port = 31000, .weight = 1};
	char err[128];

	add_port(a, 0, PORT_PROTO_TCP, "10.0.0.9:80");
	add_task(a, "web.1", "10.1.0.2", 31000, NULL);
	add_task(a, "web.2", "10.1.0.3", 31000, NULL);
	lb_table_init(&observed);
	lb_keyset_init(&owned);
	rc_plan_init(&plan);
	{
		struct lb_key k = {.port = 80, .protocol = IPPROTO_TCP};

		lb_addr_parse("10.0.0.9", &k.addr);
		s = lb_table_add_service(&observed, &k);
		lb_keyset_add(&owned, &k);
	}
	lb_addr_parse("10.1.0.2", &d.addr);
	lb_service_add_dest(s, &d);
	d.weight = 0;
	lb_addr_parse("10.1.0.3", &d.addr);
	lb_service_add_dest(s, &d);
	assert_int_equal(desired_state_adopt(&f->st, &observed, &owned, 30000, 0), 0);
	build(f, 0);
	assert_int_equal(reconcile_plan(&observed, &f->table, &owned, &plan, err, sizeof(err)), 0);
	assert_int_equal(plan.n, 0);
	/* the weight-0 one leaves at its deadline; the live one waits for health */
	build(f, 30000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 1);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.3", 31000), -1);
	set_health(f, "web.1", DESIRED_HEALTH_UNHEALTHY);
	build(f, 40000);
	assert_int_equal(weight(f, "10.0.0.9", 80, "10.1.0.2", 31000), 0);
	rc_plan_free(&plan);
	lb_keyset_free(&owned);
	lb_table_free(&observed);
}

static void test_big_table(void **state)
{
	struct fixture *f = *state;
	char id[32], vip[48], host[32];

	for (int i = 0; i < 1000; i++) {
		struct app *a;

		snprintf(id, sizeof(id), "/app%d", i);
		a = add_app(&f->set, id, false);
		snprintf(vip, sizeof(vip), "%s:80", id);
		add_port(a, 0, PORT_PROTO_TCP, vip);
		for (int t = 0; t < 10; t++) {
			snprintf(id, sizeof(id), "app%d.%d", i, t);
			snprintf(host, sizeof(host), "10.%d.%d.%d", i / 250, i % 250, t + 1);
			add_task(a, id, host, 31000, NULL);
		}
	}
	build(f, 0);
	assert_int_equal(f->table.nsvcs, 1000);
	assert_int_equal(lb_table_dest_count(&f->table), 10000);
	assert_int_equal(f->diags.count, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_tcp_udp_host_backend),
	    T(test_container_backend_and_scope_label),
	    T(test_host_not_ip_is_located_warning),
	    T(test_unknown_health_not_in_rotation),
	    T(test_drain_then_remove_at_deadline),
	    T(test_killing_and_vanished_tasks_drain),
	    T(test_all_unhealthy_default_none),
	    T(test_all_unhealthy_keep),
	    T(test_slow_start_ramp),
	    T(test_shared_vip_merges_backends),
	    T(test_weight_labels_and_ipv6),
	    T(test_bad_policy_labels_located),
	    T(test_bad_vip_label_skips_only_it),
	    T(test_adopt_after_restart_zero_ops),
	    T(test_big_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
