// SPDX-License-Identifier: Apache-2.0
/*
 * The netops dispatch (argument checks, canonical addresses, route_set_default) and the fake's
 * model and call log, which planning code's unit tests rely on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../fakes/netops_fake.h"
#include "sf/netops.h"

#define NS "0b8c6f0e-0000-4000-8000-00000000002a"

static void assert_calls(struct sf_netops *ops, const char *expected)
{
	char *got = sf_netops_fake_calls(ops);

	assert_string_equal(got, expected);
	free(got);
}

/* The network-node layout of spec 6.4, as a planner would build it. */
static void test_records_network_node_layout(void **state)
{
	struct sf_netops *root = sf_netops_fake_new(), *ns;

	(void)state;
	assert_int_equal(sf_netops_fake_add_nic(root, "eth1", 9000), 0);
	assert_int_equal(sf_netops_netns_add(root, NS), 0);
	assert_int_equal(sf_netops_link_add_vxlan(root,
						  &(struct sf_vxlan_spec){
							  .name = "vxlan-00002a",
							  .vni = 42,
							  .dev = "eth1",
							  .mtu = 1450,
						  }),
			 0);
	assert_int_equal(sf_netops_link_add_bridge(root,
						   &(struct sf_bridge_spec){
							   .name = "br-vxlan-00002a",
							   .mtu = 1450,
						   }),
			 0);
	assert_int_equal(sf_netops_link_set_master(root, "vxlan-00002a", "br-vxlan-00002a"), 0);
	assert_int_equal(sf_netops_link_add_veth(root,
						 &(struct sf_veth_spec){
							 .name = "veth-00002a-o",
							 .peer = "veth-00002a-i",
							 .mtu = 1450,
							 .peer_netns = NS,
						 }),
			 0);
	assert_int_equal(sf_netops_link_set_master(root, "veth-00002a-o", "br-vxlan-00002a"), 0);
	assert_int_equal(sf_netops_link_set_up(root, "veth-00002a-o"), 0);
	assert_int_equal(sf_netops_sysctl_set(root, "ipv4/conf/vxlan-00002a/arp_notify", "1"), 0);
	assert_int_equal(sf_netops_fdb_flood_add(root, "vxlan-00002a", "198.18.0.2"), 0);

	assert_int_equal(sf_netops_at(root, NS, &ns), 0);
	assert_int_equal(sf_netops_link_set_up(ns, "veth-00002a-i"), 0);
	assert_int_equal(sf_netops_addr_add(ns, "veth-00002a-i", "10.0.0.1/255.255.255.0"), 0);
	assert_int_equal(sf_netops_route_set_default(ns, "198.51.100.1", "veth-00002a-i"), 0);

	assert_calls(root,
		     "netns_add " NS "\n"
		     "link_add_vxlan vxlan-00002a vni=42 port=4789 dev=eth1 mtu=1450\n"
		     "link_add_bridge br-vxlan-00002a mtu=1450 ageing=0\n"
		     "link_set_master vxlan-00002a br-vxlan-00002a\n"
		     "link_add_veth veth-00002a-o peer=veth-00002a-i mtu=1450 peer_netns=" NS "\n"
		     "link_set_master veth-00002a-o br-vxlan-00002a\n"
		     "link_set_up veth-00002a-o\n"
		     "sysctl_set ipv4/conf/vxlan-00002a/arp_notify=1\n"
		     "fdb_flood_add vxlan-00002a 198.18.0.2\n"
		     "@" NS " link_set_up veth-00002a-i\n"
		     "@" NS " addr_add veth-00002a-i 10.0.0.1/24\n"
		     "@" NS " route_replace 0.0.0.0/0 via 198.51.100.1 dev veth-00002a-i\n");
	assert_int_equal(sf_netops_fake_n_calls(ns), 12);
	assert_string_equal(sf_netops_fake_call(ns, 0), "netns_add " NS);
	assert_null(sf_netops_fake_call(ns, 12));
	sf_netops_fake_clear_calls(ns);
	assert_calls(root, "");
	sf_netops_free(ns);
	sf_netops_free(root);
}

static void test_link_model(void **state)
{
	struct sf_netops *ops = sf_netops_fake_new();
	struct sf_link l, *links;
	size_t n;

	(void)state;
	assert_int_equal(sf_netops_link_add_bridge(ops, &(struct sf_bridge_spec){.name = "br0"}),
			 0);
	assert_int_equal(sf_netops_link_add_bridge(ops, &(struct sf_bridge_spec){.name = "br0"}),
			 -EEXIST);
	assert_int_equal(
		sf_netops_link_add_veth(ops, &(struct sf_veth_spec){.name = "a", .peer = "b"}), 0);
	assert_int_equal(
		sf_netops_link_add_veth(ops, &(struct sf_veth_spec){.name = "c", .peer = "a"}),
		-EEXIST);
	assert_int_equal(
		sf_netops_link_add_veth(ops, &(struct sf_veth_spec){.name = "x", .peer = "x"}),
		-EEXIST);
	assert_int_equal(sf_netops_link_set_master(ops, "a", "br0"), 0);
	assert_int_equal(sf_netops_link_set_master(ops, "a", "nope"), -ENODEV);
	assert_int_equal(sf_netops_link_set_master(ops, "b", "a"), -EOPNOTSUPP);
	assert_int_equal(sf_netops_link_set_up(ops, "nope"), -ENODEV);
	assert_int_equal(sf_netops_link_set_mtu(ops, "a", 1400), 0);
	assert_int_equal(sf_netops_link_set_mac(ops, "a", &(struct sf_mac){{2, 0, 0, 0, 0, 9}}), 0);

	/* a veth whose peer is down has no carrier */
	assert_int_equal(sf_netops_link_set_up(ops, "a"), 0);
	assert_int_equal(sf_netops_link_get(ops, "a", &l), 0);
	assert_string_equal(l.kind, "veth");
	assert_int_equal(l.mtu, 1400);
	assert_string_equal(l.master_name, "br0");
	assert_true(l.up);
	assert_false(l.running);
	assert_int_equal(l.oper, SF_LINK_OPER_LOWERLAYERDOWN);
	assert_int_equal(l.mac.b[5], 9);
	assert_int_equal(sf_netops_link_set_up(ops, "b"), 0);
	assert_int_equal(sf_netops_link_get(ops, "a", &l), 0);
	assert_true(l.running);
	assert_string_equal(sf_link_oper_to_string(l.oper), "UP");
	assert_int_equal(sf_netops_link_set_down(ops, "a"), 0);
	assert_int_equal(sf_netops_link_get(ops, "a", &l), 0);
	assert_int_equal(l.oper, SF_LINK_OPER_DOWN);

	/* deleting a bridge releases its ports; deleting one veth end removes both */
	assert_int_equal(sf_netops_link_del(ops, "br0"), 0);
	assert_int_equal(sf_netops_link_get(ops, "a", &l), 0);
	assert_int_equal(l.master, 0);
	assert_int_equal(sf_netops_link_del(ops, "b"), 0);
	assert_false(sf_netops_link_exists(ops, "a"));
	assert_int_equal(sf_netops_link_del(ops, "a"), 0); /* idempotent, not recorded */
	assert_int_equal(sf_netops_link_get(ops, "a", &l), -ENODEV);

	assert_int_equal(sf_netops_link_list(ops, &links, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(links[0].name, "lo");
	assert_int_equal(links[0].ifindex, 1);
	free(links);
	assert_calls(ops, "link_add_bridge br0 mtu=0 ageing=0\n"
			  "link_add_veth a peer=b mtu=0\n"
			  "link_set_master a br0\n"
			  "link_set_mtu a 1400\n"
			  "link_set_mac a 02:00:00:00:00:09\n"
			  "link_set_up a\n"
			  "link_set_up b\n"
			  "link_set_down a\n"
			  "link_del br0\n"
			  "link_del b\n");
	sf_netops_free(ops);
}

static void test_namespaces(void **state)
{
	struct sf_netops *root = sf_netops_fake_new(), *a, *b;
	struct sf_link *links;
	char **names, **addrs;
	size_t n;

	(void)state;
	assert_int_equal(sf_netops_at(root, "nsb", &b), -ENOENT);
	assert_int_equal(sf_netops_netns_add(root, "nsb"), 0);
	assert_int_equal(sf_netops_netns_add(root, "nsa"), 0);
	assert_int_equal(sf_netops_netns_add(root, "nsa"), -EEXIST);
	assert_true(sf_netops_netns_exists(root, "nsa"));
	assert_false(sf_netops_netns_exists(root, "nsc"));
	assert_int_equal(sf_netops_netns_list(root, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "nsa");
	assert_string_equal(names[1], "nsb");
	assert_null(names[2]);
	sf_netops_strv_free(names);

	assert_int_equal(sf_netops_at(root, "nsa", &a), 0);
	assert_int_equal(sf_netops_at(root, "nsb", &b), 0);
	/* a veth across the two, as the integration test builds it */
	assert_int_equal(
		sf_netops_link_add_veth(
			a, &(struct sf_veth_spec){.name = "ab", .peer = "ba", .peer_netns = "nsb"}),
		0);
	assert_int_equal(
		sf_netops_link_add_veth(
			a, &(struct sf_veth_spec){.name = "x", .peer = "y", .peer_netns = "nsc"}),
		-ENOENT);
	assert_true(sf_netops_link_exists(b, "ba"));
	assert_false(sf_netops_link_exists(a, "ba"));

	/* moving drops addresses and the master and brings the link down */
	assert_int_equal(sf_netops_link_add_bridge(a, &(struct sf_bridge_spec){.name = "br"}), 0);
	assert_int_equal(
		sf_netops_link_add_veth(a, &(struct sf_veth_spec){.name = "m", .peer = "m2"}), 0);
	assert_int_equal(sf_netops_link_set_master(a, "m", "br"), 0);
	assert_int_equal(sf_netops_link_set_up(a, "m"), 0);
	assert_int_equal(sf_netops_addr_add(a, "m", "10.9.0.1/24"), 0);
	assert_int_equal(sf_netops_link_set_netns(a, "m", "nsz"), -ENOENT);
	assert_int_equal(sf_netops_link_set_netns(a, "m", "nsb"), 0);
	assert_false(sf_netops_link_exists(a, "m"));
	assert_int_equal(sf_netops_addr_list(b, "m", &addrs, &n), 0);
	assert_int_equal(n, 0);
	sf_netops_strv_free(addrs);
	assert_int_equal(sf_netops_link_list(b, &links, &n), 0);
	assert_int_equal(n, 3); /* lo, ba, m */
	assert_string_equal(links[2].name, "m");
	assert_int_equal(links[2].master, 0);
	assert_false(links[2].up);
	free(links);

	/* deleting a namespace takes its links and their peers elsewhere */
	assert_int_equal(sf_netops_netns_del(root, "nsa"), 0);
	assert_int_equal(sf_netops_netns_del(root, "nsa"), 0);
	assert_false(sf_netops_link_exists(b, "ba"));
	assert_false(sf_netops_link_exists(b, "m")); /* its peer m2 was in nsa */
	assert_int_equal(sf_netops_link_add_bridge(a, &(struct sf_bridge_spec){.name = "q"}),
			 -ENOENT);
	sf_netops_free(a);
	sf_netops_free(b);
	sf_netops_free(root);
}

static void test_addresses(void **state)
{
	struct sf_netops *ops = sf_netops_fake_new();
	char **v;
	size_t n;

	(void)state;
	assert_int_equal(sf_netops_fake_add_nic(ops, "eth0", 0), 0);
	assert_int_equal(sf_netops_addr_add(ops, "eth1", "10.0.0.1/24"), -ENODEV);
	assert_int_equal(sf_netops_addr_add(ops, "eth0", "10.0.0.1/24"), 0);
	assert_int_equal(sf_netops_addr_add(ops, "eth0", "10.0.0.1/255.255.255.0"), -EEXIST);
	assert_int_equal(sf_netops_addr_add(ops, "eth0", "10.0.0.9/32"), 0);
	assert_int_equal(sf_netops_addr_list(ops, "eth0", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "10.0.0.1/24");
	assert_string_equal(v[1], "10.0.0.9/32");
	sf_netops_strv_free(v);
	assert_int_equal(sf_netops_addr_del(ops, "eth0", "10.0.0.1/24"), 0);
	assert_int_equal(sf_netops_addr_del(ops, "eth0", "10.0.0.1/24"), 0);
	assert_int_equal(sf_netops_addr_del(ops, "gone", "10.0.0.1/24"), 0);
	assert_calls(ops, "addr_add eth0 10.0.0.1/24\n"
			  "addr_add eth0 10.0.0.9/32\n"
			  "addr_del eth0 10.0.0.1/24\n");
	sf_netops_free(ops);
}

static void test_routes_and_default(void **state)
{
	struct sf_netops *ops = sf_netops_fake_new();
	struct sf_route *v;
	size_t n;

	(void)state;
	assert_int_equal(sf_netops_fake_add_nic(ops, "egr", 0), 0);
	assert_int_equal(sf_netops_route_replace(ops, &(struct sf_route){.dst = "0.0.0.0/0",
									 .gateway = "192.0.2.1",
									 .metric = 100}),
			 0);
	assert_int_equal(sf_netops_route_replace(ops, &(struct sf_route){.dst = "0.0.0.0/0",
									 .gateway = "192.0.2.2"}),
			 0);
	assert_int_equal(sf_netops_route_replace(
				 ops, &(struct sf_route){.dst = "10.1.0.0/24", .dev = "egr"}),
			 0);
	assert_int_equal(sf_netops_route_replace(
				 ops, &(struct sf_route){.dst = "10.2.0.0/24", .dev = "nope"}),
			 -ENODEV);
	sf_netops_fake_clear_calls(ops);

	/* exactly one default afterwards: metric 0 replaced, the metric 100 one deleted */
	assert_int_equal(sf_netops_route_set_default(ops, "198.51.100.1", "egr"), 0);
	assert_int_equal(sf_netops_route_list(ops, NULL, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].dst, "0.0.0.0/0");
	assert_string_equal(v[0].gateway, "198.51.100.1");
	assert_string_equal(v[0].dev, "egr");
	assert_int_equal(v[0].metric, 0);
	assert_int_equal(v[0].protocol, 4);
	assert_string_equal(v[1].dst, "10.1.0.0/24");
	free(v);
	assert_calls(ops, "route_replace 0.0.0.0/0 via 198.51.100.1 dev egr\n"
			  "route_del 0.0.0.0/0 via 192.0.2.1 metric 100\n");

	/* del: missing is fine; routes through a deleted device go with it */
	assert_int_equal(
		sf_netops_route_del(ops, &(struct sf_route){.dst = "10.9.0.0/24", .dev = "egr"}),
		0);
	assert_int_equal(sf_netops_link_del(ops, "egr"), 0);
	assert_int_equal(sf_netops_route_list(ops, NULL, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	sf_netops_free(ops);
}

static void test_fdb_flood(void **state)
{
	struct sf_netops *ops = sf_netops_fake_new();
	char **v;
	size_t n;

	(void)state;
	assert_int_equal(
		sf_netops_link_add_vxlan(
			ops, &(struct sf_vxlan_spec){.name = "vx", .vni = 7, .port = 8472}),
		0);
	assert_int_equal(sf_netops_link_add_bridge(ops, &(struct sf_bridge_spec){.name = "br"}), 0);
	assert_int_equal(sf_netops_fdb_flood_add(ops, "vx", "198.18.0.2"), 0);
	assert_int_equal(sf_netops_fdb_flood_add(ops, "vx", "198.18.0.3"), 0);
	assert_int_equal(sf_netops_fdb_flood_add(ops, "vx", "198.18.0.2"), 0); /* append: no dup */
	assert_int_equal(sf_netops_fdb_flood_add(ops, "br", "198.18.0.2"), -EOPNOTSUPP);
	assert_int_equal(sf_netops_fdb_flood_add(ops, "nope", "198.18.0.2"), -ENODEV);
	assert_int_equal(sf_netops_fdb_flood_list(ops, "vx", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "198.18.0.2");
	assert_string_equal(v[1], "198.18.0.3");
	sf_netops_strv_free(v);
	assert_int_equal(sf_netops_fdb_flood_del(ops, "vx", "198.18.0.2"), 0);
	assert_int_equal(sf_netops_fdb_flood_del(ops, "vx", "198.18.0.2"), 0);
	assert_int_equal(sf_netops_fdb_flood_list(ops, "vx", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "198.18.0.3");
	sf_netops_strv_free(v);
	assert_calls(ops, "link_add_vxlan vx vni=7 port=8472 dev=- mtu=0\n"
			  "link_add_bridge br mtu=0 ageing=0\n"
			  "fdb_flood_add vx 198.18.0.2\n"
			  "fdb_flood_add vx 198.18.0.3\n"
			  "fdb_flood_add vx 198.18.0.2\n"
			  "fdb_flood_del vx 198.18.0.2\n");
	sf_netops_free(ops);
}

static void test_vxlan_underlay_by_ifindex(void **state)
{
	struct sf_netops *ops = sf_netops_fake_new();
	struct sf_link nic, vx;

	(void)state;
	assert_int_equal(sf_netops_fake_add_nic(ops, "eth1", 0), 0);
	assert_int_equal(sf_netops_link_get(ops, "eth1", &nic), 0);
	assert_int_equal(
		sf_netops_link_add_vxlan(ops, &(struct sf_vxlan_spec){.name = "vx",
								      .vni = 0xffffff,
								      .dev_ifindex = nic.ifindex}),
		0);
	assert_int_equal(
		sf_netops_link_add_vxlan(
			ops, &(struct sf_vxlan_spec){.name = "vy", .vni = 1, .dev_ifindex = 999}),
		-ENODEV);
	assert_int_equal(sf_netops_link_get(ops, "vx", &vx), 0);
	assert_int_equal(vx.vxlan_vni, 0xffffff);
	assert_int_equal(vx.vxlan_port, SF_VXLAN_PORT_DEFAULT);
	assert_int_equal(vx.vxlan_dev, nic.ifindex);
	assert_string_equal(sf_netops_fake_call(ops, 0),
			    "link_add_vxlan vx vni=16777215 port=4789 dev=eth1 mtu=0");
	sf_netops_free(ops);
}

static void test_sysctl_and_stats(void **state)
{
	struct sf_netops *ops = sf_netops_fake_new();
	struct sf_link_stats st = {.rx_bytes = 10, .tx_collisions = 3}, got;
	char *v;

	(void)state;
	assert_int_equal(sf_netops_sysctl_get(ops, "ipv4/ip_forward", &v), -ENOENT);
	assert_int_equal(sf_netops_sysctl_set(ops, "ipv4/ip_forward", "1"), 0);
	assert_int_equal(sf_netops_sysctl_get(ops, "ipv4/ip_forward", &v), 0);
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(sf_netops_sysctl_set(ops, "ipv4/conf/vx/arp_notify", "1"), -ENOENT);
	assert_int_equal(sf_netops_sysctl_set(ops, "ipv4/conf/all/forwarding", "1"), 0);

	assert_int_equal(sf_netops_link_stats(ops, "eth0", &got), -ENODEV);
	assert_int_equal(sf_netops_fake_add_nic(ops, "eth0", 0), 0);
	/* the generic IPv6-off helper writes the device's disable_ipv6 */
	assert_int_equal(sf_netops_link_ipv6_off(ops, "eth0"), 0);
	assert_int_equal(sf_netops_sysctl_get(ops, "ipv6/conf/eth0/disable_ipv6", &v), 0);
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(sf_netops_link_ipv6_off(ops, "../x"), -EINVAL);
	assert_int_equal(sf_netops_link_stats(ops, "eth0", &got), 0);
	assert_int_equal(got.rx_bytes, 0);
	assert_int_equal(sf_netops_fake_set_stats(ops, "eth0", &st), 0);
	assert_int_equal(sf_netops_link_stats(ops, "eth0", &got), 0);
	assert_int_equal(got.rx_bytes, 10);
	assert_int_equal(got.tx_collisions, 3);
	sf_netops_free(ops);
}

static void test_injected_failures(void **state)
{
	struct sf_netops *ops = sf_netops_fake_new();

	(void)state;
	sf_netops_fake_fail_next(ops, "link_add_bridge", -EIO);
	assert_int_equal(sf_netops_link_add_bridge(ops, &(struct sf_bridge_spec){.name = "br"}),
			 -EIO);
	assert_false(sf_netops_link_exists(ops, "br"));
	assert_int_equal(sf_netops_link_add_bridge(ops, &(struct sf_bridge_spec){.name = "br"}), 0);
	assert_calls(ops, "link_add_bridge br mtu=0 ageing=0\n");
	sf_netops_free(ops);
}

/* The dispatch rejects bad input before any implementation sees it. */
static void test_argument_checks(void **state)
{
	struct sf_netops *ops = sf_netops_fake_new();
	char *v;

	(void)state;
	assert_true(sf_ifname_is_valid("br-vxlan-e2300f"));
	assert_false(sf_ifname_is_valid("br-vxlan-e2300f0")); /* 16 characters */
	assert_false(sf_ifname_is_valid(""));
	assert_false(sf_ifname_is_valid("a/b"));
	assert_false(sf_ifname_is_valid("a b"));
	assert_false(sf_ifname_is_valid("eth0:1"));
	assert_false(sf_ifname_is_valid(".."));
	assert_false(sf_ifname_is_valid(NULL));
	assert_true(sf_netns_name_is_valid(NS));
	assert_false(sf_netns_name_is_valid("../etc"));
	assert_false(sf_netns_name_is_valid("."));

	assert_int_equal(sf_netops_link_add_bridge(
				 ops, &(struct sf_bridge_spec){.name = "0123456789abcdef"}),
			 -EINVAL);
	assert_int_equal(
		sf_netops_link_add_vxlan(ops, &(struct sf_vxlan_spec){.name = "v", .vni = 0}),
		-EINVAL);
	assert_int_equal(sf_netops_link_add_vxlan(
				 ops, &(struct sf_vxlan_spec){.name = "v", .vni = 1u << 24}),
			 -EINVAL);
	assert_int_equal(
		sf_netops_link_add_veth(
			ops, &(struct sf_veth_spec){.name = "a", .peer = "b", .peer_netns = "x/y"}),
		-EINVAL);
	assert_int_equal(sf_netops_link_set_mtu(ops, "lo", 10), -EINVAL);
	assert_int_equal(sf_netops_link_set_mac(ops, "lo", &(struct sf_mac){{1, 0, 0, 0, 0, 1}}),
			 -EINVAL); /* multicast */
	assert_int_equal(sf_netops_link_set_mac(ops, "lo", &(struct sf_mac){{0}}), -EINVAL);
	assert_int_equal(sf_netops_addr_add(ops, "lo", "10.0.0.1"), -EINVAL);
	assert_int_equal(sf_netops_addr_add(ops, "lo", "10.0.0.1/33"), -EINVAL);
	assert_int_equal(sf_netops_addr_add(ops, "lo", "fd00::1/64"), -EINVAL);
	assert_int_equal(
		sf_netops_route_replace(ops, &(struct sf_route){.dst = "10.0.0.1/24", .dev = "lo"}),
		-EINVAL); /* host bits */
	assert_int_equal(sf_netops_route_replace(ops, &(struct sf_route){.dst = "10.0.0.0/24"}),
			 -EINVAL); /* neither gateway nor dev */
	assert_int_equal(sf_netops_route_set_default(ops, "not-an-ip", NULL), -EINVAL);
	assert_int_equal(sf_netops_fdb_flood_add(ops, "lo", "198.18.0.256"), -EINVAL);
	assert_int_equal(sf_netops_sysctl_set(ops, "../../etc/x", "1"), -EINVAL);
	assert_int_equal(sf_netops_sysctl_set(ops, "ipv4/../../x", "1"), -EINVAL);
	assert_int_equal(sf_netops_sysctl_set(ops, "/proc/sys/net/ipv4/ip_forward", "1"), -EINVAL);
	assert_int_equal(sf_netops_sysctl_set(ops, "ipv4/ip_forward", "1\n2"), -EINVAL);
	assert_int_equal(sf_netops_sysctl_get(ops, "", &v), -EINVAL);
	assert_int_equal(sf_netops_fake_n_calls(ops), 0);
	assert_null(sf_link_oper_to_string(_SF_LINK_OPER_MAX));
	sf_netops_free(ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_network_node_layout),
		cmocka_unit_test(test_link_model),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_routes_and_default),
		cmocka_unit_test(test_fdb_flood),
		cmocka_unit_test(test_vxlan_underlay_by_ifindex),
		cmocka_unit_test(test_sysctl_and_stats),
		cmocka_unit_test(test_injected_failures),
		cmocka_unit_test(test_argument_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
