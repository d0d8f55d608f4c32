/* libFuzzer target: any bytes given to the decoder of etcd's gateway answers,
 * as any operation, must give an answer or one located message, never a
 * crash, overrun, leak or UB; every key and value kept decodes from base64
 * and encodes back to base64 that decodes to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_bytes(const char *b, size_t n)
{
	size_t cap = etcd_b64_encoded_size(n), back_len;
	char *enc = malloc(cap), *back;

	if (!b || b[n] != '\0' || !enc)
		__builtin_trap();
	if (etcd_b64_encode(b, n, enc, cap) < 0 ||
	    etcd_b64_decode(enc, strlen(enc), &back, &back_len) < 0)
		__builtin_trap();
	if (back_len != n || memcmp(back, b, n) != 0)
		__builtin_trap();
	free(back);
	free(enc);
}

static void count_warning(void *arg, const char *msg)
{
	size_t *n = arg;

	if (strncmp(msg, "etcd fuzz /v3/", 14) != 0)
		__builtin_trap();
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_resp r;
	char err[256];
	size_t warnings = 0, i;
	char where[64];
	enum etcd_op op;

	if (size < 1)
		return 0;
	op = (enum etcd_op)(data[0] % (ETCD_OP_WATCH + 1));
	snprintf(where, sizeof(where), "etcd fuzz %s", etcd_op_path(op));
	err[0] = '\0';
	if (etcd_decode(op, (const char *)data + 1, size - 1, where, &r, count_warning, &warnings,
	                err, sizeof(err)) < 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL ||
		    strncmp(err, where, strlen(where)) != 0)
			__builtin_trap();
	} else {
		for (i = 0; i < r.n_kvs; i++) {
			check_bytes(r.kvs[i].key, r.kvs[i].key_len);
			check_bytes(r.kvs[i].value, r.kvs[i].value_len);
		}
		for (i = 0; i < r.n_events; i++)
			check_bytes(r.events[i].kv.key, r.events[i].kv.key_len);
		if (r.skipped != warnings)
			__builtin_trap();
	}
	etcd_resp_free(&r);
	return 0;
}
