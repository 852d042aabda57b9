// SPDX-License-Identifier: Apache-2.0
/* sf-api: the Shaken Fist-compatible REST API. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "events.h"
#include "http.h"
#include "sf/daemon.h"
#include "sf/envelope.h"
#include "sf/err.h"
#include "sf/kv.h"
#include "sf/mq.h"
#include "sf/schema.h"
#include "sf/store.h"
#include "sf/util.h"

SF_LOG_MODULE("api");

#define CFG(field) offsetof(struct api_cfg, field)

static const struct sf_cfg_entry api_cfg_entries[] = {
	SF_DAEMON_CFG_ENTRIES(struct api_cfg),
	{"listen_address", "SF_API_LISTEN_ADDRESS", SF_CFG_STR, "127.0.0.1", 0, 0,
	 CFG(listen_address), 0, "IP address the HTTP API listens on"},
	{"port", "SF_API_PORT", SF_CFG_INT, "13000", 1, 65535, CFG(port), 0,
	 "HTTP port (Shaken Fist's API_PORT)"},
	{"threads", "SF_API_THREADS", SF_CFG_INT, "4", 1, 256, CFG(threads), 0,
	 "HTTP worker threads, each with its own Redis and RabbitMQ connection"},
	{"max_body_bytes", "SF_API_MAX_BODY_BYTES", SF_CFG_INT, "65536", 1024, 64L << 20,
	 CFG(max_body_bytes), 0, "largest request body accepted; larger ones get 413"},
	{"auth_secret", "SF_AUTH_SECRET", SF_CFG_STR, NULL, 0, 0, CFG(auth_secret), SF_CFG_SECRET,
	 "HS256 key of the JWTs (AUTH_SECRET_SEED); generated and kept in Redis if empty"},
	{"system_key", "SF_SYSTEM_KEY", SF_CFG_STR, NULL, 0, 0, CFG(system_key), SF_CFG_SECRET,
	 "key of the system namespace; generated at first start if empty"},
	{"system_key_file", "SF_SYSTEM_KEY_FILE", SF_CFG_STR, "run/sf-api-system.key", 0, 0,
	 CFG(system_key_file), 0, "where a generated system key is written (mode 0600)"},
	{"token_minutes", "SF_API_TOKEN_MINUTES", SF_CFG_INT, "15", 1, 1440, CFG(token_minutes), 0,
	 "lifetime of an access token (API_TOKEN_DURATION)"},
	{"zone", "SF_ZONE", SF_CFG_STR, "shakenfist", 0, 0, CFG(zone), 0,
	 "JWT issuer and DNS suffix (ZONE)"},
	{"floating_network", "SF_FLOATING_NETWORK", SF_CFG_STR, "198.51.100.0/24", 0, 0,
	 CFG(floating_network), 0, "CIDR of the floating address pool"},
	{"halo_seconds", "SF_HALO_SECONDS", SF_CFG_INT, "300", 0, 86400, CFG(halo_seconds), 0,
	 "how long a released address stays unallocatable"},
	{"job_timeout_ms", "SF_JOB_TIMEOUT_MS", SF_CFG_INT, "10000", 100, 600000,
	 CFG(job_timeout_ms), 0, "wait for a broker confirm or a RabbitMQ round trip"},
	{"ping_timeout_ms", "SF_PING_TIMEOUT_MS", SF_CFG_INT, "15000", 1000, 600000,
	 CFG(ping_timeout_ms), 0, "how long GET .../ping waits for the network node"},
	{"events_max_per_object", "SF_EVENTS_MAX_PER_OBJECT", SF_CFG_INT, "1000", 10, 1000000,
	 CFG(events_max_per_object), 0, "events kept per object (a capped stream)"},
	{"fqdn", "SF_FQDN", SF_CFG_STR, NULL, 0, 0, CFG(fqdn), 0,
	 "node name recorded in events (default: the hostname)"},
};

static const struct sf_cfg_table api_cfg_table = {
	.daemon = "sf-api",
	.description = "sf-net REST API (Shaken Fist-compatible networking API)",
	.version = SF_VERSION,
	.entries = api_cfg_entries,
	.n = SF_ARRAY_SIZE(api_cfg_entries),
};

/* Redis or RabbitMQ is unreachable: worth waiting for at start-up. */
static bool retryable(int r)
{
	return r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT || r == -ENOTCONN;
}

static int bootstrap(struct api_ctx *ctx)
{
	int r;

	while ((r = api_auth_bootstrap(ctx)) < 0 && retryable(r) && !sf_daemon_stopping()) {
		sf_log_warn_errno(r, "setting up authentication failed, retrying");
		sf_daemon_sleep_ms(1000);
	}
	if (r < 0)
		return sf_log_err_errno(r, "setting up authentication failed");
	while ((r = sf_ipam_floating_ensure(ctx->kv, ctx->cfg->floating_network)) < 0 &&
	       retryable(r) && !sf_daemon_stopping()) {
		sf_log_warn_errno(r, "setting up the floating pool failed, retrying");
		sf_daemon_sleep_ms(1000);
	}
	if (r == -EEXIST)
		return sf_log_err_errno(r, "the floating pool exists with another block than %s",
					ctx->cfg->floating_network);
	if (r < 0)
		return sf_log_err_errno(r, "setting up the floating pool %s failed",
					ctx->cfg->floating_network);
	return 0;
}

/* Connect, declare the topology and set up what the API needs in Redis; the connections are
 * closed again (each HTTP thread makes its own). */
static int prepare(const struct api_cfg *cfg, const struct sf_envelope_schemas *envelopes)
{
	struct api_ctx ctx = {.cfg = cfg, .envelopes = envelopes};
	int r;

	r = sf_daemon_connect_kv(&cfg->common, &ctx.kv);
	if (r < 0)
		goto out;
	r = sf_daemon_connect_mq(&cfg->common, &ctx.mq);
	if (r < 0)
		goto out;
	while ((r = sf_mq_declare_topology(ctx.mq, NULL, 0)) < 0) {
		sf_log_warn_errno(r, "declaring the rabbitmq topology failed, retrying");
		sf_daemon_sleep_ms(1000);
		if (sf_daemon_stopping()) {
			r = -ECANCELED;
			goto out;
		}
	}
	r = bootstrap(&ctx);
out:
	sf_mq_free(ctx.mq);
	sf_kv_free(ctx.kv);
	return r;
}

static int run(struct api_cfg *cfg)
{
	struct sf_envelope_schemas *envelopes = NULL;
	struct api_route_schemas *schemas = NULL;
	struct api_events_recorder *recorder = NULL;
	struct api_http *http = NULL;
	struct sf_diag diag = {0};
	int r;

	r = sf_envelope_schemas_load(NULL, &envelopes, &diag);
	if (r < 0) {
		sf_log_err("cannot load the job and event schemas from %s: %s", sf_schema_dir(),
			   diag.message[0] ? diag.message : sf_strerror(r));
		goto out;
	}
	r = api_route_schemas_load(NULL, &schemas, &diag);
	if (r < 0) {
		sf_log_err("cannot load the request body schemas: %s", diag.message);
		goto out;
	}
	r = prepare(cfg, envelopes);
	if (r < 0)
		goto out;
	r = api_events_recorder_start(cfg, envelopes, &recorder);
	if (r < 0)
		goto out;
	r = api_http_start(cfg, envelopes, schemas, &http);
	if (r < 0)
		goto out;
	sf_log_info("listening on http://%s:%ld", cfg->listen_address, cfg->port);
	while (!sf_daemon_stopping())
		sf_daemon_sleep_ms(1000);
	sf_log_info("stopping");
	r = 0;
out:
	api_http_stop(http);
	api_events_recorder_stop(recorder);
	api_route_schemas_free(schemas);
	sf_envelope_schemas_free(envelopes);
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
	if (!cfg.fqdn || !*cfg.fqdn) {
		char host[HOST_NAME_MAX + 1] = "localhost";

		(void)gethostname(host, sizeof(host));
		host[HOST_NAME_MAX] = '\0';
		free(cfg.fqdn);
		cfg.fqdn = sf_xstrdup(host);
	}
	sf_daemon_signals_setup();
	sf_daemon_files_limit_raise();
	sf_log_info("starting %s %s", api_cfg_table.daemon, SF_VERSION);
	r = run(&cfg);
	sf_log_info("stopped");
	done = r == 0;
out:
	sf_cfg_free(&api_cfg_table, &cfg);
	return done ? 0 : 1;
}
