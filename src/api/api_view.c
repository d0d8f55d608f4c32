/*
 * The API's view of the engine: every VIP service of the last desired table
 * with the running tasks behind it, and the JSON documents of docs/api.md
 * (/v1/status, /v1/vips) built from it. Pure: the state and time come in.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vipd/api.h"
#include "vipd/fqdn.h"
#include "vipd/sched.h"
#include "vipd/vip.h"
#include "vipd/desired_feed.h"
#include "vipd/vec.h"

void api_vips_free(struct api_vips *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->items[i].backends);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

/* The table's destination for a task on app port `pi`: the task's host or
 * one of its own addresses, on the host port or (container scope) the
 * container port. */
static const struct lb_dest *task_dest(const struct lb_service *s, const struct app *a, size_t pi,
                                       const struct task *t)
{
	uint16_t ports[2] = {(uint16_t)task_port(t, pi), (uint16_t)a->ports[pi].port};
	struct lb_addr addr;
	const struct lb_dest *d;

	for (size_t p = 0; s && p < 2; p++) {
		if (ports[p] == 0)
			continue;
		if (t->host && lb_addr_parse(t->host, &addr) == 0 &&
		    (d = lb_service_find_dest(s, &addr, ports[p])))
			return d;
		for (size_t i = 0; i < t->nip_addresses; i++)
			if (lb_addr_parse(t->ip_addresses[i], &addr) == 0 &&
			    (d = lb_service_find_dest(s, &addr, ports[p])))
				return d;
	}
	return NULL;
}

static int entry_cmp(const void *key, const void *elem)
{
	const struct desired_entry *k = key, *e = elem;
	int c = lb_key_cmp(&k->svc, &e->svc);

	if (c == 0)
		c = lb_addr_cmp(&k->addr, &e->addr);
	if (c == 0 && k->port != e->port)
		c = k->port < e->port ? -1 : 1;
	return c;
}

/* The weight policy's record of a backend (entries sorted by service,
 * address, port); NULL when it has none (never in rotation, or drained). */
static const struct desired_entry *state_entry(const struct api_state *st, const struct lb_key *svc,
                                               const struct lb_addr *addr, uint16_t port)
{
	struct desired_entry key = {.svc = *svc, .addr = *addr, .port = port};

	if (!st->dstate)
		return NULL;
	return vec_find(&key, st->dstate->entries, st->dstate->n, sizeof(key), entry_cmp);
}

static void backend_fill(struct api_backend *b, const struct api_state *st,
                         const struct lb_service *s, const struct app *a, size_t pi,
                         const struct task *t)
{
	const struct lb_dest *d = task_dest(s, a, pi, t);

	memset(b, 0, sizeof(*b));
	b->app = a;
	b->task = t;
	b->health = a->nchecks ? sched_task_health(st->sched, a->id, t->id) : HEALTH_HEALTHY;
	b->phase = DESIRED_PHASE_OUT;
	b->ramp_start_ms = -1;
	if (d) {
		const struct desired_entry *en = state_entry(st, &s->key, &d->addr, d->port);

		b->addr = d->addr;
		b->port = d->port;
		b->weight = d->weight;
		b->in_table = true;
		b->phase = en ? en->phase : DESIRED_PHASE_IN;
		b->drain_deadline_ms = en ? en->drain_deadline_ms : 0;
		b->ramp_start_ms = en ? en->ramp_start_ms : -1;
		return;
	}
	if (!t->host || lb_addr_parse(t->host, &b->addr) < 0)
		b->addr.af = 0;
	b->port = (uint16_t)task_port(t, pi);
}

/* Adds the running tasks of the app of `use` to vip; -1 when out of memory. */
static int vip_add_use(struct api_vip *vip, const struct api_state *st, const struct lb_service *s,
                       const struct vip_use *use)
{
	const struct app *a = &st->apps->apps[use->app];
	struct api_backend *grown;

	grown = realloc(vip->backends, (vip->nbackends + a->ntasks + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	vip->backends = grown;
	for (size_t i = 0; i < a->ntasks; i++) {
		if (a->tasks[i].state != TASK_STATE_RUNNING)
			continue;
		backend_fill(&vip->backends[vip->nbackends++], st, s, a, use->port, &a->tasks[i]);
	}
	if (use->ref.named && !vip->name)
		vip->name = use->ref.name;
	return 0;
}

int api_vips_build(const struct api_state *st, struct api_vips *out)
{
	const struct desired_index *ix = st->index;

	memset(out, 0, sizeof(*out));
	if (!*st->index_valid || (st->index_stale && *st->index_stale))
		return 1;
	if (ix->nfeeds == 0)
		return 0;
	out->items = calloc(ix->nfeeds, sizeof(*out->items));
	if (!out->items)
		return -1;
	for (size_t f = 0, first = 0; f < ix->nfeeds; f++) {
		const struct desired_feed *feed = &ix->feeds[f];
		struct api_vip *vip;

		if (out->n == 0 || lb_key_cmp(&out->items[out->n - 1].svc, &feed->svc) != 0) {
			out->items[out->n++].svc = feed->svc;
			first = f;
		}
		vip = &out->items[out->n - 1];
		if (desired_feed_port_seen(ix, first, f))
			continue;
		if (vip_add_use(vip, st, lb_table_find(st->table, &feed->svc),
		                &ix->uses.items[feed->use]) < 0) {
			api_vips_free(out);
			return -1;
		}
	}
	return 0;
}

static json_t *status_checks(const struct sched_stats *ss)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f}", "tasks",
	                 (json_int_t)ss->tasks, "instances", (json_int_t)ss->instances, "in_flight",
	                 (json_int_t)ss->in_flight, "waiting", (json_int_t)ss->waiting, "completed",
	                 (json_int_t)ss->completed, "waited", (json_int_t)ss->waited,
	                 "overload_skips", (json_int_t)ss->overload_skips, "overruns",
	                 (json_int_t)ss->overruns, "wait_max_seconds", ss->wait_max_s,
	                 "timer_lateness_p99_ms", ss->lateness_p99_ms, "timer_lateness_max_ms",
	                 ss->lateness_max_ms);
}

static json_t *status_apps(const struct api_state *st)
{
	size_t tasks = 0;

	for (size_t i = 0; i < st->apps->napps; i++)
		tasks += st->apps->apps[i].ntasks;
	return json_pack("{s:s, s:I, s:I, s:I, s:I}", "path", st->cfg->apps_path, "apps",
	                 (json_int_t)st->apps->napps, "tasks", (json_int_t)tasks, "files_read",
	                 (json_int_t)st->apps->files_read, "errors",
	                 (json_int_t)diag_count(&st->apps->diags, DIAG_ERROR));
}

/* "2026-12-01T15:24:07Z"; "" when it cannot be formatted. */
static const char *iso_time(double wall, char *buf, size_t len)
{
	time_t t = (time_t)wall;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		buf[0] = '\0';
	return buf;
}

static json_t *status_loads(const struct api_counters *c)
{
	char at[32];

	if (c->loads == 0)
		return json_pack("{s:I}", "count", (json_int_t)0);
	return json_pack("{s:I, s:s, s:I, s:I, s:I}", "count", (json_int_t)c->loads, "last",
	                 iso_time(c->last_load_wall, at, sizeof(at)), "apps",
	                 (json_int_t)c->last_load_apps, "kept_last_good",
	                 (json_int_t)c->last_load_kept, "errors", (json_int_t)c->last_load_errors);
}

static json_t *status_lb(const struct api_state *st, const struct api_counters *c)
{
	json_t *lb = json_pack("{s:b, s:I, s:I, s:I, s:I}", "ipvs", st->ipvs, "services",
	                       (json_int_t)st->table->nsvcs, "rounds", (json_int_t)*st->rounds,
	                       "ops_applied", (json_int_t)*st->ops_applied, "ops_failed",
	                       (json_int_t)*st->ops_failed);
	char at[32];

	if (lb && c->last_error_wall > 0)
		json_object_set_new(lb, "last_error",
		                    json_pack("{s:s, s:s, s:s}", "at",
		                              iso_time(c->last_error_wall, at, sizeof(at)), "op",
		                              c->last_error_op, "error", c->last_error_msg));
	return lb;
}

json_t *api_status_json(const struct api_state *st, const struct api_counters *c, double now_mono)
{
	struct sched_stats ss = {0};
	char started[32];

	sched_get_stats(st->sched, &ss);
	return json_pack("{s:i, s:s, s:s, s:f, s:o, s:o, s:o, s:o}", "schema", API_SCHEMA_VERSION,
	                 "version", VIPD_VERSION, "started",
	                 iso_time(st->started_wall, started, sizeof(started)), "uptime_seconds",
	                 now_mono - st->started_at, "apps", status_apps(st), "loads",
	                 status_loads(c), "checks", status_checks(&ss), "lb", status_lb(st, c));
}

static json_t *vip_fqdns(const struct api_state *st, const char *name)
{
	json_t *arr = json_array();
	char fqdn[FQDN_NAME_MAX + 1], err[256];

	for (size_t z = 0; arr && name && z < st->cfg->dns_nzones; z++)
		if (fqdn_build(name, st->cfg->dns_framework, st->cfg->dns_zones[z], fqdn,
		               sizeof(fqdn), err, sizeof(err)) == 0)
			json_array_append_new(arr, json_string(fqdn));
	return arr;
}

static const char *phase_name(enum desired_phase p)
{
	switch (p) {
	case DESIRED_PHASE_IN:
		return "in";
	case DESIRED_PHASE_DRAINING:
		return "draining";
	case DESIRED_PHASE_OUT:
		return "out";
	}
	return "out";
}

/* The kernel's counters as docs/api.md names them ("kernel"). */
static json_t *stats_json(const struct ipvs_stats *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "connections", (json_int_t)s->conns,
	                 "packets_in", (json_int_t)s->inpkts, "packets_out", (json_int_t)s->outpkts,
	                 "bytes_in", (json_int_t)s->inbytes, "bytes_out", (json_int_t)s->outbytes);
}

static json_t *dest_kernel_json(const struct api_kstats_svc *ks, const struct api_kstats_dest *d)
{
	json_t *o = stats_json(&d->stats);

	if (o) {
		json_object_set_new(o, "active_connections", json_integer(d->active));
		json_object_set_new(o, "inactive_connections", json_integer(d->inactive));
	}
	if (o && ks->syn_known)
		json_object_set_new(o, "syn_recv_connections", json_integer(d->syn_recv));
	return o;
}

static json_t *backend_json(const struct api_state *st, const struct api_kstats_svc *ks,
                            const struct api_backend *b, int64_t now_ms)
{
	const struct api_kstats_dest *kd =
	    b->in_table ? api_kstats_dest(ks, &b->addr, b->port) : NULL;

	char addr[INET6_ADDRSTRLEN + 8];
	json_t *o;

	if (b->addr.af)
		lb_addr_port_format(&b->addr, b->port, addr, sizeof(addr));
	else
		addr[0] = '\0';
	o = json_pack("{s:s, s:s, s:s*, s:s, s:I, s:b, s:s}", "app", b->app->id, "task",
	              b->task->id, "address", b->addr.af ? addr : NULL, "health",
	              health_state_name(b->health), "weight", (json_int_t)b->weight, "in_rotation",
	              b->in_table && b->weight > 0, "phase", phase_name(b->phase));
	if (o && b->phase == DESIRED_PHASE_DRAINING) {
		int64_t left = b->drain_deadline_ms > now_ms ? b->drain_deadline_ms - now_ms : 0;

		json_object_set_new(o, "drain_seconds_left", json_real((double)left / 1000.0));
	}
	if (o && b->phase == DESIRED_PHASE_IN && b->ramp_start_ms >= 0)
		json_object_set_new(o, "slow_start_elapsed_seconds",
		                    json_real((double)(now_ms - b->ramp_start_ms) / 1000.0));
	if (o && st->record)
		json_object_set_new(o, "checks", api_task_checks_json(st, b->app, b->task));
	if (o && kd)
		json_object_set_new(o, "kernel", dest_kernel_json(ks, kd));
	return o;
}

/* The service's IPVS attributes in the table: what a reload could edit. */
static void vip_service_attrs(json_t *o, const struct lb_service *s)
{
	if (!s)
		return;
	json_object_set_new(o, "scheduler", json_string(s->sched));
	json_object_set_new(o, "forward", json_string(lb_fwd_name(s->fwd)));
	json_object_set_new(o, "flags", json_integer(s->flags));
}

static json_t *vip_json(const struct api_state *st, const struct api_vip *v, int64_t now_ms)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const struct api_kstats_svc *ks = api_kstats_service(st->kstats, &v->svc);
	json_t *backends = json_array(), *o;

	for (size_t i = 0; backends && i < v->nbackends; i++)
		json_array_append_new(backends, backend_json(st, ks, &v->backends[i], now_ms));
	lb_addr_port_format(&v->svc.addr, v->svc.port, addr, sizeof(addr));
	o = json_pack("{s:s, s:s, s:s*, s:o, s:o}", "vip", addr, "protocol",
	              lb_proto_name(v->svc.protocol), "name", v->name, "fqdns",
	              vip_fqdns(st, v->name), "backends", backends);
	if (o && ks)
		json_object_set_new(o, "kernel", stats_json(&ks->stats));
	if (o)
		vip_service_attrs(o, lb_table_find(st->table, &v->svc));
	return o;
}

/* Every app with its running tasks' health, and what vipd compares on a
 * reload to keep a task's health (vipctl diff tells from it which tasks'
 * checks would start over). */
static json_t *apps_json(const struct api_state *st)
{
	json_t *arr = json_array();
	char fp[32];

	for (size_t i = 0; arr && i < st->apps->napps; i++) {
		const struct app *a = &st->apps->apps[i];
		json_t *tasks = json_array();

		for (size_t t = 0; tasks && t < a->ntasks; t++) {
			const struct task *tk = &a->tasks[t];
			enum health_state h = a->nchecks
			                          ? sched_task_health(st->sched, a->id, tk->id)
			                          : HEALTH_HEALTHY;

			if (tk->state != TASK_STATE_RUNNING)
				continue;
			snprintf(fp, sizeof(fp), "%016llx",
			         (unsigned long long)sched_task_fingerprint(a, tk));
			json_array_append_new(tasks,
			                      json_pack("{s:s, s:s, s:s}", "task", tk->id, "health",
			                                health_state_name(h), "check_config", fp));
		}
		json_array_append_new(arr, json_pack("{s:s, s:o*}", "id", a->id, "tasks", tasks));
	}
	return arr;
}

/* The named VIPs' recorded addresses, the freed ones with their time. */
static json_t *assignments_json(const struct vip_records *r)
{
	json_t *arr = json_array();
	char a4[INET6_ADDRSTRLEN], a6[INET6_ADDRSTRLEN], at[32];

	for (size_t i = 0; arr && r && i < r->n; i++) {
		const struct vip_record *rec = &r->items[i];
		json_t *o = json_pack(
		    "{s:s, s:s*, s:s*}", "name", rec->name, "address",
		    rec->addr.af ? lb_addr_format(&rec->addr, a4, sizeof(a4)) : NULL, "address6",
		    rec->addr6.af ? lb_addr_format(&rec->addr6, a6, sizeof(a6)) : NULL);

		if (o && rec->freed_at > 0)
			json_object_set_new(
			    o, "freed_at",
			    json_string(iso_time((double)rec->freed_at, at, sizeof(at))));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *api_vips_json(const struct api_state *st, const struct api_vips *v, int64_t now_ms)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < v->n; i++)
		json_array_append_new(arr, vip_json(st, &v->items[i], now_ms));
	return json_pack("{s:i, s:o, s:o, s:o}", "schema", API_SCHEMA_VERSION, "vips", arr, "apps",
	                 apps_json(st), "assignments", assignments_json(st->vip_records));
}
