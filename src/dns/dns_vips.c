/*
 * The DNS names of named VIPs: the same labels and allocation desired_build
 * uses, kept to the services the kernel has (DC/OS resolved names before
 * their service existed, and clients reached whatever listened there).
 */
#include "vipd/dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/errbuf.h"
#include "vipd/fqdn.h"
#include "vipd/vip.h"

/* Which of the name's two addresses have a programmed service. */
static unsigned programmed_families(const struct vip_use *u, const struct vip_alloc *va,
                                    const struct lb_keyset *programmed, struct lb_addr addrs[2])
{
	unsigned found = 0;

	if (vip_name_address(va, u->ref.name, &addrs[0]) < 0 ||
	    vip_name_address6(va, u->ref.name, &addrs[1]) < 0)
		return 0;
	for (int f = 0; f < 2; f++) {
		for (int p = 0; p < 2; p++) {
			struct lb_key k = {.addr = addrs[f],
			                   .port = u->ref.port,
			                   .protocol = p ? IPPROTO_UDP : IPPROTO_TCP};
			unsigned bit = p ? PORT_PROTO_UDP : PORT_PROTO_TCP;

			if ((u->protocols & bit) && lb_keyset_contains(programmed, &k))
				found |= 1u << (f * 2 + p);
		}
	}
	return found;
}

static int add_srvs(struct dns_records *out, const char *port_name, const char *fqdn,
                    unsigned protos, uint16_t port)
{
	char label[FQDN_LABEL_MAX + 1], name[512];

	if (port_name == NULL || fqdn_label(port_name, label, sizeof(label)) < 0)
		return 0;
	for (int p = 0; p < 2; p++) {
		if (!(protos & (p ? PORT_PROTO_UDP : PORT_PROTO_TCP)))
			continue;
		snprintf(name, sizeof(name), "_%s._%s.%s", label, p ? "udp" : "tcp", fqdn);
		if (dns_records_add_srv(out, name, fqdn, port) < 0)
			return -1;
	}
	return 0;
}

static int add_use(const struct apps_set *set, const struct vip_use *u, const struct vip_alloc *va,
                   const struct lb_keyset *programmed, const struct dns_naming *naming,
                   struct dns_records *out)
{
	const struct port_def *pd = &set->apps[u->app].ports[u->port];
	struct lb_addr addrs[2];
	unsigned found = programmed_families(u, va, programmed, addrs);
	unsigned protos = 0;
	char fqdn[FQDN_NAME_MAX + 1], err[256];

	if (found == 0)
		return 0;
	for (int p = 0; p < 2; p++)
		if (found & (1u << p | 1u << (2 + p)))
			protos |= p ? PORT_PROTO_UDP : PORT_PROTO_TCP;
	for (size_t z = 0; z < naming->nzones; z++) {
		/* A name with no usable label has no FQDN; vipctl vips shows it. */
		if (fqdn_build(u->ref.name, naming->framework, naming->zones[z], fqdn, sizeof(fqdn),
		               err, sizeof(err)) < 0)
			continue;
		for (int f = 0; f < 2; f++)
			if ((found & (3u << (f * 2))) &&
			    dns_records_add_addr(out, fqdn, &addrs[f]) < 0)
				return -1;
		if (add_srvs(out, pd->name, fqdn, protos, u->ref.port) < 0)
			return -1;
	}
	return 0;
}

int dns_records_from_vips(const struct apps_set *set, const struct lb_keyset *programmed,
                          const struct dns_naming *naming, struct dns_records *out, char *err,
                          size_t errlen)
{
	struct diag_list ignored = {0}; /* desired_build reports the labels' problems */
	struct vip_list vl = {0};
	struct vip_alloc va = {0};
	int rc = -1;

	dns_records_init(out, naming->ttl);
	for (size_t z = 0; z < naming->nzones; z++)
		if (dns_records_add_zone(out, naming->zones[z]) < 0)
			goto nomem;
	/* The same ranges as the desired table, or names point at nothing. */
	if (vip_collect_in(set, naming->ranges, &vl, &ignored) < 0)
		goto nomem;
	if (naming->alloc == NULL && vip_alloc_from_list(&va, &vl, naming->ranges, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < vl.n; i++)
		if (vl.items[i].ref.named &&
		    add_use(set, &vl.items[i], naming->alloc ? naming->alloc : &va, programmed,
		            naming, out) < 0)
			goto nomem;
	if (dns_records_finish(out) < 0)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	errbuf_set(err, errlen, "dns: out of memory");
out:
	if (rc < 0)
		dns_records_free(out);
	vip_alloc_free(&va);
	vip_list_free(&vl);
	diag_list_free(&ignored);
	return rc;
}
