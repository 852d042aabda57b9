/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Child processes. This module is the only one that starts any (dnsmasq, ping, dhcp_release).
 *
 * Spawning. Every child is started with posix_spawn(), whose child shares our memory until it
 * execs (no copy of the page tables, whatever our size). A child that must run in another
 * network namespace is spawned while the calling thread is in that namespace (sf_netns_call:
 * it enters, spawns, and comes back before anything else runs on it). The child gets an empty
 * signal mask and default dispositions (the daemon blocks SIGCHLD and ignores SIGPIPE), its own
 * process group, stdin from /dev/null, and no other descriptor of ours. argv[0] must be an absolute
 * path; there is no PATH search.
 *
 * Supervision (keepalived's model). A supervisor owns children by key (a network uuid) and
 * restarts one that dies, after sf_backoff_ms(attempt, restart_base_ms, restart_cap_ms); the
 * attempt count goes back to 0 once a child has stayed up for stable_after_ms. Deaths are
 * noticed through a signalfd for SIGCHLD (sf_proc_fd(); poll it, then call sf_proc_dispatch()).
 * SIGCHLD must be blocked in every thread, so create the supervisor in main() before any
 * thread starts (sf_proc_new() blocks it in the calling thread; threads inherit the mask). If a
 * thread does take a SIGCHLD, nothing is lost: dispatch checks every child with
 * waitpid(pid, WNOHANG) whenever it runs, so call it at least every *ret_timeout_ms anyway (the
 * time until the next restart is due). Only our supervised pids are waited for, never -1, so
 * sf_proc_run() in another thread keeps its own children.
 *
 * Adoption. Supervised children keep running when the supervisor is freed (a daemon restart
 * must not take DHCP down). The next daemon adopts each one from its pid file: the pid must be
 * alive, its /proc/<pid>/cmdline must equal the argv we would start, and it must live in the
 * expected namespace. An adopted process is not our child: its death is seen through a pidfd,
 * and it is then restarted as our own child.
 *
 * A supervisor is used from one thread at a time (the worker's job thread); sf_proc_run() is
 * safe from any thread.
 */
#ifndef SF_PROC_H
#define SF_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SF_PROC_PING "/usr/bin/ping"
#define SF_PROC_DHCP_RELEASE "/usr/bin/dhcp_release"
#define SF_PROC_DNSMASQ "/usr/sbin/dnsmasq"

struct sf_proc_spec {
	const char *const *argv; /* NULL-terminated; argv[0] is an absolute path */
	const char *netns;	 /* a name under /run/netns, an absolute path to a namespace
				  * file, or NULL: the caller's namespace */
	const char *pidfile;	 /* where the program writes its pid (for adoption); may be NULL */
	const char *log_path;	 /* stdout and stderr are appended here; NULL: /dev/null */
};

/* Start one process, unsupervised: 0 and its pid (the caller reaps it). -EINVAL for a bad
 * spec, -ENOENT for a missing namespace or program, or the -errno of the failed step (the
 * child reports setns and execve failures back before this returns). */
int sf_proc_spawn(const struct sf_proc_spec *spec, pid_t *ret_pid);

/* ---- run to completion ------------------------------------------------------------------- */

struct sf_proc_run_spec {
	const char *const *argv; /* as in sf_proc_spec */
	const char *netns;
	int timeout_ms;	   /* > 0: killed with SIGKILL when it runs longer */
	size_t max_output; /* per stream, bytes kept (the rest is read and dropped); 0: 1 MiB */
};

struct sf_proc_result {
	int exit_code;	 /* 0..255 if it exited, else -1 */
	int term_signal; /* the signal that killed it, else 0 */
	char *out;	 /* stdout and stderr, NUL-terminated (never NULL) */
	char *err;
};
void sf_proc_result_free(struct sf_proc_result *result);

/* ---- the supervisor ---------------------------------------------------------------------- */

struct sf_proc;

struct sf_proc_options {
	uint64_t restart_base_ms; /* first restart delay; 0: 1000 */
	uint64_t restart_cap_ms;  /* 0: 60000 */
	uint64_t stable_after_ms; /* up this long resets the backoff; 0: 30000 */
	int stop_timeout_ms;	  /* SIGTERM, then SIGKILL after this; 0: 5000 */
	/* Called from sf_proc_dispatch() when a supervised child dies (wstatus as from waitpid();
	 * -1 for an adopted process, whose status nobody can know). It must not call back into
	 * the supervisor. May be NULL. */
	void (*on_exit)(void *userdata, const char *key, pid_t pid, int wstatus);
	void *userdata;
};

/* The class: what an implementation provides (the real one here, a fake in tests/fakes). */
struct sf_proc_class {
	const char *name;
	void (*free)(void *ctx);
	int (*fd)(void *ctx);
	int (*dispatch)(void *ctx, int *ret_timeout_ms);
	int (*start)(void *ctx, const char *key, const struct sf_proc_spec *spec);
	int (*adopt)(void *ctx, const char *key, const struct sf_proc_spec *spec);
	int (*signal)(void *ctx, const char *key, int sig);
	int (*stop)(void *ctx, const char *key);
	int (*pid)(void *ctx, const char *key, pid_t *ret_pid);
	int (*keys)(void *ctx, char ***ret_keys, size_t *ret_n);
	int (*run)(void *ctx, const struct sf_proc_run_spec *spec,
		   struct sf_proc_result **ret_result);
};

/* Wrap an implementation. Takes ownership of ctx (sf_proc_free() calls cls->free(ctx)). */
struct sf_proc *sf_proc_new_with_class(const struct sf_proc_class *cls, void *ctx);
/* ctx if p is of class cls, else NULL. */
void *sf_proc_ctx(const struct sf_proc *p, const struct sf_proc_class *cls);

/* The real supervisor. opt may be NULL. Blocks SIGCHLD in the calling thread. */
int sf_proc_new(const struct sf_proc_options *opt, struct sf_proc **ret_proc);
/* Forget every child without stopping it (see "Adoption"); NULL does nothing. */
void sf_proc_free(struct sf_proc *p);

/* The descriptor to poll for POLLIN (a signalfd), or -1 when there is none (the fake). */
int sf_proc_fd(struct sf_proc *p);
/* Reap children that died and start those whose restart is due. *ret_timeout_ms: call again
 * within this many ms (-1: no restart pending). 0 or -errno. */
int sf_proc_dispatch(struct sf_proc *p, int *ret_timeout_ms);

/* Start a supervised child under key (copies spec). -EEXIST if key is taken; spawn errors as
 * sf_proc_spawn(), and then nothing is registered. */
int sf_proc_start(struct sf_proc *p, const char *key, const struct sf_proc_spec *spec);
/* Take over the process named in spec->pidfile under key, if it is the one spec would start
 * (see "Adoption"). -ENOENT: no pid file; -ESRCH: no such process, or not ours; -EEXIST: key
 * taken; -EINVAL: the pid file holds no pid or spec has no pidfile. */
int sf_proc_adopt(struct sf_proc *p, const char *key, const struct sf_proc_spec *spec);
/* Send sig (e.g. SIGHUP: dnsmasq re-reads its host files). -ENOENT: unknown key; -ESRCH: the
 * child is between a death and its restart (the restart reads the files anyway). */
int sf_proc_signal(struct sf_proc *p, const char *key, int sig);
/* SIGTERM, wait up to stop_timeout_ms, then SIGKILL; reaped and forgotten. -ENOENT: unknown. */
int sf_proc_stop(struct sf_proc *p, const char *key);
/* The current pid. -ENOENT: unknown key; -ESRCH: waiting for its restart. */
int sf_proc_pid(struct sf_proc *p, const char *key, pid_t *ret_pid);
/* Every key, sorted (allocated: free each and the array). */
int sf_proc_keys(struct sf_proc *p, char ***ret_keys, size_t *ret_n);

/* Run to completion, capturing stdout and stderr: 0 and the result once it has exited (with
 * any status); -ETIMEDOUT when it had to be killed; spawn errors as sf_proc_spawn(). */
int sf_proc_run(struct sf_proc *p, const struct sf_proc_run_spec *spec,
		struct sf_proc_result **ret_result);

/* `ping -c <count> -i <interval> <address>` in netns (spec 6.12), through sf_proc_run() with a
 * timeout of count * interval + 5 s. The result is returned whatever ping's exit code
 * (upstream accepts 0 and 1: all or some replies missing). -EINVAL: address is not an IPv4
 * address, count is 0 or interval_ms < 10. */
int sf_proc_ping(struct sf_proc *p, const char *netns, const char *address, unsigned count,
		 unsigned interval_ms, struct sf_proc_result **ret_result);

/* `dhcp_release <ifname> <address> <mac>` in netns: tells the network's dnsmasq that the lease
 * is gone (an interface left). 0 when it exited 0; -EIO otherwise; -EINVAL for bad arguments. */
int sf_proc_dhcp_release(struct sf_proc *p, const char *netns, const char *ifname,
			 const char *address, const char *mac);

#endif
