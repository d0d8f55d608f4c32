/* libFuzzer target: any bytes given to the DNS responder as a query, over
 * UDP or TCP, give a response within the transport's limit or nothing, never
 * a crash, overrun or UB; and what it sends is a response (QR set), which it
 * would itself never answer. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_records records;
static uint8_t out[DNS_MSG_MAX], again[DNS_MSG_MAX];

static void setup(void)
{
	static const char *const zones[] = {"l4lb.thisdcos.directory", "dclb.thisdcos.global"};
	struct lb_addr a;

	dns_records_init(&records, DNS_TTL_DEFAULT);
	for (size_t i = 0; i < 2; i++)
		if (dns_records_add_zone(&records, zones[i]) < 0)
			abort();
	for (int i = 0; i < 80; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "11.0.%d.%d", i / 10, i);
		if (lb_addr_parse(ip, &a) < 0 ||
		    dns_records_add_addr(&records,
		                         i % 2 ? "big.marathon.l4lb.thisdcos.directory"
		                               : "web.marathon.l4lb.thisdcos.directory",
		                         &a) < 0)
			abort();
	}
	if (lb_addr_parse("fd01:c::1", &a) < 0 ||
	    dns_records_add_addr(&records, "web.marathon.l4lb.thisdcos.directory", &a) < 0 ||
	    dns_records_add_srv(&records, "_http._tcp.web.marathon.l4lb.thisdcos.directory",
	                        "web.marathon.l4lb.thisdcos.directory", 80) < 0)
		abort();
	if (dns_records_finish(&records) < 0)
		abort();
}

static void one(const uint8_t *data, size_t size, bool tcp)
{
	size_t n = dns_answer(&records, data, size, tcp, out);

	if (n == 0)
		return;
	if (n < 12 || n > (tcp ? DNS_MSG_MAX : DNS_UDP_EDNS_MAX))
		__builtin_trap();
	if (!(out[2] & 0x80) || out[0] != data[0] || out[1] != data[1])
		__builtin_trap();
	if (dns_answer(&records, out, n, tcp, again) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t *copy;

	if (!ready) {
		setup();
		ready = 1;
	}
	/* An exact-size heap copy, so that ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	one(copy, size, false);
	one(copy, size, true);
	free(copy);
	return 0;
}
