/*
 * Which VIP names the DNS server answers around a reconcile round: a name
 * is answered only while its service is in the kernel. DC/OS answered
 * before its service existed, and clients reached whatever listened there.
 * The rule is engine_dns_answerable (pure); the rest hands its answer to the
 * DNS server.
 */
#include "engine.h"
#include "vipd/log.h"

/* out = keys of `from` that are also in `planned` (sorted). */
static int keys_planned(const struct lb_keyset *from, const struct lb_keyset *planned,
                        struct lb_keyset *out)
{
	for (size_t i = 0; from && i < from->n; i++)
		if (lb_keyset_contains(planned, &from->keys[i]) &&
		    lb_keyset_add(out, &from->keys[i]) < 0)
			return -1;
	return 0;
}

int engine_dns_answerable(enum engine_dns_phase phase, const struct lb_keyset *served,
                          const struct lb_keyset *planned, const struct lb_keyset *added,
                          struct lb_keyset *out)
{
	switch (phase) {
	case ENGINE_DNS_BEFORE_APPLY:
		if (keys_planned(served, planned, out) < 0)
			return -1;
		break;
	case ENGINE_DNS_AFTER_COMPLETE:
		for (size_t i = 0; i < planned->n; i++)
			if (lb_keyset_add(out, &planned->keys[i]) < 0)
				return -1;
		break;
	case ENGINE_DNS_AFTER_INCOMPLETE:
		if (keys_planned(served, planned, out) < 0 || keys_planned(added, planned, out) < 0)
			return -1;
		break;
	}
	lb_keyset_sort(out);
	return 0;
}

/* Answers names for the services in `served` (sorted), which it takes. */
static void dns_serve(struct engine *e, struct lb_keyset *served)
{
	struct dns_naming naming = {
	    .ranges = &e->cfg.vip_ranges,
	    .framework = e->cfg.dns_framework,
	    .zones = (const char *const *)e->cfg.dns_zones,
	    .nzones = e->cfg.dns_nzones,
	    .ttl = e->cfg.dns_ttl,
	    .alloc = e->dindex_valid ? &e->dindex.alloc : NULL,
	};
	struct dns_records r;
	char err[256];

	lb_keyset_free(&e->dns_served);
	e->dns_served = *served;
	lb_keyset_init(served);
	if (dns_records_from_vips(&e->apps, &e->dns_served, &naming, &r, err, sizeof(err)) < 0) {
		log_warnx("DNS records not updated: %s", err);
		return;
	}
	dns_server_set_records(e->dns, &r);
}

void engine_dns_before_apply(struct engine *e, const struct lb_keyset *planned)
{
	struct lb_keyset kept;

	lb_keyset_free(&e->dns_added);
	lb_keyset_init(&e->dns_added);
	if (!e->dns)
		return;
	lb_keyset_init(&kept);
	if (engine_dns_answerable(ENGINE_DNS_BEFORE_APPLY, &e->dns_served, planned, NULL, &kept) <
	    0)
		log_warnx("out of memory updating DNS");
	else if (kept.n != e->dns_served.n)
		dns_serve(e, &kept);
	lb_keyset_free(&kept);
}

void engine_dns_after_apply(struct engine *e, const struct lb_keyset *planned, bool complete)
{
	struct lb_keyset now;

	if (!e->dns)
		return;
	lb_keyset_sort(&e->dns_added);
	lb_keyset_init(&now);
	if (engine_dns_answerable(complete ? ENGINE_DNS_AFTER_COMPLETE
	                                   : ENGINE_DNS_AFTER_INCOMPLETE,
	                          &e->dns_served, planned, &e->dns_added, &now) < 0)
		log_warnx("out of memory updating DNS");
	else
		dns_serve(e, &now);
	lb_keyset_free(&now);
}

void engine_dns_note_op(struct engine *e, const struct rc_op *op, int error)
{
	if (e->dns && !error && (op->kind == RC_ADD_SERVICE || op->kind == RC_EDIT_SERVICE) &&
	    lb_keyset_add(&e->dns_added, &op->svc) < 0)
		log_warnx("out of memory noting a service for DNS");
}
