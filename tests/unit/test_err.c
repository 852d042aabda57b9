// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the foreign error code translation (shared/src/err.c). */
/* cmocka needs these first, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <amqp.h>
#include <hiredis/hiredis.h>
#include <netlink/errno.h>

#include "sf/err.h"
#include "sf/util.h"

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(sf_strerror(-ENOENT), "No such file or directory");
	assert_string_equal(sf_strerror(ENOENT), "No such file or directory");
	assert_string_equal(sf_strerror(-ECONNRESET), "Connection reset by peer");
	assert_string_equal(sf_strerror(-9999), "Unknown error 9999");
}

static void test_nl(void **state)
{
	static const struct {
		int nle, err;
	} cases[] = {
		{0, 0},
		{-NLE_EXIST, -EEXIST},
		{NLE_EXIST, -EEXIST}, /* positive codes too */
		{-NLE_NODEV, -ENODEV},
		{-NLE_OBJ_NOTFOUND, -ENOENT},
		{-NLE_NOMEM, -ENOMEM},
		{-NLE_BUSY, -EBUSY},
		{-NLE_PERM, -EPERM},
		{-NLE_NOACCESS, -EACCES},
		{-NLE_INVAL, -EINVAL},
		{-NLE_AGAIN, -EAGAIN},
		{-NLE_OPNOTSUPP, -EOPNOTSUPP},
		{-NLE_DUMP_INTR, -EINTR},
		{-NLE_FAILURE, -EIO},
		{-(NLE_MAX + 1), -EIO}, /* unknown */
		{-1000, -EIO},
		{INT_MIN, -EIO},
	};

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++)
		assert_int_equal(sf_err_from_nl(cases[i].nle), cases[i].err);
	/* Every libnl error maps to some -errno, never to success. */
	for (int nle = 1; nle <= NLE_MAX; nle++)
		assert_true(sf_err_from_nl(-nle) < 0);
}

static void test_redis(void **state)
{
	(void)state;
	assert_int_equal(sf_err_from_redis(0, 0), 0);
	assert_int_equal(sf_err_from_redis(REDIS_ERR_EOF, 0), -ECONNRESET);
	assert_int_equal(sf_err_from_redis(REDIS_ERR_IO, ECONNREFUSED), -ECONNREFUSED);
	assert_int_equal(sf_err_from_redis(REDIS_ERR_IO, ETIMEDOUT), -ETIMEDOUT);
	assert_int_equal(sf_err_from_redis(REDIS_ERR_IO, EPIPE), -ECONNRESET);
	assert_int_equal(sf_err_from_redis(REDIS_ERR_PROTOCOL, 0), -EPROTO);
	assert_int_equal(sf_err_from_redis(REDIS_ERR_OOM, 0), -ENOMEM);
	assert_int_equal(sf_err_from_redis(REDIS_ERR_OTHER, 0), -EIO);
}

static void test_amqp_status(void **state)
{
	(void)state;
	assert_int_equal(sf_err_from_amqp_status(AMQP_STATUS_OK), 0);
	assert_int_equal(sf_err_from_amqp_status(AMQP_STATUS_TIMEOUT), -ETIMEDOUT);
	assert_int_equal(sf_err_from_amqp_status(AMQP_STATUS_HEARTBEAT_TIMEOUT), -ETIMEDOUT);
	assert_int_equal(sf_err_from_amqp_status(AMQP_STATUS_CONNECTION_CLOSED), -ECONNRESET);
	assert_int_equal(sf_err_from_amqp_status(AMQP_STATUS_SOCKET_ERROR), -ECONNRESET);
	assert_int_equal(sf_err_from_amqp_status(AMQP_STATUS_TCP_ERROR), -ECONNREFUSED);
	assert_int_equal(sf_err_from_amqp_status(AMQP_STATUS_NO_MEMORY), -ENOMEM);
	assert_int_equal(sf_err_from_amqp_status(AMQP_STATUS_BAD_URL), -EINVAL);
	assert_int_equal(sf_err_from_amqp_status(-0x7777), -EIO); /* unknown */
}

static void test_amqp_reply(void **state)
{
	(void)state;
	assert_int_equal(sf_err_from_amqp_reply(AMQP_RESPONSE_NORMAL, 0, 0), 0);
	assert_int_equal(sf_err_from_amqp_reply(AMQP_RESPONSE_NONE, 0, 0), -ECONNRESET);
	assert_int_equal(
		sf_err_from_amqp_reply(AMQP_RESPONSE_LIBRARY_EXCEPTION, AMQP_STATUS_TIMEOUT, 0),
		-ETIMEDOUT);
	assert_int_equal(sf_err_from_amqp_reply(AMQP_RESPONSE_LIBRARY_EXCEPTION,
						AMQP_STATUS_SOCKET_CLOSED, 0),
			 -ECONNRESET);
	assert_int_equal(sf_err_from_amqp_reply(AMQP_RESPONSE_SERVER_EXCEPTION, 0, 404), -ENOENT);
	assert_int_equal(sf_err_from_amqp_reply(AMQP_RESPONSE_SERVER_EXCEPTION, 0, 406), -EINVAL);
	assert_int_equal(sf_err_from_amqp_reply(AMQP_RESPONSE_SERVER_EXCEPTION, 0, 320),
			 -ECONNRESET);
	assert_int_equal(sf_err_from_amqp_reply(AMQP_RESPONSE_SERVER_EXCEPTION, 0, 403), -EACCES);
	assert_int_equal(sf_err_from_amqp_reply(AMQP_RESPONSE_SERVER_EXCEPTION, 0, 405), -EBUSY);
	assert_int_equal(sf_err_from_amqp_reply(AMQP_RESPONSE_SERVER_EXCEPTION, 0, 999), -EPROTO);
	assert_int_equal(sf_err_from_amqp_reply(42, 0, 0), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),   cmocka_unit_test(test_nl),
		cmocka_unit_test(test_redis),	   cmocka_unit_test(test_amqp_status),
		cmocka_unit_test(test_amqp_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
