/* vipctl's subcommands and shared helpers. */
#ifndef VIPD_CLI_H
#define VIPD_CLI_H

#include <getopt.h>

#include <jansson.h>

#include "vipd/config.h"
#include "vipd/etcd.h"
#include "vipd/model.h"

/* Exit codes: 0 all well, 1 a check or operation failed, 2 bad input/config,
 * 64 bad usage. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_CONFIG 2
#define CLI_EXIT_USAGE 64
#define CLI_EXIT_UNAVAILABLE 69 /* EX_UNAVAILABLE: vipd's API does not answer */

/* What every subcommand shares: the daemon's config (-c), read as vipd reads
 * it, so that vipctl gives the daemon's answers. */
struct cli {
	const char *config_path; /* -c; NULL: CONFIG_DEFAULT_PATH when it exists */
	struct vipd_config cfg;
	bool cfg_loaded;
};

/* One subcommand's command line. Its own options come on top of -c/--config
 * and -h/--help, which every subcommand takes. */
struct cli_spec {
	const char *name;
	const char *usage;             /* after "vipctl ": "check [--app ID] ... FILE|DIR..." */
	const char *shortopts;         /* its own, "" when none */
	const struct option *longopts; /* its own, NULL-terminated; NULL when none */
	int min_operands;
	/* Takes one of its own options; -1 when the value is refused (the
	 * message printed). */
	int (*on_option)(int opt, const char *arg, void *ctx);
	void *ctx;
};

/* Parses argv (argv[0] the subcommand's name) with GNU permutation: options
 * anywhere, "--" ends them. *first gets the first operand's index. Returns
 * -1 to go on, or the exit code to leave with (0 after --help, 64 on bad
 * usage with the offending option named on stderr). */
int cli_parse(struct cli *cli, const struct cli_spec *spec, int argc, char **argv, int *first);

/* Reads cli->config_path (or the default when it exists) over the
 * defaults, as vipd does. 0, or -1 with the located errors on stderr. */
int cli_load_config(struct cli *cli);
void cli_free(struct cli *cli);

struct exec_settings;
struct runner_settings;
/* The executors' and runner's settings from the loaded config, as vipd's
 * engine sets them. */
void cli_check_settings(const struct cli *cli, struct exec_settings *es,
                        struct runner_settings *rs);

int cmd_validate(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_vips(struct cli *cli, int argc, char **argv);
int cmd_lint(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_doctor(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_backends(struct cli *cli, int argc, char **argv);
int cmd_diff(struct cli *cli, int argc, char **argv);
/* cmd_vips_live.c: vips --live, the running vipd's VIPs from its API in
 * the shape vips prints for definitions. */
int cli_vips_live(struct cli *cli, const char *api, bool json);
int cmd_cluster(struct cli *cli, int argc, char **argv);

/* cli_api.c: vipd's API. Where to reach it ("ADDR:PORT") from --api `opt`
 * (NULL: absent), else the config's api.listen, else loopback port 9090;
 * an exit code (0: found). */
int cli_api_address(struct cli *cli, const char *opt, char *out, size_t len);
/* GET path from vipd at `where`: 0 with the JSON document, or an exit code
 * (CLI_EXIT_UNAVAILABLE when nothing answers) with one line on stderr. */
int cli_api_get(const char *where, const char *path, json_t **out);
/* The same, asking again for up to 5 s while vipd answers 503 (a reload
 * whose round has not run yet). */
int cli_api_get_settled(const char *where, const char *path, json_t **out);
int cli_api_print_json(const json_t *doc);

/* cmd_cluster_etcd.c: etcd as vipd reaches it. The endpoints: --etcd's
 * `opt` when given, else the config's cluster.endpoints (NULL: none). */
const char *cli_etcd_endpoints(const struct vipd_config *cfg, const char *opt);
/* Called with the answer (valid during the call only) and the endpoint that
 * gave it; returns the exit code. */
typedef int (*cli_etcd_use_fn)(void *arg, const char *endpoint, const struct etcd_resp *r);
/* Reads every key starting with `key` once, blocking, each endpoint tried in
 * turn with a short timeout; keys that do not decode are warnings on stderr.
 * Returns use's exit code, or CLI_EXIT_UNAVAILABLE when no endpoint answers
 * (one line on stderr), CLI_EXIT_CONFIG for bad endpoints. */
int cli_etcd_read(const struct vipd_config *cfg, const char *opt, const char *key,
                  cli_etcd_use_fn use, void *arg);
struct cluster_view;
/* A view of the records under prefix from no node's side (every node's
 * records are in it), its warnings (the daemon's words) on stderr. -1 with
 * the message on stderr. */
int cli_view_init(struct cluster_view *v, const char *prefix);

/* Loads every path (or Marathon's URLs: what its masters declare now, read
 * with -c's marathon.* credentials) into set and prints its diagnostics to
 * stderr. Returns the number of errors. */
size_t cli_load_apps(const struct cli *cli, struct apps_set *set, int npaths, char **paths);
/* cli_marathon.c: the state of the first of Marathon's masters (URLs
 * separated by commas) that answers; each that does not is an error. */
void cli_marathon_load(const struct vipd_config *cfg, struct apps_set *set, const char *urls);
/* Prints each diagnostic of dl to stderr. */
void cli_print_diags(const struct diag_list *dl);

#endif
