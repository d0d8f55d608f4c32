/* Recorded named-VIP assignments: an existing name never moves when names
 * are added (thousands of random names in a small range), a freed address
 * is not given to a newcomer during its quarantine, a name back within its
 * quarantine gets its address again, and a recorded address outside a
 * changed range is the only move, reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "vipd/vip.h"

static void small_ranges(struct vip_ranges *r, const char *v4)
{
	char err[128];

	vip_ranges_default(r);
	assert_int_equal(vip_range_parse(v4, AF_INET, &r->v4, err, sizeof(err)), 0);
}

static void addr_text(const struct vip_alloc *va, const char *name, char *buf, size_t len)
{
	struct lb_addr a;

	assert_int_equal(vip_name_address(va, name, &a), 0);
	lb_addr_format(&a, buf, len);
}

/* One round as the daemon runs it: allocate over names with the records,
 * then record the result. */
static void round_(const char *const *names, size_t n, const struct vip_ranges *r,
                   struct vip_records *rec, int64_t now, int64_t q, struct vip_alloc *va,
                   size_t *nmoves)
{
	struct vip_assign_in in = {.ranges = r, .recorded = rec, .now_s = now, .quarantine_s = q};
	struct vip_records next;
	struct vip_move *moves;
	size_t nm;
	char err[128];

	assert_int_equal(vip_alloc_assign(va, names, n, &in, err, sizeof(err)), 0);
	assert_int_equal(vip_records_next(rec, va, now, q, &next, &moves, &nm), 0);
	if (nmoves != NULL)
		*nmoves = nm;
	free(moves);
	vip_records_free(rec);
	*rec = next;
}

/* The defect of issue 9 item 5: B's home is A's address; before records,
 * B sorted first and took it, moving A. */
static void test_collision_does_not_move(void **state)
{
	struct vip_ranges r;
	struct vip_records rec = {0};
	struct vip_alloc va;
	char a1[64], a2[64], b[64], name[32];
	const char *names[2] = {"/a", NULL};

	(void)state;
	small_ranges(&r, "10.9.0.0-10.9.0.7");
	round_(names, 1, &r, &rec, 1000, 50, &va, NULL);
	addr_text(&va, "/a", a1, sizeof(a1));
	vip_alloc_free(&va);
	/* a name with A's home that sorts before it by (home, name) */
	for (int i = 0;; i++) {
		snprintf(name, sizeof(name), "/%d", i);
		if (vip_name_home_in(&r.v4, name) == vip_name_home_in(&r.v4, "/a") &&
		    strcmp(name, "/a") < 0)
			break;
	}
	names[1] = name;
	assert_int_equal(vip_alloc_build_in(&va, names, 2, &r, b, sizeof(b)), 0);
	addr_text(&va, name, b, sizeof(b));
	assert_string_equal(b, a1); /* without records the newcomer takes A's */
	vip_alloc_free(&va);
	round_(names, 2, &r, &rec, 1001, 50, &va, NULL);
	addr_text(&va, "/a", a2, sizeof(a2));
	addr_text(&va, name, b, sizeof(b));
	assert_string_equal(a2, a1);
	assert_string_not_equal(b, a1);
	vip_alloc_free(&va);
	vip_records_free(&rec);
}

/* Thousands of random names added in batches to a range that ends nearly
 * full: no name ever changes address, and all addresses differ. */
static void test_adding_never_moves(void **state)
{
	enum { N = 3000 };
	static char names[N][24];
	const char *ptrs[N];
	struct vip_ranges r;
	struct vip_records rec = {0};
	unsigned seed = 12345;
	size_t have = 0;

	(void)state;
	small_ranges(&r, "10.8.0.0-10.8.11.255"); /* 3072 addresses */
	for (size_t i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(names[i], sizeof(names[i]), "/app-%u-%zu", seed >> 8, i);
		ptrs[i] = names[i];
	}
	while (have < N) {
		size_t add = 1 + (have * 7 + 13) % 400;
		struct vip_alloc va;
		size_t nmoves = 0;

		have = have + add > N ? N : have + add;
		round_(ptrs, have, &r, &rec, 1000, 50, &va, &nmoves);
		assert_int_equal(nmoves, 0);
		assert_int_equal(rec.n, have);
		for (size_t i = 0; i + 1 < va.n; i++)
			for (size_t k = i + 1; k < va.n && k < i + 4; k++)
				assert_true(lb_addr_cmp(&va.items[i].addr, &va.items[k].addr) != 0);
		vip_alloc_free(&va);
	}
	/* every address distinct: the records are a bijection */
	for (size_t i = 0; i < rec.n; i++)
		for (size_t k = i + 1; k < rec.n; k++)
			assert_true(lb_addr_cmp(&rec.items[i].addr, &rec.items[k].addr) != 0);
	vip_records_free(&rec);
}

/* /gone's address is not given to a newcomer hashing to it until the
 * quarantine is over; /gone back in time gets it again. */
static void test_quarantine(void **state)
{
	struct vip_ranges r;
	struct vip_records rec = {0}, saved;
	struct vip_alloc va;
	char gone[64], got[64], name[32];
	const char *one[1] = {"/gone"}, *two[2] = {NULL, NULL};
	const struct vip_record *fr;

	(void)state;
	small_ranges(&r, "10.9.0.0-10.9.0.7");
	round_(one, 1, &r, &rec, 1000, 50, &va, NULL);
	addr_text(&va, "/gone", gone, sizeof(gone));
	vip_alloc_free(&va);
	for (int i = 0;; i++) {
		snprintf(name, sizeof(name), "/n%d", i);
		if (vip_name_home_in(&r.v4, name) == vip_name_home_in(&r.v4, "/gone"))
			break;
	}
	two[0] = name;
	round_(two, 1, &r, &rec, 1010, 50, &va, NULL); /* /gone went at 1010 */
	addr_text(&va, name, got, sizeof(got));
	assert_string_not_equal(got, gone);
	vip_alloc_free(&va);
	fr = vip_records_find(&rec, "/gone");
	assert_non_null(fr);
	assert_int_equal(fr->freed_at, 1010);
	/* still reserved at 1059; /gone comes back and gets it */
	saved = (struct vip_records){0};
	for (size_t i = 0; i < rec.n; i++)
		assert_int_equal(vip_records_put(&saved, &rec.items[i]), 0);
	two[1] = "/gone";
	round_(two, 2, &r, &saved, 1059, 50, &va, NULL);
	addr_text(&va, "/gone", got, sizeof(got));
	assert_string_equal(got, gone);
	vip_alloc_free(&va);
	vip_records_free(&saved);
	/* at 1060 the quarantine is over: the record is dropped */
	round_(two, 1, &r, &rec, 1060, 50, &va, NULL);
	vip_alloc_free(&va);
	assert_null(vip_records_find(&rec, "/gone"));
	vip_records_free(&rec);
}

/* Random churn over 40 rounds, one second apart, in 256 addresses: names
 * come and go; a name present in two consecutive rounds never moves, and no
 * address freed less than the quarantine (10 s) ago is given to another
 * name while unquarantined addresses remain (at most 120 names in use and
 * at most 10 x 30 freed: always). */
static void test_churn_quarantine(void **state)
{
	enum { POOL = 400, ROUNDS = 40, Q = 10 };
	static char names[POOL][16];
	static bool in_use[POOL];
	static struct lb_addr held[POOL], freed_addr[POOL];
	static int64_t freed_when[POOL];
	const char *ptrs[POOL];
	struct vip_ranges r;
	struct vip_records rec = {0};
	unsigned seed = 99;

	(void)state;
	small_ranges(&r, "10.7.0.0-10.7.0.255");
	for (size_t i = 0; i < POOL; i++)
		snprintf(names[i], sizeof(names[i]), "/c%zu", i);
	for (int64_t t = 1000; t < 1000 + ROUNDS; t++) {
		struct vip_alloc va;
		size_t n = 0, used = 0;

		for (size_t i = 0; i < POOL; i++) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 10 == 0 && (in_use[i] || used < 90))
				in_use[i] = !in_use[i];
			if (in_use[i])
				used++;
		}
		for (size_t i = 0; i < POOL; i++)
			if (in_use[i])
				ptrs[n++] = names[i];
		round_(ptrs, n, &r, &rec, t, Q, &va, NULL);
		for (size_t i = 0; i < POOL; i++) {
			struct lb_addr a;

			if (!in_use[i]) {
				if (held[i].af != 0) {
					freed_addr[i] = held[i];
					freed_when[i] = t;
					held[i].af = 0;
				}
				continue;
			}
			assert_int_equal(vip_name_address(&va, names[i], &a), 0);
			if (held[i].af != 0)
				assert_int_equal(lb_addr_cmp(&a, &held[i]), 0);
			for (size_t k = 0; k < POOL && held[i].af == 0; k++)
				if (k != i && freed_addr[k].af != 0 && freed_when[k] + Q > t)
					assert_true(lb_addr_cmp(&a, &freed_addr[k]) != 0);
			held[i] = a;
		}
		vip_alloc_free(&va);
	}
	vip_records_free(&rec);
}

/* A range with every free address in quarantine: a newcomer takes a
 * quarantined one rather than failing. */
static void test_quarantine_full_range(void **state)
{
	struct vip_ranges r;
	struct vip_records rec = {0};
	struct vip_alloc va;
	const char *first[2] = {"/x", "/y"}, *then[2] = {"/x", "/z"};
	char x[64], z[64], y[64];

	(void)state;
	small_ranges(&r, "10.9.0.0-10.9.0.1");
	round_(first, 2, &r, &rec, 1000, 50, &va, NULL);
	addr_text(&va, "/x", x, sizeof(x));
	addr_text(&va, "/y", y, sizeof(y));
	vip_alloc_free(&va);
	round_(then, 2, &r, &rec, 1001, 50, &va, NULL);
	addr_text(&va, "/x", z, sizeof(z));
	assert_string_equal(z, x);
	addr_text(&va, "/z", z, sizeof(z));
	assert_string_equal(z, y);
	vip_alloc_free(&va);
	vip_records_free(&rec);
}

/* The range changed: a recorded address outside it moves, and is the only
 * move reported; a name inside stays. */
static void test_move_out_of_range(void **state)
{
	struct vip_ranges r;
	struct vip_records rec = {0};
	struct vip_record in = {.name = "/in"}, out = {.name = "/out"};
	struct vip_alloc va;
	struct vip_assign_in ai = {.ranges = &r, .recorded = &rec, .now_s = 5, .quarantine_s = 50};
	const char *names[2] = {"/in", "/out"};
	struct vip_records next;
	struct vip_move *moves;
	size_t nm;
	char err[128], buf[64];

	(void)state;
	small_ranges(&r, "10.9.0.0-10.9.0.7");
	assert_int_equal(lb_addr_parse("10.9.0.6", &in.addr), 0);
	assert_int_equal(lb_addr_parse("10.7.0.1", &out.addr), 0);
	assert_int_equal(vip_records_put(&rec, &out), 0);
	assert_int_equal(vip_records_put(&rec, &in), 0);
	assert_int_equal(vip_alloc_assign(&va, names, 2, &ai, err, sizeof(err)), 0);
	addr_text(&va, "/in", buf, sizeof(buf));
	assert_string_equal(buf, "10.9.0.6");
	assert_int_equal(vip_records_next(&rec, &va, 5, 50, &next, &moves, &nm), 0);
	assert_int_equal(nm, 1);
	assert_string_equal(moves[0].name, "/out");
	assert_string_equal(lb_addr_format(&moves[0].from, buf, sizeof(buf)), "10.7.0.1");
	assert_true(vip_range_contains(&r.v4, &moves[0].to));
	/* the IPv6 address was not recorded: getting one is not a move */
	free(moves);
	vip_records_free(&next);
	vip_alloc_free(&va);
	vip_records_free(&rec);
}

/* Two names recorded with one address (two nodes, one instant): the name
 * sorting first keeps it on every node, whether or not it is used there;
 * the other moves, reported. */
static void test_shared_record_first_name_wins(void **state)
{
	struct vip_ranges r;
	struct vip_records rec = {0}, next;
	struct vip_record x = {.name = "/n1"}, y = {.name = "/n25"};
	struct vip_assign_in ai = {.ranges = &r, .recorded = &rec, .now_s = 5, .quarantine_s = 50};
	const char *on_a[1] = {"/n1"}, *on_b[1] = {"/n25"};
	struct vip_alloc va;
	struct vip_move *moves;
	size_t nm;
	char err[128], buf[64];

	(void)state;
	small_ranges(&r, "10.9.0.0-10.9.0.7");
	assert_int_equal(lb_addr_parse("10.9.0.3", &x.addr), 0);
	y.addr = x.addr;
	assert_int_equal(vip_records_put(&rec, &y), 0);
	assert_int_equal(vip_records_put(&rec, &x), 0);
	assert_int_equal(vip_alloc_assign(&va, on_a, 1, &ai, err, sizeof(err)), 0);
	addr_text(&va, "/n1", buf, sizeof(buf));
	assert_string_equal(buf, "10.9.0.3");
	vip_alloc_free(&va);
	assert_int_equal(vip_alloc_assign(&va, on_b, 1, &ai, err, sizeof(err)), 0);
	addr_text(&va, "/n25", buf, sizeof(buf));
	assert_string_not_equal(buf, "10.9.0.3");
	assert_int_equal(vip_records_next(&rec, &va, 5, 50, &next, &moves, &nm), 0);
	assert_int_equal(nm, 1);
	assert_string_equal(moves[0].name, "/n25");
	free(moves);
	vip_records_free(&next);
	vip_alloc_free(&va);
	vip_records_free(&rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_collision_does_not_move),
	    cmocka_unit_test(test_adding_never_moves),
	    cmocka_unit_test(test_quarantine),
	    cmocka_unit_test(test_churn_quarantine),
	    cmocka_unit_test(test_quarantine_full_range),
	    cmocka_unit_test(test_move_out_of_range),
	    cmocka_unit_test(test_shared_record_first_name_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
