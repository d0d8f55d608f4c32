/*
 * The round for some apps only: after health changes, and after a reload
 * (a file, a directory, Marathon's state or events) that changed a few
 * apps. The services those apps' VIPs feed are rebuilt by the one function
 * that does it (desired_build_apps, checked against the whole build by
 * tests/unit/test_reload_patch.c) and applied alone, so one changed task
 * costs O(changed services), not O(table). Whatever it cannot do falls
 * back to the whole-table round.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "vipd/apps_diff.h"
#include "vipd/clock.h"
#include "vipd/log.h"
#include "vipd/vec.h"

int engine_note_health_change(struct engine *e, const char *app_id)
{
	char *id;

	for (size_t i = 0; i < e->nchanged_apps; i++)
		if (strcmp(e->changed_apps[i], app_id) == 0)
			return 0;
	if (VEC_RESERVE(e->changed_apps, e->changed_apps_cap, e->nchanged_apps + 1) < 0)
		return -1;
	id = strdup(app_id);
	if (id == NULL)
		return -1;
	e->changed_apps[e->nchanged_apps++] = id;
	return 0;
}

void engine_forget_health_changes(struct engine *e)
{
	for (size_t i = 0; i < e->nchanged_apps; i++)
		free(e->changed_apps[i]);
	e->nchanged_apps = 0;
}

/* The services of the table after the part is in: for DNS. */
static int planned_keys(const struct engine *e, const struct lb_keyset *targets,
                        const struct lb_table *part, struct lb_keyset *out)
{
	for (size_t i = 0; i < e->last_desired.nsvcs; i++)
		if (!lb_keyset_contains(targets, &e->last_desired.svcs[i].key) &&
		    lb_keyset_add(out, &e->last_desired.svcs[i].key) < 0)
			return -1;
	if (lb_keyset_add_table(out, part) < 0)
		return -1;
	lb_keyset_sort(out);
	return 0;
}

/* Without IPVS: the targets' plan against the last round's table, logged
 * as the whole round's plan_only would log it (same merge walk, in key
 * order, so the same operations in the same order). */
static int plan_part(struct engine *e, const struct lb_table *part, const struct lb_keyset *targets,
                     char *err, size_t errlen)
{
	struct rc_planner pl;
	struct rc_plan plan;
	int rc = -1;

	rc_planner_init(&pl);
	rc_plan_init(&plan);
	for (size_t i = 0; i < targets->n; i++)
		if (rc_planner_service(&pl, lb_table_find(&e->last_desired, &targets->keys[i]),
		                       lb_table_find(part, &targets->keys[i]), targets) < 0)
			goto out;
	if (rc_planner_finish(&pl, &plan, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < plan.n; i++)
		engine_audit_op(e, &plan.ops[i], 0, "", true);
	rc = 0;
out:
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errlen, "planning: out of memory");
	rc_planner_free(&pl);
	rc_plan_free(&plan);
	return rc;
}

/* The kernel's patch (dataplane_apply_patch) takes services that come or
 * go as well as edits, with their routes and the owned set. Without IPVS
 * the plan covers any change. A reload may move the names DNS answers (an
 * app renamed): they are served again from the new apps around the apply,
 * as the whole round serves them. */
static int apply_part(struct engine *e, const struct lb_table *part,
                      const struct lb_keyset *targets, bool reload, char *err, size_t errlen)
{
	bool same = desired_targets_same_services(&e->last_desired, targets, part);
	struct lb_keyset planned;
	int rc = -1;

	if (e->dp && dataplane_busy(e->dp)) {
		/* A round driven by the loop is in flight: the kernel must not be
		 * patched under it, and a whole build per change would starve it.
		 * The change waits in the last desired table; one round applies
		 * all that waited when the flight ends (engine_on_round_done), and
		 * DNS follows that round. */
		if (desired_table_splice(&e->last_desired, targets, part) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		e->round_after_flight = true;
		e->rounds_deferred++;
		return 0;
	}
	lb_keyset_init(&planned);
	if (e->dns && (reload || !same)) {
		if (planned_keys(e, targets, part, &planned) < 0)
			goto nomem;
		engine_dns_before_apply(e, &planned);
	}
	if (e->dp) {
		if (dataplane_apply_patch(e->dp, part, targets, engine_on_op, e, err, errlen) < 0)
			goto out;
	} else if (plan_part(e, part, targets, err, errlen) < 0) {
		goto out;
	}
	/* The last desired table (the data plane only reads it; the next
	 * plan-only round diffs against it) follows. */
	if (desired_table_splice(&e->last_desired, targets, part) < 0)
		goto nomem;
	if (e->dns && (reload || !same))
		engine_dns_after_apply(e, &planned, true);
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	lb_keyset_free(&planned);
	return rc;
}

/* A timed round: the services whose drain ends or slow-start step is due
 * at the round's time join the round (as VIPs by address, which rebuild
 * exactly them), and the timer is armed for the next deadline of every
 * other backend (the build lowers it for the services it rebuilds). */
static int add_due_services(struct engine *e, int64_t now_ms, struct desired_vip **vips,
                            size_t *nvips, size_t *ndue, char *err, size_t errlen)
{
	struct lb_keyset due;
	int64_t next;
	int rc = -1;

	lb_keyset_init(&due);
	if (desired_state_due(&e->dstate, now_ms, &due, &next) < 0 ||
	    desired_vips_add_services(vips, nvips, &due) < 0) {
		snprintf(err, errlen, "out of memory listing the services due");
		goto out;
	}
	engine_arm_next_change(e, next);
	*ndue = due.n;
	rc = 0;
out:
	lb_keyset_free(&due);
	return rc;
}

/* The noted apps' services and those of the VIPs whose other nodes'
 * backends the merge found changed (and, when `due` is not NULL, those
 * add_due_services finds: *due gets their count), rebuilt (old: the set
 * the index was built over) and applied; *nsvcs gets how many were
 * rebuilt, *nvips how many VIPs changed on other nodes. */
static int patch_round(struct engine *e, const struct apps_set *old, bool reload, size_t *due,
                       size_t *nsvcs, size_t *nvips, char *err, size_t errlen)
{
	struct diag_list diags = {0};
	struct desired_input in;
	struct desired_vip *vips = NULL;
	struct lb_table part;
	struct lb_keyset targets;
	int64_t next = INT64_MAX;
	size_t nall;
	int rc = -1;

	lb_table_init(&part);
	lb_keyset_init(&targets);
	engine_cluster_update(e);
	if (engine_cluster_changes(e, &vips, nvips, err, errlen) < 0)
		goto out;
	in = engine_desired_input(e);
	nall = *nvips;
	if (due != NULL && add_due_services(e, in.now_ms, &vips, &nall, due, err, errlen) < 0)
		goto out;
	if (desired_build_changed(&in, old, (const char *const *)e->changed_apps, e->nchanged_apps,
	                          vips, nall, &e->dindex, &e->dstate, &part, &targets,
	                          reload ? &diags : NULL, &next, err, errlen) != 0)
		goto out;
	engine_cluster_publish(e);
	if (reload && e->log_desired_diags)
		engine_log_desired_diags(&diags);
	if (apply_part(e, &part, &targets, reload, err, errlen) < 0)
		goto out;
	e->log_desired_diags = false;
	e->rounds++;
	engine_forget_health_changes(e);
	engine_cluster_changes_clear(e);
	engine_record_apply_latency(e);
	if (next < e->next_change_ms)
		engine_arm_next_change(e, next);
	*nsvcs = targets.n;
	rc = 0;
out:
	free(vips);
	diag_list_free(&diags);
	lb_keyset_free(&targets);
	lb_table_free(&part);
	return rc;
}

static bool patch_possible(const struct engine *e)
{
	return !e->rebuild_all && e->dindex_valid;
}

int engine_patch_round(struct engine *e)
{
	char err[512];
	size_t nsvcs, nvips = 0;
	bool health = e->nchanged_apps > 0;

	if (!patch_possible(e) || (!health && !e->cluster_changed))
		return -1;
	if (patch_round(e, &e->apps, false, NULL, &nsvcs, &nvips, err, sizeof(err)) < 0) {
		log_debug("health round: %s; running a whole-table round", err);
		e->health_fallbacks++;
		return -1;
	}
	if (health)
		e->health_rounds++;
	if (nvips > 0) {
		e->remote_rounds++;
		log_debug("other nodes: %zu VIP%s changed, %zu service key%s rebuilt", nvips,
		          nvips == 1 ? "" : "s", nsvcs, nsvcs == 1 ? "" : "s");
	}
	if (e->source_change_at > 0)
		log_debug(
		    "task event: %zu service key%s rebuilt, planned or applied %.3f ms after it",
		    nsvcs, nsvcs == 1 ? "" : "s", (clock_now_s() - e->source_change_at) * 1000.0);
	e->source_change_at = 0;
	return 0;
}

/*
 * The next_change timer: the services due (drain ends, slow-start steps),
 * with whatever health or cluster changes wait, rebuilt by the patch round
 * rather than the whole table. Falls back (-1) where the health round
 * does: a whole round pending, no valid index, a rebuild refused (a named
 * VIP appearing or going) or a patch the kernel refuses.
 */
int engine_timed_round(struct engine *e)
{
	char err[512];
	size_t ndue = 0, nsvcs, nvips = 0;
	double started = clock_now_s();

	if (!patch_possible(e))
		return -1;
	if (patch_round(e, &e->apps, false, &ndue, &nsvcs, &nvips, err, sizeof(err)) < 0) {
		log_debug("timed round: %s; running a whole-table round", err);
		e->timed_fallbacks++;
		return -1;
	}
	e->timed_rounds++;
	e->remote_rounds += nvips > 0;
	log_debug("timed round: %zu service%s due, %zu service key%s rebuilt in %.3f ms", ndue,
	          ndue == 1 ? "" : "s", nsvcs, nsvcs == 1 ? "" : "s",
	          (clock_now_s() - started) * 1000.0);
	e->source_change_at = 0;
	return 0;
}

/* A reload that changes this share of the apps or more (and more than a
 * few) is cheaper as one whole-table round than as a patch. */
#define RELOAD_PATCH_MAX_SHARE 4 /* 1/4 */
#define RELOAD_PATCH_ALWAYS 16

/* The reload's changed apps join the noted ones; -1 with err when the
 * whole round must run. */
static int note_reload(struct engine *e, const struct apps_set *old, const struct apps_diff *d,
                       char *err, size_t errlen)
{
	size_t napps = e->apps.napps > old->napps ? e->apps.napps : old->napps;

	if (d->n > RELOAD_PATCH_ALWAYS && d->n * RELOAD_PATCH_MAX_SHARE >= napps) {
		snprintf(err, errlen, "%zu of %zu apps changed", d->n, napps);
		return -1;
	}
	for (size_t i = 0; i < d->n; i++)
		if (engine_note_health_change(e, d->items[i].id) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	return 0;
}

/*
 * Falls back to the whole round (-1) when the reload touches what every
 * service depends on: the index is not valid or a whole round is pending
 * (settings or named-VIP ranges changed by SIGHUP's configuration, a
 * resync, the cluster's view), a named VIP appears or goes away (the
 * allocation of every name runs again, and records are written),
 * app ids repeat, or a large share of the apps changed. With IPVS, a
 * patch the kernel refuses (dataplane_apply_patch) falls back too.
 */
int engine_reload_round(struct engine *e, const struct apps_diff *d, const struct apps_set *old,
                        double started)
{
	char err[512] = "";
	size_t nsvcs = 0, nvips = 0;
	int rc = -1;

	if (!patch_possible(e)) {
		snprintf(err, sizeof(err), "a whole-table round is due");
	} else if (note_reload(e, old, d, err, sizeof(err)) == 0 && e->nchanged_apps == 0) {
		log_debug("apps reload: no app changed");
		rc = 0;
	} else if (err[0] == '\0' &&
	           patch_round(e, old, true, NULL, &nsvcs, &nvips, err, sizeof(err)) == 0) {
		e->reload_rounds++;
		e->remote_rounds += nvips > 0;
		log_debug("apps reload: %zu app%s changed, %zu service key%s rebuilt in %.3f ms",
		          d->n, d->n == 1 ? "" : "s", nsvcs, nsvcs == 1 ? "" : "s",
		          (clock_now_s() - started) * 1000.0);
		rc = 0;
	}
	if (rc < 0) {
		e->reload_fallbacks++;
		log_debug("apps reload: %s; rebuilding the whole table", err);
	}
	return rc;
}
