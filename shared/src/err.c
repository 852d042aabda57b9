// SPDX-License-Identifier: Apache-2.0
/* Translation of foreign error codes into -errno, at the adapters' boundary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <hiredis/hiredis.h>
#include <netlink/errno.h>

#include "sf/err.h"
#include "sf/util.h"

const char *sf_strerror(int r)
{
	static __thread char buf[128];

	if (r < 0)
		r = -r;
	/* GNU strerror_r returns a string that may or may not be buf. */
	return strerror_r(r, buf, sizeof(buf));
}

static const int nl_table[] = {
	[NLE_SUCCESS] = 0,
	[NLE_FAILURE] = EIO,
	[NLE_INTR] = EINTR,
	[NLE_BAD_SOCK] = EBADF,
	[NLE_AGAIN] = EAGAIN,
	[NLE_NOMEM] = ENOMEM,
	[NLE_EXIST] = EEXIST,
	[NLE_INVAL] = EINVAL,
	[NLE_RANGE] = ERANGE,
	[NLE_MSGSIZE] = EMSGSIZE,
	[NLE_OPNOTSUPP] = EOPNOTSUPP,
	[NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
	[NLE_OBJ_NOTFOUND] = ENOENT,
	[NLE_NOATTR] = ENODATA,
	[NLE_MISSING_ATTR] = EINVAL,
	[NLE_AF_MISMATCH] = EAFNOSUPPORT,
	[NLE_SEQ_MISMATCH] = EILSEQ,
	[NLE_MSG_OVERFLOW] = EOVERFLOW,
	[NLE_MSG_TRUNC] = EMSGSIZE,
	[NLE_NOADDR] = EADDRNOTAVAIL,
	[NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP,
	[NLE_MSG_TOOSHORT] = EBADMSG,
	[NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP,
	[NLE_OBJ_MISMATCH] = EINVAL,
	[NLE_NOCACHE] = ENOENT,
	[NLE_BUSY] = EBUSY,
	[NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
	[NLE_NOACCESS] = EACCES,
	[NLE_PERM] = EPERM,
	[NLE_PKTLOC_FILE] = ENOENT,
	[NLE_PARSE_ERR] = EINVAL,
	[NLE_NODEV] = ENODEV,
	[NLE_IMMUTABLE] = EROFS,
	[NLE_DUMP_INTR] = EINTR,
	[NLE_ATTRSIZE] = EINVAL,
};

int sf_err_from_nl(int nle)
{
	/* abs(INT_MIN) would overflow */
	unsigned a = nle < 0 ? 0u - (unsigned)nle : (unsigned)nle;

	if (a == 0)
		return 0;
	if (a >= SF_ARRAY_SIZE(nl_table) || nl_table[a] == 0)
		return -EIO;
	return -nl_table[a];
}

int sf_err_from_redis(int redis_err, int saved_errno)
{
	switch (redis_err) {
	case 0:
		return 0;
	case REDIS_ERR_IO:
		/* The socket failed; errno says how (ECONNREFUSED while the server is down). */
		if (saved_errno == ECONNREFUSED || saved_errno == ETIMEDOUT ||
		    saved_errno == EHOSTUNREACH || saved_errno == ENETUNREACH)
			return -saved_errno;
		return -ECONNRESET;
	case REDIS_ERR_EOF:
		return -ECONNRESET;
	case REDIS_ERR_PROTOCOL:
		return -EPROTO;
	case REDIS_ERR_OOM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static const struct {
	int status;
	int err;
} amqp_table[] = {
	{AMQP_STATUS_NO_MEMORY, ENOMEM},
	{AMQP_STATUS_BAD_AMQP_DATA, EPROTO},
	{AMQP_STATUS_UNKNOWN_CLASS, EPROTO},
	{AMQP_STATUS_UNKNOWN_METHOD, EPROTO},
	{AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED, EHOSTUNREACH},
	{AMQP_STATUS_INCOMPATIBLE_AMQP_VERSION, EPROTONOSUPPORT},
	{AMQP_STATUS_CONNECTION_CLOSED, ECONNRESET},
	{AMQP_STATUS_BAD_URL, EINVAL},
	{AMQP_STATUS_SOCKET_ERROR, ECONNRESET},
	{AMQP_STATUS_INVALID_PARAMETER, EINVAL},
	{AMQP_STATUS_TABLE_TOO_BIG, E2BIG},
	{AMQP_STATUS_WRONG_METHOD, EPROTO},
	{AMQP_STATUS_TIMEOUT, ETIMEDOUT},
	{AMQP_STATUS_TIMER_FAILURE, EIO},
	{AMQP_STATUS_HEARTBEAT_TIMEOUT, ETIMEDOUT},
	{AMQP_STATUS_UNEXPECTED_STATE, EPROTO},
	{AMQP_STATUS_SOCKET_CLOSED, ECONNRESET},
	{AMQP_STATUS_SOCKET_INUSE, EBUSY},
	{AMQP_STATUS_BROKER_UNSUPPORTED_SASL_METHOD, EACCES},
	{AMQP_STATUS_UNSUPPORTED, EOPNOTSUPP},
	{AMQP_STATUS_TCP_ERROR, ECONNREFUSED},
	{AMQP_STATUS_TCP_SOCKETLIB_INIT_ERROR, EIO},
	{AMQP_STATUS_SSL_ERROR, EPROTO},
	{AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED, EACCES},
	{AMQP_STATUS_SSL_PEER_VERIFY_FAILED, EACCES},
	{AMQP_STATUS_SSL_CONNECTION_FAILED, ECONNREFUSED},
};

int sf_err_from_amqp_status(int status)
{
	if (status == AMQP_STATUS_OK)
		return 0;
	for (size_t i = 0; i < SF_ARRAY_SIZE(amqp_table); i++)
		if (amqp_table[i].status == status)
			return -amqp_table[i].err;
	return -EIO;
}

int sf_err_from_amqp_reply(int reply_type, int library_error, int server_reply_code)
{
	switch (reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return 0;
	case AMQP_RESPONSE_NONE:
		return -ECONNRESET; /* EOF on the socket */
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		return sf_err_from_amqp_status(library_error);
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		switch (server_reply_code) {
		case AMQP_NOT_FOUND:
			return -ENOENT;
		case AMQP_ACCESS_REFUSED:
		case AMQP_NOT_ALLOWED: /* e.g. an unknown vhost */
			return -EACCES;
		case AMQP_RESOURCE_LOCKED:
			return -EBUSY;
		case AMQP_PRECONDITION_FAILED:
			return -EINVAL;
		case AMQP_CONNECTION_FORCED:
			return -ECONNRESET;
		case AMQP_RESOURCE_ERROR:
			return -ENOSPC;
		default:
			return -EPROTO;
		}
	default:
		return -EPROTO;
	}
}
