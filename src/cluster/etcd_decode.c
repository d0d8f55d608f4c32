/*
 * Decoding etcd's JSON gateway answers (grpc-gateway's proto3 JSON: int64 as
 * strings, bytes as base64, zero values omitted). Pure: no I/O, every
 * problem a message located by JSON pointer; a bad key or event is skipped
 * alone, a bad envelope fails the answer.
 */
#include "vipd/etcd.h"
#include "vipd/errbuf.h"
#include "cluster_int.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dec {
	const char *where;
	etcd_warn_fn warn;
	void *warn_arg;
	char *err;
	size_t errlen;
};

const char *etcd_op_path(enum etcd_op op)
{
	switch (op) {
	case ETCD_OP_RANGE:
		return "/v3/kv/range";
	case ETCD_OP_PUT:
		return "/v3/kv/put";
	case ETCD_OP_DELETE:
		return "/v3/kv/deleterange";
	case ETCD_OP_TXN:
		return "/v3/kv/txn";
	case ETCD_OP_LEASE_GRANT:
		return "/v3/lease/grant";
	case ETCD_OP_LEASE_KEEPALIVE:
		return "/v3/lease/keepalive";
	case ETCD_OP_LEASE_REVOKE:
		return "/v3/lease/revoke";
	case ETCD_OP_AUTH:
		return "/v3/auth/authenticate";
	case ETCD_OP_WATCH:
		return "/v3/watch";
	}
	return "?";
}

void cluster_json_got(const json_t *v, char *buf, size_t len)
{
	char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

	if (!text) {
		(void)snprintf(buf, len, "%s", v ? "?" : "nothing");
		return;
	}
	if (strlen(text) > CLUSTER_GOT_MAX)
		(void)snprintf(buf, len, "%.*s…", CLUSTER_GOT_MAX, text);
	else
		(void)snprintf(buf, len, "%s", text);
	free(text);
}

static void dec_fail(struct dec *d, const char *path, const char *what, const json_t *v)
{
	char got[CLUSTER_GOT_MAX + 8];

	cluster_json_got(v, got, sizeof(got));
	errbuf_set(d->err, d->errlen, "%s: %s: expected %s, got %s", d->where, path, what, got);
}

static void dec_warn(struct dec *d, const char *path, const char *what, const json_t *v)
{
	char got[CLUSTER_GOT_MAX + 8], msg[512];

	if (!d->warn)
		return;
	cluster_json_got(v, got, sizeof(got));
	(void)snprintf(msg, sizeof(msg), "%s: %s: expected %s, got %s (skipped)", d->where, path,
	               what, got);
	d->warn(d->warn_arg, msg);
}

/* int64 as proto3 JSON writes it (a decimal string), or a JSON integer. */
static int dec_int64_value(const json_t *v, int64_t *out)
{
	const char *s;
	char *end;
	long long n;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

/* base + "/" + field; a path cut at the buffer's end still locates the
 * value well enough for a message. */
static void path_join(char *out, size_t len, const char *base, const char *field)
{
	int n = snprintf(out, len, "%s/%s", base, field);

	if (n < 0 && len)
		out[0] = '\0';
}

/* An omitted field is proto3's zero; a present one must be an integer. */
static int dec_int64(const json_t *obj, const char *field, const char *base, int64_t *out,
                     bool required, char *path, size_t pathlen)
{
	const json_t *v = json_object_get(obj, field);

	path_join(path, pathlen, base, field);
	*out = 0;
	if (!v)
		return required ? -1 : 0;
	return dec_int64_value(v, out);
}

static int dec_bytes(const json_t *obj, const char *field, char **out, size_t *out_len,
                     const json_t **bad)
{
	const json_t *v = json_object_get(obj, field);

	*bad = v;
	if (!v)
		return etcd_b64_decode("", 0, out, out_len);
	if (!json_is_string(v))
		return -1;
	return etcd_b64_decode(json_string_value(v), json_string_length(v), out, out_len);
}

static void kv_clear(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

/* One mvccpb.KeyValue at base; -1 after a warning. */
static int dec_kv(struct dec *d, const json_t *v, const char *base, struct etcd_kv *kv)
{
	static const char *const ints[] = {"create_revision", "mod_revision", "version", "lease"};
	int64_t *dst[] = {&kv->create_revision, &kv->mod_revision, &kv->version, &kv->lease};
	char path[256];
	const json_t *bad;
	size_t i;

	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(v)) {
		dec_warn(d, base, "an object", v);
		return -1;
	}
	path_join(path, sizeof(path), base, "key");
	if (!json_object_get(v, "key")) {
		dec_warn(d, path, "base64", NULL);
		return -1;
	}
	if (dec_bytes(v, "key", &kv->key, &kv->key_len, &bad) < 0 || kv->key_len == 0) {
		dec_warn(d, path, "base64", bad);
		goto fail;
	}
	path_join(path, sizeof(path), base, "value");
	if (dec_bytes(v, "value", &kv->value, &kv->value_len, &bad) < 0) {
		dec_warn(d, path, "base64", bad);
		goto fail;
	}
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (dec_int64(v, ints[i], base, dst[i], false, path, sizeof(path)) < 0) {
			dec_warn(d, path, "an integer", json_object_get(v, ints[i]));
			goto fail;
		}
	}
	return 0;
fail:
	kv_clear(kv);
	return -1;
}

static int dec_kvs(struct dec *d, const json_t *obj, const char *base, struct etcd_resp *r)
{
	const json_t *arr = json_object_get(obj, "kvs");
	char path[256];
	size_t i;

	if (!arr)
		return 0;
	path_join(path, sizeof(path), base, "kvs");
	if (!json_is_array(arr)) {
		dec_fail(d, path, "an array", arr);
		return -1;
	}
	r->kvs = calloc(json_array_size(arr) + 1, sizeof(*r->kvs));
	if (!r->kvs) {
		errbuf_set(d->err, d->errlen, "%s: out of memory", d->where);
		return -1;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		(void)snprintf(path, sizeof(path), "%s/kvs/%zu", base, i);
		if (dec_kv(d, json_array_get(arr, i), path, &r->kvs[r->n_kvs]) < 0)
			r->skipped++;
		else
			r->n_kvs++;
	}
	return 0;
}

static int dec_event(struct dec *d, const json_t *v, const char *base, struct etcd_event *ev)
{
	const json_t *type;
	char path[256 + 8]; /* base (from a 256-byte path) and "/type" */

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(v)) {
		dec_warn(d, base, "an object", v);
		return -1;
	}
	type = json_object_get(v, "type");
	/* PUT is the enum's zero: proto3 JSON leaves it out. */
	if (!type || (json_is_string(type) && strcmp(json_string_value(type), "PUT") == 0)) {
		ev->type = ETCD_EVENT_PUT;
	} else if (json_is_string(type) && strcmp(json_string_value(type), "DELETE") == 0) {
		ev->type = ETCD_EVENT_DELETE;
	} else {
		path_join(path, sizeof(path), base, "type");
		dec_warn(d, path, "\"PUT\" or \"DELETE\"", type);
		return -1;
	}
	path_join(path, sizeof(path), base, "kv");
	return dec_kv(d, json_object_get(v, "kv"), path, &ev->kv);
}

static int dec_events(struct dec *d, const json_t *obj, const char *base, struct etcd_resp *r)
{
	const json_t *arr = json_object_get(obj, "events");
	char path[256];
	size_t i;

	if (!arr)
		return 0;
	path_join(path, sizeof(path), base, "events");
	if (!json_is_array(arr)) {
		dec_fail(d, path, "an array", arr);
		return -1;
	}
	r->events = calloc(json_array_size(arr) + 1, sizeof(*r->events));
	if (!r->events) {
		errbuf_set(d->err, d->errlen, "%s: out of memory", d->where);
		return -1;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		(void)snprintf(path, sizeof(path), "%s/events/%zu", base, i);
		if (dec_event(d, json_array_get(arr, i), path, &r->events[r->n_events]) < 0)
			r->skipped++;
		else
			r->n_events++;
	}
	return 0;
}

static int dec_bool(struct dec *d, const json_t *obj, const char *field, const char *base,
                    bool *out)
{
	const json_t *v = json_object_get(obj, field);
	char path[256];

	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		path_join(path, sizeof(path), base, field);
		dec_fail(d, path, "true or false", v);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int dec_need_int64(struct dec *d, const json_t *obj, const char *field, const char *base,
                          int64_t *out, bool required)
{
	char path[256];

	if (dec_int64(obj, field, base, out, required, path, sizeof(path)) == 0)
		return 0;
	dec_fail(d, path, "an integer", json_object_get(obj, field));
	return -1;
}

static int dec_header(struct dec *d, const json_t *obj, const char *base, bool required,
                      struct etcd_resp *r)
{
	const json_t *h = json_object_get(obj, "header");
	char path[256];

	path_join(path, sizeof(path), base, "header");
	if (!h) {
		if (!required)
			return 0;
		dec_fail(d, path, "an object", NULL);
		return -1;
	}
	if (!json_is_object(h)) {
		dec_fail(d, path, "an object", h);
		return -1;
	}
	return dec_need_int64(d, h, "revision", path, &r->revision, required);
}

/* etcd's error answer: {"error": "...", "code": N} (the gateway), or
 * {"error": {"grpc_code": N, "message": "..."}} in a stream. */
static int dec_error_object(struct dec *d, const json_t *root, struct etcd_resp *r)
{
	const json_t *e = json_object_get(root, "error"), *code, *msg;

	if (!e)
		return 0;
	if (json_is_object(e)) {
		code = json_object_get(e, "grpc_code");
		msg = json_object_get(e, "message");
	} else {
		code = json_object_get(root, "code");
		msg = json_object_get(root, "message");
		if (!json_is_string(msg))
			msg = e;
	}
	r->error_code = json_is_integer(code) ? (int)json_integer_value(code) : -1;
	errbuf_set(d->err, d->errlen, "%s: etcd error %d: %.200s", d->where, r->error_code,
	           json_is_string(msg) ? json_string_value(msg) : "(no message)");
	return -1;
}

static int dec_txn(struct dec *d, const json_t *obj, struct etcd_resp *r)
{
	const json_t *arr = json_object_get(obj, "responses"), *range;
	char path[256];
	size_t i;

	if (dec_bool(d, obj, "succeeded", "", &r->succeeded) < 0)
		return -1;
	if (!arr)
		return 0;
	if (!json_is_array(arr)) {
		dec_fail(d, "/responses", "an array", arr);
		return -1;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		range = json_object_get(json_array_get(arr, i), "response_range");
		if (!range)
			continue;
		(void)snprintf(path, sizeof(path), "/responses/%zu/response_range", i);
		if (!json_is_object(range)) {
			dec_fail(d, path, "an object", range);
			return -1;
		}
		if (r->kvs) /* we send at most one range per branch */
			continue;
		if (dec_kvs(d, range, path, r) < 0)
			return -1;
	}
	return 0;
}

static int dec_watch(struct dec *d, const json_t *res, struct etcd_resp *r)
{
	const char *b = "/result";
	const json_t *reason;

	if (dec_bool(d, res, "created", b, &r->created) < 0 ||
	    dec_bool(d, res, "canceled", b, &r->canceled) < 0 ||
	    dec_need_int64(d, res, "watch_id", b, &r->watch_id, false) < 0 ||
	    dec_need_int64(d, res, "compact_revision", b, &r->compact_revision, false) < 0)
		return -1;
	/* A canceled watch's header carries no revision. */
	if (dec_header(d, res, b, !r->canceled, r) < 0)
		return -1;
	reason = json_object_get(res, "cancel_reason");
	if (json_is_string(reason)) {
		r->cancel_reason = strdup(json_string_value(reason));
		if (!r->cancel_reason) {
			errbuf_set(d->err, d->errlen, "%s: out of memory", d->where);
			return -1;
		}
	}
	return dec_events(d, res, b, r);
}

static int dec_auth(struct dec *d, const json_t *obj, struct etcd_resp *r)
{
	const json_t *t = json_object_get(obj, "token");

	if (!json_is_string(t) || json_string_length(t) == 0) {
		/* The token is a credential: never quote it. */
		errbuf_set(d->err, d->errlen, "%s: /token: expected a token", d->where);
		return -1;
	}
	r->token = strdup(json_string_value(t));
	if (!r->token) {
		errbuf_set(d->err, d->errlen, "%s: out of memory", d->where);
		return -1;
	}
	return 0;
}

static int dec_op(struct dec *d, enum etcd_op op, const json_t *root, struct etcd_resp *r)
{
	const json_t *res;

	switch (op) {
	case ETCD_OP_RANGE:
		if (dec_header(d, root, "", true, r) < 0 ||
		    dec_need_int64(d, root, "count", "", &r->count, false) < 0 ||
		    dec_bool(d, root, "more", "", &r->more) < 0)
			return -1;
		return dec_kvs(d, root, "", r);
	case ETCD_OP_PUT:
	case ETCD_OP_LEASE_REVOKE:
		return dec_header(d, root, "", false, r);
	case ETCD_OP_DELETE:
		if (dec_header(d, root, "", false, r) < 0)
			return -1;
		return dec_need_int64(d, root, "deleted", "", &r->deleted, false);
	case ETCD_OP_TXN:
		if (dec_header(d, root, "", false, r) < 0)
			return -1;
		return dec_txn(d, root, r);
	case ETCD_OP_LEASE_GRANT:
		if (dec_header(d, root, "", false, r) < 0 ||
		    dec_need_int64(d, root, "ID", "", &r->lease_id, true) < 0)
			return -1;
		return dec_need_int64(d, root, "TTL", "", &r->ttl, true);
	case ETCD_OP_AUTH:
		return dec_auth(d, root, r);
	case ETCD_OP_LEASE_KEEPALIVE:
	case ETCD_OP_WATCH:
		res = json_object_get(root, "result");
		if (!json_is_object(res)) {
			dec_fail(d, "/result", "an object", res);
			return -1;
		}
		if (op == ETCD_OP_WATCH)
			return dec_watch(d, res, r);
		if (dec_header(d, res, "/result", false, r) < 0 ||
		    dec_need_int64(d, res, "ID", "/result", &r->lease_id, true) < 0)
			return -1;
		/* TTL left out (0): the lease is gone. */
		return dec_need_int64(d, res, "TTL", "/result", &r->ttl, false);
	}
	return -1;
}

int etcd_decode(enum etcd_op op, const char *body, size_t len, const char *where,
                struct etcd_resp *r, etcd_warn_fn warn, void *warn_arg, char *err, size_t errlen)
{
	struct dec d = {where, warn, warn_arg, err, errlen};
	json_error_t jerr;
	json_t *root;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		errbuf_set(err, errlen, "%s: not JSON: %s at line %d column %d", where, jerr.text,
		           jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(root))
		dec_fail(&d, "/", "an object", root);
	else if (dec_error_object(&d, root, r) == 0)
		rc = dec_op(&d, op, root, r);
	json_decref(root);
	return rc;
}

void etcd_resp_free(struct etcd_resp *r)
{
	size_t i;

	for (i = 0; i < r->n_kvs; i++)
		kv_clear(&r->kvs[i]);
	for (i = 0; i < r->n_events; i++)
		kv_clear(&r->events[i].kv);
	free(r->kvs);
	free(r->events);
	free(r->token);
	free(r->cancel_reason);
	memset(r, 0, sizeof(*r));
}
