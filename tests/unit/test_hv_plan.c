// SPDX-License-Identifier: Apache-2.0
/*
 * What sf-hypervisor does to a node (workers/hypervisor/hv.h), against the netops fake: the
 * exact calls for plugging a tap and a veth on a fresh node, nothing on a second run, the
 * repair of drift (a missing device, a VXLAN with the wrong port, a port off its bridge), a
 * veth into a namespace that does not exist, unplugging the last interface with its network's
 * devices, the device names, the stray sweep with its grace period, and the jobs that tell the
 * other participants of a network (mq fake).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fakes/mq_fake.h"
#include "../fakes/netops_fake.h"
#include "hypervisor/hv.h"
#include "sf/envelope.h"
#include "sf/mq.h"

#define IFACE "6F1C1F2E-3b1a-4c2d-9e8f-0a1b2c3d4e5f" /* upper case hex: names are lower */
#define IFACE2 "0a1b2c3d-3b1a-4c2d-9e8f-0a1b2c3d4e5f"
#define NET "9d3e4f50-1111-4222-8333-944455556666"
#define MAC "02:00:00:12:34:56"

/* fresh devices: IPv6 off, and arp_notify on the bridge and the VXLAN device (spec 6.5) */
#define FRESH(dev) "sysctl_set ipv6/conf/" dev "/disable_ipv6=1\n"
#define NOTIFY(dev) "sysctl_set ipv4/conf/" dev "/arp_notify=1\n"
#define VXLAN_FRESH(port)                                                               \
	"link_add_vxlan vxlan-00002a vni=42 port=" port                                 \
	" dev=mesh0 mtu=1450\n" FRESH("vxlan-00002a")                                   \
		NOTIFY("vxlan-00002a") "link_set_master vxlan-00002a br-vxlan-00002a\n" \
				       "link_set_up vxlan-00002a\n"
#define COMMON                                                                         \
	"link_add_bridge br-vxlan-00002a mtu=1450 ageing=0\n" FRESH("br-vxlan-00002a") \
		NOTIFY("br-vxlan-00002a") "link_set_up br-vxlan-00002a\n" VXLAN_FRESH("4789")

struct fixture {
	struct sf_netops *ops; /* the fake: its root namespace is the node namespace */
	struct hv_net net;
	struct hv_port tap, veth;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ops = sf_netops_fake_new();
	assert_int_equal(sf_netops_fake_add_nic(f->ops, "mesh0", 9000), 0);
	assert_int_equal(sf_netops_netns_add(f->ops, "inst1"), 0);
	sf_netops_fake_clear_calls(f->ops);
	f->net = (struct hv_net){.vxid = 42, .mtu = 1450, .vxlan_port = 4789, .mesh_nic = "mesh0"};
	f->tap = (struct hv_port){.uuid = IFACE, .kind = HV_PORT_TAP};
	assert_int_equal(sf_mac_parse(MAC, &f->tap.mac), 0);
	f->veth =
		(struct hv_port){.uuid = IFACE, .kind = HV_PORT_VETH, .netns = "inst1", .order = 0};
	f->veth.mac = f->tap.mac;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sf_netops_free(f->ops);
	free(f);
	return 0;
}

static void assert_calls(struct sf_netops *ops, const char *want)
{
	char *got = sf_netops_fake_calls(ops);

	assert_string_equal(got, want);
	free(got);
	sf_netops_fake_clear_calls(ops);
}

static void plug(struct fixture *f, const struct hv_port *port, struct hv_changes *changes)
{
	assert_int_equal(hv_net_ensure(f->ops, &f->net, changes), 0);
	assert_int_equal(hv_port_plug(f->ops, &f->net, port, changes), 0);
}

static void test_names(void **state)
{
	char name[SF_IFNAMSIZ];

	(void)state;
	assert_int_equal(hv_port_name(HV_PORT_TAP, IFACE, name), 0);
	assert_string_equal(name, "tap-6f1c1f2e");
	assert_int_equal(hv_port_name(HV_PORT_VETH, IFACE, name), 0);
	assert_string_equal(name, "vi-6f1c1f2e");
	assert_int_equal(hv_port_name(HV_PORT_VETH, "not-a-uuid", name), -EINVAL);
	assert_int_equal(hv_peer_name(3, name), 0);
	assert_string_equal(name, "eth3");
	assert_int_equal(hv_peer_name(-1, name), -EINVAL);

	assert_true(hv_is_port_name("tap-6f1c1f2e"));
	assert_true(hv_is_port_name("vi-00000000"));
	assert_false(hv_is_port_name("vi-6F1C1F2E")); /* we never make upper case */
	assert_false(hv_is_port_name("vi-6f1c1f2"));
	assert_false(hv_is_port_name("vi-6f1c1f2e0"));
	assert_false(hv_is_port_name("tap0"));
	assert_false(hv_is_port_name("vxlan-00002a"));
	assert_false(hv_is_port_name("veth-00002a-o"));
}

static void test_plug_tap_fresh_then_nothing(void **state)
{
	struct fixture *f = *state;
	struct hv_changes changes = {0};
	struct sf_link l;

	plug(f, &f->tap, NULL);
	assert_calls(f->ops, COMMON
		     "link_add_tap tap-6f1c1f2e mtu=1450 mac=" MAC
		     "\n" FRESH("tap-6f1c1f2e") "link_set_master tap-6f1c1f2e br-vxlan-00002a\n"
						"link_set_up tap-6f1c1f2e\n");
	assert_int_equal(sf_netops_link_get(f->ops, "tap-6f1c1f2e", &l), 0);
	assert_string_equal(l.kind, "tun");
	assert_string_equal(l.master_name, "br-vxlan-00002a");
	assert_int_equal(l.mtu, 1450);

	plug(f, &f->tap, &changes); /* converged: nothing to do, nothing to report */
	assert_int_equal(sf_netops_fake_n_calls(f->ops), 0);
	assert_int_equal(changes.n, 0);
}

static void test_plug_veth_fresh(void **state)
{
	struct fixture *f = *state;
	struct sf_netops *inst = NULL;
	char mac[SF_MAC_STRLEN];
	struct sf_link l;

	plug(f, &f->veth, NULL);
	assert_calls(f->ops,
		     COMMON "link_add_veth vi-6f1c1f2e peer=eth0 mtu=1450 peer_netns=inst1\n"
			    "@inst1 link_set_mac eth0 " MAC "\n"
			    "@inst1 link_set_up eth0\n" FRESH(
				    "vi-6f1c1f2e") "link_set_master vi-6f1c1f2e br-vxlan-00002a\n"
						   "link_set_up vi-6f1c1f2e\n");
	/* the instance's end: in its namespace, with the interface's MAC and the MTU */
	assert_int_equal(sf_netops_at(f->ops, "inst1", &inst), 0);
	assert_int_equal(sf_netops_link_get(inst, "eth0", &l), 0);
	assert_string_equal(sf_mac_format(&l.mac, mac), MAC);
	assert_int_equal(l.mtu, 1450);
	assert_true(l.up);
	sf_netops_free(inst);
	assert_false(sf_netops_link_exists(f->ops, "eth0"));

	plug(f, &f->veth, NULL);
	assert_int_equal(sf_netops_fake_n_calls(f->ops), 0);
}

static void test_plug_veth_missing_netns(void **state)
{
	struct fixture *f = *state;

	f->veth.netns = "gone";
	assert_int_equal(hv_net_ensure(f->ops, &f->net, NULL), 0);
	assert_int_equal(hv_port_plug(f->ops, &f->net, &f->veth, NULL), -ENOENT);
	assert_false(sf_netops_link_exists(f->ops, "vi-6f1c1f2e"));

	/* the pair is made but the peer cannot be set up: it goes again, for a clean retry */
	f->veth.netns = "inst1";
	sf_netops_fake_fail_next(f->ops, "link_set_mac", -EADDRNOTAVAIL);
	assert_int_equal(hv_port_plug(f->ops, &f->net, &f->veth, NULL), -EADDRNOTAVAIL);
	assert_false(sf_netops_link_exists(f->ops, "vi-6f1c1f2e"));
}

static void test_no_underlay(void **state)
{
	struct fixture *f = *state;

	f->net.mesh_nic = "mesh9";
	assert_int_equal(hv_net_ensure(f->ops, &f->net, NULL), -ENODEV);
	assert_int_equal(sf_netops_fake_n_calls(f->ops), 0);
}

static void test_repairs(void **state)
{
	struct fixture *f = *state;
	struct hv_changes changes = {0};

	plug(f, &f->veth, NULL);
	sf_netops_fake_clear_calls(f->ops);

	/* the vxlan device went, the port left its bridge */
	assert_int_equal(sf_netops_link_del(f->ops, "vxlan-00002a"), 0);
	assert_int_equal(sf_netops_link_set_nomaster(f->ops, "vi-6f1c1f2e"), 0);
	sf_netops_fake_clear_calls(f->ops);
	plug(f, &f->veth, &changes);
	assert_calls(f->ops, VXLAN_FRESH("4789") "link_set_master vi-6f1c1f2e br-vxlan-00002a\n");
	assert_int_equal(changes.n, 2);
	assert_string_equal(changes.v[0], "vxlan-00002a missing");
	assert_string_equal(changes.v[1], "vi-6f1c1f2e was not on br-vxlan-00002a");
	hv_changes_clear(&changes);

	/* another port (a VXLAN made by someone with the kernel's port): made again */
	f->net.vxlan_port = 8472;
	assert_int_equal(hv_net_ensure(f->ops, &f->net, &changes), 0);
	assert_calls(f->ops, "link_del vxlan-00002a\n" VXLAN_FRESH("8472"));
	assert_int_equal(changes.n, 2);
	hv_changes_clear(&changes);

	/* a bridge that is down and has the wrong MTU */
	assert_int_equal(sf_netops_link_set_down(f->ops, "br-vxlan-00002a"), 0);
	assert_int_equal(sf_netops_link_set_mtu(f->ops, "br-vxlan-00002a", 1500), 0);
	sf_netops_fake_clear_calls(f->ops);
	assert_int_equal(hv_net_ensure(f->ops, &f->net, &changes), 0);
	assert_calls(f->ops, "link_set_mtu br-vxlan-00002a 1450\n"
			     "link_set_up br-vxlan-00002a\n");
	hv_changes_clear(&changes);

	/* a device of another kind holding the port's name is not ours to replace */
	assert_int_equal(
		sf_netops_link_add_bridge(f->ops, &(struct sf_bridge_spec){.name = "tap-6f1c1f2e"}),
		0);
	assert_int_equal(hv_port_plug(f->ops, &f->net, &f->tap, NULL), -EEXIST);
}

static void test_unplug_last(void **state)
{
	struct fixture *f = *state;
	struct sf_netops *inst = NULL;
	struct hv_port other = f->tap;

	other.uuid = IFACE2;
	plug(f, &f->veth, NULL);
	plug(f, &other, NULL);
	sf_netops_fake_clear_calls(f->ops);

	/* one of two: just its port */
	assert_int_equal(hv_port_unplug(f->ops, HV_PORT_VETH, IFACE), 0);
	assert_calls(f->ops, "link_del vi-6f1c1f2e\n");
	assert_int_equal(sf_netops_at(f->ops, "inst1", &inst), 0);
	assert_false(sf_netops_link_exists(inst, "eth0")); /* the peer went with it */
	sf_netops_free(inst);

	/* the last one: its port, then the network's devices */
	assert_int_equal(hv_port_unplug(f->ops, HV_PORT_TAP, IFACE2), 0);
	assert_int_equal(hv_net_remove(f->ops, 42), 0);
	assert_calls(f->ops, "link_del tap-0a1b2c3d\n"
			     "link_del vxlan-00002a\n"
			     "link_del br-vxlan-00002a\n");

	/* again: all gone already, which is fine */
	assert_int_equal(hv_port_unplug(f->ops, HV_PORT_TAP, IFACE2), 0);
	assert_int_equal(hv_net_remove(f->ops, 42), 0);
	assert_int_equal(sf_netops_fake_n_calls(f->ops), 0);
}

static void test_strays(void **state)
{
	struct fixture *f = *state;
	struct hv_state st = {.node = f->ops};
	struct hv_changes removed = {0};
	char *keep[] = {"vxlan-00002a", "br-vxlan-00002a", "vi-6f1c1f2e"};
	char *keep2[] = {"vxlan-00002a", "br-vxlan-00002a", "vi-6f1c1f2e", "tap-deadbeef"};
	struct hv_net other = f->net;
	const char *survivors[] = {"lo",	  "mesh0", "vxlan-00002a", "br-vxlan-00002a",
				   "vi-6f1c1f2e", "vi-12", "vxlan-zz",	   "veth-00002b-o"};

	other.vxid = 43;
	plug(f, &f->veth, NULL);
	assert_int_equal(hv_net_ensure(f->ops, &other, NULL), 0); /* network 43: a stray */
	assert_int_equal(
		sf_netops_link_add_tap(f->ops, &(struct sf_tap_spec){.name = "tap-deadbeef"}), 0);
	/* look like ours but are not: never touched */
	for (size_t i = 5; i < 8; i++)
		assert_int_equal(sf_netops_link_add_bridge(
					 f->ops, &(struct sf_bridge_spec){.name = survivors[i]}),
				 0);
	sf_netops_fake_clear_calls(f->ops);

	assert_int_equal(hv_strays_sweep(&st, keep, 3, 1000, 60000, &removed), 0);
	assert_int_equal(st.n_strays, 3); /* noted, not removed */
	/* tap-deadbeef finds an owner for a while: forgotten, so its clock restarts */
	assert_int_equal(hv_strays_sweep(&st, keep2, 4, 30000, 60000, &removed), 0);
	assert_int_equal(st.n_strays, 2);
	assert_int_equal(hv_strays_sweep(&st, keep, 3, 60999, 60000, &removed), 0);
	assert_int_equal(st.n_strays, 3);
	assert_int_equal(sf_netops_fake_n_calls(f->ops), 0);

	/* the grace period of network 43's devices is over */
	assert_int_equal(hv_strays_sweep(&st, keep, 3, 61000, 60000, &removed), 2);
	assert_calls(f->ops, "link_del br-vxlan-00002b\n" /* in ifindex order */
			     "link_del vxlan-00002b\n");
	assert_int_equal(removed.n, 2);
	assert_int_equal(st.n_strays, 1); /* tap-deadbeef, a stray again since 60999 */
	assert_int_equal(hv_strays_sweep(&st, keep, 3, 120998, 60000, &removed), 0);
	assert_int_equal(hv_strays_sweep(&st, keep, 3, 120999, 60000, &removed), 1);
	assert_calls(f->ops, "link_del tap-deadbeef\n");
	assert_int_equal(st.n_strays, 0);
	for (size_t i = 0; i < 8; i++)
		assert_true(sf_netops_link_exists(f->ops, survivors[i]));
	hv_changes_clear(&removed);
	free(st.strays);
}

/* hv_notify_peers: network.deploy to every other hypervisor hosting the network and
 * network.dhcp_hosts to the network node, valid jobs; a node without a queue is skipped. */
static void test_notify_peers(void **state)
{
	struct sf_envelope_schemas *schemas = NULL;
	struct sf_diag diag = {0};
	struct sf_mq *mq = sf_mq_fake_new();
	struct wk_ctx ctx = {.mq = mq, .node = "hv1"};
	char *others[] = {"hv2", "hv3", NULL};
	struct hv_local local = {.other_nodes = others, .n_other_nodes = 2};
	static const char *const want[][2] = {
		{"hypervisor.hv2", "network.deploy"},
		{"networknode", "network.dhcp_hosts"},
	};

	(void)state;
	assert_int_equal(sf_envelope_schemas_load(NULL, &schemas, &diag), 0);
	ctx.schemas = schemas;
	assert_int_equal(
		sf_mq_declare_topology(mq, (const char *[]){"networknode", "hypervisor.hv2"}, 2),
		0);
	assert_int_equal(hv_notify_peers(&ctx, NET, &local), 0); /* hv3 has no queue: skipped */
	assert_int_equal(sf_mq_fake_n_published(mq), 2);
	for (size_t i = 0; i < 2; i++) {
		const struct sf_mq_fake_msg *m = sf_mq_fake_published(mq, i);
		struct sf_job *job = NULL;

		assert_string_equal(m->exchange, "sf.jobs");
		assert_string_equal(m->routing_key, want[i][0]);
		assert_int_equal(sf_job_parse(schemas, m->body, m->len, &job, &diag), 0);
		assert_string_equal(sf_job_type_to_string(job->type), want[i][1]);
		assert_string_equal(job->object_uuid, NET);
		assert_string_equal(m->message_id, job->id);
		sf_job_free(job);
	}

	/* the broker is gone: the error comes back for a retry */
	sf_mq_fake_set_down(mq, true);
	assert_int_equal(hv_notify_peers(&ctx, NET, &local), -ECONNREFUSED);
	sf_mq_free(mq);
	sf_envelope_schemas_free(schemas);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_plug_tap_fresh_then_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plug_veth_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plug_veth_missing_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_underlay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplug_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strays, setup, teardown),
		cmocka_unit_test(test_notify_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
