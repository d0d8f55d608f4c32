/*
 * The round for a few services: a health change moves weights in the
 * services it feeds and nothing else, so it is planned against those
 * services of the remembered kernel table and applied alone, O(changed
 * services) instead of O(table). Anything it cannot vouch for is refused
 * with -1, and the caller runs a whole-table round.
 */
#include "vipd/dataplane.h"

#include <stdio.h>

#include "vipd/errbuf.h"

#include "dataplane_int.h"

/* The remembered services with the keys of part's, copied into `before`. */
static int kernel_services(const struct lb_table *kernel, const struct lb_table *part,
                           struct lb_table *before, char *err, size_t errlen)
{
	char key[INET6_ADDRSTRLEN + 16];

	for (size_t i = 0; i < part->nsvcs; i++) {
		const struct lb_service *k = lb_table_find(kernel, &part->svcs[i].key);

		if (k == NULL) {
			errbuf_set(err, errlen, "dataplane: %s is not in the remembered table",
			           lb_key_format(&part->svcs[i].key, key, sizeof(key)));
			return -1;
		}
		if (lb_table_add_copy(before, k) == NULL) {
			errbuf_set(err, errlen, "dataplane: out of memory");
			return -1;
		}
	}
	return 0;
}

int dataplane_patch_plan(const struct lb_table *kernel, const struct lb_table *part,
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
	if (kernel_services(kernel, &want, &before, err, errlen) < 0)
		goto out;
	/* No service leaves, so no owned set is needed. */
	rc = reconcile_plan(&before, &want, NULL, out, err, errlen);
out:
	lb_table_free(&want);
	lb_table_free(&before);
	return rc;
}

static void note_refusal(const struct round *r, char *err, size_t errlen)
{
	errbuf_set(err, errlen, "%zu IPVS operation%s failed, first: %s", r->failures,
	           r->failures == 1 ? "" : "s", r->first_failure);
}

int dataplane_apply_patch(struct dataplane *dp, const struct lb_table *part, dataplane_op_cb cb,
                          void *arg, char *err, size_t errlen)
{
	struct round r;
	struct rc_plan plan;
	int rc = -1;

	if (dataplane_refuse_busy(dp, err, errlen) < 0)
		return -1;
	if (!dp->kernel_known) {
		errbuf_set(err, errlen, "dataplane: no remembered table");
		return -1;
	}
	dataplane_round_init(&r, dp, cb, arg);
	rc_plan_init(&plan);
	if (dataplane_patch_plan(&dp->kernel, part, &plan, err, errlen) < 0)
		goto out;
	/* From the first operation sent until the table is patched, the
	 * remembered table may be wrong. */
	dp->kernel_known = false;
	if (plan.n > 0 && dataplane_apply_plan(&r, &plan, err, errlen) < 0)
		goto out;
	if (r.failures > 0) {
		note_refusal(&r, err, errlen);
		goto out;
	}
	if (lb_table_patch(&dp->kernel, part) < 0) {
		errbuf_set(err, errlen, "dataplane: out of memory");
		goto out;
	}
	dp->kernel_known = true;
	rc = 0;
out:
	rc_plan_free(&plan);
	dataplane_round_free(&r);
	return rc;
}
