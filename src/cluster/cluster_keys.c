/*
 * The cluster's key layout in etcd (docs/cluster-keys.md, version 1):
 * building and reading backend and VIP-assignment keys and their JSON
 * values. Pure; every problem a message that starts with the key.
 */
#include "vipd/cluster.h"
#include "vipd/errbuf.h"
#include "cluster_int.h"

#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEG_MAX 600 /* one decoded key segment */

const char *cluster_health_name(enum cluster_health h)
{
	switch (h) {
	case CLUSTER_HEALTH_HEALTHY:
		return "healthy";
	case CLUSTER_HEALTH_UNHEALTHY:
		return "unhealthy";
	case CLUSTER_HEALTH_UNKNOWN:
		break;
	}
	return "unknown";
}

static int health_parse(const char *s, enum cluster_health *out)
{
	if (strcmp(s, "healthy") == 0)
		*out = CLUSTER_HEALTH_HEALTHY;
	else if (strcmp(s, "unhealthy") == 0)
		*out = CLUSTER_HEALTH_UNHEALTHY;
	else if (strcmp(s, "unknown") == 0)
		*out = CLUSTER_HEALTH_UNKNOWN;
	else
		return -1;
	return 0;
}

static int proto_parse(const char *s, size_t n, uint8_t *out)
{
	if (n == 3 && strncmp(s, "tcp", 3) == 0)
		*out = IPPROTO_TCP;
	else if (n == 3 && strncmp(s, "udp", 3) == 0)
		*out = IPPROTO_UDP;
	else
		return -1;
	return 0;
}

static const char *proto_text(uint8_t p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

bool cluster_node_valid(const char *node)
{
	size_t n = strlen(node), i;

	if (n == 0 || n >= CLUSTER_NODE_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = node[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* ---- key segments: percent-encoding of '/', '%' and anything unusual */

static bool seg_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-._~:[]@", c) != NULL;
}

static int seg_append(const char *s, char *out, size_t outlen, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (*o + 4 > outlen)
			return -1;
		if (seg_safe(c)) {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
	out[*o] = '\0';
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int seg_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (o + 1 >= outlen)
			return -1;
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n)
			return -1;
		hi = hex_value(s[i + 1]);
		lo = hex_value(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	return 0;
}

/* "/web:80", "10.0.0.9:53", "[fd00::9]:80": what vip_parse reads back. */
static void vip_text(const struct vip_ref *v, char *buf, size_t len)
{
	if (v->named)
		(void)snprintf(buf, len, "%s:%u", v->name, (unsigned)v->port);
	else
		lb_addr_port_format(&v->addr, v->port, buf, len);
}

/* "tcp:/web:80", "udp:10.0.0.9:53", "tcp:[fd00::9]:80" */
static void vip_segment_text(uint8_t protocol, const struct vip_ref *v, char *buf, size_t len)
{
	char vip[VIP_NAME_MAX + 8];

	vip_text(v, vip, sizeof(vip));
	(void)snprintf(buf, len, "%s:%s", proto_text(protocol), vip);
}

int cluster_node_prefix(const char *prefix, const char *node, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%sbackends/%s/", prefix, node);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int cluster_backend_key(const char *prefix, const struct cluster_backend *b, char *out,
                        size_t outlen, char *err, size_t errlen)
{
	char vip[VIP_NAME_MAX + 16], dest[64];
	size_t o;

	if (!cluster_node_valid(b->node)) {
		errbuf_set(err, errlen, "node \"%.80s\": expected 1-63 of [A-Za-z0-9._-]", b->node);
		return -1;
	}
	vip_segment_text(b->protocol, &b->vip, vip, sizeof(vip));
	lb_addr_port_format(&b->addr, b->port, dest, sizeof(dest));
	if (cluster_node_prefix(prefix, b->node, out, outlen) < 0)
		goto too_long;
	o = strlen(out);
	if (seg_append(vip, out, outlen, &o) < 0 || o + 2 > outlen)
		goto too_long;
	out[o++] = '/';
	out[o] = '\0';
	if (seg_append(dest, out, outlen, &o) < 0)
		goto too_long;
	return 0;
too_long:
	errbuf_set(err, errlen, "backend key under \"%.80s\": longer than %zu bytes", prefix,
	           outlen - 1);
	return -1;
}

int cluster_vip_key(const char *prefix, const char *name, char *out, size_t outlen, char *err,
                    size_t errlen)
{
	size_t o;
	int n;

	if (name[0] != '/' || strlen(name) >= VIP_NAME_MAX) {
		errbuf_set(err, errlen, "VIP name \"%.80s\": expected /<name>", name);
		return -1;
	}
	n = snprintf(out, outlen, "%svips/", prefix);
	o = (size_t)n;
	if (n < 0 || o >= outlen || seg_append(name, out, outlen, &o) < 0) {
		errbuf_set(err, errlen, "VIP key under \"%.80s\": longer than %zu bytes", prefix,
		           outlen - 1);
		return -1;
	}
	return 0;
}

/* ---- reading keys */

static int parse_vip_segment(const char *key, const char *text, struct cluster_key *k, char *err,
                             size_t errlen)
{
	const char *colon = strchr(text, ':');
	char why[256];

	if (!colon || proto_parse(text, (size_t)(colon - text), &k->protocol) < 0) {
		errbuf_set(err, errlen, "%s: VIP \"%.80s\": expected tcp:<vip> or udp:<vip>", key,
		           text);
		return -1;
	}
	if (vip_parse(colon + 1, &k->vip, why, sizeof(why)) < 0) {
		errbuf_set(err, errlen, "%s: VIP \"%.80s\": %s", key, text, why);
		return -1;
	}
	return 0;
}

/* "10.1.2.3:31000" or "[fd00::1]:31000" */
static int parse_dest_segment(const char *key, const char *text, struct cluster_key *k, char *err,
                              size_t errlen)
{
	char addr[64];
	const char *colon = strrchr(text, ':'), *a = text;
	size_t alen;
	char *end;
	long port;

	if (!colon)
		goto bad;
	alen = (size_t)(colon - text);
	if (text[0] == '[') {
		if (alen < 2 || colon[-1] != ']')
			goto bad;
		a++;
		alen -= 2;
	}
	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	if (lb_addr_parse(addr, &k->addr) < 0 || (text[0] == '[') != (k->addr.af == AF_INET6))
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || port < 1 || port > 65535)
		goto bad;
	k->port = (uint16_t)port;
	return 0;
bad:
	errbuf_set(err, errlen,
	           "%s: backend \"%.80s\": expected <IPv4>:<port> or [<IPv6>]:<port>, port 1-65535",
	           key, text);
	return -1;
}

/* Splits rest into exactly n non-empty '/'-separated segments, decoded. */
static int split_segments(const char *rest, char seg[][SEG_MAX], size_t n)
{
	const char *p = rest, *slash;
	size_t i;

	for (i = 0; i < n; i++) {
		slash = strchr(p, '/');
		if ((slash != NULL) != (i + 1 < n))
			return -1;
		if (!slash)
			slash = p + strlen(p);
		if (slash == p || seg_decode(p, (size_t)(slash - p), seg[i], SEG_MAX) < 0)
			return -1;
		p = slash + 1;
	}
	return 0;
}

static int parse_backend_key(const char *key, const char *rest, struct cluster_key *k, char *err,
                             size_t errlen)
{
	char seg[3][SEG_MAX];

	k->kind = CLUSTER_KEY_BACKEND;
	if (split_segments(rest, seg, 3) < 0) {
		errbuf_set(err, errlen,
		           "%s: expected backends/<node>/<protocol>:<vip>/<address>:<port>, each "
		           "part non-empty and percent-encoded",
		           key);
		return -1;
	}
	if (!cluster_node_valid(seg[0])) {
		errbuf_set(err, errlen, "%s: node \"%.80s\": expected 1-63 of [A-Za-z0-9._-]", key,
		           seg[0]);
		return -1;
	}
	memcpy(k->node, seg[0], strlen(seg[0]) + 1); /* valid: < CLUSTER_NODE_MAX */
	if (parse_vip_segment(key, seg[1], k, err, errlen) < 0)
		return -1;
	return parse_dest_segment(key, seg[2], k, err, errlen);
}

static int parse_vip_key(const char *key, const char *rest, struct cluster_key *k, char *err,
                         size_t errlen)
{
	char seg[1][SEG_MAX];

	k->kind = CLUSTER_KEY_VIP;
	if (split_segments(rest, seg, 1) < 0 || seg[0][0] != '/' ||
	    strlen(seg[0]) >= VIP_NAME_MAX) {
		errbuf_set(err, errlen,
		           "%s: expected vips/<name>, the name percent-encoded "
		           "with its leading /",
		           key);
		return -1;
	}
	memcpy(k->name, seg[0], strlen(seg[0]) + 1); /* checked: < VIP_NAME_MAX */
	return 0;
}

int cluster_key_parse(const char *prefix, const char *key, struct cluster_key *out, char *err,
                      size_t errlen)
{
	size_t n = strlen(prefix);
	const char *rest = key + n;

	memset(out, 0, sizeof(*out));
	if (strncmp(key, prefix, n) != 0) {
		errbuf_set(err, errlen, "%.300s: not under %s", key, prefix);
		return -1;
	}
	if (strncmp(rest, "backends/", 9) == 0)
		return parse_backend_key(key, rest + 9, out, err, errlen);
	if (strncmp(rest, "vips/", 5) == 0)
		return parse_vip_key(key, rest + 5, out, err, errlen);
	errbuf_set(err, errlen, "%.300s: expected backends/... or vips/... after %s", key, prefix);
	return -1;
}

/* ---- values */

char *cluster_backend_value(const struct cluster_backend *b)
{
	char vip[VIP_NAME_MAX + 8], addr[INET6_ADDRSTRLEN];
	json_t *o;
	char *s;

	vip_text(&b->vip, vip, sizeof(vip));
	o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:s}", "vip", vip, "protocol",
	              proto_text(b->protocol), "address",
	              lb_addr_format(&b->addr, addr, sizeof(addr)), "port", (int)b->port, "weight",
	              (json_int_t)b->weight, "health", cluster_health_name(b->health), "app",
	              b->app, "task", b->task, "node", b->node);
	s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

char *cluster_vip_value(const struct cluster_vip_assign *a)
{
	json_t *o = json_object();
	char *s = NULL;

	if (!o)
		return NULL;
	if ((!a->ipv4[0] || json_object_set_new(o, "ipv4", json_string(a->ipv4)) == 0) &&
	    (!a->ipv6[0] || json_object_set_new(o, "ipv6", json_string(a->ipv6)) == 0))
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

struct vdec {
	const char *key;
	const json_t *root;
	char *err;
	size_t errlen;
};

static int vdec_fail(struct vdec *d, const char *field, const char *what)
{
	char got[CLUSTER_GOT_MAX + 8];

	cluster_json_got(json_object_get(d->root, field), got, sizeof(got));
	errbuf_set(d->err, d->errlen, "%s: /%s: expected %s, got %s", d->key, field, what, got);
	return -1;
}

static const char *vdec_string(struct vdec *d, const char *field, size_t max)
{
	const json_t *v = json_object_get(d->root, field);
	char what[64];

	if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < max &&
	    strlen(json_string_value(v)) == json_string_length(v))
		return json_string_value(v);
	(void)snprintf(what, sizeof(what), "a string of 1-%zu characters", max - 1);
	vdec_fail(d, field, what);
	return NULL;
}

static int vdec_int(struct vdec *d, const char *field, json_int_t lo, json_int_t hi,
                    json_int_t *out)
{
	const json_t *v = json_object_get(d->root, field);
	char what[64];

	if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi) {
		*out = json_integer_value(v);
		return 0;
	}
	(void)snprintf(what, sizeof(what), "an integer %lld-%lld", (long long)lo, (long long)hi);
	return vdec_fail(d, field, what);
}

static int vdec_agree(struct vdec *d, const char *field, bool same, const char *keys)
{
	char got[CLUSTER_GOT_MAX + 8];

	if (same)
		return 0;
	cluster_json_got(json_object_get(d->root, field), got, sizeof(got));
	errbuf_set(d->err, d->errlen, "%s: /%s: %s differs from the key's %s", d->key, field, got,
	           keys);
	return -1;
}

static json_t *vdec_load(const char *key, const char *value, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		errbuf_set(err, errlen, "%s: not JSON: %s at line %d column %d", key, jerr.text,
		           jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		errbuf_set(err, errlen, "%s: expected a JSON object", key);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* vip, protocol, address and port: present, valid, and what the key says. */
static int vdec_backend_identity(struct vdec *d, const struct cluster_key *k,
                                 struct cluster_backend *b)
{
	const char *vip = vdec_string(d, "vip", VIP_NAME_MAX + 8), *proto, *addr;
	char why[256], text[VIP_NAME_MAX + 16];
	json_int_t port;

	if (!vip)
		return -1;
	if (vip_parse(vip, &b->vip, why, sizeof(why)) < 0) {
		errbuf_set(d->err, d->errlen, "%s: /vip: %s", d->key, why);
		return -1;
	}
	vip_text(&k->vip, text, sizeof(text));
	if (vdec_agree(d, "vip",
	               b->vip.named == k->vip.named && b->vip.port == k->vip.port &&
	                   (b->vip.named ? strcmp(b->vip.name, k->vip.name) == 0
	                                 : lb_addr_cmp(&b->vip.addr, &k->vip.addr) == 0),
	               text) < 0)
		return -1;
	proto = vdec_string(d, "protocol", 8);
	if (!proto || proto_parse(proto, strlen(proto), &b->protocol) < 0)
		return vdec_fail(d, "protocol", "\"tcp\" or \"udp\"");
	if (vdec_agree(d, "protocol", b->protocol == k->protocol, proto_text(k->protocol)) < 0)
		return -1;
	addr = vdec_string(d, "address", INET6_ADDRSTRLEN);
	if (!addr || lb_addr_parse(addr, &b->addr) < 0)
		return vdec_fail(d, "address", "an IPv4 or IPv6 address");
	lb_addr_port_format(&k->addr, k->port, text, sizeof(text));
	if (vdec_agree(d, "address", lb_addr_cmp(&b->addr, &k->addr) == 0, text) < 0 ||
	    vdec_int(d, "port", 1, 65535, &port) < 0 ||
	    vdec_agree(d, "port", port == k->port, text) < 0)
		return -1;
	b->port = (uint16_t)port;
	return 0;
}

static int vdec_backend_state(struct vdec *d, const struct cluster_key *k,
                              struct cluster_backend *b)
{
	const char *health, *app, *task, *node;
	json_int_t weight;

	if (vdec_int(d, "weight", 0, 65535, &weight) < 0)
		return -1;
	b->weight = (uint32_t)weight;
	health = vdec_string(d, "health", 16);
	if (!health || health_parse(health, &b->health) < 0)
		return vdec_fail(d, "health", "\"healthy\", \"unhealthy\" or \"unknown\"");
	if (!(app = vdec_string(d, "app", CLUSTER_ID_MAX)) ||
	    !(task = vdec_string(d, "task", CLUSTER_ID_MAX)) ||
	    !(node = vdec_string(d, "node", CLUSTER_NODE_MAX)))
		return -1;
	if (vdec_agree(d, "node", strcmp(node, k->node) == 0, k->node) < 0)
		return -1;
	(void)snprintf(b->app, sizeof(b->app), "%s", app);
	(void)snprintf(b->task, sizeof(b->task), "%s", task);
	(void)snprintf(b->node, sizeof(b->node), "%s", node);
	return 0;
}

/* The frame both value decoders share: the key parsed and of the kind
 * expected, and its value loaded (the caller json_decref()s the result).
 * NULL with d->err set otherwise. */
static json_t *vdec_open(struct vdec *d, const char *prefix, const char *value, size_t value_len,
                         enum cluster_key_kind kind, const char *what, struct cluster_key *k)
{
	json_t *root;

	if (cluster_key_parse(prefix, d->key, k, d->err, d->errlen) < 0)
		return NULL;
	if (k->kind != kind) {
		errbuf_set(d->err, d->errlen, "%s: expected a %s/... key", d->key, what);
		return NULL;
	}
	root = vdec_load(d->key, value, value_len, d->err, d->errlen);
	d->root = root;
	return root;
}

int cluster_backend_decode(const char *prefix, const char *key, const char *value, size_t value_len,
                           struct cluster_backend *out, char *err, size_t errlen)
{
	struct cluster_key k;
	struct vdec d = {key, NULL, err, errlen};
	json_t *root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = vdec_open(&d, prefix, value, value_len, CLUSTER_KEY_BACKEND, "backends", &k);
	if (!root)
		return -1;
	if (vdec_backend_identity(&d, &k, out) == 0 && vdec_backend_state(&d, &k, out) == 0)
		rc = 0;
	json_decref(root);
	return rc;
}

static int vdec_vip_address(struct vdec *d, const char *field, int af, char *out, size_t len)
{
	const json_t *v = json_object_get(d->root, field);
	struct lb_addr a;

	if (!v)
		return 0;
	if (!json_is_string(v) || lb_addr_parse(json_string_value(v), &a) < 0 || a.af != af)
		return vdec_fail(d, field, af == AF_INET ? "an IPv4 address" : "an IPv6 address");
	lb_addr_format(&a, out, len);
	return 0;
}

int cluster_vip_decode(const char *prefix, const char *key, const char *value, size_t value_len,
                       struct cluster_vip_assign *out, char *err, size_t errlen)
{
	struct cluster_key k;
	struct vdec d = {key, NULL, err, errlen};
	json_t *root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = vdec_open(&d, prefix, value, value_len, CLUSTER_KEY_VIP, "vips", &k);
	if (!root)
		return -1;
	(void)snprintf(out->name, sizeof(out->name), "%s", k.name);
	if (vdec_vip_address(&d, "ipv4", AF_INET, out->ipv4, sizeof(out->ipv4)) == 0 &&
	    vdec_vip_address(&d, "ipv6", AF_INET6, out->ipv6, sizeof(out->ipv6)) == 0) {
		if (out->ipv4[0] || out->ipv6[0])
			rc = 0;
		else
			errbuf_set(err, errlen, "%s: expected \"ipv4\" or \"ipv6\" or both", key);
	}
	json_decref(root);
	return rc;
}
