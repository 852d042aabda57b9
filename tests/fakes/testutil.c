// SPDX-License-Identifier: Apache-2.0
/* Helpers the integration tests share; see testutil.h. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sf/kv.h"
#include "sf/mq.h"
#include "testutil.h"

extern char **environ;

/* Write all of text to fd and close it. */
static int write_close(int fd, const char *text)
{
	size_t len = strlen(text), done = 0;
	int r = 0;

	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int sf_test_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : write_close(fd, text);
}

int sf_test_write_temp(char *tmpl, const char *text)
{
	int fd = mkstemp(tmpl);

	return fd < 0 ? -errno : write_close(fd, text);
}

void sf_test_unique(char *buf, size_t size, const char *before, const char *after)
{
	char uuid[SF_UUID_STRLEN];

	sf_uuid_generate(uuid);
	(void)snprintf(buf, size, "%s%.8s%s", before, uuid, after);
}

int sf_test_sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int st;

	va_start(ap, fmt);
	cmd = sf_xvasprintf(fmt, ap);
	va_end(ap);
	st = system(cmd);
	free(cmd);
	return st == 0 ? 0 : -1;
}

char *sf_test_capture(int *ret_status, const char *fmt, ...)
{
	char *cmd, *out, buf[4096];
	size_t len = 0, n;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	cmd = sf_xvasprintf(fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p) {
		(void)fprintf(stderr, "popen(\"%s\") failed: %s\n", cmd, strerror(errno));
		abort();
	}
	free(cmd);
	out = sf_xstrdup("");
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		out = sf_xrealloc(out, len + n + 1);
		memcpy(out + len, buf, n);
		len += n;
		out[len] = '\0';
	}
	st = pclose(p);
	if (ret_status) {
		*ret_status = st;
	} else if (st != 0) {
		free(out);
		out = NULL;
	}
	return out;
}

int sf_test_services(const char *verb, const char *service, const char *port_var, const char *url)
{
	const char *sh = getenv("SF_SERVICES_SH");
	const char *colon = strrchr(url, ':');
	char path[4096], port[16];
	char *argv[] = {NULL, (char *)verb, (char *)service, NULL};
	pid_t pid;
	int status;

	if (!sh) {
		(void)snprintf(path, sizeof(path), "%s/../ops/services.sh", SF_BUILD_SCHEMA_DIR);
		sh = path;
	}
	if (access(sh, X_OK) < 0 || !colon)
		return -ENOENT;
	(void)snprintf(port, sizeof(port), "%ld", strtol(colon + 1, NULL, 10));
	setenv(port_var, port, 1);
	argv[0] = (char *)sh;
	if (posix_spawn(&pid, sh, NULL, NULL, argv, environ) != 0)
		return -errno;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

void sf_test_kv_delete_prefix(struct sf_kv *kv, const char *prefix)
{
	char *pattern = sf_xasprintf("%s*", prefix);
	struct sf_kv_reply *keys;

	if (sf_kv_cmd(kv, &keys, "KEYS", pattern, NULL) == 0) {
		for (size_t i = 0; i < keys->n; i++)
			(void)sf_kv_cmd(kv, NULL, "DEL", keys->elems[i]->str, NULL);
		sf_kv_reply_free(keys);
	}
	free(pattern);
}

int sf_test_take_dead(const char *amqp_url, const char *id, int timeout_ms,
		      struct sf_mq_delivery **ret_delivery)
{
	const struct sf_mq_options opt = {.prefetch = 1000};
	uint64_t deadline = sf_now_monotonic_ms() + (uint64_t)timeout_ms;
	struct sf_mq_delivery *d;
	struct sf_mq *mq;
	int r;

	r = sf_mq_amqp_new(amqp_url, &opt, &mq);
	if (r < 0)
		return r;
	r = sf_mq_wait_ready(mq, timeout_ms);
	if (r >= 0)
		r = sf_mq_consume_start(mq, SF_MQ_DEAD_QUEUE);
	while (r >= 0) {
		if (sf_now_monotonic_ms() >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		if (sf_mq_next(mq, 200, &d) < 0)
			continue;
		if (!sf_streq(d->message_id, id)) {
			sf_mq_delivery_free(d);
			continue;
		}
		r = sf_mq_ack(mq, d);
		if (r < 0) {
			sf_mq_delivery_free(d);
			break;
		}
		*ret_delivery = d;
		break;
	}
	sf_mq_free(mq);
	return r;
}
