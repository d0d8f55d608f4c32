/*
 * The engine's wiring: it owns the scheduler, the dataplane, the DNS server
 * and the audit log, and the timers and signals between them. A check
 * result that changes a task's health schedules a round (engine_round.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "vipd/apps.h"
#include "vipd/clock.h"
#include "vipd/log.h"

static void reconcile_soon(struct engine *e)
{
	/* A zero timer coalesces the health changes of one loop turn into
	 * one round. */
	if (!ev_is_active(&e->reconcile_soon))
		ev_timer_start(e->loop, &e->reconcile_soon);
}

/* sched_event_cb */
static void on_check_event(const struct sched_event *ev, void *arg)
{
	struct engine *e = arg;

	api_note_check(e->api, ev);
	if (ev->check_changed)
		engine_audit_check(e, ev);
	if (!ev->task_changed)
		return;
	engine_audit_task(e, ev);
	engine_log_rotation(e, ev);
	engine_note_health_change_time(e);
	if (engine_note_health_change(e, ev->app->id) < 0) {
		log_warnx("out of memory noting a health change; rebuilding the whole table");
		e->rebuild_all = true;
	}
	reconcile_soon(e);
}

/* ev_timer callbacks */
static void on_reconcile_soon(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct engine *e = w->data;

	(void)loop;
	(void)revents;
	if (!e->rebuild_all && e->nchanged_apps == 0 && !e->cluster_changed)
		return; /* a round since (a resync) has applied them */
	if (engine_patch_round(e) == 0)
		return;
	engine_round(e, false);
}

/* A drain deadline or a slow-start step: the services due move on. */
static void on_next_change(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct engine *e = w->data;

	(void)loop;
	(void)revents;
	e->next_change_ms = INT64_MAX;
	if (engine_timed_round(e) == 0)
		return;
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
	engine_reload_poll(w->data);
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
	struct engine *e = w->data;
	struct vipd_config fresh;

	(void)loop;
	(void)revents;

	log_info("SIGHUP: reloading %sapp definitions",
	         e->config_reread ? "the configuration and " : "");
	if (!e->config_reread) {
		engine_reload(e, true);
		return;
	}
	if (e->config_reread(e->config_reread_arg, &fresh) == 0) {
		engine_config_apply(e, &fresh);
		return;
	}
	config_free(&fresh);
	log_warnx("SIGHUP: the new configuration has errors (above); keeping the running one");
	engine_reload(e, true);
}

static void on_sigterm(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("stopping; the kernel's IPVS state is left as it is");
	if (!engine_cluster_leave(w->data))
		ev_break(loop, EVBREAK_ALL);
}

static void on_sigusr1(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	audit_reopen(((struct engine *)w->data)->audit);
	engine_audit_stats(w->data, "stats");
}

void engine_round_soon(struct engine *e)
{
	reconcile_soon(e);
}

void engine_reconcile_now(struct engine *e)
{
	e->rebuild_all = true;
	engine_forget_health_changes(e);
	reconcile_soon(e);
}

/* The API reads the engine's state in place, on the loop's thread. */
static int open_api(struct engine *e, char *err, size_t errlen)
{
	struct api_state st = {
	    .cfg = &e->cfg,
	    .apps = &e->apps,
	    .table = &e->last_desired,
	    .dstate = &e->dstate,
	    .index = &e->dindex,
	    .index_valid = &e->dindex_valid,
	    .index_stale = &e->rebuild_all,
	    .sched = e->sched,
	    .rounds = &e->rounds,
	    .ops_applied = &e->ops_applied,
	    .ops_failed = &e->ops_failed,
	    .vip_records = &e->vip_records,
	    .ipvs = e->dp != NULL,
	    .started_at = clock_now_s(),
	    .started_wall = ev_time(),
	};
	struct lb_addr addr;
	uint16_t port;
	char where[64];

	if (!e->cfg.api_listen)
		return 0;
	e->api = api_open(e->loop, e->cfg.api_listen, &st, err, errlen);
	if (!e->api)
		return -1;
	if (api_listen_parse(e->cfg.api_listen, &addr, &port, err, errlen) == 0)
		log_info("API on http://%s/ (docs/api.md)",
		         lb_addr_port_format(&addr, port, where, sizeof(where)));
	return 0;
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
	engine_watch_apps(e);
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
	                                   (int64_t)e->cfg.drain_s * 1000, clock_now_ms()) < 0) {
		errbuf_set(err, errlen, "out of memory adopting the kernel's table");
		rc = -1;
	}
	lb_table_free(&observed);
	return rc;
}

static int open_dataplane(struct engine *e, char *err, size_t errlen)
{
	struct dataplane_settings ds = {
	    .interface = e->cfg.interface,
	    .source_address = e->cfg.source_address,
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
	if (dataplane_attach(e->dp, e->loop, engine_on_op, engine_on_round_done, e, err, errlen) <
	    0)
		return -1;
	return adopt_kernel_state(e, err, errlen);
}

int engine_init(struct engine *e, struct ev_loop *loop, const struct vipd_config *cfg,
                double run_for_s, char *err, size_t errlen)
{
	struct exec_settings es = {.run_as_user = cfg->run_as, .shell = cfg->shell};
	struct runner_settings rs = {.native_curl = cfg->native_curl,
	                             .shell = runner_detect_shell(cfg->shell)};
	struct sched_settings ss = {.max_in_flight = cfg->max_in_flight,
	                            .task_filter =
	                                cfg->cluster_endpoints ? engine_task_local : NULL,
	                            .task_filter_ctx = e};

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
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	if (open_dataplane(e, err, errlen) < 0 || engine_vips_load(e, err, errlen) < 0)
		return -1;
	if (cfg->dns_listen && !(e->dns = dns_server_open(loop, cfg->dns_listen, err, errlen)))
		return -1;
	if (open_api(e, err, errlen) < 0)
		return -1;
	if (engine_cluster_open(e, err, errlen) < 0)
		return -1;
	if (engine_marathon_start(e, err, errlen) < 0)
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
	api_close(e->api);
	engine_marathon_stop(e);
	engine_unwatch_apps(e);
	engine_cluster_close(e);
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
	apps_load_cache_free(e->apps_cache);
	desired_state_free(&e->dstate);
	desired_index_free(&e->dindex);
	vip_records_free(&e->vip_records);
	vip_records_free(&e->vip_moved);
	engine_origins_free(&e->origins);
	engine_forget_health_changes(e);
	free(e->changed_apps);
	lb_table_free(&e->last_desired);
}
