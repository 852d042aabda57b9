# SPDX-License-Identifier: Apache-2.0
"""sf-submit against the real workers (issue 7): a cluster with sf-api, sf-networknode and two
sf-hypervisors, as the hvnet fixture of conftest.py builds, except that the reconcilers run only
at start (a period of an hour), so every repair seen here was made by the job sf-submit sent.

Checked: --help lists every job type and argument of the schema; usage errors exit 2;
network.deploy, network.dhcp_hosts, node.reconcile (routed by the node's role) and
network.destroy reach their worker, end "done" and have their effect in the kernel; network
names resolve, ambiguous ones are refused; a job for an object that does not exist fails with an
error event and changes nothing; invalid messages published straight onto the queue are
dead-lettered while the worker carries on; --wait times out with exit 3; a request job prints
its answer; GET /jobs shows the jobs, newest first.
"""
import json
import os
import re
import subprocess
import time
import uuid as uuidlib
from pathlib import Path

import pika
import pytest

from conftest import REPO, SCHEMA_DIR, SF_HV_BIN, Daemon, HvNet, _read_env, run, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (ip netns)")

SF_SUBMIT_BIN = Path(os.environ.get("SF_SUBMIT_BIN", REPO / "build-test" / "sf-submit"))
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
S = {}  # what the tests pass on to each other


class QuietHvNet(HvNet):
    """HvNet whose reconcilers run at start only."""

    def __init__(self, services, cluster, tag):
        super().__init__(services, cluster, tag)
        self.nn_env["SF_RECONCILE_S"] = "3600"

    def start_hv(self, name):
        self.hv_runs += 1
        env = dict(self.nn_env, SF_NODE_NAME=name, SF_NODE_NETNS=self.hv_netns(name),
                   SF_NODE_MESH_NIC=self.cluster["SF_MESH_NIC"],
                   SF_NODE_MESH_IP=self.hv_mesh_ip(name), SF_RECONCILE_S="3600",
                   SF_STRAY_GRACE_S="2", SF_NODE_HEARTBEAT_S="2")
        self.hvs[name] = Daemon(f"sf-hypervisor-e2e-{self.tag}-{name}-{self.hv_runs}",
                                SF_HV_BIN, env).start()
        return self.hvs[name]


@pytest.fixture(scope="module")
def sub(services, cluster_sh, new_prefix):
    """As conftest's hvnet, with QuietHvNet."""
    prefix = new_prefix()
    tag = prefix[3:]
    res = cluster_sh("up", prefix, hypervisors=len(HvNet.HYPERVISORS))
    net = None
    try:
        assert res.returncode == 0, f"cluster up failed:\n{res.stdout}{res.stderr}"
        net = QuietHvNet(services, _read_env(cluster_sh.state_file(prefix)), tag)
        services.ctl("add_vhost", net.vhost)
        services.ctl("set_permissions", "-p", net.vhost, "guest", ".*", ".*", ".*")
        net.api.start()
        net.wait_api()
        net.start_nn()
        for name in HvNet.HYPERVISORS:
            net.start_hv(name)
        net.wait_registered()
        yield net
        rcs = {d.name: (d.stop(), d) for d in [net.api, net.nn, *net.hvs.values()]}
        for name, (rc, d) in rcs.items():
            assert rc == 0, f"{name} exited with {rc}:\n{d.log_tail()}"
    finally:
        if net:
            for d in [net.api, net.nn, *net.hvs.values()]:
                if d and d.proc and d.proc.poll() is None:
                    d.proc.kill()
            net.remove_leftovers()
            keys = [k for k in services.redis("--scan", "--pattern",
                                              net.redis_prefix + "*").split() if k]
            for i in range(0, len(keys), 500):
                services.redis("DEL", *keys[i:i + 500])
            subprocess.run(services.rabbitmqctl + ["delete_vhost", net.vhost],
                           capture_output=True, timeout=120)
        cluster_sh("down", prefix)


# ---- helpers ---------------------------------------------------------------------------------

def submit(sf, *args, timeout=120):
    """Run sf-submit against the fixture's Redis and RabbitMQ (sf None: the defaults, no
    service needed)."""
    if not SF_SUBMIT_BIN.exists():
        pytest.exit(f"{SF_SUBMIT_BIN} is missing: make BUILD=test all", returncode=2)
    env = dict(os.environ, SF_SCHEMA_DIR=str(SCHEMA_DIR))
    if sf:
        env.update(SF_REDIS_URL=sf.services.redis_url, SF_REDIS_PREFIX=sf.redis_prefix,
                   SF_AMQP_URL=sf.amqp_url)
    return subprocess.run([str(SF_SUBMIT_BIN), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def submitted_id(res):
    """The job id sf-submit printed first."""
    first = res.stdout.splitlines()[0] if res.stdout else ""
    assert UUID_RE.match(first), f"no job id: {res.stdout!r} {res.stderr!r}"
    return first


def job(sf, job_id):
    r = sf.call("GET", f"/jobs/{job_id}")
    assert r.status_code == 200, r.text
    return r.json()


def hx(vxid):
    return f"{vxid:06x}"


def link_names(sf, netns):
    return {e["ifname"] for e in sf.ip_json(netns, "link", "show")}


def job_log(daemon, job_id):
    """The log lines the daemon wrote while it ran the job (the job id is in their context)."""
    return [line for line in daemon.log_path.read_text(errors="replace").splitlines()
            if f"job={job_id}" in line]


def stream_messages(sf, object_type, uuid):
    out = sf.services.redis("XRANGE", f"{sf.redis_prefix}events:{object_type}:{uuid}", "-", "+")
    return out


def create_network(sf, name, netblock, namespace=None):
    body = {"netblock": netblock, "name": name, "provide_nat": False}
    if namespace:
        body["namespace"] = namespace
    r = sf.call("POST", "/networks", body)
    assert r.status_code == 200, r.text
    net = r.json()
    sf.wait_state(net["uuid"], "created", timeout=60)
    return sf.network(net["uuid"])


def publish_raw(sf, body, routing_key="networknode", message_id=None):
    conn = pika.BlockingConnection(pika.URLParameters(sf.amqp_url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.basic_publish("sf.jobs", routing_key, body,
                         pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                              message_id=message_id), mandatory=True)
    finally:
        conn.close()


def queue_depth(sf, queue):
    conn = pika.BlockingConnection(pika.URLParameters(sf.amqp_url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


# ---- without services ------------------------------------------------------------------------

def test_help_lists_every_job_type_with_its_arguments():
    res = submit(None, "--help")
    assert res.returncode == 0, res.stderr
    schema = json.loads((SCHEMA_DIR / "jobs" / "job.json").read_text())
    types = schema["definitions"]["envelope"]["properties"]["type"]["enum"]
    assert len(types) >= 12
    for t in ["network.deploy", "network.destroy", "node.reconcile", "network.dhcp_hosts"]:
        assert t in types
    blocks = re.split(r"\n  (?=[a-z]+\.[a-z_]+\n)", res.stdout.split("Job types")[1])
    by_type = {b.split("\n")[0].strip(): b for b in blocks[1:]}
    assert sorted(by_type) == sorted(types)
    for t in types:
        d = schema["definitions"][t]
        assert d["description"] in by_type[t]
        args = d["properties"]["args"]
        for name, spec in args.get("properties", {}).items():
            line = [ln for ln in by_type[t].splitlines() if f"args.{name} (" in ln]
            assert len(line) == 1, (t, name)
            assert spec["description"] in line[0]
            assert ("required" in line[0]) == (name in args.get("required", [])), line[0]
            assert spec["type"] in line[0]
        if not args.get("properties"):
            assert "args: none" in by_type[t]


@pytest.mark.parametrize("args,message", [
    (["network.nosuch", "--network", str(uuidlib.uuid4())], "unknown job type"),
    (["network.deploy"], "needs --network"),
    (["interface.plug"], "needs --interface"),
    (["node.reconcile"], "needs --node"),
    (["network.deploy", "--network", str(uuidlib.uuid4()), "--args", "{"], "--args"),
    (["network.route", "--network", str(uuidlib.uuid4())], "invalid job"),
    (["network.route", "--network", str(uuidlib.uuid4()), "--args", '{"address": "x"}'],
     "invalid job"),
    (["network.deploy", "--network", str(uuidlib.uuid4()), "--wait=soon"], "--wait"),
    (["network.deploy", "--network", str(uuidlib.uuid4()), "--wait", "0"], "--wait"),
    (["network.deploy", "--network", str(uuidlib.uuid4()), "extra"], "unexpected argument"),
    ([], "either a job TYPE or --file"),
])
def test_usage_errors_exit_2(args, message):
    res = submit(None, *args)
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert message in res.stderr
    assert res.stdout == ""


# ---- on the cluster ---------------------------------------------------------------------------

def test_deploy_by_name_waits_until_done(sub):
    sf = sub
    net = create_network(sf, f"sub-{sf.tag}", "10.93.0.0/24")
    S["net"] = net
    x = hx(net["vxlan_id"])
    run("ip", "-n", sf.nn_netns, "link", "del", f"br-vxlan-{x}")
    time.sleep(1)
    assert f"br-vxlan-{x}" not in link_names(sf, sf.nn_netns)  # nothing else repairs it

    res = submit(sf, "network.deploy", "--network", net["name"], "--wait", "60")
    assert res.returncode == 0, res.stderr
    job_id = submitted_id(res)
    assert f"job {job_id} done on {sf.node_name}" in res.stderr
    assert f"br-vxlan-{x}" in link_names(sf, sf.nn_netns)
    assert any("converged" in line for line in job_log(sf.nn, job_id))
    rec = job(sf, job_id)
    assert rec["state"] == "done" and rec["type"] == "network.deploy"
    assert rec["object"] == {"type": "network", "uuid": net["uuid"]}
    assert rec["node"] == sf.node_name and rec["attempts"] == 1 and rec["error"] is None
    assert rec["queued_at"] <= rec["started_at"] <= rec["finished_at"]


def test_dhcp_hosts_rewrites_the_hosts_file(sub):
    sf, net = sub, S["net"]
    inst = f"{sf.prefix}-i1"
    sf.add_netns(inst)
    r = sf.call("POST", "/interfaces", {"network_uuid": net["uuid"], "node": "hv1",
                                        "instance_uuid": str(uuidlib.uuid4()), "kind": "veth",
                                        "netns": inst})
    assert r.status_code == 200, r.text
    iface = r.json()
    S["iface"] = iface
    hosts = sf.storage_dir / "dhcp" / net["uuid"] / "hosts"
    wait_for(lambda: hosts.exists() and iface["macaddr"] in hosts.read_text(), 30,
             "the interface in the dhcp hosts file")
    good = hosts.read_text()
    hosts.write_text("")
    time.sleep(1)
    assert hosts.read_text() == ""

    res = submit(sf, "network.dhcp_hosts", "--network", net["uuid"], "--wait", "60")
    assert res.returncode == 0, res.stderr
    assert hosts.read_text() == good
    rec = job(sf, submitted_id(res))
    assert rec["state"] == "done" and rec["node"] == sf.node_name


def test_node_reconcile_goes_to_the_node_by_its_role(sub):
    sf, net = sub, S["net"]
    x = hx(net["vxlan_id"])
    hv1 = sf.hv_netns("hv1")
    wait_for(lambda: f"vxlan-{x}" in link_names(sf, hv1), 30, "the network on hv1")

    for node, key in [("hv1", "hypervisor.hv1"), (sf.node_name, "networknode")]:
        res = submit(sf, "node.reconcile", "--node", node, "--dry-run")
        assert res.returncode == 0, res.stderr
        assert f"routing key '{key}'" in res.stderr
        assert json.loads(res.stdout)["object"] == {"type": "node", "uuid": node}

    run("ip", "-n", hv1, "link", "del", f"vxlan-{x}")
    time.sleep(1)
    assert f"vxlan-{x}" not in link_names(sf, hv1)
    res = submit(sf, "node.reconcile", "--node", "hv1", "--wait", "60")
    assert res.returncode == 0, res.stderr
    assert f"vxlan-{x}" in link_names(sf, hv1)
    rec = job(sf, submitted_id(res))
    assert rec["state"] == "done" and rec["node"] == "hv1"
    assert job_log(sf.hvs["hv1"], rec["job"])

    run("ip", "-n", sf.nn_netns, "link", "del", f"veth-{x}-o")
    res = submit(sf, "node.reconcile", "--node", sf.node_name, "--wait", "60")
    assert res.returncode == 0, res.stderr
    assert f"veth-{x}-o" in link_names(sf, sf.nn_netns)
    rec = job(sf, submitted_id(res))
    assert rec["state"] == "done" and rec["node"] == sf.node_name

    # a network-node-only job cannot go to a hypervisor; an unknown node is refused
    res = submit(sf, "network.dhcp_hosts", "--network", net["uuid"], "--node", "hv1")
    assert res.returncode == 2 and "is a hypervisor" in res.stderr
    res = submit(sf, "node.reconcile", "--node", "nosuch", "--wait", "5")
    assert res.returncode == 1 and "not in the node registry" in res.stderr
    assert res.stdout == ""


def test_interface_job_goes_to_the_interfaces_node(sub):
    sf, iface = sub, S["iface"]
    res = submit(sf, "interface.plug", "--interface", iface["uuid"], "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "routing key 'hypervisor.hv1'" in res.stderr
    res = submit(sf, "interface.plug", "--interface", iface["uuid"], "--wait", "60")
    assert res.returncode == 0, res.stderr
    assert job(sf, submitted_id(res))["node"] == "hv1"


def test_ambiguous_network_name(sub):
    sf = sub
    nets = []
    for i in (1, 2):
        ns = f"sub-{sf.tag}-{i}"
        r = sf.call("POST", "/auth/namespaces", {"namespace": ns, "key_name": "k",
                                                 "key": "k-" + sf.tag})
        assert r.status_code == 200, r.text
        nets.append(create_network(sf, "twin", f"10.93.{i}.0/24", namespace=ns))
    res = submit(sf, "network.dhcp_hosts", "--network", "twin", "--dry-run")
    assert res.returncode == 1
    assert "ambiguous" in res.stderr
    for n in nets:
        assert n["uuid"] in res.stderr and n["namespace"] in res.stderr
    res = submit(sf, "network.dhcp_hosts", "--network", "twin", "--namespace",
                 nets[1]["namespace"], "--wait", "60")
    assert res.returncode == 0, res.stderr
    assert job(sf, submitted_id(res))["object"]["uuid"] == nets[1]["uuid"]
    res = submit(sf, "network.dhcp_hosts", "--network", "nosuch-" + sf.tag)
    assert res.returncode == 1 and "no active network is named" in res.stderr
    S["twins"] = nets


def test_job_for_a_missing_object_fails_and_changes_nothing(sub):
    sf = sub
    ghost = str(uuidlib.uuid4())
    keys_before = set(sf.services.redis("--scan", "--pattern", sf.redis_prefix + "*").split())
    res = submit(sf, "network.deploy", "--network", ghost, "--wait", "60")
    assert res.returncode == 1, res.stderr
    job_id = submitted_id(res)
    assert f"network {ghost} does not exist" in res.stderr
    rec = job(sf, job_id)
    assert rec["state"] == "failed" and rec["error"] == f"network {ghost} does not exist"
    wait_for(lambda: "job network.deploy failed" in stream_messages(sf, "network", ghost), 30,
             "the error event")
    assert not os.path.exists(f"/run/netns/{ghost}")
    keys_after = set(sf.services.redis("--scan", "--pattern", sf.redis_prefix + "*").split())
    # the job's status, and the recorder's dedup keys of events (usage events keep coming)
    new = {k for k in keys_after - keys_before
           if not k.startswith((sf.redis_prefix + "job", sf.redis_prefix + "event-seen:"))}
    assert new == {f"{sf.redis_prefix}events:network:{ghost}"}, new

    ghost_if = str(uuidlib.uuid4())
    res = submit(sf, "interface.plug", "--interface", ghost_if, "--node", "hv2", "--wait", "60")
    assert res.returncode == 1
    assert f"interface {ghost_if} does not exist" in res.stderr
    assert job(sf, submitted_id(res))["node"] == "hv2"
    res = submit(sf, "interface.plug", "--interface", ghost_if)
    assert res.returncode == 1 and "give --node" in res.stderr
    res = submit(sf, "interface.float", "--interface", ghost_if, "--wait", "60")
    assert res.returncode == 1
    assert f"interface {ghost_if} does not exist" in res.stderr
    for args in (["network.dhcp_hosts", "--network", ghost],
                 ["network.route", "--network", ghost, "--args", '{"address": "198.51.100.9"}']):
        res = submit(sf, *args, "--wait", "60")
        assert res.returncode == 1 and f"network {ghost} does not exist" in res.stderr, args
    # removals of what is gone are done: they may arrive after a purge
    for args in (["network.destroy", "--network", ghost],
                 ["interface.defloat", "--interface", ghost_if],
                 ["interface.unplug", "--interface", ghost_if, "--node", "hv1"]):
        res = submit(sf, *args, "--wait", "60")
        assert res.returncode == 0, (args, res.stderr)
    assert not os.path.exists(f"/run/netns/{ghost}")


def test_invalid_messages_are_dead_lettered(sub):
    sf, net = sub, S["net"]
    dead_before = queue_depth(sf, "sf.jobs.dead")
    publish_raw(sf, b"{oops", message_id="raw-1")
    bad = str(uuidlib.uuid4())
    publish_raw(sf, json.dumps({
        "job": bad, "type": "network.route", "version": 1,
        "object": {"type": "network", "uuid": net["uuid"]}, "args": {"address": "x"},
        "request_id": None, "submitted_at": time.time()}).encode(), message_id=bad)
    wait_for(lambda: queue_depth(sf, "sf.jobs.dead") == dead_before + 2, 30,
             "two dead-lettered messages")
    assert sf.nn.proc.poll() is None
    wait_for(lambda: "malformed job message" in stream_messages(sf, "network", net["uuid"]),
             30, "the event on the network")
    wait_for(lambda: "raw-1" in stream_messages(sf, "node", sf.node_name), 30,
             "the event on the node")
    rec = job(sf, bad)
    assert rec["state"] == "dead" and "address" in rec["error"], rec
    # the worker carries on
    res = submit(sf, "network.dhcp_hosts", "--network", net["uuid"], "--wait", "60")
    assert res.returncode == 0, res.stderr


def test_wait_times_out_with_3(sub):
    sf = sub
    sf.register_hypervisor("hvq", "198.18.0.99")  # registered, with a queue nobody consumes
    t0 = time.monotonic()
    res = submit(sf, "node.reconcile", "--node", "hvq", "--wait", "2")
    assert res.returncode == 3, res.stderr
    assert 2 <= time.monotonic() - t0 < 30
    assert "still queued after 2 s" in res.stderr
    assert job(sf, submitted_id(res))["state"] == "queued"


def test_request_job_prints_the_answer(sub):
    sf, net = sub, S["net"]
    gateway = net["netblock"].split("/")[0].rsplit(".", 1)[0] + ".1"
    res = submit(sf, "network.ping", "--network", net["uuid"], "--args",
                 json.dumps({"address": gateway, "count": 1}), "--wait", "60")
    assert res.returncode == 0, res.stderr
    assert submitted_id(res)
    answer = json.loads(res.stdout.splitlines()[1])
    assert "error" not in answer, answer
    assert any(" 0% packet loss" in line for line in answer["stdout"]), answer


def test_destroy_tears_the_network_down(sub):
    sf = sub
    twin = S["twins"][0]
    assert os.path.exists(f"/run/netns/{twin['uuid']}")
    res = submit(sf, "network.destroy", "--network", twin["uuid"], "--wait", "60")
    assert res.returncode == 0, res.stderr
    assert sf.network(twin["uuid"])["state"] == "deleted"
    assert not os.path.exists(f"/run/netns/{twin['uuid']}")


def test_jobs_api_lists_them_newest_first(sub):
    sf = sub
    r = sf.call("GET", "/jobs", {"limit": 500})
    assert r.status_code == 200, r.text
    jobs = r.json()
    # indexed by queued_at; a message that was no job has none: by the time of its record
    queued = [j["queued_at"] or j["finished_at"] for j in jobs]
    assert queued == sorted(queued, reverse=True)
    types = {j["type"] for j in jobs}
    assert {"network.deploy", "network.dhcp_hosts", "node.reconcile", "network.destroy",
            "interface.plug", "network.ping"} <= types
    r = sf.call("GET", "/jobs", {"limit": 2})
    assert [j["job"] for j in r.json()] == [j["job"] for j in jobs[:2]]
