/*
 * Marathon's event bus, decoded: the events vipd acts on (a task's status
 * changing, app definitions changing) from the JSON of one /v2/events
 * message, and a status update applied to the app model. Pure: no I/O.
 */
#ifndef VIPD_MARATHON_H
#define VIPD_MARATHON_H

#include <stdbool.h>
#include <stddef.h>

#include "vipd/config.h"
#include "vipd/errbuf.h"
#include "vipd/model.h"

/* The event types vipd asks /v2/events for (event_type=...), NULL-ended. */
extern const char *const marathon_event_types[];

enum marathon_event_kind {
	MARATHON_EVENT_IGNORED,       /* a type vipd does not act on */
	MARATHON_EVENT_STATUS_UPDATE, /* status_update_event: ev->status */
	MARATHON_EVENT_APPS_CHANGED,  /* definitions changed: ev->app_ids to re-read */
};

/* What a task status means for the task list. */
enum marathon_task_action {
	MARATHON_TASK_UPSERT,  /* staging, starting, running: list it */
	MARATHON_TASK_KILLING, /* still listed, being killed */
	MARATHON_TASK_REMOVE,  /* terminal, or out of reach: no longer a backend */
};

struct marathon_status_update {
	char *app_id;      /* normalised, absolute */
	char *task_status; /* as Marathon wrote it */
	enum marathon_task_action action;
	char *timestamp; /* NULL when absent */
	/* The task as /v2/apps?embed=apps.tasks would list it (without the
	 * app's VIPD_NETNS namespace, which marathon_status_apply adds). */
	struct task task;
	char *task_json; /* the same, as the JSON the app parser reads */
};

struct marathon_event {
	enum marathon_event_kind kind;
	char *type; /* the event type the decoding went by */
	struct marathon_status_update status;
	char **app_ids; /* APPS_CHANGED: normalised ids, no duplicates */
	size_t napp_ids;
};

/* Decodes one message: `sse_type` is its event: field ("message" when it
 * had none: then the JSON's eventType names it). `origin` starts every
 * error ("marathon http://HOST:PORT /v2/events"). Returns 0 with *ev
 * filled (free with marathon_event_free), or -1 with a located error:
 * "ORIGIN: status_update_event: /taskId: expected a string, got 3". */
VIPD_MUST_CHECK int marathon_event_decode(const char *origin, const char *sse_type,
                                          const char *data, size_t len, struct marathon_event *ev,
                                          char *err, size_t errlen);

void marathon_event_free(struct marathon_event *ev);

enum marathon_apply_result {
	MARATHON_APPLY_ADDED,       /* a task the app did not list */
	MARATHON_APPLY_UPDATED,     /* a listed task changed (state, host, ports...) */
	MARATHON_APPLY_REMOVED,     /* a listed task went */
	MARATHON_APPLY_UNCHANGED,   /* nothing to do (a repeat, an unlisted task ending) */
	MARATHON_APPLY_UNKNOWN_APP, /* the app is not in the set: re-read the state */
	MARATHON_APPLY_FAILED,      /* out of memory, or the task no longer parses: err */
};

/* Applies a decoded status update to the task list of its app in `set`. */
enum marathon_apply_result marathon_status_apply(struct apps_set *set,
                                                 const struct marathon_status_update *u, char *err,
                                                 size_t errlen);

const char *marathon_apply_result_name(enum marathon_apply_result r);

/* One master of a URL list. */
struct marathon_master {
	char *url;     /* as given, used for requests */
	char *shown;   /* without credentials, for messages */
	char *problem; /* the last problem reported, NULL once it works */
};

/* "http://m1:8080,https://u:p@m2:8443" into *out; -1 with err on a URL that
 * is not http:// or https://. */
int marathon_masters_parse(const char *urls, struct marathon_master **out, size_t *n, char *err,
                           size_t errlen);
void marathon_masters_free(struct marathon_master *m, size_t n);

/* Whether an apps source (`apps`, --apps, a vipctl operand) names
 * Marathon's masters (http:// or https:// URLs) rather than a path. */
bool marathon_is_source(const char *apps);

/* The credentials of marathon.* in vipd's settings (secrets read from
 * their files; never to be put in a message). */
struct marathon_auth {
	char *userpwd;       /* "user:password" from marathon.user/password_file; NULL = none */
	char *token;         /* marathon.token_file's first line; NULL = none */
	const char *ca_file; /* borrowed from the settings */
};

/* Reads them (small local files, at start-up or on a command's start).
 * 0, or -1 with err ("/marathon/token_file: cannot read \"F\": ...");
 * marathon_auth_free either way. */
VIPD_MUST_CHECK int marathon_auth_read(const struct vipd_config *cfg, struct marathon_auth *a,
                                       char *err, size_t errlen);
/* Wipes and frees the secrets. */
void marathon_auth_free(struct marathon_auth *a);
/* Why a transfer failed, from its CURLcode and CURLOPT_ERRORBUFFER: for a
 * TLS failure what is wrong with the certificate, else curl's own text. */
const char *marathon_curl_why(int curl_code, const char *errorbuffer);

/* What vipd reads for the whole state, after a master's base URL. */
#define MARATHON_STATE_PATH "/v2/apps?embed=apps.tasks"

/*
 * The client: the state and the event stream of one of several Marathon
 * masters, on the libev loop through libcurl multi (no blocking call).
 * It opens /v2/events first and, once the stream is attached, reads
 * /v2/apps?embed=apps.tasks; events arriving meanwhile are held and
 * delivered after the state, in order. Any failure (refused, timeout, an
 * HTTP error, an answer the caller rejects, the stream closing) drops both
 * and tries the next master after a backoff with jitter.
 */
struct ev_loop;
struct marathon_client;

/* Called from inside the loop; none of them may free the client. */
struct marathon_client_cb {
	/* The whole state. Returns 0 when it was usable, else -1 with why in
	 * err: the client treats that master as failing. */
	int (*on_state)(void *arg, const char *origin, const char *body, size_t len, char *err,
	                size_t errlen);
	void (*on_event)(void *arg, const struct marathon_event *ev);
	/* A located problem, once per distinct problem until things work again. */
	void (*on_problem)(void *arg, const char *message);
};

struct marathon_client_options {
	double state_timeout_s;   /* the /v2/apps read; 0 = 10 s */
	double connect_timeout_s; /* 0 = 5 s */
	double backoff_min_s;     /* first retry after a failure; 0 = 0.5 s */
	double backoff_max_s;     /* 0 = 30 s */
	/* Credentials, copied by the client and never put in a message: */
	const char *userpwd; /* "user:password" for HTTP basic auth; NULL = none
	                      * (or the URL's own user:pass@) */
	const char *token;   /* DC/OS: "Authorization: token=TOKEN"; NULL = none */
	const char *ca_file; /* TLS: the CA bundle to verify masters with; NULL = system's */
};

/* urls: Marathon base URLs separated by commas ("http://m1:8080,http://m2:8080").
 * Starts connecting at once; returns 0, or -1 with err (a bad URL list). */
VIPD_MUST_CHECK int marathon_client_start(struct ev_loop *loop, const char *urls,
                                          const struct marathon_client_options *opt,
                                          const struct marathon_client_cb *cb, void *arg,
                                          struct marathon_client **out, char *err, size_t errlen);

/* Reads the whole state again (after an event that cannot be applied alone). */
void marathon_client_resync(struct marathon_client *c);

/* The master in use now (a base URL without credentials). */
const char *marathon_client_master(const struct marathon_client *c);

void marathon_client_free(struct marathon_client *c);

#endif
