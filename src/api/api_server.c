/*
 * The API's HTTP server: libmicrohttpd with no thread of its own, its epoll
 * fd watched by one ev_io and its timeouts by one ev_timer, so a request is
 * served in a short callback on vipd's loop and nothing blocks it. Slow or
 * hostile clients meet libmicrohttpd's limits (connections, per address,
 * idle timeout, memory per connection) and at a deadline for each request,
 * which a client trickling bytes cannot push back. Read-only: GET and HEAD.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "vipd/api.h"
#include "vipd/apps.h"
#include "vipd/clock.h"
#include "vipd/dns.h"
#include "vipd/log.h"

struct api {
	struct ev_loop *loop;
	struct MHD_Daemon *mhd;
	ev_io epoll_io;
	ev_timer timeout;
	struct api_state st;
	struct api_counters counters;
	struct api_record record;
	struct api_kstats *kstats; /* NULL: no IPVS, or it could not be opened */
};

/* One client connection: its request deadline. */
struct api_conn {
	struct api *api;
	int fd; /* libmicrohttpd's: shut down at the deadline, never closed here */
	ev_timer deadline;
};

int api_listen_parse(const char *text, struct lb_addr *addr, uint16_t *port, char *err,
                     size_t errlen)
{
	char with_addr[64];
	const char *full = text;

	/* A port alone listens on loopback: the API is local unless asked. */
	if (text[0] && strspn(text, "0123456789") == strlen(text) && strlen(text) < 16) {
		(void)snprintf(with_addr, sizeof(with_addr), "127.0.0.1:%s", text);
		full = with_addr;
	}
	if (dns_listen_parse(full, addr, port, err, errlen) == 0)
		return 0;
	errbuf_set(err, errlen,
	           "API listen address \"%s\": expected PORT or ADDR:PORT (IPv6 in brackets), "
	           "port 1-65535",
	           text);
	return -1;
}

void api_note_check(struct api *a, const struct sched_event *ev)
{
	if (!a)
		return;
	api_counters_note_check(&a->counters, ev);
	if (api_record_check(&a->record, ev, ev_time()) < 0)
		log_warnx("API: out of memory recording a check result");
}

void api_note_op(struct api *a, const struct rc_op *op, int error, const char *msg)
{
	if (!a)
		return;
	api_counters_note_op(&a->counters, op, error, msg, ev_time());
	if (api_record_op(&a->record, op, error, msg, ev_time()) < 0)
		log_warnx("API: out of memory recording a kernel operation");
}

void api_note_load(struct api *a, const struct apps_set *set, size_t kept)
{
	if (!a)
		return;
	api_counters_note_load(&a->counters, set, kept, ev_time());
	api_record_prune(&a->record, set);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
                             const char *type)
{
	enum MHD_Result rc;

	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_NO ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") == MHD_NO)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, char *body, size_t len,
                               const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

	if (!r) {
		free(body);
		return MHD_NO;
	}
	return queue(c, status, r, type);
}

static enum MHD_Result respond_page(struct MHD_Connection *c)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    strlen(api_page_html), (void *)api_page_html, MHD_RESPMEM_PERSISTENT);

	if (!r)
		return MHD_NO;
	return queue(c, MHD_HTTP_OK, r, "text/html; charset=utf-8");
}

static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned status, json_t *doc)
{
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	if (!body)
		return MHD_NO;
	return respond(c, status, body, strlen(body), "application/json");
}

static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status, const char *msg,
                                     const char *url)
{
	return respond_json(c, status, json_pack("{s:s, s:s}", "error", msg, "path", url));
}

static enum MHD_Result serve_vips_or_metrics(struct api *a, struct MHD_Connection *c,
                                             const char *url, bool metrics)
{
	struct api_vips v;
	enum MHD_Result rc;
	int built = api_vips_build(&a->st, &v);
	char *text;
	size_t len = 0;

	if (built < 0)
		return MHD_NO;
	if (!metrics && built > 0) {
		/* For one turn of the loop after a reload: the next round rebuilds. */
		rc = respond_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "reloading, try again", url);
	} else if (!metrics) {
		rc = respond_json(c, MHD_HTTP_OK, api_vips_json(&a->st, &v, clock_now_ms()));
	} else {
		text = api_metrics_text(&a->st, &a->counters, &v, &len);
		rc =
		    text ? respond(c, MHD_HTTP_OK, text, len, "text/plain; version=0.0.4") : MHD_NO;
	}
	api_vips_free(&v);
	return rc;
}

/* /v1/events?since=SEQ: the events after SEQ (all those kept without it). */
static enum MHD_Result serve_events(struct api *a, struct MHD_Connection *c, const char *url)
{
	const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	unsigned long long seq = 0;
	char *end = NULL;

	if (since) {
		errno = 0;
		seq = strtoull(since, &end, 10);
		if (!since[0] || *end || errno || since[0] == '-')
			return respond_error(c, MHD_HTTP_BAD_REQUEST,
			                     "since: expected a sequence number (0 or more)", url);
	}
	return respond_json(c, MHD_HTTP_OK, api_events_json(&a->record, (uint64_t)seq));
}

/* /v1/apps/ID, the id with its slashes ("/v1/apps/prod/web" is /prod/web). */
static enum MHD_Result serve_app(struct api *a, struct MHD_Connection *c, const char *url)
{
	const struct app *app = apps_find(a->st.apps, url + strlen("/v1/apps"));

	if (!app)
		return respond_error(c, MHD_HTTP_NOT_FOUND, "no such app", url);
	return respond_json(c, MHD_HTTP_OK, api_app_json(&a->st, app));
}

const char *const api_path_names[API_PATH_COUNT] = {
    "/v1/status", "/v1/vips", "/v1/apps", "/v1/events", "/metrics", "/", "other",
};

/* From half a millisecond: a scrape of 1,000 VIPs must stay under 10 ms. */
const double api_request_bounds[API_REQUEST_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,   0.1,   0.25,   0.5,   1};

static enum api_path path_of(const char *method, const char *url)
{
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return API_PATH_OTHER;
	if (strcmp(url, "/v1/status") == 0)
		return API_PATH_STATUS;
	if (strcmp(url, "/v1/vips") == 0)
		return API_PATH_VIPS;
	if (strcmp(url, "/metrics") == 0)
		return API_PATH_METRICS;
	if (strcmp(url, "/v1/events") == 0)
		return API_PATH_EVENTS;
	if (strncmp(url, "/v1/apps/", 9) == 0 && url[9])
		return API_PATH_APPS;
	if (strcmp(url, "/") == 0)
		return API_PATH_PAGE;
	return API_PATH_OTHER;
}

static enum MHD_Result serve(struct api *a, struct MHD_Connection *c, enum api_path path,
                             const char *url)
{
	switch (path) {
	case API_PATH_STATUS:
		return respond_json(c, MHD_HTTP_OK,
		                    api_status_json(&a->st, &a->counters, clock_now_s()));
	case API_PATH_VIPS:
		return serve_vips_or_metrics(a, c, url, false);
	case API_PATH_METRICS:
		return serve_vips_or_metrics(a, c, url, true);
	case API_PATH_EVENTS:
		return serve_events(a, c, url);
	case API_PATH_APPS:
		return serve_app(a, c, url);
	case API_PATH_PAGE:
		return respond_page(c);
	case API_PATH_OTHER:
	case API_PATH_COUNT:
		break;
	}
	return respond_error(c, MHD_HTTP_NOT_FOUND, "not found", url);
}

/* The calling thread's CPU time (the loop's: vipd has one thread). Not
 * the monotonic clock: it stops while the kernel runs other processes. */
static double thread_cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_request(struct api_counters *c, enum api_path path, double seconds,
                         double cpu_seconds)
{
	size_t b = 0;

	while (b < API_REQUEST_BUCKETS && seconds > api_request_bounds[b])
		b++;
	c->request_buckets[path][b]++;
	c->request_sum[path] += seconds;
	c->request_cpu_sum[path] += cpu_seconds > 0 ? cpu_seconds : 0;
}

/* MHD_AccessHandlerCallback: answers on the first call, before any body.
 * The time it takes is the loop's, measured on the monotonic clock. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct api *a = cls;
	enum api_path path = path_of(method, url);
	double start = clock_now_s(), cpu_start = thread_cpu_s();
	enum MHD_Result rc;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		rc = respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", url);
	else
		rc = serve(a, c, path, url);
	note_request(&a->counters, path, clock_now_s() - start, thread_cpu_s() - cpu_start);
	return rc;
}

static void arm_timeout(struct api *a)
{
	MHD_UNSIGNED_LONG_LONG ms;

	ev_timer_stop(a->loop, &a->timeout);
	if (MHD_get_timeout(a->mhd, &ms) == MHD_NO)
		return;
	ev_timer_set(&a->timeout, (double)ms / 1000.0, 0);
	ev_timer_start(a->loop, &a->timeout);
}

static void run_mhd(struct api *a)
{
	if (MHD_run(a->mhd) == MHD_NO)
		log_warnx("API: libmicrohttpd could not run its sockets");
	arm_timeout(a);
}

/* ev_io callback on libmicrohttpd's epoll fd */
static void on_epoll(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	run_mhd(w->data);
}

/* ev_timer callback: a connection's idle timeout, or work pending */
static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run_mhd(w->data);
}

/* libmicrohttpd's idle timeout restarts with every byte received, so a
 * client trickling its headers would hold a slot for ever. At the deadline
 * the socket is shut down; libmicrohttpd sees the end of the stream and
 * closes the connection itself (NOTIFY_CLOSED frees this). */
static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct api_conn *conn = w->data;

	(void)loop;
	(void)revents;
	if (shutdown(conn->fd, SHUT_RDWR) < 0)
		log_warn("API: shutting down a connection past its deadline");
	run_mhd(conn->api);
}

static void conn_arm(struct api_conn *conn)
{
	ev_timer_stop(conn->api->loop, &conn->deadline);
	ev_timer_set(&conn->deadline, API_REQUEST_DEADLINE_S, 0);
	ev_timer_start(conn->api->loop, &conn->deadline);
}

/* MHD_NotifyConnectionCallback */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *info;
	struct api_conn *conn = *socket_context;
	struct api *a = cls;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (conn)
			ev_timer_stop(a->loop, &conn->deadline);
		free(conn);
		*socket_context = NULL;
		return;
	}
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	conn = calloc(1, sizeof(*conn));
	if (!conn || !info) {
		/* Without a deadline the idle timeout still applies. */
		log_warnx("API: out of memory for a connection's deadline");
		free(conn);
		return;
	}
	conn->api = a;
	conn->fd = info->connect_fd;
	ev_timer_init(&conn->deadline, on_deadline, 0, 0);
	conn->deadline.data = conn;
	conn_arm(conn);
	*socket_context = conn;
}

/* MHD_RequestCompletedCallback: a kept-alive connection's next request gets
 * its own deadline. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *info;

	(void)cls;
	(void)con_cls;
	(void)toe;
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (info && info->socket_context)
		conn_arm(info->socket_context);
}

static socklen_t to_sockaddr(const struct lb_addr *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (addr->af == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = addr->u.v6;
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	s4->sin_addr = addr->u.v4;
	return sizeof(*s4);
}

static struct MHD_Daemon *start_mhd(struct api *a, const struct lb_addr *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	to_sockaddr(addr, port, &ss);
	if (addr->af == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(
	    flags, port, NULL, NULL, on_request, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONNECTION_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)API_PER_IP_CONNECTION_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONNECTION_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONNECTION_MEMORY_LIMIT,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, a, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, a, MHD_OPTION_END);
}

/* The kernel's counters, when vipd programs IPVS: without them the API
 * still serves everything else, so a failure is said, not fatal. */
static void open_kstats(struct api *a)
{
	char err[256];

	if (!a->st.ipvs)
		return;
	a->kstats = api_kstats_open(a->loop, API_KSTATS_INTERVAL_S, err, sizeof(err));
	if (!a->kstats)
		log_warnx("API: no IPVS counters: %s", err);
	a->st.kstats = a->kstats;
}

struct api *api_open(struct ev_loop *loop, const char *listen, const struct api_state *st,
                     char *err, size_t errlen)
{
	const union MHD_DaemonInfo *info;
	struct lb_addr addr;
	uint16_t port;
	struct api *a;

	if (api_listen_parse(listen, &addr, &port, err, errlen) < 0)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a) {
		errbuf_set(err, errlen, "API: out of memory");
		return NULL;
	}
	a->loop = loop;
	a->st = *st;
	api_record_init(&a->record);
	a->st.record = &a->record;
	open_kstats(a);
	ev_timer_init(&a->timeout, on_timeout, 0, 0);
	a->timeout.data = a;
	a->mhd = start_mhd(a, &addr, port);
	if (!a->mhd) {
		errbuf_set(err, errlen,
		           "API: cannot listen on \"%s\" (address in use or not local?)", listen);
		goto fail;
	}
	info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		errbuf_set(err, errlen, "API: libmicrohttpd has no epoll fd");
		goto fail;
	}
	ev_io_init(&a->epoll_io, on_epoll, info->epoll_fd, EV_READ);
	a->epoll_io.data = a;
	ev_io_start(loop, &a->epoll_io);
	arm_timeout(a);
	return a;
fail:
	if (a->mhd)
		MHD_stop_daemon(a->mhd);
	api_kstats_close(a->kstats);
	api_record_free(&a->record);
	free(a);
	return NULL;
}

void api_close(struct api *a)
{
	if (!a)
		return;
	ev_io_stop(a->loop, &a->epoll_io);
	ev_timer_stop(a->loop, &a->timeout);
	MHD_stop_daemon(a->mhd);
	api_kstats_close(a->kstats);
	api_record_free(&a->record);
	free(a);
}
