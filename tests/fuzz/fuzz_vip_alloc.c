/* libFuzzer target: named-VIP allocation is a pure function of the set of
 * names. The input is one byte choosing the ranges (small ones force
 * collisions and wrap-around) and then names, one per line; the same names
 * allocated in another order, with repeats, must give the same addresses,
 * each inside its range and none shared. Each line is also read as a VIP
 * label, whose service keys must agree with the allocation. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vipd/vip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 256

/* Ranges that make collisions likely: a full range, one across an octet
 * boundary, the end of a /64 (the wrap from last back to first). */
static const char *const ranges4[] = {
    VIP_RANGE4_DEFAULT,
    "10.0.0.0-10.0.0.7",
    "10.0.0.250-10.0.1.9",
    "192.168.7.7-192.168.7.7",
};
static const char *const ranges6[] = {
    VIP_RANGE6_DEFAULT,
    "fd02::-fd02::7",
    "fd02::ffff:ffff:ffff:fffa-fd02::ffff:ffff:ffff:ffff",
    "fd02:0:0:1::-fd02:0:0:1:ffff:ffff:ffff:ffff",
};

static void pick_ranges(uint8_t sel, struct vip_ranges *r)
{
	char err[256];

	if (vip_range_parse(ranges4[sel & 3], AF_INET, &r->v4, err, sizeof(err)) < 0 ||
	    vip_range_parse(ranges6[(sel >> 2) & 3], AF_INET6, &r->v6, err, sizeof(err)) < 0)
		abort();
}

/* Lines of the input as C strings (a NUL ends a name early, as in a label). */
static size_t split_names(const uint8_t *data, size_t size, char *buf, const char **names)
{
	size_t n = 0;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *line = buf; n < MAX_NAMES;) {
		char *nl = memchr(line, '\n', (size_t)(buf + size - line));

		names[n++] = line;
		if (nl == NULL)
			break;
		*nl = '\0';
		line = nl + 1;
	}
	return n;
}

static void check_same(const struct vip_alloc *a, const struct vip_alloc *b,
                       const struct vip_ranges *r)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct vip_alloc_entry *x = &a->items[i], *y = &b->items[i];

		if (strcmp(x->name, y->name) != 0 || lb_addr_cmp(&x->addr, &y->addr) != 0 ||
		    lb_addr_cmp(&x->addr6, &y->addr6) != 0)
			abort();
		if (!vip_range_contains(&r->v4, &x->addr) || !vip_range_contains(&r->v6, &x->addr6))
			abort();
		if (i > 0 && strcmp(a->items[i - 1].name, x->name) >= 0)
			abort();
		/* Distinct names, distinct addresses (the sets are small here). */
		for (size_t j = 0; j < i; j++)
			if (lb_addr_cmp(&a->items[j].addr, &x->addr) == 0 ||
			    lb_addr_cmp(&a->items[j].addr6, &x->addr6) == 0)
				abort();
	}
}

/* A line read as a label: its keys in each family must be the allocation's
 * address (named) or its own address in its own family only. */
static void check_label(const char *line, const struct vip_alloc *va)
{
	struct vip_use u = {.protocols = PORT_PROTO_TCP | PORT_PROTO_UDP};
	struct lb_key keys[2];
	struct lb_addr want;
	char err[256];

	if (vip_parse(line, &u.ref, err, sizeof(err)) < 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return;
	}
	for (int f = 0; f < 2; f++) {
		int af = f ? AF_INET6 : AF_INET;
		size_t nk = vip_keys_af(&u, va, af, keys);
		int found;

		if (!u.ref.named) {
			if (nk != (u.ref.addr.af == af ? 2u : 0u))
				abort();
			continue;
		}
		found = f ? vip_name_address6(va, u.ref.name, &want)
		          : vip_name_address(va, u.ref.name, &want);
		if (nk != (found == 0 ? 2u : 0u))
			abort();
		for (size_t k = 0; k < nk; k++)
			if (lb_addr_cmp(&keys[k].addr, &want) != 0 || keys[k].port != u.ref.port)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[MAX_NAMES], *other[2 * MAX_NAMES];
	struct vip_alloc a = {0}, b = {0};
	struct vip_ranges r;
	char err1[256], err2[256];
	char *buf;
	size_t n;
	int rc1, rc2;

	if (size == 0)
		return 0;
	pick_ranges(data[0], &r);
	buf = malloc(size);
	if (buf == NULL)
		return 0;
	n = split_names(data + 1, size - 1, buf, names);
	/* Reversed, each name twice: order and repeats must not matter. */
	for (size_t i = 0; i < n; i++) {
		other[i] = names[n - 1 - i];
		other[n + i] = names[(i * 7 + 3) % n];
	}
	rc1 = vip_alloc_build_in(&a, names, n, &r, err1, sizeof(err1));
	rc2 = vip_alloc_build_in(&b, other, 2 * n, &r, err2, sizeof(err2));
	if (rc1 != rc2)
		abort();
	if (rc1 < 0) {
		/* More names than addresses: the same refusal both times. */
		if (strcmp(err1, err2) != 0 || a.n != 0 || b.n != 0)
			abort();
	} else {
		check_same(&a, &b, &r);
		for (size_t i = 0; i < n; i++) {
			if (vip_name_home_in(&r.v4, names[i]) >
			    ntohl(r.v4.last.u.v4.s_addr) - ntohl(r.v4.first.u.v4.s_addr))
				abort();
			check_label(names[i], &a);
		}
	}
	vip_alloc_free(&a);
	vip_alloc_free(&b);
	free(buf);
	return 0;
}
