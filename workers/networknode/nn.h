/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sf-networknode: the network node worker (ARCHITECTURE.md sections 1, 4-6; spec 6.3-6.15).
 *
 * One thread runs everything: the job loop (workers/common/jobloop.h) calls the handlers below
 * and, between jobs, the periodic tasks. Every handler is level-triggered: it reads the
 * network from Redis (desired.c), looks at the kernel and the process table (observe.c), plans
 * (plan_network.c, pure) and applies (apply.c). The reconciler runs the same code.
 *
 * Egress (spec 6.3, 6.7). The egress bridge egr-br-<egress_nic> lives in the node namespace
 * with floating index 1 and the egress NIC's MTU; the NIC is not enslaved (as upstream). Each
 * network masquerades its block to its floating gateway in its own namespace (our nft table);
 * floating IPs are 1:1 DNAT/SNAT there too. At the node level the traffic is routed, not
 * NATed: the outside routes the floating pool to the node (the development cluster's outside
 * namespace does; in production the operator must), so packets from floating addresses leave
 * through the node's default route with their own source and replies come back to it. The
 * daemon therefore puts no iptables and no nft table in the node namespace, and only turns
 * on net.ipv4.ip_forward there. (Upstream adds a root-level MASQUERADE to the node's address
 * for operators who do not route the pool; with it, the outside would not see the floating
 * addresses, and floating IPs could not be reached.) Each network namespace gets
 * net.ipv4.ip_forward=1 of its own: a new namespace does not reliably inherit it.
 *
 * Redis keys of this worker (beside the store's, shared/redis-layout.md):
 *   nn:<node>:made   hash network uuid -> vxid: the networks whose devices, namespace and
 *                    dnsmasq this node made. Written before anything is created, removed after
 *                    a teardown. Only these are ever removed as strays: other sf-net clusters
 *                    (test runs) may share the machine and its /run/netns.
 */
#ifndef NN_H
#define NN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/jobloop.h"
#include "networknode/nn_plan.h"
#include "sf/daemon.h"
#include "sf/ipv4.h"
#include "sf/netops.h"
#include "sf/nft.h"

struct sf_kv;
struct sf_network;
struct sf_proc;

struct nn_cfg {
	struct sf_daemon_cfg common;
	char *node_name;
	char *node_netns; /* NULL or "": the daemon's own namespace */
	char *mesh_nic;
	char *mesh_ip;
	char *egress_nic;
	char *floating_network;
	char *zone;
	char *dns_server;
	char *storage_dir;
	long heartbeat_s;
	long mtu;
	long vxlan_port;
	long reconcile_s;
	long usage_s;
	long stray_grace_s;
	long ping_count;
	long ping_interval_ms;
	long halo_seconds;
};

/* What this process remembers about a network. */
struct nn_netmem {
	char uuid[SF_UUID_STRLEN];
	char *nft_text;		 /* the nft transaction we last applied; NULL: unknown */
	uint64_t stray_since_ms; /* monotonic; 0: not a stray */
	struct sf_nft *nft;	 /* nftables context in its namespace, from nn_nft_get to
				    nn_nft_put (one converge or teardown) */
};

/* A context nn_nft_put set aside, freed by nn_nft_reap once it has aged. */
struct nn_nft_retired {
	struct sf_nft *nft;
	uint64_t since_ms; /* monotonic */
};

struct nn_death {
	char uuid[SF_UUID_STRLEN];
	int wstatus;
};

struct nn_state {
	const struct nn_cfg *cfg;
	struct sf_netops *node; /* acting in the node namespace */
	struct sf_proc *proc;	/* supervises dnsmasq; runs ping and dhcp_release */
	struct sf_ipv4_net floating_net;
	char egress_bridge[SF_IFNAMSIZ];
	struct nn_netmem *mem;
	size_t n_mem;
	struct nn_nft_retired *retired; /* oldest first */
	size_t n_retired;
	struct nn_death *deaths; /* dnsmasq deaths the supervisor saw, reported by nn_proc_tick */
	size_t n_deaths;
	bool floating_ok; /* the floating pool in Redis is ours (spec 6.3 step 1) */
	bool fatal;	  /* stopped for a reason a restart will not fix */
	struct nn_pass {  /* the reconciler's pass in progress (reconcile.c) */
		bool active;
		char **uuids; /* the networks at its start, done up to next */
		size_t n, next;
		uint64_t started_ms, work_ms;
		unsigned slices;
		int repairs, failures;
		/* The node namespace's flood entries, one dump for the networks of a slice
		 * instead of one per network (each walks every device of the namespace). */
		struct sf_fdb_flood *fdb; /* NULL: not taken, or the dump failed */
		size_t n_fdb;
		uint64_t fdb_jobs; /* ctx->jobs_run when it was taken */
		bool in_slice; /* nn_observe uses fdb only here, never for a job */
	} pass;
	bool pass_by_job; /* a node.reconcile job did a whole pass: the periodic one can skip */
};

/* state.c */
int nn_state_init(struct nn_state *st, const struct nn_cfg *cfg, struct sf_netops *node,
		  struct sf_proc *proc);
void nn_state_clear(struct nn_state *st);
struct nn_netmem *nn_netmem(struct nn_state *st, const char *uuid); /* created on demand */
void nn_netmem_forget(struct nn_state *st, const char *uuid);
/* The network's nftables context, one for the observation and the application of a converge:
 * the one it holds when that still acts in the namespace /run/netns/<uuid> names, else a new
 * one (errors as sf_nft_new). The network keeps it until nn_nft_put, which frees one that only
 * listed and sets aside one that wrote: a context freed right after a commit waits for the
 * kernel's cleanup of the commit (about 10 ms, see sf_nft_free), time that would otherwise
 * stand between a deploy and its "created". Aside are at most NN_NFT_RETIRED_MAX (each holds
 * 150 KiB or more of libnftables' memory); nn_nft_reap frees those set aside at least
 * NN_NFT_CLOSE_DELAY_MS ago (all of them with all), by when the cleanup has usually run. */
#define NN_NFT_CLOSE_DELAY_MS 50
#define NN_NFT_RETIRED_MAX 16
int nn_nft_get(struct nn_state *st, const char *uuid, struct sf_nft **ret_nft);
void nn_nft_put(struct nn_state *st, const char *uuid);
void nn_nft_reap(struct nn_state *st, bool all);
/* Periodic task: nn_nft_reap(st, false). */
int nn_nft_tick(struct wk_ctx *ctx);
/* The sf_proc on_exit callback (userdata: the nn_state). */
void nn_on_dnsmasq_exit(void *userdata, const char *key, pid_t pid, int wstatus);
/* "nn:<node>:made" bookkeeping. */
int nn_made_add(struct sf_kv *kv, const struct nn_state *st, const char *uuid, uint32_t vxid);
int nn_made_del(struct sf_kv *kv, const struct nn_state *st, const char *uuid);
/* uuid -> vxid as a JSON object of strings. */
int nn_made_list(struct sf_kv *kv, const struct nn_state *st, json_t **ret_made);

/* desired.c: the network as Redis describes it. exclude_iface (may be NULL): leave this
 * interface's floating address out (the defloat in progress). */
int nn_desired_load(struct nn_state *st, struct sf_kv *kv, const struct sf_network *net,
		    const char *exclude_iface, struct nn_desired *ret);
/* Just enough to tear a network down: uuid and vxid. */
void nn_desired_minimal(struct nn_state *st, const char *uuid, uint32_t vxid,
			struct nn_desired *ret);
/* The network's nftables table (sf/nft.h): the spec, and the text libnftables applies. */
struct nn_nft_spec {
	struct sf_nft_spec spec; /* points into the members below: do not copy the struct */
	char inner[SF_IFNAMSIZ], egress[SF_IFNAMSIZ];
	struct sf_nft_floating *floating;
};
int nn_nft_spec_init(const struct nn_desired *d, struct nn_nft_spec *ret);
void nn_nft_spec_clear(struct nn_nft_spec *s);
int nn_nft_text(const struct nn_desired *d, char **ret_text);

/* dhcp.c: dnsmasq's state directory and process. */
int nn_dnsmasq_dir(const struct nn_state *st, const char *uuid, char **ret_dir);
int nn_dnsmasq_start(struct nn_state *st, const char *uuid, bool adopt_only);
/* 0 and *ret_running. Adopts a dnsmasq a previous daemon left running. */
int nn_dnsmasq_running(struct nn_state *st, const char *uuid, bool *ret_running);
/* Unexpired leases of <dir>/leases ("" when there is no file). */
int nn_leases_read(const char *dir, struct nn_lease **ret_leases, size_t *ret_n);

/* observe.c. nn_observe_netops: only what netlink shows (the unit tests' part); with fdb
 * (n_fdb entries of sf_netops_fdb_flood_dump) the VXLAN device's flood entries are taken from
 * it, else listed; nn_observe: that plus the nft table and dnsmasq (files, process, leases),
 * with the reconciler pass's dump while in one of its slices. */
int nn_observe_netops(struct sf_netops *node, const char *egress_bridge,
		      const struct sf_fdb_flood *fdb, size_t n_fdb, const struct nn_desired *d,
		      struct nn_observed *ret);
int nn_observe(struct nn_state *st, const struct nn_desired *d, struct nn_observed *ret);
int nn_egress_observe(struct nn_state *st, struct nn_egress_observed *ret);
void nn_egress_desired(const struct nn_state *st, struct nn_egress_desired *ret);

/* apply.c: apply one netops operation; *net is the handle in the network's namespace, opened
 * on first use (the caller frees it). Exported for the unit tests. */
int nn_apply_netops(struct sf_netops *node, struct sf_netops **net, const char *netns,
		    const struct nn_op *op);
/* Apply a plan in order; stops at the first failure (logged), pointing *failed_op (when not
 * NULL) at the operation that failed. */
int nn_apply(struct nn_state *st, const struct nn_desired *d, const struct nn_oplist *ops,
	     const struct nn_op **failed_op);

/* converge.c */
enum {
	NN_CONVERGE_REPAIR = 1 << 0, /* the reconciler: publish an event for each repair */
};
/* Plan and apply one network; the number of repairs (operations with a why) or -errno. */
int nn_converge(struct wk_ctx *ctx, const struct sf_network *net, const char *exclude_iface,
		unsigned flags);
/* Remove everything of a network from the node (by uuid and vxid). */
int nn_teardown(struct wk_ctx *ctx, const char *uuid, uint32_t vxid);
/* The egress bridge (spec 6.3). */
int nn_egress_converge(struct wk_ctx *ctx, unsigned flags);

/* Publish an event (extra stolen, may be NULL); failures are logged by wk_event. */
void nn_event(struct wk_ctx *ctx, enum sf_object_type type, const char *uuid,
	      enum sf_event_type evtype, const char *message, json_t *extra);

/* handlers.c: what network.deploy and network.destroy do, for the handlers and the reconciler.
 * net is updated (floating gateway, state) as Redis is. */
int nn_deploy_network(struct wk_ctx *ctx, struct sf_network *net);
int nn_destroy_network(struct wk_ctx *ctx, struct sf_network *net);
/* Give the floating gateway and the routed addresses back to the pool (spec 6.14 step 5). */
int nn_release_floating(struct wk_ctx *ctx, struct sf_network *net);

/* The job handlers. */
int nn_h_deploy(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int nn_h_destroy(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int nn_h_update(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int nn_h_route(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int nn_h_float(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int nn_h_defloat(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int nn_h_ping(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int nn_h_reconcile(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);

/* reconcile.c */
/* The periodic task: one slice of a pass (about 50 ms of it), WK_PERIODIC_MORE until the
 * pass is done. nn_reconcile does a whole pass at once (the node.reconcile job), starting
 * afresh. */
int nn_reconcile_slice(struct wk_ctx *ctx);
void nn_pass_clear(struct nn_state *st);
int nn_reconcile(struct wk_ctx *ctx);
/* usage.c: a usage event per NAT network (spec 6.13). */
int nn_usage(struct wk_ctx *ctx);
/* ping.c: ping -c count -i interval in the network's namespace; the reply body is
 * {"stdout": [lines], "stderr": [lines]} whatever ping's exit status (spec 1.5.9). -errno when
 * ping could not run (e.g. -ENOENT: no such namespace). */
int nn_ping(struct nn_state *st, const char *uuid, const char *address, unsigned count,
	    unsigned interval_ms, json_t **ret_reply);
/* Split text on "\n" as Python's str.split("\n") does (a trailing newline gives a last ""). */
json_t *nn_split_lines(const char *text);

/* Periodic task: supervise dnsmasq (reap, restart, an event per death). */
int nn_proc_tick(struct wk_ctx *ctx);

#endif
