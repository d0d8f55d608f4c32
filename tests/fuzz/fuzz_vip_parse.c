/* libFuzzer target: any string given to the DC/OS VIP label parser must give
 * a reference or a one-line message, never a crash, overrun or UB; and a
 * reference it gives, written back as a label, must parse to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/vip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct vip_ref *ref)
{
	char text[VIP_NAME_MAX + 64], err[256];
	struct vip_ref again;

	if (ref->named)
		snprintf(text, sizeof(text), "%s:%u", ref->name, (unsigned)ref->port);
	else
		lb_addr_port_format(&ref->addr, ref->port, text, sizeof(text));
	if (vip_parse(text, &again, err, sizeof(err)) < 0)
		__builtin_trap();
	if (again.named != ref->named || again.port != ref->port)
		__builtin_trap();
	if (ref->named && strcmp(again.name, ref->name) != 0)
		__builtin_trap();
	if (!ref->named && lb_addr_cmp(&again.addr, &ref->addr) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = malloc(size + 1);
	char err[256], tiny[8];
	struct vip_ref ref;

	if (value == NULL)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0'; /* labels are C strings: stop at the first NUL as they would */
	if (vip_parse(value, &ref, err, sizeof(err)) == 0) {
		if (ref.port == 0 ||
		    (ref.named &&
		     (ref.name[0] != '/' || memchr(ref.name, '\0', sizeof(ref.name)) == NULL)))
			__builtin_trap();
		check_round_trip(&ref);
	} else if (memchr(err, '\0', sizeof(err)) == NULL) {
		__builtin_trap();
	}
	/* A short buffer must be truncated, not overrun. */
	(void)vip_parse(value, &ref, tiny, sizeof(tiny));
	free(value);
	return 0;
}
