/*
 * dataplane_tool: drives the data plane (include/vipd/dataplane.h) from the
 * VM tests, which check its effects with ipvsadm and ip(8).
 *
 *   dataplane_tool [-i IFACE] [-s STATE] [-t TCP,FIN,UDP] apply FILE...
 *       one process: open, one round per FILE, close (leaving everything);
 *       prints "op <op> ok" or "op <op> error <msg>" per operation, then
 *       "round <n> ops <count> failed <count>"
 *       -q: rounds after the first use dataplane_apply_quick (no read)
 *       -p: rounds after the first use dataplane_apply_patch with just the
 *           services whose contents differ from the previous FILE's (what
 *           the daemon hands it after a health change)
 *       -T: after each round line, "time round <n> <ms> ms <quick|patch|full>":
 *           the round alone (dataplane_apply[_quick|_patch]), measured in the
 *           process with CLOCK_MONOTONIC; reading FILE and finding the
 *           changed services are not counted
 *       -L: every round through dataplane_request on an event loop (the
 *           daemon's path: whole-table rounds in slices; with -q, quick
 *           after the first), one FILE after the other's done; after each
 *           round line "loop round <n> ticks <k>": how often a 1 ms timer
 *           fired while the round ran (0 would mean the round held the loop);
 *           with -T also the round's figures (dataplane_async_stats: its time,
 *           loop iterations, waits for the kernel, the longest iteration and
 *           its phase, time per phase) and the timer's longest wait
 *       -Q: no "op" lines (the counts stay), as the bench's rounds
 *       -C: with -L, every FILE requested at once: the first round runs, the
 *           rest coalesce into one towards the last FILE; "rounds <n>" at the end
 *   dataplane_tool [...] observe      the kernel's table as the data plane reads it
 *   dataplane_tool [...] owned        the owned set after open
 *   dataplane_tool sysctls            the sysctls set at open, with why
 *   dataplane_tool [...] bench NSVC NDEST
 *       times: apply from empty, an unchanged resync, one weight change,
 *       a bare observe; then removes the services again
 *
 * FILE: "svc tcp|udp ADDR PORT [sched S] [fwd masq|droute|tunnel]" lines,
 * each followed by its "dest ADDR PORT [weight W]" lines; '#' comments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "vipd/dataplane.h"
#include "vipd/errbuf.h"

#define ERRLEN 1024

static int usage(void)
{
	fprintf(stderr, "usage: dataplane_tool [-q|-p] [-L [-C]] [-Q] [-T] [-i IFACE] [-s STATE] "
	                "[-t TCP,FIN,UDP] "
	                "apply FILE... | observe | owned | sysctls | bench NSVC NDEST\n");
	return 2;
}

static int parse_line(char *line, struct lb_table *t, struct lb_service **cur, char *err,
                      size_t errlen)
{
	char *w[12];
	size_t n = 0;

	for (char *tok = strtok(line, " \t\r\n"); tok != NULL && n < 12;
	     tok = strtok(NULL, " \t\r\n"))
		w[n++] = tok;
	if (n == 0 || w[0][0] == '#')
		return 0;
	if (strcmp(w[0], "svc") == 0 && n >= 4) {
		struct lb_key k = {0};

		k.protocol = strcmp(w[1], "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
		if (lb_addr_parse(w[2], &k.addr) < 0)
			goto bad;
		k.port = (uint16_t)atoi(w[3]);
		*cur = lb_table_add_service(t, &k);
		if (*cur == NULL)
			goto bad;
		for (size_t i = 4; i + 1 < n; i += 2) {
			if (strcmp(w[i], "sched") == 0 && lb_service_set_sched(*cur, w[i + 1]) == 0)
				continue;
			if (strcmp(w[i], "fwd") == 0 && lb_fwd_parse(w[i + 1], &(*cur)->fwd) == 0)
				continue;
			goto bad;
		}
		return 0;
	}
	if (strcmp(w[0], "dest") == 0 && n >= 3 && *cur != NULL) {
		struct lb_dest d = {.weight = 1, .fwd = (*cur)->fwd};

		if (lb_addr_parse(w[1], &d.addr) < 0)
			goto bad;
		d.port = (uint16_t)atoi(w[2]);
		if (n >= 5 && strcmp(w[3], "weight") == 0)
			d.weight = (uint32_t)strtoul(w[4], NULL, 10);
		return lb_service_add_dest(*cur, &d);
	}
bad:
	errbuf_set(err, errlen, "cannot read line starting with \"%s\"", w[0]);
	return -1;
}

static int load_table(const char *path, struct lb_table *t, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct lb_service *cur = NULL;
	char line[512];
	int rc = 0;

	if (f == NULL) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL)
		rc = parse_line(line, t, &cur, err, errlen);
	fclose(f);
	return rc;
}

struct counts {
	size_t ops;
	size_t failed;
	bool quiet;
};

static void print_op(void *arg, const struct rc_op *op, int error, const char *msg)
{
	struct counts *c = arg;
	char buf[256];

	c->ops++;
	if (error != 0)
		c->failed++;
	if (c->quiet)
		return;
	if (error == 0)
		printf("op %s ok\n", rc_op_format(op, buf, sizeof(buf)));
	else
		printf("op %s error %s\n", rc_op_format(op, buf, sizeof(buf)), msg);
}

static void print_table(const struct lb_table *t)
{
	char kb[128], db[128];

	for (size_t i = 0; i < t->nsvcs; i++) {
		const struct lb_service *s = &t->svcs[i];

		printf("%s %s flags %u\n", lb_key_format(&s->key, kb, sizeof(kb)), s->sched,
		       (unsigned)s->flags);
		for (size_t j = 0; j < s->ndests; j++)
			printf("%s -> %s %s %u\n", kb,
			       lb_addr_port_format(&s->dests[j].addr, s->dests[j].port, db,
			                           sizeof(db)),
			       lb_fwd_name(s->dests[j].fwd), (unsigned)s->dests[j].weight);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

enum round_kind {
	ROUND_FULL,
	ROUND_QUICK,
	ROUND_PATCH,
};

static const char *round_kind_name(enum round_kind k)
{
	return k == ROUND_QUICK ? "quick" : k == ROUND_PATCH ? "patch" : "full";
}

static bool services_differ(const struct lb_service *a, const struct lb_service *b)
{
	if (strcmp(a->sched, b->sched) != 0 || a->flags != b->flags || a->ndests != b->ndests)
		return true;
	for (size_t j = 0; j < a->ndests; j++)
		if (lb_dest_cmp(&a->dests[j], &b->dests[j]) != 0 ||
		    a->dests[j].weight != b->dests[j].weight || a->dests[j].fwd != b->dests[j].fwd)
			return true;
	return false;
}

/* The services of cur (sorted) that prev (sorted) lacks or holds otherwise. */
static int changed_services(const struct lb_table *prev, const struct lb_table *cur,
                            struct lb_table *part)
{
	for (size_t i = 0; i < cur->nsvcs; i++) {
		const struct lb_service *p = lb_table_find(prev, &cur->svcs[i].key);

		if ((p == NULL || services_differ(p, &cur->svcs[i])) &&
		    lb_table_add_copy(part, &cur->svcs[i]) == NULL)
			return -1;
	}
	return 0;
}

/* One round of kind k; t is read-only to every kind. */
static int apply_round(struct dataplane *dp, enum round_kind k, struct lb_table *t,
                       const struct lb_table *prev, struct counts *c, double *ms, char *err,
                       size_t errlen)
{
	struct lb_table part;
	double t0;
	int rc;

	*ms = 0;
	lb_table_init(&part);
	if (k == ROUND_PATCH && changed_services(prev, t, &part) < 0) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	t0 = now_ms();
	if (k == ROUND_QUICK)
		rc = dataplane_apply_quick(dp, t, print_op, c, err, errlen);
	else if (k == ROUND_PATCH)
		rc = dataplane_apply_patch(dp, &part, NULL, print_op, c, err, errlen);
	else
		rc = dataplane_apply(dp, t, print_op, c, err, errlen);
	*ms = now_ms() - t0;
	lb_table_free(&part);
	return rc;
}

static int cmd_apply(struct dataplane *dp, int argc, char **argv, enum round_kind later, bool timed)
{
	struct lb_table prev;
	char err[ERRLEN];
	int status = 0;

	lb_table_init(&prev);
	for (int i = 0; i < argc; i++) {
		enum round_kind k = i > 0 ? later : ROUND_FULL;
		struct lb_table t;
		struct counts c = {0};
		double ms = 0;
		int rc;

		lb_table_init(&t);
		if (load_table(argv[i], &t, err, sizeof(err)) < 0 || lb_table_sort(&t) < 0) {
			fprintf(stderr, "%s\n", err);
			lb_table_free(&t);
			status = 1;
			break;
		}
		rc = apply_round(dp, k, &t, &prev, &c, &ms, err, sizeof(err));
		printf("round %d ops %zu failed %zu\n", i + 1, c.ops, c.failed);
		if (timed)
			printf("time round %d %.3f ms %s\n", i + 1, ms, round_kind_name(k));
		if (rc < 0) {
			printf("apply failed: %s\n", err);
			status = 1;
		}
		lb_table_free(&prev);
		prev = t;
	}
	lb_table_free(&prev);
	return status;
}

/* -L: rounds requested from an event loop, a 1 ms timer ticking beside. */
struct loop_run {
	struct ev_loop *loop;
	struct dataplane *dp;
	char **files;
	int nfiles;
	int next;   /* next FILE to request */
	int rounds; /* ended */
	bool quick, coalesce, timed;
	struct counts c; /* .quiet: -Q */
	ev_timer tick;
	uint64_t ticks;
	double last_tick_ms, max_gap_ms;
	int status;
};

/* ev_timer callback */
static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct loop_run *lr = w->data;
	double now = now_ms();

	(void)loop;
	(void)revents;
	lr->ticks++;
	if (now - lr->last_tick_ms > lr->max_gap_ms)
		lr->max_gap_ms = now - lr->last_tick_ms;
	lr->last_tick_ms = now;
}

static int request_file(struct loop_run *lr)
{
	struct lb_table t;
	char err[ERRLEN];
	int rc;

	lb_table_init(&t);
	rc = load_table(lr->files[lr->next], &t, err, sizeof(err));
	if (rc == 0)
		rc = dataplane_request(lr->dp, &t, !(lr->quick && lr->next > 0), err, sizeof(err));
	lb_table_free(&t);
	lr->next++;
	if (rc < 0)
		fprintf(stderr, "%s\n", err);
	return rc;
}

static void start_ticks(struct loop_run *lr)
{
	lr->ticks = 0;
	lr->max_gap_ms = 0;
	lr->last_tick_ms = now_ms();
	ev_timer_again(lr->loop, &lr->tick);
}

/* dataplane_op_cb */
static void loop_op(void *arg, const struct rc_op *op, int error, const char *msg)
{
	struct loop_run *lr = arg;

	print_op(&lr->c, op, error, msg);
}

/* dataplane_done_cb */
static void on_round_done(void *arg, int rc, const char *err)
{
	struct loop_run *lr = arg;
	struct dataplane_async_stats st;

	lr->rounds++;
	dataplane_async_stats(lr->dp, &st);
	printf("round %d ops %zu failed %zu\n", lr->rounds, lr->c.ops, lr->c.failed);
	printf("loop round %d ticks %llu\n", lr->rounds, (unsigned long long)lr->ticks);
	if (lr->timed) {
		printf(
		    "loop round %d round %.3f ms iterations %llu waits %llu max_iteration %.3f ms "
		    "(%s) max_tick_gap %.3f ms\n",
		    lr->rounds, st.round_ms, (unsigned long long)st.iterations,
		    (unsigned long long)st.waits, st.max_iteration_ms,
		    dataplane_async_phase_name(st.max_iteration_phase), lr->max_gap_ms);
		printf("loop round %d max_slice %.3f ms (%s)\n", lr->rounds, st.max_slice_ms,
		       dataplane_async_phase_name(st.max_slice_phase));
		printf("loop round %d phases", lr->rounds);
		for (int i = 0; i < DATAPLANE_ASYNC_PHASES; i++)
			if (st.phase_ms[i] > 0)
				printf(" %s %.3f ms", dataplane_async_phase_name(i),
				       st.phase_ms[i]);
		printf("\n");
	}
	if (rc < 0) {
		printf("apply failed: %s\n", err);
		lr->status = 1;
	}
	lr->c.ops = lr->c.failed = 0;
	if (!lr->coalesce && lr->next < lr->nfiles && request_file(lr) < 0)
		lr->status = 1;
	start_ticks(lr); /* after reading the next FILE, which is the tool's time */
	if (!dataplane_busy(lr->dp))
		ev_break(lr->loop, EVBREAK_ALL);
}

static int cmd_loop(struct dataplane *dp, int argc, char **argv, bool quick, bool coalesce,
                    bool timed, bool quiet)
{
	struct loop_run lr = {.loop = ev_default_loop(0),
	                      .dp = dp,
	                      .files = argv,
	                      .nfiles = argc,
	                      .quick = quick,
	                      .coalesce = coalesce,
	                      .timed = timed};
	char err[ERRLEN];

	lr.c.quiet = quiet;
	if (dataplane_attach(dp, lr.loop, loop_op, on_round_done, &lr, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ev_init(&lr.tick, on_tick);
	lr.tick.repeat = 0.001;
	lr.tick.data = &lr;
	do {
		if (request_file(&lr) < 0)
			lr.status = 1;
	} while (coalesce && lr.next < lr.nfiles);
	start_ticks(&lr);
	if (dataplane_busy(dp))
		ev_run(lr.loop, 0);
	ev_timer_stop(lr.loop, &lr.tick);
	if (coalesce)
		printf("rounds %d\n", lr.rounds);
	dataplane_detach(dp);
	return lr.status;
}

static void bench_table(struct lb_table *t, unsigned nsvc, unsigned ndest)
{
	for (unsigned i = 0; i < nsvc; i++) {
		struct lb_key k = {.addr.af = AF_INET, .port = 80, .protocol = IPPROTO_TCP};
		struct lb_service *s;

		k.addr.u.v4.s_addr = htonl(0x0a640000u + i + 1); /* 10.100.0.0/16 */
		s = lb_table_add_service(t, &k);
		for (unsigned j = 0; s != NULL && j < ndest; j++) {
			struct lb_dest d = {.addr.af = AF_INET, .port = 8080, .weight = 1};

			d.addr.u.v4.s_addr = htonl(0x0a320000u + j + 2); /* 10.50.0.0/16 */
			(void)lb_service_add_dest(s, &d);
		}
	}
}

static int bench_round(struct dataplane *dp, struct lb_table *t, const char *what, bool quick)
{
	struct counts c = {.quiet = true};
	char err[ERRLEN];
	double t0 = now_ms();
	int rc = quick ? dataplane_apply_quick(dp, t, print_op, &c, err, sizeof(err))
	               : dataplane_apply(dp, t, print_op, &c, err, sizeof(err));

	printf("%s: %.3f ms, %zu ops, %zu failed%s%s\n", what, now_ms() - t0, c.ops, c.failed,
	       rc < 0 ? ": " : "", rc < 0 ? err : "");
	return rc;
}

static int cmd_bench(struct dataplane *dp, unsigned nsvc, unsigned ndest)
{
	struct lb_table t, empty, obs;
	char err[ERRLEN];
	double t0;
	int rc = 0;

	lb_table_init(&t);
	lb_table_init(&empty);
	lb_table_init(&obs);
	bench_table(&t, nsvc, ndest);
	rc |= bench_round(dp, &t, "apply from empty", false);
	rc |= bench_round(dp, &t, "resync unchanged", false);
	t.svcs[nsvc / 2].dests[0].weight = 5;
	rc |= bench_round(dp, &t, "one weight change", false);
	/* The daemon's path between resyncs: a freshly built table each time. */
	for (int round = 0; round < 3; round++) {
		struct lb_table q;

		lb_table_init(&q);
		bench_table(&q, nsvc, ndest);
		q.svcs[nsvc / 2].dests[0].weight = 5;
		q.svcs[nsvc / 3].dests[1].weight = (uint32_t)(7 + round);
		rc |= bench_round(dp, &q, "one weight change, quick", true);
		lb_table_free(&q);
	}
	t0 = now_ms();
	rc |= dataplane_observe(dp, &obs, err, sizeof(err));
	printf("observe: %.3f ms, %zu services, %zu dests\n", now_ms() - t0, obs.nsvcs,
	       lb_table_dest_count(&obs));
	rc |= bench_round(dp, &empty, "remove all", false);
	lb_table_free(&t);
	lb_table_free(&empty);
	lb_table_free(&obs);
	return rc < 0 ? 1 : 0;
}

static int parse_timeouts(const char *s, struct dataplane_settings *set)
{
	unsigned a, b, c;

	if (sscanf(s, "%u,%u,%u", &a, &b, &c) != 3)
		return -1;
	set->timeout_tcp = a;
	set->timeout_tcpfin = b;
	set->timeout_udp = c;
	return 0;
}

int main(int argc, char **argv)
{
	struct dataplane_settings set = {0};
	struct dataplane *dp;
	char err[ERRLEN];
	int opt, status = 2;
	enum round_kind later = ROUND_FULL;
	bool timed = false, loop = false, coalesce = false, quiet = false;

	while ((opt = getopt(argc, argv, "+qpTLCQi:s:t:")) != -1) {
		if (opt == 'Q')
			quiet = true;
		else if (opt == 'L')
			loop = true;
		else if (opt == 'C')
			coalesce = true;
		else if (opt == 'q')
			later = ROUND_QUICK;
		else if (opt == 'p')
			later = ROUND_PATCH;
		else if (opt == 'T')
			timed = true;
		else if (opt == 'i')
			set.interface = optarg;
		else if (opt == 's')
			set.state_path = optarg;
		else if (opt == 't' && parse_timeouts(optarg, &set) == 0)
			continue;
		else
			return usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return usage();
	if (strcmp(argv[0], "sysctls") == 0) {
		size_t n;
		const struct dataplane_sysctl *s = dataplane_sysctls(&n);

		for (size_t i = 0; i < n; i++)
			printf("%s=%s  # %s\n", s[i].name, s[i].value, s[i].why);
		return 0;
	}
	if (dataplane_open(&dp, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[0], "apply") == 0 && argc >= 2 && loop) {
		status =
		    cmd_loop(dp, argc - 1, argv + 1, later == ROUND_QUICK, coalesce, timed, quiet);
	} else if (strcmp(argv[0], "apply") == 0 && argc >= 2) {
		status = cmd_apply(dp, argc - 1, argv + 1, later, timed);
	} else if (strcmp(argv[0], "observe") == 0) {
		struct lb_table t;

		lb_table_init(&t);
		status = dataplane_observe(dp, &t, err, sizeof(err)) < 0 ? 1 : 0;
		if (status == 0) {
			lb_table_sort(&t);
			print_table(&t);
		} else {
			fprintf(stderr, "%s\n", err);
		}
		lb_table_free(&t);
	} else if (strcmp(argv[0], "owned") == 0) {
		const struct lb_keyset *ks = dataplane_owned(dp);
		char kb[128];

		for (size_t i = 0; i < ks->n; i++)
			printf("%s\n", lb_key_format(&ks->keys[i], kb, sizeof(kb)));
		status = 0;
	} else if (strcmp(argv[0], "bench") == 0 && argc == 3) {
		status = cmd_bench(dp, (unsigned)atoi(argv[1]), (unsigned)atoi(argv[2]));
	} else {
		status = usage();
	}
	dataplane_close(dp);
	return status;
}
