/*
 * The daemon's side of the cluster (issue 9): which tasks are this node's,
 * its backends handed to the cluster node for publishing, and every node's
 * backends merged (cluster_mset: only the VIPs that changed) into the
 * desired table's remote input, with the failure rule that decided each VIP
 * in the audit log.
 */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "vipd/cluster_local.h"
#include "vipd/cluster_mset.h"
#include "vipd/cluster_node.h"
#include "vipd/cluster_rset.h"
#include "vipd/log.h"

struct engine_cluster {
	struct cluster_node *node;
	char name[CLUSTER_NODE_MAX];
	char **hosts; /* the tasks' host names and addresses that are this node */
	size_t nhosts;
	char *endpoints;               /* split in place: etcd_config points into it */
	struct cluster_backend *local; /* this round's (engine_cluster_update), to publish */
	size_t nlocal;
	struct cluster_mset merged;    /* every VIP's backends, kept between rounds */
	struct cluster_rset rset;      /* the other nodes' part of it: the desired input */
	size_t rset_synced;            /* merged.changed[0, this) are in rset */
	struct desired_remote *remote; /* the kept ones not this node's, until etcd is read */
	size_t nremote;
	struct desired_remote *kept; /* the kernel's at start, until etcd is read */
	size_t nkept;
	uint64_t vips_taken; /* cluster_node_vips_changes when last copied */
	bool vips_copied;
	bool remote_stale;    /* remote_sync ran out of memory: all again next round */
	bool remote_replaced; /* the remote input changed in ways merged's changes miss */
	bool leaving;
};

bool engine_task_local(void *ctx, const struct task *t)
{
	const struct engine *e = ctx;

	if (e->cluster == NULL)
		return true;
	for (size_t i = 0; t->host && i < e->cluster->nhosts; i++)
		if (strcmp(t->host, e->cluster->hosts[i]) == 0)
			return true;
	return false;
}

static int hosts_add(struct engine_cluster *c, const char *h)
{
	char **grown, *copy;

	for (size_t i = 0; i < c->nhosts; i++)
		if (strcmp(c->hosts[i], h) == 0)
			return 0;
	grown = realloc(c->hosts, (c->nhosts + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	c->hosts = grown;
	copy = strdup(h);
	if (copy == NULL)
		return -1;
	c->hosts[c->nhosts++] = copy;
	return 0;
}

/* Default: the node's name and every address of the host. */
static int hosts_default(struct engine_cluster *c)
{
	struct ifaddrs *ifa, *i;
	char text[INET6_ADDRSTRLEN];
	int rc = hosts_add(c, c->name);

	if (rc < 0 || getifaddrs(&ifa) < 0)
		return rc;
	for (i = ifa; i && rc == 0; i = i->ifa_next) {
		struct lb_addr a = {0};

		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		a.af = i->ifa_addr->sa_family;
		if (a.af == AF_INET)
			memcpy(&a.u.v4, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
		else
			memcpy(&a.u.v6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr,
			       16);
		rc = hosts_add(c, lb_addr_format(&a, text, sizeof(text)));
	}
	freeifaddrs(ifa);
	return rc;
}

static int hosts_from_list(struct engine_cluster *c, const char *list)
{
	char *copy = strdup(list), *save = NULL, *h;
	int rc = copy ? 0 : -1;

	for (h = copy ? strtok_r(copy, ", ", &save) : NULL; h && rc == 0;
	     h = strtok_r(NULL, ", ", &save))
		rc = hosts_add(c, h);
	free(copy);
	return rc;
}

static int settings_make(struct engine *e, struct engine_cluster *c,
                         struct cluster_node_settings *s, char *err, size_t errlen)
{
	const struct vipd_config *cfg = &e->cfg;
	char *save = NULL, *url;

	*s = (struct cluster_node_settings){
	    .node = c->name,
	    .prefix = cfg->cluster_prefix,
	    .lease_ttl = cfg->cluster_lease_ttl,
	    .etcd = {.cacert = cfg->cluster_cacert,
	             .cert = cfg->cluster_cert,
	             .key = cfg->cluster_key,
	             .user = cfg->cluster_user,
	             .password = cfg->cluster_password,
	             .timeout = 2.0},
	};
	c->endpoints = strdup(cfg->cluster_endpoints);
	if (c->endpoints == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	for (url = strtok_r(c->endpoints, ", ", &save); url; url = strtok_r(NULL, ", ", &save)) {
		if (s->etcd.n_endpoints == ETCD_ENDPOINTS_MAX) {
			errbuf_set(err, errlen, "cluster.endpoints: more than %d",
			           ETCD_ENDPOINTS_MAX);
			return -1;
		}
		s->etcd.endpoints[s->etcd.n_endpoints++] = url;
	}
	if (s->etcd.n_endpoints == 0) {
		errbuf_set(err, errlen, "cluster.endpoints: expected at least one etcd URL");
		return -1;
	}
	return 0;
}

/* cluster_node_ops */
/* Nothing to note per app: the round's merge says which VIPs' backends
 * changed (cluster_mset), and the patch round rebuilds their services,
 * whichever app, on this node or another, they come from. */
static void on_remote_app_changed(void *arg, const char *app_id)
{
	(void)arg;
	(void)app_id;
}

static void on_remote_changed(void *arg)
{
	struct engine *e = arg;

	e->cluster_changed = true;
	engine_round_soon(e);
}

/* A name's recorded address is the build's input: the whole table. */
static void on_vips_changed(void *arg)
{
	struct engine *e = arg;

	e->rebuild_all = true;
	engine_round_soon(e);
}

static void on_cluster_audit(void *arg, const char *event, json_t *fields)
{
	struct engine *e = arg;

	audit_emit(e->audit, event, fields);
}

static void on_cluster_warn(void *arg, const char *msg)
{
	(void)arg;
	log_warnx("%s", msg);
}

static const struct cluster_node_ops node_ops = {
    .changed = on_remote_changed,
    .vips_changed = on_vips_changed,
    .app_changed = on_remote_app_changed,
    .audit = on_cluster_audit,
    .warn = on_cluster_warn,
};

static int name_make(struct engine *e, struct engine_cluster *c, char *err, size_t errlen)
{
	if (e->cfg.cluster_node)
		(void)snprintf(c->name, sizeof(c->name), "%s", e->cfg.cluster_node);
	else if (gethostname(c->name, sizeof(c->name)) < 0)
		c->name[0] = '\0';
	c->name[sizeof(c->name) - 1] = '\0';
	if (!cluster_node_valid(c->name)) {
		errbuf_set(err, errlen,
		           "cluster.node \"%.80s\": expected 1-63 of [A-Za-z0-9._-] (default: the "
		           "host name)",
		           c->name);
		return -1;
	}
	return 0;
}

/* Fail static across a restart: the dests in rotation that the kernel held
 * at start (adopted) are the last run's table, the other nodes' backends
 * among them. Until etcd has been read once they stay as they are, instead
 * of draining for lack of a view (for as long as etcd stays away). */
static int kept_take(struct engine *e, struct engine_cluster *c)
{
	const struct desired_state *st = &e->dstate;

	c->kept = calloc(st->n + 1, sizeof(*c->kept));
	if (c->kept == NULL)
		return -1;
	for (size_t i = 0; i < st->n; i++) {
		const struct desired_entry *d = &st->entries[i];

		if (!d->adopted || d->phase != DESIRED_PHASE_IN || d->weight == 0)
			continue;
		c->kept[c->nkept++] =
		    (struct desired_remote){.protocol = d->svc.protocol,
		                            .vip = {.addr = d->svc.addr, .port = d->svc.port},
		                            .addr = d->addr,
		                            .port = d->port,
		                            .weight = d->weight};
	}
	return 0;
}

/* The kept dests that are no local backend's (those are the local tasks',
 * which adoption already keeps until their health is known). */
static bool remotes_equal(const struct desired_remote *a, size_t na, const struct desired_remote *b,
                          size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].protocol != b[i].protocol || a[i].port != b[i].port ||
		    a[i].weight != b[i].weight || a[i].vip.named != b[i].vip.named ||
		    a[i].vip.port != b[i].vip.port || lb_addr_cmp(&a[i].addr, &b[i].addr) != 0 ||
		    lb_addr_cmp(&a[i].vip.addr, &b[i].vip.addr) != 0)
			return false;
	return true;
}

static int remote_kept(struct engine_cluster *c, const struct cluster_backend *local, size_t nlocal)
{
	struct desired_remote *now = calloc(c->nkept + 1, sizeof(*now));
	size_t n = 0;

	if (now == NULL)
		return -1;
	for (size_t i = 0; i < c->nkept; i++) {
		const struct desired_remote *k = &c->kept[i];
		bool is_local = false;

		for (size_t j = 0; j < nlocal && !is_local; j++)
			is_local =
			    local[j].port == k->port && lb_addr_cmp(&local[j].addr, &k->addr) == 0;
		if (!is_local)
			now[n++] = *k;
	}
	/* kept entries are by address (adopted from the kernel): never named */
	if (c->remote == NULL || !remotes_equal(c->remote, c->nremote, now, n))
		c->remote_replaced = true;
	free(c->remote);
	c->remote = now;
	c->nremote = n;
	return 0;
}

int engine_cluster_open(struct engine *e, char *err, size_t errlen)
{
	struct cluster_node_settings s;
	struct engine_cluster *c;

	if (e->cfg.cluster_endpoints == NULL)
		return 0;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	e->cluster = c;
	if (name_make(e, c, err, errlen) < 0 || settings_make(e, c, &s, err, errlen) < 0)
		return -1;
	if ((e->cfg.cluster_hosts ? hosts_from_list(c, e->cfg.cluster_hosts) : hosts_default(c)) <
	        0 ||
	    kept_take(e, c) < 0) {
		errbuf_set(err, errlen, "out of memory listing the node's hosts");
		return -1;
	}
	c->node = cluster_node_new(e->loop, &s, &node_ops, e, err, errlen);
	if (c->node == NULL)
		return -1;
	log_info("cluster: node %s, %zu host names, etcd %s, prefix %s", c->name, c->nhosts,
	         e->cfg.cluster_endpoints, e->cfg.cluster_prefix);
	return 0;
}

void engine_cluster_close(struct engine *e)
{
	struct engine_cluster *c = e->cluster;

	if (c == NULL)
		return;
	cluster_node_free(c->node);
	for (size_t i = 0; i < c->nhosts; i++)
		free(c->hosts[i]);
	free(c->hosts);
	free(c->endpoints);
	free(c->remote);
	free(c->kept);
	free(c->local);
	cluster_mset_free(&c->merged);
	cluster_rset_free(&c->rset);
	free(c);
	e->cluster = NULL;
}

static enum cluster_health health_of(enum desired_health h)
{
	switch (h) {
	case DESIRED_HEALTH_HEALTHY:
		return CLUSTER_HEALTH_HEALTHY;
	case DESIRED_HEALTH_UNHEALTHY:
		return CLUSTER_HEALTH_UNHEALTHY;
	case DESIRED_HEALTH_UNKNOWN:
		break;
	}
	return CLUSTER_HEALTH_UNKNOWN;
}

/* This node's backends as the cluster's records say them. */
static struct cluster_backend *local_backends(struct engine *e, size_t *n)
{
	struct desired_input in = engine_desired_input(e);
	struct desired_local_backend *l;
	struct cluster_backend *out;

	in.remote = NULL;
	in.nremote = 0;
	if (desired_local_backends(&in, &l, n) < 0)
		return NULL;
	out = calloc(*n + 1, sizeof(*out));
	for (size_t i = 0; out && i < *n; i++) {
		struct cluster_backend *b = &out[i];

		(void)snprintf(b->node, sizeof(b->node), "%s", e->cluster->name);
		b->vip = l[i].vip;
		b->protocol = l[i].protocol;
		b->addr = l[i].addr;
		b->port = l[i].port;
		b->weight = l[i].weight;
		b->health = health_of(l[i].health);
		(void)snprintf(b->app, sizeof(b->app), "%s", l[i].app_id);
		(void)snprintf(b->task, sizeof(b->task), "%s", l[i].task_id);
	}
	free(l);
	return out;
}

/* cluster_mset_rule_fn: a VIP's failure rule changed (back to `live`
 * included). */
static void audit_rule(void *arg, const struct cluster_service *svc, enum cluster_rule rule,
                       size_t expired)
{
	struct engine *e = arg;
	char vip[VIP_NAME_MAX + 64];

	if (svc->vip.named)
		(void)snprintf(vip, sizeof(vip), "%s:%u", svc->vip.name, svc->vip.port);
	else
		lb_addr_port_format(&svc->vip.addr, svc->vip.port, vip, sizeof(vip));
	audit_emit(e->audit, "cluster_rule",
	           json_pack("{s:s, s:s, s:s, s:I}", "vip", vip, "protocol",
	                     svc->protocol == IPPROTO_UDP ? "udp" : "tcp", "rule",
	                     cluster_rule_name(rule), "expired", (json_int_t)expired));
}

/* The desired input follows the merged set: the VIPs it changed since the
 * last sync, or every VIP after a whole merge. */
static int remote_sync(struct engine_cluster *c)
{
	const struct cluster_mset *m = &c->merged;
	int rc;

	if (c->remote_stale || m->changed_all)
		rc = cluster_rset_rebuild(&c->rset, m);
	else if (m->nchanged > c->rset_synced)
		rc = cluster_rset_update(&c->rset, m, m->changed + c->rset_synced,
		                         m->nchanged - c->rset_synced);
	else
		rc = 0; /* m->changed may be NULL: no offset into it */
	c->rset_synced = m->nchanged;
	return rc;
}

/* cluster_mset_source: the view's records of the VIPs merged again */
static const struct cluster_remote *node_remotes(void *arg, const struct cluster_service *only,
                                                 size_t nonly, size_t *n)
{
	return cluster_node_remotes_of(arg, only, nonly, n);
}

/* Backends whose health is not known yet are not published: the others
 * would leave them out anyway, and a node just restarted would otherwise
 * overwrite its healthy records with unknown ones until its checks report.
 * Each with the weight this node's build gave it (a slow-start step), so
 * that the others program what this node does. */
void engine_cluster_publish(struct engine *e)
{
	struct engine_cluster *c = e->cluster;
	struct cluster_backend *known;
	size_t n = 0;
	char err[512];

	if (c == NULL || c->leaving || c->local == NULL)
		return;
	known = calloc(c->nlocal + 1, sizeof(*known));
	if (known == NULL) {
		log_warnx("cluster: out of memory publishing");
		return;
	}
	for (size_t i = 0; i < c->nlocal; i++) {
		if (c->local[i].health == CLUSTER_HEALTH_UNKNOWN)
			continue;
		known[n] = c->local[i];
		known[n++].weight =
		    cluster_local_weight(&c->local[i], &e->dstate, &e->dindex.alloc);
	}
	if (cluster_node_publish(c->node, known, n, n == c->nlocal, err, sizeof(err)) < 0)
		log_warnx("cluster: not published: %s", err);
	free(known);
}

/* The build allocates with etcd's records (vips/<name>), copied so that the
 * engine's stay valid whatever the node's view does meanwhile. Until etcd
 * has been read once (a restart with etcd away) the copy saved in the
 * state file stands in for them: fail static for the addresses too. */
static void vips_take(struct engine *e)
{
	struct engine_cluster *c = e->cluster;
	const struct vip_records *from = cluster_node_vips(c->node);
	uint64_t changes = cluster_node_vips_changes(c->node);
	struct vip_records copy = {0};

	/* 1,000 records copied and sorted every round cost 10 % of a round
	 * at 100,000 backends (bench/README.md): only when they moved. */
	if (from == NULL || (c->vips_copied && changes == c->vips_taken))
		return;
	c->vips_copied = true;
	c->vips_taken = changes;
	for (size_t i = 0; i < from->n; i++) {
		if (vip_records_put(&copy, &from->items[i]) < 0) {
			log_warnx("cluster: out of memory copying the named VIPs' addresses");
			vip_records_free(&copy);
			return;
		}
	}
	if (vip_records_equal(&copy, &e->vip_records)) {
		vip_records_free(&copy);
		return;
	}
	vip_records_free(&e->vip_records);
	e->vip_records = copy;
	engine_vips_save(e);
}

static bool record_differs(const struct vip_record *old, const struct vip_record *now)
{
	return lb_addr_cmp(&old->addr, &now->addr) != 0 ||
	       lb_addr_cmp(&old->addr6, &now->addr6) != 0;
}

void engine_cluster_claim_vips(struct engine *e, const struct vip_alloc *va)
{
	char err[512];

	/* before etcd's records are known, a proposal would only lose */
	if (e->cluster == NULL || e->cluster->leaving ||
	    cluster_node_vips(e->cluster->node) == NULL)
		return;
	for (size_t i = 0; i < va->n; i++) {
		const struct vip_alloc_entry *a = &va->items[i];
		struct vip_record rec = {.addr = a->addr, .addr6 = a->addr6};
		const struct vip_record *old = vip_records_find(&e->vip_records, a->name);
		int rc = 0;

		if (strlen(a->name) >= sizeof(rec.name))
			continue;
		(void)snprintf(rec.name, sizeof(rec.name), "%s", a->name);
		if (old == NULL)
			rc = cluster_node_claim_vip(e->cluster->node, &rec, err, sizeof(err));
		else if (record_differs(old, &rec))
			rc = cluster_node_rerecord_vip(e->cluster->node, &rec, err, sizeof(err));
		if (rc < 0)
			log_warnx("cluster: named VIP %s not recorded: %s", a->name, err);
	}
}

void engine_cluster_update(struct engine *e)
{
	struct engine_cluster *c = e->cluster;
	const struct cluster_service *dirty;
	struct cluster_backend *local;
	size_t nlocal = 0, ndirty = 0;
	bool all;
	char err[512];
	int rc;

	if (c == NULL || c->leaving)
		return;
	local = local_backends(e, &nlocal);
	if (local == NULL) {
		log_warnx("cluster: out of memory listing the local backends");
		return;
	}
	free(c->local);
	c->local = local;
	c->nlocal = nlocal;
	vips_take(e);
	if (cluster_node_vips(c->node) == NULL) {
		if (remote_kept(c, local, nlocal) < 0) {
			c->remote_replaced = true;
			log_warnx("cluster: out of memory keeping the kernel's backends");
		}
		return;
	}
	if (c->kept != NULL) {
		/* etcd read: its view replaces the kernel's kept backends. */
		free(c->kept);
		c->kept = NULL;
		c->nkept = 0;
		free(c->remote);
		c->remote = NULL;
		c->nremote = 0;
		c->remote_stale = true;
		c->remote_replaced = true;
	}
	dirty = cluster_node_dirty(c->node, &ndirty, &all);
	rc = cluster_mset_update_from(&c->merged, c->name, local, nlocal,
	                              &(struct cluster_mset_source){node_remotes, c->node}, dirty,
	                              ndirty, all, audit_rule, e, err, sizeof(err));
	if (rc < 0) {
		/* the changed VIPs stay noted: merged next round */
		log_warnx("%s; the other nodes' backends stay as they were", err);
		return;
	}
	cluster_node_dirty_clear(c->node);
	if (rc == 0 && !c->remote_stale)
		return;
	c->remote_stale = remote_sync(c) < 0;
	if (c->remote_stale) {
		c->remote_replaced = true;
		log_warnx("cluster: out of memory taking the other nodes' backends");
	}
}

int engine_cluster_changes(const struct engine *e, struct desired_vip **vips, size_t *n, char *err,
                           size_t errlen)
{
	const struct engine_cluster *c = e->cluster;
	const struct cluster_mset *m;

	*vips = NULL;
	*n = 0;
	if (c == NULL)
		return 0;
	m = &c->merged;
	if (c->remote_replaced || m->changed_all) {
		errbuf_set(err, errlen, "the other nodes' backends were read again");
		return -1;
	}
	*vips = calloc(m->nchanged + 1, sizeof(**vips));
	if (*vips == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < m->nchanged; i++)
		(*vips)[i] = (struct desired_vip){m->changed[i].protocol, m->changed[i].vip};
	*n = m->nchanged;
	return 0;
}

void engine_cluster_changes_clear(struct engine *e)
{
	e->cluster_changed = false;
	if (e->cluster == NULL)
		return;
	e->cluster->remote_replaced = false;
	cluster_mset_changes_clear(&e->cluster->merged);
	e->cluster->rset_synced = 0;
}

void engine_cluster_remote(const struct engine *e, struct desired_input *in)
{
	const struct engine_cluster *c = e->cluster;

	in->remote = c ? c->remote : NULL;
	in->nremote = c ? c->nremote : 0;
	in->remote_vips = c ? c->rset.vips : NULL;
	in->nremote_vips = c ? c->rset.n : 0;
}

static void on_left(void *arg)
{
	struct engine *e = arg;

	ev_break(e->loop, EVBREAK_ALL);
}

bool engine_cluster_leave(struct engine *e)
{
	if (e->cluster == NULL)
		return false;
	if (!e->cluster->leaving) {
		e->cluster->leaving = true;
		log_info("cluster: revoking this node's lease");
		cluster_node_leave(e->cluster->node, 2.0, on_left, e);
	}
	return true;
}
