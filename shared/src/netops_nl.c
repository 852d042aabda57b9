// SPDX-License-Identifier: Apache-2.0
/*
 * netops through libnl-3 and libnl-route-3, with a NETLINK_ROUTE socket opened inside the
 * target namespace (ARCHITECTURE.md section 4). Objects are built, then sent; libnl codes are
 * translated with sf_err_from_nl() and no libnl type leaves this file.
 *
 * Entering a namespace: a short-lived thread setns()es into it, does the one thing that needs
 * it (connect the socket, unshare a new namespace and bind-mount it, open a sysctl file) and
 * exits. The calling thread, and so the daemon, never changes namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/magic.h>
#include <linux/neighbour.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>

#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "sf/err.h"
#include "sf/ipv4.h"
#include "sf/log.h"
#include "sf/netops.h"
#include "sf/util.h"

SF_LOG_MODULE("netops");

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

struct nl_ctx {
	struct nl_sock *sk;
	char *netns;	/* NULL: the caller's own namespace */
	int nsfd;	/* the target namespace, kept for sysctls; -1 with netns NULL */
	int kernel_err; /* -errno of the kernel's last NLMSG_ERROR, consumed by nlerr() */
};

static const struct sf_netops_class nl_class;

/* The result of a libnl call as -errno. libnl folds many kernel errors into one code
 * (ENETUNREACH and friends all become NLE_FAILURE), so an error the kernel sent is taken as
 * it was, from on_kernel_error(); libnl's own failures go through sf_err_from_nl(). */
static int nlerr(struct nl_ctx *c, int r)
{
	int k = c->kernel_err;

	c->kernel_err = 0;
	if (r >= 0)
		return 0;
	return k < 0 ? k : sf_err_from_nl(r);
}

/* A dump the kernel reports as interrupted (the table changed under it: NLE_DUMP_INTR, -EINTR
 * here) is simply asked for again. */
#define DUMP_ATTEMPTS 3
#define retry_dump(c, call)                                  \
	({                                                   \
		int r_ = 0;                                  \
		for (int i_ = 0; i_ < DUMP_ATTEMPTS; i_++) { \
			r_ = nlerr((c), (call));             \
			if (r_ != -EINTR)                    \
				break;                       \
		}                                            \
		r_;                                          \
	})

static int on_kernel_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nl_ctx *c = arg;

	(void)nla;
	c->kernel_err = e->error;
	return NL_STOP; /* and libnl returns its own code for it, as without this handler */
}

/* ---- running something in a thread of its own (unshare() changes the thread for good) ---- */

struct ns_call {
	int (*fn)(void *arg);
	void *arg;
	int r;
};

static void *ns_call_main(void *p)
{
	struct ns_call *c = p;

	c->r = c->fn(c->arg);
	return NULL; /* the thread, and with it its namespace, goes away */
}

static int run_in_thread(int (*fn)(void *arg), void *arg)
{
	struct ns_call c = {.fn = fn, .arg = arg};
	pthread_t t;
	int r;

	r = pthread_create(&t, NULL, ns_call_main, &c);
	if (r != 0)
		return -r;
	r = pthread_join(t, NULL);
	if (r != 0)
		return -r;
	return c.r;
}

int sf_netns_call(int nsfd, int (*fn)(void *arg), void *arg)
{
	int self, r;

	if (nsfd < 0)
		return fn(arg);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		r = -errno;
		close(self);
		return r;
	}
	r = fn(arg);
	if (setns(self, CLONE_NEWNET) < 0) {
		sf_log_err("cannot return to our own network namespace: %s", strerror(errno));
		abort();
	}
	close(self);
	return r;
}

/* ---- named namespaces ---- */

static char *netns_path(const char *name)
{
	return sf_xasprintf("%s/%s", SF_NETNS_RUN_DIR, name);
}

/* As iproute2's netns_add(): /run/netns is made a shared mount point (bind-mounted onto itself
 * first if it is not a mount point) so that unmounting a namespace in one mount namespace
 * unmounts it everywhere and the namespace can be freed. */
static int run_dir_make_shared(void)
{
	bool made_mount = false;

	if (mkdir(SF_NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	while (mount("", SF_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || made_mount)
			return -errno;
		if (mount(SF_NETNS_RUN_DIR, SF_NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		made_mount = true;
	}
	return 0;
}

static int unshare_and_bind(void *arg)
{
	const char *path = arg;

	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}

bool sf_netns_exists(const char *name)
{
	struct statfs st;
	char *path;
	bool ok;

	if (!sf_netns_name_is_valid(name))
		return false;
	path = netns_path(name);
	ok = statfs(path, &st) == 0 && (unsigned long)st.f_type == NSFS_MAGIC;
	free(path);
	return ok;
}

int sf_netns_add(const char *name)
{
	char *path;
	int fd, r;

	if (!sf_netns_name_is_valid(name))
		return -EINVAL;
	r = run_dir_make_shared();
	if (r < 0)
		return sf_log_debug_errno(r, "making %s a shared mount point failed",
					  SF_NETNS_RUN_DIR);
	path = netns_path(name);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0 && errno == EEXIST && !sf_netns_exists(name)) {
		/* a file left by an add that died before the bind mount */
		(void)umount2(path, MNT_DETACH);
		(void)unlink(path);
		fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	}
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	close(fd);
	r = run_in_thread(unshare_and_bind, path);
	if (r < 0) {
		sf_log_debug_errno(r, "creating namespace %s failed", name);
		(void)unlink(path);
	}
out:
	free(path);
	return r;
}

int sf_netns_del(const char *name)
{
	char *path;
	int r = 0;

	if (!sf_netns_name_is_valid(name))
		return -EINVAL;
	path = netns_path(name);
	(void)umount2(path, MNT_DETACH); /* EINVAL for a file that is not mounted: unlink it */
	if (unlink(path) < 0 && errno != ENOENT)
		r = -errno;
	free(path);
	return r;
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sf_netns_list(char ***ret_names, size_t *ret_n)
{
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;
	DIR *d;

	d = opendir(SF_NETNS_RUN_DIR);
	if (!d && errno != ENOENT)
		return -errno;
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		v = sf_xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = sf_xstrdup(de->d_name);
	}
	if (d)
		closedir(d);
	v = sf_xrealloc(v, (n + 1) * sizeof(*v));
	v[n] = NULL;
	qsort(v, n, sizeof(*v), strcmp_p);
	*ret_names = v;
	*ret_n = n;
	return 0;
}

int sf_netns_open(const char *name_or_path, int *ret_fd)
{
	char *path;
	int fd;

	if (name_or_path && name_or_path[0] == '/')
		path = sf_xstrdup(name_or_path);
	else if (sf_netns_name_is_valid(name_or_path))
		path = netns_path(name_or_path);
	else
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/* ---- the handle ---- */

static int connect_fn(void *arg)
{
	return sf_err_from_nl(nl_connect(arg, NETLINK_ROUTE));
}

static void nl_free(void *p)
{
	struct nl_ctx *c = p;

	if (!c)
		return;
	nl_socket_free(c->sk); /* closes */
	if (c->nsfd >= 0)
		close(c->nsfd);
	free(c->netns);
	free(c);
}

int sf_netops_nl_new(const char *netns, struct sf_netops **ret_ops)
{
	struct nl_ctx *c;
	int r;

	if (netns && !sf_netns_name_is_valid(netns))
		return -EINVAL;
	c = sf_xcalloc(1, sizeof(*c));
	c->nsfd = -1;
	c->sk = nl_socket_alloc();
	if (!c->sk) {
		r = -ENOMEM;
		goto fail;
	}
	if (netns) {
		c->netns = sf_xstrdup(netns);
		r = sf_netns_open(netns, &c->nsfd);
		if (r < 0)
			goto fail;
	}
	r = sf_netns_call(c->nsfd, connect_fn, c->sk);
	if (r < 0)
		goto fail;
	r = sf_err_from_nl(nl_socket_modify_err_cb(c->sk, NL_CB_CUSTOM, on_kernel_error, c));
	if (r < 0)
		goto fail;
	*ret_ops = sf_netops_new_with_class(&nl_class, c);
	return 0;
fail:
	sf_log_debug_errno(r, "netlink socket in namespace %s failed", netns ? netns : "(own)");
	nl_free(c);
	return r;
}

static int nl_at(void *ctx, const char *netns, struct sf_netops **ret)
{
	(void)ctx;
	return sf_netops_nl_new(netns, ret);
}

static int nl_netns_add(void *ctx, const char *name)
{
	(void)ctx;
	return sf_netns_add(name);
}

static int nl_netns_del(void *ctx, const char *name)
{
	(void)ctx;
	return sf_netns_del(name);
}

static bool nl_netns_exists(void *ctx, const char *name)
{
	(void)ctx;
	return sf_netns_exists(name);
}

static int nl_netns_list(void *ctx, char ***ret_names, size_t *ret_n)
{
	(void)ctx;
	return sf_netns_list(ret_names, ret_n);
}

/* ---- helpers ---- */

static struct nl_addr *nl_addr4(uint32_t host_order, unsigned prefix)
{
	uint32_t be = htonl(host_order);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));

	if (!a)
		abort(); /* OOM, as sf_xmalloc */
	nl_addr_set_prefixlen(a, (int)prefix);
	return a;
}

static uint32_t nl_addr4_get(struct nl_addr *a)
{
	uint32_t be;

	if (!a || nl_addr_get_len(a) != sizeof(be))
		return 0;
	memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
	return ntohl(be);
}

static int link_by_name(struct nl_ctx *c, const char *ifname, struct rtnl_link **ret)
{
	int r = nlerr(c, rtnl_link_get_kernel(c->sk, 0, ifname, ret));

	/* a missing name is ENODEV from the kernel; older ones said ENOENT */
	return r == -ENOENT ? -ENODEV : r;
}

static int ifindex_by_name(struct nl_ctx *c, const char *ifname, int *ret_ifindex)
{
	struct rtnl_link *l;
	int r = link_by_name(c, ifname, &l);

	if (r < 0)
		return r;
	*ret_ifindex = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return 0;
}

/* Send changes (a link object with only the attributes to change) for ifname. */
static int link_change(struct nl_ctx *c, const char *ifname, struct rtnl_link *changes)
{
	struct rtnl_link *orig;
	int r;

	r = link_by_name(c, ifname, &orig);
	if (r < 0)
		return r;
	r = nlerr(c, rtnl_link_change(c->sk, orig, changes, 0));
	rtnl_link_put(orig);
	return r;
}

static struct rtnl_link *link_alloc(void)
{
	struct rtnl_link *l = rtnl_link_alloc();

	if (!l)
		abort();
	return l;
}

static void copy_name(char dst[static SF_IFNAMSIZ], const char *src)
{
	if (!src)
		src = "";
	(void)sf_bprintf(dst, SF_IFNAMSIZ, "%s", src);
}

static void fill_link(struct rtnl_link *l, struct sf_link *out)
{
	struct nl_addr *mac = rtnl_link_get_addr(l);
	unsigned flags = rtnl_link_get_flags(l);
	uint8_t oper = rtnl_link_get_operstate(l);

	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(l);
	copy_name(out->name, rtnl_link_get_name(l));
	copy_name(out->kind, rtnl_link_get_type(l));
	out->mtu = rtnl_link_get_mtu(l);
	out->master = rtnl_link_get_master(l);
	out->up = flags & IFF_UP;
	out->running = flags & IFF_RUNNING;
	out->oper = oper < _SF_LINK_OPER_MAX ? (enum sf_link_oper)oper : SF_LINK_OPER_UNKNOWN;
	if (mac && nl_addr_get_len(mac) == sizeof(out->mac.b))
		memcpy(out->mac.b, nl_addr_get_binary_addr(mac), sizeof(out->mac.b));
	if (rtnl_link_is_vxlan(l)) {
		uint32_t v;

		if (rtnl_link_vxlan_get_id(l, &v) == 0)
			out->vxlan_vni = v;
		if (rtnl_link_vxlan_get_port(l, &v) == 0)
			out->vxlan_port = (uint16_t)v;
		if (rtnl_link_vxlan_get_link(l, &v) == 0)
			out->vxlan_dev = (int)v;
	}
}

/* ---- links ---- */

static int nl_link_add_bridge(void *ctx, const struct sf_bridge_spec *spec)
{
	struct nl_ctx *c = ctx;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nlattr *info, *data;
	struct nl_msg *msg;

	/* libnl's bridge type has no IFLA_BR_* setters: build the request as iproute2 does */
	msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	if (!msg)
		abort();
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, spec->name) < 0 ||
	    (spec->mtu && nla_put_u32(msg, IFLA_MTU, spec->mtu) < 0) ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, 0) < 0 ||
	    nla_put_u32(msg, IFLA_BR_STP_STATE, 0) < 0 ||
	    nla_put_u32(msg, IFLA_BR_AGEING_TIME, spec->ageing_s * 100) < 0) { /* USER_HZ */
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return nlerr(c, nl_send_sync(c->sk, msg)); /* frees msg */
}

static int nl_link_add_vxlan(void *ctx, const struct sf_vxlan_spec *spec)
{
	struct nl_ctx *c = ctx;
	struct rtnl_link *l;
	int dev = spec->dev_ifindex, r;

	if (spec->dev) {
		r = ifindex_by_name(c, spec->dev, &dev);
		if (r < 0)
			return r;
	}
	l = rtnl_link_vxlan_alloc();
	if (!l)
		abort();
	rtnl_link_set_name(l, spec->name);
	if (spec->mtu)
		rtnl_link_set_mtu(l, spec->mtu);
	r = rtnl_link_vxlan_set_id(l, spec->vni);
	if (r >= 0)
		r = rtnl_link_vxlan_set_port(l, spec->port);
	if (r >= 0 && dev > 0)
		r = rtnl_link_vxlan_set_link(l, (uint32_t)dev);
	if (r >= 0)
		r = rtnl_link_vxlan_set_learning(l, 1);
	if (r >= 0)
		r = rtnl_link_add(c->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	return nlerr(c, r);
}

static int nl_link_add_veth(void *ctx, const struct sf_veth_spec *spec)
{
	struct nl_ctx *c = ctx;
	struct rtnl_link *l, *peer;
	int fd = -1, r;

	if (spec->peer_netns) {
		r = sf_netns_open(spec->peer_netns, &fd);
		if (r < 0)
			return r;
	}
	l = rtnl_link_veth_alloc();
	if (!l)
		abort();
	peer = rtnl_link_veth_get_peer(l); /* a reference of our own */
	rtnl_link_set_name(l, spec->name);
	rtnl_link_set_name(peer, spec->peer);
	if (spec->mtu) {
		rtnl_link_set_mtu(l, spec->mtu);
		rtnl_link_set_mtu(peer, spec->mtu);
	}
	if (fd >= 0)
		rtnl_link_set_ns_fd(peer, fd);
	r = nlerr(c, rtnl_link_add(c->sk, l, NLM_F_CREATE | NLM_F_EXCL));
	rtnl_link_put(peer);
	rtnl_link_put(l);
	if (fd >= 0)
		close(fd);
	return r;
}

static int nl_link_set_master(void *ctx, const char *ifname, const char *master)
{
	struct nl_ctx *c = ctx;
	struct rtnl_link *ch;
	int idx = 0, r;

	if (master) {
		r = ifindex_by_name(c, master, &idx);
		if (r < 0)
			return r;
	}
	ch = link_alloc();
	rtnl_link_set_master(ch, idx); /* IFLA_MASTER 0 releases */
	r = link_change(c, ifname, ch);
	rtnl_link_put(ch);
	return r;
}

static int nl_link_set_up(void *ctx, const char *ifname, bool up)
{
	struct rtnl_link *ch = link_alloc();
	int r;

	if (up)
		rtnl_link_set_flags(ch, IFF_UP);
	else
		rtnl_link_unset_flags(ch, IFF_UP);
	r = link_change(ctx, ifname, ch);
	rtnl_link_put(ch);
	return r;
}

static int nl_link_set_mtu(void *ctx, const char *ifname, unsigned mtu)
{
	struct rtnl_link *ch = link_alloc();
	int r;

	rtnl_link_set_mtu(ch, mtu);
	r = link_change(ctx, ifname, ch);
	rtnl_link_put(ch);
	return r;
}

static int nl_link_set_mac(void *ctx, const char *ifname, const struct sf_mac *mac)
{
	struct rtnl_link *ch = link_alloc();
	struct nl_addr *a = nl_addr_build(AF_LLC, mac->b, sizeof(mac->b));
	int r;

	if (!a)
		abort();
	rtnl_link_set_addr(ch, a); /* takes a reference */
	nl_addr_put(a);
	r = link_change(ctx, ifname, ch);
	rtnl_link_put(ch);
	return r;
}

static int nl_link_set_netns(void *ctx, const char *ifname, const char *netns)
{
	struct rtnl_link *ch;
	int fd = -1, r;

	r = sf_netns_open(netns, &fd);
	if (r < 0)
		return r;
	ch = link_alloc();
	rtnl_link_set_ns_fd(ch, fd);
	r = link_change(ctx, ifname, ch);
	rtnl_link_put(ch);
	close(fd);
	return r;
}

static int nl_link_del(void *ctx, const char *ifname)
{
	struct nl_ctx *c = ctx;
	struct rtnl_link *l = link_alloc();
	int r;

	rtnl_link_set_name(l, ifname);
	r = nlerr(c, rtnl_link_delete(c->sk, l));
	rtnl_link_put(l);
	return r == -ENODEV || r == -ENOENT ? 0 : r;
}

static int nl_link_get(void *ctx, const char *ifname, struct sf_link *ret)
{
	struct nl_ctx *c = ctx;
	struct rtnl_link *l, *m;
	int r;

	r = link_by_name(c, ifname, &l);
	if (r < 0)
		return r;
	fill_link(l, ret);
	rtnl_link_put(l);
	if (ret->master > 0 && nlerr(c, rtnl_link_get_kernel(c->sk, ret->master, NULL, &m)) == 0) {
		copy_name(ret->master_name, rtnl_link_get_name(m));
		rtnl_link_put(m);
	}
	return 0;
}

static int cmp_ifindex(const void *a, const void *b)
{
	const struct sf_link *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static int nl_link_list(void *ctx, struct sf_link **ret, size_t *ret_n)
{
	struct nl_ctx *c = ctx;
	struct nl_cache *cache;
	struct nl_object *o;
	struct sf_link *v;
	size_t n = 0;
	int r;

	r = retry_dump(c, rtnl_link_alloc_cache(c->sk, AF_UNSPEC, &cache));
	if (r < 0)
		return r;
	v = sf_xcalloc((size_t)nl_cache_nitems(cache) + 1, sizeof(*v));
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct sf_link *x = &v[n++];

		fill_link((struct rtnl_link *)o, x);
		if (x->master > 0)
			(void)rtnl_link_i2name(cache, x->master, x->master_name,
					       sizeof(x->master_name));
	}
	nl_cache_free(cache);
	qsort(v, n, sizeof(*v), cmp_ifindex);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int nl_link_stats(void *ctx, const char *ifname, struct sf_link_stats *ret)
{
	struct rtnl_link *l;
	int r;

	r = link_by_name(ctx, ifname, &l);
	if (r < 0)
		return r;
	ret->rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
	ret->rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
	ret->rx_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_ERRORS);
	ret->rx_dropped = rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED);
	ret->rx_over_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_OVER_ERR);
	ret->rx_multicast = rtnl_link_get_stat(l, RTNL_LINK_MULTICAST);
	ret->tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
	ret->tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
	ret->tx_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_ERRORS);
	ret->tx_dropped = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED);
	ret->tx_carrier_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_CARRIER_ERR);
	ret->tx_collisions = rtnl_link_get_stat(l, RTNL_LINK_COLLISIONS);
	rtnl_link_put(l);
	return 0;
}

/* ---- addresses ---- */

/* An rtnl_addr for cidr (canonical, host bits kept) on ifindex. */
static struct rtnl_addr *addr_build(int ifindex, const char *cidr)
{
	struct sf_ipv4_net net;
	struct rtnl_addr *a;
	struct nl_addr *local;

	if (sf_ipv4_net_parse(cidr, SF_IPV4_NET_HOST_BITS, &net) < 0)
		return NULL; /* checked by the caller already */
	a = rtnl_addr_alloc();
	if (!a)
		abort();
	local = nl_addr4(net.addr, net.prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	(void)rtnl_addr_set_local(a, local);
	rtnl_addr_set_prefixlen(a, net.prefix);
	nl_addr_put(local);
	if (net.prefix <= 30) { /* as `ip addr add ... brd +` */
		struct nl_addr *brd = nl_addr4(sf_ipv4_net_broadcast(&net), 32);

		(void)rtnl_addr_set_broadcast(a, brd);
		nl_addr_put(brd);
	}
	return a;
}

static int nl_addr_change(struct nl_ctx *c, const char *ifname, const char *cidr, bool add)
{
	struct rtnl_addr *a;
	int idx, r;

	r = ifindex_by_name(c, ifname, &idx);
	if (r < 0)
		return r;
	a = addr_build(idx, cidr);
	if (!a)
		return -EINVAL;
	if (add)
		r = nlerr(c, rtnl_addr_add(c->sk, a, NLM_F_EXCL));
	else
		r = nlerr(c, rtnl_addr_delete(c->sk, a, 0));
	rtnl_addr_put(a);
	return r;
}

static int nl_addr_add(void *ctx, const char *ifname, const char *cidr)
{
	return nl_addr_change(ctx, ifname, cidr, true);
}

static int nl_addr_del(void *ctx, const char *ifname, const char *cidr)
{
	int r = nl_addr_change(ctx, ifname, cidr, false);

	return r == -EADDRNOTAVAIL || r == -ENODEV || r == -ENOENT ? 0 : r;
}

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = sf_xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static int nl_addr_list(void *ctx, const char *ifname, char ***ret, size_t *ret_n)
{
	struct nl_ctx *c = ctx;
	struct nl_cache *cache;
	struct nl_object *o;
	char **v = sf_xcalloc(1, sizeof(*v));
	size_t n = 0;
	int idx, r;

	r = ifindex_by_name(c, ifname, &idx);
	if (r >= 0)
		r = retry_dump(c, rtnl_addr_alloc_cache(c->sk, &cache));
	if (r < 0) {
		sf_netops_strv_free(v);
		return r;
	}
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct sf_ipv4_net net;
		char buf[SF_IPV4_NET_STRLEN];

		if (rtnl_addr_get_family(a) != AF_INET || rtnl_addr_get_ifindex(a) != idx)
			continue;
		net.addr = nl_addr4_get(rtnl_addr_get_local(a));
		net.prefix = (uint8_t)rtnl_addr_get_prefixlen(a);
		strv_push(&v, &n, sf_xstrdup(sf_ipv4_net_format(&net, buf)));
	}
	nl_cache_free(cache);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- routes ---- */

static int route_build(struct nl_ctx *c, const struct sf_route *rt, bool del,
		       struct rtnl_route **ret)
{
	struct sf_ipv4_net dst;
	struct rtnl_route *route;
	struct rtnl_nexthop *nh;
	struct nl_addr *a;
	int idx = 0, r;

	if (sf_ipv4_net_parse(rt->dst, 0, &dst) < 0)
		return -EINVAL;
	if (rt->dev[0]) {
		r = ifindex_by_name(c, rt->dev, &idx);
		if (r < 0)
			return r;
	}
	route = rtnl_route_alloc();
	nh = rtnl_route_nh_alloc();
	if (!route || !nh)
		abort();
	(void)rtnl_route_set_family(route, AF_INET);
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	/* a delete matches any protocol; we add ours as static */
	rtnl_route_set_protocol(route, del ? RTPROT_UNSPEC : RTPROT_STATIC);
	rtnl_route_set_priority(route, rt->metric);
	a = nl_addr4(dst.addr, dst.prefix);
	(void)rtnl_route_set_dst(route, a);
	nl_addr_put(a);
	if (idx > 0)
		rtnl_route_nh_set_ifindex(nh, idx);
	if (rt->gateway[0]) {
		uint32_t gw;

		(void)sf_ipv4_parse(rt->gateway, &gw);
		a = nl_addr4(gw, 32);
		rtnl_route_nh_set_gateway(nh, a);
		nl_addr_put(a);
	}
	rtnl_route_add_nexthop(route, nh); /* the route owns nh now */
	*ret = route;
	return 0;
}

static int nl_route_replace(void *ctx, const struct sf_route *rt)
{
	struct nl_ctx *c = ctx;
	struct rtnl_route *route;
	int r;

	r = route_build(c, rt, false, &route);
	if (r < 0)
		return r;
	r = nlerr(c, rtnl_route_add(c->sk, route, NLM_F_REPLACE));
	rtnl_route_put(route);
	return r;
}

static int nl_route_del(void *ctx, const struct sf_route *rt)
{
	struct nl_ctx *c = ctx;
	struct rtnl_route *route;
	int r;

	r = route_build(c, rt, true, &route);
	if (r == -ENODEV) /* its device is gone, and the route with it */
		return 0;
	if (r < 0)
		return r;
	r = nlerr(c, rtnl_route_delete(c->sk, route, 0));
	rtnl_route_put(route);
	return r == -ENOENT || r == -ESRCH ? 0 : r;
}

/* Dumps filtered by the kernel (NETLINK_GET_STRICT_CHK, Linux 4.20+): a strict request may
 * name a device, and the kernel then skips everything else instead of sending it all. Without
 * it, observing one network's routes or flood entries read every network's, O(n) per network
 * and O(n^2) per reconciler pass. */
static int set_strict(struct nl_ctx *c, int on)
{
	if (setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on,
		       sizeof(on)) < 0)
		return -errno;
	return 0;
}

/* Receive the answer to what was just sent, each message to valid(arg); the socket's own
 * callbacks (on_kernel_error) stay in place. */
static int recv_valid(struct nl_ctx *c, nl_recvmsg_msg_cb_t valid, void *arg)
{
	struct nl_cb *sock_cb = nl_socket_get_cb(c->sk), *cb = nl_cb_clone(sock_cb);
	int r;

	nl_cb_put(sock_cb);
	if (!cb)
		abort();
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, arg);
	r = nl_recvmsgs(c->sk, cb);
	nl_cb_put(cb);
	return r;
}

/* Send msg (a dump request) strictly and feed the replies to valid(arg). */
static int strict_dump(struct nl_ctx *c, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid, void *arg)
{
	int r;

	r = set_strict(c, 1);
	if (r < 0)
		return r;
	r = nl_send_auto(c->sk, msg);
	if (r >= 0)
		r = recv_valid(c, valid, arg);
	(void)set_strict(c, 0);
	return r;
}

struct route_dump {
	struct nl_cache *links; /* for the names of the devices; NULL when dev is set */
	const char *dev;	/* the one device asked for, or NULL */
	struct sf_route *v;
	size_t n, size;
};

static int route_dump_cb(struct nl_msg *msg, void *arg)
{
	struct route_dump *d = arg;
	struct rtnl_route *rt;
	struct rtnl_nexthop *nh;
	struct sf_ipv4_net dst;
	struct sf_route *x;
	struct nl_addr *a;

	if (rtnl_route_parse(nlmsg_hdr(msg), &rt) < 0)
		return NL_SKIP;
	if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || rtnl_route_get_type(rt) != RTN_UNICAST ||
	    rtnl_route_get_family(rt) != AF_INET)
		goto out;
	if (d->n == d->size) {
		d->size = d->size ? 2 * d->size : 16;
		d->v = sf_xrealloc(d->v, (d->size + 1) * sizeof(*d->v));
	}
	x = &d->v[d->n++];
	*x = (struct sf_route){0};
	a = rtnl_route_get_dst(rt); /* length 0 (or absent) for the default route */
	dst.addr = nl_addr4_get(a);
	dst.prefix = a ? (uint8_t)nl_addr_get_prefixlen(a) : 0;
	sf_ipv4_net_format(&dst, x->dst);
	x->metric = rtnl_route_get_priority(rt);
	x->protocol = rtnl_route_get_protocol(rt);
	nh = rtnl_route_get_nnexthops(rt) > 0 ? rtnl_route_nexthop_n(rt, 0) : NULL;
	if (nh && rtnl_route_nh_get_gateway(nh))
		sf_ipv4_format(nl_addr4_get(rtnl_route_nh_get_gateway(nh)), x->gateway);
	if (d->dev)
		(void)snprintf(x->dev, sizeof(x->dev), "%s", d->dev);
	else if (nh && rtnl_route_nh_get_ifindex(nh) > 0)
		(void)rtnl_link_i2name(d->links, rtnl_route_nh_get_ifindex(nh), x->dev,
				       sizeof(x->dev));
out:
	rtnl_route_put(rt);
	return NL_OK;
}

static int route_dump(struct nl_ctx *c, int oif, struct route_dump *d)
{
	struct rtmsg rtm = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
	int r;

	if (!msg)
		abort();
	d->n = 0; /* an interrupted dump is asked for again: start from nothing */
	r = nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO);
	if (r >= 0 && oif > 0)
		r = nla_put_u32(msg, RTA_OIF, (uint32_t)oif);
	if (r >= 0)
		r = strict_dump(c, msg, route_dump_cb, d);
	nlmsg_free(msg);
	return r;
}

static int nl_route_list(void *ctx, const char *dev, struct sf_route **ret, size_t *ret_n)
{
	struct nl_ctx *c = ctx;
	struct route_dump d = {.dev = dev};
	int oif = 0, r;

	if (dev)
		r = ifindex_by_name(c, dev, &oif);
	else
		r = retry_dump(c, rtnl_link_alloc_cache(c->sk, AF_UNSPEC, &d.links));
	if (r >= 0)
		r = retry_dump(c, route_dump(c, oif, &d));
	nl_cache_free(d.links);
	if (r < 0) {
		free(d.v);
		return r;
	}
	*ret = d.v ? d.v : sf_xcalloc(1, sizeof(*d.v));
	*ret_n = d.n;
	return 0;
}

/* ---- FDB flood entries of a VXLAN device ---- */

static const uint8_t zero_mac[6];

static int fdb_change(struct nl_ctx *c, const char *ifname, const char *dst_ip, bool add)
{
	struct rtnl_neigh *n;
	struct nl_addr *ll, *dst;
	uint32_t ip;
	int idx, r;

	r = ifindex_by_name(c, ifname, &idx);
	if (r < 0)
		return r;
	if (sf_ipv4_parse(dst_ip, &ip) < 0)
		return -EINVAL;
	n = rtnl_neigh_alloc();
	ll = nl_addr_build(AF_LLC, zero_mac, sizeof(zero_mac));
	if (!n || !ll)
		abort();
	dst = nl_addr4(ip, 32);
	rtnl_neigh_set_ifindex(n, idx);
	rtnl_neigh_set_lladdr(n, ll);
	r = rtnl_neigh_set_dst(n, dst);	     /* sets the family to AF_INET ... */
	rtnl_neigh_set_family(n, AF_BRIDGE); /* ... which an FDB entry is not */
	rtnl_neigh_set_flags(n, NTF_SELF);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	if (r >= 0)
		r = add ? rtnl_neigh_add(c->sk, n, NLM_F_CREATE | NLM_F_APPEND)
			: rtnl_neigh_delete(c->sk, n, 0);
	nl_addr_put(dst);
	nl_addr_put(ll);
	rtnl_neigh_put(n);
	return nlerr(c, r);
}

static int nl_fdb_flood_add(void *ctx, const char *ifname, const char *dst_ip)
{
	return fdb_change(ctx, ifname, dst_ip, true);
}

static int nl_fdb_flood_del(void *ctx, const char *ifname, const char *dst_ip)
{
	int r = fdb_change(ctx, ifname, dst_ip, false);

	return r == -ENOENT || r == -ENODEV ? 0 : r;
}

struct fdb_dump {
	int ifindex; /* the one device asked for; 0: all of them */
	struct sf_fdb_flood *v;
	size_t n, size;
};

static int fdb_dump_cb(struct nl_msg *msg, void *arg)
{
	struct fdb_dump *d = arg;
	struct rtnl_neigh *n;
	struct nl_addr *ll, *dst;

	if (rtnl_neigh_parse(nlmsg_hdr(msg), &n) < 0)
		return NL_SKIP;
	ll = rtnl_neigh_get_lladdr(n);
	dst = rtnl_neigh_get_dst(n);
	if ((!d->ifindex || rtnl_neigh_get_ifindex(n) == d->ifindex) &&
	    (rtnl_neigh_get_flags(n) & NTF_SELF) && ll && nl_addr_get_len(ll) == sizeof(zero_mac) &&
	    memcmp(nl_addr_get_binary_addr(ll), zero_mac, sizeof(zero_mac)) == 0 && dst &&
	    nl_addr_get_len(dst) == 4) {
		if (d->n == d->size) {
			d->size = d->size ? 2 * d->size : 16;
			d->v = sf_xrealloc(d->v, d->size * sizeof(*d->v));
		}
		d->v[d->n].ifindex = rtnl_neigh_get_ifindex(n);
		sf_ipv4_format(nl_addr4_get(dst), d->v[d->n++].dst);
	}
	rtnl_neigh_put(n);
	return NL_OK;
}

/* The bridge-family dump of one device (`bridge fdb show dev X`), filtered by the kernel. */
static int fdb_dump(struct nl_ctx *c, struct fdb_dump *d)
{
	struct ndmsg ndm = {.ndm_family = AF_BRIDGE, .ndm_ifindex = d->ifindex};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_DUMP);
	int r;

	if (!msg)
		abort();
	r = nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO);
	if (r >= 0)
		r = strict_dump(c, msg, fdb_dump_cb, d);
	nlmsg_free(msg);
	if (r < 0) /* an interrupted dump is asked for again: start from nothing */
		d->n = 0;
	return r;
}

static int nl_fdb_flood_dump(void *ctx, struct sf_fdb_flood **ret, size_t *ret_n)
{
	struct nl_ctx *c = ctx;
	struct fdb_dump d = {0}; /* ifindex 0: every device */
	int r;

	r = retry_dump(c, fdb_dump(c, &d));
	if (r < 0) {
		free(d.v);
		return r;
	}
	*ret = d.v ? d.v : sf_xcalloc(1, sizeof(*d.v));
	*ret_n = d.n;
	return 0;
}

/* The same dump, of one device, as the strings the list gives. */
static int nl_fdb_flood_list(void *ctx, const char *ifname, char ***ret, size_t *ret_n)
{
	struct nl_ctx *c = ctx;
	struct fdb_dump d = {0};
	char **v;
	int r;

	r = ifindex_by_name(c, ifname, &d.ifindex);
	if (r >= 0)
		r = retry_dump(c, fdb_dump(c, &d));
	if (r < 0) {
		free(d.v);
		return r;
	}
	v = sf_xcalloc(d.n + 1, sizeof(*v));
	for (size_t i = 0; i < d.n; i++)
		v[i] = sf_xstrdup(d.v[i].dst);
	free(d.v);
	*ret = v;
	*ret_n = d.n;
	return 0;
}

/* ---- sysctl ---- */

struct sysctl_io {
	char *path;
	const char *value; /* write this, or read into out */
	char *out;
};

static int sysctl_io_fn(void *arg)
{
	struct sysctl_io *io = arg;
	char buf[4096];
	ssize_t k;
	int fd, r = 0;

	fd = open(io->path, (io->value ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (io->value) {
		size_t len = strlen(io->value);

		k = write(fd, io->value, len);
		if (k < 0)
			r = -errno;
		else if ((size_t)k != len)
			r = -EIO;
	} else {
		k = read(fd, buf, sizeof(buf) - 1);
		if (k < 0) {
			r = -errno;
		} else {
			buf[k] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			io->out = sf_xstrdup(buf);
		}
	}
	close(fd);
	return r;
}

/* The namespace of /proc/sys/net is the opener's, so the file is opened inside the target. */
static int sysctl_io(struct nl_ctx *c, struct sysctl_io *io, const char *path)
{
	int r;

	io->path = sf_xasprintf("/proc/sys/net/%s", path);
	r = sf_netns_call(c->nsfd, sysctl_io_fn, io);
	free(io->path);
	return r;
}

static int nl_sysctl_set(void *ctx, const char *path, const char *value)
{
	struct sysctl_io io = {.value = value};

	return sysctl_io(ctx, &io, path);
}

/* ipv4/ip_forward through rtnetlink (RTM_GETNETCONF, "all" forwarding: the same setting). The
 * procfs path costs a dentry lookup that walks the /proc/sys/net entries of every namespace
 * of the machine with the same name (proc_sys_compare), which a reconciler pass over a
 * thousand networks' namespaces paid a thousand times. */
struct netconf_reply {
	int forwarding; /* -1 until the reply came */
};

static int netconf_cb(struct nl_msg *msg, void *arg)
{
	struct netconf_reply *rep = arg;
	struct nlattr *tb[NETCONFA_MAX + 1];

	if (nlmsg_hdr(msg)->nlmsg_type != RTM_NEWNETCONF ||
	    nlmsg_parse(nlmsg_hdr(msg), sizeof(struct netconfmsg), tb, NETCONFA_MAX, NULL) < 0 ||
	    !tb[NETCONFA_FORWARDING])
		return NL_SKIP;
	rep->forwarding = (int)nla_get_u32(tb[NETCONFA_FORWARDING]);
	return NL_OK;
}

static int ip_forward_get(struct nl_ctx *c, char **ret_value)
{
	struct netconfmsg ncm = {.ncm_family = AF_INET};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNETCONF, 0);
	struct netconf_reply rep = {.forwarding = -1};
	int r;

	if (!msg)
		abort();
	r = nlmsg_append(msg, &ncm, sizeof(ncm), NLMSG_ALIGNTO);
	if (r >= 0)
		r = nla_put_u32(msg, NETCONFA_IFINDEX, (uint32_t)NETCONFA_IFINDEX_ALL);
	if (r >= 0)
		r = nl_send_auto(c->sk, msg);
	nlmsg_free(msg);
	if (r >= 0)
		r = recv_valid(c, netconf_cb, &rep);
	if (r >= 0)
		r = nl_wait_for_ack(c->sk);
	r = nlerr(c, r);
	if (r == 0 && rep.forwarding < 0)
		r = -EPROTO;
	if (r < 0)
		return r;
	*ret_value = sf_xasprintf("%d", rep.forwarding);
	return 0;
}

static int nl_sysctl_get(void *ctx, const char *path, char **ret_value)
{
	struct sysctl_io io = {0};
	int r;

	if (strcmp(path, "ipv4/ip_forward") == 0)
		return ip_forward_get(ctx, ret_value);
	r = sysctl_io(ctx, &io, path);
	if (r < 0) {
		free(io.out);
		return r;
	}
	*ret_value = io.out;
	return 0;
}

/* ---- persistent TAP devices (added for sf-hypervisor) ---- */

/* In the target namespace: /dev/net/tun makes its device in the namespace of the thread that
 * opened it. IFF_TUN_EXCL refuses an existing name (-EBUSY) instead of attaching to it. */
static int tap_make_fn(void *arg)
{
	const char *name = arg;
	struct ifreq ifr;
	int fd, r = 0;

	memset(&ifr, 0, sizeof(ifr));
	(void)sf_bprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0)
		r = errno == EBUSY ? -EEXIST : -errno;
	close(fd);
	return r;
}

static int nl_link_add_tap(void *ctx, const struct sf_tap_spec *spec)
{
	struct nl_ctx *c = ctx;
	struct rtnl_link *ch;
	struct nl_addr *a = NULL;
	int r;

	r = sf_netns_call(c->nsfd, tap_make_fn, (void *)spec->name);
	if (r < 0)
		return r;
	if (!spec->mtu && !spec->mac)
		return 0;
	ch = link_alloc();
	if (spec->mtu)
		rtnl_link_set_mtu(ch, spec->mtu);
	if (spec->mac) {
		a = nl_addr_build(AF_LLC, spec->mac->b, sizeof(spec->mac->b));
		if (!a)
			abort();
		rtnl_link_set_addr(ch, a); /* takes a reference */
		nl_addr_put(a);
	}
	r = link_change(c, spec->name, ch);
	rtnl_link_put(ch);
	if (r < 0)
		(void)nl_link_del(c, spec->name);
	return r;
}

static const struct sf_netops_class nl_class = {
	.name = "netlink",
	.free = nl_free,
	.at = nl_at,
	.netns_add = nl_netns_add,
	.netns_del = nl_netns_del,
	.netns_exists = nl_netns_exists,
	.netns_list = nl_netns_list,
	.link_add_bridge = nl_link_add_bridge,
	.link_add_vxlan = nl_link_add_vxlan,
	.link_add_veth = nl_link_add_veth,
	.link_set_master = nl_link_set_master,
	.link_set_up = nl_link_set_up,
	.link_set_mtu = nl_link_set_mtu,
	.link_set_mac = nl_link_set_mac,
	.link_set_netns = nl_link_set_netns,
	.link_del = nl_link_del,
	.link_get = nl_link_get,
	.link_list = nl_link_list,
	.link_stats = nl_link_stats,
	.addr_add = nl_addr_add,
	.addr_del = nl_addr_del,
	.addr_list = nl_addr_list,
	.route_replace = nl_route_replace,
	.route_del = nl_route_del,
	.route_list = nl_route_list,
	.fdb_flood_add = nl_fdb_flood_add,
	.fdb_flood_del = nl_fdb_flood_del,
	.fdb_flood_list = nl_fdb_flood_list,
	.fdb_flood_dump = nl_fdb_flood_dump,
	.sysctl_set = nl_sysctl_set,
	.sysctl_get = nl_sysctl_get,
	.link_add_tap = nl_link_add_tap,
};
