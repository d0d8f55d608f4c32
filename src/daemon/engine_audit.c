/*
 * The audit log's events (the contract is docs/audit-log.md): health
 * transitions of checks and tasks, kernel operations with their results,
 * reloads. The counters at start, stop and on SIGUSR1: engine_stats.c.
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"
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

	for (size_t i = 0; i < set->napps; i++) {
		tasks += set->apps[i].ntasks;
		checks += set->apps[i].nchecks * set->apps[i].ntasks;
	}
	audit_emit(e->audit, "reload",
	           json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "apps_path",
	                     engine_apps_shown(e), "files", (json_int_t)set->files_read, "apps",
	                     (json_int_t)set->napps, "tasks", (json_int_t)tasks, "check_instances",
	                     (json_int_t)checks, "errors",
	                     (json_int_t)diag_count(&set->diags, DIAG_ERROR), "kept_last_good",
	                     (json_int_t)kept));
}
