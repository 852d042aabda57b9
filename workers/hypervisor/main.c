// SPDX-License-Identifier: Apache-2.0
/* sf-hypervisor: plugs interfaces on one hypervisor (skeleton, see README). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/worker.h"
#include "sf/util.h"

SF_LOG_MODULE("hypervisor");

struct hv_cfg {
	struct sf_daemon_cfg common;
	char *node_name;
	char *node_netns;
	char *mesh_ip;
	long heartbeat_s;
};

static const struct sf_cfg_entry hv_cfg_entries[] = {
	SF_DAEMON_CFG_ENTRIES(struct hv_cfg),
	{"node_name", "SF_NODE_NAME", SF_CFG_STR, "hv1", 0, 0, offsetof(struct hv_cfg, node_name),
	 0, "this hypervisor's name; its job queue is sf.jobs.hypervisor.<node_name>"},
	{"node_netns", "SF_NODE_NETNS", SF_CFG_STR, NULL, 0, 0, offsetof(struct hv_cfg, node_netns),
	 0, "network namespace holding this node's dataplane (empty: the daemon's own)"},
	{"mesh_ip", "SF_NODE_MESH_IP", SF_CFG_STR, NULL, 0, 0, offsetof(struct hv_cfg, mesh_ip), 0,
	 "this node's VXLAN underlay address"},
	{"heartbeat_s", "SF_NODE_HEARTBEAT_S", SF_CFG_INT, "10", 1, 3600,
	 offsetof(struct hv_cfg, heartbeat_s), 0,
	 "node registry refresh period in seconds; the entry expires after three periods"},
};

static const struct sf_cfg_table hv_cfg_table = {
	.daemon = "sf-hypervisor",
	.description =
		"sf-net hypervisor worker (skeleton: consumes its queue, handles no job type yet)",
	.version = SF_VERSION,
	.entries = hv_cfg_entries,
	.n = SF_ARRAY_SIZE(hv_cfg_entries),
};

int main(int argc, char **argv)
{
	struct hv_cfg cfg = {0};
	bool done = false;
	char *role = NULL;
	int r;

	if (sf_daemon_configure(&hv_cfg_table, &cfg, &cfg.common, argc, argv, &done) < 0)
		return 1;
	if (done)
		goto out;
	if (!cfg.node_name || !*cfg.node_name) {
		(void)fprintf(stderr, "sf-hypervisor: node_name: must not be empty\n");
		goto out;
	}
	sf_daemon_signals_setup();
	role = sf_xasprintf("hypervisor.%s", cfg.node_name);
	sf_log_info("starting %s %s as node %s", hv_cfg_table.daemon, SF_VERSION, cfg.node_name);
	r = wk_run(&cfg.common, &(struct wk_node){
					.name = cfg.node_name,
					.role = "hypervisor",
					.queue_role = role,
					.mesh_ip = cfg.mesh_ip,
					.heartbeat_s = (unsigned)cfg.heartbeat_s,
				});
	sf_log_info("stopped");
	done = r == 0;
out:
	free(role);
	sf_cfg_free(&hv_cfg_table, &cfg);
	return done ? 0 : 1;
}
