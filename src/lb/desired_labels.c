/*
 * Reading what an app port says for the desired table: vipd's labels (weight,
 * network scope, the service attributes) with located errors, and the
 * backend address and port of each running task.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/exec.h"
#include "vipd/health.h"
#include "vipd/suggest.h"
#include "vipd/vip.h"

#include "desired_int.h"

/* What the readers report to and read from; a part of desired.c's build. */
struct reader {
	struct diag_list *diags;
	const struct desired_input *in;
};

static const char *const svc_attr_label[ATTR_COUNT] = {
    DESIRED_LABEL_SCHEDULER,
    DESIRED_LABEL_FORWARD,
    DESIRED_LABEL_ALL_UNHEALTHY,
    DESIRED_LABEL_SLOW_START,
};

static const char *const ipvs_schedulers[] = {
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
};

/* ---- labels ---- */

static void app_label_path(const struct app *a, const char *key, char *path, size_t len)
{
	snprintf(path, len, "%s/labels/%s", a->json_path ? a->json_path : "", key);
}

/* The port's label, else the app's; path gets where it stood. */
static const char *policy_label(const struct app *a, size_t pi, const char *key, char *path,
                                size_t len)
{
	const struct port_def *pd = &a->ports[pi];
	const char *v = label_get(pd->labels, pd->nlabels, key);

	if (v != NULL) {
		vip_label_path(a, pi, key, path, len);
		return v;
	}
	v = label_get(a->labels, a->nlabels, key);
	if (v != NULL)
		app_label_path(a, key, path, len);
	return v;
}

static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static bool sched_known(const char *s)
{
	for (size_t i = 0; i < sizeof(ipvs_schedulers) / sizeof(ipvs_schedulers[0]); i++)
		if (strcmp(s, ipvs_schedulers[i]) == 0)
			return true;
	return false;
}

static void label_error(struct reader *b, const struct app *a, const char *path, const char *want,
                        const char *got)
{
	diag_add(b->diags, DIAG_ERROR, a->source, path, "expected %s, got \"%s\"", want, got);
}

static void read_weight_and_scope(struct reader *b, const struct app *a, size_t pi,
                                  struct port_policy *p)
{
	char path[1024];
	const char *v;

	v = policy_label(a, pi, DESIRED_LABEL_WEIGHT, path, sizeof(path));
	if (v != NULL && parse_uint(v, DESIRED_WEIGHT_MAX, &p->weight) < 0) {
		label_error(b, a, path, "a weight from 0 to 65535", v);
		p->weight = 1;
	}
	v = policy_label(a, pi, DESIRED_LABEL_NETWORK_SCOPE, path, sizeof(path));
	if (v == NULL)
		return;
	if (strcmp(v, "host") == 0)
		p->scope = SCOPE_HOST;
	else if (strcmp(v, "container") == 0)
		p->scope = SCOPE_CONTAINER;
	else
		label_error(b, a, path, "host or container", v);
}

/* Reads one service attribute label; parse returns false when malformed. */
static void read_attr(struct reader *b, const struct app *a, size_t pi, struct port_policy *p,
                      enum svc_attr i, bool (*parse)(const char *, struct port_policy *),
                      const char *want)
{
	const char *v = policy_label(a, pi, svc_attr_label[i], p->path[i], sizeof(p->path[i]));

	if (v == NULL)
		return;
	if (parse(v, p))
		p->raw[i] = v;
	else
		label_error(b, a, p->path[i], want, v);
}

static bool parse_sched(const char *v, struct port_policy *p)
{
	if (!sched_known(v))
		return false;
	snprintf(p->sched, sizeof(p->sched), "%s", v);
	return true;
}

static bool parse_fwd(const char *v, struct port_policy *p)
{
	return lb_fwd_parse(v, &p->fwd) == 0;
}

static bool parse_keep(const char *v, struct port_policy *p)
{
	p->keep_all = strcmp(v, "keep") == 0;
	return p->keep_all || strcmp(v, "none") == 0;
}

static bool parse_slow(const char *v, struct port_policy *p)
{
	return parse_uint(v, DESIRED_SLOW_START_MAX_S, &p->slow_start_s) == 0;
}

static void read_service_attrs(struct reader *b, const struct app *a, size_t pi,
                               struct port_policy *p)
{
	read_attr(b, a, pi, p, ATTR_SCHED, parse_sched,
	          "an IPVS scheduler (rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, "
	          "mh, twos)");
	read_attr(b, a, pi, p, ATTR_FWD, parse_fwd, "masq, droute or tunnel");
	read_attr(b, a, pi, p, ATTR_KEEP, parse_keep, "none or keep");
	read_attr(b, a, pi, p, ATTR_SLOW, parse_slow, "seconds from 0 to 3600");
}

void desired_read_port_policy(struct diag_list *diags, const struct app *a, size_t pi,
                              struct port_policy *p)
{
	struct reader rd = {.diags = diags}, *b = &rd;

	memset(p, 0, sizeof(*p));
	p->weight = 1;
	read_weight_and_scope(b, a, pi, p);
	read_service_attrs(b, a, pi, p);
}

/* ---- label keys ---- */

/* vipd's labels read on a port (and on the app, for every port). */
static const char *const port_label_keys[] = {
    DESIRED_LABEL_WEIGHT,        DESIRED_LABEL_SCHEDULER,  DESIRED_LABEL_FORWARD,
    DESIRED_LABEL_ALL_UNHEALTHY, DESIRED_LABEL_SLOW_START, NULL,
};

/* vipd's labels read on an app; VIPD_BODY_REGEX_<n> besides. */
static const char *const app_label_keys[] = {
    DESIRED_LABEL_WEIGHT,
    DESIRED_LABEL_SCHEDULER,
    DESIRED_LABEL_FORWARD,
    DESIRED_LABEL_ALL_UNHEALTHY,
    DESIRED_LABEL_SLOW_START,
    HEALTH_LABEL_RISE,
    HEALTH_LABEL_FALL,
    "VIPD_BODY_REGEX",
    "VIPD_NETNS",
    NULL,
};

#define BODY_REGEX_PREFIX "VIPD_BODY_REGEX_"

static bool key_listed(const char *key, const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static bool is_body_regex_n(const char *key)
{
	size_t n = strlen(BODY_REGEX_PREFIX);

	if (strncmp(key, BODY_REGEX_PREFIX, n) != 0 || key[n] == '\0')
		return false;
	return strspn(key + n, "0123456789") == strlen(key + n);
}

static void warn_label_key(struct diag_list *diags, const struct app *a, const char *path,
                           const char *key, const char *const *keys)
{
	const char *near = suggest_nearest(key, keys);

	if (near != NULL)
		diag_add(diags, DIAG_WARNING, a->source, path,
		         "unknown vipd label \"%s\" is ignored; did you mean \"%s\"?", key, near);
	else
		diag_add(diags, DIAG_WARNING, a->source, path,
		         "unknown vipd label \"%s\" is ignored", key);
}

static void check_port_label_keys(struct diag_list *diags, const struct app *a, size_t pi)
{
	const struct port_def *pd = &a->ports[pi];
	char path[1024];

	for (size_t i = 0; i < pd->nlabels; i++) {
		const char *key = pd->labels[i].key;

		if (strncmp(key, "VIPD_", 5) != 0 || key_listed(key, port_label_keys))
			continue;
		vip_label_path(a, pi, key, path, sizeof(path));
		if (key_listed(key, app_label_keys) || is_body_regex_n(key))
			diag_add(
			    diags, DIAG_WARNING, a->source, path,
			    "label \"%s\" is read on the app's labels only; here it is ignored",
			    key);
		else
			warn_label_key(diags, a, path, key, port_label_keys);
	}
}

/* The rise/fall labels, read by the health rules' own parser. */
static void check_hysteresis(struct diag_list *diags, const struct app *a)
{
	struct health_hysteresis hy;
	char path[1024], err[256];

	if (health_hysteresis_from_labels(a->labels, a->nlabels, &hy, err, sizeof(err)) == 0)
		return;
	/* err names the label first: "label KEY: ..." */
	for (size_t i = 0; i < a->nlabels; i++) {
		const char *key = a->labels[i].key;
		size_t n = strlen(key);

		if (strncmp(err, "label ", 6) == 0 && strncmp(err + 6, key, n) == 0 &&
		    err[6 + n] == ':') {
			app_label_path(a, key, path, sizeof(path));
			diag_add(diags, DIAG_ERROR, a->source, path, "%s", err);
			return;
		}
	}
	diag_add(diags, DIAG_ERROR, a->source, a->json_path ? a->json_path : "", "%s", err);
}

/* VIPD_BODY_REGEX[_<n>], compiled as the HTTP check compiles them: a
 * pattern the check would refuse is refused here, located. */
static void check_body_regexes(struct diag_list *diags, const struct app *a)
{
	char path[1024], err[512];

	for (size_t i = 0; i < a->nlabels; i++) {
		const char *key = a->labels[i].key;

		if (strcmp(key, "VIPD_BODY_REGEX") != 0 && !is_body_regex_n(key))
			continue;
		if (http_body_regex_check(a->labels[i].value, err, sizeof(err)) == 0)
			continue;
		app_label_path(a, key, path, sizeof(path));
		diag_add(diags, DIAG_ERROR, a->source, path, "%s", err);
	}
}

void desired_check_labels(const struct apps_set *set, struct diag_list *diags)
{
	char path[1024];

	for (size_t ai = 0; ai < set->napps; ai++) {
		const struct app *a = &set->apps[ai];

		for (size_t i = 0; i < a->nlabels; i++) {
			const char *key = a->labels[i].key;

			if (strncmp(key, "VIPD_", 5) != 0 || key_listed(key, app_label_keys) ||
			    is_body_regex_n(key))
				continue;
			app_label_path(a, key, path, sizeof(path));
			warn_label_key(diags, a, path, key, app_label_keys);
		}
		for (size_t pi = 0; pi < a->nports; pi++)
			check_port_label_keys(diags, a, pi);
		check_hysteresis(diags, a);
		check_body_regexes(diags, a);
	}
}

/* ---- backends ---- */

static void task_warn(struct reader *b, const struct app *a, size_t ti, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void task_warn(struct reader *b, const struct app *a, size_t ti, const char *fmt, ...)
{
	char path[1024], msg[512];
	va_list ap;

	snprintf(path, sizeof(path), "%s/tasks/%zu", a->json_path ? a->json_path : "", ti);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(b->diags, DIAG_WARNING, a->source, path, "task \"%s\": %s", a->tasks[ti].id, msg);
}

static bool uses_host_port(const struct app *a, size_t pi, const struct task *t, enum scope sc)
{
	if (sc != SCOPE_AUTO)
		return sc == SCOPE_HOST;
	return !a->ports_are_mappings || a->ports[pi].host_port != 0 || task_port(t, pi) != 0;
}

static int host_backend(struct reader *b, const struct app *a, size_t pi, size_t ti,
                        struct backend *be)
{
	const struct task *t = &a->tasks[ti];

	if (t->host == NULL || lb_addr_parse(t->host, &be->addr) < 0) {
		task_warn(b, a, ti, "host \"%s\" is not an IP address; not a backend of port %zu",
		          t->host ? t->host : "", pi);
		return -1;
	}
	be->port = (uint16_t)task_port(t, pi);
	if (be->port == 0) {
		task_warn(b, a, ti, "no host port at index %zu; not a backend", pi);
		return -1;
	}
	return 0;
}

static int container_backend(struct reader *b, const struct app *a, size_t pi, size_t ti,
                             struct backend *be)
{
	const struct task *t = &a->tasks[ti];
	const char *ip = t->nip_addresses > 0 ? t->ip_addresses[0] : NULL;

	if (ip == NULL || lb_addr_parse(ip, &be->addr) < 0) {
		task_warn(b, a, ti,
		          "ipAddress \"%s\" is not an IP address; not a container backend of "
		          "port %zu",
		          ip ? ip : "", pi);
		return -1;
	}
	be->port = (uint16_t)a->ports[pi].port;
	if (be->port == 0) {
		task_warn(b, a, ti, "port %zu has no container port; not a backend", pi);
		return -1;
	}
	return 0;
}

static enum desired_health task_health(const struct reader *b, const struct app *a,
                                       const struct task *t)
{
	if (a->nchecks == 0)
		return DESIRED_HEALTH_HEALTHY;
	if (b->in->health == NULL)
		return DESIRED_HEALTH_UNKNOWN;
	return b->in->health(b->in->health_ctx, a->id, t->id);
}

/* The port's backends: TASK_RUNNING tasks with a usable address. */
struct backend *desired_port_backends(struct diag_list *diags, const struct desired_input *in,
                                      const struct app *a, size_t pi, enum scope sc, size_t *n)
{
	struct reader rd = {.diags = diags, .in = in}, *b = &rd;

	struct backend *bes = calloc(a->ntasks + 1, sizeof(*bes));

	*n = 0;
	if (bes == NULL)
		return NULL;
	for (size_t ti = 0; ti < a->ntasks; ti++) {
		const struct task *t = &a->tasks[ti];
		struct backend *be = &bes[*n];
		int rc;

		if (t->state != TASK_STATE_RUNNING)
			continue;
		if (in->task_local != NULL && !in->task_local(in->task_local_ctx, t))
			continue;
		if (uses_host_port(a, pi, t, sc))
			rc = host_backend(b, a, pi, ti, be);
		else
			rc = container_backend(b, a, pi, ti, be);
		if (rc < 0)
			continue;
		be->health = task_health(b, a, t);
		be->task = ti;
		(*n)++;
	}
	return bes;
}
