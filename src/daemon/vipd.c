/*
 * vipd: the daemon. Reads its config and flags, sets up the engine on
 * libev's default loop (commands are reaped with ev_child, which needs it),
 * and runs until SIGTERM/SIGINT, leaving the kernel's state in place.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "sd_notify.h"
#include "vipd/apps.h"
#include "vipd/marathon.h"
#include "vipd/log.h"
#include "vipd/vipif.h"
#include "vipd/opts.h"

/* Exit codes, as vipctl's: bad input or config 2, bad usage 64. */
#define VIPD_EXIT_CONFIG 2
#define VIPD_EXIT_USAGE 64

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: vipd [-c CONFIG] [--apps PATH] [--audit PATH] [--no-ipvs]\n"
	        "            [--interface NAME] [--run-for SECONDS] [-v] [--check-config]\n"
	        "            [--api ADDR:PORT] [--node NAME] [--etcd URL[,URL...]]\n"
	        "  -c, --config FILE   settings (default " CONFIG_DEFAULT_PATH " when it exists)\n"
	        "  --apps PATH         app definitions: a file or a directory of *.json, or\n"
	        "                      Marathon's URLs (http://HOST:PORT, several: commas)\n"
	        "  --audit PATH        audit log file, or - for stdout\n"
	        "  --no-ipvs           run checks and plan, but change nothing in the kernel\n"
	        "  --interface NAME    dummy interface for VIP addresses\n"
	        "  --api ADDR:PORT     read-only HTTP API there (a port alone: loopback)\n"
	        "  --run-for SECONDS   stop after this long (demos and tests)\n"
	        "  --node NAME         this node's name in the cluster (cluster.node)\n"
	        "  --etcd URLS         etcd endpoints: joins the cluster (cluster.endpoints)\n"
	        "  --check-config      check what start-up checks (settings, the check user,\n"
	        "                      the audit log, the app definitions), then exit\n"
	        "  -v                  more log output (twice: debug)\n"
	        "  -h, --help          this help\n"
	        "  --version           vipd's version\n");
}

struct args {
	const char *config;
	const char *apps, *audit, *interface, *api;
	const char *node, *etcd;
	bool no_ipvs, check_only;
	double run_for;
	int verbose;
};

/* getopt_long's '?' or ':': the option named as the user wrote it. */
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
	    {"version", no_argument, NULL, 'V'},
	    {"api", required_argument, NULL, 'P'},
	    {"node", required_argument, NULL, 'N'},
	    {"etcd", required_argument, NULL, 'E'},
	    {NULL, 0, NULL, 0},
	};
	char msg[320];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:vh", opts, NULL)) != -1) {
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
		case 'P':
			a->api = optarg;
			break;
		case 'r':
			a->run_for = atof(optarg);
			break;
		case 'N':
			a->node = optarg;
			break;
		case 'E':
			a->etcd = optarg;
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
		case 'V':
			printf("vipd %s\n", VIPD_VERSION);
			exit(0);
		default:
			fprintf(stderr, "vipd: %s\n", opts_refusal(c, argv, msg, sizeof(msg)));
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vipd: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* --api is read like api.listen: a bad value is a config error (exit 2). */
static int check_api_flag(const char *value)
{
	struct lb_addr addr;
	uint16_t port;
	char err[256];

	if (!value || api_listen_parse(value, &addr, &port, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "vipd: error: --api: %s\n", err);
	return -1;
}

/* -1: out of memory (the field keeps its value). */
static int replace(char **field, const char *value) VIPD_MUST_CHECK;
static int replace(char **field, const char *value)
{
	char *copy;

	if (!value)
		return 0;
	copy = strdup(value);
	if (!copy)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

static int load_config(const struct args *a, struct vipd_config *cfg)
{
	struct diag_list diags = {0};
	char line[1024];
	int rc = config_read(cfg, a->config, &diags);

	/* Every config problem stops vipd: each is an error. */
	for (size_t i = 0; i < diags.count; i++)
		fprintf(stderr, "vipd: error: %s\n",
		        diag_format(&diags.items[i], line, sizeof(line)));
	diag_list_free(&diags);
	if (replace(&cfg->apps_path, a->apps) < 0 || replace(&cfg->audit_path, a->audit) < 0 ||
	    replace(&cfg->interface, a->interface) < 0 || replace(&cfg->api_listen, a->api) < 0 ||
	    replace(&cfg->cluster_node, a->node) < 0 ||
	    replace(&cfg->cluster_endpoints, a->etcd) < 0) {
		log_warnx("out of memory reading the options");
		rc = -1;
	}
	if (check_api_flag(a->api) < 0)
		rc = -1;
	if (a->no_ipvs)
		cfg->ipvs = false;
	if (a->verbose)
		cfg->verbosity = 1 + a->verbose;
	return rc;
}

/* engine.config_reread: the same file and command-line options as at
 * start-up, read again. */
static int reread_config(void *arg, struct vipd_config *out)
{
	return load_config(arg, out);
}

/* The check user, as the executors resolve it when vipd runs as root. */
static int check_run_as(const char *user)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		fprintf(stderr, "vipd: error: /checks/run_as: run-as user \"%s\": %s\n", user,
		        errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr,
		        "vipd: error: /checks/run_as: run-as user \"%s\" is root; checks must run "
		        "unprivileged\n",
		        user);
		return -1;
	}
	return 0;
}

/* The VIP interface's name, as vipif_open will take it. */
static int check_interface(const char *name)
{
	char err[128];

	if (vipif_name_check(name, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "vipd: error: /lb/interface: %s\n", err);
	return -1;
}

/* The audit log opens for appending, created when missing: the file, or
 * else its directory, must be writable. Nothing is created here. */
static int check_audit_path(const char *path)
{
	char dir[4096];

	if (strcmp(path, "-") == 0)
		return 0;
	if (access(path, F_OK) == 0) {
		if (access(path, W_OK) == 0)
			return 0;
	} else {
		snprintf(dir, sizeof(dir), "%s", path);
		if (access(dirname(dir), W_OK | X_OK) == 0)
			return 0;
	}
	fprintf(stderr, "vipd: error: /audit_log: cannot write \"%s\": %s\n", path,
	        strerror(errno));
	return -1;
}

/* What the first table build reports: VIP labels, named-range clashes,
 * vipd's labels, apps disagreeing on a shared VIP. */
static int check_build(const struct vipd_config *cfg, const struct apps_set *set,
                       struct diag_list *diags)
{
	char err[256];

	if (config_check_apps(cfg, set, diags, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "vipd: error: %s\n", err);
	return -1;
}

static void print_diags(const struct diag_list *dl)
{
	char line[2048];

	for (size_t i = 0; i < dl->count; i++)
		fprintf(stderr, "%s\n", diag_format(&dl->items[i], line, sizeof(line)));
}

/* Marathon's state is read at run time only: Marathon being down must not
 * stop vipd starting (the kernel's table stays until it answers). What can
 * be checked now is the URL list and the secret files. */
static int check_marathon(const struct vipd_config *cfg)
{
	struct marathon_master *masters = NULL;
	struct marathon_auth auth;
	size_t n = 0;
	char err[512];
	int rc = marathon_auth_read(cfg, &auth, err, sizeof(err));

	marathon_auth_free(&auth);
	if (rc == 0)
		rc = marathon_masters_parse(cfg->apps_path, &masters, &n, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "vipd: error: %s\n", err);
		return -1;
	}
	printf("config ok; apps from Marathon (%zu master%s: %s%s), read at run time\n", n,
	       n == 1 ? "" : "s", masters[0].shown, n > 1 ? ", ..." : "");
	marathon_masters_free(masters, n);
	return 0;
}

/* Fatal problems say "error:" and give exit 2; problems in app definitions
 * (vipd skips a broken app and runs) are listed located, and give exit 2
 * too. */
static int check_config(const struct vipd_config *cfg)
{
	struct apps_set set = {0};
	struct diag_list built = {0};
	size_t errors;
	int fatal = 0;

	fatal |= check_run_as(cfg->run_as);
	fatal |= check_audit_path(cfg->audit_path);
	fatal |= check_interface(cfg->interface);
	if (marathon_is_source(cfg->apps_path))
		return fatal || check_marathon(cfg) < 0 ? VIPD_EXIT_CONFIG : 0;
	apps_load_path(&set, cfg->apps_path);
	fatal |= check_build(cfg, &set, &built);
	print_diags(&set.diags);
	print_diags(&built);
	errors = diag_count(&set.diags, DIAG_ERROR) + diag_count(&built, DIAG_ERROR);
	if (fatal == 0)
		printf("config ok; %zu apps from %s: %zu errors\n", set.napps, cfg->apps_path,
		       errors);
	diag_list_free(&built);
	apps_set_free(&set);
	return fatal || errors ? VIPD_EXIT_CONFIG : 0;
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
		return VIPD_EXIT_USAGE;
	}
	if (load_config(&a, &cfg) < 0) {
		config_free(&cfg);
		return VIPD_EXIT_CONFIG;
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
	e.cfg_src = &cfg;
	e.config_reread = reread_config;
	e.config_reread_arg = &a;
	log_info("running: apps %s, audit %s, %s", engine_apps_shown(&e), cfg.audit_path,
	         cfg.ipvs ? "programming IPVS" : "IPVS untouched (--no-ipvs)");
	ev_run(e.loop, 0);
	sd_notify_state("STOPPING=1");
	engine_fini(&e);
	config_free(&cfg);
	return 0;
}
