/*
 * The set of services vipd owns, kept in a small JSON file so that a VIP
 * removed while vipd was down is still recognised as vipd's, and deleted, on
 * the first round after a restart.
 *   {"version": 1, "owned": [{"protocol": "tcp", "address": "11.0.0.1", "port": 80}],
 *    "vips": [{"name": "/web", "ipv4": "11.0.0.7", "ipv6": "fd01:c::7", "freed_at": 0}]}
 * On a single node it also records the named VIPs' addresses ("vips", added
 * in the same version: a file without it has none recorded), so that a name
 * keeps its address across restarts and a freed one stays in quarantine.
 * Each writer keeps the other's part of the file.
 */
#include "vipd/dataplane.h"
#include "vipd/errbuf.h"
#include "vipd/vip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_VERSION 1

static int proto_parse(const char *s, uint8_t *out)
{
	if (strcmp(s, "tcp") == 0)
		*out = IPPROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		*out = IPPROTO_UDP;
	else if (strcmp(s, "sctp") == 0)
		*out = IPPROTO_SCTP;
	else
		return -1;
	return 0;
}

static const char *proto_text(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	}
	return NULL;
}

static int entry_parse(json_t *e, size_t i, const char *path, struct lb_key *k, char *err,
                       size_t errlen)
{
	json_t *proto = json_object_get(e, "protocol");
	json_t *addr = json_object_get(e, "address");
	json_t *port = json_object_get(e, "port");

	memset(k, 0, sizeof(*k));
	if (!json_is_string(proto) || proto_parse(json_string_value(proto), &k->protocol) < 0) {
		errbuf_set(err, errlen,
		           "%s: /owned/%zu/protocol: expected \"tcp\", \"udp\" or \"sctp\"", path,
		           i);
		return -1;
	}
	if (!json_is_string(addr) || lb_addr_parse(json_string_value(addr), &k->addr) < 0) {
		errbuf_set(err, errlen, "%s: /owned/%zu/address: expected an IPv4 or IPv6 address",
		           path, i);
		return -1;
	}
	if (!json_is_integer(port) || json_integer_value(port) < 0 ||
	    json_integer_value(port) > 65535) {
		errbuf_set(err, errlen, "%s: /owned/%zu/port: expected an integer 0..65535", path,
		           i);
		return -1;
	}
	k->port = (uint16_t)json_integer_value(port);
	return 0;
}

int dataplane_state_load(const char *path, struct lb_keyset *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *owned, *e;
	size_t i;
	int rc = -1;

	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	root = json_load_file(path, 0, &jerr);
	if (root == NULL) {
		errbuf_set(err, errlen,
		           "%s:%d:%d: %s (remove the file to start with no owned service: "
		           "services vipd made before are then left alone)",
		           path, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	owned = json_object_get(root, "owned");
	if (!json_is_integer(json_object_get(root, "version")) ||
	    json_integer_value(json_object_get(root, "version")) != STATE_VERSION) {
		errbuf_set(err, errlen, "%s: /version: expected %d", path, STATE_VERSION);
		goto out;
	}
	if (!json_is_array(owned)) {
		errbuf_set(err, errlen, "%s: /owned: expected an array", path);
		goto out;
	}
	json_array_foreach(owned, i, e)
	{
		struct lb_key k;

		if (entry_parse(e, i, path, &k, err, errlen) < 0)
			goto out;
		if (lb_keyset_add(out, &k) < 0) {
			errbuf_set(err, errlen, "%s: out of memory", path);
			goto out;
		}
	}
	lb_keyset_sort(out);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static json_t *state_json(const struct lb_keyset *ks)
{
	json_t *root = json_object(), *owned = json_array();

	if (root == NULL || owned == NULL || json_object_set_new(root, "owned", owned) < 0) {
		json_decref(root);
		return NULL;
	}
	if (json_object_set_new(root, "version", json_integer(STATE_VERSION)) < 0)
		goto fail;
	for (size_t i = 0; i < ks->n; i++) {
		const struct lb_key *k = &ks->keys[i];
		char ab[INET6_ADDRSTRLEN];
		const char *proto = proto_text(k->protocol);

		if (proto == NULL)
			continue; /* cannot be: keys come from services vipd made */
		if (json_array_append_new(owned,
		                          json_pack("{s:s,s:s,s:i}", "protocol", proto, "address",
		                                    lb_addr_format(&k->addr, ab, sizeof(ab)),
		                                    "port", (int)k->port)) < 0)
			goto fail;
	}
	return root;
fail:
	json_decref(root);
	return NULL;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory (e.g. /run/vipd) may not exist yet on a fresh boot. */
static void make_parent(const char *path)
{
	char *copy = strdup(path);

	if (copy == NULL)
		return;
	(void)mkdir(dirname(copy), 0755);
	free(copy);
}

/* Written to path.tmp, synced and renamed over path. */
static int state_write(const char *path, json_t *root, char *err, size_t errlen)
{
	char *text = NULL, *tmp = NULL;
	int fd = -1, rc = -1;

	if (root == NULL || (text = json_dumps(root, JSON_COMPACT)) == NULL ||
	    asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		errbuf_set(err, errlen, "%s: out of memory", path);
		goto out;
	}
	make_parent(path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		errbuf_set(err, errlen, "rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp != NULL)
		(void)unlink(tmp);
	free(tmp);
	free(text);
	return rc;
}

/* The member `key` of the file as it is (a new reference), NULL when the
 * file or the member is missing or does not parse: the other writer's part,
 * to keep. */
static json_t *state_member(const char *path, const char *key)
{
	json_t *root = json_load_file(path, 0, NULL), *m;

	if (root == NULL)
		return NULL;
	m = json_incref(json_object_get(root, key));
	json_decref(root);
	return m;
}

int dataplane_state_save(const char *path, const struct lb_keyset *ks, char *err, size_t errlen)
{
	json_t *root = state_json(ks), *vips = state_member(path, "vips");
	int rc;

	if (root != NULL && vips != NULL && json_object_set(root, "vips", vips) < 0) {
		json_decref(root);
		root = NULL;
	}
	rc = state_write(path, root, err, errlen);
	json_decref(vips);
	json_decref(root);
	return rc;
}

static int vip_addr_parse(json_t *v, int af, size_t i, const char *member, const char *path,
                          struct lb_addr *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || lb_addr_parse(json_string_value(v), out) < 0 || out->af != af) {
		errbuf_set(err, errlen, "%s: /vips/%zu/%s: expected an %s address", path, i, member,
		           af == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	return 0;
}

static int vip_entry_parse(json_t *e, size_t i, const char *path, struct vip_record *rec, char *err,
                           size_t errlen)
{
	json_t *name = json_object_get(e, "name"), *freed = json_object_get(e, "freed_at");

	memset(rec, 0, sizeof(*rec));
	if (!json_is_string(name) || json_string_value(name)[0] != '/' ||
	    strlen(json_string_value(name)) >= sizeof(rec->name)) {
		errbuf_set(err, errlen, "%s: /vips/%zu/name: expected a VIP name starting with '/'",
		           path, i);
		return -1;
	}
	strcpy(rec->name, json_string_value(name));
	if (freed != NULL && (!json_is_integer(freed) || json_integer_value(freed) < 0)) {
		errbuf_set(err, errlen, "%s: /vips/%zu/freed_at: expected seconds since the epoch",
		           path, i);
		return -1;
	}
	rec->freed_at = freed ? json_integer_value(freed) : 0;
	if (vip_addr_parse(json_object_get(e, "ipv4"), AF_INET, i, "ipv4", path, &rec->addr, err,
	                   errlen) < 0 ||
	    vip_addr_parse(json_object_get(e, "ipv6"), AF_INET6, i, "ipv6", path, &rec->addr6, err,
	                   errlen) < 0)
		return -1;
	return 0;
}

int dataplane_state_load_vips(const char *path, struct vip_records *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *vips, *e;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	root = json_load_file(path, 0, &jerr);
	if (root == NULL) {
		errbuf_set(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	vips = json_object_get(root, "vips");
	if (vips != NULL && !json_is_array(vips)) {
		errbuf_set(err, errlen, "%s: /vips: expected an array", path);
		goto fail;
	}
	json_array_foreach(vips, i, e)
	{
		struct vip_record rec;

		if (vip_entry_parse(e, i, path, &rec, err, errlen) < 0)
			goto fail;
		if (vip_records_put(out, &rec) < 0) {
			errbuf_set(err, errlen, "%s: out of memory", path);
			goto fail;
		}
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	vip_records_free(out);
	return -1;
}

static json_t *vip_entry_json(const struct vip_record *rec)
{
	char a[INET6_ADDRSTRLEN];
	json_t *e = json_pack("{s:s}", "name", rec->name);

	if (e == NULL)
		return NULL;
	if ((rec->addr.af != 0 &&
	     json_object_set_new(e, "ipv4", json_string(lb_addr_format(&rec->addr, a, sizeof(a)))) <
	         0) ||
	    (rec->addr6.af != 0 &&
	     json_object_set_new(e, "ipv6",
	                         json_string(lb_addr_format(&rec->addr6, a, sizeof(a)))) < 0) ||
	    (rec->freed_at != 0 &&
	     json_object_set_new(e, "freed_at", json_integer(rec->freed_at)) < 0)) {
		json_decref(e);
		return NULL;
	}
	return e;
}

int dataplane_state_save_vips(const char *path, const struct vip_records *r, char *err,
                              size_t errlen)
{
	json_t *root = json_pack("{s:i}", "version", STATE_VERSION), *vips = json_array();
	json_t *owned = state_member(path, "owned");
	int rc = -1;

	if (root == NULL || vips == NULL ||
	    json_object_set_new(root, "owned", owned ? owned : json_array()) < 0) {
		errbuf_set(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (json_array_append_new(vips, vip_entry_json(&r->items[i])) < 0) {
			errbuf_set(err, errlen, "%s: out of memory", path);
			goto out;
		}
	}
	rc = state_write(path, json_object_set(root, "vips", vips) == 0 ? root : NULL, err, errlen);
out:
	json_decref(vips);
	json_decref(root);
	return rc;
}
