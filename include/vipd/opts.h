/*
 * What vipd and vipctl say about an option getopt_long refused (called
 * with opterr 0 and a ':' leading the short options), in one wording.
 */
#ifndef VIPD_OPTS_H
#define VIPD_OPTS_H

#include <stddef.h>

/* The option just refused as the user wrote it: "--name" without any
 * "=value", or "-x" for a short one (which may sit in a cluster, -xv). */
const char *opts_refused_name(char **argv, char *buf, size_t len);

/* The refusal for getopt_long's result opt (':' a value is missing, '?'
 * otherwise): option "--x" needs a value, option "--x" takes no value (a
 * known long flag given "=value"), or unknown option "-q". */
const char *opts_refusal(int opt, char **argv, char *buf, size_t len);

#endif
