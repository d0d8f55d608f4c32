/* vipctl's subcommands and shared helpers. */
#ifndef VIPD_CLI_H
#define VIPD_CLI_H

#include "vipd/model.h"

/* Exit codes: 0 all well, 1 a check or operation failed, 2 bad input/config,
 * 64 bad usage. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_CONFIG 2
#define CLI_EXIT_USAGE 64

int cmd_validate(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_vips(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* Loads every path into set and prints its diagnostics to stderr. Returns
 * the number of errors. */
size_t cli_load_apps(struct apps_set *set, int npaths, char **paths);

#endif
