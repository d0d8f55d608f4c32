/*
 * Decoding one message of Marathon's /v2/events into what vipd acts on:
 * status_update_event, and the app definition changes (api_post_event,
 * deployment_success, app_terminated_event). Every malformed shape is a
 * located error; other event types are ignored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon_int.h"
#include "vipd/apps.h"
#include "vipd/json_describe.h"
#include "vipd/marathon.h"

const char *const marathon_event_types[] = {
    "status_update_event", "api_post_event", "deployment_success", "app_terminated_event", NULL,
};

/* Mesos task states (mesos.proto TaskState) and what each means for a
 * backend. Marathon keeps an UNREACHABLE instance for a while, but Mesos
 * cannot reach it: it must not get traffic until it runs again. */
static const struct {
	const char *name;
	enum marathon_task_action action;
} task_actions[] = {
    {"TASK_STAGING", MARATHON_TASK_UPSERT},
    {"TASK_STARTING", MARATHON_TASK_UPSERT},
    {"TASK_RUNNING", MARATHON_TASK_UPSERT},
    {"TASK_KILLING", MARATHON_TASK_KILLING},
    {"TASK_FINISHED", MARATHON_TASK_REMOVE},
    {"TASK_FAILED", MARATHON_TASK_REMOVE},
    {"TASK_KILLED", MARATHON_TASK_REMOVE},
    {"TASK_ERROR", MARATHON_TASK_REMOVE},
    {"TASK_LOST", MARATHON_TASK_REMOVE},
    {"TASK_DROPPED", MARATHON_TASK_REMOVE},
    {"TASK_UNREACHABLE", MARATHON_TASK_REMOVE},
    {"TASK_GONE", MARATHON_TASK_REMOVE},
    {"TASK_GONE_BY_OPERATOR", MARATHON_TASK_REMOVE},
    {"TASK_UNKNOWN", MARATHON_TASK_REMOVE},
};

/* Where an error is reported: "ORIGIN: TYPE: /pointer: message". */
struct dctx {
	const char *origin;
	const char *type;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int derr(const struct dctx *d, const char *ptr,
                                                      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ptr && ptr[0])
		errbuf_set(d->err, d->errlen, "%s: %s: %s: %s", d->origin, d->type, ptr, msg);
	else
		errbuf_set(d->err, d->errlen, "%s: %s: %s", d->origin, d->type, msg);
	return -1;
}

static json_t *field_required(const struct dctx *d, const json_t *obj, const char *ptr,
                              const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		derr(d, ptr, "missing required field \"%s\"", key);
	return v;
}

/* An optional string field; -1 after an error. */
static int field_string(const struct dctx *d, const json_t *obj, const char *key, const char **out)
{
	json_t *v = json_object_get(obj, key);
	char got[64], ptr[MARATHON_PTR_LEN];

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		snprintf(ptr, sizeof(ptr), "/%s", key);
		return derr(d, ptr, "expected a string, got %s",
		            json_describe(v, got, sizeof(got)));
	}
	*out = json_string_value(v);
	return 0;
}

static int dup_or_fail(const struct dctx *d, const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	if (s && !*out)
		return derr(d, "", "out of memory");
	return 0;
}

/* An app id field at `ptr`: absolute, and valid by the app parser's rule. */
static int app_id_read(const struct dctx *d, json_t *v, const char *ptr, char **out)
{
	char p[MARATHON_PTR_LEN], msg[384];

	if (json_is_string(v) && json_string_value(v)[0] != '/')
		return derr(d, ptr, "expected an absolute app id (starting with '/'), got \"%s\"",
		            json_string_value(v));
	if (marathon_parse_task(v, NULL, NULL, ptr, out, NULL, p, sizeof(p), msg, sizeof(msg)) < 0)
		return derr(d, p, "%s", msg);
	return 0;
}

static int task_action_of(const struct dctx *d, const json_t *v, enum marathon_task_action *out)
{
	char got[64];

	if (!json_is_string(v))
		return derr(d, "/taskStatus", "expected a string, got %s",
		            json_describe(v, got, sizeof(got)));
	for (size_t i = 0; i < sizeof(task_actions) / sizeof(task_actions[0]); i++) {
		if (strcmp(json_string_value(v), task_actions[i].name) == 0) {
			*out = task_actions[i].action;
			return 0;
		}
	}
	return derr(d, "/taskStatus",
	            "expected a Mesos task state such as \"TASK_RUNNING\" or \"TASK_KILLING\", "
	            "got %s",
	            json_describe(v, got, sizeof(got)));
}

/* The event's fields under the names of a /v2/apps task. A task that ends
 * keeps only its id: nothing else about it matters any more. */
static json_t *task_object(const json_t *root, enum marathon_task_action action,
                           const char *timestamp)
{
	static const char *const same[] = {"host", "ports", "ipAddresses"};
	json_t *t = json_object();
	const char *status = json_string_value(json_object_get(root, "taskStatus"));
	int rc = 0;

	if (!t)
		return NULL;
	rc |= json_object_set(t, "id", json_object_get(root, "taskId"));
	if (action != MARATHON_TASK_REMOVE) {
		for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
			if (json_object_get(root, same[i]))
				rc |= json_object_set(t, same[i], json_object_get(root, same[i]));
		rc |= json_object_set_new(t, "state", json_string(status));
		/* Marathon's startedAt is the time the task reported running. */
		if (timestamp && strcmp(status, "TASK_RUNNING") == 0)
			rc |= json_object_set_new(t, "startedAt", json_string(timestamp));
	}
	if (rc) {
		json_decref(t);
		return NULL;
	}
	return t;
}

static int status_task(const struct dctx *d, json_t *root, struct marathon_status_update *u)
{
	char p[MARATHON_PTR_LEN], msg[384];
	json_t *t = task_object(root, u->action, u->timestamp);
	int rc;

	if (!t)
		return derr(d, "", "out of memory");
	u->task_json = json_dumps(t, JSON_COMPACT);
	rc = marathon_parse_task(json_object_get(root, "appId"), NULL, t, "/appId", &u->app_id,
	                         &u->task, p, sizeof(p), msg, sizeof(msg));
	json_decref(t);
	if (!u->task_json)
		return derr(d, "", "out of memory");
	if (rc < 0)
		return derr(d, p, "%s", msg);
	if (u->action == MARATHON_TASK_REMOVE) {
		/* Not read by the parser (it knows the states a listed task has). */
		free(u->task.state_text);
		u->task.state_text = NULL;
		if (task_state_parse(u->task_status, &u->task.state) < 0)
			u->task.state = TASK_STATE_UNKNOWN;
		return dup_or_fail(d, u->task_status, &u->task.state_text);
	}
	return 0;
}

static int decode_status(const struct dctx *d, json_t *root, struct marathon_event *ev)
{
	struct marathon_status_update *u = &ev->status;
	const char *timestamp = NULL;
	json_t *app, *task, *status;
	char got[64];

	app = field_required(d, root, "", "appId");
	task = app ? field_required(d, root, "", "taskId") : NULL;
	status = task ? field_required(d, root, "", "taskStatus") : NULL;
	if (!status || task_action_of(d, status, &u->action) < 0)
		return -1;
	if (u->action != MARATHON_TASK_REMOVE && !field_required(d, root, "", "host"))
		return -1;
	if (field_string(d, root, "timestamp", &timestamp) < 0)
		return -1;
	if (json_is_string(app) && json_string_value(app)[0] != '/')
		return derr(d, "/appId", "expected an absolute app id (starting with '/'), got %s",
		            json_describe(app, got, sizeof(got)));
	ev->kind = MARATHON_EVENT_STATUS_UPDATE;
	if (dup_or_fail(d, json_string_value(status), &u->task_status) < 0 ||
	    dup_or_fail(d, timestamp, &u->timestamp) < 0)
		return -1;
	return status_task(d, root, u);
}

/* Adds an app id once. */
static int app_ids_add(const struct dctx *d, struct marathon_event *ev, char *id)
{
	char **ids;

	for (size_t i = 0; i < ev->napp_ids; i++) {
		if (strcmp(ev->app_ids[i], id) == 0) {
			free(id);
			return 0;
		}
	}
	ids = realloc(ev->app_ids, (ev->napp_ids + 1) * sizeof(*ids));
	if (!ids) {
		free(id);
		return derr(d, "", "out of memory");
	}
	ev->app_ids = ids;
	ev->app_ids[ev->napp_ids++] = id;
	return 0;
}

static int app_changed(const struct dctx *d, struct marathon_event *ev, json_t *v, const char *ptr)
{
	char *id = NULL;

	ev->kind = MARATHON_EVENT_APPS_CHANGED;
	if (app_id_read(d, v, ptr, &id) < 0)
		return -1;
	if (!id)
		return derr(d, ptr, "out of memory");
	return app_ids_add(d, ev, id);
}

static int decode_api_post(const struct dctx *d, json_t *root, struct marathon_event *ev)
{
	json_t *def = field_required(d, root, "", "appDefinition"), *id;
	char got[64];

	if (!def)
		return -1;
	if (!json_is_object(def))
		return derr(d, "/appDefinition", "expected an app object, got %s",
		            json_describe(def, got, sizeof(got)));
	id = field_required(d, def, "/appDefinition", "id");
	return id ? app_changed(d, ev, id, "/appDefinition/id") : -1;
}

static int decode_app_terminated(const struct dctx *d, json_t *root, struct marathon_event *ev)
{
	json_t *id = field_required(d, root, "", "appId");

	return id ? app_changed(d, ev, id, "/appId") : -1;
}

/* An array field at `ptr`/key; its pointer into out. */
static json_t *array_required(const struct dctx *d, const json_t *obj, const char *ptr,
                              const char *key, char *out, size_t len)
{
	json_t *v = field_required(d, obj, ptr, key);
	char got[64];

	snprintf(out, len, "%s/%s", ptr, key);
	if (v && !json_is_array(v)) {
		derr(d, out, "expected an array, got %s", json_describe(v, got, sizeof(got)));
		return NULL;
	}
	return v;
}

/* One step of a deployment plan: each action names an app (or a pod, which
 * vipd does not read). */
static int deployment_step(const struct dctx *d, struct marathon_event *ev, json_t *step,
                           const char *ptr)
{
	char aptr[MARATHON_PTR_LEN / 2], ip[MARATHON_PTR_LEN], got[64];
	json_t *actions, *a, *app;
	size_t i;

	if (!json_is_object(step))
		return derr(d, ptr, "expected a step object, got %s",
		            json_describe(step, got, sizeof(got)));
	actions = array_required(d, step, ptr, "actions", aptr, sizeof(aptr));
	if (!actions)
		return -1;
	json_array_foreach(actions, i, a)
	{
		snprintf(ip, sizeof(ip), "%s/%zu", aptr, i);
		if (!json_is_object(a))
			return derr(d, ip, "expected an action object, got %s",
			            json_describe(a, got, sizeof(got)));
		app = json_object_get(a, "app");
		if (!app)
			continue;
		snprintf(ip, sizeof(ip), "%s/%zu/app", aptr, i);
		if (app_changed(d, ev, app, ip) < 0)
			return -1;
	}
	return 0;
}

static int decode_deployment(const struct dctx *d, json_t *root, struct marathon_event *ev)
{
	char sptr[MARATHON_PTR_LEN / 4], ip[MARATHON_PTR_LEN / 2], got[64];
	json_t *plan = field_required(d, root, "", "plan"), *steps, *step;
	size_t i;

	if (!plan)
		return -1;
	if (!json_is_object(plan))
		return derr(d, "/plan", "expected a deployment plan object, got %s",
		            json_describe(plan, got, sizeof(got)));
	steps = array_required(d, plan, "/plan", "steps", sptr, sizeof(sptr));
	if (!steps)
		return -1;
	/* A plan that touches no app (pods only) still says nothing changed. */
	ev->kind = MARATHON_EVENT_APPS_CHANGED;
	json_array_foreach(steps, i, step)
	{
		snprintf(ip, sizeof(ip), "%s/%zu", sptr, i);
		if (deployment_step(d, ev, step, ip) < 0)
			return -1;
	}
	return 0;
}

static const struct {
	const char *type;
	int (*decode)(const struct dctx *d, json_t *root, struct marathon_event *ev);
} decoders[] = {
    {"status_update_event", decode_status},
    {"api_post_event", decode_api_post},
    {"deployment_success", decode_deployment},
    {"app_terminated_event", decode_app_terminated},
};

static int decoder_of(const char *type)
{
	for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
		if (strcmp(decoders[i].type, type) == 0)
			return (int)i;
	return -1;
}

/* The type from the JSON's eventType when the event: line gave none; when
 * it did, a different eventType means the message is not what it says. */
static int event_type_check(struct dctx *d, const json_t *root)
{
	json_t *v = json_object_get(root, "eventType");
	char got[64];

	if (d->type) {
		if (v && !(json_is_string(v) && strcmp(json_string_value(v), d->type) == 0))
			return derr(d, "/eventType",
			            "expected \"%s\" (as the event: line says), got %s", d->type,
			            json_describe(v, got, sizeof(got)));
		return 0;
	}
	d->type = "message";
	if (!v)
		return derr(d, "", "missing required field \"eventType\"");
	if (!json_is_string(v))
		return derr(d, "/eventType", "expected a string, got %s",
		            json_describe(v, got, sizeof(got)));
	d->type = json_string_value(v);
	return 0;
}

static int decode_root(struct dctx *d, const char *data, size_t len, struct marathon_event *ev)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	char got[64];
	int k, rc = -1;

	if (!root)
		return derr(d, "", "not JSON at line %d, column %d: %s", jerr.line, jerr.column,
		            jerr.text);
	if (!json_is_object(root)) {
		derr(d, "", "expected an event object, got %s",
		     json_describe(root, got, sizeof(got)));
		goto out;
	}
	if (event_type_check(d, root) < 0)
		goto out;
	if (dup_or_fail(d, d->type, &ev->type) < 0)
		goto out;
	k = decoder_of(d->type);
	rc = k < 0 ? 0 : decoders[k].decode(d, root, ev);
out:
	json_decref(root);
	return rc;
}

int marathon_event_decode(const char *origin, const char *sse_type, const char *data, size_t len,
                          struct marathon_event *ev, char *err, size_t errlen)
{
	struct dctx d = {.origin = origin, .err = err, .errlen = errlen};

	memset(ev, 0, sizeof(*ev));
	ev->kind = MARATHON_EVENT_IGNORED;
	if (sse_type && sse_type[0] && strcmp(sse_type, "message") != 0) {
		d.type = sse_type;
		/* Not parsed at all: deployment_info and the like run to megabytes. */
		if (decoder_of(sse_type) < 0)
			return dup_or_fail(&d, sse_type, &ev->type);
	}
	if (decode_root(&d, data, len, ev) < 0) {
		marathon_event_free(ev);
		return -1;
	}
	return 0;
}

void marathon_event_free(struct marathon_event *ev)
{
	free(ev->type);
	free(ev->status.app_id);
	free(ev->status.task_status);
	free(ev->status.timestamp);
	task_free(&ev->status.task);
	free(ev->status.task_json);
	for (size_t i = 0; i < ev->napp_ids; i++)
		free(ev->app_ids[i]);
	free(ev->app_ids);
	memset(ev, 0, sizeof(*ev));
	ev->kind = MARATHON_EVENT_IGNORED;
}
