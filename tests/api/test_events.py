# SPDX-License-Identifier: Apache-2.0
"""Events (spec 5, 1.5.8): recorded from sf.events into Redis by sf-api's recorder and read
back by GET /networks/<ref>/events, newest first, with limit and event_type filters."""
import json
import time
import uuid

import pytest

from conftest import Client, PrivateRedis, SfApi, publish_event, rabbitmqctl, random_name

RECORD_KEYS = {"type", "timestamp", "fqdn", "duration", "message", "extra"}


def create_network(client, name="evnet", headers=None):
    r = client.post("/networks", {"netblock": "10.20.0.0/24", "name": name,
                                  "provide_dhcp": True, "provide_nat": True, "namespace": None},
                    headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["uuid"], r.headers["X-Request-ID"]


def events(client, net, body=None, expect=200):
    r = client.get(f"/networks/{net}/events", body)
    assert r.status_code == expect, r.text
    return r.json()


def wait_for_message(client, net, message, timeout=15.0):
    """Poll until an event with this message was recorded; all events, newest first."""
    deadline = time.monotonic() + timeout
    while True:
        got = events(client, net, {"limit": -1})
        if message in [e["message"] for e in got]:
            return got
        assert time.monotonic() < deadline, f"event {message!r} was not recorded: {got}"
        time.sleep(0.05)


def worker_event(net, etype, message, extra=None, ts=None):
    """An event as a worker publishes it (schemas/events/event.json)."""
    return {"event": str(uuid.uuid4()), "object": {"type": "network", "uuid": net},
            "type": etype, "message": message, "extra": extra,
            "timestamp": ts if ts is not None else time.time(), "fqdn": "hv-test",
            "duration": None, "request_id": None, "job": None}


def test_audit_event_of_a_create_is_recorded(api, tenant):
    net, rid = create_network(tenant)
    got = wait_for_message(tenant, net, "create request from REST API")
    create = [e for e in got if e["message"] == "create request from REST API"]
    assert len(create) == 1, got
    e = create[0]
    assert set(e) == RECORD_KEYS
    assert e["type"] == "audit"
    assert isinstance(e["timestamp"], float) and abs(e["timestamp"] - time.time()) < 60
    assert isinstance(e["fqdn"], str) and e["fqdn"]
    assert e["duration"] is None
    assert e["extra"]["request-id"] == rid


def test_event_keeps_a_long_request_id(api, tenant):
    rid = "r" * 128
    net, echoed = create_network(tenant, headers={"X-Request-ID": rid})
    assert echoed == rid
    got = wait_for_message(tenant, net, "create request from REST API")
    create = [e for e in got if e["message"] == "create request from REST API"]
    assert create[0]["extra"]["request-id"] == rid


def test_events_are_newest_first(api, tenant):
    net, _ = create_network(tenant)
    wait_for_message(tenant, net, "create request from REST API")
    r = tenant.put(f"/networks/{net}/metadata/colour", {"value": "blue"})
    assert r.status_code == 200, r.text
    got = wait_for_message(tenant, net, "set metadata key request from REST API")
    messages = [e["message"] for e in got]
    assert messages.index("set metadata key request from REST API") < \
        messages.index("create request from REST API"), messages
    stamps = [e["timestamp"] for e in got]
    assert stamps == sorted(stamps, reverse=True)


def test_limit(api, tenant):
    net, _ = create_network(tenant)
    for i in range(4):
        api.publish_event(worker_event(net, "status", f"L{i}"))
    everything = wait_for_message(tenant, net, "L3")
    assert len(everything) >= 5
    assert events(tenant, net, {"limit": 2}) == everything[:2]
    assert events(tenant, net, {"limit": "2"}) == everything[:2]  # the CLI sends a string
    assert events(tenant, net, {"limit": -1}) == everything
    assert events(tenant, net, {"limit": 0}) == []
    assert events(tenant, net, {"limit": None}) == everything  # the default, 100
    for bad in ["two", "1.5", [], 1.5]:
        events(tenant, net, {"limit": bad}, expect=400)


def test_default_limit_is_100(api, tenant):
    net, _ = create_network(tenant)
    for i in range(120):
        api.publish_event(worker_event(net, "status", f"step {i}"))
    assert len(wait_for_message(tenant, net, "step 119")) >= 121
    got = events(tenant, net)
    assert len(got) == 100
    assert got[0]["message"] == "step 119"


def test_event_type_filter(api, tenant):
    net, _ = create_network(tenant)
    api.publish_event(worker_event(net, "mutate", "test mutate", {"attribute": "state"}))
    api.publish_event(worker_event(net, "status", "deployed"))
    everything = wait_for_message(tenant, net, "deployed")
    assert {e["type"] for e in everything} >= {"audit", "mutate", "status"}
    for etype in ["audit", "mutate", "status", "usage"]:
        got = events(tenant, net, {"event_type": etype})
        assert got == [e for e in everything if e["type"] == etype], etype
    mutate = [e for e in everything if e["message"] == "test mutate"]
    assert mutate[0]["extra"] == {"attribute": "state"} and mutate[0]["fqdn"] == "hv-test"
    assert events(tenant, net, {"event_type": "usage"}) == []


def test_event_type_filter_pages_through_the_stream(api, tenant):
    # The one usage event is older than 250 status events: a filtered read must look past the
    # first page of the stream and stop once it has `limit` matches.
    net, _ = create_network(tenant)
    api.publish_event(worker_event(net, "usage", "usage", {"rx": {"bytes": 1}}))
    for i in range(250):
        api.publish_event(worker_event(net, "status", f"s{i}"))
    everything = wait_for_message(tenant, net, "s249")
    got = events(tenant, net, {"event_type": "usage", "limit": 1})
    assert [e["message"] for e in got] == ["usage"]
    status = [e for e in everything if e["type"] == "status"]
    assert len(status) >= 250
    got = events(tenant, net, {"event_type": "status", "limit": 210})
    assert got == status[:210] and got[0]["message"] == "s249" and got[-1]["message"] == "s40"
    assert events(tenant, net, {"event_type": "status", "limit": -1}) == status


@pytest.mark.parametrize("bad", ["bogus", "AUDIT", "audit "])
def test_unknown_event_type_is_400(api, tenant, bad):
    net, _ = create_network(tenant)
    events(tenant, net, {"event_type": bad}, expect=400)


def test_events_of_another_tenants_network_are_404(api, tenant, new_client):
    net, _ = create_network(tenant)
    ns = "t-other-" + uuid.uuid4().hex[:8]
    r = api.system.post("/auth/namespaces", {"namespace": ns, "key_name": "k", "key": "sekrit"})
    assert r.status_code == 200, r.text
    other = new_client(ns, "sekrit")
    events(other, net, expect=404)
    assert events(api.system, net)  # system sees everything


def test_stream_is_capped(api, tenant):
    net, _ = create_network(tenant)
    for i in range(1250):
        api.publish_event(worker_event(net, "status", f"n{i}"))
    deadline = time.monotonic() + 30
    while events(tenant, net, {"limit": 1})[0]["message"] != "n1249":
        assert time.monotonic() < deadline, "the recorder did not catch up"
        time.sleep(0.1)
    n = len(events(tenant, net, {"limit": -1}))
    # XADD MAXLEN ~ 1000 trims whole stream nodes (100 entries each) only
    assert 1000 <= n <= 1100, n


def test_recorder_drops_invalid_events_and_keeps_going(api, tenant):
    net, _ = create_network(tenant)
    api.publish_event(b"this is not json", f"network.{net}.audit")
    bad = worker_event(net, "audit", "no such type")
    bad["type"] = "bogus"
    api.publish_event(json.dumps(bad).encode(), f"network.{net}.bogus")
    api.publish_event(worker_event(net, "status", "after the bad ones"))
    got = wait_for_message(tenant, net, "after the bad ones")
    assert got[0]["message"] == "after the bad ones"
    assert "no such type" not in [e["message"] for e in got]
    assert "dropping an invalid event" in api.server.log_text()


def test_a_redelivered_event_is_stored_once(api, tenant):
    net, _ = create_network(tenant)
    ev = worker_event(net, "status", "twice")
    api.publish_event(ev)
    api.publish_event(ev)
    api.publish_event(worker_event(net, "status", "marker"))
    got = wait_for_message(tenant, net, "marker")
    assert [e["message"] for e in got].count("twice") == 1


def test_recorder_survives_redis_and_rabbitmq_going_away(api, private_vhost):
    redis = PrivateRedis().start()
    server = SfApi("sf-api-recorder-" + random_name(), redis.url, "sf:", private_vhost)

    def wait_recorded(client, net, message, timeout=30.0):
        # 503 while the HTTP thread's own connection is still backing off
        deadline = time.monotonic() + timeout
        while True:
            r = client.get(f"/networks/{net}/events", {"limit": -1})
            if r.status_code == 200 and message in [e["message"] for e in r.json()]:
                return
            assert r.status_code in (200, 503), r.text
            assert time.monotonic() < deadline, f"{message!r} was not recorded"
            time.sleep(0.1)

    try:
        server.start().wait_ready()
        client = Client(server.url, "system", server.system_key)
        client.login()
        net, _ = create_network(client)
        wait_recorded(client, net, "create request from REST API")

        # Redis away: the event stays unacked while the recorder retries, then it is stored
        redis.stop()
        publish_event(private_vhost, worker_event(net, "status", "while redis was away"))
        time.sleep(1)
        redis.start()
        wait_recorded(client, net, "while redis was away")

        # the broker drops every connection: the recorder reconnects and consumes again, and
        # the HTTP threads publish again
        vhost = private_vhost.rsplit("/", 1)[1]
        rabbitmqctl("close_all_connections", "-p", vhost, "test: dropping connections")
        publish_event(private_vhost, worker_event(net, "status", "after the broker dropped us"))
        wait_recorded(client, net, "after the broker dropped us")
        r = client.put(f"/networks/{net}/metadata/k", {"value": 1})
        assert r.status_code == 200, r.text
        wait_recorded(client, net, "set metadata key request from REST API")
    finally:
        rc = server.stop()
        redis.close()
    assert rc == 0, server.log_tail()
