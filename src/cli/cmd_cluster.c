/*
 * vipctl cluster: the cluster's view as etcd holds it (issue 9 item 8), from
 * one read of the whole prefix decoded as vipd decodes it (cluster_view):
 * the nodes (live or not, their lease), and per VIP its address and every
 * node's backends with their health. A VIP with no healthy backend stands
 * out and makes the exit code 1.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vipd/cluster_view.h"
#include "vipd/vec.h"

struct cluster_opts {
	const char *etcd;
	bool json;
};

/* A node: live/<node> exists (its lease), or it has backends. */
struct node_row {
	char name[CLUSTER_NODE_MAX];
	bool live;
	int64_t lease;
	size_t backends, healthy;
};

struct report {
	const char *prefix;
	struct node_row *nodes;
	size_t nnodes, nodes_cap;
	const struct cluster_backend **bs; /* sorted by VIP, protocol, node, address */
	size_t nbs;
	size_t dark; /* VIPs with no healthy backend */
};

static void vip_label(const struct vip_ref *v, char *buf, size_t len)
{
	if (v->named)
		(void)snprintf(buf, len, "%s:%u", v->name, (unsigned)v->port);
	else
		lb_addr_port_format(&v->addr, v->port, buf, len);
}

static int cmp_backend(const void *pa, const void *pb)
{
	const struct cluster_backend *a = *(const struct cluster_backend *const *)pa;
	const struct cluster_backend *b = *(const struct cluster_backend *const *)pb;
	char la[VIP_NAME_MAX + 64], lb[VIP_NAME_MAX + 64];
	int c;

	vip_label(&a->vip, la, sizeof(la));
	vip_label(&b->vip, lb, sizeof(lb));
	if ((c = strcmp(la, lb)) != 0 || (c = (int)a->protocol - (int)b->protocol) != 0 ||
	    (c = strcmp(a->node, b->node)) != 0 || (c = lb_addr_cmp(&a->addr, &b->addr)) != 0)
		return c;
	return (int)a->port - (int)b->port;
}

static bool same_vip(const struct cluster_backend *a, const struct cluster_backend *b)
{
	return a->protocol == b->protocol && a->vip.named == b->vip.named &&
	       a->vip.port == b->vip.port &&
	       (a->vip.named ? strcmp(a->vip.name, b->vip.name) == 0
	                     : lb_addr_cmp(&a->vip.addr, &b->vip.addr) == 0);
}

static struct node_row *node_get(struct report *rp, const char *name)
{
	struct node_row *grown;

	for (size_t i = 0; i < rp->nnodes; i++)
		if (strcmp(rp->nodes[i].name, name) == 0)
			return &rp->nodes[i];
	if (VEC_RESERVE(rp->nodes, rp->nodes_cap, rp->nnodes + 1) < 0)
		return NULL;
	grown = &rp->nodes[rp->nnodes++];
	*grown = (struct node_row){0};
	(void)snprintf(grown->name, sizeof(grown->name), "%s", name);
	return grown;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct node_row *)a)->name, ((const struct node_row *)b)->name);
}

/* The nodes from the live keys (with their lease) and the backends. */
static int collect_nodes(struct report *rp, const struct etcd_resp *r)
{
	char name[CLUSTER_NODE_MAX];
	struct node_row *n;

	for (size_t i = 0; i < r->n_kvs; i++) {
		if (!cluster_live_parse(rp->prefix, r->kvs[i].key, name))
			continue;
		if ((n = node_get(rp, name)) == NULL)
			return -1;
		n->live = true;
		n->lease = r->kvs[i].lease;
	}
	for (size_t i = 0; i < rp->nbs; i++) {
		if ((n = node_get(rp, rp->bs[i]->node)) == NULL)
			return -1;
		n->backends++;
		n->healthy += rp->bs[i]->health == CLUSTER_HEALTH_HEALTHY;
	}
	vec_sort(rp->nodes, rp->nnodes, sizeof(*rp->nodes), cmp_node);
	return 0;
}

/* The VIP's addresses: its own, or a name's recorded ones ("" when none). */
static void vip_address(const struct cluster_view *v, const struct vip_ref *ref, char *buf,
                        size_t len)
{
	const struct vip_record *rec;
	char a4[INET6_ADDRSTRLEN + 8] = "", a6[INET6_ADDRSTRLEN + 8] = "";

	buf[0] = '\0';
	if (!ref->named) {
		lb_addr_port_format(&ref->addr, ref->port, buf, len);
		return;
	}
	rec = vip_records_find(&v->vips, ref->name);
	if (rec == NULL)
		return;
	if (rec->addr.af)
		lb_addr_port_format(&rec->addr, ref->port, a4, sizeof(a4));
	if (rec->addr6.af)
		lb_addr_port_format(&rec->addr6, ref->port, a6, sizeof(a6));
	(void)snprintf(buf, len, "%s%s%s", a4, a4[0] && a6[0] ? " " : "", a6);
}

static size_t vip_end(const struct report *rp, size_t first)
{
	size_t i = first + 1;

	while (i < rp->nbs && same_vip(rp->bs[first], rp->bs[i]))
		i++;
	return i;
}

static size_t count_healthy(const struct report *rp, size_t first, size_t end)
{
	size_t k = 0;

	for (size_t i = first; i < end; i++)
		k += rp->bs[i]->health == CLUSTER_HEALTH_HEALTHY;
	return k;
}

/* ---- text */

#define NCOLS 6

static void backend_cells(const struct cluster_backend *b, char cells[NCOLS][CLUSTER_ID_MAX])
{
	(void)snprintf(cells[0], CLUSTER_ID_MAX, "%s", b->node);
	lb_addr_port_format(&b->addr, b->port, cells[1], CLUSTER_ID_MAX);
	(void)snprintf(cells[2], CLUSTER_ID_MAX, "%s", cluster_health_name(b->health));
	(void)snprintf(cells[3], CLUSTER_ID_MAX, "%" PRIu32, b->weight);
	(void)snprintf(cells[4], CLUSTER_ID_MAX, "%s", b->app);
	(void)snprintf(cells[5], CLUSTER_ID_MAX, "%s", b->task);
}

static void print_vip(const struct report *rp, const struct cluster_view *v, size_t first,
                      size_t end)
{
	static const char *const head[NCOLS] = {"NODE",   "BACKEND", "HEALTH",
	                                        "WEIGHT", "APP",     "TASK"};
	char cells[NCOLS][CLUSTER_ID_MAX];
	char label[VIP_NAME_MAX + 64], addr[2 * INET6_ADDRSTRLEN + 32];
	size_t width[NCOLS], k = count_healthy(rp, first, end);

	vip_label(&rp->bs[first]->vip, label, sizeof(label));
	vip_address(v, &rp->bs[first]->vip, addr, sizeof(addr));
	printf("%s %s %s: %zu/%zu healthy%s\n", label, lb_proto_name(rp->bs[first]->protocol),
	       addr[0] ? addr : "(no address recorded)", k, end - first,
	       k == 0 ? "  << NO HEALTHY BACKEND" : "");
	for (size_t c = 0; c < NCOLS; c++)
		width[c] = strlen(head[c]);
	for (size_t i = first; i < end; i++) {
		backend_cells(rp->bs[i], cells);
		for (size_t c = 0; c < NCOLS; c++)
			if (strlen(cells[c]) > width[c])
				width[c] = strlen(cells[c]);
	}
	for (size_t c = 0; c < NCOLS; c++)
		printf("  %-*s", c + 1 < NCOLS ? (int)width[c] : 0, head[c]);
	printf("\n");
	for (size_t i = first; i < end; i++) {
		backend_cells(rp->bs[i], cells);
		for (size_t c = 0; c < NCOLS; c++)
			printf("  %-*s", c + 1 < NCOLS ? (int)width[c] : 0, cells[c]);
		printf("\n");
	}
}

static void print_nodes(const struct report *rp)
{
	size_t w = strlen("NODE");

	for (size_t i = 0; i < rp->nnodes; i++)
		if (strlen(rp->nodes[i].name) > w)
			w = strlen(rp->nodes[i].name);
	printf("%-*s  LIVE  LEASE             BACKENDS  HEALTHY\n", (int)w, "NODE");
	for (size_t i = 0; i < rp->nnodes; i++) {
		const struct node_row *n = &rp->nodes[i];
		char lease[24] = "-";

		if (n->live)
			(void)snprintf(lease, sizeof(lease), "%" PRIx64, (uint64_t)n->lease);
		printf("%-*s  %-4s  %-16s  %-8zu  %zu\n", (int)w, n->name, n->live ? "yes" : "no",
		       lease, n->backends, n->healthy);
	}
}

static void print_report(struct report *rp, const struct cluster_view *v, const char *endpoint,
                         int64_t revision)
{
	size_t nvips = 0, live = 0;

	printf("etcd %s, prefix %s, revision %" PRId64 "\n\n", endpoint, rp->prefix, revision);
	print_nodes(rp);
	for (size_t first = 0, end; first < rp->nbs; first = end) {
		end = vip_end(rp, first);
		printf("\n");
		print_vip(rp, v, first, end);
		nvips++;
		rp->dark += count_healthy(rp, first, end) == 0;
	}
	for (size_t i = 0; i < rp->nnodes; i++)
		live += rp->nodes[i].live;
	printf("\n%zu nodes (%zu live), %zu VIPs, %zu backends, VIPs with no healthy "
	       "backend: %zu\n",
	       rp->nnodes, live, nvips, rp->nbs, rp->dark);
}

/* ---- JSON */

static json_t *backend_json(const struct cluster_backend *b)
{
	char a[INET6_ADDRSTRLEN];

	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "node", b->node, "address",
	                 lb_addr_format(&b->addr, a, sizeof(a)), "port", (json_int_t)b->port,
	                 "weight", (json_int_t)b->weight, "health", cluster_health_name(b->health),
	                 "app", b->app, "task", b->task);
}

static json_t *vip_json(struct report *rp, const struct cluster_view *v, size_t first, size_t end)
{
	const struct cluster_backend *b0 = rp->bs[first];
	const struct vip_record *rec =
	    b0->vip.named ? vip_records_find(&v->vips, b0->vip.name) : NULL;
	char label[VIP_NAME_MAX + 64], a[INET6_ADDRSTRLEN];
	json_t *bs = json_array(), *o;
	size_t k = count_healthy(rp, first, end);

	for (size_t i = first; i < end; i++)
		json_array_append_new(bs, backend_json(rp->bs[i]));
	vip_label(&b0->vip, label, sizeof(label));
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "vip", label, "protocol",
	              lb_proto_name(b0->protocol), "port", (json_int_t)b0->vip.port, "healthy",
	              (json_int_t)k, "backends_total", (json_int_t)(end - first), "backends", bs);
	if (o == NULL)
		return NULL;
	if (b0->vip.named)
		json_object_set_new(o, "name", json_string(b0->vip.name));
	else
		json_object_set_new(o, "address",
		                    json_string(lb_addr_format(&b0->vip.addr, a, sizeof(a))));
	if (rec && rec->addr.af)
		json_object_set_new(o, "ipv4",
		                    json_string(lb_addr_format(&rec->addr, a, sizeof(a))));
	if (rec && rec->addr6.af)
		json_object_set_new(o, "ipv6",
		                    json_string(lb_addr_format(&rec->addr6, a, sizeof(a))));
	rp->dark += k == 0;
	return o;
}

static json_t *nodes_json(const struct report *rp)
{
	json_t *out = json_array();
	char lease[24];

	for (size_t i = 0; i < rp->nnodes; i++) {
		const struct node_row *n = &rp->nodes[i];

		(void)snprintf(lease, sizeof(lease), "%" PRIx64, (uint64_t)n->lease);
		json_array_append_new(
		    out, json_pack("{s:s, s:b, s:s?, s:I, s:I}", "node", n->name, "live", n->live,
		                   "lease", n->live ? lease : NULL, "backends",
		                   (json_int_t)n->backends, "healthy", (json_int_t)n->healthy));
	}
	return out;
}

static json_t *names_json(const struct cluster_view *v)
{
	json_t *out = json_array();
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < v->vips.n; i++) {
		const struct vip_record *r = &v->vips.items[i];
		json_t *o = json_pack("{s:s}", "name", r->name);

		if (o && r->addr.af)
			json_object_set_new(o, "ipv4",
			                    json_string(lb_addr_format(&r->addr, a, sizeof(a))));
		if (o && r->addr6.af)
			json_object_set_new(o, "ipv6",
			                    json_string(lb_addr_format(&r->addr6, a, sizeof(a))));
		json_array_append_new(out, o);
	}
	return out;
}

static int print_json(struct report *rp, const struct cluster_view *v, const char *endpoint,
                      int64_t revision)
{
	json_t *vips = json_array(), *doc;
	int rc;

	for (size_t first = 0, end; first < rp->nbs; first = end) {
		end = vip_end(rp, first);
		json_array_append_new(vips, vip_json(rp, v, first, end));
	}
	doc =
	    json_pack("{s:i, s:b, s:s, s:s, s:I, s:o, s:o, s:o}", "schema", 1, "ok", rp->dark == 0,
	              "etcd", endpoint, "prefix", rp->prefix, "revision", (json_int_t)revision,
	              "nodes", nodes_json(rp), "vips", vips, "names", names_json(v));
	rc = doc ? cli_api_print_json(doc) : CLI_EXIT_FAIL;
	json_decref(doc);
	return rc;
}

/* ---- the read */

struct cluster_read {
	const struct cluster_opts *o;
	const char *prefix;
};

/* cli_etcd_use_fn */
static int show(void *arg, const char *endpoint, const struct etcd_resp *r)
{
	struct cluster_read *cr = arg;
	struct report rp = {.prefix = cr->prefix};
	struct cluster_view v;
	const struct cluster_remote *rem;
	size_t n;
	int rc = CLI_EXIT_FAIL;

	if (cli_view_init(&v, cr->prefix) < 0)
		return CLI_EXIT_CONFIG;
	(void)cluster_view_snapshot(&v, r);
	rem = cluster_view_remotes(&v, &n);
	rp.bs = calloc(n + 1, sizeof(*rp.bs));
	if (rp.bs == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		rp.bs[rp.nbs++] = &rem[i].b;
	vec_sort(rp.bs, rp.nbs, sizeof(*rp.bs), cmp_backend);
	if (collect_nodes(&rp, r) < 0)
		goto nomem;
	if (cr->o->json) {
		rc = print_json(&rp, &v, endpoint, r->revision);
	} else {
		print_report(&rp, &v, endpoint, r->revision);
		rc = CLI_EXIT_OK;
	}
	if (rc == CLI_EXIT_OK && rp.dark > 0)
		rc = CLI_EXIT_FAIL;
	goto out;
nomem:
	fprintf(stderr, "vipctl: out of memory\n");
out:
	free(rp.nodes);
	free(rp.bs);
	cluster_view_free(&v);
	return rc;
}

static int on_option(int opt, const char *arg, void *ctx)
{
	struct cluster_opts *o = ctx;

	if (opt == 'e')
		o->etcd = arg;
	else
		o->json = true;
	return 0;
}

static const struct option cluster_longopts[] = {
    {"etcd", required_argument, NULL, 'e'},
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

int cmd_cluster(struct cli *cli, int argc, char **argv)
{
	struct cluster_opts o = {0};
	const struct cli_spec spec = {
	    .name = "cluster",
	    .usage = "cluster [-c CONFIG] [--etcd URL,...] [--json]",
	    .shortopts = "",
	    .longopts = cluster_longopts,
	    .on_option = on_option,
	    .ctx = &o,
	};
	char key[CLUSTER_KEY_MAX];
	int first, rc = cli_parse(cli, &spec, argc, argv, &first);

	if (rc >= 0)
		return rc;
	if (first < argc) {
		fprintf(stderr, "vipctl cluster: unexpected operand \"%s\"\nusage: vipctl %s\n",
		        argv[first], spec.usage);
		return CLI_EXIT_USAGE;
	}
	if (cli_load_config(cli) < 0)
		return CLI_EXIT_CONFIG;
	if (cli_etcd_endpoints(&cli->cfg, o.etcd) == NULL) {
		fprintf(stderr, "vipctl cluster: no etcd to read: set \"cluster.endpoints\" in "
		                "vipd's config (-c) or give --etcd URL\n");
		return CLI_EXIT_CONFIG;
	}
	(void)snprintf(key, sizeof(key), "%s", cli->cfg.cluster_prefix);
	return cli_etcd_read(&cli->cfg, o.etcd, key, show,
	                     &(struct cluster_read){&o, cli->cfg.cluster_prefix});
}
