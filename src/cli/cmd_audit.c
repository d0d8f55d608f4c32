/*
 * vipctl audit LOG...: reads audit logs (plain, rotated, gzip-compressed, or
 * "-" for stdin) in the order given, one line at a time, and prints a
 * filtered timeline, a per-backend report (--report) or the health
 * transitions the kernel did not follow (--verify).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "audit_cli.h"
#include "cli.h"
#include "vipd/vec.h"

/* A longer line is not one vipd wrote (its lines are a few hundred bytes). */
#define AUDIT_LINE_MAX (1u << 20)

enum audit_mode { MODE_TIMELINE, MODE_REPORT, MODE_VERIFY };

struct dest_info {
	char *app, *task;
	char *services[4]; /* the VIP services it was seen in */
};

struct task_info {
	char *host;
	json_t *ports;
};

struct audit_cmd {
	enum audit_mode mode;
	bool json;
	const char *app, *task, *vip;
	int64_t since_ms, until_ms, bound_ms;
	pcre2_code *match;
	pcre2_match_data *md;
	struct amap dests; /* "10.1.0.2:8080" -> dest_info */
	struct amap tasks; /* "app\ttask" -> task_info */
	struct areport *report;
	struct averify *verify;
	size_t malformed;
	int64_t last_ts;       /* of the previous line read, any file */
	const char *last_file; /* the file it came from */
};

struct line_reader {
	gzFile gz;
	const char *name;
	char *buf;
	size_t cap;
	unsigned long lineno;
};

static int reader_open(struct line_reader *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->name = strcmp(path, "-") == 0 ? "(stdin)" : path;
	/* zlib reads a file that is not gzip as it is: plain and .gz alike. */
	r->gz = strcmp(path, "-") == 0 ? gzdopen(dup(STDIN_FILENO), "rb") : gzopen(path, "rb");
	if (!r->gz) {
		fprintf(stderr, "vipctl audit: cannot open %s: %m\n", path);
		return -1;
	}
	gzbuffer(r->gz, 128 * 1024);
	return 0;
}

/* The next line without its newline; NULL at the end. A line longer than
 * AUDIT_LINE_MAX is cut (and then fails to parse, located). */
static char *reader_next(struct line_reader *r, bool *error)
{
	size_t len = 0;

	for (;;) {
		if (r->cap - len < 2) {
			size_t cap = r->cap ? r->cap * 2 : 4096;

			if (cap > AUDIT_LINE_MAX || VEC_RESERVE(r->buf, r->cap, cap) < 0)
				break;
		}
		if (!gzgets(r->gz, r->buf + len, (int)(r->cap - len)))
			break;
		len += strlen(r->buf + len);
		if (len > 0 && r->buf[len - 1] == '\n')
			break;
	}
	if (len == 0) {
		int errnum;
		const char *msg = gzerror(r->gz, &errnum);

		if (errnum != Z_OK && errnum != Z_BUF_ERROR) {
			fprintf(stderr, "vipctl audit: %s: %s\n", r->name, msg);
			*error = true;
		}
		return NULL;
	}
	r->lineno++;
	while (len > 0 && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r'))
		r->buf[--len] = '\0';
	/* The rest of an over-long line is skipped. */
	if (len >= AUDIT_LINE_MAX - 2) {
		int c;

		while ((c = gzgetc(r->gz)) != -1 && c != '\n')
			;
	}
	return r->buf;
}

static void reader_close(struct line_reader *r)
{
	if (r->gz)
		gzclose(r->gz);
	free(r->buf);
}

static void dest_info_free(void *p)
{
	struct dest_info *d = p;

	if (!d)
		return;
	free(d->app);
	free(d->task);
	for (size_t i = 0; i < 4; i++)
		free(d->services[i]);
	free(d);
}

static void task_info_free(void *p)
{
	struct task_info *t = p;

	if (!t)
		return;
	free(t->host);
	json_decref(t->ports);
	free(t);
}

static struct dest_info *dest_info_get(struct audit_cmd *c, const char *dest)
{
	struct amap_slot *s = amap_put(&c->dests, dest);

	if (s && !s->value)
		s->value = calloc(1, sizeof(struct dest_info));
	return s ? s->value : NULL;
}

static void set_str(char **field, const char *value)
{
	if (*field && strcmp(*field, value) == 0)
		return;
	free(*field);
	*field = strdup(value);
}

/* Which task listens at which destination, and in which VIP services each
 * destination was seen: the links between health lines and kernel lines. */
static void learn(struct audit_cmd *c, const struct arec *r)
{
	char key[1024], dest[300];

	if (strcmp(r->event, "task") == 0 && r->app && r->task && r->host &&
	    json_is_array(r->ports)) {
		struct amap_slot *s;
		struct task_info *t;
		size_t i;
		json_t *p;

		snprintf(key, sizeof(key), "%s\t%s", r->app, r->task);
		s = amap_put(&c->tasks, key);
		if (!s || (!s->value && !(s->value = calloc(1, sizeof(struct task_info)))))
			return;
		t = s->value;
		set_str(&t->host, r->host);
		json_decref(t->ports);
		t->ports = json_incref(r->ports);
		json_array_foreach(r->ports, i, p)
		{
			struct dest_info *d;

			audit_dest_name(r->host, json_integer_value(p), dest, sizeof(dest));
			if ((d = dest_info_get(c, dest))) {
				set_str(&d->app, r->app);
				set_str(&d->task, r->task);
			}
		}
	}
	if (strcmp(r->event, "ipvs") == 0 && r->dest && r->service) {
		struct dest_info *d = dest_info_get(c, r->dest);
		size_t i;

		for (i = 0; d && i < 4 && d->services[i]; i++)
			if (strcmp(d->services[i], r->service) == 0)
				break;
		if (d && i < 4 && !d->services[i])
			d->services[i] = strdup(r->service);
	}
}

/* "TCP 10.0.0.9:80" matches "TCP 10.0.0.9:80", "10.0.0.9:80" and "10.0.0.9". */
static bool vip_matches(const char *service, const char *want)
{
	const char *addr = strchr(service, ' ');
	const char *colon;
	size_t n;

	if (strcmp(service, want) == 0)
		return true;
	if (!addr)
		return false;
	addr++;
	if (strcmp(addr, want) == 0)
		return true;
	colon = strrchr(addr, ':');
	if (!colon)
		return false;
	if (addr[0] == '[') {
		addr++;
		colon--;
	}
	n = (size_t)(colon - addr);
	return strlen(want) == n && strncmp(addr, want, n) == 0;
}

static bool dest_in_vip(const struct dest_info *d, const char *vip)
{
	for (size_t i = 0; d && i < 4 && d->services[i]; i++)
		if (vip_matches(d->services[i], vip))
			return true;
	return false;
}

static bool task_in_vip(const struct audit_cmd *c, const char *app, const char *task)
{
	char key[1024], dest[300];
	const struct task_info *t;
	size_t i;
	json_t *p;

	snprintf(key, sizeof(key), "%s\t%s", app, task);
	t = amap_get(&c->tasks, key);
	if (!t)
		return false;
	json_array_foreach(t->ports, i, p)
	{
		audit_dest_name(t->host, json_integer_value(p), dest, sizeof(dest));
		if (dest_in_vip(amap_get(&c->dests, dest), c->vip))
			return true;
	}
	return false;
}

/* --app, --task, --vip: lines about a backend (health, or a destination
 * operation tied to its task); lines about no backend only without them. */
static bool subject_selected(const struct audit_cmd *c, const struct arec *r)
{
	const char *app = r->app, *task = r->task;

	if (!c->app && !c->task && !c->vip)
		return true;
	if (r->dest) {
		const struct dest_info *d = amap_get(&c->dests, r->dest);

		app = d ? d->app : NULL;
		task = d ? d->task : NULL;
		if (c->vip && !(r->service && vip_matches(r->service, c->vip)))
			return false;
	} else if (r->service) {
		return !c->app && !c->task && vip_matches(r->service, c->vip);
	}
	if (!app || !task)
		return false;
	if ((c->app && strcmp(app, c->app) != 0) || (c->task && strcmp(task, c->task) != 0))
		return false;
	return r->dest || !c->vip || task_in_vip(c, app, task);
}

static bool in_window(const struct audit_cmd *c, const struct arec *r)
{
	return r->ts_ms >= c->since_ms && r->ts_ms <= c->until_ms;
}

static bool output_matches(const struct audit_cmd *c, const struct arec *r)
{
	if (!c->match)
		return true;
	return r->output && pcre2_match(c->match, (PCRE2_SPTR)r->output, PCRE2_ZERO_TERMINATED, 0,
	                                0, c->md, NULL) >= 0;
}

static void print_text(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\r' || *s == '\t')
			putchar(' ');
		else
			putchar(*s);
	}
}

static long long int_field(const struct arec *r, const char *key)
{
	return json_integer_value(json_object_get(r->json, key));
}

static void print_counters(const struct arec *r)
{
	json_t *ipvs = json_object_get(r->json, "ipvs");

	printf("version %s, %s, audit_lines_dropped %lld",
	       json_string_value(json_object_get(r->json, "version")) ?: "?",
	       json_is_true(ipvs) ? "programming IPVS" : "IPVS untouched",
	       int_field(r, "audit_lines_dropped"));
}

static void print_line(const struct arec *r)
{
	printf("%s  ", r->ts);
	if (strcmp(r->event, "check") == 0) {
		printf("%s %s  check %lld %s -> %s  %s, %s", r->app ?: "?", r->task ?: "?",
		       int_field(r, "check"), r->from ?: "?", r->to ?: "?", r->rule ?: "?",
		       r->outcome ?: "?");
		if (json_object_get(r->json, "exit_code"))
			printf(", exit %lld", int_field(r, "exit_code"));
		if (json_object_get(r->json, "http_status"))
			printf(", HTTP %lld", int_field(r, "http_status"));
		if (r->output && *r->output) {
			printf("  | ");
			print_text(r->output);
		}
	} else if (strcmp(r->event, "task") == 0) {
		printf("%s %s  task %s -> %s  %s", r->app ?: "?", r->task ?: "?", r->from ?: "?",
		       r->to ?: "?", r->rule ?: "?");
	} else if (strcmp(r->event, "ipvs") == 0) {
		printf("ipvs %s  %s", r->text ?: r->op ?: "?", r->result ?: "?");
		if (r->error)
			printf(" (errno %lld: %s)", int_field(r, "errno"), r->error);
	} else if (strcmp(r->event, "reload") == 0) {
		printf("reload  %lld apps, %lld tasks, %lld errors, %lld kept last good",
		       int_field(r, "apps"), int_field(r, "tasks"), int_field(r, "errors"),
		       int_field(r, "kept_last_good"));
	} else if (strcmp(r->event, "audit_lost") == 0) {
		printf("audit_lost  %lld lines lost since %s: %s", int_field(r, "lines"),
		       json_string_value(json_object_get(r->json, "since")) ?: "?",
		       json_string_value(json_object_get(r->json, "reason")) ?: "?");
	} else if (strcmp(r->event, "start") == 0 || strcmp(r->event, "stop") == 0 ||
	           strcmp(r->event, "stats") == 0) {
		printf("%s  ", r->event);
		print_counters(r);
	} else {
		printf("%s", r->event);
	}
	putchar('\n');
}

static void handle(struct audit_cmd *c, const struct arec *r)
{
	bool about_backend = r->app || r->task || r->dest || r->service;

	learn(c, r);
	/* The report and the verification need vipd's start and stop lines
	 * whatever the filter; the timeline shows them only without one. */
	if (c->mode == MODE_TIMELINE ? !subject_selected(c, r)
	                             : about_backend && !subject_selected(c, r))
		return;
	switch (c->mode) {
	case MODE_TIMELINE:
		if (in_window(c, r) && output_matches(c, r))
			print_line(r);
		break;
	case MODE_REPORT:
		areport_add(c->report, r);
		break;
	case MODE_VERIFY:
		if (in_window(c, r))
			averify_add(c->verify, r);
		break;
	}
}

static int read_file(struct audit_cmd *c, const char *path)
{
	struct line_reader lr;
	bool error = false;
	char *line, err[256];

	if (reader_open(&lr, path) < 0)
		return -1;
	while ((line = reader_next(&lr, &error))) {
		struct arec r;

		if (*line == '\0')
			continue;
		if (arec_parse(line, &r, err, sizeof(err)) < 0) {
			fprintf(stderr, "vipctl audit: %s:%lu: %s; line skipped\n", lr.name,
			        lr.lineno, err);
			c->malformed++;
			continue;
		}
		r.file = lr.name;
		r.lineno = lr.lineno;
		if (lr.lineno == 1 && c->last_file && r.ts_ms < c->last_ts)
			fprintf(stderr,
			        "vipctl audit: %s starts before %s ends: give rotated logs oldest "
			        "first\n",
			        lr.name, c->last_file);
		c->last_ts = r.ts_ms;
		c->last_file = lr.name;
		handle(c, &r);
		json_decref(r.json);
	}
	reader_close(&lr);
	return error ? -1 : 0;
}

#define AUDIT_USAGE                                                                                \
	"audit [--app ID] [--task ID] [--vip VIP] [--since WHEN] [--until WHEN]\n"                 \
	"                    [--match REGEX] [--report [--json] | --verify [--within S]] "         \
	"LOG...|-\n"                                                                               \
	"  LOG: audit logs in order, plain or gzip; - reads stdin\n"                               \
	"  --since, --until WHEN: RFC 3339 or a duration before now (90s, 15m, 2h, 7d, 1w)\n"      \
	"  --match REGEX: PCRE2 over the check output\n"                                           \
	"  --report: per backend and app, time in and out of rotation, draining, transitions\n"    \
	"  --verify: health transitions the kernel did not follow within S seconds (5)"

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vipctl audit: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: vipctl " AUDIT_USAGE "\n");
	return -1;
}

static int compile_match(struct audit_cmd *c, const char *re)
{
	int code;
	PCRE2_SIZE off;
	char msg[256];

	c->match =
	    pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
	if (!c->match) {
		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
		fprintf(stderr, "vipctl audit: --match %s: at offset %zu: %s\n", re, (size_t)off,
		        msg);
		return -1;
	}
	c->md = pcre2_match_data_create_from_pattern(c->match, NULL);
	return c->md ? 0 : -1;
}

static int parse_when(const char *opt, const char *arg, int64_t *ms)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (audit_parse_when(arg, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, ms) == 0)
		return 0;
	fprintf(stderr,
	        "vipctl audit: %s %s: expected RFC 3339 (2026-11-26T19:17:45Z) or a duration "
	        "before now (90s, 15m, 2h, 7d, 1w)\n",
	        opt, arg);
	return -1;
}

/* cli_spec.on_option: one of audit's own options; -1 when refused. */
static int on_option(int opt, const char *arg, void *ctx)
{
	struct audit_cmd *c = ctx;
	char *end;

	switch (opt) {
	case 'a':
		c->app = arg;
		return 0;
	case 't':
		c->task = arg;
		return 0;
	case 'V':
		c->vip = arg;
		return 0;
	case 's':
		return parse_when("--since", arg, &c->since_ms) < 0 ? -1 : 0;
	case 'u':
		return parse_when("--until", arg, &c->until_ms) < 0 ? -1 : 0;
	case 'm':
		return compile_match(c, arg) < 0 ? -1 : 0;
	case 'r':
		c->mode = MODE_REPORT;
		return 0;
	case 'v':
		c->mode = MODE_VERIFY;
		return 0;
	case 'j':
		c->json = true;
		return 0;
	case 'w':
		c->bound_ms = (int64_t)(strtod(arg, &end) * 1000);
		if (end == arg || *end || c->bound_ms <= 0)
			return usage_error("--within %s: expected seconds above 0", arg);
		return 0;
	}
	return -1;
}

/* -1 to go on with the logs from *first, else the exit code. */
static int parse_options(struct cli *cli, struct audit_cmd *c, int argc, char **argv, int *first)
{
	static const struct option opts[] = {
	    {"app", required_argument, NULL, 'a'},
	    {"task", required_argument, NULL, 't'},
	    {"vip", required_argument, NULL, 'V'},
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {"match", required_argument, NULL, 'm'},
	    {"report", no_argument, NULL, 'r'},
	    {"verify", no_argument, NULL, 'v'},
	    {"json", no_argument, NULL, 'j'},
	    {"within", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	const struct cli_spec spec = {
	    .name = "audit",
	    .usage = AUDIT_USAGE,
	    .shortopts = "",
	    .longopts = opts,
	    .min_operands = 0,
	    .on_option = on_option,
	    .ctx = c,
	};
	int rc = cli_parse(cli, &spec, argc, argv, first);

	if (rc >= 0)
		return rc;
	if (*first >= argc) {
		usage_error("%s", "no log given (\"-\" reads stdin)");
		return CLI_EXIT_USAGE;
	}
	if (c->json && c->mode != MODE_REPORT) {
		usage_error("%s", "--json goes with --report");
		return CLI_EXIT_USAGE;
	}
	return -1;
}

static void audit_cmd_free(struct audit_cmd *c)
{
	amap_free(&c->dests, dest_info_free);
	amap_free(&c->tasks, task_info_free);
	pcre2_match_data_free(c->md);
	pcre2_code_free(c->match);
	areport_free(c->report);
	averify_free(c->verify);
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	struct audit_cmd c = {.since_ms = INT64_MIN, .until_ms = INT64_MAX, .bound_ms = 5000};
	int first, rc = parse_options(cli, &c, argc, argv, &first);
	bool unreadable = false;
	size_t failures = 0;

	if (rc >= 0) {
		audit_cmd_free(&c);
		return rc;
	}
	if (c.mode == MODE_REPORT && !(c.report = areport_new(c.since_ms, c.until_ms)))
		goto oom;
	if (c.mode == MODE_VERIFY && !(c.verify = averify_new(c.bound_ms)))
		goto oom;
	for (int i = first; i < argc; i++)
		if (read_file(&c, argv[i]) < 0)
			unreadable = true;
	if (c.mode == MODE_REPORT)
		areport_print(c.report, c.json);
	if (c.mode == MODE_VERIFY)
		failures = averify_finish(c.verify);
	if (c.malformed)
		fprintf(stderr, "vipctl audit: %zu lines skipped (not audit lines)\n", c.malformed);
	audit_cmd_free(&c);
	if (unreadable)
		return CLI_EXIT_CONFIG;
	return failures ? CLI_EXIT_FAIL : CLI_EXIT_OK;
oom:
	fprintf(stderr, "vipctl audit: out of memory\n");
	audit_cmd_free(&c);
	return CLI_EXIT_FAIL;
}
