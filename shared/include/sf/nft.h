/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nftables in a network's namespace: one table of ours, "ip sfnet", replaced atomically.
 *
 * The table is the whole NAT policy of a network (spec 6.7 and 6.8, ARCHITECTURE 5.3):
 *
 *   table ip sfnet {
 *           chain prerouting {                      floating IPs in: 1:1 DNAT
 *                   type nat hook prerouting priority dstnat; policy accept;
 *                   ip daddr <floating> dnat to <inner>
 *           }
 *           chain postrouting {                     out of the egress veth
 *                   type nat hook postrouting priority srcnat; policy accept;
 *                   oifname "egr-XXXXXX-i" ip saddr <inner> snat to <floating>   1:1 SNAT
 *                   oifname "egr-XXXXXX-i" ip saddr <netblock> masquerade        provide_nat
 *           }
 *           chain forward {                         upstream's FORWARD accepts
 *                   type filter hook forward priority filter; policy accept;
 *                   iifname "veth-XXXXXX-i" oifname "egr-XXXXXX-i" accept
 *                   iifname "egr-XXXXXX-i" oifname "veth-XXXXXX-i" accept
 *           }
 *   }
 *
 * The 1:1 SNAT rules come before the masquerade, so an instance with a floating IP leaves with
 * that address and every other instance with the floating gateway (the egress veth's address).
 * Removing a floating IP removes both of its rules (upstream leaks the DNAT, issue #736). The
 * forward accepts are redundant with the accept policy, as upstream's are; nothing is filtered.
 *
 * Applying is one libnftables transaction, "add table; delete table; table { ... }": the old
 * table and the new one swap atomically and a missing table is no error. Rules match devices by
 * name (iifname/oifname), never by index, so libnftables never has to resolve an interface in
 * the caller's namespace.
 *
 * A struct sf_nft owns one libnftables context whose netlink socket was opened inside the
 * target namespace (the calling thread enters it with setns(), creates the context and returns
 * at once; the daemon's own namespace never changes). It is reused for every call and is not
 * thread-safe: one thread at a time.
 */
#ifndef SF_NFT_H
#define SF_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf/ipv4.h"

#define SF_NFT_FAMILY "ip"
#define SF_NFT_TABLE "sfnet"
/* The table's comment: "sf:" and a 64-bit fingerprint of its rules, in hex. */
#define SF_NFT_MARK_PREFIX "sf:"
#define SF_NFT_MARK_SIZE 24

/* One floating IP: traffic to floating goes to inner, inner's traffic out leaves as floating.
 * Addresses in host byte order. */
struct sf_nft_floating {
	uint32_t floating;
	uint32_t inner;
};

struct sf_nft_spec {
	struct sf_ipv4_net netblock; /* the network's block */
	const char *inner_ifname;    /* veth-XXXXXX-i: the network side */
	const char *egress_ifname;   /* egr-XXXXXX-i: toward the floating network */
	bool masquerade;	     /* provide_nat: masquerade the netblock out of egress */
	const struct sf_nft_floating *floating;
	size_t n_floating;
};

/* The transaction that replaces our table with the one spec describes (allocated; free() it).
 * Pure. -EINVAL when an interface name is empty, too long or holds characters that cannot
 * appear in a device name; when an inner address is outside the netblock or a floating one
 * inside it; or when a floating or inner address appears twice (floating IPs are 1:1). */
int sf_nft_render(const struct sf_nft_spec *spec, char **ret_text);
/* The mark (table comment) of a rendered text: what sf_nft_table_mark() reads back once the
 * text is applied. "" for a text without one. */
void sf_nft_text_mark(const char *text, char ret_mark[SF_NFT_MARK_SIZE]);

struct sf_nft;

/* A context in the namespace netns: a name under /run/netns (as `ip netns` makes them), an
 * absolute path to a namespace file (/proc/<pid>/ns/net), or NULL for the caller's own.
 * -ENOENT when the namespace does not exist, -EINVAL for a bad name. */
int sf_nft_new(const char *netns, struct sf_nft **ret_nft);
/* Closes the context's netlink socket. Right after a commit in the namespace, the kernel makes
 * the close wait for nf_tables' deferred cleanup of that commit (an RCU grace period, about
 * 10 ms here); a caller in a hurry can keep the context and free it later. */
void sf_nft_free(struct sf_nft *nft);
/* Has a transaction (sf_nft_apply, sf_nft_delete_table) gone through nft? A context that only
 * listed closes without that wait. */
bool sf_nft_wrote(const struct sf_nft *nft);

/* Is nft (made for the same netns argument) still acting in the namespace that netns names
 * now? false when the name is gone or names another namespace since (deleted and made again):
 * a context keeps the namespace it was made in alive, so a kept context must be checked
 * before it is used again. Always true for the caller's own namespace (netns NULL). */
bool sf_nft_netns_current(const struct sf_nft *nft, const char *netns);

/* Render and apply spec in one transaction. -EINVAL as sf_nft_render; -EIO when the kernel or
 * libnftables refused it (sf_nft_last_error() says why). Nothing changes on failure. */
int sf_nft_apply(struct sf_nft *nft, const struct sf_nft_spec *spec);

/* Remove our table; a missing table counts as success. -EIO as above. */
int sf_nft_delete_table(struct sf_nft *nft);

/* Does our table exist? 0 and *ret_exists, or -EIO. */
int sf_nft_table_exists(struct sf_nft *nft, bool *ret_exists);

/* The mark of our table as the kernel holds it ("" if it has none, e.g. made by hand or by an
 * older version): equal to sf_nft_text_mark() of a text means that text was applied last, as
 * long as nobody edited the table since (the mark does not check the rules themselves). For a
 * daemon that starts and finds tables it applied before. -ENOENT: no table; -EIO. */
int sf_nft_table_mark(struct sf_nft *nft, char ret_mark[SF_NFT_MARK_SIZE]);

/* Our table as libnftables JSON (`nft -j list table ip sfnet`; allocated, free() it), for the
 * reconciler to compare with what it would apply. The objects carry kernel handles, which
 * change with every apply. -ENOENT when the table does not exist, -EIO otherwise. */
int sf_nft_list_json(struct sf_nft *nft, char **ret_json);

/* libnftables' error text from the last failed call ("" if none); borrowed, valid until the
 * next call. */
const char *sf_nft_last_error(const struct sf_nft *nft);

#endif
