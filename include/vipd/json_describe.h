/*
 * One way to name a JSON value in a located error: a string quoted and cut
 * at 40 bytes ("abc..."), a number or literal as written, "an object",
 * "an array". Used by the app parser and the Marathon event decoder.
 */
#ifndef VIPD_JSON_DESCRIBE_H
#define VIPD_JSON_DESCRIBE_H

#include <jansson.h>
#include <stddef.h>

/* Writes the description into buf (cut to len) and returns buf. */
const char *json_describe(const json_t *v, char *buf, size_t len);

#endif
