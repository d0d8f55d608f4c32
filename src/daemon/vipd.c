/*
 * vipd: the daemon. Reads its config and flags, sets up the engine on
 * libev's default loop (commands are reaped with ev_child, which needs it),
 * and runs until SIGTERM/SIGINT, leaving the kernel's state in place.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "vipd/apps.h"
#include "vipd/log.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: vipd [-c CONFIG] [--apps PATH] [--audit PATH] [--no-ipvs]\n"
	        "            [--interface NAME] [--run-for SECONDS] [-v] [--check-config]\n"
	        "  -c, --config FILE   settings (default " CONFIG_DEFAULT_PATH " when it exists)\n"
	        "  --apps PATH         app definitions: a file or a directory of *.json\n"
	        "  --audit PATH        audit log file, or - for stdout\n"
	        "  --no-ipvs           run checks and plan, but change nothing in the kernel\n"
	        "  --interface NAME    dummy interface for VIP addresses\n"
	        "  --run-for SECONDS   stop after this long (demos and tests)\n"
	        "  --check-config      validate the config and app definitions, then exit\n"
	        "  -v                  more log output (twice: debug)\n");
}

struct args {
	const char *config;
	const char *apps, *audit, *interface;
	bool no_ipvs, check_only;
	double run_for;
	int verbose;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"apps", required_argument, NULL, 'a'},
	    {"audit", required_argument, NULL, 'A'},
	    {"no-ipvs", no_argument, NULL, 'n'},
	    {"interface", required_argument, NULL, 'i'},
	    {"run-for", required_argument, NULL, 'r'},
	    {"check-config", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'a':
			a->apps = optarg;
			break;
		case 'A':
			a->audit = optarg;
			break;
		case 'n':
			a->no_ipvs = true;
			break;
		case 'i':
			a->interface = optarg;
			break;
		case 'r':
			a->run_for = atof(optarg);
			break;
		case 'k':
			a->check_only = true;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

static void replace(char **field, const char *value)
{
	if (!value)
		return;
	free(*field);
	*field = strdup(value);
}

static int load_config(const struct args *a, struct vipd_config *cfg)
{
	struct diag_list diags = {0};
	const char *path = a->config;
	char line[1024];
	int rc = 0;

	config_defaults(cfg);
	if (!path && access(CONFIG_DEFAULT_PATH, R_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (path && config_load(cfg, path, &diags) < 0)
		rc = -1;
	for (size_t i = 0; i < diags.count; i++)
		log_warnx("%s", diag_format(&diags.items[i], line, sizeof(line)));
	diag_list_free(&diags);
	replace(&cfg->apps_path, a->apps);
	replace(&cfg->audit_path, a->audit);
	replace(&cfg->interface, a->interface);
	if (a->no_ipvs)
		cfg->ipvs = false;
	if (a->verbose)
		cfg->verbosity = 1 + a->verbose;
	return rc;
}

static int check_config(const struct vipd_config *cfg)
{
	struct apps_set set = {0};
	char line[2048];
	size_t errors;

	apps_load_path(&set, cfg->apps_path);
	for (size_t i = 0; i < set.diags.count; i++)
		fprintf(stderr, "%s\n", diag_format(&set.diags.items[i], line, sizeof(line)));
	errors = diag_count(&set.diags, DIAG_ERROR);
	printf("config ok; %zu apps from %s: %zu errors\n", set.napps, cfg->apps_path, errors);
	apps_set_free(&set);
	return errors ? 2 : 0;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	struct vipd_config cfg;
	struct engine e;
	char err[512];
	int rc;

	log_init(stderr, LOG_LEVEL_INFO);
	/* A closed audit pipe must be an EPIPE the audit log handles, not our
	 * death; check commands get SIG_DFL back before exec. */
	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv, &a) < 0) {
		usage(stderr);
		return 64;
	}
	if (load_config(&a, &cfg) < 0) {
		config_free(&cfg);
		return 2;
	}
	log_init(stderr, (enum log_level)cfg.verbosity);
	if (a.check_only) {
		rc = check_config(&cfg);
		config_free(&cfg);
		return rc;
	}
	if (engine_init(&e, ev_default_loop(0), &cfg, a.run_for, err, sizeof(err)) < 0) {
		engine_fini(&e);
		config_free(&cfg);
		fatalx("%s", err);
	}
	log_info("running: apps %s, audit %s, %s", cfg.apps_path, cfg.audit_path,
	         cfg.ipvs ? "programming IPVS" : "IPVS untouched (--no-ipvs)");
	ev_run(e.loop, 0);
	engine_fini(&e);
	config_free(&cfg);
	return 0;
}
