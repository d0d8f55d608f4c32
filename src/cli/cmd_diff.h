/*
 * vipctl diff's parts: the running vipd's state as its API's /v1/vips
 * reports it (cmd_diff_running.c), and the report of what a reload of new
 * definitions would change (cmd_diff_report.c).
 */
#ifndef VIPD_CLI_DIFF_H
#define VIPD_CLI_DIFF_H

#include <jansson.h>

#include "vipd/desired.h"
#include "vipd/lbtable.h"
#include "vipd/reconcile.h"
#include "vipd/vip.h"

/* A running task as vipd knows it: its health and what a reload compares to
 * keep that health (sched_task_fingerprint, as hex). */
struct diff_task {
	const char *app, *task; /* into the JSON document */
	enum desired_health health;
	const char *check_config;
};

/* Ordered by app, then task. */
int diff_task_cmp(const void *a, const void *b);
/* In tasks sorted by diff_task_cmp: the task, NULL when absent; the first
 * of app's (n when none). */
const struct diff_task *diff_task_find(const struct diff_task *tasks, size_t n, const char *app,
                                       const char *task);
size_t diff_task_first(const struct diff_task *tasks, size_t n, const char *app);

/* One VIP service fed by one app, or named by one VIP name. */
struct diff_feed {
	const char *who; /* app id, or the VIP's name */
	struct lb_key svc;
};

struct diff_feeds {
	struct diff_feed *items;
	size_t n, cap;
};

/* What vipd runs now: the table it last built (services and the
 * destinations of running tasks), the weight policy's state behind it,
 * the named VIPs' records, every app and running task. Strings point into
 * the JSON document it was read from, which must outlive it. */
struct diff_running {
	struct lb_table table;
	struct desired_state state;
	struct vip_records records;
	struct diff_task *tasks; /* sorted by app, task */
	size_t ntasks;
	const char **apps; /* sorted */
	size_t napps;
	struct diff_feeds app_feeds;   /* which app feeds which service */
	struct diff_feeds named_feeds; /* which name gives which service */
};

/* Reads /v1/vips (docs/api.md) into r; now_ms (monotonic) turns the
 * seconds left of drains and slow starts into deadlines. 0, or -1 with err
 * naming what was malformed (r is then freed). */
int diff_running_read(const json_t *doc, int64_t now_ms, struct diff_running *r, char *err,
                      size_t errlen);
void diff_running_free(struct diff_running *r);
/* The running task, NULL when vipd does not run it. */
const struct diff_task *diff_running_task(const struct diff_running *r, const char *app,
                                          const char *task);
bool diff_running_has_app(const struct diff_running *r, const char *app);
/* vipd keeps a task's health over a reload only when the task and its
 * app's checks are the same (sched_sync compares sched_task_fingerprint);
 * otherwise its checks start over, as for a task it has never seen. */
bool diff_running_checks_restart(const struct diff_running *r, const struct app *a,
                                 const struct task *t);

int diff_feeds_add(struct diff_feeds *f, const char *who, const struct lb_key *svc);
/* Sorts by who, then service, dropping repeats. */
void diff_feeds_sort(struct diff_feeds *f);
/* In sorted feeds: the first of who's (n when none), and whether who feeds
 * svc. */
size_t diff_feeds_first(const struct diff_feeds *f, const char *who);
bool diff_feeds_has(const struct diff_feeds *f, const char *who, const struct lb_key *svc);
void diff_feeds_free(struct diff_feeds *f);

/* What the reload would change, for printing. */
struct diff_result {
	struct rc_plan plan;
	const struct diff_running *running;
	const struct apps_set *apps; /* the new definitions */
	/* their running tasks, sorted, with the health each would have */
	const struct diff_task *new_tasks;
	size_t nnew_tasks;
	struct diff_feeds app_feeds, named_feeds;
};

/* Prints the report (human tables, or JSON when `json`); returns how many
 * changes it found (operations, VIP address changes, apps). */
size_t diff_report(const struct diff_result *d, bool json);

#endif
