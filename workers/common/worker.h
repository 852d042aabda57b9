/* SPDX-License-Identifier: Apache-2.0 */
/* What sf-networknode and sf-hypervisor share: connecting, declaring their queue, registering
 * the node, running until SIGTERM. */
#ifndef WK_WORKER_H
#define WK_WORKER_H

#include "sf/daemon.h"

struct wk_node {
	const char *name;       /* node name in the registry */
	const char *role;       /* "networknode" or "hypervisor" */
	const char *queue_role; /* "networknode" or "hypervisor.<name>" */
	const char *mesh_ip;    /* underlay address, may be empty */
	unsigned heartbeat_s;   /* registry refresh period; the record expires after 3 periods */
};

/* Connect to Redis and RabbitMQ (retrying until SIGTERM), declare the topology with the node's
 * job queue, register the node and refresh its heartbeat, and run until SIGTERM/SIGINT.
 * SKELETON: jobs are not consumed yet; the job loop arrives with the network-node issue.
 * Returns 0 on a clean stop, -errno when start-up failed. */
int wk_run(const struct sf_daemon_cfg *c, const struct wk_node *node);

#endif
