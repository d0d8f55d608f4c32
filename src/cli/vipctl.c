/*
 * vipctl: the operator's command line. Each subcommand is one cmd_*.c file;
 * this file only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
    {"validate", cmd_validate, "validate FILE|DIR...   check app definitions, summarise them"},
    {"check", cmd_check,
     "check [--app ID] [--no-native] FILE|DIR...   run every check once, print each result"},
    {"vips", cmd_vips, "vips [--no-checks] FILE|DIR...   each VIP: name, FQDNs, address, backends"},
    {"lint", cmd_lint, "lint FILE|DIR...   COMMAND checks that can never pass or pass by accident"},
    {"audit", cmd_audit,
     "audit [--report [--json] | --verify] LOG...   read audit logs: timeline, report, verify"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int usage(FILE *out)
{
	fprintf(out, "usage: vipctl COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s\n", commands[i].usage);
	return out == stderr ? CLI_EXIT_USAGE : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(stdout);
	if (strcmp(argv[1], "--version") == 0) {
		printf("vipctl %s\n", VIPD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vipctl: unknown command \"%s\"\n", argv[1]);
	return usage(stderr);
}
