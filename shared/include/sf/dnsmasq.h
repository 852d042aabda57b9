/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dnsmasq files of a network (spec 6.10), rendered as upstream writes them. Pure functions:
 * they return allocated text; writing the files and running dnsmasq is the caller's (through
 * sf/proc.h, with the command line from sf_dnsmasq_argv()).
 *
 * Files in the network's state directory (sf_name_dnsmasq_dir()):
 *   config    always
 *   hosts     provide_dhcp: "<mac>,<name without commas>,<ipv4>" per interface
 *   dnshosts  provide_dns: "<ipv4> <name>" per interface, then "<value> <name>" per hosted entry
 *   leases    written by dnsmasq;  pid  written by dnsmasq
 * Both host files begin with an empty line, as upstream's do. dnsmasq drops privileges (to
 * nobody) after reading its config, so the directory must be searchable and the host files
 * readable by that user for SIGHUP to reload them (mode 0755 / 0644).
 *
 * Differences from upstream, on purpose: an interface without an address is left out of the
 * host files instead of producing "mac,name,None" (spec 9.21); fields that would break a line
 * (control characters, and whitespace where the format separates with it) are refused with
 * -EINVAL instead of being written. Everything else, including the absent router option (3)
 * (dnsmasq then offers its listen address, the router), is upstream's.
 */
#ifndef SF_DNSMASQ_H
#define SF_DNSMASQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf/ipv4.h"

#define SF_DNSMASQ_CONFIG "config"
#define SF_DNSMASQ_HOSTS "hosts"
#define SF_DNSMASQ_DNSHOSTS "dnshosts"
#define SF_DNSMASQ_LEASES "leases"
#define SF_DNSMASQ_PID "pid"
#define SF_DNSMASQ_LEASE_TIME "1h"

struct sf_dnsmasq_net {
	const char *uuid;	     /* the network's uuid: a comment in the config */
	const char *dir;	     /* absolute state directory */
	const char *ifname;	     /* veth-XXXXXX-i, which holds the router address */
	struct sf_ipv4_net netblock; /* /30 or larger: router = index 1, first lease = index 2 */
	const char *namespace_name;  /* the network's (tenant) namespace ... */
	const char *zone;	     /* ... and ZONE: the domain is "<namespace>.<zone>" */
	const char *dns_server;	     /* DNS_SERVER, an IPv4 address: upstream resolver */
	unsigned mtu;		     /* told to instances (option 26): MAX_HYPERVISOR_MTU - 50 */
	bool provide_dhcp;
	bool provide_dns;
	bool provide_nat;
};

/* An interface on the network. */
struct sf_dnsmasq_host {
	const char *mac;  /* "xx:xx:xx:xx:xx:xx", either case; written in lower case */
	const char *name; /* the instance's name */
	uint32_t ipv4;	  /* host byte order; 0: no address, not listed */
};

/* A hosted DNS entry (provide_dns networks): name resolves to value (an IPv4 address). */
struct sf_dnsmasq_dns_entry {
	const char *name;
	const char *value;
};

/* The config file. -EINVAL when neither DHCP nor DNS is provided (upstream's
 * NatOnlyNetworksShouldNotHaveDnsMasq), the block is smaller than a /30, dns_server is not an
 * IPv4 address where it is used, the domain is not made of letters, digits, '-' and '.', or
 * dir/ifname are not plain absolute paths / device names. */
int sf_dnsmasq_render_config(const struct sf_dnsmasq_net *net, char **ret_text);

/* The DHCP hosts file. -EINVAL for a bad MAC or a name with control characters. Only the
 * format is checked: unique addresses and MACs are IPAM's business. */
int sf_dnsmasq_render_hosts(const struct sf_dnsmasq_host *hosts, size_t n_hosts, char **ret_text);

/* The DNS hosts file. -EINVAL for a name that is empty or holds whitespace, '#' or control
 * characters, or an entry whose value is not an IPv4 address. */
int sf_dnsmasq_render_dnshosts(const struct sf_dnsmasq_host *hosts, size_t n_hosts,
			       const struct sf_dnsmasq_dns_entry *entries, size_t n_entries,
			       char **ret_text);

/* The command line to supervise dnsmasq with (NULL-terminated, allocated; free with
 * sf_dnsmasq_argv_free()): "<binary> --keep-in-foreground --log-facility=- --conf-file=<dir>/
 * config". It stays in the foreground so that it remains the supervisor's child (SIGCHLD,
 * restart) and logs to stderr, which the supervisor sends to a log file; it still writes the
 * pid file, so a restarted daemon can adopt it. -EINVAL unless binary and dir are absolute. */
int sf_dnsmasq_argv(const char *binary, const char *dir, char ***ret_argv);
void sf_dnsmasq_argv_free(char **argv);

#endif
