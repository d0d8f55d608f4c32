/*
 * The Marathon client on a real libev loop against tests/tools/
 * marathon_standin.py, a stand-in for Marathon (which does not run here)
 * listening on loopback: state then events, events held during a state
 * read, failover, one report per distinct problem, errors and timeouts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <ev.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vipd/apps.h"
#include "vipd/marathon.h"

#define MAX_PROBLEMS 16

struct standin {
	pid_t pid;
	FILE *in;
	int out;
	int port;
	int attached, apps_served, acks;
	struct ev_loop *loop;
	char buf[1024];
	size_t len;
	ev_io watcher;
};

struct rec {
	int states, events;
	char order[64];
	char origin[256];
	char problems[MAX_PROBLEMS][640];
	int nproblems;
	char app_id[64], task_id[64];
	enum marathon_task_action action;
	struct marathon_client *resync; /* asked to read the state from on_event */
};

static char apps_path[256], garbage_path[256];

static const char APPS[] =
    "{\"apps\":[{\"id\":\"/prod/web\",\"tasks\":[{\"id\":\"prod_web.1\",\"host\":\"10.0.0.1\","
    "\"ports\":[31000],\"state\":\"TASK_RUNNING\"}]}]}";

static int on_state(void *arg, const char *origin, const char *body, size_t len, char *err,
                    size_t errlen)
{
	struct rec *r = arg;
	struct apps_set set = {0};
	int rc = 0;

	apps_load_buffer(&set, "state", body, len);
	if (diag_count(&set.diags, DIAG_ERROR)) {
		diag_format(&set.diags.items[0], err, errlen);
		rc = -1;
	} else {
		r->states++;
		strcat(r->order, "S");
		snprintf(r->origin, sizeof(r->origin), "%s", origin);
	}
	apps_set_free(&set);
	return rc;
}

static void on_event(void *arg, const struct marathon_event *ev)
{
	struct rec *r = arg;

	assert_int_equal(ev->kind, MARATHON_EVENT_STATUS_UPDATE);
	r->events++;
	strcat(r->order, "E");
	snprintf(r->app_id, sizeof(r->app_id), "%s", ev->status.app_id);
	snprintf(r->task_id, sizeof(r->task_id), "%s", ev->status.task.id);
	r->action = ev->status.action;
	if (r->resync)
		marathon_client_resync(r->resync);
}

static void on_problem(void *arg, const char *msg)
{
	struct rec *r = arg;

	assert_true(r->nproblems < MAX_PROBLEMS);
	snprintf(r->problems[r->nproblems++], sizeof(r->problems[0]), "%s", msg);
}

static const struct marathon_client_cb CB = {on_state, on_event, on_problem};

/* The stand-in's stdout: "attached N", "apps N". */
static void standin_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct standin *s = w->data;
	ssize_t n;
	char *nl;

	(void)revents;
	n = read(s->out, s->buf + s->len, sizeof(s->buf) - s->len - 1);
	if (n <= 0) {
		ev_io_stop(loop, w);
		return;
	}
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	while ((nl = strchr(s->buf, '\n'))) {
		*nl = '\0';
		sscanf(s->buf, "attached %d", &s->attached);
		sscanf(s->buf, "apps %d", &s->apps_served);
		s->acks += strcmp(s->buf, "ok") == 0;
		s->len -= (size_t)(nl + 1 - s->buf);
		memmove(s->buf, nl + 1, s->len + 1);
	}
}

static void standin_start(struct ev_loop *loop, struct standin *s)
{
	int in[2], out[2];
	char script[512], line[64];
	const char *src = getenv("VIPD_SOURCE_DIR");
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	snprintf(script, sizeof(script), "%s/tests/tools/marathon_standin.py", src ? src : ".");
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", script, apps_path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->in = fdopen(in[1], "w");
	assert_non_null(s->in);
	/* The first line, read whole before the loop takes over the pipe. */
	f = fdopen(dup(out[0]), "r");
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	s->out = out[0];
	assert_int_equal(sscanf(line, "port %d", &s->port), 1);
	ev_io_init(&s->watcher, standin_read, s->out, EV_READ);
	s->watcher.data = s;
	ev_io_start(loop, &s->watcher);
}

static void run_until(struct ev_loop *loop, const volatile int *flag, double seconds);

/* Sends a command and waits until the stand-in says it took effect. */
static void standin_cmd(struct standin *s, const char *fmt, ...)
{
	int want = s->acks + 1, done = 0;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(s->in, fmt, ap);
	va_end(ap);
	fputc('\n', s->in);
	fflush(s->in);
	for (double end = ev_time() + 5; s->acks < want && ev_time() < end;)
		run_until(s->loop, &done, 0.02);
	assert_int_equal(s->acks, want);
}

static void standin_stop(struct ev_loop *loop, struct standin *s)
{
	int status;

	ev_io_stop(loop, &s->watcher);
	fputs("quit\n", s->in);
	fclose(s->in);
	close(s->out);
	waitpid(s->pid, &status, 0);
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)revents;
	if (*(int *)t->data)
		ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop until *flag is non-zero (checked every 10 ms) or `seconds`. */
static void run_until(struct ev_loop *loop, const volatile int *flag, double seconds)
{
	ev_timer tick;
	double end = ev_time() + seconds;

	ev_timer_init(&tick, on_tick, 0.01, 0.01);
	tick.data = (void *)flag;
	ev_timer_start(loop, &tick);
	while (!*flag && ev_time() < end)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &tick);
}

static void run_for(struct ev_loop *loop, double seconds)
{
	static const int never = 0;

	run_until(loop, &never, seconds);
}

static int wait_states(struct ev_loop *loop, struct rec *r, int n)
{
	int done = 0;

	for (double end = ev_time() + 5; r->states < n && ev_time() < end;)
		run_until(loop, &done, 0.05);
	return r->states;
}

static int wait_events(struct ev_loop *loop, struct rec *r, int n)
{
	int done = 0;

	for (double end = ev_time() + 5; r->events < n && ev_time() < end;)
		run_until(loop, &done, 0.05);
	return r->events;
}

static const struct marathon_client_options FAST = {
    .state_timeout_s = 2,
    .connect_timeout_s = 2,
    .backoff_min_s = 0.02,
    .backoff_max_s = 0.05,
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(apps_path, sizeof(apps_path), "/tmp/vipd-test-marathon-%d-apps.json", getpid());
	snprintf(garbage_path, sizeof(garbage_path), "/tmp/vipd-test-marathon-%d-garbage.json",
	         getpid());
	write_file(apps_path, APPS);
	write_file(garbage_path, "<html>Service Unavailable</html>");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(apps_path);
	unlink(garbage_path);
	return 0;
}

/* A client of the stand-in s with options opt, events recorded in r; its
 * URL with a trailing '/' when `slash` (both forms are Marathon's). */
static struct marathon_client *client_start(struct ev_loop *loop, const struct standin *s,
                                            const struct marathon_client_options *opt,
                                            struct rec *r, bool slash)
{
	struct marathon_client *c;
	char url[64], err[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, slash ? "/" : "");
	assert_int_equal(marathon_client_start(loop, url, opt, &CB, r, &c, err, sizeof(err)), 0);
	return c;
}

/* The client, its stand-in and the loop, freed in that order. */
static void client_stop(struct ev_loop *loop, struct marathon_client *c, struct standin *s)
{
	marathon_client_free(c);
	standin_stop(loop, s);
	ev_loop_destroy(loop);
}

#define RUNNING(task)                                                                              \
	"{\"eventType\":\"status_update_event\",\"appId\":\"/prod/web\",\"taskId\":\"" task        \
	"\",\"taskStatus\":\"TASK_RUNNING\",\"host\":\"10.0.0.2\",\"ports\":[31001]}"

static void test_state_then_events(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct marathon_client *c;
	struct standin s;
	struct rec r = {0};
	char want[256];

	(void)state;
	standin_start(loop, &s);
	c = client_start(loop, &s, &FAST, &r, true);
	assert_int_equal(wait_states(loop, &r, 1), 1);
	snprintf(want, sizeof(want), "marathon http://127.0.0.1:%d /v2/apps?embed=apps.tasks",
	         s.port);
	assert_string_equal(r.origin, want);

	standin_cmd(&s, "event status_update_event %s", RUNNING("prod_web.2"));
	assert_int_equal(wait_events(loop, &r, 1), 1);
	assert_string_equal(r.app_id, "/prod/web");
	assert_string_equal(r.task_id, "prod_web.2");
	assert_int_equal(r.action, MARATHON_TASK_UPSERT);

	/* An event split across writes, a comment, an event of no interest. */
	standin_cmd(&s, "raw : keep-alive\\n\\nevent: status_update_event\\ndata: {\"appId\":");
	standin_cmd(&s,
	            "raw \"/prod/web\",\"taskId\":\"prod_web.1\",\"taskStatus\":\"TASK_KILLED\"}"
	            "\\r\\n\\r\\nevent: deployment_info\\ndata: {}\\n\\n");
	assert_int_equal(wait_events(loop, &r, 2), 2);
	assert_string_equal(r.task_id, "prod_web.1");
	assert_int_equal(r.action, MARATHON_TASK_REMOVE);

	/* A malformed event: reported once, located, and the state read again
	 * after each (the second may come after the first re-read began). */
	standin_cmd(&s, "event status_update_event {\"appId\":\"/prod/web\",\"taskId\":3}");
	standin_cmd(&s, "event status_update_event {\"appId\":\"/prod/web\",\"taskId\":3}");
	assert_int_equal(wait_states(loop, &r, 3), 3);
	run_for(loop, 0.2);
	assert_int_equal(r.nproblems, 1);
	snprintf(want, sizeof(want),
	         "marathon http://127.0.0.1:%d /v2/events: status_update_event: missing required "
	         "field \"taskStatus\"",
	         s.port);
	assert_string_equal(r.problems[0], want);
	assert_int_equal(r.events, 2);
	client_stop(loop, c, &s);
}

/* Events that come while the state is read are applied after it. */
static void test_events_held_during_state_read(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct marathon_client *c;
	struct standin s;
	struct rec r = {0};

	(void)state;
	standin_start(loop, &s);
	standin_cmd(&s, "apps-delay 0.5");
	c = client_start(loop, &s, &FAST, &r, false);
	run_until(loop, &s.attached, 5);
	assert_int_equal(s.attached, 1);
	standin_cmd(&s, "event status_update_event %s", RUNNING("prod_web.3"));
	assert_int_equal(wait_events(loop, &r, 1), 1);
	assert_string_equal(r.order, "SE");
	assert_string_equal(r.task_id, "prod_web.3");

	/* An event the caller cannot apply alone: the state is read again,
	 * and an event meanwhile waits for it. */
	standin_cmd(&s, "apps-delay 0.3");
	r.resync = c;
	standin_cmd(&s, "event status_update_event %s", RUNNING("prod_web.4"));
	assert_int_equal(wait_events(loop, &r, 2), 2);
	r.resync = NULL;
	standin_cmd(&s, "event status_update_event %s", RUNNING("prod_web.5"));
	assert_int_equal(wait_states(loop, &r, 2), 2);
	assert_int_equal(wait_events(loop, &r, 3), 3);
	assert_string_equal(r.order, "SEESE");
	assert_string_equal(r.task_id, "prod_web.5");
	/* The stand-in says "apps 2" after its answer: wait for the line. */
	for (double end = ev_time() + 2; s.apps_served < 2 && ev_time() < end;)
		run_for(loop, 0.02);
	run_for(loop, 0.1);
	assert_int_equal(s.apps_served, 2);
	assert_int_equal(r.nproblems, 0);
	client_stop(loop, c, &s);
}

static int port_unused(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* A master down and one answering 500 are passed over; each problem is
 * reported once however often it recurs; the stream ending fails over. */
static void test_failover_reports_once(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct marathon_client *c;
	struct standin bad, good;
	struct rec r = {0};
	char urls[256], want[3][256], err[256];
	int down = port_unused();

	(void)state;
	standin_start(loop, &bad);
	standin_start(loop, &good);
	standin_cmd(&bad, "events-status 500");
	snprintf(urls, sizeof(urls),
	         "http://127.0.0.1:%d,http://user:secret@127.0.0.1:%d,http://127.0.0.1:%d", down,
	         bad.port, good.port);
	assert_int_equal(marathon_client_start(loop, urls, &FAST, &CB, &r, &c, err, sizeof(err)),
	                 0);
	assert_int_equal(wait_states(loop, &r, 1), 1);
	snprintf(want[0], sizeof(want[0]),
	         "marathon http://127.0.0.1:%d /v2/events: Couldn't connect to server", down);
	snprintf(want[1], sizeof(want[1]), "marathon http://127.0.0.1:%d /v2/events: HTTP 500",
	         bad.port);
	assert_int_equal(r.nproblems, 2);
	assert_string_equal(r.problems[0], want[0]);
	assert_string_equal(r.problems[1], want[1]);
	snprintf(want[2], sizeof(want[2]), "http://127.0.0.1:%d", good.port);
	assert_string_equal(marathon_client_master(c), want[2]);

	/* Every master failing, many rounds: the known two once, the stream
	 * ending once, and the good master's new 500 once. */
	standin_cmd(&good, "events-status 500");
	standin_cmd(&good, "close");
	run_for(loop, 1.0);
	assert_int_equal(r.nproblems, 4);
	snprintf(want[0], sizeof(want[0]),
	         "marathon http://127.0.0.1:%d /v2/events: the stream ended", good.port);
	snprintf(want[1], sizeof(want[1]), "marathon http://127.0.0.1:%d /v2/events: HTTP 500",
	         good.port);
	assert_string_equal(r.problems[2], want[0]);
	assert_string_equal(r.problems[3], want[1]);
	for (int i = 0; i < r.nproblems; i++)
		assert_null(strstr(r.problems[i], "secret"));

	/* Back: the state is read again. */
	standin_cmd(&good, "events-status 200");
	assert_int_equal(wait_states(loop, &r, 2), 2);
	assert_int_equal(r.nproblems, 4);
	marathon_client_free(c);
	standin_stop(loop, &bad);
	standin_stop(loop, &good);
	ev_loop_destroy(loop);
}

/* An HTTP error, an answer that is not Marathon's JSON, and a stalled
 * answer each fail the read with a located problem; fixed, it recovers. */
static void test_state_errors(void **state)
{
	struct marathon_client_options opt = FAST;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct marathon_client *c;
	struct standin s;
	struct rec r = {0};
	char want[256];

	(void)state;
	opt.state_timeout_s = 0.5;
	standin_start(loop, &s);
	standin_cmd(&s, "apps-status 500");
	c = client_start(loop, &s, &opt, &r, false);
	run_for(loop, 0.5);
	assert_int_equal(r.states, 0);
	assert_true(s.apps_served > 2);
	assert_int_equal(r.nproblems, 1);
	snprintf(want, sizeof(want),
	         "marathon http://127.0.0.1:%d /v2/apps?embed=apps.tasks: HTTP 500", s.port);
	assert_string_equal(r.problems[0], want);

	standin_cmd(&s, "apps %s", garbage_path);
	standin_cmd(&s, "apps-status 200");
	for (double end = ev_time() + 5; r.nproblems < 2 && ev_time() < end;)
		run_for(loop, 0.05);
	assert_int_equal(r.states, 0);
	assert_int_equal(r.nproblems, 2);
	snprintf(want, sizeof(want),
	         "marathon http://127.0.0.1:%d /v2/apps?embed=apps.tasks: state: invalid JSON at "
	         "line 1, column 1: '[' or '{' expected near '<'",
	         s.port);
	assert_string_equal(r.problems[1], want);

	/* In this order: a read between the two commands must not succeed. */
	standin_cmd(&s, "apps-delay 3");
	standin_cmd(&s, "apps %s", apps_path);
	run_for(loop, 1.5);
	assert_int_equal(r.states, 0);
	assert_int_equal(r.nproblems, 3);
	snprintf(want, sizeof(want),
	         "marathon http://127.0.0.1:%d /v2/apps?embed=apps.tasks: Timeout was reached",
	         s.port);
	assert_string_equal(r.problems[2], want);

	standin_cmd(&s, "apps-delay 0");
	assert_int_equal(wait_states(loop, &r, 1), 1);
	client_stop(loop, c, &s);
}

static void test_bad_urls(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct marathon_client *c = (struct marathon_client *)&c;
	struct rec r = {0};
	char err[256] = "";

	(void)state;
	assert_int_equal(marathon_client_start(loop, "http://m1:8080,ftp://m2", NULL, &CB, &r, &c,
	                                       err, sizeof(err)),
	                 -1);
	assert_null(c);
	assert_string_equal(err, "marathon: expected an http:// or https:// URL, got \"ftp://m2\"");
	assert_int_equal(
	    marathon_client_start(loop, "http://m1:8080,", NULL, &CB, &r, &c, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "marathon: expected an http:// or https:// URL, got \"\"");
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_then_events),
	    cmocka_unit_test(test_events_held_during_state_read),
	    cmocka_unit_test(test_failover_reports_once),
	    cmocka_unit_test(test_state_errors),
	    cmocka_unit_test(test_bad_urls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
