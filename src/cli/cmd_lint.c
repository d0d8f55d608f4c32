/*
 * vipctl lint: COMMAND checks that can never pass, or pass only by
 * accident, each located (file, JSON path) with the fix; --json gives the
 * findings as one document (dist/man/vipctl.8).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vipd/curlcmd.h"

static void print_finding(const struct app *a, const struct health_check *hc,
                          const struct curlcmd_finding *f)
{
	printf("%s: %s/command/value: %s [%s]\n  fix: %s\n", a->source, hc->json_path, f->message,
	       curlcmd_lint_code_name(f->code), f->fix);
}

static json_t *finding_json(const struct app *a, size_t check, const struct health_check *hc,
                            const struct curlcmd_finding *f)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/command/value", hc->json_path);
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "file", a->source, "path", path,
	                 "app", a->id, "check", (json_int_t)check, "code",
	                 curlcmd_lint_code_name(f->code), "message", f->message, "fix", f->fix);
}

/* Each finding printed, or appended to `arr` when it is not NULL. */
static size_t lint_app(const struct app *a, json_t *arr)
{
	struct curlcmd_findings f;
	size_t total = 0;

	for (size_t i = 0; i < a->nchecks; i++) {
		const struct health_check *hc = &a->checks[i];

		if (hc_protocol_kind(hc->protocol) != HC_KIND_COMMAND || !hc->command)
			continue;
		curlcmd_lint(hc->command, a->nports, &f);
		for (size_t k = 0; k < f.count; k++) {
			if (arr)
				json_array_append_new(arr, finding_json(a, i, hc, &f.items[k]));
			else
				print_finding(a, hc, &f.items[k]);
		}
		total += f.count;
	}
	return total;
}

static int print_json(json_t *arr, size_t findings, size_t napps, size_t errors)
{
	json_t *doc = json_pack("{s:i, s:b, s:I, s:I, s:I, s:O}", "schema", 1, "ok",
	                        findings == 0 && errors == 0, "errors", (json_int_t)errors, "apps",
	                        (json_int_t)napps, "count", (json_int_t)findings, "findings", arr);
	int rc = doc ? cli_api_print_json(doc) : CLI_EXIT_FAIL;

	json_decref(doc);
	return rc;
}

static int on_option(int opt, const char *arg, void *ctx)
{
	(void)opt;
	(void)arg;
	*(bool *)ctx = true;
	return 0;
}

static const struct option lint_longopts[] = {
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

int cmd_lint(struct cli *cli, int argc, char **argv)
{
	bool json = false;
	const struct cli_spec spec = {
	    .name = "lint",
	    .usage = "lint [-c CONFIG] [--json] FILE|DIR...",
	    .shortopts = "",
	    .longopts = lint_longopts,
	    .min_operands = 1,
	    .on_option = on_option,
	    .ctx = &json,
	};
	struct apps_set set = {0};
	size_t errors, findings = 0;
	json_t *arr = NULL;
	int first, rc = cli_parse(cli, &spec, argc, argv, &first);

	if (rc >= 0)
		return rc;
	if (cli_load_config(cli) < 0)
		return CLI_EXIT_CONFIG;
	if (json && (arr = json_array()) == NULL)
		return CLI_EXIT_FAIL;
	errors = cli_load_apps(cli, &set, argc - first, argv + first);
	for (size_t i = 0; i < set.napps; i++)
		findings += lint_app(&set.apps[i], arr);
	rc = CLI_EXIT_OK;
	if (json)
		rc = print_json(arr, findings, set.napps, errors);
	else
		printf("%zu finding%s in %zu apps\n", findings, findings == 1 ? "" : "s",
		       set.napps);
	json_decref(arr);
	apps_set_free(&set);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (errors)
		return CLI_EXIT_CONFIG;
	return findings ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
