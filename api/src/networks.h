/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network lookups shared by the /networks handlers (h_networks.c) and the handlers that take a
 * network reference elsewhere (the networkspec of POST /interfaces).
 */
#ifndef API_NETWORKS_H
#define API_NETWORKS_H

#include <stdbool.h>

struct api_ctx;
struct api_caller;
struct sf_network;

/* Resolve a network reference as spec 1.5 "<ref> resolution" says: a uuid (any of the forms
 * Python's uuid.UUID() accepts) names the network in any state, deleted included; anything else
 * is a name matched against the active networks of the caller's namespace (system: of every
 * namespace). The floating network is found by its name "floating", for system only.
 * Ownership is not checked here (see api_network_owned()).
 * 0 with *ret_network (free with sf_network_free()); -ENOENT when nothing matched (404 "network
 * not found"); -ENOTUNIQ when several networks have that name (400 "multiple networks have the
 * name ..."); another -errno from the store. */
int api_network_resolve(struct api_ctx *ctx, const struct api_caller *caller, const char *ref,
			struct sf_network **ret_network);

/* May the caller see this network? Its namespace is the caller's, or the caller is system. */
bool api_network_owned(const struct api_caller *caller, const struct sf_network *network);

#endif
