/*
 * vipd's own configuration: a JSON file (every field optional, defaults
 * from config_defaults) with command-line flags on top. Errors are located
 * like app errors.
 */
#ifndef VIPD_CONFIG_H
#define VIPD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vipd/errbuf.h"
#include "vipd/model.h"
#include "vipd/vip.h"

#define CONFIG_DEFAULT_PATH "/etc/vipd/vipd.json"

#define VIPD_QUARANTINE_DEFAULT UINT32_MAX
#define VIPD_STATE_FILE_DEFAULT "/run/vipd/owned.json"

struct vipd_config {
	char *apps_path;              /* "apps": file or directory of app definitions, or
	                               * Marathon base URLs separated by commas */
	char *marathon_user;          /* "marathon.user": HTTP basic auth; NULL = none */
	char *marathon_password_file; /* "marathon.password_file": its password */
	char *marathon_token_file;    /* "marathon.token_file": DC/OS token auth */
	char *marathon_ca_file;       /* "marathon.ca_file": CA bundle for https:// */
	char *audit_path;             /* "audit_log": file, or "-" for stdout */
	char *run_as;                 /* "checks.run_as": user for COMMAND checks */
	char *shell;                  /* "checks.shell" */
	unsigned max_in_flight;       /* "checks.max_in_flight" */
	bool native_curl;             /* "checks.native_curl" */
	bool ipvs;               /* "lb.ipvs": false = compute and log, touch no kernel state */
	char *interface;         /* "lb.interface": dummy interface holding VIP addresses */
	char *source_address;    /* "lb.source_address": src of the VIP routes; NULL = found */
	char *state_file;        /* "lb.state_file": the owned VIP services, across restarts */
	unsigned drain_s;        /* "lb.drain_seconds" */
	unsigned resync_s;       /* "lb.resync_seconds" */
	uint32_t timeout_tcp;    /* "lb.timeouts.tcp": IPVS idle timeout of TCP connections */
	uint32_t timeout_tcpfin; /* "lb.timeouts.tcpfin" */
	uint32_t timeout_udp;    /* "lb.timeouts.udp" */
	unsigned reload_s;       /* "reload_seconds": how often the apps path is re-read */
	int verbosity;           /* "log_level": 0 warn, 1 info, 2 debug */
	char *dns_listen;        /* "dns.listen": "ADDR:PORT" of the responder; NULL = none */
	char *api_listen;        /* "api.listen": "ADDR:PORT" or "PORT" (loopback); NULL = none */
	char **dns_zones;        /* "dns.zones": NULL-terminated; DC/OS's four by default */
	size_t dns_nzones;
	char *dns_framework;          /* "dns.framework": the names' second label */
	unsigned dns_ttl;             /* "dns.ttl": seconds */
	char *vip_range4;             /* "lb.named_vip_range_v4": "FIRST-LAST"; NULL = DC/OS's */
	char *vip_range6;             /* "lb.named_vip_range_v6" */
	struct vip_ranges vip_ranges; /* the two above, parsed by config_load */
	/* "lb.vip_quarantine_seconds": how long a named VIP's freed address is
	 * given to no other name; VIPD_QUARANTINE_DEFAULT: 10 x dns.ttl. */
	unsigned vip_quarantine_s;
	/* Cluster (issue 9): on when cluster_endpoints is set. */
	char *cluster_node;         /* "cluster.node": this node's name; NULL = the host name */
	char *cluster_hosts;        /* "cluster.hosts": comma list of the tasks' host names of this
	                             * node; NULL = the node name and the host's own addresses */
	char *cluster_endpoints;    /* "cluster.endpoints": comma list of etcd URLs */
	char *cluster_prefix;       /* "cluster.prefix" */
	unsigned cluster_lease_ttl; /* "cluster.lease_ttl": seconds */
	char *cluster_cacert;       /* "cluster.tls.cacert", ".cert", ".key" */
	char *cluster_cert;
	char *cluster_key;
	char *cluster_user; /* "cluster.auth.user", ".password": never logged */
	char *cluster_password;
};

/* Fills c with the defaults (its old contents are not freed); -1 when out
 * of memory, and c is then still for config_free. */
int config_defaults(struct vipd_config *c) VIPD_MUST_CHECK;
/* Reads `path` over the defaults, then checks the settings that depend on
 * each other or need parsing (the named-VIP ranges). 0, or -1 with located
 * errors in diags. */
int config_load(struct vipd_config *c, const char *path, struct diag_list *diags) VIPD_MUST_CHECK;
/* vipd's and vipctl's one way to find their settings: the defaults, then
 * `path` when given (a missing file is then an error), else
 * CONFIG_DEFAULT_PATH when it exists. 0, or -1 with located errors. */
int config_read(struct vipd_config *c, const char *path, struct diag_list *diags) VIPD_MUST_CHECK;
/* Frees every string config_defaults/config_load set and zeroes c; c may
 * then be filled again. */
void config_free(struct vipd_config *c);
/* How long a freed named-VIP address stays reserved, in seconds: the
 * setting, or 10 x dns.ttl when it is left at its default. */
int64_t config_vip_quarantine_s(const struct vipd_config *c);

/* What vipd's table build reports for `set` under these settings (VIP
 * labels, addresses inside the named ranges, vipd's labels, apps that
 * disagree on a shared VIP), into diags: how vipctl validate and
 * vipd --check-config see what the daemon would. 0, or -1 with err (out of
 * memory). */
int config_check_apps(const struct vipd_config *c, const struct apps_set *set,
                      struct diag_list *diags, char *err, size_t errlen) VIPD_MUST_CHECK;

#endif
