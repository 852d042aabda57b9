// SPDX-License-Identifier: Apache-2.0
/*
 * sf_proc against real processes in throwaway network namespaces: spawning into a namespace,
 * restart with backoff, signals, stop (and SIGKILL when SIGTERM is ignored), adoption, a real
 * dnsmasq bound to a veth, ping and dhcp_release, run-to-completion with capture and timeout.
 *
 * Needs root and ip, sleep, sh, dnsmasq, ping and dhcp_release; otherwise exits 77 (skipped).
 * Namespaces are named sftest-<pid>-<n>, created with `ip netns add` and always deleted at the
 * end; nothing is configured in the machine's own namespace. Processes are stopped by pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../fakes/testutil.h"
#include "sf/dnsmasq.h"
#include "sf/proc.h"
#include "sf/util.h"

#define SLEEP "/usr/bin/sleep"
#define SH "/bin/sh"

static char ns[64], ns_path[128];
static char dir[64] = "/tmp/sftest-proc-XXXXXX";
static struct sf_proc *sup;	 /* restart base 400 ms, cap 4 s, stable after 10 s */
static struct sf_proc *local[2]; /* supervisors a test makes itself, freed in its teardown */

/* Processes started outside a supervisor (or left by a freed one), killed in teardown if a
 * test failed before stopping them: pid and the program it runs. */
static struct {
	pid_t pid;
	const char *prog;
} tracked[8];
static size_t n_tracked;

/* What on_exit saw last. */
static struct {
	unsigned calls;
	char key[64];
	pid_t pid;
	int wstatus;
} exits;

static void on_exit_cb(void *userdata, const char *key, pid_t pid, int wstatus)
{
	(void)userdata;
	exits.calls++;
	(void)snprintf(exits.key, sizeof(exits.key), "%s", key);
	exits.pid = pid;
	exits.wstatus = wstatus;
}

static ino_t ns_inode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static ino_t pid_ns_inode(pid_t pid)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return ns_inode(path);
}

static bool pid_gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

static int group_setup(void **state)
{
	struct sf_proc_options opt = {
		.restart_base_ms = 400,
		.restart_cap_ms = 4000,
		.stable_after_ms = 10000,
		.stop_timeout_ms = 300,
		.on_exit = on_exit_cb,
	};

	(void)state;
	(void)snprintf(ns, sizeof(ns), "sftest-%d-1", (int)getpid());
	(void)snprintf(ns_path, sizeof(ns_path), "/run/netns/%s", ns);
	if (sf_test_sh("ip netns add %s && ip -n %s link set lo up", ns, ns) < 0)
		return -1;
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0) /* dnsmasq reads it as nobody */
		return -1;
	return sf_proc_new(&opt, &sup);
}

static void track(pid_t pid, const char *prog)
{
	assert_true(n_tracked < SF_ARRAY_SIZE(tracked));
	tracked[n_tracked].pid = pid;
	tracked[n_tracked++].prog = prog;
}

static void stop_all(struct sf_proc *p)
{
	char **keys;
	size_t n;

	if (!p || sf_proc_keys(p, &keys, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		(void)sf_proc_stop(p, keys[i]);
		free(keys[i]);
	}
	free(keys);
}

/* After each test: whatever it left running is stopped, by pid. */
static int test_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(local); i++) {
		stop_all(local[i]);
		sf_proc_free(local[i]);
		local[i] = NULL;
	}
	for (size_t i = 0; i < n_tracked; i++) {
		char path[64], cmd[256] = "";
		FILE *f;

		(void)snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)tracked[i].pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(cmd, sizeof(cmd), f) && !strcmp(cmd, tracked[i].prog)) {
			(void)kill(tracked[i].pid, SIGKILL);
			(void)waitpid(tracked[i].pid, NULL, 0);
		}
		fclose(f);
	}
	n_tracked = 0;
	stop_all(sup);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sf_proc_free(sup);
	(void)sf_test_sh("ip netns del %s", ns);
	(void)sf_test_sh("rm -rf '%s'", dir);
	return 0;
}

/* Dispatch until key runs with a pid other than old (or timeout_ms passes): the new pid and
 * how long it took, in ms. */
static uint64_t wait_restart(struct sf_proc *p, const char *key, pid_t old, int timeout_ms,
			     pid_t *ret_pid)
{
	uint64_t start = sf_now_monotonic_ms();
	struct pollfd pfd = {.fd = sf_proc_fd(p), .events = POLLIN};

	for (;;) {
		uint64_t el = sf_now_monotonic_ms() - start;
		int t;
		pid_t pid;

		assert_int_equal(sf_proc_dispatch(p, &t), 0);
		if (sf_proc_pid(p, key, &pid) == 0 && pid != old) {
			*ret_pid = pid;
			return el;
		}
		if (el > (uint64_t)timeout_ms)
			fail_msg("%s not restarted within %d ms", key, timeout_ms);
		(void)poll(&pfd, 1, t < 0 || t > 50 ? 50 : t);
	}
}

/* The pidfds this process holds: how many, and how many below FD_SETSIZE. */
static void count_pidfds(unsigned *ret_all, unsigned *ret_low)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[300], target[64];

	*ret_all = *ret_low = 0;
	assert_non_null(d);
	while ((e = readdir(d))) {
		ssize_t n;

		(void)snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "anon_inode:[pidfd]") != 0)
			continue;
		(*ret_all)++;
		*ret_low += atoi(e->d_name) < FD_SETSIZE;
	}
	closedir(d);
}

static void test_spawn_in_netns(void **state)
{
	const char *argv[] = {SLEEP, "100", NULL};
	struct sf_proc_spec spec = {.argv = argv, .netns = ns};
	ino_t self = ns_inode("/proc/thread-self/ns/net");
	unsigned pidfds, low;
	struct rlimit rl;
	pid_t pid;

	(void)state;
	assert_int_equal(sf_proc_start(sup, "sleeper", &spec), 0);
	assert_int_equal(sf_proc_start(sup, "sleeper", &spec), -EEXIST);
	/* the child's pidfd, kept while it lives, stays out of select()'s range when it can */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	count_pidfds(&pidfds, &low);
	assert_true(pidfds >= 1);
	if (rl.rlim_cur > 1024 + 16)
		assert_int_equal(low, 0);
	assert_int_equal(sf_proc_pid(sup, "sleeper", &pid), 0);
	assert_true(pid_ns_inode(pid) == ns_inode(ns_path));
	assert_true(pid_ns_inode(pid) != self);
	assert_int_equal(getpgid(pid), pid); /* its own process group */
	/* We did not move. */
	assert_true(ns_inode("/proc/thread-self/ns/net") == self);
	assert_int_equal(sf_proc_stop(sup, "sleeper"), 0);
	assert_true(pid_gone(pid));
	assert_int_equal(sf_proc_stop(sup, "sleeper"), -ENOENT);
	assert_int_equal(sf_proc_pid(sup, "sleeper", &pid), -ENOENT);
}

static void test_spawn_errors(void **state)
{
	const char *missing[] = {"/nonexistent/prog", NULL};
	const char *relative[] = {"sleep", "1", NULL};
	const char *argv[] = {SLEEP, "1", NULL};
	struct sf_proc_spec spec = {.argv = missing};
	pid_t pid;

	(void)state;
	assert_int_equal(sf_proc_spawn(&spec, &pid), -ENOENT); /* posix_spawn */
	spec.netns = ns;
	assert_int_equal(sf_proc_spawn(&spec, &pid), -ENOENT); /* posix_spawn in the namespace */
	assert_int_equal(sf_proc_start(sup, "missing", &spec), -ENOENT);
	assert_int_equal(sf_proc_pid(sup, "missing", &pid), -ENOENT); /* not registered */
	spec.argv = relative;
	assert_int_equal(sf_proc_spawn(&spec, &pid), -EINVAL);
	spec.argv = argv;
	spec.netns = "sftest-no-such-namespace";
	assert_int_equal(sf_proc_spawn(&spec, &pid), -ENOENT);
	spec.netns = "../etc";
	assert_int_equal(sf_proc_spawn(&spec, &pid), -EINVAL);
}

static void test_restart_with_backoff(void **state)
{
	const char *argv[] = {SLEEP, "100", NULL};
	struct sf_proc_spec spec = {.argv = argv, .netns = ns};
	pid_t pid, pid2, pid3;
	uint64_t d1, d2;

	(void)state;
	assert_int_equal(sf_proc_start(sup, "restarter", &spec), 0);
	assert_int_equal(sf_proc_pid(sup, "restarter", &pid), 0);

	exits.calls = 0;
	assert_int_equal(kill(pid, SIGKILL), 0);
	/* First restart after 400 ms +-25%, the second after 800 ms +-25%. */
	d1 = wait_restart(sup, "restarter", pid, 3000, &pid2);
	assert_int_equal(exits.calls, 1);
	assert_string_equal(exits.key, "restarter");
	assert_int_equal(exits.pid, pid);
	assert_true(WIFSIGNALED(exits.wstatus) && WTERMSIG(exits.wstatus) == SIGKILL);
	assert_true(pid_ns_inode(pid2) == ns_inode(ns_path));
	/* Meanwhile it was waiting: no pid, no signal. */
	assert_int_equal(kill(pid2, SIGKILL), 0);
	d2 = wait_restart(sup, "restarter", pid2, 3000, &pid3);
	if (d1 < 300 || d1 > 700 || d2 < 600 || d2 > 1300)
		fail_msg("restart delays %llu ms then %llu ms; want ~400 then ~800",
			 (unsigned long long)d1, (unsigned long long)d2);
	assert_true(pid_ns_inode(pid3) == ns_inode(ns_path));
	assert_int_equal(sf_proc_stop(sup, "restarter"), 0);
	assert_true(pid_gone(pid3));
}

/* A child that stays up for stable_after_ms starts over at the base delay. */
static void test_backoff_resets_when_stable(void **state)
{
	struct sf_proc_options opt = {
		.restart_base_ms = 400, .restart_cap_ms = 4000, .stable_after_ms = 500};
	const char *argv[] = {SLEEP, "100", NULL};
	struct sf_proc_spec spec = {.argv = argv};
	struct sf_proc *p;
	pid_t pid, pid2, pid3;
	uint64_t d;

	(void)state;
	assert_int_equal(sf_proc_new(&opt, &local[0]), 0);
	p = local[0];
	assert_int_equal(sf_proc_start(p, "stable", &spec), 0);
	assert_int_equal(sf_proc_pid(p, "stable", &pid), 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	(void)wait_restart(p, "stable", pid, 3000, &pid2);
	sf_sleep_ms(700); /* longer than stable_after_ms */
	assert_int_equal(kill(pid2, SIGKILL), 0);
	d = wait_restart(p, "stable", pid2, 3000, &pid3);
	if (d > 580)
		fail_msg("restart after %llu ms; the backoff should be back at ~400",
			 (unsigned long long)d);
	assert_int_equal(sf_proc_stop(p, "stable"), 0);
	assert_true(pid_gone(pid3));
}

static void test_signal_delivered(void **state)
{
	const char *argv[] = {SLEEP, "100", NULL};
	struct sf_proc_spec spec = {.argv = argv, .netns = ns};
	pid_t pid, pid2;

	(void)state;
	assert_int_equal(sf_proc_start(sup, "hup", &spec), 0);
	assert_int_equal(sf_proc_pid(sup, "hup", &pid), 0);
	exits.calls = 0;
	assert_int_equal(sf_proc_signal(sup, "hup", SIGHUP), 0);
	/* sleep dies of SIGHUP; the supervisor sees which signal. */
	(void)wait_restart(sup, "hup", pid, 3000, &pid2);
	assert_int_equal(exits.calls, 1);
	assert_true(WIFSIGNALED(exits.wstatus) && WTERMSIG(exits.wstatus) == SIGHUP);
	assert_int_equal(sf_proc_signal(sup, "nobody", SIGHUP), -ENOENT);
	assert_int_equal(sf_proc_stop(sup, "hup"), 0);
	assert_true(pid_gone(pid2));
}

static void test_stop_kills_when_term_ignored(void **state)
{
	/* exec keeps SIGTERM ignored in sleep itself, so no orphan is left behind. */
	const char *argv[] = {SH, "-c", "trap '' TERM; exec " SLEEP " 100", NULL};
	struct sf_proc_spec spec = {.argv = argv, .netns = ns};
	uint64_t t0;
	pid_t pid;

	(void)state;
	assert_int_equal(sf_proc_start(sup, "stubborn", &spec), 0);
	assert_int_equal(sf_proc_pid(sup, "stubborn", &pid), 0);
	sf_sleep_ms(200); /* let sh run the trap and exec */
	t0 = sf_now_monotonic_ms();
	assert_int_equal(sf_proc_stop(sup, "stubborn"), 0);
	assert_true(sf_now_monotonic_ms() - t0 >= 300); /* stop_timeout_ms, then SIGKILL */
	assert_true(pid_gone(pid));
}

/* Wait until pid's exec has set up its arguments: a spawn returns once the child has let go of
 * our memory, a moment before /proc/<pid>/cmdline shows the new program's. */
static void wait_exec_done(pid_t pid)
{
	char path[64], buf[256];

	(void)snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

		if (f)
			fclose(f);
		if (n > 0)
			return;
		usleep(1000);
	}
	fail_msg("pid %d shows no arguments after 2 s", (int)pid);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void test_adopt(void **state)
{
	const char *argv[] = {SLEEP, "101", NULL};
	const char *other[] = {SLEEP, "102", NULL};
	char pidfile[128], text[32];
	struct sf_proc_spec spec = {.argv = argv, .netns = ns, .pidfile = pidfile};
	pid_t pid, pid2, got;

	(void)state;
	(void)snprintf(pidfile, sizeof(pidfile), "%s/adopt.pid", dir);
	assert_int_equal(sf_proc_adopt(sup, "adoptee", &spec), -ENOENT);
	write_file(pidfile, "garbage\n");
	assert_int_equal(sf_proc_adopt(sup, "adoptee", &spec), -EINVAL);

	assert_int_equal(sf_proc_spawn(&spec, &pid), 0); /* "a previous daemon" started it */
	track(pid, SLEEP);
	wait_exec_done(pid);
	(void)snprintf(text, sizeof(text), "%d\n", (int)pid);
	write_file(pidfile, text);
	spec.argv = other; /* not the command we would run */
	assert_int_equal(sf_proc_adopt(sup, "adoptee", &spec), -ESRCH);
	spec.argv = argv;
	spec.netns = NULL; /* not in the namespace we would use */
	assert_int_equal(sf_proc_adopt(sup, "adoptee", &spec), -ESRCH);
	spec.netns = ns;
	assert_int_equal(sf_proc_adopt(sup, "adoptee", &spec), 0);
	assert_int_equal(sf_proc_pid(sup, "adoptee", &got), 0);
	assert_int_equal(got, pid);
	assert_int_equal(sf_proc_adopt(sup, "adoptee", &spec), -EEXIST);

	/* It dies: seen through the pidfd, restarted as our own child. */
	exits.calls = 0;
	assert_int_equal(kill(pid, SIGKILL), 0);
	(void)wait_restart(sup, "adoptee", pid, 3000, &pid2);
	assert_int_equal(exits.calls, 1);
	assert_int_equal(exits.wstatus, -1);
	assert_true(pid_gone(pid)); /* reaped, though it was not started by this supervisor */
	assert_true(pid_ns_inode(pid2) == ns_inode(ns_path));
	assert_int_equal(sf_proc_stop(sup, "adoptee"), 0);
	assert_true(pid_gone(pid2));

	/* A dead pid is not adopted. */
	assert_int_equal(sf_proc_adopt(sup, "adoptee", &spec), -ESRCH);
}

static int count_lines_with(const char *path, const char *needle)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* Is UDP port 67 bound in the namespace of pid? (/proc/<pid>/net is that namespace's view) */
static bool dhcp_port_bound(pid_t pid)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/net/udp", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, ":0043 "))
			found = true;
	fclose(f);
	return found;
}

#define WAIT_FOR(cond, ms)                                            \
	do {                                                          \
		uint64_t t0_ = sf_now_monotonic_ms();                 \
		while (!(cond) && sf_now_monotonic_ms() - t0_ < (ms)) \
			sf_sleep_ms(20);                              \
		if (!(cond))                                          \
			fail_msg("timed out waiting for %s", #cond);  \
	} while (0)

static void test_dnsmasq(void **state)
{
	const struct sf_dnsmasq_host hosts[] = {{"02:00:00:00:00:05", "vm5", 0x0ac90005}};
	struct sf_dnsmasq_net net = {
		.uuid = "test",
		.dir = dir,
		.ifname = "sfv0",
		.netblock = {0x0ac90000, 24}, /* 10.201.0.0/24 */
		.namespace_name = "sftest",
		.zone = "example",
		.dns_server = "192.0.2.53",
		.mtu = 1450,
		.provide_dhcp = true,
		.provide_nat = true,
	};
	char path[256], pidfile[256], logfile[256], hostsfile[256], leases[256], text[64];
	struct sf_proc_options opt = {.stop_timeout_ms = 2000};
	struct sf_proc_spec spec;
	struct sf_proc *a;
	char *conf, *hosts_text, **argv;
	pid_t pid, got;
	long filepid = 0;

	(void)state;
	/* A veth inside the test namespace, holding the router address. */
	assert_int_equal(sf_test_sh("ip -n %s link add sfv0 type veth peer name sfv1 && "
			    "ip -n %s addr add 10.201.0.1/24 dev sfv0 && "
			    "ip -n %s link set sfv0 up && ip -n %s link set sfv1 up",
			    ns, ns, ns, ns),
			 0);
	assert_int_equal(sf_dnsmasq_render_config(&net, &conf), 0);
	assert_int_equal(sf_dnsmasq_render_hosts(hosts, 1, &hosts_text), 0);
	(void)snprintf(path, sizeof(path), "%s/" SF_DNSMASQ_CONFIG, dir);
	write_file(path, conf);
	(void)snprintf(hostsfile, sizeof(hostsfile), "%s/" SF_DNSMASQ_HOSTS, dir);
	write_file(hostsfile, hosts_text);
	/* A lease that dhcp_release will take back: "<expiry> <mac> <ip> <hostname> <clientid>" */
	(void)snprintf(leases, sizeof(leases), "%s/" SF_DNSMASQ_LEASES, dir);
	(void)snprintf(text, sizeof(text), "%ld 02:00:00:00:00:05 10.201.0.5 vm5 *\n",
		       (long)sf_now_epoch() + 3600);
	write_file(leases, text);
	free(conf);
	free(hosts_text);

	assert_int_equal(sf_dnsmasq_argv(SF_PROC_DNSMASQ, dir, &argv), 0);
	(void)snprintf(pidfile, sizeof(pidfile), "%s/" SF_DNSMASQ_PID, dir);
	(void)snprintf(logfile, sizeof(logfile), "%s/dnsmasq.log", dir);
	spec = (struct sf_proc_spec){
		.argv = (const char *const *)argv,
		.netns = ns,
		.pidfile = pidfile,
		.log_path = logfile,
	};
	assert_int_equal(sf_proc_new(&opt, &local[0]), 0);
	a = local[0];
	assert_int_equal(sf_proc_start(a, "net-1", &spec), 0);
	assert_int_equal(sf_proc_pid(a, "net-1", &pid), 0);
	track(pid, SF_PROC_DNSMASQ);

	/* Running in the namespace, listening on the DHCP port, and it wrote its pid file. */
	WAIT_FOR(dhcp_port_bound(pid), 5000);
	assert_true(pid_ns_inode(pid) == ns_inode(ns_path));
	{
		FILE *f = fopen(pidfile, "r");

		assert_non_null(f);
		assert_int_equal(fscanf(f, "%ld", &filepid), 1);
		fclose(f);
	}
	assert_int_equal(filepid, pid);

	/* SIGHUP: dnsmasq re-reads its hosts file (and logs it). */
	WAIT_FOR(count_lines_with(logfile, hostsfile) == 1, 5000);
	assert_int_equal(sf_proc_signal(a, "net-1", SIGHUP), 0);
	WAIT_FOR(count_lines_with(logfile, hostsfile) == 2, 5000);

	/* dhcp_release in the namespace: the lease disappears from the leases file. */
	assert_int_equal(count_lines_with(leases, "10.201.0.5"), 1);
	assert_int_equal(sf_proc_dhcp_release(a, ns, "sfv0", "10.201.0.5", "02:00:00:00:00:05"), 0);
	WAIT_FOR(count_lines_with(leases, "10.201.0.5") == 0, 5000);
	assert_int_equal(sf_proc_dhcp_release(a, ns, "sfv0", "10.201.0.5", "not-a-mac"), -EINVAL);

	/* The daemon restarts: the new supervisor adopts the running dnsmasq from its pid file. */
	sf_proc_free(a);
	local[0] = NULL;
	assert_false(pid_gone(pid));
	assert_int_equal(sf_proc_new(&opt, &local[1]), 0);
	assert_int_equal(sf_proc_adopt(local[1], "net-1", &spec), 0);
	assert_int_equal(sf_proc_pid(local[1], "net-1", &got), 0);
	assert_int_equal(got, pid);
	assert_int_equal(sf_proc_stop(local[1], "net-1"), 0);
	assert_true(pid_gone(pid));
	sf_dnsmasq_argv_free(argv);
}

static void test_ping_loopback(void **state)
{
	struct sf_proc_result *res;

	(void)state;
	assert_int_equal(sf_proc_ping(sup, ns, "127.0.0.1", 3, 200, &res), 0);
	assert_int_equal(res->exit_code, 0);
	if (!strstr(res->out, " 0% packet loss"))
		fail_msg("ping output: %s / %s", res->out, res->err);
	assert_non_null(strstr(res->out, "3 packets transmitted"));
	sf_proc_result_free(res);

	/* No route to it in the namespace: ping fails at once, and says so on stderr. */
	assert_int_equal(sf_proc_ping(sup, ns, "192.0.2.1", 1, 200, &res), 0);
	assert_int_equal(res->exit_code, 2);
	assert_non_null(strstr(res->err, "unreachable"));
	sf_proc_result_free(res);

	assert_int_equal(sf_proc_ping(sup, ns, "-f", 1, 200, &res), -EINVAL);
	assert_int_equal(sf_proc_ping(sup, ns, "127.0.0.1", 0, 200, &res), -EINVAL);
}

static void test_run_capture_and_timeout(void **state)
{
	const char *both[] = {SH, "-c", "echo out; echo err >&2; exit 3", NULL};
	const char *chatty[] = {SH, "-c", "echo 123456789", NULL};
	const char *slow[] = {SLEEP, "10", NULL};
	const char *missing[] = {"/nonexistent/prog", NULL};
	struct sf_proc_run_spec spec = {.argv = both, .timeout_ms = 5000};
	struct sf_proc_result *res;
	uint64_t t0;

	(void)state;
	for (int in_ns = 0; in_ns < 2; in_ns++) {
		spec.netns = in_ns ? ns : NULL;
		spec.argv = both;
		assert_int_equal(sf_proc_run(sup, &spec, &res), 0);
		assert_int_equal(res->exit_code, 3);
		assert_int_equal(res->term_signal, 0);
		assert_string_equal(res->out, "out\n");
		assert_string_equal(res->err, "err\n");
		sf_proc_result_free(res);

		spec.argv = missing;
		assert_int_equal(sf_proc_run(sup, &spec, &res), -ENOENT);
	}

	spec.netns = NULL;
	spec.argv = chatty;
	spec.max_output = 4;
	assert_int_equal(sf_proc_run(sup, &spec, &res), 0);
	assert_string_equal(res->out, "1234");
	sf_proc_result_free(res);

	spec.argv = slow;
	spec.timeout_ms = 300;
	t0 = sf_now_monotonic_ms();
	assert_int_equal(sf_proc_run(sup, &spec, &res), -ETIMEDOUT);
	assert_true(sf_now_monotonic_ms() - t0 < 2000);
}

static bool have(const char *path)
{
	return access(path, X_OK) == 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_spawn_in_netns, test_teardown),
		cmocka_unit_test_teardown(test_spawn_errors, test_teardown),
		cmocka_unit_test_teardown(test_restart_with_backoff, test_teardown),
		cmocka_unit_test_teardown(test_backoff_resets_when_stable, test_teardown),
		cmocka_unit_test_teardown(test_signal_delivered, test_teardown),
		cmocka_unit_test_teardown(test_stop_kills_when_term_ignored, test_teardown),
		cmocka_unit_test_teardown(test_adopt, test_teardown),
		cmocka_unit_test_teardown(test_dnsmasq, test_teardown),
		cmocka_unit_test_teardown(test_ping_loopback, test_teardown),
		cmocka_unit_test_teardown(test_run_capture_and_timeout, test_teardown),
	};

	if (getuid() != 0) {
		fprintf(stderr, "test_proc: needs root, skipped\n");
		return 77;
	}
	if (!have("/usr/sbin/ip") && !have("/sbin/ip")) {
		fprintf(stderr, "test_proc: no ip, skipped\n");
		return 77;
	}
	if (!have(SLEEP) || !have(SH) || !have(SF_PROC_DNSMASQ) || !have(SF_PROC_PING) ||
	    !have(SF_PROC_DHCP_RELEASE)) {
		fprintf(stderr, "test_proc: a binary is missing, skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
