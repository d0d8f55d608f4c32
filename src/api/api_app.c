/*
 * /v1/apps/ID: one app's checks as declared and its tasks with each check's
 * health and last result; and the same per-check list that /v1/vips gives
 * every backend. Pure: the state and the record come in.
 */
#include "vipd/api.h"

/* What the check runs against: the command, or the path and port. */
static json_t *check_decl_json(const struct health_check *hc, size_t idx)
{
	json_t *o =
	    json_pack("{s:I, s:s, s:I, s:I, s:I, s:I}", "check", (json_int_t)idx, "protocol",
	              hc_protocol_name(hc->protocol), "interval_seconds",
	              (json_int_t)hc->interval_s, "timeout_seconds", (json_int_t)hc->timeout_s,
	              "grace_period_seconds", (json_int_t)hc->grace_period_s,
	              "max_consecutive_failures", (json_int_t)hc->max_consecutive_failures);

	if (!o)
		return NULL;
	if (hc->command)
		json_object_set_new(o, "command", json_string(hc->command));
	if (hc->path && !hc->command)
		json_object_set_new(o, "path", json_string(hc->path));
	if (hc->port_index >= 0)
		json_object_set_new(o, "port_index", json_integer(hc->port_index));
	else
		json_object_set_new(o, "port", json_integer(hc->port));
	return o;
}

json_t *api_task_checks_json(const struct api_state *st, const struct app *a, const struct task *t)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < a->nchecks; i++) {
		const struct api_result *res = api_record_result(st->record, a->id, t->id, i);
		json_t *o = json_pack("{s:I, s:s, s:s}", "check", (json_int_t)i, "protocol",
		                      hc_protocol_name(a->checks[i].protocol), "health",
		                      health_state_name(res ? res->health : HEALTH_UNKNOWN));

		if (o && res)
			json_object_set_new(o, "last", api_result_json(res));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *task_json(const struct api_state *st, const struct app *a, const struct task *t)
{
	json_t *ports = json_array();
	enum health_state h = HEALTH_HEALTHY;

	for (size_t i = 0; ports && i < t->nports; i++)
		json_array_append_new(ports, json_integer(t->ports[i]));
	if (a->nchecks)
		h = t->state == TASK_STATE_RUNNING ? sched_task_health(st->sched, a->id, t->id)
		                                   : HEALTH_UNKNOWN;
	return json_pack("{s:s, s:s*, s:o, s:s, s:s, s:o}", "task", t->id, "host", t->host, "ports",
	                 ports, "state", task_state_name(t->state), "health", health_state_name(h),
	                 "checks", api_task_checks_json(st, a, t));
}

json_t *api_app_json(const struct api_state *st, const struct app *a)
{
	json_t *checks = json_array(), *tasks = json_array();

	for (size_t i = 0; checks && i < a->nchecks; i++)
		json_array_append_new(checks, check_decl_json(&a->checks[i], i));
	for (size_t i = 0; tasks && i < a->ntasks; i++)
		json_array_append_new(tasks, task_json(st, a, &a->tasks[i]));
	return json_pack("{s:i, s:{s:s, s:s, s:o, s:o}}", "schema", API_SCHEMA_VERSION, "app", "id",
	                 a->id, "source", a->source ? a->source : "", "checks", checks, "tasks",
	                 tasks);
}
