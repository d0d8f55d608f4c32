/*
 * vipctl vips: each VIP service as the daemon would program it, with its
 * name, FQDNs and address, and its backends with their health and weight:
 * every check run once (as vipctl check does), then the desired table built
 * from that health. --no-checks shows the definitions only. Named VIPs get
 * the addresses vipd would really use: its recorded assignments, read from
 * etcd's vips/<name> keys in a cluster, else from lb.state_file (read only,
 * without its lock: each save replaces the file whole); a name with no
 * record yet shows the address its hash prefers, marked as such. --json
 * gives the listing as one document (dist/man/vipctl.8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vipd/apps.h"
#include "vipd/cluster_view.h"
#include "vipd/dataplane.h"
#include "vipd/desired.h"
#include "vipd/fqdn.h"
#include "vipd/runner.h"
#include "vipd/vip.h"

/* One task's checks, run once. */
struct task_health {
	const struct app *app;
	const struct task *task;
	size_t pending, failed;
};

static void on_done(const struct check_result *res, void *arg)
{
	struct task_health *th = arg;

	th->pending--;
	if (!check_outcome_healthy(res->outcome))
		th->failed++;
}

static size_t count_tasks(const struct apps_set *set)
{
	size_t n = 0;

	for (size_t i = 0; i < set->napps; i++)
		if (set->apps[i].nchecks > 0)
			n += set->apps[i].ntasks;
	return n;
}

/* Starts every check of every task of apps with checks; a check that cannot
 * start counts as failed. */
static void start_checks(struct exec_ctx *ctx, const struct runner_settings *rs,
                         struct task_health *ths, const struct apps_set *set)
{
	size_t n = 0;
	char err[256];

	for (size_t i = 0; i < set->napps; i++) {
		const struct app *a = &set->apps[i];

		for (size_t t = 0; a->nchecks > 0 && t < a->ntasks; t++) {
			struct task_health *th = &ths[n++];

			*th = (struct task_health){.app = a, .task = &a->tasks[t]};
			for (size_t c = 0; c < a->nchecks; c++) {
				th->pending++;
				if (!runner_start(ctx, rs, a, &a->tasks[t], &a->checks[c], on_done,
				                  th, err, sizeof(err))) {
					th->pending--;
					th->failed++;
				}
			}
		}
	}
}

struct health_view {
	const struct task_health *ths;
	size_t n;
	bool checked;
	bool live;       /* --live: the running vipd's, from its API */
	const char *api; /* --api */
	bool json;       /* --json: the listing as one document */
};

/* desired_health_fn */
static enum desired_health health_of(void *ctx, const char *app_id, const char *task_id)
{
	const struct health_view *hv = ctx;

	if (!hv->checked)
		return DESIRED_HEALTH_HEALTHY;
	for (size_t i = 0; i < hv->n; i++)
		if (strcmp(hv->ths[i].app->id, app_id) == 0 &&
		    strcmp(hv->ths[i].task->id, task_id) == 0)
			return hv->ths[i].failed || hv->ths[i].pending ? DESIRED_HEALTH_UNHEALTHY
			                                               : DESIRED_HEALTH_HEALTHY;
	return DESIRED_HEALTH_UNKNOWN;
}

/* The use that gives service k, for its label text. */
static const struct vip_use *use_of(const struct vip_list *vl, const struct vip_alloc *va,
                                    const struct lb_key *k)
{
	for (size_t i = 0; i < vl->n; i++) {
		struct lb_key keys[2];
		/* A named VIP has a service per family of its backends. */
		size_t nk = vip_keys_af(&vl->items[i], va, k->addr.af, keys);

		for (size_t j = 0; j < nk; j++)
			if (lb_key_cmp(&keys[j], k) == 0)
				return &vl->items[i];
	}
	return NULL;
}

/* The names vipd's DNS responder answers for it, from the config's zones. */
static void print_fqdns(const struct vipd_config *cfg, const char *name)
{
	char fqdn[FQDN_NAME_MAX + 1], err[256];

	printf("  fqdn");
	for (size_t z = 0; z < cfg->dns_nzones; z++) {
		if (fqdn_build(name, cfg->dns_framework, cfg->dns_zones[z], fqdn, sizeof(fqdn), err,
		               sizeof(err)) < 0) {
			printf(" (none: %s)", err);
			break;
		}
		printf(" %s", fqdn);
	}
	printf("\n");
}

static const char *phase_health(const struct desired_entry *e, bool checked)
{
	if (!checked)
		return "unchecked";
	switch (e->phase) {
	case DESIRED_PHASE_IN:
		return "healthy";
	case DESIRED_PHASE_DRAINING:
		return "draining";
	case DESIRED_PHASE_OUT:
		break;
	}
	return "unhealthy";
}

/* Whether vipd has recorded the named VIP's address of family af. */
static bool recorded(const struct vip_records *rec, const char *name, int af)
{
	const struct vip_record *r = vip_records_find(rec, name);

	return r != NULL && (af == AF_INET ? r->addr.af : r->addr6.af) != 0;
}

static size_t print_service(const struct vipd_config *cfg, const struct lb_service *s,
                            const struct vip_use *u, const struct desired_state *st, bool checked,
                            const struct vip_records *rec, size_t *healthy)
{
	char addr[INET6_ADDRSTRLEN + 8], label[VIP_NAME_MAX + 16];
	size_t nb = 0;

	if (u && u->ref.named)
		snprintf(label, sizeof(label), "%s:%u", u->ref.name, (unsigned)u->ref.port);
	else
		lb_addr_port_format(&s->key.addr, s->key.port, label, sizeof(label));
	printf("%s %s %s%s\n", label, lb_proto_name(s->key.protocol),
	       lb_addr_port_format(&s->key.addr, s->key.port, addr, sizeof(addr)),
	       u && u->ref.named && !recorded(rec, u->ref.name, s->key.addr.af)
	           ? " (not yet assigned: the name's preferred address)"
	           : "");
	if (u && u->ref.named)
		print_fqdns(cfg, u->ref.name);
	for (size_t i = 0; i < st->n; i++) {
		const struct desired_entry *e = &st->entries[i];
		const struct lb_dest *d;

		if (lb_key_cmp(&e->svc, &s->key) != 0)
			continue;
		d = lb_service_find_dest(s, &e->addr, e->port);
		printf("  backend %s %s weight %u\n",
		       lb_addr_port_format(&e->addr, e->port, addr, sizeof(addr)),
		       phase_health(e, checked), d ? d->weight : 0);
		*healthy += checked && e->phase == DESIRED_PHASE_IN;
		nb++;
	}
	if (nb == 0)
		printf("  no backend\n");
	return nb;
}

static json_t *fqdns_json(const struct vipd_config *cfg, const char *name)
{
	char fqdn[FQDN_NAME_MAX + 1], err[256];
	json_t *arr = json_array();

	for (size_t z = 0; arr && z < cfg->dns_nzones; z++) {
		if (fqdn_build(name, cfg->dns_framework, cfg->dns_zones[z], fqdn, sizeof(fqdn), err,
		               sizeof(err)) < 0)
			break;
		json_array_append_new(arr, json_string(fqdn));
	}
	return arr;
}

/* print_service's listing of one service, as JSON. */
static json_t *service_json(const struct vipd_config *cfg, const struct lb_service *s,
                            const struct vip_use *u, const struct desired_state *st, bool checked,
                            const struct vip_records *rec, size_t *healthy)
{
	char addr[INET6_ADDRSTRLEN + 8], label[VIP_NAME_MAX + 16];
	json_t *bs = json_array(), *o;

	if (u && u->ref.named)
		snprintf(label, sizeof(label), "%s:%u", u->ref.name, (unsigned)u->ref.port);
	else
		lb_addr_port_format(&s->key.addr, s->key.port, label, sizeof(label));
	for (size_t i = 0; bs && i < st->n; i++) {
		const struct desired_entry *e = &st->entries[i];
		const struct lb_dest *d;

		if (lb_key_cmp(&e->svc, &s->key) != 0)
			continue;
		d = lb_service_find_dest(s, &e->addr, e->port);
		json_array_append_new(
		    bs,
		    json_pack("{s:s, s:s, s:I}", "address",
		              lb_addr_port_format(&e->addr, e->port, addr, sizeof(addr)), "health",
		              phase_health(e, checked), "weight", (json_int_t)(d ? d->weight : 0)));
		*healthy += checked && e->phase == DESIRED_PHASE_IN;
	}
	o = json_pack("{s:s, s:s, s:s, s:o*}", "vip", label, "protocol",
	              lb_proto_name(s->key.protocol), "address",
	              lb_addr_port_format(&s->key.addr, s->key.port, addr, sizeof(addr)),
	              "backends", bs);
	if (o && u && u->ref.named) {
		json_object_set_new(o, "name", json_string(u->ref.name));
		json_object_set_new(o, "fqdns", fqdns_json(cfg, u->ref.name));
		json_object_set_new(o, "assigned",
		                    json_boolean(recorded(rec, u->ref.name, s->key.addr.af)));
	}
	return o;
}

/* The listing's end: the summary line, or the document around `vips`. */
static int print_summary(const struct health_view *hv, json_t *vips, size_t nsvcs, size_t nb,
                         size_t healthy, int rc)
{
	json_t *doc;

	if (hv->json) {
		doc = json_pack("{s:i, s:b, s:b, s:I, s:I, s:O}", "schema", 1, "ok",
		                rc == CLI_EXIT_OK, "checked", hv->checked, "services",
		                (json_int_t)nsvcs, "backends", (json_int_t)nb, "vips", vips);
		if (doc && hv->checked)
			json_object_set_new(doc, "healthy", json_integer((json_int_t)healthy));
		if (!doc || cli_api_print_json(doc) != CLI_EXIT_OK)
			rc = CLI_EXIT_FAIL;
		json_decref(doc);
	} else if (hv->checked) {
		printf("%zu VIP services, %zu backends, %zu healthy\n", nsvcs, nb, healthy);
	} else {
		printf("%zu VIP services, %zu backends (checks not run)\n", nsvcs, nb);
	}
	return rc;
}

/* --json when there is no table: still one document, saying why. */
static void print_build_error(const char *err)
{
	json_t *doc = json_pack("{s:i, s:b, s:s}", "schema", 1, "ok", 0, "error", err);

	if (doc)
		(void)cli_api_print_json(doc);
	json_decref(doc);
}

/* The table from the health found and the recorded addresses, and the
 * listing. */
static int list_vips(const struct vipd_config *cfg, const struct apps_set *set,
                     const struct health_view *hv, const struct vip_records *rec)
{
	struct desired_input in = {.apps = set,
	                           .ranges = &cfg->vip_ranges,
	                           .health = health_of,
	                           .health_ctx = (void *)hv,
	                           .vip_recorded = rec,
	                           .wall_s = (int64_t)time(NULL),
	                           .vip_quarantine_s = config_vip_quarantine_s(cfg)};
	struct diag_list diags = {0};
	struct desired_state st;
	struct desired_index ix;
	struct lb_table t;
	size_t nb = 0, healthy = 0;
	char err[512] = "out of memory";
	int rc = CLI_EXIT_OK;
	json_t *vips = json_array();

	desired_state_init(&st);
	desired_index_init(&ix);
	lb_table_init(&t);
	if (desired_build_indexed(&in, &st, &t, &diags, NULL, &ix, err, sizeof(err)) < 0) {
		fprintf(stderr, "vipctl: %s\n", err);
		rc = CLI_EXIT_CONFIG; /* the apps or the named ranges: the daemon fails alike */
		if (hv->json)
			print_build_error(err);
		goto out;
	}
	cli_print_diags(&diags);
	/* The daemon refuses what was reported as an error: bad input. */
	if (diag_count(&diags, DIAG_ERROR) > 0)
		rc = CLI_EXIT_CONFIG;
	for (size_t i = 0; i < t.nsvcs; i++) {
		const struct vip_use *u = use_of(&ix.uses, &ix.alloc, &t.svcs[i].key);
		json_t *o;

		if (!hv->json) {
			nb += print_service(cfg, &t.svcs[i], u, &st, hv->checked, rec, &healthy);
			continue;
		}
		o = service_json(cfg, &t.svcs[i], u, &st, hv->checked, rec, &healthy);
		nb += json_array_size(json_object_get(o, "backends"));
		json_array_append_new(vips, o);
	}
	rc = print_summary(hv, vips, t.nsvcs, nb, healthy, rc);
out:
	desired_index_free(&ix);
	lb_table_free(&t);
	desired_state_free(&st);
	diag_list_free(&diags);
	json_decref(vips);
	return rc;
}

struct records_read {
	const char *prefix;
	struct vip_records *out;
};

/* cli_etcd_use_fn: the vips/<name> records, decoded as vipd decodes them. */
static int take_vip_records(void *arg, const char *endpoint, const struct etcd_resp *r)
{
	struct records_read *rr = arg;
	struct cluster_view v;

	(void)endpoint;
	if (cli_view_init(&v, rr->prefix) < 0)
		return CLI_EXIT_CONFIG;
	for (size_t i = 0; i < r->n_kvs; i++)
		(void)cluster_view_vip(&v, &r->kvs[i]);
	*rr->out = v.vips;
	v.vips = (struct vip_records){0};
	cluster_view_free(&v);
	return CLI_EXIT_OK;
}

/* The recorded assignments vipd allocates with: etcd's in a cluster, else
 * the state file's. An exit code; the message on stderr. */
static int load_records(const struct vipd_config *cfg, const char *etcd_opt,
                        struct vip_records *out)
{
	char key[CLUSTER_KEY_MAX + 8], err[1024];

	*out = (struct vip_records){0};
	if (cli_etcd_endpoints(cfg, etcd_opt) != NULL) {
		(void)snprintf(key, sizeof(key), "%svips/", cfg->cluster_prefix);
		return cli_etcd_read(cfg, etcd_opt, key, take_vip_records,
		                     &(struct records_read){cfg->cluster_prefix, out});
	}
	if (cfg->state_file == NULL)
		return CLI_EXIT_OK;
	if (dataplane_state_load_vips(cfg->state_file, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "vipctl: named VIPs' recorded addresses: %s\n", err);
		return CLI_EXIT_CONFIG;
	}
	return CLI_EXIT_OK;
}

struct vips_opts {
	struct health_view hv;
	const char *etcd;
};

static int on_option(int opt, const char *arg, void *ctx)
{
	struct vips_opts *o = ctx;

	if (opt == 'l')
		o->hv.live = true;
	else if (opt == 'a')
		o->hv.api = arg;
	else if (opt == 'e')
		o->etcd = arg;
	else if (opt == 'j')
		o->hv.json = true;
	else
		o->hv.checked = false;
	return 0;
}

static const struct option vips_longopts[] = {
    {"no-checks", no_argument, NULL, 'n'}, {"live", no_argument, NULL, 'l'},
    {"api", required_argument, NULL, 'a'}, {"etcd", required_argument, NULL, 'e'},
    {"json", no_argument, NULL, 'j'},      {NULL, 0, NULL, 0},
};

int cmd_vips(struct cli *cli, int argc, char **argv)
{
	struct vips_opts o = {.hv = {.checked = true}};
	struct health_view *hv = &o.hv;
	const struct cli_spec spec = {
	    .name = "vips",
	    .usage =
	        "vips [-c CONFIG] [--no-checks] [--json] [--etcd URL,...] FILE|DIR|URL... | vips "
	        "--live [--api ADDR:PORT]",
	    .shortopts = "",
	    .longopts = vips_longopts,
	    .min_operands = 0, /* --live reads none; definitions need one (below) */
	    .on_option = on_option,
	    .ctx = &o,
	};
	struct vip_records rec;
	struct exec_settings es;
	struct runner_settings rs;
	struct apps_set set = {0};
	struct task_health *ths = NULL;
	struct ev_loop *loop = ev_default_loop(0);
	struct exec_ctx *ctx = NULL;
	char err[256] = "out of memory";
	int first, rc = cli_parse(cli, &spec, argc, argv, &first), lrc;

	if (rc >= 0)
		return rc;
	if (hv->live != (first == argc)) {
		fprintf(stderr, "vipctl vips: %s\nusage: vipctl %s\n",
		        hv->live ? "--live reads the running vipd, not FILE|DIR|URL"
		                 : "expected a FILE or DIR to read",
		        spec.usage);
		return CLI_EXIT_USAGE;
	}
	if (hv->live)
		return cli_vips_live(cli, hv->api, hv->json);
	if (cli_load_config(cli) < 0)
		return CLI_EXIT_CONFIG;
	cli_check_settings(cli, &es, &rs);
	rc = load_records(&cli->cfg, o.etcd, &rec);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (cli_load_apps(cli, &set, argc - first, argv + first))
		rc = CLI_EXIT_CONFIG;
	if (hv->checked) {
		hv->n = count_tasks(&set);
		ths = calloc(hv->n + 1, sizeof(*ths));
		ctx = exec_ctx_new(loop, &es, err, sizeof(err));
		if (ths == NULL || ctx == NULL) {
			fprintf(stderr, "vipctl: cannot set up the check executors: %s\n", err);
			free(ths);
			exec_ctx_free(ctx);
			apps_set_free(&set);
			vip_records_free(&rec);
			return CLI_EXIT_FAIL;
		}
		start_checks(ctx, &rs, ths, &set);
		while (exec_ctx_running(ctx) > 0)
			ev_run(loop, EVRUN_ONCE);
		hv->ths = ths;
	}
	lrc = list_vips(&cli->cfg, &set, hv, &rec);
	vip_records_free(&rec);
	exec_ctx_free(ctx);
	free(ths);
	apps_set_free(&set);
	return lrc != CLI_EXIT_OK ? lrc : rc;
}
