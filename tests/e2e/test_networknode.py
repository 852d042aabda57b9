# SPDX-License-Identifier: Apache-2.0
"""sf-networknode on the development cluster, with sf-api in front (issue 4).

One cluster, one sf-api and one sf-networknode per module (the sfnet fixture of conftest.py).
The tests run in file order and build on each other: a network is created through the API and
checked in the kernel; a test instance (a namespace whose veth is plugged into the network's
bridge on the network node) gets its address by DHCP and reaches the outside; floating and
routed addresses; the ping API; usage events; the reconciler's repairs and its stray removal
(only of what this node made); a worker killed in the middle of a deploy; and deletion, after
which nothing of the networks is left.

Until sf-hypervisor exists, interfaces are placed on "hv1", registered in the node registry by
the test (its job queue is declared so that sf-api can publish to it; nothing consumes it).
"""
import json
import os
import signal
import subprocess
import time
import uuid as uuidlib

import pytest

from conftest import run, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (ip netns)")

MTU = 1450
EGRESS_BRIDGE = "egr-br-egress0"
FLOATING_INDEX1 = "198.51.100.1"
INSTANCE_UUID = "11111111-2222-4333-8444-555555555555"
MAC = "02:00:00:aa:bb:01"
S = {}  # what the tests pass on to each other


def hx(vxid):
    return f"{vxid:06x}"


def links_by_name(entries):
    return {e["ifname"]: e for e in entries}


def netns_exists(name):
    return os.path.exists(f"/run/netns/{name}")


def netns_inode(path):
    return os.stat(path).st_ino


def nft_text(netns):
    return run("ip", "netns", "exec", netns, "nft", "list", "ruleset").stdout


def check_network(sf, net, floats=()):
    """The kernel holds exactly the network's devices, addresses, routes, nft table and one
    dnsmasq with the expected configuration."""
    uuid, x, nn = net["uuid"], hx(net["vxlan_id"]), sf.nn_netns
    prefix = int(net["netblock"].split("/")[1])
    base = net["netblock"].split("/")[0].rsplit(".", 1)[0]
    router = f"{base}.1"

    node = links_by_name(sf.ip_json(nn, "-d", "link", "show"))
    vx = node[f"vxlan-{x}"]
    assert vx["linkinfo"]["info_kind"] == "vxlan"
    assert vx["linkinfo"]["info_data"]["id"] == net["vxlan_id"]
    assert vx["linkinfo"]["info_data"]["port"] == 4789
    assert vx["linkinfo"]["info_data"]["link"] == "mesh0"
    assert vx["master"] == f"br-vxlan-{x}" and vx["mtu"] == MTU and "UP" in vx["flags"]
    br = node[f"br-vxlan-{x}"]
    assert br["linkinfo"]["info_kind"] == "bridge" and br["mtu"] == MTU and "UP" in br["flags"]
    vo = node[f"veth-{x}-o"]
    assert vo["master"] == f"br-vxlan-{x}" and vo["mtu"] == MTU and "UP" in vo["flags"]
    eo = node[f"egr-{x}-o"]
    assert eo["master"] == EGRESS_BRIDGE and eo["mtu"] == 1500 and "UP" in eo["flags"]

    inner = links_by_name(sf.ip_json(uuid, "link", "show"))
    assert set(inner) == {"lo", f"veth-{x}-i", f"egr-{x}-i"}
    assert inner[f"veth-{x}-i"]["mtu"] == MTU  # both ends of the veth
    addrs = {e["ifname"]: sorted(f"{a['local']}/{a['prefixlen']}" for a in e["addr_info"])
             for e in sf.ip_json(uuid, "-4", "addr", "show")}
    assert addrs[f"veth-{x}-i"] == [f"{router}/{prefix}"]
    assert addrs[f"egr-{x}-i"] == sorted([f"{net['floating_gateway']}/24"] +
                                         [f"{f}/32" for f in floats])
    routes = sf.ip_json(uuid, "-4", "route", "show")
    assert sorted(r["dst"] for r in routes) == sorted(["default", net["netblock"],
                                                       "198.51.100.0/24"])
    default = [r for r in routes if r["dst"] == "default"][0]
    assert default["gateway"] == FLOATING_INDEX1 and default["dev"] == f"egr-{x}-i"

    text = nft_text(uuid)
    assert run("ip", "netns", "exec", uuid, "nft", "list", "tables").stdout.strip() == \
        "table ip sfnet"
    assert f'oifname "egr-{x}-i" ip saddr {net["netblock"]} masquerade' in text

    pids = sf.dnsmasq_pids(uuid)
    assert len(pids) == 1, f"dnsmasq of {uuid}: {pids}"
    assert netns_inode(f"/proc/{pids[0]}/ns/net") == netns_inode(f"/run/netns/{uuid}")
    config = (sf.storage_dir / "dhcp" / uuid / "config").read_text().splitlines()
    for line in [f"interface=veth-{x}-i", f"listen-address={router}",
                 f"dhcp-range={base}.2,static,255.255.255.0,{base}.255,1h",
                 f"dhcp-option=26,{MTU}", "dhcp-option=6,203.0.113.1",
                 "domain=system.shakenfist", "port=0"]:
        assert line in config, f"{line} not in the dnsmasq config"
    return pids[0]


def check_gone(sf, net):
    uuid, x = net["uuid"], hx(net["vxlan_id"])
    assert not netns_exists(uuid)
    names = set(links_by_name(sf.ip_json(sf.nn_netns, "link", "show")))
    assert not names & {f"vxlan-{x}", f"br-vxlan-{x}", f"veth-{x}-o", f"egr-{x}-o"}
    assert not sf.dnsmasq_pids(uuid)
    assert not (sf.storage_dir / "dhcp" / uuid).exists()


def create_network(sf, netblock, name):
    r = sf.call("POST", "/networks", {"netblock": netblock, "name": name,
                                      "provide_dhcp": True, "provide_nat": True})
    assert r.status_code == 200, r.text
    return r.json()


def udp_from(sf, src_netns, dst_netns, dst_ip, port, bind_src=None):
    """Send one UDP datagram from src_netns to dst_ip:port, received in dst_netns: the source
    address the receiver saw."""
    listener = subprocess.Popen(
        ["ip", "netns", "exec", dst_netns, "/usr/bin/python3", "-c",
         "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
         f"s.bind(('0.0.0.0', {port})); s.settimeout(10); d, a = s.recvfrom(100); print(a[0])"],
        stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        bind = f"s.bind(('{bind_src}', 0)); " if bind_src else ""
        for _ in range(3):
            run("ip", "netns", "exec", src_netns, "/usr/bin/python3", "-c",
                "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); " + bind +
                f"s.sendto(b'x', ('{dst_ip}', {port}))")
            time.sleep(0.2)
        out, _ = listener.communicate(timeout=15)
        return out.strip()
    finally:
        if listener.poll() is None:
            listener.kill()


def ping(netns, address, count=2):
    return run("ip", "netns", "exec", netns, "ping", "-n", "-c", str(count), "-W", "1", address,
               check=False).returncode == 0


# ---- the tests, in order ---------------------------------------------------------------------

def test_deploy_creates_network(sfnet):
    sf = sfnet
    t0 = time.monotonic()
    net = create_network(sf, "10.81.0.0/24", "e2e-one")
    assert net["state"] == "initial"
    net = sf.wait_state(net["uuid"], "created")
    S["deploy_s"] = time.monotonic() - t0
    assert net["floating_gateway"], "no floating gateway after deploy"
    S["net"] = net
    S["dnsmasq_pid"] = check_network(sf, net)
    # the egress bridge of spec 6.3 holds floating index 1; forwarding is on
    node = {e["ifname"]: e for e in sf.ip_json(sf.nn_netns, "-4", "addr", "show")}
    assert [a["local"] for a in node[EGRESS_BRIDGE]["addr_info"]] == [FLOATING_INDEX1]
    wait_for(lambda: "creating network on network node" in
             [e["message"] for e in sf.events(net["uuid"])], 15, "the deploy event")
    # this node recorded that it made the network (the reconciler's stray list)
    made = sf.services.redis("HGETALL", f"{sf.redis_prefix}nn:{sf.node_name}:made").split()
    assert net["uuid"] in made


def test_dhcp_gives_reserved_address(sfnet):
    sf, net = sfnet, S["net"]
    x = hx(net["vxlan_id"])
    sf.register_hypervisor("hv1", sf.cluster["SF_HV1_MESH_IP"])
    inst = f"{sf.prefix}-i1"
    r = sf.call("POST", "/interfaces", {"network_uuid": net["uuid"],
                                        "instance_uuid": INSTANCE_UUID, "node": "hv1",
                                        "address": "10.81.0.10", "macaddress": MAC,
                                        "kind": "veth", "netns": inst})
    assert r.status_code == 200, r.text
    S["iface"] = r.json()
    hosts = sf.storage_dir / "dhcp" / net["uuid"] / "hosts"
    wait_for(lambda: hosts.exists() and MAC in hosts.read_text(), 15, "the DHCP hosts entry")
    # a flood entry toward the hypervisor that hosts the interface, none toward ourselves
    fdb = run("bridge", "-n", sf.nn_netns, "fdb", "show", "dev", f"vxlan-{x}").stdout
    assert f"00:00:00:00:00:00 dst {sf.cluster['SF_HV1_MESH_IP']} self permanent" in fdb
    assert sf.cluster["SF_NN_MESH_IP"] not in fdb

    # the test instance: a namespace plugged into the bridge on the network node
    sf.add_netns(inst)
    port = f"{sf.prefix}-t1"
    run("ip", "-n", sf.nn_netns, "link", "add", port, "mtu", str(MTU), "type", "veth",
        "peer", "name", "eth0", "netns", inst)
    run("ip", "-n", sf.nn_netns, "link", "set", port, "master", f"br-vxlan-{x}", "up")
    run("ip", "-n", inst, "link", "set", "eth0", "address", MAC, "mtu", str(MTU), "up")
    run("ip", "-n", inst, "link", "set", "lo", "up")
    S["inst"], S["port"] = inst, port

    record = sf.storage_dir.parent / f"udhcpc-{sf.tag}.env"
    script = sf.storage_dir.parent / f"udhcpc-{sf.tag}.sh"
    script.write_text("#!/bin/sh\n"
                      f"[ \"$1\" = bound ] || exit 0\nenv > {record}\n"
                      "ip addr add $ip/$mask dev $interface\n"
                      "ip route replace default via $router dev $interface\n")
    script.chmod(0o755)
    res = run("ip", "netns", "exec", inst, "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
              "-t", "5", "-O", "mtu", "-s", str(script), check=False, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    env = dict(line.split("=", 1) for line in record.read_text().splitlines() if "=" in line)
    assert env["ip"] == "10.81.0.10"
    assert env["router"] == "10.81.0.1"
    assert env["dns"].split() == ["203.0.113.1"]  # DNS off: the upstream resolver
    assert env["mtu"] == str(MTU)
    assert env["subnet"] == "255.255.255.0"
    assert env["domain"] == "system.shakenfist"
    record.unlink()
    script.unlink()


def test_instance_reaches_outside_as_floating_gateway(sfnet):
    sf, net = sfnet, S["net"]
    assert ping(S["inst"], sf.cluster["SF_INTERNET_HOST"])
    seen = udp_from(sf, S["inst"], sf.cluster["SF_OUTSIDE_NETNS"],
                    sf.cluster["SF_INTERNET_HOST"], 40001)
    assert seen == net["floating_gateway"]


def test_floating_ip(sfnet):
    sf, net, iface = sfnet, S["net"], S["iface"]
    outside = sf.cluster["SF_OUTSIDE_NETNS"]
    r = sf.call("POST", f"/interfaces/{iface['uuid']}/float")
    assert r.status_code == 200, r.text
    floating = sf.call("GET", f"/interfaces/{iface['uuid']}").json()["floating"]
    assert floating
    x = hx(net["vxlan_id"])
    wait_for(lambda: f'ip daddr {floating} dnat to 10.81.0.10' in nft_text(net["uuid"]), 15,
             "the DNAT rule")
    check_network(sf, net, floats=[floating])
    assert f'oifname "egr-{x}-i" ip saddr 10.81.0.10 snat to {floating}' in nft_text(net["uuid"])
    # reachable from outside, and its own traffic leaves with the floating address
    assert ping(outside, floating)
    assert udp_from(sf, outside, S["inst"], floating, 40002,
                    bind_src=sf.cluster["SF_INTERNET_HOST"]) == sf.cluster["SF_INTERNET_HOST"]
    assert udp_from(sf, S["inst"], outside, sf.cluster["SF_INTERNET_HOST"], 40003) == floating

    r = sf.call("POST", f"/interfaces/{iface['uuid']}/defloat")
    assert r.status_code == 200, r.text
    wait_for(lambda: sf.call("GET", f"/interfaces/{iface['uuid']}").json()["floating"] is None,
             15, "defloat")
    text = nft_text(net["uuid"])
    assert floating not in text  # both rules went (upstream leaks the DNAT)
    check_network(sf, net)
    assert not ping(outside, floating, count=1)
    wait_for(lambda: {"adding floating ip", "removing floating"} <=
             {e["message"] for e in sf.events(net["uuid"])}, 15, "the floating events")


def test_routed_ip(sfnet):
    sf, net = sfnet, S["net"]
    x = hx(net["vxlan_id"])
    outside = sf.cluster["SF_OUTSIDE_NETNS"]
    r = sf.call("POST", f"/networks/{net['uuid']}/route")
    assert r.status_code == 200, r.text
    routed = r.json()

    def route():
        return [rt for rt in sf.ip_json(sf.nn_netns, "-4", "route", "show")
                if rt["dst"] == routed and rt.get("dev") == f"br-vxlan-{x}"]
    wait_for(route, 15, "the routed address's route")
    # the instance answers for the routed address (as metallb would); outside reaches it
    run("ip", "-n", S["inst"], "addr", "add", f"{routed}/32", "dev", "eth0")
    assert ping(outside, routed)
    r = sf.call("DELETE", f"/networks/{net['uuid']}/route/{routed}")
    assert r.status_code == 200, r.text
    wait_for(lambda: not route(), 15, "the route to go")
    run("ip", "-n", S["inst"], "addr", "del", f"{routed}/32", "dev", "eth0")


def test_ping_api(sfnet):
    sf, net = sfnet, S["net"]
    for address in ["10.81.0.1", "10.81.0.10"]:
        r = sf.call("GET", f"/networks/{net['uuid']}/ping/{address}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert " 0% packet loss" in "\n".join(body["stdout"]), body
        assert body["stdout"][-1] == ""  # split on "\n", as upstream
        assert body["stderr"] == [""]


def test_usage_events(sfnet):
    sf, net = sfnet, S["net"]
    events = wait_for(lambda: sf.events(net["uuid"], "usage"), 20, "a usage event")
    ev = events[0]
    assert ev["message"] == "usage"
    assert set(ev["extra"]["rx"]) >= {"bytes", "packets", "errors", "dropped", "over_errors",
                                      "multicast"}
    assert set(ev["extra"]["tx"]) >= {"bytes", "packets", "errors", "dropped",
                                      "carrier_errors", "collisions"}
    assert ev["extra"]["rx"]["packets"] > 0  # the instance's traffic went out


def test_killed_dnsmasq_is_restarted(sfnet):
    sf, net = sfnet, S["net"]
    old = check_network(sf, net)
    os.kill(old, signal.SIGKILL)

    def new_pid():
        pids = sf.dnsmasq_pids(net["uuid"])
        return pids if pids and old not in pids else None
    wait_for(new_pid, 15, "a new dnsmasq")
    S["dnsmasq_pid"] = check_network(sf, net)
    wait_for(lambda: "dnsmasq died, restarting it" in
             [e["message"] for e in sf.events(net["uuid"])], 15, "the dnsmasq event")


def test_deleted_bridge_is_recreated(sfnet):
    sf, net = sfnet, S["net"]
    x = hx(net["vxlan_id"])
    run("ip", "-n", sf.nn_netns, "link", "del", f"br-vxlan-{x}")

    def repaired():
        try:
            check_network(sf, net)
            return True
        except (AssertionError, KeyError):
            return False
    wait_for(repaired, 20, "the reconciler to rebuild the bridge")
    wait_for(lambda: f"br-vxlan-{x} missing" in
             [e["extra"]["problem"] for e in sf.events(net["uuid"])
              if e["message"] == "reconciler repaired drift"], 15, "the repair event")
    # the test instance's port is the test's own business: put it back
    run("ip", "-n", sf.nn_netns, "link", "set", S["port"], "master", f"br-vxlan-{x}")
    assert ping(S["inst"], "10.81.0.1")


def test_reconciler_removes_only_its_own_strays(sfnet):
    sf = sfnet
    net = sf.wait_state(create_network(sf, "10.82.0.0/24", "e2e-stray")["uuid"], "created")
    check_network(sf, net)
    # something of another cluster on the same machine: a namespace named by a uuid and a
    # device named like ours in the node namespace
    foreign = str(uuidlib.uuid4())
    sf.add_netns(foreign)
    run("ip", "-n", sf.nn_netns, "link", "add", "vxlan-fedcba", "type", "bridge")
    # the network is deleted behind the worker's back (no destroy job)
    key = f"{sf.redis_prefix}network:{{{net['uuid']}}}"
    assert sf.services.redis("HSET", key, "state", "deleted").strip() == "0"
    wait_for(lambda: not netns_exists(net["uuid"]), 30, "the stray network's removal")
    check_gone(sf, net)
    wait_for(lambda: "reconciler removed stray network devices" in
             [e["message"] for e in sf.events(net["uuid"])], 15, "the stray event")
    time.sleep(8)  # two more passes
    assert netns_exists(foreign)
    assert "vxlan-fedcba" in links_by_name(sf.ip_json(sf.nn_netns, "link", "show"))
    run("ip", "-n", sf.nn_netns, "link", "del", "vxlan-fedcba")


def test_worker_killed_mid_deploy_finishes_after_restart(sfnet):
    sf = sfnet
    sf.nn.signal(signal.SIGSTOP)
    try:
        net = create_network(sf, "10.83.0.0/24", "e2e-killed")

        def unacked():
            out = sf.services.ctl("list_queues", "-p", sf.vhost, "name",
                                  "messages_unacknowledged")
            return any(line.split() == ["sf.jobs.networknode", "1"]
                       for line in out.splitlines())
        wait_for(unacked, 20, "the deploy job to be delivered to the worker", interval=0.5)
        # what a deploy killed half-way leaves: the namespace and a bridge with the kernel's
        # default MTU
        x = hx(net["vxlan_id"])
        sf.add_netns(net["uuid"])
        run("ip", "-n", sf.nn_netns, "link", "add", f"br-vxlan-{x}", "type", "bridge")
    finally:
        sf.nn.kill9()  # SIGKILL works on a stopped process
    assert sf.network(net["uuid"])["state"] == "initial"
    sf.start_nn()
    net = sf.wait_state(net["uuid"], "created", timeout=60)
    check_network(sf, net)
    S["net3"] = net
    # the first network's dnsmasq survived the worker and was adopted, not restarted
    assert check_network(sf, S["net"]) == S["dnsmasq_pid"]
    assert "adopted the running dnsmasq" in sf.nn.log_path.read_text()


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def sockets(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # closed meanwhile
            pass
    return n


def test_scale_median_deploy_and_rss(sfnet):
    """The issue's numbers: the median time from POST /networks to created over 50 networks,
    and the worker's RSS with 100 networks (of the binary under test: with the sanitizer
    build, ASan's shadow memory and quarantine dominate it). The nftables contexts deploys
    set aside are closed soon after: the worker holds no more sockets than before."""
    sf = sfnet
    before = []
    for _ in range(6):  # not counting a context a reconciler pass holds for a moment
        before.append(sockets(sf.nn.proc.pid))
        time.sleep(0.1)
    before = min(before)
    times, nets = [], []
    for i in range(100):
        t0 = time.monotonic()
        net = create_network(sf, f"10.{100 + i // 200}.{i % 200}.0/24", f"e2e-scale-{i}")
        wait_for(lambda: sf.network(net["uuid"])["state"] == "created", 60,
                 f"network {i} to become created", interval=0.01)
        times.append(time.monotonic() - t0)
        nets.append(net)
    median = sorted(times[:50])[25]
    time.sleep(4)  # a reconciler pass over all of them
    rss = rss_kib(sf.nn.proc.pid)
    print(f"\nmedian POST /networks -> created over 50 networks: {median * 1000:.0f} ms; "
          f"sf-networknode RSS with {len(nets) + 2} networks: {rss / 1024:.1f} MiB "
          f"({sf.nn.binary.name} from {sf.nn.binary.parent.name})")
    assert median < 2.0
    wait_for(lambda: sockets(sf.nn.proc.pid) <= before, 5,
             f"the worker's sockets to be back to {before}", interval=0.1)
    assert len(sf.dnsmasq_pids()) == len(nets) + 2  # and the first network and net3
    for net in nets:
        assert sf.call("DELETE", f"/networks/{net['uuid']}").status_code == 200
    for net in nets:
        sf.wait_state(net["uuid"], "deleted", timeout=60)
        check_gone(sf, net)


def test_delete_removes_everything(sfnet):
    sf, net, net3 = sfnet, S["net"], S["net3"]
    # with an interface left, the network waits in delete-wait
    r = sf.call("DELETE", f"/networks/{net['uuid']}")
    assert r.status_code == 200, r.text
    assert sf.network(net["uuid"])["state"] == "delete-wait"
    time.sleep(1)
    check_network(sf, net)
    r = sf.call("DELETE", f"/interfaces/{S['iface']['uuid']}")
    assert r.status_code == 200, r.text
    for n in [net, net3]:
        if n is net3:
            assert sf.call("DELETE", f"/networks/{n['uuid']}").status_code == 200
        gone = sf.wait_state(n["uuid"], "deleted")
        assert gone["floating_gateway"] is None
        check_gone(sf, n)
    assert not sf.dnsmasq_pids()
    made = sf.services.redis("HGETALL", f"{sf.redis_prefix}nn:{sf.node_name}:made").split()
    assert made == []
    # the gateways went back to the pool, into the deletion halo
    for n in [net, net3]:
        rec = sf.services.redis("HGET", f"{sf.redis_prefix}ipam:{{floating}}",
                                n["floating_gateway"])
        assert json.loads(rec)["type"] == "deletion-halo"
    print(f"\nPOST /networks -> created: {S['deploy_s']:.3f} s")
