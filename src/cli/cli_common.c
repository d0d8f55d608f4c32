/* Helpers shared by vipctl's subcommands: the command line and the config. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vipd/marathon.h"
#include "vipd/apps.h"
#include "vipd/runner.h"
#include "vipd/opts.h"

#define CLI_MAX_OPTIONS 16

static const struct option common_longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
};

/* The subcommand's options followed by the common ones. */
static int build_longopts(const struct cli_spec *spec, struct option *out, size_t cap)
{
	size_t n = 0;

	for (const struct option *o = spec->longopts; o && o->name; o++) {
		if (n + 3 > cap)
			return -1;
		out[n++] = *o;
	}
	for (size_t i = 0; i < sizeof(common_longopts) / sizeof(common_longopts[0]); i++)
		out[n++] = common_longopts[i];
	out[n] = (struct option){0};
	return 0;
}

static int usage_error(const struct cli_spec *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const struct cli_spec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vipctl %s: ", spec->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: vipctl %s\n", spec->usage);
	return CLI_EXIT_USAGE;
}

static int take_option(struct cli *cli, const struct cli_spec *spec, int opt, char **argv)
{
	char msg[320];

	switch (opt) {
	case 'c':
		cli->config_path = optarg;
		return -1;
	case 'h':
		printf("usage: vipctl %s\n", spec->usage);
		return CLI_EXIT_OK;
	case '?':
	case ':':
		return usage_error(spec, "%s", opts_refusal(opt, argv, msg, sizeof(msg)));
	}
	if (spec->on_option(opt, optarg, spec->ctx) < 0)
		return CLI_EXIT_USAGE;
	return -1;
}

int cli_parse(struct cli *cli, const struct cli_spec *spec, int argc, char **argv, int *first)
{
	struct option longopts[CLI_MAX_OPTIONS];
	char shortopts[64];
	int opt, rc;

	if (build_longopts(spec, longopts, CLI_MAX_OPTIONS) < 0)
		return CLI_EXIT_USAGE;
	/* ':' first: a missing value is told apart from an unknown option. */
	snprintf(shortopts, sizeof(shortopts), ":c:h%s", spec->shortopts);
	opterr = 0;
	optind = 0; /* glibc: start afresh, permuting */
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		rc = take_option(cli, spec, opt, argv);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind < spec->min_operands)
		return usage_error(spec, "expected a FILE or DIR to read");
	*first = optind;
	return -1;
}

int cli_load_config(struct cli *cli)
{
	struct diag_list diags = {0};
	int rc = config_read(&cli->cfg, cli->config_path, &diags);

	cli->cfg_loaded = true;
	cli_print_diags(&diags);
	diag_list_free(&diags);
	return rc;
}

void cli_free(struct cli *cli)
{
	if (cli->cfg_loaded)
		config_free(&cli->cfg);
	cli->cfg_loaded = false;
}

void cli_check_settings(const struct cli *cli, struct exec_settings *es, struct runner_settings *rs)
{
	*es = (struct exec_settings){.run_as_user = cli->cfg.run_as, .shell = cli->cfg.shell};
	*rs = (struct runner_settings){.native_curl = cli->cfg.native_curl,
	                               .shell = runner_detect_shell(cli->cfg.shell)};
}

void cli_print_diags(const struct diag_list *dl)
{
	char line[2048];

	for (size_t i = 0; i < dl->count; i++)
		fprintf(stderr, "%s\n", diag_format(&dl->items[i], line, sizeof(line)));
}

size_t cli_load_apps(const struct cli *cli, struct apps_set *set, int npaths, char **paths)
{
	for (int i = 0; i < npaths; i++) {
		if (marathon_is_source(paths[i]))
			cli_marathon_load(&cli->cfg, set, paths[i]);
		else
			apps_load_path(set, paths[i]);
	}
	cli_print_diags(&set->diags);
	return diag_count(&set->diags, DIAG_ERROR);
}
