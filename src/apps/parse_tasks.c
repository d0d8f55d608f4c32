/*
 * An app's tasks (the /v2/apps?embed=apps.tasks shape): the future backends.
 * A broken task is reported and skipped; its app and sibling tasks stay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"

/* Operators name a task's network namespace with the app label VIPD_NETNS: a
 * path (or a name under /var/run/netns) where ${TASK_ID} stands for the task. */
#define NETNS_LABEL "VIPD_NETNS"
#define NETNS_TASK_VAR "${TASK_ID}"

static char *netns_for_task(const struct app *app, const char *task_id)
{
	const char *tmpl = label_get(app->labels, app->nlabels, NETNS_LABEL);
	const char *var;
	char *out = NULL;

	if (!tmpl || !tmpl[0])
		return NULL;
	var = strstr(tmpl, NETNS_TASK_VAR);
	if (asprintf(&out, "%s%.*s%s%s", tmpl[0] == '/' ? "" : "/var/run/netns/",
	             var ? (int)(var - tmpl) : (int)strlen(tmpl), tmpl, var ? task_id : "",
	             var ? var + strlen(NETNS_TASK_VAR) : "") < 0)
		return NULL;
	return out;
}

static int parse_task_ports(struct pctx *c, const json_t *jt, const char *path, struct task *t)
{
	char p[PATH_MAX_LEN];
	json_t *list = NULL, *v;
	long long port;
	size_t i;

	enum pj_status st = pj_array(c, jt, path, "ports", &list, p, sizeof(p));

	if (st != PJ_OK)
		return st == PJ_BAD ? -1 : 0;
	t->ports = calloc(json_array_size(list) + 1, sizeof(*t->ports));
	if (!t->ports)
		return -1;
	json_array_foreach(list, i, v)
	{
		if (pj_int_item(c, v, p, i, 1, 65535, "a port number from 1 to 65535", &port) < 0)
			return -1;
		t->ports[t->nports++] = (uint32_t)port;
	}
	return 0;
}

static int parse_task_ips(struct pctx *c, const json_t *jt, const char *path, struct task *t)
{
	char p[PATH_MAX_LEN], ip[PATH_MAX_LEN];
	json_t *list = NULL, *v;
	const char *addr;
	size_t i;

	enum pj_status st = pj_array(c, jt, path, "ipAddresses", &list, p, sizeof(p));

	if (st != PJ_OK)
		return st == PJ_BAD ? -1 : 0;
	t->ip_addresses = calloc(json_array_size(list) + 1, sizeof(*t->ip_addresses));
	if (!t->ip_addresses)
		return -1;
	json_array_foreach(list, i, v)
	{
		path_index(ip, sizeof(ip), p, i);
		addr = NULL;
		if (!json_is_object(v)) {
			pctx_error(c, ip, "expected an object with \"ipAddress\"");
			return -1;
		}
		if (pj_string(c, v, ip, "ipAddress", &addr) != PJ_OK) {
			if (!addr && !json_object_get(v, "ipAddress"))
				pctx_error(c, ip, "missing required field \"ipAddress\"");
			return -1;
		}
		t->ip_addresses[t->nip_addresses++] = strdup(addr);
	}
	return 0;
}

static int parse_task_state(struct pctx *c, const json_t *jt, const char *path, struct task *t)
{
	const char *s = NULL;
	char p[PATH_MAX_LEN];

	/* A task listed without a state is one Marathon reports as running. */
	t->state = TASK_STATE_RUNNING;
	switch (pj_string(c, jt, path, "state", &s)) {
	case PJ_ABSENT:
		return 0;
	case PJ_BAD:
		return -1;
	case PJ_OK:
		break;
	}
	t->state_text = strdup(s);
	if (task_state_parse(s, &t->state) < 0) {
		path_key(p, sizeof(p), path, "state");
		pctx_error(c, p,
		           "expected a Mesos task state such as \"TASK_RUNNING\" or "
		           "\"TASK_KILLING\", got \"%s\"",
		           s);
		return -1;
	}
	return 0;
}

static int parse_task(struct pctx *c, const json_t *jt, const char *path, const struct app *app,
                      struct task *t)
{
	const char *s = NULL;
	char got[64];
	int rc = 0;

	if (!json_is_object(jt)) {
		pctx_error(c, path, "expected a task object, got %s",
		           pj_describe(jt, got, sizeof(got)));
		return -1;
	}
	switch (pj_string(c, jt, path, "id", &s)) {
	case PJ_ABSENT:
		pctx_error(c, path, "missing required field \"id\" (the task's id)");
		return -1;
	case PJ_BAD:
		return -1;
	case PJ_OK:
		break;
	}
	t->id = strdup(s);
	s = NULL;
	if (pj_string(c, jt, path, "host", &s) == PJ_BAD)
		rc = -1;
	t->host = s ? strdup(s) : NULL;
	s = NULL;
	if (pj_string(c, jt, path, "startedAt", &s) == PJ_BAD)
		rc = -1;
	t->started_at = s ? strdup(s) : NULL;
	rc |= parse_task_ports(c, jt, path, t);
	rc |= parse_task_ips(c, jt, path, t);
	rc |= parse_task_state(c, jt, path, t);
	t->netns = netns_for_task(app, t->id);
	return rc;
}

/* Task errors are reported but skip only the task. */
int parse_tasks(struct pctx *c, const json_t *japp, const char *path, struct app *app)
{
	char p[PATH_MAX_LEN], ip[PATH_MAX_LEN];
	size_t errors_before = c->errors, i;
	json_t *list = NULL, *v;
	struct task t;

	if (pj_typed(c, japp, path, "tasks", JSON_ARRAY, &list) != PJ_OK) {
		c->errors = errors_before;
		return 0;
	}
	path_key(p, sizeof(p), path, "tasks");
	app->tasks = calloc(json_array_size(list) + 1, sizeof(*app->tasks));
	if (!app->tasks)
		return -1;
	json_array_foreach(list, i, v)
	{
		path_index(ip, sizeof(ip), p, i);
		memset(&t, 0, sizeof(t));
		if (parse_task(c, v, ip, app, &t) == 0) {
			app->tasks[app->ntasks++] = t;
			continue;
		}
		task_free(&t);
	}
	c->errors = errors_before;
	return 0;
}
