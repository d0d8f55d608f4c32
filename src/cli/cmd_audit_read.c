/*
 * vipctl audit: one audit line into a record, times in and out of RFC 3339,
 * destinations as the ipvs events name them, and the string table the
 * readers keep their backends in.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_cli.h"
#include "vipd/hash.h"

static const char *str_field(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int arec_parse(const char *line, struct arec *rec, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	json_t *w;

	memset(rec, 0, sizeof(*rec));
	if (!o || !json_is_object(o)) {
		snprintf(err, errlen, "not a JSON object: %s",
		         o ? "another JSON value" : jerr.text);
		json_decref(o);
		return -1;
	}
	rec->json = o;
	rec->line = line;
	rec->ts = str_field(o, "ts");
	rec->event = str_field(o, "event");
	if (!rec->ts || audit_parse_rfc3339(rec->ts, &rec->ts_ms) < 0 || !rec->event) {
		snprintf(err, errlen,
		         "not an audit line: \"ts\" (RFC 3339) and \"event\" expected");
		json_decref(o);
		rec->json = NULL;
		return -1;
	}
	rec->app = str_field(o, "app");
	rec->task = str_field(o, "task");
	rec->from = str_field(o, "from");
	rec->to = str_field(o, "to");
	rec->rule = str_field(o, "rule");
	rec->outcome = str_field(o, "outcome");
	rec->output = str_field(o, "output");
	rec->host = str_field(o, "host");
	rec->ports = json_object_get(o, "ports");
	rec->op = str_field(o, "op");
	rec->service = str_field(o, "service");
	rec->dest = str_field(o, "dest");
	rec->result = str_field(o, "result");
	rec->text = str_field(o, "text");
	rec->error = str_field(o, "error");
	w = json_object_get(o, "weight");
	rec->weight = json_is_integer(w) ? json_integer_value(w) : -1;
	return 0;
}

static int parse_offset(const char *p, int *offset_s)
{
	int hh, mm;

	if (*p == 'Z' || *p == 'z') {
		*offset_s = 0;
		return p[1] == '\0' ? 0 : -1;
	}
	if ((*p != '+' && *p != '-') || sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6)
		return -1;
	*offset_s = (hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
	return 0;
}

int audit_parse_rfc3339(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	int n = 0, offset_s, frac_ms = 0;
	const char *p;

	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return -1;
	p = s + n;
	if (*p == '.') {
		int digits = 0;

		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				frac_ms = frac_ms * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			frac_ms *= 10;
	}
	if (parse_offset(p, &offset_s) < 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = ((int64_t)timegm(&tm) - offset_s) * 1000 + frac_ms;
	return 0;
}

int audit_parse_when(const char *s, int64_t now_ms, int64_t *ms)
{
	static const struct {
		char unit;
		double s;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
	char *end;
	double v;

	if (audit_parse_rfc3339(s, ms) == 0)
		return 0;
	v = strtod(s, &end);
	if (end == s || v < 0 || end[0] == '\0' || end[1] != '\0' || !isdigit((unsigned char)*s))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (*end == units[i].unit) {
			*ms = now_ms - (int64_t)(v * units[i].s * 1000);
			return 0;
		}
	return -1;
}

void audit_format_ms(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void audit_dest_name(const char *host, long long port, char *buf, size_t len)
{
	if (strchr(host, ':'))
		snprintf(buf, len, "[%s]:%lld", host, port);
	else
		snprintf(buf, len, "%s:%lld", host, port);
}

bool arec_task_has_dest(const struct arec *t, const char *dest)
{
	char name[300];
	size_t i;
	json_t *p;

	if (!t->host || !json_is_array(t->ports))
		return false;
	json_array_foreach(t->ports, i, p)
	{
		audit_dest_name(t->host, json_integer_value(p), name, sizeof(name));
		if (strcmp(name, dest) == 0)
			return true;
	}
	return false;
}

static size_t amap_find(const struct amap *m, const char *key)
{
	size_t i = hash_fnv1a(HASH_FNV1A_BASIS, key, strlen(key)) & (m->cap - 1);

	while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *amap_get(const struct amap *m, const char *key)
{
	return m->cap ? m->slots[amap_find(m, key)].value : NULL;
}

static int amap_grow(struct amap *m)
{
	struct amap bigger = {.cap = m->cap ? m->cap * 2 : 64};

	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			bigger.slots[amap_find(&bigger, m->slots[i].key)] = m->slots[i];
	bigger.n = m->n;
	free(m->slots);
	*m = bigger;
	return 0;
}

struct amap_slot *amap_put(struct amap *m, const char *key)
{
	struct amap_slot *s;

	if ((m->n + 1) * 2 > m->cap && amap_grow(m) < 0)
		return NULL;
	s = &m->slots[amap_find(m, key)];
	if (!s->key) {
		s->key = strdup(key);
		if (!s->key)
			return NULL;
		m->n++;
	}
	return s;
}

void amap_free(struct amap *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		free(m->slots[i].key);
		if (free_value)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
