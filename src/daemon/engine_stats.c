/*
 * The engine's statistics: the health-change-to-kernel latencies (a ring of
 * the last ENGINE_LATENCY_SAMPLES) and the counters of the "start", "stop"
 * and "stats" (SIGUSR1) audit events (docs/audit-log.md).
 */
#include <string.h>

#include "engine.h"
#include "vipd/clock.h"
#include "vipd/percentile.h"

void engine_note_health_change_time(struct engine *e)
{
	if (e->health_change_at <= 0)
		e->health_change_at = clock_now_s();
}

void engine_record_apply_latency(struct engine *e)
{
	/* while a patch waits for the round in flight, the kernel does not
	 * hold the change yet */
	if (e->health_change_at <= 0 || e->round_after_flight)
		return;
	e->apply_latency[e->apply_latency_n % ENGINE_LATENCY_SAMPLES] =
	    clock_now_s() - e->health_change_at;
	e->apply_latency_n++;
	e->health_change_at = 0;
}

double engine_apply_latency_ms(const struct engine *e, double p)
{
	size_t n = e->apply_latency_n < ENGINE_LATENCY_SAMPLES ? e->apply_latency_n
	                                                       : ENGINE_LATENCY_SAMPLES;
	double samples[ENGINE_LATENCY_SAMPLES];

	memcpy(samples, e->apply_latency, n * sizeof(*samples));
	return percentile_nearest_rank(samples, n, p) * 1000.0;
}

void engine_audit_stats(struct engine *e, const char *event)
{
	struct sched_stats st = {0};
	json_t *o;

	if (e->sched)
		sched_get_stats(e->sched, &st);
	o = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I}",
	              "version", VIPD_VERSION, "ipvs", e->dp != NULL, "check_instances",
	              (json_int_t)st.instances, "in_flight", (json_int_t)st.in_flight, "waiting",
	              (json_int_t)st.waiting, "checks_completed", (json_int_t)st.completed,
	              "waited", (json_int_t)st.waited, "overload_skips",
	              (json_int_t)st.overload_skips, "overruns", (json_int_t)st.overruns,
	              "timer_lateness_p99_ms", st.lateness_p99_ms, "wait_max_s", st.wait_max_s,
	              "rounds", (json_int_t)e->rounds, "ops_applied", (json_int_t)e->ops_applied,
	              "ops_failed", (json_int_t)e->ops_failed);
	if (!o)
		return;
	json_object_set_new(o, "health_rounds", json_integer((json_int_t)e->health_rounds));
	json_object_set_new(o, "health_round_fallbacks",
	                    json_integer((json_int_t)e->health_fallbacks));
	json_object_set_new(o, "reload_rounds", json_integer((json_int_t)e->reload_rounds));
	json_object_set_new(o, "reload_round_fallbacks",
	                    json_integer((json_int_t)e->reload_fallbacks));
	json_object_set_new(o, "remote_rounds", json_integer((json_int_t)e->remote_rounds));
	json_object_set_new(o, "timed_rounds", json_integer((json_int_t)e->timed_rounds));
	json_object_set_new(o, "timed_round_fallbacks",
	                    json_integer((json_int_t)e->timed_fallbacks));
	json_object_set_new(o, "rounds_deferred", json_integer((json_int_t)e->rounds_deferred));
	json_object_set_new(o, "health_to_kernel_samples",
	                    json_integer((json_int_t)e->apply_latency_n));
	json_object_set_new(o, "health_to_kernel_p50_ms",
	                    json_real(engine_apply_latency_ms(e, 0.5)));
	json_object_set_new(o, "health_to_kernel_p99_ms",
	                    json_real(engine_apply_latency_ms(e, 0.99)));
	json_object_set_new(o, "audit_lines_dropped",
	                    json_integer((json_int_t)audit_lines_dropped(e->audit)));
	audit_emit(e->audit, event, o);
}
