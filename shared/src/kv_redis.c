// SPDX-License-Identifier: Apache-2.0
/*
 * The Redis store. The first half is the generic layer every implementation shares (handles,
 * replies, argv helpers, batches, scripts); the second half is the hiredis 0.14 backend. No
 * hiredis type leaves this file and every redisReply is freed right after it is converted.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "sf/err.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/util.h"

SF_LOG_MODULE("kv");

#define KV_DEFAULT_PREFIX "sf:"

struct sf_kv {
	const struct sf_kv_class *cls;
	void *ctx;
	char *prefix;
};

struct sf_kv_batch {
	size_t n, cap;
	struct sf_kv_argv *cmds; /* argv and argvlen of each are owned copies */
};

struct sf_kv_script {
	char *lua;
	char sha[41];
};

/* ---- handles ---- */

struct sf_kv *sf_kv_new_with_class(const struct sf_kv_class *cls, void *ctx, const char *prefix)
{
	struct sf_kv *kv = sf_xcalloc(1, sizeof(*kv));

	kv->cls = cls;
	kv->ctx = ctx;
	kv->prefix = sf_xstrdup(prefix ? prefix : KV_DEFAULT_PREFIX);
	return kv;
}

void sf_kv_free(struct sf_kv *kv)
{
	if (!kv)
		return;
	kv->cls->free(kv->ctx);
	free(kv->prefix);
	free(kv);
}

void *sf_kv_ctx(const struct sf_kv *kv, const struct sf_kv_class *cls)
{
	return kv && kv->cls == cls ? kv->ctx : NULL;
}

const char *sf_kv_prefix(const struct sf_kv *kv)
{
	return kv->prefix;
}

char *sf_kv_key(const struct sf_kv *kv, const char *fmt, ...)
{
	va_list ap;
	char *name, *key;

	va_start(ap, fmt);
	name = sf_xvasprintf(fmt, ap);
	va_end(ap);
	key = sf_xasprintf("%s%s", kv->prefix, name);
	free(name);
	return key;
}

/* ---- replies ---- */

static const char *const reply_type_names[_SF_KV_REPLY_TYPE_MAX] = {
	[SF_KV_REPLY_NIL] = "nil",	 [SF_KV_REPLY_INT] = "int",
	[SF_KV_REPLY_STR] = "str",	 [SF_KV_REPLY_ARRAY] = "array",
	[SF_KV_REPLY_STATUS] = "status", [SF_KV_REPLY_ERROR] = "error",
};

const char *sf_kv_reply_type_to_string(enum sf_kv_reply_type t)
{
	if ((unsigned)t >= _SF_KV_REPLY_TYPE_MAX)
		return NULL;
	return reply_type_names[t];
}

struct sf_kv_reply *sf_kv_reply_new(enum sf_kv_reply_type type)
{
	struct sf_kv_reply *reply = sf_xcalloc(1, sizeof(*reply));

	reply->type = type;
	return reply;
}

struct sf_kv_reply *sf_kv_reply_new_str(enum sf_kv_reply_type type, const void *p, size_t len)
{
	struct sf_kv_reply *reply = sf_kv_reply_new(type);

	reply->str = sf_xmalloc(len + 1);
	if (len)
		memcpy(reply->str, p, len);
	reply->str[len] = '\0';
	reply->len = len;
	return reply;
}

struct sf_kv_reply *sf_kv_reply_new_int(long long v)
{
	struct sf_kv_reply *reply = sf_kv_reply_new(SF_KV_REPLY_INT);

	reply->integer = v;
	return reply;
}

struct sf_kv_reply *sf_kv_reply_new_array(size_t n)
{
	struct sf_kv_reply *reply = sf_kv_reply_new(SF_KV_REPLY_ARRAY);

	reply->n = n;
	reply->elems = sf_xcalloc(n ? n : 1, sizeof(struct sf_kv_reply *));
	return reply;
}

void sf_kv_reply_free(struct sf_kv_reply *reply)
{
	if (!reply)
		return;
	for (size_t i = 0; i < reply->n; i++)
		sf_kv_reply_free(reply->elems[i]);
	free(reply->elems);
	free(reply->str);
	free(reply);
}

static const struct {
	const char *code;
	int err;
} reply_errors[] = {
	{"WRONGTYPE", EMEDIUMTYPE}, {"NOSCRIPT", ENOENT}, {"OOM", ENOMEM},
	{"READONLY", EROFS},	    {"LOADING", EAGAIN},  {"BUSY", EAGAIN},
	{"MASTERDOWN", EAGAIN},	    {"TRYAGAIN", EAGAIN}, {"NOAUTH", EACCES},
	{"WRONGPASS", EACCES},	    {"NOPERM", EACCES},
};

int sf_kv_reply_errno(const struct sf_kv_reply *reply)
{
	if (!reply || reply->type != SF_KV_REPLY_ERROR)
		return 0;
	/* The code is the first word of the message, as in "WRONGTYPE Operation against ...". */
	for (size_t i = 0; i < SF_ARRAY_SIZE(reply_errors); i++) {
		size_t n = strlen(reply_errors[i].code);

		if (reply->len >= n && memcmp(reply->str, reply_errors[i].code, n) == 0 &&
		    (reply->len == n || reply->str[n] == ' '))
			return -reply_errors[i].err;
	}
	return -EPROTO;
}

/* A whole command's error reply becomes -errno; anything else goes to the caller. */
static int reply_finish(struct sf_kv_reply *reply, const char *what, int what_len,
			struct sf_kv_reply **ret_reply)
{
	int r = sf_kv_reply_errno(reply);

	if (r < 0) {
		sf_log_debug("%.*s: redis replied \"%s\"", what_len, what, reply->str);
		sf_kv_reply_free(reply);
		return r;
	}
	if (ret_reply)
		*ret_reply = reply;
	else
		sf_kv_reply_free(reply);
	return 0;
}

/* ---- commands ---- */

int sf_kv_command(struct sf_kv *kv, int argc, const char *const *argv, const size_t *argvlen,
		  struct sf_kv_reply **ret_reply)
{
	struct sf_kv_argv cmd = {.argc = argc, .argv = argv, .argvlen = argvlen};
	struct sf_kv_reply *reply = NULL;
	size_t *lens = NULL;
	int r;

	if (argc < 1 || !argv)
		return -EINVAL;
	if (!argvlen) {
		lens = sf_xcalloc((size_t)argc, sizeof(*lens));
		for (int i = 0; i < argc; i++)
			lens[i] = strlen(argv[i]);
		cmd.argvlen = lens;
	}
	r = kv->cls->command(kv->ctx, &cmd, &reply);
	if (r >= 0)
		r = reply_finish(reply, argv[0], (int)cmd.argvlen[0], ret_reply);
	free(lens);
	return r;
}

/* Collect a NULL-terminated list of strings (cmd first) into an allocated vector. */
static const char **argv_from_va(const char *cmd, va_list ap, int *ret_argc)
{
	const char **argv;
	va_list aq;
	int argc = 1;

	va_copy(aq, ap);
	while (va_arg(aq, const char *))
		argc++;
	va_end(aq);
	argv = sf_xcalloc((size_t)argc, sizeof(*argv));
	argv[0] = cmd;
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, const char *);
	*ret_argc = argc;
	return argv;
}

int sf_kv_cmd(struct sf_kv *kv, struct sf_kv_reply **ret_reply, const char *cmd, ...)
{
	const char **argv;
	va_list ap;
	int argc, r;

	va_start(ap, cmd);
	argv = argv_from_va(cmd, ap, &argc);
	va_end(ap);
	r = sf_kv_command(kv, argc, argv, NULL, ret_reply);
	free(argv);
	return r;
}

int sf_kv_ping(struct sf_kv *kv)
{
	struct sf_kv_reply *reply;
	int r;

	r = sf_kv_cmd(kv, &reply, "PING", NULL);
	if (r < 0)
		return r;
	if (reply->type != SF_KV_REPLY_STATUS || strcmp(reply->str, "PONG") != 0)
		r = -EPROTO;
	sf_kv_reply_free(reply);
	return r;
}

int sf_kv_wait_ready(struct sf_kv *kv, uint64_t timeout_ms)
{
	return kv->cls->wait_ready(kv->ctx, timeout_ms);
}

int sf_kv_get(struct sf_kv *kv, const char *key, char **ret_value)
{
	struct sf_kv_reply *reply;
	int r;

	r = sf_kv_cmd(kv, &reply, "GET", key, NULL);
	if (r < 0)
		return r;
	if (reply->type == SF_KV_REPLY_STR)
		*ret_value = sf_xstrndup(reply->str, reply->len);
	else
		r = reply->type == SF_KV_REPLY_NIL ? -ENOENT : -EPROTO;
	sf_kv_reply_free(reply);
	return r;
}

int sf_kv_set(struct sf_kv *kv, const char *key, const char *value, unsigned ttl_s, unsigned flags)
{
	const char *argv[6] = {"SET", key, value};
	struct sf_kv_reply *reply;
	char ttl[16];
	int argc = 3, r;

	if (ttl_s) {
		(void)sf_bprintf(ttl, sizeof(ttl), "%u", ttl_s);
		argv[argc++] = "EX";
		argv[argc++] = ttl;
	}
	if (flags & SF_KV_SET_NX)
		argv[argc++] = "NX";
	r = sf_kv_command(kv, argc, argv, NULL, &reply);
	if (r < 0)
		return r;
	if (reply->type == SF_KV_REPLY_NIL) /* NX and the key exists */
		r = -EEXIST;
	else if (reply->type != SF_KV_REPLY_STATUS)
		r = -EPROTO;
	sf_kv_reply_free(reply);
	return r;
}

int sf_kv_del(struct sf_kv *kv, const char *key)
{
	struct sf_kv_reply *reply;
	int r;

	r = sf_kv_cmd(kv, &reply, "DEL", key, NULL);
	if (r < 0)
		return r;
	r = reply->type == SF_KV_REPLY_INT ? (int)reply->integer : -EPROTO;
	sf_kv_reply_free(reply);
	return r;
}

/* ---- MULTI/EXEC ---- */

struct sf_kv_batch *sf_kv_batch_new(void)
{
	return sf_xcalloc(1, sizeof(struct sf_kv_batch));
}

void sf_kv_batch_free(struct sf_kv_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		for (int j = 0; j < b->cmds[i].argc; j++)
			free((char *)b->cmds[i].argv[j]);
		free((void *)b->cmds[i].argv);
		free((void *)b->cmds[i].argvlen);
	}
	free(b->cmds);
	free(b);
}

void sf_kv_batch_addv(struct sf_kv_batch *b, int argc, const char *const *argv,
		      const size_t *argvlen)
{
	const char **v = sf_xcalloc((size_t)argc, sizeof(*v));
	size_t *lens = sf_xcalloc((size_t)argc, sizeof(*lens));

	assert(argc >= 1);
	for (int i = 0; i < argc; i++) {
		char *p;

		lens[i] = argvlen ? argvlen[i] : strlen(argv[i]);
		p = sf_xmalloc(lens[i] + 1); /* binary-safe copy, NUL-terminated for convenience */
		memcpy(p, argv[i], lens[i]);
		p[lens[i]] = '\0';
		v[i] = p;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 8;
		b->cmds = sf_xrealloc(b->cmds, b->cap * sizeof(*b->cmds));
	}
	b->cmds[b->n++] = (struct sf_kv_argv){.argc = argc, .argv = v, .argvlen = lens};
}

void sf_kv_batch_add(struct sf_kv_batch *b, const char *cmd, ...)
{
	const char **argv;
	va_list ap;
	int argc;

	va_start(ap, cmd);
	argv = argv_from_va(cmd, ap, &argc);
	va_end(ap);
	sf_kv_batch_addv(b, argc, argv, NULL);
	free(argv);
}

size_t sf_kv_batch_size(const struct sf_kv_batch *b)
{
	return b->n;
}

int sf_kv_exec(struct sf_kv *kv, const struct sf_kv_batch *b, struct sf_kv_reply **ret_reply)
{
	struct sf_kv_reply *reply = NULL;
	int r;

	r = kv->cls->exec(kv->ctx, b->cmds, b->n, &reply);
	if (r < 0)
		return r;
	return reply_finish(reply, "EXEC", 4, ret_reply);
}

/* ---- Lua ---- */

/* SHA1 (FIPS 180-4), only to name scripts for EVALSHA. */
static uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (size_t i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (size_t i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (size_t i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void sha1_hex(const void *data, size_t len, char out[41])
{
	uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
	uint64_t bits = (uint64_t)len * 8;
	const uint8_t *p = data;
	uint8_t tail[128] = {0};
	size_t ntail;

	for (; len >= 64; len -= 64, p += 64)
		sha1_block(h, p);
	memcpy(tail, p, len);
	tail[len] = 0x80;
	ntail = len + 1 + 8 <= 64 ? 64 : 128;
	for (size_t i = 0; i < 8; i++)
		tail[ntail - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha1_block(h, tail);
	if (ntail == 128)
		sha1_block(h, tail + 64);
	for (size_t i = 0; i < 5; i++)
		(void)snprintf(out + 8 * i, 9, "%08x", h[i]);
}

int sf_kv_script_new(const char *lua, struct sf_kv_script **ret_script)
{
	struct sf_kv_script *s;

	if (!lua || !*lua)
		return -EINVAL;
	s = sf_xcalloc(1, sizeof(*s));
	s->lua = sf_xstrdup(lua);
	sha1_hex(lua, strlen(lua), s->sha);
	*ret_script = s;
	return 0;
}

void sf_kv_script_free(struct sf_kv_script *s)
{
	if (!s)
		return;
	free(s->lua);
	free(s);
}

const char *sf_kv_script_sha(const struct sf_kv_script *s)
{
	return s->sha;
}

const char *sf_kv_script_lua(const struct sf_kv_script *s)
{
	return s->lua;
}

int sf_kv_script_run(struct sf_kv *kv, const struct sf_kv_script *s, size_t nkeys,
		     const char *const *keys, size_t nargs, const char *const *args,
		     struct sf_kv_reply **ret_reply)
{
	struct sf_kv_reply *reply = NULL;
	int r;

	if ((nkeys && !keys) || (nargs && !args))
		return -EINVAL;
	r = kv->cls->script_run(kv->ctx, s, nkeys, keys, nargs, args, &reply);
	if (r < 0)
		return r;
	return reply_finish(reply, "EVALSHA", 7, ret_reply);
}

/* ---- the hiredis backend ---- */

struct kv_redis {
	char *host; /* TCP, or */
	int port;
	char *unix_path; /* a unix socket */
	char *user, *password;
	int db;
	char *where; /* "host:port" or the socket path, for messages */
	struct timeval connect_tv, command_tv;
	uint64_t backoff_base_ms, backoff_cap_ms;

	redisContext *c;	  /* NULL while disconnected */
	unsigned failures;	  /* consecutive failed connection attempts */
	uint64_t next_attempt_ms; /* no connection attempt before this (monotonic) */
	int last_err;		  /* why the last attempt failed */
	struct sf_log_ratelimit unreachable_rl;
};

static struct timeval tv_from_ms(unsigned ms)
{
	return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
}

/* redis://[[user]:password@]host[:port][/db] */
static int parse_redis_url(struct kv_redis *k, const char *url)
{
	const char *rest = url + strlen("redis://"), *slash, *hostport, *portstr = NULL;
	char *auth, *at, *end;
	long v;
	int r = -EINVAL;

	slash = strchr(rest, '/');
	auth = sf_xstrndup(rest, slash ? (size_t)(slash - rest) : strlen(rest));
	hostport = auth;
	at = strrchr(auth, '@');
	if (at) {
		char *colon;

		*at = '\0';
		hostport = at + 1;
		colon = strchr(auth, ':');
		if (!colon || !colon[1])
			goto out;
		*colon = '\0';
		if (*auth)
			k->user = sf_xstrdup(auth);
		k->password = sf_xstrdup(colon + 1);
	}
	if (*hostport == '[') { /* [v6 address] */
		end = strchr(hostport, ']');
		if (!end || end == hostport + 1 || (end[1] && end[1] != ':'))
			goto out;
		k->host = sf_xstrndup(hostport + 1, (size_t)(end - hostport - 1));
		if (end[1])
			portstr = end + 2;
	} else {
		end = strchr(hostport, ':');
		if (end && strchr(end + 1, ':'))
			goto out;
		k->host = sf_xstrndup(hostport, end ? (size_t)(end - hostport) : strlen(hostport));
		if (end)
			portstr = end + 1;
	}
	if (!*k->host)
		goto out;
	k->port = 6379;
	if (portstr) {
		if (sf_parse_long(portstr, 1, 65535, &v) < 0)
			goto out;
		k->port = (int)v;
	}
	if (slash && slash[1]) {
		if (sf_parse_long(slash + 1, 0, INT_MAX, &v) < 0)
			goto out;
		k->db = (int)v;
	}
	k->where = strchr(k->host, ':') ? sf_xasprintf("[%s]:%d", k->host, k->port)
					: sf_xasprintf("%s:%d", k->host, k->port);
	r = 0;
out:
	free(auth);
	return r;
}

static int parse_url(struct kv_redis *k, const char *url)
{
	if (!url)
		return -EINVAL;
	if (sf_str_startswith(url, "unix://")) {
		const char *path = url + strlen("unix://");

		if (path[0] != '/' || !path[1])
			return -EINVAL;
		k->unix_path = sf_xstrdup(path);
		k->where = sf_xstrdup(path);
		return 0;
	}
	if (sf_str_startswith(url, "redis://"))
		return parse_redis_url(k, url);
	return -EINVAL;
}

/* Translate the context's error and drop the connection; the next call reconnects. */
static int redis_drop(struct kv_redis *k, int saved_errno)
{
	int r;

	/* A blocking read or write that hit SO_RCVTIMEO/SO_SNDTIMEO fails with EAGAIN. */
	if (k->c->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
		r = -ETIMEDOUT;
	else
		r = sf_err_from_redis(k->c->err, saved_errno);
	if (r >= 0) /* the context always has an error here; be sure the caller sees one */
		r = -EIO;
	sf_log_debug("redis at %s: %s, dropping the connection", k->where, k->c->errstr);
	redisFree(k->c);
	k->c = NULL;
	k->last_err = r;
	k->next_attempt_ms = 0; /* a lost connection is retried at once; failed attempts back off */
	return r;
}

/* Run one command on the connected context; a NULL redisReply drops the connection. */
static int redis_call(struct kv_redis *k, int argc, const char **argv, const size_t *argvlen,
		      redisReply **ret_rr)
{
	redisReply *rr = redisCommandArgv(k->c, argc, argv, argvlen);
	int r;

	if (!rr) {
		r = redis_drop(k, errno);
		assert(r < 0);
		return r;
	}
	*ret_rr = rr;
	return 0;
}

/* AUTH and SELECT on a fresh connection. */
static int redis_handshake(struct kv_redis *k)
{
	const char *argv[3] = {"AUTH"};
	redisReply *rr;
	char db[16];
	int argc = 1, r;

	if (k->password) {
		if (k->user)
			argv[argc++] = k->user;
		argv[argc++] = k->password;
		r = redis_call(k, argc, argv, NULL, &rr);
		if (r < 0)
			return r;
		r = rr->type == REDIS_REPLY_ERROR ? -EACCES : 0;
		freeReplyObject(rr);
		if (r < 0)
			return r;
	}
	if (k->db) {
		(void)sf_bprintf(db, sizeof(db), "%d", k->db);
		argv[0] = "SELECT";
		argv[1] = db;
		r = redis_call(k, 2, argv, NULL, &rr);
		if (r < 0)
			return r;
		r = rr->type == REDIS_REPLY_ERROR ? -EINVAL : 0;
		freeReplyObject(rr);
		if (r < 0)
			return r;
	}
	return 0;
}

static int redis_connect(struct kv_redis *k)
{
	uint64_t now = sf_now_monotonic_ms();
	int r, saved_errno;

	if (k->c)
		return 0;
	if (now < k->next_attempt_ms)
		return k->last_err; /* backing off: fail fast */

	errno = 0;
	if (k->unix_path)
		k->c = redisConnectUnixWithTimeout(k->unix_path, k->connect_tv);
	else
		k->c = redisConnectWithTimeout(k->host, k->port, k->connect_tv);
	saved_errno = errno;
	if (!k->c) {
		r = -ENOMEM;
	} else if (k->c->err) {
		r = redis_drop(k, saved_errno);
	} else if (redisSetTimeout(k->c, k->command_tv) != REDIS_OK) {
		r = redis_drop(k, errno);
	} else {
		r = redis_handshake(k);
		if (r < 0 && k->c) {
			redisFree(k->c);
			k->c = NULL;
		}
	}
	if (r < 0) {
		k->last_err = r;
		k->next_attempt_ms =
			now + sf_backoff_ms(k->failures, k->backoff_base_ms, k->backoff_cap_ms);
		k->failures++;
		sf_log_debug("connecting to redis at %s failed (attempt %u): %s", k->where,
			     k->failures, sf_strerror(r));
		return r;
	}
	if (k->failures)
		sf_log_debug("connected to redis at %s after %u failed attempts", k->where,
			     k->failures);
	k->failures = 0;
	k->next_attempt_ms = 0;
	return 0;
}

static struct sf_kv_reply *reply_from_hiredis(const redisReply *rr)
{
	struct sf_kv_reply *reply;

	switch (rr->type) {
	case REDIS_REPLY_STRING:
		return sf_kv_reply_new_str(SF_KV_REPLY_STR, rr->str, rr->len);
	case REDIS_REPLY_STATUS:
		return sf_kv_reply_new_str(SF_KV_REPLY_STATUS, rr->str, rr->len);
	case REDIS_REPLY_ERROR:
		return sf_kv_reply_new_str(SF_KV_REPLY_ERROR, rr->str, rr->len);
	case REDIS_REPLY_INTEGER:
		return sf_kv_reply_new_int(rr->integer);
	case REDIS_REPLY_ARRAY:
		reply = sf_kv_reply_new_array(rr->elements);
		for (size_t i = 0; i < rr->elements; i++)
			reply->elems[i] = reply_from_hiredis(rr->element[i]);
		return reply;
	default:
		return sf_kv_reply_new(SF_KV_REPLY_NIL);
	}
}

static int kv_redis_command(void *ctx, const struct sf_kv_argv *cmd, struct sf_kv_reply **ret_reply)
{
	struct kv_redis *k = ctx;
	redisReply *rr;
	int r;

	r = redis_connect(k);
	if (r < 0)
		return r;
	r = redis_call(k, cmd->argc, (const char **)cmd->argv, cmd->argvlen, &rr);
	if (r < 0)
		return r;
	*ret_reply = reply_from_hiredis(rr);
	freeReplyObject(rr);
	return 0;
}

/* MULTI, the commands and EXEC in one pipeline; every reply is read to keep the stream in step.
 * If a command was refused while queueing, EXEC answers EXECABORT: report that first error. */
static int kv_redis_exec(void *ctx, const struct sf_kv_argv *cmds, size_t n,
			 struct sf_kv_reply **ret_reply)
{
	struct kv_redis *k = ctx;
	struct sf_kv_reply *first_err = NULL, *result = NULL;
	int r;

	r = redis_connect(k);
	if (r < 0)
		return r;
	if (redisAppendCommand(k->c, "MULTI") != REDIS_OK)
		return redis_drop(k, errno);
	for (size_t i = 0; i < n; i++)
		if (redisAppendCommandArgv(k->c, cmds[i].argc, (const char **)cmds[i].argv,
					   cmds[i].argvlen) != REDIS_OK)
			return redis_drop(k, errno);
	if (redisAppendCommand(k->c, "EXEC") != REDIS_OK)
		return redis_drop(k, errno);

	for (size_t i = 0; i < n + 2; i++) {
		redisReply *rr;
		void *p;

		if (redisGetReply(k->c, &p) != REDIS_OK) {
			r = redis_drop(k, errno);
			goto fail;
		}
		rr = p;
		if (i == n + 1)
			result = reply_from_hiredis(rr);
		else if (rr->type == REDIS_REPLY_ERROR && !first_err)
			first_err = reply_from_hiredis(rr);
		freeReplyObject(rr);
	}
	if (first_err) {
		sf_kv_reply_free(result);
		result = first_err;
	}
	*ret_reply = result;
	return 0;
fail:
	sf_kv_reply_free(first_err);
	sf_kv_reply_free(result);
	return r;
}

/* EVALSHA; on NOSCRIPT (restart, SCRIPT FLUSH) the same with EVAL, which caches the script. */
static int kv_redis_script_run(void *ctx, const struct sf_kv_script *s, size_t nkeys,
			       const char *const *keys, size_t nargs, const char *const *args,
			       struct sf_kv_reply **ret_reply)
{
	size_t argc = 3 + nkeys + nargs;
	const char **argv = sf_xcalloc(argc, sizeof(*argv));
	size_t *lens = sf_xcalloc(argc, sizeof(*lens));
	struct sf_kv_argv cmd = {.argc = (int)argc, .argv = argv, .argvlen = lens};
	struct sf_kv_reply *reply = NULL;
	char nkeys_str[24];
	int r;

	(void)sf_bprintf(nkeys_str, sizeof(nkeys_str), "%zu", nkeys);
	argv[0] = "EVALSHA";
	argv[1] = s->sha;
	argv[2] = nkeys_str;
	for (size_t i = 0; i < nkeys; i++)
		argv[3 + i] = keys[i];
	for (size_t i = 0; i < nargs; i++)
		argv[3 + nkeys + i] = args[i];
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);

	r = kv_redis_command(ctx, &cmd, &reply);
	if (r == 0 && sf_kv_reply_errno(reply) == -ENOENT) {
		sf_log_debug("script %s not in the server's cache, sending it", s->sha);
		sf_kv_reply_free(reply);
		reply = NULL;
		argv[0] = "EVAL";
		argv[1] = s->lua;
		lens[0] = strlen(argv[0]);
		lens[1] = strlen(argv[1]);
		r = kv_redis_command(ctx, &cmd, &reply);
	}
	if (r == 0)
		*ret_reply = reply;
	free(argv);
	free(lens);
	return r;
}

static int redis_ping(struct kv_redis *k)
{
	const char *argv[] = {"PING"};
	const size_t lens[] = {4};
	struct sf_kv_argv cmd = {.argc = 1, .argv = argv, .argvlen = lens};
	struct sf_kv_reply *reply;
	int r;

	r = kv_redis_command(k, &cmd, &reply);
	if (r < 0)
		return r;
	r = sf_kv_reply_errno(reply); /* LOADING while the server reads its AOF: -EAGAIN */
	if (r == 0 && (reply->type != SF_KV_REPLY_STATUS || strcmp(reply->str, "PONG") != 0))
		r = -EPROTO;
	sf_kv_reply_free(reply);
	return r;
}

static int kv_redis_wait_ready(void *ctx, uint64_t timeout_ms)
{
	struct kv_redis *k = ctx;
	uint64_t deadline = sf_now_monotonic_ms() + timeout_ms;

	for (unsigned attempt = 0;; attempt++) {
		bool was_connected = k->c != NULL;
		uint64_t now, delay;
		unsigned suppressed;
		int r;

		k->next_attempt_ms = 0; /* this loop does its own pacing */
		r = redis_ping(k);
		if (r == 0)
			return 0;
		now = sf_now_monotonic_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (was_connected && !k->c)
			continue; /* a stale connection was dropped: reconnect at once */
		if (sf_log_ratelimit_ok(&k->unreachable_rl, &suppressed))
			sf_log_warn("redis at %s unreachable, retrying: %s", k->where,
				    sf_strerror(r));
		delay = sf_backoff_ms(attempt, k->backoff_base_ms, k->backoff_cap_ms);
		(void)sf_sleep_ms(delay < deadline - now ? delay : deadline - now);
	}
}

static void kv_redis_free(void *ctx)
{
	struct kv_redis *k = ctx;

	if (!k)
		return;
	if (k->c)
		redisFree(k->c);
	free(k->host);
	free(k->unix_path);
	free(k->user);
	free(k->password);
	free(k->where);
	free(k);
}

static const struct sf_kv_class kv_redis_class = {
	.name = "redis",
	.command = kv_redis_command,
	.exec = kv_redis_exec,
	.script_run = kv_redis_script_run,
	.wait_ready = kv_redis_wait_ready,
	.free = kv_redis_free,
};

int sf_kv_redis_new(const char *url, const struct sf_kv_options *opt, struct sf_kv **ret_kv)
{
	const struct sf_kv_options defaults = {0};
	struct kv_redis *k;
	struct sigaction sa;
	int r;

	if (!opt)
		opt = &defaults;
	k = sf_xcalloc(1, sizeof(*k));
	k->connect_tv = tv_from_ms(opt->connect_timeout_ms ? opt->connect_timeout_ms : 2000);
	k->command_tv = tv_from_ms(opt->command_timeout_ms ? opt->command_timeout_ms : 5000);
	k->backoff_base_ms = opt->backoff_base_ms ? opt->backoff_base_ms : 100;
	k->backoff_cap_ms = opt->backoff_cap_ms ? opt->backoff_cap_ms : 5000;
	k->unreachable_rl = (struct sf_log_ratelimit){.interval_ms = 10000, .burst = 1};
	if (k->backoff_cap_ms < k->backoff_base_ms) {
		r = -EINVAL;
		goto fail;
	}
	r = parse_url(k, url);
	if (r < 0)
		goto fail;

	/* hiredis write()s: without this, a server that goes away raises SIGPIPE and kills us. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		(void)signal(SIGPIPE, SIG_IGN);

	*ret_kv = sf_kv_new_with_class(&kv_redis_class, k, opt->prefix);
	return 0;
fail:
	kv_redis_free(k);
	return r;
}
