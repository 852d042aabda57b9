// SPDX-License-Identifier: Apache-2.0
/* sf-networknode: builds networks on the network node. See nn.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/worker.h"
#include "networknode/nn.h"
#include "sf/err.h"
#include "sf/proc.h"
#include "sf/util.h"

SF_LOG_MODULE("networknode");

#define CFG(f) offsetof(struct nn_cfg, f)

static const struct sf_cfg_entry nn_cfg_entries[] = {
	SF_DAEMON_CFG_ENTRIES(struct nn_cfg),
	{"node_name", "SF_NODE_NAME", SF_CFG_STR, "networknode", 0, 0, CFG(node_name), 0,
	 "this node's name in the node registry"},
	{"node_netns", "SF_NODE_NETNS", SF_CFG_STR, NULL, 0, 0, CFG(node_netns), 0,
	 "network namespace holding this node's dataplane (empty: the daemon's own); the "
	 "development cluster's is <prefix>-nn"},
	{"mesh_nic", "SF_NODE_MESH_NIC", SF_CFG_STR, "eth0", 0, 0, CFG(mesh_nic), 0,
	 "underlay device of the VXLAN devices (the development cluster's is mesh0)"},
	{"mesh_ip", "SF_NODE_MESH_IP", SF_CFG_STR, NULL, 0, 0, CFG(mesh_ip), 0,
	 "this node's VXLAN underlay address: registered, and never a flood entry of its own"},
	{"egress_nic", "SF_NODE_EGRESS_NIC", SF_CFG_STR, "eth0", 0, 0, CFG(egress_nic), 0,
	 "the egress NIC; names the egress bridge egr-br-<nic> and gives it its MTU"},
	{"floating_network", "SF_FLOATING_NETWORK", SF_CFG_STR, "198.51.100.0/24", 0, 0,
	 CFG(floating_network), 0,
	 "the floating pool; must equal sf-api's (checked against Redis at start)"},
	{"zone", "SF_ZONE", SF_CFG_STR, "shakenfist", 0, 0, CFG(zone), 0,
	 "DNS suffix: networks get the domain <namespace>.<zone> (as sf-api's zone)"},
	{"dns_server", "SF_DNS_SERVER", SF_CFG_STR, "203.0.113.1", 0, 0, CFG(dns_server), 0,
	 "upstream resolver of dnsmasq, and the resolver handed to networks without DNS; the "
	 "default is the development cluster's outside address (it has no real DNS): set it"},
	{"mtu", "SF_NETWORK_MTU", SF_CFG_INT, "1450", 576, 9000, CFG(mtu), 0,
	 "MTU of the networks: VXLAN, bridge, both ends of the veths, and DHCP option 26"},
	{"vxlan_port", "SF_VXLAN_PORT", SF_CFG_INT, "4789", 1, 65535, CFG(vxlan_port), 0,
	 "UDP port of the VXLAN devices; every node must use the same"},
	{"storage_dir", "SF_STORAGE_DIR", SF_CFG_STR, "/var/lib/sf-net", 0, 0, CFG(storage_dir), 0,
	 "state directory (absolute): dnsmasq files under <dir>/dhcp/<network uuid>/"},
	{"reconcile_s", "SF_RECONCILE_S", SF_CFG_INT, "30", 1, 86400, CFG(reconcile_s), 0,
	 "reconciler period in seconds (it also runs at start)"},
	{"usage_s", "SF_USAGE_S", SF_CFG_INT, "60", 1, 86400, CFG(usage_s), 0,
	 "period of the usage events in seconds"},
	{"stray_grace_s", "SF_STRAY_GRACE_S", SF_CFG_INT, "60", 0, 86400, CFG(stray_grace_s), 0,
	 "how long devices of no live network stay before the reconciler removes them, and how "
	 "long a network may stay initial before the reconciler deploys it"},
	{"ping_count", "SF_PING_COUNT", SF_CFG_INT, "10", 1, 100, CFG(ping_count), 0,
	 "echo requests per ping request (ARCHITECTURE 5.11)"},
	{"ping_interval_ms", "SF_PING_INTERVAL_MS", SF_CFG_INT, "1000", 200, 10000,
	 CFG(ping_interval_ms), 0, "milliseconds between echo requests"},
	{"halo_seconds", "SF_HALO_SECONDS", SF_CFG_INT, "300", 0, 86400, CFG(halo_seconds), 0,
	 "deletion halo of released floating addresses (as sf-api's)"},
	{"heartbeat_s", "SF_NODE_HEARTBEAT_S", SF_CFG_INT, "10", 1, 3600, CFG(heartbeat_s), 0,
	 "node registry refresh period in seconds; the entry expires after three periods"},
};

static const struct sf_cfg_table nn_cfg_table = {
	.daemon = "sf-networknode",
	.description = "sf-net network node worker: network namespaces, VXLAN, bridges, dnsmasq, "
		       "NAT, floating and routed IPs, ping",
	.version = SF_VERSION,
	.entries = nn_cfg_entries,
	.n = SF_ARRAY_SIZE(nn_cfg_entries),
};

static bool cfg_ok(const struct nn_cfg *c)
{
	uint32_t a;

	if (!c->node_name || !*c->node_name)
		(void)fprintf(stderr, "sf-networknode: node_name: must not be empty\n");
	else if (c->mesh_ip && *c->mesh_ip && sf_ipv4_parse(c->mesh_ip, &a) < 0)
		(void)fprintf(stderr, "sf-networknode: mesh_ip: not an IPv4 address\n");
	else if (!c->dns_server || sf_ipv4_parse(c->dns_server, &a) < 0)
		(void)fprintf(stderr, "sf-networknode: dns_server: not an IPv4 address\n");
	else if (!c->storage_dir || c->storage_dir[0] != '/')
		(void)fprintf(stderr, "sf-networknode: storage_dir: must be an absolute path\n");
	else if (!c->mesh_nic || !sf_ifname_is_valid(c->mesh_nic))
		(void)fprintf(stderr, "sf-networknode: mesh_nic: not a device name\n");
	else
		return true;
	return false;
}

static const struct wk_loop_spec *loop_spec(const struct nn_cfg *c)
{
	static struct wk_periodic periodic[4];
	static struct wk_loop_spec spec = {
		.handlers =
			{
				[SF_JOB_NETWORK_DEPLOY] = nn_h_deploy,
				[SF_JOB_NETWORK_DESTROY] = nn_h_destroy,
				[SF_JOB_NETWORK_ROUTE] = nn_h_route,
				[SF_JOB_NETWORK_UNROUTE] = nn_h_route,
				[SF_JOB_NETWORK_DNS_UPDATE] = nn_h_update,
				[SF_JOB_NETWORK_DHCP_HOSTS] = nn_h_update,
				[SF_JOB_NETWORK_PING] = nn_h_ping,
				[SF_JOB_INTERFACE_FLOAT] = nn_h_float,
				[SF_JOB_INTERFACE_DEFLOAT] = nn_h_defloat,
				[SF_JOB_NODE_RECONCILE] = nn_h_reconcile,
			},
		.periodic = periodic,
		.n_periodic = SF_ARRAY_SIZE(periodic),
	};

	periodic[0] = (struct wk_periodic){"reconcile", (unsigned)c->reconcile_s * 1000, true,
					   nn_reconcile_slice};
	periodic[1] = (struct wk_periodic){"usage", (unsigned)c->usage_s * 1000, false, nn_usage};
	/* reap and restart dnsmasq; the supervisor's first restart comes after 1 s */
	periodic[2] = (struct wk_periodic){"dnsmasq", 500, false, nn_proc_tick};
	/* free the nftables contexts deploys set aside (nn_nft_put) */
	periodic[3] = (struct wk_periodic){"nft", 4 * NN_NFT_CLOSE_DELAY_MS, false, nn_nft_tick};
	return &spec;
}

int main(int argc, char **argv)
{
	static struct nn_state st;
	struct nn_cfg cfg = {0};
	struct sf_netops *node = NULL;
	struct sf_proc *proc = NULL;
	bool done = false;
	const char *netns;
	int r;

	if (sf_daemon_configure(&nn_cfg_table, &cfg, &cfg.common, argc, argv, &done) < 0)
		return 1;
	if (done)
		goto out;
	if (!cfg_ok(&cfg))
		goto out;
	sf_daemon_signals_setup();
	sf_daemon_files_limit_raise();
	/* before any thread exists: the supervisor blocks SIGCHLD, which threads inherit */
	r = sf_proc_new(&(struct sf_proc_options){.on_exit = nn_on_dnsmasq_exit, .userdata = &st},
			&proc);
	if (r < 0) {
		sf_log_err_errno(r, "cannot start the process supervisor");
		goto out;
	}
	netns = cfg.node_netns && *cfg.node_netns ? cfg.node_netns : NULL;
	r = sf_netops_nl_new(netns, &node);
	if (r < 0) {
		sf_log_err_errno(r, "cannot open netlink in the node namespace %s",
				 netns ? netns : "(own)");
		goto out;
	}
	if (nn_state_init(&st, &cfg, node, proc) < 0)
		goto out;
	sf_log_info("starting %s %s as node %s (node namespace %s, storage %s)",
		    nn_cfg_table.daemon, SF_VERSION, cfg.node_name, netns ? netns : "(own)",
		    cfg.storage_dir);
	r = wk_run(&cfg.common, &(struct wk_node){
					.name = cfg.node_name,
					.role = "networknode",
					.queue_role = "networknode",
					.mesh_ip = cfg.mesh_ip,
					.heartbeat_s = (unsigned)cfg.heartbeat_s,
					.loop = loop_spec(&cfg),
					.userdata = &st,
				});
	sf_log_info("stopped");
	done = r == 0 && !st.fatal;
out:
	nn_state_clear(&st);
	sf_netops_free(node);
	sf_proc_free(proc); /* dnsmasq keeps running: the next daemon adopts it */
	sf_cfg_free(&nn_cfg_table, &cfg);
	return done ? 0 : 1;
}
