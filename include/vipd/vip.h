/*
 * DC/OS VIP labels on port definitions and port mappings: reading them, and
 * giving named VIPs (/web:80) an address that every node computes alike.
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
 * colons: "fd00::9:80" is fd00::9 port 80. Text without a '/' or ':' that is
 * not all digits and dots is a name ("web:80" names /web). -1 with a message
 * that quotes the value and says what was expected. */
int vip_parse(const char *value, struct vip_ref *out, char *err, size_t errlen);

/* Every VIP label of every app, in app, port, label order. A malformed label
 * is one DIAG_ERROR at <app json_path>/portDefinitions/<i>/labels/<KEY>
 * (container/portMappings for port mappings) and is skipped alone. -1 only
 * when out of memory. */
int vip_collect(const struct apps_set *set, struct vip_list *out, struct diag_list *diags);
void vip_list_free(struct vip_list *l);

/* The JSON pointer of a port's label, as vip_collect reports it. */
const char *vip_label_path(const struct app *a, size_t port, const char *key, char *buf,
                           size_t len);

/*
 * Named VIP addresses (vip_alloc.c). A name's home is FNV-1a-32(name) mod
 * (2^24 - 1) as an offset from 11.0.0.0, so 11.0.0.0-11.255.255.254, DC/OS's
 * range for named VIPs. Collisions are settled independently of the order
 * names arrive in: the distinct names are sorted by (home, name) and each in
 * turn takes the first free offset from its home upward, wrapping to
 * 11.0.0.0 after 11.255.255.254. So every node with the same set of names
 * gets the same addresses; a new name can move only names whose homes it
 * shares or crowds, never others.
 */
struct vip_alloc_entry {
	char *name;
	struct lb_addr addr;
};

struct vip_alloc {
	struct vip_alloc_entry *items; /* sorted by name */
	size_t n;
};

#define VIP_ALLOC_RANGE 0xffffffu /* addresses in 11.0.0.0-11.255.255.254 */

uint32_t vip_name_home(const char *name);
/* Names may repeat. -1 with err filled when out of memory or when there are
 * more names than addresses. */
int vip_alloc_build(struct vip_alloc *va, const char *const *names, size_t n, char *err,
                    size_t errlen);
/* -1 when the name was not in the set given to vip_alloc_build. */
int vip_name_address(const struct vip_alloc *va, const char *name, struct lb_addr *out);
void vip_alloc_free(struct vip_alloc *va);

/* The service keys of a VIP use: one per protocol (tcp,udp gives two). A
 * named ref needs va. Returns the number of keys (0 when a name is not
 * allocated). */
size_t vip_keys(const struct vip_use *u, const struct vip_alloc *va, struct lb_key keys[2]);

#endif
