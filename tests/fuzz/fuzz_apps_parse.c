/* libFuzzer target: any byte string given to the app-definition parser must
 * produce apps or located diagnostics, never a crash, leak or UB. */
#include <stddef.h>
#include <stdint.h>

#include "vipd/apps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apps_set set = {0};
	char line[2048];

	apps_load_buffer(&set, "fuzz.json", (const char *)data, size);
	for (size_t i = 0; i < set.diags.count; i++)
		diag_format(&set.diags.items[i], line, sizeof(line));
	apps_set_free(&set);
	return 0;
}
