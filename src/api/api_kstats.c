/*
 * The kernel's own IPVS counters for the API: every API_KSTATS_INTERVAL_S a
 * services dump and then each service's destinations dump on the API's own
 * IPVS socket, read one datagram at a time from an ev_io watcher, so the loop
 * never waits for the kernel, then the kernel's connection table
 * (/proc/net/ip_vs_conn) read in bounded chunks from an ev_idle watcher for
 * each destination's SYN_RECV connections (ones that never complete). The
 * last complete read is what /v1/vips and /metrics show; a dump that fails
 * leaves the previous one in place.
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vipd/api.h"
#include "vipd/dataplane.h"
#include "vipd/ipvs.h"
#include "vipd/log.h"
#include "vipd/vec.h"

/* Datagrams read per callback: bounds one iteration's work. */
#define API_KSTATS_STEPS 16
/* The connection table, read API_KSTATS_CONN_CHUNK bytes per loop iteration
 * (some 600 connections): it can be large. */
#define API_KSTATS_CONN_PATH "/proc/net/ip_vs_conn"
#define API_KSTATS_CONN_CHUNK 65536
#define API_KSTATS_LINE_MAX 512

struct api_kstats {
	struct ev_loop *loop;
	struct ipvs_nl *nl;
	ev_timer tick;
	ev_io readable;
	struct ipvs_dump *dump;
	struct ipvs_service *svcs; /* the services dump in flight */
	size_t nsvcs, at;          /* at: the service whose dests are read */
	bool listed;               /* the services dump is complete */
	struct api_kstats_snap next, last;
	bool failed; /* the last dump failed: said once until one succeeds */
	/* The connection table's read, after the dump: SYN_RECV per dest. */
	int conn_fd;
	ev_idle scan;
	size_t nline; /* bytes of an unfinished line kept at the start of buf */
	char buf[API_KSTATS_LINE_MAX + API_KSTATS_CONN_CHUNK + 1];
};

static void snap_free(struct api_kstats_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->svcs[i].dests);
	free(s->svcs);
	memset(s, 0, sizeof(*s));
}

static int svc_cmp(const void *a, const void *b)
{
	return lb_key_cmp(&((const struct api_kstats_svc *)a)->key,
	                  &((const struct api_kstats_svc *)b)->key);
}

static int dest_cmp(const void *a, const void *b)
{
	const struct api_kstats_dest *x = a, *y = b;
	int c = lb_addr_cmp(&x->addr, &y->addr);

	if (c == 0 && x->port != y->port)
		c = x->port < y->port ? -1 : 1;
	return c;
}

const struct api_kstats_svc *api_kstats_service(const struct api_kstats *k,
                                                const struct lb_key *key)
{
	struct api_kstats_svc probe = {.key = *key};

	if (k == NULL)
		return NULL;
	return vec_find(&probe, k->last.svcs, k->last.n, sizeof(probe), svc_cmp);
}

const struct api_kstats_dest *api_kstats_dest(const struct api_kstats_svc *s,
                                              const struct lb_addr *addr, uint16_t port)
{
	struct api_kstats_dest probe = {.addr = *addr, .port = port};

	if (s == NULL)
		return NULL;
	return vec_find(&probe, s->dests, s->ndests, sizeof(probe), dest_cmp);
}

/* Ends the dump in flight; ok: it becomes the one shown. */
static void dump_end(struct api_kstats *k, bool ok, const char *err)
{
	ev_io_stop(k->loop, &k->readable);
	ipvs_dump_free(k->dump);
	k->dump = NULL;
	free(k->svcs);
	k->svcs = NULL;
	k->nsvcs = k->at = 0;
	k->listed = false;
	if (ok) {
		snap_free(&k->last);
		k->last = k->next;
		memset(&k->next, 0, sizeof(k->next));
		k->failed = false;
		return;
	}
	snap_free(&k->next);
	if (!k->failed)
		log_warnx("API: IPVS counters not read: %s (the last ones stay)", err);
	k->failed = true;
}

/* The destinations of svcs[at], read whole: into the snapshot. */
static int take_dests(struct api_kstats *k, const struct ipvs_service *is)
{
	struct api_kstats_svc *s;
	struct ipvs_dest *dests;
	size_t n = 0;
	char sched[LB_SCHED_MAX];
	uint32_t flags;

	if (VEC_RESERVE(k->next.svcs, k->next.cap, k->next.n + 1) < 0)
		return -1;
	s = &k->next.svcs[k->next.n];
	memset(s, 0, sizeof(*s));
	if (dataplane_service_from_ipvs(is, &s->key, sched, &flags) < 0)
		return 0;
	s->stats = is->stats;
	dests = ipvs_dump_take(k->dump, &n);
	s->dests = n ? calloc(n, sizeof(*s->dests)) : NULL;
	if (n && s->dests == NULL) {
		free(dests);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct lb_dest d;

		dataplane_dest_from_ipvs(&dests[i], &d);
		s->dests[i].addr = d.addr;
		s->dests[i].port = d.port;
		s->dests[i].active = dests[i].active_conns;
		s->dests[i].inactive = dests[i].inactive_conns;
		s->dests[i].stats = dests[i].stats;
	}
	s->ndests = n;
	vec_sort(s->dests, n, sizeof(*s->dests), dest_cmp);
	free(dests);
	k->next.n++;
	return 0;
}

/* Begins the dests dump of the next service an lb_table can hold; 1 when
 * none is left. */
static int next_service(struct api_kstats *k, char *err, size_t errlen)
{
	struct lb_key key;
	char sched[LB_SCHED_MAX];
	uint32_t flags;

	for (; k->at < k->nsvcs; k->at++) {
		if (dataplane_service_from_ipvs(&k->svcs[k->at], &key, sched, &flags) < 0)
			continue; /* firewall mark: never a VIP's */
		return ipvs_dests_dump_begin(k->nl, &k->svcs[k->at], &k->dump, err, errlen);
	}
	return 1;
}

/* One datagram of the dump in flight: IPVS_DUMP_MORE, _WAIT, _DONE (the
 * whole table read) or -1. */
static int step(struct api_kstats *k, char *err, size_t errlen)
{
	int rc = ipvs_dump_step(k->dump, err, errlen);

	if (rc == IPVS_DUMP_MORE || rc == IPVS_DUMP_WAIT)
		return rc;
	if (!k->listed) {
		if (rc < 0)
			return -1;
		k->svcs = ipvs_dump_take(k->dump, &k->nsvcs);
		k->listed = true;
		k->at = 0;
	} else {
		/* ESRCH: a service removed since the services dump is simply gone. */
		if (rc < 0 && ipvs_last_errno(k->nl) != ESRCH)
			return -1;
		if (rc == IPVS_DUMP_DONE && take_dests(k, &k->svcs[k->at]) < 0) {
			errbuf_set(err, errlen, "out of memory");
			return -1;
		}
		k->at++;
	}
	ipvs_dump_free(k->dump);
	k->dump = NULL;
	rc = next_service(k, err, errlen);
	return rc < 0 ? -1 : rc == 1 ? IPVS_DUMP_DONE : IPVS_DUMP_MORE;
}

/* A SYN_RECV connection of the table: its destination's count. */
static void count_line(struct api_kstats *k, const char *line)
{
	struct api_ipvsconn c;
	struct api_kstats_svc probe, *s;
	struct api_kstats_dest *d;

	if (!strstr(line, " SYN_RECV ") || api_ipvsconn_parse(line, &c) < 0 ||
	    strcmp(c.state, "SYN_RECV") != 0)
		return;
	probe.key = c.svc;
	s = vec_find(&probe, k->next.svcs, k->next.n, sizeof(probe), svc_cmp);
	d = s ? (struct api_kstats_dest *)api_kstats_dest(s, &c.dest, c.dport) : NULL;
	if (d)
		d->syn_recv++;
}

/* Counts the complete lines of buf[0..n); keeps an unfinished one. */
static void count_lines(struct api_kstats *k, size_t n)
{
	char *line = k->buf, *nl;

	k->buf[n] = '\0';
	while ((nl = memchr(line, '\n', n - (size_t)(line - k->buf))) != NULL) {
		*nl = '\0';
		count_line(k, line);
		line = nl + 1;
	}
	k->nline = n - (size_t)(line - k->buf);
	if (k->nline > API_KSTATS_LINE_MAX)
		k->nline = 0; /* no line of the table is that long: drop it */
	memmove(k->buf, line, k->nline);
}

static void scan_end(struct api_kstats *k, bool read_whole)
{
	ev_idle_stop(k->loop, &k->scan);
	if (k->conn_fd >= 0)
		close(k->conn_fd);
	k->conn_fd = -1;
	k->nline = 0;
	for (size_t i = 0; i < k->next.n; i++)
		k->next.svcs[i].syn_known = read_whole;
	dump_end(k, true, "");
}

static void on_scan(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct api_kstats *k = w->data;
	ssize_t got;

	(void)loop;
	(void)revents;
	got = read(k->conn_fd, k->buf + k->nline, API_KSTATS_CONN_CHUNK);
	if (got < 0 && errno == EINTR)
		return;
	if (got <= 0) {
		if (got < 0)
			log_warn("API: %s", API_KSTATS_CONN_PATH);
		scan_end(k, got == 0);
		return;
	}
	count_lines(k, k->nline + (size_t)got);
}

/* The dump is whole: its services sorted for lookups, then the connection
 * table read from the loop's idle time (absent: no SYN_RECV counts). */
static void scan_start(struct api_kstats *k)
{
	ev_io_stop(k->loop, &k->readable);
	vec_sort(k->next.svcs, k->next.n, sizeof(*k->next.svcs), svc_cmp);
	k->conn_fd = open(API_KSTATS_CONN_PATH, O_RDONLY | O_CLOEXEC);
	if (k->conn_fd < 0) {
		scan_end(k, false);
		return;
	}
	k->nline = 0;
	ev_idle_start(k->loop, &k->scan);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct api_kstats *k = w->data;
	char err[256] = "";

	(void)loop;
	(void)revents;
	for (int i = 0; i < API_KSTATS_STEPS; i++) {
		int rc = step(k, err, sizeof(err));

		if (rc == IPVS_DUMP_WAIT)
			return;
		if (rc == IPVS_DUMP_DONE) {
			scan_start(k);
			return;
		}
		if (rc != IPVS_DUMP_MORE) {
			dump_end(k, false, err);
			return;
		}
	}
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct api_kstats *k = w->data;
	char err[256];

	(void)revents;
	if (k->dump != NULL || k->listed || k->conn_fd >= 0)
		return; /* the last one is still being read */
	if (ipvs_services_dump_begin(k->nl, &k->dump, err, sizeof(err)) < 0) {
		dump_end(k, false, err);
		return;
	}
	ev_io_start(loop, &k->readable);
}

struct api_kstats *api_kstats_open(struct ev_loop *loop, double interval_s, char *err,
                                   size_t errlen)
{
	struct api_kstats *k = calloc(1, sizeof(*k));

	if (k == NULL) {
		errbuf_set(err, errlen, "API: out of memory");
		return NULL;
	}
	if (ipvs_open(&k->nl, err, errlen) < 0) {
		free(k);
		return NULL;
	}
	k->loop = loop;
	k->conn_fd = -1;
	ev_idle_init(&k->scan, on_scan);
	k->scan.data = k;
	ev_io_init(&k->readable, on_readable, ipvs_fd(k->nl), EV_READ);
	k->readable.data = k;
	ev_timer_init(&k->tick, on_tick, 0.0, interval_s);
	k->tick.data = k;
	ev_timer_start(loop, &k->tick);
	return k;
}

void api_kstats_close(struct api_kstats *k)
{
	if (k == NULL)
		return;
	ev_timer_stop(k->loop, &k->tick);
	ev_io_stop(k->loop, &k->readable);
	ev_idle_stop(k->loop, &k->scan);
	if (k->conn_fd >= 0)
		close(k->conn_fd);
	ipvs_dump_free(k->dump);
	free(k->svcs);
	snap_free(&k->next);
	snap_free(&k->last);
	ipvs_close(k->nl);
	free(k);
}
