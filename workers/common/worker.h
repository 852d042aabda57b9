/* SPDX-License-Identifier: Apache-2.0 */
/* What sf-networknode and sf-hypervisor share: connecting, declaring their queue, registering
 * the node, and running the job loop until SIGTERM. */
#ifndef WK_WORKER_H
#define WK_WORKER_H

#include "common/jobloop.h"
#include "sf/daemon.h"

struct wk_node {
	const char *name;	/* node name in the registry */
	const char *role;	/* "networknode" or "hypervisor" */
	const char *queue_role; /* "networknode" or "hypervisor.<name>" */
	const char *mesh_ip;	/* underlay address, may be empty */
	unsigned heartbeat_s;	/* registry refresh period; the record expires after 3 periods */
	const struct wk_loop_spec *loop; /* handlers and periodic tasks; NULL: no handlers, so
					    every job fails with an event. spec->queue may be
					    NULL: wk_run consumes sf.jobs.<queue_role> */
	void *userdata;			 /* the handlers' ctx->userdata */
};

/* Load the job schemas, connect to Redis and RabbitMQ (retrying until SIGTERM), declare the
 * topology with the node's job queue, register the node, then run the job loop (wk_loop_run)
 * with node->loop's handlers and periodic tasks plus a heartbeat every heartbeat_s, until
 * SIGTERM/SIGINT. Handlers and tasks get a struct wk_ctx with this node as ctx->self.
 * Returns 0 on a clean stop, -errno when start-up failed. */
int wk_run(const struct sf_daemon_cfg *c, const struct wk_node *node);

#endif
