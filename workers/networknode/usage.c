// SPDX-License-Identifier: Apache-2.0
/* Periodic tasks besides the reconciler: usage events (spec 5, 6.13) and dnsmasq supervision. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "networknode/nn.h"
#include "sf/naming.h"
#include "sf/proc.h"
#include "sf/store.h"

SF_LOG_MODULE("networknode");

/* The stats64 block of `ip -s -j link show egr-XXXXXX-o`, iproute2's key set. */
static json_t *stats_json(const struct sf_link_stats *s)
{
	return json_pack(
		"{s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "rx",
		"bytes", (json_int_t)s->rx_bytes, "packets", (json_int_t)s->rx_packets, "errors",
		(json_int_t)s->rx_errors, "dropped", (json_int_t)s->rx_dropped, "over_errors",
		(json_int_t)s->rx_over_errors, "multicast", (json_int_t)s->rx_multicast, "tx",
		"bytes", (json_int_t)s->tx_bytes, "packets", (json_int_t)s->tx_packets, "errors",
		(json_int_t)s->tx_errors, "dropped", (json_int_t)s->tx_dropped, "carrier_errors",
		(json_int_t)s->tx_carrier_errors, "collisions", (json_int_t)s->tx_collisions);
}

int nn_usage(struct wk_ctx *ctx)
{
	struct nn_state *st = ctx->userdata;
	struct sf_network **nets = NULL;
	size_t n = 0, sent = 0;
	int r;

	r = sf_network_list(ctx->kv, NULL, false, &nets, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct sf_network *net = nets[i];
		struct sf_link_stats s;
		char egr[SF_IFNAMSIZ];

		/* NAT networks that are not dead (spec 6.13) and are built */
		if (!net->provide_nat ||
		    (net->state != SF_NET_CREATED && net->state != SF_NET_DELETE_WAIT))
			continue;
		if (sf_name_format(SF_NAME_EGRESS_OUTER, net->vxid, egr) < 0)
			continue;
		r = sf_netops_link_stats(st->node, egr, &s);
		if (r < 0) { /* only logged, as upstream */
			sf_log_info_errno(r, "network %s: no usage: %s unreadable", net->uuid, egr);
			continue;
		}
		nn_event(ctx, SF_OBJECT_NETWORK, net->uuid, SF_EVENT_USAGE, "usage",
			 stats_json(&s));
		sent++;
	}
	for (size_t i = 0; i < n; i++)
		sf_network_free(nets[i]);
	free(nets);
	sf_log_debug("usage events for %zu networks", sent);
	return 0;
}

int nn_proc_tick(struct wk_ctx *ctx)
{
	struct nn_state *st = ctx->userdata;
	int timeout_ms, r;

	r = sf_proc_dispatch(st->proc, &timeout_ms);
	for (size_t i = 0; i < st->n_deaths; i++) {
		const struct nn_death *d = &st->deaths[i];
		json_t *extra;

		if (d->wstatus >= 0 && WIFSIGNALED(d->wstatus))
			extra = json_pack("{s:s}", "signal", strsignal(WTERMSIG(d->wstatus)));
		else if (d->wstatus >= 0 && WIFEXITED(d->wstatus))
			extra = json_pack("{s:i}", "exit_code", WEXITSTATUS(d->wstatus));
		else
			extra = NULL;
		sf_log_warn("network %s: dnsmasq died, the supervisor restarts it", d->uuid);
		nn_event(ctx, SF_OBJECT_NETWORK, d->uuid, SF_EVENT_AUDIT,
			 "dnsmasq died, restarting it", extra);
	}
	st->n_deaths = 0;
	return r;
}
