/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User metadata of an object (spec 1.5.10), one implementation for networks (h_networks.c),
 * interfaces (h_interfaces.c) and namespaces (h_auth.c):
 *   GET    .../metadata           the metadata object
 *   POST   .../metadata           {key, value}: set a key
 *   PUT    .../metadata/<key>     {value}: set a key
 *   DELETE .../metadata/<key>     delete a key (a missing key is fine)
 * Each resource looks its object up (its own 404s and access checks), then hands the request
 * to api_metadata_serve() with a class saying how that object keeps its metadata.
 */
#ifndef API_METADATA_H
#define API_METADATA_H

#include <jansson.h>
#include <stdbool.h>

struct api_ctx;
struct api_request;
struct api_response;
struct sf_kv;

struct api_metadata_class {
	int object_type;    /* enum sf_object_type of the events */
	bool mutate_events; /* also a mutate "set attribute" event per change (as upstream's
			     * networks do) */
	int (*get)(struct sf_kv *kv, const char *id, json_t **ret_metadata);
	int (*set)(struct sf_kv *kv, const char *id, const char *key, const json_t *value);
	int (*del)(struct sf_kv *kv, const char *id, const char *key);
};

/* Serve a metadata request (by req->method, as above) for the object id, which the caller has
 * looked up and may access. A missing or empty key is 400 "no key specified", a missing or falsy
 * value 400 "no value specified"; each change is audited. Returns as a handler does; an error
 * of the class's functions is passed on (-ENOENT: the object went away meanwhile). */
int api_metadata_serve(struct api_ctx *ctx, const struct api_metadata_class *cls, const char *id,
		       const struct api_request *req, struct api_response *resp);

#endif
