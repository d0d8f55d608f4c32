/*
 * vipctl diff: the running vipd's state read back from /v1/vips (docs/api.md)
 * into the plain values the daemon's own round starts from: the table it
 * last built, the weight policy's state (phases, drain deadlines, slow
 * starts), the named VIPs' records, and each running task's health.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_diff.h"
#include "vipd/api.h"
#include "vipd/errbuf.h"
#include "vipd/sched.h"
#include "vipd/vec.h"

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int diff_feeds_add(struct diff_feeds *f, const char *who, const struct lb_key *svc)
{
	if (VEC_RESERVE(f->items, f->cap, f->n + 1) < 0)
		return -1;
	f->items[f->n++] = (struct diff_feed){.who = who, .svc = *svc};
	return 0;
}

static int feed_cmp(const void *a, const void *b)
{
	const struct diff_feed *x = a, *y = b;
	int c = strcmp(x->who, y->who);

	return c ? c : lb_key_cmp(&x->svc, &y->svc);
}

void diff_feeds_sort(struct diff_feeds *f)
{
	f->n = vec_sort_unique(f->items, f->n, sizeof(*f->items), feed_cmp);
}

static int feed_who_cmp(const void *who, const void *feed)
{
	return strcmp(who, ((const struct diff_feed *)feed)->who);
}

size_t diff_feeds_first(const struct diff_feeds *f, const char *who)
{
	return vec_lower_bound(who, f->items, f->n, sizeof(*f->items), feed_who_cmp);
}

bool diff_feeds_has(const struct diff_feeds *f, const char *who, const struct lb_key *svc)
{
	struct diff_feed key = {.who = who, .svc = *svc};

	return vec_find(&key, f->items, f->n, sizeof(key), feed_cmp) != NULL;
}

void diff_feeds_free(struct diff_feeds *f)
{
	free(f->items);
	memset(f, 0, sizeof(*f));
}

void diff_running_free(struct diff_running *r)
{
	lb_table_free(&r->table);
	desired_state_free(&r->state);
	vip_records_free(&r->records);
	free(r->tasks);
	free(r->apps);
	diff_feeds_free(&r->app_feeds);
	diff_feeds_free(&r->named_feeds);
	memset(r, 0, sizeof(*r));
}

/* "ADDR:PORT" as the API writes it (IPv6 in brackets). */
static int addr_port_parse(const char *text, struct lb_addr *addr, uint16_t *port)
{
	char err[256];

	return text && strchr(text, ':') &&
	               api_listen_parse(text, addr, port, err, sizeof(err)) == 0
	           ? 0
	           : -1;
}

static enum desired_health health_parse(const char *h)
{
	if (h && strcmp(h, "healthy") == 0)
		return DESIRED_HEALTH_HEALTHY;
	if (h && (strcmp(h, "unhealthy") == 0 || strcmp(h, "killable") == 0))
		return DESIRED_HEALTH_UNHEALTHY;
	return DESIRED_HEALTH_UNKNOWN;
}

static int state_push(struct desired_state *st, const struct desired_entry *e)
{
	if (VEC_RESERVE(st->entries, st->cap, st->n + 1) < 0)
		return -1;
	st->entries[st->n++] = *e;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct desired_entry *x = a, *y = b;
	int c = lb_key_cmp(&x->svc, &y->svc);

	if (c == 0)
		c = lb_addr_cmp(&x->addr, &y->addr);
	if (c == 0 && x->port != y->port)
		c = x->port < y->port ? -1 : 1;
	return c;
}

/* Sorted by (service, address, port), each backend once: the order
 * desired_build merges against. */
static void state_sort(struct desired_state *st)
{
	st->n = vec_sort_unique(st->entries, st->n, sizeof(*st->entries), entry_cmp);
}

/* The weight policy's record of one backend, and its destination when it
 * is in the table (in rotation or draining). */
static int read_backend(struct diff_running *r, struct lb_service *s, const json_t *b,
                        int64_t now_ms)
{
	const char *phase = str(b, "phase");
	struct desired_entry e = {.svc = s->key, .ramp_start_ms = -1, .phase = DESIRED_PHASE_OUT};
	const json_t *ramp = json_object_get(b, "slow_start_elapsed_seconds");
	struct lb_dest d = {.fwd = s->fwd};

	if (addr_port_parse(str(b, "address"), &e.addr, &e.port) < 0)
		return 0; /* no usable address: never in the table */
	if (phase && strcmp(phase, "in") == 0) {
		e.phase = DESIRED_PHASE_IN;
		e.weight = (uint32_t)json_integer_value(json_object_get(b, "weight"));
		if (ramp)
			e.ramp_start_ms = now_ms - (int64_t)(json_number_value(ramp) * 1000.0);
		/* In rotation with no health known: adopted from the kernel at
		 * start, the only way a backend is in with unknown health. */
		e.adopted = health_parse(str(b, "health")) == DESIRED_HEALTH_UNKNOWN;
	} else if (phase && strcmp(phase, "draining") == 0) {
		e.phase = DESIRED_PHASE_DRAINING;
		e.drain_deadline_ms =
		    now_ms +
		    (int64_t)(json_number_value(json_object_get(b, "drain_seconds_left")) * 1000.0);
	}
	if (state_push(&r->state, &e) < 0)
		return -1;
	if (e.phase == DESIRED_PHASE_OUT)
		return 0;
	d.addr = e.addr;
	d.port = e.port;
	d.weight = (uint32_t)json_integer_value(json_object_get(b, "weight"));
	return lb_service_add_dest(s, &d);
}

static int read_service_key(const json_t *v, struct lb_key *k)
{
	const char *proto = str(v, "protocol");

	memset(k, 0, sizeof(*k));
	if (addr_port_parse(str(v, "vip"), &k->addr, &k->port) < 0 || !proto)
		return -1;
	if (strcmp(proto, "TCP") == 0)
		k->protocol = IPPROTO_TCP;
	else if (strcmp(proto, "UDP") == 0)
		k->protocol = IPPROTO_UDP;
	else
		return -1;
	return 0;
}

static int read_vip(struct diff_running *r, const json_t *v, int64_t now_ms, char *err,
                    size_t errlen)
{
	struct lb_service *s;
	struct lb_key k;
	const char *sched = str(v, "scheduler"), *fwd = str(v, "forward"), *name = str(v, "name");
	size_t i;
	json_t *b;

	if (read_service_key(v, &k) < 0) {
		errbuf_set(err, errlen, "a VIP without a usable \"vip\" and \"protocol\"");
		return -1;
	}
	s = lb_table_add_service(&r->table, &k);
	if (!s || (name && diff_feeds_add(&r->named_feeds, name, &k) < 0))
		goto nomem;
	if (sched && lb_service_set_sched(s, sched) < 0) {
		errbuf_set(err, errlen, "%s: scheduler \"%s\" too long", str(v, "vip"), sched);
		return -1;
	}
	if (fwd && lb_fwd_parse(fwd, &s->fwd) < 0) {
		errbuf_set(err, errlen, "%s: unknown forward \"%s\"", str(v, "vip"), fwd);
		return -1;
	}
	s->flags = (uint32_t)json_integer_value(json_object_get(v, "flags"));
	json_array_foreach(json_object_get(v, "backends"), i, b)
	{
		const char *app = str(b, "app");

		if (read_backend(r, s, b, now_ms) < 0 ||
		    (app && diff_feeds_add(&r->app_feeds, app, &k) < 0))
			goto nomem;
	}
	return 0;
nomem:
	errbuf_set(err, errlen, "out of memory");
	return -1;
}

int diff_task_cmp(const void *a, const void *b)
{
	const struct diff_task *x = a, *y = b;
	int c = strcmp(x->app, y->app);

	return c ? c : strcmp(x->task, y->task);
}

const struct diff_task *diff_task_find(const struct diff_task *tasks, size_t n, const char *app,
                                       const char *task)
{
	struct diff_task key = {.app = app, .task = task};

	return vec_find(&key, tasks, n, sizeof(key), diff_task_cmp);
}

static int task_app_cmp(const void *app, const void *task)
{
	return strcmp(app, ((const struct diff_task *)task)->app);
}

size_t diff_task_first(const struct diff_task *tasks, size_t n, const char *app)
{
	return vec_lower_bound(app, tasks, n, sizeof(*tasks), task_app_cmp);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int read_apps(struct diff_running *r, const json_t *apps)
{
	size_t i, j, n = 0;
	json_t *a, *t;

	json_array_foreach(apps, i, a) n += json_array_size(json_object_get(a, "tasks"));
	r->apps = calloc(json_array_size(apps) + 1, sizeof(*r->apps));
	r->tasks = calloc(n + 1, sizeof(*r->tasks));
	if (!r->apps || !r->tasks)
		return -1;
	json_array_foreach(apps, i, a)
	{
		const char *id = str(a, "id");

		if (!id)
			continue;
		r->apps[r->napps++] = id;
		json_array_foreach(json_object_get(a, "tasks"), j, t)
		{
			const char *task = str(t, "task"), *fp = str(t, "check_config");

			if (task)
				r->tasks[r->ntasks++] =
				    (struct diff_task){.app = id,
				                       .task = task,
				                       .health = health_parse(str(t, "health")),
				                       .check_config = fp ? fp : ""};
		}
	}
	vec_sort(r->apps, r->napps, sizeof(*r->apps), str_cmp);
	vec_sort(r->tasks, r->ntasks, sizeof(*r->tasks), diff_task_cmp);
	return 0;
}

/* "2026-12-01T15:24:07Z" as seconds since the epoch; 0 when malformed. */
static int64_t iso_parse(const char *text)
{
	struct tm tm = {0};
	const char *rest = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

	return rest ? (int64_t)timegm(&tm) : 0;
}

static int read_assignments(struct diff_running *r, const json_t *arr)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
	{
		struct vip_record rec = {0};
		const char *name = str(o, "name"), *a4 = str(o, "address"),
		           *a6 = str(o, "address6");

		if (!name || strlen(name) >= sizeof(rec.name))
			continue;
		memcpy(rec.name, name, strlen(name) + 1);
		if (a4 && lb_addr_parse(a4, &rec.addr) < 0)
			rec.addr.af = 0;
		if (a6 && lb_addr_parse(a6, &rec.addr6) < 0)
			rec.addr6.af = 0;
		rec.freed_at = iso_parse(str(o, "freed_at"));
		if (vip_records_put(&r->records, &rec) < 0)
			return -1;
	}
	return 0;
}

int diff_running_read(const json_t *doc, int64_t now_ms, struct diff_running *r, char *err,
                      size_t errlen)
{
	const json_t *vips = json_object_get(doc, "vips"), *apps = json_object_get(doc, "apps");
	size_t i;
	json_t *v;

	memset(r, 0, sizeof(*r));
	lb_table_init(&r->table);
	desired_state_init(&r->state);
	if (!json_is_array(vips) || !json_is_array(apps)) {
		/* A vipd older than vipctl: /v1/vips without "apps". */
		errbuf_set(err, errlen,
		           "/v1/vips lacks \"vips\" or \"apps\" (a vipd older than vipctl?)");
		return -1;
	}
	json_array_foreach(vips, i, v) if (read_vip(r, v, now_ms, err, errlen) < 0) goto fail;
	if (read_apps(r, apps) < 0 ||
	    read_assignments(r, json_object_get(doc, "assignments")) < 0 ||
	    lb_table_sort(&r->table) < 0) {
		errbuf_set(err, errlen, "out of memory");
		goto fail;
	}
	state_sort(&r->state);
	diff_feeds_sort(&r->app_feeds);
	diff_feeds_sort(&r->named_feeds);
	return 0;
fail:
	diff_running_free(r);
	return -1;
}

const struct diff_task *diff_running_task(const struct diff_running *r, const char *app,
                                          const char *task)
{
	return diff_task_find(r->tasks, r->ntasks, app, task);
}

bool diff_running_has_app(const struct diff_running *r, const char *app)
{
	return vec_find(&app, r->apps, r->napps, sizeof(app), str_cmp) != NULL;
}

bool diff_running_checks_restart(const struct diff_running *r, const struct app *a,
                                 const struct task *t)
{
	const struct diff_task *dt = diff_running_task(r, a->id, t->id);
	char fp[32];

	if (!dt)
		return true;
	snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)sched_task_fingerprint(a, t));
	return strcmp(fp, dt->check_config) != 0;
}
