// SPDX-License-Identifier: Apache-2.0
/*
 * netops_nl against the kernel, inside throwaway namespaces "sftest-<pid>-<n>" that this test
 * creates and deletes (also on failure, in the group teardown; namespaces left by an earlier
 * run that crashed are removed at start, when their pid is gone). Every result is read back
 * through the API and, independently, with iproute2 inside the namespace (`ip netns exec`).
 * Nothing is configured in the machine's own namespace and no traffic leaves the test
 * namespaces; the last test checks that the machine's links and this thread's namespace are
 * as they were. Needs root, ip and bridge: otherwise exits 77 (skipped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "../fakes/testutil.h"
#include "sf/netops.h"
#include "sf/util.h"

static char ns_a[64], ns_b[64], ns_c[64], prefix[32];
static struct sf_netops *opa, *opb;
static char *root_links_before;
static ino_t self_ns_before;

/* ---- helpers: iproute2 as an independent reader ---- */

/* Run an iproute2 command that prints JSON; fails the test if it does not succeed. */
static json_t *ip_json(const char *fmt, ...) SF_PRINTF(1, 2);
static json_t *ip_json(const char *fmt, ...)
{
	char *cmd, *out;
	json_error_t e;
	json_t *j;
	va_list ap;
	int st;

	va_start(ap, fmt);
	cmd = sf_xvasprintf(fmt, ap);
	va_end(ap);
	out = sf_test_capture(&st, "%s 2>/dev/null", cmd);
	if (st != 0)
		fail_msg("'%s' failed (status %d)", cmd, st);
	j = json_loads(out, 0, &e);
	if (!j)
		fail_msg("'%s' printed no JSON: %s", cmd, out);
	free(out);
	free(cmd);
	return j;
}

/* `ip -d -j link show dev X` inside ns: the link object (caller decrefs), or NULL. */
static json_t *ip_link(const char *ns, const char *dev)
{
	char *out;
	json_t *arr, *l;
	int st;

	out = sf_test_capture(&st, "ip netns exec %s ip -d -s -j link show dev %s 2>/dev/null", ns, dev);
	free(out);
	if (st != 0)
		return NULL;
	arr = ip_json("ip netns exec %s ip -d -s -j link show dev %s", ns, dev);
	l = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return l;
}

static json_t *info_data(json_t *link)
{
	return json_object_get(json_object_get(link, "linkinfo"), "info_data");
}

static const char *info_kind(json_t *link)
{
	return json_string_value(json_object_get(json_object_get(link, "linkinfo"), "info_kind"));
}

static json_int_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("no integer '%s'", key);
	return json_integer_value(v);
}

static bool json_strv_has(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static bool strv_has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

/* "ifindex:name,..." of the machine's own namespace (read only). */
static char *root_links(void)
{
	json_t *arr = ip_json("ip -j link show"), *l;
	char *s = sf_xstrdup(""), *t;
	size_t i;

	json_array_foreach(arr, i, l) {
		t = sf_xasprintf("%s%lld:%s,", s, (long long)jint(l, "ifindex"),
				 json_string_value(json_object_get(l, "ifname")));
		free(s);
		s = t;
	}
	json_decref(arr);
	return s;
}

static ino_t thread_ns_inode(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

/* Namespaces named sftest-<pid>-* whose process is gone: a crashed earlier run. */
static void remove_stale_namespaces(void)
{
	char **names;
	size_t n;

	if (sf_netns_list(&names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		long pid;

		if (sscanf(names[i], "sftest-%ld-", &pid) != 1 || pid <= 0)
			continue;
		if (pid == (long)getpid() || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
			(void)sf_netns_del(names[i]);
	}
	sf_netops_strv_free(names);
}

static int group_setup(void **state)
{
	(void)state;
	remove_stale_namespaces();
	(void)snprintf(prefix, sizeof(prefix), "sftest-%ld-", (long)getpid());
	(void)snprintf(ns_a, sizeof(ns_a), "%s1", prefix);
	(void)snprintf(ns_b, sizeof(ns_b), "%s2", prefix);
	(void)snprintf(ns_c, sizeof(ns_c), "%s3", prefix);
	root_links_before = root_links();
	self_ns_before = thread_ns_inode();
	if (sf_netns_add(ns_a) < 0 || sf_netns_add(ns_b) < 0)
		return -1;
	if (sf_netops_nl_new(ns_a, &opa) < 0 || sf_netops_nl_new(ns_b, &opb) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sf_netops_free(opa);
	sf_netops_free(opb);
	(void)sf_netns_del(ns_a);
	(void)sf_netns_del(ns_b);
	(void)sf_netns_del(ns_c);
	remove_stale_namespaces(); /* anything else of ours, e.g. the stale-file test's */
	free(root_links_before);
	return 0;
}

/* ---- tests ---- */

static void test_netns_lifecycle(void **state)
{
	char **names, *out, *stale;
	size_t n;
	int fd, st;

	(void)state;
	assert_false(sf_netns_exists(ns_c));
	assert_int_equal(sf_netns_add(ns_c), 0);
	assert_true(sf_netns_exists(ns_c));
	assert_int_equal(sf_netns_add(ns_c), -EEXIST);
	assert_int_equal(sf_netns_list(&names, &n), 0);
	assert_true(strv_has(names, ns_a) && strv_has(names, ns_b) && strv_has(names, ns_c));
	sf_netops_strv_free(names);
	assert_int_equal(sf_netns_open(ns_c, &fd), 0);
	assert_true(fd > 2);
	close(fd);

	/* iproute2 sees it, and it is a fresh namespace with only lo */
	out = sf_test_capture(&st, "ip netns list");
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, ns_c));
	free(out);
	json_t *links = ip_json("ip netns exec %s ip -j link show", ns_c);
	assert_int_equal(json_array_size(links), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(links, 0), "ifname")),
			    "lo");
	json_decref(links);

	assert_int_equal(sf_netns_del(ns_c), 0);
	assert_false(sf_netns_exists(ns_c));
	assert_int_equal(sf_netns_del(ns_c), 0);
	assert_int_equal(sf_netns_open(ns_c, &fd), -ENOENT);
	out = sf_test_capture(&st, "ip netns list");
	assert_null(strstr(out, ns_c));
	free(out);

	/* a file left by an add that died before the bind mount is not a namespace, and is
	 * replaced by the next add */
	stale = sf_xasprintf("%s/%s", SF_NETNS_RUN_DIR, ns_c);
	fd = open(stale, O_RDONLY | O_CREAT | O_EXCL, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_false(sf_netns_exists(ns_c));
	assert_int_equal(sf_netns_add(ns_c), 0);
	assert_true(sf_netns_exists(ns_c));
	assert_int_equal(sf_netns_del(ns_c), 0);
	assert_int_equal(access(stale, F_OK), -1);
	free(stale);

	assert_int_equal(sf_netns_add("a/b"), -EINVAL);
	assert_int_equal(thread_ns_inode(), self_ns_before);
}

/* The handle's socket acts in its namespace; the caller's namespace never changes. */
static void test_handle_is_scoped_to_its_namespace(void **state)
{
	struct sf_netops *ops, *at;
	struct sf_link l;
	char *out;
	int st;

	(void)state;
	assert_int_equal(sf_netops_nl_new("sftest-does-not-exist", &ops), -ENOENT);
	assert_int_equal(sf_netops_nl_new(ns_a, &ops), 0);
	assert_int_equal(thread_ns_inode(), self_ns_before);
	assert_int_equal(
		sf_netops_link_add_bridge(ops, &(struct sf_bridge_spec){.name = "sfscope0"}), 0);
	assert_int_equal(thread_ns_inode(), self_ns_before);
	json_t *jl = ip_link(ns_a, "sfscope0");
	assert_non_null(jl);
	json_decref(jl);
	assert_null(ip_link(ns_b, "sfscope0"));
	out = sf_test_capture(&st, "ip link show dev sfscope0 2>&1"); /* the machine's namespace */
	assert_int_not_equal(st, 0);
	free(out);

	/* sf_netops_at gives a handle in another namespace */
	assert_int_equal(sf_netops_at(ops, ns_b, &at), 0);
	assert_int_equal(sf_netops_link_get(at, "sfscope0", &l), -ENODEV);
	assert_int_equal(sf_netops_link_get(ops, "sfscope0", &l), 0);
	sf_netops_free(at);
	assert_int_equal(sf_netops_link_del(ops, "sfscope0"), 0);
	sf_netops_free(ops);
	assert_int_equal(thread_ns_inode(), self_ns_before);
}

static ino_t own_netns(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static int note_netns(void *arg)
{
	*(ino_t *)arg = own_netns();
	return 42;
}

/* sf_netns_call: fn runs in the namespace, the thread comes back to its own. */
static void test_netns_call(void **state)
{
	ino_t home = own_netns(), inside = 0;
	struct stat target;
	int fd;

	(void)state;
	assert_int_equal(sf_netns_open(ns_a, &fd), 0);
	assert_int_equal(fstat(fd, &target), 0);
	assert_int_equal(sf_netns_call(fd, note_netns, &inside), 42);
	assert_int_equal(inside, target.st_ino);
	assert_int_not_equal(inside, home);
	assert_int_equal(own_netns(), home);
	close(fd);
	/* not a namespace: nothing runs, nothing changes */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	inside = 0;
	assert_int_equal(sf_netns_call(fd, note_netns, &inside), -EINVAL);
	assert_int_equal(inside, 0);
	assert_int_equal(own_netns(), home);
	close(fd);
	/* no namespace given: fn runs where the thread is */
	assert_int_equal(sf_netns_call(-1, note_netns, &inside), 42);
	assert_int_equal(inside, home);
}

/* sf_netns_open: a name under /run/netns or an absolute path to the same namespace file. */
static void test_netns_open_path(void **state)
{
	struct stat by_name, by_path;
	char *path = sf_xasprintf("%s/%s", SF_NETNS_RUN_DIR, ns_a);
	int fd;

	(void)state;
	assert_int_equal(sf_netns_open(ns_a, &fd), 0);
	assert_int_equal(fstat(fd, &by_name), 0);
	close(fd);
	assert_int_equal(sf_netns_open(path, &fd), 0);
	assert_int_equal(fstat(fd, &by_path), 0);
	close(fd);
	assert_true(by_name.st_ino == by_path.st_ino && by_name.st_dev == by_path.st_dev);
	assert_int_equal(sf_netns_open("/proc/self/ns/net", &fd), 0);
	close(fd);
	assert_int_equal(sf_netns_open("run/netns/x", &fd), -EINVAL);
	assert_int_equal(sf_netns_open("..", &fd), -EINVAL);
	assert_int_equal(sf_netns_open(NULL, &fd), -EINVAL);
	free(path);
}

static void test_bridge(void **state)
{
	struct sf_mac mac = {{0x02, 0x00, 0x00, 0xab, 0xcd, 0xef}};
	struct sf_link l;
	json_t *j, *d;

	(void)state;
	assert_int_equal(sf_netops_link_add_bridge(
				 opa, &(struct sf_bridge_spec){.name = "sfbr0", .mtu = 1450}),
			 0);
	assert_int_equal(sf_netops_link_add_bridge(opa, &(struct sf_bridge_spec){.name = "sfbr0"}),
			 -EEXIST);
	assert_int_equal(sf_netops_link_get(opa, "sfbr0", &l), 0);
	assert_string_equal(l.name, "sfbr0");
	assert_string_equal(l.kind, "bridge");
	assert_int_equal(l.mtu, 1450);
	assert_false(l.up);
	assert_true(l.ifindex > 1);

	j = ip_link(ns_a, "sfbr0");
	assert_non_null(j);
	assert_string_equal(info_kind(j), "bridge");
	d = info_data(j);
	assert_int_equal(jint(d, "stp_state"), 0);
	assert_int_equal(jint(d, "forward_delay"), 0);
	assert_int_equal(jint(d, "ageing_time"), 0);
	assert_int_equal(jint(j, "mtu"), 1450);
	assert_int_equal(jint(j, "ifindex"), l.ifindex);
	json_decref(j);

	assert_int_equal(sf_netops_link_set_up(opa, "sfbr0"), 0);
	assert_int_equal(sf_netops_link_set_mtu(opa, "sfbr0", 1400), 0);
	assert_int_equal(sf_netops_link_set_mac(opa, "sfbr0", &mac), 0);
	assert_int_equal(sf_netops_link_get(opa, "sfbr0", &l), 0);
	assert_true(l.up);
	assert_int_equal(l.mtu, 1400);
	assert_memory_equal(l.mac.b, mac.b, 6);
	j = ip_link(ns_a, "sfbr0");
	assert_true(json_strv_has(json_object_get(j, "flags"), "UP"));
	assert_int_equal(jint(j, "mtu"), 1400);
	assert_string_equal(json_string_value(json_object_get(j, "address")), "02:00:00:ab:cd:ef");
	json_decref(j);

	assert_int_equal(sf_netops_link_set_down(opa, "sfbr0"), 0);
	assert_int_equal(sf_netops_link_get(opa, "sfbr0", &l), 0);
	assert_false(l.up);
	assert_int_equal(l.oper, SF_LINK_OPER_DOWN);

	/* a bridge with a given ageing time */
	assert_int_equal(sf_netops_link_add_bridge(
				 opa, &(struct sf_bridge_spec){.name = "sfbr1", .ageing_s = 300}),
			 0);
	j = ip_link(ns_a, "sfbr1");
	assert_int_equal(jint(info_data(j), "ageing_time"), 30000); /* centiseconds */
	json_decref(j);

	assert_int_equal(sf_netops_link_del(opa, "sfbr0"), 0);
	assert_int_equal(sf_netops_link_del(opa, "sfbr1"), 0);
	assert_int_equal(sf_netops_link_del(opa, "sfbr0"), 0);
	assert_null(ip_link(ns_a, "sfbr0"));
	assert_int_equal(sf_netops_link_get(opa, "sfbr0", &l), -ENODEV);
	assert_int_equal(sf_netops_link_set_up(opa, "sfbr0"), -ENODEV);
}

/* A veth pair across two namespaces, the MTU on both ends (ARCHITECTURE 5.9). */
static void test_veth_across_namespaces(void **state)
{
	struct sf_link a, b;
	json_t *j;

	(void)state;
	assert_int_equal(sf_netops_link_add_veth(opa, &(struct sf_veth_spec){.name = "sfva",
									     .peer = "sfvb",
									     .mtu = 1400,
									     .peer_netns = ns_b}),
			 0);
	assert_int_equal(sf_netops_link_add_veth(
				 opa, &(struct sf_veth_spec){.name = "sfva", .peer = "sfvz"}),
			 -EEXIST);
	assert_int_equal(
		sf_netops_link_add_veth(
			opa, &(struct sf_veth_spec){.name = "sfvq",
						    .peer = "sfvr",
						    .peer_netns = "sftest-does-not-exist"}),
		-ENOENT);
	assert_int_equal(sf_netops_link_get(opa, "sfva", &a), 0);
	assert_int_equal(sf_netops_link_get(opb, "sfvb", &b), 0);
	assert_int_equal(sf_netops_link_get(opa, "sfvb", &b), -ENODEV);
	assert_int_equal(sf_netops_link_get(opb, "sfvb", &b), 0);
	assert_string_equal(a.kind, "veth");
	assert_string_equal(b.kind, "veth");
	assert_int_equal(a.mtu, 1400);
	assert_int_equal(b.mtu, 1400);

	j = ip_link(ns_a, "sfva");
	assert_int_equal(jint(j, "mtu"), 1400);
	assert_string_equal(info_kind(j), "veth");
	json_decref(j);
	j = ip_link(ns_b, "sfvb");
	assert_int_equal(jint(j, "mtu"), 1400);
	json_decref(j);
	assert_null(ip_link(ns_a, "sfvb"));

	/* up on one end only: no carrier; on both: operationally up (operstate is updated
	 * asynchronously by the kernel's linkwatch, so wait for it a little) */
	assert_int_equal(sf_netops_link_set_up(opa, "sfva"), 0);
	assert_int_equal(sf_netops_link_get(opa, "sfva", &a), 0);
	assert_true(a.up);
	assert_false(a.running);
	assert_int_not_equal(a.oper, SF_LINK_OPER_UP);
	assert_int_equal(sf_netops_link_set_up(opb, "sfvb"), 0);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(sf_netops_link_get(opa, "sfva", &a), 0);
		if (a.running && a.oper == SF_LINK_OPER_UP)
			break;
		(void)sf_sleep_ms(20);
	}
	assert_true(a.up);
	assert_true(a.running);
	assert_int_equal(a.oper, SF_LINK_OPER_UP);
	j = ip_link(ns_a, "sfva");
	assert_string_equal(json_string_value(json_object_get(j, "operstate")),
			    sf_link_oper_to_string(a.oper));
	json_decref(j);
}

/* VXLAN on the veth underlay: vni, explicit port, learning, no group/local; enslaving. */
static void test_vxlan_and_master(void **state)
{
	struct sf_link vx, va, vy;
	json_t *j, *d;

	(void)state;
	assert_int_equal(sf_netops_link_get(opa, "sfva", &va), 0);
	assert_int_equal(sf_netops_link_add_vxlan(opa,
						  &(struct sf_vxlan_spec){
							  .name = "sfvx",
							  .vni = 42,
							  .dev = "sfva",
							  .mtu = 1350,
						  }),
			 0);
	assert_int_equal(
		sf_netops_link_add_vxlan(
			opa, &(struct sf_vxlan_spec){.name = "sfvx2", .vni = 43, .dev = "nope0"}),
		-ENODEV);
	assert_int_equal(sf_netops_link_get(opa, "sfvx", &vx), 0);
	assert_string_equal(vx.kind, "vxlan");
	assert_int_equal(vx.vxlan_vni, 42);
	assert_int_equal(vx.vxlan_port, 4789);
	assert_int_equal(vx.vxlan_dev, va.ifindex);
	assert_int_equal(vx.mtu, 1350);

	j = ip_link(ns_a, "sfvx");
	assert_string_equal(info_kind(j), "vxlan");
	d = info_data(j);
	assert_int_equal(jint(d, "id"), 42);
	assert_int_equal(jint(d, "port"), 4789);
	assert_string_equal(json_string_value(json_object_get(d, "link")), "sfva");
	assert_true(json_is_true(json_object_get(d, "learning")));
	assert_null(json_object_get(d, "group"));
	assert_null(json_object_get(d, "local"));
	assert_int_equal(jint(j, "mtu"), 1350);
	json_decref(j);

	/* by underlay ifindex, with another port */
	assert_int_equal(
		sf_netops_link_add_vxlan(opa, &(struct sf_vxlan_spec){.name = "sfvy",
								      .vni = 0xfffffe,
								      .port = 8472,
								      .dev_ifindex = va.ifindex}),
		0);
	assert_int_equal(sf_netops_link_get(opa, "sfvy", &vy), 0);
	assert_int_equal(vy.vxlan_vni, 0xfffffe);
	assert_int_equal(vy.vxlan_port, 8472);
	assert_int_equal(vy.vxlan_dev, va.ifindex);
	j = ip_link(ns_a, "sfvy");
	assert_int_equal(jint(info_data(j), "port"), 8472);
	json_decref(j);
	assert_int_equal(sf_netops_link_del(opa, "sfvy"), 0);

	/* enslave to a bridge, then release */
	assert_int_equal(sf_netops_link_add_bridge(
				 opa, &(struct sf_bridge_spec){.name = "sfbr2", .mtu = 1350}),
			 0);
	assert_int_equal(sf_netops_link_set_master(opa, "sfvx", "sfbr2"), 0);
	assert_int_equal(sf_netops_link_set_master(opa, "sfvx", "nope0"), -ENODEV);
	assert_int_equal(sf_netops_link_get(opa, "sfvx", &vx), 0);
	assert_string_equal(vx.master_name, "sfbr2");
	j = ip_link(ns_a, "sfvx");
	assert_string_equal(json_string_value(json_object_get(j, "master")), "sfbr2");
	json_decref(j);
	assert_int_equal(sf_netops_link_set_nomaster(opa, "sfvx"), 0);
	assert_int_equal(sf_netops_link_get(opa, "sfvx", &vx), 0);
	assert_int_equal(vx.master, 0);
	j = ip_link(ns_a, "sfvx");
	assert_null(json_object_get(j, "master"));
	json_decref(j);
	assert_int_equal(sf_netops_link_set_master(opa, "sfvx", "sfbr2"), 0); /* for the list */
}

static void test_link_list(void **state)
{
	struct sf_link *v;
	size_t n;
	bool lo = false, vx = false, br = false;

	(void)state;
	assert_int_equal(sf_netops_link_list(opa, &v, &n), 0);
	assert_true(n >= 4);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			assert_true(v[i - 1].ifindex < v[i].ifindex);
		if (strcmp(v[i].name, "lo") == 0)
			lo = v[i].ifindex == 1 && v[i].kind[0] == '\0';
		if (strcmp(v[i].name, "sfvx") == 0)
			vx = strcmp(v[i].kind, "vxlan") == 0 && v[i].vxlan_vni == 42 &&
			     strcmp(v[i].master_name, "sfbr2") == 0 && v[i].master > 0;
		if (strcmp(v[i].name, "sfbr2") == 0)
			br = strcmp(v[i].kind, "bridge") == 0 && v[i].master == 0;
		assert_string_not_equal(v[i].name, "sfvb"); /* in the other namespace */
	}
	free(v);
	assert_true(lo);
	assert_true(vx);
	assert_true(br);
}

static void test_fdb_flood(void **state)
{
	char **v;
	size_t n;
	json_t *arr, *e;
	size_t i, seen;

	(void)state;
	assert_int_equal(sf_netops_fdb_flood_add(opa, "sfvx", "198.18.99.2"), 0);
	assert_int_equal(sf_netops_fdb_flood_add(opa, "sfvx", "198.18.99.3"), 0);
	assert_int_equal(sf_netops_fdb_flood_add(opa, "sfvx", "198.18.99.2"),
			 0); /* append: no-op */
	assert_int_equal(sf_netops_fdb_flood_add(opa, "nope0", "198.18.99.2"), -ENODEV);
	assert_int_equal(sf_netops_fdb_flood_list(opa, "sfvx", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_true(strv_has(v, "198.18.99.2") && strv_has(v, "198.18.99.3"));
	sf_netops_strv_free(v);

	arr = ip_json("ip netns exec %s bridge -j fdb show dev sfvx", ns_a);
	seen = 0;
	json_array_foreach(arr, i, e) {
		const char *mac = json_string_value(json_object_get(e, "mac"));
		const char *dst = json_string_value(json_object_get(e, "dst"));

		if (!mac || strcmp(mac, "00:00:00:00:00:00") != 0 || !dst)
			continue;
		assert_true(strcmp(dst, "198.18.99.2") == 0 || strcmp(dst, "198.18.99.3") == 0);
		assert_true(json_strv_has(json_object_get(e, "flags"), "self"));
		assert_string_equal(json_string_value(json_object_get(e, "state")), "permanent");
		seen++;
	}
	json_decref(arr);
	assert_int_equal(seen, 2);

	assert_int_equal(sf_netops_fdb_flood_del(opa, "sfvx", "198.18.99.2"), 0);
	assert_int_equal(sf_netops_fdb_flood_del(opa, "sfvx", "198.18.99.2"), 0);
	assert_int_equal(sf_netops_fdb_flood_list(opa, "sfvx", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "198.18.99.3");
	assert_null(v[1]);
	sf_netops_strv_free(v);
	arr = ip_json("ip netns exec %s bridge -j fdb show dev sfvx", ns_a);
	seen = 0;
	json_array_foreach(arr, i, e)
		if (json_object_get(e, "dst"))
			seen++;
	json_decref(arr);
	assert_int_equal(seen, 1);

	/* a bridge port's own entries are not flood entries */
	assert_int_equal(sf_netops_fdb_flood_list(opa, "sfbr2", &v, &n), 0);
	assert_int_equal(n, 0);
	sf_netops_strv_free(v);

	/* the list is one device's (the kernel filters the dump): another VXLAN's entries and
	 * its own stay apart */
	assert_int_equal(
		sf_netops_link_add_vxlan(
			opa, &(struct sf_vxlan_spec){.name = "sfvx3", .vni = 44, .dev = "sfva"}),
		0);
	assert_int_equal(sf_netops_fdb_flood_add(opa, "sfvx3", "198.18.99.4"), 0);
	assert_int_equal(sf_netops_fdb_flood_list(opa, "sfvx3", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "198.18.99.4");
	sf_netops_strv_free(v);
	assert_int_equal(sf_netops_fdb_flood_list(opa, "sfvx", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "198.18.99.3");
	sf_netops_strv_free(v);
	assert_int_equal(sf_netops_fdb_flood_list(opa, "nope0", &v, &n), -ENODEV);

	/* all of them at once, by ifindex */
	{
		struct sf_fdb_flood *all;
		struct sf_link vx, vx3;

		assert_int_equal(sf_netops_link_get(opa, "sfvx", &vx), 0);
		assert_int_equal(sf_netops_link_get(opa, "sfvx3", &vx3), 0);
		assert_int_equal(sf_netops_fdb_flood_dump(opa, &all, &n), 0);
		assert_int_equal(n, 2);
		for (size_t k = 0; k < n; k++) {
			if (all[k].ifindex == vx.ifindex)
				assert_string_equal(all[k].dst, "198.18.99.3");
			else if (all[k].ifindex == vx3.ifindex)
				assert_string_equal(all[k].dst, "198.18.99.4");
			else
				fail_msg("flood entry of ifindex %d", all[k].ifindex);
		}
		free(all);
	}
	assert_int_equal(sf_netops_link_del(opa, "sfvx3"), 0);
}

static void test_addresses(void **state)
{
	char **v;
	size_t n;
	json_t *arr, *ai;
	size_t i;
	bool found = false;

	(void)state;
	assert_int_equal(sf_netops_addr_add(opa, "sfva", "198.18.77.1/24"), 0);
	assert_int_equal(sf_netops_addr_add(opa, "sfva", "198.18.77.1/255.255.255.0"), -EEXIST);
	assert_int_equal(sf_netops_addr_add(opa, "sfva", "198.18.78.9/32"), 0);
	assert_int_equal(sf_netops_addr_add(opb, "sfvb", "198.18.77.2/24"), 0);
	assert_int_equal(sf_netops_addr_add(opa, "nope0", "198.18.77.1/24"), -ENODEV);
	assert_int_equal(sf_netops_addr_list(opa, "sfva", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_true(strv_has(v, "198.18.77.1/24") && strv_has(v, "198.18.78.9/32"));
	sf_netops_strv_free(v);

	arr = ip_json("ip netns exec %s ip -j addr show dev sfva", ns_a);
	json_array_foreach(json_object_get(json_array_get(arr, 0), "addr_info"), i, ai) {
		const char *local = json_string_value(json_object_get(ai, "local"));

		if (local && strcmp(local, "198.18.77.1") == 0) {
			assert_int_equal(jint(ai, "prefixlen"), 24);
			assert_string_equal(json_string_value(json_object_get(ai, "broadcast")),
					    "198.18.77.255");
			found = true;
		}
	}
	json_decref(arr);
	assert_true(found);

	assert_int_equal(sf_netops_addr_del(opa, "sfva", "198.18.78.9/32"), 0);
	assert_int_equal(sf_netops_addr_del(opa, "sfva", "198.18.78.9/32"), 0);
	assert_int_equal(sf_netops_addr_del(opa, "nope0", "198.18.78.9/32"), 0);
	assert_int_equal(sf_netops_addr_list(opa, "sfva", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "198.18.77.1/24");
	sf_netops_strv_free(v);
}

static const struct sf_route *route_find(const struct sf_route *v, size_t n, const char *dst)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].dst, dst) == 0)
			return &v[i];
	return NULL;
}

static void test_routes(void **state)
{
	struct sf_route *v;
	const struct sf_route *r;
	size_t n;
	json_t *arr;

	(void)state;
	/* a second default with another metric, which set_default must remove */
	assert_int_equal(sf_netops_route_replace(opb, &(struct sf_route){.dst = "0.0.0.0/0",
									 .gateway = "198.18.77.3",
									 .metric = 100}),
			 0);
	assert_int_equal(sf_netops_route_set_default(opb, "198.18.77.1", "sfvb"), 0);
	assert_int_equal(sf_netops_route_list(opb, NULL, &v, &n), 0);
	r = route_find(v, n, "0.0.0.0/0");
	assert_non_null(r);
	assert_string_equal(r->gateway, "198.18.77.1");
	assert_string_equal(r->dev, "sfvb");
	assert_int_equal(r->metric, 0);
	assert_int_equal(r->protocol, 4);	/* static */
	r = route_find(v, n, "198.18.77.0/24"); /* the kernel's connected route */
	assert_non_null(r);
	assert_string_equal(r->dev, "sfvb");
	assert_int_equal(r->protocol, 2);
	free(v);
	arr = ip_json("ip netns exec %s ip -j route show default", ns_b);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "gateway")),
			    "198.18.77.1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "dev")),
			    "sfvb");
	json_decref(arr);
	/* again: still exactly one */
	assert_int_equal(sf_netops_route_set_default(opb, "198.18.77.1", NULL), 0);
	arr = ip_json("ip netns exec %s ip -j route show default", ns_b);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);

	/* replace semantics: same dst and metric, new nexthop */
	assert_int_equal(sf_netops_route_replace(opb, &(struct sf_route){.dst = "10.20.0.0/24",
									 .gateway = "198.18.77.1"}),
			 0);
	assert_int_equal(sf_netops_route_replace(
				 opb, &(struct sf_route){.dst = "10.20.0.0/24", .dev = "sfvb"}),
			 0);
	assert_int_equal(sf_netops_route_replace(
				 opb, &(struct sf_route){.dst = "10.21.0.0/24", .dev = "nope0"}),
			 -ENODEV);
	/* the kernel's own error comes back, not libnl's catch-all */
	assert_int_equal(sf_netops_route_replace(opb, &(struct sf_route){.dst = "10.22.0.0/24",
									 .gateway = "203.0.113.1"}),
			 -ENETUNREACH);
	arr = ip_json("ip netns exec %s ip -j route show 10.20.0.0/24", ns_b);
	assert_int_equal(json_array_size(arr), 1);
	assert_null(json_object_get(json_array_get(arr, 0), "gateway"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "scope")),
			    "link");
	json_decref(arr);
	assert_int_equal(sf_netops_route_list(opb, NULL, &v, &n), 0);
	r = route_find(v, n, "10.20.0.0/24");
	assert_non_null(r);
	assert_string_equal(r->gateway, "");
	assert_string_equal(r->dev, "sfvb");
	free(v);

	/* by device: only the routes through it */
	assert_int_equal(sf_netops_link_set_up(opb, "lo"), 0);
	assert_int_equal(sf_netops_route_replace(
				 opb, &(struct sf_route){.dst = "10.23.0.0/24", .dev = "lo"}),
			 0);
	assert_int_equal(sf_netops_route_list(opb, "lo", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].dst, "10.23.0.0/24");
	assert_string_equal(v[0].dev, "lo");
	free(v);
	assert_int_equal(sf_netops_route_list(opb, "sfvb", &v, &n), 0);
	assert_non_null(route_find(v, n, "10.20.0.0/24"));
	assert_non_null(route_find(v, n, "0.0.0.0/0"));
	assert_null(route_find(v, n, "10.23.0.0/24"));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i].dev, "sfvb");
	free(v);
	assert_int_equal(sf_netops_route_list(opb, "nope0", &v, &n), -ENODEV);
	assert_int_equal(sf_netops_route_list(opb, "../x", &v, &n), -EINVAL);
	assert_int_equal(
		sf_netops_route_del(opb, &(struct sf_route){.dst = "10.23.0.0/24", .dev = "lo"}),
		0);

	assert_int_equal(
		sf_netops_route_del(opb, &(struct sf_route){.dst = "10.20.0.0/24", .dev = "sfvb"}),
		0);
	assert_int_equal(
		sf_netops_route_del(opb, &(struct sf_route){.dst = "10.20.0.0/24", .dev = "sfvb"}),
		0);
	arr = ip_json("ip netns exec %s ip -j route show 10.20.0.0/24", ns_b);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

/* Counters: ping inside the test namespaces only (B -> A over the veth). */
static void test_stats(void **state)
{
	struct sf_link_stats s1, s2;
	json_t *j, *rx, *tx;
	char *out;
	int st;

	(void)state;
	out = sf_test_capture(&st, "ip netns exec %s ping -c 3 -i 0.2 -W 2 -q 198.18.77.1 2>&1", ns_b);
	if (st != 0)
		print_error("%s", out);
	free(out);
	assert_int_equal(st, 0);
	assert_int_equal(sf_netops_link_stats(opa, "sfva", &s1), 0);
	j = ip_link(ns_a, "sfva");
	assert_int_equal(sf_netops_link_stats(opa, "sfva", &s2), 0);
	rx = json_object_get(json_object_get(j, "stats64"), "rx");
	tx = json_object_get(json_object_get(j, "stats64"), "tx");
	assert_true(s1.rx_packets >= 3 && s1.tx_packets >= 3);
	assert_true(s1.rx_bytes >= 3 * 84);
	/* iproute2 read between our two reads sees counters between them */
	assert_in_range(jint(rx, "packets"), s1.rx_packets, s2.rx_packets);
	assert_in_range(jint(rx, "bytes"), s1.rx_bytes, s2.rx_bytes);
	assert_in_range(jint(tx, "packets"), s1.tx_packets, s2.tx_packets);
	assert_in_range(jint(tx, "bytes"), s1.tx_bytes, s2.tx_bytes);
	assert_int_equal(jint(rx, "errors"), s1.rx_errors);
	assert_int_equal(jint(rx, "over_errors"), s1.rx_over_errors);
	assert_int_equal(jint(tx, "carrier_errors"), s1.tx_carrier_errors);
	assert_int_equal(jint(tx, "collisions"), s1.tx_collisions);
	assert_in_range(jint(rx, "multicast"), s1.rx_multicast, s2.rx_multicast);
	json_decref(j);
	assert_int_equal(sf_netops_link_stats(opa, "nope0", &s1), -ENODEV);
}

static void test_move_link(void **state)
{
	struct sf_link l;

	(void)state;
	assert_int_equal(sf_netops_link_add_veth(
				 opa, &(struct sf_veth_spec){.name = "sfmv1", .peer = "sfmv2"}),
			 0);
	assert_int_equal(sf_netops_link_set_netns(opa, "sfmv1", "sftest-does-not-exist"), -ENOENT);
	assert_int_equal(sf_netops_link_set_netns(opa, "sfmv1", ns_b), 0);
	assert_int_equal(sf_netops_link_get(opa, "sfmv1", &l), -ENODEV);
	assert_int_equal(sf_netops_link_get(opb, "sfmv1", &l), 0);
	assert_string_equal(l.kind, "veth");
	assert_null(ip_link(ns_a, "sfmv1"));
	json_t *j = ip_link(ns_b, "sfmv1");
	assert_non_null(j);
	json_decref(j);

	/* the name is taken in the target */
	assert_int_equal(sf_netops_link_add_veth(
				 opa, &(struct sf_veth_spec){.name = "sfmv1", .peer = "sfmv3"}),
			 0);
	assert_int_equal(sf_netops_link_set_netns(opa, "sfmv1", ns_b), -EEXIST);
	/* deleting one end removes the pair, across namespaces too */
	assert_int_equal(sf_netops_link_del(opa, "sfmv2"), 0);
	assert_int_equal(sf_netops_link_get(opb, "sfmv1", &l), -ENODEV);
	assert_int_equal(sf_netops_link_del(opa, "sfmv1"), 0);
	assert_false(sf_netops_link_exists(opa, "sfmv3"));
}

static void test_sysctl(void **state)
{
	char *v, *out, *root_before, *root_after;
	int st;

	(void)state;
	root_before = sf_test_capture(&st, "cat /proc/sys/net/ipv4/ip_forward"); /* read only */
	assert_int_equal(sf_netops_sysctl_set(opa, "ipv4/ip_forward", "1"), 0);
	assert_int_equal(sf_netops_sysctl_get(opa, "ipv4/ip_forward", &v), 0);
	assert_string_equal(v, "1");
	free(v);
	out = sf_test_capture(&st, "ip netns exec %s cat /proc/sys/net/ipv4/ip_forward", ns_a);
	assert_string_equal(out, "1\n");
	free(out);
	out = sf_test_capture(&st, "ip netns exec %s cat /proc/sys/net/ipv4/ip_forward", ns_b);
	assert_string_equal(out, "0\n");
	free(out);
	/* read through rtnetlink: each namespace's own, both ways */
	assert_int_equal(sf_netops_sysctl_get(opb, "ipv4/ip_forward", &v), 0);
	assert_string_equal(v, "0");
	free(v);
	assert_int_equal(sf_netops_sysctl_set(opa, "ipv4/ip_forward", "0"), 0);
	assert_int_equal(sf_netops_sysctl_get(opa, "ipv4/ip_forward", &v), 0);
	assert_string_equal(v, "0");
	free(v);
	assert_int_equal(sf_netops_sysctl_set(opa, "ipv4/ip_forward", "1"), 0);
	/* the socket is left clean: the next request gets its own answer */
	assert_int_equal(sf_netops_sysctl_get(opa, "ipv4/ip_forward", &v), 0);
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(sf_netops_link_get(opa, "sfvx", &(struct sf_link){0}), 0);

	assert_int_equal(sf_netops_sysctl_set(opa, "ipv4/conf/sfvx/arp_notify", "1"), 0);
	out = sf_test_capture(&st, "ip netns exec %s cat /proc/sys/net/ipv4/conf/sfvx/arp_notify", ns_a);
	assert_string_equal(out, "1\n");
	free(out);
	assert_int_equal(sf_netops_sysctl_set(opa, "ipv4/conf/nope0/arp_notify", "1"), -ENOENT);
	assert_int_equal(sf_netops_sysctl_get(opb, "ipv4/conf/sfvx/arp_notify", &v), -ENOENT);

	root_after = sf_test_capture(&st, "cat /proc/sys/net/ipv4/ip_forward");
	assert_string_equal(root_before, root_after);
	free(root_before);
	free(root_after);
}

/* Last: the machine's own namespace is as it was and this thread never left it. */
static void test_root_namespace_untouched(void **state)
{
	char *now = root_links();

	(void)state;
	assert_string_equal(now, root_links_before);
	free(now);
	assert_int_equal(thread_ns_inode(), self_ns_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netns_lifecycle),
		cmocka_unit_test(test_handle_is_scoped_to_its_namespace),
		cmocka_unit_test(test_netns_call),
		cmocka_unit_test(test_netns_open_path),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_veth_across_namespaces),
		cmocka_unit_test(test_vxlan_and_master),
		cmocka_unit_test(test_link_list),
		cmocka_unit_test(test_fdb_flood),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_move_link),
		cmocka_unit_test(test_sysctl),
		cmocka_unit_test(test_root_namespace_untouched),
	};
	int st;
	char *out;

	if (geteuid() != 0) {
		printf("test_netops_nl: needs root, skipped\n");
		return 77;
	}
	out = sf_test_capture(&st, "command -v ip && command -v bridge && command -v ping");
	free(out);
	if (st != 0) {
		printf("test_netops_nl: ip, bridge or ping missing, skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
