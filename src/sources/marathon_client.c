/*
 * The Marathon client: one curl multi driven by the libev loop (after
 * curl's evhiperfifo.c), the event stream and the state read of the
 * current master, failover and backoff. Owns its transfers, watchers and
 * the events held while the state is read.
 */
#include <curl/curl.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "marathon_int.h"
#include "vipd/apps.h"
#include "vipd/curl_ev.h"
#include "vipd/marathon.h"
#include "vipd/sse.h"
#include "vipd/vec.h"

#define ORIGIN_LEN 320
#define PROBLEM_LEN 640
#define QUEUE_MAX 10000

struct mc_xfer {
	struct marathon_client *c;
	CURL *easy;
	char *body; /* the state read's answer */
	size_t len, cap;
	char why[PROBLEM_LEN]; /* why a callback stopped the transfer */
	char curl_error[CURL_ERROR_SIZE];
	int attached; /* the stream answered 200 */
};

struct mc_held {
	char *type;
	char *data;
	size_t len;
};

struct marathon_client {
	struct ev_loop *loop;
	struct curlev curl; /* the multi handle on the loop */
	ev_timer retry_timer;
	ev_timer kick_timer; /* runs mc_progress outside curl's callbacks */
	struct marathon_client_options opt;
	struct marathon_client_cb cb;
	void *arg;
	struct marathon_master *masters;
	size_t nmasters, current;
	unsigned failures; /* in a row, for the backoff */
	unsigned seed;
	struct mc_xfer stream, state;
	int want_state;
	struct sse_parser sse;
	struct curl_slist *stream_headers;
	struct curl_slist *state_headers; /* the token, when there is one */
	char *userpwd, *ca_file;
	struct mc_held *held;
	size_t nheld, capheld;
	char event_problem[PROBLEM_LEN]; /* last reported, so a run of bad events logs once */
};

static void mc_check_done(struct marathon_client *c);
static void mc_progress(struct marathon_client *c);

/* The two requests; the stream asks only for the events vipd acts on
 * (Marathon 1.3.7+ filters by event_type). */
static const char STATE_PATH[] = MARATHON_STATE_PATH;

static void origin_of(const struct marathon_client *c, const char *what, char *out, size_t len)
{
	snprintf(out, len, "marathon %s %s", c->masters[c->current].shown, what);
}

/* Reports a problem of the current master unless it is the one reported last. */
static void mc_problem(struct marathon_client *c, const char *msg)
{
	struct marathon_master *m = &c->masters[c->current];

	if (m->problem && strcmp(m->problem, msg) == 0)
		return;
	free(m->problem);
	m->problem = strdup(msg);
	c->cb.on_problem(c->arg, msg);
}

/* After each socket action of the multi handle. */
static void mc_after(void *arg)
{
	mc_check_done(arg);
	mc_progress(arg);
}

static void held_clear(struct marathon_client *c)
{
	for (size_t i = 0; i < c->nheld; i++) {
		free(c->held[i].type);
		free(c->held[i].data);
	}
	c->nheld = 0;
}

static int held_push(struct marathon_client *c, const struct sse_event *ev)
{
	struct mc_held *h;

	if (c->nheld == QUEUE_MAX)
		return -1;
	if (VEC_RESERVE(c->held, c->capheld, c->nheld + 1) < 0)
		return -1;
	h = &c->held[c->nheld];
	h->type = strdup(ev->type);
	h->data = malloc(ev->data_len + 1);
	if (!h->type || !h->data) {
		free(h->type);
		free(h->data);
		return -1;
	}
	memcpy(h->data, ev->data, ev->data_len + 1);
	h->len = ev->data_len;
	c->nheld++;
	return 0;
}

/* A problem with the stream's content: reported unless it repeats the
 * last one; the event's effect is unknown, only the whole state can tell. */
static void event_problem(struct marathon_client *c, const char *msg)
{
	if (strcmp(msg, c->event_problem) != 0) {
		snprintf(c->event_problem, sizeof(c->event_problem), "%s", msg);
		c->cb.on_problem(c->arg, msg);
	}
	c->want_state = 1;
}

static void event_deliver(struct marathon_client *c, const char *type, const char *data, size_t len)
{
	struct marathon_event ev;
	char origin[ORIGIN_LEN], err[PROBLEM_LEN];

	origin_of(c, "/v2/events", origin, sizeof(origin));
	if (marathon_event_decode(origin, type, data, len, &ev, err, sizeof(err)) < 0) {
		event_problem(c, err);
		return;
	}
	if (ev.kind != MARATHON_EVENT_IGNORED)
		c->cb.on_event(c->arg, &ev);
	marathon_event_free(&ev);
}

/* sse_parser callback: held while a state read is due or running. */
static void mc_on_sse(void *arg, const struct sse_event *ev)
{
	struct marathon_client *c = arg;

	if (c->want_state || c->state.easy) {
		if (held_push(c, ev) < 0) {
			/* Too many to hold: the next state read covers them. */
			held_clear(c);
			c->want_state = 1;
		}
		return;
	}
	event_deliver(c, ev->type, ev->data, ev->data_len);
}

/* CURLOPT_HEADERFUNCTION of the stream: at the end of the final headers
 * the stream is attached, or refused. */
static size_t mc_stream_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct mc_xfer *x = userp;
	size_t n = size * nmemb;
	long code = 0;

	if (!(n == 2 && data[0] == '\r') && !(n == 1 && data[0] == '\n'))
		return n;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 300 && code < 400)
		return n; /* a leader redirect, followed */
	if (code != 200) {
		snprintf(x->why, sizeof(x->why), "HTTP %ld", code);
		return 0;
	}
	x->attached = 1;
	/* A new stream: the state is read again, after the attach, so that no
	 * change between the two is lost. */
	x->c->want_state = 1;
	return n;
}

/* CURLOPT_WRITEFUNCTION of the stream. */
static size_t mc_stream_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct mc_xfer *x = userp;
	struct marathon_client *c = x->c;
	char err[256], origin[ORIGIN_LEN], msg[PROBLEM_LEN];

	if (sse_feed(&c->sse, data, size * nmemb, err, sizeof(err)) < 0) {
		origin_of(c, "/v2/events", origin, sizeof(origin));
		errbuf_set(msg, sizeof(msg), "%s: %s", origin, err);
		event_problem(c, msg);
	}
	return size * nmemb;
}

/* CURLOPT_WRITEFUNCTION of the state read: bounded like an apps file. */
static size_t mc_state_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct mc_xfer *x = userp;
	size_t n = size * nmemb;

	if (x->len + n > (size_t)APPS_MAX_FILE_BYTES) {
		snprintf(x->why, sizeof(x->why), "answer over %u bytes", APPS_MAX_FILE_BYTES);
		return 0;
	}
	if (VEC_RESERVE(x->body, x->cap, x->len + n + 1) < 0) {
		snprintf(x->why, sizeof(x->why), "out of memory");
		return 0;
	}
	memcpy(x->body + x->len, data, n);
	x->len += n;
	x->body[x->len] = '\0';
	return n;
}

static void xfer_stop(struct marathon_client *c, struct mc_xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(c->curl.multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	free(x->body);
	*x = (struct mc_xfer){.c = c};
}

static long ms_of(double s)
{
	return (long)(s * 1000.0 + 0.5);
}

static int xfer_start(struct marathon_client *c, struct mc_xfer *x, const char *path, int stream)
{
	char *url = NULL;
	CURLcode rc = CURLE_OK;

	xfer_stop(c, x);
	x->easy = curl_easy_init();
	if (!x->easy || asprintf(&url, "%s%s", c->masters[c->current].url, path) < 0) {
		snprintf(x->why, sizeof(x->why), "out of memory");
		return -1;
	}
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(x->easy, opt, val);                                  \
	} while (0)
	x->curl_error[0] = '\0';
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_ERRORBUFFER, x->curl_error);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, ms_of(c->opt.connect_timeout_s));
	/* Marathon's standby masters answer with a redirect to the leader. */
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, 5L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_USERAGENT, "vipd/" VIPD_VERSION);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->userpwd)
		SET(CURLOPT_USERPWD, c->userpwd);
	if (c->ca_file)
		SET(CURLOPT_CAINFO, c->ca_file);
	if (!stream && c->state_headers)
		SET(CURLOPT_HTTPHEADER, c->state_headers);
	if (stream) {
		SET(CURLOPT_HTTPHEADER, c->stream_headers);
		SET(CURLOPT_HEADERFUNCTION, mc_stream_header);
		SET(CURLOPT_HEADERDATA, x);
		SET(CURLOPT_WRITEFUNCTION, mc_stream_write);
	} else {
		SET(CURLOPT_TIMEOUT_MS, ms_of(c->opt.state_timeout_s));
		SET(CURLOPT_WRITEFUNCTION, mc_state_write);
	}
	SET(CURLOPT_WRITEDATA, x);
#undef SET
	free(url);
	if (rc != CURLE_OK || curl_multi_add_handle(c->curl.multi, x->easy) != CURLM_OK) {
		snprintf(x->why, sizeof(x->why), "curl set-up failed");
		return -1;
	}
	return 0;
}

/* Jitter keeps several vipd from retrying a recovering master in step. */
static double backoff_s(struct marathon_client *c)
{
	double d = c->opt.backoff_min_s;

	for (unsigned i = 1; i < c->failures && d < c->opt.backoff_max_s; i++)
		d *= 2;
	if (d > c->opt.backoff_max_s)
		d = c->opt.backoff_max_s;
	return d * (0.5 + 0.5 * ((double)rand_r(&c->seed) / RAND_MAX));
}

/* Drops both transfers, reports, and tries the next master later. */
static void mc_fail(struct marathon_client *c, const char *msg)
{
	mc_problem(c, msg);
	xfer_stop(c, &c->stream);
	xfer_stop(c, &c->state);
	held_clear(c);
	c->want_state = 0;
	c->failures++;
	c->current = (c->current + 1) % c->nmasters;
	ev_timer_stop(c->loop, &c->retry_timer);
	ev_timer_set(&c->retry_timer, backoff_s(c), 0.);
	ev_timer_start(c->loop, &c->retry_timer);
}

static void mc_connect(struct marathon_client *c)
{
	char path[256], origin[ORIGIN_LEN], msg[PROBLEM_LEN];
	size_t n = (size_t)snprintf(path, sizeof(path), "/v2/events");

	for (size_t i = 0; marathon_event_types[i]; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%cevent_type=%s", i ? '&' : '?',
		                      marathon_event_types[i]);
	sse_reset(&c->sse);
	c->event_problem[0] = '\0';
	if (xfer_start(c, &c->stream, path, 1) < 0) {
		origin_of(c, "/v2/events", origin, sizeof(origin));
		errbuf_set(msg, sizeof(msg), "%s: %s", origin, c->stream.why);
		mc_fail(c, msg);
	}
}

static void mc_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	mc_connect(w->data);
}

static void held_flush(struct marathon_client *c)
{
	/* Delivery may ask for another state read: the rest waits for it. */
	size_t i;

	for (i = 0; i < c->nheld && !c->want_state; i++)
		event_deliver(c, c->held[i].type, c->held[i].data, c->held[i].len);
	if (i == c->nheld) {
		held_clear(c);
		return;
	}
	/* Only the ones not yet delivered stay held. */
	for (size_t k = 0; k < i; k++) {
		free(c->held[k].type);
		free(c->held[k].data);
	}
	memmove(c->held, c->held + i, (c->nheld - i) * sizeof(*c->held));
	c->nheld -= i;
}

static void state_done(struct marathon_client *c, CURLcode rc)
{
	char origin[ORIGIN_LEN], msg[PROBLEM_LEN], err[PROBLEM_LEN / 2];
	long code = 0;
	struct mc_xfer *x = &c->state;

	origin_of(c, STATE_PATH, origin, sizeof(origin));
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		errbuf_set(msg, sizeof(msg), "%s: %s", origin,
		           x->why[0] ? x->why : marathon_curl_why(rc, x->curl_error));
		mc_fail(c, msg);
		return;
	}
	if (code != 200) {
		snprintf(msg, sizeof(msg), "%s: HTTP %ld", origin, code);
		mc_fail(c, msg);
		return;
	}
	if (c->cb.on_state(c->arg, origin, x->body ? x->body : "", x->len, err, sizeof(err)) < 0) {
		errbuf_set(msg, sizeof(msg), "%s: %s", origin, err);
		mc_fail(c, msg);
		return;
	}
	xfer_stop(c, x);
	c->failures = 0;
	free(c->masters[c->current].problem);
	c->masters[c->current].problem = NULL;
	held_flush(c);
}

static void stream_done(struct marathon_client *c, CURLcode rc)
{
	char origin[ORIGIN_LEN], msg[PROBLEM_LEN];
	struct mc_xfer *x = &c->stream;

	origin_of(c, "/v2/events", origin, sizeof(origin));
	if (x->why[0])
		errbuf_set(msg, sizeof(msg), "%s: %s", origin, x->why);
	else if (rc != CURLE_OK)
		errbuf_set(msg, sizeof(msg), "%s: %s", origin,
		           marathon_curl_why(rc, x->curl_error));
	else
		snprintf(msg, sizeof(msg), "%s: the stream ended", origin);
	mc_fail(c, msg);
}

/* Finished transfers, handled here only (outside curl's callbacks). */
static void mc_check_done(struct marathon_client *c)
{
	struct mc_xfer *x;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->curl.multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x) != CURLE_OK)
			continue;
		if (x == &c->state)
			state_done(c, m->data.result);
		else if (x == &c->stream)
			stream_done(c, m->data.result);
	}
}

/* Starts the state read the stream asked for, outside curl's callbacks. */
static void mc_progress(struct marathon_client *c)
{
	char origin[ORIGIN_LEN], msg[PROBLEM_LEN];

	if (!c->want_state || c->state.easy || !c->stream.attached)
		return;
	c->want_state = 0;
	if (xfer_start(c, &c->state, STATE_PATH, 0) < 0) {
		origin_of(c, STATE_PATH, origin, sizeof(origin));
		errbuf_set(msg, sizeof(msg), "%s: %s", origin, c->state.why);
		mc_fail(c, msg);
	}
}

static void mc_kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	mc_progress(w->data);
}

/* May be called from on_event, inside a curl callback: curl refuses a new
 * transfer there, so the read starts from the loop. */
void marathon_client_resync(struct marathon_client *c)
{
	c->want_state = 1;
	ev_timer_stop(c->loop, &c->kick_timer);
	ev_timer_set(&c->kick_timer, 0., 0.);
	ev_timer_start(c->loop, &c->kick_timer);
}

const char *marathon_client_master(const struct marathon_client *c)
{
	return c->masters[c->current].shown;
}

static double or_default(double v, double d)
{
	return v > 0 ? v : d;
}

/* Copies of the credentials; the token goes in both requests' headers. */
static int client_credentials(struct marathon_client *c, const struct marathon_client_options *opt)
{
	char *line = NULL;
	struct curl_slist *l;

	if (opt->userpwd && !(c->userpwd = strdup(opt->userpwd)))
		return -1;
	if (opt->ca_file && !(c->ca_file = strdup(opt->ca_file)))
		return -1;
	if (!opt->token)
		return 0;
	if (asprintf(&line, "Authorization: token=%s", opt->token) < 0)
		return -1;
	l = curl_slist_append(c->stream_headers, line);
	if (l)
		c->stream_headers = l;
	c->state_headers = l ? curl_slist_append(NULL, line) : NULL;
	free(line);
	return c->state_headers ? 0 : -1;
}

int marathon_client_start(struct ev_loop *loop, const char *urls,
                          const struct marathon_client_options *opt,
                          const struct marathon_client_cb *cb, void *arg,
                          struct marathon_client **out, char *err, size_t errlen)
{
	struct marathon_client *c = calloc(1, sizeof(*c));
	struct marathon_client_options none = {0};

	*out = NULL;
	if (!c) {
		errbuf_set(err, errlen, "marathon: out of memory");
		return -1;
	}
	if (!opt)
		opt = &none;
	c->loop = loop;
	c->cb = *cb;
	c->arg = arg;
	c->opt.state_timeout_s = or_default(opt->state_timeout_s, 10);
	c->opt.connect_timeout_s = or_default(opt->connect_timeout_s, 5);
	c->opt.backoff_min_s = or_default(opt->backoff_min_s, 0.5);
	c->opt.backoff_max_s = or_default(opt->backoff_max_s, 30);
	c->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)c;
	c->stream.c = c->state.c = c;
	sse_init(&c->sse, 0, mc_on_sse, c);
	ev_timer_init(&c->retry_timer, mc_retry_cb, 0., 0.);
	c->retry_timer.data = c;
	ev_timer_init(&c->kick_timer, mc_kick_cb, 0., 0.);
	c->kick_timer.data = c;
	if (marathon_masters_parse(urls, &c->masters, &c->nmasters, err, errlen) < 0)
		goto fail;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errbuf_set(err, errlen, "marathon: curl_global_init failed");
		goto fail;
	}
	if (curlev_init(&c->curl, loop, mc_after, c, err, errlen) < 0) {
		curl_global_cleanup();
		errbuf_set(err, errlen, "marathon: curl multi set-up failed");
		goto fail;
	}
	c->stream_headers = curl_slist_append(NULL, "Accept: text/event-stream");
	if (!c->stream_headers || client_credentials(c, opt) < 0) {
		errbuf_set(err, errlen, "marathon: curl multi set-up failed");
		goto fail;
	}
	mc_connect(c);
	*out = c;
	return 0;
fail:
	marathon_client_free(c);
	return -1;
}

void marathon_client_free(struct marathon_client *c)
{
	if (!c)
		return;
	ev_timer_stop(c->loop, &c->retry_timer);
	ev_timer_stop(c->loop, &c->kick_timer);
	xfer_stop(c, &c->stream);
	xfer_stop(c, &c->state);
	if (c->curl.multi) {
		curlev_close(&c->curl);
		curl_global_cleanup();
	}
	curl_slist_free_all(c->stream_headers);
	curl_slist_free_all(c->state_headers);
	free(c->userpwd);
	free(c->ca_file);
	held_clear(c);
	free(c->held);
	sse_free(&c->sse);
	marathon_masters_free(c->masters, c->nmasters);
	free(c);
}
