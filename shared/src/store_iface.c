// SPDX-License-Identifier: Apache-2.0
/*
 * store: network interfaces (spec 1.5.6, 3.2). Creating one claims a MAC (SET NX), reserves
 * its address in the network's IPAM (one Lua call), then writes the record and appends it to
 * the network's and the instance's lists (one Lua call that also picks the next order). A
 * failed step undoes the earlier ones, so nothing is left claimed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/ipv4.h"
#include "sf/log.h"
#include "store_priv.h"

SF_LOG_MODULE("store");

#define MAC_ATTEMPTS 16 /* 2^24 random MACs: a run of collisions means nearly all are taken */
#define IFACE_VERSION "3"

void sf_iface_free(struct sf_iface *i)
{
	if (!i)
		return;
	free(i->node);
	free(i->macaddr);
	free(i->ipv4);
	free(i->model);
	free(i->floating);
	free(i->kind);
	free(i->netns);
	free(i);
}

static int copy_uuid(char dst[SF_UUID_STRLEN], const char *src)
{
	if (!src || strlen(src) >= SF_UUID_STRLEN)
		return -EPROTO;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int iface_from_hash(const struct sf_kv_reply *h, struct sf_iface **ret_iface)
{
	struct sf_iface *i;
	long order;

	if (!h || h->type != SF_KV_REPLY_ARRAY || h->n == 0)
		return -ENOENT;
	i = sf_xcalloc(1, sizeof(*i));
	if (copy_uuid(i->uuid, store_hash_field(h, "uuid")) < 0 ||
	    copy_uuid(i->network_uuid, store_hash_field(h, "network_uuid")) < 0 ||
	    copy_uuid(i->instance_uuid, store_hash_field(h, "instance_uuid")) < 0 ||
	    sf_iface_state_from_string(store_hash_field(h, "state"), &i->state) < 0 ||
	    sf_parse_long(store_hash_field(h, "order"), 0, 1L << 40, &order) < 0 ||
	    !store_hash_field(h, "macaddr")) {
		sf_iface_free(i);
		return -EPROTO;
	}
	i->order = order;
	i->node = store_strdup_or_null(store_hash_field(h, "node"));
	i->macaddr = sf_xstrdup(store_hash_field(h, "macaddr"));
	i->ipv4 = store_strdup_or_null(store_hash_field(h, "ipv4"));
	i->model = store_strdup_or_null(store_hash_field(h, "model"));
	i->floating = store_strdup_or_null(store_hash_field(h, "floating"));
	i->kind = store_strdup_or_null(store_hash_field(h, "kind"));
	i->netns = store_strdup_or_null(store_hash_field(h, "netns"));
	i->state_updated = store_parse_time(store_hash_field(h, "state_updated"));
	i->created_at = store_parse_time(store_hash_field(h, "created_at"));
	*ret_iface = i;
	return 0;
}

/* Claim the given MAC, or a random unique one. */
static int claim_mac(struct sf_kv *kv, const char *uuid, const char *given,
		     char ret_mac[SF_MAC_STRLEN])
{
	struct sf_mac mac;
	char buf[SF_MAC_STRLEN];
	int r;

	for (unsigned attempt = 0; attempt < MAC_ATTEMPTS; attempt++) {
		char *key;

		if (given) {
			r = sf_mac_parse(given, &mac);
			if (r < 0)
				return r;
			if (sf_mac_is_multicast(&mac))
				return -EINVAL;
		} else {
			r = sf_mac_random(&mac);
			if (r < 0)
				return r;
		}
		sf_mac_format(&mac, buf);
		key = sf_kv_key(kv, "mac:%s", buf);
		r = sf_kv_set(kv, key, uuid, 0, SF_KV_SET_NX);
		free(key);
		if (r == 0) {
			memcpy(ret_mac, buf, sizeof(buf));
			return 0;
		}
		if (r != -EEXIST || given)
			return r;
	}
	return -ENOSPC;
}

static int release_mac(struct sf_kv *kv, const char *mac, const char *uuid)
{
	char *key = sf_kv_key(kv, "mac:%s", mac);
	int r;

	r = store_del_if_equal(kv, key, uuid);
	free(key);
	return r;
}

/* KEYS iface instance_zset network_ifaces network; ARGV uuid order(-1: last + 1) fields...
 * Answers {"ok", order}. */
static struct store_script create_lua = STORE_SCRIPT(
	"if redis.call('EXISTS', KEYS[4]) == 0 then return {'enoent'} end\n"
	"if redis.call('EXISTS', KEYS[1]) == 1 then return {'eexist'} end\n"
	"local order = tonumber(ARGV[2])\n"
	"if order < 0 then\n"
	"  local last = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')\n"
	"  order = 0\n"
	"  if #last > 0 then order = tonumber(last[2]) + 1 end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], 'order', string.format('%d', order), unpack(ARGV, 3))\n"
	"redis.call('ZADD', KEYS[2], order, ARGV[1])\n"
	"redis.call('RPUSH', KEYS[3], ARGV[1])\n"
	"return {'ok', order}\n");

struct fields {
	const char *v[40];
	size_t n;
};

static void field(struct fields *f, const char *name, const char *value)
{
	if (!value)
		return;
	f->v[f->n++] = name;
	f->v[f->n++] = value;
}

static int write_record(struct sf_kv *kv, const struct sf_iface *i, long order_wanted,
			long *ret_order)
{
	struct fields f = {.n = 0};
	struct sf_kv_reply *reply = NULL;
	char now[32], order[24];
	const char *keys[4];
	int r;

	store_format_time(i->created_at, now);
	(void)snprintf(order, sizeof(order), "%ld", order_wanted);
	f.v[f.n++] = i->uuid;
	f.v[f.n++] = order;
	field(&f, "uuid", i->uuid);
	field(&f, "network_uuid", i->network_uuid);
	field(&f, "instance_uuid", i->instance_uuid);
	field(&f, "node", i->node);
	field(&f, "macaddr", i->macaddr);
	field(&f, "ipv4", i->ipv4);
	field(&f, "model", i->model);
	field(&f, "kind", i->kind);
	field(&f, "netns", i->netns);
	field(&f, "state", sf_iface_state_to_string(i->state));
	field(&f, "state_updated", now);
	field(&f, "created_at", now);
	field(&f, "version", IFACE_VERSION);

	keys[0] = sf_kv_key(kv, "iface:{%s}", i->uuid);
	keys[1] = sf_kv_key(kv, "instance:%s:ifaces", i->instance_uuid);
	keys[2] = sf_kv_key(kv, "network:{%s}:ifaces", i->network_uuid);
	keys[3] = sf_kv_key(kv, "network:{%s}", i->network_uuid);
	r = store_script_run(kv, &create_lua, 4, keys, f.n, f.v, &reply, NULL);
	if (r == 0) {
		if (reply->n > 1 && reply->elems[1]->type == SF_KV_REPLY_INT)
			*ret_order = (long)reply->elems[1]->integer;
		else
			r = -EPROTO; /* cannot happen: the script always answers it */
	}
	sf_kv_reply_free(reply);
	for (size_t k = 0; k < 4; k++)
		free((char *)keys[k]);
	return r;
}

int sf_iface_create(struct sf_kv *kv, const struct sf_iface_spec *spec, struct sf_iface **ret_iface)
{
	struct sf_iface *i;
	char mac[SF_MAC_STRLEN], addr[SF_IPV4_STRLEN], now[32];
	bool have_addr = false;
	uint32_t a;
	long order = -1;
	int r, q;

	if (!spec || !sf_uuid_is_valid(spec->network_uuid) ||
	    !sf_uuid_is_valid(spec->instance_uuid))
		return -EINVAL;
	if (spec->kind && strcmp(spec->kind, "tap") != 0 && strcmp(spec->kind, "veth") != 0)
		return -EINVAL;
	if (spec->address && *spec->address) {
		r = sf_ipv4_parse(spec->address, &a);
		if (r < 0)
			return r;
	}

	i = sf_xcalloc(1, sizeof(*i));
	sf_uuid_generate(i->uuid);
	memcpy(i->network_uuid, spec->network_uuid, strlen(spec->network_uuid) + 1);
	memcpy(i->instance_uuid, spec->instance_uuid, strlen(spec->instance_uuid) + 1);
	i->node = store_strdup_or_null(spec->node);
	i->model = sf_xstrdup(spec->model ? spec->model : "virtio");
	i->kind = sf_xstrdup(spec->kind ? spec->kind : "tap");
	i->netns = store_strdup_or_null(spec->netns);
	i->state = SF_IFACE_INITIAL;
	store_format_time(sf_now_epoch(), now);
	i->created_at = i->state_updated = store_parse_time(now); /* as stored */

	r = claim_mac(kv, i->uuid, spec->macaddress, mac);
	if (r < 0)
		goto fail;
	i->macaddr = sf_xstrdup(mac);

	if (!spec->address) {
		r = sf_ipam_reserve_random(kv, spec->network_uuid, SF_IPAM_INSTANCE, "instance",
					   spec->instance_uuid, addr);
		have_addr = r == 0;
	} else if (*spec->address) {
		sf_ipv4_format(a, addr);
		r = sf_ipam_reserve(kv, spec->network_uuid, addr, SF_IPAM_INSTANCE, "instance",
				    spec->instance_uuid);
		have_addr = r == 0;
	}
	if (r < 0)
		goto undo_mac;
	if (have_addr)
		i->ipv4 = sf_xstrdup(addr);

	r = write_record(kv, i, spec->order < 0 ? -1 : spec->order, &order);
	if (r < 0)
		goto undo_addr;
	i->order = order;
	*ret_iface = i;
	return 0;

undo_addr:
	if (have_addr) {
		q = store_ipam_unreserve(kv, spec->network_uuid, addr, "instance",
					 spec->instance_uuid);
		if (q < 0)
			sf_log_debug("undo of address %s failed: %s", addr, strerror(-q));
	}
undo_mac:
	q = release_mac(kv, mac, i->uuid);
	if (q < 0)
		sf_log_debug("undo of MAC %s failed: %s", mac, strerror(-q));
fail:
	sf_iface_free(i);
	return r;
}

int sf_iface_get(struct sf_kv *kv, const char *uuid, struct sf_iface **ret_iface)
{
	struct sf_kv_reply *reply = NULL;
	char *key;
	int r;

	if (!sf_uuid_is_valid(uuid))
		return -ENOENT;
	key = sf_kv_key(kv, "iface:{%s}", uuid);
	r = sf_kv_cmd(kv, &reply, "HGETALL", key, NULL);
	if (r >= 0)
		r = iface_from_hash(reply, ret_iface);
	sf_kv_reply_free(reply);
	free(key);
	return r;
}

int sf_iface_list_by_instance(struct sf_kv *kv, const char *instance_uuid, char ***ret_uuids,
			      size_t *ret_n)
{
	struct sf_kv_reply *reply = NULL;
	char *key, **v;
	int r;

	if (!sf_uuid_is_valid(instance_uuid)) {
		*ret_uuids = sf_xcalloc(1, sizeof(char *));
		*ret_n = 0;
		return 0;
	}
	key = sf_kv_key(kv, "instance:%s:ifaces", instance_uuid);
	r = sf_kv_cmd(kv, &reply, "ZRANGE", key, "0", "-1", NULL);
	if (r < 0)
		goto out;
	r = -EPROTO;
	if (reply->type != SF_KV_REPLY_ARRAY)
		goto out;
	v = sf_xcalloc(reply->n + 1, sizeof(*v));
	for (size_t i = 0; i < reply->n; i++)
		v[i] = sf_xstrdup(reply->elems[i]->str);
	*ret_uuids = v;
	*ret_n = reply->n;
	r = 0;
out:
	sf_kv_reply_free(reply);
	free(key);
	return r;
}

int sf_iface_set_state(struct sf_kv *kv, const char *uuid, enum sf_iface_state to,
		       enum sf_iface_state *ret_current)
{
	const char *froms[_SF_IFACE_STATE_MAX];
	enum sf_iface_state cur;
	char *key, *prev = NULL;
	size_t n = 0;
	int r;

	if (!sf_iface_state_to_string(to))
		return -EINVAL;
	if (!sf_uuid_is_valid(uuid))
		return -ENOENT;
	for (unsigned s = 0; s < _SF_IFACE_STATE_MAX; s++)
		if (s != to && sf_iface_state_transition_ok(s, to))
			froms[n++] = sf_iface_state_to_string(s);
	key = sf_kv_key(kv, "iface:{%s}", uuid);
	r = store_set_state(kv, key, sf_iface_state_to_string(to), NULL, froms, n, &prev);
	if ((r == 0 || r == -EINVAL) && ret_current && sf_iface_state_from_string(prev, &cur) == 0)
		*ret_current = cur;
	free(prev);
	free(key);
	return r;
}

int sf_iface_set_floating(struct sf_kv *kv, const char *uuid, const char *address)
{
	char *key;
	int r;

	if (!sf_uuid_is_valid(uuid))
		return -ENOENT;
	key = sf_kv_key(kv, "iface:{%s}", uuid);
	r = store_hash_set_if(kv, key, key, "floating", address, true);
	free(key);
	return r;
}

int sf_iface_delete(struct sf_kv *kv, const char *uuid, unsigned halo_seconds)
{
	struct sf_iface *i;
	struct sf_kv_batch *b;
	char *netlist, *instset;
	int r;

	r = sf_iface_get(kv, uuid, &i);
	if (r < 0)
		return r;
	if (i->state == SF_IFACE_DELETED) {
		sf_iface_free(i);
		return 0;
	}
	/* Each step is idempotent, so a delete that failed half-way can simply be retried; the
	 * state changes last. Only a reservation still held by this interface's instance is
	 * released (after a partial failure it may already be in the halo). */
	if (i->ipv4) {
		r = store_ipam_release_owned(kv, i->network_uuid, i->ipv4, halo_seconds, "instance",
					     i->instance_uuid);
		if (r < 0 && r != -ENOENT && r != -EPERM)
			goto out;
	}
	r = release_mac(kv, i->macaddr, i->uuid);
	if (r < 0)
		goto out;
	netlist = sf_kv_key(kv, "network:{%s}:ifaces", i->network_uuid);
	instset = sf_kv_key(kv, "instance:%s:ifaces", i->instance_uuid);
	b = sf_kv_batch_new();
	sf_kv_batch_add(b, "LREM", netlist, "0", i->uuid, NULL);
	sf_kv_batch_add(b, "ZREM", instset, i->uuid, NULL);
	r = store_exec(kv, b, NULL);
	sf_kv_batch_free(b);
	free(netlist);
	free(instset);
	if (r < 0)
		goto out;
	r = sf_iface_set_state(kv, uuid, SF_IFACE_DELETED, NULL);
out:
	sf_iface_free(i);
	return r;
}

int sf_iface_metadata_get(struct sf_kv *kv, const char *uuid, json_t **ret_metadata)
{
	if (!sf_uuid_is_valid(uuid))
		return -ENOENT;
	return store_subhash_get(kv, "iface", uuid, ":metadata", ret_metadata);
}

/* Set (value non-NULL) or delete one metadata key. */
static int iface_metadata_op(struct sf_kv *kv, const char *uuid, const char *key,
			     const json_t *value)
{
	if (!sf_uuid_is_valid(uuid))
		return -ENOENT;
	return store_subhash_set(kv, "iface", uuid, ":metadata", key, value);
}

int sf_iface_metadata_set(struct sf_kv *kv, const char *uuid, const char *key,
			  const json_t *value)
{
	if (!value)
		return -EINVAL;
	return iface_metadata_op(kv, uuid, key, value);
}

int sf_iface_metadata_delete(struct sf_kv *kv, const char *uuid, const char *key)
{
	return iface_metadata_op(kv, uuid, key, NULL);
}

json_t *sf_iface_view(struct sf_kv *kv, const struct sf_iface *i)
{
	json_t *metadata, *view;

	if (sf_iface_metadata_get(kv, i->uuid, &metadata) < 0)
		return NULL;
	view = json_object();
	json_object_set_new(view, "uuid", json_string(i->uuid));
	json_object_set_new(view, "network_uuid", json_string(i->network_uuid));
	json_object_set_new(view, "instance_uuid", json_string(i->instance_uuid));
	json_object_set_new(view, "macaddr", store_json_str_or_null(i->macaddr));
	json_object_set_new(view, "ipv4", store_json_str_or_null(i->ipv4));
	json_object_set_new(view, "order", json_integer(i->order));
	json_object_set_new(view, "model", store_json_str_or_null(i->model));
	json_object_set_new(view, "floating", store_json_str_or_null(i->floating));
	json_object_set_new(view, "state", json_string(sf_iface_state_to_string(i->state)));
	json_object_set_new(view, "metadata", metadata);
	json_object_set_new(view, "version", json_integer(3));
	return view;
}
