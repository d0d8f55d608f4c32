/*
 * One curl multi handle driven by a libev loop (curl's hiperfifo pattern):
 * curl says which sockets to watch and when to time out, the loop says when
 * they are ready, and after each socket action the owner's `after` callback
 * reads the finished transfers (curl_multi_info_read). The HTTP checks, the
 * etcd client and the Marathon client each own one; none of them blocks.
 */
#ifndef VIPD_CURL_EV_H
#define VIPD_CURL_EV_H

#include <curl/curl.h>
#include <ev.h>
#include <stddef.h>

typedef void (*curlev_after_fn)(void *arg);

struct curlev {
	struct ev_loop *loop;
	CURLM *multi;   /* NULL before init and after close */
	ev_timer timer; /* the one CURLMOPT_TIMERFUNCTION timer */
	curlev_after_fn after;
	void *arg;
};

/* Makes cv->multi and wires it to loop; `after(arg)` runs after every
 * socket action. 0, or -1 with err set (nothing left to close). */
int curlev_init(struct curlev *cv, struct ev_loop *loop, curlev_after_fn after, void *arg,
                char *err, size_t errlen);

/* Cleans the multi handle up (its easy handles must be removed first) and
 * stops the timer. Safe on a zeroed or already closed struct. */
void curlev_close(struct curlev *cv);

#endif
