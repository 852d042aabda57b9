// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "sf/daemon.h"
#include "sf/err.h"
#include "sf/kv.h"
#include "sf/mq.h"
#include "sf/util.h"

SF_LOG_MODULE("daemon");

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t hup_count;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_count++;
	else
		stop_requested = 1;
}

int sf_daemon_signals_setup(void)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: waits return EINTR */

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void sf_daemon_files_limit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			sf_log_warn_errno(-errno, "raising the open files limit from %llu failed",
					  (unsigned long long)was);
			return;
		}
	}
	sf_log_info("open files limit: %llu", (unsigned long long)rl.rlim_cur);
}

bool sf_daemon_stopping(void)
{
	return stop_requested != 0;
}

void sf_daemon_request_stop(void)
{
	stop_requested = 1;
}

void sf_daemon_sleep_ms(unsigned ms)
{
	uint64_t end = sf_now_monotonic_ms() + ms;

	while (!sf_daemon_stopping()) {
		uint64_t now = sf_now_monotonic_ms();

		if (now >= end)
			break;
		(void)sf_sleep_ms(end - now < 200 ? end - now : 200);
	}
}

int sf_daemon_configure(const struct sf_cfg_table *t, void *cfg,
			const struct sf_daemon_cfg *common, int argc, char **argv, bool *ret_exit)
{
	char *error = NULL;
	int action = SF_CFG_RUN;
	int r;

	r = sf_cfg_load(t, cfg, argc, argv, &error, &action);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", t->daemon, error ? error : sf_strerror(r));
		free(error);
		return -EINVAL;
	}
	*ret_exit = action == SF_CFG_EXIT_OK;
	sf_log_set_level(common->log_level);
	/* The schema loader reads SF_SCHEMA_DIR; a value from the file or argv must win too. */
	if (common->schema_dir && setenv("SF_SCHEMA_DIR", common->schema_dir, 1) < 0)
		return -errno;
	return 0;
}

/* Host and port part of a URL, without credentials, for logs. */
static const char *url_for_log(const char *url, char *buf, size_t size)
{
	const char *at = strrchr(url, '@');
	const char *scheme = strstr(url, "://");

	if (at && scheme && at > scheme)
		snprintf(buf, size, "%.*s%s", (int)(scheme + 3 - url), url, at + 1);
	else
		snprintf(buf, size, "%s", url);
	return buf;
}

int sf_daemon_connect_kv(const struct sf_daemon_cfg *c, struct sf_kv **ret_kv)
{
	struct sf_kv_options opt = {.prefix = c->redis_prefix};
	struct sf_kv *kv = NULL;
	char shown[256];
	int r;

	r = sf_kv_redis_new(c->redis_url, &opt, &kv);
	if (r < 0)
		return sf_log_err_errno(r, "bad redis_url '%s'",
					url_for_log(c->redis_url, shown, sizeof(shown)));
	while ((r = sf_kv_wait_ready(kv, 1000)) < 0) {
		if (sf_daemon_stopping()) {
			sf_kv_free(kv);
			return -ECANCELED;
		}
	}
	sf_log_info("connected to redis at %s", url_for_log(c->redis_url, shown, sizeof(shown)));
	*ret_kv = kv;
	return 0;
}

int sf_daemon_connect_mq(const struct sf_daemon_cfg *c, struct sf_mq **ret_mq)
{
	struct sf_mq *mq = NULL;
	unsigned attempt = 0;
	char shown[256];
	int r;

	r = sf_mq_amqp_new(c->amqp_url, NULL, &mq);
	if (r < 0)
		return sf_log_err_errno(r, "bad amqp_url '%s'",
					url_for_log(c->amqp_url, shown, sizeof(shown)));
	while ((r = sf_mq_wait_ready(mq, 1000)) < 0) {
		if (sf_daemon_stopping()) {
			sf_mq_free(mq);
			return -ECANCELED;
		}
		if (attempt++ % 10 == 0)
			sf_log_warn_errno(r, "rabbitmq at %s unreachable, retrying",
					  url_for_log(c->amqp_url, shown, sizeof(shown)));
	}
	sf_log_info("connected to rabbitmq at %s", url_for_log(c->amqp_url, shown, sizeof(shown)));
	*ret_mq = mq;
	return 0;
}
