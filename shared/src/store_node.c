// SPDX-License-Identifier: Apache-2.0
/*
 * store: the node registry. A heartbeat writes an expiring hash "node:<name>" (the node is up
 * while it exists) and the node's record into the non-expiring hash "nodes" (name -> JSON),
 * which remembers every node ever seen, so a node whose heartbeat stopped is listed as missing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/json.h"
#include "sf/log.h"
#include "store_priv.h"

SF_LOG_MODULE("store");

int sf_node_heartbeat(struct sf_kv *kv, const char *name, const char *role, const char *mesh_ip,
		      const char *version, unsigned ttl_s)
{
	struct sf_kv_batch *b;
	char now[32], ttl[16], *key, *index, *json;
	const char *argv[12];
	json_t *rec;
	int argc = 0, r;

	if (!name || !*name || ttl_s == 0)
		return -EINVAL;
	store_format_time(sf_now_epoch(), now);
	(void)snprintf(ttl, sizeof(ttl), "%u", ttl_s);
	rec = json_pack("{s:s, s:s?, s:s?, s:s?, s:f}", "name", name, "role", role, "mesh_ip",
			mesh_ip, "version", version, "last_seen", store_parse_time(now));
	if (!rec)
		return -EINVAL; /* not UTF-8 */
	json = sf_json_dumps(rec);
	json_decref(rec);
	key = sf_kv_key(kv, "node:%s", name);
	index = sf_kv_key(kv, "nodes");

	argv[argc++] = "HSET";
	argv[argc++] = key;
	argv[argc++] = "last_seen";
	argv[argc++] = now;
	argv[argc++] = "name";
	argv[argc++] = name;
	if (role) {
		argv[argc++] = "role";
		argv[argc++] = role;
	}
	if (mesh_ip) {
		argv[argc++] = "mesh_ip";
		argv[argc++] = mesh_ip;
	}
	if (version) {
		argv[argc++] = "version";
		argv[argc++] = version;
	}
	b = sf_kv_batch_new();
	sf_kv_batch_addv(b, argc, argv, NULL);
	sf_kv_batch_add(b, "EXPIRE", key, ttl, NULL);
	sf_kv_batch_add(b, "HSET", index, name, json, NULL);
	r = store_exec(kv, b, NULL);
	sf_kv_batch_free(b);
	free(key);
	free(index);
	free(json);
	return r < 0 ? r : 0;
}

/* The view of one node: its last record plus state from the liveness key. */
static json_t *node_view(const char *json, bool up)
{
	json_t *v = json_loads(json, 0, NULL);

	if (!json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	json_object_set_new(v, "state", json_string(up ? "up" : "missing"));
	return v;
}

struct node_rec {
	const char *name, *json;
};

static int cmp_node(const void *a, const void *b)
{
	const struct node_rec *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int sf_node_list(struct sf_kv *kv, json_t **ret_nodes)
{
	struct sf_kv_reply *all = NULL, *alive = NULL;
	struct sf_kv_batch *b = sf_kv_batch_new();
	struct node_rec *recs = NULL;
	char *index = sf_kv_key(kv, "nodes"), **keys = NULL;
	json_t *list;
	size_t n = 0;
	int r;

	r = sf_kv_cmd(kv, &all, "HGETALL", index, NULL);
	if (r < 0)
		goto out;
	r = -EPROTO;
	if (all->type != SF_KV_REPLY_ARRAY)
		goto out;
	n = all->n / 2;
	recs = sf_xcalloc(n ? n : 1, sizeof(*recs));
	keys = sf_xcalloc(n ? n : 1, sizeof(*keys));
	for (size_t i = 0; i < n; i++)
		recs[i] = (struct node_rec){all->elems[2 * i]->str, all->elems[2 * i + 1]->str};
	qsort(recs, n, sizeof(*recs), cmp_node);
	for (size_t i = 0; i < n; i++) {
		keys[i] = sf_kv_key(kv, "node:%s", recs[i].name);
		sf_kv_batch_add(b, "EXISTS", keys[i], NULL);
	}
	if (n) {
		r = store_exec(kv, b, &alive);
		if (r < 0)
			goto out;
		r = -EPROTO;
		if (alive->type != SF_KV_REPLY_ARRAY || alive->n != n)
			goto out;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *v = node_view(recs[i].json, alive->elems[i]->type == SF_KV_REPLY_INT &&
							    alive->elems[i]->integer == 1);

		if (v)
			json_array_append_new(list, v);
	}
	*ret_nodes = list;
	r = 0;
out:
	for (size_t i = 0; keys && i < n; i++)
		free(keys[i]);
	free(keys);
	free(recs);
	free(index);
	sf_kv_reply_free(all);
	sf_kv_reply_free(alive);
	sf_kv_batch_free(b);
	return r;
}

int sf_node_get(struct sf_kv *kv, const char *name, json_t **ret_node)
{
	struct sf_kv_batch *b;
	struct sf_kv_reply *reply = NULL;
	char *index, *key;
	json_t *v;
	int r;

	if (!name || !*name)
		return -ENOENT;
	index = sf_kv_key(kv, "nodes");
	key = sf_kv_key(kv, "node:%s", name);
	b = sf_kv_batch_new();
	sf_kv_batch_add(b, "HGET", index, name, NULL);
	sf_kv_batch_add(b, "EXISTS", key, NULL);
	r = store_exec(kv, b, &reply);
	if (r < 0)
		goto out;
	r = -EPROTO;
	if (reply->type != SF_KV_REPLY_ARRAY || reply->n != 2 ||
	    reply->elems[1]->type != SF_KV_REPLY_INT)
		goto out;
	r = -ENOENT;
	if (reply->elems[0]->type != SF_KV_REPLY_STR)
		goto out;
	r = -EPROTO;
	v = node_view(reply->elems[0]->str, reply->elems[1]->integer == 1);
	if (!v)
		goto out;
	*ret_node = v;
	r = 0;
out:
	sf_kv_reply_free(reply);
	sf_kv_batch_free(b);
	free(index);
	free(key);
	return r;
}
