// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>

#include "common/worker.h"
#include "sf/err.h"
#include "sf/kv.h"
#include "sf/mq.h"
#include "sf/store.h"

SF_LOG_MODULE("worker");

static void heartbeat(struct sf_kv *kv, const struct wk_node *node, bool *registered)
{
	int r = sf_node_heartbeat(kv, node->name, node->role, node->mesh_ip ? node->mesh_ip : "",
				  SF_VERSION, node->heartbeat_s * 3);

	if (r < 0) {
		sf_log_warn_rl("node heartbeat failed: %s, retrying", sf_strerror(r));
		*registered = false;
		return;
	}
	if (!*registered)
		sf_log_info("registered node %s (role %s)", node->name, node->role);
	*registered = true;
}

int wk_run(const struct sf_daemon_cfg *c, const struct wk_node *node)
{
	struct sf_kv *kv = NULL;
	struct sf_mq *mq = NULL;
	bool registered = false;
	int r;

	r = sf_daemon_connect_kv(c, &kv);
	if (r < 0)
		goto out;
	r = sf_daemon_connect_mq(c, &mq);
	if (r < 0)
		goto out;
	while ((r = sf_mq_declare_topology(mq, &node->queue_role, 1)) < 0) {
		sf_log_warn_errno(r, "declaring the rabbitmq topology failed, retrying");
		sf_daemon_sleep_ms(1000);
		if (sf_daemon_stopping())
			goto out;
	}
	sf_log_info("ready: queue %s%s declared (skeleton: jobs are not consumed yet)",
		    SF_MQ_JOBS_QUEUE_PREFIX, node->queue_role);
	while (!sf_daemon_stopping()) {
		heartbeat(kv, node, &registered);
		sf_daemon_sleep_ms(node->heartbeat_s * 1000);
	}
	r = 0;
out:
	if (r == -ECANCELED)
		r = 0; /* asked to stop while still connecting */
	sf_mq_free(mq);
	sf_kv_free(kv);
	return r;
}
