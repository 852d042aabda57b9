// SPDX-License-Identifier: Apache-2.0
/*
 * store: the state machines of spec 3.1 and 3.2 as tables, and the helpers every store_*.c
 * file uses (scripts, replies, claims, random numbers).
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sf/json.h"
#include "sf/log.h"
#include "store_priv.h"

SF_LOG_MODULE("store");

/* ---- states ---- */

static const char *const net_state_names[_SF_NET_STATE_MAX] = {
	[SF_NET_INITIAL] = "initial", [SF_NET_CREATING] = "creating",
	[SF_NET_CREATED] = "created", [SF_NET_DELETE_WAIT] = "delete-wait",
	[SF_NET_DELETED] = "deleted", [SF_NET_ERROR] = "error",
};

/* Spec 3.1: allowed[from][to]. creating is defined but networks never enter or leave it. */
static const bool net_transitions[_SF_NET_STATE_MAX][_SF_NET_STATE_MAX] = {
	[SF_NET_INITIAL] =
		{[SF_NET_CREATED] = true, [SF_NET_DELETED] = true, [SF_NET_ERROR] = true},
	[SF_NET_CREATED] =
		{[SF_NET_DELETED] = true, [SF_NET_DELETE_WAIT] = true, [SF_NET_ERROR] = true},
	[SF_NET_DELETE_WAIT] = {[SF_NET_DELETED] = true, [SF_NET_ERROR] = true},
	[SF_NET_ERROR] = {[SF_NET_DELETED] = true, [SF_NET_ERROR] = true},
};

const char *sf_net_state_to_string(enum sf_net_state s)
{
	return (unsigned)s < _SF_NET_STATE_MAX ? net_state_names[s] : NULL;
}

int sf_net_state_from_string(const char *s, enum sf_net_state *ret)
{
	for (unsigned i = 0; s && i < _SF_NET_STATE_MAX; i++)
		if (strcmp(s, net_state_names[i]) == 0) {
			*ret = (enum sf_net_state)i;
			return 0;
		}
	return -EINVAL;
}

bool sf_net_state_is_active(enum sf_net_state s)
{
	return s == SF_NET_INITIAL || s == SF_NET_CREATING || s == SF_NET_CREATED ||
	       s == SF_NET_ERROR || s == SF_NET_DELETE_WAIT;
}

bool sf_net_state_transition_ok(enum sf_net_state from, enum sf_net_state to)
{
	if ((unsigned)from >= _SF_NET_STATE_MAX || (unsigned)to >= _SF_NET_STATE_MAX)
		return false;
	return from == to || net_transitions[from][to];
}

static const char *const iface_state_names[_SF_IFACE_STATE_MAX] = {
	[SF_IFACE_INITIAL] = "initial",
	[SF_IFACE_CREATED] = "created",
	[SF_IFACE_DELETED] = "deleted",
	[SF_IFACE_ERROR] = "error",
};

/* Spec 3.2. */
static const bool iface_transitions[_SF_IFACE_STATE_MAX][_SF_IFACE_STATE_MAX] = {
	[SF_IFACE_INITIAL] =
		{[SF_IFACE_CREATED] = true, [SF_IFACE_DELETED] = true, [SF_IFACE_ERROR] = true},
	[SF_IFACE_CREATED] = {[SF_IFACE_DELETED] = true, [SF_IFACE_ERROR] = true},
	[SF_IFACE_ERROR] = {[SF_IFACE_DELETED] = true, [SF_IFACE_ERROR] = true},
};

const char *sf_iface_state_to_string(enum sf_iface_state s)
{
	return (unsigned)s < _SF_IFACE_STATE_MAX ? iface_state_names[s] : NULL;
}

int sf_iface_state_from_string(const char *s, enum sf_iface_state *ret)
{
	for (unsigned i = 0; s && i < _SF_IFACE_STATE_MAX; i++)
		if (strcmp(s, iface_state_names[i]) == 0) {
			*ret = (enum sf_iface_state)i;
			return 0;
		}
	return -EINVAL;
}

bool sf_iface_state_transition_ok(enum sf_iface_state from, enum sf_iface_state to)
{
	if ((unsigned)from >= _SF_IFACE_STATE_MAX || (unsigned)to >= _SF_IFACE_STATE_MAX)
		return false;
	return from == to || iface_transitions[from][to];
}

static const char *const ipam_type_names[_SF_IPAM_TYPE_MAX] = {
	[SF_IPAM_NETWORK] = "network",
	[SF_IPAM_BROADCAST] = "broadcast",
	[SF_IPAM_GATEWAY] = "gateway",
	[SF_IPAM_INSTANCE] = "instance",
	[SF_IPAM_FLOATING] = "floating",
	[SF_IPAM_ROUTED] = "routed",
	[SF_IPAM_DELETION_HALO] = "deletion-halo",
	[SF_IPAM_UNKNOWN] = "unknown",
};

const char *sf_ipam_type_to_string(enum sf_ipam_type t)
{
	return (unsigned)t < _SF_IPAM_TYPE_MAX ? ipam_type_names[t] : NULL;
}

/* ---- scripts ---- */

static const struct {
	const char *name;
	int err;
} script_statuses[] = {
	{"ok", 0},	 {"enoent", -ENOENT},	      {"eexist", -EEXIST}, {"einval", -EINVAL},
	{"edom", -EDOM}, {"eaddrinuse", -EADDRINUSE}, {"enospc", -ENOSPC}, {"eperm", -EPERM},
};

static int script_status(const struct sf_kv_reply *reply)
{
	const char *status = store_reply_str(reply, 0);

	if (!status)
		return -EPROTO;
	for (size_t i = 0; i < SF_ARRAY_SIZE(script_statuses); i++)
		if (strcmp(status, script_statuses[i].name) == 0)
			return script_statuses[i].err;
	return -EPROTO;
}

static int script_get(struct store_script *sc, struct sf_kv_script **ret)
{
	struct sf_kv_script *s = __atomic_load_n(&sc->compiled, __ATOMIC_ACQUIRE), *expected = NULL;
	int r;

	if (!s) {
		r = sf_kv_script_new(sc->lua, &s);
		if (r < 0)
			return r;
		/* Another thread may have won the race: keep its copy. */
		if (!__atomic_compare_exchange_n(&sc->compiled, &expected, s, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			sf_kv_script_free(s);
			s = expected;
		}
	}
	*ret = s;
	return 0;
}

int store_script_run(struct sf_kv *kv, struct store_script *sc, size_t nkeys,
		     const char *const *keys, size_t nargs, const char *const *args,
		     struct sf_kv_reply **ret_reply, struct sf_kv_reply **ret_status_reply)
{
	struct sf_kv_script *s;
	struct sf_kv_reply *reply;
	int r;

	r = script_get(sc, &s);
	if (r < 0)
		return r;
	r = sf_kv_script_run(kv, s, nkeys, keys, nargs, args, &reply);
	if (r < 0)
		return r;
	r = script_status(reply);
	assert(r <= 0);
	if (r == -EPROTO)
		sf_log_debug("unexpected reply from store script %s", sf_kv_script_sha(s));
	if (r == 0 && ret_reply)
		*ret_reply = reply;
	else if (r < 0 && r != -EPROTO && ret_status_reply)
		*ret_status_reply = reply;
	else
		sf_kv_reply_free(reply);
	return r;
}

int store_exec(struct sf_kv *kv, const struct sf_kv_batch *b, struct sf_kv_reply **ret_reply)
{
	struct sf_kv_reply *reply;
	int r;

	r = sf_kv_exec(kv, b, &reply);
	if (r < 0)
		return r;
	for (size_t i = 0; reply->type == SF_KV_REPLY_ARRAY && i < reply->n; i++) {
		r = sf_kv_reply_errno(reply->elems[i]);
		if (r < 0) {
			sf_log_debug("command %zu of a transaction failed: %s", i,
				     reply->elems[i]->str);
			sf_kv_reply_free(reply);
			return r;
		}
	}
	if (ret_reply)
		*ret_reply = reply;
	else
		sf_kv_reply_free(reply);
	return 0;
}

const char *store_reply_str(const struct sf_kv_reply *reply, size_t i)
{
	if (!reply || reply->type != SF_KV_REPLY_ARRAY || i >= reply->n ||
	    reply->elems[i]->type != SF_KV_REPLY_STR)
		return NULL;
	return reply->elems[i]->str;
}

const char *store_hash_field(const struct sf_kv_reply *hash, const char *field)
{
	if (!hash || hash->type != SF_KV_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < hash->n; i += 2)
		if (hash->elems[i]->type == SF_KV_REPLY_STR &&
		    strcmp(hash->elems[i]->str, field) == 0)
			return hash->elems[i + 1]->type == SF_KV_REPLY_STR ? hash->elems[i + 1]->str
									   : NULL;
	return NULL;
}

static struct store_script set_state_lua =
	STORE_SCRIPT("local cur = redis.call('HGET', KEYS[1], 'state')\n"
		     "if not cur then return {'enoent'} end\n"
		     "if cur == ARGV[1] then return {'ok', cur} end\n"
		     "for i = 4, #ARGV do\n"
		     "  if ARGV[i] == cur then\n"
		     "    redis.call('HSET', KEYS[1], 'state', ARGV[1], 'state_updated', ARGV[2])\n"
		     "    if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[3]) end\n"
		     "    return {'ok', cur}\n"
		     "  end\n"
		     "end\n"
		     "return {'einval', cur}\n");

int store_set_state(struct sf_kv *kv, const char *key, const char *to, const char *error_text,
		    const char *const *froms, size_t nfroms, char **ret_previous)
{
	const char **args = sf_xcalloc(3 + nfroms, sizeof(*args));
	struct sf_kv_reply *reply = NULL, *status_reply = NULL;
	const char *prev;
	char now[32];
	int r;

	store_format_time(sf_now_epoch(), now);
	args[0] = to;
	args[1] = now;
	args[2] = error_text ? error_text : "";
	for (size_t i = 0; i < nfroms; i++)
		args[3 + i] = froms[i];
	r = store_script_run(kv, &set_state_lua, 1, &key, 3 + nfroms, args, &reply, &status_reply);
	prev = store_reply_str(reply ? reply : status_reply, 1);
	if (ret_previous && prev)
		*ret_previous = sf_xstrdup(prev);
	sf_kv_reply_free(reply);
	sf_kv_reply_free(status_reply);
	free(args);
	return r;
}

static struct store_script hash_set_if_lua = STORE_SCRIPT(
	"if redis.call('EXISTS', KEYS[1]) == 0 then return {'enoent'} end\n"
	"if ARGV[2] == 'del' then redis.call('HDEL', KEYS[2], ARGV[1]) return {'ok'} end\n"
	"if ARGV[2] == 'setnew' then\n"
	"  local cur = redis.call('HGET', KEYS[2], ARGV[1])\n"
	"  if cur and cur ~= ARGV[3] then return {'eexist', cur} end\n"
	"end\n"
	"redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])\n"
	"return {'ok'}\n");

int store_hash_set_if(struct sf_kv *kv, const char *parent, const char *hash, const char *field,
		      const char *value, bool only_if_unset)
{
	const char *keys[] = {parent, hash};
	const char *args[] = {field,
			      !value	      ? "del"
			      : only_if_unset ? "setnew"
					      : "set",
			      value ? value : ""};

	return store_script_run(kv, &hash_set_if_lua, 2, keys, 3, args, NULL, NULL);
}

static struct store_script del_if_equal_lua =
	STORE_SCRIPT("if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
		     "  return {'ok', redis.call('DEL', KEYS[1])}\n"
		     "end\n"
		     "return {'ok', 0}\n");

int store_del_if_equal(struct sf_kv *kv, const char *key, const char *value)
{
	struct sf_kv_reply *reply;
	int r;

	r = store_script_run(kv, &del_if_equal_lua, 1, &key, 1, &value, &reply, NULL);
	if (r < 0)
		return r;
	r = reply->n > 1 && reply->elems[1]->type == SF_KV_REPLY_INT ? (int)reply->elems[1]->integer
								     : 0;
	sf_kv_reply_free(reply);
	return r;
}

int store_read_if_exists(struct sf_kv *kv, const char *parent, int argc, const char *const *argv,
			 struct sf_kv_reply **ret_array)
{
	struct sf_kv_batch *b = sf_kv_batch_new();
	struct sf_kv_reply *reply = NULL;
	int r;

	sf_kv_batch_add(b, "EXISTS", parent, NULL);
	sf_kv_batch_addv(b, argc, argv, NULL);
	r = store_exec(kv, b, &reply);
	if (r < 0)
		goto out;
	r = -EPROTO;
	if (reply->type != SF_KV_REPLY_ARRAY || reply->n != 2 ||
	    reply->elems[0]->type != SF_KV_REPLY_INT || reply->elems[1]->type != SF_KV_REPLY_ARRAY)
		goto out;
	r = -ENOENT;
	if (reply->elems[0]->integer == 0)
		goto out;
	*ret_array = reply->elems[1];
	reply->elems[1] = NULL; /* handed out */
	r = 0;
out:
	sf_kv_reply_free(reply);
	sf_kv_batch_free(b);
	return r;
}

/* A new JSON object from an HGETALL of JSON-encoded values; -ENOENT when `parent` does not
 * exist. */
static int json_hash_get(struct sf_kv *kv, const char *parent, const char *hash,
			 json_t **ret_object)
{
	const char *argv[] = {"HGETALL", hash};
	struct sf_kv_reply *h;
	json_t *obj;
	int r;

	r = store_read_if_exists(kv, parent, 2, argv, &h);
	if (r < 0)
		return r;
	obj = json_object();
	for (size_t i = 0; i + 1 < h->n; i += 2) {
		json_t *v = json_loads(h->elems[i + 1]->str, JSON_DECODE_ANY, NULL);

		if (!v) /* not ours: keep the raw text rather than failing the whole read */
			v = json_string(h->elems[i + 1]->str);
		json_object_set_new(obj, h->elems[i]->str, v);
	}
	sf_kv_reply_free(h);
	*ret_object = obj;
	return 0;
}

int store_subhash_get(struct sf_kv *kv, const char *kind, const char *id, const char *suffix,
		      json_t **ret_object)
{
	char *parent = sf_kv_key(kv, "%s:{%s}", kind, id);
	char *hash = sf_kv_key(kv, "%s:{%s}%s", kind, id, suffix);
	int r;

	r = json_hash_get(kv, parent, hash, ret_object);
	free(parent);
	free(hash);
	return r;
}

int store_subhash_set(struct sf_kv *kv, const char *kind, const char *id, const char *suffix,
		      const char *field, const json_t *value)
{
	char *parent, *hash, *json;
	int r;

	if (!field)
		return -EINVAL;
	parent = sf_kv_key(kv, "%s:{%s}", kind, id);
	hash = sf_kv_key(kv, "%s:{%s}%s", kind, id, suffix);
	json = value ? sf_json_dumps(value) : NULL;
	r = store_hash_set_if(kv, parent, hash, field, json, false);
	free(json);
	free(parent);
	free(hash);
	return r;
}

/* ---- small things ---- */

char *store_strdup_or_null(const char *s)
{
	return s ? sf_xstrdup(s) : NULL;
}

json_t *store_json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int store_random(void *buf, size_t n)
{
	ssize_t got;

	do
		got = getrandom(buf, n, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	return (size_t)got == n ? 0 : -EIO;
}

void store_format_time(double t, char buf[static 32])
{
	(void)snprintf(buf, 32, "%.6f", t);
}

double store_parse_time(const char *s)
{
	char *end;
	double v;

	if (!s)
		return 0;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return 0;
	return v;
}
