// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/worker.h"
#include "sf/err.h"
#include "sf/kv.h"
#include "sf/mq.h"
#include "sf/store.h"

SF_LOG_MODULE("worker");

/* A periodic task of every worker: refresh the node's registry entry. */
static int heartbeat(struct wk_ctx *ctx)
{
	const struct wk_node *node = ctx->self;

	return sf_node_heartbeat(ctx->kv, node->name, node->role,
				 node->mesh_ip ? node->mesh_ip : "", SF_VERSION,
				 node->heartbeat_s * 3);
}

int wk_run(const struct sf_daemon_cfg *c, const struct wk_node *node)
{
	static const struct wk_loop_spec no_handlers;
	struct wk_loop_spec spec = node->loop ? *node->loop : no_handlers;
	struct sf_envelope_schemas *schemas = NULL;
	struct wk_periodic *tasks = NULL;
	struct sf_diag diag = {0};
	struct wk_ctx ctx = {0};
	struct sf_kv *kv = NULL;
	struct sf_mq *mq = NULL;
	char *queue = NULL;
	int r;

	r = sf_envelope_schemas_load(NULL, &schemas, &diag);
	if (r < 0) {
		sf_log_err_errno(r, "cannot load the job schemas%s%s", diag.message[0] ? ": " : "",
				 diag.message);
		goto out;
	}
	r = sf_daemon_connect_kv(c, &kv);
	if (r < 0)
		goto out;
	r = sf_daemon_connect_mq(c, &mq);
	if (r < 0)
		goto out;
	while ((r = sf_mq_declare_topology(mq, &node->queue_role, 1)) < 0) {
		sf_log_warn_errno(r, "declaring the rabbitmq topology failed, retrying");
		sf_daemon_sleep_ms(1000);
		if (sf_daemon_stopping()) {
			r = -ECANCELED;
			goto out;
		}
	}

	queue = sf_xasprintf(SF_MQ_JOBS_QUEUE_PREFIX "%s", node->queue_role);
	if (!spec.queue)
		spec.queue = queue;
	tasks = sf_xcalloc(spec.n_periodic + 1, sizeof(*tasks));
	if (spec.n_periodic)
		memcpy(tasks, spec.periodic, spec.n_periodic * sizeof(*tasks));
	tasks[spec.n_periodic++] = (struct wk_periodic){
		.name = "heartbeat",
		.period_ms = node->heartbeat_s * 1000,
		.fn = heartbeat,
	};
	spec.periodic = tasks;

	ctx.kv = kv;
	ctx.mq = mq;
	ctx.schemas = schemas;
	ctx.node = node->name;
	ctx.userdata = node->userdata;
	ctx.self = node;

	/* Registered before the first job and before the start-up tasks (a reconcile may be
	 * long); from then on the heartbeat is a periodic task. */
	r = heartbeat(&ctx);
	if (r < 0)
		sf_log_warn_errno(r, "registering node %s failed, retrying every %u s", node->name,
				  node->heartbeat_s);
	else
		sf_log_info("registered node %s (role %s)", node->name, node->role);
	sf_log_info("ready: consuming %s", spec.queue);
	r = wk_loop_run(&ctx, &spec);
out:
	if (r == -ECANCELED)
		r = 0; /* asked to stop while still connecting */
	free(tasks);
	free(queue);
	sf_mq_free(mq);
	sf_kv_free(kv);
	sf_envelope_schemas_free(schemas);
	return r;
}
