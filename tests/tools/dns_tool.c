/*
 * dns_tool: vipd's DNS responder alone, for the host and VM tests. It loads
 * app definitions, plans the desired table as if every task were healthy,
 * treats every planned service as programmed (and, with --v6, the IPv6
 * address of each named VIP too, as a dual-stack kernel would have it), and
 * answers on ADDR:PORT until SIGTERM or --run-for. It prints the records it
 * serves, one per line, then "ready".
 *
 *   dns_tool --listen 127.0.0.1:15353 --apps FILE|DIR [--zone Z]... [--framework F]
 *            [--ttl S] [--v6] [--run-for S]
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "vipd/apps.h"
#include "vipd/desired.h"
#include "vipd/dns.h"
#include "vipd/fqdn.h"
#include "vipd/vip.h"

#define ZONES_MAX 16

struct opts {
	const char *listen, *apps, *framework;
	const char *zones[ZONES_MAX];
	size_t nzones;
	unsigned ttl;
	bool v6;
	double run_for;
};

static enum desired_health all_healthy(void *ctx, const char *app_id, const char *task_id)
{
	(void)ctx;
	(void)app_id;
	(void)task_id;
	return DESIRED_HEALTH_HEALTHY;
}

/* The IPv6 twin of every named VIP key, as if programmed too. */
static void add_v6_keys(const struct apps_set *set, struct lb_keyset *ks)
{
	struct diag_list ignored = {0};
	struct vip_list vl = {0};
	struct vip_alloc va = {0};
	const char **names;
	size_t n = 0;
	char err[256];

	vip_collect(set, &vl, &ignored);
	names = calloc(vl.n + 1, sizeof(*names));
	for (size_t i = 0; names && i < vl.n; i++)
		if (vl.items[i].ref.named)
			names[n++] = vl.items[i].ref.name;
	if (names && vip_alloc_build(&va, names, n, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < vl.n; i++) {
			struct lb_key k = {.port = vl.items[i].ref.port};

			if (!vl.items[i].ref.named ||
			    vip_name_address6(&va, vl.items[i].ref.name, &k.addr) < 0)
				continue;
			k.protocol = IPPROTO_TCP;
			lb_keyset_add(ks, &k);
			k.protocol = IPPROTO_UDP;
			lb_keyset_add(ks, &k);
		}
	}
	free(names);
	vip_alloc_free(&va);
	vip_list_free(&vl);
	diag_list_free(&ignored);
}

static int plan(const struct opts *o, struct apps_set *set, struct lb_keyset *ks)
{
	struct desired_state st;
	struct desired_input in = {.apps = set, .health = all_healthy, .drain_ms = 0};
	struct diag_list diags = {0};
	struct lb_table t;
	char err[256];
	int rc;

	desired_state_init(&st);
	lb_table_init(&t);
	rc = desired_build(&in, &st, &t, &diags, NULL, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "dns_tool: %s\n", err);
	else
		lb_keyset_add_table(ks, &t);
	if (o->v6)
		add_v6_keys(set, ks);
	lb_keyset_sort(ks);
	lb_table_free(&t);
	desired_state_free(&st);
	diag_list_free(&diags);
	return rc;
}

static void print_records(const struct dns_records *r)
{
	char a[64];

	for (size_t i = 0; i < r->nhosts; i++)
		for (size_t j = 0; j < r->hosts[i].naddrs; j++)
			printf("%s %s %s\n", r->hosts[i].addrs[j].af == AF_INET ? "A" : "AAAA",
			       r->hosts[i].name,
			       lb_addr_format(&r->hosts[i].addrs[j], a, sizeof(a)));
	for (size_t i = 0; i < r->nsrvs; i++)
		printf("SRV %s %u %s\n", r->srvs[i].name, r->srvs[i].port, r->srvs[i].target);
	printf("ready\n");
	fflush(stdout);
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
	    {"listen", required_argument, NULL, 'l'},  {"apps", required_argument, NULL, 'a'},
	    {"zone", required_argument, NULL, 'z'},    {"framework", required_argument, NULL, 'f'},
	    {"ttl", required_argument, NULL, 't'},     {"v6", no_argument, NULL, '6'},
	    {"run-for", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 'a':
			o->apps = optarg;
			break;
		case 'z':
			if (o->nzones == ZONES_MAX)
				return -1;
			o->zones[o->nzones++] = optarg;
			break;
		case 'f':
			o->framework = optarg;
			break;
		case 't':
			o->ttl = (unsigned)atoi(optarg);
			break;
		case '6':
			o->v6 = true;
			break;
		case 'r':
			o->run_for = atof(optarg);
			break;
		default:
			return -1;
		}
	}
	return o->listen && o->apps ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = {.framework = FQDN_FRAMEWORK_DEFAULT, .ttl = DNS_TTL_DEFAULT};
	struct ev_loop *loop = ev_default_loop(0);
	struct apps_set set = {0};
	struct lb_keyset ks;
	struct dns_records r;
	struct dns_server *srv;
	struct dns_naming naming;
	ev_signal sterm, sint;
	ev_timer timeout;
	char err[512];

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: dns_tool --listen ADDR:PORT --apps PATH [--zone Z]... "
		                "[--framework F] [--ttl S] [--v6] [--run-for S]\n");
		return 64;
	}
	if (o.nzones == 0) {
		const char *const *z = fqdn_default_zones(&o.nzones);

		memcpy(o.zones, z, o.nzones * sizeof(*z));
	}
	naming = (struct dns_naming){
	    .framework = o.framework, .zones = o.zones, .nzones = o.nzones, .ttl = o.ttl};
	if (apps_load_path(&set, o.apps) < 0) {
		fprintf(stderr, "dns_tool: cannot read %s\n", o.apps);
		return 2;
	}
	lb_keyset_init(&ks);
	if (plan(&o, &set, &ks) < 0 ||
	    dns_records_from_vips(&set, &ks, &naming, &r, err, sizeof(err)) < 0)
		return 1;
	srv = dns_server_open(loop, o.listen, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "dns_tool: %s\n", err);
		return 1;
	}
	dns_server_set_records(srv, &r);
	print_records(dns_server_records(srv));
	ev_signal_init(&sterm, on_stop, SIGTERM);
	ev_signal_init(&sint, on_stop, SIGINT);
	ev_signal_start(loop, &sterm);
	ev_signal_start(loop, &sint);
	ev_timer_init(&timeout, on_timeout, o.run_for, 0);
	if (o.run_for > 0)
		ev_timer_start(loop, &timeout);
	ev_run(loop, 0);
	dns_server_close(srv);
	dns_records_free(&r);
	lb_keyset_free(&ks);
	apps_set_free(&set);
	return 0;
}
