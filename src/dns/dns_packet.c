/*
 * One DNS query in, one response out, with no I/O: parsing is bounded by the
 * packet (every read checked), and the response is built in a caller's
 * buffer with a size limit that turns an answer too long for UDP into TC.
 * RFC 1035 (format), 2181 (TC only when the answer itself does not fit),
 * 2308 (negative answers carry the SOA), 2782 (SRV), 6891 (EDNS).
 */
#include "vipd/dns.h"

#include <string.h>
#include <sys/socket.h>

#define HDR_LEN 12
#define NAME_WIRE_MAX 255
#define LABELS_MAX 128
#define OPT_LEN 11
#define CLASS_IN 1
#define CLASS_ANY 255
#define FLAG_QR 0x8000
#define FLAG_AA 0x0400
#define FLAG_TC 0x0200
#define FLAG_RD 0x0100
#define EDNS_BADVERS 16
#define SOA_REFRESH 60
#define SOA_RETRY 60
#define SOA_EXPIRE 86400

struct query {
	uint16_t id, flags, qtype, qclass;
	char name[NAME_WIRE_MAX + 1];   /* lowercase, no final dot; "" = root */
	size_t qend;                    /* offset just past the question */
	uint16_t label_off[LABELS_MAX]; /* packet offset of each label */
	size_t label_text[LABELS_MAX];  /* offset of each label in name */
	int nlabels;
	bool edns;
	uint16_t edns_size;
	uint8_t edns_version;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A byte of a label as text: lowered; one that would change how the name
 * reads ('.', '\\', controls) becomes DEL, which no record name holds. */
static char text_byte(uint8_t b)
{
	if (b >= 'A' && b <= 'Z')
		return (char)(b - 'A' + 'a');
	if (b <= 0x20 || b >= 0x7f || b == '.' || b == '\\')
		return 0x7f;
	return (char)b;
}

/* The question's name: no compression there (RFC 1035 allows it, no
 * resolver sends it, and refusing it keeps the question self-contained). */
static int parse_qname(const uint8_t *p, size_t len, struct query *q, size_t *off)
{
	size_t o = HDR_LEN, wire = 0, t = 0;

	q->nlabels = 0;
	for (;;) {
		uint8_t l;

		if (o >= len)
			return -1;
		l = p[o];
		wire += 1u + l;
		if (l == 0)
			break;
		if (l > 63 || wire > NAME_WIRE_MAX || o + 1 + l > len || q->nlabels == LABELS_MAX)
			return -1;
		if (t > 0)
			q->name[t++] = '.';
		q->label_off[q->nlabels] = (uint16_t)o;
		q->label_text[q->nlabels++] = t;
		for (size_t i = 0; i < l; i++)
			q->name[t++] = text_byte(p[o + 1 + i]);
		o += 1u + l;
	}
	q->name[t] = '\0';
	*off = o + 1;
	return 0;
}

/* Skips a name anywhere after the question (compression allowed). */
static int skip_name(const uint8_t *p, size_t len, size_t *off)
{
	size_t o = *off;

	for (int n = 0; n < LABELS_MAX; n++) {
		uint8_t l;

		if (o >= len)
			return -1;
		l = p[o];
		if ((l & 0xc0) == 0xc0) {
			if (o + 2 > len)
				return -1;
			*off = o + 2;
			return 0;
		}
		if (l & 0xc0)
			return -1;
		if (l == 0) {
			*off = o + 1;
			return 0;
		}
		o += 1u + l;
	}
	return -1;
}

/* The records after the question: only an OPT in the additional section
 * matters (EDNS); the others are skipped, but must be well formed. */
static int parse_rest(const uint8_t *p, size_t len, size_t off, struct query *q)
{
	unsigned an = get16(p + 6), ns = get16(p + 8), ar = get16(p + 10);

	for (unsigned i = 0; i < an + ns + ar; i++) {
		size_t start = off;
		uint16_t type, rdlen;

		if (skip_name(p, len, &off) < 0 || off + 10 > len)
			return -1;
		type = get16(p + off);
		rdlen = get16(p + off + 8);
		if (off + 10 + rdlen > len)
			return -1;
		if (i >= an + ns && type == DNS_TYPE_OPT) {
			if (q->edns || p[start] != 0)
				return -1; /* RFC 6891: one OPT, owned by the root */
			q->edns = true;
			q->edns_size = get16(p + off + 2);
			q->edns_version = p[off + 5];
		}
		off += 10u + rdlen;
	}
	return 0;
}

/* 0 parsed; -1 FORMERR. */
static int parse_query(const uint8_t *p, size_t len, struct query *q)
{
	size_t off;

	if (get16(p + 4) != 1 || parse_qname(p, len, q, &off) < 0 || off + 4 > len)
		return -1;
	q->qtype = get16(p + off);
	q->qclass = get16(p + off + 2);
	q->qend = off + 4;
	return parse_rest(p, len, q->qend, q);
}

/* ---- writing ---- */

struct wr {
	uint8_t *p;
	size_t len, cap;
	bool full;
};

static void put(struct wr *w, const void *b, size_t n)
{
	if (w->full || w->len + n > w->cap) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void put16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(w, b, 2);
}

static void put32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	put(w, b, 4);
}

/* A name from its text form, uncompressed (SRV targets must not be
 * compressed, RFC 2782). Record names are checked labels. */
static void put_name(struct wr *w, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		uint8_t lb = (uint8_t)(l > 63 ? 63 : l);

		put(w, &lb, 1);
		put(w, name, lb);
		name += l + (dot != NULL);
	}
	put(w, "", 1);
}

struct resp {
	const struct dns_records *r;
	const struct query *q;
	const char *zone;
	uint16_t zone_ptr;  /* compression pointer to the zone inside the question */
	uint16_t counts[3]; /* answer, authority, additional */
};

static void rr_head(struct wr *w, uint16_t owner_ptr, uint16_t type, uint32_t ttl)
{
	put16(w, (uint16_t)(0xc000 | owner_ptr));
	put16(w, type);
	put16(w, CLASS_IN);
	put32(w, ttl);
}

static void put_addr_rdata(struct wr *w, const struct lb_addr *a)
{
	if (a->af == AF_INET) {
		put16(w, 4);
		put(w, &a->u.v4, 4);
	} else {
		put16(w, 16);
		put(w, &a->u.v6, 16);
	}
}

static bool type_wants(uint16_t qtype, const struct lb_addr *a)
{
	if (qtype == DNS_TYPE_ANY)
		return true;
	return (qtype == DNS_TYPE_A && a->af == AF_INET) ||
	       (qtype == DNS_TYPE_AAAA && a->af == AF_INET6);
}

static void answer_addrs(struct wr *w, struct resp *rs, const struct dns_host *h)
{
	for (size_t i = 0; h && i < h->naddrs; i++) {
		if (!type_wants(rs->q->qtype, &h->addrs[i]))
			continue;
		rr_head(w, HDR_LEN, h->addrs[i].af == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA,
		        rs->r->ttl);
		put_addr_rdata(w, &h->addrs[i]);
		rs->counts[0]++;
	}
}

static void answer_srvs(struct wr *w, struct resp *rs, const struct dns_srv *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t rdlen_at;

		rr_head(w, HDR_LEN, DNS_TYPE_SRV, rs->r->ttl);
		rdlen_at = w->len;
		put16(w, 0);
		put16(w, 0); /* priority */
		put16(w, 1); /* weight */
		put16(w, s[i].port);
		put_name(w, s[i].target);
		if (!w->full) {
			size_t rdlen = w->len - rdlen_at - 2;

			w->p[rdlen_at] = (uint8_t)(rdlen >> 8);
			w->p[rdlen_at + 1] = (uint8_t)rdlen;
		}
		rs->counts[0]++;
	}
}

/* The SOA of the zone, owned by the zone (a pointer into the question). */
static void put_soa(struct wr *w, struct resp *rs, uint16_t owner_ptr)
{
	size_t rdlen_at;

	rr_head(w, owner_ptr, DNS_TYPE_SOA, rs->r->ttl);
	rdlen_at = w->len;
	put16(w, 0);
	put(w, "\2ns", 3);
	put16(w, (uint16_t)(0xc000 | rs->zone_ptr));
	put(w, "\12hostmaster", 11);
	put16(w, (uint16_t)(0xc000 | rs->zone_ptr));
	put32(w, rs->r->serial);
	put32(w, SOA_REFRESH);
	put32(w, SOA_RETRY);
	put32(w, SOA_EXPIRE);
	put32(w, rs->r->ttl); /* negative-caching TTL, RFC 2308 */
	if (!w->full) {
		size_t rdlen = w->len - rdlen_at - 2;

		w->p[rdlen_at] = (uint8_t)(rdlen >> 8);
		w->p[rdlen_at + 1] = (uint8_t)rdlen;
	}
}

/* The SRV targets' addresses, when they fit (RFC 2181: extra data missing
 * is no truncation). */
static void additional_targets(struct wr *w, struct resp *rs, const struct dns_srv *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct dns_host *h = dns_records_host(rs->r, s[i].target);
		size_t before = w->len;

		for (size_t j = 0; h && j < h->naddrs; j++) {
			put_name(w, h->name);
			put16(w, h->addrs[j].af == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA);
			put16(w, CLASS_IN);
			put32(w, rs->r->ttl);
			put_addr_rdata(w, &h->addrs[j]);
			if (w->full) {
				w->len = before;
				w->full = false;
				return;
			}
			before = w->len;
			rs->counts[2]++;
		}
	}
}

/* Answers a name in one of the zones; returns the rcode. Sets *soa when the
 * authority section needs the SOA. */
static int answer_in_zone(struct wr *w, struct resp *rs, bool *soa)
{
	const struct query *q = rs->q;
	const struct dns_host *h = dns_records_host(rs->r, q->name);
	const struct dns_srv *s = NULL;
	size_t ns = 0;
	bool apex = strcmp(q->name, rs->zone) == 0;

	s = dns_records_srv(rs->r, q->name, &ns);
	if (q->qtype == DNS_TYPE_A || q->qtype == DNS_TYPE_AAAA || q->qtype == DNS_TYPE_ANY)
		answer_addrs(w, rs, h);
	if (q->qtype == DNS_TYPE_SRV || q->qtype == DNS_TYPE_ANY)
		answer_srvs(w, rs, s, ns);
	if (apex && (q->qtype == DNS_TYPE_SOA || q->qtype == DNS_TYPE_ANY)) {
		put_soa(w, rs, HDR_LEN);
		rs->counts[0]++;
	}
	if (rs->counts[0] > 0) {
		if (!w->full && (q->qtype == DNS_TYPE_SRV || q->qtype == DNS_TYPE_ANY))
			additional_targets(w, rs, s, ns);
		return DNS_RCODE_NOERROR;
	}
	*soa = true;
	if (apex || dns_records_name_exists(rs->r, q->name))
		return DNS_RCODE_NOERROR; /* NODATA */
	return DNS_RCODE_NXDOMAIN;
}

/* The question's label where the zone starts, as a compression pointer. */
static uint16_t zone_pointer(const struct query *q, const char *zone)
{
	size_t zl = strlen(zone), nl = strlen(q->name);

	for (int i = 0; i < q->nlabels; i++)
		if (nl - q->label_text[i] == zl)
			return q->label_off[i];
	return HDR_LEN;
}

static void put_header(uint8_t *out, const struct query *q, uint16_t flags, const uint16_t c[3],
                       bool with_question, bool opt)
{
	out[0] = (uint8_t)(q->id >> 8);
	out[1] = (uint8_t)q->id;
	out[2] = (uint8_t)(flags >> 8);
	out[3] = (uint8_t)flags;
	out[4] = 0;
	out[5] = with_question ? 1 : 0;
	out[6] = (uint8_t)(c[0] >> 8);
	out[7] = (uint8_t)c[0];
	out[8] = (uint8_t)(c[1] >> 8);
	out[9] = (uint8_t)c[1];
	out[10] = (uint8_t)((c[2] + opt) >> 8);
	out[11] = (uint8_t)(c[2] + opt);
}

static void put_opt(struct wr *w, const struct query *q, int rcode)
{
	put(w, "", 1);
	put16(w, DNS_TYPE_OPT);
	put16(w, DNS_UDP_EDNS_MAX);
	put32(w, (uint32_t)(rcode >> 4) << 24); /* extended rcode, version 0, no flags */
	put16(w, 0);
	(void)q;
}

static size_t udp_limit(const struct query *q)
{
	if (!q->edns || q->edns_size <= DNS_UDP_PLAIN_MAX)
		return DNS_UDP_PLAIN_MAX;
	return q->edns_size < DNS_UDP_EDNS_MAX ? q->edns_size : DNS_UDP_EDNS_MAX;
}

/* Header, question (when parsed) and OPT, with no records. */
static size_t bare(const struct query *q, const uint8_t *pkt, bool has_q, int rcode, uint16_t extra,
                   uint8_t *out)
{
	static const uint16_t none[3] = {0, 0, 0};
	struct wr w = {.p = out, .len = HDR_LEN, .cap = DNS_MSG_MAX};
	bool opt = has_q && q->edns;

	if (has_q)
		put(&w, pkt + HDR_LEN, q->qend - HDR_LEN);
	if (opt)
		put_opt(&w, q, rcode);
	put_header(out, q, (uint16_t)(FLAG_QR | (q->flags & FLAG_RD) | extra | (rcode & 0xf)), none,
	           has_q, opt);
	return w.len;
}

size_t dns_answer(const struct dns_records *r, const uint8_t *pkt, size_t len, bool tcp,
                  uint8_t *out)
{
	struct query q = {0};
	struct resp rs = {.r = r, .q = &q};
	struct wr w = {.p = out};
	bool soa = false;
	int rcode;
	size_t limit;

	if (len < HDR_LEN)
		return 0;
	q.id = get16(pkt);
	q.flags = get16(pkt + 2);
	if (q.flags & FLAG_QR)
		return 0; /* a response: answering could loop between two servers */
	if ((q.flags >> 11 & 0xf) != 0)
		return bare(&q, pkt, false, DNS_RCODE_NOTIMP, 0, out);
	if (parse_query(pkt, len, &q) < 0)
		return bare(&q, pkt, false, DNS_RCODE_FORMERR, 0, out);
	if (q.edns && q.edns_version > 0)
		return bare(&q, pkt, true, EDNS_BADVERS, 0, out);
	rs.zone = dns_records_zone_of(r, q.name);
	if (rs.zone == NULL || (q.qclass != CLASS_IN && q.qclass != CLASS_ANY))
		return bare(&q, pkt, true, DNS_RCODE_REFUSED, 0, out);
	rs.zone_ptr = zone_pointer(&q, rs.zone);
	limit = tcp ? DNS_MSG_MAX : udp_limit(&q);
	w.cap = limit - (q.edns ? OPT_LEN : 0);
	w.len = HDR_LEN;
	put(&w, pkt + HDR_LEN, q.qend - HDR_LEN);
	rcode = answer_in_zone(&w, &rs, &soa);
	if (soa) {
		put_soa(&w, &rs, rs.zone_ptr);
		rs.counts[1]++;
	}
	if (w.full)
		return bare(&q, pkt, true, rcode, FLAG_AA | FLAG_TC, out);
	w.cap = limit;
	if (q.edns)
		put_opt(&w, &q, rcode);
	put_header(out, &q, (uint16_t)(FLAG_QR | FLAG_AA | (q.flags & FLAG_RD) | rcode), rs.counts,
	           true, q.edns);
	return w.len;
}
