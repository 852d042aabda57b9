// SPDX-License-Identifier: Apache-2.0
/*
 * GET /nodes and GET /nodes/<name> (system namespace only): the node registry the workers keep
 * with their heartbeats (sf_node_heartbeat), as views {name, role, mesh_ip, version, last_seen,
 * state: "up"|"missing"}.
 */
#include <errno.h>

#include "api.h"
#include "sf/store.h"

static int h_nodes_list(struct api_ctx *ctx, const struct api_request *req SF_UNUSED,
			struct api_response *resp)
{
	json_t *nodes = NULL;
	int r = sf_node_list(ctx->kv, &nodes);

	return r < 0 ? r : api_ok(resp, nodes);
}

static int h_nodes_get(struct api_ctx *ctx, const struct api_request *req,
		       struct api_response *resp)
{
	json_t *node = NULL;
	int r = sf_node_get(ctx->kv, req->params[0], &node);

	if (r == -ENOENT)
		return api_error(resp, 404, "node not found");
	return r < 0 ? r : api_ok(resp, node);
}

const struct api_route api_routes_nodes[] = {
	{"GET", "/nodes", NULL, API_SYSTEM_ONLY, h_nodes_list},
	{"GET", "/nodes/<name>", NULL, API_SYSTEM_ONLY, h_nodes_get},
	{0},
};
