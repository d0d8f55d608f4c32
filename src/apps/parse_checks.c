/*
 * healthChecks with every Marathon field, Marathon's defaults, and the
 * validation Marathon applies (a check must address a port the app has).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"

static const struct {
	const char *name;
	enum hc_protocol proto;
} hc_protocols[] = {
    {"HTTP", HC_PROTO_HTTP},
    {"HTTPS", HC_PROTO_HTTPS},
    {"TCP", HC_PROTO_TCP},
    {"COMMAND", HC_PROTO_COMMAND},
    {"MESOS_HTTP", HC_PROTO_MESOS_HTTP},
    {"MESOS_HTTPS", HC_PROTO_MESOS_HTTPS},
    {"MESOS_TCP", HC_PROTO_MESOS_TCP},
};

/* The fields vipd reads; Marathon's ipProtocol (MESOS_HTTP's IP version) it
 * has no use for. */
static const char *const hc_fields[] = {
    "protocol",        "command",        "path",
    "portIndex",       "port",           "gracePeriodSeconds",
    "intervalSeconds", "timeoutSeconds", "maxConsecutiveFailures",
    "delaySeconds",    "ignoreHttp1xx",  NULL,
};
static const char *const hc_marathon_fields[] = {"ipProtocol", NULL};
static const char *const command_fields[] = {"value", NULL};

static int parse_protocol(struct pctx *c, const json_t *jc, const char *path, enum hc_protocol *out)
{
	const char *s = NULL;
	char p[PATH_MAX_LEN];
	enum pj_status st = pj_string_at(c, jc, path, "protocol", &s, p, sizeof(p));

	*out = HC_PROTO_HTTP; /* Marathon's default */
	if (st != PJ_OK)
		return st == PJ_BAD ? -1 : 0;
	for (size_t i = 0; i < sizeof(hc_protocols) / sizeof(hc_protocols[0]); i++) {
		if (strcmp(s, hc_protocols[i].name) == 0) {
			*out = hc_protocols[i].proto;
			return 0;
		}
	}
	pctx_error(c, p,
	           "expected one of HTTP, HTTPS, TCP, COMMAND, MESOS_HTTP, MESOS_HTTPS, "
	           "MESOS_TCP, got \"%s\"",
	           s);
	return -1;
}

/* A COMMAND runs as `shell -c COMMAND`: one argument string, which Linux
 * refuses past MAX_ARG_STRLEN (32 pages: 131072 bytes with its NUL) with
 * E2BIG, so such a check could never run. */
#define HC_COMMAND_MAX_BYTES (131072 - 1)

static int parse_command(struct pctx *c, const json_t *jc, const char *path,
                         struct health_check *hc)
{
	char cpath[PATH_MAX_LEN], p[PATH_MAX_LEN];
	json_t *cmd = NULL;
	const char *value = NULL;

	switch (pj_typed(c, jc, path, "command", JSON_OBJECT, &cmd)) {
	case PJ_BAD:
		return -1;
	case PJ_ABSENT:
		if (hc->protocol == HC_PROTO_COMMAND) {
			pctx_error(c, path,
			           "missing required field \"command\" for protocol COMMAND");
			return -1;
		}
		return 0;
	case PJ_OK:
		break;
	}
	path_key(cpath, sizeof(cpath), path, "command");
	pj_warn_unknown(c, cmd, cpath, command_fields, NULL, false);
	switch (pj_string(c, cmd, cpath, "value", &value)) {
	case PJ_BAD:
		return -1;
	case PJ_ABSENT:
		pctx_error(c, cpath, "missing required field \"value\" (the command to run)");
		return -1;
	case PJ_OK:
		break;
	}
	path_key(p, sizeof(p), cpath, "value");
	if (value[0] == '\0') {
		pctx_error(c, p, "expected a command, got \"\"");
		return -1;
	}
	if (strlen(value) > HC_COMMAND_MAX_BYTES) {
		pctx_error(c, p,
		           "expected a command of at most %d bytes (Linux's limit for one "
		           "argument, MAX_ARG_STRLEN: every run would fail with \"Argument list "
		           "too long\"), got %zu bytes",
		           HC_COMMAND_MAX_BYTES, strlen(value));
		return -1;
	}
	hc->command = pj_strdup(c, p, value);
	return hc->command ? 0 : -1;
}

/* Reads an optional non-negative integer field into *out (left unchanged
 * when absent). `min` is 1 for fields that must be positive. */
static int read_seconds(struct pctx *c, const json_t *jc, const char *path, const char *key,
                        long long min, unsigned *out)
{
	long long v;
	enum pj_status st = pj_int(c, jc, path, key, min, INT32_MAX,
	                           min > 0 ? "a positive integer" : "an integer >= 0", &v);

	if (st == PJ_OK)
		*out = (unsigned)v;
	return st == PJ_BAD ? -1 : 0;
}

static int parse_timing(struct pctx *c, const json_t *jc, const char *path, struct health_check *hc)
{
	int rc = 0;

	rc |= read_seconds(c, jc, path, "gracePeriodSeconds", 0, &hc->grace_period_s);
	rc |= read_seconds(c, jc, path, "intervalSeconds", 1, &hc->interval_s);
	rc |= read_seconds(c, jc, path, "timeoutSeconds", 1, &hc->timeout_s);
	rc |= read_seconds(c, jc, path, "maxConsecutiveFailures", 0, &hc->max_consecutive_failures);
	rc |= read_seconds(c, jc, path, "delaySeconds", 0, &hc->delay_s);
	if (pj_bool(c, jc, path, "ignoreHttp1xx", &hc->ignore_http1xx) == PJ_BAD)
		rc = -1;
	if (rc == 0 && hc->timeout_s >= hc->interval_s)
		pctx_warning(
		    c, path,
		    "timeoutSeconds (%u) is not below intervalSeconds (%u): a check still "
		    "running when the next one is due is cancelled and counts as a timeout",
		    hc->timeout_s, hc->interval_s);
	return rc;
}

static int parse_target(struct pctx *c, const json_t *jc, const char *path, struct health_check *hc,
                        const struct app *app)
{
	long long idx = 0, port = 0;
	enum pj_status si = pj_int(c, jc, path, "portIndex", 0, 65535, "an integer >= 0", &idx);
	enum pj_status sp =
	    pj_int(c, jc, path, "port", 1, 65535, "a port number from 1 to 65535", &port);
	char p[PATH_MAX_LEN];

	if (si == PJ_BAD || sp == PJ_BAD)
		return -1;
	if (si == PJ_OK && sp == PJ_OK) {
		pctx_error(c, path, "expected either \"portIndex\" or \"port\", got both");
		return -1;
	}
	hc->port = (int)port;
	hc->port_index = sp == PJ_OK ? -1 : (int)idx;
	/* COMMAND checks use ports only through $PORTn. */
	if (hc->protocol == HC_PROTO_COMMAND || hc->port_index < 0 ||
	    (size_t)hc->port_index < app->nports)
		return 0;
	if (si == PJ_OK) {
		path_key(p, sizeof(p), path, "portIndex");
		pctx_error(c, p,
		           "expected a port index below %zu (the app has %zu port%s), got %lld",
		           app->nports, app->nports, app->nports == 1 ? "" : "s", idx);
	} else {
		pctx_error(c, path,
		           "the app has no ports for this %s check to use: add portDefinitions "
		           "or set \"port\"",
		           hc_protocol_name(hc->protocol));
	}
	return -1;
}

static int parse_path(struct pctx *c, const json_t *jc, const char *path, struct health_check *hc)
{
	const char *s = HC_DEFAULT_PATH;
	char p[PATH_MAX_LEN];

	if (pj_string(c, jc, path, "path", &s) == PJ_BAD)
		return -1;
	if (s[0] != '/') {
		path_key(p, sizeof(p), path, "path");
		pctx_error(c, p, "expected a path starting with \"/\", got \"%s\"", s);
		return -1;
	}
	hc->path = pj_strdup(c, path, s);
	return hc->path ? 0 : -1;
}

static int parse_check(struct pctx *c, const json_t *jc, const char *path, struct health_check *hc,
                       const struct app *app)
{
	char got[64];
	int rc = 0;

	*hc = (struct health_check){
	    .grace_period_s = HC_DEFAULT_GRACE_PERIOD_S,
	    .interval_s = HC_DEFAULT_INTERVAL_S,
	    .timeout_s = HC_DEFAULT_TIMEOUT_S,
	    .max_consecutive_failures = HC_DEFAULT_MAX_CONSECUTIVE_FAILURES,
	    .delay_s = HC_DEFAULT_DELAY_S,
	    .json_path = pj_strdup(c, path, path),
	};
	if (hc->json_path == NULL)
		return -1;
	if (!json_is_object(jc)) {
		pctx_error(c, path, "expected a health check object, got %s",
		           json_describe(jc, got, sizeof(got)));
		return -1;
	}
	pj_warn_unknown(c, jc, path, hc_fields, hc_marathon_fields, false);
	if (parse_protocol(c, jc, path, &hc->protocol) < 0)
		return -1;
	rc |= parse_command(c, jc, path, hc);
	rc |= parse_path(c, jc, path, hc);
	rc |= parse_timing(c, jc, path, hc);
	rc |= parse_target(c, jc, path, hc, app);
	return rc ? -1 : 0;
}

int parse_checks(struct pctx *c, const json_t *japp, const char *path, struct app *app)
{
	char ip[PATH_MAX_LEN];
	struct pj_list l;
	json_t *v;
	size_t i;
	int rc;

	app->checks = pj_list_calloc(c, japp, path, "healthChecks", sizeof(*app->checks), &l, &rc);
	if (!app->checks)
		return rc;
	json_array_foreach(l.json, i, v)
	{
		path_index(ip, sizeof(ip), l.path, i);
		if (parse_check(c, v, ip, &app->checks[i], app) < 0)
			rc = -1;
		app->nchecks = i + 1;
	}
	return rc;
}
