/* Private to src/cluster/: the one way its messages quote a wrong JSON value. */
#ifndef VIPD_CLUSTER_INT_H
#define VIPD_CLUSTER_INT_H

#include <jansson.h>
#include <stddef.h>

#define CLUSTER_GOT_MAX 40 /* characters of a wrong value quoted in a message */

/* The value as compact JSON cut to CLUSTER_GOT_MAX characters and "…", or
 * "nothing" for NULL. */
void cluster_json_got(const json_t *v, char *buf, size_t len);

#endif
