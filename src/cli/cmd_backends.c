/*
 * vipctl backends: which backends of each VIP are in rotation on a running
 * vipd, and why the others are not, in one command (issue 11): per VIP
 * `k/n in rotation`, per backend its task, health, weight, phase and the
 * reason (the failing check and its output), and the kernel's active and
 * inactive connections when vipd reads them, from the API's /v1/vips. A
 * VIP with no backend in rotation stands out and makes the exit code 1.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define NCOLS 8
/* Without the kernel's counters (vipd --no-ipvs, or none read yet) the last
 * two columns (ActiveConn, InActConn, as ipvsadm names them) are left out. */
#define NCOLS_PLANNED 6

struct backends_opts {
	const char *api;
	bool json;
};

static int on_option(int opt, const char *arg, void *ctx)
{
	struct backends_opts *o = ctx;

	if (opt == 'a')
		o->api = arg;
	else
		o->json = true;
	return 0;
}

static const struct option backends_longopts[] = {
    {"api", required_argument, NULL, 'a'},
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* The first failing check's last result: "check 0 HTTP: http_status, HTTP
 * 500: <output>"; "" when every check's last result passed. */
static void failing_check(const json_t *b, char *out, size_t len)
{
	size_t i;
	json_t *c;

	out[0] = '\0';
	json_array_foreach(json_object_get(b, "checks"), i, c)
	{
		const json_t *last = json_object_get(c, "last");
		char code[32] = "";

		if (!last || strcmp(str(last, "outcome"), "ok") == 0)
			continue;
		if (json_object_get(last, "http_status"))
			snprintf(
			    code, sizeof(code), ", HTTP %lld",
			    (long long)json_integer_value(json_object_get(last, "http_status")));
		else if (json_object_get(last, "exit_code"))
			snprintf(code, sizeof(code), ", exit %lld",
			         (long long)json_integer_value(json_object_get(last, "exit_code")));
		snprintf(out, len, "check %zu %s: %s%s: %s", i, str(c, "protocol"),
		         str(last, "outcome"), code, str(last, "output"));
		out[strcspn(out, "\r\n")] = '\0';
		return;
	}
}

/* Why a backend is out of rotation; "" when it is in. */
static void backend_reason(const json_t *b, char *out, size_t len)
{
	char check[700];
	const char *health = str(b, "health");

	out[0] = '\0';
	if (json_is_true(json_object_get(b, "in_rotation")))
		return;
	failing_check(b, check, sizeof(check));
	if (!check[0] && strcmp(health, "unknown") == 0)
		snprintf(check, sizeof(check), "no check result yet");
	else if (!check[0] && !json_object_get(b, "address"))
		snprintf(check, sizeof(check), "no usable address");
	else if (!check[0])
		snprintf(check, sizeof(check), "%s, not in the table", health);
	if (strcmp(str(b, "phase"), "draining") == 0)
		snprintf(out, len, "draining (%.0f s left): %s",
		         json_number_value(json_object_get(b, "drain_seconds_left")), check);
	else
		snprintf(out, len, "%s", check);
}

static size_t count_in(const json_t *v)
{
	size_t i, k = 0;
	json_t *b;

	json_array_foreach(json_object_get(v, "backends"), i, b) k +=
	    json_is_true(json_object_get(b, "in_rotation"));
	return k;
}

/* Whether the operands name this VIP: its name, its ADDR:PORT, or the app
 * of one of its backends. No operands: every VIP. */
static bool vip_wanted(const json_t *v, int n, char **names)
{
	size_t i;
	json_t *b;

	if (n == 0)
		return true;
	for (int k = 0; k < n; k++) {
		if (strcmp(names[k], str(v, "name")) == 0 || strcmp(names[k], str(v, "vip")) == 0)
			return true;
		json_array_foreach(json_object_get(v, "backends"), i,
		                   b) if (strcmp(names[k], str(b, "app")) == 0) return true;
	}
	return false;
}

/* A kernel connection count of the backend; "-" when the kernel has no
 * such destination (out of the table). */
static void conn_cell(const json_t *b, const char *key, char cell[160])
{
	const json_t *n = json_object_get(json_object_get(b, "kernel"), key);

	if (n)
		(void)snprintf(cell, 160, "%lld", (long long)json_integer_value(n));
	else
		(void)snprintf(cell, 160, "-");
}

static void row_cells(const json_t *b, char cells[NCOLS][160])
{
	snprintf(cells[0], 160, "%s", str(b, "task"));
	snprintf(cells[1], 160, "%s", str(b, "app"));
	snprintf(cells[2], 160, "%s", json_object_get(b, "address") ? str(b, "address") : "-");
	snprintf(cells[3], 160, "%s", str(b, "health"));
	snprintf(cells[4], 160, "%lld",
	         (long long)json_integer_value(json_object_get(b, "weight")));
	snprintf(cells[5], 160, "%s", str(b, "phase"));
	conn_cell(b, "active_connections", cells[6]);
	conn_cell(b, "inactive_connections", cells[7]);
}

static void print_vip(const json_t *v)
{
	static const char *const head[NCOLS] = {"TASK",   "APP",   "ADDRESS",    "HEALTH",
	                                        "WEIGHT", "PHASE", "ACTIVECONN", "INACTCONN"};
	const json_t *bs = json_object_get(v, "backends");
	size_t ncols = json_object_get(v, "kernel") ? NCOLS : NCOLS_PLANNED;
	size_t width[NCOLS], i, n = json_array_size(bs), k = count_in(v);
	char cells[NCOLS][160], reason[1024];
	json_t *b;

	printf("%s%s%s %s: %zu/%zu in rotation%s\n", str(v, "name"),
	       json_object_get(v, "name") ? " " : "", str(v, "vip"), str(v, "protocol"), k, n,
	       k == 0 ? "  << NO BACKEND IN ROTATION" : "");
	for (size_t c = 0; c < ncols; c++)
		width[c] = strlen(head[c]);
	json_array_foreach(bs, i, b)
	{
		row_cells(b, cells);
		for (size_t c = 0; c < ncols; c++)
			if (strlen(cells[c]) > width[c])
				width[c] = strlen(cells[c]);
	}
	printf(" ");
	for (size_t c = 0; c < ncols; c++)
		printf(" %-*s", (int)width[c], head[c]);
	printf(" REASON\n");
	json_array_foreach(bs, i, b)
	{
		row_cells(b, cells);
		backend_reason(b, reason, sizeof(reason));
		printf(" ");
		for (size_t c = 0; c < ncols; c++)
			printf(" %-*s", (int)width[c], cells[c]);
		printf(" %s\n", reason[0] ? reason : "-");
	}
}

static json_t *vip_summary(const json_t *v)
{
	json_t *bs = json_array(), *b;
	size_t i;
	char reason[1024];

	json_array_foreach(json_object_get(v, "backends"), i, b)
	{
		json_t *o =
		    json_pack("{s:s, s:s, s:O*, s:s, s:O, s:s, s:O}", "app", str(b, "app"), "task",
		              str(b, "task"), "address", json_object_get(b, "address"), "health",
		              str(b, "health"), "weight", json_object_get(b, "weight"), "phase",
		              str(b, "phase"), "in_rotation", json_object_get(b, "in_rotation"));

		const json_t *k = json_object_get(b, "kernel");

		backend_reason(b, reason, sizeof(reason));
		if (o && reason[0])
			json_object_set_new(o, "reason", json_string(reason));
		if (o && k) {
			json_object_set(o, "active_connections",
			                json_object_get(k, "active_connections"));
			json_object_set(o, "inactive_connections",
			                json_object_get(k, "inactive_connections"));
		}
		json_array_append_new(bs, o);
	}
	return json_pack("{s:s, s:s, s:O*, s:I, s:I, s:o}", "vip", str(v, "vip"), "protocol",
	                 str(v, "protocol"), "name", json_object_get(v, "name"), "in_rotation",
	                 (json_int_t)count_in(v), "backends_total",
	                 (json_int_t)json_array_size(json_object_get(v, "backends")), "backends",
	                 bs);
}

/* The VIPs asked for, printed; how many have no backend in rotation in
 * *dark, how many were shown in *shown. */
static json_t *report(const json_t *doc, const struct backends_opts *o, int n, char **names,
                      size_t *shown, size_t *dark)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(json_object_get(doc, "vips"), i, v)
	{
		if (!vip_wanted(v, n, names))
			continue;
		if (o->json)
			json_array_append_new(out, vip_summary(v));
		else
			print_vip(v);
		(*shown)++;
		*dark += count_in(v) == 0;
	}
	return out;
}

int cmd_backends(struct cli *cli, int argc, char **argv)
{
	struct backends_opts o = {0};
	const struct cli_spec spec = {
	    .name = "backends",
	    .usage = "backends [-c CONFIG] [--api ADDR:PORT] [--json] [VIP|APP...]",
	    .shortopts = "",
	    .longopts = backends_longopts,
	    .on_option = on_option,
	    .ctx = &o,
	};
	size_t shown = 0, dark = 0;
	char where[80];
	json_t *doc, *vips;
	int first, rc = cli_parse(cli, &spec, argc, argv, &first);

	if (rc >= 0)
		return rc;
	rc = cli_api_address(cli, o.api, where, sizeof(where));
	if (rc == CLI_EXIT_OK)
		rc = cli_api_get(where, "/v1/vips", &doc);
	if (rc != CLI_EXIT_OK)
		return rc;
	vips = report(doc, &o, argc - first, argv + first, &shown, &dark);
	json_decref(doc);
	if (o.json) {
		doc = json_pack("{s:i, s:b, s:o}", "schema", 1, "ok", shown > 0 && dark == 0,
		                "vips", vips);
		rc = doc ? cli_api_print_json(doc) : CLI_EXIT_FAIL;
		json_decref(doc);
	} else {
		json_decref(vips);
		if (shown)
			printf("%zu VIPs, %zu with no backend in rotation\n", shown, dark);
	}
	if (shown == 0 && argc > first) {
		fprintf(stderr, "vipctl backends: no VIP or app named \"%s\" on vipd at %s\n",
		        argv[first], where);
		return CLI_EXIT_FAIL;
	}
	return rc != CLI_EXIT_OK ? rc : dark ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
