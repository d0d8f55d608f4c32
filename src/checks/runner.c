/*
 * The bridge from a declared check to an executor run, including the native
 * path for curl-only COMMAND checks: same HTTP exchange as the curl tool,
 * then curlcmd's emulation turns it into the pipeline's exit status.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "vipd/errbuf.h"
#include "vipd/runner.h"
#include "vipd/task_env.h"

struct runner_run {
	struct exec_run *exec;
	struct curlcmd cc;
	bool native;
	double command_timeout_s; /* timeoutSeconds: the shell command is killed then */
	enum curlcmd_shell shell;
	runner_done_cb cb;
	void *arg;
};

enum curlcmd_shell runner_detect_shell(const char *path)
{
	char real[PATH_MAX];
	const char *base;

	if (!realpath(path ? path : "/bin/sh", real))
		return CURLCMD_SHELL_DASH;
	base = strrchr(real, '/');
	base = base ? base + 1 : real;
	if (strcmp(base, "bash") == 0)
		return CURLCMD_SHELL_BASH;
	if (strcmp(base, "busybox") == 0)
		return CURLCMD_SHELL_BUSYBOX;
	return CURLCMD_SHELL_DASH;
}

/* "curl/7.88.1": what the curl tool linked with the same libcurl sends. */
static const char *curl_tool_user_agent(void)
{
	static char ua[64];

	if (!ua[0])
		snprintf(ua, sizeof(ua), "curl/%s", curl_version_info(CURLVERSION_NOW)->version);
	return ua;
}

/* Whether the check runs natively: 0 with *cc and the expanded url filled,
 * or -1 with the reason in why. One recognition per run. */
static int native_plan(const struct runner_settings *rs, const struct app *app,
                       const struct task *task, const struct health_check *hc, struct curlcmd *cc,
                       char *url, size_t urllen, char *why, size_t whylen)
{
	/* The environment the shell path would give the command. */
	struct task_env_src src = {.host = task->host,
	                           .task_id = task->id,
	                           .app_id = app ? app->id : NULL,
	                           .ports = task->ports,
	                           .nports = task->nports};
	char **env;
	int rc;

	if (hc_protocol_kind(hc->protocol) != HC_KIND_COMMAND) {
		errbuf_set(why, whylen, "not a COMMAND check");
		return -1;
	}
	if (!rs->native_curl) {
		errbuf_set(why, whylen, "native curl checks are switched off");
		return -1;
	}
	if (!curlcmd_recognise(hc->command, cc, why, whylen))
		return -1;
	if (task_env_build(&src, &env, why, whylen) < 0)
		return -1;
	rc = curlcmd_url_expand(cc, env, url, urllen, why, whylen);
	task_env_free(env);
	return rc == 0 ? 0 : -1;
}

const char *runner_native_refusal(const struct runner_settings *rs, const struct app *app,
                                  const struct task *task, const struct health_check *hc, char *why,
                                  size_t whylen)
{
	struct curlcmd cc;
	char url[CURLCMD_URL_MAX];

	if (native_plan(rs, app, task, hc, &cc, url, sizeof(url), why, whylen) == 0)
		why[0] = '\0';
	return why;
}

/* exec_done_cb of a native run: the HTTP exchange becomes an exit status. */
static void native_done(struct exec_run *er, const struct check_result *res, void *arg)
{
	struct runner_run *run = arg;
	struct check_result out = *res;
	struct curlcmd_http_result hr = {.http_status = res->http_status};
	size_t len = 0;
	int code;

	hr.body = exec_run_body(er, &len);
	hr.body_len = len;
	hr.curl_code = exec_run_curl_code(er);
	hr.failonerror = run->cc.fail; /* the request set fail_on_error for -f */
	out.native = true;
	switch (res->outcome) {
	case CHECK_FAIL_TIMEOUT:
		/* curl's own -m or --connect-timeout ended it first: curl exits 28
		 * and the pipeline goes on, so its exit status is emulated. */
		if (res->latency_ms < run->command_timeout_s * 1000.0 * 0.99)
			break;
		/* The whole command would have been killed at timeoutSeconds. */
		__attribute__((fallthrough));
	case CHECK_FAIL_NETNS:
	case CHECK_FAIL_CONFIG:
	case CHECK_FAIL_INTERNAL:
	case CHECK_CANCELLED:
		run->cb(&out, run->arg);
		free(run);
		return;
	default:
		break;
	}
	if (res->outcome == CHECK_FAIL_TIMEOUT)
		hr.curl_code = CURLE_OPERATION_TIMEDOUT;
	code = curlcmd_emulate(&run->cc, run->shell, &hr, out.output, sizeof(out.output));
	out.exit_code = code;
	out.signal = 0;
	out.outcome = code == 0 ? CHECK_OK : CHECK_FAIL_EXIT;
	/* What the shell itself said (dash's test on `==`) is what the shell
	 * path would have shown; otherwise the exchange behind the status. */
	if (!out.output[0])
		snprintf(out.output, sizeof(out.output),
		         "native %s: HTTP %ld, curl code %d, exit %d",
		         curlcmd_form_name(run->cc.form), res->http_status, hr.curl_code, code);
	run->cb(&out, run->arg);
	free(run);
}

static void shell_done(struct exec_run *er, const struct check_result *res, void *arg)
{
	struct runner_run *run = arg;

	(void)er;
	run->cb(res, run->arg);
	free(run);
}

static void native_request(struct runner_run *run, const struct runner_settings *rs,
                           struct exec_request *req, const char *url)
{
	run->shell = rs->shell;
	req->kind = strncmp(url, "https:", 6) == 0 ? EXEC_HTTPS : EXEC_HTTP;
	req->url = url;
	req->capture_body = true;
	req->follow_redirects = run->cc.location;
	req->ignore_http1xx = false;
	/* The same request the curl tool makes: its user agent, method, and
	 * the options that change what it reports. */
	req->user_agent = curl_tool_user_agent();
	req->head_only = run->cc.method == CURLCMD_HEAD;
	req->fail_on_error = run->cc.fail;
	req->verify_tls = !run->cc.insecure;
	req->ip_version = run->cc.ip_version;
	req->connect_timeout_s = run->cc.connect_timeout_s;
	run->command_timeout_s = req->timeout_s;
	if (run->cc.max_time_s > 0 && run->cc.max_time_s < req->timeout_s)
		req->timeout_s = run->cc.max_time_s;
}

/* Operators add a body expectation to Marathon's HTTP checks with a label:
 * VIPD_BODY_REGEX_<n> for check n, or VIPD_BODY_REGEX for every HTTP check
 * of the app (a PCRE2 pattern searched in the body). */
static const char *body_regex_label(const struct app *app, const struct health_check *hc)
{
	char key[64];
	const char *v;

	if (!app)
		return NULL;
	snprintf(key, sizeof(key), "VIPD_BODY_REGEX_%td", hc - app->checks);
	v = label_get(app->labels, app->nlabels, key);
	return v ? v : label_get(app->labels, app->nlabels, "VIPD_BODY_REGEX");
}

struct runner_run *runner_start(struct exec_ctx *ctx, const struct runner_settings *rs,
                                const struct app *app, const struct task *task,
                                const struct health_check *hc, runner_done_cb cb, void *arg,
                                char *err, size_t errlen)
{
	struct runner_run *run = calloc(1, sizeof(*run));
	struct exec_request req;
	char url[CURLCMD_URL_MAX], why[160];

	if (!run) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	run->cb = cb;
	run->arg = arg;
	if (exec_request_from_check(&req, app, task, hc, err, errlen) < 0)
		goto fail;
	if (req.kind == EXEC_HTTP || req.kind == EXEC_HTTPS)
		req.body_regex = body_regex_label(app, hc);
	if (req.kind == EXEC_COMMAND &&
	    native_plan(rs, app, task, hc, &run->cc, url, sizeof(url), why, sizeof(why)) == 0) {
		run->native = true;
		native_request(run, rs, &req, url);
	}
	run->exec = exec_start(ctx, &req, run->native ? native_done : shell_done, run, err, errlen);
	if (!run->exec)
		goto fail;
	return run;
fail:
	free(run);
	return NULL;
}

void runner_cancel(struct runner_run *run)
{
	exec_cancel(run->exec);
	free(run);
}
