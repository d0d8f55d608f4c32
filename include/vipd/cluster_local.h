/*
 * What a node publishes of its own backends (issue 9 item 2): the weight it
 * programs itself, so that every node gives a backend the same weight. Pure.
 */
#ifndef VIPD_CLUSTER_LOCAL_H
#define VIPD_CLUSTER_LOCAL_H

#include <stdint.h>

#include "vipd/cluster.h"
#include "vipd/desired.h"

/* b's weight in st, the desired state of this node's last build (a
 * slow-start step included; named VIPs' addresses from va): what this
 * node's own table gives it while it is in rotation. b->weight (the
 * labels') when st has it out of rotation or not at all. */
uint32_t cluster_local_weight(const struct cluster_backend *b, const struct desired_state *st,
                              const struct vip_alloc *va);

#endif
