/*
 * Benchmarks of the check engine: the scheduler and executors on a real libev
 * loop against loopback backends, reporting checks per second, CPU per check
 * (this process and its reaped children) and timer lateness; and the idle
 * memory of many check instances. Reports only, never asserts; one JSON line
 * per run on stdout for bench/run.sh to tabulate.
 */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "vipd/apps.h"
#include "vipd/clock.h"
#include "vipd/percentile.h"
#include "vipd/sched.h"

/* The scheduler's private structures, for their sizes only. */
#include "sched_int.h"

#define NATIVE_COMMAND                                                                             \
	"test \"$(curl -4 -w '%{http_code}' -s http://localhost:${PORT0}/|cut -f1 -d\" \")\" == "  \
	"200"

struct opts {
	const char *mode; /* "sched" or "memory" */
	const char *kind; /* http, tcp, command, native, shellcurl */
	const char *shell;
	const char *command; /* overrides the kind's command */
	size_t instances;
	double interval_s; /* real interval after scaling */
	double seconds;
	double warmup_s;
	unsigned port_base;
	unsigned nports;
	unsigned max_in_flight;
	double probe_s;      /* period of the responsiveness probe timer; 0 = none */
	double phase_grid_s; /* sched_settings.phase_grid_s: 0 default, negative off */
};

struct counters {
	uint64_t events;
	uint64_t ok;
	uint64_t failed;  /* a real result other than OK */
	uint64_t overrun; /* cancelled at the next interval */
	uint64_t by_outcome[CHECK_IGNORED + 1];
	uint64_t native;
};

struct bench {
	struct ev_loop *loop;
	struct sched *sched;
	struct counters c;
	/* lateness of the scheduler's timers, polled while the ring is fresh */
	double sched_p50[4096], sched_p99[4096];
	size_t npolls;
	double sched_max_ms;
	/* our own probe timer: how late the loop serves a timer */
	ev_timer probe;
	double probe_due;
	double *probe_late;
	size_t nprobe, probe_cap;
	ev_timer poll;
	double poll_cpu_s; /* our own polling, taken out of the check CPU */
	bool measuring;
};

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

struct cpu {
	double self_user, self_sys, child_user, child_sys;
};

static void cpu_now(struct cpu *c)
{
	struct rusage self, children;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	c->self_user = tv_s(&self.ru_utime);
	c->self_sys = tv_s(&self.ru_stime);
	c->child_user = tv_s(&children.ru_utime);
	c->child_sys = tv_s(&children.ru_stime);
}

static long vm_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* JSON string body for a shell command (quotes and backslashes escaped). */
static void json_escape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 3 < cap; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = '\0';
}

static const char *check_json(const struct opts *o, char *buf, size_t cap)
{
	char esc[1024];
	const char *cmd = NULL;

	if (o->command)
		cmd = o->command;
	else if (strcmp(o->kind, "command") == 0)
		cmd = "true";
	else if (strcmp(o->kind, "native") == 0 || strcmp(o->kind, "shellcurl") == 0)
		cmd = NATIVE_COMMAND;
	if (cmd) {
		json_escape(cmd, esc, sizeof(esc));
		snprintf(buf, cap, "\"protocol\": \"COMMAND\", \"command\": {\"value\": \"%s\"}",
		         esc);
	} else if (strcmp(o->kind, "tcp") == 0) {
		snprintf(buf, cap, "\"protocol\": \"TCP\", \"portIndex\": 0");
	} else {
		snprintf(buf, cap, "\"protocol\": \"HTTP\", \"portIndex\": 0, \"path\": \"/\"");
	}
	return buf;
}

/* One app with `n` tasks on 127.0.0.1, task i on port base + i % nports.
 * Marathon's intervals are whole seconds: 10 s here, scaled by the caller. */
static char *apps_json(const struct opts *o, unsigned interval_s, unsigned delay_s)
{
	size_t cap = 4096 + o->instances * 96, off = 0;
	char *doc = malloc(cap), check[1400];

	if (!doc)
		return NULL;
	off += (size_t)snprintf(doc + off, cap - off,
	                        "{\"id\": \"/bench\", \"portDefinitions\": [{\"port\": 0}],"
	                        " \"healthChecks\": [{%s, \"intervalSeconds\": %u,"
	                        " \"timeoutSeconds\": 5, \"gracePeriodSeconds\": 0,"
	                        " \"delaySeconds\": %u, \"maxConsecutiveFailures\": 3}],"
	                        " \"tasks\": [",
	                        check_json(o, check, sizeof(check)), interval_s, delay_s);
	for (size_t i = 0; i < o->instances; i++)
		off += (size_t)snprintf(doc + off, cap - off,
		                        "%s{\"id\": \"bench.%08zu\", \"host\": \"127.0.0.1\","
		                        " \"ports\": [%u]}",
		                        i ? "," : "", i, o->port_base + (unsigned)(i % o->nports));
	snprintf(doc + off, cap - off, "]}");
	return doc;
}

static int load_set(struct apps_set *set, char *doc)
{
	char line[512];

	memset(set, 0, sizeof(*set));
	if (apps_load_buffer(set, "bench.json", doc, strlen(doc)) < 0 ||
	    diag_count(&set->diags, DIAG_ERROR) > 0) {
		for (size_t i = 0; i < set->diags.count && i < 5; i++)
			fprintf(stderr, "bench: %s\n",
			        diag_format(&set->diags.items[i], line, sizeof(line)));
		return -1;
	}
	return 0;
}

/* sched_event_cb */
static void on_event(const struct sched_event *ev, void *arg)
{
	struct bench *b = arg;

	if (!b->measuring)
		return;
	b->c.events++;
	if (ev->res->native)
		b->c.native++;
	if (ev->res->outcome <= CHECK_IGNORED)
		b->c.by_outcome[ev->res->outcome]++;
	if (ev->res->outcome == CHECK_OK)
		b->c.ok++;
	else if (ev->res->outcome == CHECK_FAIL_TIMEOUT &&
	         strncmp(ev->res->output, "still running", 13) == 0)
		b->c.overrun++;
	else
		b->c.failed++;
}

static void probe_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bench *b = w->data;
	double now = clock_now_s();

	(void)loop;
	(void)revents;
	if (b->measuring && b->nprobe < b->probe_cap)
		b->probe_late[b->nprobe++] = now - b->probe_due;
	b->probe_due = now + w->repeat;
	ev_timer_again(loop, w);
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void poll_lateness(struct bench *b)
{
	struct sched_stats st;
	double t0 = thread_cpu();

	if (b->npolls >= 4096)
		return;
	sched_get_stats(b->sched, &st);
	b->sched_p50[b->npolls] = st.lateness_p50_ms;
	b->sched_p99[b->npolls] = st.lateness_p99_ms;
	b->npolls++;
	b->poll_cpu_s += thread_cpu() - t0;
}

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bench *b = w->data;

	(void)loop;
	(void)revents;
	if (b->measuring)
		poll_lateness(b);
}

static void stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

static void run_for(struct ev_loop *loop, double seconds)
{
	ev_timer stop;

	ev_timer_init(&stop, stop_cb, seconds, 0);
	ev_timer_start(loop, &stop);
	ev_run(loop, 0);
	ev_timer_stop(loop, &stop);
}

static double max_of(const double *v, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int run_sched(const struct opts *o)
{
	struct bench b = {0};
	struct exec_settings es = {.shell = o->shell};
	struct runner_settings rs = {.native_curl = strcmp(o->kind, "native") == 0,
	                             .shell = runner_detect_shell(o->shell)};
	struct sched_settings ss = {.max_in_flight = o->max_in_flight,
	                            .interval_scale = o->interval_s / 10.0,
	                            .phase_grid_s = o->phase_grid_s};
	struct exec_ctx *ctx;
	struct apps_set set;
	struct sched_stats st0, st1;
	struct cpu c0, c1;
	char err[256], *doc;
	double w0, w1, cpu_self, cpu_child, wall;

	raise_nofile();
	b.loop = ev_default_loop(0);
	ctx = exec_ctx_new(b.loop, &es, err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	doc = apps_json(o, 10, 0);
	if (!doc || load_set(&set, doc) < 0)
		return 1;
	free(doc);
	b.sched = sched_new(b.loop, ctx, &rs, &ss, on_event, &b);
	if (!b.sched)
		return 1;
	ev_timer_init(&b.probe, probe_cb, 0., o->probe_s);
	b.probe.data = &b;
	if (o->probe_s > 0) {
		b.probe_cap = (size_t)(o->seconds / o->probe_s) + 16;
		b.probe_late = calloc(b.probe_cap, sizeof(*b.probe_late));
		b.probe_due = clock_now_s() + o->probe_s;
		ev_timer_again(b.loop, &b.probe);
	}
	/* The ring holds the last 8192 samples: poll before it wraps, and no
	 * more often than that (sorting it costs CPU we then subtract). */
	double offered = (double)o->instances / o->interval_s;
	double period = 4096.0 / offered;

	if (period < 0.25)
		period = 0.25;
	if (period > o->seconds / 2)
		period = o->seconds / 2;
	ev_timer_init(&b.poll, poll_cb, period, period);
	b.poll.data = &b;
	ev_timer_start(b.loop, &b.poll);

	sched_sync(b.sched, &set);
	run_for(b.loop, o->warmup_s);

	b.measuring = true;
	sched_get_stats(b.sched, &st0);
	cpu_now(&c0);
	w0 = clock_now_s();
	run_for(b.loop, o->seconds);
	w1 = clock_now_s();
	cpu_now(&c1);
	sched_get_stats(b.sched, &st1);
	poll_lateness(&b);
	b.measuring = false;

	wall = w1 - w0;
	cpu_self = (c1.self_user - c0.self_user) + (c1.self_sys - c0.self_sys) - b.poll_cpu_s;
	cpu_child = (c1.child_user - c0.child_user) + (c1.child_sys - c0.child_sys);
	uint64_t done = b.c.events - b.c.overrun;
	double probe_p99 = percentile_nearest_rank(b.probe_late, b.nprobe, 0.99) * 1000;
	double probe_max = max_of(b.probe_late, b.nprobe) * 1000;
	double probe_p50 = percentile_nearest_rank(b.probe_late, b.nprobe, 0.50) * 1000;
	/* Each poll saw the last 8192 lateness samples: the median of their
	 * p99s, and the worst. */
	double sched_p99_worst = max_of(b.sched_p99, b.npolls);
	double sched_p99_med = percentile_nearest_rank(b.sched_p99, b.npolls, 0.50);
	double sched_p50_med = percentile_nearest_rank(b.sched_p50, b.npolls, 0.50);

	printf("{\"mode\": \"sched\", \"kind\": \"%s\", \"shell\": \"%s\", \"instances\": %zu, "
	       "\"interval_s\": %g, \"port_base\": %u, \"max_in_flight\": %u, \"offered_per_s\": "
	       "%.1f, "
	       "\"wall_s\": %.3f, \"checks\": %llu, \"checks_per_s\": %.1f, \"ok\": %llu, "
	       "\"failed\": %llu, \"overruns\": %llu, \"native\": %llu, \"cpu_self_s\": %.3f, "
	       "\"cpu_children_s\": %.3f, \"bench_poll_cpu_s\": %.4f, \"cpu_us_per_check\": %.2f, "
	       "\"cpu_cores\": %.3f, "
	       "\"phase_grid_s\": %g, \"sched_started\": %llu, \"start_wakeups\": %llu, "
	       "\"overload_skips\": %llu, "
	       "\"waited\": %llu, "
	       "\"sched_late_p50_ms\": %.3f, \"sched_late_p99_ms\": %.3f, "
	       "\"sched_late_p99_worst_ms\": %.3f, "
	       "\"sched_late_max_ms\": %.3f, \"probe_late_p50_ms\": %.3f, "
	       "\"probe_late_p99_ms\": %.3f, \"probe_late_max_ms\": %.3f, \"outcomes\": {",
	       o->kind, o->shell ? o->shell : "/bin/sh", o->instances, o->interval_s, o->port_base,
	       o->max_in_flight ? o->max_in_flight : SCHED_DEFAULT_MAX_IN_FLIGHT,
	       (double)o->instances / o->interval_s, wall, (unsigned long long)done,
	       (double)done / wall, (unsigned long long)b.c.ok, (unsigned long long)b.c.failed,
	       (unsigned long long)b.c.overrun, (unsigned long long)b.c.native, cpu_self, cpu_child,
	       b.poll_cpu_s, done ? (cpu_self + cpu_child) * 1e6 / (double)done : 0.0,
	       (cpu_self + cpu_child) / wall,
	       o->phase_grid_s ? o->phase_grid_s : SCHED_DEFAULT_PHASE_GRID_S,
	       (unsigned long long)(st1.started - st0.started),
	       (unsigned long long)(st1.start_wakeups - st0.start_wakeups),
	       (unsigned long long)(st1.overload_skips - st0.overload_skips),
	       (unsigned long long)(st1.waited - st0.waited), sched_p50_med, sched_p99_med,
	       sched_p99_worst, st1.lateness_max_ms, probe_p50, probe_p99, probe_max);
	for (int i = 0, first = 1; i <= CHECK_IGNORED; i++) {
		if (!b.c.by_outcome[i])
			continue;
		printf("%s\"%s\": %llu", first ? "" : ", ", check_outcome_name(i),
		       (unsigned long long)b.c.by_outcome[i]);
		first = 0;
	}
	printf("}}\n");

	ev_timer_stop(b.loop, &b.probe);
	ev_timer_stop(b.loop, &b.poll);
	sched_free(b.sched);
	exec_ctx_free(ctx);
	apps_set_free(&set);
	free(b.probe_late);
	return 0;
}

/* No-op: nothing runs in the memory mode. */
static void on_event_none(const struct sched_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static int run_memory(const struct opts *o)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct runner_settings rs = {.native_curl = true};
	struct sched_settings ss = {0};
	struct exec_ctx *ctx;
	struct sched *s;
	struct apps_set set;
	char err[256], *doc;
	long rss0, rss1, rss2;
	size_t heap0, heap1, heap2;
	size_t n = o->instances;

	ctx = exec_ctx_new(loop, NULL, err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	s = sched_new(loop, ctx, &rs, &ss, on_event_none, NULL);
	if (!s)
		return 1;
	/* Measured before the document exists: it is freed (and, being larger
	 * than glibc's mmap threshold, unmapped) before the second reading. */
	malloc_trim(0);
	rss0 = vm_rss_kb();
	heap0 = heap_in_use();
	/* An hour's interval and delay: nothing runs while we measure. */
	doc = apps_json(o, 3600, 3600);
	if (!doc)
		return 1;
	if (load_set(&set, doc) < 0)
		return 1;
	free(doc);
	malloc_trim(0);
	rss1 = vm_rss_kb();
	heap1 = heap_in_use();
	sched_sync(s, &set);
	run_for(loop, 0.05);
	rss2 = vm_rss_kb();
	heap2 = heap_in_use();

	/* What the scheduler allocates per task with one check, by its own
	 * structures, and what malloc really hands out for each. */
	void *p_task = malloc(sizeof(struct sched_task));
	void *p_inst = malloc(sizeof(struct sched_inst));
	void *p_hs = malloc(sizeof(struct health_check_state));
	void *p_app_id = malloc(sizeof("/bench"));
	void *p_task_id = malloc(sizeof("bench.00000000"));
	size_t usable = malloc_usable_size(p_task) + malloc_usable_size(p_inst) +
	                malloc_usable_size(p_hs) + malloc_usable_size(p_app_id) +
	                malloc_usable_size(p_task_id);
	/* glibc keeps 8 bytes of header per chunk, and a bucket pointer. */
	size_t per_inst = usable + 5 * 8 + sizeof(struct sched_task *);

	free(p_task);
	free(p_inst);
	free(p_hs);
	free(p_app_id);
	free(p_task_id);
	printf("{\"mode\": \"memory\", \"kind\": \"%s\", \"instances\": %zu, "
	       "\"model_rss_kb\": %ld, \"model_heap_bytes\": %zu, \"sched_rss_kb\": %ld, "
	       "\"sched_heap_bytes\": %zu, \"model_rss_per_instance_b\": %.1f, "
	       "\"sched_rss_per_instance_b\": %.1f, \"total_rss_per_instance_b\": %.1f, "
	       "\"model_heap_per_instance_b\": %.1f, \"sched_heap_per_instance_b\": %.1f, "
	       "\"sizeof_sched_task\": %zu, \"sizeof_sched_inst\": %zu, "
	       "\"sizeof_health_check_state\": %zu, \"sizeof_ev_timer\": %zu, "
	       "\"sched_structs_per_instance_b\": %zu}\n",
	       o->kind, n, rss1 - rss0, heap1 - heap0, rss2 - rss1, heap2 - heap1,
	       (double)(rss1 - rss0) * 1024 / (double)n, (double)(rss2 - rss1) * 1024 / (double)n,
	       (double)(rss2 - rss0) * 1024 / (double)n, (double)(heap1 - heap0) / (double)n,
	       (double)(heap2 - heap1) / (double)n, sizeof(struct sched_task),
	       sizeof(struct sched_inst), sizeof(struct health_check_state), sizeof(ev_timer),
	       per_inst);
	sched_free(s);
	exec_ctx_free(ctx);
	apps_set_free(&set);
	return 0;
}

static double cpu_total(void)
{
	struct cpu c;

	cpu_now(&c);
	return c.self_user + c.self_sys;
}

/* The pure per-run work of the native curl path, without I/O: recognising
 * the command (done once per run, by runner_start's native_plan) and
 * expanding its URL. CPU µs per call. */
static int run_micro(const struct opts *o)
{
	const char *cmd = o->command ? o->command : NATIVE_COMMAND;
	char *envp[] = {"PORT0=27180", "PORT=27180", "PORTS=27180", "HOST=127.0.0.1", NULL};
	char why[160], url[CURLCMD_URL_MAX];
	struct curlcmd cc;
	size_t n = o->instances;
	double t0, t1, t2;

	if (!curlcmd_recognise(cmd, &cc, why, sizeof(why))) {
		fprintf(stderr, "bench: not recognised: %s\n", why);
		return 1;
	}
	t0 = cpu_total();
	for (size_t i = 0; i < n; i++)
		curlcmd_recognise(cmd, &cc, why, sizeof(why));
	t1 = cpu_total();
	for (size_t i = 0; i < n; i++)
		curlcmd_url_expand(&cc, envp, url, sizeof(url), why, sizeof(why));
	t2 = cpu_total();
	printf("{\"mode\": \"micro\", \"calls\": %zu, \"recognise_us\": %.2f, "
	       "\"url_expand_us\": %.3f, \"recognise_calls_per_run\": 1}\n",
	       n, (t1 - t0) * 1e6 / (double)n, (t2 - t1) * 1e6 / (double)n);
	return 0;
}

/* The floor under COMMAND checks on this machine: `sh -c true` spawned and
 * waited for one at a time, without vipd. CPU of the children per spawn. */
static int run_floor(const struct opts *o)
{
	extern char **environ;
	char *argv[] = {"/bin/sh", "-c", (char *)(o->command ? o->command : "true"), NULL};
	struct cpu c0, c1;
	double w0, w1, child;
	size_t n = o->instances;

	cpu_now(&c0);
	w0 = clock_now_s();
	for (size_t i = 0; i < n; i++) {
		pid_t pid;
		int status;

		if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
			return 1;
		if (waitpid(pid, &status, 0) < 0)
			return 1;
	}
	w1 = clock_now_s();
	cpu_now(&c1);
	child = (c1.child_user - c0.child_user) + (c1.child_sys - c0.child_sys);
	printf("{\"mode\": \"floor\", \"spawns\": %zu, \"wall_s\": %.3f, "
	       "\"spawns_per_s_sequential\": %.1f, \"child_cpu_us_per_spawn\": %.1f, "
	       "\"self_cpu_us_per_spawn\": %.1f}\n",
	       n, w1 - w0, (double)n / (w1 - w0), child * 1e6 / (double)n,
	       ((c1.self_user - c0.self_user) + (c1.self_sys - c0.self_sys)) * 1e6 / (double)n);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: bench_checks sched KIND [--instances N] [--interval S] [--seconds S]\n"
	        "                    [--warmup S] [--port-base P] [--nports K]\n"
	        "                    [--max-in-flight M] [--shell PATH] [--command CMD]\n"
	        "                    [--probe S (a probe timer every S s: loop lateness)]\n"
	        "                    [--grid S (phase grid step; negative: none)]\n"
	        "       bench_checks memory KIND [--instances N]\n"
	        "       bench_checks micro native [--instances CALLS] [--command CMD]\n"
	        "       bench_checks floor command [--instances SPAWNS] (sh -c true, no vipd)\n"
	        "KIND: http, tcp, command (true), native or shellcurl (the DC/OS curl test)\n");
}

int main(int argc, char **argv)
{
	struct opts o = {.instances = 10000,
	                 .interval_s = 1.0,
	                 .seconds = 10,
	                 .warmup_s = 2,
	                 .port_base = 27180,
	                 .nports = 8};

	if (argc < 3) {
		usage();
		return 2;
	}
	o.mode = argv[1];
	o.kind = argv[2];
	for (int i = 3; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--instances") == 0)
			o.instances = strtoul(v, NULL, 10);
		else if (strcmp(k, "--interval") == 0)
			o.interval_s = strtod(v, NULL);
		else if (strcmp(k, "--seconds") == 0)
			o.seconds = strtod(v, NULL);
		else if (strcmp(k, "--warmup") == 0)
			o.warmup_s = strtod(v, NULL);
		else if (strcmp(k, "--port-base") == 0)
			o.port_base = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(k, "--nports") == 0)
			o.nports = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(k, "--max-in-flight") == 0)
			o.max_in_flight = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(k, "--shell") == 0)
			o.shell = v;
		else if (strcmp(k, "--command") == 0)
			o.command = v;
		else if (strcmp(k, "--probe") == 0)
			o.probe_s = strtod(v, NULL);
		else if (strcmp(k, "--grid") == 0)
			o.phase_grid_s = strtod(v, NULL);
		else {
			usage();
			return 2;
		}
	}
	if (!o.instances || !(o.interval_s > 0) || !o.nports) {
		usage();
		return 2;
	}
	if (strcmp(o.mode, "sched") == 0)
		return run_sched(&o);
	if (strcmp(o.mode, "memory") == 0)
		return run_memory(&o);
	if (strcmp(o.mode, "micro") == 0)
		return run_micro(&o);
	if (strcmp(o.mode, "floor") == 0)
		return run_floor(&o);
	usage();
	return 2;
}
