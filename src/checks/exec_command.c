/*
 * COMMAND checks: `shell -c command` in its own session and process group,
 * as an unprivileged user, with Marathon's task environment, resource
 * limits, stdin from /dev/null and stdout+stderr in one bounded buffer;
 * SIGTERM then SIGKILL to every process of the run at the deadline; reaped
 * with ev_child. No process of a run outlives it (exec_procs.c).
 */
#include "vipd/errbuf.h"
#include "vipd/exec.h"
#include "exec_int.h"
#include "vipd/log.h"
#include "vipd/task_env.h"

#include "exec_procs.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/close_range.h>

#define CMD_STACK_SIZE ((size_t)64 * 1024)
/* Niceness of check commands (vipd runs at its own, usually 0). */
#define EXEC_COMMAND_NICE 10

struct cmd_run {
	struct exec_run base;
	pid_t pid;         /* group leader, also the group id; 0 once reaped */
	int out_fd;        /* read end of the output pipe; -1 once closed */
	size_t out_len;    /* bytes kept in base.result.output */
	bool timed_out;    /* SIGTERM sent at the deadline */
	bool killed;       /* SIGKILL sent after the grace */
	ev_io out_watcher; /* output pipe readable */
	ev_child child_watcher;
	ev_timer deadline; /* timeout, then the SIGTERM->SIGKILL grace */
};

/*
 * Everything the child needs, prepared by the parent: after clone() the child
 * shares our memory and may only make async-signal-safe calls, and writes
 * back why it failed before execve.
 */
struct spawn_args {
	const char *shell;
	char *const *argv;
	char *const *envp;
	int stdin_fd;
	int out_fd;
	int netns_fd; /* -1 = stay in vipd's namespace */
	bool drop_privileges;
	uid_t uid;
	gid_t gid;
	struct rlimit nofile;
	struct rlimit cpu;
	/* written by the child */
	int err;
	const char *step;
};

static int child_fail(struct spawn_args *a, const char *step)
{
	a->err = errno;
	a->step = step;
	_exit(127);
}

/*
 * The child between clone() and execve(). Credentials are changed with raw
 * syscalls on purpose: glibc's setuid()/setgid() broadcast the change to
 * every thread of the process they believe they are in, and this child,
 * sharing our memory, would make them rewrite the credentials of vipd's own
 * threads (curl's resolver).
 */
static int spawn_child(void *arg)
{
	struct spawn_args *a = arg;
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int sig;

	/* Our handlers (libev's) would run in shared memory; commands also
	 * expect default dispositions, SIGPIPE included. */
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	/* A session of its own (so also a process group): anything of the
	 * run can be told from vipd's other children by its session, which
	 * no process can leave for vipd's. */
	if (setsid() < 0)
		return child_fail(a, "setsid");
	/* The leader adopts what its children orphan (a `setsid cmd &`, a
	 * double fork), so while it lives every process of the run is in its
	 * tree; kept across execve. Without it (Linux < 3.4) orphans go to
	 * vipd or init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (a->netns_fd >= 0 && setns(a->netns_fd, CLONE_NEWNET) < 0)
		return child_fail(a, "setns");
	if (a->drop_privileges) {
		if (syscall(SYS_setgroups, 1, &a->gid) < 0)
			return child_fail(a, "setgroups");
		if (syscall(SYS_setresgid, a->gid, a->gid, a->gid) < 0)
			return child_fail(a, "setresgid");
		if (syscall(SYS_setresuid, a->uid, a->uid, a->uid) < 0)
			return child_fail(a, "setresuid");
	}
	if (setrlimit(RLIMIT_NOFILE, &a->nofile) < 0)
		return child_fail(a, "setrlimit(RLIMIT_NOFILE)");
	if (setrlimit(RLIMIT_CPU, &a->cpu) < 0)
		return child_fail(a, "setrlimit(RLIMIT_CPU)");
	if (setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0}) < 0)
		return child_fail(a, "setrlimit(RLIMIT_CORE)");
	if (dup2(a->stdin_fd, STDIN_FILENO) < 0 || dup2(a->out_fd, STDOUT_FILENO) < 0 ||
	    dup2(a->out_fd, STDERR_FILENO) < 0)
		return child_fail(a, "dup2");
	/* Fds others in vipd opened without O_CLOEXEC must not reach the
	 * command; on kernels without close_range we rely on O_CLOEXEC. */
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (chdir("/") < 0)
		return child_fail(a, "chdir /");
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(a->shell, a->argv, a->envp);
	return child_fail(a, "execve");
}

/*
 * clone(CLONE_VM|CLONE_VFORK) rather than fork(): no copy of vipd's page
 * tables (cheap however large vipd grows), and, unlike posix_spawn, the
 * child can setns() and drop privileges before execve. The parent is
 * suspended until the child execs or exits, so the child may use our
 * memory, and reports a failure in `a` before we resume. All signals are
 * blocked across clone() so no handler of ours runs on the child's stack.
 */
static pid_t spawn(struct spawn_args *a)
{
	sigset_t all, old;
	void *stack;
	pid_t pid;
	int saved;

	stack = mmap(NULL, CMD_STACK_SIZE, PROT_READ | PROT_WRITE,
	             MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid =
	    clone(spawn_child, (char *)stack + CMD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
	saved = errno;
	/* Checks yield the CPU to vipd's loop: a burst of check commands must
	 * not delay the timers and the dataplane behind them. Set here, after
	 * the child has exec'ed, not in the child: while it runs before
	 * execve the loop waits for it (CLONE_VFORK), and a niced child
	 * waits behind every other runnable process. The whole process group
	 * (the child leads it), so that what the shell already forked is
	 * niced too; a child already gone (ESRCH) needs no priority. */
	if (pid > 0 && setpriority(PRIO_PGRP, (id_t)pid, EXEC_COMMAND_NICE) < 0 && errno != ESRCH)
		log_debug("setpriority(process group %d, %d): %s", (int)pid, EXEC_COMMAND_NICE,
		          strerror(errno));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, CMD_STACK_SIZE);
	errno = saved;
	return pid;
}

/* The task environment (task_env.c): the same one the native path expands
 * its URL with. */
static char **build_env(const struct exec_request *req)
{
	struct task_env_src src = {.host = req->host,
	                           .task_id = req->task_id,
	                           .app_id = req->app_id,
	                           .ports = req->ports,
	                           .nports = req->nports,
	                           .extra_env = req->extra_env};
	char **env;

	return task_env_build(&src, &env, NULL, 0) == 0 ? env : NULL;
}

static void free_env(char **env)
{
	task_env_free(env);
}

/* Moves fd above stdio so dup2() onto 0..2 in the child cannot clobber it. */
static int fd_above_stdio(int fd)
{
	int moved;

	if (fd < 0 || fd > STDERR_FILENO)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(fd);
	return moved;
}

/* A command must not outlive its check: CPU seconds up to the timeout. */
static void limits_for(const struct exec_ctx *ctx, double timeout_s, struct spawn_args *a)
{
	struct rlimit cur;
	rlim_t cpu = (rlim_t)ceil(timeout_s) + 1;

	a->nofile.rlim_cur = a->nofile.rlim_max = ctx->nofile_limit;
	a->cpu.rlim_cur = cpu;
	a->cpu.rlim_max = cpu + 1;
	/* Without CAP_SYS_RESOURCE a hard limit cannot be raised. */
	if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_max < a->nofile.rlim_max)
		a->nofile.rlim_cur = a->nofile.rlim_max = cur.rlim_max;
	if (getrlimit(RLIMIT_CPU, &cur) == 0 && cur.rlim_max < a->cpu.rlim_max) {
		a->cpu.rlim_max = cur.rlim_max;
		if (a->cpu.rlim_cur > cur.rlim_max)
			a->cpu.rlim_cur = cur.rlim_max;
	}
}

static void cmd_close_output(struct cmd_run *c)
{
	if (c->out_fd < 0)
		return;
	ev_io_stop(c->base.ctx->loop, &c->out_watcher);
	close(c->out_fd);
	c->out_fd = -1;
}

/* Reads what the pipe holds now; returns 0 at EOF, 1 when more may come. */
static int cmd_read_output(struct cmd_run *c)
{
	char discard[4096];
	size_t cap = c->base.ctx->output_cap;
	ssize_t n;

	for (;;) {
		/* Past the cap we read and drop, so a chatty command neither
		 * blocks on a full pipe nor makes us buffer. */
		if (c->out_len < cap)
			n = read(c->out_fd, c->base.result.output + c->out_len, cap - c->out_len);
		else
			n = read(c->out_fd, discard, sizeof(discard));
		if (n > 0) {
			if (c->out_len < cap)
				c->out_len += (size_t)n;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* EAGAIN: drained for now; any other error ends the capture. */
		return errno == EAGAIN ? 1 : 0;
	}
}

static void cmd_output_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct cmd_run *c = w->data;

	(void)loop;
	(void)revents;
	if (cmd_read_output(c) == 0)
		cmd_close_output(c);
}

/* Every process of a run whose leader lives: its tree (the leader adopted
 * those that left its group) and its group. While the leader is unreaped
 * (c->pid != 0) its pid, also the group id, cannot have been reused. */
static void cmd_signal_run(struct cmd_run *c, int sig)
{
	if (c->pid <= 0)
		return;
	exec_procs_signal_tree(c->pid, sig);
	kill(-c->pid, sig);
}

/* The processes orphaned by runs whose leaders have exited: they were
 * re-parented to vipd (their subreaper), and are killed, whichever run
 * they came from, since that run is over. Live leaders are kept. */
static void cmd_kill_orphans(struct exec_ctx *ctx)
{
	pid_t *live = malloc((ctx->nruns + 1) * sizeof(*live));
	struct exec_run *r;
	size_t n = 0;

	/* Without the list no orphan can be told from a leader: the next
	 * run's end sweeps. */
	if (!live)
		return;
	for (r = ctx->runs; r && n < ctx->nruns; r = r->next)
		if (r->ops == &exec_command_ops && ((struct cmd_run *)r)->pid > 0)
			live[n++] = ((struct cmd_run *)r)->pid;
	exec_procs_kill_orphans(live, n);
	free(live);
}

static void cmd_release(struct exec_run *run)
{
	struct cmd_run *c = (struct cmd_run *)run;
	struct ev_loop *loop = run->ctx->loop;

	ev_timer_stop(loop, &c->deadline);
	ev_child_stop(loop, &c->child_watcher);
	/* Cancelled while running: the default loop's SIGCHLD handler reaps
	 * the leader even without our watcher (and every orphan: libev waits
	 * for any child). */
	if (c->pid > 0) {
		cmd_signal_run(c, SIGKILL);
		c->pid = 0;
		cmd_kill_orphans(run->ctx);
	}
	cmd_close_output(c);
}

static void cmd_set_outcome(struct cmd_run *c, int status)
{
	struct check_result *r = &c->base.result;

	if (c->timed_out) {
		r->outcome = CHECK_FAIL_TIMEOUT;
		if (WIFSIGNALED(status))
			r->signal = WTERMSIG(status);
		else
			r->exit_code = WEXITSTATUS(status);
	} else if (WIFEXITED(status)) {
		r->exit_code = WEXITSTATUS(status);
		r->outcome = r->exit_code == 0 ? CHECK_OK : CHECK_FAIL_EXIT;
	} else {
		r->signal = WTERMSIG(status);
		r->outcome = CHECK_FAIL_SIGNAL;
	}
}

static void cmd_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct cmd_run *c = w->data;

	(void)revents;
	ev_child_stop(loop, w);
	/* Background processes of the command die with it: its group (libev
	 * reaped the leader moments ago, within this loop iteration, so its
	 * pid cannot have been handed to a new group yet) and those that
	 * left the group, orphaned to vipd when the leader exited. */
	kill(-c->pid, SIGKILL);
	c->pid = 0;
	cmd_kill_orphans(c->base.ctx);
	/* What the leader wrote is in the pipe already; stragglers' later
	 * output is not waited for. */
	if (c->out_fd >= 0)
		cmd_read_output(c);
	c->base.result.output[c->out_len] = '\0';
	cmd_set_outcome(c, w->rstatus);
	exec_run_finish(&c->base);
}

/* At the deadline SIGTERM to the group; after the grace SIGKILL; after one
 * more grace a leader still not reaped (stuck in the kernel) is abandoned
 * to the default loop's reaper and the run ends as a timeout. */
static void cmd_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cmd_run *c = w->data;

	(void)revents;
	if (!c->timed_out) {
		c->timed_out = true;
		cmd_signal_run(c, SIGTERM);
	} else if (!c->killed) {
		c->killed = true;
		cmd_signal_run(c, SIGKILL);
	} else {
		c->base.result.outcome = CHECK_FAIL_TIMEOUT;
		c->base.result.signal = SIGKILL;
		exec_run_finish(&c->base);
		return;
	}
	ev_timer_set(w, c->base.ctx->kill_grace_s, 0.);
	ev_timer_start(loop, w);
}

static enum check_outcome spawn_outcome(const char *step)
{
	return strcmp(step, "setns") == 0 ? CHECK_FAIL_NETNS : CHECK_FAIL_SPAWN;
}

/* Opens the child's stdio and starts it; on failure the run reports why. */
static void cmd_launch(struct cmd_run *c, const struct exec_request *req, char **env)
{
	struct exec_ctx *ctx = c->base.ctx;
	struct spawn_args a = {.netns_fd = -1, .stdin_fd = -1, .out_fd = -1};
	char *argv[] = {ctx->shell, "-c", (char *)req->command, NULL};
	char nserr[256];
	int pipefd[2] = {-1, -1};
	pid_t pid;

	if (req->netns) {
		a.netns_fd = exec_netns_fd(ctx, req->netns, nserr, sizeof(nserr));
		if (a.netns_fd < 0) {
			exec_run_finish_soon(&c->base, CHECK_FAIL_NETNS, "%s", nserr);
			return;
		}
	}
	a.stdin_fd = fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (a.stdin_fd < 0) {
		exec_run_finish_soon(&c->base, CHECK_FAIL_INTERNAL, "open /dev/null: %s",
		                     strerror(errno));
		return;
	}
	/* The write end stays blocking: O_NONBLOCK is shared by every dup of
	 * the pipe, and a command's writes must not fail with EAGAIN. */
	if (pipe2(pipefd, O_CLOEXEC) < 0 || (pipefd[0] = fd_above_stdio(pipefd[0])) < 0 ||
	    (pipefd[1] = fd_above_stdio(pipefd[1])) < 0 ||
	    fcntl(pipefd[0], F_SETFL, O_NONBLOCK) < 0) {
		exec_run_finish_soon(&c->base, CHECK_FAIL_INTERNAL, "output pipe: %s",
		                     strerror(errno));
		goto out;
	}
	a.shell = ctx->shell;
	a.argv = argv;
	a.envp = env;
	a.out_fd = pipefd[1];
	a.drop_privileges = ctx->drop_privileges;
	a.uid = ctx->run_uid;
	a.gid = ctx->run_gid;
	limits_for(ctx, req->timeout_s, &a);
	pid = spawn(&a);
	if (pid < 0) {
		exec_run_finish_soon(&c->base, CHECK_FAIL_SPAWN, "clone: %s", strerror(errno));
		goto out;
	}
	if (a.step) {
		/* Exited before execve; the default loop reaps it. */
		if (spawn_outcome(a.step) == CHECK_FAIL_NETNS)
			exec_run_finish_soon(&c->base, CHECK_FAIL_NETNS, "netns %s: setns: %s",
			                     req->netns, strerror(a.err));
		else
			exec_run_finish_soon(&c->base, CHECK_FAIL_SPAWN, "%s: %s", a.step,
			                     strerror(a.err));
		goto out;
	}
	c->pid = pid;
	c->out_fd = pipefd[0];
	pipefd[0] = -1;
	ev_io_init(&c->out_watcher, cmd_output_cb, c->out_fd, EV_READ);
	c->out_watcher.data = c;
	ev_io_start(ctx->loop, &c->out_watcher);
	ev_child_init(&c->child_watcher, cmd_child_cb, pid, 0);
	c->child_watcher.data = c;
	ev_child_start(ctx->loop, &c->child_watcher);
	ev_timer_init(&c->deadline, cmd_deadline_cb, req->timeout_s, 0.);
	c->deadline.data = c;
	ev_timer_start(ctx->loop, &c->deadline);
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	close(a.stdin_fd);
}

static int exec_command_start(struct exec_run **out, struct exec_ctx *ctx,
                              const struct exec_request *req, exec_done_cb cb, void *arg, char *err,
                              size_t errlen)
{
	struct cmd_run *c;
	char **env;

	if (!req->command || !req->command[0]) {
		errbuf_set(err, errlen, "COMMAND check without a command");
		return -1;
	}
	/* What a run's leader orphans when it exits comes to us, to be
	 * killed and reaped, not to init, where it would outlive vipd.
	 * Idempotent, and as cheap as the syscall. */
	if (exec_procs_adopt_orphans(NULL, 0) < 0)
		log_debug("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
	env = build_env(req);
	if (!env) {
		errbuf_set(err, errlen, "COMMAND environment: %s", strerror(ENOMEM));
		return -1;
	}
	c = (struct cmd_run *)exec_run_new(ctx, &exec_command_ops, sizeof(*c), req, cb, arg);
	if (!c) {
		free_env(env);
		errbuf_set(err, errlen, "COMMAND run: %s", strerror(ENOMEM));
		return -1;
	}
	c->out_fd = -1;
	/* Watchers are initialised before any exit path can stop them. */
	ev_init(&c->deadline, cmd_deadline_cb);
	ev_init(&c->child_watcher, cmd_child_cb);
	ev_init(&c->out_watcher, cmd_output_cb);
	cmd_launch(c, req, env);
	/* The child has exec'ed (CLONE_VFORK): it holds its own copy. */
	free_env(env);
	*out = &c->base;
	return 0;
}

const struct exec_ops exec_command_ops = {
    .name = "command",
    .launch = exec_command_start,
    .release = cmd_release,
};
