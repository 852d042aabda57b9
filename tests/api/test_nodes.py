# SPDX-License-Identifier: Apache-2.0
"""GET /nodes and GET /nodes/<name>: the node registry, for the system namespace only. Nodes are
registered by `registered_node` (test_interfaces.py), which writes the entry as the workers'
heartbeat does; see there why the real sf-hypervisor cannot run in this layer."""
import time

from test_interfaces import registered_node  # noqa: F401 (a fixture)


def node_view(api, name):
    r = api.system.get("/nodes/" + name)
    assert r.status_code == 200, r.text
    return r.json()


def test_nodes_list_and_get(api, registered_node):  # noqa: F811
    registered_node("hv2")
    registered_node("hv0")
    r = api.system.get("/nodes")
    assert r.status_code == 200, r.text
    names = [n["name"] for n in r.json()]
    assert names == sorted(names) and {"hv0", "hv2"} <= set(names)
    node = {n["name"]: n for n in r.json()}["hv2"]
    assert set(node) == {"name", "role", "mesh_ip", "version", "last_seen", "state"}
    assert node["role"] == "hypervisor"
    assert node["mesh_ip"] == "198.18.0.101"
    assert node["state"] == "up"
    assert abs(node["last_seen"] - time.time()) < 60
    assert node_view(api, "hv2") == node


def test_node_without_heartbeat_is_missing(api, registered_node):  # noqa: F811
    registered_node("hv-gone", ttl_s=1)
    assert node_view(api, "hv-gone")["state"] == "up"
    deadline = time.monotonic() + 10
    while node_view(api, "hv-gone")["state"] != "missing":
        assert time.monotonic() < deadline, "hv-gone is still up"
        time.sleep(0.2)
    # the registry remembers every node it has seen
    nodes = {n["name"]: n for n in api.system.get("/nodes").json()}
    assert nodes["hv-gone"]["state"] == "missing"


def test_unknown_node(api):
    r = api.system.get("/nodes/nosuch")
    assert r.status_code == 404
    assert r.json() == {"error": "node not found", "status": 404}


def test_nodes_are_system_only(api, tenant, registered_node):  # noqa: F811
    registered_node("hv2")
    for path in ("/nodes", "/nodes/hv2", "/nodes/nosuch"):
        r = tenant.get(path)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["status"] == 401


def test_nodes_take_no_body(api, registered_node):  # noqa: F811
    registered_node("hv2")
    assert api.system.get("/nodes", {"all": True}).status_code == 400
    assert api.system.get("/nodes/hv2", {"x": 1}).status_code == 400
