/*
 * Typed access to JSON fields with located errors: every getter names the
 * file, the JSON pointer, what was expected and what was found.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"
#include "vipd/errbuf.h"
#include "vipd/suggest.h"

static void pctx_vadd(struct pctx *c, enum diag_severity sev, const char *path, const char *fmt,
                      va_list ap)
{
	char msg[1024];

	errbuf_vset(msg, sizeof(msg), fmt, ap);
	diag_add(&c->set->diags, sev, c->file, path, "%s", msg);
}

void pctx_error(struct pctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pctx_vadd(c, DIAG_ERROR, path, fmt, ap);
	va_end(ap);
	c->errors++;
}

void pctx_warning(struct pctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pctx_vadd(c, DIAG_WARNING, path, fmt, ap);
	va_end(ap);
}

char *pj_strdup(struct pctx *c, const char *path, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		pctx_error(c, path, "out of memory");
	return copy;
}

void path_key(char *out, size_t len, const char *base, const char *key)
{
	size_t n = (size_t)snprintf(out, len, "%s/", base);

	for (; *key && n + 3 < len; key++) {
		if (*key == '~' || *key == '/') {
			out[n++] = '~';
			out[n++] = *key == '~' ? '0' : '1';
		} else {
			out[n++] = *key;
		}
	}
	if (n < len)
		out[n] = '\0';
}

void path_index(char *out, size_t len, const char *base, size_t idx)
{
	snprintf(out, len, "%s/%zu", base, idx);
}

void *pj_calloc(struct pctx *c, const char *path, size_t n, size_t size)
{
	void *p = calloc(n + 1, size);

	if (!p)
		pctx_error(c, path, "out of memory");
	return p;
}

/* Marathon serialises absent optional fields as null: treat null as absent. */
static const json_t *pj_field(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

enum pj_status pj_string(struct pctx *c, const json_t *obj, const char *path, const char *key,
                         const char **out)
{
	const json_t *v = pj_field(obj, key);
	char p[PATH_MAX_LEN], got[64];

	if (!v)
		return PJ_ABSENT;
	if (!json_is_string(v)) {
		path_key(p, sizeof(p), path, key);
		pctx_error(c, p, "expected a string, got %s", json_describe(v, got, sizeof(got)));
		return PJ_BAD;
	}
	*out = json_string_value(v);
	return PJ_OK;
}

enum pj_status pj_string_at(struct pctx *c, const json_t *obj, const char *path, const char *key,
                            const char **out, char *p, size_t len)
{
	enum pj_status st = pj_string(c, obj, path, key, out);

	if (st == PJ_OK)
		path_key(p, len, path, key);
	return st;
}

static bool pj_int_in(const json_t *v, long long min, long long max)
{
	return json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max;
}

static void pj_expected(struct pctx *c, const char *path, const char *expected, const json_t *v)
{
	char got[64];

	pctx_error(c, path, "expected %s, got %s", expected, json_describe(v, got, sizeof(got)));
}

enum pj_status pj_int(struct pctx *c, const json_t *obj, const char *path, const char *key,
                      long long min, long long max, const char *expected, long long *out)
{
	const json_t *v = pj_field(obj, key);
	char p[PATH_MAX_LEN];

	if (!v)
		return PJ_ABSENT;
	if (!pj_int_in(v, min, max)) {
		path_key(p, sizeof(p), path, key);
		pj_expected(c, p, expected, v);
		return PJ_BAD;
	}
	*out = json_integer_value(v);
	return PJ_OK;
}

int pj_int_item(struct pctx *c, const json_t *v, const char *apath, size_t i, long long min,
                long long max, const char *expected, long long *out)
{
	char p[PATH_MAX_LEN];

	if (!pj_int_in(v, min, max)) {
		path_index(p, sizeof(p), apath, i);
		pj_expected(c, p, expected, v);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

enum pj_status pj_bool(struct pctx *c, const json_t *obj, const char *path, const char *key,
                       bool *out)
{
	const json_t *v = pj_field(obj, key);
	char p[PATH_MAX_LEN], got[64];

	if (!v)
		return PJ_ABSENT;
	if (!json_is_boolean(v)) {
		path_key(p, sizeof(p), path, key);
		pctx_error(c, p, "expected true or false, got %s",
		           json_describe(v, got, sizeof(got)));
		return PJ_BAD;
	}
	*out = json_is_true(v);
	return PJ_OK;
}

enum pj_status pj_typed(struct pctx *c, const json_t *obj, const char *path, const char *key,
                        json_type type, json_t **out)
{
	json_t *v = (json_t *)pj_field(obj, key);
	char p[PATH_MAX_LEN], got[64];

	if (!v)
		return PJ_ABSENT;
	if (json_typeof(v) != type) {
		path_key(p, sizeof(p), path, key);
		pctx_error(c, p, "expected %s, got %s",
		           type == JSON_ARRAY ? "an array" : "an object",
		           json_describe(v, got, sizeof(got)));
		return PJ_BAD;
	}
	*out = v;
	return PJ_OK;
}

/* pj_typed, with the field's JSON pointer in p when PJ_OK. */
static enum pj_status pj_typed_at(struct pctx *c, const json_t *obj, const char *path,
                                  const char *key, json_type type, json_t **out, char *p,
                                  size_t len)
{
	enum pj_status st = pj_typed(c, obj, path, key, type, out);

	if (st == PJ_OK)
		path_key(p, len, path, key);
	return st;
}

void *pj_list_calloc(struct pctx *c, const json_t *obj, const char *path, const char *key,
                     size_t size, struct pj_list *l, int *rc)
{
	enum pj_status st =
	    pj_typed_at(c, obj, path, key, JSON_ARRAY, &l->json, l->path, sizeof(l->path));
	void *items;

	*rc = st == PJ_BAD ? -1 : 0;
	if (st != PJ_OK)
		return NULL;
	items = pj_calloc(c, l->path, json_array_size(l->json), size);
	if (!items)
		*rc = -1;
	return items;
}

int pj_labels(struct pctx *c, const json_t *obj, const char *path, struct label **out, size_t *nout)
{
	char lpath[PATH_MAX_LEN], p[PATH_MAX_LEN], got[64];
	json_t *jl = NULL, *v;
	const char *key;
	size_t n = 0;
	enum pj_status st =
	    pj_typed_at(c, obj, path, "labels", JSON_OBJECT, &jl, lpath, sizeof(lpath));

	*out = NULL;
	*nout = 0;
	if (st != PJ_OK)
		return st == PJ_BAD ? -1 : 0;
	*out = pj_calloc(c, lpath, json_object_size(jl), sizeof(**out));
	if (!*out)
		return -1;
	json_object_foreach(jl, key, v)
	{
		if (!json_is_string(v)) {
			path_key(p, sizeof(p), lpath, key);
			pctx_error(c, p, "expected a string label value, got %s",
			           json_describe(v, got, sizeof(got)));
			continue;
		}
		(*out)[n].key = pj_strdup(c, lpath, key);
		(*out)[n].value = pj_strdup(c, lpath, json_string_value(v));
		n++;
	}
	*nout = n;
	return 0;
}

static bool name_listed(const char *key, const char *const *list)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(key, list[i]) == 0)
			return true;
	return false;
}

void pj_warn_unknown(struct pctx *c, const json_t *obj, const char *path, const char *const *reads,
                     const char *const *allowed, bool only_near)
{
	const char *key, *near;
	json_t *v;
	char p[PATH_MAX_LEN];

	json_object_foreach((json_t *)obj, key, v)
	{
		if (name_listed(key, reads) || name_listed(key, allowed))
			continue;
		near = suggest_nearest(key, reads);
		if (near == NULL && only_near)
			continue;
		path_key(p, sizeof(p), path, key);
		if (near)
			pctx_warning(c, p, "unknown field \"%s\" is ignored; did you mean \"%s\"?",
			             key, near);
		else
			pctx_warning(c, p, "unknown field \"%s\" is ignored", key);
	}
}
