// SPDX-License-Identifier: Apache-2.0
/*
 * The network node's planners (workers/networknode/nn_plan.h) against the netops fake: the
 * expected operation lists for the egress bridge, a fresh network, a network with one missing
 * device, drift in the flood list and addresses, and a destroy; applying a plan to the fake
 * and planning again gives nothing to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fakes/netops_fake.h"
#include "networknode/nn.h"
#include "sf/ipv4.h"

#define UUID "6f1c1f2e-3b1a-4c2d-9e8f-0a1b2c3d4e5f"

struct fixture {
	struct nn_cfg cfg;
	struct nn_state st;
	struct sf_netops *ops; /* the fake: its root namespace is the node namespace */
	struct nn_desired d;
};

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(sf_ipv4_parse(s, &a), 0);
	return a;
}

static char **strv(size_t n, ...)
{
	char **v = calloc(n + 1, sizeof(*v));
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		v[i] = strdup(va_arg(ap, const char *));
	va_end(ap);
	return v;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->cfg = (struct nn_cfg){
		.node_name = "nn1",
		.mesh_nic = "mesh0",
		.mesh_ip = "198.18.0.2",
		.egress_nic = "egress0",
		.floating_network = "198.51.100.0/24",
		.storage_dir = "/nonexistent/sf-net-test",
		.mtu = 1450,
		.vxlan_port = 4789,
	};
	f->ops = sf_netops_fake_new();
	assert_int_equal(nn_state_init(&f->st, &f->cfg, f->ops, NULL), 0);
	assert_int_equal(sf_netops_fake_add_nic(f->ops, "mesh0", 9000), 0);
	assert_int_equal(sf_netops_fake_add_nic(f->ops, "egress0", 1500), 0);

	/* 10.0.0.0/24, vxid 42, DHCP and NAT, one hypervisor peer, one floating and one routed
	 * address */
	nn_desired_minimal(&f->st, UUID, 42, &f->d);
	assert_int_equal(sf_ipv4_net_parse("10.0.0.0/24", 0, &f->d.netblock), 0);
	f->d.provide_dhcp = f->d.provide_nat = true;
	f->d.floating_gateway = ip("198.51.100.7");
	f->d.peers = strv(1, "198.18.0.11");
	f->d.n_peers = 1;
	f->d.floats = calloc(1, sizeof(*f->d.floats));
	f->d.floats[0] = (struct nn_float){ip("198.51.100.20"), ip("10.0.0.5")};
	f->d.n_floats = 1;
	f->d.routed = calloc(1, sizeof(*f->d.routed));
	f->d.routed[0] = ip("198.51.100.30");
	f->d.n_routed = 1;
	f->d.dnsmasq_config = strdup("config\n");
	f->d.dnsmasq_hosts = strdup("\n02:00:00:00:00:05,i1,10.0.0.5\n");
	f->d.macs = strv(1, "02:00:00:00:00:05");
	f->d.n_macs = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nn_desired_clear(&f->d);
	nn_state_clear(&f->st);
	sf_netops_free(f->ops);
	free(f);
	return 0;
}

/* Plan, compare with expected (NULL-terminated lines), return the plan. */
static void expect_plan(const struct nn_oplist *ops, const char *const *expected)
{
	char *got = nn_oplist_format(ops), *want = strdup("");

	for (size_t i = 0; expected[i]; i++) {
		char *next;

		assert_true(asprintf(&next, "%s%s\n", want, expected[i]) > 0);
		free(want);
		want = next;
	}
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void apply_netops(struct fixture *f, const struct nn_oplist *ops)
{
	struct sf_netops *net = NULL;

	for (size_t i = 0; i < ops->n; i++)
		if (nn_op_is_netops(&ops->ops[i]))
			assert_int_equal(nn_apply_netops(f->ops, &net, UUID, &ops->ops[i]), 0);
	sf_netops_free(net);
}

static void converge_egress(struct fixture *f)
{
	struct nn_egress_desired ed;
	struct nn_egress_observed eo;
	struct nn_oplist ops = {0};

	nn_egress_desired(&f->st, &ed);
	assert_int_equal(nn_egress_observe(&f->st, &eo), 0);
	assert_int_equal(nn_plan_egress(&ed, &eo, &ops), 0);
	apply_netops(f, &ops);
	nn_egress_observed_clear(&eo);
	nn_oplist_clear(&ops);
}

/* Observe the fake; the parts netlink cannot show are given: dnsmasq running with the files
 * as desired and the nft table as last applied (as after a successful converge). */
static void observe(struct fixture *f, struct nn_observed *o, bool settled)
{
	assert_int_equal(nn_observe_netops(f->ops, f->st.egress_bridge, NULL, 0, &f->d, o), 0);
	o->nft = settled ? NN_NFT_CURRENT : NN_NFT_MISSING;
	o->dnsmasq_running = o->dnsmasq_dir = settled;
	o->config_same = o->hosts_same = o->dnshosts_same = settled;
}

static void plan(struct fixture *f, bool settled, struct nn_oplist *ops)
{
	struct nn_observed o;

	observe(f, &o, settled);
	assert_int_equal(nn_plan_network(&f->d, &o, ops), 0);
	nn_observed_clear(&o);
}

/* The fresh network, applied and settled: nothing left to do. */
static void converge(struct fixture *f)
{
	struct nn_oplist ops = {0};

	converge_egress(f);
	plan(f, false, &ops);
	apply_netops(f, &ops);
	nn_oplist_clear(&ops);
	plan(f, true, &ops);
	assert_int_equal(ops.n, 0);
	nn_oplist_clear(&ops);
}

static void test_egress_fresh_then_nothing(void **state)
{
	struct fixture *f = *state;
	struct nn_egress_desired ed;
	struct nn_egress_observed eo;
	struct nn_oplist ops = {0};
	static const char *const want[] = {
		"node link_add_bridge egr-br-egress0 mtu=1500 ageing=300",
		"node link_set_up egr-br-egress0",
		"node addr_add egr-br-egress0 198.51.100.1/24",
		"node sysctl_set ipv4/ip_forward=1",
		NULL,
	};

	nn_egress_desired(&f->st, &ed);
	assert_int_equal(nn_egress_observe(&f->st, &eo), 0);
	assert_int_equal(nn_plan_egress(&ed, &eo, &ops), 0);
	expect_plan(&ops, want);
	assert_string_equal(ops.ops[0].why, "egress bridge egr-br-egress0 missing");
	apply_netops(f, &ops);
	nn_egress_observed_clear(&eo);
	nn_oplist_clear(&ops);

	assert_int_equal(nn_egress_observe(&f->st, &eo), 0);
	assert_int_equal(nn_plan_egress(&ed, &eo, &ops), 0);
	assert_int_equal(ops.n, 0);
	nn_egress_observed_clear(&eo);
}

static void test_egress_needs_nic(void **state)
{
	struct fixture *f = *state;
	struct nn_egress_desired ed;
	struct nn_egress_observed eo;
	struct nn_oplist ops = {0};

	assert_int_equal(sf_netops_link_del(f->ops, "egress0"), 0);
	nn_egress_desired(&f->st, &ed);
	assert_int_equal(nn_egress_observe(&f->st, &eo), 0);
	assert_int_equal(nn_plan_egress(&ed, &eo, &ops), -ENODEV);
	nn_egress_observed_clear(&eo);
}

static void test_network_needs_egress_bridge(void **state)
{
	struct fixture *f = *state;
	struct nn_observed o;
	struct nn_oplist ops = {0};

	observe(f, &o, false);
	assert_int_equal(nn_plan_network(&f->d, &o, &ops), -ENODEV);
	nn_observed_clear(&o);
	nn_oplist_clear(&ops);
}

static void test_fresh_network(void **state)
{
	struct fixture *f = *state;
	struct nn_oplist ops = {0};
	struct sf_netops *net;
	struct sf_link l;
	char **addrs = NULL, **fdb = NULL;
	size_t n = 0;
	static const char *const want[] = {
		"node link_add_bridge br-vxlan-00002a mtu=1450 ageing=0",
		"node ipv6_off br-vxlan-00002a",
		"node link_set_up br-vxlan-00002a",
		"node link_add_vxlan vxlan-00002a vni=42 port=4789 dev=mesh0 mtu=1450",
		"node ipv6_off vxlan-00002a",
		"node link_set_master vxlan-00002a br-vxlan-00002a",
		"node link_set_up vxlan-00002a",
		"node netns_add " UUID,
		"net link_set_up lo",
		"net sysctl_set ipv4/ip_forward=1",
		"node link_add_veth veth-00002a-o peer=veth-00002a-i mtu=1450 peer_netns=" UUID,
		"node ipv6_off veth-00002a-o",
		"node link_set_master veth-00002a-o br-vxlan-00002a",
		"node link_set_up veth-00002a-o",
		"net link_set_up veth-00002a-i",
		"net addr_add veth-00002a-i 10.0.0.1/24",
		"node link_add_veth egr-00002a-o peer=egr-00002a-i mtu=1500 peer_netns=" UUID,
		"node ipv6_off egr-00002a-o",
		"node link_set_master egr-00002a-o egr-br-egress0",
		"node link_set_up egr-00002a-o",
		"net link_set_up egr-00002a-i",
		"net addr_add egr-00002a-i 198.51.100.7/24",
		"net addr_add egr-00002a-i 198.51.100.20/32",
		"net route_set_default via 198.51.100.1 dev egr-00002a-i",
		"node route_replace 198.51.100.30/32 dev br-vxlan-00002a",
		"node fdb_flood_add vxlan-00002a 198.18.0.11",
		"net nft_apply",
		"net dnsmasq_write config",
		"net dnsmasq_write hosts",
		"net dnsmasq_start",
		NULL,
	};

	converge_egress(f);
	plan(f, false, &ops);
	expect_plan(&ops, want);
	/* the root causes are named, their consequences are not */
	assert_string_equal(ops.ops[0].why, "br-vxlan-00002a missing");
	assert_string_equal(ops.ops[7].why, "namespace " UUID " missing");
	assert_string_equal(ops.ops[10].why, "");
	apply_netops(f, &ops);
	nn_oplist_clear(&ops);

	/* what the fake holds now */
	assert_int_equal(sf_netops_link_get(f->ops, "veth-00002a-o", &l), 0);
	assert_string_equal(l.master_name, "br-vxlan-00002a");
	assert_int_equal(l.mtu, 1450);
	assert_int_equal(sf_netops_link_get(f->ops, "vxlan-00002a", &l), 0);
	assert_int_equal(l.vxlan_port, 4789);
	assert_int_equal(sf_netops_fdb_flood_list(f->ops, "vxlan-00002a", &fdb, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fdb[0], "198.18.0.11");
	sf_netops_strv_free(fdb);
	assert_int_equal(sf_netops_at(f->ops, UUID, &net), 0);
	assert_int_equal(sf_netops_link_get(net, "veth-00002a-i", &l), 0);
	assert_int_equal(l.mtu, 1450); /* both ends of the veth (ARCHITECTURE 5.9) */
	assert_true(l.up);
	assert_int_equal(sf_netops_addr_list(net, "egr-00002a-i", &addrs, &n), 0);
	assert_int_equal(n, 2);
	sf_netops_strv_free(addrs);
	sf_netops_free(net);

	/* settled: nothing to do */
	plan(f, true, &ops);
	assert_int_equal(ops.n, 0);
	nn_oplist_clear(&ops);
}

static void test_missing_bridge(void **state)
{
	struct fixture *f = *state;
	struct nn_oplist ops = {0};
	static const char *const want[] = {
		"node link_add_bridge br-vxlan-00002a mtu=1450 ageing=0",
		"node ipv6_off br-vxlan-00002a",
		"node link_set_up br-vxlan-00002a",
		"node link_set_master vxlan-00002a br-vxlan-00002a",
		"node link_set_master veth-00002a-o br-vxlan-00002a",
		"node route_replace 198.51.100.30/32 dev br-vxlan-00002a",
		NULL,
	};

	converge(f);
	assert_int_equal(sf_netops_link_del(f->ops, "br-vxlan-00002a"), 0); /* by hand */
	plan(f, true, &ops);
	expect_plan(&ops, want);
	assert_string_equal(ops.ops[0].why, "br-vxlan-00002a missing");
	assert_string_equal(ops.ops[3].why, "vxlan-00002a was not on br-vxlan-00002a");
	apply_netops(f, &ops);
	nn_oplist_clear(&ops);
	plan(f, true, &ops);
	assert_int_equal(ops.n, 0);
	nn_oplist_clear(&ops);
}

static void test_missing_inner_veth_restarts_dnsmasq(void **state)
{
	struct fixture *f = *state;
	struct nn_oplist ops = {0};
	struct sf_netops *net;
	static const char *const want[] = {
		"node link_add_veth veth-00002a-o peer=veth-00002a-i mtu=1450 peer_netns=" UUID,
		"node ipv6_off veth-00002a-o",
		"node link_set_master veth-00002a-o br-vxlan-00002a",
		"node link_set_up veth-00002a-o",
		"net link_set_up veth-00002a-i",
		"net addr_add veth-00002a-i 10.0.0.1/24",
		"net dnsmasq_restart",
		NULL,
	};

	converge(f);
	assert_int_equal(sf_netops_at(f->ops, UUID, &net), 0);
	assert_int_equal(sf_netops_link_del(net, "veth-00002a-i"), 0); /* takes -o along */
	sf_netops_free(net);
	plan(f, true, &ops);
	expect_plan(&ops, want);
	assert_string_equal(ops.ops[0].why, "veth-00002a-o missing");
	nn_oplist_clear(&ops);
}

static void test_dead_dnsmasq_and_missing_table(void **state)
{
	struct fixture *f = *state;
	struct nn_observed o;
	struct nn_oplist ops = {0};
	static const char *const want[] = {
		"net nft_apply",
		"net dnsmasq_start",
		NULL,
	};

	converge(f);
	observe(f, &o, true);
	o.dnsmasq_running = false;
	o.nft = NN_NFT_MISSING;
	assert_int_equal(nn_plan_network(&f->d, &o, &ops), 0);
	expect_plan(&ops, want);
	assert_string_equal(ops.ops[0].why, "the nftables table was missing");
	assert_string_equal(ops.ops[1].why, "dnsmasq was not running");
	nn_observed_clear(&o);
	nn_oplist_clear(&ops);
}

static void test_drift_flood_addresses_hosts_leases(void **state)
{
	struct fixture *f = *state;
	struct nn_observed o;
	struct nn_oplist ops = {0};
	static const char *const want[] = {
		"net addr_del egr-00002a-i 198.51.100.20/32",
		"node fdb_flood_del vxlan-00002a 198.18.0.11",
		"node fdb_flood_add vxlan-00002a 198.18.0.12",
		"net nft_apply",
		"net dnsmasq_write hosts",
		"net dnsmasq_reload",
		"net dhcp_release 10.0.0.9 02:00:00:00:00:09",
		NULL,
	};

	converge(f);
	/* the floating address went (defloat), the interface moved to another hypervisor and a
	 * second interface left the network */
	f->d.n_floats = 0;
	free(f->d.peers[0]);
	f->d.peers[0] = strdup("198.18.0.12");
	observe(f, &o, true);
	o.nft = NN_NFT_STALE;
	o.hosts_same = false;
	o.leases = calloc(2, sizeof(*o.leases));
	strcpy(o.leases[0].address, "10.0.0.5");
	strcpy(o.leases[0].mac, "02:00:00:00:00:05");
	strcpy(o.leases[1].address, "10.0.0.9");
	strcpy(o.leases[1].mac, "02:00:00:00:00:09");
	o.n_leases = 2;
	assert_int_equal(nn_plan_network(&f->d, &o, &ops), 0);
	expect_plan(&ops, want);
	nn_observed_clear(&o);
	nn_oplist_clear(&ops);
}

static void test_wrong_vxlan_port_recreates(void **state)
{
	struct fixture *f = *state;
	struct nn_oplist ops = {0};

	converge(f);
	f->d.vxlan_port = 8472;
	plan(f, true, &ops);
	assert_true(ops.n >= 5);
	assert_int_equal(ops.ops[0].kind, NN_OP_LINK_DEL);
	assert_string_equal(ops.ops[0].s1, "vxlan-00002a");
	assert_int_equal(ops.ops[1].kind, NN_OP_ADD_VXLAN);
	assert_int_equal(ops.ops[1].u3, 8472);
	/* a new device has no flood entries */
	assert_int_equal(ops.ops[ops.n - 1].kind, NN_OP_FDB_ADD);
	nn_oplist_clear(&ops);
}

static void test_destroy(void **state)
{
	struct fixture *f = *state;
	struct nn_observed o;
	struct nn_oplist ops = {0};
	struct sf_link *links = NULL;
	size_t n = 0;
	static const char *const want[] = {
		"net dnsmasq_stop",
		"net state_dir_del",
		"node link_del veth-00002a-o",
		"node link_del egr-00002a-o",
		"node link_del vxlan-00002a",
		"node link_del br-vxlan-00002a",
		"node netns_del " UUID,
		NULL,
	};

	converge(f);
	observe(f, &o, true);
	assert_int_equal(nn_plan_destroy(&f->d, &o, &ops), 0);
	expect_plan(&ops, want);
	nn_observed_clear(&o);
	apply_netops(f, &ops);
	nn_oplist_clear(&ops);

	/* only the host's devices and the egress bridge are left; planning again: nothing */
	assert_false(sf_netops_netns_exists(f->ops, UUID));
	assert_int_equal(sf_netops_link_list(f->ops, &links, &n), 0);
	assert_int_equal(n, 4); /* lo mesh0 egress0 egr-br-egress0 */
	free(links);
	observe(f, &o, false);
	assert_int_equal(nn_plan_destroy(&f->d, &o, &ops), 0);
	assert_int_equal(ops.n, 0);
	nn_observed_clear(&o);
}

static void test_split_lines(void **state)
{
	json_t *v = nn_split_lines("a\nb\n");

	(void)state;
	assert_int_equal(json_array_size(v), 3); /* as Python's "a\nb\n".split("\n") */
	assert_string_equal(json_string_value(json_array_get(v, 1)), "b");
	assert_string_equal(json_string_value(json_array_get(v, 2)), "");
	json_decref(v);
	v = nn_split_lines("");
	assert_int_equal(json_array_size(v), 1);
	json_decref(v);
}

static void test_leases(void **state)
{
	char dir[] = "/tmp/sf-nn-leases-XXXXXX", path[64];
	struct nn_lease *leases = NULL;
	size_t n = 9;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(nn_leases_read(dir, &leases, &n), 0); /* no file: none */
	assert_int_equal(n, 0);
	snprintf(path, sizeof(path), "%s/leases", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "4000000000 02:00:00:00:00:05 10.0.0.5 host *\n"
		    "1 02:00:00:00:00:06 10.0.0.6 expired *\n"
		    "0 02:00:00:00:00:07 10.0.0.7 forever *\n"
		    "duid 00:01:00:01\n");
	fclose(fp);
	assert_int_equal(nn_leases_read(dir, &leases, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(leases[0].address, "10.0.0.5");
	assert_string_equal(leases[1].mac, "02:00:00:00:00:07");
	free(leases);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_egress_fresh_then_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_egress_needs_nic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_needs_egress_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_inner_veth_restarts_dnsmasq, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dead_dnsmasq_and_missing_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drift_flood_addresses_hosts_leases, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_vxlan_port_recreates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
		cmocka_unit_test(test_split_lines),
		cmocka_unit_test(test_leases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
