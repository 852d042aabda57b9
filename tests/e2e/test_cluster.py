# SPDX-License-Identifier: Apache-2.0
"""ops/cluster.sh: the development cluster of network namespaces.

One cluster per module, under a prefix unique to the run. The tests run in file order: up and
its checks, up again, then down, down again, and down without the state file. A finalizer runs
`down` whatever happened.
"""
import json
import os
import subprocess
import time
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (ip netns)")

HYPERVISORS = 2
NN_MESH_IP = "198.18.0.2"
HV_MESH_IPS = ["198.18.0.11", "198.18.0.12"]
OUTSIDE_IP = "203.0.113.1"
NN_EGRESS_IP = "203.0.113.2"
FLOATING = "198.51.100.0/24"


def netns_names():
    """Names of the machine's named network namespaces (ip netns list)."""
    out = subprocess.run(["ip", "-j", "netns", "list"], check=True, capture_output=True,
                         text=True).stdout.strip()
    return {ns["name"] for ns in json.loads(out)} if out else set()


def ip_json(netns, *args):
    """`ip -j ARGS` in namespace NETNS (None: the machine's own namespace), parsed."""
    cmd = ["ip", "-j"] + (["-n", netns] if netns else []) + list(args)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    return json.loads(out) if out else []


def root_snapshot():
    """Links, addresses and routes of the machine's own namespace, without address lifetimes
    (a DHCP lease counts down between two reads)."""
    addrs = ip_json(None, "addr")
    for link in addrs:
        for a in link.get("addr_info", []):
            a.pop("valid_life_time", None)
            a.pop("preferred_life_time", None)
    return {"link": ip_json(None, "link"), "addr": addrs, "route": ip_json(None, "route")}


def ours(prefix):
    return {ns for ns in netns_names() if ns.startswith(prefix + "-")}


def expected_netns(prefix):
    return {f"{prefix}-{n}" for n in ["fabric", "nn", "outside", "hv1", "hv2"]}


def ping(netns, addr):
    """One ping from inside a cluster namespace; True when answered."""
    r = subprocess.run(["ip", "netns", "exec", netns, "ping", "-n", "-q", "-c1", "-W1", addr],
                       capture_output=True, text=True)
    return r.returncode == 0


def route_dev(netns, addr):
    return ip_json(netns, "route", "get", addr)[0]["dev"]


def ifindex(netns, dev):
    return ip_json(netns, "link", "show", "dev", dev)[0]["ifindex"]


@pytest.fixture(scope="module")
def cluster(request, cluster_sh, new_prefix):
    prefix = new_prefix()
    before = root_snapshot()

    def down():
        r = cluster_sh("down", prefix)
        assert r.returncode == 0, r.stdout + r.stderr
        assert not ours(prefix)

    request.addfinalizer(down)
    t0 = time.monotonic()
    up = cluster_sh("up", prefix, hypervisors=HYPERVISORS)
    up_seconds = time.monotonic() - t0
    print(f"cluster {prefix}: up in {up_seconds:.2f}s")
    r = cluster_sh("env", prefix)
    env = dict(line.split("=", 1) for line in r.stdout.splitlines())
    return SimpleNamespace(prefix=prefix, before=before, up=up, env=env,
                           nn=f"{prefix}-nn", outside=f"{prefix}-outside")


def test_up_creates_the_namespaces(cluster):
    assert cluster.up.returncode == 0, cluster.up.stdout + cluster.up.stderr
    assert ours(cluster.prefix) == expected_netns(cluster.prefix)


def test_env_names_the_nodes(cluster, cluster_sh):
    env = cluster.env
    assert env["SF_CLUSTER_PREFIX"] == cluster.prefix
    assert env["SF_NN_NETNS"] == cluster.nn
    assert env["SF_NN_MESH_IP"] == NN_MESH_IP
    for i, ip in enumerate(HV_MESH_IPS, 1):
        assert env[f"SF_HV{i}_NETNS"] == f"{cluster.prefix}-hv{i}"
        assert env[f"SF_HV{i}_MESH_IP"] == ip
    assert "SF_HV3_NETNS" not in env
    assert env["SF_EGRESS_NIC"] == "egress0"
    assert env["SF_FLOATING_NETWORK"] == FLOATING
    assert env["SF_OUTSIDE_NETNS"] == cluster.outside
    state = cluster_sh.state_file(cluster.prefix).read_text()
    assert state == cluster_sh("env", cluster.prefix).stdout


def test_nn_pings_hypervisors_over_the_underlay(cluster):
    for i, ip in enumerate(HV_MESH_IPS, 1):
        assert route_dev(cluster.nn, ip) == "mesh0"
        assert ping(cluster.nn, ip), f"nn -> hv{i} {ip}"
        assert ping(f"{cluster.prefix}-hv{i}", NN_MESH_IP), f"hv{i} -> nn"
    # an underlay address nobody holds does not answer
    assert not ping(cluster.nn, "198.18.0.99")


def test_nn_pings_outside_through_egress(cluster):
    assert route_dev(cluster.nn, OUTSIDE_IP) == "egress0"
    assert ping(cluster.nn, OUTSIDE_IP)
    # the internet host is on the outside's lo, off-link: reached through nn's default route
    host = cluster.env["SF_INTERNET_HOST"]
    lo = ip_json(cluster.outside, "addr", "show", "dev", "lo")[0]["addr_info"]
    assert host in [a.get("local") for a in lo]
    assert route_dev(cluster.nn, host) == "egress0"
    assert ping(cluster.nn, host)
    # hypervisors have no way out
    assert not ping(f"{cluster.prefix}-hv1", OUTSIDE_IP)


def test_outside_routes_the_floating_pool_to_nn(cluster):
    routes = ip_json(cluster.outside, "route", "show", FLOATING)
    assert [r["gateway"] for r in routes] == [NN_EGRESS_IP]


def test_forwarding_only_on_the_network_node(cluster):
    for ns in expected_netns(cluster.prefix):
        r = subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.ip_forward"],
                           check=True, capture_output=True, text=True)
        assert r.stdout.strip() == ("1" if ns == cluster.nn else "0"), ns


def test_root_namespace_untouched_by_up(cluster):
    assert root_snapshot() == cluster.before


def test_up_again_changes_nothing(cluster, cluster_sh):
    hv1 = f"{cluster.prefix}-hv1"
    mesh_before = ifindex(hv1, "mesh0")
    r = cluster_sh("up", cluster.prefix, hypervisors=HYPERVISORS)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ours(cluster.prefix) == expected_netns(cluster.prefix)
    assert ifindex(hv1, "mesh0") == mesh_before, "up recreated a device that was fine"
    assert ping(cluster.nn, HV_MESH_IPS[1])
    assert root_snapshot() == cluster.before


def test_status_reports_a_broken_underlay(cluster, cluster_sh):
    ok = cluster_sh("status", cluster.prefix)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    hv2 = f"{cluster.prefix}-hv2"
    subprocess.run(["ip", "-n", hv2, "link", "set", "mesh0", "down"], check=True)
    broken = cluster_sh("status", cluster.prefix)
    assert broken.returncode == 1
    assert "FAIL nn -> hv2" in broken.stdout
    repaired = cluster_sh("up", cluster.prefix, hypervisors=HYPERVISORS)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr


def test_down_removes_its_namespaces_and_nothing_else(cluster, cluster_sh, request):
    # namespaces that only look like ours
    decoys = [f"{cluster.prefix}-other", f"{cluster.prefix}0-nn"]
    for ns in decoys:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        request.addfinalizer(lambda ns=ns: subprocess.run(["ip", "netns", "del", ns]))
    t0 = time.monotonic()
    r = cluster_sh("down", cluster.prefix)
    print(f"cluster {cluster.prefix}: down in {time.monotonic() - t0:.2f}s")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ours(cluster.prefix) == {f"{cluster.prefix}-other"}
    assert set(decoys) <= netns_names()
    assert not cluster_sh.state_file(cluster.prefix).exists()
    assert root_snapshot() == cluster.before


def test_down_again_is_fine(cluster, cluster_sh):
    r = cluster_sh("down", cluster.prefix)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not ours(cluster.prefix)


def test_down_without_state_file(cluster, cluster_sh):
    r = cluster_sh("up", cluster.prefix, hypervisors=3)
    assert r.returncode == 0, r.stdout + r.stderr
    cluster_sh.state_file(cluster.prefix).unlink()
    r = cluster_sh("down", cluster.prefix)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not ours(cluster.prefix)
    assert root_snapshot() == cluster.before
