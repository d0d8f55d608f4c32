/* Lines of /proc/net/ip_vs_conn as the kernel writes them (the IPv4 ones
 * copied from the e2e kstats VM run), parsed into the service and the
 * destination whose SYN_RECV connections the API counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "vipd/api.h"

static void assert_conn(const struct api_ipvsconn *c, const char *svc, const char *dest,
                        uint8_t proto, const char *st)
{
	char buf[64];

	assert_string_equal(lb_addr_port_format(&c->svc.addr, c->svc.port, buf, sizeof(buf)), svc);
	assert_string_equal(lb_addr_port_format(&c->dest, c->dport, buf, sizeof(buf)), dest);
	assert_int_equal(c->svc.protocol, proto);
	assert_string_equal(c->state, st);
}

static void test_ipv4_lines(void **state)
{
	struct api_ipvsconn c;

	(void)state;
	assert_int_equal(api_ipvsconn_parse("TCP 0AC80014 A6D4 0AC80014 0050 0A3D0302 1F90 "
	                                    "SYN_RECV         54",
	                                    &c),
	                 0);
	assert_conn(&c, "10.200.0.20:80", "10.61.3.2:8080", IPPROTO_TCP, "SYN_RECV");
	assert_int_equal(api_ipvsconn_parse("UDP 0A000001 9C40 0AC8000A 0035 0A3D0102 0035 "
	                                    "UDP             298",
	                                    &c),
	                 0);
	assert_conn(&c, "10.200.0.10:53", "10.61.1.2:53", IPPROTO_UDP, "UDP");
}

static void test_ipv6_line(void **state)
{
	struct api_ipvsconn c;

	(void)state;
	assert_int_equal(api_ipvsconn_parse("TCP fd00:0000:0000:0000:0000:0000:0000:0001 C350 "
	                                    "fd00:0000:0000:0000:0000:0000:0000:000a 0050 "
	                                    "fd61:0000:0000:0001:0000:0000:0000:0002 1F90 "
	                                    "ESTABLISHED     899",
	                                    &c),
	                 0);
	assert_conn(&c, "[fd00::a]:80", "[fd61:0:0:1::2]:8080", IPPROTO_TCP, "ESTABLISHED");
}

/* The heading, SCTP (no VIP of vipd's), and damaged lines are skipped. */
static void test_not_connections(void **state)
{
	struct api_ipvsconn c;

	(void)state;
	assert_int_equal(api_ipvsconn_parse("Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State   "
	                                    "    Expires PEName PEData",
	                                    &c),
	                 -1);
	assert_int_equal(api_ipvsconn_parse("SCTP 0A000001 9C40 0AC8000A 0050 0A3D0102 1F90 "
	                                    "ESTABLISHED 10",
	                                    &c),
	                 -1);
	assert_int_equal(
	    api_ipvsconn_parse("TCP 0AC80014 A6D4 0AC80014 0050 0A3D03 1F90 SYN_RECV 54", &c), -1);
	assert_int_equal(
	    api_ipvsconn_parse("TCP 0AC80014 A6D4 0AC8001G 0050 0A3D0302 1F90 SYN_RECV 5", &c), -1);
	assert_int_equal(api_ipvsconn_parse("TCP 0AC80014 A6D4 0AC80014 0050", &c), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4_lines),
	    cmocka_unit_test(test_ipv6_line),
	    cmocka_unit_test(test_not_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
