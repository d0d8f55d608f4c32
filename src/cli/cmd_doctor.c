/*
 * vipctl doctor: the host as a support engineer would look at it before
 * blaming vipd. One line per finding with its fix; exit 0 only when
 * nothing failed. The kernel probes are in cmd_doctor_kernel.c; the
 * settings-side checks (apps, check user, ephemeral ports) are here.
 */
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "doctor.h"
#include "vipd/apps.h"
#include "vipd/desired.h"
#include "vipd/log.h"
#include "vipd/marathon.h"
#include "vipd/vec.h"

/* Linux keeps an actively closed TCP connection in TIME_WAIT for 60 s
 * (TCP_TIMEWAIT_LEN), holding its ephemeral port. */
#define DOCTOR_TIME_WAIT_S 60

void doctor_add(struct doctor *d, enum doctor_status st, const char *check, const char *fix,
                const char *fmt, ...)
{
	struct doctor_finding *f;
	va_list ap;

	if (VEC_RESERVE(d->items, d->cap, d->n + 1) < 0)
		fatalx("vipctl doctor: out of memory");
	f = &d->items[d->n++];
	f->status = st;
	(void)snprintf(f->check, sizeof(f->check), "%s", check);
	(void)snprintf(f->fix, sizeof(f->fix), "%s", fix ? fix : "");
	va_start(ap, fmt);
	(void)vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

/* desired_health_fn: every task in rotation, so that every service and
 * address vipd could program is in the table. */
static enum desired_health all_healthy(void *ctx, const char *app_id, const char *task_id)
{
	(void)ctx;
	(void)app_id;
	(void)task_id;
	return DESIRED_HEALTH_HEALTHY;
}

/* Marathon's masters as the app source: the state read as vipctl validate
 * reads it (blocking, with marathon.* credentials), named without them. */
static void check_marathon_apps(struct doctor *d, const char *urls)
{
	struct marathon_master *m = NULL;
	char shown[512] = "", line[1024];
	size_t n = 0, off = 0;

	if (marathon_masters_parse(urls, &m, &n, line, sizeof(line)) == 0)
		for (size_t i = 0; i < n && off < sizeof(shown); i++)
			off += (size_t)snprintf(shown + off, sizeof(shown) - off, "%s%s",
			                        i ? "," : "", m[i].shown);
	marathon_masters_free(m, n);
	cli_marathon_load(d->cfg, &d->apps, urls);
	d->apps_loaded = true;
	for (size_t i = 0; i < d->apps.diags.count; i++) {
		if (d->apps.diags.items[i].severity != DIAG_ERROR)
			continue;
		doctor_add(
		    d, DOCTOR_FAIL, "apps",
		    "start Marathon there, or correct \"apps\" and marathon.* in vipd's config",
		    "app source Marathon %s: %s", shown[0] ? shown : "(unparsable URL list)",
		    diag_format(&d->apps.diags.items[i], line, sizeof(line)));
		return;
	}
	doctor_add(d, DOCTOR_OK, "apps", NULL, "app source Marathon %s: %zu apps", shown,
	           d->apps.napps);
}

static void check_apps(struct doctor *d)
{
	const char *path = d->cfg->apps_path;
	char fix[384];
	size_t errors;
	struct stat st;

	if (marathon_is_source(path)) {
		check_marathon_apps(d, path);
		return;
	}
	(void)snprintf(fix, sizeof(fix), "create %s or set \"apps\" in vipd's config", path);
	if (stat(path, &st) < 0) {
		doctor_add(d, DOCTOR_FAIL, "apps", fix, "app source %s: %s", path, strerror(errno));
		return;
	}
	if (access(path, R_OK | (S_ISDIR(st.st_mode) ? X_OK : 0)) < 0) {
		(void)snprintf(fix, sizeof(fix), "make %s readable by vipd (it runs as root)",
		               path);
		doctor_add(d, DOCTOR_FAIL, "apps", fix, "app source %s: %s", path, strerror(errno));
		return;
	}
	apps_load_path(&d->apps, path);
	d->apps_loaded = true;
	errors = diag_count(&d->apps.diags, DIAG_ERROR);
	if (errors > 0) {
		(void)snprintf(fix, sizeof(fix), "vipctl validate %s shows each, located", path);
		doctor_add(
		    d, DOCTOR_FAIL, "apps", fix,
		    "app source %s: %zu error(s) in the definitions (those apps are skipped)", path,
		    errors);
		return;
	}
	doctor_add(d, DOCTOR_OK, "apps", NULL, "app source %s: %zu apps from %zu files", path,
	           d->apps.napps, d->apps.files_read);
}

/* The table vipd would build; its diagnostics are vipctl validate's. */
static void build_want(struct doctor *d)
{
	struct desired_input in = {
	    .apps = &d->apps, .ranges = &d->cfg->vip_ranges, .health = all_healthy};
	struct diag_list diags = {0};
	struct desired_state st;
	char err[256];

	desired_state_init(&st);
	if (desired_build(&in, &st, &d->want, &diags, NULL, err, sizeof(err)) < 0)
		doctor_add(d, DOCTOR_FAIL, "apps", "vipctl vips shows the table vipd would build",
		           "the VIP table cannot be built: %s", err);
	desired_state_free(&st);
	diag_list_free(&diags);
}

static void check_user(struct doctor *d)
{
	const char *user = d->cfg->run_as;
	struct passwd *pw = getpwnam(user);
	char fix[384];

	if (pw == NULL) {
		(void)snprintf(
		    fix, sizeof(fix),
		    "useradd --system --no-create-home --shell /usr/sbin/nologin %s, or set "
		    "\"checks.run_as\"",
		    user);
		doctor_add(d, DOCTOR_FAIL, "user", fix, "check user %s does not exist", user);
		return;
	}
	if (pw->pw_uid == 0) {
		doctor_add(d, DOCTOR_FAIL, "user", "set \"checks.run_as\" to an unprivileged user",
		           "check user %s is root: app commands would run with vipd's privileges",
		           user);
		return;
	}
	doctor_add(d, DOCTOR_OK, "user", NULL, "check user %s (uid %u)", user,
	           (unsigned)pw->pw_uid);
}

/* Ports HTTP and TCP checks hold at worst: each run holds one while it
 * runs and for TIME_WAIT after vipd closes it. */
static unsigned long check_ports_needed(const struct apps_set *set)
{
	unsigned long need = 0;

	for (size_t i = 0; i < set->napps; i++) {
		const struct app *a = &set->apps[i];

		for (size_t c = 0; c < a->nchecks; c++) {
			const struct health_check *hc = &a->checks[c];
			unsigned interval = hc->interval_s ? hc->interval_s : 1;

			if (hc_protocol_kind(hc->protocol) == HC_KIND_COMMAND)
				continue;
			need += a->ntasks * (DOCTOR_TIME_WAIT_S / interval + 1);
		}
	}
	return need;
}

static void check_port_range(struct doctor *d)
{
	char buf[64];
	unsigned long lo, hi, need = check_ports_needed(&d->apps), width;

	if (doctor_sysctl_read("net.ipv4.ip_local_port_range", buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%lu %lu", &lo, &hi) != 2 || hi < lo) {
		doctor_add(d, DOCTOR_FAIL, "ports", "check /proc/sys/net/ipv4/ip_local_port_range",
		           "net.ipv4.ip_local_port_range cannot be read");
		return;
	}
	width = hi - lo + 1;
	if (need > width) {
		(void)snprintf(buf, sizeof(buf),
		               "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"");
		doctor_add(d, DOCTOR_FAIL, "ports", buf,
		           "net.ipv4.ip_local_port_range %lu-%lu has %lu ports; the HTTP and TCP "
		           "checks can hold %lu at once (each run and %d s of TIME_WAIT)",
		           lo, hi, width, need, DOCTOR_TIME_WAIT_S);
		return;
	}
	doctor_add(d, DOCTOR_OK, "ports", NULL,
	           "net.ipv4.ip_local_port_range %lu-%lu: %lu ports, the checks hold at most %lu",
	           lo, hi, width, need);
}

static const char *status_name(enum doctor_status st)
{
	switch (st) {
	case DOCTOR_OK:
		return "ok";
	case DOCTOR_FAIL:
		return "FAIL";
	case DOCTOR_SKIP:
		return "skip";
	}
	return "?";
}

static void print_text(const struct doctor *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct doctor_finding *f = &d->items[i];

		printf("%-4s  %-10s  %s", status_name(f->status), f->check, f->message);
		if (f->fix[0] != '\0')
			printf("; fix: %s", f->fix);
		putchar('\n');
	}
}

static int print_json(const struct doctor *d, bool ok)
{
	json_t *root = json_object(), *arr = json_array();
	int rc = 0;

	if (root == NULL || arr == NULL || json_object_set_new(root, "ok", json_boolean(ok)) < 0 ||
	    json_object_set(root, "findings", arr) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < d->n; i++) {
		const struct doctor_finding *f = &d->items[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s?}", "check", f->check, "status",
		                      status_name(f->status), "message", f->message, "fix",
		                      f->fix[0] ? f->fix : NULL);

		if (o == NULL || json_array_append_new(arr, o) < 0)
			rc = -1;
	}
	if (rc == 0 && json_dumpf(root, stdout, JSON_INDENT(2)) == 0)
		putchar('\n');
	else
		rc = -1;
	json_decref(arr);
	json_decref(root);
	return rc;
}

static void doctor_run(struct doctor *d)
{
	/* IPVS first: without it most of what follows cannot hold. */
	doctor_check_ipvs(d);
	check_apps(d);
	if (d->apps_loaded)
		build_want(d);
	doctor_check_cluster(d);
	doctor_check_modules(d);
	doctor_check_sysctls(d);
	check_port_range(d);
	doctor_check_timeouts(d);
	doctor_check_interface(d);
	doctor_check_conflicts(d);
	check_user(d);
	doctor_check_clock(d);
}

static void doctor_free(struct doctor *d)
{
	ipvs_close(d->nl);
	lb_table_free(&d->want);
	apps_set_free(&d->apps);
	free(d->items);
}

static int on_option(int opt, const char *arg, void *ctx)
{
	(void)arg;
	if (opt == 'j')
		*(bool *)ctx = true;
	return 0;
}

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false, ok = true;
	const struct cli_spec spec = {
	    .name = "doctor",
	    .usage = "doctor [--json]",
	    .shortopts = "",
	    .longopts = longopts,
	    .on_option = on_option,
	    .ctx = &json,
	};
	struct doctor d = {0};
	int first, rc = cli_parse(cli, &spec, argc, argv, &first);

	if (rc >= 0)
		return rc;
	if (first < argc) {
		(void)fprintf(stderr,
		              "vipctl doctor: unexpected operand \"%s\"\nusage: vipctl %s\n",
		              argv[first], spec.usage);
		return CLI_EXIT_USAGE;
	}
	if (cli_load_config(cli) < 0)
		return CLI_EXIT_CONFIG;
	d.cfg = &cli->cfg;
	lb_table_init(&d.want);
	doctor_run(&d);
	for (size_t i = 0; i < d.n; i++)
		ok = ok && d.items[i].status != DOCTOR_FAIL;
	rc = 0;
	if (json)
		rc = print_json(&d, ok);
	else
		print_text(&d);
	doctor_free(&d);
	if (rc < 0) {
		(void)fprintf(stderr, "vipctl doctor: cannot build or write the JSON report\n");
		return CLI_EXIT_FAIL;
	}
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
