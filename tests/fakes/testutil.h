/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers tests share (tests/fakes is linked into every test binary): files with a given text,
 * names unique to a run, shell commands, ops/services.sh, and cleaning up after a run in Redis
 * and RabbitMQ. None of them asserts: they return what happened and the test checks it.
 */
#ifndef SF_TESTUTIL_H
#define SF_TESTUTIL_H

#include <stddef.h>

#include "sf/util.h"

struct sf_kv;
struct sf_mq_delivery;

/* Write text to the file at path, created or truncated: 0 or -errno. */
int sf_test_write_file(const char *path, const char *text);
/* The same into a new file made from tmpl by mkstemp() (its XXXXXX are replaced in place). The
 * caller unlinks it. */
int sf_test_write_temp(char *tmpl, const char *text);

/* "<before><8 hex digits of a fresh uuid><after>" into buf: names unique to a run, so that a
 * crashed run never gets in the way of the next. */
void sf_test_unique(char *buf, size_t size, const char *before, const char *after);

/* system() of a formatted shell command: 0 when it exited 0, else -1. */
int sf_test_sh(const char *fmt, ...) SF_PRINTF(1, 2);

/* Run a formatted shell command and return what it wrote to stdout (allocated). With
 * ret_status, the output is always returned and *ret_status gets its pclose() status; without,
 * NULL unless the command exited 0. A command that cannot be started at all (popen() fails)
 * aborts the test binary: nothing a test could check would be meaningful. */
char *sf_test_capture(int *ret_status, const char *fmt, ...) SF_PRINTF(2, 3);

/* ops/services.sh VERB SERVICE ("redis", "rabbitmq") for the server at url: the port of url is
 * exported as port_var (SF_REDIS_PORT, SF_AMQP_PORT) first. SF_SERVICES_SH overrides the path
 * of the script. 0 when the script succeeded, -ENOENT without a script or port, -EIO when it
 * failed. */
int sf_test_services(const char *verb, const char *service, const char *port_var, const char *url);

/* Delete every key that starts with prefix (KEYS, then DEL): the end of a run's key space. */
void sf_test_kv_delete_prefix(struct sf_kv *kv, const char *prefix);

/* Take the message with this message id off sf.jobs.dead (acked), waiting up to timeout_ms
 * for it on a connection of its own to amqp_url. Messages that are not ours are left there
 * (unacked, they go back to the queue). 0 with the delivery (sf_mq_delivery_free), -ETIMEDOUT
 * when it did not show up, or the error of the connection. */
int sf_test_take_dead(const char *amqp_url, const char *id, int timeout_ms,
		      struct sf_mq_delivery **ret_delivery);

#endif
