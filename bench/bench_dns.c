/*
 * bench_dns: what a DNS query costs vipd's loop with many named VIPs. The
 * record set is what dns_records_from_vips makes for N named VIPs with a
 * named port (A, AAAA and one SRV per name in each of DC/OS's four zones).
 *
 *   bench_dns answer [--vips N] [--queries Q]
 *       dns_answer alone, timed per call, for known names, unknown names
 *       (NXDOMAIN), names without the type asked (NODATA), the empty
 *       non-terminal marathon.<zone> and SRV.
 *   bench_dns flood [--vips N] [--rate R] [--seconds S] [--port P]
 *       the real responder (dns_server on 127.0.0.1:P) under R unknown-name
 *       queries per second over UDP from a child process, with a 10 ms probe
 *       timer on the same loop: answered/s, the loop's CPU per query, and how
 *       late the loop serves a timer (what the checks would see).
 * One JSON line per measurement on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "vipd/dns.h"
#include "vipd/fqdn.h"

struct opts {
	size_t vips, queries;
	double rate, seconds;
	unsigned port;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_self_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank on a sorted array. */
static double rank(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n);

	return n == 0 ? 0.0 : v[i < n ? i : n - 1];
}

static void build_records(struct dns_records *r, size_t vips)
{
	size_t nz;
	const char *const *zones = fqdn_default_zones(&nz);
	char name[FQDN_NAME_MAX + 1], srv[FQDN_NAME_MAX + 32];

	dns_records_init(r, DNS_TTL_DEFAULT);
	for (size_t z = 0; z < nz; z++)
		if (dns_records_add_zone(r, zones[z]) < 0)
			abort();
	for (size_t i = 0; i < vips; i++) {
		struct lb_addr a4 = {.af = AF_INET}, a6 = {.af = AF_INET6};

		a4.u.v4.s_addr = htonl(0x0b000000u + (uint32_t)i + 1);
		a6.u.v6.s6_addr[0] = 0xfd;
		a6.u.v6.s6_addr[1] = 0x01;
		a6.u.v6.s6_addr[3] = 0x0c;
		a6.u.v6.s6_addr[14] = (uint8_t)(i >> 8);
		a6.u.v6.s6_addr[15] = (uint8_t)i;
		for (size_t z = 0; z < nz; z++) {
			snprintf(name, sizeof(name), "app-%05zu.marathon.%s", i, zones[z]);
			snprintf(srv, sizeof(srv), "_http._tcp.%s", name);
			if (dns_records_add_addr(r, name, &a4) < 0 ||
			    dns_records_add_addr(r, name, &a6) < 0 ||
			    dns_records_add_srv(r, srv, name, 80) < 0)
				abort();
		}
	}
	if (dns_records_finish(r) < 0)
		abort();
}

/* A query as dig +noedns sends it. */
static size_t encode_query(uint8_t *p, uint16_t id, const char *name, uint16_t type)
{
	size_t o = 12;

	memset(p, 0, 12);
	p[0] = (uint8_t)(id >> 8);
	p[1] = (uint8_t)id;
	p[2] = 0x01; /* RD */
	p[5] = 1;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		p[o++] = (uint8_t)l;
		memcpy(p + o, name, l);
		o += l;
		name += l + (dot != NULL);
	}
	p[o++] = 0;
	p[o++] = (uint8_t)(type >> 8);
	p[o++] = (uint8_t)type;
	p[o++] = 0;
	p[o++] = 1;
	return o;
}

enum kind { KNOWN_A, UNKNOWN, NODATA, NON_TERMINAL, SRV, NKINDS };

static const char *const kind_names[NKINDS] = {"known_a", "nxdomain", "nodata",
                                               "empty_non_terminal", "srv"};
static const int kind_rcode[NKINDS] = {0, 3, 0, 0, 0};

static size_t kind_query(enum kind k, size_t i, size_t vips, uint8_t *p)
{
	char name[FQDN_NAME_MAX + 32];
	size_t nz;
	const char *const *zones = fqdn_default_zones(&nz);
	const char *zone = zones[i % nz];
	size_t v = (i * 7919) % vips;

	switch (k) {
	case KNOWN_A:
		snprintf(name, sizeof(name), "app-%05zu.marathon.%s", v, zone);
		return encode_query(p, (uint16_t)i, name, DNS_TYPE_A);
	case UNKNOWN:
		snprintf(name, sizeof(name), "nope-%07zu.marathon.%s", i, zone);
		return encode_query(p, (uint16_t)i, name, DNS_TYPE_A);
	case NODATA:
		snprintf(name, sizeof(name), "app-%05zu.marathon.%s", v, zone);
		return encode_query(p, (uint16_t)i, name, 16 /* TXT */);
	case NON_TERMINAL:
		snprintf(name, sizeof(name), "marathon.%s", zone);
		return encode_query(p, (uint16_t)i, name, DNS_TYPE_A);
	default:
		snprintf(name, sizeof(name), "_http._tcp.app-%05zu.marathon.%s", v, zone);
		return encode_query(p, (uint16_t)i, name, DNS_TYPE_SRV);
	}
}

static int run_answer(const struct opts *o)
{
	static uint8_t q[512], out[DNS_MSG_MAX];
	struct dns_records r;
	double *us = calloc(o->queries, sizeof(*us));
	double t0 = mono_now();

	if (us == NULL)
		return 1;
	build_records(&r, o->vips);
	fprintf(stderr, "bench_dns: %zu hosts, %zu SRV records built in %.0f ms\n", r.nhosts,
	        r.nsrvs, (mono_now() - t0) * 1e3);
	for (int k = 0; k < NKINDS; k++) {
		double sum = 0;

		for (size_t i = 0; i < o->queries; i++) {
			size_t ql = kind_query((enum kind)k, i, o->vips, q);
			double a = mono_now();
			size_t rl = dns_answer(&r, q, ql, false, out);

			us[i] = (mono_now() - a) * 1e6;
			sum += us[i];
			if (rl < 12 || (out[3] & 0xf) != kind_rcode[k]) {
				fprintf(stderr, "bench_dns: %s query %zu: rcode %d\n",
				        kind_names[k], i, rl < 12 ? -1 : out[3] & 0xf);
				return 1;
			}
		}
		qsort(us, o->queries, sizeof(*us), dbl_cmp);
		printf("{\"bench\":\"dns_answer\",\"vips\":%zu,\"kind\":\"%s\",\"queries\":%zu,"
		       "\"us_median\":%.2f,\"us_p99\":%.2f,\"us_mean\":%.2f}\n",
		       o->vips, kind_names[k], o->queries, rank(us, o->queries, 0.5),
		       rank(us, o->queries, 0.99), sum / (double)o->queries);
	}
	fflush(stdout);
	dns_records_free(&r);
	free(us);
	return 0;
}

/* ---- flood ---- */

/* The child: R unknown-name queries per second for S seconds, replies
 * read and dropped. */
static void flood_send(const struct opts *o)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
	uint8_t q[512], sink[DNS_MSG_MAX];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	double start = mono_now();
	size_t sent = 0;

	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (fd < 0)
		_exit(1);
	for (;;) {
		double el = mono_now() - start;
		struct timespec nap = {0, 200000};

		if (el >= o->seconds)
			break;
		while ((double)sent < el * o->rate) {
			size_t ql = kind_query(UNKNOWN, sent, o->vips, q);

			sendto(fd, q, ql, 0, (struct sockaddr *)&to, sizeof(to));
			sent++;
		}
		while (recv(fd, sink, sizeof(sink), 0) > 0)
			;
		nanosleep(&nap, NULL);
	}
	_exit(0);
}

struct probe {
	ev_timer t;
	double due;
	double *late_ms;
	size_t n, cap;
};

/* ev_timer callback: how late the loop serves a 10 ms timer */
static void on_probe(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = w->data;
	double now = mono_now();

	(void)loop;
	(void)revents;
	if (p->n < p->cap)
		p->late_ms[p->n++] = (now - p->due) * 1e3;
	p->due = now + 0.010;
}

/* ev_timer callback */
static void on_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static int run_flood(const struct opts *o)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct dns_server_stats st;
	struct dns_records r;
	struct dns_server *s;
	struct probe p = {.cap = (size_t)(o->seconds * 200) + 16};
	ev_timer end;
	char where[32], err[256];
	double cpu0, wall0, cpu, wall;
	pid_t pid;

	snprintf(where, sizeof(where), "127.0.0.1:%u", o->port);
	s = dns_server_open(loop, where, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "bench_dns: %s\n", err);
		return 1;
	}
	build_records(&r, o->vips);
	dns_server_set_records(s, &r);
	p.late_ms = calloc(p.cap, sizeof(*p.late_ms));
	if (p.late_ms == NULL)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		flood_send(o);
	ev_timer_init(&p.t, on_probe, 0.010, 0.010);
	p.t.data = &p;
	ev_timer_init(&end, on_end, o->seconds, 0);
	cpu0 = cpu_self_s();
	wall0 = mono_now();
	p.due = wall0 + 0.010;
	ev_timer_start(loop, &p.t);
	ev_timer_start(loop, &end);
	ev_run(loop, 0);
	cpu = cpu_self_s() - cpu0;
	wall = mono_now() - wall0;
	waitpid(pid, NULL, 0);
	dns_server_stats(s, &st);
	qsort(p.late_ms, p.n, sizeof(*p.late_ms), dbl_cmp);
	printf(
	    "{\"bench\":\"dns_flood\",\"vips\":%zu,\"kind\":\"nxdomain\",\"offered_per_s\":%.0f,"
	    "\"seconds\":%.1f,\"answered_per_s\":%.0f,\"loop_cpu\":%.3f,\"cpu_us_per_query\":%.1f,"
	    "\"timer_late_ms_p50\":%.2f,\"timer_late_ms_p99\":%.2f,\"timer_late_ms_max\":%.2f}\n",
	    o->vips, o->rate, wall, (double)st.udp_queries / wall, cpu / wall,
	    st.udp_queries ? cpu / (double)st.udp_queries * 1e6 : 0.0, rank(p.late_ms, p.n, 0.5),
	    rank(p.late_ms, p.n, 0.99), p.n ? p.late_ms[p.n - 1] : 0.0);
	fflush(stdout);
	dns_server_close(s);
	free(p.late_ms);
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
	    {"vips", required_argument, NULL, 'v'}, {"queries", required_argument, NULL, 'q'},
	    {"rate", required_argument, NULL, 'r'}, {"seconds", required_argument, NULL, 's'},
	    {"port", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'v':
			o->vips = strtoul(optarg, NULL, 10);
			break;
		case 'q':
			o->queries = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o->rate = atof(optarg);
			break;
		case 's':
			o->seconds = atof(optarg);
			break;
		case 'p':
			o->port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return -1;
		}
	}
	return o->vips > 0 && o->queries > 0 && o->rate > 0 && o->seconds > 0 && o->port > 0 &&
	               o->port < 65536
	           ? 0
	           : -1;
}

int main(int argc, char **argv)
{
	struct opts o = {.vips = 3000, .queries = 20000, .rate = 2000, .seconds = 5, .port = 18053};
	const char *mode = argc > 1 ? argv[1] : "";

	if (parse(argc - 1, argv + 1, &o) < 0 ||
	    (strcmp(mode, "answer") != 0 && strcmp(mode, "flood") != 0)) {
		fprintf(stderr,
		        "usage: bench_dns answer [--vips N] [--queries Q]\n"
		        "       bench_dns flood [--vips N] [--rate R] [--seconds S] [--port P]\n");
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	return strcmp(mode, "answer") == 0 ? run_answer(&o) : run_flood(&o);
}
