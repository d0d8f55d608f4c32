/*
 * Marathon documents as users have them: one app, {"app": ...}, the
 * /v2/apps list, a JSON array of apps, and (nested) groups with ids relative
 * to their group, resolved as Marathon's PathId does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"
#include "vipd/apps.h"
#include "vipd/errbuf.h"
#include "vipd/vec.h"

#define ID_MAX_LEN 256

/* An app's fields vipd reads, and Marathon's others (AppDefinition and what
 * /v2/apps adds): a key near one of the first and none of these is a typo. */
static const char *const app_fields[] = {
    "id", "labels", "portDefinitions", "ports", "container", "healthChecks", "tasks", NULL,
};
static const char *const app_marathon_fields[] = {
    "cmd",
    "args",
    "user",
    "env",
    "instances",
    "cpus",
    "mem",
    "disk",
    "gpus",
    "executor",
    "constraints",
    "uris",
    "fetch",
    "storeUrls",
    "backoffSeconds",
    "backoffFactor",
    "maxLaunchDelaySeconds",
    "readinessChecks",
    "dependencies",
    "upgradeStrategy",
    "acceptedResourceRoles",
    "ipAddress",
    "version",
    "versionInfo",
    "residency",
    "secrets",
    "taskKillGracePeriodSeconds",
    "requirePorts",
    "killSelection",
    "unreachableStrategy",
    "networks",
    "tasksStaged",
    "tasksRunning",
    "tasksHealthy",
    "tasksUnhealthy",
    "deployments",
    "lastTaskFailure",
    "role",
    "check",
    "resourceLimits",
    "tty",
    "taskStats",
    "readinessCheckResults",
    NULL,
};

/* Marathon's id segment rule: dot-separated labels of [a-z0-9-], not
 * starting or ending with a hyphen. */
static int id_segment_valid(const char *s, size_t n)
{
	size_t label_start = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (i == label_start || s[label_start] == '-' || s[i - 1] == '-')
				return 0;
			label_start = i + 1;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	}
	return 1;
}

/* Joins `id` to `parent` unless absolute, folding "." and "..". Returns 0, or
 * -1 with a reason in err. */
static int id_resolve(const char *parent, const char *id, char *out, size_t len, char *err,
                      size_t errlen)
{
	char joined[ID_MAX_LEN * 2];
	size_t n = 0;
	char *save = NULL, *seg;

	if (strlen(id) >= ID_MAX_LEN) {
		errbuf_set(err, errlen, "expected an id shorter than %d characters", ID_MAX_LEN);
		return -1;
	}
	if (id[0] == '/')
		snprintf(joined, sizeof(joined), "%s", id);
	else
		snprintf(joined, sizeof(joined), "%s/%s", parent, id);
	out[0] = '\0';
	for (seg = strtok_r(joined, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			char *slash = strrchr(out, '/');

			if (!slash) {
				errbuf_set(err, errlen, "expected an id inside the root group");
				return -1;
			}
			*slash = '\0';
			n = (size_t)(slash - out);
			continue;
		}
		if (!id_segment_valid(seg, strlen(seg))) {
			errbuf_set(err, errlen,
			           "expected an id of lowercase letters, digits, '-' and '.' "
			           "(segment \"%s\" is not)",
			           seg);
			return -1;
		}
		n += (size_t)snprintf(out + n, len - n, "/%s", seg);
		if (n >= len) {
			errbuf_set(err, errlen, "expected a shorter id");
			return -1;
		}
	}
	if (n == 0)
		snprintf(out, len, "/");
	return 0;
}

static enum pj_status read_id(struct pctx *c, const json_t *obj, const char *path,
                              const char *parent, char *out, size_t len)
{
	const char *id = NULL;
	char err[160], p[PATH_MAX_LEN];
	enum pj_status st = pj_string(c, obj, path, "id", &id);

	if (st != PJ_OK)
		return st;
	if (id_resolve(parent, id, out, len, err, sizeof(err)) < 0) {
		path_key(p, sizeof(p), path, "id");
		pctx_error(c, p, "%s, got \"%s\"", err, id);
		return PJ_BAD;
	}
	return PJ_OK;
}

const struct app *apps_find(const struct apps_set *set, const char *id)
{
	for (size_t i = 0; i < set->napps; i++)
		if (strcmp(set->apps[i].id, id) == 0)
			return &set->apps[i];
	return NULL;
}

static int apps_push(struct apps_set *set, struct app *app)
{
	if (VEC_RESERVE(set->apps, set->cap, set->napps + 1) < 0)
		return -1;
	set->apps[set->napps++] = *app;
	return 0;
}

static int app_check_unique(struct pctx *c, const char *id, const char *path)
{
	const struct app *prev = apps_find(c->set, id);
	char p[PATH_MAX_LEN];

	if (!prev)
		return 0;
	path_key(p, sizeof(p), path, "id");
	pctx_error(c, p, "duplicate app id \"%s\" (first defined in %s at %s)", id, prev->source,
	           prev->json_path[0] ? prev->json_path : "/");
	return -1;
}

static void parse_app(struct pctx *c, const json_t *japp, const char *path, const char *parent)
{
	struct app app = {0};
	char id[ID_MAX_LEN], got[64];
	size_t errors_before = c->errors;

	if (!json_is_object(japp)) {
		pctx_error(c, path, "expected an app object, got %s",
		           json_describe(japp, got, sizeof(got)));
		return;
	}
	switch (read_id(c, japp, path, parent, id, sizeof(id))) {
	case PJ_ABSENT:
		pctx_error(c, path, "missing required field \"id\" (the app's id)");
		return;
	case PJ_BAD:
		return;
	case PJ_OK:
		break;
	}
	if (strcmp(id, "/") == 0) {
		pctx_error(c, path, "expected an app id, got the root group \"/\"");
		return;
	}
	if (app_check_unique(c, id, path) < 0)
		return;
	app.id = pj_strdup(c, path, id);
	app.source = pj_strdup(c, path, c->file);
	app.json_path = pj_strdup(c, path, path);
	/* Every part is read even after an error: one run reports every problem. */
	pj_warn_unknown(c, japp, path, app_fields, app_marathon_fields, true);
	pj_labels(c, japp, path, &app.labels, &app.nlabels);
	parse_ports(c, japp, path, &app);
	parse_checks(c, japp, path, &app);
	parse_tasks(c, japp, path, &app);
	if (c->errors != errors_before) {
		app_free(&app);
		return;
	}
	if (apps_push(c->set, &app) < 0) {
		pctx_error(c, path, "out of memory");
		app_free(&app);
	}
}

static void parse_group(struct pctx *c, const json_t *g, const char *path, const char *parent)
{
	char gid[ID_MAX_LEN], p[PATH_MAX_LEN], ip[PATH_MAX_LEN];
	json_t *list = NULL;
	size_t i;
	json_t *v;

	switch (read_id(c, g, path, parent, gid, sizeof(gid))) {
	case PJ_ABSENT:
		snprintf(gid, sizeof(gid), "%s", parent);
		break;
	case PJ_BAD:
		return;
	case PJ_OK:
		break;
	}
	if (pj_typed(c, g, path, "apps", JSON_ARRAY, &list) == PJ_OK) {
		path_key(p, sizeof(p), path, "apps");
		json_array_foreach(list, i, v)
		{
			path_index(ip, sizeof(ip), p, i);
			parse_app(c, v, ip, gid);
		}
	}
	list = NULL;
	if (pj_typed(c, g, path, "groups", JSON_ARRAY, &list) != PJ_OK)
		return;
	path_key(p, sizeof(p), path, "groups");
	json_array_foreach(list, i, v)
	{
		path_index(ip, sizeof(ip), p, i);
		if (!json_is_object(v)) {
			char got[64];

			pctx_error(c, ip, "expected a group object, got %s",
			           json_describe(v, got, sizeof(got)));
			continue;
		}
		parse_group(c, v, ip, gid);
	}
}

static void parse_document(struct pctx *c, const json_t *root)
{
	char got[64], p[PATH_MAX_LEN];
	size_t i;
	json_t *v;

	if (json_is_array(root)) {
		json_array_foreach(root, i, v)
		{
			path_index(p, sizeof(p), "", i);
			parse_app(c, v, p, "/");
		}
		return;
	}
	if (!json_is_object(root)) {
		pctx_error(c, "",
		           "expected an app, {\"app\": ...}, {\"apps\": [...]} or a group, got %s",
		           json_describe(root, got, sizeof(got)));
		return;
	}
	if (json_object_get(root, "app")) {
		parse_app(c, json_object_get(root, "app"), "/app", "/");
		return;
	}
	if (json_object_get(root, "apps") || json_object_get(root, "groups")) {
		parse_group(c, root, "", "/");
		return;
	}
	if (json_object_get(root, "id")) {
		parse_app(c, root, "", "/");
		return;
	}
	pctx_error(c, "",
	           "expected an app (with \"id\"), {\"app\": ...}, {\"apps\": [...]} or a group");
}

int apps_load_buffer(struct apps_set *set, const char *name, const char *buf, size_t len)
{
	struct pctx c = {.set = set, .file = name};
	json_error_t jerr;
	json_t *root;

	if (len > APPS_MAX_FILE_BYTES) {
		pctx_error(&c, "", "file too large: %zu bytes (the limit is %u)", len,
		           APPS_MAX_FILE_BYTES);
		return -1;
	}
	/* A file read is counted even when it turns out not to be JSON. */
	set->files_read++;
	root = json_loadb(buf, len, 0, &jerr);
	if (!root) {
		pctx_error(&c, "", "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
		           jerr.text);
		return -1;
	}
	parse_document(&c, root);
	json_decref(root);
	return 0;
}
