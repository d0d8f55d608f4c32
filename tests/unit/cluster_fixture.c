/* Cluster backend records for the cluster tests (cluster_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cluster_fixture.h"

struct cluster_backend cluster_fixture_backend(const char *node, const char *vip, uint8_t proto,
                                               const char *addr, uint16_t port,
                                               enum cluster_health health, const char *task)
{
	struct cluster_backend b;
	char err[256];

	memset(&b, 0, sizeof(b));
	snprintf(b.node, sizeof(b.node), "%s", node);
	assert_int_equal(vip_parse(vip, &b.vip, err, sizeof(err)), 0);
	b.protocol = proto;
	assert_int_equal(lb_addr_parse(addr, &b.addr), 0);
	b.port = port;
	b.weight = 1;
	b.health = health;
	snprintf(b.app, sizeof(b.app), "/web");
	snprintf(b.task, sizeof(b.task), "%s", task);
	return b;
}
