/*
 * /metrics: Prometheus's text exposition format 0.0.4 (docs/api.md lists
 * every family). Names follow Prometheus's conventions: the vipd_ prefix,
 * base units (seconds), _total on counters.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/api.h"

static const char *const kind_names[API_KIND_COUNT] = {"http", "https", "tcp", "command"};

/* The text goes to a memory stream; a failed write (out of memory) makes
 * the whole scrape fail rather than serve a truncated one. */
struct out {
	FILE *f;
	bool failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vfprintf(o->f, fmt, ap) < 0)
		o->failed = true;
	va_end(ap);
}

static void family(struct out *f, const char *name, const char *type, const char *help)
{
	put(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_info(struct out *f, const struct api_state *st)
{
	family(f, "vipd_build_info", "gauge", "vipd's version, as a label; always 1.");
	put(f, "vipd_build_info{version=\"%s\"} 1\n", VIPD_VERSION);
	family(f, "vipd_start_time_seconds", "gauge",
	       "When vipd started, in seconds since the epoch.");
	put(f, "vipd_start_time_seconds %.3f\n", st->started_wall);
}

static void put_checks(struct out *f, const struct api_counters *c, const struct sched_stats *ss)
{
	family(f, "vipd_checks_total", "counter", "Health checks completed, by kind.");
	for (int k = 0; k < API_KIND_COUNT; k++)
		put(f, "vipd_checks_total{kind=\"%s\"} %llu\n", kind_names[k],
		    (unsigned long long)c->checks_run[k]);
	family(f, "vipd_checks_failed_total", "counter",
	       "Health checks that did not pass, by kind.");
	for (int k = 0; k < API_KIND_COUNT; k++)
		put(f, "vipd_checks_failed_total{kind=\"%s\"} %llu\n", kind_names[k],
		    (unsigned long long)c->checks_failed[k]);
	family(f, "vipd_checks_in_flight", "gauge", "Health checks running now.");
	put(f, "vipd_checks_in_flight %zu\n", ss->in_flight);
	family(f, "vipd_checks_waiting", "gauge", "Health checks due and waiting for a slot.");
	put(f, "vipd_checks_waiting %zu\n", ss->waiting);
	family(f, "vipd_checks_overload_skips_total", "counter",
	       "Checks due again while still waiting for a slot, run once.");
	put(f, "vipd_checks_overload_skips_total %llu\n", (unsigned long long)ss->overload_skips);
	family(f, "vipd_checks_overruns_total", "counter",
	       "Checks still running at their next interval, cancelled as timeouts.");
	put(f, "vipd_checks_overruns_total %llu\n", (unsigned long long)ss->overruns);
	family(f, "vipd_check_timer_lateness_p99_seconds", "gauge",
	       "99th percentile of check timers' lateness over the last 8192 runs.");
	put(f, "vipd_check_timer_lateness_p99_seconds %.6f\n", ss->lateness_p99_ms / 1000.0);
	family(f, "vipd_check_timer_lateness_max_seconds", "gauge",
	       "Largest check timer lateness over the last 8192 runs.");
	put(f, "vipd_check_timer_lateness_max_seconds %.6f\n", ss->lateness_max_ms / 1000.0);
}

static void put_durations(struct out *f, const struct api_counters *c)
{
	family(f, "vipd_check_duration_seconds", "histogram",
	       "Health check durations, from start to result, by kind.");
	for (int k = 0; k < API_KIND_COUNT; k++) {
		uint64_t cumulative = 0;

		for (int b = 0; b < API_DURATION_BUCKETS; b++) {
			cumulative += c->duration_buckets[k][b];
			put(f, "vipd_check_duration_seconds_bucket{kind=\"%s\",le=\"%g\"} %llu\n",
			    kind_names[k], api_duration_bounds[b], (unsigned long long)cumulative);
		}
		cumulative += c->duration_buckets[k][API_DURATION_BUCKETS];
		put(f, "vipd_check_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %llu\n",
		    kind_names[k], (unsigned long long)cumulative);
		put(f, "vipd_check_duration_seconds_sum{kind=\"%s\"} %.6f\n", kind_names[k],
		    c->duration_sum[k]);
		put(f, "vipd_check_duration_seconds_count{kind=\"%s\"} %llu\n", kind_names[k],
		    (unsigned long long)cumulative);
	}
}

/* This scrape's own time is not in it: it is counted once answered. */
static void put_requests(struct out *f, const struct api_counters *c)
{
	family(f, "vipd_api_request_duration_seconds", "histogram",
	       "Loop time spent answering API requests (building the answer), by path.");
	for (int p = 0; p < API_PATH_COUNT; p++) {
		uint64_t cumulative = 0;

		for (int b = 0; b < API_REQUEST_BUCKETS; b++) {
			cumulative += c->request_buckets[p][b];
			put(f,
			    "vipd_api_request_duration_seconds_bucket{path=\"%s\",le=\"%g\"} "
			    "%llu\n",
			    api_path_names[p], api_request_bounds[b],
			    (unsigned long long)cumulative);
		}
		cumulative += c->request_buckets[p][API_REQUEST_BUCKETS];
		put(f, "vipd_api_request_duration_seconds_bucket{path=\"%s\",le=\"+Inf\"} %llu\n",
		    api_path_names[p], (unsigned long long)cumulative);
		put(f, "vipd_api_request_duration_seconds_sum{path=\"%s\"} %.6f\n",
		    api_path_names[p], c->request_sum[p]);
		put(f, "vipd_api_request_duration_seconds_count{path=\"%s\"} %llu\n",
		    api_path_names[p], (unsigned long long)cumulative);
	}
	family(f, "vipd_api_request_cpu_seconds_total", "counter",
	       "CPU time of vipd's loop thread answering API requests, by path.");
	for (int p = 0; p < API_PATH_COUNT; p++)
		put(f, "vipd_api_request_cpu_seconds_total{path=\"%s\"} %.6f\n", api_path_names[p],
		    c->request_cpu_sum[p]);
}

static void put_transitions(struct out *f, const struct api_counters *c)
{
	family(f, "vipd_task_health_transitions_total", "counter",
	       "Changes of a task's health, by the health entered.");
	for (int h = 0; h < API_HEALTH_COUNT; h++)
		put(f, "vipd_task_health_transitions_total{to=\"%s\"} %llu\n",
		    health_state_name((enum health_state)h),
		    (unsigned long long)c->task_transitions[h]);
}

static void put_rounds(struct out *f, const struct api_state *st, const struct api_counters *c)
{
	char kind[32];

	family(f, "vipd_reconcile_rounds_total", "counter",
	       "Rounds that brought the IPVS table in line with the desired one.");
	put(f, "vipd_reconcile_rounds_total %llu\n", (unsigned long long)*st->rounds);
	family(f, "vipd_ipvs_operations_total", "counter",
	       "Kernel IPVS operations by kind and result (none under --no-ipvs).");
	for (int k = 0; k < API_OP_KIND_COUNT; k++) {
		/* "add dest" -> "add_dest", as the audit log spells it. */
		(void)snprintf(kind, sizeof(kind), "%s", rc_op_kind_name((enum rc_op_kind)k));
		for (char *sp = strchr(kind, ' '); sp; sp = strchr(sp, ' '))
			*sp = '_';
		for (int failed = 0; failed < 2; failed++)
			put(f, "vipd_ipvs_operations_total{op=\"%s\",result=\"%s\"} %llu\n", kind,
			    failed ? "error" : "ok", (unsigned long long)c->ops[k][failed]);
	}
	family(f, "vipd_definition_loads_total", "counter",
	       "Loads of the app definitions, the first at start included.");
	put(f, "vipd_definition_loads_total %llu\n", (unsigned long long)c->loads);
}

static void put_backends(struct out *f, const struct api_vips *v)
{
	char addr[INET6_ADDRSTRLEN + 8];

	family(f, "vipd_vip_backends", "gauge", "Running tasks behind a VIP, by health.");
	for (size_t i = 0; i < v->n; i++) {
		size_t count[API_HEALTH_COUNT] = {0};

		for (size_t b = 0; b < v->items[i].nbackends; b++)
			count[v->items[i].backends[b].health % API_HEALTH_COUNT]++;
		lb_addr_port_format(&v->items[i].svc.addr, v->items[i].svc.port, addr,
		                    sizeof(addr));
		for (int h = 0; h < API_HEALTH_COUNT; h++)
			put(f, "vipd_vip_backends{vip=\"%s\",protocol=\"%s\",state=\"%s\"} %zu\n",
			    addr, lb_proto_name(v->items[i].svc.protocol),
			    health_state_name((enum health_state)h), count[h]);
	}
}

/* The kernel's counters (api_kstats.c), one family at a time. */
enum kfield {
	K_CONNS,
	K_INPKTS,
	K_OUTPKTS,
	K_INBYTES,
	K_OUTBYTES,
	K_ACTIVE,
	K_INACTIVE,
	K_SYN_RECV, /* only when the connection table was read */
};

struct kfamily {
	const char *name, *type, *help;
	enum kfield field, out; /* out: the "out" direction's field when directed */
	bool directed;
};

static const struct kfamily service_families[] = {
    {"vipd_ipvs_service_connections_total", "counter",
     "Connections the kernel's IPVS service scheduled.", K_CONNS, K_CONNS, false},
    {"vipd_ipvs_service_packets_total", "counter", "Packets through the IPVS service.", K_INPKTS,
     K_OUTPKTS, true},
    {"vipd_ipvs_service_bytes_total", "counter", "Bytes through the IPVS service.", K_INBYTES,
     K_OUTBYTES, true},
};

static const struct kfamily backend_families[] = {
    {"vipd_ipvs_backend_connections_total", "counter",
     "Connections the kernel's IPVS sent to the backend.", K_CONNS, K_CONNS, false},
    {"vipd_ipvs_backend_packets_total", "counter", "Packets to and from the backend.", K_INPKTS,
     K_OUTPKTS, true},
    {"vipd_ipvs_backend_bytes_total", "counter", "Bytes to and from the backend.", K_INBYTES,
     K_OUTBYTES, true},
    {"vipd_ipvs_backend_active_connections", "gauge",
     "The backend's established connections in the IPVS table.", K_ACTIVE, K_ACTIVE, false},
    {"vipd_ipvs_backend_inactive_connections", "gauge",
     "The backend's connections in the IPVS table not established (or closing).", K_INACTIVE,
     K_INACTIVE, false},
    {"vipd_ipvs_backend_syn_recv_connections", "gauge",
     "The backend's connections in SYN_RECV in the IPVS table: opened, never completed.",
     K_SYN_RECV, K_SYN_RECV, false},
};

static unsigned long long kvalue(const struct ipvs_stats *s, const struct api_kstats_dest *d,
                                 enum kfield k)
{
	switch (k) {
	case K_CONNS:
		return s->conns;
	case K_INPKTS:
		return s->inpkts;
	case K_OUTPKTS:
		return s->outpkts;
	case K_INBYTES:
		return s->inbytes;
	case K_OUTBYTES:
		return s->outbytes;
	case K_ACTIVE:
		return d ? d->active : 0;
	case K_INACTIVE:
		return d ? d->inactive : 0;
	case K_SYN_RECV:
		return d ? d->syn_recv : 0;
	}
	return 0;
}

/* One series (two when directed); labels: `vip="…",protocol="…"[,backend="…"]`. */
static void put_kseries(struct out *f, const struct kfamily *k, const char *labels,
                        const struct ipvs_stats *s, const struct api_kstats_dest *d)
{
	if (!k->directed) {
		put(f, "%s{%s} %llu\n", k->name, labels, kvalue(s, d, k->field));
		return;
	}
	put(f, "%s{%s,direction=\"in\"} %llu\n", k->name, labels, kvalue(s, d, k->field));
	put(f, "%s{%s,direction=\"out\"} %llu\n", k->name, labels, kvalue(s, d, k->out));
}

static void put_kfamily(struct out *f, const struct api_state *st, const struct api_vips *v,
                        const struct kfamily *k, bool backends)
{
	char addr[INET6_ADDRSTRLEN + 8], dest[INET6_ADDRSTRLEN + 8], labels[192];

	family(f, k->name, k->type, k->help);
	for (size_t i = 0; i < v->n; i++) {
		const struct api_kstats_svc *ks = api_kstats_service(st->kstats, &v->items[i].svc);
		const char *proto = lb_proto_name(v->items[i].svc.protocol);

		if (!ks || (k->field == K_SYN_RECV && !ks->syn_known))
			continue;
		lb_addr_port_format(&ks->key.addr, ks->key.port, addr, sizeof(addr));
		if (!backends) {
			(void)snprintf(labels, sizeof(labels), "vip=\"%s\",protocol=\"%s\"", addr,
			               proto);
			put_kseries(f, k, labels, &ks->stats, NULL);
			continue;
		}
		for (size_t j = 0; j < ks->ndests; j++) {
			const struct api_kstats_dest *d = &ks->dests[j];

			lb_addr_port_format(&d->addr, d->port, dest, sizeof(dest));
			(void)snprintf(labels, sizeof(labels),
			               "vip=\"%s\",protocol=\"%s\",backend=\"%s\"", addr, proto,
			               dest);
			put_kseries(f, k, labels, &d->stats, d);
		}
	}
}

static void put_kernel(struct out *f, const struct api_state *st, const struct api_vips *v)
{
	if (!st->kstats)
		return;
	for (size_t i = 0; i < sizeof(service_families) / sizeof(*service_families); i++)
		put_kfamily(f, st, v, &service_families[i], false);
	for (size_t i = 0; i < sizeof(backend_families) / sizeof(*backend_families); i++)
		put_kfamily(f, st, v, &backend_families[i], true);
}

char *api_metrics_text(const struct api_state *st, const struct api_counters *c,
                       const struct api_vips *v, size_t *len)
{
	struct sched_stats ss = {0};
	char *buf = NULL;
	struct out o = {.f = open_memstream(&buf, len)};

	if (!o.f)
		return NULL;
	sched_get_stats(st->sched, &ss);
	put_info(&o, st);
	put_checks(&o, c, &ss);
	put_durations(&o, c);
	put_requests(&o, c);
	put_transitions(&o, c);
	put_rounds(&o, st, c);
	put_backends(&o, v);
	put_kernel(&o, st, v);
	if (fclose(o.f) != 0 || o.failed) {
		free(buf);
		return NULL;
	}
	return buf;
}
