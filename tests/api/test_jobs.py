# SPDX-License-Identifier: Apache-2.0
"""GET /jobs and GET /jobs/<uuid> (system namespace only), and the "queued" status record that
sf-api writes when it publishes a job (api_publish_job; shared/include/sf/jobstatus.h). No
worker runs in this layer, so the jobs stay queued; tests/e2e/test_submit.py follows them to
done and failed with the real workers."""
import json
import subprocess
import time
import uuid

import pika
import pytest

from conftest import Api, SfApi, declare_topology, random_name, redis_delete_prefix

JOB_FIELDS = {"job", "state", "type", "object", "node", "attempts", "error", "queued_at",
              "started_at", "finished_at"}
INDEX_MAX = 10000  # SF_JOB_INDEX_MAX


def redis(api, *args, stdin=None):
    res = subprocess.run(["redis-cli", "-u", api.redis_url, *args], capture_output=True,
                         text=True, timeout=120, check=True, input=stdin)
    return res.stdout.strip()


def resp(*args):
    """One command in the Redis protocol, for redis-cli --pipe."""
    return f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)


def new_network(api, client=None):
    """POST /networks: its deploy job is published (and drained from the queue here)."""
    r = (client or api.system).post("/networks", {"netblock": "10.55.0.0/24",
                                                  "name": "jobs-" + random_name(6)})
    assert r.status_code == 200, r.text
    net = r.json()
    deploys = [j for j in api.jobs("networknode", timeout=2.0)
               if j["object"]["uuid"] == net["uuid"]]
    assert [j["type"] for j in deploys] == ["network.deploy"]
    return net, deploys[0]


def jobs_list(api, body=None):
    r = api.system.get("/jobs", body)
    assert r.status_code == 200, r.text
    return r.json()


def test_publish_records_queued(api):
    before = time.time()
    net, sent = new_network(api)
    r = api.system.get("/jobs/" + sent["job"])
    assert r.status_code == 200, r.text
    rec = r.json()
    assert set(rec) == JOB_FIELDS
    assert rec["job"] == sent["job"] and rec["state"] == "queued"
    assert rec["type"] == "network.deploy"
    assert rec["object"] == {"type": "network", "uuid": net["uuid"]}
    assert rec["node"] is None and rec["attempts"] == 0 and rec["error"] is None
    assert rec["queued_at"] == pytest.approx(sent["submitted_at"], abs=1e-5)
    assert before - 1 <= rec["queued_at"] <= time.time() + 1
    assert rec["started_at"] is None and rec["finished_at"] is None
    # the record expires a day after its last change
    ttl = int(redis(api, "TTL", f"{api.redis_prefix}job:{sent['job']}"))
    assert 24 * 3600 - 60 < ttl <= 24 * 3600


def test_list_newest_first_and_limit(api):
    sent = [new_network(api)[1]["job"] for _ in range(3)]
    jobs = jobs_list(api)
    assert len(jobs) <= 100
    ids = [j["job"] for j in jobs]
    assert ids[:3] == sent[::-1]
    assert all(set(j) == JOB_FIELDS for j in jobs)
    queued = [j["queued_at"] for j in jobs]
    assert queued == sorted(queued, reverse=True)
    assert [j["job"] for j in jobs_list(api, {"limit": 2})] == ids[:2]
    assert [j["job"] for j in jobs_list(api, {"limit": "1"})] == ids[:1]  # as a CLI sends it
    assert [j["job"] for j in jobs_list(api, {"limit": None})] == ids


@pytest.mark.parametrize("limit,message", [
    (0, "limit must be between 1 and 10000, not 0"),
    (-5, "limit must be between 1 and 10000, not -5"),
    (10001, "limit must be between 1 and 10000, not 10001"),
    ("many", 'limit must be an integer, not "many"'),
])
def test_bad_limit(api, limit, message):
    r = api.system.get("/jobs", {"limit": limit})
    assert r.status_code == 400, r.text
    assert r.json() == {"error": message, "status": 400}


def test_unknown_body_key(api):
    r = api.system.get("/jobs", {"state": "queued"})
    assert r.status_code == 400, r.text


def test_unknown_job(api):
    for ref in (str(uuid.uuid4()), "not-a-uuid"):
        r = api.system.get("/jobs/" + ref)
        assert r.status_code == 404, r.text
        assert r.json() == {"error": "job not found", "status": 404}


def test_expired_record_is_left_out(api):
    a = new_network(api)[1]["job"]
    b = new_network(api)[1]["job"]
    redis(api, "DEL", f"{api.redis_prefix}job:{b}")
    ids = [j["job"] for j in jobs_list(api, {"limit": 10})]
    assert b not in ids and a in ids
    assert api.system.get("/jobs/" + b).status_code == 404


def test_jobs_are_system_only(api, tenant):
    net, sent = new_network(api, tenant)
    for path in ("/jobs", "/jobs/" + sent["job"], "/jobs/" + str(uuid.uuid4())):
        r = tenant.get(path)
        assert r.status_code == 401, (path, r.text)
    assert api.system.get("/jobs/" + sent["job"]).json()["object"]["uuid"] == net["uuid"]


def test_index_is_capped(api):
    """The index keeps the 10000 most recently queued jobs: filled with older entries, one
    more publish drops the oldest."""
    index = api.redis_prefix + "jobs"
    now = time.time()
    filler = [str(uuid.uuid4()) for _ in range(INDEX_MAX)]
    redis(api, "--pipe", stdin="".join(resp("ZADD", index, "%.6f" % (now - 3600 + i * 0.001), u)
                                       for i, u in enumerate(filler)))
    assert int(redis(api, "ZCARD", index)) >= INDEX_MAX
    sent = new_network(api)[1]["job"]
    assert int(redis(api, "ZCARD", index)) == INDEX_MAX
    assert redis(api, "ZSCORE", index, filler[0]) == ""
    assert redis(api, "ZSCORE", index, filler[-1]) != ""
    assert jobs_list(api, {"limit": 1})[0]["job"] == sent
    # the filler has no records: a full-size listing holds only real jobs
    listed = jobs_list(api, {"limit": INDEX_MAX})
    assert listed and all(set(j) == JOB_FIELDS for j in listed)
    redis(api, "ZREM", index, *filler[1:])


@pytest.fixture
def private_api(api, private_vhost):
    """A second sf-api with its own Redis prefix and vhost, as an Api."""
    prefix = "sftest-%s:" % random_name()
    server = SfApi("sf-api-jobs-" + random_name(), api.redis_url, prefix, private_vhost)
    try:
        server.start().wait_ready()
        yield Api(server, api.redis_url, prefix, private_vhost, None)
        assert server.stop() == 0, server.log_tail(80)
    finally:
        server.stop()
        redis_delete_prefix(api.redis_url, prefix)


def test_unpublished_job_is_recorded_failed(private_api):
    """With no networknode queue the deploy job is unroutable: its record says so."""
    api = private_api
    conn = pika.BlockingConnection(pika.URLParameters(api.amqp_url))
    try:
        conn.channel().queue_delete("sf.jobs.networknode")
        r = api.system.post("/networks", {"netblock": "10.56.0.0/24", "name": "unrouted"})
    finally:
        conn.close()
        declare_topology(api.amqp_url)
    assert r.status_code == 503, r.text
    jobs = jobs_list(api)
    assert len(jobs) == 1, json.dumps(jobs)
    rec = jobs[0]
    assert rec["type"] == "network.deploy" and rec["state"] == "failed"
    assert rec["error"].startswith("not published to 'networknode': ")
    assert rec["finished_at"] >= rec["queued_at"]
