/* Names of check outcomes, as they appear in the audit log and metrics. */
#include "vipd/check_result.h"

const char *check_outcome_name(enum check_outcome o)
{
	switch (o) {
	case CHECK_OK:
		return "ok";
	case CHECK_FAIL_EXIT:
		return "exit_nonzero";
	case CHECK_FAIL_SIGNAL:
		return "killed_by_signal";
	case CHECK_FAIL_SPAWN:
		return "spawn_failed";
	case CHECK_FAIL_HTTP_STATUS:
		return "http_status";
	case CHECK_FAIL_BODY:
		return "body_mismatch";
	case CHECK_FAIL_CONNECT:
		return "connect_failed";
	case CHECK_FAIL_TLS:
		return "tls_failed";
	case CHECK_FAIL_PROTOCOL:
		return "protocol_error";
	case CHECK_FAIL_TIMEOUT:
		return "timeout";
	case CHECK_FAIL_NETNS:
		return "netns_failed";
	case CHECK_FAIL_CONFIG:
		return "config_error";
	case CHECK_FAIL_INTERNAL:
		return "internal_error";
	case CHECK_CANCELLED:
		return "cancelled";
	case CHECK_IGNORED:
		return "ignored";
	}
	return "unknown";
}
