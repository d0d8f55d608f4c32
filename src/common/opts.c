/* The wording of refused command-line options (include/vipd/opts.h). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vipd/opts.h"

const char *opts_refused_name(char **argv, char *buf, size_t len)
{
	const char *arg = argv[optind - 1];

	if (strncmp(arg, "--", 2) == 0) {
		snprintf(buf, len, "%s", arg);
		buf[strcspn(buf, "=")] = '\0';
	} else {
		snprintf(buf, len, "-%c", optopt);
	}
	return buf;
}

const char *opts_refusal(int opt, char **argv, char *buf, size_t len)
{
	char name[256];
	bool is_long = strncmp(argv[optind - 1], "--", 2) == 0;

	opts_refused_name(argv, name, sizeof(name));
	if (opt == ':')
		snprintf(buf, len, "option \"%s\" needs a value", name);
	/* glibc: optopt names a known long option given "=value". */
	else if (is_long && optopt != 0)
		snprintf(buf, len, "option \"%s\" takes no value", name);
	else
		snprintf(buf, len, "unknown option \"%s\"", name);
	return buf;
}
