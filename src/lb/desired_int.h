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
 * holds those services' entries) into next (initialised empty). -1 when out
 * of memory. */
int desired_build_some(const struct desired_input *in, const struct vip_use *uses, size_t n,
                       const struct vip_alloc *va, const struct lb_keyset *only,
                       const struct desired_state *prev, struct lb_table *out,
                       struct desired_state *next, struct diag_list *diags,
                       int64_t *next_change_ms);

/* The index of a full build (desired_patch.c): each service key a use
 * creates, noted as it is added; the build's uses and allocation taken
 * over at its end (vl and va left empty); then sorted. */
int desired_index_note(struct desired_index *ix, const struct lb_key *svc, size_t use);
void desired_index_take(struct desired_index *ix, struct vip_list *vl, struct vip_alloc *va);
void desired_index_sort(struct desired_index *ix);

#endif
