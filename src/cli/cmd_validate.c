/*
 * vipctl validate: the located errors of app definitions, or a summary of
 * what vipd understood of them (apps, ports and VIP labels, checks, tasks).
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

static void print_ports(const struct app *a, struct totals *t)
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
			t->vips++;
		}
		printf("\n");
	}
}

static void print_checks(const struct app *a, struct totals *t)
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
		t->by_kind[kind]++;
	}
	t->checks += a->nchecks;
}

static void print_tasks(const struct app *a, struct totals *t)
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
	t->tasks += a->ntasks;
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

int cmd_validate(struct cli *cli, int argc, char **argv)
{
	const struct cli_spec spec = {
	    .name = "validate",
	    .usage = "validate [-c CONFIG] FILE|DIR|URL...",
	    .shortopts = "",
	    .min_operands = 1,
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
	for (size_t i = 0; i < set.napps; i++) {
		const struct app *a = &set.apps[i];

		printf("app %s (%s%s%s)\n", a->id, a->source, a->json_path[0] ? " " : "",
		       a->json_path);
		print_ports(a, &t);
		print_checks(a, &t);
		print_tasks(a, &t);
	}
	printf(
	    "%zu apps, %zu tasks, %zu health checks (%zu HTTP, %zu HTTPS, %zu TCP, %zu COMMAND), "
	    "%zu VIP labels from %zu files: %zu errors, %zu warnings\n",
	    set.napps, t.tasks, t.checks, t.by_kind[HC_KIND_HTTP], t.by_kind[HC_KIND_HTTPS],
	    t.by_kind[HC_KIND_TCP], t.by_kind[HC_KIND_COMMAND], t.vips, set.files_read, errors,
	    warnings);
	diag_list_free(&built);
	apps_set_free(&set);
	return errors ? CLI_EXIT_CONFIG : CLI_EXIT_OK;
}
