/* vipctl doctor's findings and its host probes (cmd_doctor*.c only). */
#ifndef VIPD_CLI_DOCTOR_H
#define VIPD_CLI_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "vipd/config.h"
#include "vipd/ipvs.h"
#include "vipd/lbtable.h"
#include "vipd/model.h"

enum doctor_status {
	DOCTOR_OK,
	DOCTOR_FAIL,
	DOCTOR_SKIP, /* does not apply here (no IPVS, lb.ipvs false) */
};

struct doctor_finding {
	enum doctor_status status;
	char check[24];
	char message[512];
	char fix[384]; /* "" when there is nothing to do */
};

/* What the checks share: the config, the table vipd would program from the
 * apps, and the IPVS handle when the kernel has IPVS. */
struct doctor {
	const struct vipd_config *cfg;
	struct apps_set apps;
	bool apps_loaded;
	struct lb_table want; /* every service the apps give, all backends in rotation */
	bool ipvs_present;    /* /proc/net/ip_vs: the module is loaded */
	struct ipvs_nl *nl;   /* NULL without IPVS or when the family cannot be opened */
	struct doctor_finding *items;
	size_t n, cap;
};

/* Appends a finding; fix NULL for none. Out of memory ends vipctl. */
void doctor_add(struct doctor *d, enum doctor_status st, const char *check, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* cmd_doctor_kernel.c: the kernel's side, each adding its findings. */
void doctor_check_ipvs(struct doctor *d);
void doctor_check_modules(struct doctor *d);
void doctor_check_sysctls(struct doctor *d);
void doctor_check_timeouts(struct doctor *d);
void doctor_check_interface(struct doctor *d);
void doctor_check_conflicts(struct doctor *d);
void doctor_check_clock(struct doctor *d);
/* cmd_doctor_cluster.c: each of cluster.endpoints reachable (nothing when
 * none is configured). */
void doctor_check_cluster(struct doctor *d);

/* /proc/sys/NAME (dots for slashes) into buf, trailing newline cut; -1
 * with errno. */
int doctor_sysctl_read(const char *name, char *buf, size_t len);

#endif
