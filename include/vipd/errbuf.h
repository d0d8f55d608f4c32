/*
 * Low layers return -1 and describe the failure in a caller-supplied
 * buffer (as redis's anetSetError); this fills one.
 */
#ifndef VIPD_ERRBUF_H
#define VIPD_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

/* On a function whose result must be acted on (an error, an fd, an
 * allocation): the compiler rejects a call that drops it. */
#define VIPD_MUST_CHECK __attribute__((warn_unused_result))

/* Formats into err (when err is not NULL and errlen > 0), cut to
 * errlen - 1 bytes and always terminated. */
void errbuf_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* errbuf_set for a function that takes its own variable arguments. */
void errbuf_vset(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
