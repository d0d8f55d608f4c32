/* etcd client's pure parts: base64, the retry delay, the prefix range end,
 * and the decoding of the JSON gateway's answers with located messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/etcd.h"

#define W "etcd http://127.0.0.1:2379 /v3/kv/range"

struct warnings {
	char msg[4][512];
	int n;
};

static void collect(void *arg, const char *msg)
{
	struct warnings *w = arg;

	if (w->n < 4)
		snprintf(w->msg[w->n], sizeof(w->msg[0]), "%s", msg);
	w->n++;
}

static void assert_b64(const char *plain, const char *want)
{
	char out[64], *back;
	size_t n;

	assert_int_equal(etcd_b64_encode(plain, strlen(plain), out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(etcd_b64_decode(want, strlen(want), &back, &n), 0);
	assert_int_equal(n, strlen(plain));
	assert_string_equal(back, plain);
	free(back);
}

static void assert_b64_bad(const char *text)
{
	char *out = (char *)1;
	size_t n = 1;

	assert_int_equal(etcd_b64_decode(text, strlen(text), &out, &n), -1);
	assert_null(out);
	assert_int_equal(n, 0);
}

static void test_b64_rfc4648(void **state)
{
	(void)state;
	assert_b64("", "");
	assert_b64("f", "Zg==");
	assert_b64("fo", "Zm8=");
	assert_b64("foo", "Zm9v");
	assert_b64("foob", "Zm9vYg==");
	assert_b64("fooba", "Zm9vYmE=");
	assert_b64("foobar", "Zm9vYmFy");
	assert_b64("/vipd/v1/", "L3ZpcGQvdjEv");
}

static void test_b64_binary_round_trip(void **state)
{
	unsigned char all[256];
	char enc[400], *dec;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	assert_int_equal(etcd_b64_encoded_size(256), 345);
	assert_int_equal(etcd_b64_encode(all, 256, enc, 344), -1); /* one byte short */
	assert_int_equal(etcd_b64_encode(all, 256, enc, sizeof(enc)), 0);
	assert_int_equal(etcd_b64_decode(enc, strlen(enc), &dec, &n), 0);
	assert_int_equal(n, 256);
	assert_memory_equal(dec, all, 256);
	free(dec);
}

static void test_b64_rejects(void **state)
{
	(void)state;
	assert_b64_bad("Zg=");      /* length not a multiple of 4 */
	assert_b64_bad("Zm9v!mFy"); /* not in the alphabet */
	assert_b64_bad("Zm9v_mFy"); /* URL-safe alphabet is not the gateway's */
	assert_b64_bad("Zg==Zm9v"); /* padding before the end */
	assert_b64_bad("Z===");     /* three pad characters */
	assert_b64_bad("Zh==");     /* bits padding drops are not zero */
	assert_b64_bad("Zm9=");
}

static void test_backoff(void **state)
{
	(void)state;
	assert_float_equal(etcd_backoff_delay(0, 0.2, 5, 1), 0.2, 1e-9);
	assert_float_equal(etcd_backoff_delay(1, 0.2, 5, 1), 0.4, 1e-9);
	assert_float_equal(etcd_backoff_delay(4, 0.2, 5, 1), 3.2, 1e-9);
	assert_float_equal(etcd_backoff_delay(5, 0.2, 5, 1), 5, 1e-9); /* capped */
	assert_float_equal(etcd_backoff_delay(4000, 0.2, 5, 1), 5, 1e-9);
	/* jitter keeps at least half the delay */
	assert_float_equal(etcd_backoff_delay(5, 0.2, 5, 0), 2.5, 1e-9);
	assert_float_equal(etcd_backoff_delay(5, 0.2, 5, 0.5), 3.75, 1e-9);
	assert_float_equal(etcd_backoff_delay(5, 0.2, 5, -3), 2.5, 1e-9);
	assert_float_equal(etcd_backoff_delay(5, 0.2, 5, 7), 5, 1e-9);
}

static void test_prefix_end(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(etcd_prefix_end("/vipd/v1/", out, sizeof(out)), 0);
	assert_string_equal(out, "/vipd/v10");
	assert_int_equal(etcd_prefix_end("a\xff", out, sizeof(out)), 0);
	assert_string_equal(out, "b");
	assert_int_equal(etcd_prefix_end("\xff\xff", out, sizeof(out)), 0);
	assert_string_equal(out, ""); /* every key */
	assert_int_equal(etcd_prefix_end("/vipd/v1/", out, 9), -1);
}

static int decode(enum etcd_op op, const char *body, struct etcd_resp *r, struct warnings *w,
                  char *err, size_t errlen)
{
	const char *where = op == ETCD_OP_WATCH ? "etcd http://127.0.0.1:2379 /v3/watch" : W;

	memset(w, 0, sizeof(*w));
	err[0] = '\0';
	return etcd_decode(op, body, strlen(body), where, r, collect, w, err, errlen);
}

/* A good answer: decoded (0) into r, its warnings in w; a failure names
 * the answer and the message. */
static void assert_decoded(enum etcd_op op, const char *body, struct etcd_resp *r,
                           struct warnings *w)
{
	char err[512];
	int rc = decode(op, body, r, w, err, sizeof(err));

	if (rc != 0)
		fail_msg("%s: %d (%s), expected it decoded", body, rc, err);
}

/* A malformed answer: refused (-1) with exactly the located message `want`;
 * a failure names the answer. */
static void assert_refused(enum etcd_op op, const char *body, const char *want)
{
	struct etcd_resp r;
	struct warnings w;
	char err[512];
	int rc = decode(op, body, &r, &w, err, sizeof(err));

	etcd_resp_free(&r);
	if (rc != -1)
		fail_msg("%s: decoded (%d), expected the refusal \"%s\"", body, rc, want);
	if (strcmp(err, want) != 0)
		fail_msg("%s: refused with \"%s\", expected \"%s\"", body, err, want);
}

static void test_decode_range(void **state)
{
	struct etcd_resp r;
	struct warnings w;

	(void)state;
	assert_decoded(
	    ETCD_OP_RANGE,
	    "{\"header\":{\"cluster_id\":\"1\",\"revision\":\"42\"},\"count\":\"2\","
	    "\"kvs\":[{\"key\":\"L2E=\",\"create_revision\":\"3\",\"mod_revision\":\"40\","
	    "\"version\":\"2\",\"value\":\"aGVsbG8=\",\"lease\":\"7587899283482571525\"},"
	    "{\"key\":\"L2I=\",\"mod_revision\":41}]}",
	    &r, &w);
	assert_int_equal(r.revision, 42);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.n_kvs, 2);
	assert_string_equal(r.kvs[0].key, "/a");
	assert_string_equal(r.kvs[0].value, "hello");
	assert_int_equal(r.kvs[0].create_revision, 3);
	assert_int_equal(r.kvs[0].mod_revision, 40);
	assert_int_equal(r.kvs[0].version, 2);
	assert_true(r.kvs[0].lease == 7587899283482571525LL);
	/* proto3 leaves out an empty value and zero numbers */
	assert_string_equal(r.kvs[1].value, "");
	assert_int_equal(r.kvs[1].lease, 0);
	assert_int_equal(r.kvs[1].mod_revision, 41);
	assert_int_equal(w.n, 0);
	etcd_resp_free(&r);
	/* an empty range: no kvs at all */
	assert_decoded(ETCD_OP_RANGE, "{\"header\":{\"revision\":\"2\"}}", &r, &w);
	assert_int_equal(r.n_kvs, 0);
	assert_false(r.more);
	etcd_resp_free(&r);
	/* a page of a range with a limit: more keys are left */
	assert_decoded(ETCD_OP_RANGE,
	               "{\"header\":{\"revision\":\"2\"},\"kvs\":[{\"key\":\"L2E=\"}],"
	               "\"more\":true,\"count\":\"5\"}",
	               &r, &w);
	assert_true(r.more);
	assert_int_equal(r.n_kvs, 1);
	etcd_resp_free(&r);
	assert_refused(ETCD_OP_RANGE, "{\"header\":{\"revision\":\"2\"},\"more\":1}",
	               W ": /more: expected true or false, got 1");
}

static void test_decode_range_skips_bad_keys(void **state)
{
	struct etcd_resp r;
	struct warnings w;

	(void)state;
	assert_decoded(
	    ETCD_OP_RANGE,
	    "{\"header\":{\"revision\":\"9\"},\"kvs\":["
	    "{\"key\":\"L2E=\",\"value\":\"b2s=\"},"
	    "{\"key\":\"L2I=\",\"value\":\"%%%not-base64-and-rather-long-so-it-is-cut-off\"},"
	    "{\"value\":\"b2s=\"},"
	    "{\"key\":\"L2M=\",\"mod_revision\":\"soon\"},"
	    "[1]]}",
	    &r, &w);
	assert_int_equal(r.n_kvs, 1);
	assert_int_equal(r.skipped, 4);
	assert_string_equal(r.kvs[0].key, "/a");
	assert_int_equal(w.n, 4);
	assert_string_equal(w.msg[0], W ": /kvs/1/value: expected base64, got "
	                                "\"%%%not-base64-and-rather-long-so-it-is-…"
	                                " (skipped)");
	assert_string_equal(w.msg[1], W ": /kvs/2/key: expected base64, got nothing (skipped)");
	assert_string_equal(w.msg[2],
	                    W ": /kvs/3/mod_revision: expected an integer, got \"soon\" (skipped)");
	assert_string_equal(w.msg[3], W ": /kvs/4: expected an object, got [1] (skipped)");
	etcd_resp_free(&r);
}

static void test_decode_bad_envelopes(void **state)
{
	struct etcd_resp r;
	struct warnings w;
	char err[512];

	(void)state;
	assert_refused(ETCD_OP_RANGE, "<html>",
	               W ": not JSON: '[' or '{' expected near '<' at line 1 column 1");
	assert_refused(ETCD_OP_RANGE, "[]", W ": /: expected an object, got []");
	assert_refused(ETCD_OP_RANGE, "{\"kvs\":[]}",
	               W ": /header: expected an object, got nothing");
	assert_refused(ETCD_OP_RANGE, "{\"header\":{\"revision\":true},\"kvs\":[]}",
	               W ": /header/revision: expected an integer, got true");
	assert_refused(ETCD_OP_RANGE, "{\"header\":{\"revision\":\"1\"},\"kvs\":{}}",
	               W ": /kvs: expected an array, got {}");
	assert_int_equal(decode(ETCD_OP_RANGE,
	                        "{\"error\":\"etcdserver: mvcc: required revision has been "
	                        "compacted\",\"message\":\"etcdserver: mvcc: required revision "
	                        "has been compacted\",\"code\":11}",
	                        &r, &w, err, sizeof(err)),
	                 -1);
	assert_int_equal(r.error_code, 11);
	assert_string_equal(
	    err, W ": etcd error 11: etcdserver: mvcc: required revision has been compacted");
	etcd_resp_free(&r);
}

static void test_decode_lease(void **state)
{
	struct etcd_resp r;
	struct warnings w;

	(void)state;
	assert_decoded(ETCD_OP_LEASE_GRANT,
	               "{\"header\":{\"revision\":\"1\"},\"ID\":\"758\",\"TTL\":\"5\"}", &r, &w);
	assert_int_equal(r.lease_id, 758);
	assert_int_equal(r.ttl, 5);
	etcd_resp_free(&r);
	assert_refused(ETCD_OP_LEASE_GRANT, "{\"header\":{},\"TTL\":\"5\"}",
	               W ": /ID: expected an integer, got nothing");
	/* keepalive's answer is wrapped in "result"; a missing TTL: the lease is gone */
	assert_decoded(ETCD_OP_LEASE_KEEPALIVE,
	               "{\"result\":{\"header\":{\"revision\":\"4\"},\"ID\":\"758\"}}", &r, &w);
	assert_int_equal(r.lease_id, 758);
	assert_int_equal(r.ttl, 0);
	etcd_resp_free(&r);
	assert_refused(ETCD_OP_LEASE_KEEPALIVE, "{\"ID\":\"758\"}",
	               W ": /result: expected an object, got nothing");
}

static void test_decode_txn_and_auth(void **state)
{
	struct etcd_resp r;
	struct warnings w;

	(void)state;
	assert_decoded(
	    ETCD_OP_TXN,
	    "{\"header\":{\"revision\":\"4\"},\"responses\":[{\"response_range\":{\"header\":"
	    "{\"revision\":\"4\"},\"kvs\":[{\"key\":\"L3Y=\",\"create_revision\":\"4\","
	    "\"value\":\"MTEuMC4wLjE=\"}],\"count\":\"1\"}}]}",
	    &r, &w);
	assert_false(r.succeeded);
	assert_int_equal(r.n_kvs, 1);
	assert_string_equal(r.kvs[0].value, "11.0.0.1");
	etcd_resp_free(&r);
	assert_decoded(ETCD_OP_TXN,
	               "{\"header\":{\"revision\":\"4\"},\"succeeded\":true,\"responses\":["
	               "{\"response_put\":{\"header\":{\"revision\":\"4\"}}}]}",
	               &r, &w);
	assert_true(r.succeeded);
	assert_int_equal(r.n_kvs, 0);
	etcd_resp_free(&r);
	assert_refused(ETCD_OP_TXN, "{\"succeeded\":\"yes\"}",
	               W ": /succeeded: expected true or false, got \"yes\"");
	assert_decoded(ETCD_OP_AUTH, "{\"token\":\"abc.7\"}", &r, &w);
	assert_string_equal(r.token, "abc.7");
	etcd_resp_free(&r);
	/* a token of the wrong type is a credential too: not quoted */
	assert_refused(ETCD_OP_AUTH, "{\"token\":42}", W ": /token: expected a token");
}

#define WW "etcd http://127.0.0.1:2379 /v3/watch"

static void test_decode_watch(void **state)
{
	struct etcd_resp r;
	struct warnings w;

	(void)state;
	assert_decoded(ETCD_OP_WATCH,
	               "{\"result\":{\"header\":{\"revision\":\"2\"},\"created\":true}}", &r, &w);
	assert_true(r.created);
	assert_int_equal(r.revision, 2);
	assert_int_equal(r.n_events, 0);
	etcd_resp_free(&r);
	assert_decoded(ETCD_OP_WATCH,
	               "{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":["
	               "{\"kv\":{\"key\":\"L2E=\",\"mod_revision\":\"2\",\"value\":\"aGVsbG8=\"}},"
	               "{\"type\":\"DELETE\",\"kv\":{\"key\":\"L2E=\",\"mod_revision\":\"3\"}},"
	               "{\"type\":\"RENAME\",\"kv\":{\"key\":\"L2E=\"}},"
	               "{\"type\":\"PUT\",\"kv\":{\"key\":\"\"}}]}}",
	               &r, &w);
	assert_int_equal(r.n_events, 2);
	assert_int_equal(r.events[0].type, ETCD_EVENT_PUT);
	assert_string_equal(r.events[0].kv.value, "hello");
	assert_int_equal(r.events[1].type, ETCD_EVENT_DELETE);
	assert_string_equal(r.events[1].kv.key, "/a");
	assert_int_equal(r.skipped, 2);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.msg[0], WW ": /result/events/2/type: expected \"PUT\" or "
	                                 "\"DELETE\", got \"RENAME\" (skipped)");
	assert_string_equal(w.msg[1],
	                    WW ": /result/events/3/kv/key: expected base64, got \"\" (skipped)");
	etcd_resp_free(&r);
	/* compaction: the header has no revision, the answer says where to read again */
	assert_decoded(ETCD_OP_WATCH,
	               "{\"result\":{\"header\":{\"raft_term\":\"2\"},\"canceled\":true,"
	               "\"compact_revision\":\"6\"}}",
	               &r, &w);
	assert_true(r.canceled);
	assert_int_equal(r.compact_revision, 6);
	etcd_resp_free(&r);
	assert_refused(ETCD_OP_WATCH,
	               "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
	               "\"etcdserver: no leader\"}}",
	               WW ": etcd error 14: etcdserver: no leader");
	assert_refused(ETCD_OP_WATCH, "{\"result\":{\"created\":true}}",
	               WW ": /result/header: expected an object, got nothing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64_rfc4648),
	    cmocka_unit_test(test_b64_binary_round_trip),
	    cmocka_unit_test(test_b64_rejects),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_prefix_end),
	    cmocka_unit_test(test_decode_range),
	    cmocka_unit_test(test_decode_range_skips_bad_keys),
	    cmocka_unit_test(test_decode_bad_envelopes),
	    cmocka_unit_test(test_decode_lease),
	    cmocka_unit_test(test_decode_txn_and_auth),
	    cmocka_unit_test(test_decode_watch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
