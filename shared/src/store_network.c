// SPDX-License-Identifier: Apache-2.0
/*
 * store: networks (spec 2, 3.1) and the floating pool's pseudo network. A network is created
 * in three steps so that each multi-key step stays inside one hash tag (a future Redis Cluster
 * can run it): claim a vxid (SET NX), write the record and its IPAM (one Lua call on the
 * network's keys), add it to the indexes (MULTI/EXEC). A failed step undoes the earlier ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/ipv4.h"
#include "sf/log.h"
#include "sf/naming.h"
#include "store_priv.h"

SF_LOG_MODULE("store");

#define VXID_ATTEMPTS 32 /* a collision in 2^24-1 is rare; 32 in a row means nearly full */
#define NETWORK_VERSION "6"

static char *net_key(struct sf_kv *kv, const char *uuid, const char *suffix)
{
	return sf_kv_key(kv, "network:{%s}%s", uuid, suffix);
}

static bool network_ref_ok(const char *uuid)
{
	return sf_uuid_is_valid(uuid) || sf_streq(uuid, SF_FLOATING_NETWORK);
}

void sf_network_free(struct sf_network *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->namespace);
	free(n->netblock);
	free(n->floating_gateway);
	free(n->error);
	free(n);
}

static int parse_block(const char *cidr, struct sf_ipv4_net *ret_net)
{
	struct sf_ipv4_net net;
	int r;

	if (!cidr)
		return -EINVAL;
	r = sf_ipv4_net_parse(cidr, 0, &net);
	if (r < 0)
		return r;
	if (net.prefix > 29)
		return -EINVAL;
	if (net.prefix < SF_STORE_MIN_PREFIX)
		return -E2BIG;
	*ret_net = net;
	return 0;
}

static int network_from_hash(const struct sf_kv_reply *h, struct sf_network **ret_network)
{
	const char *uuid = store_hash_field(h, "uuid"), *netblock = store_hash_field(h, "netblock");
	const char *state = store_hash_field(h, "state"), *vxid = store_hash_field(h, "vxid");
	struct sf_network *n;
	long v;

	if (!h || h->type != SF_KV_REPLY_ARRAY || h->n == 0)
		return -ENOENT;
	if (!uuid || strlen(uuid) >= SF_UUID_STRLEN || !netblock || !vxid ||
	    sf_parse_long(vxid, 0, SF_VXID_MAX, &v) < 0)
		return -EPROTO;
	n = sf_xcalloc(1, sizeof(*n));
	if (sf_net_state_from_string(state, &n->state) < 0) {
		free(n);
		return -EPROTO;
	}
	memcpy(n->uuid, uuid, strlen(uuid) + 1);
	n->name = store_strdup_or_null(store_hash_field(h, "name"));
	n->namespace = store_strdup_or_null(store_hash_field(h, "namespace"));
	n->netblock = sf_xstrdup(netblock);
	n->provide_dhcp = sf_streq(store_hash_field(h, "provide_dhcp"), "true");
	n->provide_nat = sf_streq(store_hash_field(h, "provide_nat"), "true");
	n->provide_dns = sf_streq(store_hash_field(h, "provide_dns"), "true");
	n->vxid = (uint32_t)v;
	n->state_updated = store_parse_time(store_hash_field(h, "state_updated"));
	n->created_at = store_parse_time(store_hash_field(h, "created_at"));
	n->floating_gateway = store_strdup_or_null(store_hash_field(h, "floating_gateway"));
	if (n->state == SF_NET_ERROR)
		n->error = store_strdup_or_null(store_hash_field(h, "error"));
	*ret_network = n;
	return 0;
}

/* The keys of one network and its IPAM (one hash tag), for DEL. */
#define NETWORK_KEYS 9
static void network_all_keys(struct sf_kv *kv, const char *uuid, char *keys[NETWORK_KEYS])
{
	struct store_ipam_keys k;

	store_ipam_keys_init(kv, uuid, &k);
	keys[0] = net_key(kv, uuid, "");
	keys[1] = net_key(kv, uuid, ":metadata");
	keys[2] = net_key(kv, uuid, ":dns");
	keys[3] = net_key(kv, uuid, ":ifaces");
	keys[4] = k.recs;
	keys[5] = k.meta;
	keys[6] = k.bits;
	keys[7] = k.halo;
	keys[8] = k.users;
}

/* Remove every trace of a network: its keys, its index entries and its vxid claim. */
static int network_remove(struct sf_kv *kv, const char *uuid, uint32_t vxid, const char *ns)
{
	struct sf_kv_batch *b = sf_kv_batch_new();
	char *keys[NETWORK_KEYS], *all = sf_kv_key(kv, "networks"), *nsidx = NULL, *vx = NULL;
	const char *argv[NETWORK_KEYS + 1] = {"DEL"};
	int r, q;

	network_all_keys(kv, uuid, keys);
	for (size_t i = 0; i < NETWORK_KEYS; i++)
		argv[i + 1] = keys[i];
	sf_kv_batch_addv(b, NETWORK_KEYS + 1, argv, NULL);
	sf_kv_batch_add(b, "SREM", all, uuid, NULL);
	if (ns) {
		nsidx = sf_kv_key(kv, "ns:%s:networks", ns);
		sf_kv_batch_add(b, "SREM", nsidx, uuid, NULL);
	}
	r = store_exec(kv, b, NULL); /* Redis runs every command even if one fails */
	if (vxid) {
		vx = sf_kv_key(kv, "vxid:%u", vxid);
		q = store_del_if_equal(kv, vx, uuid);
		if (r >= 0)
			r = q;
	}
	for (size_t i = 0; i < NETWORK_KEYS; i++)
		free(keys[i]);
	free(all);
	free(nsidx);
	free(vx);
	sf_kv_batch_free(b);
	return r < 0 ? r : 0;
}

/* KEYS network recs meta bits halo users; ARGV now netblock base size owner_user_json, then the
 * network record's field/value pairs. Answers {"eexist", netblock} when the IPAM exists. */
static struct store_script create_lua = STORE_SCRIPT(
	STORE_IPAM_LUA_LIB
	"if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[1]) == 1 then\n"
	"  return {'eexist', redis.call('HGET', KEYS[3], 'netblock')}\n"
	"end\n"
	"local base, size = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
	"redis.call('HSET', KEYS[3], 'netblock', ARGV[2], 'base', ARGV[3], 'size', ARGV[4],\n"
	"  'created_at', ARGV[1])\n"
	"local function reserve(i, t)\n"
	"  local a = fmt(base + i)\n"
	"  redis.call('SETBIT', KEYS[4], i, 1)\n"
	"  redis.call('HSET', KEYS[2], a, record(a, t, ARGV[5], ARGV[1]))\n"
	"  uidx_add(KEYS[6], cjson.decode(ARGV[5]), a)\n"
	"end\n"
	"redis.call('DEL', KEYS[6])\n"
	"reserve(0, 'network')\n"
	"reserve(1, 'gateway')\n"
	"reserve(size - 1, 'broadcast')\n"
	"redis.call('HSET', KEYS[6], '*', '1')\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV, 6))\n"
	"return {'ok'}\n");

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

/* Write the record and the IPAM of uuid in one script call. */
static int create_record(struct sf_kv *kv, const char *uuid, const struct sf_ipv4_net *net,
			 const char *netblock, struct fields *rec, struct sf_kv_reply **ret_exists)
{
	struct store_ipam_keys k;
	struct fields args = {.n = 0};
	char now[32], base[16], size[16], *netkey = net_key(kv, uuid, "");
	char *user = store_ipam_user_json("network", uuid);
	const char *keys[6];
	int r;

	store_format_time(sf_now_epoch(), now);
	(void)snprintf(base, sizeof(base), "%u", net->addr);
	(void)snprintf(size, sizeof(size), "%llu", (unsigned long long)sf_ipv4_net_size(net));
	args.v[args.n++] = now;
	args.v[args.n++] = netblock;
	args.v[args.n++] = base;
	args.v[args.n++] = size;
	args.v[args.n++] = user;
	for (size_t i = 0; i < rec->n; i++)
		args.v[args.n++] = rec->v[i];

	store_ipam_keys_init(kv, uuid, &k);
	keys[0] = netkey;
	keys[1] = k.recs;
	keys[2] = k.meta;
	keys[3] = k.bits;
	keys[4] = k.halo;
	keys[5] = k.users;
	r = store_script_run(kv, &create_lua, 6, keys, args.n, args.v, NULL, ret_exists);
	store_ipam_keys_done(&k);
	free(netkey);
	free(user);
	return r;
}

static int claim_vxid(struct sf_kv *kv, const char *uuid, uint32_t *ret_vxid)
{
	for (unsigned i = 0; i < VXID_ATTEMPTS; i++) {
		uint32_t v;
		char *key;
		int r;

		r = store_random(&v, sizeof(v));
		if (r < 0)
			return r;
		v &= SF_VXID_MAX;
		if (v == 0) /* never handed out (spec 2) */
			continue;
		key = sf_kv_key(kv, "vxid:%u", v);
		r = sf_kv_set(kv, key, uuid, 0, SF_KV_SET_NX);
		free(key);
		if (r == 0) {
			*ret_vxid = v;
			return 0;
		}
		if (r != -EEXIST)
			return r;
	}
	return -ENOSPC;
}

int sf_network_create(struct sf_kv *kv, const struct sf_network_spec *spec,
		      struct sf_network **ret_network)
{
	struct sf_ipv4_net net;
	struct sf_network *n;
	struct fields rec = {.n = 0};
	struct sf_kv_batch *b = NULL;
	char uuid[SF_UUID_STRLEN], vxid_s[16], now[32], *all = NULL, *nsidx = NULL;
	double t = sf_now_epoch();
	uint32_t vxid = 0;
	int r, q;

	if (!spec || !spec->namespace || !*spec->namespace)
		return -EINVAL;
	r = parse_block(spec->netblock, &net);
	if (r < 0)
		return r;
	sf_uuid_generate(uuid);
	r = claim_vxid(kv, uuid, &vxid);
	if (r < 0)
		return r;

	store_format_time(t, now);
	(void)snprintf(vxid_s, sizeof(vxid_s), "%u", vxid);
	field(&rec, "uuid", uuid);
	field(&rec, "name", spec->name);
	field(&rec, "namespace", spec->namespace);
	field(&rec, "netblock", spec->netblock);
	field(&rec, "provide_dhcp", spec->provide_dhcp ? "true" : "false");
	field(&rec, "provide_nat", spec->provide_nat ? "true" : "false");
	field(&rec, "provide_dns", spec->provide_dns ? "true" : "false");
	field(&rec, "vxid", vxid_s);
	field(&rec, "state", sf_net_state_to_string(SF_NET_INITIAL));
	field(&rec, "state_updated", now);
	field(&rec, "created_at", now);
	field(&rec, "version", NETWORK_VERSION);
	r = create_record(kv, uuid, &net, spec->netblock, &rec, NULL);
	if (r < 0) {
		char *key = sf_kv_key(kv, "vxid:%u", vxid);

		(void)store_del_if_equal(kv, key, uuid); /* undo the claim */
		free(key);
		return r;
	}

	all = sf_kv_key(kv, "networks");
	nsidx = sf_kv_key(kv, "ns:%s:networks", spec->namespace);
	b = sf_kv_batch_new();
	sf_kv_batch_add(b, "SADD", all, uuid, NULL);
	sf_kv_batch_add(b, "SADD", nsidx, uuid, NULL);
	r = store_exec(kv, b, NULL);
	if (r < 0) {
		q = network_remove(kv, uuid, vxid, spec->namespace);
		if (q < 0)
			sf_log_debug("undo of network %s failed: %s", uuid, strerror(-q));
		goto out;
	}

	n = sf_xcalloc(1, sizeof(*n));
	memcpy(n->uuid, uuid, sizeof(uuid));
	n->name = store_strdup_or_null(spec->name);
	n->namespace = sf_xstrdup(spec->namespace);
	n->netblock = sf_xstrdup(spec->netblock);
	n->provide_dhcp = spec->provide_dhcp;
	n->provide_nat = spec->provide_nat;
	n->provide_dns = spec->provide_dns;
	n->vxid = vxid;
	n->state = SF_NET_INITIAL;
	n->state_updated = n->created_at = store_parse_time(now);
	*ret_network = n;
out:
	sf_kv_batch_free(b);
	free(all);
	free(nsidx);
	return r;
}

int sf_ipam_floating_ensure(struct sf_kv *kv, const char *cidr)
{
	struct sf_ipv4_net net, have;
	struct fields rec = {.n = 0};
	struct sf_kv_reply *exists = NULL;
	char block[SF_IPV4_NET_STRLEN], now[32];
	const char *old;
	int r;

	r = parse_block(cidr, &net);
	if (r < 0)
		return r;
	sf_ipv4_net_format(&net, block);
	store_format_time(sf_now_epoch(), now);
	field(&rec, "uuid", SF_FLOATING_NETWORK);
	field(&rec, "name", SF_FLOATING_NETWORK);
	field(&rec, "netblock", block);
	field(&rec, "provide_dhcp", "false");
	field(&rec, "provide_nat", "false");
	field(&rec, "provide_dns", "false");
	field(&rec, "vxid", "0");
	field(&rec, "state", sf_net_state_to_string(SF_NET_INITIAL));
	field(&rec, "state_updated", now);
	field(&rec, "created_at", now);
	field(&rec, "version", NETWORK_VERSION);
	r = create_record(kv, SF_FLOATING_NETWORK, &net, block, &rec, &exists);
	if (r == -EEXIST) {
		old = store_reply_str(exists, 1);
		if (old && sf_ipv4_net_parse(old, 0, &have) == 0 && have.addr == net.addr &&
		    have.prefix == net.prefix)
			r = 0;
	}
	sf_kv_reply_free(exists);
	return r;
}

int sf_network_get(struct sf_kv *kv, const char *uuid, struct sf_network **ret_network)
{
	struct sf_kv_reply *reply = NULL;
	char *key;
	int r;

	if (!network_ref_ok(uuid))
		return -ENOENT;
	key = net_key(kv, uuid, "");
	r = sf_kv_cmd(kv, &reply, "HGETALL", key, NULL);
	if (r >= 0)
		r = network_from_hash(reply, ret_network);
	sf_kv_reply_free(reply);
	free(key);
	return r;
}

static int cmp_network(const void *a, const void *b)
{
	const struct sf_network *const *x = a, *const *y = b;

	if ((*x)->created_at != (*y)->created_at)
		return (*x)->created_at < (*y)->created_at ? -1 : 1;
	return strcmp((*x)->uuid, (*y)->uuid);
}

static void networks_free(struct sf_network **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sf_network_free(v[i]);
	free(v);
}

/* Networks of the index, filtered; sorted by creation time. */
static int network_list(struct sf_kv *kv, const char *namespace, bool all, const char *name,
			struct sf_network ***ret_networks, size_t *ret_n)
{
	struct sf_kv_reply *members = NULL, *hashes = NULL;
	struct sf_kv_batch *b = sf_kv_batch_new();
	struct sf_network **v = NULL;
	char **keys = NULL, *idx;
	size_t n = 0, m = 0;
	int r;

	idx = namespace ? sf_kv_key(kv, "ns:%s:networks", namespace) : sf_kv_key(kv, "networks");
	r = sf_kv_cmd(kv, &members, "SMEMBERS", idx, NULL);
	if (r < 0)
		goto out;
	r = -EPROTO;
	if (members->type != SF_KV_REPLY_ARRAY)
		goto out;
	m = members->n;
	keys = sf_xcalloc(m ? m : 1, sizeof(*keys));
	v = sf_xcalloc(m + 1, sizeof(struct sf_network *));
	for (size_t i = 0; i < m; i++) {
		keys[i] = net_key(kv, members->elems[i]->str, "");
		sf_kv_batch_add(b, "HGETALL", keys[i], NULL);
	}
	if (m) {
		r = store_exec(kv, b, &hashes);
		if (r < 0)
			goto out;
		r = -EPROTO;
		if (hashes->type != SF_KV_REPLY_ARRAY || hashes->n != m)
			goto out;
	}
	for (size_t i = 0; i < m; i++) {
		struct sf_network *net;

		/* An index entry without a record (a crash between steps) is skipped. */
		if (network_from_hash(hashes->elems[i], &net) < 0)
			continue;
		if ((!all && !sf_net_state_is_active(net->state)) ||
		    (name && !sf_streq(net->name, name))) {
			sf_network_free(net);
			continue;
		}
		v[n++] = net;
	}
	/* The floating pool answers to its name for system (spec 1.5.7), but is never listed. */
	if (name && !namespace && strcmp(name, SF_FLOATING_NETWORK) == 0) {
		struct sf_network *fl;

		r = sf_network_get(kv, SF_FLOATING_NETWORK, &fl);
		if (r == 0) {
			v = sf_xrealloc(v, (n + 1) * sizeof(struct sf_network *));
			v[n++] = fl;
		} else if (r != -ENOENT) {
			goto out;
		}
	}
	qsort(v, n, sizeof(struct sf_network *), cmp_network);
	*ret_networks = v;
	*ret_n = n;
	v = NULL;
	n = 0;
	r = 0;
out:
	networks_free(v, n);
	for (size_t i = 0; keys && i < m; i++)
		free(keys[i]);
	free(keys);
	free(idx);
	sf_kv_reply_free(members);
	sf_kv_reply_free(hashes);
	sf_kv_batch_free(b);
	return r;
}

int sf_network_list(struct sf_kv *kv, const char *namespace, bool all,
		    struct sf_network ***ret_networks, size_t *ret_n)
{
	return network_list(kv, namespace, all, NULL, ret_networks, ret_n);
}

int sf_network_find_by_name(struct sf_kv *kv, const char *namespace, const char *name,
			    struct sf_network ***ret_networks, size_t *ret_n)
{
	if (!name)
		return -EINVAL;
	return network_list(kv, namespace, false, name, ret_networks, ret_n);
}

int sf_network_set_state(struct sf_kv *kv, const char *uuid, enum sf_net_state to,
			 const char *error_text, enum sf_net_state *ret_current)
{
	const char *froms[_SF_NET_STATE_MAX];
	enum sf_net_state cur;
	char *key, *prev = NULL;
	size_t n = 0;
	int r;

	if (!sf_net_state_to_string(to))
		return -EINVAL;
	if (!network_ref_ok(uuid))
		return -ENOENT;
	for (unsigned s = 0; s < _SF_NET_STATE_MAX; s++)
		if (s != to && sf_net_state_transition_ok(s, to))
			froms[n++] = sf_net_state_to_string(s);
	key = net_key(kv, uuid, "");
	r = store_set_state(kv, key, sf_net_state_to_string(to),
			    to == SF_NET_ERROR ? error_text : NULL, froms, n, &prev);
	if ((r == 0 || r == -EINVAL) && ret_current && sf_net_state_from_string(prev, &cur) == 0)
		*ret_current = cur;
	free(prev);
	free(key);
	return r;
}

int sf_network_set_floating_gateway(struct sf_kv *kv, const char *uuid, const char *address)
{
	char *key;
	int r;

	if (!network_ref_ok(uuid))
		return -ENOENT;
	key = net_key(kv, uuid, "");
	r = store_hash_set_if(kv, key, key, "floating_gateway", address, false);
	free(key);
	return r;
}

/* Set (value non-NULL, stored as JSON) or delete one field of a network's sub-hash. */
static int net_subhash_op(struct sf_kv *kv, const char *uuid, const char *suffix, const char *k,
			  const json_t *value)
{
	if (!network_ref_ok(uuid))
		return -ENOENT;
	return store_subhash_set(kv, "network", uuid, suffix, k, value);
}

static int net_subhash_get(struct sf_kv *kv, const char *uuid, const char *suffix,
			   json_t **ret_object)
{
	if (!network_ref_ok(uuid))
		return -ENOENT;
	return store_subhash_get(kv, "network", uuid, suffix, ret_object);
}

int sf_network_metadata_get(struct sf_kv *kv, const char *uuid, json_t **ret_metadata)
{
	return net_subhash_get(kv, uuid, ":metadata", ret_metadata);
}

int sf_network_metadata_set(struct sf_kv *kv, const char *uuid, const char *key,
			    const json_t *value)
{
	if (!value)
		return -EINVAL;
	return net_subhash_op(kv, uuid, ":metadata", key, value);
}

int sf_network_metadata_delete(struct sf_kv *kv, const char *uuid, const char *key)
{
	return net_subhash_op(kv, uuid, ":metadata", key, NULL);
}

int sf_network_dns_get(struct sf_kv *kv, const char *uuid, json_t **ret_entries)
{
	return net_subhash_get(kv, uuid, ":dns", ret_entries);
}

int sf_network_dns_set(struct sf_kv *kv, const char *uuid, const char *name, const char *value)
{
	json_t *v;
	int r;

	if (!value)
		return -EINVAL;
	v = json_string(value);
	if (!v)
		return -EINVAL; /* not UTF-8 */
	r = net_subhash_op(kv, uuid, ":dns", name, v);
	json_decref(v);
	return r;
}

int sf_network_dns_delete(struct sf_kv *kv, const char *uuid, const char *name)
{
	return net_subhash_op(kv, uuid, ":dns", name, NULL);
}

int sf_network_interfaces(struct sf_kv *kv, const char *uuid, char ***ret_uuids, size_t *ret_n)
{
	struct sf_kv_reply *l;
	char *parent, *list, **v;
	int r;

	if (!network_ref_ok(uuid))
		return -ENOENT;
	parent = net_key(kv, uuid, "");
	list = net_key(kv, uuid, ":ifaces");
	r = store_read_if_exists(kv, parent, 4, (const char *[]){"LRANGE", list, "0", "-1"}, &l);
	free(parent);
	free(list);
	if (r < 0)
		return r;
	v = sf_xcalloc(l->n + 1, sizeof(*v));
	for (size_t i = 0; i < l->n; i++)
		v[i] = sf_xstrdup(l->elems[i]->str);
	*ret_uuids = v;
	*ret_n = l->n;
	sf_kv_reply_free(l);
	return 0;
}

int sf_network_iface_records(struct sf_kv *kv, const char *uuid, struct sf_iface ***ret_ifaces,
			     size_t *ret_n)
{
	struct sf_iface **v;
	char **uuids = NULL;
	size_t n = 0, k = 0;
	int r;

	r = sf_network_interfaces(kv, uuid, &uuids, &n);
	if (r < 0)
		return r;
	v = sf_xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = sf_iface_get(kv, uuids[i], &v[k]);
		if (r == -ENOENT) /* hard-deleted meanwhile */
			r = 0;
		else if (r == 0)
			k++;
	}
	for (size_t i = 0; i < n; i++)
		free(uuids[i]);
	free(uuids);
	if (r < 0) {
		for (size_t i = 0; i < k; i++)
			sf_iface_free(v[i]);
		free(v);
		return r;
	}
	*ret_ifaces = v;
	*ret_n = k;
	return 0;
}

void sf_network_view_prefetch(struct sf_kv *kv, const char *uuid)
{
	char *record = net_key(kv, uuid, ""), *metadata = net_key(kv, uuid, ":metadata");
	struct sf_kv_batch *b = sf_kv_batch_new();

	/* sf_network_get: HGETALL of the record; sf_network_metadata_get (store_subhash_get):
	 * EXISTS record and HGETALL metadata in one MULTI/EXEC */
	sf_kv_prefetch_cmd(kv, "HGETALL", record, NULL);
	sf_kv_batch_add(b, "EXISTS", record, NULL);
	sf_kv_batch_add(b, "HGETALL", metadata, NULL);
	sf_kv_prefetch_exec(kv, b);
	sf_kv_batch_free(b);
	free(record);
	free(metadata);
}

json_t *sf_network_view(struct sf_kv *kv, const struct sf_network *n)
{
	json_t *metadata, *view;

	if (sf_network_metadata_get(kv, n->uuid, &metadata) < 0)
		return NULL;
	view = json_object();
	json_object_set_new(view, "uuid", json_string(n->uuid));
	json_object_set_new(view, "name", store_json_str_or_null(n->name));
	json_object_set_new(view, "namespace", store_json_str_or_null(n->namespace));
	json_object_set_new(view, "netblock", json_string(n->netblock));
	json_object_set_new(view, "provide_dhcp", json_boolean(n->provide_dhcp));
	json_object_set_new(view, "provide_nat", json_boolean(n->provide_nat));
	json_object_set_new(view, "provide_dns", json_boolean(n->provide_dns));
	json_object_set_new(view, "floating_gateway", store_json_str_or_null(n->floating_gateway));
	json_object_set_new(view, "vxlan_id", json_integer(n->vxid));
	json_object_set_new(view, "state", json_string(sf_net_state_to_string(n->state)));
	json_object_set_new(view, "metadata", metadata);
	json_object_set_new(view, "version", json_integer(6));
	return view;
}

int sf_network_purge(struct sf_kv *kv, const char *uuid)
{
	struct sf_network *n;
	int r;

	r = sf_network_get(kv, uuid, &n);
	if (r < 0)
		return r;
	r = n->state == SF_NET_DELETED ? network_remove(kv, n->uuid, n->vxid, n->namespace)
				       : -EBUSY;
	sf_network_free(n);
	return r;
}
