// SPDX-License-Identifier: Apache-2.0
/* Child processes: spawning (in a namespace), supervision with restart and backoff, adoption,
 * and run-to-completion helpers. See sf/proc.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sf/ipv4.h"
#include "sf/log.h"
#include "sf/netops.h"
#include "sf/proc.h"
#include "sf/util.h"

SF_LOG_MODULE("proc");

extern char **environ;

#define DEFAULT_MAX_OUTPUT ((size_t)1024 * 1024)

/* Signals a daemon may ignore or block that a child must get with default behaviour. */
static const int default_signals[] = {SIGPIPE, SIGHUP,	SIGINT,	 SIGTERM, SIGQUIT,
				      SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};

/* ---- spawning ---------------------------------------------------------------------------- */

static bool argv_ok(const char *const *argv)
{
	return argv && argv[0] && argv[0][0] == '/';
}

static int spawn_posix(const char *const *argv, const int fds[3], pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	pid_t pid;
	int r;

	sigemptyset(&none);
	sigemptyset(&defaults);
	for (size_t i = 0; i < SF_ARRAY_SIZE(default_signals); i++)
		sigaddset(&defaults, default_signals[i]);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	for (int i = 0; i < 3; i++)
		posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);

	r = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	*ret_pid = pid;
	return 0;
}

struct spawn_args {
	const char *const *argv;
	const int *fds;
	pid_t pid;
};

static int spawn_posix_fn(void *arg)
{
	struct spawn_args *a = arg;

	return spawn_posix(a->argv, a->fds, &a->pid);
}

static int spawn_fds(const char *const *argv, const char *netns, const int fds[3], pid_t *ret_pid)
{
	struct spawn_args a = {.argv = argv, .fds = fds};
	int nsfd = -1, r;

	if (!argv_ok(argv))
		return -EINVAL;
	if (netns) {
		r = sf_netns_open(netns, &nsfd);
		if (r < 0)
			return r;
	}
	/* The child is made from this thread while it is in the namespace: posix_spawn's child
	 * (which shares our memory until it execs, no copy of the page tables) starts there. */
	r = sf_netns_call(nsfd, spawn_posix_fn, &a);
	if (nsfd >= 0)
		close(nsfd);
	if (r == 0)
		*ret_pid = a.pid;
	return r;
}

int sf_proc_spawn(const struct sf_proc_spec *spec, pid_t *ret_pid)
{
	int fds[3] = {-1, -1, -1}, r;

	if (!argv_ok(spec->argv))
		return -EINVAL;
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (spec->log_path)
		fds[1] = open(spec->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	else
		fds[1] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fds[0] < 0 || fds[1] < 0) {
		r = -errno;
		goto out;
	}
	fds[2] = fds[1];
	r = spawn_fds(spec->argv, spec->netns, fds, ret_pid);
	if (r == 0)
		sf_log_debug("started %s pid=%d netns=%s", spec->argv[0], (int)*ret_pid,
			     spec->netns ? spec->netns : "-");
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return r;
}

/* ---- small helpers ----------------------------------------------------------------------- */

static char **strv_copy(const char *const *v)
{
	size_t n = 0;
	char **c;

	while (v[n])
		n++;
	c = sf_xcalloc(n + 1, sizeof(*c));
	for (size_t i = 0; i < n; i++)
		c[i] = sf_xstrdup(v[i]);
	return c;
}

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static char *strdup_or_null(const char *s)
{
	return s ? sf_xstrdup(s) : NULL;
}

/* Wait until the process behind pidfd has exited, up to timeout_ms: true if it has. */
static bool pidfd_wait(int pidfd, int timeout_ms)
{
	uint64_t deadline = sf_now_monotonic_ms() + (uint64_t)timeout_ms;
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

	for (;;) {
		uint64_t now = sf_now_monotonic_ms();
		int r = poll(&pfd, 1, now >= deadline ? 0 : (int)(deadline - now));

		if (r > 0)
			return true;
		if (r == 0 || errno != EINTR)
			return false;
	}
}

/* Read a whole small file (a pid file, /proc/<pid>/cmdline). */
static int read_small(const char *path, char *buf, size_t size, size_t *ret_len)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size && (n = read(fd, buf + len, size - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		len += (size_t)n;
	}
	close(fd);
	*ret_len = len;
	return 0;
}

/* ---- the class wrapper ------------------------------------------------------------------- */

struct sf_proc {
	const struct sf_proc_class *cls;
	void *ctx;
};

struct sf_proc *sf_proc_new_with_class(const struct sf_proc_class *cls, void *ctx)
{
	struct sf_proc *p = sf_xmalloc(sizeof(*p));

	p->cls = cls;
	p->ctx = ctx;
	return p;
}

void *sf_proc_ctx(const struct sf_proc *p, const struct sf_proc_class *cls)
{
	return p->cls == cls ? p->ctx : NULL;
}

void sf_proc_free(struct sf_proc *p)
{
	if (!p)
		return;
	p->cls->free(p->ctx);
	free(p);
}

int sf_proc_fd(struct sf_proc *p)
{
	return p->cls->fd(p->ctx);
}

int sf_proc_dispatch(struct sf_proc *p, int *ret_timeout_ms)
{
	return p->cls->dispatch(p->ctx, ret_timeout_ms);
}

int sf_proc_start(struct sf_proc *p, const char *key, const struct sf_proc_spec *spec)
{
	if (!key || !*key || !argv_ok(spec->argv))
		return -EINVAL;
	return p->cls->start(p->ctx, key, spec);
}

int sf_proc_adopt(struct sf_proc *p, const char *key, const struct sf_proc_spec *spec)
{
	if (!key || !*key || !argv_ok(spec->argv) || !spec->pidfile)
		return -EINVAL;
	return p->cls->adopt(p->ctx, key, spec);
}

int sf_proc_signal(struct sf_proc *p, const char *key, int sig)
{
	return p->cls->signal(p->ctx, key, sig);
}

int sf_proc_stop(struct sf_proc *p, const char *key)
{
	return p->cls->stop(p->ctx, key);
}

int sf_proc_pid(struct sf_proc *p, const char *key, pid_t *ret_pid)
{
	return p->cls->pid(p->ctx, key, ret_pid);
}

int sf_proc_keys(struct sf_proc *p, char ***ret_keys, size_t *ret_n)
{
	return p->cls->keys(p->ctx, ret_keys, ret_n);
}

int sf_proc_run(struct sf_proc *p, const struct sf_proc_run_spec *spec,
		struct sf_proc_result **ret_result)
{
	if (!argv_ok(spec->argv) || spec->timeout_ms <= 0)
		return -EINVAL;
	return p->cls->run(p->ctx, spec, ret_result);
}

void sf_proc_result_free(struct sf_proc_result *result)
{
	if (!result)
		return;
	free(result->out);
	free(result->err);
	free(result);
}

/* ---- the real supervisor ----------------------------------------------------------------- */

enum child_state {
	CHILD_RUNNING,
	CHILD_WAITING, /* dead, restart at restart_at_ms */
};

struct child {
	char *key;
	char **argv;
	char *netns, *pidfile, *log_path;
	enum child_state state;
	pid_t pid;
	int pidfd;
	bool adopted; /* not our child: no SIGCHLD, no waitpid status */
	uint64_t started_ms, restart_at_ms;
	unsigned attempt;
	struct child *next;
};

struct real {
	struct sf_proc_options opt;
	int sfd;
	struct child *children;
};

static struct child *child_find(struct real *rp, const char *key)
{
	for (struct child *c = rp->children; c; c = c->next)
		if (!strcmp(c->key, key))
			return c;
	return NULL;
}

static struct child *child_new(struct real *rp, const char *key, const struct sf_proc_spec *spec)
{
	struct child *c = sf_xcalloc(1, sizeof(*c));

	c->key = sf_xstrdup(key);
	c->argv = strv_copy(spec->argv);
	c->netns = strdup_or_null(spec->netns);
	c->pidfile = strdup_or_null(spec->pidfile);
	c->log_path = strdup_or_null(spec->log_path);
	c->pidfd = -1;
	c->next = rp->children;
	rp->children = c;
	return c;
}

static void child_unlink_free(struct real *rp, struct child *c)
{
	for (struct child **pp = &rp->children; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c->key);
	strv_free(c->argv);
	free(c->netns);
	free(c->pidfile);
	free(c->log_path);
	free(c);
}

/*
 * A supervised child's pidfd lives as long as the child: one per network on a network node,
 * over a thousand at scale. Libraries that still watch sockets with select() (libnftables'
 * mnl_batch_talk) abort on a descriptor >= FD_SETSIZE, so the long-lived pidfds are moved
 * above it, leaving the low numbers to short-lived sockets. Stays put if the limit is lower.
 */
#define PIDFD_FLOOR 1024

static int fd_keep_high(int fd)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, PIDFD_FLOOR);

	if (high < 0)
		return fd;
	close(fd);
	return high;
}

static int child_spawn(struct child *c)
{
	struct sf_proc_spec spec = {
		.argv = (const char *const *)c->argv,
		.netns = c->netns,
		.pidfile = c->pidfile,
		.log_path = c->log_path,
	};
	pid_t pid = 0;
	int fd, r;

	r = sf_proc_spawn(&spec, &pid);
	if (r < 0)
		return r;
	/* Our child stays a zombie until we reap it, so the pidfd cannot refer to another
	 * process. It lets stop wait with a timeout and signal without pid reuse races. */
	fd = pidfd_open(pid, 0);
	if (fd < 0) {
		r = -errno;
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return r;
	}
	c->pid = pid;
	c->pidfd = fd_keep_high(fd);
	c->adopted = false;
	c->state = CHILD_RUNNING;
	c->started_ms = sf_now_monotonic_ms();
	return 0;
}

/* The child is gone (reaped if it was ours): schedule its restart. */
static void child_died(struct real *rp, struct child *c, int wstatus, uint64_t now)
{
	pid_t pid = c->pid;

	close(c->pidfd);
	c->pidfd = -1;
	c->pid = 0;
	if (now - c->started_ms >= rp->opt.stable_after_ms)
		c->attempt = 0;
	c->restart_at_ms =
		now + sf_backoff_ms(c->attempt, rp->opt.restart_base_ms, rp->opt.restart_cap_ms);
	c->attempt++;
	c->state = CHILD_WAITING;
	sf_log_debug("%s: pid %d died (status %d), restart in %llu ms", c->key, (int)pid, wstatus,
		     (unsigned long long)(c->restart_at_ms - now));
	if (rp->opt.on_exit)
		rp->opt.on_exit(rp->opt.userdata, c->key, pid, wstatus);
}

static bool child_check_dead(struct child *c, int *ret_wstatus)
{
	int st;

	if (!c->adopted) {
		pid_t w = waitpid(c->pid, &st, WNOHANG);

		if (w == c->pid) {
			*ret_wstatus = st;
			return true;
		}
		/* ECHILD: someone else reaped it (waitpid(-1) elsewhere); the status is lost. */
		if (w < 0 && errno == ECHILD) {
			*ret_wstatus = -1;
			return true;
		}
		return false;
	}
	if (!pidfd_wait(c->pidfd, 0))
		return false;
	/* Reaped by its real parent; if it happens to be ours (a test), reap it here. */
	(void)waitpid(c->pid, NULL, WNOHANG);
	*ret_wstatus = -1;
	return true;
}

static int real_dispatch(void *ctx, int *ret_timeout_ms)
{
	struct real *rp = ctx;
	struct signalfd_siginfo si;
	int64_t timeout = -1;
	uint64_t now;

	/* The signalfd only wakes us up: signals coalesce, so check every child below. */
	while (read(rp->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	now = sf_now_monotonic_ms();
	for (struct child *c = rp->children; c; c = c->next) {
		int wstatus, r;

		if (c->state == CHILD_RUNNING && child_check_dead(c, &wstatus))
			child_died(rp, c, wstatus, now);
		if (c->state == CHILD_WAITING && now >= c->restart_at_ms) {
			r = child_spawn(c);
			if (r < 0) {
				sf_log_debug_errno(r, "%s: restart failed", c->key);
				c->started_ms = now;
				c->restart_at_ms =
					now + sf_backoff_ms(c->attempt, rp->opt.restart_base_ms,
							    rp->opt.restart_cap_ms);
				c->attempt++;
			} else {
				sf_log_debug("%s: restarted as pid %d", c->key, (int)c->pid);
			}
		}
		if (c->state == CHILD_WAITING) {
			int64_t left = (int64_t)(c->restart_at_ms - now);

			if (timeout < 0 || left < timeout)
				timeout = left;
		}
	}
	*ret_timeout_ms = timeout > INT_MAX ? INT_MAX : (int)timeout;
	return 0;
}

static int real_fd(void *ctx)
{
	return ((struct real *)ctx)->sfd;
}

static int real_start(void *ctx, const char *key, const struct sf_proc_spec *spec)
{
	struct real *rp = ctx;
	struct child *c;
	int r;

	if (child_find(rp, key))
		return -EEXIST;
	c = child_new(rp, key, spec);
	r = child_spawn(c);
	if (r < 0)
		child_unlink_free(rp, c);
	return r;
}

/* Is the namespace of pid the one spec asks for? */
static int same_netns(pid_t pid, const char *netns)
{
	struct stat a, b;
	char path[64];
	int fd = -1, r;

	(void)sf_bprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &a) < 0)
		return -errno;
	if (netns) {
		r = sf_netns_open(netns, &fd);
		if (r < 0)
			return r;
		r = fstat(fd, &b) < 0 ? -errno : 0;
		close(fd);
		if (r < 0)
			return r;
	} else if (stat("/proc/self/ns/net", &b) < 0) {
		return -errno;
	}
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Does /proc/<pid>/cmdline hold exactly argv? */
static bool same_cmdline(pid_t pid, char *const *argv)
{
	char path[64], buf[8192];
	size_t len = 0, off = 0;

	(void)sf_bprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (read_small(path, buf, sizeof(buf), &len) < 0 || len == sizeof(buf))
		return false;
	for (char *const *a = argv; *a; a++) {
		size_t n = strlen(*a) + 1; /* with its NUL */

		if (off + n > len || memcmp(buf + off, *a, n) != 0)
			return false;
		off += n;
	}
	return off == len;
}

static int real_adopt(void *ctx, const char *key, const struct sf_proc_spec *spec)
{
	struct real *rp = ctx;
	struct child *c;
	char buf[32];
	size_t len = 0;
	long pid;
	int fd, r;

	if (child_find(rp, key))
		return -EEXIST;
	r = read_small(spec->pidfile, buf, sizeof(buf) - 1, &len);
	if (r < 0)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	if (sf_parse_long(buf, 1, INT_MAX, &pid) < 0)
		return -EINVAL;
	fd = pidfd_open((pid_t)pid, 0);
	if (fd < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	/* The pidfd pins this pid: whatever we check now is the process we will supervise. */
	if (!same_cmdline((pid_t)pid, (char *const *)spec->argv) ||
	    same_netns((pid_t)pid, spec->netns) != 1 || pidfd_wait(fd, 0)) {
		close(fd);
		return -ESRCH;
	}
	c = child_new(rp, key, spec);
	c->pid = (pid_t)pid;
	c->pidfd = fd_keep_high(fd);
	c->adopted = true;
	c->state = CHILD_RUNNING;
	c->started_ms = sf_now_monotonic_ms();
	sf_log_debug("%s: adopted pid %ld", key, pid);
	return 0;
}

static int real_signal(void *ctx, const char *key, int sig)
{
	struct child *c = child_find(ctx, key);

	if (!c)
		return -ENOENT;
	if (c->state != CHILD_RUNNING)
		return -ESRCH;
	return pidfd_send_signal(c->pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

static int real_stop(void *ctx, const char *key)
{
	struct real *rp = ctx;
	struct child *c = child_find(rp, key);

	if (!c)
		return -ENOENT;
	if (c->state == CHILD_RUNNING) {
		(void)pidfd_send_signal(c->pidfd, SIGTERM, NULL, 0);
		if (!pidfd_wait(c->pidfd, rp->opt.stop_timeout_ms)) {
			sf_log_debug("%s: pid %d ignored SIGTERM, killing", key, (int)c->pid);
			(void)pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
			(void)pidfd_wait(c->pidfd, 5000);
		}
		(void)waitpid(c->pid, NULL, c->adopted ? WNOHANG : 0);
	}
	child_unlink_free(rp, c);
	return 0;
}

static int real_pid(void *ctx, const char *key, pid_t *ret_pid)
{
	struct child *c = child_find(ctx, key);

	if (!c)
		return -ENOENT;
	if (c->state != CHILD_RUNNING)
		return -ESRCH;
	*ret_pid = c->pid;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int real_keys(void *ctx, char ***ret_keys, size_t *ret_n)
{
	struct real *rp = ctx;
	size_t n = 0, i = 0;
	char **keys;

	for (struct child *c = rp->children; c; c = c->next)
		n++;
	keys = sf_xcalloc(n + 1, sizeof(*keys));
	for (struct child *c = rp->children; c; c = c->next)
		keys[i++] = sf_xstrdup(c->key);
	qsort(keys, n, sizeof(*keys), cmp_str);
	*ret_keys = keys;
	*ret_n = n;
	return 0;
}

struct capture {
	int fd; /* -1 once at EOF */
	char *data;
	size_t len, max;
};

static void capture_read(struct capture *cap)
{
	char buf[4096];
	ssize_t n = read(cap->fd, buf, sizeof(buf));
	size_t keep;

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		close(cap->fd);
		cap->fd = -1;
		return;
	}
	keep = cap->max - cap->len < (size_t)n ? cap->max - cap->len : (size_t)n;
	memcpy(cap->data + cap->len, buf, keep);
	cap->len += keep;
	cap->data[cap->len] = '\0';
}

static int real_run(void *ctx, const struct sf_proc_run_spec *spec,
		    struct sf_proc_result **ret_result)
{
	size_t max = spec->max_output ? spec->max_output : DEFAULT_MAX_OUTPUT;
	struct capture cap[2] = {{.fd = -1, .max = max}, {.fd = -1, .max = max}};
	int out[2] = {-1, -1}, err[2] = {-1, -1}, fds[3], pidfd = -1, st, r;
	uint64_t deadline = sf_now_monotonic_ms() + (uint64_t)spec->timeout_ms;
	struct sf_proc_result *res;
	bool exited = false;
	pid_t pid = 0;

	(void)ctx;
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fds[0] < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		goto out_close;
	}
	fds[1] = out[1];
	fds[2] = err[1];
	r = spawn_fds(spec->argv, spec->netns, fds, &pid);
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	if (r < 0)
		goto out_close;
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		r = -errno;
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		goto out_close;
	}
	cap[0].fd = out[0];
	cap[1].fd = err[0];
	out[0] = err[0] = -1;
	cap[0].data = sf_xcalloc(1, max + 1);
	cap[1].data = sf_xcalloc(1, max + 1);

	for (;;) {
		struct pollfd pfd[3];
		uint64_t now = sf_now_monotonic_ms();
		int n = 0, timeout;

		if (!exited)
			pfd[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		for (int i = 0; i < 2; i++)
			if (cap[i].fd >= 0)
				pfd[n++] = (struct pollfd){.fd = cap[i].fd, .events = POLLIN};
		if (n == 0)
			break;
		if (!exited && now >= deadline) {
			(void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			(void)waitpid(pid, NULL, 0);
			r = -ETIMEDOUT;
			goto out_close;
		}
		/* Once it has exited, what it wrote is already in the pipes: drain without
		 * waiting (a grandchild could hold them open forever). */
		timeout = exited ? 0 : (int)(deadline - now);
		r = poll(pfd, (nfds_t)n, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			(void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			(void)waitpid(pid, NULL, 0);
			goto out_close;
		}
		if (r == 0 && exited)
			break;
		for (int i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == pidfd)
				exited = true;
			else
				capture_read(pfd[i].fd == cap[0].fd ? &cap[0] : &cap[1]);
		}
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	res = sf_xcalloc(1, sizeof(*res));
	res->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	res->term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	res->out = cap[0].data;
	res->err = cap[1].data;
	cap[0].data = cap[1].data = NULL;
	*ret_result = res;
	r = 0;
out_close:
	for (int i = 0; i < 2; i++) {
		if (cap[i].fd >= 0)
			close(cap[i].fd);
		free(cap[i].data);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (pidfd >= 0)
		close(pidfd);
	return r;
}

static void real_free(void *ctx)
{
	struct real *rp = ctx;

	/* Children keep running (see "Adoption" in proc.h). */
	while (rp->children)
		child_unlink_free(rp, rp->children);
	if (rp->sfd >= 0)
		close(rp->sfd);
	free(rp);
}

static const struct sf_proc_class real_class = {
	.name = "real",
	.free = real_free,
	.fd = real_fd,
	.dispatch = real_dispatch,
	.start = real_start,
	.adopt = real_adopt,
	.signal = real_signal,
	.stop = real_stop,
	.pid = real_pid,
	.keys = real_keys,
	.run = real_run,
};

int sf_proc_new(const struct sf_proc_options *opt, struct sf_proc **ret_proc)
{
	struct sigaction sa;
	struct real *rp;
	sigset_t set;
	int r;

	rp = sf_xcalloc(1, sizeof(*rp));
	if (opt)
		rp->opt = *opt;
	if (!rp->opt.restart_base_ms)
		rp->opt.restart_base_ms = 1000;
	if (!rp->opt.restart_cap_ms)
		rp->opt.restart_cap_ms = 60000;
	if (!rp->opt.stable_after_ms)
		rp->opt.stable_after_ms = 30000;
	if (rp->opt.stop_timeout_ms <= 0)
		rp->opt.stop_timeout_ms = 5000;

	/* SIGCHLD ignored would make the kernel reap our children before we can see them. */
	if (sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
		sa.sa_handler = SIG_DFL;
		(void)sigaction(SIGCHLD, &sa, NULL);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r != 0) {
		free(rp);
		return -r;
	}
	rp->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (rp->sfd < 0) {
		r = -errno;
		free(rp);
		return r;
	}
	*ret_proc = sf_proc_new_with_class(&real_class, rp);
	return 0;
}

/* ---- helpers on top of sf_proc_run() ----------------------------------------------------- */

int sf_proc_ping(struct sf_proc *p, const char *netns, const char *address, unsigned count,
		 unsigned interval_ms, struct sf_proc_result **ret_result)
{
	char count_s[16], interval_s[32];
	uint64_t timeout;
	uint32_t addr;

	if (!address || sf_ipv4_parse(address, &addr) < 0 || count == 0 || count > 10000 ||
	    interval_ms < 10)
		return -EINVAL;
	(void)sf_bprintf(count_s, sizeof(count_s), "%u", count);
	(void)sf_bprintf(interval_s, sizeof(interval_s), "%u.%03u", interval_ms / 1000,
			 interval_ms % 1000);
	/* -n: no reverse lookups (the namespace may have no resolver); -W 2: wait 2 s, not 10,
	 * for a reply that is not coming. */
	const char *argv[] = {SF_PROC_PING, "-n", "-c", count_s, "-i",
			      interval_s,   "-W", "2",	address, NULL};
	timeout = (uint64_t)count * interval_ms + 2000 + 5000;
	struct sf_proc_run_spec spec = {
		.argv = argv,
		.netns = netns,
		.timeout_ms = timeout > INT_MAX ? INT_MAX : (int)timeout,
	};
	return sf_proc_run(p, &spec, ret_result);
}

int sf_proc_dhcp_release(struct sf_proc *p, const char *netns, const char *ifname,
			 const char *address, const char *mac)
{
	char mac_s[SF_MAC_STRLEN];
	struct sf_proc_result *res;
	struct sf_mac m;
	uint32_t addr;
	int r;

	if (!ifname || !*ifname || strlen(ifname) >= 16 || strpbrk(ifname, "/: \t\n") || !address ||
	    sf_ipv4_parse(address, &addr) < 0 || !mac || sf_mac_parse(mac, &m) < 0)
		return -EINVAL;
	const char *argv[] = {SF_PROC_DHCP_RELEASE, ifname, address, sf_mac_format(&m, mac_s),
			      NULL};
	struct sf_proc_run_spec spec = {.argv = argv, .netns = netns, .timeout_ms = 5000};

	r = sf_proc_run(p, &spec, &res);
	if (r < 0)
		return r;
	if (res->exit_code != 0) {
		sf_log_debug("dhcp_release %s %s exited %d: %s", ifname, address, res->exit_code,
			     res->err);
		r = -EIO;
	}
	sf_proc_result_free(res);
	return r;
}
