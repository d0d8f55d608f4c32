/* The reconciler: minimal, ordered operations; only owned services touched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "vipd/reconcile.h"

static struct lb_key key(const char *addr, uint16_t port, uint8_t proto)
{
	struct lb_key k = {.port = port, .protocol = proto};

	assert_int_equal(lb_addr_parse(addr, &k.addr), 0);
	return k;
}

static struct lb_service *svc(struct lb_table *t, const char *addr, uint16_t port)
{
	struct lb_key k = key(addr, port, IPPROTO_TCP);
	struct lb_service *s = lb_table_add_service(t, &k);

	assert_non_null(s);
	return s;
}

static void dest(struct lb_service *s, const char *addr, uint16_t port, uint32_t weight)
{
	struct lb_dest d = {.port = port, .weight = weight, .fwd = s->fwd};

	assert_int_equal(lb_addr_parse(addr, &d.addr), 0);
	assert_int_equal(lb_service_add_dest(s, &d), 0);
}

struct fixture {
	struct lb_table obs, want;
	struct lb_keyset owned;
	struct rc_plan plan;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	lb_table_init(&f->obs);
	lb_table_init(&f->want);
	lb_keyset_init(&f->owned);
	rc_plan_init(&f->plan);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	lb_table_free(&f->obs);
	lb_table_free(&f->want);
	lb_keyset_free(&f->owned);
	rc_plan_free(&f->plan);
	free(f);
	return 0;
}

static void plan(struct fixture *f)
{
	char err[128];

	lb_keyset_add_table(&f->owned, &f->want);
	lb_keyset_sort(&f->owned);
	assert_int_equal(reconcile_plan(&f->obs, &f->want, &f->owned, &f->plan, err, sizeof(err)),
	                 0);
}

static void assert_op(const struct fixture *f, size_t i, const char *text)
{
	char buf[256];

	assert_true(i < f->plan.n);
	assert_string_equal(rc_op_format(&f->plan.ops[i], buf, sizeof(buf)), text);
}

static void test_new_service_before_dests(void **state)
{
	struct fixture *f = *state;
	struct lb_service *s;

	s = svc(&f->want, "11.0.0.2", 80);
	dest(s, "10.1.0.3", 8080, 1);
	s = svc(&f->want, "11.0.0.1", 80);
	dest(s, "10.1.0.2", 8080, 1);
	plan(f);
	assert_int_equal(f->plan.n, 4);
	assert_op(f, 0, "add service TCP 11.0.0.1:80 sched wlc flags 0x0");
	assert_op(f, 1, "add service TCP 11.0.0.2:80 sched wlc flags 0x0");
	assert_op(f, 2, "add dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 1 masq");
	assert_op(f, 3, "add dest TCP 11.0.0.2:80 -> 10.1.0.3:8080 weight 1 masq");
}

static void test_weight_change_is_one_edit(void **state)
{
	struct fixture *f = *state;

	dest(svc(&f->obs, "11.0.0.1", 80), "10.1.0.2", 8080, 1);
	dest(svc(&f->want, "11.0.0.1", 80), "10.1.0.2", 8080, 0);
	plan(f);
	assert_int_equal(f->plan.n, 1);
	assert_int_equal(f->plan.ops[0].kind, RC_EDIT_DEST);
	assert_int_equal(f->plan.ops[0].old_weight, 1);
	assert_op(f, 0, "edit dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 0 masq");
}

static void test_fwd_change_is_one_edit(void **state)
{
	struct fixture *f = *state;
	struct lb_service *s;

	dest(svc(&f->obs, "11.0.0.1", 80), "10.1.0.2", 8080, 1);
	s = svc(&f->want, "11.0.0.1", 80);
	s->fwd = LB_FWD_DROUTE;
	dest(s, "10.1.0.2", 8080, 1);
	plan(f);
	assert_int_equal(f->plan.n, 1);
	assert_op(f, 0, "edit dest TCP 11.0.0.1:80 -> 10.1.0.2:8080 weight 1 droute");
}

static void test_adoption_is_zero_ops(void **state)
{
	struct fixture *f = *state;
	struct lb_service *s;

	s = svc(&f->obs, "11.0.0.1", 80);
	s->flags = 0x2; /* IP_VS_SVC_F_HASHED, as every kernel dump reports */
	dest(s, "10.1.0.3", 8080, 2);
	dest(s, "10.1.0.2", 8080, 1);
	s = svc(&f->want, "11.0.0.1", 80);
	dest(s, "10.1.0.2", 8080, 1);
	dest(s, "10.1.0.3", 8080, 2);
	plan(f);
	assert_int_equal(f->plan.n, 0);
}

static void test_sched_change_is_edit_service(void **state)
{
	struct fixture *f = *state;

	svc(&f->obs, "11.0.0.1", 80);
	assert_int_equal(lb_service_set_sched(svc(&f->want, "11.0.0.1", 80), "rr"), 0);
	plan(f);
	assert_int_equal(f->plan.n, 1);
	assert_op(f, 0, "edit service TCP 11.0.0.1:80 sched rr flags 0x0");
}

static void test_foreign_services_untouched(void **state)
{
	struct fixture *f = *state;
	struct lb_key gone = key("11.0.0.9", 80, IPPROTO_TCP);

	dest(svc(&f->obs, "10.96.0.1", 443), "172.17.0.2", 6443, 1); /* kube-proxy's */
	dest(svc(&f->obs, "11.0.0.9", 80), "10.1.0.9", 80, 1);       /* ours, VIP removed */
	lb_keyset_add(&f->owned, &gone);
	plan(f);
	assert_int_equal(f->plan.n, 1);
	assert_op(f, 0, "del service TCP 11.0.0.9:80");
}

static void test_order_dest_dels_before_service_dels(void **state)
{
	struct fixture *f = *state;
	struct lb_key gone = key("11.0.0.1", 80, IPPROTO_TCP);
	struct lb_service *s;

	dest(svc(&f->obs, "11.0.0.1", 80), "10.1.0.1", 80, 1);
	s = svc(&f->obs, "11.0.0.2", 80);
	dest(s, "10.1.0.2", 80, 1);
	dest(s, "10.1.0.3", 80, 1);
	s = svc(&f->want, "11.0.0.2", 80);
	dest(s, "10.1.0.3", 80, 1);
	dest(s, "10.1.0.4", 80, 1);
	lb_keyset_add(&f->owned, &gone);
	plan(f);
	assert_int_equal(f->plan.n, 3);
	assert_op(f, 0, "add dest TCP 11.0.0.2:80 -> 10.1.0.4:80 weight 1 masq");
	assert_op(f, 1, "del dest TCP 11.0.0.2:80 -> 10.1.0.2:80");
	assert_op(f, 2, "del service TCP 11.0.0.1:80");
}

static void fill_big(struct lb_table *t, uint32_t nsvc, uint32_t ndest, bool reverse)
{
	struct lb_key k = key("11.0.0.0", 80, IPPROTO_TCP);
	struct lb_dest d = {.port = 8080, .weight = 1};

	assert_int_equal(lb_addr_parse("10.0.0.0", &d.addr), 0);
	for (uint32_t n = 0; n < nsvc; n++) {
		uint32_t i = reverse ? nsvc - n : n + 1;
		struct lb_service *s;

		k.addr.u.v4.s_addr = htonl(0x0b000000u + i);
		s = lb_table_add_service(t, &k);
		assert_non_null(s);
		for (uint32_t j = 0; j < ndest; j++) {
			uint32_t jj = reverse ? ndest - j : j + 1;

			d.addr.u.v4.s_addr = htonl(0x0a000000u + i * 16 + jj);
			assert_int_equal(lb_service_add_dest(s, &d), 0);
		}
	}
}

static void test_big_table_single_change(void **state)
{
	struct fixture *f = *state;
	struct lb_key k = key("11.0.2.0", 80, IPPROTO_TCP); /* service 512 */
	struct lb_service *s;

	fill_big(&f->obs, 1000, 10, false);
	fill_big(&f->want, 1000, 10, true);
	s = lb_table_find(&f->want, &k);
	assert_non_null(s);
	s->dests[4].weight = 3;
	plan(f);
	assert_int_equal(f->plan.n, 1);
	assert_int_equal(f->plan.ops[0].kind, RC_EDIT_DEST);
	assert_int_equal(f->plan.ops[0].dest.weight, 3);
	assert_int_equal(lb_key_cmp(&f->plan.ops[0].svc, &k), 0);
}

static void test_huge_table_identical(void **state)
{
	struct fixture *f = *state;

	fill_big(&f->obs, 10000, 10, true);
	fill_big(&f->want, 10000, 10, false);
	plan(f);
	assert_int_equal(f->plan.n, 0);
}

static void test_apply_result(void **state)
{
	struct rc_op op = {0};
	struct rc_op add;

	(void)state;
	op.kind = RC_ADD_SERVICE;
	assert_int_equal(reconcile_apply_result(&op, 0), RC_RESULT_DONE);
	assert_int_equal(reconcile_apply_result(&op, -EEXIST), RC_RESULT_DONE);
	assert_int_equal(reconcile_apply_result(&op, EINVAL), RC_RESULT_REPLAN);
	op.kind = RC_ADD_DEST;
	assert_int_equal(reconcile_apply_result(&op, EEXIST), RC_RESULT_DONE);
	assert_int_equal(reconcile_apply_result(&op, ESRCH), RC_RESULT_REPLAN);
	op.kind = RC_DEL_SERVICE;
	assert_int_equal(reconcile_apply_result(&op, ESRCH), RC_RESULT_DONE);
	assert_int_equal(reconcile_apply_result(&op, ENOENT), RC_RESULT_DONE);
	assert_int_equal(reconcile_apply_result(&op, EPERM), RC_RESULT_REPLAN);
	op.kind = RC_DEL_DEST;
	assert_int_equal(reconcile_apply_result(&op, ENOENT), RC_RESULT_DONE);
	assert_int_equal(reconcile_apply_result(&op, ESRCH), RC_RESULT_DONE);
	assert_int_equal(reconcile_apply_result(&op, EEXIST), RC_RESULT_REPLAN);
	op.kind = RC_EDIT_SERVICE;
	assert_int_equal(reconcile_apply_result(&op, ESRCH), RC_RESULT_RETRY_AS_ADD);
	assert_int_equal(reconcile_apply_result(&op, EINVAL), RC_RESULT_REPLAN);
	add = rc_op_as_add(&op);
	assert_int_equal(add.kind, RC_ADD_SERVICE);
	op.kind = RC_EDIT_DEST;
	assert_int_equal(reconcile_apply_result(&op, ENOENT), RC_RESULT_RETRY_AS_ADD);
	assert_int_equal(reconcile_apply_result(&op, ESRCH), RC_RESULT_REPLAN);
	add = rc_op_as_add(&op);
	assert_int_equal(add.kind, RC_ADD_DEST);
}

static int op_phase(enum rc_op_kind k)
{
	switch (k) {
	case RC_ADD_SERVICE:
	case RC_EDIT_SERVICE:
		return 0;
	case RC_ADD_DEST:
		return 1;
	case RC_EDIT_DEST:
		return 2;
	case RC_DEL_DEST:
		return 3;
	case RC_DEL_SERVICE:
		return 4;
	}
	return -1;
}

/* The stepped planner (the kernel read one service at a time) gives the
 * whole-table plan: the same operations in the same phase order, whatever
 * order the kernel hands the services over in. */
static void test_planner_one_service_at_a_time(void **state)
{
	struct fixture *f = *state;
	struct rc_planner pl;
	struct rc_plan stepped;
	struct lb_service *s;
	struct lb_key gone = key("11.0.8.8", 80, IPPROTO_TCP), k;
	char err[128], a[160], b[160];
	size_t matched = 0;

	fill_big(&f->obs, 20, 3, false);
	fill_big(&f->want, 20, 3, true);
	f->want.svcs[3].dests[1].weight = 9;      /* an edit */
	s = lb_table_add_service(&f->obs, &gone); /* a delete */
	assert_non_null(s);
	dest(s, "10.8.8.8", 80, 1);
	k = key("11.0.9.9", 80, IPPROTO_TCP); /* an add */
	s = lb_table_add_service(&f->want, &k);
	assert_non_null(s);
	dest(s, "10.9.9.9", 80, 1);
	lb_keyset_add(&f->owned, &gone);
	plan(f);
	assert_int_equal(f->plan.n, 4);
	/* Reverse key order, as a kernel hash order might give. */
	rc_planner_init(&pl);
	rc_plan_init(&stepped);
	for (size_t i = f->obs.nsvcs; i-- > 0;)
		assert_int_equal(rc_planner_service(&pl, &f->obs.svcs[i],
		                                    lb_table_find(&f->want, &f->obs.svcs[i].key),
		                                    &f->owned),
		                 0);
	assert_int_equal(rc_planner_service(&pl, NULL, lb_table_find(&f->want, &k), &f->owned), 0);
	assert_int_equal(rc_planner_finish(&pl, &stepped, err, sizeof(err)), 0);
	assert_int_equal(stepped.n, f->plan.n);
	for (size_t i = 0; i < stepped.n; i++) {
		if (i > 0)
			assert_true(op_phase(stepped.ops[i - 1].kind) <=
			            op_phase(stepped.ops[i].kind));
		for (size_t j = 0; j < f->plan.n; j++)
			if (strcmp(rc_op_format(&stepped.ops[i], a, sizeof(a)),
			           rc_op_format(&f->plan.ops[j], b, sizeof(b))) == 0)
				matched++;
	}
	assert_int_equal(matched, f->plan.n);
	rc_plan_free(&stepped);
}

/* The read-only plan over sorted tables (the quick round plans the caller's
 * table in place with it): the same plan as reconcile_plan, and a table
 * that is not sorted is refused, not planned wrong. */
static void test_plan_sorted_reads_only(void **state)
{
	struct fixture *f = *state;
	struct rc_plan again;
	char err[128], a[160], b[160];

	fill_big(&f->obs, 50, 4, false);
	fill_big(&f->want, 50, 4, true);
	f->want.svcs[7].dests[2].weight = 4;
	rc_plan_init(&again);
	assert_false(lb_table_is_sorted(&f->want));
	assert_int_equal(
	    reconcile_plan_sorted(&f->obs, &f->want, &f->owned, &again, err, sizeof(err)), -1);
	assert_string_equal(err, "reconcile: a table is not sorted");
	assert_int_equal(again.n, 0);
	plan(f); /* sorts both */
	assert_true(lb_table_is_sorted(&f->want));
	assert_int_equal(
	    reconcile_plan_sorted(&f->obs, &f->want, &f->owned, &again, err, sizeof(err)), 0);
	assert_int_equal(again.n, f->plan.n);
	assert_int_equal(again.n, 1);
	assert_string_equal(rc_op_format(&again.ops[0], a, sizeof(a)),
	                    rc_op_format(&f->plan.ops[0], b, sizeof(b)));
	rc_plan_free(&again);
}

/* Every operation against every errno IPVS answers with, and a few it does
 * not: the one place "already so" is decided, checked in full. */
static void test_apply_result_table(void **state)
{
	static const int errnos[] = {0, EEXIST, ENOENT, ESRCH, EINVAL, EPERM, -EEXIST, -ESRCH};
	static const struct {
		enum rc_op_kind kind;
		enum rc_result want[8];
	} rows[] = {
	    {RC_ADD_SERVICE,
	     {RC_RESULT_DONE, RC_RESULT_DONE, RC_RESULT_REPLAN, RC_RESULT_REPLAN, RC_RESULT_REPLAN,
	      RC_RESULT_REPLAN, RC_RESULT_DONE, RC_RESULT_REPLAN}},
	    {RC_EDIT_SERVICE,
	     {RC_RESULT_DONE, RC_RESULT_REPLAN, RC_RESULT_RETRY_AS_ADD, RC_RESULT_RETRY_AS_ADD,
	      RC_RESULT_REPLAN, RC_RESULT_REPLAN, RC_RESULT_REPLAN, RC_RESULT_RETRY_AS_ADD}},
	    {RC_DEL_SERVICE,
	     {RC_RESULT_DONE, RC_RESULT_REPLAN, RC_RESULT_DONE, RC_RESULT_DONE, RC_RESULT_REPLAN,
	      RC_RESULT_REPLAN, RC_RESULT_REPLAN, RC_RESULT_DONE}},
	    {RC_ADD_DEST,
	     {RC_RESULT_DONE, RC_RESULT_DONE, RC_RESULT_REPLAN, RC_RESULT_REPLAN, RC_RESULT_REPLAN,
	      RC_RESULT_REPLAN, RC_RESULT_DONE, RC_RESULT_REPLAN}},
	    {RC_EDIT_DEST,
	     {RC_RESULT_DONE, RC_RESULT_REPLAN, RC_RESULT_RETRY_AS_ADD, RC_RESULT_REPLAN,
	      RC_RESULT_REPLAN, RC_RESULT_REPLAN, RC_RESULT_REPLAN, RC_RESULT_REPLAN}},
	    {RC_DEL_DEST,
	     {RC_RESULT_DONE, RC_RESULT_REPLAN, RC_RESULT_DONE, RC_RESULT_DONE, RC_RESULT_REPLAN,
	      RC_RESULT_REPLAN, RC_RESULT_REPLAN, RC_RESULT_DONE}},
	};

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct rc_op op = {.kind = rows[r].kind};

		for (size_t e = 0; e < sizeof(errnos) / sizeof(errnos[0]); e++) {
			enum rc_result got = reconcile_apply_result(&op, errnos[e]);

			if (got != rows[r].want[e])
				fail_msg("%s with errno %d: got %d, want %d",
				         rc_op_kind_name(rows[r].kind), errnos[e], got,
				         rows[r].want[e]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_service_before_dests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_weight_change_is_one_edit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fwd_change_is_one_edit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adoption_is_zero_ops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sched_change_is_edit_service, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_services_untouched, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_order_dest_dels_before_service_dels, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_big_table_single_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_huge_table_identical, setup, teardown),
	    cmocka_unit_test(test_apply_result),
	    cmocka_unit_test(test_apply_result_table),
	    cmocka_unit_test_setup_teardown(test_planner_one_service_at_a_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plan_sorted_reads_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
