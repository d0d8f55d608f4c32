/*
 * An app's ports: portDefinitions (or the legacy "ports" list) for host
 * networking, container port mappings otherwise. VIP labels live on them.
 */
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"

#define PORT_EXPECTED "a port number from 0 to 65535"

/* The fields vipd reads of a portDefinitions entry and of a portMappings
 * entry, and Marathon's mapping fields it has no use for. */
static const char *const definition_fields[] = {"port", "protocol", "name", "labels", NULL};
static const char *const mapping_fields[] = {"containerPort", "hostPort", "protocol",
                                             "name",          "labels",   NULL};
static const char *const mapping_marathon_fields[] = {"servicePort", "networkNames", NULL};

static int parse_protocols(struct pctx *c, const json_t *jp, const char *path, unsigned *out)
{
	const char *s = NULL;
	char p[PATH_MAX_LEN];
	enum pj_status st = pj_string_at(c, jp, path, "protocol", &s, p, sizeof(p));

	*out = PORT_PROTO_TCP; /* Marathon's default */
	if (st != PJ_OK)
		return st == PJ_BAD ? -1 : 0;
	if (strcmp(s, "tcp") == 0)
		*out = PORT_PROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		*out = PORT_PROTO_UDP;
	else if (strcmp(s, "tcp,udp") == 0 || strcmp(s, "udp,tcp") == 0)
		*out = PORT_PROTO_TCP | PORT_PROTO_UDP;
	else {
		pctx_error(c, p, "expected \"tcp\", \"udp\" or \"tcp,udp\", got \"%s\"", s);
		return -1;
	}
	return 0;
}

/* One portDefinitions or portMappings entry; `port_key` is "port" or
 * "containerPort". */
static int parse_port(struct pctx *c, const json_t *jp, const char *path, const char *port_key,
                      struct port_def *out)
{
	const char *name = NULL;
	long long v = 0;
	char got[64];
	int rc = 0;

	if (!json_is_object(jp)) {
		pctx_error(c, path, "expected a port object, got %s",
		           json_describe(jp, got, sizeof(got)));
		return -1;
	}
	if (strcmp(port_key, "containerPort") == 0)
		pj_warn_unknown(c, jp, path, mapping_fields, mapping_marathon_fields, false);
	else
		pj_warn_unknown(c, jp, path, definition_fields, NULL, false);
	if (pj_int(c, jp, path, port_key, 0, 65535, PORT_EXPECTED, &v) == PJ_BAD)
		rc = -1;
	out->port = (uint32_t)v;
	v = 0;
	if (strcmp(port_key, "containerPort") == 0 &&
	    pj_int(c, jp, path, "hostPort", 0, 65535, PORT_EXPECTED, &v) == PJ_BAD)
		rc = -1;
	out->host_port = (uint32_t)v;
	if (parse_protocols(c, jp, path, &out->protocols) < 0)
		rc = -1;
	if (pj_string(c, jp, path, "name", &name) == PJ_BAD)
		rc = -1;
	out->name = name ? pj_strdup(c, path, name) : NULL;
	if (name && !out->name)
		rc = -1;
	if (pj_labels(c, jp, path, &out->labels, &out->nlabels) < 0)
		rc = -1;
	return rc;
}

/* Marathon before 1.x took "ports": [8080, 8081]; item i of that list. */
static int parse_legacy_port(struct pctx *c, const json_t *v, const char *path, size_t i,
                             struct port_def *out)
{
	long long port;

	if (pj_int_item(c, v, path, i, 0, 65535, PORT_EXPECTED, &port) < 0)
		return -1;
	*out = (struct port_def){.port = (uint32_t)port, .protocols = PORT_PROTO_TCP};
	return 0;
}

/* portDefinitions or portMappings (port_key "port" or "containerPort"):
 * an entry with errors is kept, its index stays its port index; or the
 * legacy list of numbers (port_key NULL): a wrong number is left out. */
static int parse_port_list(struct pctx *c, const json_t *list, const char *path,
                           const char *port_key, struct app *app)
{
	char ip[PATH_MAX_LEN];
	size_t i;
	json_t *v;
	int rc = 0, item;

	app->ports = pj_calloc(c, path, json_array_size(list), sizeof(*app->ports));
	if (!app->ports)
		return -1;
	json_array_foreach(list, i, v)
	{
		struct port_def *out = &app->ports[app->nports];

		if (port_key) {
			path_index(ip, sizeof(ip), path, i);
			item = parse_port(c, v, ip, port_key, out);
		} else {
			item = parse_legacy_port(c, v, path, i, out);
		}
		if (item < 0)
			rc = -1;
		if (item == 0 || port_key)
			app->nports++;
	}
	return rc;
}

/* Marathon 1.5 moved portMappings from container.docker to container. */
static const json_t *find_port_mappings(const json_t *japp, char *path, size_t len,
                                        const char *app_path)
{
	const json_t *container = json_object_get(japp, "container");
	const json_t *docker, *pm;
	char cpath[PATH_MAX_LEN], dpath[PATH_MAX_LEN];

	if (!json_is_object(container))
		return NULL;
	path_key(cpath, sizeof(cpath), app_path, "container");
	pm = json_object_get(container, "portMappings");
	if (pm && !json_is_null(pm)) {
		path_key(path, len, cpath, "portMappings");
		return pm;
	}
	docker = json_object_get(container, "docker");
	if (!json_is_object(docker))
		return NULL;
	pm = json_object_get(docker, "portMappings");
	if (!pm || json_is_null(pm))
		return NULL;
	/* Distinct buffers: snprintf from a buffer into itself is undefined. */
	path_key(dpath, sizeof(dpath), cpath, "docker");
	path_key(path, len, dpath, "portMappings");
	return pm;
}

int parse_ports(struct pctx *c, const json_t *japp, const char *path, struct app *app)
{
	char p[PATH_MAX_LEN], got[64];
	const json_t *pm = find_port_mappings(japp, p, sizeof(p), path);
	json_t *list = NULL;

	if (pm) {
		if (!json_is_array(pm)) {
			pctx_error(c, p, "expected an array, got %s",
			           json_describe(pm, got, sizeof(got)));
			return -1;
		}
		app->ports_are_mappings = true;
		return parse_port_list(c, pm, p, "containerPort", app);
	}
	switch (pj_typed(c, japp, path, "portDefinitions", JSON_ARRAY, &list)) {
	case PJ_OK:
		path_key(p, sizeof(p), path, "portDefinitions");
		return parse_port_list(c, list, p, "port", app);
	case PJ_BAD:
		return -1;
	case PJ_ABSENT:
		break;
	}
	switch (pj_typed(c, japp, path, "ports", JSON_ARRAY, &list)) {
	case PJ_OK:
		path_key(p, sizeof(p), path, "ports");
		return parse_port_list(c, list, p, NULL, app);
	case PJ_BAD:
		return -1;
	case PJ_ABSENT:
		break;
	}
	return 0;
}
