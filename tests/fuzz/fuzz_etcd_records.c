/* libFuzzer target: any key and value read from etcd (the input up to its
 * first newline is the key, the rest the value) given to the cluster's
 * record decoders must give a record or one message that starts with the
 * key, never a crash, overrun or UB; a record they accept, written back
 * with the layout's encoders, must decode to the same record. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define P CLUSTER_PREFIX_DEFAULT

/* A message starts with the key (cut at 300 bytes, or where the buffer ends). */
static void check_message(const char *key, const char *err, size_t errlen)
{
	size_t n = strlen(key);

	if (memchr(err, '\0', errlen) == NULL)
		__builtin_trap();
	if (n > 300)
		n = 300;
	if (n > strlen(err))
		n = strlen(err);
	if (strncmp(err, key, n) != 0)
		__builtin_trap();
}

static void check_backend(const char *key, const char *value, size_t value_len)
{
	struct cluster_backend b, again;
	char k2[CLUSTER_KEY_MAX], err[512];
	char *v2;

	if (cluster_backend_decode(P, key, value, value_len, &b, err, sizeof(err)) < 0) {
		check_message(key, err, sizeof(err));
		return;
	}
	if (cluster_backend_key(P, &b, k2, sizeof(k2), err, sizeof(err)) < 0)
		__builtin_trap();
	v2 = cluster_backend_value(&b);
	if (!v2)
		return;
	if (cluster_backend_decode(P, k2, v2, strlen(v2), &again, err, sizeof(err)) < 0 ||
	    memcmp(&again, &b, sizeof(b)) != 0)
		__builtin_trap();
	free(v2);
}

static void check_vip(const char *key, const char *value, size_t value_len)
{
	struct cluster_vip_assign a, again;
	char k2[CLUSTER_KEY_MAX], err[512];
	char *v2;

	if (cluster_vip_decode(P, key, value, value_len, &a, err, sizeof(err)) < 0) {
		check_message(key, err, sizeof(err));
		return;
	}
	if (cluster_vip_key(P, a.name, k2, sizeof(k2), err, sizeof(err)) < 0)
		__builtin_trap();
	v2 = cluster_vip_value(&a);
	if (!v2)
		return;
	if (cluster_vip_decode(P, k2, v2, strlen(v2), &again, err, sizeof(err)) < 0 ||
	    memcmp(&again, &a, sizeof(a)) != 0)
		__builtin_trap();
	free(v2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t klen = nl ? (size_t)(nl - data) : size;
	char *key = malloc(klen + 1);
	struct cluster_key k;
	char err[512];

	if (!key)
		return 0;
	memcpy(key, data, klen);
	key[klen] = '\0'; /* etcd keys reach the decoders as C strings */
	if (cluster_key_parse(P, key, &k, err, sizeof(err)) < 0)
		check_message(key, err, sizeof(err));
	else if (k.kind == CLUSTER_KEY_BACKEND)
		check_backend(key, nl ? (const char *)nl + 1 : "", nl ? size - klen - 1 : 0);
	else
		check_vip(key, nl ? (const char *)nl + 1 : "", nl ? size - klen - 1 : 0);
	free(key);
	return 0;
}
