// SPDX-License-Identifier: Apache-2.0
/* An in-memory sf_netops for unit tests; see netops_fake.h for what it models. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "netops_fake.h"
#include "sf/util.h"

#define ROOT_NS "" /* the root namespace's name in the model */

struct flink {
	unsigned id; /* unique in the model: veth peers point at each other by id */
	unsigned peer_id;
	struct sf_link l; /* name, kind, mtu, master, up, mac, vxlan_*; the rest is derived */
	struct sf_link_stats stats;
	char **addrs;
	size_t n_addrs;
	char **fdb;
	size_t n_fdb;
};

struct fns {
	char *name;
	struct flink **links;
	size_t n_links;
	struct sf_route *routes;
	size_t n_routes;
	char **sysctl; /* "path=value" */
	size_t n_sysctl;
};

struct failure {
	char *op;
	int err;
};

struct model {
	unsigned refs;
	char **calls;
	size_t n_calls;
	struct fns **nss;
	size_t n_nss;
	struct failure *failures;
	size_t n_failures;
	unsigned next_id;
	int next_ifindex;
};

struct fake {
	struct model *m;
	char *ns;
};

static const struct sf_netops_class fake_class;

static struct fake *fake_of(struct sf_netops *ops)
{
	struct fake *f = sf_netops_ctx(ops, &fake_class);

	assert(f); /* not a fake handle: a test bug */
	return f;
}

static void record(struct fake *f, const char *fmt, ...) SF_PRINTF(2, 3);
static void record(struct fake *f, const char *fmt, ...)
{
	struct model *m = f->m;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = sf_xvasprintf(fmt, ap);
	va_end(ap);
	m->calls = sf_xrealloc(m->calls, (m->n_calls + 1) * sizeof(*m->calls));
	if (f->ns[0]) {
		m->calls[m->n_calls++] = sf_xasprintf("@%s %s", f->ns, s);
		free(s);
	} else {
		m->calls[m->n_calls++] = s;
	}
}

/* An injected failure for op, consumed; 0 when none. */
static int injected(struct fake *f, const char *op)
{
	struct model *m = f->m;

	for (size_t i = 0; i < m->n_failures; i++) {
		if (strcmp(m->failures[i].op, op) == 0) {
			int err = m->failures[i].err;

			free(m->failures[i].op);
			memmove(&m->failures[i], &m->failures[i + 1],
				(m->n_failures - i - 1) * sizeof(*m->failures));
			m->n_failures--;
			return err;
		}
	}
	return 0;
}

#define FAIL_IF_INJECTED(f, op)                 \
	do {                                    \
		int inj_ = injected((f), (op)); \
		if (inj_)                       \
			return inj_;            \
	} while (0)

static void strv_add(char ***v, size_t *n, const char *s)
{
	*v = sf_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = sf_xstrdup(s);
}

static ssize_t strv_find(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return (ssize_t)i;
	return -1;
}

static void strv_remove(char **v, size_t *n, size_t i)
{
	free(v[i]);
	memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
	(*n)--;
}

static void strv_clear(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

/* A NULL-terminated copy, as the API hands lists out. */
static char **strv_export(char **v, size_t n)
{
	char **out = sf_xcalloc(n + 1, sizeof(*out));

	for (size_t i = 0; i < n; i++)
		out[i] = sf_xstrdup(v[i]);
	return out;
}

/* ---- namespaces and links in the model ---- */

static struct fns *ns_find(struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n_nss; i++)
		if (strcmp(m->nss[i]->name, name) == 0)
			return m->nss[i];
	return NULL;
}

static struct flink *link_new(struct model *m, struct fns *ns, const char *name, const char *kind,
			      unsigned mtu)
{
	struct flink *k = sf_xcalloc(1, sizeof(*k));

	k->id = ++m->next_id;
	(void)sf_bprintf(k->l.name, sizeof(k->l.name), "%s", name);
	(void)sf_bprintf(k->l.kind, sizeof(k->l.kind), "%s", kind);
	k->l.ifindex = strcmp(name, "lo") == 0 ? 1 : m->next_ifindex++;
	k->l.mtu = mtu;
	k->l.mac.b[0] = 0x02; /* a stable, locally administered MAC from the id */
	k->l.mac.b[4] = (uint8_t)(k->id >> 8);
	k->l.mac.b[5] = (uint8_t)k->id;
	ns->links = sf_xrealloc(ns->links, (ns->n_links + 1) * sizeof(*ns->links));
	ns->links[ns->n_links++] = k;
	return k;
}

static struct fns *ns_new(struct model *m, const char *name)
{
	struct fns *ns = sf_xcalloc(1, sizeof(*ns));
	struct flink *lo;

	ns->name = sf_xstrdup(name);
	m->nss = sf_xrealloc(m->nss, (m->n_nss + 1) * sizeof(*m->nss));
	m->nss[m->n_nss++] = ns;
	lo = link_new(m, ns, "lo", "", 65536);
	lo->l.up = true;
	memset(&lo->l.mac, 0, sizeof(lo->l.mac));
	return ns;
}

static struct flink *link_find(struct fns *ns, const char *name)
{
	for (size_t i = 0; i < ns->n_links; i++)
		if (strcmp(ns->links[i]->l.name, name) == 0)
			return ns->links[i];
	return NULL;
}

static struct flink *link_by_ifindex(struct fns *ns, int ifindex)
{
	for (size_t i = 0; i < ns->n_links; i++)
		if (ns->links[i]->l.ifindex == ifindex)
			return ns->links[i];
	return NULL;
}

static struct flink *link_by_id(struct model *m, unsigned id, struct fns **ret_ns)
{
	for (size_t i = 0; i < m->n_nss; i++)
		for (size_t j = 0; j < m->nss[i]->n_links; j++)
			if (m->nss[i]->links[j]->id == id) {
				*ret_ns = m->nss[i];
				return m->nss[i]->links[j];
			}
	return NULL;
}

/* Routes through a device go with it. */
static void routes_drop_dev(struct fns *ns, const char *dev)
{
	for (size_t i = 0; i < ns->n_routes;) {
		if (strcmp(ns->routes[i].dev, dev) == 0) {
			memmove(&ns->routes[i], &ns->routes[i + 1],
				(ns->n_routes - i - 1) * sizeof(*ns->routes));
			ns->n_routes--;
		} else {
			i++;
		}
	}
}

/* Take k out of ns (not freed): its ports lose their master, its routes go. */
static void link_detach(struct fns *ns, struct flink *k)
{
	for (size_t i = 0; i < ns->n_links; i++)
		if (ns->links[i]->l.master == k->l.ifindex)
			ns->links[i]->l.master = 0;
	routes_drop_dev(ns, k->l.name);
	for (size_t i = 0; i < ns->n_links; i++) {
		if (ns->links[i] == k) {
			memmove(&ns->links[i], &ns->links[i + 1],
				(ns->n_links - i - 1) * sizeof(*ns->links));
			ns->n_links--;
			break;
		}
	}
}

static void link_free(struct flink *k)
{
	strv_clear(&k->addrs, &k->n_addrs);
	strv_clear(&k->fdb, &k->n_fdb);
	free(k);
}

/* Delete k and, for a veth, its peer wherever it lives. */
static void link_destroy(struct model *m, struct fns *ns, struct flink *k)
{
	struct fns *peer_ns;
	struct flink *peer = k->peer_id ? link_by_id(m, k->peer_id, &peer_ns) : NULL;

	link_detach(ns, k);
	link_free(k);
	if (peer) {
		link_detach(peer_ns, peer);
		link_free(peer);
	}
}

static void ns_free(struct fns *ns)
{
	for (size_t i = 0; i < ns->n_links; i++)
		link_free(ns->links[i]);
	free(ns->links);
	free(ns->routes);
	strv_clear(&ns->sysctl, &ns->n_sysctl);
	free(ns->name);
	free(ns);
}

/* The handle's namespace, or NULL when it has been deleted. */
static struct fns *here(struct fake *f)
{
	return ns_find(f->m, f->ns);
}

/* ---- the handle ---- */

static struct sf_netops *handle_new(struct model *m, const char *ns)
{
	struct fake *f = sf_xcalloc(1, sizeof(*f));

	m->refs++;
	f->m = m;
	f->ns = sf_xstrdup(ns);
	return sf_netops_new_with_class(&fake_class, f);
}

struct sf_netops *sf_netops_fake_new(void)
{
	struct model *m = sf_xcalloc(1, sizeof(*m));

	m->next_ifindex = 2;
	ns_new(m, ROOT_NS);
	return handle_new(m, ROOT_NS);
}

static void fake_free(void *ctx)
{
	struct fake *f = ctx;
	struct model *m = f->m;

	free(f->ns);
	free(f);
	if (--m->refs > 0)
		return;
	strv_clear(&m->calls, &m->n_calls);
	for (size_t i = 0; i < m->n_nss; i++)
		ns_free(m->nss[i]);
	free(m->nss);
	for (size_t i = 0; i < m->n_failures; i++)
		free(m->failures[i].op);
	free(m->failures);
	free(m);
}

static int fake_at(void *ctx, const char *netns, struct sf_netops **ret)
{
	struct fake *f = ctx;

	FAIL_IF_INJECTED(f, "at");
	if (!ns_find(f->m, netns))
		return -ENOENT;
	*ret = handle_new(f->m, netns);
	return 0;
}

static int fake_netns_add(void *ctx, const char *name)
{
	struct fake *f = ctx;

	FAIL_IF_INJECTED(f, "netns_add");
	if (ns_find(f->m, name))
		return -EEXIST;
	ns_new(f->m, name);
	record(f, "netns_add %s", name);
	return 0;
}

static int fake_netns_del(void *ctx, const char *name)
{
	struct fake *f = ctx;
	struct model *m = f->m;
	struct fns *ns;

	FAIL_IF_INJECTED(f, "netns_del");
	ns = ns_find(m, name);
	if (!ns)
		return 0;
	while (ns->n_links > 0) /* veth peers elsewhere go too */
		link_destroy(m, ns, ns->links[ns->n_links - 1]);
	for (size_t i = 0; i < m->n_nss; i++) {
		if (m->nss[i] == ns) {
			memmove(&m->nss[i], &m->nss[i + 1], (m->n_nss - i - 1) * sizeof(*m->nss));
			m->n_nss--;
			break;
		}
	}
	ns_free(ns);
	record(f, "netns_del %s", name);
	return 0;
}

static bool fake_netns_exists(void *ctx, const char *name)
{
	struct fake *f = ctx;

	return ns_find(f->m, name) != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fake_netns_list(void *ctx, char ***ret_names, size_t *ret_n)
{
	struct fake *f = ctx;
	char **v = sf_xcalloc(f->m->n_nss + 1, sizeof(*v));
	size_t n = 0;

	FAIL_IF_INJECTED(f, "netns_list");
	for (size_t i = 0; i < f->m->n_nss; i++)
		if (f->m->nss[i]->name[0])
			v[n++] = sf_xstrdup(f->m->nss[i]->name);
	qsort(v, n, sizeof(*v), cmp_str);
	*ret_names = v;
	*ret_n = n;
	return 0;
}

/* ---- links ---- */

static int fake_link_add_bridge(void *ctx, const struct sf_bridge_spec *spec)
{
	struct fake *f = ctx;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_add_bridge");
	if (link_find(ns, spec->name))
		return -EEXIST;
	link_new(f->m, ns, spec->name, "bridge", spec->mtu ? spec->mtu : 1500);
	record(f, "link_add_bridge %s mtu=%u ageing=%u", spec->name, spec->mtu, spec->ageing_s);
	return 0;
}

static int fake_link_add_vxlan(void *ctx, const struct sf_vxlan_spec *spec)
{
	struct fake *f = ctx;
	struct flink *dev = NULL, *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_add_vxlan");
	if (spec->dev || spec->dev_ifindex) {
		dev = spec->dev ? link_find(ns, spec->dev) : link_by_ifindex(ns, spec->dev_ifindex);
		if (!dev)
			return -ENODEV;
	}
	if (link_find(ns, spec->name))
		return -EEXIST;
	k = link_new(f->m, ns, spec->name, "vxlan", spec->mtu ? spec->mtu : 1450);
	k->l.vxlan_vni = spec->vni;
	k->l.vxlan_port = spec->port;
	k->l.vxlan_dev = dev ? dev->l.ifindex : 0;
	record(f, "link_add_vxlan %s vni=%u port=%u dev=%s mtu=%u", spec->name, spec->vni,
	       spec->port, dev ? dev->l.name : "-", spec->mtu);
	return 0;
}

static int fake_link_add_veth(void *ctx, const struct sf_veth_spec *spec)
{
	struct fake *f = ctx;
	struct fns *peer_ns;
	struct flink *a, *b;
	unsigned mtu = spec->mtu ? spec->mtu : 1500;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_add_veth");
	peer_ns = spec->peer_netns ? ns_find(f->m, spec->peer_netns) : ns;
	if (!peer_ns)
		return -ENOENT;
	if (link_find(ns, spec->name) || link_find(peer_ns, spec->peer))
		return -EEXIST;
	a = link_new(f->m, ns, spec->name, "veth", mtu);
	b = link_new(f->m, peer_ns, spec->peer, "veth", mtu);
	a->peer_id = b->id;
	b->peer_id = a->id;
	if (spec->peer_netns)
		record(f, "link_add_veth %s peer=%s mtu=%u peer_netns=%s", spec->name, spec->peer,
		       spec->mtu, spec->peer_netns);
	else
		record(f, "link_add_veth %s peer=%s mtu=%u", spec->name, spec->peer, spec->mtu);
	return 0;
}

static int fake_link_set_master(void *ctx, const char *ifname, const char *master)
{
	struct fake *f = ctx;
	struct flink *k, *br = NULL;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_set_master");
	k = link_find(ns, ifname);
	if (master)
		br = link_find(ns, master);
	if (!k || (master && !br))
		return -ENODEV;
	if (br && (strcmp(br->l.kind, "bridge") != 0 || br == k))
		return -EOPNOTSUPP;
	k->l.master = br ? br->l.ifindex : 0;
	if (br)
		record(f, "link_set_master %s %s", ifname, master);
	else
		record(f, "link_set_nomaster %s", ifname);
	return 0;
}

static int fake_link_set_up(void *ctx, const char *ifname, bool up)
{
	struct fake *f = ctx;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_set_up");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	k->l.up = up;
	record(f, "link_set_%s %s", up ? "up" : "down", ifname);
	return 0;
}

static int fake_link_set_mtu(void *ctx, const char *ifname, unsigned mtu)
{
	struct fake *f = ctx;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_set_mtu");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	k->l.mtu = mtu;
	record(f, "link_set_mtu %s %u", ifname, mtu);
	return 0;
}

static int fake_link_set_mac(void *ctx, const char *ifname, const struct sf_mac *mac)
{
	struct fake *f = ctx;
	char buf[SF_MAC_STRLEN];
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_set_mac");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	k->l.mac = *mac;
	record(f, "link_set_mac %s %s", ifname, sf_mac_format(mac, buf));
	return 0;
}

static int fake_link_set_netns(void *ctx, const char *ifname, const char *netns)
{
	struct fake *f = ctx;
	struct fns *to;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_set_netns");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	to = ns_find(f->m, netns);
	if (!to)
		return -ENOENT;
	if (to == ns)
		goto out;
	if (link_find(to, ifname))
		return -EEXIST;
	link_detach(ns, k);
	k->l.up = false;
	k->l.master = 0;
	strv_clear(&k->addrs, &k->n_addrs);
	to->links = sf_xrealloc(to->links, (to->n_links + 1) * sizeof(*to->links));
	to->links[to->n_links++] = k;
out:
	record(f, "link_set_netns %s %s", ifname, netns);
	return 0;
}

static int fake_link_del(void *ctx, const char *ifname)
{
	struct fake *f = ctx;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_del");
	k = link_find(ns, ifname);
	if (!k)
		return 0;
	link_destroy(f->m, ns, k);
	record(f, "link_del %s", ifname);
	return 0;
}

/* The public view: master name, running and operstate derived as the kernel would. */
static void link_view(struct fake *f, struct fns *ns, const struct flink *k, struct sf_link *out)
{
	struct flink *master = k->l.master ? link_by_ifindex(ns, k->l.master) : NULL;
	struct fns *peer_ns;
	struct flink *peer = k->peer_id ? link_by_id(f->m, k->peer_id, &peer_ns) : NULL;
	bool carrier = !peer || peer->l.up;

	*out = k->l;
	if (master)
		(void)sf_bprintf(out->master_name, sizeof(out->master_name), "%s", master->l.name);
	out->running = k->l.up && carrier;
	if (!k->l.up)
		out->oper = SF_LINK_OPER_DOWN;
	else if (strcmp(k->l.name, "lo") == 0)
		out->oper = SF_LINK_OPER_UNKNOWN;
	else
		out->oper = carrier ? SF_LINK_OPER_UP : SF_LINK_OPER_LOWERLAYERDOWN;
}

static int fake_link_get(void *ctx, const char *ifname, struct sf_link *ret)
{
	struct fake *f = ctx;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_get");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	link_view(f, ns, k, ret);
	return 0;
}

static int cmp_ifindex(const void *a, const void *b)
{
	const struct sf_link *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static int fake_link_list(void *ctx, struct sf_link **ret, size_t *ret_n)
{
	struct fake *f = ctx;
	struct sf_link *v;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_list");
	v = sf_xcalloc(ns->n_links + 1, sizeof(*v));
	for (size_t i = 0; i < ns->n_links; i++)
		link_view(f, ns, ns->links[i], &v[i]);
	qsort(v, ns->n_links, sizeof(*v), cmp_ifindex);
	*ret = v;
	*ret_n = ns->n_links;
	return 0;
}

static int fake_link_stats(void *ctx, const char *ifname, struct sf_link_stats *ret)
{
	struct fake *f = ctx;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_stats");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	*ret = k->stats;
	return 0;
}

/* ---- addresses ---- */

static int fake_addr_add(void *ctx, const char *ifname, const char *cidr)
{
	struct fake *f = ctx;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "addr_add");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	if (strv_find(k->addrs, k->n_addrs, cidr) >= 0)
		return -EEXIST;
	strv_add(&k->addrs, &k->n_addrs, cidr);
	record(f, "addr_add %s %s", ifname, cidr);
	return 0;
}

static int fake_addr_del(void *ctx, const char *ifname, const char *cidr)
{
	struct fake *f = ctx;
	struct flink *k;
	ssize_t i;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "addr_del");
	k = link_find(ns, ifname);
	i = k ? strv_find(k->addrs, k->n_addrs, cidr) : -1;
	if (i < 0)
		return 0;
	strv_remove(k->addrs, &k->n_addrs, (size_t)i);
	record(f, "addr_del %s %s", ifname, cidr);
	return 0;
}

static int fake_addr_list(void *ctx, const char *ifname, char ***ret, size_t *ret_n)
{
	struct fake *f = ctx;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "addr_list");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	*ret = strv_export(k->addrs, k->n_addrs);
	*ret_n = k->n_addrs;
	return 0;
}

/* ---- routes ---- */

static char *route_text(const struct sf_route *rt)
{
	return sf_xasprintf("%s%s%s%s%s", rt->dst, rt->gateway[0] ? " via " : "", rt->gateway,
			    rt->dev[0] ? " dev " : "", rt->dev);
}

static void record_route(struct fake *f, const char *op, const struct sf_route *rt)
{
	char *t = route_text(rt);

	if (rt->metric)
		record(f, "%s %s metric %u", op, t, rt->metric);
	else
		record(f, "%s %s", op, t);
	free(t);
}

static int fake_route_replace(void *ctx, const struct sf_route *rt)
{
	struct fake *f = ctx;
	struct sf_route *slot = NULL;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "route_replace");
	if (rt->dev[0] && !link_find(ns, rt->dev))
		return -ENODEV;
	for (size_t i = 0; i < ns->n_routes && !slot; i++)
		if (strcmp(ns->routes[i].dst, rt->dst) == 0 && ns->routes[i].metric == rt->metric)
			slot = &ns->routes[i];
	if (!slot) {
		ns->routes = sf_xrealloc(ns->routes, (ns->n_routes + 1) * sizeof(*ns->routes));
		slot = &ns->routes[ns->n_routes++];
	}
	*slot = *rt;
	slot->protocol = 4; /* RTPROT_STATIC, as the real one adds them */
	record_route(f, "route_replace", rt);
	return 0;
}

static int fake_route_del(void *ctx, const struct sf_route *rt)
{
	struct fake *f = ctx;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "route_del");
	for (size_t i = 0; i < ns->n_routes; i++) {
		const struct sf_route *x = &ns->routes[i];

		if (strcmp(x->dst, rt->dst) != 0 || (rt->metric && x->metric != rt->metric) ||
		    (rt->gateway[0] && strcmp(x->gateway, rt->gateway) != 0) ||
		    (rt->dev[0] && strcmp(x->dev, rt->dev) != 0))
			continue;
		memmove(&ns->routes[i], &ns->routes[i + 1],
			(ns->n_routes - i - 1) * sizeof(*ns->routes));
		ns->n_routes--;
		record_route(f, "route_del", rt);
		return 0;
	}
	return 0;
}

static int fake_route_list(void *ctx, const char *dev, struct sf_route **ret, size_t *ret_n)
{
	struct fake *f = ctx;
	struct sf_route *v;
	struct fns *ns = here(f);
	size_t n = 0;

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "route_list");
	if (dev && !link_find(ns, dev))
		return -ENODEV;
	v = sf_xcalloc(ns->n_routes + 1, sizeof(*v));
	for (size_t i = 0; i < ns->n_routes; i++)
		if (!dev || strcmp(ns->routes[i].dev, dev) == 0)
			v[n++] = ns->routes[i];
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- FDB flood entries ---- */

static int fake_fdb_flood_add(void *ctx, const char *ifname, const char *dst_ip)
{
	struct fake *f = ctx;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "fdb_flood_add");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	if (strcmp(k->l.kind, "vxlan") != 0)
		return -EOPNOTSUPP;
	if (strv_find(k->fdb, k->n_fdb, dst_ip) < 0)
		strv_add(&k->fdb, &k->n_fdb, dst_ip);
	record(f, "fdb_flood_add %s %s", ifname, dst_ip);
	return 0;
}

static int fake_fdb_flood_del(void *ctx, const char *ifname, const char *dst_ip)
{
	struct fake *f = ctx;
	struct flink *k;
	ssize_t i;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "fdb_flood_del");
	k = link_find(ns, ifname);
	i = k ? strv_find(k->fdb, k->n_fdb, dst_ip) : -1;
	if (i < 0)
		return 0;
	strv_remove(k->fdb, &k->n_fdb, (size_t)i);
	record(f, "fdb_flood_del %s %s", ifname, dst_ip);
	return 0;
}

static int fake_fdb_flood_list(void *ctx, const char *ifname, char ***ret, size_t *ret_n)
{
	struct fake *f = ctx;
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "fdb_flood_list");
	k = link_find(ns, ifname);
	if (!k)
		return -ENODEV;
	*ret = strv_export(k->fdb, k->n_fdb);
	*ret_n = k->n_fdb;
	return 0;
}

static int fake_fdb_flood_dump(void *ctx, struct sf_fdb_flood **ret, size_t *ret_n)
{
	struct fake *f = ctx;
	struct fns *ns = here(f);
	struct sf_fdb_flood *v;
	size_t n = 0, cap = 1;

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "fdb_flood_dump");
	for (size_t i = 0; i < ns->n_links; i++)
		cap += ns->links[i]->n_fdb;
	v = sf_xcalloc(cap, sizeof(*v));
	for (size_t i = 0; i < ns->n_links; i++)
		for (size_t j = 0; j < ns->links[i]->n_fdb; j++) {
			v[n].ifindex = ns->links[i]->l.ifindex;
			(void)snprintf(v[n++].dst, sizeof(v->dst), "%s", ns->links[i]->fdb[j]);
		}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- sysctl ---- */

/* "ipv4/conf/<dev>/x" needs <dev> (or all/default) to exist. */
static bool sysctl_path_exists(struct fns *ns, const char *path)
{
	static const char prefix[] = "ipv4/conf/";
	char dev[SF_IFNAMSIZ];
	const char *end;

	if (!sf_str_startswith(path, prefix))
		return true;
	path += strlen(prefix);
	end = strchr(path, '/');
	if (!end || (size_t)(end - path) >= sizeof(dev))
		return false;
	memcpy(dev, path, (size_t)(end - path));
	dev[end - path] = '\0';
	return strcmp(dev, "all") == 0 || strcmp(dev, "default") == 0 || link_find(ns, dev);
}

static ssize_t sysctl_find(struct fns *ns, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < ns->n_sysctl; i++)
		if (strncmp(ns->sysctl[i], path, len) == 0 && ns->sysctl[i][len] == '=')
			return (ssize_t)i;
	return -1;
}

static int fake_sysctl_set(void *ctx, const char *path, const char *value)
{
	struct fake *f = ctx;
	ssize_t i;
	char *kv;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "sysctl_set");
	if (!sysctl_path_exists(ns, path))
		return -ENOENT;
	i = sysctl_find(ns, path);
	if (i >= 0)
		strv_remove(ns->sysctl, &ns->n_sysctl, (size_t)i);
	kv = sf_xasprintf("%s=%s", path, value);
	strv_add(&ns->sysctl, &ns->n_sysctl, kv);
	free(kv);
	record(f, "sysctl_set %s=%s", path, value);
	return 0;
}

static int fake_sysctl_get(void *ctx, const char *path, char **ret_value)
{
	struct fake *f = ctx;
	ssize_t i;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "sysctl_get");
	i = sysctl_find(ns, path);
	if (i < 0 || !sysctl_path_exists(ns, path))
		return -ENOENT;
	*ret_value = sf_xstrdup(ns->sysctl[i] + strlen(path) + 1);
	return 0;
}

/* ---- persistent TAP devices (added for sf-hypervisor) ---- */

static int fake_link_add_tap(void *ctx, const struct sf_tap_spec *spec)
{
	struct fake *f = ctx;
	struct fns *ns = here(f);
	struct flink *k;
	char buf[SF_MAC_STRLEN];

	if (!ns)
		return -ENOENT;
	FAIL_IF_INJECTED(f, "link_add_tap");
	if (link_find(ns, spec->name))
		return -EEXIST;
	k = link_new(f->m, ns, spec->name, "tun", spec->mtu ? spec->mtu : 1500);
	if (spec->mac)
		k->l.mac = *spec->mac;
	record(f, "link_add_tap %s mtu=%u mac=%s", spec->name, spec->mtu,
	       spec->mac ? sf_mac_format(spec->mac, buf) : "-");
	return 0;
}

static const struct sf_netops_class fake_class = {
	.name = "fake",
	.free = fake_free,
	.at = fake_at,
	.netns_add = fake_netns_add,
	.netns_del = fake_netns_del,
	.netns_exists = fake_netns_exists,
	.netns_list = fake_netns_list,
	.link_add_bridge = fake_link_add_bridge,
	.link_add_vxlan = fake_link_add_vxlan,
	.link_add_veth = fake_link_add_veth,
	.link_set_master = fake_link_set_master,
	.link_set_up = fake_link_set_up,
	.link_set_mtu = fake_link_set_mtu,
	.link_set_mac = fake_link_set_mac,
	.link_set_netns = fake_link_set_netns,
	.link_del = fake_link_del,
	.link_get = fake_link_get,
	.link_list = fake_link_list,
	.link_stats = fake_link_stats,
	.addr_add = fake_addr_add,
	.addr_del = fake_addr_del,
	.addr_list = fake_addr_list,
	.route_replace = fake_route_replace,
	.route_del = fake_route_del,
	.route_list = fake_route_list,
	.fdb_flood_add = fake_fdb_flood_add,
	.fdb_flood_del = fake_fdb_flood_del,
	.fdb_flood_list = fake_fdb_flood_list,
	.fdb_flood_dump = fake_fdb_flood_dump,
	.sysctl_set = fake_sysctl_set,
	.sysctl_get = fake_sysctl_get,
	.link_add_tap = fake_link_add_tap,
};

/* ---- test controls ---- */

size_t sf_netops_fake_n_calls(struct sf_netops *ops)
{
	return fake_of(ops)->m->n_calls;
}

const char *sf_netops_fake_call(struct sf_netops *ops, size_t i)
{
	struct model *m = fake_of(ops)->m;

	return i < m->n_calls ? m->calls[i] : NULL;
}

char *sf_netops_fake_calls(struct sf_netops *ops)
{
	struct model *m = fake_of(ops)->m;
	size_t len = 0, off = 0;
	char *s;

	for (size_t i = 0; i < m->n_calls; i++)
		len += strlen(m->calls[i]) + 1;
	s = sf_xmalloc(len + 1);
	for (size_t i = 0; i < m->n_calls; i++) {
		size_t k = strlen(m->calls[i]);

		memcpy(s + off, m->calls[i], k);
		s[off + k] = '\n';
		off += k + 1;
	}
	s[off] = '\0';
	return s;
}

void sf_netops_fake_clear_calls(struct sf_netops *ops)
{
	struct model *m = fake_of(ops)->m;

	strv_clear(&m->calls, &m->n_calls);
}

int sf_netops_fake_add_nic(struct sf_netops *ops, const char *name, unsigned mtu)
{
	struct fake *f = fake_of(ops);
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	if (!sf_ifname_is_valid(name))
		return -EINVAL;
	if (link_find(ns, name))
		return -EEXIST;
	k = link_new(f->m, ns, name, "", mtu ? mtu : 1500);
	k->l.up = true;
	return 0;
}

int sf_netops_fake_set_stats(struct sf_netops *ops, const char *name,
			     const struct sf_link_stats *stats)
{
	struct fake *f = fake_of(ops);
	struct flink *k;
	struct fns *ns = here(f);

	if (!ns)
		return -ENOENT;
	k = link_find(ns, name);
	if (!k)
		return -ENODEV;
	k->stats = *stats;
	return 0;
}

void sf_netops_fake_fail_next(struct sf_netops *ops, const char *op, int err)
{
	struct model *m = fake_of(ops)->m;

	assert(err < 0);
	m->failures = sf_xrealloc(m->failures, (m->n_failures + 1) * sizeof(*m->failures));
	m->failures[m->n_failures].op = sf_xstrdup(op);
	m->failures[m->n_failures].err = err;
	m->n_failures++;
}
