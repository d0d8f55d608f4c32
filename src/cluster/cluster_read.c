/*
 * The paged read of the prefix: the first page fixes the revision, every
 * later one is read at it (so the pages form one snapshot, whatever is
 * written meanwhile) from the key after the last one read (its key + "\0",
 * the smallest key above it), until etcd says no key is left.
 */
#include "vipd/cluster_read.h"

#include <stdlib.h>
#include <string.h>

#include "vipd/errbuf.h"

void cluster_read_free(struct cluster_read *rd)
{
	free(rd->next_key);
	memset(rd, 0, sizeof(*rd));
}

void cluster_read_start(struct cluster_read *rd)
{
	cluster_read_free(rd);
}

static int next_after(struct cluster_read *rd, const struct etcd_kv *last)
{
	char *k = malloc(last->key_len + 1);

	if (k == NULL)
		return -1;
	memcpy(k, last->key, last->key_len);
	k[last->key_len] = '\0'; /* part of the key: the smallest one above last */
	free(rd->next_key);
	rd->next_key = k;
	rd->next_key_len = last->key_len + 1;
	return 0;
}

enum cluster_read_step cluster_read_page(struct cluster_read *rd, const struct etcd_resp *r,
                                         char *err, size_t errlen)
{
	if (rd->revision == 0) {
		if (r->revision <= 0) {
			errbuf_set(err, errlen, "page 1: no revision in the answer's header");
			return CLUSTER_READ_BAD;
		}
		rd->revision = r->revision;
	}
	rd->pages++;
	if (!r->more)
		return CLUSTER_READ_DONE;
	/* A page whose every key was skipped (warned about) cannot say where
	 * the next one starts. */
	if (r->n_kvs == 0) {
		errbuf_set(err, errlen, "page %zu: more keys announced, none in the page",
		           rd->pages);
		return CLUSTER_READ_BAD;
	}
	if (next_after(rd, &r->kvs[r->n_kvs - 1]) < 0) {
		errbuf_set(err, errlen, "page %zu: out of memory", rd->pages);
		return CLUSTER_READ_BAD;
	}
	return CLUSTER_READ_MORE;
}

int64_t cluster_read_page_keys(const char *env_value)
{
	char *end;
	long long n;

	if (env_value == NULL || *env_value == '\0')
		return CLUSTER_READ_PAGE_KEYS;
	n = strtoll(env_value, &end, 10);
	if (*end != '\0' || n < 1)
		return CLUSTER_READ_PAGE_KEYS;
	return n;
}
