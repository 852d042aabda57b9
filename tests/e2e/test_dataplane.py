# SPDX-License-Identifier: Apache-2.0
"""The dataplane as instances on hypervisors see it (issue 5's end-to-end list): isolation of
networks, including two with the same netblock; egress NAT, floating and routed addresses;
DNS through the router; usage counters. One cluster with two hypervisors, the network node and
sf-api (the hvnet fixture of conftest.py); the tests run in file order and build on each other.

Networks: A and B both 10.99.0.0/24 (A provides DNS, B does not), C 10.98.0.0/24. Instances
(namespaces plugged with kind veth, addressed by busybox udhcpc; helpers of test_hypervisor.py):

    a1 hv1 A 10.99.0.11    a2 hv2 A 10.99.0.12
    b1 hv1 B 10.99.0.12    b2 hv2 B 10.99.0.11    (the addresses of A, crossed)
    c1 hv2 C 10.98.0.11    (floating from its creation)

A small resolver in the outside namespace stands for the upstream DNS server (DNS_SERVER).
Which namespace a packet reached is read from its ICMP counters (InEchos of /proc/net/snmp),
and which host answered an ARP request from the MAC in busybox arping's replies.

DNS names: upstream's dnshosts file lists each interface under its instance's *name* (spec
6.10), so `<name>` and `<name>.<namespace>.<zone>` resolve. sf-net has no instance objects and
no instance names: an interface knows only its instance's uuid, so the name we render (and
check here) is the instance uuid.
"""
import os
import re
import subprocess
import time
import uuid as uuidlib

import pytest

from conftest import run, wait_for
from test_hypervisor import dhcp, hx, links, new_instance, ping, plug, unplug, wait_created
from test_networknode import udp_from

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (ip netns)")

NETS = {  # name: (netblock, provide_dns)
    "A": ("10.99.0.0/24", True),
    "B": ("10.99.0.0/24", False),
    "C": ("10.98.0.0/24", False),
}
INSTANCES = {  # instance: (number, network, node, address)
    "a1": (1, "A", "hv1", "10.99.0.11"),
    "a2": (2, "A", "hv2", "10.99.0.12"),
    "b1": (3, "B", "hv1", "10.99.0.12"),
    "b2": (4, "B", "hv2", "10.99.0.11"),
    "c1": (5, "C", "hv2", "10.98.0.11"),
}
ROUTER = {"A": "10.99.0.1", "B": "10.99.0.1", "C": "10.98.0.1"}
ZONE = "shakenfist"
PING_SIZE, PING_COUNT = 1000, 20
FRAME = PING_SIZE + 8 + 20 + 14  # ICMP, IPv4 and Ethernet headers: the bytes a veth counts
S = {"ns": {}, "iface": {}, "net": {}}  # what the tests pass on to each other


def in_echos(netns):
    """Echo requests the namespace's IPv4 stack received (Icmp: InEchos of /proc/net/snmp)."""
    lines = [line.split() for line in
             run("ip", "netns", "exec", netns, "cat", "/proc/net/snmp").stdout.splitlines()
             if line.startswith("Icmp:")]
    return int(dict(zip(lines[0][1:], lines[1][1:]))["InEchos"])


def mac_norm(mac):
    return ":".join(f"{int(p, 16):02x}" for p in mac.split(":"))


def arping(inst, address, count=1):
    """The MACs that answered busybox arping from the instance's eth0 (normalised): the
    replies to each request are collected for a second, so a second responder shows."""
    res = run("ip", "netns", "exec", inst, "busybox", "arping", "-I", "eth0", "-c", str(count),
              "-w", str(count + 1), address, check=False, timeout=30)
    return {mac_norm(m) for m in re.findall(r"reply from \S+ \[([0-9A-Fa-f:]+)\]", res.stdout)}


def nslookup(inst, name, server):
    """busybox nslookup name server in the instance: the answers (addresses, or PTR names);
    empty when the server gave none or did not answer."""
    res = run("ip", "netns", "exec", inst, "busybox", "nslookup", name, server, check=False,
              timeout=30)
    if res.returncode != 0:
        return []
    answers = re.findall(r"name = (\S+)", res.stdout)
    body = res.stdout.split("\n\n", 1)[1] if "\n\n" in res.stdout else ""
    return answers + re.findall(r"^Address:\s+(\S+)$", body, re.M)


# The upstream resolver (DNS_SERVER, in the outside namespace): answers every A query with
# argv[2] and every other query with no records.
RESOLVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    end = 12
    while q[end]:
        end += q[end] + 1
    a = q[end + 1:end + 3] == b"\0\1"
    rr = b"\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4" + socket.inet_aton(sys.argv[2]) if a else b""
    s.sendto(q[:2] + b"\x81\x80\0\1\0" + bytes([a]) + b"\0\0\0\0" + q[12:end + 5] + rr, peer)
"""


def router_mac(sf, net):
    eth = links(sf, net["uuid"])[f"veth-{hx(net['vxlan_id'])}-i"]
    return mac_norm(eth["address"])


def reaches(src, address, receiver, count=3):
    """Ping address from src; the echo requests receiver's stack got meanwhile and the
    replies src received."""
    before = in_echos(S["ns"][receiver])
    got, dups = ping(S["ns"][src], address, count)
    assert dups == 0, f"{src} -> {address}: duplicate replies"
    return in_echos(S["ns"][receiver]) - before, got


def usage_events(sf, net):
    return sorted(sf.events(net["uuid"], "usage"), key=lambda e: e["timestamp"])


def test_networks_created(hvnet):
    sf = hvnet
    for name, (netblock, dns) in NETS.items():
        r = sf.call("POST", "/networks", {"netblock": netblock, "name": f"dp-{name}",
                                          "provide_dhcp": True, "provide_nat": True,
                                          "provide_dns": dns})
        assert r.status_code == 200, r.text
        sf.netns_made.add(r.json()["uuid"])  # the network node's; the finalizer's if left
        S["net"][name] = r.json()
    for name, net in S["net"].items():
        S["net"][name] = sf.wait_state(net["uuid"], "created", timeout=60)
    assert len({n["vxlan_id"] for n in S["net"].values()}) == 3
    assert len({n["floating_gateway"] for n in S["net"].values()}) == 3


def test_instances_get_leases(hvnet):
    sf = hvnet
    for inst, (n, net, node, address) in INSTANCES.items():
        S["ns"][inst] = new_instance(sf, n)
        if inst != "c1":
            S["iface"][inst] = plug(sf, S["net"][net], node, S["ns"][inst], address)
            continue
        # c1 floats from the start (the networkspec's float, spec 1.7)
        r = sf.call("POST", "/interfaces", {
            "network_uuid": S["net"][net]["uuid"], "instance_uuid": str(uuidlib.uuid4()),
            "node": node, "kind": "veth", "netns": S["ns"][inst], "address": address,
            "float": True})
        assert r.status_code == 200, r.text
        S["iface"][inst] = r.json()
        assert S["iface"][inst]["floating"]
    for inst, (n, net, node, address) in INSTANCES.items():
        wait_created(sf, S["iface"][inst])
        env = dhcp(sf, S["ns"][inst])
        assert env["ip"] == address
        assert env["router"] == ROUTER[net]
        # a DNS network hands out its router as the resolver, the others the upstream one
        dns = ROUTER[net] if NETS[net][1] else sf.cluster["SF_OUTSIDE_IP"]
        assert env["dns"].split() == [dns]
        assert env["domain"] == f"system.{ZONE}"


def test_same_netblock_networks_are_isolated(hvnet):
    sf = hvnet
    # A and B hand out the same addresses, crossed: each ping reaches the peer on its own
    # network and never the instance of the other network that holds the same address
    for src, dst, other in (("a1", "a2", "b1"), ("a2", "a1", "b2"),
                            ("b1", "b2", "a1"), ("b2", "b1", "a2")):
        address = INSTANCES[dst][3]
        before = in_echos(S["ns"][other])
        echos, got = reaches(src, address, dst)
        assert (echos, got) == (3, 3), f"{src} -> {address} ({dst})"
        assert in_echos(S["ns"][other]) == before, f"{src} -> {address} reached {other}"
        # ARP too: only the peer answers for the address
        assert arping(S["ns"][src], address) == {mac_norm(S["iface"][dst]["macaddr"])}
    # each reaches its own router, which is not the other network's
    macs = {net: router_mac(sf, S["net"][net]) for net in ("A", "B")}
    assert macs["A"] != macs["B"]
    for inst, net in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")):
        assert ping(S["ns"][inst], ROUTER[net]) == (3, 0)
        assert arping(S["ns"][inst], ROUTER[net]) == {macs[net]}


def test_networks_with_different_netblocks_are_isolated(hvnet):
    sf = hvnet
    for src, dst in (("a1", "c1"), ("c1", "a1"), ("c1", "b2")):
        echos, got = reaches(src, INSTANCES[dst][3], dst, count=1)
        assert (echos, got) == (0, 0), f"{src} reached {dst}"
    assert ping(S["ns"]["a1"], ROUTER["C"], count=1)[0] == 0
    assert ping(S["ns"]["c1"], ROUTER["A"], count=1)[0] == 0
    assert not arping(S["ns"]["c1"], INSTANCES["a1"][3])


def test_egress_nat_from_hypervisors(hvnet):
    sf = hvnet
    host, outside = sf.cluster["SF_INTERNET_HOST"], sf.cluster["SF_OUTSIDE_NETNS"]
    # the same inner address leaves through each network's own floating gateway (c1
    # floats: its traffic leaves with its floating address)
    for port, (inst, net) in enumerate((("a1", "A"), ("b2", "B"), ("c1", "C")), 40101):
        assert ping(S["ns"][inst], host) == (3, 0)
        seen = S["iface"][inst]["floating"] or S["net"][net]["floating_gateway"]
        assert udp_from(sf, S["ns"][inst], outside, host, port) == seen


def floats_both_ways(sf, inst, floating, port, bystander):
    """The outside reaches the instance at its floating address (and only it: not the
    bystander, which holds the same inner address on another network), and the instance's
    own traffic leaves with that address."""
    host, outside = sf.cluster["SF_INTERNET_HOST"], sf.cluster["SF_OUTSIDE_NETNS"]
    wait_for(lambda: ping(outside, floating, count=1)[0] == 1, 20, f"{floating} of {inst}")
    other = in_echos(S["ns"][bystander])
    before = in_echos(S["ns"][inst])
    assert ping(outside, floating) == (3, 0)
    assert in_echos(S["ns"][inst]) - before == 3
    assert in_echos(S["ns"][bystander]) == other
    assert udp_from(sf, outside, S["ns"][inst], floating, port, bind_src=host) == host
    assert udp_from(sf, S["ns"][inst], outside, host, port + 1) == floating


def test_floating_ip_both_ways(hvnet):
    sf = hvnet
    host, outside = sf.cluster["SF_INTERNET_HOST"], sf.cluster["SF_OUTSIDE_NETNS"]
    # floating since its creation
    floats_both_ways(sf, "c1", S["iface"]["c1"]["floating"], 40201, "a1")
    # floated later; b1 in B holds the same inner address as a2
    iface = S["iface"]["a2"]
    r = sf.call("POST", f"/interfaces/{iface['uuid']}/float")
    assert r.status_code == 200, r.text
    floating = sf.call("GET", f"/interfaces/{iface['uuid']}").json()["floating"]
    assert floating
    floats_both_ways(sf, "a2", floating, 40203, "b1")

    r = sf.call("POST", f"/interfaces/{iface['uuid']}/defloat")
    assert r.status_code == 200, r.text
    wait_for(lambda: ping(outside, floating, count=1)[0] == 0, 20, "the floating address to go")
    assert udp_from(sf, S["ns"]["a2"], outside, host, 40205) == \
        S["net"]["A"]["floating_gateway"]


def test_routed_ip_reachable_from_outside(hvnet):
    sf = hvnet
    host, outside = sf.cluster["SF_INTERNET_HOST"], sf.cluster["SF_OUTSIDE_NETNS"]
    net, inst = S["net"]["A"], S["ns"]["a1"]  # on hv1
    r = sf.call("POST", f"/networks/{net['uuid']}/route")
    assert r.status_code == 200, r.text
    routed = r.json()
    # the instance owns the address (as metallb would)
    run("ip", "-n", inst, "addr", "add", f"{routed}/32", "dev", "eth0")
    try:
        wait_for(lambda: ping(outside, routed, count=1)[0] == 1, 20, "the routed address")
        before = in_echos(inst)
        assert ping(outside, routed) == (3, 0)
        assert in_echos(inst) - before == 3
        assert udp_from(sf, outside, inst, routed, 40301, bind_src=host) == host
        # its own traffic from the routed address leaves unchanged (not masqueraded)
        assert udp_from(sf, inst, outside, host, 40302, bind_src=routed) == routed

        r = sf.call("DELETE", f"/networks/{net['uuid']}/route/{routed}")
        assert r.status_code == 200, r.text
        wait_for(lambda: ping(outside, routed, count=1)[0] == 0, 20, "the route to go")
    finally:
        run("ip", "-n", inst, "addr", "del", f"{routed}/32", "dev", "eth0", check=False)


def test_dns_through_the_router(hvnet):
    sf = hvnet
    net, a1 = S["net"]["A"], S["ns"]["a1"]
    router = ROUTER["A"]
    a2 = S["iface"]["a2"]["instance_uuid"]
    domain = f"system.{ZONE}"
    # another instance, by its name and by its name in the network's domain, and back
    assert nslookup(a1, a2, router) == ["10.99.0.12"]
    assert nslookup(a1, f"{a2}.{domain}", router) == ["10.99.0.12"]
    assert f"{a2}.{domain}" in nslookup(a1, "10.99.0.12", router)
    # a hosted entry
    r = sf.call("POST", f"/networks/{net['uuid']}/dns", {"name": "db", "value": "10.99.0.50"})
    assert r.status_code == 200, r.text
    wait_for(lambda: nslookup(a1, "db", router) == ["10.99.0.50"], 20, "the hosted entry")
    assert nslookup(a1, f"db.{domain}", router) == ["10.99.0.50"]
    # B shares A's netblock and router address but provides no DNS: nothing answers b1
    assert nslookup(S["ns"]["b1"], a2, router) == []
    # other names go to the upstream resolver, from A's router and, on B, straight from b1
    upstream = subprocess.Popen(
        ["ip", "netns", "exec", sf.cluster["SF_OUTSIDE_NETNS"], "/usr/bin/python3", "-c",
         RESOLVER, sf.cluster["SF_OUTSIDE_IP"], "203.0.113.77"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert upstream.stdout.readline().strip() == "ready"
        assert nslookup(a1, "www.example.com", router) == ["203.0.113.77"]
        assert nslookup(S["ns"]["b1"], "www.example.com", sf.cluster["SF_OUTSIDE_IP"]) == \
            ["203.0.113.77"]
    finally:
        upstream.kill()
        upstream.wait()
    r = sf.call("DELETE", f"/networks/{net['uuid']}/dns", {"name": "db"})
    assert r.status_code == 200, r.text
    wait_for(lambda: nslookup(a1, "db", router) == [], 20, "the hosted entry to go")
    assert nslookup(a1, a2, router) == ["10.99.0.12"]


def test_usage_counts_a_known_transfer(hvnet):
    sf = hvnet
    net, inst = S["net"]["B"], S["ns"]["b1"]
    base = wait_for(lambda: usage_events(sf, net), 20, "a usage event")[-1]
    res = run("ip", "netns", "exec", inst, "ping", "-n", "-q", "-s", str(PING_SIZE), "-c",
              str(PING_COUNT), "-i", "0.05", "-W", "2", sf.cluster["SF_INTERNET_HOST"],
              check=False, timeout=30)
    assert f"{PING_COUNT} received" in res.stdout, res.stdout
    t_done = time.time()
    want = PING_COUNT * FRAME

    def grown():
        for ev in usage_events(sf, net):
            rx = ev["extra"]["rx"]["bytes"] - base["extra"]["rx"]["bytes"]
            tx = ev["extra"]["tx"]["bytes"] - base["extra"]["tx"]["bytes"]
            if ev["timestamp"] > t_done and rx >= want and tx >= want:
                return ev, rx, tx
        return None
    ev, rx, tx = wait_for(grown, 20, f"a usage event counting {want} bytes each way")
    # egr-XXXXXX-o faces the network: it receives what leaves and sends what comes back;
    # beyond the transfer only a little ARP flows meanwhile
    assert rx < 2 * want and tx < 2 * want, (rx, tx)
    assert ev["extra"]["rx"]["packets"] - base["extra"]["rx"]["packets"] >= PING_COUNT
    assert ev["extra"]["tx"]["packets"] - base["extra"]["tx"]["packets"] >= PING_COUNT


def test_teardown_leaves_nothing(hvnet):
    sf = hvnet
    # an instance that leaves takes its name out of DNS
    unplug(sf, S["iface"]["a2"])
    a2 = S["iface"]["a2"]["instance_uuid"]
    wait_for(lambda: nslookup(S["ns"]["a1"], a2, ROUTER["A"]) == [], 20, "a2's name to go")
    a1 = S["iface"]["a1"]["instance_uuid"]
    assert nslookup(S["ns"]["a1"], a1, ROUTER["A"]) == ["10.99.0.11"]  # the server still answers
    # one that leaves while floating gives its floating address up
    floating = S["iface"]["c1"]["floating"]
    unplug(sf, S["iface"]["c1"])
    wait_for(lambda: ping(sf.cluster["SF_OUTSIDE_NETNS"], floating, count=1)[0] == 0, 20,
             "c1's floating address to go")
    nft = run("ip", "netns", "exec", S["net"]["C"]["uuid"], "nft", "list", "ruleset").stdout
    assert floating not in nft
    for inst, iface in S["iface"].items():
        if inst not in ("a2", "c1"):
            unplug(sf, iface)
    for net in S["net"].values():
        r = sf.call("DELETE", f"/networks/{net['uuid']}")
        assert r.status_code == 200, r.text
    for net in S["net"].values():
        sf.wait_state(net["uuid"], "deleted", timeout=60)
    for node in sf.HYPERVISORS:
        wait_for(lambda: set(links(sf, sf.hv_netns(node))) == {"lo", "mesh0"}, 20,
                 f"{node} to hold nothing but lo and mesh0")
    xs = [hx(n["vxlan_id"]) for n in S["net"].values()]
    wait_for(lambda: not [d for d in links(sf, sf.nn_netns) for x in xs if x in d], 30,
             "the network node to drop the networks' devices")
    for net in S["net"].values():
        wait_for(lambda: not os.path.exists(f"/run/netns/{net['uuid']}"), 30,
                 "the networks' namespaces to go")
    for inst in S["ns"].values():
        assert set(links(sf, inst)) == {"lo"}, f"{inst} still holds a device of ours"
    wait_for(lambda: not sf.dnsmasq_pids(), 30, "dnsmasq to stop")
