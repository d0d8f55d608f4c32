/*
 * The named VIPs' recorded addresses: kept in memory for the allocator,
 * saved in lb.state_file on a single node, so that a name keeps its address
 * whatever names come and across restarts, and a freed address waits out
 * its quarantine (docs/cluster-keys.md has the cluster's copy in etcd).
 */
#include <string.h>
#include <time.h>

#include "engine.h"
#include "vipd/log.h"

int64_t engine_wall_s(void)
{
	struct timespec ts;

	/* Wall clock, not monotonic: a freeing time must mean the same after a
	 * reboot. A clock stepped back only lengthens a quarantine. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t engine_vip_quarantine_s(const struct engine *e)
{
	return config_vip_quarantine_s(&e->cfg);
}

/* They are kept in lb.state_file: with IPVS (beside the owned set), and
 * without it only when the file was named, so that a plan-only run never
 * writes the system's /run/vipd. A single node's are the records; a cluster
 * node's are a copy of etcd's, used only until etcd is first read. */
static bool records_on_disk(const struct engine *e)
{
	if (e->cfg.state_file == NULL)
		return false;
	return e->cfg.ipvs || strcmp(e->cfg.state_file, VIPD_STATE_FILE_DEFAULT) != 0;
}

int engine_vips_load(struct engine *e, char *err, size_t errlen)
{
	if (!records_on_disk(e))
		return 0;
	return dataplane_state_load_vips(e->cfg.state_file, &e->vip_records, err, errlen);
}

/* In a cluster etcd keeps the out-of-range record, so every build finds the
 * same move again: it is said once per move. */
static bool move_said(struct engine *e, const struct vip_move *m)
{
	const struct vip_record *said = vip_records_find(&e->vip_moved, m->name);
	struct vip_record rec = {0};

	if (e->cfg.cluster_endpoints == NULL)
		return false;
	if (said != NULL) {
		rec = *said;
		if (lb_addr_cmp(m->to.af == AF_INET ? &rec.addr : &rec.addr6, &m->to) == 0)
			return true;
	}
	(void)snprintf(rec.name, sizeof(rec.name), "%s", m->name);
	*(m->to.af == AF_INET ? &rec.addr : &rec.addr6) = m->to;
	(void)vip_records_put(&e->vip_moved, &rec);
	return false;
}

/* out_of_range: the range changed under a recorded address. conflict (a
 * cluster only): two names created in the same instant on two nodes were
 * recorded with the same address; the one sorting first keeps it. */
static const char *move_reason(const struct engine *e, const struct vip_move *m)
{
	const struct vip_range *r =
	    m->from.af == AF_INET ? &e->cfg.vip_ranges.v4 : &e->cfg.vip_ranges.v6;

	return vip_range_contains(r, &m->from) ? "conflict" : "out_of_range";
}

static void audit_move(struct engine *e, const struct vip_move *m)
{
	char from[INET6_ADDRSTRLEN], to[INET6_ADDRSTRLEN];
	const char *reason = move_reason(e, m);

	if (move_said(e, m))
		return;
	log_warnx("named VIP %s moved from %s to %s (%s)", m->name,
	          lb_addr_format(&m->from, from, sizeof(from)),
	          lb_addr_format(&m->to, to, sizeof(to)),
	          strcmp(reason, "conflict") == 0
	              ? "another name created at the same time was recorded with it"
	              : "its address is outside the configured range");
	audit_emit(e->audit, "vip_move",
	           json_pack("{s:s, s:s, s:s, s:s}", "name", m->name, "from", from, "to", to,
	                     "reason", reason));
}

void engine_vips_record(struct engine *e, const struct vip_alloc *va)
{
	struct vip_records next;
	struct vip_move *moves;
	size_t nmoves;

	if (vip_records_next(&e->vip_records, va, engine_wall_s(), engine_vip_quarantine_s(e),
	                     &next, &moves, &nmoves) < 0) {
		log_warnx("named VIPs: out of memory recording their addresses");
		return;
	}
	for (size_t i = 0; i < nmoves; i++)
		audit_move(e, &moves[i]);
	free(moves);
	if (e->cfg.cluster_endpoints != NULL) {
		/* etcd holds the records (engine_cluster.c), never freed there */
		vip_records_free(&next);
		engine_cluster_claim_vips(e, va);
		return;
	}
	if (vip_records_equal(&next, &e->vip_records)) {
		vip_records_free(&next);
		return;
	}
	vip_records_free(&e->vip_records);
	e->vip_records = next;
	engine_vips_save(e);
}

void engine_vips_save(struct engine *e)
{
	char err[512];

	if (records_on_disk(e) &&
	    dataplane_state_save_vips(e->cfg.state_file, &e->vip_records, err, sizeof(err)) < 0)
		log_warnx("named VIPs' addresses not saved (kept in memory): %s", err);
}
