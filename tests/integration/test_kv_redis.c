// SPDX-License-Identifier: Apache-2.0
/*
 * kv_redis against a real redis-server. The server comes from SF_REDIS_URL (`ops/services.sh
 * start redis`, then `eval $(ops/services.sh env)`); without it the test exits 77 (skipped).
 * Keys live under a prefix unique to the run and are deleted at the end. The last test stops
 * and restarts the server with ops/services.sh (SF_SERVICES_SH overrides its path).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../fakes/testutil.h"
#include "sf/kv.h"
#include "sf/util.h"

static const char *redis_url;
static char prefix[64];
static struct sf_kv *kv;
static bool redis_stopped;

static int group_setup(void **state)
{
	struct sf_kv_options opt = {.prefix = prefix};

	(void)state;
	sf_test_unique(prefix, sizeof(prefix), "sftest:", ":");
	if (sf_kv_redis_new(redis_url, &opt, &kv) < 0)
		return -1;
	return sf_kv_wait_ready(kv, 10000) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sf_test_kv_delete_prefix(kv, prefix);
	sf_kv_free(kv);
	return 0;
}

static long long int_cmd(const char *cmd, const char *a1, const char *a2)
{
	struct sf_kv_reply *reply;
	long long v;

	assert_int_equal(sf_kv_cmd(kv, &reply, cmd, a1, a2, NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_INT);
	v = reply->integer;
	sf_kv_reply_free(reply);
	return v;
}

static void test_set_get_del(void **state)
{
	char *key = sf_kv_key(kv, "str"), *v;

	(void)state;
	assert_true(sf_str_startswith(key, prefix));
	assert_int_equal(sf_kv_get(kv, key, &v), -ENOENT);
	assert_int_equal(sf_kv_set(kv, key, "hello", 0, 0), 0);
	assert_int_equal(sf_kv_set(kv, key, "other", 0, SF_KV_SET_NX), -EEXIST);
	assert_int_equal(sf_kv_get(kv, key, &v), 0);
	assert_string_equal(v, "hello");
	free(v);
	assert_int_equal(sf_kv_del(kv, key), 1);
	assert_int_equal(sf_kv_del(kv, key), 0);
	assert_int_equal(sf_kv_get(kv, key, &v), -ENOENT);

	assert_int_equal(sf_kv_set(kv, key, "expiring", 60, SF_KV_SET_NX), 0);
	assert_in_range(int_cmd("TTL", key, NULL), 1, 60);
	free(key);
}

static void test_binary_values(void **state)
{
	static const char val[] = {'a', '\0', 'b', '\r', '\n', (char)0xff, '\0', '$', '*'};
	char *key = sf_kv_key(kv, "bin");
	const char *argv[] = {"SET", key, val};
	size_t lens[] = {3, strlen(key), sizeof(val)};
	struct sf_kv_reply *reply;

	(void)state;
	assert_int_equal(sf_kv_command(kv, 3, argv, lens, &reply), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_STATUS);
	assert_string_equal(reply->str, "OK");
	sf_kv_reply_free(reply);
	assert_int_equal(int_cmd("STRLEN", key, NULL), sizeof(val));
	assert_int_equal(sf_kv_cmd(kv, &reply, "GET", key, NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_STR);
	assert_int_equal(reply->len, sizeof(val));
	assert_memory_equal(reply->str, val, sizeof(val));
	sf_kv_reply_free(reply);
	free(key);
}

static void test_hashes_and_sets(void **state)
{
	char *h = sf_kv_key(kv, "hash"), *s = sf_kv_key(kv, "set");
	struct sf_kv_reply *reply;

	(void)state;
	assert_int_equal(sf_kv_cmd(kv, &reply, "HSET", h, "f1", "v1", "f2", "v2", NULL), 0);
	assert_int_equal(reply->integer, 2);
	sf_kv_reply_free(reply);
	assert_int_equal(sf_kv_cmd(kv, &reply, "HGET", h, "f2", NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_STR);
	assert_string_equal(reply->str, "v2");
	sf_kv_reply_free(reply);
	assert_int_equal(sf_kv_cmd(kv, &reply, "HGETALL", h, NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_ARRAY);
	assert_int_equal(reply->n, 4);
	sf_kv_reply_free(reply);
	assert_int_equal(int_cmd("HDEL", h, "f1"), 1);
	assert_int_equal(int_cmd("HLEN", h, NULL), 1);

	assert_int_equal(sf_kv_cmd(kv, &reply, "SADD", s, "a", "b", "a", NULL), 0);
	assert_int_equal(reply->integer, 2);
	sf_kv_reply_free(reply);
	assert_int_equal(int_cmd("SISMEMBER", s, "a"), 1);
	assert_int_equal(int_cmd("SISMEMBER", s, "c"), 0);
	assert_int_equal(sf_kv_cmd(kv, &reply, "SMEMBERS", s, NULL), 0);
	assert_int_equal(reply->n, 2);
	sf_kv_reply_free(reply);
	assert_int_equal(int_cmd("SREM", s, "a"), 1);
	assert_int_equal(int_cmd("SCARD", s, NULL), 1);
	free(h);
	free(s);
}

static void test_exec(void **state)
{
	char *k = sf_kv_key(kv, "tx:k"), *idx = sf_kv_key(kv, "tx:idx"),
	     *ctr = sf_kv_key(kv, "tx:ctr");
	char *k2 = sf_kv_key(kv, "tx:k2"), *v;
	struct sf_kv_batch *b = sf_kv_batch_new();
	struct sf_kv_reply *reply;

	(void)state;
	sf_kv_batch_add(b, "SET", k, "v", NULL);
	sf_kv_batch_add(b, "SADD", idx, "k", NULL);
	sf_kv_batch_add(b, "INCR", ctr, NULL);
	sf_kv_batch_add(b, "INCR", ctr, NULL);
	sf_kv_batch_add(b, "GET", ctr, NULL);
	assert_int_equal(sf_kv_exec(kv, b, &reply), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_ARRAY);
	assert_int_equal(reply->n, 5);
	assert_string_equal(reply->elems[0]->str, "OK");
	assert_int_equal(reply->elems[1]->integer, 1);
	assert_int_equal(reply->elems[2]->integer, 1);
	assert_int_equal(reply->elems[3]->integer, 2);
	assert_string_equal(reply->elems[4]->str, "2");
	sf_kv_reply_free(reply);
	sf_kv_batch_free(b);

	/* All or nothing: a command the server refuses to queue discards the transaction, so
	 * the SET before it must not have happened. */
	b = sf_kv_batch_new();
	sf_kv_batch_add(b, "SET", k2, "v2", NULL);
	sf_kv_batch_add(b, "INCR", ctr, NULL);
	sf_kv_batch_add(b, "GET", NULL); /* wrong arity */
	assert_int_equal(sf_kv_exec(kv, b, &reply), -EPROTO);
	assert_int_equal(sf_kv_get(kv, k2, &v), -ENOENT);
	assert_int_equal(sf_kv_get(kv, ctr, &v), 0);
	assert_string_equal(v, "2");
	free(v);
	sf_kv_batch_free(b);
	assert_int_equal(sf_kv_ping(kv), 0); /* the connection is in step after EXECABORT */
	free(k);
	free(k2);
	free(idx);
	free(ctr);
}

static void test_wrongtype(void **state)
{
	char *s = sf_kv_key(kv, "wt:str"), *v;
	struct sf_kv_batch *b = sf_kv_batch_new();
	struct sf_kv_reply *reply;

	(void)state;
	assert_int_equal(sf_kv_set(kv, s, "x", 0, 0), 0);
	assert_int_equal(sf_kv_cmd(kv, &reply, "SADD", s, "m", NULL), -EMEDIUMTYPE);
	assert_int_equal(sf_kv_cmd(kv, NULL, "HGET", s, "f", NULL), -EMEDIUMTYPE);
	assert_int_equal(sf_kv_cmd(kv, NULL, "NOSUCHCOMMAND", s, NULL), -EPROTO);

	/* Inside a transaction the error is one element; the other commands ran. */
	sf_kv_batch_add(b, "SADD", s, "m", NULL);
	sf_kv_batch_add(b, "SET", s, "y", NULL);
	assert_int_equal(sf_kv_exec(kv, b, &reply), 0);
	assert_int_equal(reply->n, 2);
	assert_int_equal(reply->elems[0]->type, SF_KV_REPLY_ERROR);
	assert_true(sf_str_startswith(reply->elems[0]->str, "WRONGTYPE"));
	assert_int_equal(sf_kv_reply_errno(reply->elems[0]), -EMEDIUMTYPE);
	assert_int_equal(reply->elems[1]->type, SF_KV_REPLY_STATUS);
	sf_kv_reply_free(reply);
	sf_kv_batch_free(b);
	assert_int_equal(sf_kv_get(kv, s, &v), 0);
	assert_string_equal(v, "y");
	free(v);
	free(s);
}

static const char incr_lua[] = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

static long long script_exists(const struct sf_kv_script *s)
{
	struct sf_kv_reply *reply;
	long long v;

	assert_int_equal(sf_kv_cmd(kv, &reply, "SCRIPT", "EXISTS", sf_kv_script_sha(s), NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_ARRAY);
	assert_int_equal(reply->n, 1);
	v = reply->elems[0]->integer;
	sf_kv_reply_free(reply);
	return v;
}

static void test_script_evalsha(void **state)
{
	char *key = sf_kv_key(kv, "lua:ctr"), *hash = sf_kv_key(kv, "lua:hash");
	const char *keys[] = {key}, *args[] = {"5"};
	struct sf_kv_script *s;
	struct sf_kv_reply *reply;

	(void)state;
	assert_int_equal(sf_kv_script_new(incr_lua, &s), 0);
	/* The server names the script with the SHA1 we computed. */
	assert_int_equal(sf_kv_cmd(kv, &reply, "SCRIPT", "LOAD", incr_lua, NULL), 0);
	assert_string_equal(reply->str, sf_kv_script_sha(s));
	sf_kv_reply_free(reply);

	assert_int_equal(sf_kv_script_run(kv, s, 1, keys, 1, args, &reply), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_INT);
	assert_int_equal(reply->integer, 5);
	sf_kv_reply_free(reply);
	assert_int_equal(sf_kv_script_run(kv, s, 1, keys, 1, args, &reply), 0);
	assert_int_equal(reply->integer, 10);
	sf_kv_reply_free(reply);

	/* A script error is -EPROTO; a WRONGTYPE raised inside the script keeps its code. */
	args[0] = "not-a-number";
	assert_int_equal(sf_kv_script_run(kv, s, 1, keys, 1, args, &reply), -EPROTO);
	args[0] = "1";
	keys[0] = hash;
	assert_int_equal(sf_kv_cmd(kv, NULL, "HSET", hash, "f", "v", NULL), 0);
	assert_int_equal(sf_kv_script_run(kv, s, 1, keys, 1, args, &reply), -EMEDIUMTYPE);
	sf_kv_script_free(s);
	free(key);
	free(hash);
}

static void test_script_noscript_recovery(void **state)
{
	char *key = sf_kv_key(kv, "lua:ctr2");
	const char *keys[] = {key}, *args[] = {"2"};
	struct sf_kv_script *s;
	struct sf_kv_reply *reply;

	(void)state;
	assert_int_equal(sf_kv_script_new(incr_lua, &s), 0);
	assert_int_equal(sf_kv_script_run(kv, s, 1, keys, 1, args, &reply), 0);
	sf_kv_reply_free(reply);
	assert_int_equal(script_exists(s), 1);

	assert_int_equal(sf_kv_cmd(kv, NULL, "SCRIPT", "FLUSH", NULL), 0);
	assert_int_equal(script_exists(s), 0);
	/* EVALSHA answers NOSCRIPT; the run falls back to EVAL, which caches it again. */
	assert_int_equal(sf_kv_script_run(kv, s, 1, keys, 1, args, &reply), 0);
	assert_int_equal(reply->integer, 4);
	sf_kv_reply_free(reply);
	assert_int_equal(script_exists(s), 1);
	sf_kv_script_free(s);
	free(key);
}

static void test_command_timeout(void **state)
{
	struct sf_kv_options opt = {.prefix = prefix, .command_timeout_ms = 300};
	struct sf_kv *slow;
	char *key = sf_kv_key(kv, "never-pushed");
	uint64_t t0, elapsed;

	(void)state;
	assert_int_equal(sf_kv_redis_new(redis_url, &opt, &slow), 0);
	assert_int_equal(sf_kv_ping(slow), 0);
	t0 = sf_now_monotonic_ms();
	assert_int_equal(sf_kv_cmd(slow, NULL, "BLPOP", key, "3", NULL), -ETIMEDOUT);
	elapsed = sf_now_monotonic_ms() - t0;
	assert_in_range(elapsed, 250, 1500);
	assert_int_equal(sf_kv_ping(slow), 0); /* reconnected */
	sf_kv_free(slow);
	free(key);
}

/* A loopback port nothing listens on (free a moment ago). */
static int closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void test_unreachable(void **state)
{
	struct sf_kv_options opt = {.backoff_base_ms = 1000, .backoff_cap_ms = 1000};
	struct sf_kv *down;
	uint64_t t0, elapsed;
	char url[64], *v;

	(void)state;
	(void)snprintf(url, sizeof(url), "redis://127.0.0.1:%d", closed_port());
	assert_int_equal(sf_kv_redis_new(url, &opt, &down), 0);
	assert_int_equal(sf_kv_get(down, "k", &v), -ECONNREFUSED);
	/* Backing off: the next call fails at once, without a connection attempt. */
	t0 = sf_now_monotonic_ms();
	assert_int_equal(sf_kv_ping(down), -ECONNREFUSED);
	assert_true(sf_now_monotonic_ms() - t0 < 50);
	t0 = sf_now_monotonic_ms();
	assert_int_equal(sf_kv_wait_ready(down, 400), -ETIMEDOUT);
	elapsed = sf_now_monotonic_ms() - t0;
	assert_in_range(elapsed, 400, 1500);
	sf_kv_free(down);
}

/* Prefetch through the pipeline: every reply is read at send time (a write by another
 * connection afterwards is not seen), handed out in order, and the stream stays in step
 * through error replies and a transaction refused while queueing. */
static void test_prefetch_pipeline(void **state)
{
	struct sf_kv_options opt = {.prefix = prefix};
	char *k = sf_kv_key(kv, "pf:k"), *set = sf_kv_key(kv, "pf:set"),
	     *ctr = sf_kv_key(kv, "pf:ctr"), *tx = sf_kv_key(kv, "pf:tx"), *v;
	struct sf_kv_batch *bad = sf_kv_batch_new(), *good = sf_kv_batch_new();
	struct sf_kv_reply *reply;
	struct sf_kv *other, *down;
	char url[64];

	(void)state;
	assert_int_equal(sf_kv_redis_new(redis_url, &opt, &other), 0);
	assert_int_equal(sf_kv_set(kv, k, "old", 0, 0), 0);
	assert_int_equal(sf_kv_cmd(kv, NULL, "SADD", set, "m", NULL), 0);
	sf_kv_batch_add(bad, "SET", tx, "v", NULL);
	sf_kv_batch_add(bad, "NOSUCHCMD", tx, NULL);
	sf_kv_batch_add(good, "INCR", ctr, NULL);
	sf_kv_batch_add(good, "GET", k, NULL);

	sf_kv_prefetch_cmd(kv, "GET", k, NULL);
	sf_kv_prefetch_exec(kv, bad);
	sf_kv_prefetch_exec(kv, good);
	sf_kv_prefetch_cmd(kv, "HGET", set, "f", NULL);
	assert_int_equal(sf_kv_prefetch_send(kv), 0);
	assert_int_equal(sf_kv_prefetch_kept(kv), 4);
	assert_int_equal(sf_kv_set(other, k, "new", 0, 0), 0);

	assert_int_equal(sf_kv_get(kv, k, &v), 0);
	assert_string_equal(v, "old");
	free(v);
	assert_int_equal(sf_kv_exec(kv, bad, &reply), -EPROTO); /* EXECABORT: nothing ran */
	assert_int_equal(sf_kv_exec(kv, good, &reply), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_ARRAY);
	assert_int_equal(reply->n, 2);
	assert_int_equal(reply->elems[0]->integer, 1);
	assert_string_equal(reply->elems[1]->str, "old");
	sf_kv_reply_free(reply);
	assert_int_equal(sf_kv_cmd(kv, NULL, "HGET", set, "f", NULL), -EMEDIUMTYPE);
	assert_int_equal(sf_kv_prefetch_kept(kv), 0);

	/* from the server again, in step */
	assert_int_equal(sf_kv_get(kv, tx, &v), -ENOENT);
	assert_int_equal(sf_kv_get(kv, k, &v), 0);
	assert_string_equal(v, "new");
	free(v);
	assert_int_equal(sf_kv_get(kv, ctr, &v), 0); /* the transaction ran once */
	assert_string_equal(v, "1");
	free(v);

	/* a server that is not there: the transport error, nothing kept */
	(void)snprintf(url, sizeof(url), "redis://127.0.0.1:%d", closed_port());
	assert_int_equal(sf_kv_redis_new(url, NULL, &down), 0);
	sf_kv_prefetch_cmd(down, "GET", "k", NULL);
	assert_int_equal(sf_kv_prefetch_send(down), -ECONNREFUSED);
	assert_int_equal(sf_kv_prefetch_kept(down), 0);

	sf_kv_free(down);
	sf_kv_free(other);
	sf_kv_batch_free(bad);
	sf_kv_batch_free(good);
	free(k);
	free(set);
	free(ctr);
	free(tx);
}

/* ops/services.sh VERB redis, for the server of SF_REDIS_URL. */
static int services(const char *verb)
{
	return sf_test_services(verb, "redis", "SF_REDIS_PORT", redis_url);
}

static int restart_teardown(void **state)
{
	(void)state;
	if (redis_stopped && services("start") == 0)
		redis_stopped = false;
	return 0;
}

/* Last: stops the server. */
static void test_server_restart(void **state)
{
	struct sf_kv_options opt = {.prefix = prefix, .backoff_base_ms = 50, .backoff_cap_ms = 200};
	struct sf_kv *r_kv;
	char *key, *v;
	int r;

	(void)state;
	if (!sf_str_startswith(redis_url, "redis://127.0.0.1:") &&
	    !sf_str_startswith(redis_url, "redis://localhost:"))
		skip(); /* not ours to restart */
	key = sf_kv_key(kv, "survives-restart");
	assert_int_equal(sf_kv_redis_new(redis_url, &opt, &r_kv), 0);
	assert_int_equal(sf_kv_set(r_kv, key, "before", 0, 0), 0);

	redis_stopped = true;
	assert_int_equal(services("stop"), 0);
	/* The open connection sees EOF; a new one is refused. Neither crashes nor hangs. */
	r = sf_kv_get(r_kv, key, &v);
	assert_true(r == -ECONNRESET || r == -ECONNREFUSED);
	assert_int_equal(sf_kv_ping(r_kv), -ECONNREFUSED);
	assert_int_equal(sf_kv_ping(r_kv), -ECONNREFUSED);

	assert_int_equal(services("start"), 0);
	redis_stopped = false;
	(void)sf_sleep_ms(300); /* past the backoff cap (200 ms + 25% jitter) */
	assert_int_equal(sf_kv_get(r_kv, key, &v), 0);
	assert_string_equal(v, "before"); /* AOF */
	free(v);
	assert_int_equal(sf_kv_wait_ready(kv, 5000), 0); /* the other handle reconnects too */
	sf_kv_free(r_kv);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_get_del),
		cmocka_unit_test(test_binary_values),
		cmocka_unit_test(test_hashes_and_sets),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_wrongtype),
		cmocka_unit_test(test_script_evalsha),
		cmocka_unit_test(test_script_noscript_recovery),
		cmocka_unit_test(test_command_timeout),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_prefetch_pipeline),
		cmocka_unit_test_teardown(test_server_restart, restart_teardown),
	};

	redis_url = getenv("SF_REDIS_URL");
	if (!redis_url || !*redis_url) {
		(void)fprintf(stderr, "SF_REDIS_URL is not set; skipping\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
