/*
 * vipctl: the operator's command line. Each subcommand is one cmd_*.c file;
 * this file reads the options before the subcommand and dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vipd/opts.h"

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;
} commands[] = {
    {"validate", cmd_validate,
     "validate [--json] FILE|DIR|URL...   check app definitions, summarise them"},
    {"check", cmd_check,
     "check [--app ID] [--no-native] [--json] FILE|DIR|URL...   run every check once, print each "
     "result"},
    {"vips", cmd_vips,
     "vips [--no-checks] [--json] [--etcd URL,...] FILE|DIR|URL... | vips --live [--api ADDR:PORT] "
     "[--json]   each VIP: name, FQDNs, address, backends"},
    {"lint", cmd_lint,
     "lint [--json] FILE|DIR...   COMMAND checks that can never pass or pass by accident"},
    {"audit", cmd_audit,
     "audit [--report [--json] | --verify] LOG...   read audit logs: timeline, report, verify"},
    {"doctor", cmd_doctor,
     "doctor [--json]   the host checked for vipd: each finding with its fix"},
    {"status", cmd_status, "status [--api ADDR:PORT] [--json]   a running vipd's own health"},
    {"backends", cmd_backends,
     "backends [--api ADDR:PORT] [--json] [VIP|APP...]   live: which backends are in rotation, and "
     "why not"},
    {"diff", cmd_diff,
     "diff [--api ADDR:PORT] [--json] FILE|DIR|URL...   what a reload of these definitions would "
     "change in a running vipd"},
    {"cluster", cmd_cluster,
     "cluster [--etcd URL,...] [--json]   the cluster in etcd: nodes, each VIP's backends by node"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int usage(FILE *out)
{
	fprintf(out, "usage: vipctl [-c CONFIG] COMMAND [OPTIONS] [--] ARGS\n\n"
	             "options (before or after the command):\n"
	             "  -c, --config FILE   vipd's settings (default " CONFIG_DEFAULT_PATH
	             " when it exists)\n"
	             "  -h, --help          this help, or the command's\n"
	             "  --version           vipctl's version\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s\n", commands[i].usage);
	return out == stderr ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

/* Options before the subcommand; '+' stops at the first operand, the
 * subcommand, whose own parse takes the rest. -1 to go on, else exit. */
static int parse_global(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	char name[64];
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cli->config_path = optarg;
			break;
		case 'h':
			return usage(stdout);
		case 'V':
			printf("vipctl %s\n", VIPD_VERSION);
			return CLI_EXIT_OK;
		case ':':
			fprintf(stderr, "vipctl: option \"%s\" needs a value\n",
			        opts_refused_name(argv, name, sizeof(name)));
			return usage(stderr);
		default:
			fprintf(stderr, "vipctl: unknown option \"%s\"\n",
			        opts_refused_name(argv, name, sizeof(name)));
			return usage(stderr);
		}
	}
	return -1;
}

static int dispatch(struct cli *cli, int argc, char **argv)
{
	if (argc < 1)
		return usage(stderr);
	if (strcmp(argv[0], "help") == 0)
		return usage(stdout);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(cli, argc, argv);
	fprintf(stderr, "vipctl: unknown command \"%s\"\n", argv[0]);
	return usage(stderr);
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	int rc = parse_global(&cli, argc, argv);

	if (rc >= 0)
		return rc;
	rc = dispatch(&cli, argc - optind, argv + optind);
	cli_free(&cli);
	return rc;
}
