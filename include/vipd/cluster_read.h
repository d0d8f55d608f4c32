/*
 * The read of the whole prefix in pages (issue 9, scale): which page to ask
 * for next and at which revision. Pure: the node sends, this decides.
 */
#ifndef VIPD_CLUSTER_READ_H
#define VIPD_CLUSTER_READ_H

#include <stddef.h>
#include <stdint.h>

#include "vipd/etcd.h"

/* Keys per page unless VIPD_CLUSTER_READ_PAGE_KEYS says otherwise (a hidden
 * setting for tests: a small page makes a small cluster need many pages). */
#define CLUSTER_READ_PAGE_KEYS 2000

struct cluster_read {
	/* 0 until the first page answers: its header's revision, at which
	 * every later page is read and after which the watch starts. */
	int64_t revision;
	char *next_key; /* the next page's first key (NULL: the prefix) */
	size_t next_key_len;
	size_t pages; /* answered so far */
};

enum cluster_read_step {
	CLUSTER_READ_MORE, /* ask for the page at next_key, at revision */
	CLUSTER_READ_DONE, /* every key read: watch from revision + 1 */
	CLUSTER_READ_BAD,  /* an answer that cannot be continued: read again */
};

/* Back to the first page (a fresh read, or one restarted after a
 * compaction of its revision). */
void cluster_read_start(struct cluster_read *rd);
/* One page's answer: what to do next; BAD fills err. */
enum cluster_read_step cluster_read_page(struct cluster_read *rd, const struct etcd_resp *r,
                                         char *err, size_t errlen);
void cluster_read_free(struct cluster_read *rd);
/* The page size: VIPD_CLUSTER_READ_PAGE_KEYS when it is a number from 1
 * on, else CLUSTER_READ_PAGE_KEYS. */
int64_t cluster_read_page_keys(const char *env_value);

#endif
