/*
 * base64 as etcd's JSON gateway writes keys and values (protobuf's JSON form
 * of bytes: RFC 4648 standard alphabet, padded). Strict on decode: the
 * gateway never sends anything else, so anything else is a bad answer.
 */
#include "vipd/etcd.h"

#include <stdlib.h>
#include <string.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t etcd_b64_encoded_size(size_t n)
{
	return (n + 2) / 3 * 4 + 1;
}

int etcd_b64_encode(const void *src, size_t n, char *out, size_t outlen)
{
	const unsigned char *in = src;
	size_t i, o = 0;

	if (outlen < etcd_b64_encoded_size(n))
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

static int b64_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b64_alphabet, c);
	return p ? (int)(p - b64_alphabet) : -1;
}

/* One quartet; pad = how many '=' it ends with (only the last may have any). */
static int b64_quartet(const char *q, bool last, unsigned char *out, size_t *n)
{
	int v[4], k, pad = 0;

	for (k = 0; k < 4; k++) {
		if (q[k] == '=' && last && k >= 2) {
			pad++;
			v[k] = 0;
			continue;
		}
		if (pad) /* data after padding */
			return -1;
		v[k] = b64_value(q[k]);
		if (v[k] < 0)
			return -1;
	}
	/* The bits padding drops must be zero, or two texts decode alike. */
	if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
		return -1;
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	out[1] = (unsigned char)(v[1] << 4 | v[2] >> 2);
	out[2] = (unsigned char)(v[2] << 6 | v[3]);
	*n = 3 - (size_t)pad;
	return 0;
}

int etcd_b64_decode(const char *src, size_t len, char **out, size_t *out_len)
{
	unsigned char *buf;
	size_t i, o = 0, n;

	*out = NULL;
	*out_len = 0;
	if (len % 4)
		return -1;
	buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -1;
	for (i = 0; i < len; i += 4) {
		if (b64_quartet(src + i, i + 4 == len, buf + o, &n) < 0) {
			free(buf);
			return -1;
		}
		o += n;
	}
	buf[o] = '\0';
	*out = (char *)buf;
	*out_len = o;
	return 0;
}
