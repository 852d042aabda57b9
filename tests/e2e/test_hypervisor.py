# SPDX-License-Identifier: Apache-2.0
"""sf-hypervisor on the development cluster: two hypervisors, the network node and sf-api
(issue 5). One cluster per module (the hvnet fixture of conftest.py); the tests run in file
order and build on each other.

Instances are namespaces made by the test (<prefix>-i<n>), plugged through POST /interfaces
with kind veth and running busybox udhcpc. Checked in the kernel and through the API: the
devices on each hypervisor; DHCP across VXLAN with the reserved address, router and MTU; ping
between instances on different hypervisors without duplicates; the flood lists of all three
nodes after joins and leaves; a tap interface; the reconciler's repairs and stray removal; a
network deleted with interfaces waits in delete-wait and goes when the last one leaves; the
median time from POST /interfaces to a lease; and, at the end, nothing of ours is left.
"""
import json
import os
import re
import statistics
import time
import uuid as uuidlib

import pytest

from conftest import run, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (ip netns)")

MTU = 1450
NETBLOCK = "10.91.0.0/24"
LEASE_SAMPLES = int(os.environ.get("SF_E2E_LEASE_SAMPLES", "20"))
S = {}  # what the tests pass on to each other


def hx(vxid):
    return f"{vxid:06x}"


def links(sf, netns, *args):
    return {e["ifname"]: e for e in sf.ip_json(netns, "-d", "link", "show", *args)}


def flood(netns, vxlan):
    """The flood list of a VXLAN device: the dst of its all-zero-MAC entries, as a set."""
    out = run("ip", "netns", "exec", netns, "bridge", "-j", "fdb", "show", "dev", vxlan,
              check=False)
    if out.returncode != 0:
        return None  # no such device
    entries = json.loads(out.stdout or "[]")
    dsts = [e["dst"] for e in entries if e.get("mac") == "00:00:00:00:00:00" and "dst" in e]
    assert len(dsts) == len(set(dsts)), f"duplicate flood entries on {netns}: {dsts}"
    return set(dsts)


def iface_state(sf, uuid):
    r = sf.call("GET", f"/interfaces/{uuid}")
    assert r.status_code == 200, r.text
    return r.json()["state"]


def plug(sf, net, node, inst, address=None, kind="veth", instance_uuid=None):
    """POST /interfaces for a new instance on node; returns the interface's view."""
    body = {"network_uuid": net["uuid"], "instance_uuid": instance_uuid or str(uuidlib.uuid4()),
            "node": node, "kind": kind}
    if address:
        body["address"] = address
    if kind == "veth":
        body["netns"] = inst
    r = sf.call("POST", "/interfaces", body)
    assert r.status_code == 200, r.text
    return r.json()


def unplug(sf, iface):
    r = sf.call("DELETE", f"/interfaces/{iface['uuid']}")
    assert r.status_code == 200, r.text


def wait_created(sf, iface, timeout=30):
    wait_for(lambda: iface_state(sf, iface["uuid"]) == "created", timeout,
             f"interface {iface['uuid']} to become created")


def dhcp(sf, inst, tries=10):
    """Run busybox udhcpc in the instance (one DISCOVER a second); returns what the lease
    script saw (ip, router, mtu, ...), with the address and default route configured."""
    record = sf.storage_dir.parent / f"udhcpc-{sf.tag}-{inst}.env"
    script = sf.storage_dir.parent / f"udhcpc-{sf.tag}-{inst}.sh"
    script.write_text("#!/bin/sh\n"
                      f"[ \"$1\" = bound ] || exit 0\nenv > {record}\n"
                      "ip addr add $ip/$mask dev $interface\n"
                      "ip route replace default via $router dev $interface\n")
    script.chmod(0o755)
    try:
        res = run("ip", "netns", "exec", inst, "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                  "-t", str(tries), "-T", "1", "-A", "1", "-O", "mtu", "-s", str(script),
                  check=False, timeout=tries * 3 + 10)
        assert res.returncode == 0, f"udhcpc in {inst}: {res.stdout}{res.stderr}"
        return dict(line.split("=", 1) for line in record.read_text().splitlines()
                    if "=" in line)
    finally:
        record.unlink(missing_ok=True)
        script.unlink(missing_ok=True)


def ping(inst, address, count=3):
    """(received, duplicates) of ping -c count from the instance."""
    res = run("ip", "netns", "exec", inst, "ping", "-n", "-c", str(count), "-i", "0.2", "-W",
              "2", address, check=False, timeout=30)
    m = re.search(r"(\d+) received", res.stdout)
    return (int(m.group(1)) if m else 0), res.stdout.count("DUP!")


def new_instance(sf, n):
    inst = f"{sf.prefix}-i{n}"
    sf.add_netns(inst)
    run("ip", "-n", inst, "link", "set", "lo", "up")
    return inst


def expected_floods(sf, hosting):
    """Per node namespace, the flood list a network hosted on the hypervisors `hosting` must
    have: every other participant (the network node is always one), never itself."""
    nn = sf.cluster["SF_NN_MESH_IP"]
    if not hosting:  # the network is gone: so are its devices, on every node
        return {sf.nn_netns: None}
    want = {sf.nn_netns: {sf.hv_mesh_ip(h) for h in hosting}}
    for h in hosting:
        want[sf.hv_netns(h)] = {nn} | {sf.hv_mesh_ip(o) for o in hosting if o != h}
    return want


def wait_floods(sf, net, hosting, timeout=20):
    vx = f"vxlan-{hx(net['vxlan_id'])}"
    want = expected_floods(sf, hosting)
    for h in sf.HYPERVISORS:
        if h not in hosting:
            want[sf.hv_netns(h)] = None  # the network's devices are gone there

    def now():
        return {ns: flood(ns, vx) for ns in want}
    try:
        wait_for(lambda: now() == want, timeout, "the flood lists")
    except AssertionError:
        raise AssertionError(f"flood lists {now()} != {want}")


def test_network_created(hvnet):
    sf = hvnet
    r = sf.call("POST", "/networks", {"netblock": NETBLOCK, "name": "hvnet",
                                      "provide_dhcp": True, "provide_nat": True})
    assert r.status_code == 200, r.text
    net = r.json()
    sf.netns_made.add(net["uuid"])  # the network node's; removed by the finalizer if left
    S["net"] = sf.wait_state(net["uuid"], "created", timeout=60)


def test_instances_on_two_hypervisors(hvnet):
    sf, net = hvnet, S["net"]
    x = hx(net["vxlan_id"])
    i1, i2 = new_instance(sf, 1), new_instance(sf, 2)
    a = plug(sf, net, "hv1", i1, "10.91.0.11")
    b = plug(sf, net, "hv2", i2, "10.91.0.12")
    S["a"], S["b"], S["i1"], S["i2"] = a, b, i1, i2
    S.setdefault("ports", []).extend([a, b])
    wait_created(sf, a)
    wait_created(sf, b)

    for node, inst, iface in (("hv1", i1, a), ("hv2", i2, b)):
        dev = links(sf, sf.hv_netns(node))
        vx, br = dev[f"vxlan-{x}"], dev[f"br-vxlan-{x}"]
        assert vx["linkinfo"]["info_kind"] == "vxlan"
        assert vx["linkinfo"]["info_data"]["id"] == net["vxlan_id"]
        assert vx["linkinfo"]["info_data"]["port"] == 4789  # explicit, not the kernel's 8472
        assert vx["linkinfo"]["info_data"]["link"] == "mesh0"
        assert vx["master"] == f"br-vxlan-{x}" and vx["mtu"] == MTU and "UP" in vx["flags"]
        assert br["linkinfo"]["info_kind"] == "bridge" and br["mtu"] == MTU
        assert br["linkinfo"]["info_data"]["stp_state"] == 0
        assert br["linkinfo"]["info_data"]["forward_delay"] == 0
        port = dev["vi-" + iface["uuid"][:8]]
        assert port["master"] == f"br-vxlan-{x}" and port["mtu"] == MTU
        eth0 = links(sf, inst)["eth0"]
        assert eth0["address"] == iface["macaddr"] and eth0["mtu"] == MTU
        assert set(dev) == {"lo", "mesh0", f"vxlan-{x}", f"br-vxlan-{x}",
                            "vi-" + iface["uuid"][:8]}

    for inst, address in ((i1, "10.91.0.11"), (i2, "10.91.0.12")):
        env = dhcp(sf, inst)
        assert env["ip"] == address
        assert env["router"] == "10.91.0.1"
        assert env["mtu"] == str(MTU)
        assert env["subnet"] == "255.255.255.0"

    # across VXLAN: hv1 -> hv2, hv2 -> hv1, and to the router on the network node
    assert ping(i1, "10.91.0.12") == (3, 0)
    assert ping(i2, "10.91.0.11") == (3, 0)
    assert ping(i1, "10.91.0.1") == (3, 0)


def test_flood_lists_after_join(hvnet):
    sf, net = hvnet, S["net"]
    wait_floods(sf, net, ["hv1", "hv2"])
    msgs = [e["message"] for e in sf.events(net["uuid"])]
    assert "added new mesh element" in msgs
    assert "creating network on hypervisor" in msgs


def test_flood_lists_after_leave_and_rejoin(hvnet):
    sf, net = hvnet, S["net"]
    x = hx(net["vxlan_id"])
    unplug(sf, S["b"])
    # hv2 hosts nothing of the network any more: its devices go, and everyone forgets it
    wait_floods(sf, net, ["hv1"])
    assert set(links(sf, sf.hv_netns("hv2"))) == {"lo", "mesh0"}
    assert "eth0" not in links(sf, S["i2"])  # the veth's peer went with it
    assert ping(S["i1"], "10.91.0.1") == (3, 0)

    # rejoin with a tap (for a VM monitor): a persistent TAP with the MAC, on the bridge
    t = plug(sf, net, "hv2", None, kind="tap")
    wait_created(sf, t)
    wait_floods(sf, net, ["hv1", "hv2"])
    tap = links(sf, sf.hv_netns("hv2"))["tap-" + t["uuid"][:8]]
    assert tap["linkinfo"]["info_kind"] == "tun"
    assert tap["address"] == t["macaddr"] and tap["mtu"] == MTU
    assert tap["master"] == f"br-vxlan-{x}"
    S["tap"] = t
    S["ports"].append(t)

    # i2 comes back on hv2 next to the tap
    b2 = plug(sf, net, "hv2", S["i2"], "10.91.0.13")
    wait_created(sf, b2)
    assert dhcp(sf, S["i2"])["ip"] == "10.91.0.13"
    assert ping(S["i1"], "10.91.0.13") == (3, 0)
    S["b"] = b2
    S["ports"].append(b2)
    msgs = [e["message"] for e in sf.events(net["uuid"])]
    assert "removed excess mesh element" in msgs


def test_reconciler_repairs_and_removes_strays(hvnet):
    sf, net = hvnet, S["net"]
    x = hx(net["vxlan_id"])
    hv1 = sf.hv_netns("hv1")
    run("ip", "-n", hv1, "link", "del", f"vxlan-{x}")
    # a stray of ours (a network nobody hosts here) and a device that is not ours
    run("ip", "-n", hv1, "link", "add", "br-vxlan-fffff0", "type", "bridge")
    run("ip", "-n", hv1, "link", "add", "keepme0", "type", "bridge")
    wait_for(lambda: f"vxlan-{x}" in links(sf, hv1) and
             links(sf, hv1)[f"vxlan-{x}"].get("master") == f"br-vxlan-{x}", 20,
             "the reconciler to make the vxlan device again")
    wait_floods(sf, net, ["hv1", "hv2"])
    wait_for(lambda: "br-vxlan-fffff0" not in links(sf, hv1), 20, "the stray to go")
    assert "keepme0" in links(sf, hv1)
    run("ip", "-n", hv1, "link", "del", "keepme0")
    assert ping(S["i1"], "10.91.0.13") == (3, 0)
    msgs = [e["message"] for e in sf.events(net["uuid"])]
    assert "reconciler repaired drift" in msgs


def test_median_post_to_lease(hvnet, capsys):
    """POST /interfaces -> DHCP lease in the instance, over LEASE_SAMPLES new instances
    alternating between the hypervisors. udhcpc starts as soon as eth0 appears and sends a
    DISCOVER every second."""
    sf, net = hvnet, S["net"]
    times, ifaces = [], []
    for n in range(LEASE_SAMPLES):
        node = sf.HYPERVISORS[n % 2]
        inst = new_instance(sf, 100 + n)
        t0 = time.monotonic()
        iface = plug(sf, net, node, inst)
        wait_for(lambda: "eth0" in links(sf, inst), 30, f"eth0 in {inst}", interval=0.02)
        env = dhcp(sf, inst)
        times.append(time.monotonic() - t0)
        assert env["ip"] == iface["ipv4"]
        ifaces.append((iface, inst))
        S.setdefault("ports", []).append(iface)
    med = statistics.median(times)
    line = (f"median POST /interfaces -> DHCP lease: {med:.3f} s over {len(times)} instances "
            f"(min {min(times):.3f}, max {max(times):.3f})")
    (sf.storage_dir.parent / f"hv-lease-median-{sf.tag}.txt").write_text(line + "\n")
    with capsys.disabled():
        print("\n" + line)
    for iface, inst in ifaces:
        unplug(sf, iface)
    for iface, inst in ifaces:
        wait_for(lambda: "eth0" not in links(sf, inst), 30, f"{inst} unplugged")
    for node in sf.HYPERVISORS:
        dev = links(sf, sf.hv_netns(node))
        assert not [d for d in dev if d.startswith("vi-") and d[3:] in
                    {i["uuid"][:8] for i, _ in ifaces}]


def test_delete_network_waits_for_its_interfaces(hvnet):
    sf, net = hvnet, S["net"]
    r = sf.call("DELETE", f"/networks/{net['uuid']}")
    assert r.status_code == 200, r.text
    assert sf.network(net["uuid"])["state"] == "delete-wait"
    left = [S["a"], S["b"], S["tap"]]
    for iface in left[:-1]:
        unplug(sf, iface)
    time.sleep(2)
    assert sf.network(net["uuid"])["state"] == "delete-wait"  # the tap is still there
    unplug(sf, left[-1])
    sf.wait_state(net["uuid"], "deleted", timeout=60)
    wait_floods(sf, net, [])


def test_nothing_left(hvnet):
    sf, net = hvnet, S["net"]
    x = hx(net["vxlan_id"])
    for node in sf.HYPERVISORS:
        wait_for(lambda: set(links(sf, sf.hv_netns(node))) == {"lo", "mesh0"}, 20,
                 f"{node} to hold nothing but lo and mesh0")
    wait_for(lambda: not [d for d in links(sf, sf.nn_netns) if x in d], 30,
             "the network node to drop the network's devices")
    wait_for(lambda: not os.path.exists(f"/run/netns/{net['uuid']}"), 30,
             "the network's namespace to go")
    for ns in sf.netns_made:
        if ns.startswith(sf.prefix + "-i"):
            assert set(links(sf, ns)) == {"lo"}, f"{ns} still holds a device of ours"
    wait_for(lambda: not sf.dnsmasq_pids(), 30, "dnsmasq to stop")
    # and never anything in the machine's own namespace
    root = {e["ifname"] for e in json.loads(run("ip", "-j", "link", "show").stdout)}
    ours = {f"vxlan-{x}", f"br-vxlan-{x}"}
    for p in S["ports"]:
        ours |= {"vi-" + p["uuid"][:8], "tap-" + p["uuid"][:8]}
    assert not root & ours
