// SPDX-License-Identifier: Apache-2.0
/* sf-hypervisor: plugs interfaces on one hypervisor and keeps its VXLAN mesh. See hv.h. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/worker.h"
#include "hypervisor/hv.h"
#include "sf/util.h"

SF_LOG_MODULE("hypervisor");

#define CFG(f) offsetof(struct hv_cfg, f)

static const struct sf_cfg_entry hv_cfg_entries[] = {
	SF_DAEMON_CFG_ENTRIES(struct hv_cfg),
	{"node_name", "SF_NODE_NAME", SF_CFG_STR, "hv1", 0, 0, CFG(node_name), 0,
	 "this hypervisor's name; its job queue is sf.jobs.hypervisor.<node_name>"},
	{"node_netns", "SF_NODE_NETNS", SF_CFG_STR, NULL, 0, 0, CFG(node_netns), 0,
	 "network namespace holding this node's dataplane (empty: the daemon's own); the "
	 "development cluster's are <prefix>-hv<i>"},
	{"mesh_nic", "SF_NODE_MESH_NIC", SF_CFG_STR, "mesh0", 0, 0, CFG(mesh_nic), 0,
	 "underlay device of the VXLAN devices"},
	{"mesh_ip", "SF_NODE_MESH_IP", SF_CFG_STR, NULL, 0, 0, CFG(mesh_ip), 0,
	 "this node's VXLAN underlay address (required): registered for the other nodes' flood "
	 "lists, and never a flood entry of its own"},
	{"mtu", "SF_NETWORK_MTU", SF_CFG_INT, "1450", 576, 9000, CFG(mtu), 0,
	 "MTU of the networks: VXLAN, bridge and every port (as the network node's)"},
	{"vxlan_port", "SF_VXLAN_PORT", SF_CFG_INT, "4789", 1, 65535, CFG(vxlan_port), 0,
	 "UDP port of the VXLAN devices; every node must use the same"},
	{"reconcile_s", "SF_RECONCILE_S", SF_CFG_INT, "30", 1, 86400, CFG(reconcile_s), 0,
	 "reconciler period in seconds (it also runs at start)"},
	{"stray_grace_s", "SF_STRAY_GRACE_S", SF_CFG_INT, "60", 0, 86400, CFG(stray_grace_s), 0,
	 "how long a device of ours that belongs to nothing this node hosts stays before the "
	 "reconciler removes it"},
	{"heartbeat_s", "SF_NODE_HEARTBEAT_S", SF_CFG_INT, "10", 1, 3600, CFG(heartbeat_s), 0,
	 "node registry refresh period in seconds; the entry expires after three periods"},
};

static const struct sf_cfg_table hv_cfg_table = {
	.daemon = "sf-hypervisor",
	.description =
		"sf-net hypervisor worker: VXLAN, bridges and the flood list of the networks "
		"with interfaces here; taps and veths for the interfaces",
	.version = SF_VERSION,
	.entries = hv_cfg_entries,
	.n = SF_ARRAY_SIZE(hv_cfg_entries),
};

static bool cfg_ok(const struct hv_cfg *c)
{
	uint32_t a;

	if (!c->node_name || !*c->node_name)
		(void)fprintf(stderr, "sf-hypervisor: node_name: must not be empty\n");
	else if (!c->mesh_ip || sf_ipv4_parse(c->mesh_ip, &a) < 0)
		(void)fprintf(stderr, "sf-hypervisor: mesh_ip: must be an IPv4 address\n");
	else if (!c->mesh_nic || !sf_ifname_is_valid(c->mesh_nic))
		(void)fprintf(stderr, "sf-hypervisor: mesh_nic: not a device name\n");
	else
		return true;
	return false;
}

static const struct wk_loop_spec *loop_spec(const struct hv_cfg *c)
{
	static struct wk_periodic periodic[1];
	static struct wk_loop_spec spec = {
		.handlers =
			{
				[SF_JOB_INTERFACE_PLUG] = hv_h_plug,
				[SF_JOB_INTERFACE_UNPLUG] = hv_h_unplug,
				[SF_JOB_NETWORK_DEPLOY] = hv_h_network,
				[SF_JOB_NETWORK_DESTROY] = hv_h_network,
				[SF_JOB_NODE_RECONCILE] = hv_h_reconcile,
			},
		.periodic = periodic,
		.n_periodic = SF_ARRAY_SIZE(periodic),
	};

	periodic[0] = (struct wk_periodic){"reconcile", (unsigned)c->reconcile_s * 1000, true,
					   hv_reconcile};
	return &spec;
}

int main(int argc, char **argv)
{
	static struct hv_state st;
	struct hv_cfg cfg = {0};
	struct sf_netops *node = NULL;
	bool done = false;
	const char *netns;
	char *role = NULL;
	int r;

	if (sf_daemon_configure(&hv_cfg_table, &cfg, &cfg.common, argc, argv, &done) < 0)
		return 1;
	if (done)
		goto out;
	if (!cfg_ok(&cfg))
		goto out;
	sf_daemon_signals_setup();
	sf_daemon_files_limit_raise();
	netns = cfg.node_netns && *cfg.node_netns ? cfg.node_netns : NULL;
	r = sf_netops_nl_new(netns, &node);
	if (r < 0) {
		sf_log_err_errno(r, "cannot open netlink in the node namespace %s",
				 netns ? netns : "(own)");
		goto out;
	}
	st = (struct hv_state){.cfg = &cfg, .node = node};
	role = sf_xasprintf("hypervisor.%s", cfg.node_name);
	sf_log_info("starting %s %s as node %s (node namespace %s, mesh %s on %s)",
		    hv_cfg_table.daemon, SF_VERSION, cfg.node_name, netns ? netns : "(own)",
		    cfg.mesh_ip, cfg.mesh_nic);
	r = wk_run(&cfg.common, &(struct wk_node){
					.name = cfg.node_name,
					.role = "hypervisor",
					.queue_role = role,
					.mesh_ip = cfg.mesh_ip,
					.heartbeat_s = (unsigned)cfg.heartbeat_s,
					.loop = loop_spec(&cfg),
					.userdata = &st,
				});
	sf_log_info("stopped");
	done = r == 0;
out:
	free(st.strays);
	free(role);
	sf_netops_free(node);
	sf_cfg_free(&hv_cfg_table, &cfg);
	return done ? 0 : 1;
}
