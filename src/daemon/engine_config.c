/*
 * SIGHUP's configuration re-read: a new configuration with errors is
 * refused whole; settings fixed when vipd started (sockets, the kernel's
 * interface, the executors) keep their running value with one warning
 * each; the others take effect. Owns nothing: the settings' strings belong
 * to the caller's configuration (engine.cfg_src), swapped here.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "vipd/log.h"

static bool str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool zones_same(const struct vipd_config *a, const struct vipd_config *b)
{
	if (a->dns_nzones != b->dns_nzones)
		return false;
	for (size_t i = 0; i < a->dns_nzones; i++)
		if (!str_same(a->dns_zones[i], b->dns_zones[i]))
			return false;
	return true;
}

static void warn_fixed(const char *setting)
{
	log_warnx("SIGHUP: %s cannot change while vipd runs (restart vipd for it); keeping its "
	          "running value",
	          setting);
}

/* A fixed string setting: the running value stays (the pointers are swapped
 * so that each configuration still owns its own strings). */
static void keep_str(char **fresh, char **running, const char *setting)
{
	char *t;

	if (str_same(*fresh, *running))
		return;
	warn_fixed(setting);
	t = *fresh;
	*fresh = *running;
	*running = t;
}

#define KEEP_VAL(field, setting)                                                                   \
	do {                                                                                       \
		if (fresh->field != run->field) {                                                  \
			warn_fixed(setting);                                                       \
			fresh->field = run->field;                                                 \
		}                                                                                  \
	} while (0)

/* Settings read once, when the audit log, the executors, the scheduler, the
 * dataplane, the DNS and API servers and the Marathon client were opened. */
static void keep_fixed(struct vipd_config *fresh, struct vipd_config *run)
{
	char **tz;
	size_t tn;

	keep_str(&fresh->audit_path, &run->audit_path, "audit_log");
	keep_str(&fresh->run_as, &run->run_as, "checks.run_as");
	keep_str(&fresh->shell, &run->shell, "checks.shell");
	KEEP_VAL(max_in_flight, "checks.max_in_flight");
	KEEP_VAL(native_curl, "checks.native_curl");
	KEEP_VAL(ipvs, "lb.ipvs");
	keep_str(&fresh->interface, &run->interface, "lb.interface");
	keep_str(&fresh->state_file, &run->state_file, "lb.state_file");
	KEEP_VAL(timeout_tcp, "lb.timeouts.tcp");
	KEEP_VAL(timeout_tcpfin, "lb.timeouts.tcpfin");
	KEEP_VAL(timeout_udp, "lb.timeouts.udp");
	keep_str(&fresh->dns_listen, &run->dns_listen, "dns.listen");
	keep_str(&fresh->dns_framework, &run->dns_framework, "dns.framework");
	KEEP_VAL(dns_ttl, "dns.ttl");
	if (!zones_same(fresh, run)) {
		warn_fixed("dns.zones");
		tz = fresh->dns_zones, tn = fresh->dns_nzones;
		fresh->dns_zones = run->dns_zones, fresh->dns_nzones = run->dns_nzones;
		run->dns_zones = tz, run->dns_nzones = tn;
	}
	keep_str(&fresh->api_listen, &run->api_listen, "api.listen");
	keep_str(&fresh->marathon_user, &run->marathon_user, "marathon.user");
	keep_str(&fresh->marathon_password_file, &run->marathon_password_file,
	         "marathon.password_file");
	keep_str(&fresh->marathon_token_file, &run->marathon_token_file, "marathon.token_file");
	keep_str(&fresh->marathon_ca_file, &run->marathon_ca_file, "marathon.ca_file");
}

/* A new apps source: the old one's watch or client goes, the new one's
 * definitions are read as at start-up (last good definitions of apps whose
 * new source has errors are not carried across sources). */
static int source_switch(struct engine *e, char *err, size_t errlen)
{
	engine_marathon_stop(e);
	engine_unwatch_apps(e);
	ev_timer_stop(e->loop, &e->reload);
	e->apps_signature[0] = '\0';
	if (engine_marathon_start(e, err, errlen) < 0)
		return -1;
	engine_watch_apps(e);
	return 0;
}

static void timers_update(struct engine *e, const struct vipd_config *old)
{
	if (e->cfg.resync_s != old->resync_s) {
		ev_timer_stop(e->loop, &e->resync);
		ev_timer_set(&e->resync, e->cfg.resync_s, e->cfg.resync_s);
		if (e->cfg.resync_s)
			ev_timer_start(e->loop, &e->resync);
	}
	if (e->cfg.reload_s != old->reload_s) {
		ev_timer_set(&e->reload, e->cfg.reload_s, e->cfg.reload_s);
		if (ev_is_active(&e->reload)) {
			ev_timer_stop(e->loop, &e->reload);
			if (e->cfg.reload_s)
				ev_timer_start(e->loop, &e->reload);
		}
		if (!e->apps_watch && !e->marathon && !ev_is_active(&e->reload))
			engine_watch_apps(e);
	}
}

void engine_config_apply(struct engine *e, struct vipd_config *fresh)
{
	struct vipd_config old;
	bool new_source;
	char err[512];

	keep_fixed(fresh, e->cfg_src);
	new_source = !str_same(fresh->apps_path, e->cfg_src->apps_path);
	old = *e->cfg_src;
	*e->cfg_src = *fresh;
	memset(fresh, 0, sizeof(*fresh));
	e->cfg = *e->cfg_src;
	log_init(stderr, (enum log_level)e->cfg.verbosity);
	if (new_source) {
		log_info("SIGHUP: apps source now %s", e->cfg.apps_path);
		if (source_switch(e, err, sizeof(err)) < 0)
			log_warnx("SIGHUP: %s; the apps stay as last read", err);
	}
	timers_update(e, &old);
	/* The old strings go only once nothing refers to them (the old watch
	 * and client are closed above). */
	config_free(&old);
	/* Drain time, ranges: the whole table, noted first so that the
	 * reload below does not patch with the new settings over the old
	 * index. A new Marathon client reads the whole state once it
	 * connects. */
	engine_reconcile_now(e);
	if (!(e->marathon && new_source))
		engine_reload(e, true);
}
