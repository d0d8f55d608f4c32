/*
 * The Server-Sent Events parser against the WHATWG parsing rules: line
 * endings, fields, comments, retry, id, a BOM, the size bound and its
 * resync, and the same events whichever way the stream is cut into chunks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/sse.h"

#define MAX_SEEN 16

/* Events as "type|data|id", data's '\n' and NUL shown as \n and \0. */
struct seen {
	char ev[MAX_SEEN][256];
	size_t n;
};

static void on_event(void *arg, const struct sse_event *ev)
{
	struct seen *s = arg;
	char *o;
	size_t k = 0;

	assert_true(s->n < MAX_SEEN);
	o = s->ev[s->n++];
	k += (size_t)snprintf(o, 256, "%s|", ev->type);
	for (size_t i = 0; i < ev->data_len && k < 240; i++) {
		if (ev->data[i] == '\n')
			k += (size_t)snprintf(o + k, 256 - k, "\\n");
		else if (ev->data[i] == '\0')
			k += (size_t)snprintf(o + k, 256 - k, "\\0");
		else
			o[k++] = ev->data[i];
	}
	assert_int_equal(ev->data[ev->data_len], '\0');
	snprintf(o + k, 256 - k, "|%s", ev->id);
}

/* Feeds the whole stream in one chunk; returns sse_feed's result. */
static int parse_all(struct seen *s, const char *stream, size_t len, size_t max, char *err,
                     size_t errlen)
{
	struct sse_parser p;
	int rc;

	memset(s, 0, sizeof(*s));
	sse_init(&p, max, on_event, s);
	rc = sse_feed(&p, stream, len, err, errlen);
	sse_free(&p);
	return rc;
}

static void parse_ok(struct seen *s, const char *stream)
{
	char err[128] = "";

	assert_int_equal(parse_all(s, stream, strlen(stream), 0, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void test_marathon_shape(void **state)
{
	struct seen s;

	(void)state;
	parse_ok(&s, "event: event_stream_attached\n"
	             "data: {\"eventType\":\"event_stream_attached\"}\n\n"
	             "event: status_update_event\n"
	             "data: {\"taskStatus\":\"TASK_RUNNING\"}\n\n");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ev[0],
	                    "event_stream_attached|{\"eventType\":\"event_stream_attached\"}|");
	assert_string_equal(s.ev[1], "status_update_event|{\"taskStatus\":\"TASK_RUNNING\"}|");
}

static void test_line_endings(void **state)
{
	struct seen s;

	(void)state;
	parse_ok(&s, "data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\n");
	assert_int_equal(s.n, 4);
	assert_string_equal(s.ev[0], "message|a|");
	assert_string_equal(s.ev[1], "message|b|");
	assert_string_equal(s.ev[2], "message|c|");
	assert_string_equal(s.ev[3], "message|d|");
}

/* "\r\r" is two line ends (a blank line), "\r\n" one. */
static void test_cr_then_lf_is_one_line_end(void **state)
{
	struct seen s;

	(void)state;
	parse_ok(&s, "data: a\r\ndata: b\r\n\r\n");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ev[0], "message|a\\nb|");
}

static void test_data_lines_joined(void **state)
{
	struct seen s;

	(void)state;
	parse_ok(&s, "data: one\ndata:two\ndata\ndata:  three\n\n");
	assert_int_equal(s.n, 1);
	/* Only one leading space is removed; "data" alone appends an empty line. */
	assert_string_equal(s.ev[0], "message|one\\ntwo\\n\\n three|");
}

static void test_comments_and_unknown_fields_ignored(void **state)
{
	struct seen s;

	(void)state;
	parse_ok(&s, ": keep-alive\n:\nfoo: bar\ndata: x\n: between\nEvent: y\n\n");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ev[0], "message|x|");
}

/* A comment-only block, or fields without data, dispatch nothing; the
 * event type does not leak into the next event. */
static void test_no_data_no_event(void **state)
{
	struct seen s;

	(void)state;
	parse_ok(&s, ": ping\n\nevent: lonely\n\n\n\ndata: z\n\n");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ev[0], "message|z|");
}

static void test_event_type_per_event(void **state)
{
	struct seen s;

	(void)state;
	parse_ok(&s, "event: a\nevent: b\ndata: 1\n\ndata: 2\n\n");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ev[0], "b|1|");
	assert_string_equal(s.ev[1], "message|2|");
}

static void test_id_persists_and_ignores_nul(void **state)
{
	struct seen s;
	static const char stream[] =
	    "id: 7\ndata: a\n\ndata: b\n\nid: 8\0x\ndata: c\n\nid\ndata: d\n\n";
	char err[64] = "";

	(void)state;
	assert_int_equal(parse_all(&s, stream, sizeof(stream) - 1, 0, err, sizeof(err)), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.ev[0], "message|a|7");
	assert_string_equal(s.ev[1], "message|b|7");
	assert_string_equal(s.ev[2], "message|c|7");
	assert_string_equal(s.ev[3], "message|d|");
}

static void test_retry(void **state)
{
	struct sse_parser p;
	struct seen s = {0};
	char err[64] = "";
	/* Not all ASCII digits, or no colon: ignored. An overflowing value too. */
	static const char bad[] = "retry: 1e3\nretry: -5\nretry:\nretry: 99999999999999999999\n"
	                          "retry 7\n";

	(void)state;
	sse_init(&p, 0, on_event, &s);
	assert_int_equal(sse_retry_ms(&p), -1);
	assert_int_equal(sse_feed(&p, "retry: 2500\n\n", 13, err, sizeof(err)), 0);
	assert_int_equal(sse_retry_ms(&p), 2500);
	assert_int_equal(sse_feed(&p, bad, strlen(bad), err, sizeof(err)), 0);
	assert_int_equal(sse_retry_ms(&p), 2500);
	assert_int_equal(s.n, 0);
	sse_free(&p);
}

static void test_bom_stripped_once(void **state)
{
	struct seen s;

	(void)state;
	parse_ok(&s, "\xEF\xBB\xBF"
	             "data: a\n\n\xEF\xBB\xBF"
	             "data: b\n\n");
	/* Only the stream's first BOM goes: the second makes a field name
	 * "\uFEFFdata", which is not "data". */
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ev[0], "message|a|");
}

static void test_nul_in_data_kept(void **state)
{
	struct seen s;
	static const char stream[] = "data: a\0b\n\n";
	char err[64] = "";

	(void)state;
	assert_int_equal(parse_all(&s, stream, sizeof(stream) - 1, 0, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ev[0], "message|a\\0b|");
}

/* An unfinished event at the end of the stream is never dispatched. */
static void test_incomplete_event_dropped_on_reset(void **state)
{
	struct sse_parser p;
	struct seen s = {0};
	char err[64] = "";

	(void)state;
	sse_init(&p, 0, on_event, &s);
	assert_int_equal(sse_feed(&p, "event: x\ndata: half\n", 20, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	sse_reset(&p);
	assert_int_equal(sse_feed(&p, "\xEF\xBB\xBF\ndata: new\n\n", 15, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ev[0], "message|new|");
	sse_free(&p);
}

static void test_overlong_line_skips_its_event(void **state)
{
	struct seen s;
	char err[128] = "";
	const char *stream = "data: ok\n\n"
	                     "event: big\ndata: 0123456789012345678901234567890123456789\n"
	                     "data: tail\n\n"
	                     "data: after\n\n";

	(void)state;
	assert_int_equal(parse_all(&s, stream, strlen(stream), 32, err, sizeof(err)), -1);
	assert_string_equal(err, "line 4: line over the size limit, event skipped");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ev[0], "message|ok|");
	assert_string_equal(s.ev[1], "message|after|");
}

static void test_overlong_data_skips_event(void **state)
{
	struct seen s;
	char err[128] = "";
	const char *stream = "data: 0123456789\ndata: 0123456789\ndata: 0123456789\n"
	                     "data: x\n\ndata: next\n\n";

	(void)state;
	assert_int_equal(parse_all(&s, stream, strlen(stream), 32, err, sizeof(err)), -1);
	assert_string_equal(err, "line 3: event data over the size limit, event skipped");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ev[0], "message|next|");
}

/* The bound holds across chunks: an overlong line fed a byte at a time is
 * reported once, and the parser resyncs. */
static void test_overlong_line_across_chunks(void **state)
{
	struct sse_parser p;
	struct seen s = {0};
	char err[128] = "";
	const char *stream = "data: 0123456789012345678901234567890123456789\n\ndata: y\n\n";
	int failures = 0;

	(void)state;
	sse_init(&p, 16, on_event, &s);
	for (size_t i = 0; stream[i]; i++)
		if (sse_feed(&p, stream + i, 1, err, sizeof(err)) < 0)
			failures++;
	assert_int_equal(failures, 1);
	assert_string_equal(err, "line 1: line over the size limit, event skipped");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ev[0], "message|y|");
	sse_free(&p);
}

static const char SPLIT_STREAM[] = "\xEF\xBB\xBF: hello\r\n"
                                   "event: status_update_event\r\n"
                                   "id: 41\r"
                                   "data: {\"a\":1}\r\n"
                                   "data: {\"b\":2}\n\r\n"
                                   "retry: 3000\r\r"
                                   "data:x\r"
                                   "\r"
                                   "event: e\ndata: last\n\n";

/* Every way of cutting the stream in two, and byte by byte, gives the
 * events of the one-chunk parse. */
static void test_split_at_every_boundary(void **state)
{
	struct seen whole, cut;
	size_t len = sizeof(SPLIT_STREAM) - 1;
	char err[64] = "";

	(void)state;
	assert_int_equal(parse_all(&whole, SPLIT_STREAM, len, 0, err, sizeof(err)), 0);
	assert_int_equal(whole.n, 3);
	assert_string_equal(whole.ev[0], "status_update_event|{\"a\":1}\\n{\"b\":2}|41");
	assert_string_equal(whole.ev[1], "message|x|41");
	assert_string_equal(whole.ev[2], "e|last|41");
	for (size_t at = 0; at <= len; at++) {
		struct sse_parser p;

		memset(&cut, 0, sizeof(cut));
		sse_init(&p, 0, on_event, &cut);
		assert_int_equal(sse_feed(&p, SPLIT_STREAM, at, err, sizeof(err)), 0);
		assert_int_equal(sse_feed(&p, SPLIT_STREAM + at, len - at, err, sizeof(err)), 0);
		assert_int_equal(sse_retry_ms(&p), 3000);
		sse_free(&p);
		assert_int_equal(cut.n, whole.n);
		for (size_t i = 0; i < whole.n; i++)
			assert_string_equal(cut.ev[i], whole.ev[i]);
	}
	{
		struct sse_parser p;

		memset(&cut, 0, sizeof(cut));
		sse_init(&p, 0, on_event, &cut);
		for (size_t i = 0; i < len; i++)
			assert_int_equal(sse_feed(&p, SPLIT_STREAM + i, 1, err, sizeof(err)), 0);
		sse_free(&p);
		assert_int_equal(cut.n, whole.n);
		for (size_t i = 0; i < whole.n; i++)
			assert_string_equal(cut.ev[i], whole.ev[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_marathon_shape),
	    cmocka_unit_test(test_line_endings),
	    cmocka_unit_test(test_cr_then_lf_is_one_line_end),
	    cmocka_unit_test(test_data_lines_joined),
	    cmocka_unit_test(test_comments_and_unknown_fields_ignored),
	    cmocka_unit_test(test_no_data_no_event),
	    cmocka_unit_test(test_event_type_per_event),
	    cmocka_unit_test(test_id_persists_and_ignores_nul),
	    cmocka_unit_test(test_retry),
	    cmocka_unit_test(test_bom_stripped_once),
	    cmocka_unit_test(test_nul_in_data_kept),
	    cmocka_unit_test(test_incomplete_event_dropped_on_reset),
	    cmocka_unit_test(test_overlong_line_skips_its_event),
	    cmocka_unit_test(test_overlong_data_skips_event),
	    cmocka_unit_test(test_overlong_line_across_chunks),
	    cmocka_unit_test(test_split_at_every_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
