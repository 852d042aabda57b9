// SPDX-License-Identifier: Apache-2.0
/*
 * The store's backend-neutral layer: handles (struct sf_kv pairs a class with its context),
 * replies, argv helpers, MULTI/EXEC batches, prefetched replies and Lua scripts named by their
 * SHA1. Every implementation (kv_redis.c; tests/fakes/kv_fake.c) provides only the struct
 * sf_kv_class.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/kv.h"
#include "sf/log.h"
#include "sf/util.h"

SF_LOG_MODULE("kv");

#define KV_DEFAULT_PREFIX "sf:"

struct sf_kv_batch {
	size_t n, cap;
	struct sf_kv_argv *cmds; /* argv and argvlen of each are owned copies */
};

/* A prefetched command (one-command batch) or transaction, and its reply once sent. */
struct prefetch_entry {
	struct sf_kv_batch *cmds;
	bool exec;
	struct sf_kv_reply *reply; /* owned until taken */
};

struct sf_kv {
	const struct sf_kv_class *cls;
	void *ctx;
	char *prefix;
	struct prefetch_entry *pf; /* queued, or kept once sent */
	size_t pf_n, pf_cap;
	size_t pf_next; /* the next entry to hand out */
	bool pf_sent;
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

static void prefetch_clear(struct sf_kv *kv);

void sf_kv_free(struct sf_kv *kv)
{
	if (!kv)
		return;
	prefetch_clear(kv);
	free(kv->pf);
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

/* ---- prefetch (kv.h) ---- */

static void prefetch_clear(struct sf_kv *kv)
{
	for (size_t i = 0; i < kv->pf_n; i++) {
		sf_kv_batch_free(kv->pf[i].cmds);
		sf_kv_reply_free(kv->pf[i].reply);
	}
	kv->pf_n = kv->pf_next = 0;
	kv->pf_sent = false;
}

static bool argv_equal(const struct sf_kv_argv *a, const struct sf_kv_argv *b)
{
	if (a->argc != b->argc)
		return false;
	for (int i = 0; i < a->argc; i++)
		if (a->argvlen[i] != b->argvlen[i] ||
		    memcmp(a->argv[i], b->argv[i], a->argvlen[i]) != 0)
			return false;
	return true;
}

/* The kept reply of exactly these commands if it is the next one, else NULL after dropping
 * every entry: the caller then asks the server. */
static struct sf_kv_reply *prefetch_take(struct sf_kv *kv, const struct sf_kv_argv *cmds, size_t n,
					 bool exec)
{
	struct prefetch_entry *e = kv->pf_next < kv->pf_n ? &kv->pf[kv->pf_next] : NULL;
	struct sf_kv_reply *reply;

	if (!e)
		return NULL;
	if (!kv->pf_sent || e->exec != exec || e->cmds->n != n)
		goto miss;
	for (size_t i = 0; i < n; i++)
		if (!argv_equal(&e->cmds->cmds[i], &cmds[i]))
			goto miss;
	reply = e->reply;
	e->reply = NULL;
	if (++kv->pf_next == kv->pf_n)
		prefetch_clear(kv);
	return reply;
miss:
	prefetch_clear(kv);
	return NULL;
}

static void prefetch_push(struct sf_kv *kv, struct sf_kv_batch *cmds, bool exec)
{
	if (kv->pf_sent)
		prefetch_clear(kv); /* a new round */
	if (kv->pf_n == kv->pf_cap) {
		kv->pf_cap = kv->pf_cap ? 2 * kv->pf_cap : 4;
		kv->pf = sf_xrealloc(kv->pf, kv->pf_cap * sizeof(*kv->pf));
	}
	kv->pf[kv->pf_n++] = (struct prefetch_entry){.cmds = cmds, .exec = exec};
}

static void batch_add_va(struct sf_kv_batch *b, const char *cmd, va_list ap);

void sf_kv_prefetch_cmd(struct sf_kv *kv, const char *cmd, ...)
{
	struct sf_kv_batch *b = sf_kv_batch_new();
	va_list ap;

	va_start(ap, cmd);
	batch_add_va(b, cmd, ap);
	va_end(ap);
	prefetch_push(kv, b, false);
}

void sf_kv_prefetch_exec(struct sf_kv *kv, const struct sf_kv_batch *b)
{
	struct sf_kv_batch *copy = sf_kv_batch_new();

	for (size_t i = 0; i < b->n; i++)
		sf_kv_batch_addv(copy, b->cmds[i].argc, b->cmds[i].argv, b->cmds[i].argvlen);
	prefetch_push(kv, copy, true);
}

/* The items one by one, for a class without a pipeline. */
static int pipeline_each(struct sf_kv *kv, const struct sf_kv_pipe_item *items, size_t n,
			 struct sf_kv_reply **ret_replies)
{
	int r = 0;

	for (size_t i = 0; i < n && r >= 0; i++)
		r = items[i].exec
			    ? kv->cls->exec(kv->ctx, items[i].cmds, items[i].n, &ret_replies[i])
			    : kv->cls->command(kv->ctx, items[i].cmds, &ret_replies[i]);
	return r;
}

int sf_kv_prefetch_send(struct sf_kv *kv)
{
	struct sf_kv_pipe_item *items;
	struct sf_kv_reply **replies;
	size_t n = kv->pf_n;
	int r;

	if (kv->pf_sent || n == 0)
		return 0;
	items = sf_xcalloc(n, sizeof(*items));
	replies = sf_xcalloc(n, sizeof(*replies));
	for (size_t i = 0; i < n; i++)
		items[i] = (struct sf_kv_pipe_item){.cmds = kv->pf[i].cmds->cmds,
						    .n = kv->pf[i].cmds->n,
						    .exec = kv->pf[i].exec};
	r = kv->cls->pipeline ? kv->cls->pipeline(kv->ctx, items, n, replies)
			      : pipeline_each(kv, items, n, replies);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			sf_kv_reply_free(replies[i]);
		prefetch_clear(kv);
	} else {
		for (size_t i = 0; i < n; i++)
			kv->pf[i].reply = replies[i];
		kv->pf_sent = true;
	}
	free(items);
	free(replies);
	return r < 0 ? r : 0;
}

void sf_kv_prefetch_drop(struct sf_kv *kv)
{
	prefetch_clear(kv);
}

size_t sf_kv_prefetch_kept(const struct sf_kv *kv)
{
	return kv->pf_sent ? kv->pf_n - kv->pf_next : 0;
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
	reply = prefetch_take(kv, &cmd, 1, false);
	r = reply ? 0 : kv->cls->command(kv->ctx, &cmd, &reply);
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
	prefetch_clear(kv);
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

static void batch_add_va(struct sf_kv_batch *b, const char *cmd, va_list ap)
{
	int argc;
	const char **argv = argv_from_va(cmd, ap, &argc);

	sf_kv_batch_addv(b, argc, argv, NULL);
	free(argv);
}

void sf_kv_batch_add(struct sf_kv_batch *b, const char *cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	batch_add_va(b, cmd, ap);
	va_end(ap);
}

size_t sf_kv_batch_size(const struct sf_kv_batch *b)
{
	return b->n;
}

int sf_kv_exec(struct sf_kv *kv, const struct sf_kv_batch *b, struct sf_kv_reply **ret_reply)
{
	struct sf_kv_reply *reply = NULL;
	int r;

	reply = prefetch_take(kv, b->cmds, b->n, true);
	r = reply ? 0 : kv->cls->exec(kv->ctx, b->cmds, b->n, &reply);
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
	prefetch_clear(kv); /* never prefetched: anything kept is stale from here on */
	r = kv->cls->script_run(kv->ctx, s, nkeys, keys, nargs, args, &reply);
	if (r < 0)
		return r;
	return reply_finish(reply, "EVALSHA", 7, ret_reply);
}
