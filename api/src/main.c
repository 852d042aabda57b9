// SPDX-License-Identifier: Apache-2.0
/* sf-api: the Shaken Fist-compatible REST API (skeleton, see README: no HTTP listener yet). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "sf/daemon.h"
#include "sf/kv.h"
#include "sf/mq.h"
#include "sf/util.h"

SF_LOG_MODULE("api");

struct api_cfg {
	struct sf_daemon_cfg common;
	char *listen_address;
	long port;
};

static const struct sf_cfg_entry api_cfg_entries[] = {
	SF_DAEMON_CFG_ENTRIES(struct api_cfg),
	{"listen_address", "SF_API_LISTEN_ADDRESS", SF_CFG_STR, "127.0.0.1", 0, 0,
	 offsetof(struct api_cfg, listen_address), 0, "address the HTTP API will listen on"},
	{"port", "SF_API_PORT", SF_CFG_INT, "13000", 1, 65535, offsetof(struct api_cfg, port), 0,
	 "HTTP port (Shaken Fist's API_PORT)"},
};

static const struct sf_cfg_table api_cfg_table = {
	.daemon = "sf-api",
	.description = "sf-net REST API (skeleton: connects and declares the topology; no HTTP yet)",
	.version = SF_VERSION,
	.entries = api_cfg_entries,
	.n = SF_ARRAY_SIZE(api_cfg_entries),
};

static int run(const struct api_cfg *cfg)
{
	struct sf_kv *kv = NULL;
	struct sf_mq *mq = NULL;
	int r;

	r = sf_daemon_connect_kv(&cfg->common, &kv);
	if (r < 0)
		goto out;
	r = sf_daemon_connect_mq(&cfg->common, &mq);
	if (r < 0)
		goto out;
	while ((r = sf_mq_declare_topology(mq, NULL, 0)) < 0) {
		sf_log_warn_errno(r, "declaring the rabbitmq topology failed, retrying");
		sf_daemon_sleep_ms(1000);
		if (sf_daemon_stopping())
			goto out;
	}
	sf_log_info("ready (skeleton: the HTTP API on %s:%ld is not implemented yet)",
		    cfg->listen_address, cfg->port);
	while (!sf_daemon_stopping())
		sf_daemon_sleep_ms(1000);
	r = 0;
out:
	sf_mq_free(mq);
	sf_kv_free(kv);
	return r == -ECANCELED ? 0 : r;
}

int main(int argc, char **argv)
{
	struct api_cfg cfg = {0};
	bool done = false;
	int r;

	if (sf_daemon_configure(&api_cfg_table, &cfg, &cfg.common, argc, argv, &done) < 0)
		return 1;
	if (done)
		goto out;
	sf_daemon_signals_setup();
	sf_log_info("starting %s %s", api_cfg_table.daemon, SF_VERSION);
	r = run(&cfg);
	sf_log_info("stopped");
	done = r == 0;
out:
	sf_cfg_free(&api_cfg_table, &cfg);
	return done ? 0 : 1;
}
