// SPDX-License-Identifier: Apache-2.0
/* sf-networknode: builds networks on the network node (skeleton, see README). */
#include <stddef.h>
#include <stdio.h>

#include "common/worker.h"
#include "sf/util.h"

SF_LOG_MODULE("networknode");

struct nn_cfg {
	struct sf_daemon_cfg common;
	char *node_name;
	char *node_netns;
	char *mesh_ip;
	long heartbeat_s;
};

static const struct sf_cfg_entry nn_cfg_entries[] = {
	SF_DAEMON_CFG_ENTRIES(struct nn_cfg),
	{"node_name", "SF_NODE_NAME", SF_CFG_STR, "networknode", 0, 0,
	 offsetof(struct nn_cfg, node_name), 0, "this node's name in the node registry"},
	{"node_netns", "SF_NODE_NETNS", SF_CFG_STR, NULL, 0, 0, offsetof(struct nn_cfg, node_netns),
	 0, "network namespace holding this node's dataplane (empty: the daemon's own)"},
	{"mesh_ip", "SF_NODE_MESH_IP", SF_CFG_STR, NULL, 0, 0, offsetof(struct nn_cfg, mesh_ip), 0,
	 "this node's VXLAN underlay address"},
	{"heartbeat_s", "SF_NODE_HEARTBEAT_S", SF_CFG_INT, "10", 1, 3600,
	 offsetof(struct nn_cfg, heartbeat_s), 0,
	 "node registry refresh period in seconds; the entry expires after three periods"},
};

static const struct sf_cfg_table nn_cfg_table = {
	.daemon = "sf-networknode",
	.description = "sf-net network node worker (skeleton: connects, declares its queue, waits)",
	.version = SF_VERSION,
	.entries = nn_cfg_entries,
	.n = SF_ARRAY_SIZE(nn_cfg_entries),
};

int main(int argc, char **argv)
{
	struct nn_cfg cfg = {0};
	bool done = false;
	int r;

	if (sf_daemon_configure(&nn_cfg_table, &cfg, &cfg.common, argc, argv, &done) < 0)
		return 1;
	if (done)
		goto out;
	sf_daemon_signals_setup();
	sf_log_info("starting %s %s as node %s", nn_cfg_table.daemon, SF_VERSION, cfg.node_name);
	r = wk_run(&cfg.common, &(struct wk_node){
					.name = cfg.node_name,
					.role = "networknode",
					.queue_role = "networknode",
					.mesh_ip = cfg.mesh_ip,
					.heartbeat_s = (unsigned)cfg.heartbeat_s,
				});
	sf_log_info("stopped");
	done = r == 0;
out:
	sf_cfg_free(&nn_cfg_table, &cfg);
	return done ? 0 : 1;
}
