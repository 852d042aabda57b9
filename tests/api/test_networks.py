# SPDX-License-Identifier: Apache-2.0
"""The /networks endpoints (spec 1.5.1 - 1.5.12, corrected per ARCHITECTURE.md section 5).

No network node runs here, so networks stay "initial". Tests that need a network the network
node has deployed mark it "created" in Redis (the state field of network:{<uuid>}, as the worker
will write it); tests of deleted and error networks set those states the same way. Nothing else
of a worker is imitated: the jobs a call publishes are read back off sf.jobs.networknode.

Tests that plug interfaces put the node hv1 in the node registry (see the hv1 fixture). Tests
that need a tiny floating pool, a short ping timeout or a missing job queue use a second sf-api
of their own (`small`).
"""
import json
import os
import re
import subprocess
import time
import uuid

import pika
import pytest

from conftest import Api, SfApi, create_vhost, declare_topology, delete_vhost, random_name, \
    redis_delete_prefix, vhost_url

VIEW_KEYS = {"uuid", "name", "namespace", "netblock", "provide_dhcp", "provide_nat",
             "provide_dns", "floating_gateway", "vxlan_id", "state", "metadata", "version"}
FLOATING = "198.51.100.0/24"  # the session sf-api's default pool


# ---- helpers ------------------------------------------------------------------------------

def rand():
    return uuid.uuid4().hex[:8]


def create(client, netblock="10.0.0.0/24", name=None, **extra):
    """POST /networks with the body Shaken Fist's client sends (namespace always, null)."""
    body = {"netblock": netblock, "provide_dhcp": True, "provide_nat": True,
            "name": name if name is not None else "net-" + rand(), "namespace": None}
    body.update(extra)
    return client.post("/networks", body)


def created(client, netblock="10.0.0.0/24", name=None, **extra):
    r = create(client, netblock, name, **extra)
    assert r.status_code == 200, r.text
    return r.json()


def error(r, status, message=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == status, body
    if message is not None:
        assert body["error"] == message
    return body["error"]


def redis_cli(api, *args):
    res = subprocess.run(["redis-cli", "-u", api.redis_url, *args], capture_output=True,
                         text=True, timeout=30, check=True)
    return res.stdout.strip()


def set_state(api, net, state):
    """Put the network in `state` as a worker would (see the module docstring)."""
    redis_cli(api, "HSET", "%snetwork:{%s}" % (api.redis_prefix, net["uuid"]), "state", state)


def deployed(api, client, netblock="10.0.0.0/24", name=None, **extra):
    """A created network, as the network node leaves it; its deploy job is dropped."""
    net = created(client, netblock, name, **extra)
    set_state(api, net, "created")
    net["state"] = "created"
    jobs_of(api, net["uuid"])
    return net


def jobs_of(api, uuids, timeout=1.0):
    """The networknode jobs about these objects (others' are drained and dropped)."""
    if isinstance(uuids, str):
        uuids = {uuids}
    return [j for j in api.jobs("networknode", timeout=timeout) if j["object"]["uuid"] in uuids]


def one_job(api, net, job_type, args=None):
    jobs = jobs_of(api, net["uuid"])
    assert [j["type"] for j in jobs] == [job_type], jobs
    job = jobs[0]
    assert job["object"] == {"type": "network", "uuid": net["uuid"]}
    assert job["args"] == (args or {})
    return job


def no_jobs(api, net):
    assert jobs_of(api, net["uuid"], timeout=0.3) == []


def wait_event(client, net, message, timeout=15.0):
    """Events are recorded asynchronously (sf.events -> recorder -> Redis): poll."""
    deadline = time.monotonic() + timeout
    while True:
        r = client.get("/networks/%s/events" % net["uuid"])
        assert r.status_code == 200, r.text
        found = [e for e in r.json() if e["message"] == message]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "no event %r in %s" % (message, r.json())
        time.sleep(0.1)


def listed(client, all_=False):
    r = client.get("/networks", {"all": all_})
    assert r.status_code == 200, r.text
    return {n["uuid"]: n for n in r.json()}


def addr_key(a):
    return [int(x) for x in a.split(".")]


# ---- node hv1 and interfaces ---------------------------------------------------------------

@pytest.fixture(scope="module")
def hv1(api):
    """Node hv1 in the node registry, written as sf_node_heartbeat() writes it (an expiring
    hash node:<name> and its record in the hash nodes). The real sf-hypervisor is not run: it
    would build the dataplane in this machine's own network namespace."""
    now = time.time()
    rec = {"name": "hv1", "role": "hypervisor", "mesh_ip": "198.18.0.11", "version": "test",
           "last_seen": now}
    key = api.redis_prefix + "node:hv1"
    redis_cli(api, "HSET", key, *[str(x) for kv in rec.items() for x in kv])
    redis_cli(api, "EXPIRE", key, "3600")
    redis_cli(api, "HSET", api.redis_prefix + "nodes", "hv1", json.dumps(rec))
    r = api.system.get("/nodes/hv1")
    assert r.status_code == 200 and r.json()["state"] == "up", r.text
    return "hv1"


def plug(client, net, **extra):
    body = {"network_uuid": net["uuid"], "instance_uuid": str(uuid.uuid4()), "node": "hv1"}
    body.update(extra)
    r = client.post("/interfaces", body)
    assert r.status_code == 200, r.text
    return r.json()


# ---- POST /networks (1.5.2) ----------------------------------------------------------------

def test_create_view_and_deploy_job(api, tenant):
    r = create(tenant, "10.1.0.0/24", name="first")
    assert r.status_code == 200, r.text
    view = r.json()
    assert set(view) == VIEW_KEYS
    assert view["name"] == "first"
    assert view["namespace"] == tenant.namespace
    assert view["netblock"] == "10.1.0.0/24"
    assert (view["provide_dhcp"], view["provide_nat"], view["provide_dns"]) == (True, True, False)
    assert view["floating_gateway"] is None
    assert isinstance(view["vxlan_id"], int) and 1 <= view["vxlan_id"] <= 2 ** 24 - 1
    assert view["state"] == "initial"
    assert view["metadata"] == {}
    assert view["version"] == 6
    uuid.UUID(view["uuid"])
    job = one_job(api, view, "network.deploy")
    assert job["request_id"] == r.headers["X-Request-ID"]
    assert tenant.get("/networks/" + view["uuid"]).json() == view
    audit = wait_event(tenant, view, "create request from REST API")
    assert audit["type"] == "audit"


def test_create_flags_are_honoured(api, tenant):
    off = created(tenant, provide_dhcp=False, provide_nat=False, provide_dns=True)
    assert (off["provide_dhcp"], off["provide_nat"], off["provide_dns"]) == (False, False, True)
    # absent or null: dhcp and nat true, dns false (ARCHITECTURE 5.1)
    r = tenant.post("/networks", {"netblock": "10.2.0.0/24"})
    assert r.status_code == 200, r.text
    bare = r.json()
    assert (bare["provide_dhcp"], bare["provide_nat"], bare["provide_dns"]) == (True, True, False)
    assert bare["name"] is None
    nulls = created(tenant, provide_dhcp=None, provide_nat=None, provide_dns=None, name=None)
    assert (nulls["provide_dhcp"], nulls["provide_nat"], nulls["provide_dns"]) == \
        (True, True, False)
    # names are not unique; overlapping blocks are fine
    again = created(tenant, "10.2.0.0/24", name=off["name"])
    assert again["uuid"] != off["uuid"] and again["vxlan_id"] != off["vxlan_id"]
    assert created(tenant, "10.3.0.0/255.255.255.0")["netblock"] == "10.3.0.0/24"
    assert created(tenant, "10.4.0.0/29")["netblock"] == "10.4.0.0/29"
    assert created(tenant, "10.0.0.0/8")["netblock"] == "10.0.0.0/8"


NETBLOCK_ERRORS = [
    ("192.168.1.2/24", "cannot parse netblock: 192.168.1.2/24 has host bits set"),
    ("garbage", "cannot parse netblock: 'garbage' does not appear to be an IPv4 or IPv6 network"),
    ("10.0.0.0/33",
     "cannot parse netblock: '10.0.0.0/33' does not appear to be an IPv4 or IPv6 network"),
    (None, "cannot parse netblock: None does not appear to be an IPv4 or IPv6 network"),
    ("2001:db8::/64", "IPv6 netblocks are not supported yet"),
    ("10.0.0.0/30", "network is below minimum size of /29"),
    ("10.0.0.0/32", "network is below minimum size of /29"),
    ("10.0.0.1", "network is below minimum size of /29"),  # a bare address is a /32
    ("10.0.0.0/7", "network is above maximum size of /8"),
]


@pytest.mark.parametrize("netblock,message", NETBLOCK_ERRORS)
def test_create_bad_netblock(api, tenant, netblock, message):
    error(create(tenant, netblock), 400, message)
    assert listed(tenant, True) == {}


def test_create_without_netblock(api, tenant):
    error(tenant.post("/networks", {"name": "x"}), 400,
          "cannot parse netblock: None does not appear to be an IPv4 or IPv6 network")


def test_create_namespace_rules(api, tenant, new_client):
    other = created(api.system, "10.5.0.0/24", namespace=tenant.namespace)  # system may
    assert other["namespace"] == tenant.namespace
    assert other["uuid"] in listed(tenant)
    one_job(api, other, "network.deploy")
    missing = "nope-" + rand()
    # the order of 1.5.2: namespace existence, netblock, then permission
    error(create(tenant, "bad", namespace=missing), 404, "namespace not found")
    error(create(tenant, "bad", namespace="system"), 400)
    error(create(tenant, namespace="system"), 401,
          "only admins can create resources in a different namespace")
    assert created(tenant, namespace=tenant.namespace)["namespace"] == tenant.namespace
    assert all(n["namespace"] != "system" for n in listed(tenant).values())


BAD_BODIES = [
    ("POST", "/networks", {"netblock": 10}),
    ("POST", "/networks", {"netblock": "10.0.0.0/24", "provide_dhcp": "yes"}),
    ("POST", "/networks", {"netblock": "10.0.0.0/24", "provide_dns": 1}),
    ("POST", "/networks", {"netblock": "10.0.0.0/24", "name": 5}),
    ("POST", "/networks", {"netblock": "10.0.0.0/24", "namespace": ["x"]}),
    ("POST", "/networks", {"netblock": "10.0.0.0/24", "foo": 1}),
    ("POST", "/networks", {"netblock": "10.0.0.0/24", "name": "n" * 256}),
    ("GET", "/networks", {"all": "true"}),
    ("GET", "/networks", {"all": False, "namespace": "x"}),
    ("DELETE", "/networks", {"confirm": "true", "namespace": None}),
    ("DELETE", "/networks", {"confirm": True, "clean_wait": 1}),
    ("DELETE", "/networks", {"confirm": True, "force": True}),
]


@pytest.mark.parametrize("method,path,body", BAD_BODIES)
def test_bad_bodies_change_nothing(api, tenant, method, path, body):
    net = created(tenant)
    jobs_of(api, net["uuid"])
    before = listed(tenant, True)
    r = tenant.request(method, path, body)
    assert r.status_code == 400, r.text
    assert r.json()["status"] == 400
    assert isinstance(r.json()["error"], str) and r.json()["error"]
    assert listed(tenant, True) == before
    no_jobs(api, net)


REF_BAD_BODIES = [
    ("GET", "", {"namespace": 1}),
    ("DELETE", "", {"namespace": None, "confirm": True}),
    ("GET", "/interfaces", {"x": 1}),
    ("GET", "/addresses", {"all": True}),
    ("GET", "/events", {"limit": 1.5}),
    ("GET", "/events", {"event_type": 3}),
    ("GET", "/events", {"since": 0}),
    ("GET", "/metadata", {"key": "a"}),
    ("POST", "/metadata", {"key": "a", "value": 1, "extra": 2}),
    ("POST", "/metadata", {"key": 1, "value": 1}),
    ("PUT", "/metadata/a", {"value": 1, "key": "b"}),
    ("DELETE", "/metadata/a", {"value": 1}),
    ("GET", "/ping/10.0.0.5", {"count": 3}),
    ("POST", "/route", {"address": "198.51.100.9"}),
    ("DELETE", "/route/198.51.100.9", {"x": 1}),
    ("POST", "/dns", {"name": "a", "value": "10.0.0.9", "ttl": 5}),
    ("POST", "/dns", {"name": 5, "value": "10.0.0.9"}),
    ("DELETE", "/dns", {"name": "a", "value": "10.0.0.9"}),
]


@pytest.mark.parametrize("method,suffix,body", REF_BAD_BODIES)
def test_bad_bodies_on_a_network(api, tenant, method, suffix, body):
    net = deployed(api, tenant, provide_dns=True)
    r = tenant.request(method, "/networks/%s%s" % (net["uuid"], suffix), body)
    assert r.status_code == 400, r.text
    after = tenant.get("/networks/" + net["uuid"]).json()
    assert after == net
    no_jobs(api, net)


# ---- GET /networks (1.5.1), GET /networks/<ref> (1.5.4), <ref> resolution -------------------

def test_list_and_all(api, tenant, new_client):
    a = created(tenant, name="a")
    b = created(tenant, name="b")
    gone = created(tenant, name="gone")
    set_state(api, gone, "deleted")
    err = created(tenant, name="err")
    set_state(api, err, "error")
    default = listed(tenant)
    assert set(default) == {a["uuid"], b["uuid"], err["uuid"]}
    assert all(set(v) == VIEW_KEYS for v in default.values())
    assert default[a["uuid"]] == a
    everything = listed(tenant, True)
    assert set(everything) == {a["uuid"], b["uuid"], err["uuid"], gone["uuid"]}
    assert everything[gone["uuid"]]["state"] == "deleted"
    # a body is optional; the floating network is never listed, not even for system
    r = tenant.get("/networks")
    assert {n["uuid"] for n in r.json()} == set(default)
    sys_all = listed(api.system, True)
    assert {a["uuid"], gone["uuid"]} <= set(sys_all)
    assert "floating" not in sys_all and all(n["name"] != "floating" for n in sys_all.values())


def test_deleted_network_visible_by_uuid_only(api, tenant):
    net = created(tenant, name="ghost-" + rand())
    set_state(api, net, "deleted")
    r = tenant.get("/networks/" + net["uuid"])
    assert r.status_code == 200 and r.json()["state"] == "deleted"
    error(tenant.get("/networks/" + net["name"]), 404, "network not found")
    # deleting it again is a no-op: null and no job
    jobs_of(api, net["uuid"])
    r = tenant.delete("/networks/" + net["uuid"])
    assert r.status_code == 200 and r.text.strip() == "null"
    no_jobs(api, net)


def test_get_by_uuid_reads_fresh(api, tenant):
    """GET /networks/<uuid> sends the network's reads with the token's key check, in one round
    trip to Redis: each GET still shows the state and metadata of its moment, in every uuid
    form, and a token revoked meanwhile gets 401 rather than the network."""
    net = created(tenant)
    u = net["uuid"]
    path = "/networks/" + u
    for state in ("creating", "created", "error"):
        set_state(api, net, state)
        assert tenant.get(path).json()["state"] == state
    assert tenant.put(path + "/metadata/color", {"value": "blue"}).status_code == 200
    for form in (u, u.upper(), "{%s}" % u, "urn:uuid:" + u, u.replace("-", "")):
        v = tenant.get("/networks/" + form).json()
        assert v == dict(net, state="error", metadata={"color": "blue"}), (form, v)
    redis_cli(api, "DEL", "%snetwork:{%s}:metadata" % (api.redis_prefix, u))
    assert tenant.get(path).json()["metadata"] == {}
    r = api.system.post("/auth/namespaces/%s/keys" % tenant.namespace,
                        {"key_name": "k1", "key": rand() + rand()})
    assert r.status_code == 200, r.text
    error(tenant.get(path), 401, "token revoked")


def test_get_by_uuid_is_one_round_trip(api, tenant):
    """The token's key check and the network's reads go to Redis as one pipeline: about one
    socket read by redis-server per GET (INFO stats; without the prefetch it is three, which
    is what a change of sf_network_get()'s or sf_network_view()'s reads would bring back)."""
    net = created(tenant)
    path = "/networks/" + net["uuid"]
    assert tenant.get(path).status_code == 200  # the connection is up

    def reads():
        info = redis_cli(api, "INFO", "stats")
        return int(re.search(r"total_reads_processed:(\d+)", info).group(1))

    n = 30
    before = reads()
    for _ in range(n):
        assert tenant.get(path).status_code == 200
    used = reads() - before - 1  # the INFO of reads() itself
    assert used <= n * 1.5, f"{used} redis-server reads for {n} GETs"


def test_name_lookups(api, tenant):
    name = "web-" + rand()
    net = created(tenant, name=name)
    assert tenant.get("/networks/" + name).json()["uuid"] == net["uuid"]
    # a body namespace is accepted and ignored (get-network-namespace)
    assert tenant.get("/networks/" + name, {"namespace": "whatever"}).json()["uuid"] == \
        net["uuid"]
    # every form Python's uuid.UUID() accepts
    u = net["uuid"]
    for ref in (u.upper(), u.replace("-", ""), "{%s}" % u, "urn:uuid:" + u):
        r = tenant.get("/networks/" + ref)
        assert r.status_code == 200 and r.json()["uuid"] == u, ref
    error(tenant.get("/networks/" + str(uuid.uuid4())), 404, "network not found")
    error(tenant.get("/networks/no-such-" + rand()), 404, "network not found")
    twin = created(tenant, name=name)
    error(tenant.get("/networks/" + name), 400,
          'multiple networks have the name "%s" in namespace "%s"' % (name, tenant.namespace))
    set_state(api, twin, "deleted")  # only active networks count
    assert tenant.get("/networks/" + name).json()["uuid"] == net["uuid"]


def test_system_name_lookup_spans_namespaces(api, tenant, new_client):
    name = "shared-" + rand()
    mine = created(tenant, name=name)
    assert api.system.get("/networks/" + name).json()["uuid"] == mine["uuid"]
    other_ns = "t-" + rand()
    key = rand()
    assert api.system.post("/auth/namespaces", {"namespace": other_ns, "key_name": "k",
                                                "key": key}).status_code == 200
    other = new_client(other_ns, key)
    theirs = created(other, name=name)
    # each tenant sees only its own; system sees both
    assert tenant.get("/networks/" + name).json()["uuid"] == mine["uuid"]
    assert other.get("/networks/" + name).json()["uuid"] == theirs["uuid"]
    error(api.system.get("/networks/" + name), 400,
          'multiple networks have the name "%s" in namespace "system"' % name)


def test_floating_network(api, tenant):
    r = api.system.get("/networks/floating/addresses")
    assert r.status_code == 200, r.text
    recs = {a["address"]: a for a in r.json()}
    base = FLOATING.split("/")[0].rsplit(".", 1)[0]
    for last, kind in (("0", "network"), ("1", "gateway"), ("255", "broadcast")):
        assert recs[base + "." + last]["type"] == kind
        assert recs[base + "." + last]["user"] == ["network", "floating"]
    assert [a["address"] for a in r.json()] == sorted(recs)  # string order
    error(api.system.delete("/networks/floating"), 403, "you cannot delete the floating network")
    for method, path in (("GET", "/networks/floating"), ("GET", "/networks/floating/addresses"),
                         ("DELETE", "/networks/floating")):
        error(tenant.request(method, path), 404, "network not found")


# ---- namespace isolation -------------------------------------------------------------------

def test_other_tenants_get_404_everywhere(api, tenant, new_client):
    ns = "t-" + rand()
    key = rand()
    assert api.system.post("/auth/namespaces", {"namespace": ns, "key_name": "k",
                                                "key": key}).status_code == 200
    intruder = new_client(ns, key)
    net = deployed(api, tenant, name="private-" + rand(), provide_dns=True)
    routed = tenant.post("/networks/%s/route" % net["uuid"]).json()
    jobs_of(api, net["uuid"])
    calls = [("GET", "", None), ("DELETE", "", None), ("GET", "/interfaces", None),
             ("GET", "/addresses", None), ("GET", "/events", None), ("GET", "/metadata", None),
             ("POST", "/metadata", {"key": "k", "value": "v"}),
             ("PUT", "/metadata/k", {"value": "v"}), ("DELETE", "/metadata/k", None),
             ("GET", "/ping/10.0.0.5", None), ("POST", "/route", None),
             ("DELETE", "/route/" + routed, None),
             ("POST", "/dns", {"name": "www", "value": "10.0.0.9"}),
             ("DELETE", "/dns", {"name": "www"})]
    for ref in (net["uuid"], net["name"]):
        for method, suffix, body in calls:
            r = intruder.request(method, "/networks/%s%s" % (ref, suffix), body)
            error(r, 404, "network not found")
    assert net["uuid"] not in listed(intruder, True)
    r = intruder.delete("/networks", {"confirm": True, "namespace": None, "clean_wait": False})
    assert r.status_code == 200 and r.json() == []
    assert tenant.get("/networks/" + net["uuid"]).json() == net
    no_jobs(api, net)


# ---- DELETE /networks/<ref> (1.5.5) --------------------------------------------------------

def test_delete(api, tenant):
    net = created(tenant)
    jobs_of(api, net["uuid"])
    r = tenant.delete("/networks/" + net["uuid"])
    assert r.status_code == 200, r.text
    assert r.json() == net  # the state changes when the network node has destroyed it
    job = one_job(api, net, "network.destroy")
    assert job["request_id"] == r.headers["X-Request-ID"]
    wait_event(tenant, net, "delete request from REST API")
    # by name too
    named = created(tenant, name="byname-" + rand())
    jobs_of(api, named["uuid"])
    assert tenant.delete("/networks/" + named["name"]).status_code == 200
    one_job(api, named, "network.destroy")


def test_delete_error_network(api, tenant):
    net = created(tenant)
    set_state(api, net, "error")
    jobs_of(api, net["uuid"])
    r = tenant.delete("/networks/" + net["uuid"])
    assert r.status_code == 200 and r.json()["state"] == "error"  # ARCHITECTURE 5.4
    one_job(api, net, "network.destroy")


def test_delete_namespace_safety_net(api, tenant):
    net = created(tenant)
    jobs_of(api, net["uuid"])
    error(tenant.delete("/networks/" + net["uuid"], {"namespace": "nope-" + rand()}), 404,
          "namespace not found")
    error(tenant.delete("/networks/" + net["uuid"], {"namespace": "system"}), 404,
          "network not in namespace")
    no_jobs(api, net)
    assert tenant.delete("/networks/" + net["uuid"],
                         {"namespace": tenant.namespace}).status_code == 200
    one_job(api, net, "network.destroy")


def test_delete_with_interfaces_waits(api, tenant, hv1):
    net = deployed(api, tenant)
    plug(tenant, net)
    jobs_of(api, net["uuid"])
    r = tenant.delete("/networks/" + net["uuid"])
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "delete-wait"
    one_job(api, net, "network.destroy")  # the network node destroys once the last one left
    assert net["uuid"] in listed(tenant)  # delete-wait is still active


# ---- DELETE /networks (1.5.3) --------------------------------------------------------------

def test_delete_all_checks(api, tenant):
    net = created(tenant)
    jobs_of(api, net["uuid"])
    error(tenant.delete("/networks", {"namespace": "nope-" + rand()}), 404, "namespace not found")
    error(tenant.delete("/networks"), 400, "parameter confirm is not set true")
    error(tenant.delete("/networks", {"confirm": False, "namespace": None}), 400,
          "parameter confirm is not set true")
    error(api.system.delete("/networks", {"confirm": True, "namespace": None}), 400,
          "system user must specify parameter namespace")
    error(tenant.delete("/networks", {"confirm": True, "namespace": "system"}), 401,
          "you cannot delete other namespaces")
    no_jobs(api, net)
    assert tenant.get("/networks/" + net["uuid"]).json() == net


def test_delete_all(api, tenant):
    a, b = created(tenant), created(tenant)
    err = created(tenant)
    set_state(api, err, "error")
    gone = created(tenant)
    set_state(api, gone, "deleted")
    jobs_of(api, {a["uuid"], b["uuid"], err["uuid"], gone["uuid"]})
    r = tenant.delete("/networks", {"confirm": True, "namespace": None, "clean_wait": False})
    assert r.status_code == 200, r.text
    assert sorted(r.json()) == sorted([a["uuid"], b["uuid"], err["uuid"]])
    jobs = jobs_of(api, {a["uuid"], b["uuid"], err["uuid"], gone["uuid"]})
    assert sorted((j["type"], j["object"]["uuid"]) for j in jobs) == \
        sorted(("network.destroy", n["uuid"]) for n in (a, b, err))
    # system names the namespace; an empty one gives []
    r = api.system.delete("/networks", {"confirm": True, "namespace": tenant.namespace})
    assert r.status_code == 200 and sorted(r.json()) == sorted([a["uuid"], b["uuid"],
                                                                err["uuid"]])
    jobs_of(api, {a["uuid"], b["uuid"], err["uuid"]})
    ns = "t-" + rand()
    assert api.system.post("/auth/namespaces", {"namespace": ns}).status_code == 200
    r = api.system.delete("/networks", {"confirm": True, "namespace": ns})
    assert r.status_code == 200 and r.json() == []


def test_delete_all_with_interfaces(api, tenant, hv1):
    busy = deployed(api, tenant)
    plug(tenant, busy)
    idle = created(tenant)
    jobs_of(api, {busy["uuid"], idle["uuid"]})
    r = tenant.delete("/networks", {"confirm": True, "namespace": tenant.namespace,
                                    "clean_wait": False})
    assert r.status_code == 403, r.text
    assert r.json() == {"error": {"deleted": [idle["uuid"]], "unable": [busy["uuid"]]},
                        "status": 403}
    assert [j["object"]["uuid"] for j in jobs_of(api, {busy["uuid"], idle["uuid"]})] == \
        [idle["uuid"]]
    assert tenant.get("/networks/" + busy["uuid"]).json()["state"] == "created"
    r = tenant.delete("/networks", {"confirm": True, "namespace": None, "clean_wait": True})
    assert r.status_code == 200 and sorted(r.json()) == sorted([busy["uuid"], idle["uuid"]])
    assert tenant.get("/networks/" + busy["uuid"]).json()["state"] == "delete-wait"
    assert sorted(j["object"]["uuid"] for j in jobs_of(api, {busy["uuid"], idle["uuid"]})) == \
        sorted([busy["uuid"], idle["uuid"]])


# ---- GET /networks/<ref>/interfaces and /addresses (1.5.6, 1.5.7) ---------------------------

def test_interfaces_and_addresses(api, tenant, hv1):
    net = deployed(api, tenant, "10.9.0.0/24")
    r = tenant.get("/networks/%s/interfaces" % net["uuid"])
    assert r.status_code == 200 and r.json() == []
    ifaces = [plug(tenant, net, address=a) for a in ("10.9.0.100", "10.9.0.11", "10.9.0.2")]
    got = tenant.get("/networks/%s/interfaces" % net["uuid"]).json()
    assert [i["uuid"] for i in got] == [i["uuid"] for i in ifaces]
    assert got[0]["ipv4"] == "10.9.0.100" and got[0]["network_uuid"] == net["uuid"]
    recs = tenant.get("/networks/%s/addresses" % net["uuid"]).json()
    # ascending string order, not numeric (spec 1.5.7)
    assert [a["address"] for a in recs] == ["10.9.0.0", "10.9.0.1", "10.9.0.100", "10.9.0.11",
                                            "10.9.0.2", "10.9.0.255"]
    by = {a["address"]: a for a in recs}
    assert by["10.9.0.0"]["type"] == "network" and by["10.9.0.255"]["type"] == "broadcast"
    assert by["10.9.0.1"]["type"] == "gateway"
    assert by["10.9.0.1"]["user"] == ["network", net["uuid"]]
    assert by["10.9.0.11"]["type"] == "instance"
    assert by["10.9.0.11"]["user"] == ["instance", ifaces[1]["instance_uuid"]]
    assert set(by["10.9.0.2"]) == {"address", "type", "user", "when", "comment"}
    # still listed in delete-wait
    tenant.delete("/networks/" + net["uuid"])
    assert len(tenant.get("/networks/%s/interfaces" % net["uuid"]).json()) == 3


def test_addresses_of_a_new_network(api, tenant):
    net = created(tenant, "10.8.0.0/29")
    recs = tenant.get("/networks/%s/addresses" % net["uuid"]).json()
    assert [(a["address"], a["type"], a["user"]) for a in recs] == [
        ("10.8.0.0", "network", ["network", net["uuid"]]),
        ("10.8.0.1", "gateway", ["network", net["uuid"]]),
        ("10.8.0.7", "broadcast", ["network", net["uuid"]])]


# ---- GET /networks/<ref>/events (1.5.8) ----------------------------------------------------

def test_events(api, tenant):
    net = created(tenant)
    path = "/networks/%s/events" % net["uuid"]
    tenant.put("/networks/%s/metadata/color" % net["uuid"], {"value": "blue"})
    wait_event(tenant, net, "set metadata key request from REST API")
    wait_event(tenant, net, "set attribute")
    create_audit = wait_event(tenant, net, "create request from REST API")
    assert set(create_audit) == {"type", "timestamp", "fqdn", "duration", "message", "extra"}
    events = tenant.get(path).json()
    assert len(events) >= 3
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    audits = tenant.get(path, {"event_type": "audit"}).json()
    assert audits and all(e["type"] == "audit" for e in audits)
    mutates = tenant.get(path, {"event_type": "mutate"}).json()
    assert mutates and all(e["type"] == "mutate" for e in mutates)
    assert tenant.get(path, {"event_type": "usage"}).json() == []
    assert len(tenant.get(path, {"limit": 1}).json()) == 1
    assert tenant.get(path, {"limit": "2"}).json() == events[:2]  # the CLI's string
    assert tenant.get(path, {"limit": -1}).json() == events
    assert tenant.get(path, {"limit": "-1", "event_type": None}).json() == events
    error(tenant.get(path, {"event_type": "bogus"}), 400)
    error(tenant.get(path, {"limit": "ten"}), 400)
    error(tenant.get(path, {"limit": "1.5"}), 400)


# ---- metadata (1.5.10) ---------------------------------------------------------------------

def test_metadata(api, tenant):
    net = created(tenant)
    base = "/networks/%s/metadata" % net["uuid"]
    assert tenant.get(base).json() == {}
    r = tenant.put(base + "/color", {"value": "blue"})
    assert r.status_code == 200 and r.text.strip() == "null"
    r = tenant.post(base, {"key": "sizes", "value": [1, 2, {"a": None}]})
    assert r.status_code == 200 and r.text.strip() == "null"
    tenant.put(base + "/n", {"value": 3.5})
    assert tenant.get(base).json() == {"color": "blue", "sizes": [1, 2, {"a": None}], "n": 3.5}
    tenant.put(base + "/color", {"value": "red"})  # overwrite
    assert tenant.get("/networks/" + net["uuid"]).json()["metadata"]["color"] == "red"
    for falsy in ("", 0, False, None, [], {}):
        error(tenant.put(base + "/color", {"value": falsy}), 400, "no value specified")
        error(tenant.post(base, {"key": "color", "value": falsy}), 400, "no value specified")
    error(tenant.put(base + "/color"), 400, "no value specified")
    error(tenant.post(base, {"value": 1}), 400, "no key specified")
    error(tenant.post(base, {"key": "", "value": 1}), 400, "no key specified")
    error(tenant.post(base, {"key": None, "value": 1}), 400, "no key specified")
    assert tenant.get(base).json()["color"] == "red"
    r = tenant.delete(base + "/color")
    assert r.status_code == 200 and r.text.strip() == "null"
    assert tenant.delete(base + "/never-set").status_code == 200
    assert tenant.get(base).json() == {"sizes": [1, 2, {"a": None}], "n": 3.5}
    wait_event(tenant, net, "delete metadata key request from REST API")
    events = tenant.get("/networks/%s/events" % net["uuid"], {"event_type": "audit"}).json()
    deletes = [e["extra"]["key"] for e in events
               if e["message"] == "delete metadata key request from REST API"]
    assert "color" in deletes
    sets = {(e["extra"]["key"], e["extra"]["method"]) for e in events
            if e["message"] == "set metadata key request from REST API"}
    assert sets >= {("color", "put"), ("sizes", "post")}
    # no state check: works on a deleted network by uuid
    set_state(api, net, "deleted")
    assert tenant.put(base + "/after", {"value": 1}).status_code == 200
    assert tenant.get(base).json()["after"] == 1


# ---- ping (1.5.9) --------------------------------------------------------------------------

def test_ping_needs_a_ready_network(api, tenant):
    net = created(tenant, "10.6.0.0/24")
    error(tenant.get("/networks/%s/ping/10.6.0.5" % net["uuid"]), 406,
          "network %s is not ready (initial)" % net["uuid"])
    # one that will never be ready is not 406: the client would retry it for an hour
    set_state(api, net, "deleted")
    error(tenant.get("/networks/%s/ping/10.6.0.5" % net["uuid"]), 409,
          "network %s is not ready (deleted)" % net["uuid"])


def test_ping_bad_addresses(api, tenant):
    net = deployed(api, tenant, "10.6.0.0/24")
    path = "/networks/%s/ping/" % net["uuid"]
    error(tenant.get(path + "nonsense"), 400, "invalid address")
    error(tenant.get(path + "10.6.0.256"), 400, "invalid address")
    error(tenant.get(path + "10.7.0.5"), 400, "ping request for address outside network block")
    error(tenant.get(path + "::1"), 400, "ping request for address outside network block")
    no_jobs(api, net)


# ---- routed addresses (1.5.11) -------------------------------------------------------------

def floating_record(api, address):
    recs = {a["address"]: a for a in api.system.get("/networks/floating/addresses").json()}
    return recs.get(address)


def test_route_and_unroute(api, tenant):
    net = deployed(api, tenant)
    neighbour = deployed(api, tenant)
    r = tenant.post("/networks/%s/route" % net["uuid"])
    assert r.status_code == 200, r.text
    address = r.json()
    assert isinstance(address, str) and address.startswith("198.51.100.")
    one_job(api, net, "network.route", {"address": address})
    rec = floating_record(api, address)
    assert rec["type"] == "routed" and rec["user"] == ["network", net["uuid"]]
    wait_event(tenant, net, "route request from REST API")

    error(tenant.delete("/networks/%s/route/%s" % (neighbour["uuid"], address)), 403,
          "address not routed by this network")
    error(tenant.delete("/networks/%s/route/198.51.100.0" % net["uuid"]), 404,
          "address not routed")  # reserved, but not a routed address
    error(tenant.delete("/networks/%s/route/203.0.113.9" % net["uuid"]), 404,
          "address not routed")
    error(tenant.delete("/networks/%s/route/junk" % net["uuid"]), 404, "address not routed")
    no_jobs(api, neighbour)
    r = tenant.delete("/networks/%s/route/%s" % (net["uuid"], address))
    assert r.status_code == 200 and r.text.strip() == "null"
    one_job(api, net, "network.unroute", {"address": address})
    assert floating_record(api, address)["type"] == "deletion-halo"  # ARCHITECTURE 5.2
    error(tenant.delete("/networks/%s/route/%s" % (net["uuid"], address)), 404,
          "address not routed")
    no_jobs(api, net)
    wait_event(tenant, net, "unroute request from REST API")


def test_route_needs_a_ready_network(api, tenant):
    net = created(tenant)
    error(tenant.post("/networks/%s/route" % net["uuid"]), 406,
          "network %s is not ready (initial)" % net["uuid"])
    error(tenant.delete("/networks/%s/route/198.51.100.7" % net["uuid"]), 406,
          "network %s is not ready (initial)" % net["uuid"])
    set_state(api, net, "error")
    error(tenant.post("/networks/%s/route" % net["uuid"]), 409,
          "network %s is not ready (error)" % net["uuid"])


# ---- hosted DNS (1.5.12) -------------------------------------------------------------------

def test_dns_entries(api, tenant):
    net = deployed(api, tenant, provide_dns=True)
    path = "/networks/%s/dns" % net["uuid"]
    r = tenant.post(path, {"name": "www", "value": "10.0.0.20"})
    assert r.status_code == 200 and r.text.strip() == "null"
    one_job(api, net, "network.dns_update")
    assert tenant.post(path, {"name": "db.internal.example", "value": "10.0.0.21"}).status_code \
        == 200
    one_job(api, net, "network.dns_update")
    r = tenant.delete(path, {"name": "www"})
    assert r.status_code == 200 and r.text.strip() == "null"
    one_job(api, net, "network.dns_update")
    for bad in ("", "-www", "www-", "a..b", "has space", "host:80", "10.0.0.1", "x" * 64,
                "under_score", ".lead", None):
        error(tenant.post(path, {"name": bad, "value": "10.0.0.22"}), 400, "invalid DNS name")
    for bad in ("", "10.0.0", "2001:db8::1", "www", None):
        error(tenant.post(path, {"name": "ok", "value": bad}), 400)
    error(tenant.delete(path, {"name": "bad name"}), 400, "invalid DNS name")
    no_jobs(api, net)


def test_dns_needs_provide_dns_and_ready(api, tenant):
    plain = deployed(api, tenant)
    error(tenant.post("/networks/%s/dns" % plain["uuid"], {"name": "www", "value": "10.0.0.2"}),
          400, "network does not provide DNS")
    error(tenant.delete("/networks/%s/dns" % plain["uuid"], {"name": "www"}), 400,
          "network does not provide DNS")
    fresh = created(tenant, provide_dns=True)
    error(tenant.post("/networks/%s/dns" % fresh["uuid"], {"name": "www", "value": "10.0.0.2"}),
          406, "network %s is not ready (initial)" % fresh["uuid"])
    no_jobs(api, plain)


# ---- a second sf-api: tiny floating pool, short ping timeout, a missing queue -------------

@pytest.fixture(scope="module")
def small(api):
    """A private sf-api with a /29 floating pool (5 free addresses) and a 1 s ping timeout,
    with its own Redis prefix and vhost, as an Api of its own."""
    tag = random_name()
    prefix = "sftest-%s:" % tag
    vhost = "sfapi-%s" % tag
    create_vhost(vhost)
    amqp = vhost_url(os.environ["SF_AMQP_URL"], vhost)
    server = None
    try:
        declare_topology(amqp)
        server = SfApi("sf-api-small-" + tag, api.redis_url, prefix, amqp,
                       env={"SF_FLOATING_NETWORK": "192.0.2.0/29", "SF_PING_TIMEOUT_MS": "1000"})
        server.start().wait_ready()
        yield Api(server, api.redis_url, prefix, amqp, vhost)
        assert server.stop() == 0, server.log_tail(80)
    finally:
        if server:
            server.stop()
        delete_vhost(vhost)
        redis_delete_prefix(api.redis_url, prefix)


def test_route_pool_full(small):
    net = deployed(small, small.system)
    got = [small.system.post("/networks/%s/route" % net["uuid"]) for _ in range(5)]
    assert [r.status_code for r in got] == [200] * 5, [r.text for r in got]
    assert sorted(r.json() for r in got) == ["192.0.2.%d" % i for i in range(2, 7)]
    error(small.system.post("/networks/%s/route" % net["uuid"]), 507,
          "No free addresses on network")
    jobs = jobs_of(small, net["uuid"])
    assert sorted((j["type"], j["args"]["address"]) for j in jobs) == \
        [("network.route", "192.0.2.%d" % i) for i in range(2, 7)]


def expired_jobs(api, net, timeout=10.0):
    """The jobs of net that expired unanswered and were dead-lettered (sf.jobs.dead); others'
    dead letters are drained and dropped."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = [j for j in api.jobs("dead", timeout=0.5) if j["object"]["uuid"] == net["uuid"]]
        if jobs or time.monotonic() >= deadline:
            return jobs


def test_ping_times_out_without_a_network_node(small):
    net = deployed(small, small.system, "10.6.0.0/24")
    started = time.monotonic()
    r = small.system.get("/networks/%s/ping/10.6.0.5" % net["uuid"])
    msg = error(r, 504)
    assert re.fullmatch(r"the network node did not answer the ping request within 1 s", msg)
    assert time.monotonic() - started < 10
    # The request expires with the timeout, so a network node that comes late does not run
    # it: it is dead-lettered instead of waiting in sf.jobs.networknode.
    jobs = expired_jobs(small, net)
    assert [j["type"] for j in jobs] == ["network.ping"], jobs
    job = jobs[0]
    assert job["object"] == {"type": "network", "uuid": net["uuid"]}
    assert job["args"] == {"address": "10.6.0.5"}
    assert job["request_id"] == r.headers["X-Request-ID"]
    no_jobs(small, net)
    wait_event(small.system, net, "ping request from REST API")


def test_create_when_the_job_cannot_be_queued(small):
    """With no networknode queue the deploy job is unroutable: the network is not left in
    initial with no job, it is put in error with the reason, and the answer is 503."""
    conn = pika.BlockingConnection(pika.URLParameters(small.amqp_url))
    try:
        conn.channel().queue_delete("sf.jobs.networknode")
        r = create(small.system)
    finally:
        conn.close()
        declare_topology(small.amqp_url)
    msg = error(r, 503)
    m = re.search(r"network ([0-9a-f-]{36}) was created", msg)
    assert m, msg
    net = small.system.get("/networks/" + m.group(1)).json()
    assert net["state"] == "error"
    r = small.system.delete("/networks/" + net["uuid"])  # and it can be deleted
    assert r.status_code == 200, r.text
    one_job(small, net, "network.destroy")
