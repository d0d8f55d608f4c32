/*
 * The per-file cache of a directory source: each file's parsed apps and
 * diagnostics kept with its identity (device, inode, size, mtime, ctime),
 * reused by copy while the file stays the same. The set a reload builds is
 * always new: the scheduler and the desired index borrow the previous one
 * until they are synced, so nothing in it is shared with the cache.
 */
#include <stdlib.h>
#include <string.h>

#include "load_cache.h"
#include "vipd/hash.h"
#include "vipd/vec.h"

static int str_copy(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -1;
}

/* calloc of n elements; NULL is fine for none. */
static int array_alloc(void **dst, size_t n, size_t size)
{
	*dst = NULL;
	if (n == 0)
		return 0;
	*dst = calloc(n, size);
	return *dst ? 0 : -1;
}

/* *count is set once the array is there: a copy that fails half way is
 * freed by app_free like any other app. */
static int labels_copy(struct label **dst, size_t *count, const struct label *src, size_t n)
{
	*count = 0;
	if (array_alloc((void **)dst, n, sizeof(**dst)) < 0)
		return -1;
	*count = n;
	for (size_t i = 0; i < n; i++)
		if (str_copy(&(*dst)[i].key, src[i].key) < 0 ||
		    str_copy(&(*dst)[i].value, src[i].value) < 0)
			return -1;
	return 0;
}

static int ports_copy(struct app *dst, const struct app *src)
{
	if (array_alloc((void **)&dst->ports, src->nports, sizeof(*dst->ports)) < 0)
		return -1;
	dst->nports = src->nports;
	for (size_t i = 0; i < src->nports; i++) {
		struct port_def *p = &dst->ports[i];

		*p = src->ports[i];
		p->name = NULL;
		p->labels = NULL;
		p->nlabels = 0;
		if (str_copy(&p->name, src->ports[i].name) < 0 ||
		    labels_copy(&p->labels, &p->nlabels, src->ports[i].labels,
		                src->ports[i].nlabels) < 0)
			return -1;
	}
	return 0;
}

static int checks_copy(struct app *dst, const struct app *src)
{
	if (array_alloc((void **)&dst->checks, src->nchecks, sizeof(*dst->checks)) < 0)
		return -1;
	dst->nchecks = src->nchecks;
	for (size_t i = 0; i < src->nchecks; i++) {
		struct health_check *h = &dst->checks[i];
		const struct health_check *s = &src->checks[i];

		*h = *s;
		h->command = h->path = h->json_path = NULL;
		if (str_copy(&h->command, s->command) < 0 || str_copy(&h->path, s->path) < 0 ||
		    str_copy(&h->json_path, s->json_path) < 0)
			return -1;
	}
	return 0;
}

static int task_copy(struct task *t, const struct task *s)
{
	*t = (struct task){.state = s->state};
	if (str_copy(&t->id, s->id) < 0 || str_copy(&t->host, s->host) < 0 ||
	    str_copy(&t->state_text, s->state_text) < 0 ||
	    str_copy(&t->started_at, s->started_at) < 0 || str_copy(&t->netns, s->netns) < 0)
		return -1;
	if (array_alloc((void **)&t->ports, s->nports, sizeof(*t->ports)) < 0)
		return -1;
	if (s->nports)
		memcpy(t->ports, s->ports, s->nports * sizeof(*t->ports));
	t->nports = s->nports;
	if (array_alloc((void **)&t->ip_addresses, s->nip_addresses, sizeof(char *)) < 0)
		return -1;
	t->nip_addresses = s->nip_addresses;
	for (size_t i = 0; i < s->nip_addresses; i++)
		if (str_copy(&t->ip_addresses[i], s->ip_addresses[i]) < 0)
			return -1;
	return 0;
}

static int tasks_copy(struct app *dst, const struct app *src)
{
	if (array_alloc((void **)&dst->tasks, src->ntasks, sizeof(*dst->tasks)) < 0)
		return -1;
	dst->ntasks = src->ntasks;
	for (size_t i = 0; i < src->ntasks; i++)
		if (task_copy(&dst->tasks[i], &src->tasks[i]) < 0)
			return -1;
	return 0;
}

/* A deep copy; on failure what was copied is freed and *dst is zeroed. */
static int app_copy(struct app *dst, const struct app *src)
{
	*dst = (struct app){.ports_are_mappings = src->ports_are_mappings};
	if (str_copy(&dst->id, src->id) < 0 || str_copy(&dst->source, src->source) < 0 ||
	    str_copy(&dst->json_path, src->json_path) < 0 || ports_copy(dst, src) < 0 ||
	    checks_copy(dst, src) < 0 || tasks_copy(dst, src) < 0 ||
	    labels_copy(&dst->labels, &dst->nlabels, src->labels, src->nlabels) < 0)
		goto fail;
	return 0;
fail:
	app_free(dst);
	memset(dst, 0, sizeof(*dst));
	return -1;
}

/* Appends copies of n apps and nd diagnostics; -1 (nothing appended) when
 * memory runs out. */
static int set_append(struct apps_set *set, const struct app *apps, size_t n,
                      const struct diag *diags, size_t nd)
{
	size_t napps0 = set->napps;

	if (VEC_RESERVE(set->apps, set->cap, set->napps + n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (app_copy(&set->apps[set->napps], &apps[i]) < 0)
			goto fail;
		set->napps++;
	}
	for (size_t i = 0; i < nd; i++)
		diag_add(&set->diags, diags[i].severity, diags[i].file, diags[i].path, "%s",
		         diags[i].message);
	return 0;
fail:
	while (set->napps > napps0)
		app_free(&set->apps[--set->napps]);
	return -1;
}

static void entry_free(struct load_entry *e)
{
	free(e->path);
	apps_set_free(&e->parsed);
	memset(e, 0, sizeof(*e));
}

static size_t id_slot(const struct load_ids *ids, const char *id)
{
	return (size_t)(hash_fnv1a(HASH_FNV1A_BASIS, id, strlen(id)) & (ids->nslots - 1));
}

static void ids_insert(struct load_ids *ids, const struct apps_set *set, size_t idx)
{
	size_t s = id_slot(ids, set->apps[idx].id);

	while (ids->slots[s])
		s = (s + 1) & (ids->nslots - 1);
	ids->slots[s] = idx + 1;
}

/* Brings the table up to set->apps[0, napps), growing it to keep it at
 * most half full. -1 when memory runs out. */
static int ids_update(struct load_ids *ids, const struct apps_set *set)
{
	if (set->napps * 2 >= ids->nslots) {
		size_t n = ids->nslots ? ids->nslots : 256;
		size_t *slots;

		while (set->napps * 2 >= n)
			n *= 2;
		slots = calloc(n, sizeof(*slots));
		if (!slots)
			return -1;
		free(ids->slots);
		ids->slots = slots;
		ids->nslots = n;
		ids->indexed = 0;
	}
	for (; ids->indexed < set->napps; ids->indexed++)
		ids_insert(ids, set, ids->indexed);
	return 0;
}

static bool ids_taken(const struct load_ids *ids, const struct apps_set *set, const char *id)
{
	for (size_t s = id_slot(ids, id); ids->slots[s]; s = (s + 1) & (ids->nslots - 1))
		if (strcmp(set->apps[ids->slots[s] - 1].id, id) == 0)
			return true;
	return false;
}

/* Whether appending the entry's apps would meet an id already in set. */
static bool ids_collide(struct apps_load_cache *c, const struct apps_set *set,
                        const struct load_entry *e)
{
	if (ids_update(&c->ids, set) < 0)
		return true;
	for (size_t i = 0; i < e->parsed.napps; i++)
		if (ids_taken(&c->ids, set, e->parsed.apps[i].id))
			return true;
	return false;
}

static bool ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* stat() never opens the file: a FIFO put in its place cannot block. The
 * inode catches a file replaced by rename with the same size and times. */
static bool entry_current(const struct load_entry *e)
{
	struct stat st;

	return stat(e->path, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == e->dev &&
	       st.st_ino == e->ino && st.st_size == e->size && ts_equal(&st.st_mtim, &e->mtim) &&
	       ts_equal(&st.st_ctim, &e->ctim);
}

/* The entry of `path` from the last read, taken out of it (NULL when none).
 * Files come in the same order each read, so the search starts after the
 * previous find. */
static struct load_entry *entry_take(struct apps_load_cache *c, const char *path)
{
	for (size_t k = 0; k < c->nentries; k++) {
		size_t i = (c->hint + k) % c->nentries;

		if (c->entries[i].path && strcmp(c->entries[i].path, path) == 0) {
			c->hint = i + 1;
			return &c->entries[i];
		}
	}
	return NULL;
}

static struct load_entry *entry_push(struct apps_load_cache *c)
{
	if (VEC_RESERVE(c->next, c->capnext, c->nnext + 1) < 0)
		return NULL;
	c->next[c->nnext] = (struct load_entry){0};
	return &c->next[c->nnext++];
}

/* A file with errors is parsed again each time: its errors are logged on
 * every reload, and one of them may be a duplicate of an app in another
 * file, which only a parse in order reports the same way. */
static bool entry_usable(const struct load_entry *e)
{
	return diag_count(&e->parsed.diags, DIAG_ERROR) == 0 && e->parsed.diags.lost[0] == 0 &&
	       e->parsed.diags.lost[1] == 0 && entry_current(e);
}

/* Flags set->apps[from, to) as copied from an unchanged file. Without
 * memory they stay unflagged: apps_diff then compares them, as it would any
 * app. */
static void mark_reused(struct apps_set *set, size_t from, size_t to)
{
	if (to > set->nreused) {
		bool *grown = realloc(set->reused, to * sizeof(*grown));

		if (!grown)
			return;
		memset(grown + set->nreused, 0, (to - set->nreused) * sizeof(*grown));
		set->reused = grown;
		set->nreused = to;
	}
	for (size_t i = from; i < to; i++)
		set->reused[i] = true;
}

int load_cache_reuse(struct apps_load_cache *c, struct apps_set *set, const char *path)
{
	struct load_entry *e, *kept;
	size_t napps0 = set->napps;

	if (!c->keep || !(e = entry_take(c, path)))
		return -1;
	if (!entry_usable(e) || ids_collide(c, set, e) ||
	    set_append(set, e->parsed.apps, e->parsed.napps, e->parsed.diags.items,
	               e->parsed.diags.count) < 0 ||
	    !(kept = entry_push(c))) {
		entry_free(e);
		return -1;
	}
	mark_reused(set, napps0, set->napps);
	set->files_read++;
	*kept = *e;
	memset(e, 0, sizeof(*e));
	return 0;
}

/* A change within the filesystem's timestamp granularity after the file was
 * measured would leave its times as they were (git's "racily clean"
 * entries): a file changed this recently is not kept, and is parsed again
 * next time. 20 ms covers a jiffy at HZ=100. */
static bool changed_too_recently(const struct stat *st, const struct timespec *read_began)
{
	long long began_ns = (long long)read_began->tv_sec * 1000000000LL + read_began->tv_nsec;
	long long ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;

	return ctime_ns >= began_ns - 20000000LL;
}

void load_cache_keep(struct apps_load_cache *c, const struct apps_set *set, const char *path,
                     const struct stat *st, const struct timespec *read_began, size_t napps0,
                     size_t ndiags0, const size_t lost0[2])
{
	struct load_entry *e;

	c->parses++;
	if (!c->keep || set->diags.lost[0] != lost0[0] || set->diags.lost[1] != lost0[1] ||
	    changed_too_recently(st, read_began) || !(e = entry_push(c)))
		return;
	*e = (struct load_entry){.dev = st->st_dev,
	                         .ino = st->st_ino,
	                         .size = st->st_size,
	                         .mtim = st->st_mtim,
	                         .ctim = st->st_ctim};
	/* No offset into a NULL array (a file with no app or no message). */
	if (!(e->path = strdup(path)) ||
	    set_append(&e->parsed, set->napps > napps0 ? set->apps + napps0 : NULL,
	               set->napps - napps0,
	               set->diags.count > ndiags0 ? set->diags.items + ndiags0 : NULL,
	               set->diags.count - ndiags0) < 0) {
		entry_free(e);
		c->nnext--;
	}
}

void load_cache_begin(struct apps_load_cache *c)
{
	c->nnext = 0;
	c->hint = 0;
	c->ids.indexed = 0;
	if (c->ids.slots)
		memset(c->ids.slots, 0, c->ids.nslots * sizeof(*c->ids.slots));
}

/* The files not read this time (deleted, renamed away) go. */
void load_cache_end(struct apps_load_cache *c)
{
	for (size_t i = 0; i < c->nentries; i++)
		entry_free(&c->entries[i]);
	free(c->entries);
	c->entries = c->next;
	c->nentries = c->nnext;
	c->next = NULL;
	c->nnext = c->capnext = 0;
}

void load_cache_release(struct apps_load_cache *c)
{
	for (size_t i = 0; i < c->nnext; i++)
		entry_free(&c->next[i]);
	c->nnext = 0;
	load_cache_end(c); /* frees the entries, makes the empty list current */
	load_cache_end(c); /* and frees that */
	free(c->ids.slots);
	memset(c, 0, sizeof(*c));
}

struct apps_load_cache *apps_load_cache_new(void)
{
	struct apps_load_cache *c = calloc(1, sizeof(*c));

	if (c)
		c->keep = true;
	return c;
}

void apps_load_cache_free(struct apps_load_cache *c)
{
	if (!c)
		return;
	load_cache_release(c);
	free(c);
}

size_t apps_load_cache_parses(const struct apps_load_cache *c)
{
	return c->parses;
}
