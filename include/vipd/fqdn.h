/*
 * DC/OS names for named VIPs: <name>.<framework>.<zone>, with the name made a
 * DNS label by DC/OS's rules, in each of the zones served.
 */
#ifndef VIPD_FQDN_H
#define VIPD_FQDN_H

#include <stddef.h>

#define FQDN_LABEL_MAX 63
#define FQDN_NAME_MAX 253 /* presentation form without the final dot */
#define FQDN_FRAMEWORK_DEFAULT "marathon"

/* DC/OS's zones, in the order DC/OS lists them. */
const char *const *fqdn_default_zones(size_t *n);

/*
 * One DNS label from a VIP name, as DC/OS makes it: lowercase; '/' dropped
 * (/prod/web gives prodweb); '_' and '.' become '-'; any other character
 * outside [a-z0-9-] dropped; leading dashes stripped; at most 63 characters.
 * Returns the label's length, or -1 when nothing is left (out is then "").
 */
int fqdn_label(const char *name, char *out, size_t len);

/* "<label(name)>.<label(framework)>.<zone>", lowercase. -1 with err when a
 * label is empty or the name is longer than 253 characters. */
int fqdn_build(const char *name, const char *framework, const char *zone, char *out, size_t len,
               char *err, size_t errlen) __attribute__((warn_unused_result));

/* A zone as vipd serves it: dot-separated labels of [a-z0-9-] (upper case
 * accepted, lowered), each 1-63 long, at most 200 characters in all so that
 * names under it fit. No leading or trailing dot. -1 with err quoting it. */
int fqdn_zone_check(const char *zone, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
