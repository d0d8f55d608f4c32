/*
 * Which VIP names the daemon answers around a reconcile round
 * (engine_dns_answerable): a name only while its service is in the kernel.
 * Services are written "TCP 11.0.0.1:80" as the audit log prints them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "engine.h"

static struct lb_key key(const char *ip, uint16_t port)
{
	struct lb_key k = {.port = port, .protocol = IPPROTO_TCP};

	assert_int_equal(lb_addr_parse(ip, &k.addr), 0);
	return k;
}

/* ks <- the given "ip:port" keys (TCP), sorted; a NULL-terminated list. */
static void keys(struct lb_keyset *ks, ...)
{
	va_list ap;
	const char *ip;

	lb_keyset_init(ks);
	va_start(ap, ks);
	while ((ip = va_arg(ap, const char *)) != NULL) {
		struct lb_key k = key(ip, (uint16_t)va_arg(ap, int));

		assert_int_equal(lb_keyset_add(ks, &k), 0);
	}
	va_end(ap);
	lb_keyset_sort(ks);
}

/* The set as the audit log writes services, space separated. */
static const char *fmt(const struct lb_keyset *ks, char *buf, size_t len)
{
	size_t off = 0;
	char one[128];

	buf[0] = '\0';
	for (size_t i = 0; i < ks->n; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "",
		                        lb_key_format(&ks->keys[i], one, sizeof(one)));
	return buf;
}

static void expect(enum engine_dns_phase phase, const struct lb_keyset *served,
                   const struct lb_keyset *planned, const struct lb_keyset *added, const char *want)
{
	struct lb_keyset out;
	char buf[1024];

	lb_keyset_init(&out);
	assert_int_equal(engine_dns_answerable(phase, served, planned, added, &out), 0);
	assert_string_equal(fmt(&out, buf, sizeof(buf)), want);
	lb_keyset_free(&out);
}

/* Before the kernel is touched, a new VIP gets no name yet and a leaving
 * one loses its name while its service still takes connections. */
static void test_before_apply_only_drops(void **state)
{
	struct lb_keyset served, planned;

	(void)state;
	keys(&served, "11.0.0.1", 80, "11.0.0.2", 80, NULL);
	keys(&planned, "11.0.0.2", 80, "11.0.0.3", 80, NULL);
	expect(ENGINE_DNS_BEFORE_APPLY, &served, &planned, NULL, "TCP 11.0.0.2:80");
	lb_keyset_free(&served);
	lb_keyset_free(&planned);
}

/* A complete round: the kernel holds every planned service, each is named. */
static void test_after_complete_round_names_every_planned(void **state)
{
	struct lb_keyset served, planned, added;

	(void)state;
	keys(&served, "11.0.0.2", 80, NULL);
	keys(&planned, "11.0.0.2", 80, "11.0.0.3", 80, "11.0.0.4", 53, NULL);
	keys(&added, NULL);
	expect(ENGINE_DNS_AFTER_COMPLETE, &served, &planned, &added,
	       "TCP 11.0.0.2:80 TCP 11.0.0.3:80 TCP 11.0.0.4:53");
	lb_keyset_free(&served);
	lb_keyset_free(&planned);
	lb_keyset_free(&added);
}

/* An incomplete round: a planned service whose add failed stays nameless
 * (DC/OS named it, and clients reached whatever listened there); one the
 * kernel accepted is named; one served before and still planned keeps its
 * name. */
static void test_after_incomplete_round_names_only_what_the_kernel_has(void **state)
{
	struct lb_keyset served, planned, added;

	(void)state;
	keys(&served, "11.0.0.1", 80, "11.0.0.2", 80, NULL);
	keys(&planned, "11.0.0.2", 80, "11.0.0.3", 80, "11.0.0.4", 80, NULL);
	keys(&added, "11.0.0.4", 80, NULL);
	expect(ENGINE_DNS_AFTER_INCOMPLETE, &served, &planned, &added,
	       "TCP 11.0.0.2:80 TCP 11.0.0.4:80");
	lb_keyset_free(&served);
	lb_keyset_free(&planned);
	lb_keyset_free(&added);
}

/* An edit of a served service counts as added too: named once, not twice;
 * an add of a service the round no longer plans gives it no name. */
static void test_after_incomplete_round_no_duplicates_nor_unplanned(void **state)
{
	struct lb_keyset served, planned, added;

	(void)state;
	keys(&served, "11.0.0.2", 80, NULL);
	keys(&planned, "11.0.0.2", 80, NULL);
	keys(&added, "11.0.0.2", 80, "11.0.0.9", 80, NULL);
	expect(ENGINE_DNS_AFTER_INCOMPLETE, &served, &planned, &added, "TCP 11.0.0.2:80");
	lb_keyset_free(&served);
	lb_keyset_free(&planned);
	lb_keyset_free(&added);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_before_apply_only_drops),
	    cmocka_unit_test(test_after_complete_round_names_every_planned),
	    cmocka_unit_test(test_after_incomplete_round_names_only_what_the_kernel_has),
	    cmocka_unit_test(test_after_incomplete_round_no_duplicates_nor_unplanned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
