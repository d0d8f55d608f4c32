/* Expectations written as "key=value" data (expect_fields.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "expect_fields.h"

void expect_fields(const char *what, const char *want, field_of_fn field_of, void *ctx)
{
	char spec[256], buf[64];
	char *save = NULL;

	snprintf(spec, sizeof(spec), "%s", want);
	for (char *kv = strtok_r(spec, " ", &save); kv != NULL; kv = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(kv, '=');
		const char *got;

		assert_non_null(eq);
		*eq = '\0';
		got = field_of(ctx, kv, buf, sizeof(buf));
		if (strcmp(got, eq + 1) != 0)
			fail_msg("%s: %s is %s, expected %s", what, kv, got, eq + 1);
	}
}
