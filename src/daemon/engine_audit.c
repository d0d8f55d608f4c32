/*
 * The audit log's events (the contract is docs/audit-log.md): health
 * transitions of checks and tasks, kernel operations with their results,
 * reloads. The counters at start, stop and on SIGUSR1: engine_stats.c.
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "vipd/log.h"
#include "vipd/reconcile.h"

static const char *path_taken(const struct sched_event *ev)
{
	if (ev->res->native)
		return "native";
	return hc_protocol_kind(ev->hc->protocol) == HC_KIND_COMMAND ? "shell" : "direct";
}

void engine_audit_check(struct engine *e, const struct sched_event *ev)
{
	const struct check_result *r = ev->res;
	json_t *o = json_pack(
	    "{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:f, s:s}", "app", ev->app->id, "task",
	    ev->task->id, "check", (json_int_t)ev->check_idx, "protocol",
	    hc_protocol_name(ev->hc->protocol), "from", health_state_name(ev->check_tr.from), "to",
	    health_state_name(ev->check_tr.to), "rule", health_rule_name(ev->check_tr.rule),
	    "outcome", check_outcome_name(r->outcome), "consecutive_failures",
	    (json_int_t)ev->check_tr.consecutive_failures, "latency_ms", r->latency_ms, "path",
	    path_taken(ev));

	if (!o)
		return;
	if (r->exit_code >= 0)
		json_object_set_new(o, "exit_code", json_integer(r->exit_code));
	if (r->http_status)
		json_object_set_new(o, "http_status", json_integer(r->http_status));
	json_object_set_new(o, "output", audit_text(r->output));
	audit_emit(e->audit, "check", o);
}

void engine_audit_task(struct engine *e, const struct sched_event *ev)
{
	json_t *o = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:I}", "app", ev->app->id, "task", ev->task->id, "from",
	    health_state_name(ev->task_tr.from), "to", health_state_name(ev->task_tr.to), "rule",
	    health_rule_name(ev->task_tr.rule), "check", (json_int_t)ev->check_idx);
	json_t *ports = json_array();

	/* Where the task listens, so a reader can tie it to its IPVS destinations. */
	for (size_t i = 0; ports && i < ev->task->nports; i++)
		json_array_append_new(ports, json_integer(ev->task->ports[i]));
	if (o && ev->task->host)
		json_object_set_new(o, "host", json_string(ev->task->host));
	if (o && ports)
		json_object_set_new(o, "ports", ports);
	else
		json_decref(ports);
	audit_emit(e->audit, "task", o);
}

/* What made a task's health change, for people: "HTTP 500", "exit 3: ...",
 * "connect_failed: Failed to connect ...", first line of the output. */
static void rotation_reason(const struct check_result *r, char *out, size_t len)
{
	char first[128];

	snprintf(first, sizeof(first), "%.*s", (int)sizeof(first) - 1, r->output);
	first[strcspn(first, "\r\n")] = '\0';
	if (r->http_status && (r->outcome == CHECK_OK || r->outcome == CHECK_FAIL_HTTP_STATUS))
		snprintf(out, len, "HTTP %ld", r->http_status);
	else if (r->outcome == CHECK_FAIL_EXIT || (r->outcome == CHECK_OK && r->exit_code >= 0))
		snprintf(out, len, "exit %d%s%s", r->exit_code, first[0] ? ": " : "", first);
	else
		snprintf(out, len, "%s%s%s", check_outcome_name(r->outcome), first[0] ? ": " : "",
		         first);
}

void engine_log_rotation(struct engine *e, const struct sched_event *ev)
{
	bool up = ev->task_tr.to == HEALTH_HEALTHY;
	const struct task *t = ev->task;
	size_t n = 0, k = 0;
	char reason[320], where[160];

	/* Into or out of rotation only: unknown -> unhealthy was never in. */
	if (!up && ev->task_tr.from != HEALTH_HEALTHY)
		return;
	for (size_t i = 0; i < ev->app->ntasks; i++) {
		const struct task *o = &ev->app->tasks[i];

		if (o->state != TASK_STATE_RUNNING)
			continue;
		n++;
		k += sched_task_health(e->sched, ev->app->id, o->id) == HEALTH_HEALTHY;
	}
	if (t->nports > 0)
		snprintf(where, sizeof(where), "%s:%u", t->host ? t->host : "?",
		         (unsigned)t->ports[0]);
	else
		snprintf(where, sizeof(where), "%s", t->host ? t->host : "?");
	rotation_reason(ev->res, reason, sizeof(reason));
	if (up)
		log_info("backend %s %s (task %s) is UP, reason: %s, %zu of %zu in rotation",
		         ev->app->id, where, t->id, reason, k, n);
	else
		log_warnx(
		    "backend %s %s (task %s) is DOWN, reason: %s, %zu of %zu left in rotation",
		    ev->app->id, where, t->id, reason, k, n);
}

/* The VIP label, app and task of the operation, when known
 * (docs/audit-log.md). */
static void audit_origin(struct engine *e, const struct rc_op *op, json_t *o)
{
	struct engine_op_origin who;

	engine_origin_of(e, op, &who);
	if (who.vip[0])
		json_object_set_new(o, "vip", json_string(who.vip));
	if (who.app[0])
		json_object_set_new(o, "app", json_string(who.app));
	if (who.task[0])
		json_object_set_new(o, "task", json_string(who.task));
	if (who.ntasks > 1)
		json_object_set_new(o, "tasks_sharing", json_integer((json_int_t)who.ntasks));
}

void engine_audit_op(struct engine *e, const struct rc_op *op, int error, const char *msg,
                     bool dry_run)
{
	char svc[128], dest[128], text[512], name[32];
	json_t *o;

	/* "add dest" -> "add_dest": identifiers in the log are snake case. */
	snprintf(name, sizeof(name), "%s", rc_op_kind_name(op->kind));
	for (char *c = name; *c; c++)
		if (*c == ' ')
			*c = '_';
	o = json_pack("{s:s, s:s, s:s}", "op", name, "service",
	              lb_key_format(&op->svc, svc, sizeof(svc)), "text",
	              rc_op_format(op, text, sizeof(text)));

	if (!o)
		return;
	if (op->kind == RC_ADD_DEST || op->kind == RC_EDIT_DEST || op->kind == RC_DEL_DEST) {
		json_object_set_new(o, "dest",
		                    json_string(lb_addr_port_format(&op->dest.addr, op->dest.port,
		                                                    dest, sizeof(dest))));
		json_object_set_new(o, "weight", json_integer(op->dest.weight));
	}
	if (op->kind == RC_EDIT_DEST)
		json_object_set_new(o, "old_weight", json_integer(op->old_weight));
	audit_origin(e, op, o);
	json_object_set_new(o, "result", json_string(dry_run ? "planned" : error ? "error" : "ok"));
	if (error) {
		json_object_set_new(o, "errno", json_integer(error));
		json_object_set_new(o, "error", json_string(msg ? msg : ""));
	}
	audit_emit(e->audit, "ipvs", o);
}

void engine_audit_reload(struct engine *e, const struct apps_set *set, size_t kept)
{
	size_t tasks = 0, checks = 0;
	json_t *kept_apps = json_array();

	for (size_t i = 0; i < set->napps; i++) {
		tasks += set->apps[i].ntasks;
		checks += set->apps[i].nchecks * set->apps[i].ntasks;
	}
	for (size_t i = set->napps - (kept < set->napps ? kept : set->napps);
	     kept_apps && i < set->napps; i++)
		json_array_append_new(kept_apps, json_string(set->apps[i].id));
	audit_emit(e->audit, "reload",
	           json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o*}", "apps_path",
	                     engine_apps_shown(e), "files", (json_int_t)set->files_read, "apps",
	                     (json_int_t)set->napps, "tasks", (json_int_t)tasks, "check_instances",
	                     (json_int_t)checks, "errors",
	                     (json_int_t)diag_count(&set->diags, DIAG_ERROR), "kept_last_good",
	                     (json_int_t)kept, "kept_apps", kept_apps));
}
