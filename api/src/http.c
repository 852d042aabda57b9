// SPDX-License-Identifier: Apache-2.0
/*
 * The HTTP server: libmicrohttpd with a thread pool. The only file that sees MHD types.
 *
 * One request: the body is accumulated (bounded by max_body_bytes: a declared Content-Length
 * over the bound is answered 413 before the body is read; a chunked body that passes it makes
 * us close the connection), then serve() runs the flow of api.h's header comment and
 * send_response() turns the api_response into bytes, with X-Request-ID on every answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "http.h"
#include "sf/envelope.h"
#include "sf/err.h"
#include "sf/json.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/mq.h"
#include "sf/schema.h"

SF_LOG_MODULE("http");

#define REQUEST_ID_MAX_LEN 128
#define DRAIN_TIMEOUT_MS 10000	/* how long a stop waits for in-flight requests */
#define CONNECTION_TIMEOUT_S 60 /* idle keep-alive connections are closed after this */

struct api_http {
	struct MHD_Daemon *daemon;
	const struct api_cfg *cfg;
	const struct sf_envelope_schemas *envelopes;
	const struct api_route_schemas *schemas;
	pthread_key_t ctx_key;
	atomic_uint in_flight; /* requests begun and not completed */
};

/* Per request (MHD's con_cls). */
struct request_state {
	char id[REQUEST_ID_MAX_LEN + 1];
	uint64_t start_ms;
	char *body;
	size_t len, cap;
	bool answered;
};

static __thread const char *current_request_id;

const char *api_current_request_id(void)
{
	return current_request_id;
}

bool api_request_id_is_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > REQUEST_ID_MAX_LEN)
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* ---- per-thread context ---- */

static void ctx_free(void *p)
{
	struct api_ctx *ctx = p;

	if (!ctx)
		return;
	sf_mq_free(ctx->mq);
	sf_kv_free(ctx->kv);
	free(ctx);
}

/* This thread's context, created on first use; connections are made lazily by kv and mq. */
static int thread_ctx(struct api_http *h, struct api_ctx **ret_ctx)
{
	struct api_ctx *ctx = pthread_getspecific(h->ctx_key);
	struct sf_kv_options kopt = {.prefix = h->cfg->common.redis_prefix};
	struct sf_mq_options mopt = {
		.confirm_timeout_ms = (unsigned)h->cfg->job_timeout_ms,
		.rpc_timeout_ms = (unsigned)h->cfg->job_timeout_ms,
	};
	int r;

	if (ctx) {
		*ret_ctx = ctx;
		return 0;
	}
	ctx = sf_xcalloc(1, sizeof(*ctx));
	ctx->cfg = h->cfg;
	ctx->envelopes = h->envelopes;
	r = sf_kv_redis_new(h->cfg->common.redis_url, &kopt, &ctx->kv);
	if (r >= 0)
		r = sf_mq_amqp_new(h->cfg->common.amqp_url, &mopt, &ctx->mq);
	if (r >= 0)
		r = -pthread_setspecific(h->ctx_key, ctx);
	if (r < 0) {
		ctx_free(ctx);
		return sf_log_err_errno(r, "cannot create the request context");
	}
	*ret_ctx = ctx;
	return 0;
}

/* ---- the request flow, without MHD ---- */

static bool is_unavailable(int r)
{
	return r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT || r == -ENOTCONN ||
	       r == -EPIPE;
}

/* An internal failure (-errno) becomes 503 when Redis or RabbitMQ is away, else 500. */
static void internal_error(struct api_response *resp, int r, const char *what)
{
	if (is_unavailable(r)) {
		sf_log_warn_rl("%s failed: %s", what, sf_strerror(r)); /* repeats while it lasts */
		api_error(resp, 503, "service unavailable: %s", sf_strerror(r));
	} else {
		sf_log_err_errno(r, "%s failed", what);
		api_error(resp, 500, "server error: %s", sf_strerror(r));
	}
}

struct incoming {
	const char *method;
	const char *path;
	const char *body;
	size_t len;
	const char *authorization;
	const char *remote_address;
	const char *request_id;
};

/* The token check (auth.h) with one round trip to Redis for the key check and the reads the route's
 * handler is about to make (api_route_prefetch()): the token is checked first, so a bad one
 * costs no round trip; a failed send is the key check's failure, as it would have been. */
static int authenticate(struct api_ctx *ctx, const struct api_route *route,
			const char *authorization, struct api_request *req,
			struct api_response *resp)
{
	api_prefetch_fn prefetch = api_route_prefetch(route);
	struct api_token_claims tc;
	int r;

	r = api_auth_token_check(ctx, authorization, &tc, resp);
	if (r < 0 || resp->status != 200)
		return r;
	api_auth_prefetch(ctx, &tc);
	if (prefetch)
		prefetch(ctx, req);
	r = sf_kv_prefetch_send(ctx->kv);
	if (r < 0)
		return r;
	return api_auth_key_check(ctx, &tc, &req->caller, resp);
}

static void serve(struct api_http *h, const struct incoming *in, struct api_response *resp)
{
	struct api_request req = {
		.method = in->method,
		.path = in->path,
		.request_id = in->request_id,
		.remote_address = in->remote_address,
	};
	const struct api_route *route;
	const struct sf_schema *schema;
	struct api_ctx *ctx = NULL;
	struct sf_diag diag = {0};
	json_t *body = NULL;
	char *buf;
	int r;

	buf = sf_xmalloc(strlen(in->path) + 1);
	if (in->len == 0) {
		body = json_object();
	} else if (sf_json_load_buf(in->body, in->len, &body, &diag) < 0) {
		api_error(resp, 400, "invalid JSON body: %s", diag.message);
		goto out;
	} else if (!json_is_object(body)) {
		api_error(resp, 400, "invalid JSON body: expected an object");
		goto out;
	}
	req.body = body;

	r = api_route_match(in->method, in->path, &route, req.params, &req.n_params, buf,
			    strlen(in->path) + 1);
	if (r == -EPERM) {
		api_ok(resp, json_pack("{s:s}", "message",
				       "The method is not allowed for the requested URL."));
		resp->status = 405;
		goto out;
	}
	if (r < 0) {
		api_error(resp, 404, "not found");
		goto out;
	}

	r = thread_ctx(h, &ctx);
	if (r < 0) {
		internal_error(resp, r, "request context");
		goto out;
	}
	if (!(route->flags & API_PUBLIC)) {
		r = authenticate(ctx, route, in->authorization, &req, resp);
		if (r < 0) {
			internal_error(resp, r, "authentication");
			goto out;
		}
		if (resp->status != 200)
			goto out;
		if ((route->flags & API_SYSTEM_ONLY) && !req.caller.is_system) {
			api_error(resp, 401, "unauthorized");
			goto out;
		}
	}

	schema = api_route_schema(h->schemas, route);
	if (!schema) {
		internal_error(resp, -ENOENT, "body schema lookup");
		goto out;
	}
	if (sf_schema_validate(schema, body, &diag) < 0) {
		api_error(resp, 400, "%s", diag.message);
		goto out;
	}

	r = route->handler(ctx, &req, resp);
	if (r < 0)
		internal_error(resp, r, route->pattern);
out:
	if (ctx)
		sf_kv_prefetch_drop(ctx->kv); /* what the handler did not ask for */
	json_decref(body);
	free(buf);
}

/* ---- MHD glue ---- */

/* The serialized response and its content type. */
static char *encode(const struct api_response *resp, size_t *ret_len, const char **ret_type)
{
	char *s;

	*ret_type = resp->content_type ? resp->content_type : "application/json";
	if (resp->raw) {
		s = sf_xstrdup(resp->raw);
	} else if (resp->error || resp->error_obj) {
		json_t *msg =
			resp->error_obj ? json_incref(resp->error_obj) : json_string(resp->error);
		json_t *o;

		if (!msg) /* not valid UTF-8 */
			msg = json_string("(error message not valid UTF-8)");
		o = json_pack("{s:o, s:i}", "error", msg, "status", resp->status);
		s = sf_json_dumps(o);
		json_decref(o);
	} else {
		char *j = resp->body ? sf_json_dumps(resp->body) : sf_xstrdup("null");

		s = sf_xasprintf("%s\n", j);
		free(j);
	}
	*ret_len = strlen(s);
	return s;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct request_state *st,
				     const char *method, const char *url,
				     const struct api_response *resp)
{
	struct MHD_Response *mr;
	const char *type;
	enum MHD_Result ret;
	size_t len;
	char *s = encode(resp, &len, &type);

	mr = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE);
	if (!mr) {
		free(s);
		return MHD_NO;
	}
	if (MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    MHD_add_response_header(mr, "X-Request-ID", st->id) != MHD_YES) {
		MHD_destroy_response(mr);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, (unsigned)resp->status, mr);
	MHD_destroy_response(mr);
	st->answered = true;
	sf_log_info("%s %s status=%d duration_ms=%" PRIu64, method, url, resp->status,
		    sf_now_monotonic_ms() - st->start_ms);
	return ret;
}

static void remote_address(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	buf[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
			  (socklen_t)size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  buf, (socklen_t)size);
}

static enum MHD_Result answer(struct api_http *h, struct MHD_Connection *conn,
			      struct request_state *st, const char *method, const char *url)
{
	struct api_response resp = {.status = 200};
	char addr[INET6_ADDRSTRLEN];
	struct incoming in = {
		.method = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method,
		.path = url,
		.body = st->body,
		.len = st->len,
		.authorization =
			MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
		.remote_address = addr,
		.request_id = st->id,
	};
	enum MHD_Result ret;

	remote_address(conn, addr, sizeof(addr));
	serve(h, &in, &resp);
	ret = send_response(conn, st, method, url, &resp);
	api_response_clear(&resp);
	return ret;
}

static enum MHD_Result answer_too_big(struct api_http *h, struct MHD_Connection *conn,
				      struct request_state *st, const char *method, const char *url)
{
	struct api_response resp = {.status = 200};
	enum MHD_Result ret;

	api_error(&resp, 413, "request body too large (limit %ld bytes)", h->cfg->max_body_bytes);
	ret = send_response(conn, st, method, url, &resp);
	api_response_clear(&resp);
	return ret;
}

static struct request_state *request_begin(struct api_http *h, struct MHD_Connection *conn)
{
	struct request_state *st = sf_xcalloc(1, sizeof(*st));
	const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-ID");

	st->start_ms = sf_now_monotonic_ms();
	if (api_request_id_is_valid(id))
		(void)snprintf(st->id, sizeof(st->id), "%s", id);
	else
		sf_uuid_generate(st->id);
	atomic_fetch_add(&h->in_flight, 1);
	return st;
}

static bool declared_too_big(struct api_http *h, struct MHD_Connection *conn)
{
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	long n;

	/* A malformed Content-Length is MHD's to refuse. */
	return cl && sf_parse_long(cl, 0, LONG_MAX, &n) == 0 && n > h->cfg->max_body_bytes;
}

/* Append an upload chunk. false when the body passes the bound. */
static bool take_upload(struct api_http *h, struct request_state *st, const char *data, size_t n)
{
	if (n > (size_t)h->cfg->max_body_bytes - st->len)
		return false;
	if (st->len + n + 1 > st->cap) {
		st->cap = st->len + n + 1 > 2 * st->cap ? st->len + n + 1 : 2 * st->cap;
		st->body = sf_xrealloc(st->body, st->cap);
	}
	memcpy(st->body + st->len, data, n);
	st->len += n;
	st->body[st->len] = '\0';
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct api_http *h = cls;
	struct request_state *st = *con_cls;
	enum MHD_Result ret = MHD_YES;

	(void)version;
	if (!st) {
		st = request_begin(h, conn);
		*con_cls = st;
		current_request_id = st->id;
		sf_log_set_request_id(st->id);
		/* Refuse a declared oversize body before reading any of it. */
		if (declared_too_big(h, conn))
			ret = answer_too_big(h, conn, st, method, url);
		goto out;
	}
	current_request_id = st->id;
	sf_log_set_request_id(st->id);
	if (st->answered) {
		*upload_size = 0;
	} else if (*upload_size) {
		if (!take_upload(h, st, upload, *upload_size)) {
			/* Only a chunked body gets here (a declared length was checked): MHD
			 * cannot answer in the middle of an upload, so stop reading now. */
			sf_log_info("%s %s: chunked body over %ld bytes, closing the connection",
				    method, url, h->cfg->max_body_bytes);
			ret = MHD_NO;
		}
		*upload_size = 0;
	} else {
		ret = answer(h, conn, st, method, url);
	}
out:
	current_request_id = NULL;
	sf_log_set_request_id(NULL);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_http *h = cls;
	struct request_state *st = *con_cls;

	(void)conn;
	(void)toe;
	if (!st)
		return;
	free(st->body);
	free(st);
	*con_cls = NULL;
	atomic_fetch_sub(&h->in_flight, 1);
}

/* Keep the path as sent: routes.c decodes each segment, so "%2F" stays inside a parameter. */
static size_t no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	sf_log_warn("libmicrohttpd: %s", msg);
}

int api_http_start(const struct api_cfg *cfg, const struct sf_envelope_schemas *envelopes,
		   const struct api_route_schemas *schemas, struct api_http **ret_http)
{
	struct api_http *h = sf_xcalloc(1, sizeof(*h));
	struct sockaddr_storage ss = {0};
	unsigned flags =
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	int r;

	if (inet_pton(AF_INET, cfg->listen_address,
		      &((struct sockaddr_in *)(void *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)(void *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)(void *)&ss)->sin_port = htons((uint16_t)cfg->port);
	} else if (inet_pton(AF_INET6, cfg->listen_address,
			     &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)(void *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)(void *)&ss)->sin6_port = htons((uint16_t)cfg->port);
		flags |= MHD_USE_IPv6;
	} else {
		free(h);
		return sf_log_err_errno(-EINVAL, "listen_address '%s' is not an IP address",
					cfg->listen_address);
	}
	h->cfg = cfg;
	h->envelopes = envelopes;
	h->schemas = schemas;
	r = -pthread_key_create(&h->ctx_key, ctx_free);
	if (r < 0) {
		free(h);
		return r;
	}
	errno = 0;
	h->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)cfg->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	if (!h->daemon) {
		r = errno == EADDRINUSE ? -EADDRINUSE : -EIO;
		pthread_key_delete(h->ctx_key);
		free(h);
		return sf_log_err_errno(r, "cannot listen on %s port %ld", cfg->listen_address,
					cfg->port);
	}
	*ret_http = h;
	return 0;
}

void api_http_stop(struct api_http *h)
{
	uint64_t deadline = sf_now_monotonic_ms() + DRAIN_TIMEOUT_MS;
	MHD_socket listen_fd;
	unsigned n;

	if (!h)
		return;
	listen_fd = MHD_quiesce_daemon(h->daemon); /* no new connections */
	while ((n = atomic_load(&h->in_flight)) > 0 && sf_now_monotonic_ms() < deadline)
		(void)sf_sleep_ms(20);
	if (n > 0)
		sf_log_warn("stopping with %u requests still in flight", n);
	MHD_stop_daemon(h->daemon); /* joins the pool threads, which frees their contexts */
	if (listen_fd != MHD_INVALID_SOCKET)
		(void)close(listen_fd); /* quiesce handed it to us */
	pthread_key_delete(h->ctx_key);
	free(h);
}
