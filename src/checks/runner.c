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

#include "vipd/runner.h"

#define ENV_MAX 40

struct runner_run {
	struct exec_run *exec;
	struct curlcmd cc;
	bool native;
	bool max_time_limits; /* curl -m ends the transfer before timeoutSeconds */
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

/* The variables a curl URL may use, as the COMMAND executor sets them. */
static void build_env(const struct task *task, char store[ENV_MAX][64], char **envp)
{
	size_t n = 0, off;
	char ports[512] = "";

	for (size_t i = 0; i < task->nports && n < ENV_MAX - 4; i++) {
		snprintf(store[n], sizeof(store[n]), "PORT%zu=%u", i, task->ports[i]);
		envp[n] = store[n];
		n++;
		off = strlen(ports);
		snprintf(ports + off, sizeof(ports) - off, "%s%u", i ? "," : "", task->ports[i]);
	}
	if (task->nports) {
		snprintf(store[n], sizeof(store[n]), "PORT=%u", task->ports[0]);
		envp[n] = store[n];
		n++;
		snprintf(store[n], sizeof(store[n]), "PORTS=%.57s", ports);
		envp[n] = store[n];
		n++;
	}
	snprintf(store[n], sizeof(store[n]), "HOST=%.58s", task->host ? task->host : "");
	envp[n] = store[n];
	n++;
	envp[n] = NULL;
}

const char *runner_native_refusal(const struct runner_settings *rs, const struct app *app,
                                  const struct task *task, const struct health_check *hc, char *why,
                                  size_t whylen)
{
	struct curlcmd cc;
	char store[ENV_MAX][64], *envp[ENV_MAX + 1], url[CURLCMD_URL_MAX];

	(void)app;
	if (hc_protocol_kind(hc->protocol) != HC_KIND_COMMAND) {
		snprintf(why, whylen, "not a COMMAND check");
		return why;
	}
	if (!rs->native_curl) {
		snprintf(why, whylen, "native curl checks are switched off");
		return why;
	}
	if (!curlcmd_recognise(hc->command, &cc, why, whylen))
		return why;
	if (cc.method != CURLCMD_GET)
		snprintf(why, whylen, "HEAD requests run through the shell");
	else if (cc.ip_version != 0)
		snprintf(why, whylen, "-4/-6 run through the shell");
	else if (cc.connect_timeout_s > 0 && cc.connect_timeout_s < hc->timeout_s)
		snprintf(why, whylen, "--connect-timeout runs through the shell");
	else {
		build_env(task, store, envp);
		if (curlcmd_url_expand(&cc, envp, url, sizeof(url), why, whylen) == 0)
			why[0] = '\0';
	}
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
	out.native = true;
	switch (res->outcome) {
	case CHECK_FAIL_TIMEOUT:
		if (run->max_time_limits)
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
	code = curlcmd_emulate_exit(&run->cc, run->shell, &hr);
	out.exit_code = code;
	out.signal = 0;
	out.outcome = code == 0 ? CHECK_OK : CHECK_FAIL_EXIT;
	snprintf(out.output, sizeof(out.output), "native %s: HTTP %ld, curl code %d, exit %d",
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

static int native_request(struct runner_run *run, const struct runner_settings *rs,
                          const struct task *task, const struct health_check *hc,
                          struct exec_request *req, char *url, size_t urllen)
{
	char store[ENV_MAX][64], *envp[ENV_MAX + 1], why[160];

	if (!curlcmd_recognise(hc->command, &run->cc, why, sizeof(why)))
		return -1;
	build_env(task, store, envp);
	if (curlcmd_url_expand(&run->cc, envp, url, urllen, why, sizeof(why)) < 0)
		return -1;
	run->shell = rs->shell;
	req->kind = strncmp(url, "https:", 6) == 0 ? EXEC_HTTPS : EXEC_HTTP;
	req->url = url;
	req->capture_body = true;
	req->follow_redirects = run->cc.location;
	req->ignore_http1xx = false;
	if (run->cc.max_time_s > 0 && run->cc.max_time_s < req->timeout_s) {
		req->timeout_s = run->cc.max_time_s;
		run->max_time_limits = true;
	}
	return 0;
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
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	run->cb = cb;
	run->arg = arg;
	if (exec_request_from_check(&req, app, task, hc, err, errlen) < 0)
		goto fail;
	if (req.kind == EXEC_COMMAND &&
	    runner_native_refusal(rs, app, task, hc, why, sizeof(why))[0] == '\0')
		run->native = native_request(run, rs, task, hc, &req, url, sizeof(url)) == 0;
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
