/*
 * The task environment of command checks (see task_env.h): one heap array,
 * sized from the task, so that a long agent FQDN or a task with many ports
 * reaches the shell and the native path whole.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "vipd/errbuf.h"
#include "vipd/task_env.h"

#define TASK_ENV_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* PATH, HOST, MESOS_TASK_ID, MARATHON_APP_ID, PORT, PORTS besides PORTn. */
#define TASK_ENV_FIXED 6

/* Appends one formatted "NAME=value"; env has room (counted by the caller). */
static int env_add(char **env, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int env_add(char **env, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	env[(*n)++] = s;
	return 0;
}

/* PORTS is the comma-separated list of the task's host ports. */
static int env_add_ports(char **env, size_t *n, const uint32_t *ports, size_t nports)
{
	char *s = malloc(sizeof("PORTS=") + nports * sizeof("4294967295,"));
	size_t len, i;

	if (!s)
		return -1;
	len = (size_t)sprintf(s, "PORTS=");
	for (i = 0; i < nports; i++)
		len += (size_t)sprintf(s + len, "%s%u", i ? "," : "", ports[i]);
	env[(*n)++] = s;
	return 0;
}

static int env_add_task(char **env, size_t *n, const struct task_env_src *src)
{
	size_t i;

	if (src->host && env_add(env, n, "HOST=%s", src->host) < 0)
		return -1;
	if (src->task_id && env_add(env, n, "MESOS_TASK_ID=%s", src->task_id) < 0)
		return -1;
	if (src->app_id && env_add(env, n, "MARATHON_APP_ID=%s", src->app_id) < 0)
		return -1;
	for (i = 0; i < src->nports; i++)
		if (env_add(env, n, "PORT%zu=%u", i, src->ports[i]) < 0)
			return -1;
	if (src->nports && (env_add(env, n, "PORT=%u", src->ports[0]) < 0 ||
	                    env_add_ports(env, n, src->ports, src->nports) < 0))
		return -1;
	return 0;
}

int task_env_build(const struct task_env_src *src, char ***out, char *err, size_t errlen)
{
	size_t nextra = 0, n = 0, i;
	char **env;

	while (src->extra_env && src->extra_env[nextra])
		nextra++;
	env = calloc(TASK_ENV_FIXED + src->nports + nextra + 1, sizeof(*env));
	if (!env)
		goto fail;
	if (env_add(env, &n, "%s", TASK_ENV_PATH) < 0 || env_add_task(env, &n, src) < 0)
		goto fail;
	for (i = 0; i < nextra; i++)
		if (env_add(env, &n, "%s", src->extra_env[i]) < 0)
			goto fail;
	*out = env;
	return 0;
fail:
	task_env_free(env);
	errbuf_set(err, errlen, "task environment: out of memory");
	return -1;
}

void task_env_free(char **env)
{
	size_t i;

	if (!env)
		return;
	for (i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}
