// SPDX-License-Identifier: Apache-2.0
/*
 * store: IPAM (spec 4). Each IPAM is four keys under one hash tag (see redis-layout.md): the
 * reservations (hash address -> JSON record), its block (meta), a bitmap of used indexes and
 * the deletion halo (zset address -> expiry). Every reserve is one Lua call that purges expired
 * halo entries, tries the random candidates it is given (GETBIT), then takes the lowest free
 * index (BITPOS ... 0), then frees halo entries older than 30 s and scans again: a /16 with
 * 60,000 reservations costs one round trip, not one per candidate address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/ipv4.h"
#include "sf/json.h"
#include "sf/log.h"
#include "store_priv.h"

SF_LOG_MODULE("store");

#define RANDOM_ATTEMPTS 5 /* spec 4, step 2 */

void store_ipam_keys_init(struct sf_kv *kv, const char *ipam, struct store_ipam_keys *k)
{
	k->recs = sf_kv_key(kv, "ipam:{%s}", ipam);
	k->meta = sf_kv_key(kv, "ipam:{%s}:meta", ipam);
	k->bits = sf_kv_key(kv, "ipam:{%s}:bits", ipam);
	k->halo = sf_kv_key(kv, "ipam:{%s}:halo", ipam);
	k->users = sf_kv_key(kv, "ipam:{%s}:users", ipam);
}

void store_ipam_keys_done(struct store_ipam_keys *k)
{
	free(k->recs);
	free(k->meta);
	free(k->bits);
	free(k->halo);
	free(k->users);
}

char *store_ipam_user_json(const char *user_type, const char *user_uuid)
{
	json_t *user;
	char *s;

	if (!user_type)
		return sf_xstrdup("null");
	user = json_pack("[ss]", user_type, user_uuid ? user_uuid : "");
	s = sf_json_dumps(user);
	json_decref(user);
	return s;
}

static bool ipam_ref_ok(const char *ipam)
{
	return sf_uuid_is_valid(ipam) || sf_streq(ipam, SF_FLOATING_NETWORK);
}

/* KEYS recs meta bits halo users; ARGV now type user_json mode ("address" addr_number | "random"
 * r1..r5, 32-bit random numbers). Answers {"ok", address}. */
static struct store_script reserve_lua = STORE_SCRIPT(
	STORE_IPAM_LUA_LIB
	"local recs, meta, bits, halo, users = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]\n"
	"local now, typ, user = tonumber(ARGV[1]), ARGV[2], ARGV[3]\n"
	"local base = redis.call('HGET', meta, 'base')\n"
	"if not base then return {'enoent'} end\n"
	"base = tonumber(base)\n"
	"local size = tonumber(redis.call('HGET', meta, 'size'))\n"
	"local function free(a)\n"
	"  redis.call('HDEL', recs, a)\n"
	"  redis.call('SETBIT', bits, parse(a) - base, 0)\n"
	"  redis.call('ZREM', halo, a)\n"
	"end\n"
	"for _, a in ipairs(redis.call('ZRANGEBYSCORE', halo, '-inf', ARGV[1])) do free(a) end\n"
	"local function take(i)\n"
	"  if redis.call('GETBIT', bits, i) == 1 then return false end\n"
	"  local a = fmt(base + i)\n"
	"  redis.call('SETBIT', bits, i, 1)\n"
	"  redis.call('HSET', recs, a, record(a, typ, user, ARGV[1]))\n"
	"  uidx_add(users, cjson.decode(user), a)\n"
	"  return a\n"
	"end\n"
	"local function scan()\n"
	"  local i = redis.call('BITPOS', bits, 0)\n"
	"  if i >= 0 and i < size then return take(i) end\n"
	"  return false\n"
	"end\n"
	"if ARGV[4] == 'address' then\n"
	"  local i = tonumber(ARGV[5]) - base\n"
	"  if i < 0 or i >= size then return {'edom'} end\n"
	"  local a = take(i)\n"
	"  if not a then return {'eaddrinuse'} end\n"
	"  return {'ok', a}\n"
	"end\n"
	"for k = 5, #ARGV do\n"
	"  local a = take(tonumber(ARGV[k]) % size)\n"
	"  if a then return {'ok', a} end\n"
	"end\n"
	"local a = scan()\n"
	"if not a then\n"
	"  for _, h in ipairs(redis.call('ZRANGE', halo, 0, -1)) do\n"
	"    local raw = redis.call('HGET', recs, h)\n"
	"    if not raw or cjson.decode(raw).when <= now - 30 then free(h) end\n"
	"  end\n"
	"  a = scan()\n"
	"end\n"
	"if a then return {'ok', a} end\n"
	"return {'enospc'}\n");

static int reserve(struct sf_kv *kv, const char *ipam, const char *address, enum sf_ipam_type type,
		   const char *user_type, const char *user_uuid, char ret_address[SF_IPV4_STRLEN])
{
	struct store_ipam_keys k;
	const char *keys[5], *args[4 + RANDOM_ATTEMPTS];
	char now[32], num[RANDOM_ATTEMPTS + 1][16], *user = NULL;
	struct sf_kv_reply *reply = NULL;
	size_t nargs = 4;
	const char *got;
	uint32_t addr, rnd[RANDOM_ATTEMPTS];
	int r;

	if (!ipam_ref_ok(ipam) || !sf_ipam_type_to_string(type))
		return -EINVAL;
	if (address) {
		r = sf_ipv4_parse(address, &addr);
		if (r < 0)
			return r;
		(void)snprintf(num[0], sizeof(num[0]), "%u", addr);
		args[nargs++] = num[0];
	} else {
		r = store_random(rnd, sizeof(rnd));
		if (r < 0)
			return r;
		for (size_t i = 0; i < RANDOM_ATTEMPTS; i++) {
			(void)snprintf(num[i + 1], sizeof(num[i + 1]), "%u", rnd[i]);
			args[nargs++] = num[i + 1];
		}
	}
	store_format_time(sf_now_epoch(), now);
	user = store_ipam_user_json(user_type, user_uuid);
	args[0] = now;
	args[1] = sf_ipam_type_to_string(type);
	args[2] = user;
	args[3] = address ? "address" : "random";

	store_ipam_keys_init(kv, ipam, &k);
	keys[0] = k.recs;
	keys[1] = k.meta;
	keys[2] = k.bits;
	keys[3] = k.halo;
	keys[4] = k.users;
	r = store_script_run(kv, &reserve_lua, 5, keys, nargs, args, &reply, NULL);
	if (r < 0)
		goto out;
	got = store_reply_str(reply, 1);
	r = got && strlen(got) < SF_IPV4_STRLEN ? 0 : -EPROTO;
	if (r == 0 && ret_address)
		memcpy(ret_address, got, strlen(got) + 1);
out:
	sf_kv_reply_free(reply);
	store_ipam_keys_done(&k);
	free(user);
	return r;
}

int sf_ipam_reserve(struct sf_kv *kv, const char *ipam, const char *address, enum sf_ipam_type type,
		    const char *user_type, const char *user_uuid)
{
	if (!address)
		return -EINVAL;
	return reserve(kv, ipam, address, type, user_type, user_uuid, NULL);
}

int sf_ipam_reserve_random(struct sf_kv *kv, const char *ipam, enum sf_ipam_type type,
			   const char *user_type, const char *user_uuid, char ret_address[16])
{
	return reserve(kv, ipam, NULL, type, user_type, user_uuid, ret_address);
}

/* KEYS recs meta bits halo users; ARGV now address mode ("halo" | "free") halo_seconds
 * [user_type user_uuid]: only a live reservation held by that user. */
static struct store_script release_lua = STORE_SCRIPT(
	STORE_IPAM_LUA_LIB
	"local recs, meta, bits, halo, users = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]\n"
	"local a = ARGV[2]\n"
	"local base = redis.call('HGET', meta, 'base')\n"
	"if not base then return {'enoent'} end\n"
	"local raw = redis.call('HGET', recs, a)\n"
	"if not raw then return {'enoent'} end\n"
	"local rec = cjson.decode(raw)\n"
	"if rec.type == 'deletion-halo' then return {'enoent'} end\n"
	"if ARGV[5] then\n"
	"  local u = rec.user\n"
	"  if type(u) ~= 'table' or u[1] ~= ARGV[5] or u[2] ~= ARGV[6] then return {'eperm'} end\n"
	"end\n"
	"uidx_del(users, rec.user, a)\n"
	"if ARGV[3] == 'free' then\n"
	"  redis.call('HDEL', recs, a)\n"
	"  redis.call('SETBIT', bits, parse(a) - tonumber(base), 0)\n"
	"  return {'ok'}\n"
	"end\n"
	"redis.call('HSET', recs, a, record(a, 'deletion-halo', 'null', ARGV[1]))\n"
	"redis.call('ZADD', halo, tonumber(ARGV[1]) + tonumber(ARGV[4]), a)\n"
	"return {'ok'}\n");

static int release(struct sf_kv *kv, const char *ipam, const char *address, bool to_halo,
		   unsigned halo_seconds, const char *user_type, const char *user_uuid)
{
	struct store_ipam_keys k;
	const char *keys[5], *args[6];
	char now[32], halo[16], canon[SF_IPV4_STRLEN];
	uint32_t addr;
	int r;

	if (!ipam_ref_ok(ipam))
		return -ENOENT;
	r = sf_ipv4_parse(address, &addr);
	if (r < 0)
		return r;
	store_format_time(sf_now_epoch(), now);
	(void)snprintf(halo, sizeof(halo), "%u", halo_seconds);
	args[0] = now;
	args[1] = sf_ipv4_format(addr, canon);
	args[2] = to_halo ? "halo" : "free";
	args[3] = halo;
	args[4] = user_type;
	args[5] = user_uuid ? user_uuid : "";

	store_ipam_keys_init(kv, ipam, &k);
	keys[0] = k.recs;
	keys[1] = k.meta;
	keys[2] = k.bits;
	keys[3] = k.halo;
	keys[4] = k.users;
	r = store_script_run(kv, &release_lua, 5, keys, user_type ? 6 : 4, args, NULL, NULL);
	store_ipam_keys_done(&k);
	return r;
}

int sf_ipam_release(struct sf_kv *kv, const char *ipam, const char *address, unsigned halo_seconds)
{
	return release(kv, ipam, address, true, halo_seconds, NULL, NULL);
}

int store_ipam_release_owned(struct sf_kv *kv, const char *ipam, const char *address,
			     unsigned halo_seconds, const char *user_type, const char *user_uuid)
{
	return release(kv, ipam, address, true, halo_seconds, user_type, user_uuid);
}

int store_ipam_unreserve(struct sf_kv *kv, const char *ipam, const char *address,
			 const char *user_type, const char *user_uuid)
{
	return release(kv, ipam, address, false, 0, user_type, user_uuid);
}

int sf_ipam_get(struct sf_kv *kv, const char *ipam, const char *address, json_t **ret_record)
{
	struct store_ipam_keys k;
	struct sf_kv_reply *reply = NULL;
	json_t *rec;
	int r;

	if (!ipam_ref_ok(ipam) || !address)
		return -ENOENT;
	store_ipam_keys_init(kv, ipam, &k);
	r = sf_kv_cmd(kv, &reply, "HGET", k.recs, address, NULL);
	if (r < 0)
		goto out;
	r = -ENOENT;
	if (reply->type != SF_KV_REPLY_STR)
		goto out;
	r = -EPROTO;
	rec = json_loads(reply->str, 0, NULL);
	if (!rec)
		goto out;
	*ret_record = rec;
	r = 0;
out:
	sf_kv_reply_free(reply);
	store_ipam_keys_done(&k);
	return r;
}

struct addr_rec {
	const char *address, *json;
};

static int cmp_addr(const void *a, const void *b)
{
	const struct addr_rec *x = a, *y = b;

	return strcmp(x->address, y->address);
}

/* Records given as address/JSON pairs (elems[first..]) as a JSON array by address. */
static json_t *records_sorted(const struct sf_kv_reply *h, size_t first)
{
	size_t n = h->n > first ? (h->n - first) / 2 : 0;
	struct addr_rec *recs = sf_xcalloc(n ? n : 1, sizeof(*recs));
	json_t *list = json_array();

	for (size_t i = 0; i < n; i++)
		recs[i] = (struct addr_rec){h->elems[first + 2 * i]->str,
					    h->elems[first + 2 * i + 1]->str};
	/* Ascending string order of the address (spec 1.5.7: the storage key order). */
	qsort(recs, n, sizeof(*recs), cmp_addr);
	for (size_t i = 0; i < n; i++) {
		json_t *rec = json_loads(recs[i].json, 0, NULL);

		if (rec)
			json_array_append_new(list, rec);
	}
	free(recs);
	return list;
}

int sf_ipam_list(struct sf_kv *kv, const char *ipam, json_t **ret_records)
{
	struct store_ipam_keys k;
	struct sf_kv_reply *h;
	int r;

	if (!ipam_ref_ok(ipam))
		return -ENOENT;
	store_ipam_keys_init(kv, ipam, &k);
	r = store_read_if_exists(kv, k.meta, 2, (const char *[]){"HGETALL", k.recs}, &h);
	store_ipam_keys_done(&k);
	if (r < 0)
		return r;
	*ret_records = records_sorted(h, 0);
	sf_kv_reply_free(h);
	return 0;
}

/* KEYS recs meta users; ARGV "<type>:<uuid>". Answers {"ok", address, record, ...}. An index
 * without its "*" field is incomplete (the IPAM predates it): built here from the records. */
static struct store_script list_user_lua = STORE_SCRIPT(
	STORE_IPAM_LUA_LIB
	"local recs, meta, users = KEYS[1], KEYS[2], KEYS[3]\n"
	"if redis.call('EXISTS', meta) == 0 then return {'enoent'} end\n"
	"if redis.call('HEXISTS', users, '*') == 0 then\n"
	"  redis.call('DEL', users)\n"
	"  local all = redis.call('HGETALL', recs)\n"
	"  for i = 1, #all, 2 do\n"
	"    local ok, rec = pcall(cjson.decode, all[i + 1])\n"
	"    if ok and type(rec) == 'table' then uidx_add(users, rec.user, all[i]) end\n"
	"  end\n"
	"  redis.call('HSET', users, '*', '1')\n"
	"end\n"
	"local out = {'ok'}\n"
	"local cur = redis.call('HGET', users, ARGV[1])\n"
	"if cur then\n"
	"  for a in string.gmatch(cur, '%S+') do\n"
	"    local raw = redis.call('HGET', recs, a)\n"
	"    if raw then out[#out + 1] = a; out[#out + 1] = raw end\n"
	"  end\n"
	"end\n"
	"return out\n");

int sf_ipam_list_user(struct sf_kv *kv, const char *ipam, const char *user_type,
		      const char *user_uuid, json_t **ret_records)
{
	struct store_ipam_keys k;
	struct sf_kv_reply *reply = NULL;
	const char *keys[3];
	char *field;
	int r;

	if (!ipam_ref_ok(ipam))
		return -ENOENT;
	if (!user_type || !user_uuid)
		return -EINVAL;
	field = sf_xasprintf("%s:%s", user_type, user_uuid);
	store_ipam_keys_init(kv, ipam, &k);
	keys[0] = k.recs;
	keys[1] = k.meta;
	keys[2] = k.users;
	r = store_script_run(kv, &list_user_lua, 3, keys, 1, (const char *const *)&field, &reply,
			     NULL);
	store_ipam_keys_done(&k);
	free(field);
	if (r < 0)
		return r;
	*ret_records = records_sorted(reply, 1);
	sf_kv_reply_free(reply);
	return 0;
}
