/*
 * ipvs_tool: drives the IPVS netlink layer (include/vipd/ipvs.h) from the
 * VM tests, which check what it did with ipvsadm as an independent witness.
 *
 *   ipvs_tool info
 *   ipvs_tool service add|edit|del SVC [-s SCHED] [-p TIMEOUT] [-M NETMASK]
 *   ipvs_tool dest add|edit|del SVC DEST [-w WEIGHT] [-f masq|tunnel|droute] [-x U] [-y L]
 *   ipvs_tool dests SVC        destinations of one service
 *   ipvs_tool dump             every service and destination, one line each
 *   ipvs_tool timeouts get | timeouts set TCP TCPFIN UDP
 *   ipvs_tool batch add|del NSVC NDEST [--bad]
 *   ipvs_tool status-table     the reconciler's verdict for each operation and errno (no kernel)
 *
 * SVC is tcp:ADDR:PORT, udp:ADDR:PORT or fwm:MARK (fwm6:MARK for IPv6);
 * ADDR:PORT is 10.0.0.1:80 or [fd00::1]:80. Single operations print "ok",
 * "exists" or "absent" and exit 0, or print the error and exit 1: "exists"
 * and "absent" are the refusals the reconciler (reconcile_apply_result)
 * counts as done, the netlink layer itself only returns the errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/ip_vs.h>

#include "vipd/ipvs.h"
#include "vipd/reconcile.h"

#define ERRLEN 512

static int usage(void)
{
	fprintf(stderr, "usage: ipvs_tool info | service add|edit|del SVC [opts] | dest "
	                "add|edit|del SVC DEST [opts] | dests SVC | dump | timeouts get|set | "
	                "batch add|del NSVC NDEST [--bad]\n");
	return 2;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "10.0.0.1:80" or "[fd00::1]:80" */
static int parse_addr_port(const char *s, int *af, union ipvs_addr *addr, uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint32_t p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		colon = close + 1;
		*af = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		*af = AF_INET;
	}
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(*af, host, addr) != 1 || parse_u32(colon + 1, &p) < 0 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static int parse_service(const char *s, struct ipvs_service *out)
{
	memset(out, 0, sizeof(*out));
	if (strncasecmp(s, "fwm:", 4) == 0 || strncasecmp(s, "fwm6:", 5) == 0) {
		out->af = s[3] == '6' ? AF_INET6 : AF_INET;
		return parse_u32(strchr(s, ':') + 1, &out->fwmark) < 0 || out->fwmark == 0 ? -1 : 0;
	}
	if (strncasecmp(s, "tcp:", 4) == 0)
		out->protocol = IPPROTO_TCP;
	else if (strncasecmp(s, "udp:", 4) == 0)
		out->protocol = IPPROTO_UDP;
	else
		return -1;
	return parse_addr_port(s + 4, &out->af, &out->addr, &out->port);
}

static int parse_fwd(const char *s, enum ipvs_fwd *out)
{
	if (strcmp(s, "masq") == 0)
		*out = IPVS_FWD_MASQ;
	else if (strcmp(s, "tunnel") == 0)
		*out = IPVS_FWD_TUNNEL;
	else if (strcmp(s, "droute") == 0)
		*out = IPVS_FWD_DROUTE;
	else
		return -1;
	return 0;
}

static enum rc_op_kind rc_kind(enum ipvs_op op)
{
	switch (op) {
	case IPVS_OP_ADD_SERVICE:
		return RC_ADD_SERVICE;
	case IPVS_OP_EDIT_SERVICE:
		return RC_EDIT_SERVICE;
	case IPVS_OP_DEL_SERVICE:
		return RC_DEL_SERVICE;
	case IPVS_OP_ADD_DEST:
		return RC_ADD_DEST;
	case IPVS_OP_EDIT_DEST:
		return RC_EDIT_DEST;
	case IPVS_OP_DEL_DEST:
		return RC_DEL_DEST;
	}
	return RC_ADD_SERVICE;
}

/* "ok", "exists", "absent", "add" (an edit to retry as an add) or "failed". */
static const char *verdict(enum ipvs_op op, int error)
{
	struct rc_op rop = {.kind = rc_kind(op)};

	if (error == 0)
		return "ok";
	switch (reconcile_apply_result(&rop, error)) {
	case RC_RESULT_DONE:
		return rop.kind == RC_ADD_SERVICE || rop.kind == RC_ADD_DEST ? "exists" : "absent";
	case RC_RESULT_RETRY_AS_ADD:
		return "add";
	case RC_RESULT_REPLAN:
		break;
	}
	return "failed";
}

/* Runs one operation and prints the reconciler's verdict on its result. */
static int run_op(struct ipvs_nl *nl, enum ipvs_op op, const struct ipvs_service *s,
                  const struct ipvs_dest *d)
{
	char err[ERRLEN] = "";
	int rc = ipvs_op_run(nl, op, s, d, err, sizeof(err));
	const char *v = verdict(op, rc == 0 ? 0 : ipvs_last_errno(nl));

	if (strcmp(v, "ok") == 0 || strcmp(v, "exists") == 0 || strcmp(v, "absent") == 0) {
		printf("%s\n", v);
		if (rc != 0)
			fprintf(stderr, "%s\n", err);
		return 0;
	}
	fprintf(stderr, "%s\n", err);
	return 1;
}

static int cmd_info(struct ipvs_nl *nl)
{
	struct ipvs_info info;
	char err[ERRLEN];

	if (ipvs_info_get(nl, &info, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("version %u.%u.%u conn_tab_size %u\n", (info.version >> 16) & 0xff,
	       (info.version >> 8) & 0xff, info.version & 0xff, info.conn_tab_size);
	return 0;
}

static int cmd_service(struct ipvs_nl *nl, int argc, char **argv)
{
	struct ipvs_service s;
	int opt;

	if (argc < 3 || parse_service(argv[2], &s) < 0)
		return usage();
	optind = 3;
	while ((opt = getopt(argc, argv, "s:p:M:")) != -1) {
		if (opt == 's')
			snprintf(s.sched, sizeof(s.sched), "%s", optarg);
		else if (opt == 'p' && parse_u32(optarg, &s.timeout) == 0)
			s.flags |= IP_VS_SVC_F_PERSISTENT;
		else if (opt != 'M' || parse_u32(optarg, &s.netmask) < 0)
			return usage();
	}
	if (strcmp(argv[1], "add") == 0)
		return run_op(nl, IPVS_OP_ADD_SERVICE, &s, NULL);
	if (strcmp(argv[1], "edit") == 0)
		return run_op(nl, IPVS_OP_EDIT_SERVICE, &s, NULL);
	if (strcmp(argv[1], "del") == 0)
		return run_op(nl, IPVS_OP_DEL_SERVICE, &s, NULL);
	return usage();
}

static int cmd_dest(struct ipvs_nl *nl, int argc, char **argv)
{
	struct ipvs_service s;
	struct ipvs_dest d;
	int opt;

	memset(&d, 0, sizeof(d));
	d.weight = 1;
	if (argc < 4 || parse_service(argv[2], &s) < 0 ||
	    parse_addr_port(argv[3], &d.af, &d.addr, &d.port) < 0)
		return usage();
	optind = 4;
	while ((opt = getopt(argc, argv, "w:f:x:y:")) != -1) {
		int bad = 0;

		if (opt == 'w')
			bad = parse_u32(optarg, &d.weight);
		else if (opt == 'f')
			bad = parse_fwd(optarg, &d.fwd);
		else if (opt == 'x')
			bad = parse_u32(optarg, &d.u_threshold);
		else if (opt == 'y')
			bad = parse_u32(optarg, &d.l_threshold);
		else
			bad = -1;
		if (bad < 0)
			return usage();
	}
	if (strcmp(argv[1], "add") == 0)
		return run_op(nl, IPVS_OP_ADD_DEST, &s, &d);
	if (strcmp(argv[1], "edit") == 0)
		return run_op(nl, IPVS_OP_EDIT_DEST, &s, &d);
	if (strcmp(argv[1], "del") == 0)
		return run_op(nl, IPVS_OP_DEL_DEST, &s, &d);
	return usage();
}

/* ipvsadm -Ln's words, so that the tests compare the two listings line by line. */
static const char *fwd_word(enum ipvs_fwd f)
{
	switch (f) {
	case IPVS_FWD_MASQ:
		return "Masq";
	case IPVS_FWD_TUNNEL:
		return "Tunnel";
	case IPVS_FWD_DROUTE:
		return "Route";
	}
	return "?";
}

static void print_service(const struct ipvs_service *s, char *buf, size_t len)
{
	ipvs_service_format(s, buf, len);
	if (s->flags & IP_VS_SVC_F_PERSISTENT) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, " %s persistent %u", s->sched, s->timeout);
	} else {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, " %s", s->sched);
	}
}

static int print_dests(struct ipvs_nl *nl, const struct ipvs_service *s, const char *prefix)
{
	struct ipvs_dest *dests;
	size_t n;
	char err[ERRLEN], where[64];

	if (ipvs_dests_dump(nl, s, &dests, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s-> %s %s %u %u %u active %u inactive %u\n", prefix,
		       ipvs_dest_format(&dests[i], where, sizeof(where)), fwd_word(dests[i].fwd),
		       dests[i].weight, dests[i].u_threshold, dests[i].l_threshold,
		       dests[i].active_conns, dests[i].inactive_conns);
	free(dests);
	return 0;
}

static int cmd_dests(struct ipvs_nl *nl, int argc, char **argv)
{
	struct ipvs_service s;

	if (argc < 2 || parse_service(argv[1], &s) < 0)
		return usage();
	return print_dests(nl, &s, "");
}

static int cmd_dump(struct ipvs_nl *nl)
{
	struct ipvs_service *svcs;
	size_t n;
	char err[ERRLEN], line[160], prefix[sizeof(line) + 1];
	int rc = 0;

	if (ipvs_services_dump(nl, &svcs, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		print_service(&svcs[i], line, sizeof(line));
		printf("%s\n", line);
		(void)snprintf(prefix, sizeof(prefix), "%s ", line);
		rc = print_dests(nl, &svcs[i], prefix);
	}
	free(svcs);
	return rc;
}

static int cmd_timeouts(struct ipvs_nl *nl, int argc, char **argv)
{
	struct ipvs_timeouts t;
	char err[ERRLEN];

	if (argc >= 2 && strcmp(argv[1], "get") == 0) {
		if (ipvs_timeouts_get(nl, &t, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%u %u %u\n", t.tcp, t.tcp_fin, t.udp);
		return 0;
	}
	if (argc < 5 || strcmp(argv[1], "set") != 0 || parse_u32(argv[2], &t.tcp) < 0 ||
	    parse_u32(argv[3], &t.tcp_fin) < 0 || parse_u32(argv[4], &t.udp) < 0)
		return usage();
	if (ipvs_timeouts_set(nl, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("ok\n");
	return 0;
}

struct batch_tally {
	size_t ok, exists, absent, failed;
};

static void batch_result(void *arg, const struct ipvs_batch_result *r)
{
	struct batch_tally *t = arg;

	const char *v = verdict(r->op, r->error);

	if (strcmp(v, "ok") == 0)
		t->ok++;
	else if (strcmp(v, "exists") == 0)
		t->exists++;
	else if (strcmp(v, "absent") == 0)
		t->absent++;
	else
		t->failed++;
	if (strcmp(v, "failed") == 0 || strcmp(v, "add") == 0)
		printf("failed #%zu: %s\n", r->index, r->msg);
}

/* Service i is TCP (10.100.0.0 + i + 1):80; its destination j is
 * 10.50.x.y:8080 with x.y = i * ndest + j + 2, inside the 10.50.0.0/16 that
 * the test routes to a dummy interface. */
static void batch_service(size_t i, struct ipvs_service *s)
{
	memset(s, 0, sizeof(*s));
	s->af = AF_INET;
	s->protocol = IPPROTO_TCP;
	s->addr.v4.s_addr = htonl(0x0a640000u | (uint32_t)(i + 1));
	s->port = 80;
	snprintf(s->sched, sizeof(s->sched), "rr");
}

static void batch_dest(size_t n, struct ipvs_dest *d)
{
	memset(d, 0, sizeof(*d));
	d->af = AF_INET;
	d->addr.v4.s_addr = htonl(0x0a320000u | (uint32_t)(n + 2));
	d->port = 8080;
	d->weight = 1;
}

static int queue_batch(struct ipvs_batch *b, int add, size_t nsvc, size_t ndest, int bad)
{
	struct ipvs_service s;
	struct ipvs_dest d;
	char err[ERRLEN];

	for (size_t i = 0; i < nsvc; i++) {
		batch_service(i, &s);
		if (add && ipvs_batch_queue(b, IPVS_OP_ADD_SERVICE, &s, NULL, err, sizeof(err)) < 0)
			goto fail;
		for (size_t j = 0; add && j < ndest; j++) {
			batch_dest(i * ndest + j, &d);
			if (ipvs_batch_queue(b, IPVS_OP_ADD_DEST, &s, &d, err, sizeof(err)) < 0)
				goto fail;
		}
		if (!add &&
		    ipvs_batch_queue(b, IPVS_OP_DEL_SERVICE, &s, NULL, err, sizeof(err)) < 0)
			goto fail;
	}
	if (bad) {
		/* A destination for a service nobody made: fails alone. */
		batch_service(nsvc + 1000000, &s);
		batch_dest(0, &d);
		if (ipvs_batch_queue(b, IPVS_OP_ADD_DEST, &s, &d, err, sizeof(err)) < 0)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "%s\n", err);
	return -1;
}

static int cmd_batch(struct ipvs_nl *nl, int argc, char **argv)
{
	struct ipvs_batch *b;
	struct batch_tally t = {0};
	char err[ERRLEN];
	uint32_t nsvc, ndest;
	int add, bad, rc;

	if (argc < 4 || parse_u32(argv[2], &nsvc) < 0 || parse_u32(argv[3], &ndest) < 0)
		return usage();
	add = strcmp(argv[1], "add") == 0;
	bad = argc > 4 && strcmp(argv[4], "--bad") == 0;
	if (ipvs_batch_begin(nl, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (queue_batch(b, add, nsvc, ndest, bad) < 0) {
		ipvs_batch_free(b);
		return 1;
	}
	printf("queued %zu\n", ipvs_batch_len(b));
	rc = ipvs_batch_commit(b, batch_result, &t, err, sizeof(err));
	ipvs_batch_free(b);
	printf("ok %zu exists %zu absent %zu failed %zu\n", t.ok, t.exists, t.absent, t.failed);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* rc counts every refusal, the ones the reconciler calls done too. */
	return t.failed == 0 ? 0 : 3;
}

/* Needs no kernel: the tests check the idempotency rules on any host. */
static int cmd_status_table(void)
{
	static const struct {
		int value;
		const char *name;
	} errnos[] = {{0, "0"},         {EEXIST, "EEXIST"}, {ENOENT, "ENOENT"},
	              {ESRCH, "ESRCH"}, {EINVAL, "EINVAL"}, {-EEXIST, "-EEXIST"}};
	for (int op = IPVS_OP_ADD_SERVICE; op <= IPVS_OP_DEL_DEST; op++) {
		printf("%s:", ipvs_op_name((enum ipvs_op)op));
		for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
			printf(" %s=%s", errnos[i].name,
			       verdict((enum ipvs_op)op, errnos[i].value));
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ipvs_nl *nl;
	char err[ERRLEN];
	int rc;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "status-table") == 0)
		return cmd_status_table();
	if (ipvs_open(&nl, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[1], "info") == 0)
		rc = cmd_info(nl);
	else if (strcmp(argv[1], "service") == 0)
		rc = cmd_service(nl, argc - 1, argv + 1);
	else if (strcmp(argv[1], "dest") == 0)
		rc = cmd_dest(nl, argc - 1, argv + 1);
	else if (strcmp(argv[1], "dests") == 0)
		rc = cmd_dests(nl, argc - 1, argv + 1);
	else if (strcmp(argv[1], "dump") == 0)
		rc = cmd_dump(nl);
	else if (strcmp(argv[1], "timeouts") == 0)
		rc = cmd_timeouts(nl, argc - 1, argv + 1);
	else if (strcmp(argv[1], "batch") == 0)
		rc = cmd_batch(nl, argc - 1, argv + 1);
	else
		rc = usage();
	ipvs_close(nl);
	return rc;
}
