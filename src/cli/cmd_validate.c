/*
 * vipctl validate: the located errors of app definitions, or a summary of
 * what vipd understood of them (apps, ports and VIP labels, checks, tasks);
 * --json gives the same as one document (dist/man/vipctl.8).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vipd/vip.h"

struct totals {
	size_t tasks, checks, vips;
	size_t by_kind[4];
};

static const char *proto_text(unsigned protocols)
{
	if (protocols == (PORT_PROTO_TCP | PORT_PROTO_UDP))
		return "tcp,udp";
	return protocols == PORT_PROTO_UDP ? "udp" : "tcp";
}

/* The counts of the summary line, over every app. */
static void count_totals(const struct apps_set *set, struct totals *t)
{
	for (size_t i = 0; i < set->napps; i++) {
		const struct app *a = &set->apps[i];

		for (size_t p = 0; p < a->nports; p++)
			for (size_t j = 0; j < a->ports[p].nlabels; j++)
				t->vips += vip_label_is_vip(a->ports[p].labels[j].key);
		for (size_t c = 0; c < a->nchecks; c++)
			t->by_kind[hc_protocol_kind(a->checks[c].protocol)]++;
		t->checks += a->nchecks;
		t->tasks += a->ntasks;
	}
}

static void print_ports(const struct app *a)
{
	for (size_t i = 0; i < a->nports; i++) {
		const struct port_def *p = &a->ports[i];

		printf("  port %zu: %u/%s", i, p->port, proto_text(p->protocols));
		if (p->host_port)
			printf(" hostPort %u", p->host_port);
		if (p->name)
			printf(" name %s", p->name);
		for (size_t j = 0; j < p->nlabels; j++) {
			if (!vip_label_is_vip(p->labels[j].key))
				continue;
			printf(" %s=%s", p->labels[j].key, p->labels[j].value);
		}
		printf("\n");
	}
}

static void print_checks(const struct app *a)
{
	for (size_t i = 0; i < a->nchecks; i++) {
		const struct health_check *hc = &a->checks[i];
		enum hc_kind kind = hc_protocol_kind(hc->protocol);

		printf("  check %zu: %s", i, hc_protocol_name(hc->protocol));
		if (kind == HC_KIND_COMMAND)
			printf(" \"%s\"", hc->command);
		else if (hc->port_index >= 0)
			printf(" portIndex %d", hc->port_index);
		else
			printf(" port %d", hc->port);
		if (kind == HC_KIND_HTTP || kind == HC_KIND_HTTPS)
			printf(" path %s%s", hc->path, hc->ignore_http1xx ? " ignoreHttp1xx" : "");
		printf(" every %us, timeout %us, grace %us, delay %us, maxConsecutiveFailures %u\n",
		       hc->interval_s, hc->timeout_s, hc->grace_period_s, hc->delay_s,
		       hc->max_consecutive_failures);
	}
}

static void print_tasks(const struct app *a)
{
	for (size_t i = 0; i < a->ntasks; i++) {
		const struct task *k = &a->tasks[i];

		printf("  task %s: %s host %s", k->id, task_state_name(k->state),
		       k->host ? k->host : "-");
		for (size_t j = 0; j < k->nports; j++)
			printf("%s%u", j ? "," : " ports ", k->ports[j]);
		for (size_t j = 0; j < k->nip_addresses; j++)
			printf("%s%s", j ? "," : " ip ", k->ip_addresses[j]);
		if (k->netns)
			printf(" netns %s", k->netns);
		printf("\n");
	}
}

static json_t *ports_json(const struct app *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < a->nports; i++) {
		const struct port_def *p = &a->ports[i];
		json_t *vips = json_object();
		json_t *o = json_pack("{s:I, s:I, s:s, s:o*}", "index", (json_int_t)i, "port",
		                      (json_int_t)p->port, "protocol", proto_text(p->protocols),
		                      "vip_labels", vips);

		for (size_t j = 0; o && j < p->nlabels; j++)
			if (vip_label_is_vip(p->labels[j].key))
				json_object_set_new(vips, p->labels[j].key,
				                    json_string(p->labels[j].value));
		if (o && p->host_port)
			json_object_set_new(o, "host_port", json_integer(p->host_port));
		if (o && p->name)
			json_object_set_new(o, "name", json_string(p->name));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The fields /v1/apps/ID gives a check as declared (docs/api.md). */
static json_t *checks_json(const struct app *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < a->nchecks; i++) {
		const struct health_check *hc = &a->checks[i];
		enum hc_kind kind = hc_protocol_kind(hc->protocol);
		json_t *o = json_pack(
		    "{s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "check", (json_int_t)i, "protocol",
		    hc_protocol_name(hc->protocol), "interval_seconds", (json_int_t)hc->interval_s,
		    "timeout_seconds", (json_int_t)hc->timeout_s, "grace_period_seconds",
		    (json_int_t)hc->grace_period_s, "delay_seconds", (json_int_t)hc->delay_s,
		    "max_consecutive_failures", (json_int_t)hc->max_consecutive_failures);

		if (o && kind == HC_KIND_COMMAND)
			json_object_set_new(o, "command", json_string(hc->command));
		else if (o && hc->port_index >= 0)
			json_object_set_new(o, "port_index", json_integer(hc->port_index));
		else if (o)
			json_object_set_new(o, "port", json_integer(hc->port));
		if (o && (kind == HC_KIND_HTTP || kind == HC_KIND_HTTPS)) {
			json_object_set_new(o, "path", json_string(hc->path));
			json_object_set_new(o, "ignore_http1xx", json_boolean(hc->ignore_http1xx));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *tasks_json(const struct app *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < a->ntasks; i++) {
		const struct task *k = &a->tasks[i];
		json_t *ports = json_array(), *ips = json_array();

		for (size_t j = 0; ports && j < k->nports; j++)
			json_array_append_new(ports, json_integer(k->ports[j]));
		for (size_t j = 0; ips && j < k->nip_addresses; j++)
			json_array_append_new(ips, json_string(k->ip_addresses[j]));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s*, s:o*, s:o*, s:s*}", "task",
		                                     k->id, "state", task_state_name(k->state),
		                                     "host", k->host, "ports", ports,
		                                     "ip_addresses", ips, "netns", k->netns));
	}
	return arr;
}

static json_t *apps_json(const struct apps_set *set)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < set->napps; i++) {
		const struct app *a = &set->apps[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o*, s:o*, s:o*}", "id",
		                                     a->id, "source", a->source, "json_path",
		                                     a->json_path, "ports", ports_json(a), "checks",
		                                     checks_json(a), "tasks", tasks_json(a)));
	}
	return arr;
}

static void diags_append(json_t *arr, const struct diag_list *dl)
{
	for (size_t i = 0; arr && i < dl->count; i++) {
		const struct diag *d = &dl->items[i];

		json_array_append_new(
		    arr, json_pack("{s:s, s:s, s:s, s:s}", "severity",
		                   d->severity == DIAG_WARNING ? "warning" : "error", "file",
		                   d->file, "path", d->path ? d->path : "", "message", d->message));
	}
}

static int print_json(const struct apps_set *set, const struct diag_list *built,
                      const struct totals *t, size_t errors, size_t warnings)
{
	json_t *diags = json_array(), *doc;
	int rc;

	diags_append(diags, &set->diags);
	diags_append(diags, built);
	doc = json_pack(
	    "{s:i, s:b, s:I, s:I, s:o*, s:o*, s:{s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}}}",
	    "schema", 1, "ok", errors == 0, "errors", (json_int_t)errors, "warnings",
	    (json_int_t)warnings, "diagnostics", diags, "apps", apps_json(set), "totals", "files",
	    (json_int_t)set->files_read, "apps", (json_int_t)set->napps, "tasks",
	    (json_int_t)t->tasks, "checks", (json_int_t)t->checks, "vip_labels",
	    (json_int_t)t->vips, "checks_by_kind", "HTTP", (json_int_t)t->by_kind[HC_KIND_HTTP],
	    "HTTPS", (json_int_t)t->by_kind[HC_KIND_HTTPS], "TCP",
	    (json_int_t)t->by_kind[HC_KIND_TCP], "COMMAND",
	    (json_int_t)t->by_kind[HC_KIND_COMMAND]);
	rc = doc ? cli_api_print_json(doc) : CLI_EXIT_FAIL;
	json_decref(doc);
	return rc;
}

static void print_text(const struct apps_set *set, const struct totals *t, size_t errors,
                       size_t warnings)
{
	for (size_t i = 0; i < set->napps; i++) {
		const struct app *a = &set->apps[i];

		printf("app %s (%s%s%s)\n", a->id, a->source, a->json_path[0] ? " " : "",
		       a->json_path);
		print_ports(a);
		print_checks(a);
		print_tasks(a);
	}
	printf(
	    "%zu apps, %zu tasks, %zu health checks (%zu HTTP, %zu HTTPS, %zu TCP, %zu COMMAND), "
	    "%zu VIP labels from %zu files: %zu errors, %zu warnings\n",
	    set->napps, t->tasks, t->checks, t->by_kind[HC_KIND_HTTP], t->by_kind[HC_KIND_HTTPS],
	    t->by_kind[HC_KIND_TCP], t->by_kind[HC_KIND_COMMAND], t->vips, set->files_read, errors,
	    warnings);
}

/* What the daemon reports when it builds its table from these apps, found
 * by the daemon's own build. -1, said, when the build fails. */
static int check_as_daemon(const struct vipd_config *cfg, const struct apps_set *set,
                           struct diag_list *diags)
{
	char err[256];

	if (config_check_apps(cfg, set, diags, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "vipctl: %s\n", err);
	return -1;
}

static int on_option(int opt, const char *arg, void *ctx)
{
	(void)opt;
	(void)arg;
	*(bool *)ctx = true;
	return 0;
}

static const struct option validate_longopts[] = {
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

int cmd_validate(struct cli *cli, int argc, char **argv)
{
	bool json = false;
	const struct cli_spec spec = {
	    .name = "validate",
	    .usage = "validate [-c CONFIG] [--json] FILE|DIR|URL...",
	    .shortopts = "",
	    .longopts = validate_longopts,
	    .min_operands = 1,
	    .on_option = on_option,
	    .ctx = &json,
	};
	struct apps_set set = {0};
	struct diag_list built = {0};
	struct totals t = {0};
	size_t errors, warnings;
	int first, rc = cli_parse(cli, &spec, argc, argv, &first);

	if (rc >= 0)
		return rc;
	if (cli_load_config(cli) < 0)
		return CLI_EXIT_CONFIG;
	errors = cli_load_apps(cli, &set, argc - first, argv + first);
	/* A build that fails (more names than the named range holds) fails
	 * the daemon's every round: an error of the input. */
	if (check_as_daemon(&cli->cfg, &set, &built) < 0)
		errors++;
	cli_print_diags(&built);
	errors += diag_count(&built, DIAG_ERROR);
	warnings = diag_count(&set.diags, DIAG_WARNING) + diag_count(&built, DIAG_WARNING);
	count_totals(&set, &t);
	rc = CLI_EXIT_OK;
	if (json)
		rc = print_json(&set, &built, &t, errors, warnings);
	else
		print_text(&set, &t, errors, warnings);
	diag_list_free(&built);
	apps_set_free(&set);
	if (rc != CLI_EXIT_OK)
		return rc;
	return errors ? CLI_EXIT_CONFIG : CLI_EXIT_OK;
}
