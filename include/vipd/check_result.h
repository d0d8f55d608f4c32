/*
 * The outcome of one run of one health check, shared by every executor, the
 * health rules, the audit log and the metrics. Outcomes are an enum with one
 * function naming them (as relayd's host_error()).
 */
#ifndef VIPD_CHECK_RESULT_H
#define VIPD_CHECK_RESULT_H

#include <stdbool.h>
#include <stddef.h>

enum check_outcome {
	CHECK_OK = 0,           /* healthy */
	CHECK_FAIL_EXIT,        /* COMMAND exited non-zero */
	CHECK_FAIL_SIGNAL,      /* COMMAND killed by a signal (not our timeout) */
	CHECK_FAIL_SPAWN,       /* COMMAND could not be started */
	CHECK_FAIL_HTTP_STATUS, /* HTTP status outside 200-399 */
	CHECK_FAIL_BODY,        /* HTTP body did not match the operator's regex */
	CHECK_FAIL_CONNECT,     /* refused, unreachable, reset */
	CHECK_FAIL_TLS,         /* HTTPS handshake failed */
	CHECK_FAIL_PROTOCOL,    /* not a valid HTTP response */
	CHECK_FAIL_TIMEOUT,     /* no answer within timeoutSeconds */
	CHECK_FAIL_NETNS,       /* could not enter the task's network namespace */
	CHECK_FAIL_CONFIG,      /* the check cannot run as declared (no such port index...) */
	CHECK_FAIL_INTERNAL,    /* vipd could not run it (out of fds, memory...) */
	CHECK_CANCELLED,        /* stopped because its task went away; not a health result */
	CHECK_IGNORED,          /* HTTP 1xx with ignoreHttp1xx: Marathon counts it neither
	                         * healthy nor unhealthy; not a health result */
};

#define CHECK_OUTPUT_MAX 512

struct check_result {
	enum check_outcome outcome;
	int exit_code;                 /* COMMAND: exit status; -1 otherwise */
	int signal;                    /* COMMAND: terminating signal; 0 otherwise */
	long http_status;              /* HTTP: last status; 0 when none was received */
	double latency_ms;             /* from start to result, monotonic clock */
	bool native;                   /* a recognised curl COMMAND run natively */
	char output[CHECK_OUTPUT_MAX]; /* captured output excerpt or error text, NUL-terminated */
};

/* The outcome's name in the audit log and metrics ("ok", "timeout"...), a
 * static string; "unknown" for a value outside the enum. */
const char *check_outcome_name(enum check_outcome o);
/* Only CHECK_OK is healthy: every other outcome counts as a failure. */
static inline bool check_outcome_healthy(enum check_outcome o)
{
	return o == CHECK_OK;
}

#endif
