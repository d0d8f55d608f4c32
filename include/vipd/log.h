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
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
