// SPDX-License-Identifier: Apache-2.0
/* dnsmasq config and host files (spec 6.10). Pure. See sf/dnsmasq.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/dnsmasq.h"
#include "sf/naming.h"
#include "sf/util.h"

/* Formatted output into a memory stream: it fails only without memory. */
#define put(f, ...)                                \
	do {                                       \
		if (fprintf((f), __VA_ARGS__) < 0) \
			abort();                   \
	} while (0)

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return true;
	return false;
}

/* A value that ends a config line cleanly: no control characters or whitespace. */
static bool plain(const char *s)
{
	return s && *s && !has_ctl(s) && !strpbrk(s, " \t");
}

static bool domain_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

static FILE *mem_open(char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	if (!f)
		abort(); /* only ENOMEM */
	return f;
}

static void mem_close(FILE *f)
{
	if (fclose(f) != 0)
		abort();
}

int sf_dnsmasq_render_config(const struct sf_dnsmasq_net *net, char **ret_text)
{
	char router[SF_IPV4_STRLEN], first[SF_IPV4_STRLEN], mask[SF_IPV4_STRLEN],
		bcast[SF_IPV4_STRLEN];
	const char *dir = net->dir;
	uint32_t addr, dns = 0;
	char *text = NULL;
	size_t len;
	FILE *f;

	if (!net->provide_dhcp && !net->provide_dns)
		return -EINVAL;
	if (!plain(dir) || dir[0] != '/' || !plain(net->ifname) ||
	    strlen(net->ifname) >= SF_IFNAMSIZ || !domain_ok(net->namespace_name) ||
	    !domain_ok(net->zone) || net->mtu < 68 || net->mtu > 65535)
		return -EINVAL;
	/* Router, first lease and broadcast must be three different addresses: /30 at least. */
	if (net->netblock.prefix > 30)
		return -EINVAL;
	/* The upstream resolver is used for DNS forwarding and, on NAT networks, handed out. */
	if ((net->provide_dns || net->provide_nat) &&
	    (!net->dns_server || sf_ipv4_parse(net->dns_server, &dns) < 0))
		return -EINVAL;

	(void)sf_ipv4_net_nth(&net->netblock, 1, &addr);
	sf_ipv4_format(addr, router);
	(void)sf_ipv4_net_nth(&net->netblock, 2, &addr);
	sf_ipv4_format(addr, first);
	sf_ipv4_format(sf_ipv4_net_netmask(&net->netblock), mask);
	sf_ipv4_format(sf_ipv4_net_broadcast(&net->netblock), bcast);

	f = mem_open(&text, &len);
	put(f,
	    "# dnsmasq for network %s, written by sf-net\n"
	    "# provide_dhcp=%s provide_dns=%s provide_nat=%s\n\n",
	    net->uuid ? net->uuid : "", net->provide_dhcp ? "true" : "false",
	    net->provide_dns ? "true" : "false", net->provide_nat ? "true" : "false");
	put(f, "domain-needed\nbogus-priv\nno-hosts\nno-resolv\nfilterwin2k\n\n");
	if (net->provide_dns)
		put(f,
		    "port=53\nserver=%s\naddn-hosts=%s/" SF_DNSMASQ_DNSHOSTS "\nexpand-hosts\n\n",
		    net->dns_server, dir);
	else
		put(f, "# DNS off\nport=0\n\n");
	put(f, "pid-file=%s/" SF_DNSMASQ_PID "\n\n", dir);
	put(f, "interface=%s\nlisten-address=%s\n\n", net->ifname, router);
	put(f, "domain=%s.%s\nlocal=/%s.%s/\n", net->namespace_name, net->zone, net->namespace_name,
	    net->zone);
	if (net->provide_dhcp) {
		put(f, "\ndhcp-leasefile=%s/" SF_DNSMASQ_LEASES "\n", dir);
		/* static: only MACs in the hosts file get an address. */
		put(f, "dhcp-range=%s,static,%s,%s," SF_DNSMASQ_LEASE_TIME "\n", first, mask,
		    bcast);
		if (net->provide_dns)
			put(f, "dhcp-option=6,%s\n", router);
		else if (net->provide_nat)
			put(f, "dhcp-option=6,%s\n", net->dns_server);
		put(f, "dhcp-option=1,%s\n", mask);
		put(f, "dhcp-option=15,%s.%s\n", net->namespace_name, net->zone);
		put(f, "dhcp-option=26,%u\n", net->mtu);
		put(f, "dhcp-hostsfile=%s/" SF_DNSMASQ_HOSTS "\n", dir);
	}
	mem_close(f);
	*ret_text = text;
	return 0;
}

int sf_dnsmasq_render_hosts(const struct sf_dnsmasq_host *hosts, size_t n_hosts, char **ret_text)
{
	char mac_s[SF_MAC_STRLEN], ip[SF_IPV4_STRLEN];
	struct sf_mac mac;
	char *text = NULL;
	size_t len;
	FILE *f;

	for (size_t i = 0; i < n_hosts; i++)
		if (!hosts[i].name || has_ctl(hosts[i].name) || !hosts[i].mac ||
		    sf_mac_parse(hosts[i].mac, &mac) < 0)
			return -EINVAL;

	f = mem_open(&text, &len);
	put(f, "\n");
	for (size_t i = 0; i < n_hosts; i++) {
		if (!hosts[i].ipv4)
			continue;
		(void)sf_mac_parse(hosts[i].mac, &mac);
		put(f, "%s,", sf_mac_format(&mac, mac_s));
		/* Commas separate the fields: upstream drops them from the name. */
		for (const char *c = hosts[i].name; *c; c++)
			if (*c != ',')
				put(f, "%c", *c);
		put(f, ",%s\n", sf_ipv4_format(hosts[i].ipv4, ip));
	}
	mem_close(f);
	*ret_text = text;
	return 0;
}

static bool hostname_ok(const char *s)
{
	return plain(s) && !strchr(s, '#');
}

int sf_dnsmasq_render_dnshosts(const struct sf_dnsmasq_host *hosts, size_t n_hosts,
			       const struct sf_dnsmasq_dns_entry *entries, size_t n_entries,
			       char **ret_text)
{
	char ip[SF_IPV4_STRLEN];
	char *text = NULL;
	uint32_t addr;
	size_t len;
	FILE *f;

	for (size_t i = 0; i < n_hosts; i++)
		if (hosts[i].ipv4 && !hostname_ok(hosts[i].name))
			return -EINVAL;
	for (size_t i = 0; i < n_entries; i++)
		if (!hostname_ok(entries[i].name) || !entries[i].value ||
		    sf_ipv4_parse(entries[i].value, &addr) < 0)
			return -EINVAL;

	f = mem_open(&text, &len);
	put(f, "\n");
	for (size_t i = 0; i < n_hosts; i++)
		if (hosts[i].ipv4)
			put(f, "%s %s\n", sf_ipv4_format(hosts[i].ipv4, ip), hosts[i].name);
	for (size_t i = 0; i < n_entries; i++)
		put(f, "%s %s\n", entries[i].value, entries[i].name);
	mem_close(f);
	*ret_text = text;
	return 0;
}

int sf_dnsmasq_argv(const char *binary, const char *dir, char ***ret_argv)
{
	char **argv;

	if (!plain(binary) || binary[0] != '/' || !plain(dir) || dir[0] != '/')
		return -EINVAL;
	argv = sf_xcalloc(5, sizeof(*argv));
	argv[0] = sf_xstrdup(binary);
	argv[1] = sf_xstrdup("--keep-in-foreground");
	argv[2] = sf_xstrdup("--log-facility=-");
	argv[3] = sf_xasprintf("--conf-file=%s/" SF_DNSMASQ_CONFIG, dir);
	*ret_argv = argv;
	return 0;
}

void sf_dnsmasq_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}
