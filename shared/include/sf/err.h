/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Errors are -errno everywhere. Foreign codes are translated at the adapter boundary with the
 * tables here; nothing above shared/ sees libnl, hiredis or librabbitmq codes.
 */
#ifndef SF_ERR_H
#define SF_ERR_H

/* strerror for a -errno (or errno) value; thread-safe, never NULL. */
const char *sf_strerror(int r);

/* libnl: -NLE_* (or NLE_*) -> -errno. 0 stays 0. */
int sf_err_from_nl(int nle);

/* hiredis: a context's err field (REDIS_ERR_IO, REDIS_ERR_EOF, ...) plus its saved errno
 * -> -errno (-ECONNRESET for a dropped connection, -EIO otherwise). 0 stays 0. */
int sf_err_from_redis(int redis_err, int saved_errno);

/* librabbitmq: an amqp_status_enum value (AMQP_STATUS_*) -> -errno. 0 stays 0. */
int sf_err_from_amqp_status(int status);

/* librabbitmq: an amqp_rpc_reply_t's reply_type, library_error and (for server exceptions) the
 * channel/connection close reply code (404 NOT_FOUND, 406 PRECONDITION_FAILED, 320
 * CONNECTION_FORCED, ...) -> -errno. reply_type normal -> 0. */
int sf_err_from_amqp_reply(int reply_type, int library_error, int server_reply_code);

#endif
