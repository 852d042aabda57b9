# SPDX-License-Identifier: Apache-2.0
"""Concurrent calls against one sf-api (its HTTP thread pool, each thread with its own Redis and
RabbitMQ connections): creates never share a vxid, routes never share an address. Also the end
to end latency of POST /networks (printed, not asserted).

Networks are marked "created" in Redis where a route needs one, as in test_networks.py (no
network node runs here)."""
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import Client, random_name

CREATE_BODY = {"netblock": "10.0.0.0/24", "provide_dhcp": True, "provide_nat": True,
               "namespace": None}


def clone(client):
    """A Client with the same token and its own HTTP session (requests sessions are not meant
    to be shared between threads)."""
    c = Client(client.url, client.namespace, client.key)
    c.token = client.token
    return c


def per_thread(client):
    """A function returning this thread's clone of client."""
    local = threading.local()

    def get():
        if not hasattr(local, "client"):
            local.client = clone(client)
        return local.client
    return get


def namespace(api, new_client):
    ns = "t-" + random_name()
    key = random_name(16)
    r = api.system.post("/auth/namespaces", {"namespace": ns, "key_name": "k", "key": key})
    assert r.status_code == 200, r.text
    return new_client(ns, key)


def test_concurrent_creates_get_distinct_vxids(api, new_client):
    tenants = [namespace(api, new_client), namespace(api, new_client)]
    getters = [per_thread(t) for t in tenants]

    def one(i):
        body = dict(CREATE_BODY, name="c%d" % i)
        return getters[i % 2]().post("/networks", body)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(100)))
    assert [r.status_code for r in results] == [200] * 100, \
        [r.text for r in results if r.status_code != 200][:3]
    views = [r.json() for r in results]
    assert len({v["uuid"] for v in views}) == 100
    assert len({v["vxlan_id"] for v in views}) == 100
    for i, t in enumerate(tenants):
        listed = t.get("/networks").json()
        assert sorted(n["uuid"] for n in listed) == \
            sorted(v["uuid"] for v in views[i::2])
    jobs = [j for j in api.jobs("networknode", timeout=2.0) if j["type"] == "network.deploy"]
    assert {v["uuid"] for v in views} <= {j["object"]["uuid"] for j in jobs}


def test_concurrent_routes_get_distinct_addresses(api, tenant):
    nets = []
    for _ in range(4):
        r = tenant.post("/networks", CREATE_BODY)
        assert r.status_code == 200, r.text
        nets.append(r.json()["uuid"])
        subprocess.run(["redis-cli", "-u", api.redis_url, "HSET",
                        "%snetwork:{%s}" % (api.redis_prefix, nets[-1]), "state", "created"],
                       check=True, capture_output=True, timeout=30)
    get = per_thread(tenant)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda i: (nets[i % 4],
                                           get().post("/networks/%s/route" % nets[i % 4])),
                                range(40)))
    assert [r.status_code for _, r in results] == [200] * 40, \
        [r.text for _, r in results if r.status_code != 200][:3]
    addresses = [r.json() for _, r in results]
    assert len(set(addresses)) == 40
    recs = {a["address"]: a for a in api.system.get("/networks/floating/addresses").json()}
    for net, r in results:
        assert recs[r.json()]["type"] == "routed"
        assert recs[r.json()]["user"] == ["network", net]
    # give them back (into the deletion halo) so the session's pool is not exhausted
    with ThreadPoolExecutor(max_workers=16) as pool:
        done = list(pool.map(lambda nr: get().delete("/networks/%s/route/%s"
                                                     % (nr[0], nr[1].json())), results))
    assert [r.status_code for r in done] == [200] * 40
    api.jobs("networknode", timeout=0.5)


def test_create_latency(api, tenant, capsys):
    times = []
    for i in range(100):
        started = time.perf_counter()
        r = tenant.post("/networks", dict(CREATE_BODY, name="lat%d" % i))
        times.append((time.perf_counter() - started) * 1000.0)
        assert r.status_code == 200, r.text
    api.jobs("networknode", timeout=0.5)
    with capsys.disabled():
        print("\nPOST /networks: median %.1f ms over 100 (p90 %.1f ms, max %.1f ms)"
              % (statistics.median(times), sorted(times)[89], max(times)))
