/*
 * A JSON value described for "expected ..., got ..." messages (see
 * include/vipd/json_describe.h).
 */
#include "vipd/json_describe.h"

#include <stdio.h>
#include <string.h>

/* Strings are quoted and cut so one bad value cannot flood the output. */
const char *json_describe(const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = strlen(s);

		if (n > 40)
			snprintf(buf, len, "\"%.40s...\"", s);
		else
			snprintf(buf, len, "\"%s\"", s);
		break;
	}
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		break;
	case JSON_NULL:
		snprintf(buf, len, "null");
		break;
	case JSON_OBJECT:
		snprintf(buf, len, "an object");
		break;
	case JSON_ARRAY:
		snprintf(buf, len, "an array");
		break;
	}
	return buf;
}
