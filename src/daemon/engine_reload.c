/*
 * Reloading app definitions. Fail static: an app whose file now has errors
 * (or cannot be read) keeps its last good definition, so a typo never takes
 * a VIP or its backends out of the kernel; only a clean file removes apps.
 * Changes are seen through inotify (src/sources/dirwatch.c); polling every
 * reload_seconds is the fallback while inotify cannot watch.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"
#include "sd_notify.h"
#include "vipd/apps.h"
#include "vipd/apps_diff.h"
#include "vipd/clock.h"
#include "vipd/dirwatch.h"
#include "vipd/hash.h"
#include "vipd/log.h"
#include "vipd/marathon.h"
#include "vipd/vec.h"

/* stat() never opens the file: a FIFO or a device among the definitions
 * cannot block the loop here. */
static uint64_t sig_stat(uint64_t h, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return hash_fnv1a(h, "missing", 7);
	h = hash_fnv1a(h, path, strlen(path));
	h = hash_fnv1a(h, &st.st_mtim, sizeof(st.st_mtim));
	h = hash_fnv1a(h, &st.st_size, sizeof(st.st_size));
	return hash_fnv1a(h, &st.st_ino, sizeof(st.st_ino));
}

/* A directory counts by which one it is and the definition files in it, not
 * by its own mtime: an editor's swap file or a temporary file coming and
 * going is not a change of the definitions, and re-reading them all for it
 * would be a reload the operator did not make. */
static uint64_t sig_dir(uint64_t h, const char *path, const struct stat *st)
{
	struct dirent **names = NULL;
	char file[4096];
	int n = scandir(path, &names, NULL, alphasort);

	h = hash_fnv1a(h, path, strlen(path));
	h = hash_fnv1a(h, &st->st_ino, sizeof(st->st_ino));
	if (n < 0)
		return hash_fnv1a(h, "unreadable", 10);
	for (int i = 0; i < n; i++) {
		if (apps_is_definition_name(names[i]->d_name)) {
			snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
			h = sig_stat(h, file);
		}
		free(names[i]);
	}
	free(names);
	return h;
}

/* Changes when any definition file changes, appears or goes away. */
static void apps_signature(const char *path, char *out, size_t len)
{
	struct stat st;
	uint64_t h;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		h = sig_dir(HASH_VIPD_SEED, path, &st);
	else
		h = sig_stat(HASH_VIPD_SEED, path);
	snprintf(out, len, "%016llx", (unsigned long long)h);
}

static bool file_has_errors(const struct diag_list *dl, const char *file)
{
	for (size_t i = 0; i < dl->count; i++)
		if (dl->items[i].severity == DIAG_ERROR && strcmp(dl->items[i].file, file) == 0)
			return true;
	return false;
}

/* The directory itself failing (unreadable) counts as an error of every file. */
static bool source_broken(const struct apps_set *fresh, const char *apps_path, const char *file)
{
	return file_has_errors(&fresh->diags, file) || file_has_errors(&fresh->diags, apps_path);
}

/* Moves old apps into `fresh` where their file is broken now. */
static size_t carry_over(struct apps_set *old, struct apps_set *fresh, const char *apps_path)
{
	size_t kept = 0;

	for (size_t i = 0; i < old->napps; i++) {
		struct app *a = &old->apps[i];

		/* apps_find is linear: asked only for an app whose file broke. */
		if (!a->id || !source_broken(fresh, apps_path, a->source) ||
		    apps_find(fresh, a->id))
			continue;
		if (VEC_RESERVE(fresh->apps, fresh->cap, fresh->napps + 1) < 0)
			break;
		fresh->apps[fresh->napps++] = *a;
		memset(a, 0, sizeof(*a));
		log_warnx(
		    "%s: keeping the last good definition of app %s until its errors are fixed",
		    fresh->apps[fresh->napps - 1].source, fresh->apps[fresh->napps - 1].id);
		kept++;
	}
	return kept;
}

/* A diagnostic's path is NULL for the whole document. */
static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static uint64_t diag_hash(const struct diag *d)
{
	const char *file = or_empty(d->file), *path = or_empty(d->path);
	const char *msg = or_empty(d->message);
	uint64_t h = hash_fnv1a(HASH_VIPD_SEED, file, strlen(file) + 1);

	h = hash_fnv1a(h, path, strlen(path) + 1);
	return hash_fnv1a(h, msg, strlen(msg));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static bool diag_same(const struct diag *a, const struct diag *b)
{
	return a->severity == b->severity && strcmp(or_empty(a->file), or_empty(b->file)) == 0 &&
	       strcmp(or_empty(a->path), or_empty(b->path)) == 0 &&
	       strcmp(or_empty(a->message), or_empty(b->message)) == 0;
}

/* The warnings of the previous load, by hash (sorted), to look up each of
 * this load's in O(log n): thousands of apps reload without a quadratic
 * pass on the loop. NULL when there are none (or no memory: then every
 * warning is logged, as before). */
static uint64_t *warning_hashes(const struct diag_list *prev, size_t *n)
{
	uint64_t *hashes = malloc((prev->count + 1) * sizeof(*hashes));

	*n = 0;
	if (!hashes)
		return NULL;
	for (size_t i = 0; i < prev->count; i++)
		if (prev->items[i].severity == DIAG_WARNING)
			hashes[(*n)++] = diag_hash(&prev->items[i]);
	vec_sort(hashes, *n, sizeof(*hashes), cmp_u64);
	return hashes;
}

static bool warned_before(const struct diag_list *prev, const uint64_t *hashes, size_t n,
                          const struct diag *d)
{
	uint64_t h;

	if (d->severity != DIAG_WARNING || n == 0)
		return false;
	h = diag_hash(d);
	if (!vec_find(&h, hashes, n, sizeof(*hashes), cmp_u64))
		return false;
	for (size_t i = 0; i < prev->count; i++)
		if (diag_same(&prev->items[i], d))
			return true;
	return false;
}

/* A warning is logged when it is new: the previous load did not give it in
 * the same words (file, JSON path, values), so a check that is added or
 * changed is warned about once, not on every reload. Errors are logged each
 * time: their app stays on its last good definition until they are fixed. */
static void log_new_diags(const struct diag_list *prev, const struct diag_list *fresh)
{
	size_t n;
	uint64_t *hashes = warning_hashes(prev, &n);
	char line[2048];

	for (size_t i = 0; i < fresh->count; i++)
		if (!warned_before(prev, hashes, n, &fresh->items[i]))
			log_warnx("%s", diag_format(&fresh->items[i], line, sizeof(line)));
	free(hashes);
}

/* Makes *fresh the definitions, the old ones going to *old (the scheduler
 * borrows from them until synced). */
static void apps_swap(struct engine *e, struct apps_set *fresh, const char *whole,
                      struct apps_set *old)
{
	size_t kept;

	log_new_diags(&e->apps.diags, &fresh->diags);
	kept = carry_over(&e->apps, fresh, whole);
	engine_audit_reload(e, fresh, kept);
	api_note_load(e->api, fresh, kept);
	*old = e->apps;
	e->apps = *fresh;
	memset(fresh, 0, sizeof(*fresh));
	e->log_desired_diags = true;
}

/* After a swap: the scheduler keeps every unchanged task's checks (state,
 * timers, phase: sched_sync compares each task's check targets), and only
 * the changed apps' services are rebuilt and applied, at once (the reload
 * already is one coalesced event); or a whole-table round runs soon. */
static void apps_changed(struct engine *e, struct apps_set *old, double started)
{
	struct apps_diff d;
	char err[256];

	if (apps_diff(old, &e->apps, &d, err, sizeof(err)) < 0) {
		log_warnx("%s; rebuilding the whole table", err);
		sched_sync(e->sched, &e->apps);
		engine_reconcile_now(e);
	} else {
		/* The other apps are equal field for field: when the new set
		 * took over their objects, their tasks are left alone; else
		 * they are only re-pointed at the new set; unless new
		 * settings are coming (a whole round noted): then every task
		 * is compared. */
		if (e->rebuild_all)
			sched_sync(e->sched, &e->apps);
		else if (apps_keep_unchanged(old, &e->apps, apps_diff_has, &d))
			sched_sync_changed_in_place(e->sched, &e->apps, old, apps_diff_has, &d);
		else
			sched_sync_changed(e->sched, &e->apps, old, apps_diff_has, &d);
		if (engine_reload_round(e, &d, old, started) < 0)
			engine_reconcile_now(e);
	}
	apps_diff_free(&d);
	apps_set_free(old);
}

void engine_apps_install(struct engine *e, struct apps_set *fresh, const char *whole)
{
	struct apps_set old = {0};
	double started = clock_now_s();

	apps_swap(e, fresh, whole, &old);
	apps_changed(e, &old, started);
}

const char *engine_apps_shown(const struct engine *e)
{
	return e->marathon ? marathon_client_master(e->marathon) : e->cfg.apps_path;
}

/* Only the files that changed are parsed (the cache holds the others');
 * without memory for the cache, all of them. *parsed: how many were. */
static void load_definitions(struct engine *e, struct apps_set *fresh, size_t *parsed)
{
	size_t before;

	if (!e->apps_cache)
		e->apps_cache = apps_load_cache_new();
	if (!e->apps_cache) {
		apps_load_path(fresh, e->cfg.apps_path);
		*parsed = fresh->files_read;
		return;
	}
	before = apps_load_cache_parses(e->apps_cache);
	apps_load_path_cached(fresh, e->cfg.apps_path, e->apps_cache);
	*parsed = apps_load_cache_parses(e->apps_cache) - before;
}

/* Reads the definitions into e->apps when they changed (or `force`). The
 * replaced set goes to *old: the scheduler borrows from it until synced.
 * *read_at: when the read ended (the engine's work starts). */
static bool apps_reread(struct engine *e, bool force, struct apps_set *old, double *read_at)
{
	struct apps_set fresh = {0};
	size_t parsed;
	char sig[64];

	apps_signature(e->cfg.apps_path, sig, sizeof(sig));
	if (!force && strcmp(sig, e->apps_signature) == 0)
		return false;
	snprintf(e->apps_signature, sizeof(e->apps_signature), "%s", sig);
	*read_at = clock_now_s();
	load_definitions(e, &fresh, &parsed);
	log_debug("%s: %zu app%s read in %.3f ms (%zu file%s parsed)", e->cfg.apps_path,
	          fresh.napps, fresh.napps == 1 ? "" : "s", (clock_now_s() - *read_at) * 1000.0,
	          parsed, parsed == 1 ? "" : "s");
	*read_at = clock_now_s();
	apps_swap(e, &fresh, e->cfg.apps_path, old);
	return true;
}

void engine_reload(struct engine *e, bool force)
{
	struct apps_set old = {0};
	double started;

	if (e->marathon) {
		engine_marathon_resync(e);
		return;
	}
	if (!apps_reread(e, force, &old, &started))
		return;
	apps_changed(e, &old, started);
}

/* The first round programs the whole table (seconds for 10,000
 * destinations in a slow VM) before any check is armed: checks armed first
 * would all come due during it and run late, together. Nothing is lost:
 * until checks report, every task's health is unknown either way. */
void engine_load_first(struct engine *e)
{
	struct apps_set old = {0};
	double read_at;

	if (e->marathon) {
		/* Nothing is programmed until Marathon answers: the kernel's
		 * table (adopted) stays as it is meanwhile. */
		sd_notify_state("READY=1");
		return;
	}
	apps_reread(e, true, &old, &read_at);
	engine_round(e, false);
	/* systemd's Type=notify: started means the first table is in the kernel. */
	sd_notify_state("READY=1");
	sched_sync(e->sched, &e->apps);
	apps_set_free(&old);
}

/* A burst of changes (an editor's write-then-rename, a tool rewriting the
 * directory) is read once, this long after its last event: long enough for
 * `cp` or an editor to finish, short next to a check interval. */
#define APPS_SETTLE_S 0.15
#define APPS_MAX_WAIT_S 1.0

static void on_apps_watch(void *arg, enum dirwatch_event ev);

static int watch_apps(struct engine *e, char *err, size_t errlen)
{
	e->apps_watch = dirwatch_open(e->loop, e->cfg.apps_path, APPS_SETTLE_S, APPS_MAX_WAIT_S,
	                              on_apps_watch, e, err, errlen);
	return e->apps_watch ? 0 : -1;
}

/* dirwatch callback */
static void on_apps_watch(void *arg, enum dirwatch_event ev)
{
	struct engine *e = arg;

	if (ev == DIRWATCH_LOST) {
		engine_unwatch_apps(e);
		log_warnx("%s: lost the inotify watch; checking for changes every %u s instead",
		          e->cfg.apps_path, e->cfg.reload_s);
		ev_timer_start(e->loop, &e->reload);
	}
	engine_reload(e, false);
}

void engine_watch_apps(struct engine *e)
{
	char err[512];

	if (!e->cfg.reload_s || e->marathon)
		return; /* reload_seconds 0: only SIGHUP reloads; Marathon sends events */
	if (watch_apps(e, err, sizeof(err)) == 0) {
		log_info("%s: watching for changes", e->cfg.apps_path);
		return;
	}
	log_warnx("%s: cannot watch for changes (%s); checking every %u s instead",
	          e->cfg.apps_path, err, e->cfg.reload_s);
	ev_timer_start(e->loop, &e->reload);
}

/* The fallback timer: each tick also tries to get the watch back. */
void engine_reload_poll(struct engine *e)
{
	if (!e->apps_watch && watch_apps(e, NULL, 0) == 0) {
		ev_timer_stop(e->loop, &e->reload);
		log_info("%s: watching for changes again", e->cfg.apps_path);
	}
	engine_reload(e, false);
}

void engine_unwatch_apps(struct engine *e)
{
	dirwatch_close(e->apps_watch);
	e->apps_watch = NULL;
}
