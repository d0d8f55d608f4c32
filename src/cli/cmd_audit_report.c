/*
 * vipctl audit --report: per backend (app, task, VIP) the time in rotation
 * (the task healthy), draining (not healthy, its destination still in the
 * table at weight 0) and out of rotation (not healthy otherwise) over the
 * window, its transitions and its longest outage with the check output that
 * began it; per app the same summed. Computed from the log alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_cli.h"
#include "vipd/vec.h"

enum rstate { RS_NONE, RS_IN, RS_OUT };

struct rtask {
	char *app, *task;
	enum rstate state;
	int64_t state_since;
	double in_s, out_s;
	unsigned transitions;
	int64_t outage_start; /* -1 when in rotation */
	char *outage_output, *last_output;
	double longest_s;
	int64_t longest_start;
	char *longest_output;
	bool has_rows;
};

struct rdest {
	char *service, *dest;
	bool draining;
	int64_t drain_since;
	double drain_s;
};

struct areport {
	int64_t since, until; /* as asked; INT64_MIN/MAX when open */
	int64_t first_ts, last_ts;
	struct amap tasks; /* "app\ttask" -> rtask */
	struct amap dests; /* "service\tdest" -> rdest */
	struct amap owner; /* "10.1.0.2:8080" -> "app\ttask" (value unused: key of tasks) */
};

struct row {
	const struct rtask *t;
	const struct rdest *d;
	double in_s, out_s, drain_s;
};

struct areport *areport_new(int64_t since_ms, int64_t until_ms)
{
	struct areport *r = calloc(1, sizeof(*r));

	if (r) {
		r->since = since_ms;
		r->until = until_ms;
		r->first_ts = INT64_MAX;
		r->last_ts = INT64_MIN;
	}
	return r;
}

/* Seconds of [from, to] inside the window. */
static double window_s(const struct areport *r, int64_t from, int64_t to)
{
	if (from < r->since)
		from = r->since;
	if (to > r->until)
		to = r->until;
	return to > from ? (double)(to - from) / 1000.0 : 0;
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? strdup(value) : NULL;
}

static void outage_end(struct areport *r, struct rtask *t, int64_t now)
{
	double len = window_s(r, t->outage_start, now);

	if (t->outage_start >= 0 && len > t->longest_s) {
		t->longest_s = len;
		t->longest_start = t->outage_start > r->since ? t->outage_start : r->since;
		set_str(&t->longest_output, t->outage_output);
	}
	t->outage_start = -1;
}

static void task_move(struct areport *r, struct rtask *t, enum rstate to, int64_t now)
{
	double s = t->state == RS_NONE ? 0 : window_s(r, t->state_since, now);

	if (t->state == RS_IN)
		t->in_s += s;
	else if (t->state == RS_OUT)
		t->out_s += s;
	if (to != RS_OUT && t->outage_start >= 0)
		outage_end(r, t, now);
	if (to == RS_OUT && t->outage_start < 0) {
		t->outage_start = now;
		set_str(&t->outage_output, t->last_output);
	}
	t->state = to;
	t->state_since = now;
}

static void dest_move(struct areport *r, struct rdest *d, bool draining, int64_t now)
{
	if (d->draining)
		d->drain_s += window_s(r, d->drain_since, now);
	d->draining = draining;
	d->drain_since = now;
}

static struct rtask *task_get(struct areport *r, const struct arec *rec)
{
	char key[1024];
	struct amap_slot *s;
	struct rtask *t;

	snprintf(key, sizeof(key), "%s\t%s", rec->app, rec->task);
	s = amap_put(&r->tasks, key);
	if (!s)
		return NULL;
	if (!s->value && (t = calloc(1, sizeof(*t)))) {
		t->app = strdup(rec->app);
		t->task = strdup(rec->task);
		t->outage_start = -1;
		s->value = t;
	}
	return s->value;
}

static void on_task(struct areport *r, const struct arec *rec)
{
	struct rtask *t = task_get(r, rec);
	char key[1024], dest[300];
	size_t i;
	json_t *p;

	if (!t || !rec->to)
		return;
	/* Flapping is moving in or out of rotation (unhealthy -> killable is neither). */
	if (rec->from && strcmp(rec->from, "unknown") != 0 &&
	    (strcmp(rec->from, "healthy") == 0) != (strcmp(rec->to, "healthy") == 0) &&
	    rec->ts_ms >= r->since && rec->ts_ms <= r->until)
		t->transitions++;
	task_move(r, t, strcmp(rec->to, "healthy") == 0 ? RS_IN : RS_OUT, rec->ts_ms);
	snprintf(key, sizeof(key), "%s\t%s", rec->app, rec->task);
	if (rec->host && json_is_array(rec->ports))
		json_array_foreach(rec->ports, i, p)
		{
			struct amap_slot *s;

			audit_dest_name(rec->host, json_integer_value(p), dest, sizeof(dest));
			s = amap_put(&r->owner, dest);
			if (s && (!s->value || strcmp(s->value, key) != 0)) {
				free(s->value);
				s->value = strdup(key);
			}
		}
}

static void on_ipvs(struct areport *r, const struct arec *rec)
{
	char key[700];
	struct amap_slot *s;
	struct rdest *d;
	bool applied = rec->result && strcmp(rec->result, "error") != 0;

	if (!rec->dest || !rec->service || !rec->op || !applied)
		return;
	snprintf(key, sizeof(key), "%s\t%s", rec->service, rec->dest);
	s = amap_put(&r->dests, key);
	if (!s)
		return;
	if (!s->value && (d = calloc(1, sizeof(*d)))) {
		d->service = strdup(rec->service);
		d->dest = strdup(rec->dest);
		s->value = d;
	}
	if (!(d = s->value))
		return;
	dest_move(r, d, strcmp(rec->op, "del_dest") != 0 && rec->weight == 0, rec->ts_ms);
}

/* vipd stopped: nothing is known until it starts again. */
static void on_stop(struct areport *r, int64_t now)
{
	for (size_t i = 0; i < r->tasks.cap; i++)
		if (r->tasks.slots[i].value)
			task_move(r, r->tasks.slots[i].value, RS_NONE, now);
	for (size_t i = 0; i < r->dests.cap; i++)
		if (r->dests.slots[i].value)
			dest_move(r, r->dests.slots[i].value, false, now);
}

int areport_add(struct areport *r, const struct arec *rec)
{
	if (rec->ts_ms < r->first_ts)
		r->first_ts = rec->ts_ms;
	if (rec->ts_ms > r->last_ts)
		r->last_ts = rec->ts_ms;
	if (strcmp(rec->event, "check") == 0 && rec->app && rec->task) {
		struct rtask *t = task_get(r, rec);

		if (t)
			set_str(&t->last_output, rec->output ? rec->output : rec->outcome);
	} else if (strcmp(rec->event, "task") == 0 && rec->app && rec->task) {
		on_task(r, rec);
	} else if (strcmp(rec->event, "ipvs") == 0) {
		on_ipvs(r, rec);
	} else if (strcmp(rec->event, "stop") == 0) {
		on_stop(r, rec->ts_ms);
	}
	return 0;
}

static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	double bad_a = a->out_s + a->drain_s, bad_b = b->out_s + b->drain_s;
	int c;

	if (bad_a != bad_b)
		return bad_a < bad_b ? 1 : -1;
	if (a->t->transitions != b->t->transitions)
		return a->t->transitions < b->t->transitions ? 1 : -1;
	if ((c = strcmp(a->t->app, b->t->app)) || (c = strcmp(a->t->task, b->t->task)))
		return c;
	return strcmp(a->d ? a->d->service : "", b->d ? b->d->service : "");
}

static struct row make_row(const struct rtask *t, const struct rdest *d)
{
	struct row w = {.t = t, .d = d, .in_s = t->in_s, .out_s = t->out_s};

	if (d) {
		w.drain_s = d->drain_s < t->out_s ? d->drain_s : t->out_s;
		w.out_s = t->out_s - w.drain_s;
	}
	return w;
}

static struct row *collect_rows(struct areport *r, size_t *n)
{
	struct row *rows = calloc(r->tasks.n + r->dests.n + 1, sizeof(*rows));

	*n = 0;
	if (!rows)
		return NULL;
	for (size_t i = 0; i < r->dests.cap; i++) {
		struct rdest *d = r->dests.slots[i].value;
		const char *owner = d ? amap_get(&r->owner, d->dest) : NULL;
		struct rtask *t = owner ? amap_get(&r->tasks, owner) : NULL;

		if (t) {
			rows[(*n)++] = make_row(t, d);
			t->has_rows = true;
		}
	}
	for (size_t i = 0; i < r->tasks.cap; i++) {
		struct rtask *t = r->tasks.slots[i].value;

		if (t && !t->has_rows)
			rows[(*n)++] = make_row(t, NULL);
	}
	vec_sort(rows, *n, sizeof(*rows), row_cmp);
	return rows;
}

struct app_sum {
	const char *app;
	size_t backends;
	double in_s, out_s, drain_s, longest_s;
	unsigned transitions;
	const struct rtask *longest;
};

static int app_cmp(const void *x, const void *y)
{
	const struct app_sum *a = x, *b = y;
	double bad_a = a->out_s + a->drain_s, bad_b = b->out_s + b->drain_s;

	if (bad_a != bad_b)
		return bad_a < bad_b ? 1 : -1;
	if (a->transitions != b->transitions)
		return a->transitions < b->transitions ? 1 : -1;
	return strcmp(a->app, b->app);
}

static struct app_sum *sum_apps(const struct row *rows, size_t n, size_t *napps)
{
	struct app_sum *apps = calloc(n + 1, sizeof(*apps));

	*napps = 0;
	for (size_t i = 0; apps && i < n; i++) {
		const struct rtask *t = rows[i].t;
		struct app_sum *s = NULL;

		for (size_t j = 0; j < *napps && !s; j++)
			if (strcmp(apps[j].app, t->app) == 0)
				s = &apps[j];
		if (!s) {
			s = &apps[(*napps)++];
			s->app = t->app;
		}
		s->backends++;
		s->in_s += rows[i].in_s;
		s->out_s += rows[i].out_s;
		s->drain_s += rows[i].drain_s;
		s->transitions += t->transitions;
		if (t->longest_s > s->longest_s || !s->longest) {
			s->longest_s = t->longest_s;
			s->longest = t;
		}
	}
	vec_sort(apps, *napps, sizeof(*apps), app_cmp);
	return apps;
}

static void close_window(struct areport *r)
{
	int64_t end = r->until != INT64_MAX ? r->until : r->last_ts;

	if (r->since == INT64_MIN)
		r->since = r->first_ts;
	if (r->until == INT64_MAX)
		r->until = r->last_ts;
	on_stop(r, end);
}

/* "12.5s", "2m19s", "3h05m12s", "2d04h10m": a week reads as days. */
static const char *duration(double s, char *buf, size_t len)
{
	long long t = (long long)(s + 0.5);

	if (s < 60)
		snprintf(buf, len, "%.1fs", s);
	else if (t < 3600)
		snprintf(buf, len, "%lldm%02llds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%lldh%02lldm%02llds", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%lldd%02lldh%02lldm", t / 86400, t / 3600 % 24, t / 60 % 60);
	return buf;
}

static void print_outage(const struct rtask *t)
{
	char ts[40], d[32];

	if (!t || t->longest_s <= 0) {
		printf("-");
		return;
	}
	audit_format_ms(t->longest_start, ts, sizeof(ts));
	printf("%s from %s", duration(t->longest_s, d, sizeof(d)), ts);
	if (t->longest_output && *t->longest_output) {
		printf(" | ");
		for (const char *c = t->longest_output; *c; c++)
			putchar(*c == '\n' ? ' ' : *c);
	}
}

static void print_table(const struct row *rows, size_t n, const struct app_sum *apps, size_t napps)
{
	int wb = 7, wv = 3, wa = 3;
	char d1[32], d2[32], d3[32];

	for (size_t i = 0; i < n; i++) {
		int b = (int)(strlen(rows[i].t->app) + 1 + strlen(rows[i].t->task));
		int v =
		    rows[i].d ? (int)(strlen(rows[i].d->service) + 3 + strlen(rows[i].d->dest)) : 1;

		wb = b > wb ? b : wb;
		wv = v > wv ? v : wv;
	}
	for (size_t i = 0; i < napps; i++)
		wa = (int)strlen(apps[i].app) > wa ? (int)strlen(apps[i].app) : wa;
	printf("%-*s  %-*s  %11s  %11s  %9s  %11s  %s\n", wb, "BACKEND", wv, "VIP", "IN ROTATION",
	       "OUT", "DRAINING", "TRANSITIONS", "LONGEST OUTAGE");
	for (size_t i = 0; i < n; i++) {
		char b[1024], v[700];

		snprintf(b, sizeof(b), "%s %s", rows[i].t->app, rows[i].t->task);
		if (rows[i].d)
			snprintf(v, sizeof(v), "%s -> %s", rows[i].d->service, rows[i].d->dest);
		else
			snprintf(v, sizeof(v), "-");
		printf("%-*s  %-*s  %11s  %11s  %9s  %11u  ", wb, b, wv, v,
		       duration(rows[i].in_s, d1, sizeof(d1)),
		       duration(rows[i].out_s, d2, sizeof(d2)),
		       duration(rows[i].drain_s, d3, sizeof(d3)), rows[i].t->transitions);
		print_outage(rows[i].t);
		putchar('\n');
	}
	printf("\n%-*s  %8s  %11s  %11s  %9s  %11s  %s\n", wa, "APP", "BACKENDS", "IN ROTATION",
	       "OUT", "DRAINING", "TRANSITIONS", "LONGEST OUTAGE");
	for (size_t i = 0; i < napps; i++) {
		printf("%-*s  %8zu  %11s  %11s  %9s  %11u  ", wa, apps[i].app, apps[i].backends,
		       duration(apps[i].in_s, d1, sizeof(d1)),
		       duration(apps[i].out_s, d2, sizeof(d2)),
		       duration(apps[i].drain_s, d3, sizeof(d3)), apps[i].transitions);
		if (apps[i].longest && apps[i].longest->longest_s > 0)
			printf("%s: ", apps[i].longest->task);
		print_outage(apps[i].longest);
		putchar('\n');
	}
}

static json_t *seconds(double s)
{
	return json_real((double)(long long)(s * 1000 + 0.5) / 1000);
}

static void outage_json(json_t *o, const struct rtask *t)
{
	char ts[40];

	json_object_set_new(o, "longest_outage_s", seconds(t ? t->longest_s : 0));
	if (!t || t->longest_s <= 0)
		return;
	audit_format_ms(t->longest_start, ts, sizeof(ts));
	json_object_set_new(o, "longest_outage_start", json_string(ts));
	json_object_set_new(o, "longest_outage_output",
	                    json_string(t->longest_output ? t->longest_output : ""));
}

static void print_json(const struct areport *r, const struct row *rows, size_t n,
                       const struct app_sum *apps, size_t napps)
{
	json_t *top = json_object(), *b = json_array(), *a = json_array();
	char since[40], until[40];

	audit_format_ms(r->since, since, sizeof(since));
	audit_format_ms(r->until, until, sizeof(until));
	json_object_set_new(top, "since", json_string(since));
	json_object_set_new(top, "until", json_string(until));
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s, s:s, s:s?, s:s?}", "app", rows[i].t->app, "task",
		                      rows[i].t->task, "vip", rows[i].d ? rows[i].d->service : NULL,
		                      "dest", rows[i].d ? rows[i].d->dest : NULL);

		json_object_set_new(o, "in_rotation_s", seconds(rows[i].in_s));
		json_object_set_new(o, "out_of_rotation_s", seconds(rows[i].out_s));
		json_object_set_new(o, "draining_s", seconds(rows[i].drain_s));
		json_object_set_new(o, "transitions", json_integer(rows[i].t->transitions));
		outage_json(o, rows[i].t);
		json_array_append_new(b, o);
	}
	for (size_t i = 0; i < napps; i++) {
		json_t *o = json_pack("{s:s, s:I}", "app", apps[i].app, "backends",
		                      (json_int_t)apps[i].backends);

		json_object_set_new(o, "in_rotation_s", seconds(apps[i].in_s));
		json_object_set_new(o, "out_of_rotation_s", seconds(apps[i].out_s));
		json_object_set_new(o, "draining_s", seconds(apps[i].drain_s));
		json_object_set_new(o, "transitions", json_integer(apps[i].transitions));
		outage_json(o, apps[i].longest);
		if (apps[i].longest && apps[i].longest->longest_s > 0)
			json_object_set_new(o, "longest_outage_task",
			                    json_string(apps[i].longest->task));
		json_array_append_new(a, o);
	}
	json_object_set_new(top, "backends", b);
	json_object_set_new(top, "apps", a);
	json_dumpf(top, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	putchar('\n');
	json_decref(top);
}

void areport_print(struct areport *r, bool json)
{
	struct row *rows;
	struct app_sum *apps;
	size_t n, napps;

	if (r->first_ts == INT64_MAX) {
		r->first_ts = r->last_ts = 0;
	}
	close_window(r);
	rows = collect_rows(r, &n);
	apps = rows ? sum_apps(rows, n, &napps) : NULL;
	if (!rows || !apps) {
		fprintf(stderr, "vipctl audit: out of memory\n");
	} else if (json) {
		print_json(r, rows, n, apps, napps);
	} else {
		print_table(rows, n, apps, napps);
	}
	free(rows);
	free(apps);
}

static void rtask_free(void *p)
{
	struct rtask *t = p;

	if (!t)
		return;
	free(t->app);
	free(t->task);
	free(t->outage_output);
	free(t->last_output);
	free(t->longest_output);
	free(t);
}

static void rdest_free(void *p)
{
	struct rdest *d = p;

	if (!d)
		return;
	free(d->service);
	free(d->dest);
	free(d);
}

void areport_free(struct areport *r)
{
	if (!r)
		return;
	amap_free(&r->tasks, rtask_free);
	amap_free(&r->dests, rdest_free);
	amap_free(&r->owner, free);
	free(r);
}
