/*
 * The model of app definitions: apps, their ports and VIP labels, health
 * checks with Marathon's defaults applied, and tasks (the future backends).
 * Plain structs, owned by a struct apps_set; freed with apps_set_free().
 */
#ifndef VIPD_MODEL_H
#define VIPD_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Marathon's health-check protocols. MESOS_* are run by Mesos in Marathon,
 * vipd runs them exactly like their plain counterparts. */
enum hc_protocol {
	HC_PROTO_HTTP = 0,
	HC_PROTO_HTTPS,
	HC_PROTO_TCP,
	HC_PROTO_COMMAND,
	HC_PROTO_MESOS_HTTP,
	HC_PROTO_MESOS_HTTPS,
	HC_PROTO_MESOS_TCP,
};

/* What a check actually does, after folding MESOS_* into the plain kinds. */
enum hc_kind {
	HC_KIND_HTTP,
	HC_KIND_HTTPS,
	HC_KIND_TCP,
	HC_KIND_COMMAND,
};

/* Marathon's defaults (AppDefinition health checks). */
#define HC_DEFAULT_GRACE_PERIOD_S 300
#define HC_DEFAULT_INTERVAL_S 60
#define HC_DEFAULT_TIMEOUT_S 20
#define HC_DEFAULT_MAX_CONSECUTIVE_FAILURES 3
#define HC_DEFAULT_DELAY_S 15
#define HC_DEFAULT_PATH "/"

/* Port protocols as a bit set: "tcp,udp" is both. */
#define PORT_PROTO_TCP 0x1
#define PORT_PROTO_UDP 0x2

struct label {
	char *key;
	char *value;
};

struct port_def {
	uint32_t port;      /* 0 = Marathon picks; for a port mapping, the container port */
	uint32_t host_port; /* port mappings only; 0 when absent */
	unsigned protocols; /* PORT_PROTO_* bits */
	char *name;         /* NULL when absent */
	struct label *labels;
	size_t nlabels;
};

struct health_check {
	enum hc_protocol protocol;
	char *command;  /* COMMAND: command.value; NULL otherwise */
	char *path;     /* HTTP/HTTPS: defaults to "/" */
	int port_index; /* -1 when `port` is set instead */
	int port;       /* 0 when absent */
	unsigned grace_period_s;
	unsigned interval_s;
	unsigned timeout_s;
	unsigned max_consecutive_failures; /* 0 = never considered for killing */
	unsigned delay_s;
	bool ignore_http1xx;
	char *json_path; /* where it stood, e.g. "/apps/0/healthChecks/1" */
};

enum task_state {
	TASK_STATE_UNKNOWN = 0,
	TASK_STATE_STAGING,
	TASK_STATE_STARTING,
	TASK_STATE_RUNNING,
	TASK_STATE_KILLING,
	TASK_STATE_FINISHED,
	TASK_STATE_FAILED,
	TASK_STATE_KILLED,
	TASK_STATE_LOST,
	TASK_STATE_UNREACHABLE,
};

struct task {
	char *id;
	char *host;      /* agent host name or address */
	uint32_t *ports; /* host ports, in port-definition order */
	size_t nports;
	char **ip_addresses; /* the task's own addresses (ipAddresses[].ipAddress) */
	size_t nip_addresses;
	enum task_state state; /* TASK_STATE_RUNNING when the definition does not say */
	char *state_text;      /* as written, NULL when absent */
	char *started_at;      /* ISO 8601 as Marathon writes it; NULL when absent */
	char *netns;           /* network namespace path to run checks in; NULL = host */
};

struct app {
	char *id;               /* absolute, normalised: "/prod/web" */
	char *source;           /* file it came from */
	char *json_path;        /* JSON pointer of the app object in that file ("" for the root) */
	struct port_def *ports; /* portDefinitions, or container port mappings */
	size_t nports;
	bool ports_are_mappings;
	struct health_check *checks;
	size_t nchecks;
	struct task *tasks;
	size_t ntasks;
	struct label *labels;
	size_t nlabels;
};

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
};

/* One located problem: "file: /json/pointer: message". */
struct diag {
	enum diag_severity severity;
	char *file;
	char *path; /* JSON pointer, "" for the document */
	char *message;
};

struct diag_list {
	struct diag *items;
	size_t count;
	size_t cap;
	size_t lost[2]; /* per severity: diags that memory ran out for */
};

struct apps_set {
	struct app *apps;
	size_t napps;
	size_t cap;
	struct diag_list diags;
	size_t files_read;
	/* A read through a cache (apps_load_path_cached): its number (unique
	 * in the process), and which apps were copied from files unchanged
	 * since the cache's read number `reused_from`: each such app equals,
	 * field for field, the app of the same id in that read's set, which
	 * apps_diff then does not compare again. reused[i] for apps[i], i <
	 * nreused (owned; NULL: none). 0 / NULL for any other set. */
	uint64_t read_id;
	uint64_t reused_from;
	bool *reused;
	size_t nreused;
};

/* Marathon's spelling ("MESOS_HTTP"), a static string; "UNKNOWN" outside
 * the enum. */
const char *hc_protocol_name(enum hc_protocol p);
/* MESOS_* folded into their plain kind. */
enum hc_kind hc_protocol_kind(enum hc_protocol p);
/* Marathon's spelling ("TASK_RUNNING"), a static string; "TASK_UNKNOWN"
 * outside the enum. */
const char *task_state_name(enum task_state s);
/* The name as Marathon writes it ("TASK_RUNNING"); -1 when unknown. */
int task_state_parse(const char *s, enum task_state *out);

/* Port index `idx` of a task, or 0 when the task has no such port. */
uint32_t task_port(const struct task *t, size_t idx);
/* The value of the first label named `key` (exact, case-sensitive),
 * borrowed from labels; NULL when there is none. */
const char *label_get(const struct label *labels, size_t n, const char *key);

/* Appends one diagnostic; file (NULL = "-") and path (NULL = "") are
 * copied. Never fails visibly: one memory runs out for is counted in
 * dl->lost and still by diag_count, so an error is never lost silently. */
void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file, const char *path,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "file: path: [warning: ]message" into buf (cut to len); returns buf. */
const char *diag_format(const struct diag *d, char *buf, size_t len);
/* The diagnostics of that severity added, stored or not. */
size_t diag_count(const struct diag_list *dl, enum diag_severity sev);
/* Frees every diagnostic and leaves the list empty, reusable. */
void diag_list_free(struct diag_list *dl);

/* Free what the struct owns (not the struct itself); apps_set_free also
 * the set's diagnostics, and leaves the set empty, reusable. */
void task_free(struct task *t);
/* Field by field, strings by content: what a reload compares. The
 * definition is everything but the tasks (its source and JSON path too,
 * where its problems are located); tasks compare in order. */
bool task_equal(const struct task *a, const struct task *b);
bool app_definition_equal(const struct app *a, const struct app *b);
bool app_tasks_equal(const struct app *a, const struct app *b);
void app_free(struct app *a);
void apps_set_free(struct apps_set *set);

#endif
