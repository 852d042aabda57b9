// SPDX-License-Identifier: Apache-2.0
/* The worker's in-process memory and its "made" set in Redis. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networknode/nn.h"
#include "sf/kv.h"
#include "sf/naming.h"
#include "sf/util.h"

SF_LOG_MODULE("networknode");

int nn_state_init(struct nn_state *st, const struct nn_cfg *cfg, struct sf_netops *node,
		  struct sf_proc *proc)
{
	int r;

	*st = (struct nn_state){.cfg = cfg, .node = node, .proc = proc};
	r = sf_ipv4_net_parse(cfg->floating_network, 0, &st->floating_net);
	if (r < 0)
		return sf_log_err_errno(r, "floating_network '%s' is not an IPv4 block",
					cfg->floating_network);
	if (st->floating_net.prefix > 29)
		return sf_log_err_errno(-EINVAL, "floating_network '%s' is smaller than a /29",
					cfg->floating_network);
	r = sf_name_egress_bridge(cfg->egress_nic, st->egress_bridge);
	if (r < 0)
		return sf_log_err_errno(r, "egress_nic '%s' is not a device name", cfg->egress_nic);
	return 0;
}

void nn_state_clear(struct nn_state *st)
{
	for (size_t i = 0; i < st->n_mem; i++) {
		free(st->mem[i].nft_text);
		sf_nft_free(st->mem[i].nft);
	}
	nn_nft_reap(st, true);
	free(st->retired);
	st->retired = NULL;
	free(st->mem);
	free(st->deaths);
	nn_pass_clear(st);
	st->mem = NULL;
	st->deaths = NULL;
	st->n_mem = st->n_deaths = 0;
}

static struct nn_netmem *netmem_find(struct nn_state *st, const char *uuid)
{
	for (size_t i = 0; i < st->n_mem; i++)
		if (strcmp(st->mem[i].uuid, uuid) == 0)
			return &st->mem[i];
	return NULL;
}

struct nn_netmem *nn_netmem(struct nn_state *st, const char *uuid)
{
	struct nn_netmem *m = netmem_find(st, uuid);

	if (m)
		return m;
	st->mem = sf_xrealloc(st->mem, (st->n_mem + 1) * sizeof(*st->mem));
	m = &st->mem[st->n_mem++];
	*m = (struct nn_netmem){0};
	(void)snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
	return m;
}

void nn_netmem_forget(struct nn_state *st, const char *uuid)
{
	struct nn_netmem *m = netmem_find(st, uuid);

	if (!m)
		return;
	nn_nft_put(st, uuid);
	free(m->nft_text);
	*m = st->mem[--st->n_mem];
}

/* ---- nftables contexts ---------------------------------------------------------------------- */

static void retire(struct nn_state *st, struct sf_nft *nft)
{
	if (st->n_retired == NN_NFT_RETIRED_MAX) { /* the oldest goes now */
		sf_nft_free(st->retired[0].nft);
		memmove(st->retired, st->retired + 1, --st->n_retired * sizeof(*st->retired));
	}
	if (!st->retired)
		st->retired = sf_xcalloc(NN_NFT_RETIRED_MAX, sizeof(*st->retired));
	st->retired[st->n_retired++] =
		(struct nn_nft_retired){.nft = nft, .since_ms = sf_now_monotonic_ms()};
}

static void let_go(struct nn_state *st, struct sf_nft *nft)
{
	if (sf_nft_wrote(nft))
		retire(st, nft);
	else /* only looked: nothing to wait for (and a reconciler pass keeps no pile) */
		sf_nft_free(nft);
}

int nn_nft_get(struct nn_state *st, const char *uuid, struct sf_nft **ret_nft)
{
	struct nn_netmem *m = nn_netmem(st, uuid);
	int r;

	if (m->nft && sf_nft_netns_current(m->nft, uuid)) {
		*ret_nft = m->nft;
		return 0;
	}
	if (m->nft) /* the namespace was deleted, or deleted and made again */
		let_go(st, m->nft);
	m->nft = NULL;
	r = sf_nft_new(uuid, &m->nft);
	if (r < 0)
		return r;
	*ret_nft = m->nft;
	return 0;
}

void nn_nft_put(struct nn_state *st, const char *uuid)
{
	struct nn_netmem *m = netmem_find(st, uuid);

	if (!m || !m->nft)
		return;
	let_go(st, m->nft);
	m->nft = NULL;
}

void nn_nft_reap(struct nn_state *st, bool all)
{
	uint64_t now = sf_now_monotonic_ms();
	size_t n = 0;

	while (n < st->n_retired && (all || now - st->retired[n].since_ms >= NN_NFT_CLOSE_DELAY_MS))
		sf_nft_free(st->retired[n++].nft);
	if (!n)
		return;
	st->n_retired -= n;
	memmove(st->retired, st->retired + n, st->n_retired * sizeof(*st->retired));
}

int nn_nft_tick(struct wk_ctx *ctx)
{
	nn_nft_reap(ctx->userdata, false);
	return 0;
}

void nn_on_dnsmasq_exit(void *userdata, const char *key, pid_t pid, int wstatus)
{
	struct nn_state *st = userdata;
	struct nn_death *d;

	(void)pid;
	st->deaths = sf_xrealloc(st->deaths, (st->n_deaths + 1) * sizeof(*st->deaths));
	d = &st->deaths[st->n_deaths++];
	(void)snprintf(d->uuid, sizeof(d->uuid), "%s", key);
	d->wstatus = wstatus;
}

static char *made_key(struct sf_kv *kv, const struct nn_state *st)
{
	return sf_kv_key(kv, "nn:%s:made", st->cfg->node_name);
}

int nn_made_add(struct sf_kv *kv, const struct nn_state *st, const char *uuid, uint32_t vxid)
{
	char *key = made_key(kv, st), v[16];
	int r;

	(void)snprintf(v, sizeof(v), "%u", vxid);
	r = sf_kv_cmd(kv, NULL, "HSET", key, uuid, v, NULL);
	free(key);
	return r;
}

int nn_made_del(struct sf_kv *kv, const struct nn_state *st, const char *uuid)
{
	char *key = made_key(kv, st);
	int r = sf_kv_cmd(kv, NULL, "HDEL", key, uuid, NULL);

	free(key);
	return r;
}

int nn_made_list(struct sf_kv *kv, const struct nn_state *st, json_t **ret_made)
{
	struct sf_kv_reply *reply = NULL;
	char *key = made_key(kv, st);
	json_t *made;
	int r;

	r = sf_kv_cmd(kv, &reply, "HGETALL", key, NULL);
	free(key);
	if (r < 0)
		return r;
	if (reply->type != SF_KV_REPLY_ARRAY || reply->n % 2) {
		sf_kv_reply_free(reply);
		return -EPROTO;
	}
	made = json_object();
	for (size_t i = 0; i + 1 < reply->n; i += 2)
		json_object_set_new(made, reply->elems[i]->str,
				    json_string(reply->elems[i + 1]->str));
	sf_kv_reply_free(reply);
	*ret_made = made;
	return 0;
}
