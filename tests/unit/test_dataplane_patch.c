/*
 * The patch round's pure parts (dataplane_patch.c, dataplane_owned.c): which
 * services it adds and deletes, which VIP routes it adds and removes and
 * which owned entries it keeps when services come or go. Each is the whole
 * round's rule restricted to the patched keys, so a random differential
 * checks them against the whole round over the spliced table: a patch must
 * leave what a whole round would (a restart then adopts it with no
 * operation).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "vipd/dataplane.h"
#include "vipd/desired.h"
#include "lb_fixture.h"

/* A service with one destination 10.1.0.<backend>:8080 (weight 1). */
static void add_svc(struct lb_table *t, const char *addr, uint16_t port, int backend)
{
	struct lb_service *s = fixture_add_svc(t, addr, port);
	struct lb_dest d = {.port = 8080, .weight = 1};
	char b[32];

	snprintf(b, sizeof(b), "10.1.0.%d", backend);
	assert_int_equal(lb_addr_parse(b, &d.addr), 0);
	assert_int_equal(lb_service_add_dest(s, &d), 0);
}

/* "a,b" of the addresses in `of` that `minus` lacks (both sorted). */
static const char *addrs_minus(const struct lb_addr *of, size_t nof, const struct lb_addr *minus,
                               size_t nminus, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nof && off < len; i++) {
		bool found = false;
		char a[INET6_ADDRSTRLEN];

		for (size_t j = 0; j < nminus && !found; j++)
			found = lb_addr_cmp(&of[i], &minus[j]) == 0;
		if (!found)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			                        lb_addr_format(&of[i], a, sizeof(a)));
	}
	return buf;
}

static const char *plan_text(const struct rc_plan *p, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n && off < len; i++) {
		char op[256];

		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "\n" : "",
		                        rc_op_format(&p->ops[i], op, sizeof(op)));
	}
	return buf;
}

/* The routes the patch of f->part over f->kernel (and the targets, when
 * given) adds and removes: each "a,b", as the case expects. */
static void assert_route_changes(struct lb_fixture *f, const struct lb_keyset *targets,
                                 const char *routed, const char *unrouted)
{
	struct lb_addr *bound = NULL, *wanted = NULL;
	size_t nb, nw;
	char buf[256];

	assert_int_equal(dataplane_patch_keys(&f->part, targets, &f->keys), 0);
	assert_int_equal(
	    dataplane_patch_addrs(&f->kernel, &f->keys, &f->part, &bound, &nb, &wanted, &nw), 0);
	assert_string_equal(addrs_minus(wanted, nw, bound, nb, buf, sizeof(buf)), routed);
	assert_string_equal(addrs_minus(bound, nb, wanted, nw, buf, sizeof(buf)), unrouted);
	free(bound);
	free(wanted);
}

/* A new VIP address is routed; a new service on an address already routed
 * adds no route. */
static void test_addrs_new_vip_routed(void **state)
{
	struct lb_fixture *f = *state;

	add_svc(&f->kernel, "11.0.0.1", 80, 1);
	add_svc(&f->kernel, "11.0.0.2", 80, 2);
	assert_int_equal(lb_table_sort(&f->kernel), 0);
	add_svc(&f->part, "11.0.0.3", 80, 3);
	add_svc(&f->part, "11.0.0.2", 443, 2);
	assert_route_changes(f, NULL, "11.0.0.3", "");
}

/* An address loses its route only with its last service: 11.0.0.1 keeps
 * port 443, which the patch does not touch. */
static void test_addrs_last_service_unrouted(void **state)
{
	struct lb_fixture *f = *state;

	add_svc(&f->kernel, "11.0.0.1", 80, 1);
	add_svc(&f->kernel, "11.0.0.1", 443, 1);
	add_svc(&f->kernel, "11.0.0.2", 80, 2);
	add_svc(&f->kernel, "fd01:c::7", 80, 2);
	assert_int_equal(lb_table_sort(&f->kernel), 0);
	fixture_add_key(&f->targets, "11.0.0.1", 80);
	fixture_add_key(&f->targets, "11.0.0.2", 80);
	fixture_add_key(&f->targets, "fd01:c::7", 80);
	/* could feed a service: neither before nor after */
	fixture_add_key(&f->targets, "11.0.0.9", 80);
	assert_route_changes(f, &f->targets, "", "11.0.0.2,fd01:c::7");
}

/* The owned set after a patch: a service made joins it, one deleted leaves
 * it, one whose delete failed stays (vipd must go on deleting it), and
 * entries outside the patch stay whatever they are. */
static void test_owned_after_patch(void **state)
{
	struct lb_fixture *f = *state;
	char buf[512];

	add_svc(&f->kernel, "11.0.0.1", 80, 1); /* untouched */
	add_svc(&f->kernel, "11.0.0.2", 80, 2); /* deleted by the patch */
	add_svc(&f->kernel, "11.0.0.3", 80, 3); /* its delete failed */
	add_svc(&f->kernel, "11.0.0.5", 80, 5); /* kept, edited */
	assert_int_equal(lb_table_sort(&f->kernel), 0);
	fixture_add_key(&f->owned, "11.0.0.1", 80);
	fixture_add_key(&f->owned, "11.0.0.2", 80);
	fixture_add_key(&f->owned, "11.0.0.3", 80);
	fixture_add_key(&f->owned, "11.0.0.5", 80);
	fixture_add_key(&f->owned, "11.0.0.8", 80); /* owned, outside the patch */
	lb_keyset_sort(&f->owned);
	add_svc(&f->part, "11.0.0.4", 80, 4); /* made by the patch */
	add_svc(&f->part, "11.0.0.5", 80, 6);
	fixture_add_key(&f->targets, "11.0.0.2", 80);
	fixture_add_key(&f->targets, "11.0.0.3", 80);
	assert_int_equal(dataplane_patch_keys(&f->part, &f->targets, &f->keys), 0);
	assert_string_equal(fixture_keys_text(&f->keys, buf, sizeof(buf)),
	                    "TCP 11.0.0.2:80,TCP 11.0.0.3:80,TCP 11.0.0.4:80,TCP 11.0.0.5:80");
	fixture_add_key(&f->deleted, "11.0.0.2", 80);
	lb_keyset_sort(&f->deleted);
	assert_int_equal(dataplane_owned_after_patch(&f->owned, &f->keys, &f->part, &f->kernel,
	                                             &f->deleted, &f->out),
	                 0);
	assert_string_equal(fixture_keys_text(&f->out, buf, sizeof(buf)),
	                    "TCP 11.0.0.1:80,TCP 11.0.0.3:80,TCP 11.0.0.4:80,TCP 11.0.0.5:80,"
	                    "TCP 11.0.0.8:80");
	assert_true(f->out.sorted);
}

/* A patch that adds an app's service and removes another's: the service
 * made before its destination, the one gone deleted whole (its
 * destinations go with it), in the whole round's order; a target vipd does
 * not own is never deleted. */
static void test_plan_adds_and_deletes(void **state)
{
	struct lb_fixture *f = *state;
	struct rc_plan plan;
	char err[256], buf[1024];

	rc_plan_init(&plan);
	add_svc(&f->kernel, "11.0.0.1", 80, 1);
	add_svc(&f->kernel, "11.0.0.2", 80, 2);
	add_svc(&f->kernel, "11.0.0.6", 80, 6);
	assert_int_equal(lb_table_sort(&f->kernel), 0);
	fixture_add_key(&f->owned, "11.0.0.1", 80);
	fixture_add_key(&f->owned, "11.0.0.2", 80);
	fixture_add_key(&f->owned, "11.0.0.3", 80);
	lb_keyset_sort(&f->owned);
	add_svc(&f->part, "11.0.0.3", 80, 3);
	fixture_add_key(&f->targets, "11.0.0.2", 80);
	fixture_add_key(&f->targets, "11.0.0.6", 80); /* in the kernel, not owned */
	assert_int_equal(dataplane_patch_keys(&f->part, &f->targets, &f->keys), 0);
	assert_int_equal(dataplane_patch_plan_keys(&f->kernel, &f->part, &f->keys, &f->owned, &plan,
	                                           err, sizeof(err)),
	                 0);
	assert_string_equal(plan_text(&plan, buf, sizeof(buf)),
	                    "add service TCP 11.0.0.3:80 sched wlc flags 0x0\n"
	                    "add dest TCP 11.0.0.3:80 -> 10.1.0.3:8080 weight 1 masq\n"
	                    "del service TCP 11.0.0.2:80");
	rc_plan_free(&plan);
}

/* ---- the patch against the whole round, on random tables ---- */

static uint32_t rng_state;
/* How many worlds made or deleted a service, routed or unrouted an
 * address: the differential must have met each. */
static size_t seen_adds, seen_dels, seen_routed, seen_unrouted;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

/* A random service among 8 addresses x 2 ports, 1 to 3 destinations. */
static void random_svc(struct lb_table *t, uint32_t slot)
{
	char a[32];
	int nd = 1 + (int)rnd(3);
	struct lb_key k;
	struct lb_service *s;

	snprintf(a, sizeof(a), "11.0.0.%u", 1 + slot / 2);
	k = fixture_key(a, slot % 2 ? 443 : 80);
	if (lb_table_find(t, &k) != NULL)
		return;
	s = lb_table_add_service(t, &k);
	assert_non_null(s);
	for (int i = 0; i < nd; i++) {
		struct lb_dest d = {.port = 8080, .weight = rnd(3)};
		char b[32];

		snprintf(b, sizeof(b), "10.1.0.%u", 1 + rnd(4));
		assert_int_equal(lb_addr_parse(b, &d.addr), 0);
		assert_int_equal(lb_service_add_dest(s, &d), 0);
	}
}

static void check_one_world(void)
{
	struct lb_table kernel, part, after, kcopy;
	struct lb_keyset targets, keys, owned, deleted, whole_owned, patch_owned;
	struct lb_addr *ka, *aa, *pb, *pw;
	size_t nka, naa, npb, npw;
	struct rc_plan whole, patch;
	char err[256], wp[4096], pp[4096], w1[256], p1[256];

	lb_table_init(&kernel);
	lb_table_init(&part);
	lb_table_init(&after);
	lb_table_init(&kcopy);
	lb_keyset_init(&targets);
	lb_keyset_init(&keys);
	lb_keyset_init(&owned);
	lb_keyset_init(&deleted);
	lb_keyset_init(&whole_owned);
	lb_keyset_init(&patch_owned);
	rc_plan_init(&whole);
	rc_plan_init(&patch);
	for (uint32_t slot = 0; slot < 16; slot++)
		if (rnd(2))
			random_svc(&kernel, slot);
	assert_int_equal(lb_table_sort(&kernel), 0);
	/* After a complete round vipd owns exactly what it remembers. */
	assert_int_equal(lb_keyset_add_table(&owned, &kernel), 0);
	lb_keyset_sort(&owned);
	for (uint32_t slot = 0; slot < 16; slot++) {
		if (rnd(3) != 0)
			continue;
		random_svc(&part, slot);
	}
	assert_int_equal(lb_keyset_add_table(&targets, &part), 0);
	for (uint32_t slot = 0; slot < 16; slot++) {
		char a[32];
		struct lb_key k;

		snprintf(a, sizeof(a), "11.0.0.%u", 1 + slot / 2);
		k = fixture_key(a, slot % 2 ? 443 : 80);
		if (rnd(4) == 0)
			assert_int_equal(lb_keyset_add(&targets, &k), 0);
	}
	assert_int_equal(dataplane_patch_keys(&part, &targets, &keys), 0);

	/* The whole round: the kernel as remembered to the spliced table. */
	assert_int_equal(lb_table_copy(&after, &kernel), 0);
	assert_int_equal(desired_table_splice(&after, &keys, &part), 0);
	assert_int_equal(lb_table_copy(&kcopy, &kernel), 0);
	assert_int_equal(dataplane_owned_union(&owned, &after, &whole_owned), 0);
	assert_int_equal(reconcile_plan(&kcopy, &after, &whole_owned, &whole, err, sizeof(err)), 0);
	lb_keyset_free(&whole_owned);
	lb_keyset_init(&whole_owned);
	assert_int_equal(dataplane_owned_union(&owned, &part, &patch_owned), 0);
	assert_int_equal(dataplane_patch_plan_keys(&kernel, &part, &keys, &patch_owned, &patch, err,
	                                           sizeof(err)),
	                 0);
	assert_string_equal(plan_text(&patch, pp, sizeof(pp)), plan_text(&whole, wp, sizeof(wp)));
	seen_adds += strstr(pp, "add service") != NULL;
	seen_dels += strstr(pp, "del service") != NULL;

	/* Every delete went through: the owned sets after agree. */
	for (size_t i = 0; i < whole.n; i++)
		if (whole.ops[i].kind == RC_DEL_SERVICE)
			assert_int_equal(lb_keyset_add(&deleted, &whole.ops[i].svc), 0);
	lb_keyset_sort(&deleted);
	assert_int_equal(dataplane_owned_after(&owned, &after, &kernel, &deleted, &whole_owned), 0);
	lb_keyset_free(&patch_owned);
	lb_keyset_init(&patch_owned);
	assert_int_equal(
	    dataplane_owned_after_patch(&owned, &keys, &part, &kernel, &deleted, &patch_owned), 0);
	assert_string_equal(fixture_keys_text(&patch_owned, pp, sizeof(pp)),
	                    fixture_keys_text(&whole_owned, wp, sizeof(wp)));

	/* Routes: the patch adds and removes those the whole round would. */
	assert_int_equal(dataplane_table_addrs(&kernel, &ka, &nka), 0);
	assert_int_equal(dataplane_table_addrs(&after, &aa, &naa), 0);
	assert_int_equal(dataplane_patch_addrs(&kernel, &keys, &part, &pb, &npb, &pw, &npw), 0);
	assert_string_equal(addrs_minus(pw, npw, pb, npb, p1, sizeof(p1)),
	                    addrs_minus(aa, naa, ka, nka, w1, sizeof(w1)));
	seen_routed += p1[0] != '\0';
	assert_string_equal(addrs_minus(pb, npb, pw, npw, p1, sizeof(p1)),
	                    addrs_minus(ka, nka, aa, naa, w1, sizeof(w1)));
	seen_unrouted += p1[0] != '\0';
	free(ka);
	free(aa);
	free(pb);
	free(pw);
	rc_plan_free(&whole);
	rc_plan_free(&patch);
	lb_table_free(&kernel);
	lb_table_free(&part);
	lb_table_free(&after);
	lb_table_free(&kcopy);
	lb_keyset_free(&targets);
	lb_keyset_free(&keys);
	lb_keyset_free(&owned);
	lb_keyset_free(&deleted);
	lb_keyset_free(&whole_owned);
	lb_keyset_free(&patch_owned);
}

static void test_patch_agrees_with_whole_round(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 500; seed++) {
		rng_state = seed;
		check_one_world();
	}
	assert_true(seen_adds > 0 && seen_dels > 0 && seen_routed > 0 && seen_unrouted > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_addrs_new_vip_routed, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_addrs_last_service_unrouted, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_owned_after_patch, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_plan_adds_and_deletes, fixture_setup,
	                                    fixture_teardown),
	    cmocka_unit_test(test_patch_agrees_with_whole_round),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
