/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv: the Redis store, behind a small class of function pointers (OVS netdev_class) with a real
 * implementation (kv_redis.c, hiredis 0.14 sync API) and a fake (tests/fakes/kv_fake.c); what
 * they share (handles, replies, batches, scripts) is kv.c.
 *
 * Keys and the prefix. Every key sf-net writes starts with a configurable prefix (default "sf:").
 * The prefix is applied in exactly one place: sf_kv_key(). Every other function, including
 * sf_kv_get/set/del, sf_kv_command, batches and script KEYS, takes full key names and sends them
 * as they are, so what a caller passes is what Redis sees:
 *
 *	char *key = sf_kv_key(kv, "network:%s", uuid);          "sf:network:<uuid>"
 *	r = sf_kv_set(kv, key, json, 0, 0);
 *	free(key);
 *
 * Errors are -errno. A transport failure is -ECONNREFUSED (server down), -ECONNRESET (connection
 * lost or EOF), -ETIMEDOUT (no answer within the command timeout) or -EPROTO. A Redis error reply
 * to a whole command ("-ERR ...") is not handed back as a reply: the call fails with the -errno of
 * sf_kv_reply_errno() (-EMEDIUMTYPE for WRONGTYPE, -EPROTO for ERR and unknown codes; the text
 * is logged at debug). Inside the reply of sf_kv_exec(), one failed command of the transaction
 * is an element of type SF_KV_REPLY_ERROR, because Redis runs the others anyway.
 *
 * Connection. The real store connects lazily. When the connection is lost, the context is
 * dropped and the next call reconnects; failed connection attempts back off exponentially
 * (sf_backoff_ms), and a call made before the next attempt is due fails at once with the last
 * error. Nothing is retried behind the caller's back: the caller decides whether to retry.
 * sf_kv_redis_new() ignores SIGPIPE if its disposition is the default, since hiredis write()s
 * to the socket and a server that goes away would otherwise kill the process.
 *
 * Threads: an sf_kv is one connection and is not locked; use one per thread.
 */
#ifndef SF_KV_H
#define SF_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf/util.h"

#define SF_KV_SENTINEL __attribute__((sentinel))

struct sf_kv;	     /* a class and its context */
struct sf_kv_batch;  /* commands for one MULTI/EXEC */
struct sf_kv_script; /* a Lua script and its SHA1 */

/* ---- replies: an owned tree of our own type; hiredis' redisReply never leaves kv_redis.c ---- */

enum sf_kv_reply_type {
	SF_KV_REPLY_NIL,
	SF_KV_REPLY_INT,
	SF_KV_REPLY_STR,    /* bulk string: str/len, binary-safe */
	SF_KV_REPLY_ARRAY,  /* n elems, each an owned reply */
	SF_KV_REPLY_STATUS, /* "+OK": str/len */
	SF_KV_REPLY_ERROR,  /* "-WRONGTYPE ...": str/len without the '-' */
	_SF_KV_REPLY_TYPE_MAX,
};

struct sf_kv_reply {
	enum sf_kv_reply_type type;
	long long integer; /* SF_KV_REPLY_INT */
	char *str;	   /* STR, STATUS, ERROR: always NUL-terminated after len bytes */
	size_t len;
	size_t n; /* ARRAY */
	struct sf_kv_reply **elems;
};

const char *sf_kv_reply_type_to_string(enum sf_kv_reply_type t);
void sf_kv_reply_free(struct sf_kv_reply *reply); /* frees the whole tree; NULL is fine */
/* 0 unless reply is an error reply; then by its code: WRONGTYPE -EMEDIUMTYPE, NOSCRIPT -ENOENT,
 * OOM -ENOMEM, READONLY -EROFS, LOADING/BUSY/MASTERDOWN/TRYAGAIN -EAGAIN, NOAUTH/WRONGPASS/NOPERM
 * -EACCES, anything else (ERR, EXECABORT, errors raised by scripts) -EPROTO. */
int sf_kv_reply_errno(const struct sf_kv_reply *reply);

/* ---- the Redis store ---- */

struct sf_kv_options {
	unsigned connect_timeout_ms; /* 0: 2000 */
	unsigned command_timeout_ms; /* 0: 5000; longest wait on the socket, then -ETIMEDOUT */
	const char *prefix;	     /* NULL: "sf:"; "" means no prefix */
	unsigned backoff_base_ms;    /* 0: 100; first delay between failed connection attempts */
	unsigned backoff_cap_ms;     /* 0: 5000 */
};

/*
 * url: redis://[[user]:password@]host[:port][/db] (port 6379, db 0 by default; an IPv6 host in
 * brackets) or unix:///path/to/socket. Does not connect: a bad URL or option is -EINVAL at once.
 * opt may be NULL for the defaults.
 */
int sf_kv_redis_new(const char *url, const struct sf_kv_options *opt, struct sf_kv **ret_kv);
void sf_kv_free(struct sf_kv *kv);

const char *sf_kv_prefix(const struct sf_kv *kv);
/* Allocated prefix + formatted key, e.g. "sf:network:<uuid>". */
char *sf_kv_key(const struct sf_kv *kv, const char *fmt, ...) SF_PRINTF(2, 3);

/* Retry PING, sleeping with backoff between attempts, until the server answers (0) or
 * timeout_ms passed (-ETIMEDOUT; one last attempt may add up to the connect timeout).
 * Logs "redis at host:port unreachable, retrying" at warning, at most once per 10 s. */
int sf_kv_wait_ready(struct sf_kv *kv, uint64_t timeout_ms);
int sf_kv_ping(struct sf_kv *kv);

/* One command as a vector of binary-safe arguments; argvlen NULL means strlen() of each.
 * ret_reply may be NULL to discard the reply. */
int sf_kv_command(struct sf_kv *kv, int argc, const char *const *argv, const size_t *argvlen,
		  struct sf_kv_reply **ret_reply);
/* The same with C strings: sf_kv_cmd(kv, &reply, "HSET", key, field, value, NULL). */
int sf_kv_cmd(struct sf_kv *kv, struct sf_kv_reply **ret_reply, const char *cmd,
	      ...) SF_KV_SENTINEL;

/* Strings. sf_kv_get: -ENOENT when the key does not exist; ret_value is NUL-terminated (use
 * sf_kv_command for values with NUL bytes). sf_kv_set: ttl_s 0 means no expiry; with
 * SF_KV_SET_NX it fails with -EEXIST when the key exists. sf_kv_del returns how many keys it
 * deleted (0 or 1). */
enum {
	SF_KV_SET_NX = 1 << 0,
};
int sf_kv_get(struct sf_kv *kv, const char *key, char **ret_value);
int sf_kv_set(struct sf_kv *kv, const char *key, const char *value, unsigned ttl_s, unsigned flags);
int sf_kv_del(struct sf_kv *kv, const char *key);

/* ---- MULTI/EXEC ---- */

/* A batch copies its arguments. sf_kv_exec() sends MULTI, the commands and EXEC on one
 * connection; ret_reply is the EXEC reply, an array with one reply per command. If Redis
 * refuses to queue a command (unknown, wrong arity) nothing runs and the call fails. */
struct sf_kv_batch *sf_kv_batch_new(void);
void sf_kv_batch_free(struct sf_kv_batch *b);
void sf_kv_batch_add(struct sf_kv_batch *b, const char *cmd, ...) SF_KV_SENTINEL;
void sf_kv_batch_addv(struct sf_kv_batch *b, int argc, const char *const *argv,
		      const size_t *argvlen);
size_t sf_kv_batch_size(const struct sf_kv_batch *b);
int sf_kv_exec(struct sf_kv *kv, const struct sf_kv_batch *b, struct sf_kv_reply **ret_reply);

/* ---- prefetch: reads sent ahead, in one round trip ---- */

/*
 * A caller that knows which reads are coming (sf-api: the token check's and its handler's) can
 * queue them, send them all in one round trip (a pipeline, not a transaction: each command or
 * MULTI/EXEC runs as it would alone), and have the later calls answered from the replies:
 *
 *	sf_kv_prefetch_cmd(kv, "HGET", keys, name, NULL);
 *	sf_kv_prefetch_exec(kv, batch);               copied; as sf_kv_exec(kv, batch) sends it
 *	r = sf_kv_prefetch_send(kv);                  one round trip
 *	... sf_kv_cmd(kv, &reply, "HGET", keys, name, NULL) takes the first kept reply,
 *	    sf_kv_exec(kv, batch, &reply) the second, with sf_kv_cmd()'s and sf_kv_exec()'s
 *	    results as if the command had been sent then ...
 *	sf_kv_prefetch_drop(kv);                      what was not asked for
 *
 * Kept replies are handed out strictly in order, each once. The first sf_kv_command,
 * sf_kv_exec or sf_kv_script_run on the handle that is not exactly the next kept entry (same
 * arguments, byte for byte) drops every kept reply and goes to the server: so a reply is never
 * used after the handle sent anything else, a write of the caller's own included, and a wrong
 * guess costs only the wasted reads. sf_kv_prefetch_send() fails with the transport error (the
 * connection is dropped, nothing is kept); error replies of single commands are kept and turn
 * into -errno when taken, as sf_kv_cmd() would return them.
 */
void sf_kv_prefetch_cmd(struct sf_kv *kv, const char *cmd, ...) SF_KV_SENTINEL;
void sf_kv_prefetch_exec(struct sf_kv *kv, const struct sf_kv_batch *b);
int sf_kv_prefetch_send(struct sf_kv *kv);
/* Forget the queued and the kept entries. */
void sf_kv_prefetch_drop(struct sf_kv *kv);
/* How many kept replies are not taken yet. */
size_t sf_kv_prefetch_kept(const struct sf_kv *kv);

/* ---- Lua ---- */

/* Keep the script and compute its SHA1; does not talk to the server, so it works before Redis
 * is up. sf_kv_script_run() sends EVALSHA and, when the server does not know the script
 * (NOSCRIPT: after a restart or SCRIPT FLUSH), EVAL, which caches it again. */
int sf_kv_script_new(const char *lua, struct sf_kv_script **ret_script);
void sf_kv_script_free(struct sf_kv_script *s);
const char *sf_kv_script_sha(const struct sf_kv_script *s); /* 40 hex digits */
const char *sf_kv_script_lua(const struct sf_kv_script *s);
int sf_kv_script_run(struct sf_kv *kv, const struct sf_kv_script *s, size_t nkeys,
		     const char *const *keys, size_t nargs, const char *const *args,
		     struct sf_kv_reply **ret_reply);

/* ---- for implementations (kv_redis.c, tests/fakes/kv_fake.c) ---- */

struct sf_kv_argv {
	int argc;
	const char *const *argv;
	const size_t *argvlen; /* never NULL here */
};

/* One element of a pipeline: a command (n == 1, !exec) or a transaction of n commands. */
struct sf_kv_pipe_item {
	const struct sf_kv_argv *cmds;
	size_t n;
	bool exec;
};

/* Replies of whole commands may be error replies; the generic layer turns those into -errno. */
struct sf_kv_class {
	const char *name;
	int (*command)(void *ctx, const struct sf_kv_argv *cmd, struct sf_kv_reply **ret_reply);
	/* ret_reply: the EXEC array, or an error reply if the transaction did not run */
	int (*exec)(void *ctx, const struct sf_kv_argv *cmds, size_t n,
		    struct sf_kv_reply **ret_reply);
	/* Optional: the items in one round trip; ret_replies[i] is what command or exec would
	 * have returned for item i. ret_replies comes filled with NULL, and is left so on
	 * failure. NULL: the generic layer runs the items one by one. */
	int (*pipeline)(void *ctx, const struct sf_kv_pipe_item *items, size_t n,
			struct sf_kv_reply **ret_replies);
	int (*script_run)(void *ctx, const struct sf_kv_script *s, size_t nkeys,
			  const char *const *keys, size_t nargs, const char *const *args,
			  struct sf_kv_reply **ret_reply);
	int (*wait_ready)(void *ctx, uint64_t timeout_ms);
	void (*free)(void *ctx);
};

/* Takes ownership of ctx (freed with cls->free). prefix NULL means "sf:". */
struct sf_kv *sf_kv_new_with_class(const struct sf_kv_class *cls, void *ctx, const char *prefix);
/* ctx if kv is of class cls, else NULL. */
void *sf_kv_ctx(const struct sf_kv *kv, const struct sf_kv_class *cls);

struct sf_kv_reply *sf_kv_reply_new(enum sf_kv_reply_type type);
struct sf_kv_reply *sf_kv_reply_new_str(enum sf_kv_reply_type type, const void *p, size_t len);
struct sf_kv_reply *sf_kv_reply_new_int(long long v);
struct sf_kv_reply *sf_kv_reply_new_array(size_t n); /* n NULL elems, for the caller to fill */

#endif
