/* libFuzzer target: any message body under any of the event types vipd
 * decodes must give an event or a located error, never a crash, leak or UB;
 * a decoded status update must apply to an app set cleanly. The first byte
 * picks the event: line's type. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/apps.h"
#include "vipd/marathon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = {
    "message",
    "status_update_event",
    "api_post_event",
    "deployment_success",
    "app_terminated_event",
    "deployment_info",
};

static const char APPS[] = "{\"apps\":[{\"id\":\"/a\",\"labels\":{\"VIPD_NETNS\":\"n-${TASK_ID}\"},"
                           "\"tasks\":[{\"id\":\"a.1\",\"host\":\"h\",\"ports\":[1]}]}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct marathon_event ev;
	struct apps_set set = {0};
	char err[1024];

	if (size < 1)
		return 0;
	if (marathon_event_decode("marathon fuzz", types[data[0] % 6], (const char *)data + 1,
	                          size - 1, &ev, err, sizeof(err)) < 0)
		return 0;
	if (ev.kind == MARATHON_EVENT_STATUS_UPDATE) {
		apps_load_buffer(&set, "apps.json", APPS, sizeof(APPS) - 1);
		marathon_status_apply(&set, &ev.status, err, sizeof(err));
		apps_set_free(&set);
	}
	marathon_event_free(&ev);
	return 0;
}
