/* The merged set kept from round to round (src/cluster/cluster_mset.c):
 * after any sequence of remote changes (puts, withdrawals, lease expiries,
 * nodes coming back) and local changes, merging only the VIPs that changed
 * gives exactly what a whole merge gives, and the failure rule of each VIP
 * told to the audit log is the whole merge's. The same when the merge is
 * handed only the changed VIPs' records (cluster_view_remotes_of) and the
 * desired input is updated for those VIPs only (cluster_rset). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "vipd/cluster_mset.h"
#include "vipd/cluster_rset.h"
#include "vipd/cluster_view.h"

#define P CLUSTER_PREFIX_DEFAULT
#define NODES 4 /* the last one is "self" */
#define STEPS 3000

static const char *nodes[NODES] = {"a", "b", "c", "self"};
static const char *vips[] = {"/v0:80", "/v1:80", "/v2:443", "10.9.0.1:80"};
#define NVIPS (sizeof(vips) / sizeof(*vips))

static void ignore_audit(void *arg, const char *event, json_t *fields)
{
	(void)arg;
	(void)event;
	json_decref(fields);
}

static void ignore_warn(void *arg, const char *msg)
{
	(void)arg;
	fail_msg("unexpected warning: %s", msg);
}

static void ignore_app(void *arg, const char *app_id)
{
	(void)arg;
	(void)app_id;
}

static const struct cluster_view_ops ops = {
    .audit = ignore_audit, .warn = ignore_warn, .app_changed = ignore_app};

/* Backends from a small pool, so that nodes share addresses (duplicates). */
static struct cluster_backend random_backend(const char *node)
{
	struct cluster_backend b;
	char addr[32], err[256];

	memset(&b, 0, sizeof(b));
	snprintf(b.node, sizeof(b.node), "%s", node);
	assert_int_equal(vip_parse(vips[rand() % NVIPS], &b.vip, err, sizeof(err)), 0);
	b.protocol = rand() % 5 == 0 ? IPPROTO_UDP : IPPROTO_TCP;
	snprintf(addr, sizeof(addr), "10.0.0.%d", 1 + rand() % 6);
	assert_int_equal(lb_addr_parse(addr, &b.addr), 0);
	b.port = (uint16_t)(31000 + rand() % 2);
	b.weight = 1 + (uint32_t)(rand() % 3);
	b.health = rand() % 3 == 0 ? CLUSTER_HEALTH_UNHEALTHY : CLUSTER_HEALTH_HEALTHY;
	snprintf(b.app, sizeof(b.app), "/app");
	snprintf(b.task, sizeof(b.task), "t.%s.%d", node, rand() % 100);
	return b;
}

struct events {
	struct etcd_event ev[8];
	size_t n;
	char keys[8][CLUSTER_KEY_MAX];
	char *values[8];
};

static void ev_put_backend(struct events *e, const char *node)
{
	struct cluster_backend b = random_backend(node);
	char err[256];
	size_t i = e->n++;

	assert_int_equal(cluster_backend_key(P, &b, e->keys[i], CLUSTER_KEY_MAX, err, sizeof(err)),
	                 0);
	e->values[i] = cluster_backend_value(&b);
	assert_non_null(e->values[i]);
	e->ev[i] = (struct etcd_event){ETCD_EVENT_PUT,
	                               {.key = e->keys[i],
	                                .key_len = strlen(e->keys[i]),
	                                .value = e->values[i],
	                                .value_len = strlen(e->values[i])}};
}

static void ev_key(struct events *e, enum etcd_event_type type, const char *key, const char *value)
{
	size_t i = e->n++;

	snprintf(e->keys[i], CLUSTER_KEY_MAX, "%s", key);
	e->values[i] = strdup(value);
	e->ev[i] = (struct etcd_event){type,
	                               {.key = e->keys[i],
	                                .key_len = strlen(e->keys[i]),
	                                .value = e->values[i],
	                                .value_len = strlen(value)}};
}

/* A record of the view deleted: withdrawn or expired by what the view
 * knows of its node's live key. */
static void ev_delete_some(struct events *e, struct cluster_view *v)
{
	size_t n;
	const struct cluster_remote *r = cluster_view_remotes(v, &n);
	char key[CLUSTER_KEY_MAX], err[256];

	if (n == 0)
		return;
	assert_int_equal(
	    cluster_backend_key(P, &r[(size_t)rand() % n].b, key, sizeof(key), err, sizeof(err)),
	    0);
	ev_key(e, ETCD_EVENT_DELETE, key, "");
}

static void ev_live(struct events *e, const char *node, bool put)
{
	char key[CLUSTER_KEY_MAX], value[64];

	assert_int_equal(cluster_live_key(P, node, key, sizeof(key)), 0);
	snprintf(value, sizeof(value), "{\"node\":\"%s\"}", node);
	ev_key(e, put ? ETCD_EVENT_PUT : ETCD_EVENT_DELETE, key, put ? value : "");
}

static void random_response(struct cluster_view *v)
{
	struct events e = {.n = 0};
	size_t count = 1 + (size_t)rand() % 4;
	struct etcd_resp r;

	for (size_t i = 0; i < count; i++) {
		int what = rand() % 10;
		const char *node = nodes[rand() % NODES];

		if (what < 5)
			ev_put_backend(&e, node);
		else if (what < 8)
			ev_delete_some(&e, v);
		else
			ev_live(&e, node, what == 8);
	}
	r = (struct etcd_resp){.events = e.ev, .n_events = e.n};
	(void)cluster_view_events(v, &r);
	for (size_t i = 0; i < e.n; i++)
		free(e.values[i]);
}

static size_t random_local(struct cluster_backend *local, size_t n)
{
	int what = rand() % 4;

	if (what == 0 && n < 6)
		local[n++] = random_backend("self");
	else if (what == 1 && n > 0) {
		size_t gone = (size_t)rand() % n;

		local[gone] = local[n - 1];
		n--;
	} else if (what == 2 && n > 0)
		local[(size_t)rand() % n].health =
		    rand() % 2 ? CLUSTER_HEALTH_HEALTHY : CLUSTER_HEALTH_UNHEALTHY;
	return n;
}

/* What the audit log was told: the non-live rule of each VIP. */
struct told {
	struct cluster_service svc[64];
	enum cluster_rule rule[64];
	size_t expired[64];
	size_t n;
};

static void on_rule(void *arg, const struct cluster_service *svc, enum cluster_rule rule,
                    size_t expired)
{
	struct told *t = arg;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (cluster_service_cmp(&t->svc[i], svc) == 0)
			break;
	if (i == t->n) {
		assert_true(t->n < 64);
		t->svc[t->n++] = *svc;
	}
	t->rule[i] = rule;
	t->expired[i] = expired;
}

static void assert_same(const struct cluster_mset *inc, const struct cluster_mset *whole,
                        const struct told *t, int step)
{
	size_t told_non_live = 0, whole_non_live = 0;

	assert_int_equal(inc->n, whole->n);
	for (size_t i = 0; i < inc->n; i++) {
		const struct cluster_mset_vip *a = &inc->vips[i], *b = &whole->vips[i];

		assert_int_equal(cluster_service_cmp(&a->svc, &b->svc), 0);
		assert_int_equal(a->rule, b->rule);
		assert_int_equal(a->expired, b->expired);
		assert_int_equal(a->n, b->n);
		for (size_t k = 0; k < a->n; k++) {
			assert_int_equal(lb_addr_cmp(&a->dests[k].addr, &b->dests[k].addr), 0);
			assert_int_equal(a->dests[k].port, b->dests[k].port);
			assert_int_equal(a->dests[k].weight, b->dests[k].weight);
			assert_int_equal(a->dests[k].local, b->dests[k].local);
		}
		if (b->rule != CLUSTER_RULE_LIVE)
			whole_non_live++;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct cluster_mset_vip key = {.svc = t->svc[i]};
		const struct cluster_mset_vip *b = NULL;

		for (size_t k = 0; k < whole->n; k++)
			if (cluster_service_cmp(&whole->vips[k].svc, &key.svc) == 0)
				b = &whole->vips[k];
		if (t->rule[i] == CLUSTER_RULE_LIVE) {
			if (b != NULL && b->rule != CLUSTER_RULE_LIVE)
				fail_msg("step %d: told live, whole merge says %s", step,
				         cluster_rule_name(b->rule));
			continue;
		}
		told_non_live++;
		assert_non_null(b);
		assert_int_equal(t->rule[i], b->rule);
		assert_int_equal(t->expired[i], b->expired);
	}
	assert_int_equal(told_non_live, whole_non_live);
}

static void test_incremental_equals_whole(void **state)
{
	struct cluster_view v;
	struct cluster_mset inc = {0};
	struct cluster_backend local[8];
	struct told told = {.n = 0};
	size_t nlocal = 0, merged_rounds = 0;
	char err[256];

	(void)state;
	srand(9);
	assert_int_equal(cluster_view_init(&v, "self", P, &ops, NULL), 0);
	for (int step = 0; step < STEPS; step++) {
		struct cluster_mset whole = {0};
		const struct cluster_service *dirty;
		const struct cluster_remote *remote;
		size_t ndirty, nremote;
		bool all;
		int rc;

		if (rand() % 4 == 0)
			nlocal = random_local(local, nlocal);
		else
			random_response(&v);
		remote = cluster_view_remotes(&v, &nremote);
		dirty = cluster_view_dirty(&v, &ndirty, &all);
		rc = cluster_mset_update(&inc, "self", local, nlocal, remote, nremote, dirty,
		                         ndirty, all, on_rule, &told, err, sizeof(err));
		assert_true(rc >= 0);
		merged_rounds += rc > 0;
		cluster_view_dirty_clear(&v);
		assert_int_equal(cluster_mset_update(&whole, "self", local, nlocal, remote, nremote,
		                                     NULL, 0, true, NULL, NULL, err, sizeof(err)),
		                 1);
		assert_same(&inc, &whole, &told, step);
		cluster_mset_free(&whole);
	}
	/* the sequence went through every rule and skipped rounds with nothing new */
	assert_true(merged_rounds > STEPS / 4 && merged_rounds < STEPS);
	cluster_mset_free(&inc);
	cluster_view_free(&v);
}

static void assert_rset_same(const struct cluster_rset *inc, const struct cluster_rset *whole,
                             int step)
{
	if (inc->n != whole->n)
		fail_msg("step %d: %zu VIPs with other nodes' backends, a rebuild has %zu", step,
		         inc->n, whole->n);
	for (size_t i = 0; i < inc->n; i++) {
		const struct desired_remote_vip *a = &inc->vips[i], *b = &whole->vips[i];
		struct cluster_service sa = {a->protocol, a->vip}, sb = {b->protocol, b->vip};

		assert_int_equal(cluster_service_cmp(&sa, &sb), 0);
		assert_int_equal(a->n, b->n);
		for (size_t k = 0; k < a->n; k++) {
			const struct desired_remote *x = &a->items[k], *y = &b->items[k];
			struct cluster_service ix = {x->protocol, x->vip};

			assert_int_equal(cluster_service_cmp(&ix, &sa), 0);
			assert_int_equal(lb_addr_cmp(&x->addr, &y->addr), 0);
			assert_int_equal(x->port, y->port);
			assert_int_equal(x->weight, y->weight);
		}
	}
}

/* cluster_mset_source over the view: each VIP's records alone */
static const struct cluster_remote *view_remotes(void *arg, const struct cluster_service *only,
                                                 size_t nonly, size_t *n)
{
	return cluster_view_remotes_of(arg, only, nonly, n);
}

/* As the daemon runs a round (engine_cluster_update): the merge is handed
 * the records of the VIPs it merges again only, and the desired input
 * (cluster_rset) is changed for the VIPs whose merged set changed only;
 * both equal a whole merge of every record and a whole rebuild, and the
 * other nodes' backends in the input are exactly the merged set's. */
static void test_changed_vips_only_equal_whole(void **state)
{
	struct cluster_view v;
	struct cluster_mset inc = {0};
	struct cluster_rset rinc = {0};
	struct cluster_backend local[8];
	struct told told = {.n = 0};
	struct cluster_mset_source src = {view_remotes, &v};
	size_t nlocal = 0, partial_rounds = 0, max_groups = 0;
	char err[256];

	(void)state;
	srand(19);
	assert_int_equal(cluster_view_init(&v, "self", P, &ops, NULL), 0);
	for (int step = 0; step < STEPS; step++) {
		struct cluster_mset whole = {0};
		struct cluster_rset rwhole = {0};
		const struct cluster_service *dirty;
		const struct cluster_remote *remote;
		size_t ndirty, nremote;
		bool all;
		int rc;

		if (rand() % 4 == 0)
			nlocal = random_local(local, nlocal);
		else
			random_response(&v);
		dirty = cluster_view_dirty(&v, &ndirty, &all);
		partial_rounds += inc.primed && !all && ndirty > 0;
		rc = cluster_mset_update_from(&inc, "self", local, nlocal, &src, dirty, ndirty, all,
		                              on_rule, &told, err, sizeof(err));
		assert_true(rc >= 0);
		cluster_view_dirty_clear(&v);
		if (inc.changed_all)
			assert_int_equal(cluster_rset_rebuild(&rinc, &inc), 0);
		else
			assert_int_equal(
			    cluster_rset_update(&rinc, &inc, inc.changed, inc.nchanged), 0);
		cluster_mset_changes_clear(&inc);
		remote = cluster_view_remotes(&v, &nremote);
		assert_non_null(remote);
		assert_int_equal(cluster_mset_update(&whole, "self", local, nlocal, remote, nremote,
		                                     NULL, 0, true, NULL, NULL, err, sizeof(err)),
		                 1);
		assert_same(&inc, &whole, &told, step);
		assert_int_equal(cluster_rset_rebuild(&rwhole, &whole), 0);
		assert_rset_same(&rinc, &rwhole, step);
		max_groups = rwhole.n > max_groups ? rwhole.n : max_groups;
		cluster_rset_free(&rwhole);
		cluster_mset_free(&whole);
	}
	/* most rounds merged a few VIPs, and the input held several VIPs */
	assert_true(partial_rounds > STEPS / 2);
	assert_true(max_groups >= 4);
	cluster_rset_free(&rinc);
	cluster_mset_free(&inc);
	cluster_view_free(&v);
}

/* The whole merge through the kept set is cluster_merge's result. */
static void test_whole_is_cluster_merge(void **state)
{
	struct cluster_remote remote[3];
	struct cluster_backend local[1];
	struct cluster_mset s = {0};
	struct cluster_merged m;
	char err[256];

	(void)state;
	srand(3);
	for (size_t i = 0; i < 3; i++)
		remote[i] = (struct cluster_remote){random_backend(nodes[i]), i != 1};
	remote[0].b.health = remote[1].b.health = remote[2].b.health = CLUSTER_HEALTH_HEALTHY;
	local[0] = random_backend("self");
	assert_int_equal(cluster_merge("self", local, 1, remote, 3, &m, err, sizeof(err)), 0);
	assert_int_equal(cluster_mset_update(&s, "self", local, 1, remote, 3, NULL, 0, true, NULL,
	                                     NULL, err, sizeof(err)),
	                 1);
	assert_int_equal(s.n, m.n);
	for (size_t i = 0; i < m.n; i++) {
		assert_int_equal(s.vips[i].n, m.vips[i].n);
		assert_int_equal(s.vips[i].rule, m.vips[i].rule);
		for (size_t k = 0; k < m.vips[i].n; k++)
			assert_int_equal(s.vips[i].dests[k].port, m.vips[i].backends[k]->port);
	}
	/* nothing changed since: nothing merged */
	assert_int_equal(cluster_mset_update(&s, "self", local, 1, remote, 3, NULL, 0, false, NULL,
	                                     NULL, err, sizeof(err)),
	                 0);
	cluster_merged_free(&m);
	cluster_mset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_incremental_equals_whole),
	    cmocka_unit_test(test_changed_vips_only_equal_whole),
	    cmocka_unit_test(test_whole_is_cluster_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
