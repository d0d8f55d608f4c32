/* What test_patch.c, test_reload_patch.c and test_timed_patch.c share: the random numbers their
 * worlds are drawn from, the pieces of a random app they build alike, the
 * whole-table round both hold the incremental one against, and the
 * comparisons of the two paths' results. */
#ifndef VIPD_TESTS_PATCH_WORLD_H
#define VIPD_TESTS_PATCH_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "vipd/desired.h"
#include "vipd/reconcile.h"

/* The drain period every world's input uses. */
#define PW_DRAIN_MS 20000

/* The generator's state: a test seeds it to replay a world. */
extern uint32_t pw_rng_state;

uint32_t pw_rnd(uint32_t n);
char *pw_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
void pw_add_label(struct label **labels, size_t *n, char *k, char *v);

/* Port i of a: its number, protocols, a VIP_0 label from random_vip and,
 * now and then, the slow-start, all-unhealthy and weight labels. */
void pw_random_port(struct app *a, size_t i, char *(*random_vip)(void));

/* An app from apps.json with the id and JSON path given (both taken), a
 * check or none, 1..3 ports (pw_random_port) and room for 0..5 tasks: a->ntasks
 * is drawn, the caller then fills each task as its world wants. */
void pw_random_app(struct app *a, char *id, char *json_path, char *(*random_vip)(void));

/* The tasks of a world with the health its checks report. */
#define PW_MAX_TASKS 64
struct pw_tasks {
	const char *task[PW_MAX_TASKS];
	const char *app_of[PW_MAX_TASKS];
	enum desired_health health[PW_MAX_TASKS];
	size_t ntasks;
};

/* a's tasks, each with a random health, while there is room. */
void pw_tasks_add_app(struct pw_tasks *t, const struct app *a);

/* desired_input.health over a struct pw_tasks (ctx). */
enum desired_health pw_health_of(void *ctx, const char *app_id, const char *task_id);

/* A VIP from a small pool (addresses and names), so that apps share some. */
char *pw_random_vip(void);

/* Task i of app number ai: IPv4 or (for named VIPs' second family) IPv6
 * hosts, some shared, now and then killing; one port per app port. */
void pw_random_task(struct app *a, size_t ai, size_t i);

/* One path's memory between rounds. */
struct pw_path {
	struct desired_state st;
	struct lb_table kernel; /* what the last round left */
	struct desired_index ix;
	int64_t next_change; /* the timer the engine would have armed */
};

void pw_path_init(struct pw_path *p);
void pw_path_free(struct pw_path *p);

/* The whole build, planned against the whole remembered table; the kernel
 * then holds the table. */
void pw_full_round(const struct desired_input *in, struct pw_path *p, struct rc_plan *plan);

/* The targets planned one by one in key order against the last table, as
 * the daemon's plan-only patch does; the table then spliced. */
void pw_plan_targets(struct pw_path *p, const struct lb_keyset *targets,
                     const struct lb_table *part, struct rc_plan *plan);

void pw_assert_tables_equal(const struct lb_table *a, const struct lb_table *b);
void pw_assert_plans_equal(const struct rc_plan *a, const struct rc_plan *b);
void pw_assert_entries_equal(const struct desired_entry *a, const struct desired_entry *b);
void pw_assert_states_equal(const struct desired_state *a, const struct desired_state *b);

#endif
