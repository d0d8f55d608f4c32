/*
 * vipctl audit --verify: a task leaving rotation (healthy -> not healthy)
 * must see its destination set to weight 0 or removed, and one coming back
 * set to a weight above 0, by an ipvs line (applied or planned) within the
 * bound. Each transition that was not is printed with its line and the
 * kernel line that came late or failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_cli.h"

struct expect {
	bool leave;
	int64_t ts, deadline;
	char *where, *line; /* the transition: "file:line" and its text */
	char *summary;      /* "/web web.a healthy -> unhealthy" */
	char *host;
	json_t *ports;
};

struct averify {
	int64_t bound_ms, last_ts;
	struct amap pending; /* "app\ttask" -> expect */
	struct amap owner;   /* "10.1.0.2:8080" -> "app\ttask" */
	struct amap seen;    /* destinations the log shows in the kernel's table */
	size_t failures, unchecked;
};

struct averify *averify_new(int64_t bound_ms)
{
	struct averify *v = calloc(1, sizeof(*v));

	if (v)
		v->bound_ms = bound_ms;
	return v;
}

static void expect_free(void *p)
{
	struct expect *e = p;

	if (!e)
		return;
	free(e->where);
	free(e->line);
	free(e->summary);
	free(e->host);
	json_decref(e->ports);
	free(e);
}

static bool is_out(const char *state)
{
	return strcmp(state, "healthy") != 0;
}

static const char *expected_text(const struct expect *e)
{
	return e->leave ? "weight 0 or removal" : "a weight above 0";
}

/* Some destination of the task was ever seen in the table: it is a backend
 * of a VIP, so its transitions are owed kernel operations. */
static bool task_is_backend(const struct averify *v, const struct expect *e)
{
	char dest[300];
	size_t i;
	json_t *p;

	json_array_foreach(e->ports, i, p)
	{
		audit_dest_name(e->host, json_integer_value(p), dest, sizeof(dest));
		if (amap_get(&v->seen, dest))
			return true;
	}
	return false;
}

static void report(struct averify *v, const struct expect *e, const char *why,
                   const struct arec *op)
{
	char ts[40];

	audit_format_ms(e->ts, ts, sizeof(ts));
	printf("not followed: %s at %s: %s of its destination within %.1fs: %s\n", e->summary, ts,
	       expected_text(e), (double)v->bound_ms / 1000.0, why);
	printf("  %s: %s\n", e->where, e->line);
	if (op)
		printf("  %s:%lu: %s\n", op->file, op->lineno, op->line);
	v->failures++;
}

/* An expectation that no line satisfied: owed only by a backend. */
static void expire(struct averify *v, const struct expect *e)
{
	if (task_is_backend(v, e))
		report(v, e, "no such operation", NULL);
	else
		v->unchecked++;
}

static char *dup_printf(const char *fmt, const char *a, const char *b, const char *c, const char *d)
{
	char *s = NULL;

	if (asprintf(&s, fmt, a, b, c, d) < 0)
		return NULL;
	return s;
}

static void on_task(struct averify *v, const struct arec *r)
{
	char key[1024], dest[300], where[512];
	struct amap_slot *s;
	struct expect *old, *e;
	size_t i;
	json_t *p;

	snprintf(key, sizeof(key), "%s\t%s", r->app, r->task);
	if (r->host && json_is_array(r->ports))
		json_array_foreach(r->ports, i, p)
		{
			audit_dest_name(r->host, json_integer_value(p), dest, sizeof(dest));
			if ((s = amap_put(&v->owner, dest)) && !s->value)
				s->value = strdup(key);
		}
	/* unhealthy -> killable asks nothing new of the kernel, and leaves the
	 * pending expectation as it is. */
	if (!r->from || !r->to || is_out(r->from) == is_out(r->to) ||
	    !(s = amap_put(&v->pending, key)))
		return;
	old = s->value;
	/* A newer transition within the bound: the kernel may skip the first. */
	if (old && r->ts_ms > old->deadline)
		expire(v, old);
	expect_free(old);
	s->value = NULL;
	if (!r->host || !json_is_array(r->ports))
		return;
	if (!(e = calloc(1, sizeof(*e))))
		return;
	e->leave = is_out(r->to);
	e->ts = r->ts_ms;
	e->deadline = r->ts_ms + v->bound_ms;
	snprintf(where, sizeof(where), "%s:%lu", r->file, r->lineno);
	e->where = strdup(where);
	e->line = strdup(r->line);
	e->summary = dup_printf("%s %s %s -> %s", r->app, r->task, r->from, r->to);
	e->host = strdup(r->host);
	e->ports = json_incref(r->ports);
	s->value = e;
}

static bool op_satisfies(const struct expect *e, const struct arec *r)
{
	if (e->leave)
		return strcmp(r->op, "del_dest") == 0 || r->weight == 0;
	return strcmp(r->op, "del_dest") != 0 && r->weight > 0;
}

static void on_ipvs(struct averify *v, const struct arec *r)
{
	const char *owner;
	struct amap_slot *s;
	struct expect *e;
	char late[64];

	if (!r->dest || !r->op)
		return;
	if ((s = amap_put(&v->seen, r->dest)))
		s->value = s->value ? s->value : (void *)1;
	owner = amap_get(&v->owner, r->dest);
	s = owner ? amap_put(&v->pending, owner) : NULL;
	e = s ? s->value : NULL;
	if (!e || !op_satisfies(e, r))
		return;
	if (r->result && strcmp(r->result, "error") == 0) {
		report(v, e, "the kernel refused it", r);
	} else if (r->ts_ms > e->deadline) {
		snprintf(late, sizeof(late), "came %.1fs after it",
		         (double)(r->ts_ms - e->ts) / 1000.0);
		report(v, e, late, r);
	}
	expect_free(e);
	s->value = NULL;
}

void averify_add(struct averify *v, const struct arec *r)
{
	if (r->ts_ms > v->last_ts)
		v->last_ts = r->ts_ms;
	if (strcmp(r->event, "task") == 0 && r->app && r->task)
		on_task(v, r);
	else if (strcmp(r->event, "ipvs") == 0)
		on_ipvs(v, r);
}

size_t averify_finish(struct averify *v)
{
	for (size_t i = 0; i < v->pending.cap; i++) {
		struct expect *e = v->pending.slots[i].value;

		/* A log that ends within the bound cannot tell. */
		if (e && v->last_ts > e->deadline)
			expire(v, e);
	}
	if (v->failures)
		printf("%zu transitions not followed by the kernel\n", v->failures);
	else
		printf("every health transition was followed by the kernel within %.1fs\n",
		       (double)v->bound_ms / 1000.0);
	if (v->unchecked)
		printf("%zu transitions of tasks never seen in the kernel's table (no VIP) not "
		       "checked\n",
		       v->unchecked);
	return v->failures;
}

void averify_free(struct averify *v)
{
	if (!v)
		return;
	amap_free(&v->pending, expect_free);
	amap_free(&v->owner, free);
	amap_free(&v->seen, NULL);
	free(v);
}
