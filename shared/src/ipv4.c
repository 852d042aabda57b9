// SPDX-License-Identifier: Apache-2.0
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "sf/ipv4.h"
#include "sf/util.h"

/* Parse one decimal field of at most max_digits digits without a leading zero; advance *p. */
static int parse_decimal(const char **p, unsigned max_digits, unsigned max, unsigned *ret_value)
{
	const char *s = *p;
	unsigned v = 0, n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == max_digits)
			return -EINVAL;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > max)
		return -EINVAL;
	*p = s + n;
	*ret_value = v;
	return 0;
}

/* Parse "a.b.c.d" at *p and advance past it; the caller checks what follows. */
static int parse_addr_prefix(const char **p, uint32_t *ret_addr)
{
	const char *s = *p;
	uint32_t addr = 0;

	for (int i = 0; i < 4; i++) {
		unsigned octet;

		if (i > 0 && *s++ != '.')
			return -EINVAL;
		if (parse_decimal(&s, 3, 255, &octet) < 0)
			return -EINVAL;
		addr = addr << 8 | octet;
	}
	*p = s;
	*ret_addr = addr;
	return 0;
}

static int invalid(const char *s)
{
	/* Anything with a colon is an IPv6 literal (or garbage we report as such). */
	return strchr(s, ':') ? -EAFNOSUPPORT : -EINVAL;
}

int sf_ipv4_parse(const char *s, uint32_t *ret_addr)
{
	const char *p = s;
	uint32_t addr;

	if (!s)
		return -EINVAL;
	if (parse_addr_prefix(&p, &addr) < 0 || *p != '\0')
		return invalid(s);
	*ret_addr = addr;
	return 0;
}

char *sf_ipv4_format(uint32_t addr, char buf[static SF_IPV4_STRLEN])
{
	(void)snprintf(buf, SF_IPV4_STRLEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
		       (addr >> 8) & 0xff, addr & 0xff);
	return buf;
}

uint32_t sf_ipv4_prefix_to_netmask(unsigned prefix)
{
	assert(prefix <= 32);
	return prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
}

int sf_ipv4_netmask_to_prefix(uint32_t mask, unsigned *ret_prefix)
{
	unsigned prefix = (unsigned)__builtin_popcount(mask);

	if (sf_ipv4_prefix_to_netmask(prefix) != mask)
		return -EINVAL;
	*ret_prefix = prefix;
	return 0;
}

int sf_ipv4_net_parse(const char *s, unsigned flags, struct sf_ipv4_net *ret_net)
{
	const char *p = s;
	uint32_t addr, mask;
	unsigned prefix = 32;

	if (!s)
		return -EINVAL;
	if (parse_addr_prefix(&p, &addr) < 0)
		return invalid(s);
	if (*p == '/') {
		const char *q = ++p;

		/* A prefix length, or else a dotted netmask as ip_network() also takes. */
		if (parse_decimal(&p, 2, 32, &prefix) < 0 || *p != '\0') {
			p = q;
			if (parse_addr_prefix(&p, &mask) < 0 || *p != '\0' ||
			    sf_ipv4_netmask_to_prefix(mask, &prefix) < 0)
				return invalid(s);
		}
	} else if (*p != '\0' || !(flags & SF_IPV4_NET_BARE)) {
		return invalid(s);
	}
	mask = sf_ipv4_prefix_to_netmask(prefix);
	if ((addr & ~mask) && !(flags & SF_IPV4_NET_HOST_BITS))
		return -EDOM;
	*ret_net = (struct sf_ipv4_net){.addr = addr, .prefix = (uint8_t)prefix};
	return 0;
}

char *sf_ipv4_net_format(const struct sf_ipv4_net *net, char buf[static SF_IPV4_NET_STRLEN])
{
	uint32_t a = net->addr;

	assert(net->prefix <= 32);
	(void)snprintf(buf, SF_IPV4_NET_STRLEN, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff,
		       (a >> 8) & 0xff, a & 0xff, (unsigned)net->prefix);
	return buf;
}

uint32_t sf_ipv4_net_netmask(const struct sf_ipv4_net *net)
{
	return sf_ipv4_prefix_to_netmask(net->prefix);
}

uint32_t sf_ipv4_net_network(const struct sf_ipv4_net *net)
{
	return net->addr & sf_ipv4_net_netmask(net);
}

uint32_t sf_ipv4_net_broadcast(const struct sf_ipv4_net *net)
{
	return net->addr | ~sf_ipv4_net_netmask(net);
}

struct sf_ipv4_net sf_ipv4_net_canonical(const struct sf_ipv4_net *net)
{
	return (struct sf_ipv4_net){.addr = sf_ipv4_net_network(net), .prefix = net->prefix};
}

uint64_t sf_ipv4_net_size(const struct sf_ipv4_net *net)
{
	return UINT64_C(1) << (32 - net->prefix);
}

int sf_ipv4_net_nth(const struct sf_ipv4_net *net, uint64_t i, uint32_t *ret_addr)
{
	if (i >= sf_ipv4_net_size(net))
		return -ERANGE;
	*ret_addr = sf_ipv4_net_network(net) + (uint32_t)i;
	return 0;
}

bool sf_ipv4_net_contains(const struct sf_ipv4_net *net, uint32_t addr)
{
	return (addr & sf_ipv4_net_netmask(net)) == sf_ipv4_net_network(net);
}

int sf_ipv4_net_index(const struct sf_ipv4_net *net, uint32_t addr, uint64_t *ret_index)
{
	if (!sf_ipv4_net_contains(net, addr))
		return -ERANGE;
	*ret_index = addr - sf_ipv4_net_network(net);
	return 0;
}

bool sf_ipv4_net_overlaps(const struct sf_ipv4_net *a, const struct sf_ipv4_net *b)
{
	/* CIDR blocks overlap only by nesting, so the shorter prefix must contain the other. */
	return a->prefix <= b->prefix ? sf_ipv4_net_contains(a, b->addr)
				      : sf_ipv4_net_contains(b, a->addr);
}

int sf_ipv4_net_usable(const struct sf_ipv4_net *net, uint32_t *ret_first, uint32_t *ret_last)
{
	if (net->prefix > 30)
		return -ERANGE;
	*ret_first = sf_ipv4_net_network(net) + 1;
	*ret_last = sf_ipv4_net_broadcast(net) - 1;
	return 0;
}

int sf_ipv4_net_router(const struct sf_ipv4_net *net, uint32_t *ret_addr)
{
	uint32_t first, last;
	int r;

	r = sf_ipv4_net_usable(net, &first, &last);
	if (r < 0)
		return r;
	*ret_addr = first;
	return 0;
}

int sf_mac_parse(const char *s, struct sf_mac *ret_mac)
{
	struct sf_mac mac;

	if (!s || strlen(s) != SF_MAC_STRLEN - 1)
		return -EINVAL;
	for (size_t i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = sf_hexval(p[0]), lo = sf_hexval(p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -EINVAL;
		mac.b[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret_mac = mac;
	return 0;
}

char *sf_mac_format(const struct sf_mac *mac, char buf[static SF_MAC_STRLEN])
{
	(void)snprintf(buf, SF_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac->b[0], mac->b[1],
		       mac->b[2], mac->b[3], mac->b[4], mac->b[5]);
	return buf;
}

int sf_mac_random(struct sf_mac *ret_mac)
{
	struct sf_mac mac = {.b = {SF_MAC_PREFIX0, SF_MAC_PREFIX1, SF_MAC_PREFIX2}};
	ssize_t n;

	do
		n = getrandom(mac.b + 3, 3, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n != 3)
		return -EIO;
	*ret_mac = mac;
	return 0;
}

bool sf_mac_is_multicast(const struct sf_mac *mac)
{
	return mac->b[0] & 0x01;
}
