/*
 * The data plane's reconcile round: read the kernel's IPVS table, plan with
 * the reconciler against the desired table, apply the plan in one batch,
 * converge the VIP routes (vipif) around it, and persist the owned set. It owns
 * the IPVS handle, the VIP interface handle and the owned set.
 */
#include "vipd/dataplane.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vipd/vipif.h"
#include "vipd/errbuf.h"

#include "dataplane_int.h"
#include "vipd/vec.h"

static int apply_timeouts(struct dataplane *dp, const struct dataplane_settings *s, char *err,
                          size_t errlen)
{
	struct ipvs_timeouts t = {
	    .tcp = s->timeout_tcp, .tcp_fin = s->timeout_tcpfin, .udp = s->timeout_udp};

	if (t.tcp == 0 && t.tcp_fin == 0 && t.udp == 0)
		return 0;
	return ipvs_timeouts_set(dp->nl, &t, err, errlen);
}

int dataplane_open(struct dataplane **out, const struct dataplane_settings *s, char *err,
                   size_t errlen)
{
	struct dataplane *dp = calloc(1, sizeof(*dp));

	*out = NULL;
	if (dp == NULL) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		return -1;
	}
	dp->state_lock_fd = -1;
	lb_keyset_init(&dp->owned);
	lb_table_init(&dp->kernel);
	/* IPVS first, so a kernel without it is what start-up says; then the
	 * state file's lock: a second vipd is refused before it changes
	 * anything in the kernel. */
	if (ipvs_open(&dp->nl, err, errlen) < 0)
		goto fail;
	if (s->state_path != NULL) {
		dp->state_path = strdup(s->state_path);
		if (dp->state_path == NULL) {
			errbuf_set(err, errlen, "dataplane: out of memory");
			goto fail;
		}
		dp->state_lock_fd = dataplane_state_lock(dp->state_path, err, errlen);
		if (dp->state_lock_fd < 0)
			goto fail;
	}
	if (dataplane_sysctls_apply(err, errlen) < 0)
		goto fail;
	if (apply_timeouts(dp, s, err, errlen) < 0)
		goto fail;
	if (s->interface != NULL &&
	    vipif_open(&dp->vif, s->interface, s->source_address, err, errlen) < 0)
		goto fail;
	if (dp->state_path != NULL &&
	    dataplane_state_load(dp->state_path, &dp->owned, err, errlen) < 0)
		goto fail;
	lb_keyset_sort(&dp->owned);
	*out = dp;
	return 0;
fail:
	dataplane_close(dp);
	return -1;
}

void dataplane_close(struct dataplane *dp)
{
	if (dp == NULL)
		return;
	dataplane_detach(dp);
	ipvs_close(dp->nl);
	vipif_close(dp->vif);
	lb_keyset_free(&dp->owned);
	lb_table_free(&dp->kernel);
	free(dp->state_path);
	if (dp->state_lock_fd >= 0)
		close(dp->state_lock_fd);
	free(dp);
}

const struct lb_keyset *dataplane_owned(const struct dataplane *dp)
{
	return &dp->owned;
}

/* ---- observing ---- */

struct lb_service *dataplane_observed_add(struct lb_table *out, const struct ipvs_service *is,
                                          const struct ipvs_dest *dests, size_t n)
{
	struct lb_key key;
	char sched[LB_SCHED_MAX];
	uint32_t flags;
	struct lb_service *s;

	if (dataplane_service_from_ipvs(is, &key, sched, &flags) < 0)
		return NULL;
	s = lb_table_add_service(out, &key);
	if (s == NULL)
		return NULL;
	memcpy(s->sched, sched, sizeof(s->sched));
	s->flags = flags;
	for (size_t i = 0; i < n; i++) {
		struct lb_dest d;

		dataplane_dest_from_ipvs(&dests[i], &d);
		if (i == 0)
			s->fwd = d.fwd;
		if (lb_service_add_dest(s, &d) < 0)
			return NULL;
	}
	return s;
}

/* A service removed between the services dump and its dests dump is simply
 * not there: ESRCH is not an error. */
static int observe_service(struct dataplane *dp, const struct ipvs_service *is,
                           struct lb_table *out, char *err, size_t errlen)
{
	struct lb_key key;
	char sched[LB_SCHED_MAX];
	uint32_t flags;
	struct ipvs_dest *dests = NULL;
	size_t n = 0;

	if (dataplane_service_from_ipvs(is, &key, sched, &flags) < 0)
		return 0;
	if (ipvs_dests_dump(dp->nl, is, &dests, &n, err, errlen) < 0)
		return ipvs_last_errno(dp->nl) == ESRCH ? 0 : -1;
	if (dataplane_observed_add(out, is, dests, n) == NULL) {
		free(dests);
		errbuf_set(err, errlen, "dataplane: observe: out of memory");
		return -1;
	}
	free(dests);
	return 0;
}

int dataplane_observe(struct dataplane *dp, struct lb_table *out, char *err, size_t errlen)
{
	struct ipvs_service *svcs = NULL;
	size_t n = 0;
	int rc = 0;

	if (ipvs_services_dump(dp->nl, &svcs, &n, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = observe_service(dp, &svcs[i], out, err, errlen);
	free(svcs);
	return rc;
}

/* ---- addresses ---- */

static int addr_qsort_cmp(const void *a, const void *b)
{
	return lb_addr_cmp(a, b);
}

static bool addr_in(const struct lb_addr *set, size_t n, const struct lb_addr *a)
{
	return vec_find(a, set, n, sizeof(*set), addr_qsort_cmp) != NULL;
}

void dataplane_round_addrs_free(struct round_addrs *ra)
{
	free(ra->bound);
	free(ra->wanted);
}

/* Before any service is deleted, so that a VIP that leaves loses its local
 * route before its service goes: a connection to it then fails at
 * once rather than reaching a local socket that happens to listen. */
int dataplane_unbind_unwanted(struct dataplane *dp, const struct round_addrs *ra, char *err,
                              size_t errlen)
{
	for (size_t i = 0; i < ra->nbound; i++) {
		if (addr_in(ra->wanted, ra->nwanted, &ra->bound[i]))
			continue;
		if (vipif_route_del(dp->vif, &ra->bound[i], err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* After the batch: a VIP is routed once all its services exist (none in
 * `failed`, sorted), so that no connection to it reaches the local stack
 * instead of IPVS. */
static int bind_wanted(struct dataplane *dp, const struct round_addrs *ra,
                       const struct lb_keyset *failed, char *err, size_t errlen)
{
	for (size_t i = 0; i < ra->nwanted; i++) {
		const struct lb_addr *a = &ra->wanted[i];
		bool skip = false;

		if (addr_in(ra->bound, ra->nbound, a))
			continue;
		for (size_t j = 0; j < failed->n && !skip; j++)
			skip = lb_addr_cmp(&failed->keys[j].addr, a) == 0;
		if (!skip && vipif_route_add(dp->vif, a, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* ---- the owned set ---- */

static bool keysets_equal(const struct lb_keyset *a, const struct lb_keyset *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (lb_key_cmp(&a->keys[i], &b->keys[i]) != 0)
			return false;
	return true;
}

/* Makes `next` the owned set (swapped with the old one), saved when it
 * differs; -1 with err when the save failed (the set in memory is next). */
static int persist_owned(struct round *r, struct lb_keyset *next, char *err, size_t errlen)
{
	struct lb_keyset tmp;
	int rc = 0;

	if (keysets_equal(next, &r->dp->owned))
		return 0;
	if (r->dp->state_path != NULL)
		rc = dataplane_state_save(r->dp->state_path, next, err, errlen);
	tmp = r->dp->owned;
	r->dp->owned = *next;
	*next = tmp;
	return rc;
}

/* ---- the round ---- */

int dataplane_round_addrs(struct dataplane *dp, const struct lb_table *desired,
                          struct round_addrs *ra, char *err, size_t errlen)
{
	if (dp->vif == NULL)
		return 0;
	if (dataplane_table_addrs(desired, &ra->wanted, &ra->nwanted) < 0) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		return -1;
	}
	if (vipif_routes(dp->vif, &ra->bound, &ra->nbound, err, errlen) < 0)
		return -1;
	/* No address bound leaves bound NULL, which qsort must not be given. */
	if (ra->nbound > 1)
		vec_sort(ra->bound, ra->nbound, sizeof(*ra->bound), addr_qsort_cmp);
	return 0;
}

int dataplane_write_ahead(struct round *r, const struct lb_table *want, char *err, size_t errlen)
{
	struct lb_keyset owned;
	int rc = -1;

	lb_keyset_init(&owned);
	if (dataplane_owned_union(&r->dp->owned, want, &owned) < 0) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		goto out;
	}
	/* Written ahead: a service is recorded as vipd's before it is made, so
	 * that a crash between the two cannot leave one vipd would never delete. */
	rc = persist_owned(r, &owned, err, errlen);
out:
	lb_keyset_free(&owned);
	return rc;
}

/* Observe, plan and apply until a plan goes through or DATAPLANE_MAX_PLANS
 * are spent; `observed` keeps the last read. */
static int plan_rounds(struct round *r, struct lb_table *desired, const struct lb_keyset *owned,
                       struct round_addrs *ra, struct lb_table *observed, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < DATAPLANE_MAX_PLANS; attempt++) {
		struct rc_plan plan;
		int rc;

		lb_table_free(observed);
		lb_table_init(observed);
		if (dataplane_observe(r->dp, observed, err, errlen) < 0)
			return -1;
		rc_plan_init(&plan);
		if (reconcile_plan(observed, desired, owned, &plan, err, errlen) < 0) {
			rc_plan_free(&plan);
			return -1;
		}
		if (attempt == 0 && r->dp->vif != NULL &&
		    dataplane_unbind_unwanted(r->dp, ra, err, errlen) < 0) {
			rc_plan_free(&plan);
			return -1;
		}
		dataplane_round_reset(r);
		rc = dataplane_apply_plan(r, &plan, err, errlen);
		rc_plan_free(&plan);
		if (rc < 0)
			return -1;
		if (r->failures == 0)
			return 0;
	}
	return dataplane_plans_spent(r, err, errlen);
}

int dataplane_plans_spent(const struct round *r, char *err, size_t errlen)
{
	errbuf_set(err, errlen, "%zu IPVS operation%s still failing after %d plans, first: %s",
	           r->failures, r->failures == 1 ? "" : "s", DATAPLANE_MAX_PLANS, r->first_failure);
	return -1;
}

/* After a complete round the kernel holds `want` for vipd's services: the
 * round's own sorted copy becomes the remembered table. */
static void remember_kernel(struct dataplane *dp, struct lb_table *want)
{
	lb_table_free(&dp->kernel);
	dp->kernel = *want;
	dp->kernel_known = true;
	lb_table_init(want);
}

int dataplane_end_full_round(struct round *r, struct lb_table *want,
                             const struct lb_table *observed, const struct round_addrs *ra, int rc,
                             char *err, size_t errlen)
{
	char ferr[512];

	if (dataplane_finish_round(r, want, observed, NULL, ra, rc == 0 ? err : ferr,
	                           rc == 0 ? errlen : sizeof(ferr)) < 0)
		rc = -1;
	if (rc == 0)
		remember_kernel(r->dp, want);
	return rc;
}

/* After the plans: route the VIPs whose services exist, and
 * drop from the owned set the services that are gone. Needs `observed` to
 * be a complete read (the last plan's). */
int dataplane_finish_round(struct round *r, const struct lb_table *desired,
                           const struct lb_table *observed, const struct lb_keyset *keys,
                           const struct round_addrs *ra, char *err, size_t errlen)
{
	const struct lb_keyset *owned = &r->dp->owned;
	struct lb_keyset next;
	int rc;

	lb_keyset_sort(&r->failed);
	if (r->dp->vif != NULL && bind_wanted(r->dp, ra, &r->failed, err, errlen) < 0)
		return -1;
	lb_keyset_init(&next);
	lb_keyset_sort(&r->deleted);
	rc = keys == NULL
	         ? dataplane_owned_after(owned, desired, observed, &r->deleted, &next)
	         : dataplane_owned_after_patch(owned, keys, desired, observed, &r->deleted, &next);
	if (rc < 0) {
		lb_keyset_free(&next);
		errbuf_set(err, errlen, "dataplane: out of memory");
		return -1;
	}
	rc = persist_owned(r, &next, err, errlen);
	lb_keyset_free(&next);
	return rc;
}

/* The whole-table round over the round's own sorted copy of the desired
 * table, which it moves into the remembered table when it completes. */
static int full_round(struct dataplane *dp, struct lb_table *want, dataplane_op_cb cb, void *arg,
                      char *err, size_t errlen)
{
	struct round r;
	struct round_addrs ra = {0};
	struct lb_table observed;
	int rc = -1;

	dataplane_round_init(&r, dp, cb, arg);
	lb_table_init(&observed);
	dp->kernel_known = false;
	if (dataplane_write_ahead(&r, want, err, errlen) < 0 ||
	    dataplane_round_addrs(dp, want, &ra, err, errlen) < 0)
		goto out;
	rc = plan_rounds(&r, want, &dp->owned, &ra, &observed, err, errlen);
	if (rc < 0 && r.failures == 0)
		goto out; /* no complete read to finish from */
	rc = dataplane_end_full_round(&r, want, &observed, &ra, rc, err, errlen);
out:
	dataplane_round_addrs_free(&ra);
	lb_table_free(&observed);
	dataplane_round_free(&r);
	return rc;
}

/* The round's own copy of the caller's table, sorted for the merge walk. */
static int copy_desired(const struct lb_table *desired, struct lb_table *want, char *err,
                        size_t errlen)
{
	lb_table_init(want);
	if (lb_table_copy(want, desired) < 0) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		return -1;
	}
	return 0;
}

int dataplane_refuse_busy(const struct dataplane *dp, char *err, size_t errlen)
{
	if (!dataplane_busy(dp))
		return 0;
	errbuf_set(err, errlen, "dataplane: a round driven by the loop is in flight");
	return -1;
}

int dataplane_apply(struct dataplane *dp, const struct lb_table *desired, dataplane_op_cb cb,
                    void *arg, char *err, size_t errlen)
{
	struct lb_table want;
	int rc;

	if (dataplane_refuse_busy(dp, err, errlen) < 0)
		return -1;
	if (copy_desired(desired, &want, err, errlen) < 0) {
		lb_table_free(&want);
		return -1;
	}
	rc = full_round(dp, &want, cb, arg, err, errlen);
	lb_table_free(&want);
	return rc;
}

/* Addresses for a quick round: bound = the VIPs of the remembered table. */
static int quick_addrs(struct dataplane *dp, const struct lb_table *desired, struct round_addrs *ra)
{
	if (dp->vif == NULL)
		return 0;
	if (dataplane_table_addrs(desired, &ra->wanted, &ra->nwanted) < 0 ||
	    dataplane_table_addrs(&dp->kernel, &ra->bound, &ra->nbound) < 0)
		return -1;
	return 0;
}

/* The quick round's plan touched only these services' destinations and
 * attributes: the remembered table takes desired's state of each, O(changed)
 * rather than a copy of the whole table. Services that came or went: a copy. */
static void remember_planned(struct dataplane *dp, const struct lb_table *desired,
                             const struct rc_plan *plan)
{
	struct lb_table part;
	bool ok = true;

	lb_table_init(&part);
	for (size_t i = 0; i < plan->n && ok; i++) {
		const struct rc_op *op = &plan->ops[i];
		const struct lb_service *s = lb_table_find(desired, &op->svc);

		if (op->kind == RC_ADD_SERVICE || op->kind == RC_DEL_SERVICE || s == NULL)
			ok = false;
		else if (lb_table_find(&part, &op->svc) == NULL)
			ok = lb_table_add_copy(&part, s) != NULL;
	}
	if (ok && lb_table_patch(&dp->kernel, &part) == 0 && lb_table_sort(&dp->kernel) == 0) {
		dp->kernel_known = true;
	} else {
		lb_table_free(&dp->kernel);
		lb_table_init(&dp->kernel);
		dp->kernel_known = lb_table_copy(&dp->kernel, desired) == 0;
	}
	lb_table_free(&part);
}

int dataplane_quick_round(struct dataplane *dp, const struct lb_table *desired,
                          struct lb_table *own, dataplane_op_cb cb, void *arg, char *err,
                          size_t errlen)
{
	struct round r;
	struct round_addrs ra = {0};
	struct rc_plan plan;
	int rc = -1;

	dataplane_round_init(&r, dp, cb, arg);
	rc_plan_init(&plan);
	if (quick_addrs(dp, desired, &ra) < 0 || lb_table_sort(&dp->kernel) < 0) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		goto out;
	}
	if (dataplane_write_ahead(&r, desired, err, errlen) < 0)
		goto out;
	if (reconcile_plan_sorted(&dp->kernel, desired, &dp->owned, &plan, err, errlen) < 0)
		goto out;
	if (dp->vif != NULL && dataplane_unbind_unwanted(dp, &ra, err, errlen) < 0)
		goto out;
	dp->kernel_known = false;
	if (dataplane_apply_plan(&r, &plan, err, errlen) < 0 || r.failures > 0) {
		rc = 1;
		goto out;
	}
	rc = dataplane_finish_round(&r, desired, &dp->kernel, NULL, &ra, err, errlen);
	if (rc == 0 && own != NULL)
		remember_kernel(dp, own);
	else if (rc == 0)
		remember_planned(dp, desired, &plan);
out:
	rc_plan_free(&plan);
	dataplane_round_addrs_free(&ra);
	dataplane_round_free(&r);
	return rc;
}

int dataplane_apply_quick(struct dataplane *dp, const struct lb_table *desired, dataplane_op_cb cb,
                          void *arg, char *err, size_t errlen)
{
	struct lb_table want;
	int rc = 1;

	if (dataplane_refuse_busy(dp, err, errlen) < 0)
		return -1;
	/* A sorted table is planned as it is, without the round's own copy. */
	if (dp->kernel_known && lb_table_is_sorted(desired))
		rc = dataplane_quick_round(dp, desired, NULL, cb, arg, err, errlen);
	if (rc != 1)
		return rc;
	if (copy_desired(desired, &want, err, errlen) < 0) {
		lb_table_free(&want);
		return -1;
	}
	rc = dp->kernel_known ? dataplane_quick_round(dp, &want, &want, cb, arg, err, errlen) : 1;
	if (rc == 1)
		rc = full_round(dp, &want, cb, arg, err, errlen);
	lb_table_free(&want);
	return rc;
}
