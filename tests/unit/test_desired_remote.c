/* The table build's cluster inputs (issue 9): only this node's tasks
 * (desired_input.task_local), the other nodes' backends
 * (desired_input.remote) joining the services their VIPs make here (named
 * ones allocated over the local and the remote names), the
 * incremental build for one app agreeing with the whole one when remote
 * backends change, and the list of local backends a node publishes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "vipd/desired.h"
#include "patch_world.h"

#define DRAIN_MS 20000

static char *dup(const char *s)
{
	return strdup(s);
}

/* /web: VIP /web:80 (TCP and UDP when both), tasks on h1 and h2; /dns: VIP
 * 10.0.0.53:53, one task on h1. No health checks: every running task is
 * healthy. */
static void apps_make(struct apps_set *set, bool udp_too)
{
	static const char *hosts[] = {"10.1.0.1", "10.1.0.2"};
	struct app *a;

	memset(set, 0, sizeof(*set));
	set->napps = 2;
	set->apps = calloc(2, sizeof(*set->apps));
	for (size_t i = 0; i < 2; i++) {
		a = &set->apps[i];
		a->id = dup(i == 0 ? "/web" : "/dns");
		a->source = dup("apps.json");
		a->json_path = dup(i == 0 ? "/0" : "/1");
		a->nports = 1;
		a->ports = calloc(1, sizeof(*a->ports));
		a->ports[0].protocols = PORT_PROTO_TCP | (udp_too && i == 0 ? PORT_PROTO_UDP : 0);
		a->ports[0].nlabels = 1;
		a->ports[0].labels = calloc(1, sizeof(struct label));
		a->ports[0].labels[0] =
		    (struct label){dup("VIP_0"), dup(i == 0 ? "/web:80" : "10.0.0.53:53")};
		a->ntasks = i == 0 ? 2 : 1;
		a->tasks = calloc(a->ntasks, sizeof(*a->tasks));
		for (size_t t = 0; t < a->ntasks; t++) {
			char id[32];

			snprintf(id, sizeof(id), "%s.%zu", i == 0 ? "web" : "dns", t);
			a->tasks[t].id = dup(id);
			a->tasks[t].host = dup(hosts[t]);
			a->tasks[t].state = TASK_STATE_RUNNING;
			a->tasks[t].nports = 1;
			a->tasks[t].ports = calloc(1, sizeof(uint32_t));
			a->tasks[t].ports[0] = 31000 + (uint32_t)t;
		}
	}
}

static bool on_h1(void *ctx, const struct task *t)
{
	(void)ctx;
	return strcmp(t->host, "10.1.0.1") == 0;
}

static struct desired_remote remote(const char *vip, const char *addr, uint16_t port,
                                    uint32_t weight)
{
	struct desired_remote r = {.protocol = IPPROTO_TCP, .port = port, .weight = weight};
	char err[256];

	assert_int_equal(vip_parse(vip, &r.vip, err, sizeof(err)), 0);
	assert_int_equal(lb_addr_parse(addr, &r.addr), 0);
	return r;
}

/* "SERVICE -> DEST weight W" per destination, "SERVICE" for one without. */
static void table_text(const struct lb_table *t, char *out, size_t len)
{
	char svc[128], dest[128];

	out[0] = '\0';
	for (size_t i = 0; i < t->nsvcs; i++) {
		const struct lb_service *s = &t->svcs[i];

		lb_key_format(&s->key, svc, sizeof(svc));
		if (s->ndests == 0)
			snprintf(out + strlen(out), len - strlen(out), "%s %s\n", svc, s->sched);
		for (size_t j = 0; j < s->ndests; j++)
			snprintf(out + strlen(out), len - strlen(out), "%s %s -> %s weight %u\n",
			         svc, s->sched,
			         lb_addr_port_format(&s->dests[j].addr, s->dests[j].port, dest,
			                             sizeof(dest)),
			         s->dests[j].weight);
	}
}

static void build(const struct desired_input *in, struct desired_state *st,
                  struct desired_index *ix, char *text, size_t len)
{
	struct diag_list diags = {0};
	struct lb_table t;
	char err[256];

	lb_table_init(&t);
	assert_int_equal(desired_build_indexed(in, st, &t, &diags, NULL, ix, err, sizeof(err)), 0);
	table_text(&t, text, len);
	lb_table_free(&t);
	diag_list_free(&diags);
}

static void test_only_local_tasks_and_remote_backends(void **state)
{
	struct apps_set set;
	struct desired_remote r[] = {
	    remote("/web:80", "10.2.0.1", 32000, 3),       /* joins /web's service */
	    remote("10.0.0.9:8080", "10.2.0.1", 32001, 1), /* an address VIP no local app uses */
	    remote("/other:80", "10.2.0.1", 32002, 1),     /* a name no local app uses */
	    remote("10.0.0.53:53", "fd00::1", 32003, 1),   /* the other family: not forwardable */
	};
	struct desired_input in;
	struct desired_state st;
	struct desired_index ix;
	struct lb_addr web, other;
	char text[2048], want[2048];

	(void)state;
	apps_make(&set, false);
	in = (struct desired_input){.apps = &set,
	                            .drain_ms = DRAIN_MS,
	                            .now_ms = 1000,
	                            .task_local = on_h1,
	                            .remote = r,
	                            .nremote = 4};
	desired_state_init(&st);
	desired_index_init(&ix);
	build(&in, &st, &ix, text, sizeof(text));
	assert_int_equal(vip_name_address(&ix.alloc, "/web", &web), 0);
	assert_int_equal(vip_name_address(&ix.alloc, "/other", &other), 0);
	{
		char a[64], o[64];

		lb_addr_format(&web, a, sizeof(a));
		lb_addr_format(&other, o, sizeof(o));
		snprintf(want, sizeof(want),
		         "TCP 10.0.0.9:8080 wlc -> 10.2.0.1:32001 weight 1\n"
		         "TCP 10.0.0.53:53 wlc -> 10.1.0.1:31000 weight 1\n"
		         "TCP %s:80 wlc -> 10.1.0.1:31000 weight 1\n"
		         "TCP %s:80 wlc -> 10.2.0.1:32000 weight 3\n"
		         "TCP %s:80 wlc -> 10.2.0.1:32002 weight 1\n",
		         a, a, o);
		/* The table is sorted by address: /other may come before /web. */
		if (lb_addr_cmp(&other, &web) < 0)
			snprintf(want, sizeof(want),
			         "TCP 10.0.0.9:8080 wlc -> 10.2.0.1:32001 weight 1\n"
			         "TCP 10.0.0.53:53 wlc -> 10.1.0.1:31000 weight 1\n"
			         "TCP %s:80 wlc -> 10.2.0.1:32002 weight 1\n"
			         "TCP %s:80 wlc -> 10.1.0.1:31000 weight 1\n"
			         "TCP %s:80 wlc -> 10.2.0.1:32000 weight 3\n",
			         o, a, a);
	}
	assert_string_equal(text, want);
	/* The remote backends gone: they drain like local ones. */
	in.nremote = 0;
	in.remote = NULL;
	in.now_ms = 2000;
	build(&in, &st, &ix, text, sizeof(text));
	assert_non_null(strstr(text, ":80 wlc -> 10.2.0.1:32000 weight 0\n"));
	assert_null(strstr(text, "10.0.0.9:8080"));
	assert_null(strstr(text, "32002"));
	/* Without cluster inputs: every task, as a single node. */
	desired_state_free(&st);
	in.task_local = NULL;
	build(&in, &st, &ix, text, sizeof(text));
	assert_non_null(strstr(text, "-> 10.1.0.2:31001 weight 1\n"));
	assert_null(strstr(text, "10.2.0.1"));
	desired_state_free(&st);
	desired_index_free(&ix);
	apps_set_free(&set);
}

/* The health round for /web after its remote backends changed gives the
 * services and state the whole build gives. */
static void test_remote_change_patch_matches_full(void **state)
{
	struct apps_set set;
	struct desired_remote before[] = {remote("/web:80", "10.2.0.1", 32000, 1),
	                                  remote("/web:80", "10.2.0.2", 32000, 1)};
	struct desired_remote after[] = {remote("/web:80", "10.2.0.2", 32000, 2),
	                                 remote("/web:80", "10.2.0.3", 32000, 1)};
	const char *apps[] = {"/web"};
	struct desired_input in;
	struct desired_state full, inc;
	struct desired_index ixf, ixi;
	struct lb_table part;
	char text[2048], ptext[2048], err[256];
	int64_t next = INT64_MAX;

	(void)state;
	apps_make(&set, true);
	in = (struct desired_input){.apps = &set,
	                            .drain_ms = DRAIN_MS,
	                            .now_ms = 1000,
	                            .task_local = on_h1,
	                            .remote = before,
	                            .nremote = 2};
	desired_state_init(&full);
	desired_state_init(&inc);
	desired_index_init(&ixf);
	desired_index_init(&ixi);
	build(&in, &full, &ixf, text, sizeof(text));
	build(&in, &inc, &ixi, text, sizeof(text));
	in.remote = after;
	in.now_ms = 2000;
	build(&in, &full, &ixf, text, sizeof(text));
	lb_table_init(&part);
	assert_int_equal(
	    desired_build_services(&in, &ixi, apps, 1, &inc, &part, &next, err, sizeof(err)), 0);
	table_text(&part, ptext, sizeof(ptext));
	/* /dns is not rebuilt; /web's TCP service is, with 10.2.0.1 draining. */
	assert_null(strstr(ptext, ":53"));
	assert_non_null(strstr(ptext, "-> 10.2.0.1:32000 weight 0\n"));
	assert_non_null(strstr(ptext, "-> 10.2.0.2:32000 weight 2\n"));
	assert_non_null(strstr(ptext, "-> 10.2.0.3:32000 weight 1\n"));
	assert_non_null(strstr(text, ptext));
	assert_int_equal(next, 2000 + DRAIN_MS);
	pw_assert_states_equal(&full, &inc);
	lb_table_free(&part);
	desired_state_free(&full);
	desired_state_free(&inc);
	desired_index_free(&ixf);
	desired_index_free(&ixi);
	apps_set_free(&set);
}

static void test_local_backends_listed_for_publishing(void **state)
{
	struct apps_set set;
	struct desired_input in;
	struct desired_local_backend *l;
	char text[2048] = "", be[64];
	size_t n;

	(void)state;
	apps_make(&set, true);
	in = (struct desired_input){.apps = &set, .task_local = on_h1};
	assert_int_equal(desired_local_backends(&in, &l, &n), 0);
	for (size_t i = 0; i < n; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		         "%s %s:%u %u %s w%u h%d %s %s\n",
		         l[i].protocol == IPPROTO_UDP ? "udp" : "tcp",
		         l[i].vip.named ? l[i].vip.name : "addr", l[i].vip.port, l[i].protocol,
		         lb_addr_port_format(&l[i].addr, l[i].port, be, sizeof(be)), l[i].weight,
		         (int)l[i].health, l[i].app_id, l[i].task_id);
	assert_string_equal(text, "tcp /web:80 6 10.1.0.1:31000 w1 h1 /web web.0\n"
	                          "udp /web:80 17 10.1.0.1:31000 w1 h1 /web web.0\n"
	                          "tcp addr:53 6 10.1.0.1:31000 w1 h1 /dns dns.0\n");
	free(l);
	apps_set_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_local_tasks_and_remote_backends),
	    cmocka_unit_test(test_remote_change_patch_matches_full),
	    cmocka_unit_test(test_local_backends_listed_for_publishing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
