/*
 * vipctl lint: COMMAND checks that can never pass, or pass only by
 * accident, each located (file, JSON path) with the fix.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vipd/curlcmd.h"

static size_t lint_app(const struct app *a)
{
	struct curlcmd_findings f;
	size_t total = 0;

	for (size_t i = 0; i < a->nchecks; i++) {
		const struct health_check *hc = &a->checks[i];

		if (hc_protocol_kind(hc->protocol) != HC_KIND_COMMAND || !hc->command)
			continue;
		curlcmd_lint(hc->command, a->nports, &f);
		for (size_t k = 0; k < f.count; k++) {
			printf("%s: %s/command/value: %s [%s]\n  fix: %s\n", a->source,
			       hc->json_path, f.items[k].message,
			       curlcmd_lint_code_name(f.items[k].code), f.items[k].fix);
		}
		total += f.count;
	}
	return total;
}

int cmd_lint(struct cli *cli, int argc, char **argv)
{
	const struct cli_spec spec = {
	    .name = "lint",
	    .usage = "lint [-c CONFIG] FILE|DIR...",
	    .shortopts = "",
	    .min_operands = 1,
	};
	struct apps_set set = {0};
	size_t errors, findings = 0;
	int first, rc = cli_parse(cli, &spec, argc, argv, &first);

	if (rc >= 0)
		return rc;
	if (cli_load_config(cli) < 0)
		return CLI_EXIT_CONFIG;
	errors = cli_load_apps(cli, &set, argc - first, argv + first);
	for (size_t i = 0; i < set.napps; i++)
		findings += lint_app(&set.apps[i]);
	printf("%zu finding%s in %zu apps\n", findings, findings == 1 ? "" : "s", set.napps);
	apps_set_free(&set);
	if (errors)
		return CLI_EXIT_CONFIG;
	return findings ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
