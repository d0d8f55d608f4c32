/* Shared by src/sources/marathon_*.c: a task (or an app id) from an event
 * read by the app parser itself, so that an event's task is checked and
 * built by the same rules as a task of /v2/apps; the list of masters.
 * Private. */
#ifndef VIPD_MARATHON_INT_H
#define VIPD_MARATHON_INT_H

#include <jansson.h>

#include "vipd/model.h"

#define MARATHON_PTR_LEN 256

/* Parses {"id": app_id, "labels": labels, "tasks": [task]} (labels and
 * task may be NULL). Returns 0 with the normalised id in *id_out and,
 * when task was given, the task in *task_out; or -1 with the first
 * problem's JSON pointer in the event's own field names (the app id at
 * `id_ptr`) in ptr and its message in msg. */
int marathon_parse_task(json_t *app_id, json_t *labels, json_t *task, const char *id_ptr,
                        char **id_out, struct task *task_out, char *ptr, size_t ptrlen, char *msg,
                        size_t msglen);

#endif
