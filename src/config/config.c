/*
 * The daemon's configuration file. Unknown fields are errors (a typo in a
 * load balancer's config should not be silently ignored).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "vipd/config.h"
#include "vipd/desired.h"
#include "vipd/api.h"
#include "vipd/dns.h"
#include "vipd/fqdn.h"

static void zones_free(struct vipd_config *c)
{
	for (size_t i = 0; i < c->dns_nzones; i++)
		free(c->dns_zones[i]);
	free(c->dns_zones);
	c->dns_zones = NULL;
	c->dns_nzones = 0;
}

/* The zones as copies; -1 when out of memory (then c holds what was made). */
static int zones_copy(struct vipd_config *c, const char *const *z, size_t n)
{
	c->dns_zones = calloc(n + 1, sizeof(*c->dns_zones));
	if (!c->dns_zones)
		return -1;
	for (size_t i = 0; i < n; i++) {
		c->dns_zones[i] = strdup(z[i]);
		if (!c->dns_zones[i])
			return -1;
		c->dns_nzones++;
	}
	return 0;
}

int config_defaults(struct vipd_config *c)
{
	size_t nzones;
	const char *const *zones = fqdn_default_zones(&nzones);

	*c = (struct vipd_config){
	    .apps_path = strdup("/etc/vipd/apps"),
	    .audit_path = strdup("-"),
	    .run_as = strdup("nobody"),
	    .shell = strdup("/bin/sh"),
	    .max_in_flight = 256,
	    .native_curl = true,
	    .ipvs = true,
	    .interface = strdup("vipd0"),
	    .state_file = strdup(VIPD_STATE_FILE_DEFAULT),
	    .drain_s = 30,
	    .resync_s = 30,
	    /* 0 leaves the kernel's value: IPVS's 900 s TCP idle timeout cuts
	     * long-lived idle connections, so operators set it here. */
	    .reload_s = 5,
	    .verbosity = 1,
	    .dns_framework = strdup(FQDN_FRAMEWORK_DEFAULT),
	    .dns_ttl = DNS_TTL_DEFAULT,
	    .vip_quarantine_s = VIPD_QUARANTINE_DEFAULT,
	    .cluster_prefix = strdup("/vipd/v1/"),
	    .cluster_lease_ttl = 10,
	};
	vip_ranges_default(&c->vip_ranges);
	if (!c->apps_path || !c->audit_path || !c->run_as || !c->shell || !c->interface ||
	    !c->state_file || !c->dns_framework || zones_copy(c, zones, nzones) < 0)
		return -1;
	return 0;
}

int64_t config_vip_quarantine_s(const struct vipd_config *c)
{
	if (c->vip_quarantine_s == VIPD_QUARANTINE_DEFAULT)
		return 10 * (int64_t)c->dns_ttl;
	return c->vip_quarantine_s;
}

void config_free(struct vipd_config *c)
{
	free(c->apps_path);
	free(c->marathon_user);
	free(c->marathon_password_file);
	free(c->marathon_token_file);
	free(c->marathon_ca_file);
	free(c->audit_path);
	free(c->run_as);
	free(c->shell);
	free(c->interface);
	free(c->source_address);
	free(c->state_file);
	free(c->dns_listen);
	free(c->api_listen);
	free(c->dns_framework);
	free(c->vip_range4);
	free(c->vip_range6);
	free(c->cluster_node);
	free(c->cluster_hosts);
	free(c->cluster_endpoints);
	free(c->cluster_prefix);
	free(c->cluster_cacert);
	free(c->cluster_cert);
	free(c->cluster_key);
	free(c->cluster_user);
	free(c->cluster_password);
	zones_free(c);
	memset(c, 0, sizeof(*c));
}

enum field_type { F_STRING, F_UINT, F_BOOL, F_LEVEL, F_LISTEN, F_API_LISTEN, F_ZONES, F_LIST };

struct field {
	const char *path; /* JSON pointer */
	enum field_type type;
	size_t offset;
};

#define FIELD(p, t, m)                                                                             \
	{                                                                                          \
		p, t, offsetof(struct vipd_config, m)                                              \
	}

static const struct field fields[] = {
    FIELD("/apps", F_STRING, apps_path),
    FIELD("/marathon/user", F_STRING, marathon_user),
    FIELD("/marathon/password_file", F_STRING, marathon_password_file),
    FIELD("/marathon/token_file", F_STRING, marathon_token_file),
    FIELD("/marathon/ca_file", F_STRING, marathon_ca_file),
    FIELD("/audit_log", F_STRING, audit_path),
    FIELD("/checks/run_as", F_STRING, run_as),
    FIELD("/checks/shell", F_STRING, shell),
    FIELD("/checks/max_in_flight", F_UINT, max_in_flight),
    FIELD("/checks/native_curl", F_BOOL, native_curl),
    FIELD("/lb/ipvs", F_BOOL, ipvs),
    FIELD("/lb/interface", F_STRING, interface),
    FIELD("/lb/source_address", F_STRING, source_address),
    FIELD("/lb/state_file", F_STRING, state_file),
    FIELD("/lb/drain_seconds", F_UINT, drain_s),
    FIELD("/lb/resync_seconds", F_UINT, resync_s),
    FIELD("/lb/timeouts/tcp", F_UINT, timeout_tcp),
    FIELD("/lb/timeouts/tcpfin", F_UINT, timeout_tcpfin),
    FIELD("/lb/timeouts/udp", F_UINT, timeout_udp),
    FIELD("/lb/named_vip_range_v4", F_STRING, vip_range4),
    FIELD("/lb/named_vip_range_v6", F_STRING, vip_range6),
    FIELD("/lb/vip_quarantine_seconds", F_UINT, vip_quarantine_s),
    FIELD("/reload_seconds", F_UINT, reload_s),
    FIELD("/log_level", F_LEVEL, verbosity),
    FIELD("/dns/listen", F_LISTEN, dns_listen),
    FIELD("/dns/zones", F_ZONES, dns_zones),
    FIELD("/dns/framework", F_STRING, dns_framework),
    FIELD("/dns/ttl", F_UINT, dns_ttl),
    FIELD("/api/listen", F_API_LISTEN, api_listen),
    FIELD("/cluster/node", F_STRING, cluster_node),
    FIELD("/cluster/hosts", F_LIST, cluster_hosts),
    FIELD("/cluster/endpoints", F_LIST, cluster_endpoints),
    FIELD("/cluster/prefix", F_STRING, cluster_prefix),
    FIELD("/cluster/lease_ttl", F_UINT, cluster_lease_ttl),
    FIELD("/cluster/tls/cacert", F_STRING, cluster_cacert),
    FIELD("/cluster/tls/cert", F_STRING, cluster_cert),
    FIELD("/cluster/tls/key", F_STRING, cluster_key),
    FIELD("/cluster/auth/user", F_STRING, cluster_user),
    FIELD("/cluster/auth/password", F_STRING, cluster_password),
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct field *field_find(const char *path)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].path, path) == 0)
			return &fields[i];
	return NULL;
}

static int is_section(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < NFIELDS; i++)
		if (strncmp(fields[i].path, path, n) == 0 && fields[i].path[n] == '/')
			return 1;
	return 0;
}

/* A comma list, or an array of non-empty strings without commas (kept
 * joined by commas). */
static int set_list(char **field, json_t *v, const char *file, const char *path,
                    struct diag_list *diags)
{
	size_t i, len = 0;
	json_t *item;
	char *joined;

	if (json_is_string(v) && json_string_value(v)[0]) {
		free(*field);
		*field = strdup(json_string_value(v));
		return 0;
	}
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item) || !json_string_value(item)[0] ||
		    strchr(json_string_value(item), ',')) {
			diag_add(diags, DIAG_ERROR, file, path,
			         "item %zu: expected a non-empty string "
			         "without commas",
			         i);
			return -1;
		}
		len += strlen(json_string_value(item)) + 1;
	}
	if (len == 0) {
		diag_add(diags, DIAG_ERROR, file, path,
		         "expected a comma list or a non-empty array of strings");
		return -1;
	}
	joined = calloc(1, len);
	if (joined == NULL)
		return -1;
	len = 0;
	json_array_foreach(v, i, item)
	{
		size_t n = strlen(json_string_value(item));

		if (i > 0)
			joined[len++] = ',';
		memcpy(joined + len, json_string_value(item), n + 1);
		len += n;
	}
	free(*field);
	*field = joined;
	return 0;
}

/* A list of zones, each checked; the whole list replaces the default. */
static int set_zones(struct vipd_config *c, json_t *v, const char *file, struct diag_list *diags)
{
	char err[512], path[64];
	size_t i, n = json_is_array(v) ? json_array_size(v) : 0;
	json_t *z;

	if (n == 0) {
		diag_add(diags, DIAG_ERROR, file, "/dns/zones",
		         "expected a non-empty array of zones");
		return -1;
	}
	json_array_foreach(v, i, z)
	{
		snprintf(path, sizeof(path), "/dns/zones/%zu", i);
		if (!json_is_string(z)) {
			diag_add(diags, DIAG_ERROR, file, path, "expected a zone name");
			return -1;
		}
		if (fqdn_zone_check(json_string_value(z), err, sizeof(err)) < 0) {
			diag_add(diags, DIAG_ERROR, file, path, "%s", err);
			return -1;
		}
	}
	zones_free(c);
	c->dns_zones = calloc(n + 1, sizeof(*c->dns_zones));
	if (!c->dns_zones) {
		diag_add(diags, DIAG_ERROR, file, "/dns/zones", "out of memory");
		return -1;
	}
	json_array_foreach(v, i, z)
	{
		c->dns_zones[i] = strdup(json_string_value(z));
		if (!c->dns_zones[i]) {
			diag_add(diags, DIAG_ERROR, file, "/dns/zones", "out of memory");
			return -1;
		}
		c->dns_nzones++;
	}
	return 0;
}

/* Replaces the string at *field with a copy of value. */
static int set_string(char **field, const char *value, const char *file, const char *path,
                      struct diag_list *diags)
{
	char *copy = strdup(value);

	if (!copy) {
		diag_add(diags, DIAG_ERROR, file, path, "out of memory");
		return -1;
	}
	free(*field);
	*field = copy;
	return 0;
}

static int set_field(struct vipd_config *c, const struct field *f, json_t *v, const char *file,
                     struct diag_list *diags)
{
	static const char *const levels[] = {"warn", "info", "debug"};
	char *base = (char *)c + f->offset;

	switch (f->type) {
	case F_STRING:
		if (!json_is_string(v) || !json_string_value(v)[0])
			break;
		return set_string((char **)base, json_string_value(v), file, f->path, diags);
	case F_UINT:
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX)
			break;
		*(unsigned *)base = (unsigned)json_integer_value(v);
		return 0;
	case F_BOOL:
		if (!json_is_boolean(v))
			break;
		*(bool *)base = json_is_true(v);
		return 0;
	case F_LISTEN: {
		struct lb_addr a;
		uint16_t port;
		char err[256];

		if (!json_is_string(v) ||
		    dns_listen_parse(json_string_value(v), &a, &port, err, sizeof(err)) < 0) {
			diag_add(diags, DIAG_ERROR, file, f->path,
			         "expected ADDR:PORT (IPv6 in brackets)");
			return -1;
		}
		return set_string((char **)base, json_string_value(v), file, f->path, diags);
	}
	case F_API_LISTEN: {
		struct lb_addr a;
		uint16_t port;
		char err[256];

		if (!json_is_string(v) ||
		    api_listen_parse(json_string_value(v), &a, &port, err, sizeof(err)) < 0) {
			diag_add(diags, DIAG_ERROR, file, f->path,
			         "expected PORT or ADDR:PORT (IPv6 in brackets)");
			return -1;
		}
		free(*(char **)base);
		*(char **)base = strdup(json_string_value(v));
		return 0;
	}
	case F_ZONES:
		return set_zones(c, v, file, diags);
	case F_LIST:
		return set_list((char **)base, v, file, f->path, diags);
	case F_LEVEL:
		for (int i = 0; i < 3 && json_is_string(v); i++) {
			if (strcmp(json_string_value(v), levels[i]) == 0) {
				*(int *)base = i;
				return 0;
			}
		}
		diag_add(diags, DIAG_ERROR, file, f->path,
		         "expected \"warn\", \"info\" or \"debug\"");
		return -1;
	}
	diag_add(diags, DIAG_ERROR, file, f->path, "expected %s",
	         f->type == F_STRING ? "a non-empty string"
	         : f->type == F_UINT ? "an integer >= 0"
	                             : "true or false");
	return -1;
}

static int walk(struct vipd_config *c, json_t *obj, const char *prefix, const char *file,
                struct diag_list *diags)
{
	const char *key;
	json_t *v;
	char path[256];
	int rc = 0;

	json_object_foreach(obj, key, v)
	{
		const struct field *f;

		snprintf(path, sizeof(path), "%s/%s", prefix, key);
		f = field_find(path);
		if (f) {
			rc |= set_field(c, f, v, file, diags);
		} else if (is_section(path) && json_is_object(v)) {
			rc |= walk(c, v, path, file, diags);
		} else {
			diag_add(diags, DIAG_ERROR, file, path, "unknown setting");
			rc = -1;
		}
	}
	return rc;
}

/* A range is read after the walk, as a string first, so that its error
 * quotes the operator's text whatever order the keys came in. */
static int parse_range(const char *text, int af, const char *setting, struct vip_range *out,
                       const char *file, struct diag_list *diags)
{
	char err[512];

	if (text == NULL)
		return 0;
	if (vip_range_parse(text, af, out, err, sizeof(err)) < 0) {
		diag_add(diags, DIAG_ERROR, file, setting, "%s", err);
		return -1;
	}
	return 0;
}

static int config_validate(struct vipd_config *c, const char *file, struct diag_list *diags)
{
	int rc = 0;

	rc |= parse_range(c->vip_range4, AF_INET, "/lb/named_vip_range_v4", &c->vip_ranges.v4, file,
	                  diags);
	rc |= parse_range(c->vip_range6, AF_INET6, "/lb/named_vip_range_v6", &c->vip_ranges.v6,
	                  file, diags);
	if (c->source_address != NULL &&
	    lb_addr_parse(c->source_address, &(struct lb_addr){0}) < 0) {
		diag_add(diags, DIAG_ERROR, file, "/lb/source_address",
		         "expected an IPv4 or IPv6 address of this node, got \"%s\"",
		         c->source_address);
		rc = -1;
	}
	if (c->cluster_lease_ttl < 2) {
		diag_add(diags, DIAG_ERROR, file, "/cluster/lease_ttl",
		         "expected at least 2 seconds, got %u", c->cluster_lease_ttl);
		rc = -1;
	}
	return rc;
}

int config_load(struct vipd_config *c, const char *path, struct diag_list *diags)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	if (access(path, R_OK) < 0) {
		diag_add(diags, DIAG_ERROR, path, "", "cannot open: %s", strerror(errno));
		return -1;
	}
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		diag_add(diags, DIAG_ERROR, path, "", "%s (line %d, column %d)", jerr.text,
		         jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(root)) {
		diag_add(diags, DIAG_ERROR, path, "", "expected an object of settings");
		json_decref(root);
		return -1;
	}
	rc = walk(c, root, "", path, diags);
	rc |= config_validate(c, path, diags);
	json_decref(root);
	return rc ? -1 : 0;
}

int config_read(struct vipd_config *c, const char *path, struct diag_list *diags)
{
	if (config_defaults(c) < 0) {
		diag_add(diags, DIAG_ERROR, path ? path : CONFIG_DEFAULT_PATH, "", "out of memory");
		return -1;
	}
	if (path == NULL && access(CONFIG_DEFAULT_PATH, R_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (path == NULL)
		return 0;
	return config_load(c, path, diags);
}

int config_check_apps(const struct vipd_config *c, const struct apps_set *set,
                      struct diag_list *diags, char *err, size_t errlen)
{
	struct desired_input in = {.apps = set, .ranges = &c->vip_ranges};
	struct desired_state st;
	struct lb_table t;
	int rc;

	desired_state_init(&st);
	lb_table_init(&t);
	rc = desired_build(&in, &st, &t, diags, NULL, err, errlen);
	lb_table_free(&t);
	desired_state_free(&st);
	return rc;
}
