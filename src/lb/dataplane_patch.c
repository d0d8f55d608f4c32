/*
 * The round for a few services: a health change or a reload that touched a
 * few apps changes only the services they feed, so it is planned against
 * those services of the remembered kernel table and applied alone,
 * O(changed services) instead of O(table). Services that come or go take
 * the whole round's owned-set and address rules, restricted to them.
 * Anything it cannot vouch for is refused with -1, and the caller runs a
 * whole-table round.
 */
#include "vipd/dataplane.h"

#include <stdio.h>

#include "vipd/desired.h"
#include "vipd/errbuf.h"

#include "dataplane_int.h"

/* The remembered services with the given keys, copied into `before`; with
 * `strict`, a key the remembered table lacks is an error. */
static int kernel_services(const struct lb_table *kernel, const struct lb_keyset *keys, bool strict,
                           struct lb_table *before, char *err, size_t errlen)
{
	char key[INET6_ADDRSTRLEN + 16];

	for (size_t i = 0; i < keys->n; i++) {
		const struct lb_service *k = lb_table_find(kernel, &keys->keys[i]);

		if (k == NULL && strict) {
			errbuf_set(err, errlen, "dataplane: %s is not in the remembered table",
			           lb_key_format(&keys->keys[i], key, sizeof(key)));
			return -1;
		}
		if (k != NULL && lb_table_add_copy(before, k) == NULL) {
			errbuf_set(err, errlen, "dataplane: out of memory");
			return -1;
		}
	}
	return 0;
}

int dataplane_patch_keys(const struct lb_table *part, const struct lb_keyset *targets,
                         struct lb_keyset *out)
{
	if (lb_keyset_add_table(out, part) < 0)
		return -1;
	for (size_t i = 0; targets != NULL && i < targets->n; i++)
		if (lb_keyset_add(out, &targets->keys[i]) < 0)
			return -1;
	lb_keyset_sort(out);
	return 0;
}

/* reconcile_plan from the remembered services of keys to part's: the rule
 * of the whole round, over the services the patch may touch. */
static int plan_keys(const struct lb_table *kernel, const struct lb_table *part,
                     const struct lb_keyset *keys, bool strict, const struct lb_keyset *owned,
                     struct rc_plan *out, char *err, size_t errlen)
{
	struct lb_table before, want;
	int rc = -1;

	lb_table_init(&before);
	lb_table_init(&want);
	/* The caller's part is read-only: the merge walk sorts its own copy. */
	if (lb_table_copy(&want, part) < 0) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		goto out;
	}
	if (kernel_services(kernel, keys, strict, &before, err, errlen) < 0)
		goto out;
	rc = reconcile_plan(&before, &want, owned, out, err, errlen);
out:
	lb_table_free(&want);
	lb_table_free(&before);
	return rc;
}

int dataplane_patch_plan_keys(const struct lb_table *kernel, const struct lb_table *part,
                              const struct lb_keyset *keys, const struct lb_keyset *owned,
                              struct rc_plan *out, char *err, size_t errlen)
{
	return plan_keys(kernel, part, keys, false, owned, out, err, errlen);
}

int dataplane_patch_plan(const struct lb_table *kernel, const struct lb_table *part,
                         struct rc_plan *out, char *err, size_t errlen)
{
	struct lb_keyset keys;
	int rc = -1;

	lb_keyset_init(&keys);
	if (dataplane_patch_keys(part, NULL, &keys) < 0)
		errbuf_set(err, errlen, "dataplane: out of memory");
	else /* No service leaves, so no owned set is needed. */
		rc = plan_keys(kernel, part, &keys, true, NULL, out, err, errlen);
	lb_keyset_free(&keys);
	return rc;
}

static void note_refusal(const struct round *r, char *err, size_t errlen)
{
	if (r->failures == 0) {
		errbuf_set(err, errlen,
		           "%zu add%s found %s object already in the kernel: the remembered table "
		           "was wrong",
		           r->adds_found, r->adds_found == 1 ? "" : "s",
		           r->adds_found == 1 ? "its" : "their");
		return;
	}
	errbuf_set(err, errlen, "%zu IPVS operation%s failed, first: %s", r->failures,
	           r->failures == 1 ? "" : "s", r->first_failure);
}

/* A patch whose services come or go: the addresses it may change, and the
 * owned set written ahead with part's keys (before anything is made). */
static int begin_moves(struct round *r, const struct lb_table *part, const struct lb_keyset *keys,
                       struct round_addrs *ra, char *err, size_t errlen)
{
	struct dataplane *dp = r->dp;

	if (dp->vif != NULL && dataplane_patch_addrs(&dp->kernel, keys, part, &ra->bound,
	                                             &ra->nbound, &ra->wanted, &ra->nwanted) < 0) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		return -1;
	}
	return dataplane_write_ahead(r, part, err, errlen);
}

/* Plans, applies and takes the patch into the remembered table; `moves`:
 * some service comes or goes. */
static int patch_round(struct round *r, const struct lb_table *part, const struct lb_keyset *keys,
                       bool moves, char *err, size_t errlen)
{
	struct dataplane *dp = r->dp;
	struct round_addrs ra = {0};
	struct rc_plan plan;
	int rc = -1;

	rc_plan_init(&plan);
	if (moves && begin_moves(r, part, keys, &ra, err, errlen) < 0)
		goto out;
	if (dataplane_patch_plan_keys(&dp->kernel, part, keys, &dp->owned, &plan, err, errlen) < 0)
		goto out;
	/* From the first change sent until the table is patched, the
	 * remembered table may be wrong. */
	dp->kernel_known = false;
	if (moves && dp->vif != NULL && dataplane_unbind_unwanted(dp, &ra, err, errlen) < 0)
		goto out;
	if (plan.n > 0 && dataplane_apply_plan(r, &plan, err, errlen) < 0)
		goto out;
	if (r->failures > 0 || r->adds_found > 0) {
		note_refusal(r, err, errlen);
		goto out;
	}
	/* The new VIPs routed, the owned set without the services gone. */
	if (moves && dataplane_finish_round(r, part, &dp->kernel, keys, &ra, err, errlen) < 0)
		goto out;
	if (desired_table_splice(&dp->kernel, keys, part) < 0) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		goto out;
	}
	dp->kernel_known = true;
	rc = 0;
out:
	rc_plan_free(&plan);
	dataplane_round_addrs_free(&ra);
	return rc;
}

int dataplane_apply_patch(struct dataplane *dp, const struct lb_table *part,
                          const struct lb_keyset *targets, dataplane_op_cb cb, void *arg, char *err,
                          size_t errlen)
{
	struct round r;
	struct lb_keyset keys;
	int rc = -1;

	if (dataplane_refuse_busy(dp, err, errlen) < 0)
		return -1;
	if (!dp->kernel_known) {
		errbuf_set(err, errlen, "dataplane: no remembered table");
		return -1;
	}
	dataplane_round_init(&r, dp, cb, arg);
	lb_keyset_init(&keys);
	if (dataplane_patch_keys(part, targets, &keys) < 0)
		errbuf_set(err, errlen, "dataplane: out of memory");
	else
		rc = patch_round(&r, part, &keys,
		                 !desired_targets_same_services(&dp->kernel, &keys, part), err,
		                 errlen);
	lb_keyset_free(&keys);
	dataplane_round_free(&r);
	return rc;
}
