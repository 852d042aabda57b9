# SPDX-License-Identifier: Apache-2.0
"""Interfaces (spec 1.6), the instance endpoints (spec 1.7) and the port-binding call
POST/DELETE /interfaces (ARCHITECTURE.md section 5).

No worker runs here (the API layer reads the jobs a call publishes off the queues). Two fixtures
stand in for the workers' writes to Redis, each clearly named and limited to one record:
- `registered_node` writes a node registry entry as sf_node_heartbeat() does. The real
  sf-hypervisor registers itself, but it also consumes sf.jobs.hypervisor.<node> (the jobs these
  tests must read) and plugs into its node namespace, the machine's own by default, so it
  cannot run in this layer;
- `deployed_network` marks a network "created", standing in for the network node's deploy.
  Only created networks take interfaces.
"""
import json
import subprocess
import threading
import time
import uuid

import pytest

RANGE_MSG = "network specification requests an address outside the range of the network"


def redis_cli(api, *args):
    out = subprocess.run(["redis-cli", "-u", api.redis_url, *args], check=True,
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def registered_node(api):
    """Factory: register(name, ttl_s) writes the node registry entry of a hypervisor exactly as
    sf_node_heartbeat() does (shared/redis-layout.md: the expiring hash node:<name> and the
    nodes record). It stands in for the heartbeat of sf-hypervisor, which cannot run in this
    layer (see the module docstring); the state is "up" for ttl_s, then "missing"."""
    def register(name, ttl_s=3600):
        now = "%.6f" % time.time()
        rec = {"name": name, "role": "hypervisor", "mesh_ip": "198.18.0.101",
               "version": "api-test", "last_seen": float(now)}
        key = "%snode:%s" % (api.redis_prefix, name)
        redis_cli(api, "HSET", key, "name", name, "role", rec["role"], "mesh_ip",
                  rec["mesh_ip"], "version", rec["version"], "last_seen", now)
        redis_cli(api, "EXPIRE", key, str(ttl_s))
        redis_cli(api, "HSET", api.redis_prefix + "nodes", name, json.dumps(rec))
        return name
    return register


@pytest.fixture(scope="module")
def hv1(api, registered_node):
    api.jobs("hypervisor.hv1", timeout=0.2)  # start from an empty queue
    return registered_node("hv1")


@pytest.fixture
def deployed_network(api):
    """Factory: POST /networks as `client`, then mark the network "created" in Redis (the hash
    network:{<uuid>}, field state; shared/redis-layout.md). This stands in for the network
    node's deploy; nothing else of the network node is imitated."""
    def make(client, netblock="10.77.0.0/24", name=None):
        r = client.post("/networks", {"netblock": netblock, "name": name or "net-" + rand(),
                                      "provide_dhcp": True, "provide_nat": True,
                                      "namespace": None})
        assert r.status_code == 200, r.text
        net = r.json()
        redis_cli(api, "HSET", "%snetwork:{%s}" % (api.redis_prefix, net["uuid"]),
                  "state", "created")
        assert client.get("/networks/" + net["uuid"]).json()["state"] == "created"
        api.jobs("networknode", timeout=0.2)  # drop the deploy job: tests read their own
        return net
    return make


def rand():
    return uuid.uuid4().hex[:8]


def plug(client, net, node="hv1", **extra):
    body = {"network_uuid": net["uuid"] if isinstance(net, dict) else net,
            "instance_uuid": extra.pop("instance_uuid", str(uuid.uuid4())), "node": node}
    body.update(extra)
    return client.post("/interfaces", body)


def plugged(client, net, **extra):
    r = plug(client, net, **extra)
    assert r.status_code == 200, r.text
    return r.json()


def error(r, status, message=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == status
    if message is not None:
        assert body["error"] == message
    return body["error"]


def job_types(jobs):
    return sorted((j["type"], j["object"]["uuid"]) for j in jobs)


def assert_no_jobs(api):
    assert api.jobs("hypervisor.hv1", timeout=0.3) == []
    assert api.jobs("networknode", timeout=0.3) == []


def ip_int(a):
    p = [int(x) for x in a.split(".")]
    return ((p[0] * 256 + p[1]) * 256 + p[2]) * 256 + p[3]


# ---- POST /interfaces ----------------------------------------------------------------------

def test_plug_defaults(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.77.0.0/24")
    inst = str(uuid.uuid4())
    view = plugged(tenant, net, instance_uuid=inst)
    assert set(view) == {"uuid", "network_uuid", "instance_uuid", "macaddr", "ipv4", "order",
                         "model", "floating", "state", "metadata", "version"}
    assert view["network_uuid"] == net["uuid"]
    assert view["instance_uuid"] == inst
    assert view["macaddr"].startswith("02:00:00:") and len(view["macaddr"]) == 17
    assert ip_int("10.77.0.2") <= ip_int(view["ipv4"]) <= ip_int("10.77.0.254")
    assert view["order"] == 0
    assert view["model"] == "virtio"
    assert view["floating"] is None
    assert view["state"] == "initial"
    assert view["metadata"] == {}
    assert view["version"] == 3
    assert tenant.get("/interfaces/" + view["uuid"]).json() == view

    hv = api.jobs("hypervisor.hv1")
    assert job_types(hv) == [("interface.plug", view["uuid"])]
    assert hv[0]["object"]["type"] == "networkinterface"
    assert job_types(api.jobs("networknode")) == [("network.dhcp_hosts", net["uuid"])]


def test_plug_by_name_with_everything(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.78.0.0/24", name="named-" + rand())
    view = plugged(tenant, net["name"], address="10.78.0.50", macaddress="02:AB:CD:00:11:22",
                   order=3, model="e1000", kind="veth", netns="inst-" + rand())
    assert view["network_uuid"] == net["uuid"]
    assert view["ipv4"] == "10.78.0.50"
    assert view["macaddr"] == "02:ab:cd:00:11:22"
    assert view["order"] == 3
    assert view["model"] == "e1000"
    assert job_types(api.jobs("hypervisor.hv1")) == [("interface.plug", view["uuid"])]
    api.jobs("networknode")


@pytest.mark.parametrize("none", ["none", "None", "NONE", ""])
def test_plug_without_address(api, tenant, hv1, deployed_network, none):
    net = deployed_network(tenant, "10.79.0.0/24")
    view = plugged(tenant, net, address=none)
    assert view["ipv4"] is None
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")


def test_plug_order_follows_the_instance(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.80.0.0/24")
    inst = str(uuid.uuid4())
    orders = [plugged(tenant, net, instance_uuid=inst)["order"] for _ in range(3)]
    assert orders == [0, 1, 2]
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")


def test_plug_float(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.81.0.0/24")
    view = plugged(tenant, net, float=True)
    assert view["floating"] is not None
    ip_int(view["floating"])
    assert tenant.get("/interfaces/" + view["uuid"]).json()["floating"] == view["floating"]
    assert job_types(api.jobs("hypervisor.hv1")) == [("interface.plug", view["uuid"])]
    nn = api.jobs("networknode")
    assert job_types(nn) == sorted([("interface.float", view["uuid"]),
                                    ("network.dhcp_hosts", net["uuid"])])
    fl = [j for j in nn if j["type"] == "interface.float"][0]
    assert fl["args"] == {"floating_address": view["floating"]}


def test_system_plugs_for_a_tenant(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.82.0.0/24")
    # system's own namespace is the instance's by default: a tenant network is not in it
    error(plug(api.system, net), 404, "network %s does not exist" % net["uuid"])
    view = plugged(api.system, net, namespace=tenant.namespace)
    assert tenant.get("/interfaces/" + view["uuid"]).status_code == 200
    error(plug(api.system, net, namespace="nosuch-" + rand()), 404, "namespace not found")
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")


# The networkspec checks of spec 1.7 and ours; each must leave nothing behind.
def test_plug_errors(api, tenant, new_client, hv1, deployed_network):
    net = deployed_network(tenant, "10.83.0.0/24", name="dup-" + rand())
    other = deployed_network(tenant, "10.84.0.0/24", name=net["name"])
    fresh = tenant.post("/networks", {"netblock": "10.85.0.0/24", "name": None,
                                      "provide_dhcp": True, "provide_nat": True,
                                      "namespace": None}).json()
    api.jobs("networknode")
    ns2 = "t2-" + rand()
    assert api.system.post("/auth/namespaces", {"namespace": ns2, "key_name": "k",
                                                "key": "secret2"}).status_code == 200
    tenant2 = new_client(ns2, "secret2")
    net2 = deployed_network(tenant2, "10.86.0.0/24")
    missing = str(uuid.uuid4())
    nosuch = "nosuch-" + rand()
    inst = str(uuid.uuid4())

    # (change to a valid body, status, message); message None: a schema error naming the field
    cases = [
        ({"network_uuid": None}, 400, "network specification is missing network_uuid"),
        ({"network_uuid": ""}, 400, "network specification is missing network_uuid"),
        ({"network_uuid": missing}, 404, "network %s not found" % missing),
        ({"network_uuid": nosuch}, 404, "network %s not found" % nosuch),
        ({"network_uuid": net["name"]}, 400,
         'multiple networks have the name "%s" in namespace "%s"'
         % (net["name"], tenant.namespace)),
        ({"address": "10.0.0.5"}, 400, RANGE_MSG),
        ({"address": "banana"}, 400, "address banana is not an IPv4 address"),
        ({"address": "10.83.0.300"}, 400, "address 10.83.0.300 is not an IPv4 address"),
        ({"address": "fe80::1"}, 400, "address fe80::1 is not an IPv4 address"),
        ({"network_uuid": fresh["uuid"]}, 406,
         "network %s is not ready (initial)" % fresh["uuid"]),
        ({"network_uuid": net2["uuid"]}, 404, "network %s does not exist" % net2["uuid"]),
        # another tenant's network is 404 before its range or state is looked at
        ({"network_uuid": net2["uuid"], "address": "10.0.0.1"}, 404,
         "network %s does not exist" % net2["uuid"]),
        ({"address": "10.83.0.1"}, 409, "address 10.83.0.1 in use"),
        ({"address": "10.83.0.0"}, 409, "address 10.83.0.0 in use"),
        ({"address": "10.83.0.255"}, 409, "address 10.83.0.255 in use"),
        ({"node": "nosuch"}, 404, "node nosuch not found"),
        ({"kind": "veth"}, 400, "netns is required for kind veth"),
        ({"netns": "x"}, 400, "netns is only valid for kind veth"),
        ({"macaddress": "03:00:00:00:00:01"}, 400,
         "mac address 03:00:00:00:00:01 is not unicast"),
        ({"namespace": ns2}, 401, "only admins can create resources in a different namespace"),
        ({"instance_uuid": "not-a-uuid"}, 400, None),
        ({"instance_uuid": None}, 400, None),
        ({"node": None}, 400, None),
        ({"node": "bad/name"}, 400, None),
        ({"macaddress": "02:00:00:00:00"}, 400, None),
        ({"order": -1}, 400, None),
        ({"order": "1"}, 400, None),
        ({"float": "yes"}, 400, None),
        ({"kind": "bridge"}, 400, None),
        ({"model": "x" * 40}, 400, None),
        ({"netns": "../x", "kind": "veth"}, 400, None),
        ({"address": 5}, 400, None),
        ({"foo": 1}, 400, None),
    ]
    for change, status, message in cases:
        body = {"network_uuid": net["uuid"], "instance_uuid": inst, "node": "hv1"}
        body.update(change)
        msg = error(tenant.post("/interfaces", body), status, message)
        if message is None:
            assert msg.startswith("/"), (change, msg)
    # missing required members
    error(tenant.post("/interfaces", {"network_uuid": net["uuid"], "node": "hv1"}), 400)
    error(tenant.post("/interfaces", {"network_uuid": net["uuid"], "instance_uuid": inst}), 400)
    error(tenant.post("/interfaces", raw=b"{not json"), 400)
    error(tenant.post("/interfaces", [1, 2]), 400)

    assert tenant.get("/instances/%s/interfaces" % inst).status_code == 404
    assert tenant.get("/networks/%s/interfaces" % net["uuid"]).json() == []
    assert_no_jobs(api)
    assert other["uuid"] != net["uuid"]


def test_plug_conflicts(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.87.0.0/24")
    first = plugged(tenant, net, address="10.87.0.9", macaddress="02:00:00:87:00:09")
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    error(plug(tenant, net, address="10.87.0.9"), 409, "address 10.87.0.9 in use")
    error(plug(tenant, net, macaddress="02:00:00:87:00:09"), 409,
          "mac address 02:00:00:87:00:09 in use")
    # the MAC is unique cluster-wide, not per network
    other = deployed_network(tenant, "10.88.0.0/24")
    error(plug(tenant, other, macaddress="02:00:00:87:00:09"), 409,
          "mac address 02:00:00:87:00:09 in use")
    assert_no_jobs(api)
    assert [i["uuid"] for i in tenant.get("/networks/%s/interfaces" % net["uuid"]).json()] \
        == [first["uuid"]]


def test_full_network_507(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.89.0.0/29")  # 8 addresses: .0 .1 .7 are reserved
    got = {plugged(tenant, net)["ipv4"] for _ in range(5)}
    assert got == {"10.89.0.%d" % i for i in range(2, 7)}
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    error(plug(tenant, net), 507, "No free addresses on network")
    assert_no_jobs(api)


def test_dead_network_409(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.90.0.0/24")
    plugged(tenant, net)
    assert tenant.delete("/networks/" + net["uuid"]).status_code == 200  # -> delete-wait
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    state = tenant.get("/networks/" + net["uuid"]).json()["state"]
    assert state == "delete-wait"
    error(plug(tenant, net), 409, "network %s is not usable (delete-wait)" % net["uuid"])
    assert_no_jobs(api)


def test_concurrent_plugs_unique(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.91.0.0/24")
    results, failures = [], []

    def worker():
        for _ in range(30):
            r = plug(tenant, net)
            (results if r.status_code == 200 else failures).append(r)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [f.text for f in failures] == []
    views = [r.json() for r in results]
    assert len(views) == 60
    assert len({v["ipv4"] for v in views}) == 60
    assert len({v["macaddr"] for v in views}) == 60
    assert len(api.jobs("hypervisor.hv1", timeout=3)) == 60
    api.jobs("networknode")


# ---- the interface endpoints ---------------------------------------------------------------

def test_get_unknown(tenant):
    error(tenant.get("/interfaces/" + str(uuid.uuid4())), 404, "interface not found")
    error(tenant.get("/interfaces/not-a-uuid"), 404, "interface not found")


def test_float_and_defloat(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.92.0.0/24")
    view = plugged(tenant, net)
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    u = view["uuid"]

    # defloating a non-floating interface is a no-op
    r = tenant.post("/interfaces/%s/defloat" % u)
    assert r.status_code == 200 and r.json() is None
    assert_no_jobs(api)

    r = tenant.post("/interfaces/%s/float" % u)
    assert r.status_code == 200 and r.json() is None
    floating = tenant.get("/interfaces/" + u).json()["floating"]
    assert floating is not None
    jobs = api.jobs("networknode")
    assert job_types(jobs) == [("interface.float", u)]
    assert jobs[0]["args"] == {"floating_address": floating}
    addresses = {a["address"]: a for a in
                 api.system.get("/networks/floating/addresses").json()}
    assert addresses[floating]["type"] == "floating"
    assert addresses[floating]["user"] == ["networkinterface", u]

    error(tenant.post("/interfaces/%s/float" % u), 409, "interface is already floating")
    assert tenant.get("/interfaces/" + u).json()["floating"] == floating

    r = tenant.post("/interfaces/%s/defloat" % u)
    assert r.status_code == 200 and r.json() is None
    assert job_types(api.jobs("networknode")) == [("interface.defloat", u)]
    # the network node releases the address and clears it; no worker runs here
    assert tenant.get("/interfaces/" + u).json()["floating"] == floating
    assert api.jobs("hypervisor.hv1", timeout=0.3) == []
    error(tenant.post("/interfaces/%s/float" % u, {"x": 1}), 400)


def test_metadata(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.93.0.0/24")
    u = plugged(tenant, net)["uuid"]
    base = "/interfaces/%s/metadata" % u
    assert tenant.get(base).json() == {}
    r = tenant.put(base + "/colour", {"value": "blue"})
    assert r.status_code == 200 and r.json() is None
    r = tenant.post(base, {"key": "size", "value": {"a": [1, 2]}})
    assert r.status_code == 200 and r.json() is None
    assert tenant.get(base).json() == {"colour": "blue", "size": {"a": [1, 2]}}
    assert tenant.put(base + "/colour", {"value": 7}).status_code == 200
    assert tenant.get("/interfaces/" + u).json()["metadata"] == {"colour": 7,
                                                                  "size": {"a": [1, 2]}}
    for falsy in ("", 0, False, None, [], {}):
        error(tenant.put(base + "/colour", {"value": falsy}), 400, "no value specified")
        error(tenant.post(base, {"key": "k", "value": falsy}), 400, "no value specified")
    error(tenant.put(base + "/colour", {}), 400, "no value specified")
    error(tenant.post(base, {"value": 1}), 400, "no key specified")
    error(tenant.post(base, {"key": "", "value": 1}), 400, "no key specified")
    error(tenant.put(base + "/colour", {"value": 1, "key": "x"}), 400)
    r = tenant.delete(base + "/colour")
    assert r.status_code == 200 and r.json() is None
    r = tenant.delete(base + "/never-set")
    assert r.status_code == 200 and r.json() is None
    assert tenant.get(base).json() == {"size": {"a": [1, 2]}}
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")


def test_delete(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.94.0.0/24")
    view = plugged(tenant, net, address="10.94.0.20", macaddress="02:00:00:94:00:20",
                   float=True)
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    u = view["uuid"]

    r = tenant.delete("/interfaces/" + u)
    assert r.status_code == 200, r.text
    assert r.json()["uuid"] == u
    assert r.json()["state"] == "deleted"
    assert job_types(api.jobs("hypervisor.hv1")) == [("interface.unplug", u)]
    assert job_types(api.jobs("networknode")) == sorted([("interface.defloat", u),
                                                         ("network.dhcp_hosts", net["uuid"])])
    # deleted interfaces stay visible by uuid, and leave the network's list
    assert tenant.get("/interfaces/" + u).json()["state"] == "deleted"
    assert tenant.get("/networks/%s/interfaces" % net["uuid"]).json() == []
    # the address sits in the deletion halo; the MAC is free again
    error(plug(tenant, net, address="10.94.0.20"), 409, "address 10.94.0.20 in use")
    again = plugged(tenant, net, macaddress="02:00:00:94:00:20")
    assert again["macaddr"] == "02:00:00:94:00:20"
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    # a second delete is a no-op; a deleted interface cannot float
    r = tenant.delete("/interfaces/" + u)
    assert r.status_code == 200 and r.json() is None
    error(tenant.post("/interfaces/%s/float" % u), 409, "interface is deleted")
    assert_no_jobs(api)
    error(tenant.delete("/interfaces/" + u, {"x": 1}), 400)


def test_delete_last_interface_of_delete_wait_network(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.95.0.0/24")
    u = plugged(tenant, net)["uuid"]
    assert tenant.delete("/networks/" + net["uuid"]).json()["state"] == "delete-wait"
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    assert tenant.delete("/interfaces/" + u).status_code == 200
    assert job_types(api.jobs("networknode")) == sorted([("network.dhcp_hosts", net["uuid"]),
                                                         ("network.destroy", net["uuid"])])
    api.jobs("hypervisor.hv1")


# ---- instances -----------------------------------------------------------------------------

def test_instance_interfaces_and_hot_plug(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.96.0.0/24")
    net2 = deployed_network(tenant, "10.97.0.0/24")
    inst = str(uuid.uuid4())
    a = plugged(tenant, net, instance_uuid=inst, order=0)
    b = plugged(tenant, net, instance_uuid=inst, order=4)
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    assert tenant.get("/instances/%s/interfaces" % inst).json() == [
        tenant.get("/interfaces/" + a["uuid"]).json(),
        tenant.get("/interfaces/" + b["uuid"]).json()]

    r = tenant.post("/instances/%s/interfaces" % inst,
                    {"network": {"network_uuid": net2["uuid"], "address": "10.97.0.7",
                                 "float": True}})
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["order"] == 5 and c["instance_uuid"] == inst and c["ipv4"] == "10.97.0.7"
    assert c["floating"] is not None
    assert job_types(api.jobs("hypervisor.hv1")) == [("interface.plug", c["uuid"])]
    assert job_types(api.jobs("networknode")) == sorted([("interface.float", c["uuid"]),
                                                         ("network.dhcp_hosts", net2["uuid"])])
    assert [i["uuid"] for i in tenant.get("/instances/%s/interfaces" % inst).json()] == \
        [a["uuid"], b["uuid"], c["uuid"]]

    # the networkspec checks apply to hot plug too; nothing is created
    for body, status, message in [
        ({"network": 5}, 400, "network specification should contain JSON objects"),
        ({"network": [net["uuid"]]}, 400, "network specification should contain JSON objects"),
        ({"network": {}}, 400, "network specification is missing network_uuid"),
        ({"network": {"network_uuid": net["uuid"], "address": "10.0.0.1"}}, 400, RANGE_MSG),
        ({"network": {"network_uuid": net["uuid"], "address": "10.96.0.1"}}, 409,
         "address 10.96.0.1 in use"),
        ({"network": {"network_uuid": net["uuid"], "bogus": 1}}, 400, None),
        ({}, 400, None),
        ({"network": {"network_uuid": net["uuid"]}, "node": "hv1"}, 400, None),
    ]:
        error(tenant.post("/instances/%s/interfaces" % inst, body), status, message)
    assert len(tenant.get("/instances/%s/interfaces" % inst).json()) == 3

    # a deleted interface leaves the instance's list
    assert tenant.delete("/interfaces/" + b["uuid"]).status_code == 200
    assert [i["uuid"] for i in tenant.get("/instances/%s/interfaces" % inst).json()] == \
        [a["uuid"], c["uuid"]]
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")


def test_unknown_instance(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.98.0.0/24")
    inst = str(uuid.uuid4())
    error(tenant.get("/instances/%s/interfaces" % inst), 404, "instance not found")
    error(tenant.get("/instances/not-a-uuid/interfaces"), 404, "instance not found")
    error(tenant.post("/instances/%s/interfaces" % inst,
                      {"network": {"network_uuid": net["uuid"]}}),
          400, "instance has no interfaces; use POST /interfaces with a node")
    assert_no_jobs(api)


def test_instance_stays_on_its_node_and_namespace(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.99.0.0/24")
    inst = str(uuid.uuid4())
    plugged(tenant, net, instance_uuid=inst)
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    error(plug(api.system, net, instance_uuid=inst, namespace="system"), 400,
          "instance %s is in namespace %s" % (inst, tenant.namespace))
    error(plug(tenant, net, instance_uuid=inst, node="nosuch"), 400,
          "instance %s is on node hv1" % inst)
    # system plugging the instance again needs no namespace: the instance has one
    assert plug(api.system, net, instance_uuid=inst).status_code == 200
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")


# ---- isolation -----------------------------------------------------------------------------

def test_other_tenant_gets_404_everywhere(api, tenant, new_client, hv1, deployed_network):
    net = deployed_network(tenant, "10.100.0.0/24")
    inst = str(uuid.uuid4())
    view = plugged(tenant, net, instance_uuid=inst)
    tenant.put("/interfaces/%s/metadata/k" % view["uuid"], {"value": "v"})
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    ns2 = "t2-" + rand()
    assert api.system.post("/auth/namespaces", {"namespace": ns2, "key_name": "k",
                                                "key": "secret2"}).status_code == 200
    other = new_client(ns2, "secret2")
    u = view["uuid"]
    for method, path, body, message in [
        ("get", "/interfaces/" + u, None, "interface not found"),
        ("delete", "/interfaces/" + u, None, "interface not found"),
        ("post", "/interfaces/%s/float" % u, None, "interface not found"),
        ("post", "/interfaces/%s/defloat" % u, None, "interface not found"),
        ("get", "/interfaces/%s/metadata" % u, None, "interface not found"),
        ("post", "/interfaces/%s/metadata" % u, {"key": "k", "value": "x"},
         "interface not found"),
        ("put", "/interfaces/%s/metadata/k" % u, {"value": "x"}, "interface not found"),
        ("delete", "/interfaces/%s/metadata/k" % u, None, "interface not found"),
        ("get", "/instances/%s/interfaces" % inst, None, "instance not found"),
        ("post", "/instances/%s/interfaces" % inst, {"network": {"network_uuid": net["uuid"]}},
         "instance not found"),
        ("post", "/interfaces", {"network_uuid": net["uuid"], "instance_uuid": inst,
                                 "node": "hv1"}, "instance not found"),
        ("post", "/interfaces", {"network_uuid": net["uuid"],
                                 "instance_uuid": str(uuid.uuid4()), "node": "hv1"},
         "network %s does not exist" % net["uuid"]),
    ]:
        error(getattr(other, method)(path, body), 404, message)
    assert_no_jobs(api)
    after = tenant.get("/interfaces/" + u).json()
    assert after == dict(view, metadata={"k": "v"})
    # system sees everything
    assert api.system.get("/interfaces/" + u).json() == after
    assert len(api.system.get("/instances/%s/interfaces" % inst).json()) == 1


# ---- audit events --------------------------------------------------------------------------

def interface_events(api, u):
    """The interface's recorded events, read from its Redis stream (no endpoint lists an
    interface's events); the recorder stores them asynchronously."""
    out = redis_cli(api, "XREVRANGE", "%sevents:networkinterface:%s" % (api.redis_prefix, u),
                    "+", "-")
    events = []
    for line in out.splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def test_audit_events(api, tenant, hv1, deployed_network):
    net = deployed_network(tenant, "10.101.0.0/24")
    u = plugged(tenant, net, float=True)["uuid"]
    tenant.put("/interfaces/%s/metadata/k" % u, {"value": "v"})
    tenant.delete("/interfaces/%s/metadata/k" % u)
    tenant.post("/interfaces/%s/defloat" % u)
    tenant.delete("/interfaces/" + u)
    api.jobs("hypervisor.hv1")
    api.jobs("networknode")
    wanted = {"create request from REST API", "float request from REST API",
              "set metadata key request from REST API",
              "delete metadata key request from REST API", "defloat request from REST API",
              "delete request from REST API"}
    deadline = time.monotonic() + 10
    while True:
        events = interface_events(api, u)
        messages = {e["message"] for e in events}
        if wanted <= messages or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert wanted <= messages
    assert all(e["type"] == "audit" for e in events)
    md = [e for e in events if e["message"] == "set metadata key request from REST API"][0]
    assert {k: md["extra"][k] for k in ("key", "value", "method")} == \
        {"key": "k", "value": "v", "method": "put"}
