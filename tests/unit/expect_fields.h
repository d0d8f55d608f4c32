/* Expectations written as data: "key=value key=value", each key a field of
 * whatever the test inspects (a health transition, an API backend), read
 * through the test's own function. Shared by test_health.c and test_api.c. */
#ifndef VIPD_TESTS_EXPECT_FIELDS_H
#define VIPD_TESTS_EXPECT_FIELDS_H

#include <stddef.h>

/* Field `key` of ctx as text (buf, of len bytes, is there for numbers);
 * an unknown key fails the test. */
typedef const char *(*field_of_fn)(void *ctx, const char *key, char *buf, size_t len);

/* Each "key=value" of want (space-separated) holds; a failure names
 * `what`, the field, its value and the one expected. */
void expect_fields(const char *what, const char *want, field_of_fn field_of, void *ctx);

#endif
