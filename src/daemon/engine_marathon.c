/*
 * Marathon as the apps source: the client (src/sources/marathon_client.c)
 * reads the whole state and follows the event stream; here each state
 * becomes the apps set and each task event is applied to it, synced to the
 * scheduler and programmed by a round that rebuilds only that app's services
 * where engine_patch.c can. Owns the client and the secrets read for it.
 */
#include <string.h>

#include <jansson.h>

#include "engine.h"
#include "vipd/apps.h"
#include "vipd/clock.h"
#include "vipd/log.h"
#include "vipd/marathon.h"

/* marathon_client_cb.on_state: the answer of /v2/apps?embed=apps.tasks,
 * read by the app parser as a file would be. Not JSON at all (garbage, a
 * truncated body) refuses the master and changes nothing; apps with errors
 * keep their last good definition as a broken file's do. */
static int on_state(void *arg, const char *origin, const char *body, size_t len, char *err,
                    size_t errlen)
{
	struct engine *e = arg;
	struct apps_set fresh = {0};
	const struct diag *d;

	if (apps_load_buffer(&fresh, origin, body, len) < 0) {
		/* The client puts the origin in front: the path and message only. */
		d = fresh.diags.count > 0 ? &fresh.diags.items[0] : NULL;
		if (d && d->path && d->path[0])
			errbuf_set(err, errlen, "%s: %s", d->path, d->message);
		else
			errbuf_set(err, errlen, "%s", d ? d->message : "not Marathon's JSON");
		apps_set_free(&fresh);
		return -1;
	}
	engine_apps_install(e, &fresh, origin);
	return 0;
}

/* One `source` audit line per task change an event made. */
static void audit_task_change(struct engine *e, const struct marathon_status_update *u,
                              enum marathon_apply_result r)
{
	audit_emit(e->audit, "source",
	           json_pack("{s:s, s:s, s:s, s:s, s:s}", "source",
	                     marathon_client_master(e->marathon), "app", u->app_id, "task",
	                     u->task.id, "task_status", u->task_status, "change",
	                     marathon_apply_result_name(r)));
}

static void apply_status(struct engine *e, const struct marathon_status_update *u)
{
	char err[512];
	double at = clock_now_s();
	enum marathon_apply_result r = marathon_status_apply(&e->apps, u, err, sizeof(err));

	switch (r) {
	case MARATHON_APPLY_ADDED:
	case MARATHON_APPLY_UPDATED:
	case MARATHON_APPLY_REMOVED:
		if (e->source_change_at <= 0)
			e->source_change_at = at;
		audit_task_change(e, u, r);
		/* The task list changed in place: the scheduler's borrowed
		 * tasks must be synced before the loop runs a check again;
		 * the other apps' did not move. */
		sched_sync_app(e->sched, apps_find(&e->apps, u->app_id), u->app_id, u->task.id);
		if (engine_note_health_change(e, u->app_id) < 0)
			e->rebuild_all = true;
		engine_round_soon(e);
		return;
	case MARATHON_APPLY_UNCHANGED:
		return;
	case MARATHON_APPLY_FAILED:
		log_warnx("marathon %s: %s; reading the whole state again",
		          marathon_client_master(e->marathon), err);
		break;
	case MARATHON_APPLY_UNKNOWN_APP:
		log_debug("marathon: task %s of app %s not known yet; reading the whole state",
		          u->task.id, u->app_id);
		break;
	}
	marathon_client_resync(e->marathon);
}

/* marathon_client_cb.on_event */
static void on_event(void *arg, const struct marathon_event *ev)
{
	struct engine *e = arg;

	if (ev->kind == MARATHON_EVENT_STATUS_UPDATE)
		apply_status(e, &ev->status);
	else if (ev->kind == MARATHON_EVENT_APPS_CHANGED)
		marathon_client_resync(e->marathon); /* definitions come only from the state */
}

/* marathon_client_cb.on_problem: the client reports each distinct problem
 * once; the last good state stays programmed. */
static void on_problem(void *arg, const char *message)
{
	(void)arg;
	log_warnx("%s; keeping the last good state", message);
}

int engine_marathon_start(struct engine *e, char *err, size_t errlen)
{
	static const struct marathon_client_cb cb = {on_state, on_event, on_problem};
	struct marathon_client_options opt = {0};
	struct marathon_auth auth;
	int rc = -1;

	if (!marathon_is_source(e->cfg.apps_path))
		return 0;
	if (marathon_auth_read(&e->cfg, &auth, err, errlen) == 0) {
		opt.userpwd = auth.userpwd;
		opt.token = auth.token;
		opt.ca_file = auth.ca_file;
		rc = marathon_client_start(e->loop, e->cfg.apps_path, &opt, &cb, e, &e->marathon,
		                           err, errlen);
	}
	marathon_auth_free(&auth);
	if (rc == 0)
		log_info("apps from Marathon: %s", marathon_client_master(e->marathon));
	return rc;
}

void engine_marathon_resync(struct engine *e)
{
	marathon_client_resync(e->marathon);
}

void engine_marathon_stop(struct engine *e)
{
	marathon_client_free(e->marathon);
	e->marathon = NULL;
}
