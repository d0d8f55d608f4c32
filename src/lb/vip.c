/*
 * Reading DC/OS VIP labels (VIP_<n>) from apps' ports into vip_uses, with a
 * located error for each malformed label, and turning a use into the IPVS
 * service keys it stands for.
 */
#include "vipd/errbuf.h"
#include "vipd/vip.h"
#include "vipd/vec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

bool vip_label_is_vip(const char *key)
{
	if (strncmp(key, "VIPD_", 5) == 0)
		return false;
	return strncmp(key, "VIP", 3) == 0 || strncmp(key, "vip", 3) == 0;
}

static int parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static bool all_digits_and_dots(const char *s)
{
	for (; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '.')
			return false;
	return true;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* Marathon app ids: segments of [A-Za-z0-9._-] separated by '/'; the
 * leading '/' is optional in a label and added here. */
static int normalise_name(const char *s, char *out, size_t len)
{
	size_t n = 0;
	bool seg_empty = true;

	if (*s == '/')
		s++;
	if (len < 2)
		return -1;
	out[n++] = '/';
	for (; *s; s++) {
		if (*s == '/') {
			if (seg_empty)
				return -1;
			seg_empty = true;
		} else if (name_char_ok(*s)) {
			seg_empty = false;
		} else {
			return -1;
		}
		if (n + 1 >= len)
			return -1;
		out[n++] = *s;
	}
	out[n] = '\0';
	return seg_empty ? -1 : 0;
}

static int parse_v6(const char *value, char *host, struct vip_ref *out, char *err, size_t errlen)
{
	size_t hl = strlen(host);

	if (host[0] == '[') {
		if (hl < 2 || host[hl - 1] != ']')
			goto bad;
		host[hl - 1] = '\0';
		host++;
	}
	if (lb_addr_parse(host, &out->addr) < 0 || out->addr.af != AF_INET6)
		goto bad;
	return 0;
bad:
	errbuf_set(err, errlen, "VIP \"%s\": \"%s\" is not an IPv6 address", value, host);
	return -1;
}

static int parse_host(const char *value, char *host, struct vip_ref *out, char *err, size_t errlen)
{
	if (host[0] == '\0') {
		errbuf_set(err, errlen, "VIP \"%s\": expected an address or a name before the port",
		           value);
		return -1;
	}
	if (host[0] == '[' || strchr(host, ':') != NULL)
		return parse_v6(value, host, out, err, errlen);
	if (all_digits_and_dots(host)) {
		if (lb_addr_parse(host, &out->addr) < 0 || out->addr.af != AF_INET) {
			errbuf_set(err, errlen, "VIP \"%s\": \"%s\" is not an IPv4 address", value,
			           host);
			return -1;
		}
		return 0;
	}
	if (normalise_name(host, out->name, sizeof(out->name)) < 0) {
		errbuf_set(err, errlen,
		           "VIP \"%s\": \"%s\" is not a name (segments of letters, digits, '-', "
		           "'.' or '_' separated by '/')",
		           value, host);
		return -1;
	}
	out->named = true;
	return 0;
}

int vip_parse(const char *value, struct vip_ref *out, char *err, size_t errlen)
{
	char host[VIP_NAME_MAX + 8];
	const char *colon = strrchr(value, ':');
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (colon == NULL) {
		errbuf_set(err, errlen, "VIP \"%s\": expected <address or name>:<port>", value);
		return -1;
	}
	if (parse_port(colon + 1, &out->port) < 0) {
		errbuf_set(err, errlen, "VIP \"%s\": port \"%s\" is not a number from 1 to 65535",
		           value, colon + 1);
		return -1;
	}
	hl = (size_t)(colon - value);
	if (hl >= sizeof(host)) {
		errbuf_set(err, errlen, "VIP \"%s\": longer than %d characters", value,
		           VIP_NAME_MAX);
		return -1;
	}
	memcpy(host, value, hl);
	host[hl] = '\0';
	return parse_host(value, host, out, err, errlen);
}

/* RFC 6901 escaping of one reference token. */
static void pointer_append(char *buf, size_t len, size_t *n, const char *tok)
{
	for (; *tok && *n + 3 < len; tok++) {
		if (*tok == '~') {
			buf[(*n)++] = '~';
			buf[(*n)++] = '0';
		} else if (*tok == '/') {
			buf[(*n)++] = '~';
			buf[(*n)++] = '1';
		} else {
			buf[(*n)++] = *tok;
		}
	}
	buf[*n] = '\0';
}

const char *vip_label_path(const struct app *a, size_t port, const char *key, char *buf, size_t len)
{
	int w =
	    snprintf(buf, len, "%s/%s/%zu/labels/", a->json_path ? a->json_path : "",
	             a->ports_are_mappings ? "container/portMappings" : "portDefinitions", port);
	size_t n;

	if (w < 0 || (size_t)w >= len)
		return buf;
	n = (size_t)w;
	pointer_append(buf, len, &n, key);
	return buf;
}

static int list_push(struct vip_list *l, const struct vip_use *u)
{
	if (VEC_RESERVE(l->items, l->cap, l->n + 1) < 0)
		return -1;
	l->items[l->n++] = *u;
	return 0;
}

bool vip_addr_is_private(const struct lb_addr *a)
{
	const uint8_t *b = a->af == AF_INET ? (const uint8_t *)&a->u.v4.s_addr : a->u.v6.s6_addr;

	if (a->af == AF_INET6)
		return (b[0] & 0xfe) == 0xfc;
	return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168);
}

/* An address label the allocator could also give to a name is refused; one
 * outside the private ranges is kept with a warning. 0 to keep the use. */
static int check_address(const struct app *a, const char *path, const char *value,
                         const struct vip_ref *ref, const struct vip_ranges *ranges,
                         struct diag_list *diags)
{
	const struct vip_range *r = ref->addr.af == AF_INET ? &ranges->v4 : &ranges->v6;
	char addr[INET6_ADDRSTRLEN], rbuf[2 * INET6_ADDRSTRLEN + 2];

	lb_addr_format(&ref->addr, addr, sizeof(addr));
	if (vip_range_contains(r, &ref->addr)) {
		diag_add(diags, DIAG_ERROR, a->source, path,
		         "VIP \"%s\": %s is inside the named-VIP range %s, where names get their "
		         "addresses; use a name (/app:port) or an address outside it",
		         value, addr, vip_range_format(r, rbuf, sizeof(rbuf)));
		return -1;
	}
	if (!vip_addr_is_private(&ref->addr))
		diag_add(diags, DIAG_WARNING, a->source, path,
		         "VIP \"%s\": %s is not a private address (%s): it may be in use elsewhere "
		         "in the network, and this node would send traffic for it to the VIP",
		         value, addr, ref->addr.af == AF_INET ? "RFC 1918" : "IPv6 ULA fc00::/7");
	return 0;
}

static int collect_port(const struct apps_set *set, const struct vip_ranges *ranges, size_t ai,
                        size_t pi, struct vip_list *out, struct diag_list *diags)
{
	const struct app *a = &set->apps[ai];
	const struct port_def *pd = &a->ports[pi];
	char err[512], path[1024];

	for (size_t li = 0; li < pd->nlabels; li++) {
		struct vip_use u = {.app = ai, .port = pi, .label = li};
		const struct label *l = &pd->labels[li];

		if (!vip_label_is_vip(l->key))
			continue;
		vip_label_path(a, pi, l->key, path, sizeof(path));
		if (vip_parse(l->value, &u.ref, err, sizeof(err)) < 0) {
			diag_add(diags, DIAG_ERROR, a->source, path, "%s", err);
			continue;
		}
		if (!u.ref.named && check_address(a, path, l->value, &u.ref, ranges, diags) < 0)
			continue;
		u.protocols = pd->protocols ? pd->protocols : PORT_PROTO_TCP;
		if (list_push(out, &u) < 0)
			return -1;
	}
	return 0;
}

int vip_collect_in(const struct apps_set *set, const struct vip_ranges *ranges,
                   struct vip_list *out, struct diag_list *diags)
{
	struct vip_ranges defaults;

	if (ranges == NULL) {
		vip_ranges_default(&defaults);
		ranges = &defaults;
	}
	for (size_t ai = 0; ai < set->napps; ai++)
		for (size_t pi = 0; pi < set->apps[ai].nports; pi++)
			if (collect_port(set, ranges, ai, pi, out, diags) < 0)
				return -1;
	return 0;
}

int vip_collect(const struct apps_set *set, struct vip_list *out, struct diag_list *diags)
{
	return vip_collect_in(set, NULL, out, diags);
}

void vip_list_free(struct vip_list *l)
{
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static size_t keys_at(const struct vip_use *u, const struct lb_addr *addr, struct lb_key keys[2])
{
	static const uint8_t protocols[] = {IPPROTO_TCP, IPPROTO_UDP};
	static const unsigned flags[] = {PORT_PROTO_TCP, PORT_PROTO_UDP};
	size_t n = 0;

	/* field by field on zeroed keys: a compound literal leaves the padding
	 * unset, and desired states are compared byte for byte */
	memset(keys, 0, 2 * sizeof(*keys));
	for (size_t i = 0; i < 2; i++) {
		if (!(u->protocols & flags[i]))
			continue;
		keys[n].addr = *addr;
		keys[n].port = u->ref.port;
		keys[n++].protocol = protocols[i];
	}
	return n;
}

size_t vip_keys_af(const struct vip_use *u, const struct vip_alloc *va, int af,
                   struct lb_key keys[2])
{
	struct lb_addr addr = u->ref.addr;
	int rc;

	if (!u->ref.named)
		return addr.af == af ? keys_at(u, &addr, keys) : 0;
	if (va == NULL)
		return 0;
	rc = af == AF_INET6 ? vip_name_address6(va, u->ref.name, &addr)
	                    : vip_name_address(va, u->ref.name, &addr);
	return rc < 0 ? 0 : keys_at(u, &addr, keys);
}
