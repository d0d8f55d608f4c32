/*
 * vipctl audit: audit logs read line by line (plain, gzip, stdin), each
 * line parsed into a record, and the three readers over the stream:
 * the timeline, the report and the verification. Memory grows with the
 * number of backends, never with the length of the log.
 */
#ifndef VIPD_AUDIT_CLI_H
#define VIPD_AUDIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* One line of the log, fields borrowed from `json`. */
struct arec {
	json_t *json;
	const char *line; /* the line as read, without its newline */
	const char *file;
	unsigned long lineno;
	int64_t ts_ms; /* Unix time */
	const char *ts, *event;
	const char *app, *task, *from, *to, *rule, *outcome, *output; /* check, task */
	const char *host;                                             /* task */
	json_t *ports;                                                /* task */
	const char *op, *service, *dest, *result, *text, *error;      /* ipvs */
	long long weight;                                             /* ipvs: -1 when absent */
};

/* Parses one line; -1 and err ("not JSON: ...", "no \"ts\"") when it is not
 * an audit line. rec->json is to be json_decref'ed by the caller. */
int arec_parse(const char *line, struct arec *rec, char *err, size_t errlen);

/* "2026-11-26T19:17:45.123Z" or with an offset ("+02:00"): ms since the
 * epoch; -1 when not RFC 3339. */
int audit_parse_rfc3339(const char *s, int64_t *ms);
/* RFC 3339, or a duration before now ("90s", "15m", "2h", "7d", "1w"). */
int audit_parse_when(const char *s, int64_t now_ms, int64_t *ms);
/* "2026-11-26T19:17:45.123Z" */
void audit_format_ms(int64_t ms, char *buf, size_t len);

/* "host:port" as the ipvs events write a destination ("[fd00::1]:80"). */
void audit_dest_name(const char *host, long long port, char *buf, size_t len);
/* Does the task event's host and ports give this destination? */
bool arec_task_has_dest(const struct arec *task_rec, const char *dest);

/* A small string-keyed table that owns its keys; values are the caller's. */
struct amap_slot {
	char *key;
	void *value;
};
struct amap {
	struct amap_slot *slots;
	size_t n, cap;
};
void *amap_get(const struct amap *m, const char *key);
/* Inserts when absent; returns the slot, NULL when out of memory. */
struct amap_slot *amap_put(struct amap *m, const char *key);
/* Frees keys, slots, and each value with free_value (may be NULL). */
void amap_free(struct amap *m, void (*free_value)(void *));

/* Report: per backend (app, task, VIP) and per app, over [since, until]. */
struct areport;
struct areport *areport_new(int64_t since_ms, int64_t until_ms);
int areport_add(struct areport *r, const struct arec *rec);
/* Closes the window (at `until`, or the last line read) and prints. */
void areport_print(struct areport *r, bool json);
void areport_free(struct areport *r);

/* Verify: every health transition followed, within bound_ms, by the kernel
 * operations it calls for. */
struct averify;
struct averify *averify_new(int64_t bound_ms);
void averify_add(struct averify *v, const struct arec *rec);
/* Prints each transition not followed; returns how many. */
size_t averify_finish(struct averify *v);
void averify_free(struct averify *v);

#endif
