/*
 * Finding and ending the processes a COMMAND run left outside its process
 * group, by their parent links in /proc. Reads only procfs (never blocks);
 * best effort where a process forks faster than we walk: what escapes a walk
 * is re-parented to a subreaper and found by the next one.
 */
#include "exec_procs.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "vipd/errbuf.h"

/* A bound on one walk: a run with more processes than this is a fork bomb,
 * and the remainder is found by later walks. */
#define PROCS_WALK_MAX 32768

struct pidvec {
	pid_t *v;
	size_t n, cap;
};

static void pidvec_push(struct pidvec *pv, pid_t pid)
{
	pid_t *grown;
	size_t cap;

	if (pv->n == pv->cap) {
		cap = pv->cap ? pv->cap * 2 : 16;
		if (cap > PROCS_WALK_MAX)
			return;
		grown = realloc(pv->v, cap * sizeof(*grown));
		if (!grown)
			return;
		pv->v = grown;
		pv->cap = cap;
	}
	pv->v[pv->n++] = pid;
}

static bool pidvec_has(const struct pidvec *pv, pid_t pid)
{
	for (size_t i = 0; i < pv->n; i++)
		if (pv->v[i] == pid)
			return true;
	return false;
}

int exec_procs_adopt_orphans(char *err, size_t errlen)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		errbuf_set(err, errlen, "prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Fields 4 and 6 of /proc/PID/stat; the name (field 2) may hold spaces and
 * parentheses, so parsing starts after its last ')'. */
static int proc_stat(pid_t pid, pid_t *ppid, pid_t *session)
{
	char path[64], buf[512], state;
	const char *rest;
	int pp, pg, sid;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	rest = strrchr(buf, ')');
	if (!rest || sscanf(rest + 1, " %c %d %d %d", &state, &pp, &pg, &sid) != 4)
		return -1;
	*ppid = pp;
	*session = sid;
	return 0;
}

static bool proc_scan_forced;

void exec_procs_force_proc_scan(bool on)
{
	proc_scan_forced = on;
}

/* Kernels built without CONFIG_PROC_CHILDREN have no children files. */
static bool children_files_exist(void)
{
	static int exist = -1;
	char path[64];

	if (proc_scan_forced)
		return false;
	if (exist < 0) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)getpid(),
		         (int)getpid());
		exist = access(path, R_OK) == 0;
	}
	return exist;
}

static void children_from_file(const char *path, struct pidvec *out)
{
	FILE *f = fopen(path, "re");
	int pid;

	if (!f)
		return;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0 && !pidvec_has(out, pid))
			pidvec_push(out, pid);
	fclose(f);
}

/* Each thread has its own children file: a child belongs to the thread
 * that made it, or to the one it was re-parented to. */
static void children_of_threads(pid_t pid, struct pidvec *out)
{
	char path[96];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children", (int)pid, e->d_name);
		children_from_file(path, out);
	}
	closedir(d);
}

static void children_by_scan(pid_t pid, struct pidvec *out)
{
	pid_t child, ppid, sid;
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d)
		return;
	while ((e = readdir(d))) {
		child = (pid_t)atoi(e->d_name);
		if (child > 0 && proc_stat(child, &ppid, &sid) == 0 && ppid == pid &&
		    !pidvec_has(out, child))
			pidvec_push(out, child);
	}
	closedir(d);
}

static void list_children(pid_t pid, struct pidvec *out)
{
	if (children_files_exist())
		children_of_threads(pid, out);
	else
		children_by_scan(pid, out);
}

static size_t signal_tree(pid_t root, int sig)
{
	struct pidvec all = {0};
	size_t i, n;

	pidvec_push(&all, root);
	for (i = 0; i < all.n; i++) {
		/* A stopped process neither forks nor reaps: the children we
		 * list stay (at least as zombies) until we kill them. */
		if (sig == SIGKILL)
			kill(all.v[i], SIGSTOP);
		list_children(all.v[i], &all);
	}
	if (all.n == 0) /* out of memory: the root at least */
		kill(root, sig);
	for (i = 0; i < all.n; i++)
		kill(all.v[i], sig);
	n = all.n;
	free(all.v);
	return n;
}

void exec_procs_signal_tree(pid_t root, int sig)
{
	if (root > 0)
		signal_tree(root, sig);
}

static bool in_keep(const pid_t *keep, size_t nkeep, pid_t pid)
{
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] == pid)
			return true;
	return false;
}

size_t exec_procs_kill_orphans(const pid_t *keep, size_t nkeep)
{
	struct pidvec kids = {0};
	pid_t own_session = getsid(0), ppid, sid;
	size_t killed = 0;

	list_children(getpid(), &kids);
	for (size_t i = 0; i < kids.n; i++) {
		if (in_keep(keep, nkeep, kids.v[i]))
			continue;
		/* A child in our own session is not a check's (vipd has no
		 * other children; a test's own servers are such). */
		if (proc_stat(kids.v[i], &ppid, &sid) < 0 || sid == own_session)
			continue;
		killed += signal_tree(kids.v[i], SIGKILL);
	}
	free(kids.v);
	return killed;
}
