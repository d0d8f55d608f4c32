/*
 * vipctl doctor's kernel probes: IPVS and its modules, the sysctls and
 * timeouts vipd sets, the VIP interface and its addresses, other owners of
 * vipd's VIP addresses in the IPVS table, and the clock. Each reads the
 * kernel's own files or asks IPVS (src/lb), and says what to do.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "doctor.h"
#include "vipd/vipif.h"
#include "vipd/dataplane.h"
#include "vipd/log.h"

#define RUN_AS_ROOT_FIX "run vipctl doctor as root (IPVS answers only CAP_NET_ADMIN)"

enum module_state {
	MODULE_UNKNOWN, /* no /lib/modules/RELEASE/modules.dep to look in */
	MODULE_MISSING,
	MODULE_AVAILABLE, /* a file under /lib/modules: loaded on first use */
	MODULE_BUILTIN,
	MODULE_LOADED,
};

static const char *module_state_name(enum module_state s)
{
	switch (s) {
	case MODULE_UNKNOWN:
		return "unknown (this kernel's /lib/modules has no modules.dep)";
	case MODULE_MISSING:
		return "not in this kernel";
	case MODULE_AVAILABLE:
		return "available (loaded on first use)";
	case MODULE_BUILTIN:
		return "built in";
	case MODULE_LOADED:
		return "loaded";
	}
	return "?";
}

int doctor_sysctl_read(const char *name, char *buf, size_t len)
{
	char path[160];
	size_t off = (size_t)snprintf(path, sizeof(path), "/proc/sys/");
	FILE *f;

	for (const char *c = name; *c != '\0' && off + 1 < sizeof(path); c++)
		path[off++] = *c == '.' ? '/' : *c;
	path[off] = '\0';
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fgets(buf, (int)len, f) == NULL) {
		(void)fclose(f);
		errno = EIO;
		return -1;
	}
	(void)fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	/* ip_local_port_range separates its two numbers with a tab. */
	for (char *c = buf; *c != '\0'; c++)
		if (*c == '\t')
			*c = ' ';
	return 0;
}

/* modules.dep and modules.builtin name files ("kernel/net/.../ip_vs_wlc.ko.xz");
 * the module's name is the file's up to ".ko", with '-' read as '_'. */
static bool module_line_is(const char *line, const char *name)
{
	const char *base = line, *end = line + strcspn(line, ":\n");
	size_t i;

	for (const char *c = line; c < end; c++)
		if (*c == '/')
			base = c + 1;
	for (i = 0; name[i] != '\0' && base + i < end; i++) {
		char c = base[i] == '-' ? '_' : base[i];

		if (c != name[i])
			return false;
	}
	return name[i] == '\0' && strncmp(base + i, ".ko", 3) == 0;
}

/* 1 listed, 0 not, -1 no such list. */
static int module_listed(const char *release, const char *list, const char *name)
{
	char path[256], line[512];
	bool found = false;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/lib/modules/%s/%s", release, list);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = module_line_is(line, name);
	(void)fclose(f);
	return found;
}

static enum module_state module_state(const char *name)
{
	char path[128];
	struct utsname u;
	struct stat st;

	(void)snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (stat(path, &st) == 0)
		return MODULE_LOADED;
	if (uname(&u) < 0)
		return MODULE_UNKNOWN;
	if (module_listed(u.release, "modules.builtin", name) == 1)
		return MODULE_BUILTIN;
	switch (module_listed(u.release, "modules.dep", name)) {
	case 1:
		return MODULE_AVAILABLE;
	case 0:
		return MODULE_MISSING;
	}
	return MODULE_UNKNOWN;
}

static void ipvs_missing(struct doctor *d)
{
	enum module_state ms = module_state("ip_vs");
	struct utsname u;

	doctor_add(d, DOCTOR_FAIL, "ipvs",
	           ms == MODULE_MISSING
	               ? "run a kernel built with CONFIG_IP_VS, such as Debian's "
	                 "(apt-get install linux-image-amd64)"
	               : "modprobe ip_vs (list it in /etc/modules-load.d/vipd.conf), or run a "
	                 "kernel built with CONFIG_IP_VS, such as Debian's (linux-image-amd64)",
	           "the running kernel (%s) has no IPVS loaded: /proc/net/ip_vs is absent, "
	           "module ip_vs %s",
	           uname(&u) == 0 ? u.release : "?", module_state_name(ms));
}

/* "IP Virtual Server version 1.2.1 (size=4096)": the version when the
 * netlink info needs privileges we lack. */
static void ipvs_proc_version(char *out, size_t len)
{
	FILE *f = fopen("/proc/net/ip_vs", "re");
	char line[128] = "";
	unsigned a, b, c, size;

	(void)snprintf(out, len, "version unknown");
	if (f == NULL)
		return;
	if (fgets(line, sizeof(line), f) != NULL &&
	    sscanf(line, "IP Virtual Server version %u.%u.%u (size=%u)", &a, &b, &c, &size) == 4)
		(void)snprintf(out, len, "%u.%u.%u, connection table %u entries", a, b, c, size);
	(void)fclose(f);
}

void doctor_check_ipvs(struct doctor *d)
{
	struct ipvs_info info;
	char err[512], version[96];

	if (!d->cfg->ipvs) {
		doctor_add(d, DOCTOR_SKIP, "ipvs", NULL,
		           "lb.ipvs is false: vipd programs no kernel state, the kernel checks "
		           "do not apply");
		return;
	}
	if (access("/proc/net/ip_vs", F_OK) < 0) {
		ipvs_missing(d);
		return;
	}
	d->ipvs_present = true;
	if (ipvs_open(&d->nl, err, sizeof(err)) < 0) {
		doctor_add(d, DOCTOR_FAIL, "ipvs", "check the kernel's log (dmesg) for IPVS",
		           "IPVS is loaded but its netlink family cannot be used: %s", err);
		return;
	}
	if (ipvs_info_get(d->nl, &info, err, sizeof(err)) == 0)
		(void)snprintf(version, sizeof(version), "%u.%u.%u, connection table %u entries",
		               (info.version >> 16) & 0xff, (info.version >> 8) & 0xff,
		               info.version & 0xff, info.conn_tab_size);
	else
		ipvs_proc_version(version, sizeof(version));
	doctor_add(d, DOCTOR_OK, "ipvs", NULL, "IPVS %s", version);
}

static void check_module(struct doctor *d, const char *name, const char *what)
{
	enum module_state ms = module_state(name);
	char fix[256];

	if (ms == MODULE_UNKNOWN) {
		doctor_add(d, DOCTOR_SKIP, "modules", NULL, "%s (%s): %s", name, what,
		           module_state_name(ms));
		return;
	}
	if (ms != MODULE_MISSING) {
		doctor_add(d, DOCTOR_OK, "modules", NULL, "%s (%s): %s", name, what,
		           module_state_name(ms));
		return;
	}
	(void)snprintf(fix, sizeof(fix),
	               "a kernel with %s as a module or built in (Debian's has it)", name);
	doctor_add(d, DOCTOR_FAIL, "modules", fix, "%s (%s): %s", name, what,
	           module_state_name(ms));
}

void doctor_check_modules(struct doctor *d)
{
	char seen[64][LB_SCHED_MAX], module[32], what[64];
	size_t nseen = 0;

	if (!d->cfg->ipvs)
		return;
	check_module(d, "nf_conntrack", "net.ipv4.vs.conntrack");
	if (d->cfg->interface != NULL)
		check_module(d, "dummy", "the VIP interface");
	for (size_t i = 0; i < d->want.nsvcs; i++) {
		const char *sched = d->want.svcs[i].sched[0] ? d->want.svcs[i].sched : "wlc";
		bool dup = false;

		for (size_t j = 0; j < nseen; j++)
			dup = dup || strcmp(seen[j], sched) == 0;
		if (dup || nseen == sizeof(seen) / sizeof(seen[0]))
			continue;
		(void)snprintf(seen[nseen++], LB_SCHED_MAX, "%s", sched);
		(void)snprintf(module, sizeof(module), "ip_vs_%s", sched);
		(void)snprintf(what, sizeof(what), "scheduler %s", sched);
		check_module(d, module, what);
	}
}

static void check_sysctl(struct doctor *d, const struct dataplane_sysctl *s)
{
	char cur[64], fix[384];

	if (doctor_sysctl_read(s->name, cur, sizeof(cur)) < 0) {
		if (errno == ENOENT && !d->ipvs_present &&
		    strncmp(s->name, "net.ipv4.vs.", 12) == 0)
			doctor_add(d, DOCTOR_SKIP, "sysctl", NULL, "%s: exists once IPVS is loaded",
			           s->name);
		else
			doctor_add(d, DOCTOR_FAIL, "sysctl", "check /proc/sys is mounted",
			           "%s cannot be read: %s", s->name, strerror(errno));
		return;
	}
	if (strcmp(cur, s->value) == 0) {
		doctor_add(d, DOCTOR_OK, "sysctl", NULL, "%s = %s", s->name, cur);
		return;
	}
	(void)snprintf(fix, sizeof(fix),
	               "sysctl -w %s=%s (vipd sets it at start: something reset it since, or vipd "
	               "has not run; keep it in /etc/sysctl.d/)",
	               s->name, s->value);
	doctor_add(d, DOCTOR_FAIL, "sysctl", fix, "%s = %s, vipd needs %s", s->name, cur, s->value);
}

void doctor_check_sysctls(struct doctor *d)
{
	size_t n;
	const struct dataplane_sysctl *s = dataplane_sysctls(&n);

	if (!d->cfg->ipvs)
		return;
	for (size_t i = 0; i < n; i++)
		check_sysctl(d, &s[i]);
}

/* The IPVS table checks need the module and the netlink handle; false
 * after saying why not. */
static bool ipvs_usable(struct doctor *d, const char *check)
{
	if (!d->cfg->ipvs)
		return false;
	if (!d->ipvs_present) {
		doctor_add(d, DOCTOR_SKIP, check, NULL, "needs IPVS");
		return false;
	}
	if (d->nl == NULL) {
		doctor_add(d, DOCTOR_SKIP, check, NULL, "IPVS cannot be opened (above)");
		return false;
	}
	return true;
}

static void timeout_compare(struct doctor *d, const char *which, uint32_t want, uint32_t have,
                            bool *all_ok)
{
	if (want == 0 || want == have)
		return;
	*all_ok = false;
	doctor_add(d, DOCTOR_FAIL, "timeouts",
	           "restart vipd (it sets them at start), or ipvsadm --set TCP TCPFIN UDP with "
	           "the config's values",
	           "IPVS %s timeout is %u s, lb.timeouts.%s is %u s", which, have, which, want);
}

void doctor_check_timeouts(struct doctor *d)
{
	const struct vipd_config *c = d->cfg;
	struct ipvs_timeouts t;
	char err[512];
	bool all_ok = true;

	if (!ipvs_usable(d, "timeouts"))
		return;
	if (ipvs_timeouts_get(d->nl, &t, err, sizeof(err)) < 0) {
		doctor_add(d, DOCTOR_FAIL, "timeouts", RUN_AS_ROOT_FIX, "%s", err);
		return;
	}
	timeout_compare(d, "tcp", c->timeout_tcp, t.tcp, &all_ok);
	timeout_compare(d, "tcpfin", c->timeout_tcpfin, t.tcp_fin, &all_ok);
	timeout_compare(d, "udp", c->timeout_udp, t.udp, &all_ok);
	if (all_ok)
		doctor_add(d, DOCTOR_OK, "timeouts", NULL,
		           "IPVS timeouts tcp %u s, tcpfin %u s, udp %u s%s", t.tcp, t.tcp_fin,
		           t.udp,
		           c->timeout_tcp ? ", as configured"
		                          : " (lb.timeouts.tcp unset: idle connections through "
		                            "a VIP are cut after the kernel's tcp timeout)");
}

/* Distinct VIP addresses of the table vipd would program. */
static size_t want_addresses(const struct lb_table *t, struct lb_addr *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nsvcs; i++) {
		bool dup = false;

		for (size_t j = 0; j < n; j++)
			dup = dup || lb_addr_cmp(&out[j], &t->svcs[i].key.addr) == 0;
		if (!dup && n < cap)
			out[n++] = t->svcs[i].key.addr;
	}
	return n;
}

static bool routed(const struct lb_addr *have, size_t nhave, const struct lb_addr *a)
{
	for (size_t i = 0; i < nhave; i++)
		if (lb_addr_cmp(&have[i], a) == 0)
			return true;
	return false;
}

static void check_addresses(struct doctor *d, const char *ifname)
{
	struct lb_addr *want = calloc(d->want.nsvcs + 1, sizeof(*want));
	struct lb_addr *have = NULL;
	size_t n = 0, nhave = 0, missing = 0;
	char list[256] = "", one[INET6_ADDRSTRLEN], err[256];

	if (want == NULL)
		fatalx("vipctl doctor: out of memory");
	n = want_addresses(&d->want, want, d->want.nsvcs);
	if (vipif_routes_of(ifname, &have, &nhave, err, sizeof(err)) < 0) {
		doctor_add(d, DOCTOR_FAIL, "addresses", NULL, "%s", err);
		free(want);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (routed(have, nhave, &want[i]))
			continue;
		if (missing++ < 4)
			(void)snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			               missing > 1 ? ", " : "",
			               lb_addr_format(&want[i], one, sizeof(one)));
	}
	free(have);
	free(want);
	if (missing > 0)
		doctor_add(
		    d, DOCTOR_FAIL, "addresses",
		    "vipd routes each once its service is in the kernel: is vipd running with "
		    "this config (systemctl status vipd; its log says why a round failed)?",
		    "%zu of %zu VIP addresses are not routed through %s: %s%s", missing, n, ifname,
		    list, missing > 4 ? ", ..." : "");
	else
		doctor_add(d, DOCTOR_OK, "addresses", NULL,
		           "all %zu VIP addresses are routed through %s", n, ifname);
}

void doctor_check_interface(struct doctor *d)
{
	const char *ifname = d->cfg->interface;
	char path[128], fix[256];
	unsigned long flags = 0;
	FILE *f;

	if (!d->cfg->ipvs || ifname == NULL)
		return;
	(void)snprintf(path, sizeof(path), "/sys/class/net/%s/flags", ifname);
	f = fopen(path, "re");
	if (f == NULL) {
		doctor_add(d, DOCTOR_FAIL, "interface",
		           "vipd creates it at start: start vipd (systemctl start vipd)",
		           "VIP interface %s does not exist", ifname);
		return;
	}
	if (fscanf(f, "%lx", &flags) != 1)
		flags = 0;
	(void)fclose(f);
	if ((flags & IFF_UP) == 0) {
		(void)snprintf(fix, sizeof(fix), "ip link set %s up (vipd sets it up at start)",
		               ifname);
		doctor_add(d, DOCTOR_FAIL, "interface", fix, "VIP interface %s is down", ifname);
	} else {
		doctor_add(d, DOCTOR_OK, "interface", NULL, "VIP interface %s is up", ifname);
	}
	check_addresses(d, ifname);
}

static bool is_vip_address(const struct lb_table *t, const struct lb_addr *a)
{
	for (size_t i = 0; i < t->nsvcs; i++)
		if (lb_addr_cmp(&t->svcs[i].key.addr, a) == 0)
			return true;
	return false;
}

static size_t report_conflicts(struct doctor *d, const struct ipvs_service *svcs, size_t n,
                               const struct lb_keyset *owned)
{
	size_t conflicts = 0;

	for (size_t i = 0; i < n; i++) {
		struct lb_key key;
		char sched[IPVS_SCHED_MAX], name[80], fix[256];
		uint32_t flags;

		if (dataplane_service_from_ipvs(&svcs[i], &key, sched, &flags) < 0 ||
		    !is_vip_address(&d->want, &key.addr) || lb_keyset_contains(owned, &key))
			continue;
		conflicts++;
		lb_key_format(&key, name, sizeof(name));
		(void)snprintf(
		    fix, sizeof(fix),
		    "remove it (ipvsadm -D %s %s) or give that VIP another address: vipd "
		    "never changes a service it does not own",
		    key.protocol == IPPROTO_UDP ? "-u" : "-t", strchr(name, ' ') + 1);
		doctor_add(
		    d, DOCTOR_FAIL, "conflicts", fix,
		    "IPVS service %s is on a VIP address of vipd's but not vipd's (not in %s): "
		    "another balancer (keepalived, kube-proxy, ipvsadm) owns it",
		    name, d->cfg->state_file ? d->cfg->state_file : "its state");
	}
	return conflicts;
}

void doctor_check_conflicts(struct doctor *d)
{
	struct ipvs_service *svcs = NULL;
	struct lb_keyset owned;
	size_t n = 0;
	char err[512];

	if (!ipvs_usable(d, "conflicts"))
		return;
	if (ipvs_services_dump(d->nl, &svcs, &n, err, sizeof(err)) < 0) {
		doctor_add(d, DOCTOR_FAIL, "conflicts", RUN_AS_ROOT_FIX, "%s", err);
		return;
	}
	lb_keyset_init(&owned);
	if (d->cfg->state_file != NULL &&
	    dataplane_state_load(d->cfg->state_file, &owned, err, sizeof(err)) < 0) {
		doctor_add(d, DOCTOR_FAIL, "conflicts",
		           "vipd rewrites it after each round: see its log for why it could not",
		           "%s", err);
	} else if (report_conflicts(d, svcs, n, &owned) == 0) {
		doctor_add(d, DOCTOR_OK, "conflicts", NULL,
		           "no other owner of vipd's VIP addresses among the kernel's %zu IPVS "
		           "services",
		           n);
	}
	lb_keyset_free(&owned);
	free(svcs);
}

/* Audit lines from several nodes are compared by time, and etcd leases
 * expire by it: the kernel says whether NTP (or chrony, timesyncd) keeps
 * it in step. */
void doctor_check_clock(struct doctor *d)
{
	struct timex tx = {0};
	int state = adjtimex(&tx);

	if (state < 0) {
		doctor_add(d, DOCTOR_FAIL, "clock", NULL, "adjtimex: %s", strerror(errno));
		return;
	}
	if (state == TIME_ERROR || (tx.status & STA_UNSYNC) != 0) {
		doctor_add(d, DOCTOR_FAIL, "clock",
		           "run an NTP client (apt-get install systemd-timesyncd, or chrony)",
		           "the clock is not synchronised (adjtimex: STA_UNSYNC): audit times and "
		           "cluster leases drift from other nodes'");
		return;
	}
	doctor_add(d, DOCTOR_OK, "clock", NULL, "the clock is synchronised (maximum error %ld us)",
	           tx.maxerror);
}
