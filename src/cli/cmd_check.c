/*
 * vipctl check: every declared check run once against the live backends, on
 * the same loop, executors and native-curl path as the daemon; per task and
 * check the result, latency, the path taken and the output or error; --json
 * gives them as one document (dist/man/vipctl.8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vipd/errbuf.h"
#include "vipd/apps.h"
#include "vipd/runner.h"

struct pending {
	const struct app *app;
	const struct task *task;
	size_t check_idx;
	bool done;
	struct check_result res;
	char why_shell[160]; /* COMMAND checks run through the shell: why */
};

struct check_job {
	struct pending *items;
	size_t n, remaining;
};

static void on_done(const struct check_result *res, void *arg)
{
	struct pending *p = arg;

	p->res = *res;
	p->done = true;
}

/* Output on one line: newlines shown as "\n", trailing ones dropped. */
static void print_output(const char *out)
{
	size_t n = strlen(out);

	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	printf(" | ");
	for (size_t i = 0; i < n; i++) {
		if (out[i] == '\n')
			printf("\\n");
		else
			putchar(out[i]);
	}
}

static const char *path_taken(const struct pending *p, char *buf, size_t len)
{
	const struct health_check *hc = &p->app->checks[p->check_idx];

	if (p->res.native)
		return "native";
	if (hc_protocol_kind(hc->protocol) != HC_KIND_COMMAND)
		return "direct";
	snprintf(buf, len, "shell (%s)", p->why_shell);
	return buf;
}

static void print_result(const struct pending *p)
{
	const struct health_check *hc = &p->app->checks[p->check_idx];
	const struct check_result *r = &p->res;
	char detail[64] = "", path[200];

	if (r->exit_code >= 0 && hc_protocol_kind(hc->protocol) == HC_KIND_COMMAND)
		snprintf(detail, sizeof(detail), " exit %d", r->exit_code);
	else if (r->http_status)
		snprintf(detail, sizeof(detail), " HTTP %ld", r->http_status);
	printf("%s %s check %zu %s %s: %s%s %.1f ms", p->app->id, p->task->id, p->check_idx,
	       hc_protocol_name(hc->protocol), path_taken(p, path, sizeof(path)),
	       check_outcome_name(r->outcome), detail, r->latency_ms);
	if (r->output[0])
		print_output(r->output);
	printf("\n");
}

/* The fields of the audit log's `check` event where they mean the same. */
static json_t *result_json(const struct pending *p)
{
	const struct health_check *hc = &p->app->checks[p->check_idx];
	const struct check_result *r = &p->res;
	bool command = hc_protocol_kind(hc->protocol) == HC_KIND_COMMAND;
	json_t *o = json_pack(
	    "{s:s, s:s, s:I, s:s, s:s, s:s, s:b, s:f, s:s}", "app", p->app->id, "task", p->task->id,
	    "check", (json_int_t)p->check_idx, "protocol", hc_protocol_name(hc->protocol), "path",
	    r->native ? "native"
	    : command ? "shell"
	              : "direct",
	    "outcome", check_outcome_name(r->outcome), "healthy", check_outcome_healthy(r->outcome),
	    "latency_ms", r->latency_ms, "output", r->output);

	if (o && command && !r->native && p->why_shell[0])
		json_object_set_new(o, "shell_reason", json_string(p->why_shell));
	if (o && command && r->exit_code >= 0)
		json_object_set_new(o, "exit_code", json_integer(r->exit_code));
	if (o && r->http_status)
		json_object_set_new(o, "http_status", json_integer(r->http_status));
	return o;
}

/* ok: every check passed and the definitions had no error. */
static int print_json(const struct check_job *job, size_t failed, bool ok)
{
	json_t *arr = json_array(), *doc;
	int rc;

	for (size_t i = 0; arr && i < job->n; i++)
		json_array_append_new(arr, result_json(&job->items[i]));
	doc = json_pack("{s:i, s:b, s:I, s:I, s:o*}", "schema", 1, "ok", ok, "run",
	                (json_int_t)job->n, "failed", (json_int_t)failed, "results", arr);
	rc = doc ? cli_api_print_json(doc) : CLI_EXIT_FAIL;
	json_decref(doc);
	return rc;
}

static int start_all(struct exec_ctx *ctx, const struct runner_settings *rs, struct check_job *job)
{
	char err[256];

	for (size_t i = 0; i < job->n; i++) {
		struct pending *p = &job->items[i];
		const struct health_check *hc = &p->app->checks[p->check_idx];

		runner_native_refusal(rs, p->app, p->task, hc, p->why_shell, sizeof(p->why_shell));
		if (!runner_start(ctx, rs, p->app, p->task, &p->app->checks[p->check_idx], on_done,
		                  p, err, sizeof(err))) {
			p->done = true;
			p->res =
			    (struct check_result){.outcome = CHECK_FAIL_CONFIG, .exit_code = -1};
			snprintf(p->res.output, sizeof(p->res.output), "%s", err);
		}
	}
	return 0;
}

/* Every check instance to run into job; -1 when out of memory. */
static VIPD_MUST_CHECK int collect(const struct apps_set *set, const char *only,
                                   struct check_job *job)
{
	size_t n = 0;

	for (size_t i = 0; i < set->napps; i++)
		for (size_t t = 0; t < set->apps[i].ntasks; t++)
			n += set->apps[i].nchecks;
	job->items = calloc(n + 1, sizeof(*job->items));
	if (!job->items)
		return -1;
	for (size_t i = 0; i < set->napps; i++) {
		const struct app *a = &set->apps[i];

		if (only && strcmp(a->id, only) != 0)
			continue;
		for (size_t t = 0; t < a->ntasks; t++)
			for (size_t c = 0; c < a->nchecks; c++)
				job->items[job->n++] = (struct pending){
				    .app = a, .task = &a->tasks[t], .check_idx = c};
	}
	return 0;
}

struct check_opts {
	const char *only;
	bool no_native;
	bool json;
};

static int on_option(int opt, const char *arg, void *ctx)
{
	struct check_opts *o = ctx;

	if (opt == 'a')
		o->only = arg;
	else if (opt == 'j')
		o->json = true;
	else
		o->no_native = true;
	return 0;
}

static const struct option check_longopts[] = {
    {"app", required_argument, NULL, 'a'},
    {"no-native", no_argument, NULL, 'N'},
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct check_opts o = {0};
	const struct cli_spec spec = {
	    .name = "check",
	    .usage = "check [-c CONFIG] [--app ID] [--no-native] [--json] FILE|DIR|URL...",
	    .shortopts = "",
	    .longopts = check_longopts,
	    .min_operands = 1,
	    .on_option = on_option,
	    .ctx = &o,
	};
	struct runner_settings rs;
	struct exec_settings es;
	struct apps_set set = {0};
	struct check_job job = {0};
	struct ev_loop *loop = ev_default_loop(0);
	struct exec_ctx *ctx;
	size_t failed = 0;
	char err[256];
	int first, rc = cli_parse(cli, &spec, argc, argv, &first);

	if (rc >= 0)
		return rc;
	if (cli_load_config(cli) < 0)
		return CLI_EXIT_CONFIG;
	cli_check_settings(cli, &es, &rs);
	if (o.no_native)
		rs.native_curl = false;
	rc = CLI_EXIT_OK;
	if (cli_load_apps(cli, &set, argc - first, argv + first))
		rc = CLI_EXIT_CONFIG;
	if (o.only && !apps_find(&set, o.only)) {
		fprintf(stderr, "vipctl: no app \"%s\" in the definitions\n", o.only);
		apps_set_free(&set);
		return CLI_EXIT_CONFIG;
	}
	ctx = exec_ctx_new(loop, &es, err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "vipctl: cannot set up the check executors: %s\n", err);
		apps_set_free(&set);
		return CLI_EXIT_FAIL;
	}
	if (collect(&set, o.only, &job) < 0) {
		fprintf(stderr, "vipctl: out of memory\n");
		exec_ctx_free(ctx);
		apps_set_free(&set);
		return CLI_EXIT_FAIL;
	}
	start_all(ctx, &rs, &job);
	while (exec_ctx_running(ctx) > 0)
		ev_run(loop, EVRUN_ONCE);
	for (size_t i = 0; i < job.n; i++)
		failed += !check_outcome_healthy(job.items[i].res.outcome);
	if (failed && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_FAIL;
	if (o.json && print_json(&job, failed, rc == CLI_EXIT_OK) != CLI_EXIT_OK)
		rc = CLI_EXIT_FAIL;
	for (size_t i = 0; !o.json && i < job.n; i++)
		print_result(&job.items[i]);
	if (!o.json)
		printf("%zu checks run: %s\n", job.n,
		       rc == CLI_EXIT_OK ? "all healthy" : "not all healthy");
	exec_ctx_free(ctx);
	free(job.items);
	apps_set_free(&set);
	return rc;
}
