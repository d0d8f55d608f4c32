/*
 * DC/OS VIP labels on port definitions and port mappings: reading them, and
 * giving named VIPs (/web:80) an address that every node computes alike
 * (the allocation policy: docs/dataplane.md, "Named VIP addresses").
 */
#ifndef VIPD_VIP_H
#define VIPD_VIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vipd/lbtable.h"
#include "vipd/model.h"

#define VIP_NAME_MAX 256

/* One label's value: an address (10.0.0.9:80, fd00::9:80, [fd00::9]:80) or
 * a name (/prod/web:80, web:80), always with a port. */
struct vip_ref {
	bool named;
	char name[VIP_NAME_MAX]; /* named: normalised with one leading '/' */
	struct lb_addr addr;     /* !named */
	uint16_t port;
};

/* One VIP label found on an app's port. */
struct vip_use {
	size_t app;         /* index into apps_set.apps */
	size_t port;        /* index into app.ports */
	size_t label;       /* index into the port's labels */
	unsigned protocols; /* PORT_PROTO_* of the port (TCP when it has none) */
	struct vip_ref ref;
};

struct vip_list {
	struct vip_use *items;
	size_t n;
	size_t cap;
};

/* DC/OS treats every label whose key starts with "VIP" or "vip" as a VIP
 * (VIP_0, vip-web...). vipd's own labels start with "VIPD_" and are not. */
bool vip_label_is_vip(const char *key);

/* Splits at the last ':' as DC/OS does, so a bare IPv6 address keeps its
 * colons: "fd00::9:80" is fd00::9 port 80. Before it, a '[' or a ':' means
 * IPv6, only digits and dots IPv4, anything else a name ("web:80" names
 * /web). -1 with a message that quotes the value and says what was
 * expected. */
int vip_parse(const char *value, struct vip_ref *out, char *err, size_t errlen);

/* Every VIP label of every app, in app, port, label order. A malformed label
 * is one DIAG_ERROR at <app json_path>/portDefinitions/<i>/labels/<KEY>
 * (container/portMappings for port mappings) and is skipped alone. -1 only
 * when out of memory. */
int vip_collect(const struct apps_set *set, struct vip_list *out, struct diag_list *diags);
struct vip_ranges;
/* The same with the named-VIP ranges given (NULL: the defaults). An address
 * label inside a named range is a located error and skipped (the allocator
 * may give that address to a name); an address outside the private ranges
 * (RFC 1918, IPv6 ULA fc00::/7) is kept with a located warning. */
int vip_collect_in(const struct apps_set *set, const struct vip_ranges *ranges,
                   struct vip_list *out, struct diag_list *diags);
/* RFC 1918 for IPv4, ULA (fc00::/7) for IPv6. */
bool vip_addr_is_private(const struct lb_addr *a);
void vip_list_free(struct vip_list *l);

/* The JSON pointer of a port's label, as vip_collect reports it. */
const char *vip_label_path(const struct app *a, size_t port, const char *key, char *buf,
                           size_t len);

/*
 * Named VIP addresses (vip_alloc.c): one in the IPv4 range and one in the
 * IPv6 range per name, a pure function of the set of names (and, with
 * vip_alloc_assign, of the recorded assignments), so that every node given
 * the same input computes the same addresses. A name's home is
 * FNV-1a(name) mod the range's size; collisions are settled in (home, name)
 * order, each name taking the first free address from its home upward.
 */
struct vip_range {
	struct lb_addr first, last; /* both included; same family; IPv6 within one /64 */
};

struct vip_ranges {
	struct vip_range v4, v6;
};

#define VIP_RANGE4_DEFAULT "11.0.0.0-11.255.255.254"
#define VIP_RANGE6_DEFAULT "fd01:c::-fd01:c::ffff:ffff:ffff:ffff"

void vip_ranges_default(struct vip_ranges *r);
/* "FIRST-LAST" of family af (AF_INET or AF_INET6). -1 with a message that
 * quotes the text and says what was expected. */
int vip_range_parse(const char *text, int af, struct vip_range *out, char *err, size_t errlen);
bool vip_range_contains(const struct vip_range *r, const struct lb_addr *a);
/* "11.0.0.0-11.255.255.254"; returns buf. */
const char *vip_range_format(const struct vip_range *r, char *buf, size_t len);

struct vip_alloc_entry {
	char *name;
	struct lb_addr addr;  /* IPv4 */
	struct lb_addr addr6; /* IPv6 */
};

struct vip_alloc {
	struct vip_alloc_entry *items; /* sorted by name */
	size_t n;
};

#define VIP_ALLOC_RANGE 0xffffffu /* addresses in 11.0.0.0-11.255.255.254 */

/* The IPv4 home in the default range. */
uint32_t vip_name_home(const char *name);
/* The home offset in range r. */
uint64_t vip_name_home_in(const struct vip_range *r, const char *name);
/* Names may repeat. -1 with err filled when out of memory or when there are
 * more names than addresses. vip_alloc_build uses the default ranges. */
int vip_alloc_build(struct vip_alloc *va, const char *const *names, size_t n, char *err,
                    size_t errlen);
/* ranges NULL: the defaults. */
int vip_alloc_build_in(struct vip_alloc *va, const char *const *names, size_t n,
                       const struct vip_ranges *ranges, char *err, size_t errlen);
/* The allocation for every named use in vl (ranges NULL: the defaults). */
int vip_alloc_from_list(struct vip_alloc *va, const struct vip_list *vl,
                        const struct vip_ranges *ranges, char *err, size_t errlen);
/* -1 when the name was not in the set given to vip_alloc_build. */
int vip_name_address(const struct vip_alloc *va, const char *name, struct lb_addr *out);
int vip_name_address6(const struct vip_alloc *va, const char *name, struct lb_addr *out);
void vip_alloc_free(struct vip_alloc *va);

/*
 * Recorded assignments (vip_assign.c): a recorded name keeps its addresses
 * while it exists; an address whose name went stays reserved for a
 * quarantine period (why: docs/dataplane.md). Pure: time is passed in
 * (wall-clock seconds, so a freeing time recorded in the state file
 * survives restarts).
 */
struct vip_record {
	char name[VIP_NAME_MAX];
	struct lb_addr addr;  /* IPv4; af 0: none */
	struct lb_addr addr6; /* IPv6; af 0: none */
	int64_t freed_at;     /* wall-clock seconds when the name went; 0: in use */
};

struct vip_records {
	struct vip_record *items; /* sorted by name, each name once */
	size_t n;
};

/* A recorded address that had to change (it is outside a changed range). */
struct vip_move {
	char name[VIP_NAME_MAX];
	struct lb_addr from, to;
};

struct vip_assign_in {
	const struct vip_ranges *ranges;    /* NULL: the defaults */
	const struct vip_records *recorded; /* NULL: none */
	int64_t now_s;
	int64_t quarantine_s;
};

/* The allocation of names: a name recorded in use keeps its addresses when
 * they are in range (of two reserved records with one address, the name that
 * sorts first keeps it); a new name (or one whose address left the range)
 * takes the first address from its home upward that is neither in use nor in
 * quarantine (names in (home, name) order, as vip_alloc_build_in); only when
 * every free address is in quarantine does it take one of those. -1 with err
 * when out of memory or when there are more names than addresses. */
int vip_alloc_assign(struct vip_alloc *va, const char *const *names, size_t n,
                     const struct vip_assign_in *in, char *err, size_t errlen);
/* The records after an allocation: every allocated name in use with its
 * addresses; a recorded name no longer allocated freed at now (or at its
 * recorded freeing time), dropped once its quarantine is over. *moves
 * (calloc'd, NULL when none) lists each in-use name whose address changed.
 * -1: out of memory. */
int vip_records_next(const struct vip_records *recorded, const struct vip_alloc *va, int64_t now_s,
                     int64_t quarantine_s, struct vip_records *next, struct vip_move **moves,
                     size_t *nmoves);
bool vip_records_equal(const struct vip_records *a, const struct vip_records *b);
/* Adds or replaces name's record and keeps the set sorted. -1: out of memory. */
int vip_records_put(struct vip_records *r, const struct vip_record *rec);
const struct vip_record *vip_records_find(const struct vip_records *r, const char *name);
void vip_records_free(struct vip_records *r);

/* The service keys of a VIP use in one family (AF_INET or AF_INET6): one
 * per protocol (tcp,udp gives two), at its address when that is of the
 * family, or at a named ref's address of the family in va. Returns the
 * number of keys (0 when a name is not allocated or va is NULL). */
size_t vip_keys_af(const struct vip_use *u, const struct vip_alloc *va, int af,
                   struct lb_key keys[2]);

#endif
