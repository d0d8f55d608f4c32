/*
 * The environment Marathon and Mesos give a task, and so its command health
 * checks: built once here for the shell path (exec_command.c) and the native
 * curl path (runner.c), so that both expand $HOST and $PORTn alike.
 */
#ifndef VIPD_TASK_ENV_H
#define VIPD_TASK_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "vipd/errbuf.h"

/* What the environment is made of; every field may be NULL or 0. */
struct task_env_src {
	const char *host;      /* $HOST */
	const char *task_id;   /* $MESOS_TASK_ID */
	const char *app_id;    /* $MARATHON_APP_ID */
	const uint32_t *ports; /* $PORT0.., $PORT (the first), $PORTS (all, comma-separated) */
	size_t nports;         /* any number: no value is cut and no port dropped */
	const char *const *extra_env; /* more "NAME=value" strings, NULL-terminated */
};

/*
 * Fills *out with a NULL-terminated array of heap "NAME=value" strings:
 * PATH, then the task's variables, then extra_env. Returns 0, or -1 with
 * err when memory runs out. The caller owns *out and frees it with
 * task_env_free().
 */
int task_env_build(const struct task_env_src *src, char ***out, char *err,
                   size_t errlen) VIPD_MUST_CHECK;

/* Frees an array from task_env_build() and every string in it; NULL is a no-op. */
void task_env_free(char **env);

#endif
