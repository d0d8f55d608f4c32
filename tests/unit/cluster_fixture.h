/* A cluster backend record built from text, as test_cluster.c and
 * test_cluster_publish.c write them: app /web, weight 1. */
#ifndef VIPD_TESTS_CLUSTER_FIXTURE_H
#define VIPD_TESTS_CLUSTER_FIXTURE_H

#include <stdint.h>

#include "vipd/cluster.h"

struct cluster_backend cluster_fixture_backend(const char *node, const char *vip, uint8_t proto,
                                               const char *addr, uint16_t port,
                                               enum cluster_health health, const char *task);

#endif
