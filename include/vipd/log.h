/*
 * Daemon logging, after relayd's log.c: levels, strerror-appending variants,
 * and fatal exits reserved for broken invariants and start-up failures.
 */
#ifndef VIPD_LOG_H
#define VIPD_LOG_H

#include <stdio.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

/* Where log lines go (stderr by default) and how verbose they are. */
void log_init(FILE *out, enum log_level level);
/* One line "vipd: LEVEL: message", flushed. log_warn appends ": " and
 * strerror(errno) and leaves errno as it found it; log_warnx does not. Both
 * always print; log_info needs LOG_LEVEL_INFO, log_debug LOG_LEVEL_DEBUG. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "vipd: fatal: message" (fatal with strerror(errno)), then exit(1): for
 * broken invariants and start-up failures only, never a backend's. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
