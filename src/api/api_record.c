/*
 * What the API remembers between requests: the last result of every check
 * instance (a chained hash by app, task and check, pruned when the
 * definitions change) and a bounded ring of recent events (task health
 * changes, kernel operations), each with a sequence number for /v1/events.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vipd/api.h"
#include "vipd/apps.h"
#include "vipd/hash.h"

#define RECORD_MIN_BUCKETS 256

void api_record_init(struct api_record *r)
{
	memset(r, 0, sizeof(*r));
}

static void result_free(struct api_result *res)
{
	free(res->app);
	free(res->task);
	free(res);
}

static void event_clear(struct api_event *e)
{
	free(e->app);
	free(e->task);
	free(e->output);
	free(e->op);
	free(e->error);
	memset(e, 0, sizeof(*e));
}

void api_record_free(struct api_record *r)
{
	for (size_t b = 0; b < r->nbuckets; b++) {
		struct api_result *res = r->buckets[b], *next;

		for (; res; res = next) {
			next = res->next;
			result_free(res);
		}
	}
	free(r->buckets);
	for (size_t i = 0; i < API_EVENTS_MAX; i++)
		event_clear(&r->events[i]);
	memset(r, 0, sizeof(*r));
}

static uint64_t result_hash(const char *app, const char *task, size_t check_idx)
{
	uint64_t h = hash_fnv1a(HASH_FNV1A_BASIS, app, strlen(app) + 1);

	h = hash_fnv1a(h, task, strlen(task) + 1);
	return hash_fnv1a(h, &check_idx, sizeof(check_idx));
}

static struct api_result **result_slot(const struct api_record *r, const char *app,
                                       const char *task, size_t check_idx)
{
	struct api_result **p;

	if (r->nbuckets == 0)
		return NULL;
	p = &r->buckets[result_hash(app, task, check_idx) % r->nbuckets];
	for (; *p; p = &(*p)->next)
		if ((*p)->check_idx == check_idx && strcmp((*p)->app, app) == 0 &&
		    strcmp((*p)->task, task) == 0)
			break;
	return p;
}

const struct api_result *api_record_result(const struct api_record *r, const char *app,
                                           const char *task, size_t check_idx)
{
	struct api_result **p = r ? result_slot(r, app, task, check_idx) : NULL;

	return p ? *p : NULL;
}

/* Doubles the buckets once there are as many results: chains stay short. */
static int record_grow(struct api_record *r)
{
	size_t n = r->nbuckets ? r->nbuckets * 2 : RECORD_MIN_BUCKETS;
	struct api_result **fresh = calloc(n, sizeof(*fresh));

	if (!fresh)
		return -1;
	for (size_t b = 0; b < r->nbuckets; b++) {
		struct api_result *res = r->buckets[b], *next;

		for (; res; res = next) {
			size_t to = result_hash(res->app, res->task, res->check_idx) % n;

			next = res->next;
			res->next = fresh[to];
			fresh[to] = res;
		}
	}
	free(r->buckets);
	r->buckets = fresh;
	r->nbuckets = n;
	return 0;
}

static struct api_result *result_add(struct api_record *r, const char *app, const char *task,
                                     size_t check_idx)
{
	struct api_result *res, **head;

	if (r->nresults >= r->nbuckets && record_grow(r) < 0 && r->nbuckets == 0)
		return NULL;
	res = calloc(1, sizeof(*res));
	if (!res)
		return NULL;
	res->app = strdup(app);
	res->task = strdup(task);
	if (!res->app || !res->task) {
		result_free(res);
		return NULL;
	}
	res->check_idx = check_idx;
	res->health = HEALTH_UNKNOWN;
	head = &r->buckets[result_hash(app, task, check_idx) % r->nbuckets];
	res->next = *head;
	*head = res;
	r->nresults++;
	return res;
}

/* The ring's next slot, cleared, with its sequence number and time. */
static struct api_event *event_next(struct api_record *r, enum api_event_type type, double now_wall)
{
	struct api_event *e = &r->events[r->next_seq % API_EVENTS_MAX];

	event_clear(e);
	e->seq = ++r->next_seq;
	e->type = type;
	e->at_wall = now_wall;
	return e;
}

static int record_transition(struct api_record *r, const struct sched_event *ev, double now_wall)
{
	struct api_event *e = event_next(r, API_EVENT_HEALTH, now_wall);

	e->app = strdup(ev->app->id);
	e->task = strdup(ev->task->id);
	e->output = strdup(ev->res->output);
	e->from = ev->task_tr.from;
	e->to = ev->task_tr.to;
	e->check_idx = ev->check_idx;
	e->outcome = ev->res->outcome;
	e->http_status = ev->res->http_status;
	e->exit_code = ev->res->exit_code;
	return e->app && e->task && e->output ? 0 : -1;
}

int api_record_check(struct api_record *r, const struct sched_event *ev, double now_wall)
{
	struct api_result **p = result_slot(r, ev->app->id, ev->task->id, ev->check_idx);
	struct api_result *res = p ? *p : NULL;

	/* A cancelled run says nothing of the backend: the last real one stays. */
	if (ev->res->outcome == CHECK_CANCELLED)
		return 0;
	if (!res)
		res = result_add(r, ev->app->id, ev->task->id, ev->check_idx);
	if (!res)
		return -1;
	res->res = *ev->res;
	res->at_wall = now_wall;
	if (ev->check_changed)
		res->health = ev->check_tr.to;
	res->consecutive_failures = ev->check_tr.consecutive_failures;
	if (ev->task_changed)
		return record_transition(r, ev, now_wall);
	return 0;
}

int api_record_op(struct api_record *r, const struct rc_op *op, int error, const char *msg,
                  double now_wall)
{
	struct api_event *e = event_next(r, API_EVENT_OP, now_wall);
	char text[512];

	e->op = strdup(rc_op_format(op, text, sizeof(text)));
	if (!e->op)
		return -1;
	if (!error)
		return 0;
	e->error = strdup(msg && msg[0] ? msg : strerror(error < 0 ? -error : error));
	return e->error ? 0 : -1;
}

static bool result_current(const struct api_result *res, const struct apps_set *set)
{
	const struct app *a = apps_find(set, res->app);

	if (!a || res->check_idx >= a->nchecks)
		return false;
	for (size_t i = 0; i < a->ntasks; i++)
		if (strcmp(a->tasks[i].id, res->task) == 0)
			return a->tasks[i].state == TASK_STATE_RUNNING;
	return false;
}

void api_record_prune(struct api_record *r, const struct apps_set *set)
{
	for (size_t b = 0; b < r->nbuckets; b++) {
		struct api_result **p = &r->buckets[b];

		while (*p) {
			struct api_result *res = *p;

			if (result_current(res, set)) {
				p = &res->next;
				continue;
			}
			*p = res->next;
			result_free(res);
			r->nresults--;
		}
	}
}

/* "2026-12-01T15:24:07.250Z"; "" when it cannot be formatted. */
static const char *iso_time_ms(double wall, char *buf, size_t len)
{
	time_t t = (time_t)wall;
	int ms = (int)((wall - (double)t) * 1000.0);
	char base[32];
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm)) {
		buf[0] = '\0';
		return buf;
	}
	(void)snprintf(buf, len, "%s.%03dZ", base, ms < 0 ? 0 : ms > 999 ? 999 : ms);
	return buf;
}

/* outcome, exit_code (COMMAND), http_status (when one came), output. */
static void result_fields(json_t *o, enum check_outcome outcome, int exit_code, long http_status,
                          const char *output)
{
	json_object_set_new(o, "outcome", json_string(check_outcome_name(outcome)));
	if (exit_code >= 0)
		json_object_set_new(o, "exit_code", json_integer(exit_code));
	if (http_status)
		json_object_set_new(o, "http_status", json_integer(http_status));
	json_object_set_new(o, "output", json_string(output ? output : ""));
}

json_t *api_result_json(const struct api_result *res)
{
	char at[40];
	json_t *o = json_pack("{s:s, s:f, s:I}", "at", iso_time_ms(res->at_wall, at, sizeof(at)),
	                      "latency_ms", res->res.latency_ms, "consecutive_failures",
	                      (json_int_t)res->consecutive_failures);

	if (o)
		result_fields(o, res->res.outcome, res->res.exit_code, res->res.http_status,
		              res->res.output);
	return o;
}

static json_t *event_json(const struct api_event *e)
{
	char at[40];
	json_t *o = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)e->seq, "at",
	                      iso_time_ms(e->at_wall, at, sizeof(at)), "type",
	                      e->type == API_EVENT_HEALTH ? "health" : "ipvs");

	if (!o)
		return NULL;
	if (e->type == API_EVENT_OP) {
		json_object_set_new(o, "op", json_string(e->op ? e->op : ""));
		json_object_set_new(o, "result", json_string(e->error ? "error" : "ok"));
		if (e->error)
			json_object_set_new(o, "error", json_string(e->error));
		return o;
	}
	json_object_set_new(o, "app", json_string(e->app ? e->app : ""));
	json_object_set_new(o, "task", json_string(e->task ? e->task : ""));
	json_object_set_new(o, "from", json_string(health_state_name(e->from)));
	json_object_set_new(o, "to", json_string(health_state_name(e->to)));
	json_object_set_new(o, "check", json_integer((json_int_t)e->check_idx));
	result_fields(o, e->outcome, e->exit_code, e->http_status, e->output);
	return o;
}

json_t *api_events_json(const struct api_record *r, uint64_t since)
{
	uint64_t first = r->next_seq > API_EVENTS_MAX ? r->next_seq - API_EVENTS_MAX + 1 : 1;
	json_t *arr = json_array();

	if (since >= r->next_seq)
		first = r->next_seq + 1; /* none newer (a since from before a restart too) */
	else if (since + 1 > first)
		first = since + 1;
	for (uint64_t s = first; arr && s <= r->next_seq; s++)
		json_array_append_new(arr, event_json(&r->events[(s - 1) % API_EVENTS_MAX]));
	return json_pack("{s:i, s:I, s:o}", "schema", API_SCHEMA_VERSION, "last",
	                 (json_int_t)r->next_seq, "events", arr);
}
