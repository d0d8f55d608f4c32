/* What the data plane's set tests (test_dataplane_owned.c,
 * test_dataplane_patch.c) build their cases from: TCP keys and services by
 * address text, a key set as text, and the tables and sets of one case,
 * empty at its start and freed at its end (cmocka's setup and teardown). */
#ifndef VIPD_TESTS_LB_FIXTURE_H
#define VIPD_TESTS_LB_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "vipd/lbtable.h"

struct lb_key fixture_key(const char *addr, uint16_t port);
/* A TCP service with no destination; it is returned. */
struct lb_service *fixture_add_svc(struct lb_table *t, const char *addr, uint16_t port);
void fixture_add_key(struct lb_keyset *ks, const char *addr, uint16_t port);
/* The set as text, "TCP 11.0.0.1:80,TCP 11.0.0.2:80", in its order. */
const char *fixture_keys_text(const struct lb_keyset *ks, char *buf, size_t len);

/* One case's tables and sets: the remembered (kernel) or desired and
 * observed tables, the patch's part, the owned set (before the round), the
 * targets, the patched keys, the deleted services and the result. */
struct lb_fixture {
	struct lb_table kernel, part, desired, observed;
	struct lb_keyset owned, targets, keys, deleted, out;
};

/* cmocka setup and teardown: *state is a struct lb_fixture. */
int fixture_setup(void **state);
int fixture_teardown(void **state);

#endif
