/*
 * The round after health changes only: the services fed by the apps whose
 * tasks changed are rebuilt (desired_build_services) and applied alone
 * (dataplane_apply_patch), so one weight change costs O(changed services),
 * not O(table). Whatever it cannot do falls back to the whole-table round.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "vipd/log.h"

int engine_note_health_change(struct engine *e, const char *app_id)
{
	char *id;

	for (size_t i = 0; i < e->nchanged_apps; i++)
		if (strcmp(e->changed_apps[i], app_id) == 0)
			return 0;
	if (e->nchanged_apps == e->changed_apps_cap) {
		size_t cap = e->changed_apps_cap ? e->changed_apps_cap * 2 : 8;
		char **grown = realloc(e->changed_apps, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		e->changed_apps = grown;
		e->changed_apps_cap = cap;
	}
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

/* Only the kernel's round is incremental: without IPVS the whole plan is
 * logged as before. */
static bool patch_possible(const struct engine *e)
{
	return e->dp != NULL && !e->rebuild_all && e->nchanged_apps > 0 && e->dindex_valid;
}

/* The services of the changed apps, rebuilt; the state moves on for them. */
static int build_part(struct engine *e, struct lb_table *part, int64_t *next, char *err,
                      size_t errlen)
{
	struct desired_input in;

	engine_cluster_update(e);
	in = engine_desired_input(e);
	return desired_build_services(&in, &e->dindex, (const char *const *)e->changed_apps,
	                              e->nchanged_apps, &e->dstate, part, next, err, errlen);
}

int engine_patch_round(struct engine *e)
{
	struct lb_table part;
	int64_t next = INT64_MAX;
	char err[512];
	int rc = -1;

	if (!patch_possible(e))
		return -1;
	lb_table_init(&part);
	if (build_part(e, &part, &next, err, sizeof(err)) < 0) {
		log_debug("health round: %s; rebuilding the whole table", err);
		goto out;
	}
	if (dataplane_apply_patch(e->dp, &part, engine_on_op, e, err, sizeof(err)) < 0) {
		log_debug("health round: %s; running a whole-table round", err);
		goto out;
	}
	/* Same services, new weights: DNS names and the owned set stand. The
	 * last desired table (kept after every round: the data plane only
	 * reads it) follows; only plan-only mode reads it. */
	if (e->last_desired.nsvcs > 0 && lb_table_patch(&e->last_desired, &part) < 0) {
		log_debug("health round: cannot patch the last desired table");
		goto out;
	}
	e->rounds++;
	e->health_rounds++;
	engine_forget_health_changes(e);
	engine_record_apply_latency(e);
	if (next < e->next_change_ms)
		engine_arm_next_change(e, next);
	rc = 0;
out:
	if (rc < 0)
		e->health_fallbacks++;
	lb_table_free(&part);
	return rc;
}
