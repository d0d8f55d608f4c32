/*
 * vipctl status: a running vipd's own health, read from its API's
 * /v1/status (docs/api.md): version and uptime, the apps loaded and the
 * last load, the check load, the dataplane and its last kernel error. A
 * table for people, --json for scripts (the document as vipd gives it).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct live_opts {
	const char *api;
	bool json;
};

static int on_option(int opt, const char *arg, void *ctx)
{
	struct live_opts *o = ctx;

	if (opt == 'a')
		o->api = arg;
	else
		o->json = true;
	return 0;
}

static const struct option status_longopts[] = {
    {"api", required_argument, NULL, 'a'},
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

static json_int_t num(const json_t *o, const char *path_a, const char *path_b)
{
	return json_integer_value(json_object_get(json_object_get(o, path_a), path_b));
}

static const char *str(const json_t *o, const char *a, const char *b)
{
	const char *s =
	    json_string_value(json_object_get(b ? json_object_get(o, a) : o, b ? b : a));

	return s ? s : "";
}

static void print_uptime(const json_t *d)
{
	long s = (long)json_number_value(json_object_get(d, "uptime_seconds"));

	printf("%-8s %s (vipd %s), up %ldd %02ldh %02ldm %02lds\n", "started",
	       str(d, "started", NULL), str(d, "version", NULL), s / 86400, s / 3600 % 24,
	       s / 60 % 60, s % 60);
}

static void print_status(const json_t *d)
{
	const json_t *lb = json_object_get(d, "lb"), *err = json_object_get(lb, "last_error");

	print_uptime(d);
	printf("%-8s %s: %lld apps, %lld tasks, %lld errors\n", "apps", str(d, "apps", "path"),
	       (long long)num(d, "apps", "apps"), (long long)num(d, "apps", "tasks"),
	       (long long)num(d, "apps", "errors"));
	printf("%-8s %lld, last %s: %lld apps, %lld kept at their last good definition\n", "loads",
	       (long long)num(d, "loads", "count"), str(d, "loads", "last"),
	       (long long)num(d, "loads", "apps"), (long long)num(d, "loads", "kept_last_good"));
	printf("%-8s %lld instances, %lld in flight, %lld waiting, %lld completed, %lld overload "
	       "skips, %lld overruns, timer lateness p99 %.1f ms\n",
	       "checks", (long long)num(d, "checks", "instances"),
	       (long long)num(d, "checks", "in_flight"), (long long)num(d, "checks", "waiting"),
	       (long long)num(d, "checks", "completed"),
	       (long long)num(d, "checks", "overload_skips"),
	       (long long)num(d, "checks", "overruns"),
	       json_number_value(
	           json_object_get(json_object_get(d, "checks"), "timer_lateness_p99_ms")));
	printf("%-8s %s, %lld services, %lld rounds, %lld operations applied, %lld failed\n",
	       "ipvs", json_is_true(json_object_get(lb, "ipvs")) ? "applied" : "off (planned only)",
	       (long long)num(d, "lb", "services"), (long long)num(d, "lb", "rounds"),
	       (long long)num(d, "lb", "ops_applied"), (long long)num(d, "lb", "ops_failed"));
	if (err)
		printf("%-8s %s: %s: %s\n", "error", str(err, "at", NULL), str(err, "op", NULL),
		       str(err, "error", NULL));
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct live_opts o = {0};
	const struct cli_spec spec = {
	    .name = "status",
	    .usage = "status [-c CONFIG] [--api ADDR:PORT] [--json]",
	    .shortopts = "",
	    .longopts = status_longopts,
	    .on_option = on_option,
	    .ctx = &o,
	};
	char where[80];
	json_t *doc;
	int first, rc = cli_parse(cli, &spec, argc, argv, &first);

	if (rc >= 0)
		return rc;
	if (first < argc) {
		fprintf(stderr, "vipctl status: unexpected operand \"%s\"\nusage: vipctl %s\n",
		        argv[first], spec.usage);
		return CLI_EXIT_USAGE;
	}
	rc = cli_api_address(cli, o.api, where, sizeof(where));
	if (rc == CLI_EXIT_OK)
		rc = cli_api_get(where, "/v1/status", &doc);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (o.json)
		rc = cli_api_print_json(doc);
	else
		print_status(doc);
	json_decref(doc);
	return rc;
}
