/*
 * vipctl diff's report: the kernel operations the reload would apply (as
 * the audit log writes them), the named VIPs that would get, lose or move
 * an address, and the apps added, removed or changed; a table for people,
 * or one JSON document for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_diff.h"
#include "vipd/apps.h"
#include "vipd/vec.h"

/* ---- named VIPs' addresses ---- */

enum addr_change { ADDR_SAME, ADDR_NEW, ADDR_FREED, ADDR_MOVED };

struct addr_diff {
	const char *name;
	enum addr_change change;
	struct lb_addr from, to; /* af 0: none */
};

static const char *addr_change_name(enum addr_change c)
{
	switch (c) {
	case ADDR_NEW:
		return "new";
	case ADDR_FREED:
		return "freed";
	case ADDR_MOVED:
		return "moved";
	case ADDR_SAME:
		break;
	}
	return "same";
}

/* The address of family af among the services fed[from, to) give; af 0
 * when none. */
static struct lb_addr addr_of(const struct diff_feeds *f, size_t from, size_t to, int af)
{
	struct lb_addr none = {0};

	for (size_t i = from; i < to; i++)
		if (f->items[i].svc.addr.af == af)
			return f->items[i].svc.addr;
	return none;
}

static size_t run_end(const struct diff_feeds *f, size_t i)
{
	size_t j = i;

	while (j < f->n && strcmp(f->items[j].who, f->items[i].who) == 0)
		j++;
	return j;
}

static int addr_diff_push(struct addr_diff **out, size_t *n, const struct addr_diff *ad)
{
	struct addr_diff *grown = realloc(*out, (*n + 1) * sizeof(**out));

	if (!grown)
		return -1;
	*out = grown;
	(*out)[(*n)++] = *ad;
	return 0;
}

/* One name's change in one family, from the services it gives before
 * (old[a0, a1)) and after (new[b0, b1)). */
static int name_family(struct addr_diff **out, size_t *n, const char *name,
                       const struct diff_feeds *old, size_t a0, size_t a1,
                       const struct diff_feeds *new, size_t b0, size_t b1, int af)
{
	struct addr_diff ad = {
	    .name = name, .from = addr_of(old, a0, a1, af), .to = addr_of(new, b0, b1, af)};

	if (ad.from.af == 0 && ad.to.af == 0)
		return 0;
	if (ad.from.af == 0)
		ad.change = ADDR_NEW;
	else if (ad.to.af == 0)
		ad.change = ADDR_FREED;
	else if (lb_addr_cmp(&ad.from, &ad.to) != 0)
		ad.change = ADDR_MOVED;
	else
		return 0;
	return addr_diff_push(out, n, &ad);
}

/* Merge walk of the names before and after, both sorted by name. */
static int addr_diffs(const struct diff_feeds *old, const struct diff_feeds *new,
                      struct addr_diff **out, size_t *n)
{
	static const int afs[2] = {AF_INET, AF_INET6};
	size_t i = 0, j = 0;

	*out = NULL;
	*n = 0;
	while (i < old->n || j < new->n) {
		int c = i >= old->n   ? 1
		        : j >= new->n ? -1
		                      : strcmp(old->items[i].who, new->items[j].who);
		size_t i1 = c <= 0 ? run_end(old, i) : i, j1 = c >= 0 ? run_end(new, j) : j;
		const char *name = c <= 0 ? old->items[i].who : new->items[j].who;

		for (size_t k = 0; k < 2; k++)
			if (name_family(out, n, name, old, i, i1, new, j, j1, afs[k]) < 0)
				return -1;
		i = i1;
		j = j1;
	}
	return 0;
}

/* ---- apps ---- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void reason_add(json_t *reasons, const char *what, const char *item)
{
	json_array_append_new(reasons, json_pack("{s:s, s:s}", "change", what, "item", item));
}

static void task_reasons(const struct diff_result *d, const struct app *a, json_t *reasons)
{
	const struct diff_running *r = d->running;

	for (size_t t = 0; t < a->ntasks; t++) {
		const struct task *tk = &a->tasks[t];

		if (tk->state != TASK_STATE_RUNNING)
			continue;
		if (!diff_running_task(r, a->id, tk->id))
			reason_add(reasons, "task added", tk->id);
		else if (a->nchecks > 0 && diff_running_checks_restart(r, a, tk))
			reason_add(reasons, "checks start over", tk->id);
	}
	for (size_t i = diff_task_first(r->tasks, r->ntasks, a->id);
	     i < r->ntasks && strcmp(r->tasks[i].app, a->id) == 0; i++)
		if (!diff_task_find(d->new_tasks, d->nnew_tasks, a->id, r->tasks[i].task))
			reason_add(reasons, "task removed", r->tasks[i].task);
}

/* The services who feeds in `f` and not in `other`. */
static void feed_reasons(const struct diff_feeds *f, const struct diff_feeds *other,
                         const char *who, const char *what, json_t *reasons)
{
	char key[128];

	for (size_t i = diff_feeds_first(f, who); i < f->n && strcmp(f->items[i].who, who) == 0;
	     i++)
		if (!diff_feeds_has(other, who, &f->items[i].svc))
			reason_add(reasons, what,
			           lb_key_format(&f->items[i].svc, key, sizeof(key)));
}

/* {"id","change":"added|removed|changed","reasons":[...]}, NULL when the
 * app is in both and nothing about it changes. */
static json_t *app_change(const struct diff_result *d, const char *id)
{
	const struct app *a = apps_find(d->apps, id);
	json_t *reasons;

	if (!a)
		return json_pack("{s:s, s:s, s:[]}", "id", id, "change", "removed", "reasons");
	if (!diff_running_has_app(d->running, id))
		return json_pack("{s:s, s:s, s:[]}", "id", id, "change", "added", "reasons");
	reasons = json_array();
	task_reasons(d, a, reasons);
	feed_reasons(&d->app_feeds, &d->running->app_feeds, id, "VIP added", reasons);
	feed_reasons(&d->running->app_feeds, &d->app_feeds, id, "VIP removed", reasons);
	if (json_array_size(reasons) == 0) {
		json_decref(reasons);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:o}", "id", id, "change", "changed", "reasons", reasons);
}

/* Every app of either side, each once, sorted. */
static const char **app_ids(const struct diff_result *d, size_t *n)
{
	const struct diff_running *r = d->running;
	const char **ids = calloc(r->napps + d->apps->napps + 1, sizeof(*ids));
	size_t k = 0;

	*n = 0;
	if (!ids)
		return NULL;
	for (size_t i = 0; i < r->napps; i++)
		ids[k++] = r->apps[i];
	for (size_t i = 0; i < d->apps->napps; i++)
		ids[k++] = d->apps->apps[i].id;
	*n = vec_sort_unique(ids, k, sizeof(*ids), str_cmp);
	return ids;
}

static json_t *apps_json(const struct diff_result *d)
{
	size_t n;
	const char **ids = app_ids(d, &n);
	json_t *arr = json_array();

	for (size_t i = 0; ids && arr && i < n; i++) {
		json_t *c = app_change(d, ids[i]);

		if (c)
			json_array_append_new(arr, c);
	}
	free(ids);
	return arr;
}

/* ---- the document ---- */

static json_t *ops_json(const struct rc_plan *p)
{
	json_t *arr = json_array();
	char text[512], name[32];

	for (size_t i = 0; arr && i < p->n; i++) {
		/* "add dest" -> "add_dest", as the audit log names it */
		snprintf(name, sizeof(name), "%s", rc_op_kind_name(p->ops[i].kind));
		for (char *c = name; *c; c++)
			if (*c == ' ')
				*c = '_';
		json_array_append_new(arr, json_pack("{s:s, s:s}", "op", name, "text",
		                                     rc_op_format(&p->ops[i], text, sizeof(text))));
	}
	return arr;
}

static json_t *addrs_json(const struct addr_diff *ad, size_t n)
{
	json_t *arr = json_array();
	char from[INET6_ADDRSTRLEN], to[INET6_ADDRSTRLEN];

	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(
		    arr, json_pack(
		             "{s:s, s:s, s:s*, s:s*}", "name", ad[i].name, "change",
		             addr_change_name(ad[i].change), "from",
		             ad[i].from.af ? lb_addr_format(&ad[i].from, from, sizeof(from)) : NULL,
		             "to", ad[i].to.af ? lb_addr_format(&ad[i].to, to, sizeof(to)) : NULL));
	return arr;
}

static void print_addrs(const json_t *vips)
{
	size_t i;
	json_t *v;

	if (json_array_size(vips) == 0)
		return;
	printf("VIP addresses:\n");
	json_array_foreach(vips, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *change = json_string_value(json_object_get(v, "change"));
		const char *from = json_string_value(json_object_get(v, "from"));
		const char *to = json_string_value(json_object_get(v, "to"));

		if (strcmp(change, "new") == 0)
			printf("  %s gets %s (new)\n", name, to);
		else if (strcmp(change, "freed") == 0)
			printf("  %s loses %s (freed)\n", name, from);
		else
			printf("  %s moves from %s to %s\n", name, from, to);
	}
}

static void print_apps(const json_t *apps)
{
	size_t i, j;
	json_t *a, *r;

	if (json_array_size(apps) == 0)
		return;
	printf("apps:\n");
	json_array_foreach(apps, i, a)
	{
		printf("  %-7s %s", json_string_value(json_object_get(a, "change")),
		       json_string_value(json_object_get(a, "id")));
		json_array_foreach(json_object_get(a, "reasons"), j, r) printf(
		    "%s %s %s", j ? ";" : ":", json_string_value(json_object_get(r, "change")),
		    json_string_value(json_object_get(r, "item")));
		printf("\n");
	}
}

static void print_human(const json_t *doc)
{
	const json_t *ops = json_object_get(doc, "operations");
	size_t i;
	json_t *op;

	if (!json_is_true(json_object_get(doc, "changes"))) {
		printf("no change\n");
		return;
	}
	if (json_array_size(ops) > 0)
		printf("kernel operations (%zu):\n", json_array_size(ops));
	json_array_foreach(ops, i, op)
	    printf("  %s\n", json_string_value(json_object_get(op, "text")));
	print_addrs(json_object_get(doc, "vips"));
	print_apps(json_object_get(doc, "apps"));
}

size_t diff_report(const struct diff_result *d, bool json)
{
	struct addr_diff *ad = NULL;
	size_t nad = 0, changes;
	json_t *doc;

	if (addr_diffs(&d->running->named_feeds, &d->named_feeds, &ad, &nad) < 0)
		nad = 0; /* out of memory: the operations still tell */
	doc = json_pack("{s:i, s:o, s:o, s:o}", "schema", 1, "operations", ops_json(&d->plan),
	                "vips", addrs_json(ad, nad), "apps", apps_json(d));
	free(ad);
	if (!doc) {
		fprintf(stderr, "vipctl diff: out of memory\n");
		return d->plan.n + 1;
	}
	changes = d->plan.n + nad + json_array_size(json_object_get(doc, "apps"));
	json_object_set_new(doc, "changes", json_boolean(changes > 0));
	if (json)
		cli_api_print_json(doc);
	else
		print_human(doc);
	json_decref(doc);
	return changes;
}
