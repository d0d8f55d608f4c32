/*
 * Shared between desired.c (the table and the weight policy),
 * desired_labels.c (reading an app port's vipd labels and its tasks'
 * backend addresses) and desired_patch.c (rebuilding some services) only.
 */
#ifndef VIPD_DESIRED_INT_H
#define VIPD_DESIRED_INT_H

#include "vipd/desired.h"

enum scope {
	SCOPE_AUTO,
	SCOPE_HOST,
	SCOPE_CONTAINER,
};

/* The labels that set an attribute of the whole service. */
enum svc_attr {
	ATTR_SCHED,
	ATTR_FWD,
	ATTR_KEEP,
	ATTR_SLOW,
	ATTR_COUNT,
};

/* What one port's labels (or its app's) say. raw[i] is the valid label value
 * for attribute i (NULL when absent or malformed), path[i] where it stood. */
struct port_policy {
	char sched[LB_SCHED_MAX];
	enum lb_fwd fwd;
	bool keep_all;
	uint32_t slow_start_s;
	uint32_t weight;
	enum scope scope;
	const char *raw[ATTR_COUNT];
	char path[ATTR_COUNT][256];
};

/* A running task's address and port on one app port. */
struct backend {
	struct lb_addr addr;
	uint16_t port;
	enum desired_health health;
	size_t task; /* index into app.tasks, to locate warnings */
};

/* The port's vipd labels (the port's first, else the app's); each malformed
 * one is a located DIAG_ERROR and leaves its default. */
void desired_read_port_policy(struct diag_list *diags, const struct app *a, size_t pi,
                              struct port_policy *p);
/* Every app's and port's vipd labels: an unknown VIPD_* key is a located
 * DIAG_WARNING naming the nearest known one, an invalid VIPD_HEALTH_RISE or
 * _FALL a located DIAG_ERROR. */
void desired_check_labels(const struct apps_set *set, struct diag_list *diags);
/* The port's backends: TASK_RUNNING tasks with a usable address, with their
 * health; a task without one is a located DIAG_WARNING. calloc'd, caller
 * frees; NULL when out of memory. */
struct backend *desired_port_backends(struct diag_list *diags, const struct desired_input *in,
                                      const struct app *a, size_t pi, enum scope sc, size_t *n);

/* The services fed by `uses` (sorted as a full build walks them) that are
 * in `only`, into out, and their state entries moved on from prev (which
 * holds those services' entries) into next (initialised empty). `note`
 * (NULL: none) gets each (service, position in uses) a use feeds. -1 when
 * out of memory. */
int desired_build_some(const struct desired_input *in, const struct vip_use *uses, size_t n,
                       const struct vip_alloc *va, const struct lb_keyset *only,
                       const struct desired_state *prev, struct lb_table *out,
                       struct desired_state *next, struct diag_list *diags, int64_t *next_change_ms,
                       struct desired_index *note);
/* The order a build walks uses in: app id, then port, then label. */
int desired_use_cmp(const struct vip_use *u, const struct vip_use *v, const struct apps_set *set);

/* desired_reindex.c: the index of a full build carried over to a new apps
 * set in which only some apps (sorted, unique ids) differ. */
struct desired_reindex {
	struct vip_list uses; /* the new index's uses, in build order */
	size_t *old_to_new;   /* per old use: its position in uses; SIZE_MAX: app changed */
	bool *changed;        /* per new use: of a changed app */
	size_t nold;
};

void desired_reindex_free(struct desired_reindex *rx);
/* The new index's uses. 0; 1 with err when the set of named VIPs would
 * change (the allocation must be run again: a whole build); -1 when out
 * of memory. */
int desired_reindex_uses(const struct desired_input *in, const struct apps_set *old,
                         const struct desired_index *ix, const char *const *ids, size_t nids,
                         struct desired_reindex *rx, struct diag_list *diags, char *err,
                         size_t errlen);
/* The other nodes' backends as runs of one VIP's: in->remote_vips's
 * groups, then each of in->remote alone. */
size_t desired_remote_runs(const struct desired_input *in);
const struct desired_remote *desired_remote_run(const struct desired_input *in, size_t i,
                                                size_t *n);
/* Whether a named VIP is used by one of `uses` or another node's backend
 * (desired_remote_run): the allocation covers exactly those names. */
bool desired_name_used(const struct desired_input *in, const struct vip_list *uses,
                       const char *name);
/* qsort/bsearch order of app ids (const char *), as the changed ids are kept. */
int desired_id_cmp(const void *a, const void *b);
/* A VIP of other nodes' backends (protocol TCP or UDP) as a use, whose keys
 * vip_keys_af and desired_use_keys give as for an app's VIP label. */
struct vip_use desired_remote_use(uint8_t protocol, const struct vip_ref *ref);
/* Every service key a use could feed, in both families (which of them it
 * does feed depends on its tasks' addresses), added to ks. */
int desired_use_keys(const struct vip_use *u, const struct vip_alloc *va, struct lb_keyset *ks);
/* The first feed of service k in ix->feeds. */
size_t desired_feed_lower(const struct desired_index *ix, const struct lb_key *k);

/* The index of a full build (desired_patch.c): each service key a use
 * creates, noted as it is added; the build's uses and allocation taken
 * over at its end (vl and va left empty); then sorted. */
int desired_index_note(struct desired_index *ix, const struct lb_key *svc, size_t use);
void desired_index_take(struct desired_index *ix, struct vip_list *vl, struct vip_alloc *va);
void desired_index_sort(struct desired_index *ix);

#endif
