/*
 * One run of one declared health check for one task: builds the executor's
 * request from the model and, for a COMMAND that is only a curl call, runs it
 * natively through the HTTP executor and reports the exit status the real
 * shell pipeline would have given. Used by the scheduler and `vipctl check`.
 */
#ifndef VIPD_RUNNER_H
#define VIPD_RUNNER_H

#include <stdbool.h>

#include "vipd/errbuf.h"
#include "vipd/curlcmd.h"
#include "vipd/exec.h"
#include "vipd/model.h"

struct runner_settings {
	bool native_curl;         /* run recognised curl commands natively */
	enum curlcmd_shell shell; /* whose quirks the native path reproduces */
};

/* The shell behind `path` ("/bin/sh" when NULL): dash, bash or busybox, from
 * where its symlinks lead. Unknown shells count as dash (POSIX test). */
enum curlcmd_shell runner_detect_shell(const char *path);

/* Why a COMMAND runs through the shell rather than natively: "" when it
 * would run natively. */
const char *runner_native_refusal(const struct runner_settings *rs, const struct app *app,
                                  const struct task *task, const struct health_check *hc, char *why,
                                  size_t whylen);

struct runner_run;
typedef void (*runner_done_cb)(const struct check_result *res, void *arg);

/*
 * Starts one run. The callback is called once from the loop unless the run
 * is cancelled. Returns NULL when the check cannot run for this task (the
 * reason in err; the caller records it as CHECK_FAIL_CONFIG).
 */
struct runner_run *runner_start(struct exec_ctx *ctx, const struct runner_settings *rs,
                                const struct app *app, const struct task *task,
                                const struct health_check *hc, runner_done_cb cb, void *arg,
                                char *err, size_t errlen) VIPD_MUST_CHECK;
/* Stops a run in flight and frees it; its callback is not called. Not for a
 * run whose callback has been called (it is freed by then). */
void runner_cancel(struct runner_run *run);

#endif
