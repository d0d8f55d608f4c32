/*
 * Watching an app source on the filesystem (a directory of definitions, or
 * one file) through inotify, on the loop: one callback per settled burst of
 * changes, and one when the watch is lost and polling must take over.
 */
#ifndef VIPD_DIRWATCH_H
#define VIPD_DIRWATCH_H

#include <stddef.h>

struct ev_loop;
struct dirwatch;

enum dirwatch_event {
	DIRWATCH_CHANGED, /* something under the path changed, and then nothing for a while */
	DIRWATCH_LOST,    /* the watch cannot see changes any more (its parent went away,
	                     the kernel dropped it): the owner polls instead */
};

/* May close the watch (dirwatch_close), and must after DIRWATCH_LOST. */
typedef void (*dirwatch_cb)(void *arg, enum dirwatch_event ev);

/* Watches `path` (a directory, a file, or a name not there yet): changes
 * are reported `settle_s` after the last event of a burst, and at most
 * `max_wait_s` after its first. NULL with `err` filled when inotify cannot
 * watch it (no inotify, the watch limit reached, no parent directory). */
struct dirwatch *dirwatch_open(struct ev_loop *loop, const char *path, double settle_s,
                               double max_wait_s, dirwatch_cb cb, void *arg, char *err,
                               size_t errlen);
/* Stops its watchers and frees it; NULL is fine. */
void dirwatch_close(struct dirwatch *w);

#endif
