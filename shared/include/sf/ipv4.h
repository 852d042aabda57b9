/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure IPv4 and MAC address helpers for IPAM and the dataplane (spec section 4). No I/O except
 * sf_mac_random(). Addresses are uint32_t in host byte order (10.0.0.1 == 0x0a000001).
 *
 * Parsing is strict, like Python's ipaddress (which upstream uses): four decimal octets
 * 0..255 with no leading zeros ("010.0.0.1" is rejected, "0.0.0.0" is fine), no whitespace,
 * nothing trailing. Anything containing ':' is taken to be IPv6 and rejected with
 * -EAFNOSUPPORT, so the API can answer "IPv6 is not implemented yet" (ARCHITECTURE 5.6).
 *
 * A block ("a.b.c.d/n") is parsed as upstream's ip_network(strict=True): the prefix is 0..32
 * in decimal without leading zeros, or a contiguous dotted netmask ("/255.255.255.0"); host
 * bits set ("10.0.0.5/24") are an error of their own, -EDOM, so the API can say "has host
 * bits set" (upstream's 400) rather than "cannot parse". Flags relax this for other inputs.
 *
 * Index i of a block is network + i: index 0 is the network address, index 1 the router
 * (gateway), index 2 the first DHCP address, index size-1 the broadcast address.
 */
#ifndef SF_IPV4_H
#define SF_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#define SF_IPV4_STRLEN 16     /* "255.255.255.255" + NUL */
#define SF_IPV4_NET_STRLEN 19 /* "255.255.255.255/32" + NUL */
#define SF_MAC_STRLEN 18      /* "02:00:00:ab:cd:ef" + NUL */

struct sf_ipv4_net {
	uint32_t addr;	/* the network address (host bits clear unless SF_IPV4_NET_HOST_BITS) */
	uint8_t prefix; /* 0..32 */
};

enum {
	/* Accept a bare address as a /32, as ip_network() does (the netblock of POST /networks). */
	SF_IPV4_NET_BARE = 1 << 0,
	/* Keep host bits instead of failing with -EDOM: "10.0.0.5/24" is an interface address. */
	SF_IPV4_NET_HOST_BITS = 1 << 1,
};

/* "a.b.c.d" -> address. 0, -EINVAL, or -EAFNOSUPPORT for IPv6. */
int sf_ipv4_parse(const char *s, uint32_t *ret_addr);
/* Always fits: buf has SF_IPV4_STRLEN bytes. Returns buf. */
char *sf_ipv4_format(uint32_t addr, char buf[static SF_IPV4_STRLEN]);

/* "a.b.c.d/n" -> block. 0, -EINVAL (syntax, prefix out of range, non-contiguous netmask),
 * -EDOM (host bits set, unless SF_IPV4_NET_HOST_BITS), or -EAFNOSUPPORT for IPv6. */
int sf_ipv4_net_parse(const char *s, unsigned flags, struct sf_ipv4_net *ret_net);
/* "a.b.c.d/n". Returns buf. */
char *sf_ipv4_net_format(const struct sf_ipv4_net *net, char buf[static SF_IPV4_NET_STRLEN]);

/* /24 -> 0xffffff00; prefix > 32 is a programmer error (asserted). */
uint32_t sf_ipv4_prefix_to_netmask(unsigned prefix);
/* 0xffffff00 -> 24; -EINVAL when the mask is not contiguous. */
int sf_ipv4_netmask_to_prefix(uint32_t mask, unsigned *ret_prefix);

/* The same block with host bits cleared. */
struct sf_ipv4_net sf_ipv4_net_canonical(const struct sf_ipv4_net *net);
uint32_t sf_ipv4_net_network(const struct sf_ipv4_net *net);
uint32_t sf_ipv4_net_broadcast(const struct sf_ipv4_net *net);
uint32_t sf_ipv4_net_netmask(const struct sf_ipv4_net *net);
/* Number of addresses: 1 for /32, 2^32 for /0. */
uint64_t sf_ipv4_net_size(const struct sf_ipv4_net *net);

/* Address at index i (0 = network). -ERANGE when i >= size. */
int sf_ipv4_net_nth(const struct sf_ipv4_net *net, uint64_t i, uint32_t *ret_addr);
/* Index of addr in the block. -ERANGE when addr is outside it. */
int sf_ipv4_net_index(const struct sf_ipv4_net *net, uint32_t addr, uint64_t *ret_index);
bool sf_ipv4_net_contains(const struct sf_ipv4_net *net, uint32_t addr);
/* Do the two blocks share any address? (Blocks are either nested or disjoint.) */
bool sf_ipv4_net_overlaps(const struct sf_ipv4_net *a, const struct sf_ipv4_net *b);

/* Addresses an interface may hold: index 1 .. size-2, i.e. neither the network nor the
 * broadcast address; index 1 is the router and is reserved at IPAM creation. -ERANGE for /31
 * and /32, which have none. */
int sf_ipv4_net_usable(const struct sf_ipv4_net *net, uint32_t *ret_first, uint32_t *ret_last);
/* The router (gateway) address, index 1. -ERANGE for /31 and /32. */
int sf_ipv4_net_router(const struct sf_ipv4_net *net, uint32_t *ret_addr);

/* MAC addresses. */
struct sf_mac {
	uint8_t b[6];
};

/* The prefix of generated MACs (locally administered, unicast), as upstream. */
#define SF_MAC_PREFIX0 0x02
#define SF_MAC_PREFIX1 0x00
#define SF_MAC_PREFIX2 0x00

/* "xx:xx:xx:xx:xx:xx", six pairs of hex digits in either case. 0 or -EINVAL. */
int sf_mac_parse(const char *s, struct sf_mac *ret_mac);
/* Lower case. Returns buf. */
char *sf_mac_format(const struct sf_mac *mac, char buf[static SF_MAC_STRLEN]);
/* A random "02:00:00:xx:xx:xx". 0, or -errno from getrandom(). Uniqueness is IPAM's job. */
int sf_mac_random(struct sf_mac *ret_mac);
/* Group bit set (multicast or broadcast): not usable by an interface. */
bool sf_mac_is_multicast(const struct sf_mac *mac);

#endif
