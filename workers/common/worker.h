/* SPDX-License-Identifier: Apache-2.0 */
/* What sf-networknode and sf-hypervisor share: connecting, declaring their queue, running. */
#ifndef WK_WORKER_H
#define WK_WORKER_H

#include "sf/daemon.h"

/* Connect to Redis and RabbitMQ (retrying until SIGTERM), declare the topology with the job
 * queue of `role` ("networknode" or "hypervisor.<node>"), and run until SIGTERM/SIGINT.
 * SKELETON: jobs are not consumed yet; the job loop arrives with the network-node issue.
 * Returns 0 on a clean stop, -errno when start-up failed. */
int wk_run(const struct sf_daemon_cfg *c, const char *role);

#endif
