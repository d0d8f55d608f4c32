/*
 * vipctl diff: what a reload of these definitions would do to a running
 * vipd, before it happens (issue 11). The running state comes from vipd's
 * API (/v1/vips); the desired table is built from the new definitions, that
 * state and the health each task would have after the reload, by the
 * daemon's own build (desired_build), and the kernel operations are the
 * daemon's own planner's (reconcile_plan) against the running table. Exit 0
 * when nothing would change, 1 when something would, like diff(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_diff.h"
#include "vipd/apps.h"
#include "vipd/clock.h"
#include "vipd/vec.h"

struct diff_opts {
	const char *api;
	bool json;
};

static int on_option(int opt, const char *arg, void *ctx)
{
	struct diff_opts *o = ctx;

	if (opt == 'a')
		o->api = arg;
	else
		o->json = true;
	return 0;
}

static const struct option diff_longopts[] = {
    {"api", required_argument, NULL, 'a'},
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

/* Each running task of the new definitions with the health it would have
 * right after the reload (apps with checks; the others' are healthy and
 * never asked). Sorted by diff_task_cmp; calloc'd, NULL when out of memory. */
static struct diff_task *new_tasks(const struct apps_set *set, const struct diff_running *r,
                                   size_t *n)
{
	size_t total = 0;
	struct diff_task *items;

	*n = 0;
	for (size_t i = 0; i < set->napps; i++)
		total += set->apps[i].ntasks;
	items = calloc(total + 1, sizeof(*items));
	if (!items)
		return NULL;
	for (size_t i = 0; i < set->napps; i++) {
		const struct app *a = &set->apps[i];

		for (size_t t = 0; t < a->ntasks; t++) {
			const struct task *tk = &a->tasks[t];
			const struct diff_task *dt = diff_running_task(r, a->id, tk->id);
			bool fresh = a->nchecks > 0 && diff_running_checks_restart(r, a, tk);

			if (tk->state != TASK_STATE_RUNNING)
				continue;
			items[(*n)++] =
			    (struct diff_task){.app = a->id,
			                       .task = tk->id,
			                       .health = a->nchecks == 0 ? DESIRED_HEALTH_HEALTHY
			                                 : fresh         ? DESIRED_HEALTH_UNKNOWN
			                                                 : dt->health};
		}
	}
	vec_sort(items, *n, sizeof(*items), diff_task_cmp);
	return items;
}

/* desired_health_fn */
static enum desired_health health_of(void *ctx, const char *app_id, const char *task_id)
{
	const struct diff_result *d = ctx;
	const struct diff_task *found =
	    diff_task_find(d->new_tasks, d->nnew_tasks, app_id, task_id);

	return found ? found->health : DESIRED_HEALTH_UNKNOWN;
}

static bool has_running_task(const struct app *a)
{
	for (size_t t = 0; t < a->ntasks; t++)
		if (a->tasks[t].state == TASK_STATE_RUNNING)
			return true;
	return false;
}

/* Which app and which name feed which service in the new table, as
 * /v1/vips lists them for the running one (an app by its running tasks). */
static int new_feeds(struct diff_result *d, const struct desired_index *ix)
{
	for (size_t f = 0; f < ix->nfeeds; f++) {
		const struct vip_use *u = &ix->uses.items[ix->feeds[f].use];
		const struct app *a = &d->apps->apps[u->app];

		if (has_running_task(a) &&
		    diff_feeds_add(&d->app_feeds, a->id, &ix->feeds[f].svc) < 0)
			return -1;
		if (u->ref.named &&
		    diff_feeds_add(&d->named_feeds, u->ref.name, &ix->feeds[f].svc) < 0)
			return -1;
	}
	diff_feeds_sort(&d->app_feeds);
	diff_feeds_sort(&d->named_feeds);
	return 0;
}

/* The daemon's round after a reload: the table from the new definitions
 * and the running state, and the plan against the running table (vipd
 * owns every service of either, as its round does). */
static int plan(const struct vipd_config *cfg, struct diff_running *r, struct diff_result *d,
                struct desired_index *ix, struct diag_list *diags, char *err, size_t errlen)
{
	struct desired_input in = {
	    .apps = d->apps,
	    .ranges = &cfg->vip_ranges,
	    .health = health_of,
	    .health_ctx = d,
	    .drain_ms = (int64_t)cfg->drain_s * 1000,
	    .now_ms = clock_now_ms(),
	    .vip_recorded = &r->records,
	    .wall_s = (int64_t)time(NULL),
	    .vip_quarantine_s = config_vip_quarantine_s(cfg),
	};
	struct lb_table desired;
	struct lb_keyset owned;
	int rc = -1;

	lb_table_init(&desired);
	lb_keyset_init(&owned);
	snprintf(err, errlen, "out of memory");
	if (desired_build_indexed(&in, &r->state, &desired, diags, NULL, ix, err, errlen) < 0)
		goto out;
	if (lb_keyset_add_table(&owned, &r->table) < 0 ||
	    lb_keyset_add_table(&owned, &desired) < 0 || new_feeds(d, ix) < 0)
		goto out;
	lb_keyset_sort(&owned);
	rc = reconcile_plan(&r->table, &desired, &owned, &d->plan, err, errlen);
out:
	lb_keyset_free(&owned);
	lb_table_free(&desired);
	return rc;
}

/* The running state, asked of vipd; an exit code. */
static int read_running(struct cli *cli, const struct diff_opts *o, json_t **doc,
                        struct diff_running *r)
{
	char where[128], err[512];
	int rc = cli_api_address(cli, o->api, where, sizeof(where));

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_api_get_settled(where, "/v1/vips", doc);
	if (rc != CLI_EXIT_OK)
		return CLI_EXIT_UNAVAILABLE; /* no running state to compare with */
	if (diff_running_read(*doc, clock_now_ms(), r, err, sizeof(err)) < 0) {
		fprintf(stderr, "vipctl diff: vipd at %s: %s\n", where, err);
		return CLI_EXIT_UNAVAILABLE;
	}
	return CLI_EXIT_OK;
}

static int diff_run(struct cli *cli, const struct diff_opts *o, const struct apps_set *set)
{
	struct diff_running r;
	struct diff_result d = {.apps = set};
	struct desired_index ix;
	struct diag_list diags = {0};
	json_t *doc = NULL;
	char err[512];
	int rc = read_running(cli, o, &doc, &r);

	if (rc != CLI_EXIT_OK) {
		json_decref(doc);
		return rc;
	}
	d.running = &r;
	d.new_tasks = new_tasks(set, &r, &d.nnew_tasks);
	if (!d.new_tasks) {
		fprintf(stderr, "vipctl diff: out of memory\n");
		diff_running_free(&r);
		json_decref(doc);
		return CLI_EXIT_FAIL;
	}
	rc_plan_init(&d.plan);
	desired_index_init(&ix);
	if (plan(&cli->cfg, &r, &d, &ix, &diags, err, sizeof(err)) < 0) {
		fprintf(stderr, "vipctl: %s\n", err);
		rc = CLI_EXIT_CONFIG; /* the named ranges: the daemon fails alike */
	} else {
		cli_print_diags(&diags);
		/* The daemon refuses what was reported as an error: bad input. */
		if (diag_count(&diags, DIAG_ERROR) > 0)
			rc = CLI_EXIT_CONFIG;
		else
			rc = diff_report(&d, o->json) > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	}
	diag_list_free(&diags);
	desired_index_free(&ix);
	diff_feeds_free(&d.app_feeds);
	diff_feeds_free(&d.named_feeds);
	rc_plan_free(&d.plan);
	free((void *)d.new_tasks);
	diff_running_free(&r);
	json_decref(doc);
	return rc;
}

int cmd_diff(struct cli *cli, int argc, char **argv)
{
	struct diff_opts o = {0};
	const struct cli_spec spec = {
	    .name = "diff",
	    .usage = "diff [-c CONFIG] [--api ADDR:PORT] [--json] FILE|DIR|URL...",
	    .shortopts = "",
	    .longopts = diff_longopts,
	    .min_operands = 1,
	    .on_option = on_option,
	    .ctx = &o,
	};
	struct apps_set set = {0};
	int first, rc = cli_parse(cli, &spec, argc, argv, &first);

	if (rc >= 0)
		return rc;
	if (cli_load_config(cli) < 0)
		return CLI_EXIT_CONFIG;
	/* Bad definitions are refused before vipd is asked anything: a reload
	 * would keep such an app at its last good definition. */
	if (cli_load_apps(cli, &set, argc - first, argv + first) > 0)
		rc = CLI_EXIT_CONFIG;
	else
		rc = diff_run(cli, &o, &set);
	apps_set_free(&set);
	return rc;
}
