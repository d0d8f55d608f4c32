/*
 * A decoded status update applied to the app model: a task listed,
 * updated, marked as being killed, or removed. Tasks are built by the app
 * parser from the event's fields, so an event's task and a /v2/apps task
 * follow one set of rules (ids, hosts, ports, the VIPD_NETNS namespace).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon_int.h"
#include "vipd/apps.h"
#include "vipd/marathon.h"

#define TASK_PTR "/tasks/0"

/* Where the synthetic document's fields came from in the event. */
static const struct {
	const char *doc;
	const char *event;
} field_names[] = {
    {TASK_PTR "/id", "/taskId"},
    {TASK_PTR "/state", "/taskStatus"},
    {TASK_PTR "/startedAt", "/timestamp"},
    {TASK_PTR "/host", "/host"},
    {TASK_PTR "/ports", "/ports"},
    {TASK_PTR "/ipAddresses", "/ipAddresses"},
    {TASK_PTR, ""},
};

static void pointer_map(const char *doc, const char *id_ptr, char *out, size_t len)
{
	size_t n;

	if (doc[0] == '\0' || strcmp(doc, "/id") == 0) {
		snprintf(out, len, "%s", id_ptr);
		return;
	}
	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++) {
		n = strlen(field_names[i].doc);
		if (strncmp(doc, field_names[i].doc, n) == 0 && (doc[n] == '\0' || doc[n] == '/')) {
			snprintf(out, len, "%s%s", field_names[i].event, doc + n);
			return;
		}
	}
	snprintf(out, len, "%s", doc);
}

static json_t *doc_build(json_t *app_id, json_t *labels, json_t *task)
{
	json_t *doc = json_object();
	int rc = 0;

	if (!doc)
		return NULL;
	rc |= json_object_set(doc, "id", app_id);
	if (labels)
		rc |= json_object_set(doc, "labels", labels);
	if (task)
		rc |= json_object_set_new(doc, "tasks", json_pack("[O]", task));
	if (rc) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* The first error of the parse, mapped to the event's names. */
static int first_error(const struct apps_set *set, const char *id_ptr, char *ptr, size_t ptrlen,
                       char *msg, size_t msglen)
{
	for (size_t i = 0; i < set->diags.count; i++) {
		if (set->diags.items[i].severity != DIAG_ERROR)
			continue;
		pointer_map(set->diags.items[i].path, id_ptr, ptr, ptrlen);
		snprintf(msg, msglen, "%s", set->diags.items[i].message);
		return -1;
	}
	return 0;
}

int marathon_parse_task(json_t *app_id, json_t *labels, json_t *task, const char *id_ptr,
                        char **id_out, struct task *task_out, char *ptr, size_t ptrlen, char *msg,
                        size_t msglen)
{
	struct apps_set set = {0};
	json_t *doc = doc_build(app_id, labels, task);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	struct app *app;
	int rc = -1;

	json_decref(doc);
	snprintf(ptr, ptrlen, "%s", "");
	snprintf(msg, msglen, "out of memory");
	if (!text)
		return -1;
	apps_load_buffer(&set, "event", text, strlen(text));
	free(text);
	if (first_error(&set, id_ptr, ptr, ptrlen, msg, msglen) < 0 || set.napps != 1)
		goto out;
	app = &set.apps[0];
	if (task && app->ntasks != 1)
		goto out;
	*id_out = app->id;
	app->id = NULL;
	if (task) {
		*task_out = app->tasks[0];
		app->ntasks = 0;
	}
	rc = 0;
out:
	apps_set_free(&set);
	return rc;
}

static struct app *app_find(struct apps_set *set, const char *id)
{
	for (size_t i = 0; i < set->napps; i++)
		if (strcmp(set->apps[i].id, id) == 0)
			return &set->apps[i];
	return NULL;
}

static int task_index(const struct app *app, const char *id)
{
	for (size_t i = 0; i < app->ntasks; i++)
		if (strcmp(app->tasks[i].id, id) == 0)
			return (int)i;
	return -1;
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool task_same(const struct task *a, const struct task *b)
{
	if (!str_same(a->id, b->id) || !str_same(a->host, b->host) || a->state != b->state ||
	    !str_same(a->state_text, b->state_text) || !str_same(a->started_at, b->started_at) ||
	    !str_same(a->netns, b->netns) || a->nports != b->nports ||
	    a->nip_addresses != b->nip_addresses)
		return false;
	if (a->nports && memcmp(a->ports, b->ports, a->nports * sizeof(*a->ports)) != 0)
		return false;
	for (size_t i = 0; i < a->nip_addresses; i++)
		if (strcmp(a->ip_addresses[i], b->ip_addresses[i]) != 0)
			return false;
	return true;
}

static json_t *labels_json(const struct app *app)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < app->nlabels; i++) {
		if (json_object_set_new(o, app->labels[i].key, json_string(app->labels[i].value))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* The update's task, built again with the app's labels (its namespace). */
static int task_build(const struct app *app, const struct marathon_status_update *u,
                      struct task *out, char *err, size_t errlen)
{
	json_t *labels = labels_json(app), *task = NULL, *id = json_string(app->id);
	char ptr[MARATHON_PTR_LEN], msg[384], *id_out = NULL;
	json_error_t jerr;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (u->task_json)
		task = json_loads(u->task_json, 0, &jerr);
	if (labels && task && id)
		rc = marathon_parse_task(id, labels, task, "/appId", &id_out, out, ptr, sizeof(ptr),
		                         msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "out of memory"), ptr[0] = '\0';
	if (rc < 0)
		errbuf_set(err, errlen, "%s: task %s: %s%s%s", app->id, u->task.id, ptr,
		           ptr[0] ? ": " : "", msg);
	free(id_out);
	json_decref(labels);
	json_decref(task);
	json_decref(id);
	return rc;
}

static enum marathon_apply_result task_upsert(struct app *app, int idx,
                                              const struct marathon_status_update *u, char *err,
                                              size_t errlen)
{
	struct task t, *tasks;

	if (task_build(app, u, &t, err, errlen) < 0)
		return MARATHON_APPLY_FAILED;
	if (idx >= 0) {
		/* A task's start is when it first ran: a repeated TASK_RUNNING must
		 * not move it (the checks' grace period counts from it). */
		if (app->tasks[idx].started_at) {
			free(t.started_at);
			t.started_at = strdup(app->tasks[idx].started_at);
		}
		if (task_same(&t, &app->tasks[idx])) {
			task_free(&t);
			return MARATHON_APPLY_UNCHANGED;
		}
		task_free(&app->tasks[idx]);
		app->tasks[idx] = t;
		return MARATHON_APPLY_UPDATED;
	}
	tasks = realloc(app->tasks, (app->ntasks + 1) * sizeof(*tasks));
	if (!tasks) {
		task_free(&t);
		errbuf_set(err, errlen, "%s: task %s: out of memory", app->id, u->task.id);
		return MARATHON_APPLY_FAILED;
	}
	app->tasks = tasks;
	app->tasks[app->ntasks++] = t;
	return MARATHON_APPLY_ADDED;
}

static enum marathon_apply_result task_mark_killing(struct app *app, int idx, char *err,
                                                    size_t errlen)
{
	struct task *t;
	char *text;

	if (idx < 0)
		return MARATHON_APPLY_UNCHANGED;
	t = &app->tasks[idx];
	if (t->state == TASK_STATE_KILLING)
		return MARATHON_APPLY_UNCHANGED;
	text = strdup("TASK_KILLING");
	if (!text) {
		errbuf_set(err, errlen, "%s: task %s: out of memory", app->id, t->id);
		return MARATHON_APPLY_FAILED;
	}
	free(t->state_text);
	t->state_text = text;
	t->state = TASK_STATE_KILLING;
	return MARATHON_APPLY_UPDATED;
}

/* Keeps the order of the others: it is the order /v2/apps lists them in. */
static enum marathon_apply_result task_remove(struct app *app, int idx)
{
	if (idx < 0)
		return MARATHON_APPLY_UNCHANGED;
	task_free(&app->tasks[idx]);
	memmove(&app->tasks[idx], &app->tasks[idx + 1],
	        (app->ntasks - (size_t)idx - 1) * sizeof(*app->tasks));
	app->ntasks--;
	return MARATHON_APPLY_REMOVED;
}

enum marathon_apply_result marathon_status_apply(struct apps_set *set,
                                                 const struct marathon_status_update *u, char *err,
                                                 size_t errlen)
{
	struct app *app = app_find(set, u->app_id);
	int idx;

	if (!app)
		return MARATHON_APPLY_UNKNOWN_APP;
	idx = task_index(app, u->task.id);
	switch (u->action) {
	case MARATHON_TASK_UPSERT:
		return task_upsert(app, idx, u, err, errlen);
	case MARATHON_TASK_KILLING:
		return task_mark_killing(app, idx, err, errlen);
	case MARATHON_TASK_REMOVE:
		return task_remove(app, idx);
	}
	return MARATHON_APPLY_UNCHANGED;
}

const char *marathon_apply_result_name(enum marathon_apply_result r)
{
	switch (r) {
	case MARATHON_APPLY_ADDED:
		return "added";
	case MARATHON_APPLY_UPDATED:
		return "updated";
	case MARATHON_APPLY_REMOVED:
		return "removed";
	case MARATHON_APPLY_UNCHANGED:
		return "unchanged";
	case MARATHON_APPLY_UNKNOWN_APP:
		return "unknown app";
	case MARATHON_APPLY_FAILED:
		return "failed";
	}
	return "unknown";
}
