/*
 * Shared between desired.c (the table and the weight policy) and
 * desired_labels.c (reading an app port's vipd labels and its tasks'
 * backend addresses) only.
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
/* The port's backends: TASK_RUNNING tasks with a usable address, with their
 * health; a task without one is a located DIAG_WARNING. calloc'd, caller
 * frees; NULL when out of memory. */
struct backend *desired_port_backends(struct diag_list *diags, const struct desired_input *in,
                                      const struct app *a, size_t pi, enum scope sc, size_t *n);

#endif
