/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An in-memory sf_kv for unit tests: no socket, no server. It speaks enough Redis for sf-net:
 * PING; keys (DEL, EXISTS, EXPIRE key seconds, TTL); strings (GET, SET [EX s|PX ms] [NX|XX],
 * INCR); hashes (HSET, HGET, HDEL, HGETALL, HLEN); sets (SADD, SREM, SMEMBERS, SISMEMBER,
 * SCARD); sorted sets (ZADD [NX|XX], ZREM, ZCARD, ZSCORE, ZRANGE and ZREVRANGE without
 * WITHSCORES, ZREMRANGEBYRANK, ZREMRANGEBYSCORE); and MULTI/EXEC of those through sf_kv_exec(). Replies, error replies (WRONGTYPE, unknown command, wrong arity) and the
 * all-or-nothing rule for commands refused while queueing follow Redis. Arguments are checked
 * against an arity table before any command runs. Data lives in linear lists.
 *
 * Lua is not interpreted: sf_kv_script_run() fails with -EOPNOTSUPP unless the test registered
 * a C function for that script's text.
 */
#ifndef SF_KV_FAKE_H
#define SF_KV_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf/kv.h"

/* prefix NULL means "sf:", as for the real store. Free with sf_kv_free(). */
struct sf_kv *sf_kv_fake_new(const char *prefix);

/* Simulate the server being down: every call fails with -ECONNREFUSED (and sf_kv_wait_ready
 * with -ETIMEDOUT, at once) until switched back. Data is kept, as with AOF. */
void sf_kv_fake_set_down(struct sf_kv *kv, bool down);

/* Move the fake's clock forward, so that keys with a TTL (SET EX/PX, EXPIRE) expire without
 * sleeping. */
void sf_kv_fake_advance_ms(struct sf_kv *kv, uint64_t ms);

/* Number of keys (expired ones not counted). */
size_t sf_kv_fake_nkeys(struct sf_kv *kv);

/* Stand-in for a Lua script: called by sf_kv_script_run() for a script whose text is lua, with
 * the same kv (to run commands) and the script's KEYS and ARGV. It returns 0 and a reply (an
 * error reply is allowed) or -errno. */
int sf_kv_fake_script_register(struct sf_kv *kv, const char *lua,
			       int (*fn)(struct sf_kv *kv, size_t nkeys, const char *const *keys,
					 size_t nargs, const char *const *args, void *userdata,
					 struct sf_kv_reply **ret_reply),
			       void *userdata);

#endif
