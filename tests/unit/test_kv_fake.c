// SPDX-License-Identifier: Apache-2.0
/* The generic kv layer (keys, errors, batches, scripts) over the fake, and URL checking of the
 * Redis backend, which does not connect. No socket is opened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../fakes/kv_fake.h"
#include "sf/kv.h"

static int setup(void **state)
{
	*state = sf_kv_fake_new(NULL);
	return 0;
}

static int teardown(void **state)
{
	sf_kv_free(*state);
	return 0;
}

static void assert_int_reply(struct sf_kv *kv, long long want, const char *cmd, const char *a1,
			     const char *a2)
{
	struct sf_kv_reply *reply;

	assert_int_equal(sf_kv_cmd(kv, &reply, cmd, a1, a2, NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_INT);
	assert_int_equal(reply->integer, want);
	sf_kv_reply_free(reply);
}

static void test_key_prefix(void **state)
{
	struct sf_kv *other = sf_kv_fake_new("");
	char *key;

	key = sf_kv_key(*state, "network:%s", "abc");
	assert_string_equal(key, "sf:network:abc");
	free(key);
	assert_string_equal(sf_kv_prefix(other), "");
	key = sf_kv_key(other, "vxid:%d", 42);
	assert_string_equal(key, "vxid:42");
	free(key);
	sf_kv_free(other);
}

static void test_strings(void **state)
{
	struct sf_kv *kv = *state;
	char *v;

	assert_int_equal(sf_kv_get(kv, "sf:a", &v), -ENOENT);
	assert_int_equal(sf_kv_set(kv, "sf:a", "one", 0, 0), 0);
	assert_int_equal(sf_kv_set(kv, "sf:a", "two", 0, SF_KV_SET_NX), -EEXIST);
	assert_int_equal(sf_kv_get(kv, "sf:a", &v), 0);
	assert_string_equal(v, "one");
	free(v);
	assert_int_reply(kv, 1, "EXISTS", "sf:a", NULL);
	assert_int_equal(sf_kv_del(kv, "sf:a"), 1);
	assert_int_equal(sf_kv_del(kv, "sf:a"), 0);

	assert_int_reply(kv, 1, "INCR", "sf:n", NULL);
	assert_int_reply(kv, 2, "INCR", "sf:n", NULL);
	assert_int_equal(sf_kv_set(kv, "sf:s", "x", 0, 0), 0);
	assert_int_equal(sf_kv_cmd(kv, NULL, "INCR", "sf:s", NULL), -EPROTO); /* not an integer */

	/* EX, on the fake clock */
	assert_int_equal(sf_kv_set(kv, "sf:ttl", "v", 10, SF_KV_SET_NX), 0);
	sf_kv_fake_advance_ms(kv, 9999);
	assert_int_reply(kv, 1, "EXISTS", "sf:ttl", NULL);
	sf_kv_fake_advance_ms(kv, 1);
	assert_int_equal(sf_kv_get(kv, "sf:ttl", &v), -ENOENT);
	assert_int_equal(sf_kv_fake_nkeys(kv), 2);
}

/* EXPIRE and TTL as Redis answers them, on the fake clock. */
static void test_expire_ttl(void **state)
{
	struct sf_kv *kv = *state;

	assert_int_reply(kv, -2, "TTL", "sf:k", NULL);
	assert_int_reply(kv, 0, "EXPIRE", "sf:k", "10"); /* no such key */
	assert_int_equal(sf_kv_set(kv, "sf:k", "v", 0, 0), 0);
	assert_int_reply(kv, -1, "TTL", "sf:k", NULL);
	assert_int_reply(kv, 1, "EXPIRE", "sf:k", "10");
	assert_int_reply(kv, 10, "TTL", "sf:k", NULL);
	sf_kv_fake_advance_ms(kv, 2600);
	assert_int_reply(kv, 7, "TTL", "sf:k", NULL); /* 7.4 s left, rounded */
	sf_kv_fake_advance_ms(kv, 7400);
	assert_int_reply(kv, 0, "EXISTS", "sf:k", NULL);
	assert_int_reply(kv, -2, "TTL", "sf:k", NULL);

	/* SET clears the TTL; a time <= 0 deletes the key; the time must be an integer. */
	assert_int_equal(sf_kv_set(kv, "sf:k", "v", 5, 0), 0);
	assert_int_equal(sf_kv_set(kv, "sf:k", "w", 0, 0), 0);
	assert_int_reply(kv, -1, "TTL", "sf:k", NULL);
	assert_int_reply(kv, 1, "EXPIRE", "sf:k", "0");
	assert_int_reply(kv, 0, "EXISTS", "sf:k", NULL);
	assert_int_equal(sf_kv_cmd(kv, NULL, "EXPIRE", "sf:k", "soon", NULL), -EPROTO);
	assert_int_equal(sf_kv_cmd(kv, NULL, "EXPIRE", "sf:k", NULL), -EPROTO); /* arity */
}

static void test_binary(void **state)
{
	static const char val[] = {'a', '\0', '\r', '\n', (char)0xff, 'z'};
	const char *argv[] = {"SET", "sf:bin", val};
	const size_t lens[] = {3, 6, sizeof(val)};
	struct sf_kv_reply *reply;

	assert_int_equal(sf_kv_command(*state, 3, argv, lens, NULL), 0);
	assert_int_equal(sf_kv_cmd(*state, &reply, "GET", "sf:bin", NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_STR);
	assert_int_equal(reply->len, sizeof(val));
	assert_memory_equal(reply->str, val, sizeof(val));
	sf_kv_reply_free(reply);
}

static void test_hashes(void **state)
{
	struct sf_kv *kv = *state;
	struct sf_kv_reply *reply;

	assert_int_equal(sf_kv_cmd(kv, &reply, "HSET", "sf:h", "f1", "v1", "f2", "v2", NULL), 0);
	assert_int_equal(reply->integer, 2);
	sf_kv_reply_free(reply);
	assert_int_equal(sf_kv_cmd(kv, &reply, "HSET", "sf:h", "f1", "V1", NULL), 0);
	assert_int_equal(reply->integer, 0); /* updated, not added */
	sf_kv_reply_free(reply);
	assert_int_equal(sf_kv_cmd(kv, &reply, "HGET", "sf:h", "f1", NULL), 0);
	assert_string_equal(reply->str, "V1");
	sf_kv_reply_free(reply);
	assert_int_equal(sf_kv_cmd(kv, &reply, "HGET", "sf:h", "nope", NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_NIL);
	sf_kv_reply_free(reply);
	assert_int_reply(kv, 2, "HLEN", "sf:h", NULL);
	assert_int_equal(sf_kv_cmd(kv, &reply, "HGETALL", "sf:h", NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_ARRAY);
	assert_int_equal(reply->n, 4);
	assert_string_equal(reply->elems[0]->str, "f1");
	assert_string_equal(reply->elems[1]->str, "V1");
	assert_string_equal(reply->elems[3]->str, "v2");
	sf_kv_reply_free(reply);
	assert_int_reply(kv, 1, "HDEL", "sf:h", "f1");
	assert_int_reply(kv, 1, "HDEL", "sf:h", "f2");
	assert_int_reply(kv, 0, "EXISTS", "sf:h", NULL); /* emptied hash is gone */
	/* odd number of field/value arguments */
	assert_int_equal(sf_kv_cmd(kv, NULL, "HSET", "sf:h", "f1", "v1", "f2", NULL), -EPROTO);
}

static void test_sets(void **state)
{
	struct sf_kv *kv = *state;
	struct sf_kv_reply *reply;

	assert_int_equal(sf_kv_cmd(kv, &reply, "SADD", "sf:s", "a", "b", "a", NULL), 0);
	assert_int_equal(reply->integer, 2);
	sf_kv_reply_free(reply);
	assert_int_reply(kv, 2, "SCARD", "sf:s", NULL);
	assert_int_reply(kv, 1, "SISMEMBER", "sf:s", "b");
	assert_int_reply(kv, 0, "SISMEMBER", "sf:s", "c");
	assert_int_equal(sf_kv_cmd(kv, &reply, "SMEMBERS", "sf:s", NULL), 0);
	assert_int_equal(reply->n, 2);
	sf_kv_reply_free(reply);
	assert_int_reply(kv, 1, "SREM", "sf:s", "a");
	assert_int_reply(kv, 0, "SREM", "sf:s", "a");
	assert_int_reply(kv, 1, "SREM", "sf:s", "b");
	assert_int_reply(kv, 0, "EXISTS", "sf:s", NULL);
	assert_int_equal(sf_kv_cmd(kv, &reply, "SMEMBERS", "sf:s", NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_ARRAY);
	assert_int_equal(reply->n, 0);
	sf_kv_reply_free(reply);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text;
		int err;
	} table[] = {
		{"WRONGTYPE Operation against a key", -EMEDIUMTYPE},
		{"NOSCRIPT No matching script", -ENOENT},
		{"LOADING Redis is loading", -EAGAIN},
		{"NOAUTH Authentication required", -EACCES},
		{"ERR syntax error", -EPROTO},
		{"WRONGTYPEX not a code we know", -EPROTO},
		{"oops", -EPROTO},
	};
	struct sf_kv *kv = *state;
	struct sf_kv_reply *reply;
	char *v;

	for (size_t i = 0; i < SF_ARRAY_SIZE(table); i++) {
		reply = sf_kv_reply_new_str(SF_KV_REPLY_ERROR, table[i].text,
					    strlen(table[i].text));
		assert_int_equal(sf_kv_reply_errno(reply), table[i].err);
		sf_kv_reply_free(reply);
	}
	reply = sf_kv_reply_new_int(1);
	assert_int_equal(sf_kv_reply_errno(reply), 0);
	sf_kv_reply_free(reply);

	assert_int_equal(sf_kv_cmd(kv, NULL, "SADD", "sf:set", "m", NULL), 0);
	assert_int_equal(sf_kv_get(kv, "sf:set", &v), -EMEDIUMTYPE);
	assert_int_equal(sf_kv_cmd(kv, NULL, "HGET", "sf:set", "f", NULL), -EMEDIUMTYPE);
	assert_int_equal(sf_kv_cmd(kv, NULL, "NOSUCHCMD", NULL), -EPROTO);
	assert_int_equal(sf_kv_cmd(kv, NULL, "GET", NULL), -EPROTO); /* arity */
	assert_int_equal(sf_kv_command(kv, 0, NULL, NULL, NULL), -EINVAL);
	/* SET replaces a value of any type */
	assert_int_equal(sf_kv_set(kv, "sf:set", "now a string", 0, 0), 0);
}

static void test_exec(void **state)
{
	struct sf_kv *kv = *state;
	struct sf_kv_batch *b = sf_kv_batch_new();
	struct sf_kv_reply *reply;
	char *v;

	assert_int_equal(sf_kv_set(kv, "sf:str", "x", 0, 0), 0);
	sf_kv_batch_add(b, "SET", "sf:k1", "v1", NULL);
	sf_kv_batch_add(b, "SADD", "sf:str", "m", NULL); /* WRONGTYPE at run time */
	sf_kv_batch_add(b, "INCR", "sf:ctr", NULL);
	assert_int_equal(sf_kv_batch_size(b), 3);
	assert_int_equal(sf_kv_exec(kv, b, &reply), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_ARRAY);
	assert_int_equal(reply->n, 3);
	assert_int_equal(reply->elems[0]->type, SF_KV_REPLY_STATUS);
	assert_int_equal(reply->elems[1]->type, SF_KV_REPLY_ERROR);
	assert_int_equal(sf_kv_reply_errno(reply->elems[1]), -EMEDIUMTYPE);
	assert_int_equal(reply->elems[2]->integer, 1);
	sf_kv_reply_free(reply);
	sf_kv_batch_free(b);

	/* A command refused while queueing: nothing runs. */
	b = sf_kv_batch_new();
	sf_kv_batch_add(b, "SET", "sf:k2", "v2", NULL);
	sf_kv_batch_add(b, "NOSUCHCMD", "x", NULL);
	assert_int_equal(sf_kv_exec(kv, b, &reply), -EPROTO);
	assert_int_equal(sf_kv_get(kv, "sf:k2", &v), -ENOENT);
	sf_kv_batch_free(b);
}

static void assert_str_reply(struct sf_kv_reply *reply, const char *want)
{
	assert_int_equal(reply->type, SF_KV_REPLY_STR);
	assert_string_equal(reply->str, want);
	sf_kv_reply_free(reply);
}

/* Kept replies answer the same calls in order, without the server (here: while it is down). */
static void test_prefetch_taken_in_order(void **state)
{
	struct sf_kv *kv = *state;
	struct sf_kv_batch *b = sf_kv_batch_new();
	struct sf_kv_reply *reply;
	char *v;

	assert_int_equal(sf_kv_cmd(kv, NULL, "HSET", "sf:h", "f", "v1", NULL), 0);
	assert_int_equal(sf_kv_set(kv, "sf:k", "v2", 0, 0), 0);
	assert_int_equal(sf_kv_cmd(kv, NULL, "SADD", "sf:set", "m", NULL), 0);
	sf_kv_batch_add(b, "EXISTS", "sf:h", NULL);
	sf_kv_batch_add(b, "HGET", "sf:h", "f", NULL);

	assert_int_equal(sf_kv_prefetch_send(kv), 0); /* nothing queued: nothing to do */
	sf_kv_prefetch_cmd(kv, "HGET", "sf:h", "f", NULL);
	sf_kv_prefetch_exec(kv, b);
	sf_kv_prefetch_cmd(kv, "GET", "sf:k", NULL);
	sf_kv_prefetch_cmd(kv, "GET", "sf:set", NULL); /* WRONGTYPE */
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	assert_int_equal(sf_kv_prefetch_kept(kv), 4);

	sf_kv_fake_set_down(kv, true);
	assert_int_equal(sf_kv_cmd(kv, &reply, "HGET", "sf:h", "f", NULL), 0);
	assert_str_reply(reply, "v1");
	assert_int_equal(sf_kv_exec(kv, b, &reply), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_ARRAY);
	assert_int_equal(reply->n, 2);
	assert_int_equal(reply->elems[0]->integer, 1);
	assert_string_equal(reply->elems[1]->str, "v1");
	sf_kv_reply_free(reply);
	assert_int_equal(sf_kv_get(kv, "sf:k", &v), 0);
	assert_string_equal(v, "v2");
	free(v);
	assert_int_equal(sf_kv_prefetch_kept(kv), 1);
	assert_int_equal(sf_kv_get(kv, "sf:set", &v), -EMEDIUMTYPE); /* as sf_kv_get() says */
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);
	assert_int_equal(sf_kv_get(kv, "sf:k", &v), -ECONNREFUSED); /* each reply once */
	sf_kv_fake_set_down(kv, false);
	sf_kv_batch_free(b);
}

/* The first call that is not the next kept entry drops them all and goes to the server. */
static void test_prefetch_mismatch_drops(void **state)
{
	struct sf_kv *kv = *state;
	struct sf_kv_batch *b = sf_kv_batch_new();
	struct sf_kv_reply *reply;
	char *v;

	assert_int_equal(sf_kv_set(kv, "sf:a", "old", 0, 0), 0);
	assert_int_equal(sf_kv_set(kv, "sf:b", "b", 0, 0), 0);

	/* out of order */
	sf_kv_prefetch_cmd(kv, "GET", "sf:a", NULL);
	sf_kv_prefetch_cmd(kv, "GET", "sf:b", NULL);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	sf_kv_fake_set_down(kv, true);
	assert_int_equal(sf_kv_get(kv, "sf:b", &v), -ECONNREFUSED);
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);
	assert_int_equal(sf_kv_get(kv, "sf:a", &v), -ECONNREFUSED);
	sf_kv_fake_set_down(kv, false);

	/* a write of our own in between: the read after it sees the write */
	sf_kv_prefetch_cmd(kv, "GET", "sf:a", NULL);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	assert_int_equal(sf_kv_set(kv, "sf:a", "new", 0, 0), 0);
	assert_int_equal(sf_kv_get(kv, "sf:a", &v), 0);
	assert_string_equal(v, "new");
	free(v);

	/* same arguments but a command where a transaction was kept, and the reverse */
	sf_kv_batch_add(b, "GET", "sf:a", NULL);
	sf_kv_prefetch_exec(kv, b);
	sf_kv_prefetch_cmd(kv, "GET", "sf:a", NULL);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	assert_int_equal(sf_kv_set(kv, "sf:a", "newer", 0, 0), 0); /* (kept: "new") */
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);
	sf_kv_prefetch_cmd(kv, "GET", "sf:a", NULL);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	assert_int_equal(sf_kv_exec(kv, b, &reply), 0);
	assert_string_equal(reply->elems[0]->str, "newer");
	sf_kv_reply_free(reply);
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);

	/* an error reply is kept like any other (here: arity), then a longer argument list */
	sf_kv_prefetch_cmd(kv, "HGET", "sf:h", NULL);
	sf_kv_prefetch_cmd(kv, "GET", "sf:a", NULL);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	assert_int_equal(sf_kv_cmd(kv, &reply, "HGET", "sf:h", NULL), -EPROTO);
	assert_int_equal(sf_kv_prefetch_kept(kv), 1);
	sf_kv_prefetch_drop(kv);
	sf_kv_prefetch_cmd(kv, "GET", "sf:a", NULL);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	assert_int_equal(sf_kv_cmd(kv, &reply, "GET", "sf:a", "x", NULL), -EPROTO);
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);

	/* queued, never sent: a call drops the queue, and a later send sends nothing */
	sf_kv_prefetch_cmd(kv, "GET", "sf:a", NULL);
	assert_int_equal(sf_kv_get(kv, "sf:b", &v), 0);
	free(v);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);

	/* sf_kv_prefetch_drop() */
	sf_kv_prefetch_cmd(kv, "GET", "sf:a", NULL);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	assert_int_equal(sf_kv_prefetch_kept(kv), 1);
	sf_kv_prefetch_drop(kv);
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);
	sf_kv_batch_free(b);
}

/* A failed send keeps nothing and reports the transport error. */
static void test_prefetch_down(void **state)
{
	struct sf_kv *kv = *state;

	sf_kv_prefetch_cmd(kv, "GET", "sf:a", NULL);
	sf_kv_fake_set_down(kv, true);
	assert_int_equal(sf_kv_prefetch_send(kv), -ECONNREFUSED);
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);
	sf_kv_fake_set_down(kv, false);
	assert_int_equal(sf_kv_cmd(kv, NULL, "GET", "sf:a", NULL), 0);
}

static int incr_by(struct sf_kv *kv, size_t nkeys, const char *const *keys, size_t nargs,
		   const char *const *args, void *userdata, struct sf_kv_reply **ret_reply)
{
	(void)args;
	assert_int_equal(nkeys, 1);
	assert_int_equal(nargs, 1);
	(*(int *)userdata)++;
	return sf_kv_cmd(kv, ret_reply, "INCR", keys[0], NULL);
}

static void test_scripts(void **state)
{
	static const char lua[] = "return redis.call('INCR', KEYS[1])";
	const char *keys[] = {"sf:ctr"}, *args[] = {"1"};
	struct sf_kv *kv = *state;
	struct sf_kv_script *s, *other;
	struct sf_kv_reply *reply;
	int calls = 0;

	/* FIPS 180-2 test vectors: one block, and two blocks after padding. */
	assert_int_equal(sf_kv_script_new("abc", &s), 0);
	assert_string_equal(sf_kv_script_sha(s), "a9993e364706816aba3e25717850c26c9cd0d89d");
	sf_kv_script_free(s);
	assert_int_equal(
		sf_kv_script_new("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", &s),
		0);
	assert_string_equal(sf_kv_script_sha(s), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	sf_kv_script_free(s);
	assert_int_equal(sf_kv_script_new("", &s), -EINVAL);

	assert_int_equal(sf_kv_script_new(lua, &s), 0);
	assert_string_equal(sf_kv_script_lua(s), lua);
	assert_int_equal(sf_kv_script_run(kv, s, 1, keys, 1, args, &reply), -EOPNOTSUPP);
	assert_int_equal(sf_kv_fake_script_register(kv, lua, incr_by, &calls), 0);
	assert_int_equal(sf_kv_script_run(kv, s, 1, keys, 1, args, &reply), 0);
	assert_int_equal(reply->integer, 1);
	sf_kv_reply_free(reply);
	assert_int_equal(calls, 1);
	assert_int_equal(sf_kv_script_new("return 1", &other), 0);
	assert_int_equal(sf_kv_script_run(kv, other, 0, NULL, 0, NULL, &reply), -EOPNOTSUPP);
	sf_kv_script_free(other);
	sf_kv_script_free(s);
}

static void test_down(void **state)
{
	struct sf_kv *kv = *state;
	struct sf_kv_batch *b = sf_kv_batch_new();
	struct sf_kv_script *s;
	struct sf_kv_reply *reply;
	char *v;

	sf_kv_batch_add(b, "PING", NULL);
	assert_int_equal(sf_kv_script_new("return 1", &s), 0);
	assert_int_equal(sf_kv_set(kv, "sf:keep", "v", 0, 0), 0);
	sf_kv_fake_set_down(kv, true);
	assert_int_equal(sf_kv_get(kv, "sf:keep", &v), -ECONNREFUSED);
	assert_int_equal(sf_kv_ping(kv), -ECONNREFUSED);
	assert_int_equal(sf_kv_exec(kv, b, &reply), -ECONNREFUSED);
	assert_int_equal(sf_kv_script_run(kv, s, 0, NULL, 0, NULL, &reply), -ECONNREFUSED);
	assert_int_equal(sf_kv_wait_ready(kv, 1000), -ETIMEDOUT);
	sf_kv_fake_set_down(kv, false);
	assert_int_equal(sf_kv_wait_ready(kv, 1000), 0);
	assert_int_equal(sf_kv_get(kv, "sf:keep", &v), 0);
	assert_string_equal(v, "v");
	free(v);
	sf_kv_script_free(s);
	sf_kv_batch_free(b);
}

static void test_redis_url(void **state)
{
	static const char *const bad[] = {
		NULL,
		"",
		"http://127.0.0.1:6379",
		"redis://",
		"redis://:6379",
		"redis://host:0",
		"redis://host:65536",
		"redis://host:port",
		"redis://host:6379/x",
		"redis://host:6379/-1",
		"redis://a:b:c",
		"redis://[::1",
		"redis://[]:6379",
		"redis://pass@host:6379", /* userinfo needs a ':' */
		"redis://:@host:6379",
		"unix://",
		"unix://relative/path",
	};
	static const char *const good[] = {
		"redis://127.0.0.1:6379/0",
		"redis://localhost",
		"redis://:secret@127.0.0.1:6379/2",
		"redis://user:secret@127.0.0.1",
		"redis://[::1]:6380/",
		"unix:///run/redis/redis.sock",
	};
	struct sf_kv_options opt = {.backoff_base_ms = 500, .backoff_cap_ms = 100};
	struct sf_kv *kv = (void *)1;

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(bad); i++) {
		assert_int_equal(sf_kv_redis_new(bad[i], NULL, &kv), -EINVAL);
		assert_ptr_equal(kv, (void *)1); /* untouched on failure */
	}
	for (size_t i = 0; i < SF_ARRAY_SIZE(good); i++) {
		kv = NULL;
		assert_int_equal(sf_kv_redis_new(good[i], NULL, &kv), 0);
		assert_string_equal(sf_kv_prefix(kv), "sf:");
		sf_kv_free(kv);
	}
	assert_int_equal(sf_kv_redis_new(good[0], &opt, &kv), -EINVAL); /* cap below base */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scripts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_taken_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_mismatch_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down, setup, teardown),
		cmocka_unit_test(test_redis_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
