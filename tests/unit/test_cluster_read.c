/* The read of the prefix in pages (src/cluster/cluster_read.c): every page
 * at the first page's revision, each from the key after the last one read,
 * until etcd says none is left; a page that cannot be continued is a
 * located reason to read again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/cluster_read.h"

static struct etcd_kv kv(const char *key)
{
	return (struct etcd_kv){.key = (char *)key, .key_len = strlen(key), .value = ""};
}

static void test_first_page_fixes_the_revision(void **state)
{
	struct etcd_kv page1[] = {kv("/p/a"), kv("/p/b")}, page2[] = {kv("/p/c")};
	struct etcd_resp r1 = {.revision = 40, .kvs = page1, .n_kvs = 2, .more = true};
	struct etcd_resp r2 = {.revision = 47, .kvs = page2, .n_kvs = 1, .more = false};
	struct cluster_read rd = {0};
	char err[128] = "";

	(void)state;
	cluster_read_start(&rd);
	assert_null(rd.next_key);
	assert_int_equal(rd.revision, 0);
	assert_int_equal(cluster_read_page(&rd, &r1, err, sizeof(err)), CLUSTER_READ_MORE);
	assert_int_equal(rd.revision, 40);
	/* the next page starts at "/p/b\0": the smallest key above "/p/b" */
	assert_int_equal(rd.next_key_len, 5);
	assert_memory_equal(rd.next_key, "/p/b\0", 5);
	/* a later page's header says where etcd is now, not the read's revision */
	assert_int_equal(cluster_read_page(&rd, &r2, err, sizeof(err)), CLUSTER_READ_DONE);
	assert_int_equal(rd.revision, 40);
	assert_int_equal(rd.pages, 2);
	/* a fresh read starts over at the prefix, at a revision still unknown */
	cluster_read_start(&rd);
	assert_null(rd.next_key);
	assert_int_equal(rd.revision, 0);
	assert_int_equal(rd.pages, 0);
	cluster_read_free(&rd);
}

static void test_unusable_pages(void **state)
{
	struct etcd_kv page1[] = {kv("/p/a")};
	struct etcd_resp norev = {.revision = 0, .kvs = page1, .n_kvs = 1, .more = true};
	struct etcd_resp r1 = {.revision = 9, .kvs = page1, .n_kvs = 1, .more = true};
	struct etcd_resp empty = {.revision = 9, .more = true};
	struct cluster_read rd = {0};
	char err[128] = "";

	(void)state;
	assert_int_equal(cluster_read_page(&rd, &norev, err, sizeof(err)), CLUSTER_READ_BAD);
	assert_string_equal(err, "page 1: no revision in the answer's header");
	cluster_read_start(&rd);
	assert_int_equal(cluster_read_page(&rd, &r1, err, sizeof(err)), CLUSTER_READ_MORE);
	/* every key of the page skipped (undecodable): nowhere to go on from */
	assert_int_equal(cluster_read_page(&rd, &empty, err, sizeof(err)), CLUSTER_READ_BAD);
	assert_string_equal(err, "page 2: more keys announced, none in the page");
	cluster_read_free(&rd);
}

static void test_page_keys_setting(void **state)
{
	(void)state;
	assert_int_equal(cluster_read_page_keys(NULL), CLUSTER_READ_PAGE_KEYS);
	assert_int_equal(cluster_read_page_keys(""), CLUSTER_READ_PAGE_KEYS);
	assert_int_equal(cluster_read_page_keys("3"), 3);
	assert_int_equal(cluster_read_page_keys("0"), CLUSTER_READ_PAGE_KEYS);
	assert_int_equal(cluster_read_page_keys("-5"), CLUSTER_READ_PAGE_KEYS);
	assert_int_equal(cluster_read_page_keys("7x"), CLUSTER_READ_PAGE_KEYS);
}

/* etcd's order: bytewise, a shorter key first when it is a prefix. */
static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* A range over a sorted key list as etcd answers it: from `from` on, at
 * most limit keys, more when some are left. */
static void fake_range(const char **keys, size_t n, const char *from, size_t from_len, size_t limit,
                       struct etcd_kv *out, struct etcd_resp *r)
{
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	r->revision = 100 + (int64_t)n; /* etcd moves on; the read must not */
	r->kvs = out;
	while (i < n && key_cmp(keys[i], strlen(keys[i]), from, from_len) < 0)
		i++;
	for (; i < n && r->n_kvs < limit; i++)
		out[r->n_kvs++] = kv(keys[i]);
	r->more = i < n;
}

/* Keys that are prefixes of one another, read 1, 2, 3... at a time: every
 * key exactly once, in order, whatever the page size. */
static void test_pages_cover_every_key_once(void **state)
{
	const char *keys[] = {"/p/a", "/p/ab", "/p/abc", "/p/abd", "/p/b", "/p/b0", "/p/c"};
	size_t n = sizeof(keys) / sizeof(*keys);

	(void)state;
	for (size_t limit = 1; limit <= n + 1; limit++) {
		struct cluster_read rd = {0};
		struct etcd_kv page[8];
		struct etcd_resp r;
		size_t got = 0, pages = 0;
		enum cluster_read_step step = CLUSTER_READ_MORE;
		char err[128] = "";

		cluster_read_start(&rd);
		while (step == CLUSTER_READ_MORE) {
			const char *from = rd.next_key ? rd.next_key : "/p/";
			size_t from_len = rd.next_key ? rd.next_key_len : 3;

			fake_range(keys, n, from, from_len, limit, page, &r);
			for (size_t i = 0; i < r.n_kvs; i++)
				assert_string_equal(r.kvs[i].key, keys[got++]);
			step = cluster_read_page(&rd, &r, err, sizeof(err));
			pages++;
		}
		assert_int_equal(step, CLUSTER_READ_DONE);
		assert_int_equal(got, n);
		assert_int_equal(pages, (n + limit - 1) / limit);
		assert_int_equal(rd.revision, 100 + (int64_t)n);
		cluster_read_free(&rd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_page_fixes_the_revision),
	    cmocka_unit_test(test_unusable_pages),
	    cmocka_unit_test(test_page_keys_setting),
	    cmocka_unit_test(test_pages_cover_every_key_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
