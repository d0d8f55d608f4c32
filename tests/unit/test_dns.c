/* The DNS responder's packet layer and record set, with real packets: two
 * queries as dig 9.18 sent them, others encoded here, and every response
 * walked record by record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "vipd/dns.h"
#include "vipd/fqdn.h"
#include "vipd/vip.h"

/* dig @127.0.0.1 web.marathon.l4lb.thisdcos.directory A (EDNS, cookie) */
static const uint8_t dig_a[] = {
    0x0b, 0x81, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x77, 0x65, 0x62,
    0x08, 0x6d, 0x61, 0x72, 0x61, 0x74, 0x68, 0x6f, 0x6e, 0x04, 0x6c, 0x34, 0x6c, 0x62, 0x08, 0x74,
    0x68, 0x69, 0x73, 0x64, 0x63, 0x6f, 0x73, 0x09, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74, 0x6f, 0x72,
    0x79, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0c, 0x00, 0x0a, 0x00, 0x08, 0x88, 0xe8, 0xb4, 0xe6, 0xec, 0xb2, 0x0b, 0xf4};

/* dig +noedns _http._tcp.web.marathon.l4lb.thisdcos.directory SRV */
static const uint8_t dig_srv[] = {0x48, 0xbe, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x05, 0x5f, 0x68, 0x74, 0x74, 0x70, 0x04, 0x5f, 0x74, 0x63,
                                  0x70, 0x03, 0x77, 0x65, 0x62, 0x08, 0x6d, 0x61, 0x72, 0x61, 0x74,
                                  0x68, 0x6f, 0x6e, 0x04, 0x6c, 0x34, 0x6c, 0x62, 0x08, 0x74, 0x68,
                                  0x69, 0x73, 0x64, 0x63, 0x6f, 0x73, 0x09, 0x64, 0x69, 0x72, 0x65,
                                  0x63, 0x74, 0x6f, 0x72, 0x79, 0x00, 0x00, 0x21, 0x00, 0x01};

#define ZONE "l4lb.thisdcos.directory"
#define WEB "web.marathon." ZONE

static uint8_t out[DNS_MSG_MAX];

static struct lb_addr addr(const char *s)
{
	struct lb_addr a;

	assert_int_equal(lb_addr_parse(s, &a), 0);
	return a;
}

static void records(struct dns_records *r)
{
	struct lb_addr a4 = addr("11.1.2.3"), a6 = addr("fd01:c::1234");

	dns_records_init(r, DNS_TTL_DEFAULT);
	assert_int_equal(dns_records_add_zone(r, ZONE), 0);
	assert_int_equal(dns_records_add_zone(r, "dclb.thisdcos.directory"), 0);
	assert_int_equal(dns_records_add_addr(r, WEB, &a4), 0);
	assert_int_equal(dns_records_add_addr(r, "DB.marathon." ZONE, &a4), 0);
	assert_int_equal(dns_records_add_addr(r, "db.marathon." ZONE, &a6), 0);
	assert_int_equal(dns_records_add_addr(r, WEB, &a4), 0); /* duplicate merges */
	assert_int_equal(dns_records_add_srv(r, "_http._tcp." WEB, WEB, 80), 0);
	for (int i = 0; i < 100; i++) {
		char s[32];
		struct lb_addr a;

		snprintf(s, sizeof(s), "11.9.0.%d", i);
		a = addr(s);
		assert_int_equal(dns_records_add_addr(r, "big.marathon." ZONE, &a), 0);
	}
	assert_int_equal(dns_records_finish(r), 0);
}

/* ---- encoding a query, walking a response ---- */

static size_t query(uint8_t *buf, uint16_t id, const char *name, uint16_t type, bool edns)
{
	size_t n = 12;

	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;
	buf[11] = edns;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		buf[n++] = (uint8_t)l;
		memcpy(buf + n, name, l);
		n += l;
		name += l + (dot != NULL);
	}
	buf[n++] = 0;
	buf[n++] = (uint8_t)(type >> 8);
	buf[n++] = (uint8_t)type;
	buf[n++] = 0;
	buf[n++] = 1;
	if (edns) {
		static const uint8_t opt[] = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};

		memcpy(buf + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

struct rr {
	uint16_t type, rdlen;
	uint32_t ttl;
	const uint8_t *rdata;
	int section; /* 0 answer, 1 authority, 2 additional */
};

struct parsed {
	uint16_t id, flags, counts[4];
	struct rr rrs[128];
	size_t nrrs;
};

static size_t skip_rr_name(const uint8_t *p, size_t len, size_t o)
{
	while (o < len) {
		if ((p[o] & 0xc0) == 0xc0)
			return o + 2;
		if (p[o] == 0)
			return o + 1;
		o += 1u + p[o];
	}
	fail_msg("name runs past the packet");
	return len;
}

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void walk(const uint8_t *p, size_t len, struct parsed *r)
{
	size_t o = 12;

	assert_true(len >= 12);
	memset(r, 0, sizeof(*r));
	r->id = g16(p);
	r->flags = g16(p + 2);
	for (int i = 0; i < 4; i++)
		r->counts[i] = g16(p + 4 + 2 * i);
	for (int i = 0; i < r->counts[0]; i++)
		o = skip_rr_name(p, len, o) + 4;
	for (int s = 0; s < 3; s++) {
		for (int i = 0; i < r->counts[s + 1]; i++) {
			struct rr *x = &r->rrs[r->nrrs++];

			o = skip_rr_name(p, len, o);
			assert_true(o + 10 <= len);
			x->type = g16(p + o);
			x->ttl = (uint32_t)g16(p + o + 4) << 16 | g16(p + o + 6);
			x->rdlen = g16(p + o + 8);
			x->rdata = p + o + 10;
			x->section = s;
			o += 10u + x->rdlen;
			assert_true(o <= len);
		}
	}
	assert_int_equal(o, len);
}

static int rcode(const struct parsed *p)
{
	return p->flags & 0xf;
}

static size_t ask(const struct dns_records *r, const uint8_t *q, size_t n, bool tcp,
                  struct parsed *p)
{
	size_t len = dns_answer(r, q, n, tcp, out);

	if (len > 0)
		walk(out, len, p);
	return len;
}

/* ---- tests ---- */

static void test_a_from_dig(void **state)
{
	struct dns_records r;
	struct parsed p;

	(void)state;
	records(&r);
	assert_true(ask(&r, dig_a, sizeof(dig_a), false, &p) > 0);
	assert_int_equal(p.id, 0x0b81);
	assert_int_equal(p.flags & 0x8000, 0x8000); /* QR */
	assert_int_equal(p.flags & 0x0400, 0x0400); /* AA */
	assert_int_equal(p.flags & 0x0100, 0x0100); /* RD copied */
	assert_int_equal(p.flags & 0x0200, 0);      /* no TC */
	assert_int_equal(rcode(&p), DNS_RCODE_NOERROR);
	assert_int_equal(p.counts[0], 1);
	assert_int_equal(p.counts[1], 1);
	assert_int_equal(p.counts[3], 1); /* the OPT */
	assert_int_equal(p.rrs[0].type, DNS_TYPE_A);
	assert_int_equal(p.rrs[0].ttl, 5);
	assert_int_equal(p.rrs[0].rdlen, 4);
	assert_memory_equal(p.rrs[0].rdata, "\x0b\x01\x02\x03", 4);
	assert_int_equal(p.rrs[1].type, DNS_TYPE_OPT);
	/* the question is echoed byte for byte */
	assert_memory_equal(out + 12, dig_a + 12, 42);
	dns_records_free(&r);
}

static void test_aaaa_and_nodata(void **state)
{
	struct dns_records r;
	struct parsed p;
	uint8_t q[512];
	size_t n;

	(void)state;
	records(&r);
	n = query(q, 7, "db.marathon." ZONE, DNS_TYPE_AAAA, false);
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), 0);
	assert_int_equal(p.counts[1], 1);
	assert_int_equal(p.rrs[0].type, DNS_TYPE_AAAA);
	assert_memory_equal(p.rrs[0].rdata, "\xfd\x01\x00\x0c\0\0\0\0\0\0\0\0\0\0\x12\x34", 16);
	/* web has no IPv6 address: NODATA, the SOA says for how long */
	n = query(q, 8, WEB, DNS_TYPE_AAAA, false);
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_NOERROR);
	assert_int_equal(p.counts[1], 0);
	assert_int_equal(p.counts[2], 1);
	assert_int_equal(p.rrs[0].type, DNS_TYPE_SOA);
	assert_int_equal(p.rrs[0].section, 1);
	/* an empty non-terminal is NODATA, not NXDOMAIN */
	n = query(q, 9, "marathon." ZONE, DNS_TYPE_A, false);
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_NOERROR);
	assert_int_equal(p.counts[1], 0);
	/* upper case asks the same name */
	n = query(q, 10, "WEB.Marathon.L4LB.thisdcos.directory", DNS_TYPE_A, false);
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(p.counts[1], 1);
	dns_records_free(&r);
}

static void test_srv_from_dig(void **state)
{
	struct dns_records r;
	struct parsed p;
	static const uint8_t target[] = "\3web\10marathon\4l4lb\10thisdcos\11directory";

	(void)state;
	records(&r);
	assert_true(ask(&r, dig_srv, sizeof(dig_srv), false, &p) > 0);
	assert_int_equal(rcode(&p), 0);
	assert_int_equal(p.counts[1], 1);
	assert_int_equal(p.counts[3], 1); /* the target's A record */
	assert_int_equal(p.rrs[0].type, DNS_TYPE_SRV);
	assert_int_equal(g16(p.rrs[0].rdata), 0);      /* priority */
	assert_int_equal(g16(p.rrs[0].rdata + 4), 80); /* port */
	assert_int_equal(p.rrs[0].rdlen, 6 + sizeof(target));
	assert_memory_equal(p.rrs[0].rdata + 6, target, sizeof(target));
	assert_int_equal(p.rrs[1].type, DNS_TYPE_A);
	assert_int_equal(p.rrs[1].section, 2);
	dns_records_free(&r);
}

static void test_nxdomain_refused_soa(void **state)
{
	struct dns_records r;
	struct parsed p;
	uint8_t q[512];
	size_t n;
	const struct rr *soa;

	(void)state;
	records(&r);
	r.serial = 42;
	n = query(q, 1, "nope.marathon." ZONE, DNS_TYPE_A, true);
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_NXDOMAIN);
	assert_int_equal(p.flags & 0x0400, 0x0400);
	assert_int_equal(p.counts[2], 1);
	soa = &p.rrs[0];
	assert_int_equal(soa->type, DNS_TYPE_SOA);
	/* ns.<zone> and hostmaster.<zone> compressed, then five numbers */
	assert_int_equal(soa->rdlen, 3 + 2 + 11 + 2 + 20);
	assert_int_equal(g16(soa->rdata + 18) << 16 | g16(soa->rdata + 20), 42); /* serial */
	assert_int_equal(g16(soa->rdata + 34) << 16 | g16(soa->rdata + 36), 5);  /* minimum */
	/* the apex answers its SOA */
	n = query(q, 2, ZONE, DNS_TYPE_SOA, false);
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), 0);
	assert_int_equal(p.counts[1], 1);
	assert_int_equal(p.rrs[0].type, DNS_TYPE_SOA);
	/* outside the zones */
	n = query(q, 3, "example.com", DNS_TYPE_A, false);
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_REFUSED);
	assert_int_equal(p.flags & 0x0400, 0);
	assert_int_equal(p.counts[0], 1);
	assert_int_equal(p.counts[1] + p.counts[2] + p.counts[3], 0);
	/* a zone's name as a suffix of a label is not in the zone */
	n = query(q, 4, "xl4lb.thisdcos.directory", DNS_TYPE_A, false);
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_REFUSED);
	dns_records_free(&r);
}

static void test_truncation(void **state)
{
	struct dns_records r;
	struct parsed p;
	uint8_t q[512];
	size_t n, len;

	(void)state;
	records(&r);
	n = query(q, 5, "big.marathon." ZONE, DNS_TYPE_A, false);
	len = ask(&r, q, n, false, &p);
	assert_true(len > 0 && len <= 512);
	assert_int_equal(p.flags & 0x0200, 0x0200);
	assert_int_equal(p.counts[1], 0);
	/* EDNS 4096 from the client: vipd offers 1232, still too small */
	n = query(q, 5, "big.marathon." ZONE, DNS_TYPE_A, true);
	len = ask(&r, q, n, false, &p);
	assert_true(len <= DNS_UDP_EDNS_MAX);
	assert_int_equal(p.flags & 0x0200, 0x0200);
	assert_int_equal(p.counts[3], 1);
	/* TCP carries all of it */
	len = ask(&r, q, n, true, &p);
	assert_true(len > 1232);
	assert_int_equal(p.flags & 0x0200, 0);
	assert_int_equal(p.counts[1], 100);
	dns_records_free(&r);
}

static void test_malformed(void **state)
{
	struct dns_records r;
	struct parsed p;
	uint8_t q[512];
	size_t n;

	(void)state;
	records(&r);
	assert_int_equal(dns_answer(&r, dig_a, 11, false, out), 0);
	memcpy(q, dig_a, sizeof(dig_a));
	q[2] |= 0x80; /* a response */
	assert_int_equal(dns_answer(&r, q, sizeof(dig_a), false, out), 0);
	/* two questions */
	n = query(q, 1, WEB, DNS_TYPE_A, false);
	q[5] = 2;
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_FORMERR);
	assert_int_equal(p.id, 1);
	assert_int_equal(p.counts[0], 0);
	/* cut inside the name, inside the type, inside the OPT */
	n = query(q, 2, WEB, DNS_TYPE_A, true);
	for (size_t cut = 12; cut < n; cut++) {
		assert_true(ask(&r, q, cut, false, &p) > 0);
		assert_int_equal(rcode(&p), DNS_RCODE_FORMERR);
	}
	/* a compression pointer as the question */
	n = query(q, 3, WEB, DNS_TYPE_A, false);
	q[12] = 0xc0;
	q[13] = 0x0c;
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_FORMERR);
	/* a label longer than 63 */
	n = query(q, 4, WEB, DNS_TYPE_A, false);
	q[12] = 64;
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_FORMERR);
	/* opcode STATUS */
	n = query(q, 5, WEB, DNS_TYPE_A, false);
	q[2] |= 2 << 3;
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_NOTIMP);
	/* EDNS version 1: BADVERS (extended rcode 1 in the OPT) */
	n = query(q, 6, WEB, DNS_TYPE_A, true);
	q[n - 5] = 1;
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), 0);
	assert_int_equal(p.counts[3], 1);
	assert_int_equal(p.rrs[0].ttl >> 24, 1);
	/* class CH */
	n = query(q, 7, WEB, DNS_TYPE_A, false);
	q[n - 1] = 3;
	assert_true(ask(&r, q, n, false, &p) > 0);
	assert_int_equal(rcode(&p), DNS_RCODE_REFUSED);
	dns_records_free(&r);
}

static void test_records_lookup(void **state)
{
	struct dns_records r, s;
	size_t n;

	(void)state;
	records(&r);
	assert_non_null(dns_records_host(&r, "db.marathon." ZONE));
	assert_int_equal(dns_records_host(&r, "db.marathon." ZONE)->naddrs, 2);
	assert_int_equal(dns_records_host(&r, WEB)->naddrs, 1);
	assert_non_null(dns_records_srv(&r, "_http._tcp." WEB, &n));
	assert_int_equal(n, 1);
	assert_string_equal(dns_records_zone_of(&r, "a.b." ZONE), ZONE);
	assert_null(dns_records_zone_of(&r, "thisdcos.directory"));
	assert_true(dns_records_name_exists(&r, "marathon." ZONE));
	assert_false(dns_records_name_exists(&r, "arathon." ZONE));
	records(&s);
	assert_true(dns_records_equal(&r, &s));
	dns_records_free(&s);
	dns_records_init(&s, 5);
	assert_false(dns_records_equal(&r, &s));
	dns_records_free(&s);
	dns_records_free(&r);
}

/* The rule the index must keep: a name exists when a record's name is it
 * or ends with "." and it (what dns_records_name_exists scanned for). */
static bool exists_by_scan(const struct dns_records *r, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < r->nhosts + r->nsrvs; i++) {
		const char *rec = i < r->nhosts ? r->hosts[i].name : r->srvs[i - r->nhosts].name;
		size_t l = strlen(rec);

		if (strcmp(rec, name) == 0 ||
		    (l > nl && rec[l - nl - 1] == '.' && strcmp(rec + l - nl, name) == 0))
			return true;
	}
	return false;
}

/* Names above records (empty non-terminals, SRV's _tcp.<name> among them)
 * are NODATA, everything else without records NXDOMAIN; the index answers
 * as the scan did for every suffix of every record name and near misses. */
static void test_records_parents(void **state)
{
	static const char *const cases[][2] = {
	    {"_tcp." WEB, "NODATA"},       {"_TCP.Web.Marathon." ZONE, "NODATA"},
	    {"marathon." ZONE, "NODATA"},  {"eb.marathon." ZONE, "NXDOMAIN"},
	    {"arathon." ZONE, "NXDOMAIN"}, {"x." WEB, "NXDOMAIN"},
	    {"_udp." WEB, "NXDOMAIN"},     {"marathon.dclb.thisdcos.directory", "NXDOMAIN"},
	};
	struct dns_records r;
	struct parsed p;
	uint8_t q[512];
	char name[300];
	size_t n;

	(void)state;
	records(&r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = query(q, (uint16_t)i, cases[i][0], DNS_TYPE_A, false);
		assert_true(ask(&r, q, n, false, &p) > 0);
		assert_int_equal(p.counts[1], 0);
		assert_int_equal(p.counts[2], 1); /* the SOA */
		if (strcmp(cases[i][1], "NODATA") == 0)
			assert_int_equal(rcode(&p), DNS_RCODE_NOERROR);
		else
			assert_int_equal(rcode(&p), DNS_RCODE_NXDOMAIN);
	}
	for (size_t i = 0; i < r.nhosts + r.nsrvs; i++) {
		const char *rec = i < r.nhosts ? r.hosts[i].name : r.srvs[i - r.nhosts].name;

		for (const char *t = rec; *t; t++) {
			assert_int_equal(dns_records_name_exists(&r, t), exists_by_scan(&r, t));
			snprintf(name, sizeof(name), "a%s", t);
			assert_int_equal(dns_records_name_exists(&r, name),
			                 exists_by_scan(&r, name));
		}
	}
	dns_records_free(&r);
	/* an empty set has no parents */
	dns_records_init(&r, 5);
	assert_int_equal(dns_records_finish(&r), 0);
	assert_false(dns_records_name_exists(&r, ZONE));
	dns_records_free(&r);
}

/* ---- the names of named VIPs, only when programmed ---- */

static void add_label(struct port_def *p, const char *k, const char *v)
{
	p->labels = realloc(p->labels, (p->nlabels + 1) * sizeof(*p->labels));
	p->labels[p->nlabels].key = strdup(k);
	p->labels[p->nlabels++].value = strdup(v);
}

static struct port_def *add_app_port(struct apps_set *set, const char *id, const char *pname,
                                     unsigned protos, const char *vip)
{
	struct app *a;
	struct port_def *p;

	set->apps = realloc(set->apps, (set->napps + 1) * sizeof(*set->apps));
	a = &set->apps[set->napps++];
	memset(a, 0, sizeof(*a));
	a->id = strdup(id);
	a->source = strdup("apps.json");
	a->json_path = strdup("");
	a->ports = calloc(1, sizeof(*a->ports));
	a->nports = 1;
	p = &a->ports[0];
	p->port = 80;
	p->protocols = protos;
	p->name = pname ? strdup(pname) : NULL;
	add_label(p, "VIP_0", vip);
	return p;
}

static void test_from_vips(void **state)
{
	struct apps_set set = {0};
	struct lb_keyset ks;
	struct dns_records r;
	struct vip_alloc va;
	struct lb_addr web4, web6, db4;
	const char *names[] = {"/prod/web", "/db", "/dns"};
	size_t nz, n;
	const char *const *zones = fqdn_default_zones(&nz);
	struct dns_naming naming = {
	    .framework = "marathon", .zones = zones, .nzones = nz, .ttl = 5};
	const struct dns_host *h;
	struct lb_key k;
	char err[256];

	(void)state;
	add_app_port(&set, "/prod/web", "http", PORT_PROTO_TCP, "/prod/web:80");
	add_app_port(&set, "/db", NULL, PORT_PROTO_TCP, "/db:5432");
	add_app_port(&set, "/dns", "dns", PORT_PROTO_TCP | PORT_PROTO_UDP, "/dns:53");
	add_app_port(&set, "/addr", "x", PORT_PROTO_TCP, "10.0.0.9:80");
	assert_int_equal(vip_alloc_build(&va, names, 3, err, sizeof(err)), 0);
	vip_name_address(&va, "/prod/web", &web4);
	vip_name_address6(&va, "/prod/web", &web6);
	vip_name_address(&va, "/db", &db4);
	lb_keyset_init(&ks);
	/* /prod/web: IPv4 and IPv6 programmed; /db: not yet; /dns: UDP only */
	k = (struct lb_key){.addr = web4, .port = 80, .protocol = IPPROTO_TCP};
	lb_keyset_add(&ks, &k);
	k.addr = web6;
	lb_keyset_add(&ks, &k);
	k = (struct lb_key){.port = 53, .protocol = IPPROTO_UDP};
	vip_name_address(&va, "/dns", &k.addr);
	lb_keyset_add(&ks, &k);
	k = (struct lb_key){.addr = db4, .port = 5431, .protocol = IPPROTO_TCP}; /* other port */
	lb_keyset_add(&ks, &k);
	lb_keyset_sort(&ks);
	assert_int_equal(dns_records_from_vips(&set, &ks, &naming, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nzones, 4);
	h = dns_records_host(&r, "prodweb.marathon.l4lb.thisdcos.directory");
	assert_non_null(h);
	assert_int_equal(h->naddrs, 2);
	assert_non_null(dns_records_host(&r, "prodweb.marathon.dclb.thisdcos.global"));
	assert_null(dns_records_host(&r, "db.marathon.l4lb.thisdcos.directory"));
	assert_non_null(
	    dns_records_srv(&r, "_http._tcp.prodweb.marathon.l4lb.thisdcos.directory", &n));
	assert_non_null(dns_records_srv(&r, "_dns._udp.dns.marathon.l4lb.thisdcos.global", &n));
	assert_null(dns_records_srv(&r, "_dns._tcp.dns.marathon.l4lb.thisdcos.global", &n));
	assert_int_equal(r.nhosts, 8); /* prodweb and dns, four zones each */
	dns_records_free(&r);
	lb_keyset_free(&ks);
	vip_alloc_free(&va);
	apps_set_free(&set);
}

static void test_listen_parse(void **state)
{
	struct lb_addr a;
	uint16_t port;
	char err[256], buf[64];

	(void)state;
	assert_int_equal(dns_listen_parse("127.0.0.1:53", &a, &port, err, sizeof(err)), 0);
	assert_string_equal(lb_addr_format(&a, buf, sizeof(buf)), "127.0.0.1");
	assert_int_equal(port, 53);
	assert_int_equal(dns_listen_parse("[::1]:5353", &a, &port, err, sizeof(err)), 0);
	assert_int_equal(a.af, AF_INET6);
	assert_int_equal(port, 5353);
	assert_int_equal(dns_listen_parse("::1:53", &a, &port, err, sizeof(err)), -1);
	assert_string_equal(err, "DNS listen address \"::1:53\": expected ADDR:PORT (IPv6 in "
	                         "brackets), port 1-65535");
	assert_int_equal(dns_listen_parse("127.0.0.1:0", &a, &port, err, sizeof(err)), -1);
	assert_int_equal(dns_listen_parse("127.0.0.1", &a, &port, err, sizeof(err)), -1);
	assert_int_equal(dns_listen_parse("localhost:53", &a, &port, err, sizeof(err)), -1);
}

/* ---- who gets a TCP connection ---- */

static struct dns_tcp_slot slot(const char *peer, uint64_t since, bool answering)
{
	struct dns_tcp_slot s = {.waiting_since = since, .answering = answering};

	assert_int_equal(lb_addr_parse(peer, &s.peer), 0);
	return s;
}

/* A peer at its cap replaces its own connection that has waited longest;
 * one being answered is never dropped, and when all of them are, the new
 * connection is refused. */
static void test_tcp_admit_per_peer(void **state)
{
	struct dns_tcp_slot s[4] = {slot("10.0.0.1", 7, false), slot("10.0.0.2", 1, false),
	                            slot("10.0.0.1", 3, true), slot("10.0.0.1", 5, false)};
	struct lb_addr a1, a2, a3;
	size_t victim = 99;

	(void)state;
	lb_addr_parse("10.0.0.1", &a1);
	lb_addr_parse("10.0.0.2", &a2);
	lb_addr_parse("10.0.0.3", &a3);
	/* below both limits */
	assert_int_equal(dns_tcp_admit(s, 4, &a3, 64, 3, &victim), DNS_TCP_ADMIT);
	assert_int_equal(dns_tcp_admit(s, 4, &a2, 64, 3, &victim), DNS_TCP_ADMIT);
	assert_int_equal(victim, 99);
	/* 10.0.0.1 holds 3: its longest waiting that is not answering (since 5,
	 * not 10.0.0.2's older one, not its own answering one since 3) */
	assert_int_equal(dns_tcp_admit(s, 4, &a1, 64, 3, &victim), DNS_TCP_ADMIT_EVICT);
	assert_int_equal(victim, 3);
	/* all of 10.0.0.1's are being answered */
	s[0].answering = s[3].answering = true;
	assert_int_equal(dns_tcp_admit(s, 4, &a1, 64, 3, &victim), DNS_TCP_REFUSE);
}

/* At the global limit the connection that has waited longest of all goes,
 * whoever holds it; answering ones stay. */
static void test_tcp_admit_global(void **state)
{
	struct dns_tcp_slot s[4] = {slot("10.0.0.1", 9, false), slot("::1", 2, true),
	                            slot("10.0.0.3", 4, false), slot("10.0.0.4", 6, false)};
	struct lb_addr a;
	size_t victim = 99;

	(void)state;
	lb_addr_parse("10.0.0.9", &a);
	assert_int_equal(dns_tcp_admit(s, 4, &a, 5, 8, &victim), DNS_TCP_ADMIT);
	assert_int_equal(dns_tcp_admit(s, 4, &a, 4, 8, &victim), DNS_TCP_ADMIT_EVICT);
	assert_int_equal(victim, 2);
	s[2].answering = true;
	assert_int_equal(dns_tcp_admit(s, 4, &a, 4, 8, &victim), DNS_TCP_ADMIT_EVICT);
	assert_int_equal(victim, 3);
	s[0].answering = s[3].answering = true;
	assert_int_equal(dns_tcp_admit(s, 4, &a, 4, 8, &victim), DNS_TCP_REFUSE);
	/* the peer's own cap first: the IPv6 peer's only connection is answering */
	assert_int_equal(lb_addr_parse("::1", &a), 0);
	s[0].answering = false;
	assert_int_equal(dns_tcp_admit(s, 4, &a, 4, 1, &victim), DNS_TCP_REFUSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_from_dig),       cmocka_unit_test(test_aaaa_and_nodata),
	    cmocka_unit_test(test_srv_from_dig),     cmocka_unit_test(test_nxdomain_refused_soa),
	    cmocka_unit_test(test_truncation),       cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_records_lookup),   cmocka_unit_test(test_from_vips),
	    cmocka_unit_test(test_listen_parse),     cmocka_unit_test(test_tcp_admit_per_peer),
	    cmocka_unit_test(test_tcp_admit_global), cmocka_unit_test(test_records_parents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
