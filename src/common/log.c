/*
 * Log lines for operators: one line each, a level word, no timestamps (the
 * service manager adds them). The audit log is separate (audit.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/log.h"

static FILE *log_out;
static enum log_level log_verbosity = LOG_LEVEL_INFO;

void log_init(FILE *out, enum log_level level)
{
	log_out = out;
	log_verbosity = level;
}

static void log_vline(const char *tag, int errnum, const char *fmt, va_list ap)
{
	FILE *out = log_out ? log_out : stderr;

	fprintf(out, "vipd: %s: ", tag);
	vfprintf(out, fmt, ap);
	if (errnum)
		fprintf(out, ": %s", strerror(errnum));
	fputc('\n', out);
	fflush(out);
}

#define LOG_BODY(tag, errnum)                                                                      \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vline(tag, errnum, fmt, ap);                                                   \
		va_end(ap);                                                                        \
	} while (0)

void log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY("warning", saved);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY("warning", 0);
}

void log_info(const char *fmt, ...)
{
	if (log_verbosity >= LOG_LEVEL_INFO)
		LOG_BODY("info", 0);
}

void log_debug(const char *fmt, ...)
{
	if (log_verbosity >= LOG_LEVEL_DEBUG)
		LOG_BODY("debug", 0);
}

void fatal(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY("fatal", saved);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY("fatal", 0);
	exit(1);
}
