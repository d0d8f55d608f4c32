/*
 * The app model's small helpers: names of enums, lookups, located
 * diagnostics, and the one place each model struct is freed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/model.h"
#include "vipd/vec.h"

static const char *const hc_protocol_names[] = {
    [HC_PROTO_HTTP] = "HTTP",
    [HC_PROTO_HTTPS] = "HTTPS",
    [HC_PROTO_TCP] = "TCP",
    [HC_PROTO_COMMAND] = "COMMAND",
    [HC_PROTO_MESOS_HTTP] = "MESOS_HTTP",
    [HC_PROTO_MESOS_HTTPS] = "MESOS_HTTPS",
    [HC_PROTO_MESOS_TCP] = "MESOS_TCP",
};

const char *hc_protocol_name(enum hc_protocol p)
{
	if ((size_t)p >= sizeof(hc_protocol_names) / sizeof(hc_protocol_names[0]))
		return "UNKNOWN";
	return hc_protocol_names[p];
}

enum hc_kind hc_protocol_kind(enum hc_protocol p)
{
	switch (p) {
	case HC_PROTO_HTTP:
	case HC_PROTO_MESOS_HTTP:
		return HC_KIND_HTTP;
	case HC_PROTO_HTTPS:
	case HC_PROTO_MESOS_HTTPS:
		return HC_KIND_HTTPS;
	case HC_PROTO_TCP:
	case HC_PROTO_MESOS_TCP:
		return HC_KIND_TCP;
	case HC_PROTO_COMMAND:
		return HC_KIND_COMMAND;
	}
	return HC_KIND_COMMAND;
}

static const char *const task_state_names[] = {
    [TASK_STATE_UNKNOWN] = "TASK_UNKNOWN",   [TASK_STATE_STAGING] = "TASK_STAGING",
    [TASK_STATE_STARTING] = "TASK_STARTING", [TASK_STATE_RUNNING] = "TASK_RUNNING",
    [TASK_STATE_KILLING] = "TASK_KILLING",   [TASK_STATE_FINISHED] = "TASK_FINISHED",
    [TASK_STATE_FAILED] = "TASK_FAILED",     [TASK_STATE_KILLED] = "TASK_KILLED",
    [TASK_STATE_LOST] = "TASK_LOST",         [TASK_STATE_UNREACHABLE] = "TASK_UNREACHABLE",
};

#define NSTATES (sizeof(task_state_names) / sizeof(task_state_names[0]))

const char *task_state_name(enum task_state s)
{
	if ((size_t)s >= NSTATES)
		return "TASK_UNKNOWN";
	return task_state_names[s];
}

int task_state_parse(const char *s, enum task_state *out)
{
	for (size_t i = 0; i < NSTATES; i++) {
		if (strcmp(s, task_state_names[i]) == 0) {
			*out = (enum task_state)i;
			return 0;
		}
	}
	return -1;
}

uint32_t task_port(const struct task *t, size_t idx)
{
	return idx < t->nports ? t->ports[idx] : 0;
}

const char *label_get(const struct label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file, const char *path,
              const char *fmt, ...)
{
	struct diag d;
	char *msg = NULL;
	va_list ap;
	int n;

	if (VEC_RESERVE(dl->items, dl->cap, dl->count + 1) < 0)
		goto lost;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto lost;
	d = (struct diag){
	    .severity = sev,
	    .file = strdup(file ? file : "-"),
	    .path = strdup(path ? path : ""),
	    .message = msg,
	};
	if (!d.file || !d.path) {
		free(d.file);
		free(d.path);
		free(msg);
		goto lost;
	}
	dl->items[dl->count++] = d;
	return;
lost:
	/* Still counted: an error that could not be stored is not hidden. */
	dl->lost[sev == DIAG_WARNING ? 1 : 0]++;
}

const char *diag_format(const struct diag *d, char *buf, size_t len)
{
	const char *sev = d->severity == DIAG_WARNING ? "warning: " : "";

	if (d->path && d->path[0])
		snprintf(buf, len, "%s: %s: %s%s", d->file, d->path, sev, d->message);
	else
		snprintf(buf, len, "%s: %s%s", d->file, sev, d->message);
	return buf;
}

size_t diag_count(const struct diag_list *dl, enum diag_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < dl->count; i++)
		if (dl->items[i].severity == sev)
			n++;
	return n + dl->lost[sev == DIAG_WARNING ? 1 : 0];
}

void diag_list_free(struct diag_list *dl)
{
	for (size_t i = 0; i < dl->count; i++) {
		free(dl->items[i].file);
		free(dl->items[i].path);
		free(dl->items[i].message);
	}
	free(dl->items);
	*dl = (struct diag_list){0};
}

static void labels_free(struct label *labels, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(labels[i].key);
		free(labels[i].value);
	}
	free(labels);
}

void task_free(struct task *t)
{
	free(t->id);
	free(t->host);
	free(t->ports);
	for (size_t i = 0; i < t->nip_addresses; i++)
		free(t->ip_addresses[i]);
	free(t->ip_addresses);
	free(t->state_text);
	free(t->started_at);
	free(t->netns);
}

static void check_free(struct health_check *hc)
{
	free(hc->command);
	free(hc->path);
	free(hc->json_path);
}

void app_free(struct app *a)
{
	free(a->id);
	free(a->source);
	free(a->json_path);
	for (size_t i = 0; i < a->nports; i++) {
		free(a->ports[i].name);
		labels_free(a->ports[i].labels, a->ports[i].nlabels);
	}
	free(a->ports);
	for (size_t i = 0; i < a->nchecks; i++)
		check_free(&a->checks[i]);
	free(a->checks);
	for (size_t i = 0; i < a->ntasks; i++)
		task_free(&a->tasks[i]);
	free(a->tasks);
	labels_free(a->labels, a->nlabels);
	memset(a, 0, sizeof(*a));
}

void apps_set_free(struct apps_set *set)
{
	for (size_t i = 0; i < set->napps; i++)
		app_free(&set->apps[i]);
	free(set->apps);
	free(set->reused);
	diag_list_free(&set->diags);
	memset(set, 0, sizeof(*set));
}

/* ---- equality: what a reload compares app by app ---- */

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool labels_same(const struct label *a, size_t na, const struct label *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!str_same(a[i].key, b[i].key) || !str_same(a[i].value, b[i].value))
			return false;
	return true;
}

static bool port_same(const struct port_def *a, const struct port_def *b)
{
	return a->port == b->port && a->host_port == b->host_port && a->protocols == b->protocols &&
	       str_same(a->name, b->name) &&
	       labels_same(a->labels, a->nlabels, b->labels, b->nlabels);
}

static bool check_same(const struct health_check *a, const struct health_check *b)
{
	return a->protocol == b->protocol && str_same(a->command, b->command) &&
	       str_same(a->path, b->path) && a->port_index == b->port_index && a->port == b->port &&
	       a->grace_period_s == b->grace_period_s && a->interval_s == b->interval_s &&
	       a->timeout_s == b->timeout_s &&
	       a->max_consecutive_failures == b->max_consecutive_failures &&
	       a->delay_s == b->delay_s && a->ignore_http1xx == b->ignore_http1xx &&
	       str_same(a->json_path, b->json_path);
}

static bool strings_same(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!str_same(a[i], b[i]))
			return false;
	return true;
}

bool task_equal(const struct task *a, const struct task *b)
{
	return str_same(a->id, b->id) && str_same(a->host, b->host) && a->nports == b->nports &&
	       (a->nports == 0 || memcmp(a->ports, b->ports, a->nports * sizeof(*a->ports)) == 0) &&
	       strings_same(a->ip_addresses, a->nip_addresses, b->ip_addresses, b->nip_addresses) &&
	       a->state == b->state && str_same(a->state_text, b->state_text) &&
	       str_same(a->started_at, b->started_at) && str_same(a->netns, b->netns);
}

bool app_definition_equal(const struct app *a, const struct app *b)
{
	if (!str_same(a->id, b->id) || !str_same(a->source, b->source) ||
	    !str_same(a->json_path, b->json_path) || a->nports != b->nports ||
	    a->ports_are_mappings != b->ports_are_mappings || a->nchecks != b->nchecks ||
	    !labels_same(a->labels, a->nlabels, b->labels, b->nlabels))
		return false;
	for (size_t i = 0; i < a->nports; i++)
		if (!port_same(&a->ports[i], &b->ports[i]))
			return false;
	for (size_t i = 0; i < a->nchecks; i++)
		if (!check_same(&a->checks[i], &b->checks[i]))
			return false;
	return true;
}

bool app_tasks_equal(const struct app *a, const struct app *b)
{
	if (a->ntasks != b->ntasks)
		return false;
	for (size_t i = 0; i < a->ntasks; i++)
		if (!task_equal(&a->tasks[i], &b->tasks[i]))
			return false;
	return true;
}
