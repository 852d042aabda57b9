// SPDX-License-Identifier: Apache-2.0
/* The in-memory sf_kv (see kv_fake.h). Linear lists; correctness over speed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kv_fake.h"
#include "sf/util.h"

struct blob {
	char *p;
	size_t len;
};

/* A borrowed argument. */
struct span {
	const char *p;
	size_t len;
};

enum entry_type {
	ENTRY_STR,
	ENTRY_HASH,
	ENTRY_SET,
	ENTRY_ZSET,
};

struct entry {
	struct blob key;
	enum entry_type type;
	struct blob str;    /* ENTRY_STR */
	struct blob *items; /* ENTRY_HASH: field, value, field, value ...; ENTRY_SET: members;
			       ENTRY_ZSET: member, score ("%.17g") ..., ordered by score, member */
	size_t n;	    /* blobs in items */
	uint64_t expire_ms; /* on the fake clock; 0 means never */
	struct entry *next;
};

struct fake_script {
	char *lua;
	int (*fn)(struct sf_kv *kv, size_t nkeys, const char *const *keys, size_t nargs,
		  const char *const *args, void *userdata, struct sf_kv_reply **ret_reply);
	void *userdata;
	struct fake_script *next;
};

struct kv_fake {
	struct sf_kv *kv; /* the handle, passed to script callbacks */
	struct entry *entries;
	struct fake_script *scripts;
	bool down;
	uint64_t clock_ms;
};

/* ---- helpers ---- */

static struct span arg(const struct sf_kv_argv *cmd, int i)
{
	return (struct span){.p = cmd->argv[i], .len = cmd->argvlen[i]};
}

static bool blob_eq(const struct blob *b, struct span s)
{
	return b->len == s.len && memcmp(b->p, s.p, s.len) == 0;
}

static bool span_is(struct span s, const char *word)
{
	return s.len == strlen(word) && strncasecmp(s.p, word, s.len) == 0;
}

static struct blob blob_dup(struct span s)
{
	struct blob b = {.p = sf_xmalloc(s.len + 1), .len = s.len};

	memcpy(b.p, s.p, s.len);
	b.p[s.len] = '\0';
	return b;
}

static int span_to_ll(struct span s, long long *ret)
{
	char buf[32], *end;
	long long v;

	if (s.len == 0 || s.len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static struct sf_kv_reply *reply_err(const char *msg)
{
	return sf_kv_reply_new_str(SF_KV_REPLY_ERROR, msg, strlen(msg));
}

static struct sf_kv_reply *reply_wrongtype(void)
{
	return reply_err("WRONGTYPE Operation against a key holding the wrong kind of value");
}

static struct sf_kv_reply *reply_blob(const struct blob *b)
{
	return sf_kv_reply_new_str(SF_KV_REPLY_STR, b->p, b->len);
}

static void entry_clear(struct entry *e)
{
	free(e->str.p);
	e->str = (struct blob){0};
	for (size_t i = 0; i < e->n; i++)
		free(e->items[i].p);
	free(e->items);
	e->items = NULL;
	e->n = 0;
}

static void entry_remove(struct kv_fake *f, struct entry *e)
{
	struct entry **pp = &f->entries;

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	entry_clear(e);
	free(e->key.p);
	free(e);
}

/* The live entry for key, dropping it first if it expired. */
static struct entry *lookup(struct kv_fake *f, struct span key)
{
	for (struct entry *e = f->entries; e; e = e->next) {
		if (!blob_eq(&e->key, key))
			continue;
		if (e->expire_ms && f->clock_ms >= e->expire_ms) {
			entry_remove(f, e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

static struct entry *entry_add(struct kv_fake *f, struct span key, enum entry_type type)
{
	struct entry *e = sf_xcalloc(1, sizeof(*e));

	e->key = blob_dup(key);
	e->type = type;
	e->next = f->entries;
	f->entries = e;
	return e;
}

/* Find key (*ret_e, NULL if missing); a WRONGTYPE reply if it holds another type. */
static struct sf_kv_reply *lookup_typed(struct kv_fake *f, struct span key, enum entry_type type,
					struct entry **ret_e)
{
	struct entry *e = lookup(f, key);

	*ret_e = e;
	return e && e->type != type ? reply_wrongtype() : NULL;
}

static void items_append(struct entry *e, struct span s)
{
	e->items = sf_xrealloc(e->items, (e->n + 1) * sizeof(*e->items));
	e->items[e->n++] = blob_dup(s);
}

/* Remove count blobs at index i. */
static void items_remove(struct entry *e, size_t i, size_t count)
{
	for (size_t j = i; j < i + count; j++)
		free(e->items[j].p);
	memmove(&e->items[i], &e->items[i + count], (e->n - i - count) * sizeof(*e->items));
	e->n -= count;
}

/* Index of s among the blobs at start, start+step, ...; -1 if absent. */
static long items_find(const struct entry *e, struct span s, size_t step)
{
	for (size_t i = 0; i < e->n; i += step)
		if (blob_eq(&e->items[i], s))
			return (long)i;
	return -1;
}

/* ---- commands ---- */

static struct sf_kv_reply *cmd_ping(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	(void)f;
	if (cmd->argc == 2)
		return sf_kv_reply_new_str(SF_KV_REPLY_STR, cmd->argv[1], cmd->argvlen[1]);
	return sf_kv_reply_new_str(SF_KV_REPLY_STATUS, "PONG", 4);
}

static struct sf_kv_reply *cmd_get(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	struct entry *e;

	err = lookup_typed(f, arg(cmd, 1), ENTRY_STR, &e);
	if (err)
		return err;
	return e ? reply_blob(&e->str) : sf_kv_reply_new(SF_KV_REPLY_NIL);
}

static struct sf_kv_reply *cmd_set(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	bool nx = false, xx = false;
	uint64_t ttl_ms = 0;
	struct entry *e;

	for (int i = 3; i < cmd->argc; i++) {
		struct span o = arg(cmd, i);
		long long v;

		if (span_is(o, "NX")) {
			nx = true;
		} else if (span_is(o, "XX")) {
			xx = true;
		} else if ((span_is(o, "EX") || span_is(o, "PX")) && i + 1 < cmd->argc) {
			if (span_to_ll(arg(cmd, ++i), &v) < 0)
				return reply_err("ERR value is not an integer or out of range");
			if (v <= 0)
				return reply_err("ERR invalid expire time in 'set' command");
			ttl_ms = span_is(o, "EX") ? (uint64_t)v * 1000 : (uint64_t)v;
		} else {
			return reply_err("ERR syntax error");
		}
	}
	if (nx && xx)
		return reply_err("ERR syntax error");
	e = lookup(f, arg(cmd, 1));
	if ((nx && e) || (xx && !e))
		return sf_kv_reply_new(SF_KV_REPLY_NIL);
	if (e)
		entry_clear(e);
	else
		e = entry_add(f, arg(cmd, 1), ENTRY_STR);
	e->type = ENTRY_STR;
	e->str = blob_dup(arg(cmd, 2));
	e->expire_ms = ttl_ms ? f->clock_ms + ttl_ms : 0;
	return sf_kv_reply_new_str(SF_KV_REPLY_STATUS, "OK", 2);
}

static struct sf_kv_reply *cmd_del(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	long long n = 0;

	for (int i = 1; i < cmd->argc; i++) {
		struct entry *e = lookup(f, arg(cmd, i));

		if (e) {
			entry_remove(f, e);
			n++;
		}
	}
	return sf_kv_reply_new_int(n);
}

static struct sf_kv_reply *cmd_exists(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	long long n = 0;

	for (int i = 1; i < cmd->argc; i++)
		n += lookup(f, arg(cmd, i)) != NULL;
	return sf_kv_reply_new_int(n);
}

static struct sf_kv_reply *cmd_incr(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	struct entry *e;
	long long v = 0;
	char buf[32];

	err = lookup_typed(f, arg(cmd, 1), ENTRY_STR, &e);
	if (err)
		return err;
	if (e && span_to_ll((struct span){e->str.p, e->str.len}, &v) < 0)
		return reply_err("ERR value is not an integer or out of range");
	if (v == LLONG_MAX)
		return reply_err("ERR increment or decrement would overflow");
	v++;
	if (!e)
		e = entry_add(f, arg(cmd, 1), ENTRY_STR);
	free(e->str.p);
	(void)snprintf(buf, sizeof(buf), "%lld", v);
	e->str = blob_dup((struct span){buf, strlen(buf)}); /* INCR keeps the TTL */
	return sf_kv_reply_new_int(v);
}

/* EXPIRE key seconds: 1 when set, 0 for a missing key; a time <= 0 deletes the key. */
static struct sf_kv_reply *cmd_expire(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct entry *e;
	long long v;

	if (span_to_ll(arg(cmd, 2), &v) < 0)
		return reply_err("ERR value is not an integer or out of range");
	if (v > LLONG_MAX / 1000)
		return reply_err("ERR invalid expire time in 'expire' command");
	e = lookup(f, arg(cmd, 1));
	if (!e)
		return sf_kv_reply_new_int(0);
	if (v <= 0)
		entry_remove(f, e);
	else
		e->expire_ms = f->clock_ms + (uint64_t)v * 1000;
	return sf_kv_reply_new_int(1);
}

/* TTL key: the seconds left, rounded as Redis does; -1 without an expiry, -2 for a missing key. */
static struct sf_kv_reply *cmd_ttl(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct entry *e = lookup(f, arg(cmd, 1));

	if (!e)
		return sf_kv_reply_new_int(-2);
	if (!e->expire_ms)
		return sf_kv_reply_new_int(-1);
	return sf_kv_reply_new_int((long long)((e->expire_ms - f->clock_ms + 500) / 1000));
}

static struct sf_kv_reply *cmd_hset(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	struct entry *e;
	long long added = 0;

	if (cmd->argc % 2 != 0)
		return reply_err("ERR wrong number of arguments for 'hset' command");
	err = lookup_typed(f, arg(cmd, 1), ENTRY_HASH, &e);
	if (err)
		return err;
	if (!e)
		e = entry_add(f, arg(cmd, 1), ENTRY_HASH);
	for (int i = 2; i < cmd->argc; i += 2) {
		long at = items_find(e, arg(cmd, i), 2);

		if (at >= 0) {
			free(e->items[at + 1].p);
			e->items[at + 1] = blob_dup(arg(cmd, i + 1));
		} else {
			items_append(e, arg(cmd, i));
			items_append(e, arg(cmd, i + 1));
			added++;
		}
	}
	return sf_kv_reply_new_int(added);
}

static struct sf_kv_reply *cmd_hget(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	struct entry *e;
	long at;

	err = lookup_typed(f, arg(cmd, 1), ENTRY_HASH, &e);
	if (err)
		return err;
	at = e ? items_find(e, arg(cmd, 2), 2) : -1;
	return at >= 0 ? reply_blob(&e->items[at + 1]) : sf_kv_reply_new(SF_KV_REPLY_NIL);
}

/* HDEL and SREM: remove fields (step 2) or members (step 1); an emptied key disappears. */
static struct sf_kv_reply *remove_items(struct kv_fake *f, const struct sf_kv_argv *cmd,
					enum entry_type type, size_t step)
{
	struct sf_kv_reply *err;
	struct entry *e;
	long long n = 0;

	err = lookup_typed(f, arg(cmd, 1), type, &e);
	if (err)
		return err;
	for (int i = 2; e && i < cmd->argc; i++) {
		long at = items_find(e, arg(cmd, i), step);

		if (at >= 0) {
			items_remove(e, (size_t)at, step);
			n++;
		}
	}
	if (e && e->n == 0)
		entry_remove(f, e);
	return sf_kv_reply_new_int(n);
}

static struct sf_kv_reply *cmd_hdel(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return remove_items(f, cmd, ENTRY_HASH, 2);
}

/* HGETALL and SMEMBERS: all blobs, in insertion order. */
static struct sf_kv_reply *all_items(struct kv_fake *f, const struct sf_kv_argv *cmd,
				     enum entry_type type)
{
	struct sf_kv_reply *err, *a;
	struct entry *e;

	err = lookup_typed(f, arg(cmd, 1), type, &e);
	if (err)
		return err;
	a = sf_kv_reply_new_array(e ? e->n : 0);
	for (size_t i = 0; i < a->n; i++)
		a->elems[i] = reply_blob(&e->items[i]);
	return a;
}

static struct sf_kv_reply *cmd_hgetall(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return all_items(f, cmd, ENTRY_HASH);
}

/* HLEN and SCARD */
static struct sf_kv_reply *count_items(struct kv_fake *f, const struct sf_kv_argv *cmd,
				       enum entry_type type, size_t step)
{
	struct sf_kv_reply *err;
	struct entry *e;

	err = lookup_typed(f, arg(cmd, 1), type, &e);
	if (err)
		return err;
	return sf_kv_reply_new_int(e ? (long long)(e->n / step) : 0);
}

static struct sf_kv_reply *cmd_hlen(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return count_items(f, cmd, ENTRY_HASH, 2);
}

static struct sf_kv_reply *cmd_sadd(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	struct entry *e;
	long long added = 0;

	err = lookup_typed(f, arg(cmd, 1), ENTRY_SET, &e);
	if (err)
		return err;
	if (!e)
		e = entry_add(f, arg(cmd, 1), ENTRY_SET);
	for (int i = 2; i < cmd->argc; i++) {
		if (items_find(e, arg(cmd, i), 1) < 0) {
			items_append(e, arg(cmd, i));
			added++;
		}
	}
	return sf_kv_reply_new_int(added);
}

static struct sf_kv_reply *cmd_srem(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return remove_items(f, cmd, ENTRY_SET, 1);
}

static struct sf_kv_reply *cmd_smembers(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return all_items(f, cmd, ENTRY_SET);
}

static struct sf_kv_reply *cmd_sismember(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	struct entry *e;

	err = lookup_typed(f, arg(cmd, 1), ENTRY_SET, &e);
	if (err)
		return err;
	return sf_kv_reply_new_int(e && items_find(e, arg(cmd, 2), 1) >= 0);
}

static struct sf_kv_reply *cmd_scard(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return count_items(f, cmd, ENTRY_SET, 1);
}

/* ---- sorted sets: pairs member, score in items, kept in (score, member) order ---- */

static double zscore_at(const struct entry *e, size_t pair)
{
	return strtod(e->items[2 * pair + 1].p, NULL);
}

/* A score argument: a number, or -inf/+inf/inf; exclusive is set for a "(" prefix when the
 * caller allows one (range bounds). */
static int span_to_score(struct span s, bool *exclusive, double *ret)
{
	char buf[64], *end;
	double v;

	if (exclusive)
		*exclusive = s.len > 0 && s.p[0] == '(';
	if (exclusive && *exclusive) {
		s.p++;
		s.len--;
	}
	if (s.len == 0 || s.len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (errno || *end || v != v)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void zset_insert(struct entry *e, struct span member, double score)
{
	char text[32];
	size_t pairs = e->n / 2, at = 0;

	while (at < pairs) {
		double sc = zscore_at(e, at);
		const struct blob *m = &e->items[2 * at];
		int c = memcmp(m->p, member.p, m->len < member.len ? m->len : member.len);

		if (sc > score || (sc == score && (c > 0 || (c == 0 && m->len > member.len))))
			break;
		at++;
	}
	(void)snprintf(text, sizeof(text), "%.17g", score);
	e->items = sf_xrealloc(e->items, (e->n + 2) * sizeof(*e->items));
	memmove(&e->items[2 * at + 2], &e->items[2 * at], (e->n - 2 * at) * sizeof(*e->items));
	e->items[2 * at] = blob_dup(member);
	e->items[2 * at + 1] = blob_dup((struct span){text, strlen(text)});
	e->n += 2;
}

/* ZADD key [NX|XX] score member [score member ...] */
static struct sf_kv_reply *cmd_zadd(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	bool nx = false, xx = false;
	struct entry *e;
	long long added = 0;
	int i = 2;

	for (; i < cmd->argc; i++) {
		if (span_is(arg(cmd, i), "NX"))
			nx = true;
		else if (span_is(arg(cmd, i), "XX"))
			xx = true;
		else
			break;
	}
	if ((nx && xx) || i == cmd->argc || (cmd->argc - i) % 2 != 0)
		return reply_err("ERR syntax error");
	for (int j = i; j < cmd->argc; j += 2) {
		double v;

		if (span_to_score(arg(cmd, j), NULL, &v) < 0)
			return reply_err("ERR value is not a valid float");
	}
	err = lookup_typed(f, arg(cmd, 1), ENTRY_ZSET, &e);
	if (err)
		return err;
	for (; i < cmd->argc; i += 2) {
		long at = e ? items_find(e, arg(cmd, i + 1), 2) : -1;
		double v;

		(void)span_to_score(arg(cmd, i), NULL, &v);
		if ((at >= 0 && nx) || (at < 0 && xx))
			continue;
		if (!e)
			e = entry_add(f, arg(cmd, 1), ENTRY_ZSET);
		if (at >= 0)
			items_remove(e, (size_t)at, 2);
		else
			added++;
		zset_insert(e, arg(cmd, i + 1), v);
	}
	return sf_kv_reply_new_int(added);
}

static struct sf_kv_reply *cmd_zrem(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return remove_items(f, cmd, ENTRY_ZSET, 2);
}

static struct sf_kv_reply *cmd_zcard(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return count_items(f, cmd, ENTRY_ZSET, 2);
}

static struct sf_kv_reply *cmd_zscore(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	struct entry *e;
	long at;

	err = lookup_typed(f, arg(cmd, 1), ENTRY_ZSET, &e);
	if (err)
		return err;
	at = e ? items_find(e, arg(cmd, 2), 2) : -1;
	return at >= 0 ? reply_blob(&e->items[at + 1]) : sf_kv_reply_new(SF_KV_REPLY_NIL);
}

/* Rank arguments start, stop (negative from the end) as a pair range [*lo, *hi); false when
 * empty. */
static bool rank_range(const struct entry *e, long long start, long long stop, size_t *lo,
		       size_t *hi)
{
	long long n = e ? (long long)(e->n / 2) : 0;

	if (start < 0)
		start += n;
	if (stop < 0)
		stop += n;
	if (start < 0)
		start = 0;
	if (stop >= n)
		stop = n - 1;
	if (n == 0 || start > stop)
		return false;
	*lo = (size_t)start;
	*hi = (size_t)stop + 1;
	return true;
}

/* ZRANGE and ZREVRANGE key start stop (members only) */
static struct sf_kv_reply *zrange(struct kv_fake *f, const struct sf_kv_argv *cmd, bool rev)
{
	struct sf_kv_reply *err, *a;
	long long start, stop;
	size_t lo, hi;
	struct entry *e;

	if (span_to_ll(arg(cmd, 2), &start) < 0 || span_to_ll(arg(cmd, 3), &stop) < 0)
		return reply_err("ERR value is not an integer or out of range");
	err = lookup_typed(f, arg(cmd, 1), ENTRY_ZSET, &e);
	if (err)
		return err;
	if (!rank_range(e, start, stop, &lo, &hi))
		return sf_kv_reply_new_array(0);
	a = sf_kv_reply_new_array(hi - lo);
	for (size_t i = lo; i < hi; i++) {
		size_t pair = rev ? e->n / 2 - 1 - i : i;

		a->elems[i - lo] = reply_blob(&e->items[2 * pair]);
	}
	return a;
}

static struct sf_kv_reply *cmd_zrange(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return zrange(f, cmd, false);
}

static struct sf_kv_reply *cmd_zrevrange(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	return zrange(f, cmd, true);
}

/* Remove the pairs [lo, hi); an emptied key disappears. */
static struct sf_kv_reply *zremove(struct kv_fake *f, struct entry *e, size_t lo, size_t hi)
{
	items_remove(e, 2 * lo, 2 * (hi - lo));
	if (e->n == 0)
		entry_remove(f, e);
	return sf_kv_reply_new_int((long long)(hi - lo));
}

static struct sf_kv_reply *cmd_zremrangebyrank(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	long long start, stop;
	size_t lo, hi;
	struct entry *e;

	if (span_to_ll(arg(cmd, 2), &start) < 0 || span_to_ll(arg(cmd, 3), &stop) < 0)
		return reply_err("ERR value is not an integer or out of range");
	err = lookup_typed(f, arg(cmd, 1), ENTRY_ZSET, &e);
	if (err)
		return err;
	if (!rank_range(e, start, stop, &lo, &hi))
		return sf_kv_reply_new_int(0);
	return zremove(f, e, lo, hi);
}

/* ZREMRANGEBYSCORE key min max, with "(" for exclusive bounds and -inf/+inf */
static struct sf_kv_reply *cmd_zremrangebyscore(struct kv_fake *f, const struct sf_kv_argv *cmd)
{
	struct sf_kv_reply *err;
	bool min_ex, max_ex;
	double min, max;
	size_t lo, hi;
	struct entry *e;

	if (span_to_score(arg(cmd, 2), &min_ex, &min) < 0 ||
	    span_to_score(arg(cmd, 3), &max_ex, &max) < 0)
		return reply_err("ERR min or max is not a float");
	err = lookup_typed(f, arg(cmd, 1), ENTRY_ZSET, &e);
	if (err)
		return err;
	if (!e)
		return sf_kv_reply_new_int(0);
	for (lo = 0; lo < e->n / 2; lo++) {
		double sc = zscore_at(e, lo);

		if (min_ex ? sc > min : sc >= min)
			break;
	}
	for (hi = lo; hi < e->n / 2; hi++) {
		double sc = zscore_at(e, hi);

		if (max_ex ? sc >= max : sc > max)
			break;
	}
	return hi > lo ? zremove(f, e, lo, hi) : sf_kv_reply_new_int(0);
}

/* Arity as in Redis' command table: n means exactly n arguments (with the name), -n at least n. */
static const struct fake_cmd {
	const char *name;
	int arity;
	struct sf_kv_reply *(*fn)(struct kv_fake *f, const struct sf_kv_argv *cmd);
} fake_cmds[] = {
	{"ping", -1, cmd_ping},
	{"get", 2, cmd_get},
	{"set", -3, cmd_set},
	{"del", -2, cmd_del},
	{"exists", -2, cmd_exists},
	{"incr", 2, cmd_incr},
	{"expire", 3, cmd_expire},
	{"ttl", 2, cmd_ttl},
	{"hset", -4, cmd_hset},
	{"hget", 3, cmd_hget},
	{"hdel", -3, cmd_hdel},
	{"hgetall", 2, cmd_hgetall},
	{"hlen", 2, cmd_hlen},
	{"sadd", -3, cmd_sadd},
	{"srem", -3, cmd_srem},
	{"smembers", 2, cmd_smembers},
	{"sismember", 3, cmd_sismember},
	{"scard", 2, cmd_scard},
	{"zadd", -4, cmd_zadd},
	{"zrem", -3, cmd_zrem},
	{"zcard", 2, cmd_zcard},
	{"zscore", 3, cmd_zscore},
	{"zrange", 4, cmd_zrange},
	{"zrevrange", 4, cmd_zrevrange},
	{"zremrangebyrank", 4, cmd_zremrangebyrank},
	{"zremrangebyscore", 4, cmd_zremrangebyscore},
};

/* The command's table entry, or an error reply as Redis gives before running anything. */
static struct sf_kv_reply *check_cmd(const struct sf_kv_argv *cmd, const struct fake_cmd **ret)
{
	struct span name = arg(cmd, 0);
	char msg[160];

	for (size_t i = 0; i < SF_ARRAY_SIZE(fake_cmds); i++) {
		const struct fake_cmd *c = &fake_cmds[i];

		if (!span_is(name, c->name))
			continue;
		if ((c->arity > 0 && cmd->argc != c->arity) ||
		    (c->arity < 0 && cmd->argc < -c->arity)) {
			(void)snprintf(msg, sizeof(msg),
				       "ERR wrong number of arguments for '%s' command", c->name);
			return reply_err(msg);
		}
		*ret = c;
		return NULL;
	}
	(void)snprintf(msg, sizeof(msg), "ERR unknown command '%.*s'",
		       (int)(name.len > 64 ? 64 : name.len), name.p);
	return reply_err(msg);
}

/* ---- the class ---- */

static int fake_command(void *ctx, const struct sf_kv_argv *cmd, struct sf_kv_reply **ret_reply)
{
	struct kv_fake *f = ctx;
	const struct fake_cmd *c;
	struct sf_kv_reply *reply;

	if (f->down)
		return -ECONNREFUSED;
	reply = check_cmd(cmd, &c);
	*ret_reply = reply ? reply : c->fn(f, cmd);
	return 0;
}

static int fake_exec(void *ctx, const struct sf_kv_argv *cmds, size_t n,
		     struct sf_kv_reply **ret_reply)
{
	struct kv_fake *f = ctx;
	const struct fake_cmd **c;
	struct sf_kv_reply *a;

	if (f->down)
		return -ECONNREFUSED;
	/* A command Redis refuses to queue discards the whole transaction. */
	c = sf_xcalloc(n, sizeof(const struct fake_cmd *));
	for (size_t i = 0; i < n; i++) {
		struct sf_kv_reply *err = check_cmd(&cmds[i], &c[i]);

		if (err) {
			free(c);
			*ret_reply = err;
			return 0;
		}
	}
	a = sf_kv_reply_new_array(n);
	for (size_t i = 0; i < n; i++)
		a->elems[i] = c[i]->fn(f, &cmds[i]);
	free(c);
	*ret_reply = a;
	return 0;
}

static int fake_script_run(void *ctx, const struct sf_kv_script *s, size_t nkeys,
			   const char *const *keys, size_t nargs, const char *const *args,
			   struct sf_kv_reply **ret_reply)
{
	struct kv_fake *f = ctx;

	if (f->down)
		return -ECONNREFUSED;
	for (struct fake_script *fs = f->scripts; fs; fs = fs->next)
		if (strcmp(fs->lua, sf_kv_script_lua(s)) == 0)
			return fs->fn(f->kv, nkeys, keys, nargs, args, fs->userdata, ret_reply);
	return -EOPNOTSUPP;
}

static int fake_wait_ready(void *ctx, uint64_t timeout_ms)
{
	struct kv_fake *f = ctx;

	(void)timeout_ms;
	return f->down ? -ETIMEDOUT : 0;
}

static void fake_free(void *ctx)
{
	struct kv_fake *f = ctx;

	while (f->entries)
		entry_remove(f, f->entries);
	while (f->scripts) {
		struct fake_script *next = f->scripts->next;

		free(f->scripts->lua);
		free(f->scripts);
		f->scripts = next;
	}
	free(f);
}

static const struct sf_kv_class kv_fake_class = {
	.name = "fake",
	.command = fake_command,
	.exec = fake_exec,
	.script_run = fake_script_run,
	.wait_ready = fake_wait_ready,
	.free = fake_free,
};

struct sf_kv *sf_kv_fake_new(const char *prefix)
{
	struct kv_fake *f = sf_xcalloc(1, sizeof(*f));

	f->kv = sf_kv_new_with_class(&kv_fake_class, f, prefix);
	return f->kv;
}

static struct kv_fake *fake_of(struct sf_kv *kv)
{
	struct kv_fake *f = sf_kv_ctx(kv, &kv_fake_class);

	if (!f)
		abort(); /* not a fake: a bug in the test */
	return f;
}

void sf_kv_fake_set_down(struct sf_kv *kv, bool down)
{
	fake_of(kv)->down = down;
}

void sf_kv_fake_advance_ms(struct sf_kv *kv, uint64_t ms)
{
	fake_of(kv)->clock_ms += ms;
}

size_t sf_kv_fake_nkeys(struct sf_kv *kv)
{
	struct kv_fake *f = fake_of(kv);
	size_t n = 0;

	for (struct entry *e = f->entries, *next; e; e = next) {
		next = e->next;
		n += lookup(f, (struct span){e->key.p, e->key.len}) != NULL;
	}
	return n;
}

int sf_kv_fake_script_register(struct sf_kv *kv, const char *lua,
			       int (*fn)(struct sf_kv *kv, size_t nkeys, const char *const *keys,
					 size_t nargs, const char *const *args, void *userdata,
					 struct sf_kv_reply **ret_reply),
			       void *userdata)
{
	struct kv_fake *f = fake_of(kv);
	struct fake_script *fs;

	if (!lua || !fn)
		return -EINVAL;
	fs = sf_xcalloc(1, sizeof(*fs));
	fs->lua = sf_xstrdup(lua);
	fs->fn = fn;
	fs->userdata = userdata;
	fs->next = f->scripts;
	f->scripts = fs;
	return 0;
}
