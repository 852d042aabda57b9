/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every sf-net daemon does at start and stop: signals, the settings they all share, and
 * connecting to Redis and RabbitMQ with retries until the daemon is told to stop.
 */
#ifndef SF_DAEMON_H
#define SF_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "sf/cfg.h"
#include "sf/log.h"

struct sf_kv;
struct sf_mq;

/* Settings shared by every daemon; each daemon's cfg struct embeds this as member `common`,
 * and its table starts with SF_DAEMON_CFG_ENTRIES(struct its_cfg). */
struct sf_daemon_cfg {
	char *redis_url;
	char *redis_prefix;
	char *amqp_url;
	enum sf_log_level log_level;
	char *schema_dir;
};

#define SF_DAEMON_CFG_ENTRIES(type)                                                                \
	{"redis_url", "SF_REDIS_URL", SF_CFG_STR, "redis://127.0.0.1:16379/0", 0, 0,                \
	 offsetof(type, common.redis_url), SF_CFG_SECRET,                                          \
	 "Redis URL, redis://[:password@]host:port[/db] (masked: it may hold a password)"},        \
		{"redis_prefix", "SF_REDIS_PREFIX", SF_CFG_STR, "sf:", 0, 0,                        \
		 offsetof(type, common.redis_prefix), 0, "prefix of every Redis key"},              \
		{"amqp_url", "SF_AMQP_URL", SF_CFG_STR, "amqp://guest:guest@127.0.0.1:17672/", 0,   \
		 0, offsetof(type, common.amqp_url), SF_CFG_SECRET,                                 \
		 "RabbitMQ URL, amqp://user:password@host:port/vhost"},                             \
		{"log_level", "SF_LOG_LEVEL", SF_CFG_LOGLEVEL, "info", 0, 0,                        \
		 offsetof(type, common.log_level), 0, "err, warn, info or debug"},                  \
		{"schema_dir", "SF_SCHEMA_DIR", SF_CFG_STR, NULL, 0, 0,                             \
		 offsetof(type, common.schema_dir), 0,                                              \
		 "directory of the JSON Schemas (default: the build's schemas/)"}

/* Load the configuration; on error print it and return -EINVAL; on --help/--version/
 * --print-config return 0 with *ret_exit set. Applies log_level and schema_dir. */
int sf_daemon_configure(const struct sf_cfg_table *t, void *cfg,
			const struct sf_daemon_cfg *common, int argc, char **argv, bool *ret_exit);

/* SIGTERM and SIGINT ask the daemon to stop; SIGHUP is counted (for reloads); SIGPIPE is
 * ignored. Handlers do not restart system calls, so blocking waits return early. */
int sf_daemon_signals_setup(void);

/* Raise the soft limit on open files to the hard one (systemd starts services with 1024):
 * a network node holds a pidfd per network. Logs the limit in effect. */
void sf_daemon_files_limit_raise(void);
bool sf_daemon_stopping(void);
void sf_daemon_request_stop(void);
/* Sleep up to ms, returning early when a stop is requested. */
void sf_daemon_sleep_ms(unsigned ms);

/* Connect, retrying with backoff, until the server answers or a stop is requested
 * (-ECANCELED). Logs once when it is waiting and once when connected. */
int sf_daemon_connect_kv(const struct sf_daemon_cfg *c, struct sf_kv **ret_kv);
int sf_daemon_connect_mq(const struct sf_daemon_cfg *c, struct sf_mq **ret_mq);

#endif
