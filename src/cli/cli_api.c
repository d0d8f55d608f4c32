/*
 * vipctl's client of vipd's HTTP API (docs/api.md): where it listens (the
 * --api option, else the config's api.listen, else loopback port 9090),
 * one GET with libcurl's easy interface (vipctl has no loop), and the
 * answer as JSON. Unreachable is one stderr line and EX_UNAVAILABLE.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "vipd/api.h"
#include "vipd/vec.h"

#define CLI_API_DEFAULT "9090"
#define CLI_API_MAX_BYTES (64u * 1024 * 1024)
/* A 503 ("reloading, try again") is asked again this often, this many
 * times: a reload's round follows it in the same turn of vipd's loop. */
#define CLI_API_BUSY_WAIT_US 100000
#define CLI_API_BUSY_TRIES 50
#define CLI_API_BUSY (-2)

struct body {
	char *data;
	size_t len, cap;
};

/* CURLOPT_WRITEFUNCTION */
static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;

	if (b->len + add > CLI_API_MAX_BYTES || VEC_RESERVE(b->data, b->cap, b->len + add + 1) < 0)
		return 0;
	memcpy(b->data + b->len, p, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

static bool addr_is_any(const struct lb_addr *a)
{
	struct lb_addr any;

	return lb_addr_parse(a->af == AF_INET6 ? "::" : "0.0.0.0", &any) == 0 &&
	       lb_addr_cmp(a, &any) == 0;
}

/* "ADDR:PORT" to connect to: the wildcard addresses mean this host. */
int cli_api_address(struct cli *cli, const char *opt, char *out, size_t len)
{
	const char *listen = opt;
	struct lb_addr addr;
	uint16_t port;
	char err[256];

	if (!listen) {
		if (!cli->cfg_loaded && cli_load_config(cli) < 0)
			return CLI_EXIT_CONFIG;
		listen = cli->cfg.api_listen ? cli->cfg.api_listen : CLI_API_DEFAULT;
	}
	if (api_listen_parse(listen, &addr, &port, err, sizeof(err)) < 0) {
		fprintf(stderr, "vipctl: %s%s\n", opt ? "--api: " : "/api/listen: ", err);
		return opt ? CLI_EXIT_USAGE : CLI_EXIT_CONFIG;
	}
	if (addr_is_any(&addr) &&
	    lb_addr_parse(addr.af == AF_INET6 ? "::1" : "127.0.0.1", &addr) < 0)
		return CLI_EXIT_FAIL;
	lb_addr_port_format(&addr, port, out, len);
	return CLI_EXIT_OK;
}

static int answer_json(const char *where, const char *path, long status, const struct body *b,
                       bool quiet_busy, json_t **out)
{
	json_error_t jerr;
	json_t *doc = json_loadb(b->data ? b->data : "", b->len, 0, &jerr);
	const char *msg = json_string_value(json_object_get(doc, "error"));

	if (status == 503 && quiet_busy) {
		json_decref(doc);
		return CLI_API_BUSY;
	}
	if (status != 200) {
		fprintf(stderr, "vipctl: vipd at %s answered %s with HTTP %ld%s%s\n", where, path,
		        status, msg ? ": " : "", msg ? msg : "");
		json_decref(doc);
		return CLI_EXIT_FAIL;
	}
	if (!doc) {
		fprintf(stderr, "vipctl: vipd at %s answered %s with bad JSON: %s\n", where, path,
		        jerr.text);
		return CLI_EXIT_FAIL;
	}
	*out = doc;
	return CLI_EXIT_OK;
}

static int api_get(const char *where, const char *path, bool quiet_busy, json_t **out)
{
	char url[512], cerr[CURL_ERROR_SIZE] = "";
	struct body b = {0};
	long status = 0;
	CURLcode rc;
	CURL *c;
	int ret;

	*out = NULL;
	snprintf(url, sizeof(url), "http://%s%s", where, path);
	c = curl_easy_init();
	if (!c) {
		fprintf(stderr, "vipctl: out of memory for an HTTP request\n");
		return CLI_EXIT_FAIL;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L) != CURLE_OK) {
		fprintf(stderr, "vipctl: cannot set up the HTTP request\n");
		curl_easy_cleanup(c);
		return CLI_EXIT_FAIL;
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
	    rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR) {
		fprintf(stderr,
		        "vipctl: vipd is not running or its API is off: no answer at %s (set "
		        "api.listen)\n",
		        where);
		ret = CLI_EXIT_UNAVAILABLE;
	} else if (rc != CURLE_OK) {
		fprintf(stderr, "vipctl: asking vipd at %s for %s: %s\n", where, path,
		        cerr[0] ? cerr : curl_easy_strerror(rc));
		ret = CLI_EXIT_FAIL;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		ret = answer_json(where, path, status, &b, quiet_busy, out);
	}
	curl_easy_cleanup(c);
	free(b.data);
	return ret;
}

int cli_api_get(const char *where, const char *path, json_t **out)
{
	return api_get(where, path, false, out);
}

int cli_api_get_settled(const char *where, const char *path, json_t **out)
{
	for (int i = 0; i < CLI_API_BUSY_TRIES; i++) {
		int rc = api_get(where, path, true, out);

		if (rc != CLI_API_BUSY)
			return rc;
		usleep(CLI_API_BUSY_WAIT_US);
	}
	return api_get(where, path, false, out);
}

int cli_api_print_json(const json_t *doc)
{
	if (json_dumpf(doc, stdout, JSON_INDENT(2)) < 0)
		return CLI_EXIT_FAIL;
	printf("\n");
	return CLI_EXIT_OK;
}
