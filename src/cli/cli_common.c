/* Helpers shared by vipctl's subcommands. */
#include <stdio.h>

#include "cli.h"
#include "vipd/apps.h"

size_t cli_load_apps(struct apps_set *set, int npaths, char **paths)
{
	char line[2048];

	for (int i = 0; i < npaths; i++)
		apps_load_path(set, paths[i]);
	for (size_t i = 0; i < set->diags.count; i++)
		fprintf(stderr, "%s\n", diag_format(&set->diags.items[i], line, sizeof(line)));
	return diag_count(&set->diags, DIAG_ERROR);
}
