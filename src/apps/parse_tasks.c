/*
 * An app's tasks (the /v2/apps?embed=apps.tasks shape): the future backends.
 * A broken task is reported and skipped; its app and sibling tasks stay.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"

/* Operators name a task's network namespace with the app label VIPD_NETNS: a
 * path (or a name under /var/run/netns) where ${TASK_ID} stands for the task. */
#define NETNS_LABEL "VIPD_NETNS"
#define NETNS_TASK_VAR "${TASK_ID}"

/* RFC 1123 and RFC 1035 limits on a host name and on one of its labels. */
#define HOST_NAME_MAX_LEN 253
#define HOST_LABEL_MAX_LEN 63

/* The task's namespace path into t->netns (NULL when the app has no
 * VIPD_NETNS label). The id was checked first (task_id_valid), so it adds
 * one path component that is neither "." nor "..". */
static int netns_for_task(struct pctx *c, const char *path, const struct app *app, struct task *t)
{
	const char *tmpl = label_get(app->labels, app->nlabels, NETNS_LABEL);
	const char *var;

	if (!tmpl || !tmpl[0])
		return 0;
	var = strstr(tmpl, NETNS_TASK_VAR);
	if (asprintf(&t->netns, "%s%.*s%s%s", tmpl[0] == '/' ? "" : "/var/run/netns/",
	             var ? (int)(var - tmpl) : (int)strlen(tmpl), tmpl, var ? t->id : "",
	             var ? var + strlen(NETNS_TASK_VAR) : "") < 0) {
		t->netns = NULL;
		pctx_error(c, path, "out of memory");
		return -1;
	}
	return 0;
}

static bool is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* An RFC 1123 label: letters, digits and '-', not at either end. */
static bool host_label_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > HOST_LABEL_MAX_LEN || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* RFC 1123 host name, optionally with the root's trailing dot. */
static bool host_name_valid(const char *s)
{
	size_t len = strlen(s);
	const char *dot;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > HOST_NAME_MAX_LEN)
		return false;
	for (;;) {
		dot = memchr(s, '.', len);
		if (!dot)
			return host_label_valid(s, len);
		if (!host_label_valid(s, (size_t)(dot - s)))
			return false;
		len -= (size_t)(dot - s) + 1;
		s = dot + 1;
	}
}

/* Mesos gives a task's host to its checks as $HOST, which commands use
 * unquoted: anything but a name or an address would be split, globbed or
 * taken as options by the shell and curl. */
static bool task_host_valid(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1 ||
	       host_name_valid(s);
}

/* Marathon's task ids are the app id with '_' for '/', a '.' and a UUID (or
 * an instance id): letters, digits, '-', '_' and '.', starting with a letter,
 * digit or '_'. The id becomes $MESOS_TASK_ID and a component of the
 * VIPD_NETNS path, so a '/' or ".." must never pass. */
static bool task_id_valid(const char *s)
{
	size_t i;

	if (!is_alnum(s[0]) && s[0] != '_')
		return false;
	if (strstr(s, ".."))
		return false;
	for (i = 0; s[i]; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* Field `key` of the task: a copy in *out (NULL when absent), checked by
 * `valid` when given; -1 after a located error. */
static int task_string(struct pctx *c, const json_t *jt, const char *path, const char *key,
                       bool (*valid)(const char *), const char *expected, char **out)
{
	const char *s = NULL;
	char p[PATH_MAX_LEN], got[64];
	enum pj_status st = pj_string_at(c, jt, path, key, &s, p, sizeof(p));

	*out = NULL;
	if (st != PJ_OK)
		return st == PJ_BAD ? -1 : 0;
	if (valid && !valid(s)) {
		pctx_error(c, p, "expected %s, got %s", expected,
		           json_describe(json_object_get(jt, key), got, sizeof(got)));
		return -1;
	}
	*out = strdup(s);
	if (!*out) {
		pctx_error(c, p, "out of memory");
		return -1;
	}
	return 0;
}

static int parse_task_ports(struct pctx *c, const json_t *jt, const char *path, struct task *t)
{
	struct pj_list l;
	json_t *v;
	long long port;
	size_t i;
	int rc;

	t->ports = pj_list_calloc(c, jt, path, "ports", sizeof(*t->ports), &l, &rc);
	if (!t->ports)
		return rc;
	json_array_foreach(l.json, i, v)
	{
		if (pj_int_item(c, v, l.path, i, 1, 65535, "a port number from 1 to 65535", &port) <
		    0)
			return -1;
		t->ports[t->nports++] = (uint32_t)port;
	}
	return 0;
}

static int parse_task_ips(struct pctx *c, const json_t *jt, const char *path, struct task *t)
{
	char ip[PATH_MAX_LEN];
	struct pj_list l;
	json_t *v;
	const char *addr;
	size_t i;
	int rc;

	t->ip_addresses =
	    pj_list_calloc(c, jt, path, "ipAddresses", sizeof(*t->ip_addresses), &l, &rc);
	if (!t->ip_addresses)
		return rc;
	json_array_foreach(l.json, i, v)
	{
		path_index(ip, sizeof(ip), l.path, i);
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
		t->ip_addresses[t->nip_addresses] = strdup(addr);
		if (!t->ip_addresses[t->nip_addresses++]) {
			pctx_error(c, ip, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int parse_task_state(struct pctx *c, const json_t *jt, const char *path, struct task *t)
{
	const char *s = NULL;
	char p[PATH_MAX_LEN];
	enum pj_status st = pj_string_at(c, jt, path, "state", &s, p, sizeof(p));

	/* A task listed without a state is one Marathon reports as running. */
	t->state = TASK_STATE_RUNNING;
	if (st != PJ_OK)
		return st == PJ_BAD ? -1 : 0;
	t->state_text = strdup(s);
	if (!t->state_text) {
		pctx_error(c, p, "out of memory");
		return -1;
	}
	if (task_state_parse(s, &t->state) < 0) {
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
	char got[64];
	int rc = 0;

	if (!json_is_object(jt)) {
		pctx_error(c, path, "expected a task object, got %s",
		           json_describe(jt, got, sizeof(got)));
		return -1;
	}
	if (task_string(c, jt, path, "id", task_id_valid,
	                "a Marathon task id (letters, digits, '-', '_' and '.', no \"..\")",
	                &t->id) < 0)
		return -1;
	if (!t->id) {
		pctx_error(c, path, "missing required field \"id\" (the task's id)");
		return -1;
	}
	if (task_string(c, jt, path, "host", task_host_valid, "a host name or an IP address",
	                &t->host) < 0)
		rc = -1;
	if (task_string(c, jt, path, "startedAt", NULL, NULL, &t->started_at) < 0)
		rc = -1;
	rc |= parse_task_ports(c, jt, path, t);
	rc |= parse_task_ips(c, jt, path, t);
	rc |= parse_task_state(c, jt, path, t);
	if (rc == 0)
		rc = netns_for_task(c, path, app, t);
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
	/* Out of memory is counted against the app: without its tasks it must
	 * not look empty. */
	app->tasks = pj_calloc(c, p, json_array_size(list), sizeof(*app->tasks));
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
