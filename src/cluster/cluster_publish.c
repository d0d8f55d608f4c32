/*
 * What a node publishes (issue 9 item 2), pure: its backends' records, the
 * writes that take etcd from what it holds to them (only changes are
 * written), and the live/<node> key.
 */
#include "vipd/cluster.h"
#include "vipd/errbuf.h"
#include "vipd/vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cluster_live_key(const char *prefix, const char *node, char *out, size_t outlen)
{
	int w;

	if (!cluster_node_valid(node))
		return -1;
	w = snprintf(out, outlen, "%slive/%s", prefix, node);
	return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

bool cluster_live_parse(const char *prefix, const char *key, char node[CLUSTER_NODE_MAX])
{
	size_t n = strlen(prefix);

	if (strncmp(key, prefix, n) != 0 || strncmp(key + n, "live/", 5) != 0)
		return false;
	if (!cluster_node_valid(key + n + 5))
		return false;
	memcpy(node, key + n + 5, strlen(key + n + 5) + 1); /* valid: < CLUSTER_NODE_MAX */
	return true;
}

void cluster_records_free(struct cluster_records *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].key);
		free(r->items[i].value);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* By key, then value: the same input gives the same records whatever its
 * order. */
static int record_cmp(const void *pa, const void *pb)
{
	const struct cluster_record *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	return c ? c : strcmp(a->value, b->value);
}

static void records_dedup(struct cluster_records *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (n > 0 && strcmp(r->items[n - 1].key, r->items[i].key) == 0) {
			free(r->items[i].key);
			free(r->items[i].value);
			continue;
		}
		r->items[n++] = r->items[i];
	}
	r->n = n;
}

int cluster_records_build(const char *prefix, const struct cluster_backend *b, size_t n,
                          struct cluster_records *out, char *err, size_t errlen)
{
	char key[CLUSTER_KEY_MAX];

	memset(out, 0, sizeof(*out));
	out->items = calloc(n + 1, sizeof(*out->items));
	if (out->items == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		struct cluster_record *r = &out->items[out->n];

		if (cluster_backend_key(prefix, &b[i], key, sizeof(key), err, errlen) < 0) {
			cluster_records_free(out);
			return -1;
		}
		r->key = strdup(key);
		r->value = cluster_backend_value(&b[i]);
		out->n++;
		if (r->key == NULL || r->value == NULL)
			goto nomem;
	}
	vec_sort(out->items, out->n, sizeof(*out->items), record_cmp);
	records_dedup(out);
	return 0;
nomem:
	cluster_records_free(out);
	errbuf_set(err, errlen, "cluster records: out of memory");
	return -1;
}

static bool same_value(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

int cluster_records_diff(const struct cluster_records *held, const struct cluster_records *want,
                         struct cluster_write **out, size_t *n)
{
	size_t i = 0, j = 0;

	*out = NULL;
	*n = 0;
	if (held->n + want->n == 0)
		return 0;
	*out = calloc(held->n + want->n, sizeof(**out));
	if (*out == NULL)
		return -1;
	while (i < held->n || j < want->n) {
		int c = i == held->n   ? 1
		        : j == want->n ? -1
		                       : strcmp(held->items[i].key, want->items[j].key);

		if (c < 0) {
			(*out)[(*n)++] =
			    (struct cluster_write){CLUSTER_WRITE_DELETE, held->items[i].key, NULL};
			i++;
			continue;
		}
		if (c > 0 || !same_value(held->items[i].value, want->items[j].value))
			(*out)[(*n)++] = (struct cluster_write){
			    CLUSTER_WRITE_PUT, want->items[j].key, want->items[j].value};
		if (c == 0)
			i++;
		j++;
	}
	return 0;
}

static int push_unknown(struct cluster_records *out, const char *key)
{
	struct cluster_record *r = &out->items[out->n];

	r->key = strdup(key);
	r->value = NULL;
	if (r->key == NULL)
		return -1;
	out->n++;
	return 0;
}

int cluster_records_uncertain(const struct cluster_records *held,
                              const struct cluster_records *want, struct cluster_records *out)
{
	size_t i = 0, j = 0;

	memset(out, 0, sizeof(*out));
	out->items = calloc(held->n + want->n + 1, sizeof(*out->items));
	if (out->items == NULL)
		return -1;
	while (i < held->n || j < want->n) {
		int c = i == held->n   ? 1
		        : j == want->n ? -1
		                       : strcmp(held->items[i].key, want->items[j].key);
		const char *key = c <= 0 ? held->items[i].key : want->items[j].key;

		if (push_unknown(out, key) < 0) {
			cluster_records_free(out);
			return -1;
		}
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	return 0;
}
