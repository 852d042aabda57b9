// SPDX-License-Identifier: Apache-2.0
/*
 * The message bus over AMQP 0-9-1 (librabbitmq 0.11): the real class of struct sf_mq (the
 * dispatch is mq.c).
 *
 * One connection with one channel per sf_mq. The channel is in confirm mode, so every publish
 * gets a delivery tag (1, 2, ...) that the broker acks or nacks. Everything the broker sends
 * goes through pump(), which reads one frame and acts on it: a delivery is copied into our
 * struct and queued, a confirm or return is recorded for the publish that waits for it, and a
 * channel.close or connection.close drops the connection. librabbitmq queues frames that
 * arrive during an RPC (declare, consume) and hands them to pump() later, so deliveries that
 * race with RPCs are not lost.
 *
 * When the connection fails it is dropped (drop()); the next call reconnects, waiting
 * sf_backoff_ms() between failed attempts, and replays what this sf_mq set up: the topology,
 * confirm.select, the consumer. Each connection has an epoch; deliveries carry the epoch they
 * came on, so acking one from a previous connection returns -ESTALE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "sf/err.h"
#include "sf/log.h"
#include "sf/mq.h"
#include "sf/util.h"

SF_LOG_MODULE("mq");

#define CHANNEL 1
#define REPLY_TO "amq.rabbitmq.reply-to"
#define SHORTSTR_MAX 255 /* AMQP names and routing keys */

enum confirm {
	CONFIRM_WAITING,
	CONFIRM_ACK,
	CONFIRM_NACK,
};

/* How a connection ended, which decides how politely we leave and how soon we come back. */
enum drop_kind {
	DROP_CLEAN,   /* sf_mq_free: connection.close handshake */
	DROP_CHANNEL, /* the broker closed our channel (404, 406...): connection is fine */
	DROP_SERVER,  /* the broker sent connection.close: answer close-ok */
	DROP_DEAD,    /* socket error, EOF, heartbeat or RPC timeout */
};

struct pending {
	struct sf_mq_delivery *d;
	struct pending *next;
};

struct mq_amqp {
	struct sf_mq_options opt;
	char *url_buf; /* amqp_parse_url() writes into it; info points into it */
	struct amqp_connection_info info;

	amqp_connection_state_t conn; /* NULL while disconnected */
	uint64_t epoch;		      /* incremented by each successful connect */
	unsigned attempt;	      /* failed connects in a row */
	uint64_t next_attempt_ms;     /* no connect before this monotonic time */
	int last_err;		      /* why we are disconnected */

	/* Replayed after a reconnect. */
	bool topology;
	char **roles;
	size_t n_roles;
	char *consume_queue;

	/* Per connection. */
	char *consumer_tag;
	char *reply_tag; /* our direct reply-to consumer, started by the first request */
	uint64_t publish_seq;
	uint64_t keepalive_ms; /* when sf_mq_keepalive last sent a heartbeat */

	/* Filled by pump(). */
	struct pending *head, **tail; /* deliveries not yet handed out by next() */
	enum confirm confirm;
	bool returned;
	const char *want_msgid; /* message id of the publish waiting for its confirm */
	const char *want_corr;	/* correlation id of the request waiting for its reply */
	struct sf_mq_delivery *reply;
};

static struct timeval ms_to_tv(uint64_t ms)
{
	return (struct timeval){.tv_sec = (time_t)(ms / 1000), .tv_usec = (long)(ms % 1000) * 1000};
}

static struct timeval until(uint64_t deadline_ms)
{
	uint64_t now = sf_now_monotonic_ms();

	return ms_to_tv(deadline_ms > now ? deadline_ms - now : 0);
}

static uint64_t deadline_after(int timeout_ms)
{
	return sf_now_monotonic_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
}

static amqp_bytes_t cbytes(const char *s)
{
	return amqp_cstring_bytes(s);
}

static char *bytes_dup(amqp_bytes_t b)
{
	return sf_xstrndup(b.bytes ? b.bytes : "", b.len);
}

static bool bytes_eq(amqp_bytes_t b, const char *s)
{
	size_t n = strlen(s);

	return b.len == n && (n == 0 || memcmp(b.bytes, s, n) == 0);
}

static bool name_ok(const char *s)
{
	return s && strlen(s) <= SHORTSTR_MAX;
}

static void pending_clear(struct mq_amqp *m)
{
	while (m->head) {
		struct pending *p = m->head;

		m->head = p->next;
		sf_mq_delivery_free(p->d);
		free(p);
	}
	m->tail = &m->head;
}

/* Drop the connection. Deliveries received on it are discarded: the broker requeues them. */
static void drop(struct mq_amqp *m, enum drop_kind kind, int why)
{
	if (!m->conn)
		return;
	sf_log_debug("dropping connection to %s:%d: %s", m->info.host, m->info.port,
		     kind == DROP_CLEAN ? "closed" : sf_strerror(why));
	if (kind == DROP_CLEAN || kind == DROP_CHANNEL) {
		(void)amqp_connection_close(m->conn, AMQP_REPLY_SUCCESS);
	} else if (kind == DROP_SERVER) {
		amqp_connection_close_ok_t ok = {0};

		(void)amqp_send_method(m->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
	}
	amqp_destroy_connection(m->conn);
	m->conn = NULL;
	free(m->consumer_tag);
	m->consumer_tag = NULL;
	free(m->reply_tag);
	m->reply_tag = NULL;
	pending_clear(m);
	sf_mq_delivery_free(m->reply);
	m->reply = NULL;
	m->last_err = why < 0 ? why : -ENOTCONN;
	/* A broken connection is retried after a backoff, so a broker that accepts and then
	 * drops us is not hammered; a channel error (our request was refused) is not a reason
	 * to wait. */
	if (kind == DROP_SERVER || kind == DROP_DEAD)
		m->next_attempt_ms =
			sf_now_monotonic_ms() +
			sf_backoff_ms(m->attempt, m->opt.backoff_base_ms, m->opt.backoff_cap_ms);
}

/* An amqp_rpc_reply_t that is not normal: translate it and drop the connection. */
static int drop_rpc(struct mq_amqp *m, const amqp_rpc_reply_t *rep, const char *what)
{
	int code = 0, r;
	enum drop_kind kind = DROP_DEAD;

	if (rep->reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
		if (rep->reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			const amqp_channel_close_t *c = rep->reply.decoded;

			code = c->reply_code;
			kind = DROP_CHANNEL;
			sf_log_debug("%s: channel closed by the broker: %d %.*s", what, code,
				     (int)c->reply_text.len, (const char *)c->reply_text.bytes);
		} else if (rep->reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			const amqp_connection_close_t *c = rep->reply.decoded;

			code = c->reply_code;
			kind = DROP_SERVER;
			sf_log_debug("%s: connection closed by the broker: %d %.*s", what, code,
				     (int)c->reply_text.len, (const char *)c->reply_text.bytes);
		}
	}
	r = sf_err_from_amqp_reply(rep->reply_type, rep->library_error, code);
	if (r == 0)
		r = -EPROTO;
	sf_log_debug("%s failed: %s", what, sf_strerror(r));
	drop(m, kind, r);
	return r;
}

/* Check the reply of the RPC just made (declare, bind, consume...). */
static int rpc_check(struct mq_amqp *m, const char *what)
{
	amqp_rpc_reply_t rep = amqp_get_rpc_reply(m->conn);

	if (rep.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	return drop_rpc(m, &rep, what);
}

static int drop_status(struct mq_amqp *m, int status, const char *what)
{
	int r = sf_err_from_amqp_status(status);

	sf_log_debug("%s failed: %s", what, amqp_error_string2(status));
	drop(m, DROP_DEAD, r);
	return r;
}

/* ---- topology --------------------------------------------------------------------------- */

static int declare_exchange(struct mq_amqp *m, const char *name, const char *type)
{
	amqp_exchange_declare(m->conn, CHANNEL, cbytes(name), cbytes(type), 0, 1, 0, 0,
			      amqp_empty_table);
	return rpc_check(m, "exchange.declare");
}

static int declare_queue(struct mq_amqp *m, const char *name, amqp_table_t args,
			 const char *exchange, const char *key)
{
	int r;

	amqp_queue_declare(m->conn, CHANNEL, cbytes(name), 0, 1, 0, 0, args);
	r = rpc_check(m, "queue.declare");
	if (r < 0)
		return r;
	amqp_queue_bind(m->conn, CHANNEL, cbytes(name), cbytes(exchange), cbytes(key),
			amqp_empty_table);
	return rpc_check(m, "queue.bind");
}

static int declare_base(struct mq_amqp *m)
{
	int r;

	r = declare_exchange(m, SF_MQ_JOBS_EXCHANGE, "direct");
	if (r >= 0)
		r = declare_exchange(m, SF_MQ_DLX_EXCHANGE, "fanout");
	if (r >= 0)
		r = declare_exchange(m, SF_MQ_EVENTS_EXCHANGE, "topic");
	if (r >= 0)
		r = declare_queue(m, SF_MQ_DEAD_QUEUE, amqp_empty_table, SF_MQ_DLX_EXCHANGE, "");
	if (r >= 0)
		r = declare_queue(m, SF_MQ_EVENTS_RECORD_QUEUE, amqp_empty_table,
				  SF_MQ_EVENTS_EXCHANGE, "#");
	return r;
}

static int declare_role(struct mq_amqp *m, const char *role)
{
	amqp_table_entry_t e[3] = {
		{.key = cbytes("x-queue-type"),
		 .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = cbytes("quorum")}},
		{.key = cbytes("x-delivery-limit"),
		 .value = {.kind = AMQP_FIELD_KIND_I32,
			   .value.i32 = (int32_t)m->opt.delivery_limit}},
		{.key = cbytes("x-dead-letter-exchange"),
		 .value = {.kind = AMQP_FIELD_KIND_UTF8,
			   .value.bytes = cbytes(SF_MQ_DLX_EXCHANGE)}},
	};
	amqp_table_t args = {.num_entries = (int)SF_ARRAY_SIZE(e), .entries = e};
	char *name = sf_xasprintf(SF_MQ_JOBS_QUEUE_PREFIX "%s", role);
	int r;

	r = declare_queue(m, name, args, SF_MQ_JOBS_EXCHANGE, role);
	free(name);
	return r;
}

static int start_consumer(struct mq_amqp *m)
{
	amqp_basic_consume_ok_t *ok;
	int r;

	amqp_basic_qos(m->conn, CHANNEL, 0, (uint16_t)m->opt.prefetch, 0);
	r = rpc_check(m, "basic.qos");
	if (r < 0)
		return r;
	ok = amqp_basic_consume(m->conn, CHANNEL, cbytes(m->consume_queue), amqp_empty_bytes, 0, 0,
				0, amqp_empty_table);
	r = rpc_check(m, "basic.consume");
	if (r < 0)
		return r;
	m->consumer_tag = bytes_dup(ok->consumer_tag);
	return 0;
}

/* Direct reply-to: consume the pseudo-queue (no-ack) on the channel the requests go out on. */
static int start_reply_consumer(struct mq_amqp *m)
{
	amqp_basic_consume_ok_t *ok;
	int r;

	if (m->reply_tag)
		return 0;
	ok = amqp_basic_consume(m->conn, CHANNEL, cbytes(REPLY_TO), amqp_empty_bytes, 0, 1, 0,
				amqp_empty_table);
	r = rpc_check(m, "basic.consume reply-to");
	if (r < 0)
		return r;
	m->reply_tag = bytes_dup(ok->consumer_tag);
	return 0;
}

/* ---- the frame pump --------------------------------------------------------------------- */

static unsigned header_uint(const amqp_table_t *t, const char *key)
{
	for (int i = 0; i < t->num_entries; i++) {
		const amqp_field_value_t *v = &t->entries[i].value;
		int64_t x;

		if (!bytes_eq(t->entries[i].key, key))
			continue;
		switch (v->kind) {
		case AMQP_FIELD_KIND_U8:
			x = v->value.u8;
			break;
		case AMQP_FIELD_KIND_I16:
			x = v->value.i16;
			break;
		case AMQP_FIELD_KIND_U16:
			x = v->value.u16;
			break;
		case AMQP_FIELD_KIND_I32:
			x = v->value.i32;
			break;
		case AMQP_FIELD_KIND_U32:
			x = v->value.u32;
			break;
		case AMQP_FIELD_KIND_I64:
			x = v->value.i64;
			break;
		case AMQP_FIELD_KIND_U64:
			x = v->value.u64 > INT64_MAX ? INT64_MAX : (int64_t)v->value.u64;
			break;
		default:
			return 0;
		}
		return x < 0 ? 0 : x > UINT32_MAX ? UINT32_MAX : (unsigned)x;
	}
	return 0;
}

static char *prop_dup(const amqp_basic_properties_t *p, amqp_flags_t flag, amqp_bytes_t b)
{
	return (p->_flags & flag) ? bytes_dup(b) : NULL;
}

/* A basic.deliver arrived: read its content and queue it (or take it as the awaited reply). */
static int on_deliver(struct mq_amqp *m, const amqp_basic_deliver_t *dm)
{
	struct sf_mq_delivery *d = sf_xcalloc(1, sizeof(*d));
	const amqp_basic_properties_t *p;
	amqp_message_t msg;
	amqp_rpc_reply_t rep;
	bool is_reply = m->reply_tag && bytes_eq(dm->consumer_tag, m->reply_tag);

	d->delivery_tag = dm->delivery_tag;
	d->redelivered = dm->redelivered;
	d->exchange = bytes_dup(dm->exchange);
	d->routing_key = bytes_dup(dm->routing_key);
	d->epoch = m->epoch;

	rep = amqp_read_message(m->conn, CHANNEL, &msg, 0);
	if (rep.reply_type != AMQP_RESPONSE_NORMAL) {
		sf_mq_delivery_free(d);
		return drop_rpc(m, &rep, "reading a delivery");
	}
	p = &msg.properties;
	d->len = msg.body.len;
	d->body = sf_xmalloc(d->len + 1);
	if (d->len)
		memcpy(d->body, msg.body.bytes, d->len);
	d->body[d->len] = '\0';
	d->content_type = prop_dup(p, AMQP_BASIC_CONTENT_TYPE_FLAG, p->content_type);
	d->message_id = prop_dup(p, AMQP_BASIC_MESSAGE_ID_FLAG, p->message_id);
	d->correlation_id = prop_dup(p, AMQP_BASIC_CORRELATION_ID_FLAG, p->correlation_id);
	d->reply_to = prop_dup(p, AMQP_BASIC_REPLY_TO_FLAG, p->reply_to);
	if (p->_flags & AMQP_BASIC_HEADERS_FLAG)
		d->delivery_count = header_uint(&p->headers, "x-delivery-count");
	amqp_destroy_message(&msg);

	if (is_reply) {
		if (m->want_corr && !m->reply && sf_streq(d->correlation_id, m->want_corr)) {
			m->reply = d;
		} else {
			sf_log_debug("ignoring a reply with correlation id %s",
				     d->correlation_id ? d->correlation_id : "(none)");
			sf_mq_delivery_free(d);
		}
	} else {
		struct pending *pd = sf_xmalloc(sizeof(*pd));

		pd->d = d;
		pd->next = NULL;
		*m->tail = pd;
		m->tail = &pd->next;
	}
	return 0;
}

/* A mandatory publish could not be routed: the returned message follows. */
static int on_return(struct mq_amqp *m, const amqp_basic_return_t *rm)
{
	amqp_message_t msg;
	amqp_rpc_reply_t rep;

	sf_log_debug("message returned by the broker: %u %.*s", rm->reply_code,
		     (int)rm->reply_text.len, (const char *)rm->reply_text.bytes);
	rep = amqp_read_message(m->conn, CHANNEL, &msg, 0);
	if (rep.reply_type != AMQP_RESPONSE_NORMAL)
		return drop_rpc(m, &rep, "reading a returned message");
	if (m->want_msgid && (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) &&
	    bytes_eq(msg.properties.message_id, m->want_msgid))
		m->returned = true;
	amqp_destroy_message(&msg);
	return 0;
}

static void on_confirm(struct mq_amqp *m, uint64_t tag, bool multiple, enum confirm result)
{
	if (m->confirm != CONFIRM_WAITING)
		return;
	if (tag == m->publish_seq || (multiple && (tag == 0 || tag >= m->publish_seq)))
		m->confirm = result;
}

/* Read one frame, waiting until the deadline, and act on it. 0 when a frame was handled,
 * -ETIMEDOUT when none came, another error when the connection failed (it is dropped). */
static int pump(struct mq_amqp *m, uint64_t deadline)
{
	amqp_frame_t f;
	struct timeval tv = until(deadline);
	int status, r = 0;

	if (!m->conn)
		return m->last_err;
	status = amqp_simple_wait_frame_noblock(m->conn, &f, &tv);
	if (status == AMQP_STATUS_TIMEOUT)
		return -ETIMEDOUT;
	if (status != AMQP_STATUS_OK)
		return drop_status(m, status, "reading from the broker");
	if (f.frame_type != AMQP_FRAME_METHOD)
		goto out; /* content of something we did not ask for */

	switch (f.payload.method.id) {
	case AMQP_BASIC_DELIVER_METHOD:
		r = on_deliver(m, f.payload.method.decoded);
		break;
	case AMQP_BASIC_RETURN_METHOD:
		r = on_return(m, f.payload.method.decoded);
		break;
	case AMQP_BASIC_ACK_METHOD: {
		const amqp_basic_ack_t *a = f.payload.method.decoded;

		on_confirm(m, a->delivery_tag, a->multiple, CONFIRM_ACK);
		break;
	}
	case AMQP_BASIC_NACK_METHOD: {
		const amqp_basic_nack_t *n = f.payload.method.decoded;

		on_confirm(m, n->delivery_tag, n->multiple, CONFIRM_NACK);
		break;
	}
	case AMQP_BASIC_CANCEL_METHOD:
		/* The broker cancelled our consumer (its queue was deleted). Start over: the
		 * reconnect redeclares and consumes again, or fails visibly. */
		r = -ECONNRESET;
		drop(m, DROP_CLEAN, r);
		break;
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD: {
		amqp_rpc_reply_t rep = {.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION,
					.reply = f.payload.method};

		r = drop_rpc(m, &rep, "reading from the broker");
		break;
	}
	default:
		sf_log_debug("ignoring method 0x%08x on channel %u", f.payload.method.id,
			     f.channel);
		break;
	}
out:
	if (m->conn)
		amqp_maybe_release_buffers(m->conn);
	return r;
}

/* Handle whatever the broker already sent, without waiting: notices a closed connection. */
static void poll_input(struct mq_amqp *m)
{
	while (m->conn && pump(m, 0) == 0)
		;
}

/* ---- connection ------------------------------------------------------------------------- */

/*
 * While the broker is down, connecting to a local port inside the ephemeral range (the
 * development ports are) can make the kernel pick that very port as the source and connect the
 * socket to itself. Such a socket would hold the broker's port and keep it from starting
 * (EADDRINUSE); let go of it at once.
 */
static bool self_connected(int fd)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);

	if (getsockname(fd, (struct sockaddr *)&a, &la) < 0 ||
	    getpeername(fd, (struct sockaddr *)&b, &lb) < 0)
		return false;
	return la == lb && memcmp(&a, &b, la) == 0;
}

/* Set up what this sf_mq had on its previous connection. */
static int replay(struct mq_amqp *m)
{
	int r = 0;

	if (m->topology) {
		r = declare_base(m);
		for (size_t i = 0; r >= 0 && i < m->n_roles; i++)
			r = declare_role(m, m->roles[i]);
	}
	if (r >= 0 && m->consume_queue)
		r = start_consumer(m);
	if (m->conn)
		amqp_maybe_release_buffers(m->conn);
	return r;
}

static int do_connect(struct mq_amqp *m)
{
	amqp_connection_state_t c;
	amqp_socket_t *s;
	amqp_rpc_reply_t rep;
	struct timeval tv;
	const char *vhost = m->info.vhost && *m->info.vhost ? m->info.vhost : "/";
	int status, r;

	c = amqp_new_connection();
	if (!c)
		return -ENOMEM;
	s = amqp_tcp_socket_new(c);
	if (!s) {
		r = -ENOMEM;
		goto fail;
	}
	tv = ms_to_tv(m->opt.connect_timeout_ms);
	status = amqp_socket_open_noblock(s, m->info.host, m->info.port, &tv);
	if (status != AMQP_STATUS_OK) {
		/* librabbitmq says "socket error" for a refused connect; we never had a
		 * connection, so "reset" would mislead. */
		r = status == AMQP_STATUS_SOCKET_ERROR ? -ECONNREFUSED
						       : sf_err_from_amqp_status(status);
		goto fail;
	}
	if (self_connected(amqp_socket_get_sockfd(s))) {
		r = -ECONNREFUSED;
		goto fail;
	}
	(void)amqp_set_handshake_timeout(c, &tv);
	tv = ms_to_tv(m->opt.rpc_timeout_ms);
	(void)amqp_set_rpc_timeout(c, &tv);
	rep = amqp_login(c, vhost, 0, AMQP_DEFAULT_FRAME_SIZE, (int)m->opt.heartbeat_s,
			 AMQP_SASL_METHOD_PLAIN, m->info.user, m->info.password);
	if (rep.reply_type != AMQP_RESPONSE_NORMAL) {
		int code = 0;

		if (rep.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
		    rep.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
			code = ((const amqp_connection_close_t *)rep.reply.decoded)->reply_code;
		r = sf_err_from_amqp_reply(rep.reply_type, rep.library_error, code);
		goto fail;
	}

	m->conn = c;
	m->epoch++;
	m->publish_seq = 0;
	amqp_channel_open(c, CHANNEL);
	r = rpc_check(m, "channel.open");
	if (r < 0)
		return r;
	amqp_confirm_select(c, CHANNEL);
	r = rpc_check(m, "confirm.select");
	if (r < 0)
		return r;
	r = replay(m);
	if (r < 0)
		return r;
	sf_log_debug("connected to %s:%d vhost %s", m->info.host, m->info.port, vhost);
	return 0;

fail:
	amqp_destroy_connection(c);
	return r < 0 ? r : -EPROTO;
}

/* Connect unless connected or still backing off from a failed attempt. */
static int ensure_connected(struct mq_amqp *m)
{
	uint64_t now;
	int r;

	if (m->conn) {
		/* Notice a connection the broker closed while we were idle, and try a fresh
		 * one at once instead of failing the caller's operation on the dead socket. */
		poll_input(m);
		if (m->conn)
			return 0;
		m->next_attempt_ms = 0;
	}
	now = sf_now_monotonic_ms();
	if (now < m->next_attempt_ms)
		return m->last_err;
	r = do_connect(m);
	if (r < 0) {
		sf_log_debug("connecting to %s:%d failed (attempt %u): %s", m->info.host,
			     m->info.port, m->attempt + 1, sf_strerror(r));
		m->last_err = r;
		m->next_attempt_ms =
			sf_now_monotonic_ms() +
			sf_backoff_ms(m->attempt, m->opt.backoff_base_ms, m->opt.backoff_cap_ms);
		if (m->attempt < 64)
			m->attempt++;
		return r;
	}
	m->attempt = 0;
	m->next_attempt_ms = 0;
	return 0;
}

/* Connect, retrying with backoff, until connected or the deadline. */
static int connect_until(struct mq_amqp *m, uint64_t deadline)
{
	for (;;) {
		int r = ensure_connected(m);
		uint64_t now = sf_now_monotonic_ms(), wake;

		if (r == 0 || now >= deadline)
			return r;
		wake = m->next_attempt_ms < deadline ? m->next_attempt_ms : deadline;
		(void)sf_sleep_ms(wake > now ? wake - now : 1);
	}
}

/* ---- operations ------------------------------------------------------------------------- */

/* Publish and wait for the confirm. expiration_ms > 0 makes the broker drop the message if no
 * consumer has taken it by then. */
static int publish_confirmed(struct mq_amqp *m, const char *exchange, const char *routing_key,
			     const char *body, size_t len, const struct sf_mq_msg_props *p,
			     bool mandatory, unsigned expiration_ms, uint64_t deadline)
{
	amqp_basic_properties_t props = {0};
	char id[SF_UUID_STRLEN], expiration[16];
	const char *msgid;
	int status, r = 0;

	if (!name_ok(exchange) || !name_ok(routing_key))
		return -EINVAL;
	if (p && p->message_id) {
		msgid = p->message_id;
	} else {
		sf_uuid_generate(id);
		msgid = id;
	}
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		       AMQP_BASIC_MESSAGE_ID_FLAG;
	props.content_type = cbytes(p && p->content_type ? p->content_type : "application/json");
	props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	props.message_id = cbytes(msgid);
	if (p && p->correlation_id) {
		props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
		props.correlation_id = cbytes(p->correlation_id);
	}
	if (p && p->reply_to) {
		props._flags |= AMQP_BASIC_REPLY_TO_FLAG;
		props.reply_to = cbytes(p->reply_to);
	}
	if (expiration_ms > 0) {
		(void)sf_bprintf(expiration, sizeof(expiration), "%u", expiration_ms);
		props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
		props.expiration = cbytes(expiration);
	}

	status = amqp_basic_publish(m->conn, CHANNEL, cbytes(exchange), cbytes(routing_key),
				    mandatory, 0, &props,
				    (amqp_bytes_t){.len = len, .bytes = (void *)body});
	if (status != AMQP_STATUS_OK)
		return drop_status(m, status, "basic.publish");
	m->publish_seq++;
	m->confirm = CONFIRM_WAITING;
	m->returned = false;
	m->want_msgid = msgid;
	while (m->confirm == CONFIRM_WAITING) {
		r = pump(m, deadline);
		if (r < 0)
			goto out;
	}
	if (m->confirm == CONFIRM_NACK)
		r = -EIO;
	else if (m->returned)
		r = -ENOENT;
out:
	m->want_msgid = NULL;
	sf_log_debug("publish to '%s' key '%s' id %s: %s", exchange, routing_key, msgid,
		     r < 0 ? sf_strerror(r) : "confirmed");
	return r;
}

static int amqp_wait_ready(void *ctx, int timeout_ms)
{
	return connect_until(ctx, deadline_after(timeout_ms));
}

static int remember_role(struct mq_amqp *m, const char *role)
{
	for (size_t i = 0; i < m->n_roles; i++)
		if (strcmp(m->roles[i], role) == 0)
			return 0;
	m->roles = sf_xrealloc(m->roles, (m->n_roles + 1) * sizeof(*m->roles));
	m->roles[m->n_roles++] = sf_xstrdup(role);
	return 0;
}

static int amqp_declare_topology(void *ctx, const char *const *roles, size_t n)
{
	struct mq_amqp *m = ctx;
	int r;

	for (size_t i = 0; i < n; i++)
		if (!roles[i] || !*roles[i] ||
		    strlen(roles[i]) + strlen(SF_MQ_JOBS_QUEUE_PREFIX) > SHORTSTR_MAX)
			return -EINVAL;
	r = ensure_connected(m);
	if (r < 0)
		return r;
	r = declare_base(m);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = declare_role(m, roles[i]);
	if (r < 0)
		return r;
	amqp_maybe_release_buffers(m->conn);
	m->topology = true;
	for (size_t i = 0; i < n; i++)
		remember_role(m, roles[i]);
	return 0;
}

static void forget_queue(struct mq_amqp *m, const char *queue)
{
	if (sf_str_startswith(queue, SF_MQ_JOBS_QUEUE_PREFIX)) {
		const char *role = queue + strlen(SF_MQ_JOBS_QUEUE_PREFIX);

		for (size_t i = 0; i < m->n_roles; i++) {
			if (strcmp(m->roles[i], role) != 0)
				continue;
			free(m->roles[i]);
			m->roles[i] = m->roles[--m->n_roles];
			break;
		}
	}
	if (sf_streq(m->consume_queue, queue)) {
		free(m->consume_queue);
		m->consume_queue = NULL;
		free(m->consumer_tag);
		m->consumer_tag = NULL;
	}
}

static int amqp_delete_queue(void *ctx, const char *queue)
{
	struct mq_amqp *m = ctx;
	int r;

	if (!name_ok(queue) || !*queue)
		return -EINVAL;
	r = ensure_connected(m);
	if (r < 0)
		return r;
	/* Forget first: a reconnect must not recreate or consume it again. */
	forget_queue(m, queue);
	amqp_queue_delete(m->conn, CHANNEL, cbytes(queue), 0, 0);
	r = rpc_check(m, "queue.delete");
	if (r == -ENOENT)
		r = 0;
	if (m->conn)
		amqp_maybe_release_buffers(m->conn);
	return r;
}

static int amqp_publish(void *ctx, const char *exchange, const char *routing_key, const char *body,
			size_t len, const struct sf_mq_msg_props *props)
{
	struct mq_amqp *m = ctx;
	int r;

	r = ensure_connected(m);
	if (r < 0)
		return r;
	return publish_confirmed(m, exchange, routing_key, body, len, props, true, 0,
				 deadline_after((int)m->opt.confirm_timeout_ms));
}

static int amqp_consume_start(void *ctx, const char *queue)
{
	struct mq_amqp *m = ctx;
	int r;

	if (!name_ok(queue) || !*queue)
		return -EINVAL;
	if (m->consume_queue)
		return sf_streq(m->consume_queue, queue) ? 0 : -EBUSY;
	r = ensure_connected(m);
	if (r < 0)
		return r;
	m->consume_queue = sf_xstrdup(queue);
	r = start_consumer(m);
	if (r < 0) {
		free(m->consume_queue);
		m->consume_queue = NULL;
		return r;
	}
	amqp_maybe_release_buffers(m->conn);
	return 0;
}

static int amqp_next(void *ctx, int timeout_ms, struct sf_mq_delivery **ret)
{
	struct mq_amqp *m = ctx;
	uint64_t deadline = deadline_after(timeout_ms);
	int r;

	if (!m->consume_queue)
		return -EINVAL;
	for (;;) {
		/* Connecting also reads what the broker has sent already (poll_input). */
		r = connect_until(m, deadline);
		if (m->head) {
			struct pending *p = m->head;

			m->head = p->next;
			if (!m->head)
				m->tail = &m->head;
			*ret = p->d;
			free(p);
			return 0;
		}
		if (r < 0)
			return r;
		r = pump(m, deadline);
		if (r == -ETIMEDOUT)
			return r;
		/* Other errors dropped the connection: reconnect while time is left. */
		if (r < 0 && sf_now_monotonic_ms() >= deadline)
			return r;
	}
}

static int settle(struct mq_amqp *m, const struct sf_mq_delivery *d, bool ack, bool requeue)
{
	int status;

	poll_input(m);
	if (!m->conn || d->epoch != m->epoch)
		return -ESTALE;
	if (ack)
		status = amqp_basic_ack(m->conn, CHANNEL, d->delivery_tag, 0);
	else
		status = amqp_basic_nack(m->conn, CHANNEL, d->delivery_tag, 0, requeue);
	if (status != AMQP_STATUS_OK) {
		(void)drop_status(m, status, ack ? "basic.ack" : "basic.nack");
		return -ESTALE;
	}
	return 0;
}

static int amqp_ack(void *ctx, const struct sf_mq_delivery *d)
{
	return settle(ctx, d, true, false);
}

static int amqp_nack(void *ctx, const struct sf_mq_delivery *d, bool requeue)
{
	return settle(ctx, d, false, requeue);
}

static int amqp_request(void *ctx, const char *exchange, const char *routing_key, const char *body,
			size_t len, const struct sf_mq_msg_props *p, int timeout_ms, char **ret_body,
			size_t *ret_len)
{
	struct mq_amqp *m = ctx;
	uint64_t deadline = deadline_after(timeout_ms);
	char corr[SF_UUID_STRLEN];
	struct sf_mq_msg_props props = p ? *p : (struct sf_mq_msg_props){0};
	int r;

	r = ensure_connected(m);
	if (r < 0)
		return r;
	r = start_reply_consumer(m);
	if (r < 0)
		return r;
	sf_uuid_generate(corr);
	props.correlation_id = corr;
	props.reply_to = REPLY_TO;
	m->want_corr = corr;
	r = publish_confirmed(m, exchange, routing_key, body, len, &props, true,
			      timeout_ms > 0 ? (unsigned)timeout_ms : 0, deadline);
	while (r == 0 && !m->reply)
		r = pump(m, deadline);
	m->want_corr = NULL;
	if (r == 0) {
		*ret_body = m->reply->body;
		*ret_len = m->reply->len;
		m->reply->body = NULL;
	}
	sf_mq_delivery_free(m->reply);
	m->reply = NULL;
	return r;
}

static int amqp_reply(void *ctx, const struct sf_mq_delivery *req, const char *body, size_t len)
{
	struct mq_amqp *m = ctx;
	struct sf_mq_msg_props props = {.correlation_id = req->correlation_id};
	int r;

	if (!req->reply_to)
		return -EINVAL;
	r = ensure_connected(m);
	if (r < 0)
		return r;
	/* Not mandatory: RabbitMQ hands a direct reply to the requester's channel outside its
	 * routing, so it would come back as unroutable although delivered (rabbitmq-server
	 * #6124). The confirm still tells us the broker took it. */
	return publish_confirmed(m, "", req->reply_to, body, len, &props, false, 0,
				 deadline_after((int)m->opt.confirm_timeout_ms));
}

/* Long work between next() and the ack: the broker closes a connection it has heard nothing
 * on for two heartbeat intervals, and the delivery being worked on would go stale with it. */
static int amqp_keepalive(void *ctx)
{
	struct mq_amqp *m = ctx;
	amqp_frame_t hb = {.frame_type = AMQP_FRAME_HEARTBEAT, .channel = 0};
	uint64_t now = sf_now_monotonic_ms();
	int status;

	if (!m->conn)
		return m->last_err < 0 ? m->last_err : -ENOTCONN;
	if (now - m->keepalive_ms < 1000)
		return 0;
	m->keepalive_ms = now;
	status = amqp_send_frame(m->conn, &hb);
	if (status != AMQP_STATUS_OK)
		return drop_status(m, status, "sending a heartbeat");
	poll_input(m); /* the broker's heartbeats, and whatever else came meanwhile */
	return m->conn ? 0 : m->last_err;
}

static void amqp_free(void *ctx)
{
	struct mq_amqp *m = ctx;

	drop(m, DROP_CLEAN, 0);
	pending_clear(m);
	for (size_t i = 0; i < m->n_roles; i++)
		free(m->roles[i]);
	free(m->roles);
	free(m->consume_queue);
	free(m->url_buf);
	free(m);
}

static const struct sf_mq_class amqp_class = {
	.name = "amqp",
	.free = amqp_free,
	.wait_ready = amqp_wait_ready,
	.declare_topology = amqp_declare_topology,
	.delete_queue = amqp_delete_queue,
	.publish = amqp_publish,
	.consume_start = amqp_consume_start,
	.next = amqp_next,
	.ack = amqp_ack,
	.nack = amqp_nack,
	.request = amqp_request,
	.reply = amqp_reply,
	.keepalive = amqp_keepalive,
};

static unsigned or_default(unsigned v, unsigned def)
{
	return v ? v : def;
}

int sf_mq_amqp_new(const char *url, const struct sf_mq_options *opt, struct sf_mq **ret_mq)
{
	struct sf_mq_options o = opt ? *opt : (struct sf_mq_options){0};
	struct mq_amqp *m;
	int status;

	m = sf_xcalloc(1, sizeof(*m));
	m->url_buf = sf_xstrdup(url);
	amqp_default_connection_info(&m->info);
	status = amqp_parse_url(m->url_buf, &m->info);
	if (status != AMQP_STATUS_OK || m->info.ssl) {
		sf_log_debug("bad AMQP URL (TLS is not supported)");
		free(m->url_buf);
		free(m);
		return -EINVAL;
	}
	m->opt.heartbeat_s = or_default(o.heartbeat_s, 30);
	m->opt.connect_timeout_ms = or_default(o.connect_timeout_ms, 5000);
	m->opt.rpc_timeout_ms = or_default(o.rpc_timeout_ms, 10000);
	m->opt.confirm_timeout_ms = or_default(o.confirm_timeout_ms, 10000);
	m->opt.prefetch = or_default(o.prefetch, 4);
	if (m->opt.prefetch > UINT16_MAX)
		m->opt.prefetch = UINT16_MAX;
	m->opt.backoff_base_ms = or_default(o.backoff_base_ms, 200);
	m->opt.backoff_cap_ms = or_default(o.backoff_cap_ms, 10000);
	m->opt.delivery_limit = or_default(o.delivery_limit, 5);
	if (m->opt.delivery_limit > INT32_MAX)
		m->opt.delivery_limit = INT32_MAX;
	m->last_err = -ENOTCONN;
	m->tail = &m->head;
	*ret_mq = sf_mq_new_with_class(&amqp_class, m);
	return 0;
}
