// SPDX-License-Identifier: Apache-2.0
/*
 * The Redis store: the hiredis 0.14 backend of struct sf_kv (the neutral layer is kv.c). No
 * hiredis type leaves this file and every redisReply is freed right after it is converted.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "sf/err.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/util.h"

SF_LOG_MODULE("kv");

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

/* Append a command, or MULTI, the commands and EXEC, to the output buffer. */
static int append_item(struct kv_redis *k, const struct sf_kv_argv *cmds, size_t n, bool exec)
{
	if (exec && redisAppendCommand(k->c, "MULTI") != REDIS_OK)
		return redis_drop(k, errno);
	for (size_t i = 0; i < n; i++)
		if (redisAppendCommandArgv(k->c, cmds[i].argc, (const char **)cmds[i].argv,
					   cmds[i].argvlen) != REDIS_OK)
			return redis_drop(k, errno);
	if (exec && redisAppendCommand(k->c, "EXEC") != REDIS_OK)
		return redis_drop(k, errno);
	return 0;
}

/* Read the replies of what append_item() sent: a command's reply, or for a transaction the
 * EXEC reply; every reply is read to keep the stream in step. If a command was refused while
 * queueing, EXEC answers EXECABORT: report that first error instead. */
static int read_item(struct kv_redis *k, size_t n, bool exec, struct sf_kv_reply **ret_reply)
{
	struct sf_kv_reply *first_err = NULL, *result = NULL;
	size_t total = exec ? n + 2 : 1;

	for (size_t i = 0; i < total; i++) {
		redisReply *rr;
		void *p;

		if (redisGetReply(k->c, &p) != REDIS_OK) {
			int r = redis_drop(k, errno);

			sf_kv_reply_free(first_err);
			sf_kv_reply_free(result);
			return r;
		}
		rr = p;
		if (i == total - 1)
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
}

/* MULTI, the commands and EXEC in one pipeline. */
static int kv_redis_exec(void *ctx, const struct sf_kv_argv *cmds, size_t n,
			 struct sf_kv_reply **ret_reply)
{
	struct kv_redis *k = ctx;
	int r;

	r = redis_connect(k);
	if (r >= 0)
		r = append_item(k, cmds, n, true);
	if (r >= 0)
		r = read_item(k, n, true, ret_reply);
	return r;
}

/* Every item in one write (hiredis sends its output buffer with the first read), then every
 * reply. */
static int kv_redis_pipeline(void *ctx, const struct sf_kv_pipe_item *items, size_t n,
			     struct sf_kv_reply **ret_replies)
{
	struct kv_redis *k = ctx;
	int r;

	r = redis_connect(k);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = append_item(k, items[i].cmds, items[i].n, items[i].exec);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = read_item(k, items[i].n, items[i].exec, &ret_replies[i]);
	if (r < 0) /* none written on failure (read_item writes only on success) */
		for (size_t i = 0; i < n; i++) {
			sf_kv_reply_free(ret_replies[i]);
			ret_replies[i] = NULL;
		}
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
	argv[1] = sf_kv_script_sha(s);
	argv[2] = nkeys_str;
	for (size_t i = 0; i < nkeys; i++)
		argv[3 + i] = keys[i];
	for (size_t i = 0; i < nargs; i++)
		argv[3 + nkeys + i] = args[i];
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);

	r = kv_redis_command(ctx, &cmd, &reply);
	if (r == 0 && sf_kv_reply_errno(reply) == -ENOENT) {
		sf_log_debug("script %s not in the server's cache, sending it",
			     sf_kv_script_sha(s));
		sf_kv_reply_free(reply);
		reply = NULL;
		argv[0] = "EVAL";
		argv[1] = sf_kv_script_lua(s);
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
	.pipeline = kv_redis_pipeline,
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
