/*
 * The engine's wiring: check results update health, a task's health change
 * schedules a reconcile round, and each round builds the desired table and
 * hands it to the dataplane (or, without IPVS, logs the plan).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "vipd/log.h"
#include "vipd/reconcile.h"

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t engine_mono_ms(void)
{
	return (int64_t)(mono_s() * 1000.0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double engine_apply_latency_ms(const struct engine *e, double p)
{
	size_t n = e->apply_latency_n < ENGINE_LATENCY_SAMPLES ? e->apply_latency_n
	                                                       : ENGINE_LATENCY_SAMPLES;
	double sorted[ENGINE_LATENCY_SAMPLES];
	size_t i;

	if (n == 0)
		return 0;
	memcpy(sorted, e->apply_latency, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return sorted[i] * 1000.0;
}

/* Called after a round that applied a health change. */
void engine_record_apply_latency(struct engine *e)
{
	if (e->health_change_at <= 0)
		return;
	e->apply_latency[e->apply_latency_n % ENGINE_LATENCY_SAMPLES] =
	    mono_s() - e->health_change_at;
	e->apply_latency_n++;
	e->health_change_at = 0;
}

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

static void reconcile_soon(struct engine *e)
{
	/* A zero timer coalesces the health changes of one loop turn into
	 * one round. */
	if (!ev_is_active(&e->reconcile_soon))
		ev_timer_start(e->loop, &e->reconcile_soon);
}

struct desired_input engine_desired_input(struct engine *e)
{
	return (struct desired_input){
	    .apps = &e->apps,
	    .ranges = &e->cfg.vip_ranges,
	    .health = engine_health_of,
	    .health_ctx = e,
	    .drain_ms = (int64_t)e->cfg.drain_s * 1000,
	    .now_ms = engine_mono_ms(),
	};
}

/* sched_event_cb */
static void on_check_event(const struct sched_event *ev, void *arg)
{
	struct engine *e = arg;

	if (ev->check_changed)
		engine_audit_check(e, ev);
	if (!ev->task_changed)
		return;
	engine_audit_task(e, ev);
	if (e->health_change_at <= 0)
		e->health_change_at = mono_s();
	if (engine_note_health_change(e, ev->app->id) < 0) {
		log_warnx("out of memory noting a health change; rebuilding the whole table");
		e->rebuild_all = true;
	}
	reconcile_soon(e);
}

/* dataplane_op_cb */
void engine_on_op(void *arg, const struct rc_op *op, int error, const char *msg)
{
	struct engine *e = arg;

	if (error)
		e->ops_failed++;
	else
		e->ops_applied++;
	if (e->dns && !error && (op->kind == RC_ADD_SERVICE || op->kind == RC_EDIT_SERVICE) &&
	    lb_keyset_add(&e->dns_added, &op->svc) < 0)
		log_warnx("out of memory noting a service for DNS");
	engine_audit_op(e, op, error, msg, false);
}

static void log_diags(const struct diag_list *dl)
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
	lb_keyset_add_table(&owned, &e->last_desired);
	lb_keyset_add_table(&owned, desired);
	lb_keyset_sort(&owned);
	rc_plan_init(&plan);
	if (reconcile_plan(&e->last_desired, desired, &owned, &plan, err, sizeof(err)) < 0)
		log_warnx("planning failed: %s", err);
	for (size_t i = 0; i < plan.n; i++)
		engine_audit_op(e, &plan.ops[i], 0, "", true);
	rc_plan_free(&plan);
	lb_keyset_free(&owned);
}

void engine_arm_next_change(struct engine *e, int64_t next_ms)
{
	ev_timer_stop(e->loop, &e->next_change);
	e->next_change_ms = next_ms;
	if (next_ms == INT64_MAX)
		return;
	ev_timer_set(&e->next_change, fmax(0.0, (double)(next_ms - engine_mono_ms()) / 1000.0), 0);
	ev_timer_start(e->loop, &e->next_change);
}

/* Answers names only for the services in `served` (sorted): DC/OS answered
 * before its service existed, and clients reached whatever listened there. */
static void dns_serve(struct engine *e, struct lb_keyset *served)
{
	struct dns_naming naming = {
	    .ranges = &e->cfg.vip_ranges,
	    .framework = e->cfg.dns_framework,
	    .zones = (const char *const *)e->cfg.dns_zones,
	    .nzones = e->cfg.dns_nzones,
	    .ttl = e->cfg.dns_ttl,
	};
	struct dns_records r;
	char err[256];

	lb_keyset_free(&e->dns_served);
	e->dns_served = *served;
	lb_keyset_init(served);
	if (dns_records_from_vips(&e->apps, &e->dns_served, &naming, &r, err, sizeof(err)) < 0) {
		log_warnx("DNS records not updated: %s", err);
		return;
	}
	dns_server_set_records(e->dns, &r);
}

/* Keys of `a` that are also in `b` (sorted), or added to the kernel this
 * round when `with_added`. */
static int keys_kept(const struct lb_keyset *a, const struct lb_keyset *b,
                     const struct lb_keyset *added, struct lb_keyset *out)
{
	for (size_t i = 0; i < a->n; i++)
		if (lb_keyset_contains(b, &a->keys[i]) && lb_keyset_add(out, &a->keys[i]) < 0)
			return -1;
	for (size_t i = 0; added && i < added->n; i++)
		if (lb_keyset_contains(b, &added->keys[i]) &&
		    lb_keyset_add(out, &added->keys[i]) < 0)
			return -1;
	lb_keyset_sort(out);
	return 0;
}

/* Before applying: a VIP leaving loses its name before its service (its
 * clients stop coming before the kernel stops taking them). */
static void dns_before_apply(struct engine *e, const struct lb_keyset *planned)
{
	struct lb_keyset kept;

	lb_keyset_free(&e->dns_added);
	lb_keyset_init(&e->dns_added);
	if (!e->dns)
		return;
	lb_keyset_init(&kept);
	if (keys_kept(&e->dns_served, planned, NULL, &kept) < 0)
		log_warnx("out of memory updating DNS");
	else if (kept.n != e->dns_served.n)
		dns_serve(e, &kept);
	lb_keyset_free(&kept);
}

/* After applying: names for what the kernel now has; after an incomplete
 * round only what was there and stays, and what was added. */
static void dns_after_apply(struct engine *e, struct lb_keyset *planned, bool complete)
{
	struct lb_keyset now;

	if (!e->dns)
		return;
	if (complete) {
		dns_serve(e, planned);
		return;
	}
	lb_keyset_sort(&e->dns_added);
	lb_keyset_init(&now);
	if (keys_kept(&e->dns_served, planned, &e->dns_added, &now) < 0)
		log_warnx("out of memory updating DNS");
	else
		dns_serve(e, &now);
	lb_keyset_free(&now);
}

/* ---- rounds driven by the loop (issue 8 item 20) ----
 * A resync, and any round asked for while one is in flight, is handed to
 * dataplane_request: the kernel is read and written in slices between the
 * loop's other work, so checks and DNS answers never wait for it. Its DNS
 * names and latency figure follow in on_round_done, for the round that ran
 * (a request made while one runs waits, later ones replace it). */
static void request_round(struct engine *e, const struct lb_table *table, struct lb_keyset *planned,
                          bool full)
{
	struct lb_keyset *slot = dataplane_busy(e->dp) ? &e->round_planned_next : &e->round_planned;
	char err[512];

	if (dataplane_request(e->dp, table, full, err, sizeof(err)) < 0) {
		log_warnx("reconcile round not started, kernel state kept: %s", err);
		dns_after_apply(e, planned, false);
		return;
	}
	lb_keyset_free(slot);
	*slot = *planned;
	lb_keyset_init(planned);
}

/* dataplane_done_cb */
static void on_round_done(void *arg, int rc, const char *err)
{
	struct engine *e = arg;

	if (rc < 0)
		log_warnx("reconcile round incomplete, kernel state kept: %s", err);
	dns_after_apply(e, &e->round_planned, rc == 0);
	lb_keyset_free(&e->round_planned);
	engine_record_apply_latency(e);
	if (dataplane_busy(e->dp)) { /* the waiting round has started */
		e->round_planned = e->round_planned_next;
		lb_keyset_init(&e->round_planned_next);
	}
}

/* `full` re-reads the kernel (resync, repairs drift by others); otherwise
 * the round plans against what the last round left (a weight change is one
 * operation, no dump). */
void engine_round(struct engine *e, bool full)
{
	struct diag_list diags = {0};
	struct desired_input in = engine_desired_input(e);
	struct lb_table table;
	struct lb_keyset planned;
	int64_t next = INT64_MAX;
	bool complete = true;
	char err[512];

	lb_table_init(&table);
	engine_forget_health_changes(e);
	e->rebuild_all = false;
	e->dindex_valid = desired_build_indexed(&in, &e->dstate, &table, &diags, &next, &e->dindex,
	                                        err, sizeof(err)) == 0;
	if (!e->dindex_valid) {
		log_warnx("cannot build the desired table: %s", err);
		goto out;
	}
	if (e->log_desired_diags)
		log_diags(&diags);
	e->log_desired_diags = false;
	e->rounds++;
	lb_keyset_init(&planned);
	if (e->dns && lb_keyset_add_table(&planned, &table) < 0)
		log_warnx("out of memory listing services for DNS");
	lb_keyset_sort(&planned);
	dns_before_apply(e, &planned);
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
	dns_after_apply(e, &planned, complete);
	engine_record_apply_latency(e);
requested:
	lb_keyset_free(&planned);
	lb_table_free(&e->last_desired);
	e->last_desired = table;
	lb_table_init(&table);
	engine_arm_next_change(e, next);
out:
	lb_table_free(&table);
	diag_list_free(&diags);
}

/* ev_timer callbacks */
static void on_reconcile_soon(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct engine *e = w->data;

	(void)loop;
	(void)revents;
	if (!e->rebuild_all && e->nchanged_apps == 0)
		return; /* a round since (a resync) has applied them */
	if (engine_patch_round(e) == 0)
		return;
	engine_round(e, false);
}

/* A drain deadline or a slow-start step: the whole table moves on. */
static void on_next_change(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct engine *e = w->data;

	(void)loop;
	(void)revents;
	e->next_change_ms = INT64_MAX;
	engine_round(e, false);
}

static void on_resync(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	engine_round(w->data, true);
}

static void on_reload_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	engine_reload(w->data, false);
}

static void on_run_for(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	log_info("run time over, stopping");
	ev_break(loop, EVBREAK_ALL);
}

/* ev_signal callbacks */
static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	log_info("SIGHUP: reloading app definitions");
	engine_reload(w->data, true);
}

static void on_sigterm(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	log_info("stopping; the kernel's IPVS state is left as it is");
	ev_break(loop, EVBREAK_ALL);
}

static void on_sigusr1(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	engine_audit_stats(w->data, "stats");
}

void engine_reconcile_now(struct engine *e)
{
	e->rebuild_all = true;
	engine_forget_health_changes(e);
	reconcile_soon(e);
}

static void watchers_init(struct engine *e, double run_for_s)
{
	ev_timer_init(&e->reconcile_soon, on_reconcile_soon, 0, 0);
	ev_timer_init(&e->next_change, on_next_change, 0, 0);
	ev_timer_init(&e->resync, on_resync, e->cfg.resync_s, e->cfg.resync_s);
	ev_timer_init(&e->reload, on_reload_timer, e->cfg.reload_s, e->cfg.reload_s);
	ev_timer_init(&e->run_for, on_run_for, run_for_s, 0);
	ev_signal_init(&e->sig_hup, on_sighup, SIGHUP);
	ev_signal_init(&e->sig_term, on_sigterm, SIGTERM);
	ev_signal_init(&e->sig_int, on_sigterm, SIGINT);
	ev_signal_init(&e->sig_usr1, on_sigusr1, SIGUSR1);
	e->reconcile_soon.data = e->next_change.data = e->resync.data = e->reload.data = e;
	e->sig_hup.data = e->sig_term.data = e->sig_int.data = e->sig_usr1.data = e;
	if (e->cfg.resync_s)
		ev_timer_start(e->loop, &e->resync);
	if (e->cfg.reload_s)
		ev_timer_start(e->loop, &e->reload);
	if (run_for_s > 0)
		ev_timer_start(e->loop, &e->run_for);
	ev_signal_start(e->loop, &e->sig_hup);
	ev_signal_start(e->loop, &e->sig_term);
	ev_signal_start(e->loop, &e->sig_int);
	ev_signal_start(e->loop, &e->sig_usr1);
}

/* Fail static across a restart: backends the kernel already has keep their
 * weight until their health is known, instead of dropping to 0. */
static int adopt_kernel_state(struct engine *e, char *err, size_t errlen)
{
	struct lb_table observed;
	int rc;

	lb_table_init(&observed);
	rc = dataplane_observe(e->dp, &observed, err, errlen);
	if (rc == 0 && desired_state_adopt(&e->dstate, &observed, dataplane_owned(e->dp),
	                                   (int64_t)e->cfg.drain_s * 1000, engine_mono_ms()) < 0) {
		snprintf(err, errlen, "out of memory adopting the kernel's table");
		rc = -1;
	}
	lb_table_free(&observed);
	return rc;
}

static int open_dataplane(struct engine *e, char *err, size_t errlen)
{
	struct dataplane_settings ds = {
	    .interface = e->cfg.interface,
	    .state_path = e->cfg.state_file,
	    .timeout_tcp = e->cfg.timeout_tcp,
	    .timeout_tcpfin = e->cfg.timeout_tcpfin,
	    .timeout_udp = e->cfg.timeout_udp,
	};

	if (!e->cfg.ipvs) {
		log_info("lb.ipvs is false: planning and logging IPVS operations, applying none");
		return 0;
	}
	if (dataplane_open(&e->dp, &ds, err, errlen) < 0)
		return -1;
	if (dataplane_attach(e->dp, e->loop, engine_on_op, on_round_done, e, err, errlen) < 0)
		return -1;
	return adopt_kernel_state(e, err, errlen);
}

int engine_init(struct engine *e, struct ev_loop *loop, const struct vipd_config *cfg,
                double run_for_s, char *err, size_t errlen)
{
	struct exec_settings es = {.run_as_user = cfg->run_as, .shell = cfg->shell};
	struct runner_settings rs = {.native_curl = cfg->native_curl,
	                             .shell = runner_detect_shell(cfg->shell)};
	struct sched_settings ss = {.max_in_flight = cfg->max_in_flight};

	memset(e, 0, sizeof(*e));
	e->loop = loop;
	e->cfg = *cfg;
	desired_state_init(&e->dstate);
	desired_index_init(&e->dindex);
	e->next_change_ms = INT64_MAX;
	lb_table_init(&e->last_desired);
	lb_keyset_init(&e->dns_served);
	lb_keyset_init(&e->dns_added);
	lb_keyset_init(&e->round_planned);
	lb_keyset_init(&e->round_planned_next);
	e->audit = audit_open(loop, cfg->audit_path, err, errlen);
	if (!e->audit)
		return -1;
	e->exec = exec_ctx_new(loop, &es, err, errlen);
	if (!e->exec)
		return -1;
	e->sched = sched_new(loop, e->exec, &rs, &ss, on_check_event, e);
	if (!e->sched) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (open_dataplane(e, err, errlen) < 0)
		return -1;
	if (cfg->dns_listen && !(e->dns = dns_server_open(loop, cfg->dns_listen, err, errlen)))
		return -1;
	watchers_init(e, run_for_s);
	engine_audit_stats(e, "start");
	engine_load_first(e);
	return 0;
}

void engine_fini(struct engine *e)
{
	if (e->audit)
		engine_audit_stats(e, "stop");
	sched_free(e->sched);
	exec_ctx_free(e->exec);
	if (e->dp)
		dataplane_close(e->dp);
	dns_server_close(e->dns);
	lb_keyset_free(&e->dns_served);
	lb_keyset_free(&e->dns_added);
	lb_keyset_free(&e->round_planned);
	lb_keyset_free(&e->round_planned_next);
	audit_close(e->audit);
	apps_set_free(&e->apps);
	desired_state_free(&e->dstate);
	desired_index_free(&e->dindex);
	engine_forget_health_changes(e);
	free(e->changed_apps);
	lb_table_free(&e->last_desired);
}
