/*
 * A curl multi handle on a libev loop: one ev_io per socket curl names, one
 * ev_timer for curl's timeout. See include/vipd/curl_ev.h.
 */
#include "vipd/curl_ev.h"

#include <stdlib.h>

#include "vipd/errbuf.h"

/* One per socket curl asks us to watch (evhiperfifo's SockInfo). */
struct curlev_sock {
	struct curlev *cv;
	ev_io watcher;
};

/* CURLMOPT_TIMERFUNCTION */
static int curlev_timer_update(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlev *cv = userp;

	(void)multi;
	ev_timer_stop(cv->loop, &cv->timer);
	if (timeout_ms >= 0) {
		/* curl's 0 means "now"; milliseconds as a fraction, not 0 s. */
		ev_timer_set(&cv->timer, (double)timeout_ms / 1000.0, 0.);
		ev_timer_start(cv->loop, &cv->timer);
	}
	return 0;
}

static void curlev_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct curlev *cv = w->data;
	int running;

	(void)loop;
	(void)revents;
	curl_multi_socket_action(cv->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	cv->after(cv->arg);
}

static void curlev_sock_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct curlev_sock *s = w->data;
	struct curlev *cv = s->cv;
	int action = ((revents & EV_READ) ? CURL_CSELECT_IN : 0) |
	             ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	(void)loop;
	/* s may be freed inside this call (CURL_POLL_REMOVE). */
	curl_multi_socket_action(cv->multi, w->fd, action, &running);
	cv->after(cv->arg);
}

/* CURLMOPT_SOCKETFUNCTION */
static int curlev_sock_update(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct curlev *cv = userp;
	struct curlev_sock *s = sockp;
	int events =
	    ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			ev_io_stop(cv->loop, &s->watcher);
			free(s);
			curl_multi_assign(cv->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1; /* curl fails the transfer */
		s->cv = cv;
		ev_init(&s->watcher, curlev_sock_cb);
		s->watcher.data = s;
		curl_multi_assign(cv->multi, fd, s);
	}
	ev_io_stop(cv->loop, &s->watcher);
	ev_io_set(&s->watcher, fd, events);
	ev_io_start(cv->loop, &s->watcher);
	return 0;
}

int curlev_init(struct curlev *cv, struct ev_loop *loop, curlev_after_fn after, void *arg,
                char *err, size_t errlen)
{
	*cv = (struct curlev){.loop = loop, .after = after, .arg = arg};
	ev_timer_init(&cv->timer, curlev_timer_cb, 0., 0.);
	cv->timer.data = cv;
	cv->multi = curl_multi_init();
	if (!cv->multi) {
		errbuf_set(err, errlen, "curl_multi_init failed");
		return -1;
	}
	if (curl_multi_setopt(cv->multi, CURLMOPT_SOCKETFUNCTION, curlev_sock_update) ||
	    curl_multi_setopt(cv->multi, CURLMOPT_SOCKETDATA, cv) ||
	    curl_multi_setopt(cv->multi, CURLMOPT_TIMERFUNCTION, curlev_timer_update) ||
	    curl_multi_setopt(cv->multi, CURLMOPT_TIMERDATA, cv)) {
		curlev_close(cv);
		errbuf_set(err, errlen, "curl_multi_setopt failed");
		return -1;
	}
	return 0;
}

void curlev_close(struct curlev *cv)
{
	if (cv->multi) {
		curl_multi_cleanup(cv->multi);
		cv->multi = NULL;
	}
	if (cv->loop)
		ev_timer_stop(cv->loop, &cv->timer);
}
