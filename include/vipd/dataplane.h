/*
 * The data plane: vipd's lb_tables made real in the kernel. It owns the IPVS
 * netlink handles, the dummy interface holding the VIP addresses, the sysctls
 * IPVS needs, the persisted set of services vipd owns and its lock. What a
 * round does and why (ownership, order, retries, addresses, slices on the
 * loop): docs/dataplane.md.
 */
#ifndef VIPD_DATAPLANE_H
#define VIPD_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vipd/ipvs.h"
#include "vipd/lbtable.h"
#include "vipd/reconcile.h"

struct dataplane_settings {
	const char *interface;      /* dummy interface vipd creates and owns for VIP addresses,
	                               e.g. "vipd0"; NULL = do not route VIPs */
	const char *source_address; /* the node's own address, src of the VIPs' local routes;
	                               NULL = that of the default route's interface */
	const char *state_path;     /* file persisting the owned set across restarts (e.g.
	                               /run/vipd/owned.json); NULL = none */
	uint32_t timeout_tcp, timeout_tcpfin, timeout_udp; /* IPVS connection timeouts; 0 =
	                                                      leave the kernel's */
};

struct dataplane;

#define DATAPLANE_MUST_CHECK __attribute__((warn_unused_result))

/* A sysctl dataplane_open sets, and why (for the README and vipctl). */
struct dataplane_sysctl {
	const char *name;  /* "net.ipv4.vs.conntrack" */
	const char *value; /* "1" */
	const char *why;
};

/* The sysctls dataplane_open sets, in the order it sets them. */
const struct dataplane_sysctl *dataplane_sysctls(size_t *n);
/* Sets them (dataplane_open does); a value already in place is not written. */
DATAPLANE_MUST_CHECK int dataplane_sysctls_apply(char *err, size_t errlen);

/*
 * Opens the IPVS genl family (one line in err when the kernel has no IPVS),
 * takes the state file's lock (dataplane_state_lock: a second vipd is refused
 * before it changes anything), sets the sysctls above, applies the timeouts,
 * creates or adopts the dummy interface and sets it up, and loads the
 * persisted owned set. Touches no service and no address. 0 with *out set,
 * or -1 with err and everything opened so far released.
 */
DATAPLANE_MUST_CHECK int dataplane_open(struct dataplane **out, const struct dataplane_settings *s,
                                        char *err, size_t errlen);

/* The kernel's whole table, converted (for adoption at start and for
 * vipctl). Firewall-mark services are left out: an lb_table cannot hold them
 * and vipd never makes them. `out` is initialised by the caller. */
DATAPLANE_MUST_CHECK int dataplane_observe(struct dataplane *dp, struct lb_table *out, char *err,
                                           size_t errlen);

/* error 0 = done; msg is "" then, else the kernel's refusal. */
typedef void (*dataplane_op_cb)(void *arg, const struct rc_op *op, int error, const char *msg);

/*
 * The three rounds share one contract: the desired table (or part) is
 * read-only to them, never sorted, emptied or kept (the data plane keeps its
 * own sorted copy of what it applied); every operation is reported through
 * cb (may be NULL); 0, or -1 with err when the round could not complete, the
 * kernel then keeping what it has. All three refuse (-1) while a requested
 * round is in flight (dataplane_busy).
 *
 * dataplane_apply: the whole-table round of docs/dataplane.md: reads the
 * kernel, applies the plan in one batch (re-reading and re-planning after a
 * failure, three plans at most: DATAPLANE_MAX_PLANS), routes and unroutes
 * VIPs, and persists the owned set. Never touches a service vipd does not
 * own, never flushes.
 */
DATAPLANE_MUST_CHECK int dataplane_apply(struct dataplane *dp, const struct lb_table *desired,
                                         dataplane_op_cb cb, void *arg, char *err, size_t errlen);

/*
 * A round planned against the table the last complete round left in the
 * kernel for vipd's services (remembered) instead of a fresh read: a weight
 * change is one batch of one operation. Without a remembered table, or when
 * an operation fails, it runs dataplane_apply. Drift made by others is not
 * seen here.
 */
DATAPLANE_MUST_CHECK int dataplane_apply_quick(struct dataplane *dp, const struct lb_table *desired,
                                               dataplane_op_cb cb, void *arg, char *err,
                                               size_t errlen);

/*
 * A round for some services only (dataplane_patch.c): `part` holds the
 * desired state of some services, each complete (every destination), and
 * `targets` (NULL: part's keys) the keys rebuilt with them: a target part
 * lacks is a service that goes; every other service is left as it is.
 * Planned against the remembered table (dataplane_patch_plan_keys) and
 * applied in one batch, with the order and callbacks of a whole-table
 * round; the remembered table is patched in place. When a service comes or
 * goes, the rules of a whole-table round restricted to the targets: the
 * owned set written ahead with part's keys (dataplane_owned_union) before
 * anything is sent, a VIP address whose last service goes unrouted before
 * the batch, one whose first service comes routed after it, the owned set
 * after (dataplane_owned_after_patch) saved. -1 with err, and nothing sent,
 * without a remembered table. -1 after any operation failed (reported
 * through cb), an add found its object already there (the remembered table
 * was wrong) or a route could not be changed: the remembered table is then
 * forgotten, and the owned set keeps every key written ahead (a service
 * half made is still vipd's to delete). On -1 the caller runs a whole-table
 * round, which reads the kernel and the routes and repairs the rest.
 */
DATAPLANE_MUST_CHECK int dataplane_apply_patch(struct dataplane *dp, const struct lb_table *part,
                                               const struct lb_keyset *targets, dataplane_op_cb cb,
                                               void *arg, char *err, size_t errlen);
/* The plan of a patch that adds and removes no service: what reconcile_plan
 * over the whole remembered table would give for part's services. Pure; -1
 * with err when `kernel` lacks one of them or out of memory. */
DATAPLANE_MUST_CHECK int dataplane_patch_plan(const struct lb_table *kernel,
                                              const struct lb_table *part, struct rc_plan *out,
                                              char *err, size_t errlen);
/* The plan dataplane_apply_patch applies: reconcile_plan from the remembered
 * services of `keys` (part's keys and the targets: dataplane_patch_keys) to
 * part's, `owned` deciding which may be deleted, as in a whole-table round.
 * Pure; -1 with err out of memory. */
DATAPLANE_MUST_CHECK int dataplane_patch_plan_keys(const struct lb_table *kernel,
                                                   const struct lb_table *part,
                                                   const struct lb_keyset *keys,
                                                   const struct lb_keyset *owned,
                                                   struct rc_plan *out, char *err, size_t errlen);
/* part's keys and the targets' (NULL: none more), into out, sorted; -1 out
 * of memory. */
DATAPLANE_MUST_CHECK int dataplane_patch_keys(const struct lb_table *part,
                                              const struct lb_keyset *targets,
                                              struct lb_keyset *out);

/* ---- the owned-set and address rules, pure (dataplane_owned.c) ---- */

/* What vipd owns from the start of a round (written ahead, before any
 * service is made: docs/dataplane.md): the owned set and every key of
 * desired. Appends to out and sorts it; -1 when out of memory. */
DATAPLANE_MUST_CHECK int dataplane_owned_union(const struct lb_keyset *owned,
                                               const struct lb_table *desired,
                                               struct lb_keyset *out);
/* What vipd owns after a round: every desired service, and each one owned
 * before (`before`) that the round's complete read (`observed`) still saw
 * and the round did not delete (`deleted`, sorted): a delete that failed is
 * tried again next round. Appends to out and sorts it; -1 out of memory. */
DATAPLANE_MUST_CHECK int dataplane_owned_after(const struct lb_keyset *before,
                                               const struct lb_table *desired,
                                               const struct lb_table *observed,
                                               const struct lb_keyset *deleted,
                                               struct lb_keyset *out);
/* What vipd owns after a patch over `keys` (dataplane_patch_keys): the owned
 * keys outside them as they are; among them, dataplane_owned_after's rule
 * with part as the desired table and the remembered table `kernel` as the
 * read (a complete round left exactly it in the kernel). Appends to out and
 * sorts it; -1 out of memory. */
DATAPLANE_MUST_CHECK int
dataplane_owned_after_patch(const struct lb_keyset *owned, const struct lb_keyset *keys,
                            const struct lb_table *part, const struct lb_table *kernel,
                            const struct lb_keyset *deleted, struct lb_keyset *out);
/* The VIP addresses a patch over `keys` may change, as the sets a whole
 * round compares (both sorted, malloc'd, the caller frees even on -1): of
 * the keys' addresses, *bound those a service of the remembered table
 * `kernel` has (what a complete round routed), *wanted those a service of
 * part has or a remembered service outside keys. Routes added: wanted not
 * bound; removed: bound not wanted. -1 out of memory. */
DATAPLANE_MUST_CHECK int dataplane_patch_addrs(const struct lb_table *kernel,
                                               const struct lb_keyset *keys,
                                               const struct lb_table *part, struct lb_addr **bound,
                                               size_t *nbound, struct lb_addr **wanted,
                                               size_t *nwanted);
/* The distinct VIP addresses of a table's services, sorted (lb_addr_cmp),
 * in a malloc'd array the caller frees; -1 when out of memory. */
DATAPLANE_MUST_CHECK int dataplane_table_addrs(const struct lb_table *t, struct lb_addr **out,
                                               size_t *n);

/* ---- rounds driven by an event loop (dataplane_async.c) ---- */

/*
 * The loop never waits on the kernel for these: a whole-table round cut into
 * slices of kernel work, run for at most DATAPLANE_SLICE_BUDGET_MS per loop
 * iteration (how: docs/dataplane.md, "Rounds on the event loop"). Same
 * round as dataplane_apply otherwise: same plan, order, re-reads and
 * re-plans after a failure, address and owned-set rules, callbacks.
 */
#define DATAPLANE_SLICE_BUDGET_MS 2.0

struct ev_loop;
/* A round requested with dataplane_request ended: rc 0 complete, -1 with
 * err (the kernel keeps what it has). */
typedef void (*dataplane_done_cb)(void *arg, int rc, const char *err);

/* Opens the rounds' own IPVS socket (the synchronous calls never read its
 * replies) and keeps loop and callbacks (cb reports each operation, done
 * each round). Replaces an earlier attachment. */
DATAPLANE_MUST_CHECK int dataplane_attach(struct dataplane *dp, struct ev_loop *loop,
                                          dataplane_op_cb cb, dataplane_done_cb done, void *arg,
                                          char *err, size_t errlen);
/* Stops the watchers and drops a round in flight (dataplane_close does);
 * not from inside the done callback. */
void dataplane_detach(struct dataplane *dp);
/*
 * Requests a round towards `desired` (copied; read-only, as for every
 * round): `full` reads the kernel (dataplane_apply's round), otherwise it
 * plans against the remembered table (dataplane_apply_quick's, run in one
 * slice, going on as a whole-table round when that table proves wrong). It
 * starts at the loop's next idle moment. Requested while a round is in
 * flight, it waits, and later requests replace it: one round follows, towards
 * the latest table, full when any of them was. done is called once per round
 * that runs. -1 with err only when not attached or out of memory.
 */
DATAPLANE_MUST_CHECK int dataplane_request(struct dataplane *dp, const struct lb_table *desired,
                                           bool full, char *err, size_t errlen);
/* A requested round is in flight or waiting: dataplane_apply, _quick and
 * _patch refuse (-1) until done has been called for the last one. */
bool dataplane_busy(const struct dataplane *dp);

/* The figures of the last round that ended, and counts since attach. */
#define DATAPLANE_ASYNC_PHASES 9
struct dataplane_async_stats {
	uint64_t rounds;         /* ended */
	uint64_t failed_rounds;  /* ended with -1 */
	uint64_t coalesced;      /* requests that waited for a round in flight */
	double round_ms;         /* the last round, from its start to done */
	uint64_t iterations;     /* loop iterations that ran its slices */
	uint64_t waits;          /* times it waited for the kernel's answer */
	double max_iteration_ms; /* the longest of its iterations */
	int max_iteration_phase; /* and the phase it began in */
	double max_slice_ms;     /* the longest single slice (one piece of kernel work) */
	int max_slice_phase;
	double phase_ms[DATAPLANE_ASYNC_PHASES]; /* its time per phase */
};
/* "start", "addrs", "services", "dests", "new", "apply", "retry", "finish",
 * "quick"; "" out of range. */
const char *dataplane_async_phase_name(int phase);
/* All zero when never attached. */
void dataplane_async_stats(const struct dataplane *dp, struct dataplane_async_stats *out);

/* The owned set (sorted), as loaded or as the last round left it; the data
 * plane keeps it, valid until the next round or dataplane_close. */
const struct lb_keyset *dataplane_owned(const struct dataplane *dp);

/* Detaches, closes the sockets and the interface handle, and releases the
 * state file's lock. Leaves every kernel service, dest and address in place
 * (a restart drops no connection). NULL is fine. */
void dataplane_close(struct dataplane *dp);

/* ---- conversion between lb_table and the IPVS structs (dataplane_conv.c) ---- */

/* -1 for a service an lb_table cannot hold (firewall mark). The kernel's
 * HASHED flag and flags vipd does not manage are dropped. */
int dataplane_service_from_ipvs(const struct ipvs_service *s, struct lb_key *key, char *sched,
                                uint32_t *flags);
void dataplane_dest_from_ipvs(const struct ipvs_dest *d, struct lb_dest *out);
/* The IPVS operation and its service and destination for one planned op. */
enum ipvs_op dataplane_op_to_ipvs(const struct rc_op *op, struct ipvs_service *svc,
                                  struct ipvs_dest *dest);

/* ---- the owned set on disk (dataplane_state.c) ---- */

/* A missing file is an empty set. -1 with the path and what is wrong. */
DATAPLANE_MUST_CHECK int dataplane_state_load(const char *path, struct lb_keyset *out, char *err,
                                              size_t errlen);
/* Written to a temporary file in the same directory, synced and renamed, so
 * a crash leaves the old set or the new one, never half of one. */
DATAPLANE_MUST_CHECK int dataplane_state_save(const char *path, const struct lb_keyset *ks,
                                              char *err, size_t errlen);
/* One vipd per state file (dataplane_state_lock.c): an exclusive flock on
 * PATH.lock (the state file itself is replaced by each save, so it cannot
 * carry the lock), held while the returned fd is open. -1 with err naming
 * the holder's pid and name when another process has it. */
DATAPLANE_MUST_CHECK int dataplane_state_lock(const char *path, char *err, size_t errlen);

/* The named VIPs' recorded assignments kept in the same file ("vips"; a
 * file without them, as older vipds wrote, has none). Each save keeps the
 * other part of the file. -1 with the path, JSON pointer and what was
 * expected. */
struct vip_records;
DATAPLANE_MUST_CHECK int dataplane_state_load_vips(const char *path, struct vip_records *out,
                                                   char *err, size_t errlen);
DATAPLANE_MUST_CHECK int dataplane_state_save_vips(const char *path, const struct vip_records *r,
                                                   char *err, size_t errlen);

#endif
