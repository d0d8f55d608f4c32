/* Shared by the parser's files: the parse context and typed JSON getters that
 * report located errors. Private to src/apps/. */
#ifndef VIPD_PARSE_INT_H
#define VIPD_PARSE_INT_H

#include <jansson.h>

#include "vipd/json_describe.h"
#include "vipd/model.h"

#define PATH_MAX_LEN 512

struct pctx {
	struct apps_set *set;
	const char *file;
	size_t errors; /* errors added while parsing the current app */
};

/* Getter results: the field was read, is absent, or was wrong (error added). */
enum pj_status { PJ_OK = 0, PJ_ABSENT = 1, PJ_BAD = -1 };

void pctx_error(struct pctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pctx_warning(struct pctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Room for n items and a zeroed one after them; NULL with the located error
 * "out of memory" added at path. */
void *pj_calloc(struct pctx *c, const char *path, size_t n, size_t size);

/* "/a/b" + key, with JSON pointer escaping (~0, ~1). */
void path_key(char *out, size_t len, const char *base, const char *key);
void path_index(char *out, size_t len, const char *base, size_t idx);

enum pj_status pj_string(struct pctx *c, const json_t *obj, const char *path, const char *key,
                         const char **out);
/* pj_string, with the field's JSON pointer in p when PJ_OK. */
enum pj_status pj_string_at(struct pctx *c, const json_t *obj, const char *path, const char *key,
                            const char **out, char *p, size_t len);
enum pj_status pj_int(struct pctx *c, const json_t *obj, const char *path, const char *key,
                      long long min, long long max, const char *expected, long long *out);
/* Item i of the array at apath: an integer in [min, max], else the located
 * error "expected EXPECTED, got ..." and -1. */
int pj_int_item(struct pctx *c, const json_t *v, const char *apath, size_t i, long long min,
                long long max, const char *expected, long long *out);
enum pj_status pj_bool(struct pctx *c, const json_t *obj, const char *path, const char *key,
                       bool *out);
/* Present and of the given type (JSON_ARRAY or JSON_OBJECT), else an error. */
enum pj_status pj_typed(struct pctx *c, const json_t *obj, const char *path, const char *key,
                        json_type type, json_t **out);
/* An array field as read: the array and its JSON pointer. */
struct pj_list {
	json_t *json;
	char path[PATH_MAX_LEN];
};
/* An optional array field (pj_array) and zeroed room for its items
 * (pj_calloc): the room, with the array in *l; NULL with *rc 0 when the
 * field is absent, -1 when it is not an array or memory runs out (the
 * located error added). */
void *pj_list_calloc(struct pctx *c, const json_t *obj, const char *path, const char *key,
                     size_t size, struct pj_list *l, int *rc);
int pj_labels(struct pctx *c, const json_t *obj, const char *path, struct label **out,
              size_t *nout);
/* strdup, or NULL with an "out of memory" error at path (so that the app
 * is skipped rather than kept with a field missing). */
char *pj_strdup(struct pctx *c, const char *path, const char *s);
/* A warning at each key of obj vipd does not read, naming the nearest of
 * `reads` when one is near (a typo). Keys in `allowed` (NULL-terminated,
 * may be NULL: fields of Marathon's that vipd has no use for) pass; with
 * only_near, so does every key not near one of `reads`. */
void pj_warn_unknown(struct pctx *c, const json_t *obj, const char *path, const char *const *reads,
                     const char *const *allowed, bool only_near);

int parse_ports(struct pctx *c, const json_t *japp, const char *path, struct app *app);
int parse_checks(struct pctx *c, const json_t *japp, const char *path, struct app *app);
int parse_tasks(struct pctx *c, const json_t *japp, const char *path, struct app *app);

#endif
