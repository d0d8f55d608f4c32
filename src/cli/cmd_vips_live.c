/*
 * vipctl vips --live: the running vipd's VIPs, from its API's /v1/vips, in
 * the shape `vipctl vips FILE` prints for definitions, so that an operator
 * can put what would be programmed beside what is (docs/api.md); --json in
 * the shape `vips --json` gives.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* As `vips` words a backend: in rotation is healthy, draining says so,
 * otherwise the task's health (unknown: no check result yet). */
static const char *backend_word(const json_t *b)
{
	const char *phase = str(b, "phase");

	if (strcmp(phase, "in") == 0)
		return "healthy";
	if (strcmp(phase, "draining") == 0)
		return "draining";
	return strcmp(str(b, "health"), "unknown") == 0 ? "unknown" : "unhealthy";
}

/* One service: its label, protocol and address, FQDNs, backends. Returns
 * its backends; *in gets those in rotation. */
static size_t print_vip(const json_t *v, size_t *in)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *vip = str(v, "vip"), *port = strrchr(vip, ':');
	const json_t *fqdns = json_object_get(v, "fqdns");
	size_t i, nb = 0;
	json_t *x;
	char proto[8];

	snprintf(proto, sizeof(proto), "%s", str(v, "protocol"));
	if (name)
		printf("%s%s %s %s\n", name, port ? port : "", proto, vip);
	else
		printf("%s %s %s\n", vip, proto, vip);
	if (name) {
		printf("  fqdn");
		json_array_foreach(fqdns, i, x) printf(" %s", json_string_value(x));
		printf("\n");
	}
	json_array_foreach(json_object_get(v, "backends"), i, x)
	{
		if (!json_object_get(x, "address"))
			continue; /* no usable address: never a backend */
		printf("  backend %s %s weight %lld\n", str(x, "address"), backend_word(x),
		       (long long)json_integer_value(json_object_get(x, "weight")));
		*in += strcmp(str(x, "phase"), "in") == 0;
		nb++;
	}
	if (nb == 0)
		printf("  no backend\n");
	return nb;
}

/* print_vip's service as `vips --json` gives it. */
static json_t *vip_json(const json_t *v, size_t *nb, size_t *in)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *vip = str(v, "vip"), *port = strrchr(vip, ':');
	json_t *bs = json_array(), *x, *o;
	char label[512];
	size_t i;

	snprintf(label, sizeof(label), "%s%s", name ? name : vip, name && port ? port : "");
	json_array_foreach(json_object_get(v, "backends"), i, x)
	{
		if (!json_object_get(x, "address"))
			continue;
		json_array_append_new(bs, json_pack("{s:s, s:s, s:O}", "address", str(x, "address"),
		                                    "health", backend_word(x), "weight",
		                                    json_object_get(x, "weight")));
		*in += strcmp(str(x, "phase"), "in") == 0;
		(*nb)++;
	}
	o = json_pack("{s:s, s:s, s:s, s:o}", "vip", label, "protocol", str(v, "protocol"),
	              "address", vip, "backends", bs);
	if (o && name) {
		json_object_set_new(o, "name", json_string(name));
		json_object_set(o, "fqdns", json_object_get(v, "fqdns"));
		json_object_set_new(o, "assigned", json_true());
	}
	return o;
}

static int print_json(const json_t *doc, const char *where)
{
	json_t *vips = json_array(), *v, *out;
	size_t i, nb = 0, in = 0;
	int rc;

	json_array_foreach(json_object_get(doc, "vips"), i, v)
	    json_array_append_new(vips, vip_json(v, &nb, &in));
	out = json_pack("{s:i, s:b, s:b, s:s, s:I, s:I, s:I, s:o}", "schema", 1, "ok", 1, "checked",
	                1, "live", where, "services", (json_int_t)json_array_size(vips), "backends",
	                (json_int_t)nb, "healthy", (json_int_t)in, "vips", vips);
	rc = out ? cli_api_print_json(out) : CLI_EXIT_FAIL;
	json_decref(out);
	return rc;
}

int cli_vips_live(struct cli *cli, const char *api, bool json)
{
	char where[128];
	json_t *doc = NULL, *v;
	size_t i, nb = 0, in = 0;
	int rc = cli_api_address(cli, api, where, sizeof(where));

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_api_get_settled(where, "/v1/vips", &doc);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (json) {
		rc = print_json(doc, where);
		json_decref(doc);
		return rc;
	}
	json_array_foreach(json_object_get(doc, "vips"), i, v) nb += print_vip(v, &in);
	printf("%zu VIP services, %zu backends, %zu healthy (live, vipd at %s)\n",
	       json_array_size(json_object_get(doc, "vips")), nb, in, where);
	json_decref(doc);
	return CLI_EXIT_OK;
}
