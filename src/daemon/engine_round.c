/*
 * The reconcile round: the desired table built from the apps and their
 * tasks' health, handed to the dataplane (or, without IPVS, diffed against
 * the last round's and logged as a plan), with the DNS names moved around
 * it (engine_dns.c) and the next drain or slow-start step armed.
 */
#include <math.h>

#include "engine.h"
#include "vipd/clock.h"
#include "vipd/log.h"
#include "vipd/reconcile.h"

/* desired_health_fn: the scheduler's task health, as the weight policy
 * sees it (a task Marathon would kill is simply unhealthy here). */
enum desired_health engine_health_of(void *ctx, const char *app_id, const char *task_id)
{
	struct engine *e = ctx;

	switch (sched_task_health(e->sched, app_id, task_id)) {
	case HEALTH_HEALTHY:
		return DESIRED_HEALTH_HEALTHY;
	case HEALTH_UNHEALTHY:
	case HEALTH_KILLABLE:
		return DESIRED_HEALTH_UNHEALTHY;
	case HEALTH_UNKNOWN:
		break;
	}
	return DESIRED_HEALTH_UNKNOWN;
}

struct desired_input engine_desired_input(struct engine *e)
{
	struct desired_input in = {
	    .apps = &e->apps,
	    .ranges = &e->cfg.vip_ranges,
	    .health = engine_health_of,
	    .health_ctx = e,
	    .drain_ms = (int64_t)e->cfg.drain_s * 1000,
	    .now_ms = clock_now_ms(),
	    .task_local = e->cluster ? engine_task_local : NULL,
	    .task_local_ctx = e,
	    .vip_recorded = &e->vip_records,
	    .wall_s = engine_wall_s(),
	    .vip_quarantine_s = engine_vip_quarantine_s(e),
	};

	engine_cluster_remote(e, &in);
	return in;
}

/* dataplane_op_cb */
void engine_on_op(void *arg, const struct rc_op *op, int error, const char *msg)
{
	struct engine *e = arg;

	if (error)
		e->ops_failed++;
	else
		e->ops_applied++;
	engine_dns_note_op(e, op, error);
	api_note_op(e->api, op, error, msg);
	engine_audit_op(e, op, error, msg, false);
}

void engine_log_desired_diags(const struct diag_list *dl)
{
	char line[2048];

	for (size_t i = 0; i < dl->count; i++) {
		if (dl->items[i].severity == DIAG_ERROR)
			log_warnx("%s", diag_format(&dl->items[i], line, sizeof(line)));
		else
			log_info("%s", diag_format(&dl->items[i], line, sizeof(line)));
	}
}

/* Without IPVS: diff against the previous round's table and log the plan. */
static void plan_only(struct engine *e, struct lb_table *desired)
{
	struct lb_keyset owned;
	struct rc_plan plan;
	char err[256];

	lb_keyset_init(&owned);
	rc_plan_init(&plan);
	if (lb_keyset_add_table(&owned, &e->last_desired) < 0 ||
	    lb_keyset_add_table(&owned, desired) < 0) {
		log_warnx("planning failed: out of memory");
		goto out;
	}
	lb_keyset_sort(&owned);
	if (reconcile_plan(&e->last_desired, desired, &owned, &plan, err, sizeof(err)) < 0)
		log_warnx("planning failed: %s", err);
	for (size_t i = 0; i < plan.n; i++)
		engine_audit_op(e, &plan.ops[i], 0, "", true);
out:
	rc_plan_free(&plan);
	lb_keyset_free(&owned);
}

void engine_arm_next_change(struct engine *e, int64_t next_ms)
{
	ev_timer_stop(e->loop, &e->next_change);
	e->next_change_ms = next_ms;
	if (next_ms == INT64_MAX)
		return;
	ev_timer_set(&e->next_change, fmax(0.0, (double)(next_ms - clock_now_ms()) / 1000.0), 0);
	ev_timer_start(e->loop, &e->next_change);
}

/* Rounds driven by the loop: a resync, and any round asked for while one
 * is in flight, is handed to dataplane_request, which reads and writes the
 * kernel in slices between the loop's other work, so checks and DNS answers
 * never wait for it. Its DNS names and latency figure follow in
 * engine_on_round_done, for the round that ran (a request made while one
 * runs waits; later ones replace it). */
static void request_round(struct engine *e, const struct lb_table *table, struct lb_keyset *planned,
                          bool full)
{
	struct lb_keyset *slot = dataplane_busy(e->dp) ? &e->round_planned_next : &e->round_planned;
	char err[512];

	if (dataplane_request(e->dp, table, full, err, sizeof(err)) < 0) {
		log_warnx("reconcile round not started, kernel state kept: %s", err);
		engine_dns_after_apply(e, planned, false);
		return;
	}
	lb_keyset_free(slot);
	*slot = *planned;
	lb_keyset_init(planned);
}

void engine_on_round_done(void *arg, int rc, const char *err)
{
	struct engine *e = arg;

	if (rc < 0)
		log_warnx("reconcile round incomplete, kernel state kept: %s", err);
	engine_dns_after_apply(e, &e->round_planned, rc == 0);
	lb_keyset_free(&e->round_planned);
	engine_record_apply_latency(e);
	if (dataplane_busy(e->dp)) { /* the waiting round has started */
		e->round_planned = e->round_planned_next;
		lb_keyset_init(&e->round_planned_next);
	} else if (e->round_after_flight) {
		/* patches waited for the flight (apply_part): one whole round
		 * applies them all, from the loop's next iteration */
		e->round_after_flight = false;
		engine_reconcile_now(e);
	}
}

/* `full` re-reads the kernel (resync, repairs drift by others); otherwise
 * the round plans against what the last round left (a weight change is one
 * operation, no dump). */
void engine_round(struct engine *e, bool full)
{
	struct diag_list diags = {0};
	struct desired_input in;
	struct lb_table table;
	struct lb_keyset planned;
	int64_t next = INT64_MAX;
	bool complete = true;
	char err[512];
	double started = clock_now_s();

	lb_table_init(&table);
	engine_cluster_update(e);
	engine_cluster_changes_clear(e);
	in = engine_desired_input(e);
	engine_forget_health_changes(e);
	e->rebuild_all = false;
	e->dindex_valid = desired_build_indexed(&in, &e->dstate, &table, &diags, &next, &e->dindex,
	                                        err, sizeof(err)) == 0;
	engine_cluster_publish(e);
	if (!e->dindex_valid) {
		log_warnx("cannot build the desired table: %s", err);
		goto out;
	}
	engine_vips_record(e, &e->dindex.alloc);
	if (e->log_desired_diags)
		engine_log_desired_diags(&diags);
	e->log_desired_diags = false;
	e->rounds++;
	lb_keyset_init(&planned);
	if (e->dns && lb_keyset_add_table(&planned, &table) < 0)
		log_warnx("out of memory listing services for DNS");
	lb_keyset_sort(&planned);
	engine_dns_before_apply(e, &planned);
	if (e->dp && (full || dataplane_busy(e->dp))) {
		request_round(e, &table, &planned, full);
		goto requested;
	}
	if (e->dp && dataplane_apply_quick(e->dp, &table, engine_on_op, e, err, sizeof(err)) < 0) {
		log_warnx("reconcile round incomplete, kernel state kept: %s", err);
		complete = false;
	}
	if (!e->dp)
		plan_only(e, &table);
	engine_dns_after_apply(e, &planned, complete);
	engine_record_apply_latency(e);
requested:
	lb_keyset_free(&planned);
	lb_table_free(&e->last_desired);
	e->last_desired = table;
	lb_table_init(&table);
	engine_arm_next_change(e, next);
	log_debug("whole-table round: %zu services built and %s in %.3f ms", e->last_desired.nsvcs,
	          e->dp ? "handed to the kernel" : "planned", (clock_now_s() - started) * 1000.0);
	e->source_change_at = 0;
out:
	lb_table_free(&table);
	diag_list_free(&diags);
}
