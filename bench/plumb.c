// SPDX-License-Identifier: Apache-2.0
/*
 * plumb: one network's network-node dataplane (namespace, veths, VXLAN, bridge, addresses,
 * routes, NAT table) built the way sf-networknode builds it (libnn's nn_observe,
 * nn_plan_network and nn_apply), for the plumbing benchmark of bench/run.py (benchmark 3).
 *
 *   plumb NODE_NETNS STORAGE_DIR TAG
 *
 * NODE_NETNS is a throwaway namespace holding the devices mesh0 and egress0 (bench/run.py
 * makes it); STORAGE_DIR an absolute directory of the run; TAG six hex digits unique to the
 * run. Network N is named by the uuid 5f000000-0000-4000-8000-<TAG><N as 6 hex digits>, which
 * is also its namespace's name, and gets vxid N + 1 and the block 10.<N / 256>.<N % 256>.0/24.
 * Commands on stdin, one per line; one answer line each ("err <text>" on failure):
 *
 *   egress        the egress bridge egr-br-egress0, as the worker makes it     -> "ok"
 *   build N       observe, plan and apply network N                            -> "ok
 *                 <observe_us> <plan_us> <apply_us> <operations>"
 *   commands N    the same plan, from nothing, as `ip`, `bridge` and `nft` command lines (the
 *                 nft table is written to STORAGE_DIR/nft-<N>): the lines, then "end"
 *   pending N     how many operations the worker would still apply to network N -> "ok <n>"
 *   destroy N     the worker's teardown of network N                           -> "ok <us>"
 *   reap          free the nftables contexts set aside since the last reap (the worker's
 *                 "nft" periodic task)                        -> "ok <us> <contexts freed>"
 *   profile N     build N one operation at a time, as nn_apply does, timing each kind of
 *                 operation                      -> "ok <kind>=<us>[x<count>] ..." (wall time)
 *
 * Nothing is ever done outside NODE_NETNS and the networks' own namespaces.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "networknode/nn.h"
#include "sf/err.h"
#include "sf/naming.h"
#include "sf/nft.h"
#include "sf/proc.h"

SF_LOG_MODULE("plumb");

#define MESH_NIC "mesh0"
#define EGRESS_NIC "egress0"
#define PEER "198.18.0.11" /* one flood entry, as a network hosted on one hypervisor has */

struct plumb {
	struct nn_cfg cfg;
	struct nn_state st;
	char tag[7];
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Network n as sf-networknode would load it from Redis: NAT, no DHCP (dnsmasq is a process,
 * not plumbing), one peer. */
static int desired(struct plumb *p, unsigned n, struct nn_desired *ret)
{
	char uuid[SF_UUID_STRLEN], block[32];
	struct nn_desired d;
	int r;

	if (n > 0xffff)
		return -ERANGE;
	(void)snprintf(uuid, sizeof(uuid), "5f000000-0000-4000-8000-%s%06x", p->tag, n);
	nn_desired_minimal(&p->st, uuid, n + 1, &d);
	(void)snprintf(block, sizeof(block), "10.%u.%u.0/24", n / 256, n % 256);
	r = sf_ipv4_net_parse(block, SF_IPV4_NET_BARE, &d.netblock);
	if (r == 0)
		r = sf_ipv4_net_nth(&d.floating_net, 10 + n % 200, &d.floating_gateway);
	if (r < 0)
		return r;
	d.provide_nat = true;
	d.peers = sf_xcalloc(2, sizeof(*d.peers));
	d.peers[d.n_peers++] = sf_xstrdup(PEER);
	*ret = d;
	return 0;
}

static int cmd_egress(struct plumb *p)
{
	struct nn_egress_desired d;
	struct nn_egress_observed o;
	struct nn_oplist ops = {0};
	struct sf_netops *unused = NULL;
	int r;

	nn_egress_desired(&p->st, &d);
	r = nn_egress_observe(&p->st, &o);
	if (r < 0)
		return r;
	r = nn_plan_egress(&d, &o, &ops);
	for (size_t i = 0; r == 0 && i < ops.n; i++)
		r = nn_apply_netops(p->st.node, &unused, NULL, &ops.ops[i]);
	sf_netops_free(unused);
	nn_egress_observed_clear(&o);
	nn_oplist_clear(&ops);
	return r;
}

static int cmd_build(struct plumb *p, unsigned n, char *out, size_t size)
{
	struct nn_desired d;
	struct nn_observed o = {0};
	struct nn_oplist ops = {0};
	uint64_t t0, t1, t2, t3;
	int r;

	r = desired(p, n, &d);
	if (r < 0)
		return r;
	t0 = now_us();
	r = nn_observe(&p->st, &d, &o);
	t1 = now_us();
	if (r == 0)
		r = nn_plan_network(&d, &o, &ops);
	t2 = now_us();
	if (r == 0)
		r = nn_apply(&p->st, &d, &ops, NULL);
	nn_nft_put(&p->st, d.uuid); /* as nn_converge ends */
	t3 = now_us();
	if (r == 0)
		(void)snprintf(out, size, "ok %llu %llu %llu %zu", (unsigned long long)(t1 - t0),
			       (unsigned long long)(t2 - t1), (unsigned long long)(t3 - t2), ops.n);
	nn_oplist_clear(&ops);
	nn_observed_clear(&o);
	nn_desired_clear(&d);
	return r;
}

/* Like cmd_build, applying the operations one by one as nn_apply does (netops ones through
 * nn_apply_netops with one handle in the network's namespace, the others through nn_apply),
 * and summing the wall time of each kind. The handle's opening is "netops_at". */
static int cmd_profile(struct plumb *p, unsigned n, char *out, size_t size)
{
	struct nn_desired d;
	struct nn_observed o = {0};
	struct nn_oplist ops = {0};
	struct sf_netops *net = NULL;
	uint64_t us[_NN_OP_KIND_MAX + 1] = {0};
	unsigned count[_NN_OP_KIND_MAX + 1] = {0};
	const char *names[_NN_OP_KIND_MAX + 1] = {0};
	char line[512], *kind;
	size_t len = 0;
	int r;

	r = desired(p, n, &d);
	if (r < 0)
		return r;
	r = nn_observe(&p->st, &d, &o);
	if (r == 0)
		r = nn_plan_network(&d, &o, &ops);
	for (size_t i = 0; r == 0 && i < ops.n; i++) {
		struct nn_op *op = &ops.ops[i];
		uint64_t t0 = now_us();

		if (nn_op_is_netops(op) && op->where == NN_AT_NET && !net) {
			r = sf_netops_at(p->st.node, d.uuid, &net);
			us[_NN_OP_KIND_MAX] += now_us() - t0;
			count[_NN_OP_KIND_MAX]++;
			names[_NN_OP_KIND_MAX] = "netops_at";
			t0 = now_us();
		}
		if (r == 0 && nn_op_is_netops(op))
			r = nn_apply_netops(p->st.node, &net, d.uuid, op);
		else if (r == 0)
			r = nn_apply(&p->st, &d, &(struct nn_oplist){.ops = op, .n = 1, .cap = 1},
				     NULL);
		us[op->kind] += now_us() - t0;
		count[op->kind]++;
		/* "<where> <kind> ...": the kind's name is the second word */
		kind = strchr(nn_op_format(op, line, sizeof(line)), ' ');
		if (!names[op->kind] && kind) {
			kind++;
			kind[strcspn(kind, " ")] = '\0';
			names[op->kind] = sf_xstrdup(kind);
		}
	}
	if (r == 0) {
		len = (size_t)snprintf(out, size, "ok");
		for (int k = 0; k <= _NN_OP_KIND_MAX && len < size; k++)
			if (count[k])
				len += (size_t)snprintf(out + len, size - len, " %s=%llux%u",
							names[k], (unsigned long long)us[k],
							count[k]);
	}
	for (int k = 0; k < _NN_OP_KIND_MAX; k++)
		free((char *)names[k]);
	sf_netops_free(net);
	nn_nft_put(&p->st, d.uuid);
	nn_oplist_clear(&ops);
	nn_observed_clear(&o);
	nn_desired_clear(&d);
	return r;
}

static int cmd_pending(struct plumb *p, unsigned n, char *out, size_t size)
{
	struct nn_desired d;
	struct nn_observed o = {0};
	struct nn_oplist ops = {0};
	int r;

	r = desired(p, n, &d);
	if (r < 0)
		return r;
	r = nn_observe(&p->st, &d, &o);
	if (r == 0)
		r = nn_plan_network(&d, &o, &ops);
	if (r == 0) {
		(void)snprintf(out, size, "ok %zu", ops.n);
		for (size_t i = 0; i < ops.n; i++) {
			char line[512];

			(void)fprintf(stderr, "plumb: pending: %s\n",
				      nn_op_format(&ops.ops[i], line, sizeof(line)));
		}
	}
	nn_nft_put(&p->st, d.uuid);
	nn_oplist_clear(&ops);
	nn_observed_clear(&o);
	nn_desired_clear(&d);
	return r;
}

static int cmd_destroy(struct plumb *p, unsigned n, char *out, size_t size)
{
	struct nn_desired d;
	struct nn_observed o = {0};
	struct nn_oplist ops = {0};
	uint64_t t0 = now_us();
	int r;

	r = desired(p, n, &d);
	if (r < 0)
		return r;
	r = nn_observe(&p->st, &d, &o);
	if (r == 0)
		r = nn_plan_destroy(&d, &o, &ops);
	if (r == 0)
		r = nn_apply(&p->st, &d, &ops, NULL);
	nn_netmem_forget(&p->st, d.uuid);
	if (r == 0)
		(void)snprintf(out, size, "ok %llu", (unsigned long long)(now_us() - t0));
	nn_oplist_clear(&ops);
	nn_observed_clear(&o);
	nn_desired_clear(&d);
	return r;
}

/* Free the nftables contexts builds set aside, as the worker's "nft" periodic task does. */
static int cmd_reap(struct plumb *p, char *out, size_t size)
{
	size_t n = p->st.n_retired;
	uint64_t t0 = now_us();

	nn_nft_reap(&p->st, true);
	(void)snprintf(out, size, "ok %llu %zu", (unsigned long long)(now_us() - t0), n);
	return 0;
}

/* ---- the same plan as commands --------------------------------------------------------- */

/* "-n <namespace>" of where op acts. */
static const char *ns_of(const struct plumb *p, const struct nn_desired *d, const struct nn_op *op)
{
	return op->where == NN_AT_NET ? d->uuid : p->cfg.node_netns;
}

/* One command line for op ("" for none), or -EINVAL for an operation a new network's plan never
 * holds. */
static int op_command(const struct plumb *p, const struct nn_desired *d, const struct nn_op *op,
		      const char *nft_file, char *buf, size_t size)
{
	const char *ns = ns_of(p, d, op);
	char sysctl[NN_OP_STR];

	switch (op->kind) {
	case NN_OP_NETNS_ADD:
		(void)snprintf(buf, size, "ip netns add %s", op->s1);
		return 0;
	case NN_OP_SYSCTL:
		(void)snprintf(sysctl, sizeof(sysctl), "%s", op->s1);
		for (char *c = sysctl; *c; c++)
			if (*c == '/')
				*c = '.';
		(void)snprintf(buf, size, "ip netns exec %s sysctl -qw net.%s=%s", ns, sysctl,
			       op->s2);
		return 0;
	case NN_OP_ADD_BRIDGE:
		(void)snprintf(
			buf, size,
			"ip -n %s link add %s mtu %u type bridge stp_state 0 forward_delay 0 "
			"ageing_time %u",
			ns, op->s1, op->u1, op->u2 * 100);
		return 0;
	case NN_OP_ADD_VXLAN:
		(void)snprintf(buf, size,
			       "ip -n %s link add %s mtu %u type vxlan id %u dstport %u dev %s "
			       "learning",
			       ns, op->s1, op->u1, op->u2, op->u3, op->s2);
		return 0;
	case NN_OP_ADD_VETH:
		(void)snprintf(buf, size,
			       "ip -n %s link add %s mtu %u type veth peer name %s mtu %u netns %s",
			       ns, op->s1, op->u1, op->s2, op->u1, op->s3);
		return 0;
	case NN_OP_SET_MASTER:
		(void)snprintf(buf, size, "ip -n %s link set dev %s master %s", ns, op->s1, op->s2);
		return 0;
	case NN_OP_SET_MTU:
		(void)snprintf(buf, size, "ip -n %s link set dev %s mtu %u", ns, op->s1, op->u1);
		return 0;
	case NN_OP_SET_UP:
		(void)snprintf(buf, size, "ip -n %s link set dev %s up", ns, op->s1);
		return 0;
	case NN_OP_ADDR_ADD:
		(void)snprintf(buf, size, "ip -n %s addr add %s dev %s", ns, op->s2, op->s1);
		return 0;
	case NN_OP_ROUTE_REPLACE:
		(void)snprintf(buf, size, "ip -n %s route replace %s%s%s dev %s", ns, op->s1,
			       *op->s2 ? " via " : "", op->s2, op->s3);
		return 0;
	case NN_OP_DEFAULT_ROUTE:
		(void)snprintf(buf, size, "ip -n %s route replace default via %s dev %s", ns,
			       op->s2, op->s3);
		return 0;
	case NN_OP_FDB_ADD:
		(void)snprintf(buf, size,
			       "bridge -n %s fdb append 00:00:00:00:00:00 dev %s dst %s self "
			       "permanent",
			       ns, op->s1, op->s2);
		return 0;
	case NN_OP_NFT_APPLY:
		(void)snprintf(buf, size, "ip netns exec %s nft -f %s", ns, nft_file);
		return 0;
	case NN_OP_NO_IPV6: /* ours only: upstream leaves IPv6 on, so its commands do too */
		buf[0] = '\0';
		return 0;
	default:
		return -EINVAL;
	}
}

/* Write text to path (truncating). */
static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	int r = 0;

	if (!f)
		return -errno;
	if (fputs(text, f) == EOF)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

static int cmd_commands(struct plumb *p, unsigned n)
{
	struct nn_desired d;
	struct nn_observed o = {0};
	struct nn_oplist ops = {0};
	struct nn_nft_spec spec;
	char *nft_file = NULL, *text = NULL, line[512];
	int r;

	r = desired(p, n, &d);
	if (r < 0)
		return r;
	/* from nothing: only the node's egress bridge is there (the plan takes its MTU) */
	r = sf_netops_link_get(p->st.node, p->st.egress_bridge, &o.egr_br.link);
	o.egr_br.exists = r == 0;
	if (r == 0)
		r = nn_plan_network(&d, &o, &ops);
	if (r == 0)
		r = nn_nft_spec_init(&d, &spec);
	if (r < 0)
		goto out;
	r = sf_nft_render(&spec.spec, &text);
	nn_nft_spec_clear(&spec);
	if (r < 0)
		goto out;
	nft_file = sf_xasprintf("%s/nft-%u", p->cfg.storage_dir, n);
	r = write_text(nft_file, text);
	for (size_t i = 0; r == 0 && i < ops.n; i++) {
		r = op_command(p, &d, &ops.ops[i], nft_file, line, sizeof(line));
		if (r == 0 && line[0])
			(void)printf("%s\n", line);
	}
	if (r == 0) {
		/* what the worker would remember after applying it, so pending compares tables */
		struct nn_netmem *mem = nn_netmem(&p->st, d.uuid);

		free(mem->nft_text);
		mem->nft_text = text;
		text = NULL;
		(void)printf("end\n");
	}
out:
	free(text);
	free(nft_file);
	nn_oplist_clear(&ops);
	nn_desired_clear(&d);
	return r;
}

static int serve(struct plumb *p)
{
	char line[128], cmd[16], arg[16], out[1024];
	unsigned n = 0;
	long v;
	int r;

	while (fgets(line, sizeof(line), stdin)) {
		/* "<command> [N]"; k == 2 only with a valid N */
		int k = sscanf(line, "%15s %15s", cmd, arg);

		if (k == 2 && sf_parse_long(arg, 0, 0xffff, &v) == 0)
			n = (unsigned)v;
		else if (k == 2)
			k = 1;

		out[0] = '\0';
		if (k >= 1 && strcmp(cmd, "egress") == 0)
			r = cmd_egress(p);
		else if (k == 2 && strcmp(cmd, "build") == 0)
			r = cmd_build(p, n, out, sizeof(out));
		else if (k == 2 && strcmp(cmd, "commands") == 0)
			r = cmd_commands(p, n);
		else if (k == 2 && strcmp(cmd, "pending") == 0)
			r = cmd_pending(p, n, out, sizeof(out));
		else if (k == 2 && strcmp(cmd, "profile") == 0)
			r = cmd_profile(p, n, out, sizeof(out));
		else if (k == 2 && strcmp(cmd, "destroy") == 0)
			r = cmd_destroy(p, n, out, sizeof(out));
		else if (k >= 1 && strcmp(cmd, "reap") == 0)
			r = cmd_reap(p, out, sizeof(out));
		else
			r = -EINVAL;
		if (r < 0)
			(void)printf("err %s\n", sf_strerror(r));
		else if (out[0])
			(void)printf("%s\n", out);
		else if (strcmp(cmd, "commands") != 0)
			(void)printf("ok\n");
		(void)fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct plumb p;
	struct sf_netops *node = NULL;
	struct sf_proc *proc = NULL;
	int r;

	if (argc != 4 || argv[2][0] != '/' || strlen(argv[3]) != 6 ||
	    strspn(argv[3], "0123456789abcdef") != 6) {
		(void)fprintf(stderr, "usage: %s NODE_NETNS STORAGE_DIR TAG(6 hex digits)\n",
			      argv[0]);
		return 2;
	}
	p.cfg = (struct nn_cfg){
		.node_name = "plumb",
		.node_netns = argv[1],
		.mesh_nic = MESH_NIC,
		.egress_nic = EGRESS_NIC,
		.floating_network = "198.51.100.0/24",
		.storage_dir = argv[2],
		.mtu = 1450,
		.vxlan_port = SF_VXLAN_PORT_DEFAULT,
	};
	memcpy(p.tag, argv[3], sizeof(p.tag));
	/* the worker's own pieces: dnsmasq supervision (observe asks it) and a node handle */
	r = sf_proc_new(&(struct sf_proc_options){0}, &proc);
	if (r == 0)
		r = sf_netops_nl_new(argv[1], &node);
	if (r == 0)
		r = nn_state_init(&p.st, &p.cfg, node, proc);
	if (r == 0)
		r = serve(&p);
	if (r < 0)
		(void)fprintf(stderr, "plumb: %s\n", sf_strerror(r));
	nn_state_clear(&p.st);
	sf_netops_free(node);
	sf_proc_free(proc);
	return r < 0 ? 1 : 0;
}
