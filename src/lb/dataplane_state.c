/*
 * The set of services vipd owns, kept in a small JSON file so that a VIP
 * removed while vipd was down is still recognised as vipd's, and deleted, on
 * the first round after a restart.
 *   {"version": 1, "owned": [{"protocol": "tcp", "address": "11.0.0.1", "port": 80}]}
 */
#include "vipd/dataplane.h"
#include "vipd/errbuf.h"

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

int dataplane_state_save(const char *path, const struct lb_keyset *ks, char *err, size_t errlen)
{
	json_t *root = state_json(ks);
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
	json_decref(root);
	return rc;
}
