/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private helpers of the store_*.c files: Lua scripts compiled once per process, the status
 * convention of our scripts, reply and hash helpers, random numbers, and the IPAM key set.
 * The key layout itself is documented in shared/redis-layout.md.
 */
#ifndef SF_STORE_PRIV_H
#define SF_STORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf/ipv4.h"
#include "sf/kv.h"
#include "sf/store.h"

/*
 * A Lua script of the store. Every script answers a table whose first element is a status
 * string: "ok", or an errno name ("enoent", "eexist", "einval", "edom", "eaddrinuse", "enospc",
 * "eperm"), followed by values. Business errors are never Lua errors, which Redis would report
 * as "-ERR" and which would not undo earlier writes of the script.
 */
struct store_script {
	const char *lua;
	struct sf_kv_script *compiled; /* set once (atomically) on first use; kept until exit */
};
#define STORE_SCRIPT(src)                      \
	{                                      \
		.lua = (src), .compiled = NULL \
	}

/* Run the script: 0 and the reply (its status already checked: "ok") or -errno (the status
 * mapped, e.g. "eaddrinuse" -> -EADDRINUSE, or a transport error). When ret_status_reply is
 * not NULL, a script that answered a non-ok status also hands back its reply there, so callers
 * can read values that come with an error (the current state of a refused transition). */
int store_script_run(struct sf_kv *kv, struct store_script *sc, size_t nkeys,
		     const char *const *keys, size_t nargs, const char *const *args,
		     struct sf_kv_reply **ret_reply, struct sf_kv_reply **ret_status_reply);

/* sf_kv_exec(), failing with the -errno of the first command that failed inside the
 * transaction (Redis runs the others anyway). ret_reply may be NULL. */
int store_exec(struct sf_kv *kv, const struct sf_kv_batch *b, struct sf_kv_reply **ret_reply);

/* In one transaction, EXISTS parent and the read command argv (HGETALL, LRANGE...): 0 with
 * the command's array reply, -ENOENT when parent does not exist. */
int store_read_if_exists(struct sf_kv *kv, const char *parent, int argc, const char *const *argv,
			 struct sf_kv_reply **ret_array);

/* Element i of a script reply as a string, or NULL. */
const char *store_reply_str(const struct sf_kv_reply *reply, size_t i);

/* Value of a field in an HGETALL reply (flat field/value array), or NULL. */
const char *store_hash_field(const struct sf_kv_reply *hash, const char *field);

/* Shared scripts. */
/* Compare-and-set of the "state" field of the hash `key` (networks and interfaces): to is
 * accepted from any of froms[]; same state = no-op. error_text (may be NULL) is stored in the
 * field "error" with the change. ret_previous (may be NULL) gets the state before, also on
 * -EINVAL. -ENOENT when the hash has no state. */
int store_set_state(struct sf_kv *kv, const char *key, const char *to, const char *error_text,
		    const char *const *froms, size_t nfroms, char **ret_previous);
/* HSET (value non-NULL) or HDEL (value NULL) of one field of `hash`, only if `parent` exists:
 * -ENOENT otherwise. With only_if_unset, an HSET of a field that holds another value is -EEXIST
 * (the same value is a no-op). */
int store_hash_set_if(struct sf_kv *kv, const char *parent, const char *hash, const char *field,
		      const char *value, bool only_if_unset);
/* Delete `key` if its value is `value` (claims: vxid, MAC). 1 deleted, 0 not. */
int store_del_if_equal(struct sf_kv *kv, const char *key, const char *value);
/* A sub-hash of JSON-encoded values "<kind>:{<id>}<suffix>" (metadata, DNS entries) beside its
 * record "<kind>:{<id>}". get: a new object of all its fields. set: one field to value as JSON
 * text, or delete it when value is NULL (-EINVAL without a field). Both -ENOENT when the record
 * does not exist. Callers check id. */
int store_subhash_get(struct sf_kv *kv, const char *kind, const char *id, const char *suffix,
		      json_t **ret_object);
int store_subhash_set(struct sf_kv *kv, const char *kind, const char *id, const char *suffix,
		      const char *field, const json_t *value);

/* A copy of s, or NULL for NULL; a JSON string of s, or JSON null for NULL (the views). */
char *store_strdup_or_null(const char *s);
json_t *store_json_str_or_null(const char *s);

/* Random bytes from getrandom(). */
int store_random(void *buf, size_t n);
/* "1700000000.123456": epochs as stored in Redis. */
void store_format_time(double t, char buf[static 32]);
double store_parse_time(const char *s); /* 0 when NULL or malformed */

/* ---- IPAM keys (store_ipam.c); ipam is a network uuid or "floating" ---- */

struct store_ipam_keys {
	char *recs; /* "ipam:{U}": hash address -> JSON reservation */
	char *meta; /* "ipam:{U}:meta": hash netblock, base, size, created_at */
	char *bits; /* "ipam:{U}:bits": bitmap of used indexes */
	char *halo; /* "ipam:{U}:halo": zset address -> halo expiry epoch */
	char *users; /* "ipam:{U}:users": hash "<type>:<uuid>" -> its addresses ("a b c") */
};
void store_ipam_keys_init(struct sf_kv *kv, const char *ipam, struct store_ipam_keys *k);
void store_ipam_keys_done(struct store_ipam_keys *k);

/* Lua helpers shared by the IPAM scripts (prepended to their text): fmt(n) -> dotted quad,
 * parse(a) -> number, record(address, type, user_json, when) -> reservation JSON, and the
 * per-user index: uidx_add(users, user, a) / uidx_del(users, user, a) with user a decoded
 * [type, uuid] (anything else, e.g. cjson.null, is no user and not indexed). Every script that
 * writes a reservation keeps the index in step; field "*" says the index is complete (see
 * sf_ipam_list_user, which builds it for an IPAM written before it existed). */
#define STORE_IPAM_LUA_LIB                                                                        \
	"local function fmt(n)\n"                                                                 \
	"  return string.format('%d.%d.%d.%d', math.floor(n / 16777216) % 256,\n"                 \
	"    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)\n"                  \
	"end\n"                                                                                   \
	"local function parse(a)\n"                                                               \
	"  local o1, o2, o3, o4 = string.match(a, '^(%d+)%.(%d+)%.(%d+)%.(%d+)$')\n"              \
	"  return ((tonumber(o1) * 256 + tonumber(o2)) * 256 + tonumber(o3)) * 256 + "            \
	"tonumber(o4)\n"                                                                          \
	"end\n"                                                                                   \
	"local function record(a, t, user, when)\n"                                               \
	"  return '{\"address\":\"' .. a .. '\",\"type\":\"' .. t .. '\",\"user\":' .. user ..\n" \
	"    ',\"when\":' .. when .. ',\"comment\":\"\"}'\n"                                      \
	"end\n"                                                                                   \
	"local function uidx_field(u)\n"                                                          \
	"  if type(u) ~= 'table' or type(u[1]) ~= 'string' or type(u[2]) ~= 'string' then\n"      \
	"    return nil\n"                                                                        \
	"  end\n"                                                                                 \
	"  return u[1] .. ':' .. u[2]\n"                                                          \
	"end\n"                                                                                   \
	"local function uidx_add(users, u, a)\n"                                                  \
	"  local f = uidx_field(u)\n"                                                             \
	"  if not f then return end\n"                                                            \
	"  local cur = redis.call('HGET', users, f)\n"                                            \
	"  redis.call('HSET', users, f, cur and (cur .. ' ' .. a) or a)\n"                        \
	"end\n"                                                                                   \
	"local function uidx_del(users, u, a)\n"                                                  \
	"  local f = uidx_field(u)\n"                                                             \
	"  local cur = f and redis.call('HGET', users, f)\n"                                      \
	"  if not cur then return end\n"                                                          \
	"  local keep = {}\n"                                                                     \
	"  for x in string.gmatch(cur, '%S+') do\n"                                               \
	"    if x ~= a then keep[#keep + 1] = x end\n"                                            \
	"  end\n"                                                                                 \
	"  if #keep == 0 then redis.call('HDEL', users, f)\n"                                     \
	"  else redis.call('HSET', users, f, table.concat(keep, ' ')) end\n"                      \
	"end\n"

/* The user field as JSON: ["type","uuid"], or null when type is NULL. Allocated. */
char *store_ipam_user_json(const char *user_type, const char *user_uuid);

/* Undo of a reservation (not a release: no halo): remove it if it is held by exactly
 * [user_type, user_uuid]. 0, -ENOENT (none), -EPERM (someone else's). */
int store_ipam_unreserve(struct sf_kv *kv, const char *ipam, const char *address,
			 const char *user_type, const char *user_uuid);
/* Release into the halo, but only a reservation held by [user_type, user_uuid]. */
int store_ipam_release_owned(struct sf_kv *kv, const char *ipam, const char *address,
			     unsigned halo_seconds, const char *user_type, const char *user_uuid);

#endif
