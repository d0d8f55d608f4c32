/*
 * The processes of COMMAND runs beyond their process group: a command's
 * background process may leave the group (setsid, setpgid), so each run's
 * leader is the subreaper of its descendants, vipd the subreaper of the
 * leaders', and these functions find such processes in /proc and end them.
 * Private to the COMMAND executor.
 */
#ifndef VIPD_EXEC_PROCS_H
#define VIPD_EXEC_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Makes orphaned descendants of this process its children rather than
 * init's (PR_SET_CHILD_SUBREAPER); 0, or -1 with the reason in err. */
int exec_procs_adopt_orphans(char *err, size_t errlen);

/* Sends sig to root and every descendant of it. For SIGKILL each process is
 * stopped before its children are listed, so that none forks past the walk
 * and no listed pid is reaped (so reused) before it is killed. */
void exec_procs_signal_tree(pid_t root, int sig);

/* Kills, with all their descendants, the processes that were re-parented to
 * us: our children outside our session (every COMMAND run is its own
 * session) except the live run leaders listed in `keep`. Returns how many
 * processes were signalled. */
size_t exec_procs_kill_orphans(const pid_t *keep, size_t nkeep);

/* For tests: find children by scanning every /proc/PID/stat, as on kernels
 * built without /proc/PID/task/TID/children files. */
void exec_procs_force_proc_scan(bool on);

#endif
