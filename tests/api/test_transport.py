# SPDX-License-Identifier: Apache-2.0
"""Wire conventions every endpoint shares (spec 1.0, 1.2): content types, request ids, 404/405,
body limits and parsing, authentication failures, and what happens when Redis goes away."""
import re
import shutil
import signal
import threading
import time

import pytest
import requests

from conftest import Client, PrivateRedis, SfApi, free_port, random_name, redis_delete_prefix

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CAPABILITIES = ["list-addresses", "route-addresses", "get-network-namespace", "provide-dns",
                "extra-dns-entries", "events-by-type", "interface-metadata",
                "hot-plug-interface", "node-get"]
LIMIT = 65536  # sf-api's default max_body_bytes


def assert_error(r, status, message=None):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert not r.text.endswith("\n"), "error bodies have no trailing newline"
    body = r.json()
    assert set(body) == {"error", "status"}
    assert body["status"] == status
    if message is not None:
        assert body["error"] == message
    return body["error"]


def test_root_is_public_html_with_capabilities(api):
    r = requests.get(api.url + "/", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<title>Shaken Fist REST API service</title>" in r.text
    assert "Machine searchable API capabilities" in r.text
    for cap in CAPABILITIES:
        assert cap in r.text, cap


def test_root_tolerates_query_and_trailing_slash(api):
    assert requests.get(api.url + "/?x=1", timeout=10).status_code == 200
    assert api.system.get("/networks/").status_code == 200


def test_request_id_is_echoed(api):
    rid = "abc-123_X.y"
    assert requests.get(api.url + "/", headers={"X-Request-ID": rid},
                        timeout=10).headers["X-Request-ID"] == rid
    # on errors too, and a long one up to 128 characters
    rid = "r" * 128
    r = requests.get(api.url + "/no/such/path", headers={"X-Request-ID": rid}, timeout=10)
    assert r.status_code == 404 and r.headers["X-Request-ID"] == rid


@pytest.mark.parametrize("sent", [None, "", "has space", "x" * 129, "semi;colon", "é"])
def test_request_id_is_generated_unless_sane(api, sent):
    headers = {} if sent is None else {"X-Request-ID": sent.encode()}
    r = requests.get(api.url + "/", headers=headers, timeout=10)
    assert UUID_RE.match(r.headers["X-Request-ID"]), r.headers["X-Request-ID"]
    r2 = requests.get(api.url + "/", headers=headers, timeout=10)
    assert r2.headers["X-Request-ID"] != r.headers["X-Request-ID"]


def test_unknown_url_is_json_404(api):
    for path in ["/nope", "/networks/x/nope", "//networks", "/networks/a/metadata/k/extra"]:
        assert_error(api.system.get(path), 404, "not found")
    # no token needed to learn that a path does not exist
    assert_error(requests.get(api.url + "/nope", timeout=10), 404, "not found")


def test_wrong_method_is_405(api):
    for method, path in [("PUT", "/networks"), ("PATCH", "/networks"), ("DELETE", "/"),
                         ("POST", "/auth/namespaces/system/keys/x")]:
        r = api.system.request(method, path)
        assert r.status_code == 405, (method, path, r.text)
        assert r.json() == {"message": "The method is not allowed for the requested URL."}
    # before authentication
    r = requests.put(api.url + "/networks", timeout=10)
    assert r.status_code == 405


def test_success_body_is_json_with_newline(api):
    r = api.system.get("/networks")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.text.endswith("\n")
    assert isinstance(r.json(), list)


def test_path_parameters_are_url_decoded(api):
    # One segment "does/not/exist": the route matches and the network lookup says so; had the
    # "%2F" been decoded before routing, no route would have matched ("not found").
    assert_error(api.system.get("/networks/does%2Fnot%2Fexist"), 404, "network not found")
    assert_error(api.system.get("/networks/does/not/exist"), 404, "not found")


def test_body_over_limit_is_413(api):
    start = time.monotonic()
    r = api.system.post("/networks", raw=b" " * (LIMIT + 1),
                        headers={"Content-Type": "application/json"})
    assert_error(r, 413, f"request body too large (limit {LIMIT} bytes)")
    assert UUID_RE.match(r.headers["X-Request-ID"])
    # A body at the limit is read (and here refused for what it is, not for its size).
    r = api.system.get("/networks", raw=b"{" + b" " * (LIMIT - 2) + b"}")
    assert r.status_code == 200, r.text
    # GET bodies are bounded too, and nothing waits for a body that is never read
    r = api.system.get("/networks", raw=b"[" * 100000)
    assert_error(r, 413)
    assert time.monotonic() - start < 10


def test_chunked_body_over_limit_is_cut_off(api):
    sent = 0

    def endless():
        nonlocal sent
        while sent < 200 * LIMIT:
            sent += 8192
            yield b" " * 8192

    try:
        r = api.system.post("/networks", raw=endless(),
                            headers={"Content-Type": "application/json"})
        assert r.status_code == 413, r.text
    except requests.ConnectionError:
        pass  # MHD cannot answer in the middle of an upload: the connection is closed
    assert sent < 200 * LIMIT, "the server kept reading past the limit"
    assert api.system.get("/networks").status_code == 200


@pytest.mark.parametrize("raw", [b'{"netblock": ', b"{'a': 1}", b"nul", b"\xff\xfe", b"{}}",
                                 b'{"a": 1, "a": 2}'])
def test_malformed_json_is_400(api, raw):
    msg = assert_error(api.system.post("/networks", raw=raw), 400)
    assert msg.startswith("invalid JSON body"), msg


@pytest.mark.parametrize("raw", [b"[]", b"[1, 2]", b'"text"', b"null", b"3", b"true"])
def test_json_that_is_not_an_object_is_400(api, raw):
    assert_error(api.system.get("/networks", raw=raw), 400,
                 "invalid JSON body: expected an object")


def test_deep_nesting_is_a_clean_4xx(api):
    # under the size limit: jansson's depth limit refuses it
    msg = assert_error(api.system.get("/networks", raw=b"[" * 60000), 400)
    assert "depth" in msg
    deep = b'{"all": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    assert_error(api.system.get("/networks", raw=deep), 400)
    # nested within the limit: reaches the schema, which refuses the type
    ok_depth = b'{"all": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    msg = assert_error(api.system.get("/networks", raw=ok_depth), 400)
    assert "/all" in msg
    assert api.system.get("/networks").status_code == 200  # still alive


def test_empty_body_is_an_empty_object(api):
    r = api.system.get("/networks", raw=b"")
    assert r.status_code == 200
    r = api.system.get("/networks", raw=b"{}")
    assert r.status_code == 200


def test_unknown_body_key_is_400(api):
    msg = assert_error(api.system.get("/networks", {"foo": 1}), 400)
    assert "foo" in msg
    # routes without a body schema accept only an empty object
    msg = assert_error(requests.get(api.url + "/", data=b'{"x": 1}', timeout=10), 400)
    assert "/x" in msg


def test_wrong_type_is_400_naming_the_field(api):
    msg = assert_error(api.system.get("/networks", {"all": "yes"}), 400)
    assert "/all" in msg


@pytest.mark.parametrize("auth", [None, "", "Bearer", "Bearer garbage", "Basic Zm9vOmJhcg==",
                                  "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOlsic3lzdGVtIiwiZGVwbG95Il19."])
def test_missing_or_bad_token_is_401(api, auth):
    c = Client(api.url)
    r = c.get("/networks", headers={"Authorization": auth} if auth is not None else None)
    assert_error(r, 401)


def test_auth_failure_wins_over_body_schema(api):
    # 401 before the body is validated: an anonymous caller learns nothing about the schema
    r = requests.get(api.url + "/networks", data=b'{"foo": 1}', timeout=10)
    assert_error(r, 401)


# ---- Redis going away ---------------------------------------------------------------------


def test_redis_going_away_gives_503_then_recovers(api, private_vhost):
    redis = PrivateRedis().start()
    server = SfApi("sf-api-redis-away-" + random_name(), redis.url, "sf:", private_vhost)
    try:
        server.start().wait_ready()
        client = Client(server.url, "system", server.system_key)
        client.login()
        assert client.get("/networks").status_code == 200

        redis.stop()
        auth = {"Authorization": "Bearer " + client.token}
        for _ in range(3 * 4):  # new connections, so that every HTTP thread gets some
            start = time.monotonic()
            r = requests.get(server.url + "/networks", headers=auth, timeout=10)
            assert time.monotonic() - start < 3, "a 503 must come promptly"
            msg = assert_error(r, 503)
            assert msg.startswith("service unavailable: "), msg
        assert requests.get(server.url + "/", timeout=10).status_code == 200  # no Redis needed

        redis.start()  # same port and data directory: the token is still good
        deadline = time.monotonic() + 20
        while client.get("/networks").status_code != 200:
            assert time.monotonic() < deadline, "sf-api did not recover after Redis came back"
            time.sleep(0.2)
    finally:
        rc = server.stop()
        redis.close()
    assert rc == 0, server.log_tail()


def test_start_waits_for_redis_and_stops_cleanly(api, private_vhost):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    server = SfApi("sf-api-no-redis-" + random_name(), dead, "sf:", private_vhost)
    server.start()
    try:
        time.sleep(2)
        assert server.proc.poll() is None, "sf-api gave up instead of waiting:\n" + \
            server.log_tail()
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/", timeout=2)  # not serving before it is ready
    finally:
        start = time.monotonic()
        rc = server.stop()
    assert rc == 0, server.log_tail()
    assert time.monotonic() - start < 5
    assert "redis" in server.log_text()


def test_system_only_route_refuses_a_tenant_before_reading_the_body(api, tenant):
    # POST /auth/namespaces is system-only: 401 "unauthorized", even with a body that its
    # schema would refuse
    assert_error(tenant.post("/auth/namespaces", {"bogus": 1}), 401, "unauthorized")
    assert_error(tenant.get("/nodes"), 401, "unauthorized")
    assert api.system.get("/nodes").status_code == 200


def test_jobs_carry_the_request_id(api, tenant):
    rid = "job-trace-" + "x" * 100  # longer than the 64 characters a log line keeps
    r = tenant.post("/networks", {"netblock": "10.30.0.0/24", "name": "rid", "provide_dhcp": True,
                                  "provide_nat": True, "namespace": None},
                    headers={"X-Request-ID": rid})
    assert r.status_code == 200, r.text
    assert r.headers["X-Request-ID"] == rid
    net = r.json()["uuid"]
    jobs = [j for j in api.jobs("networknode") if j["object"]["uuid"] == net]
    assert [j["type"] for j in jobs] == ["network.deploy"]
    assert jobs[0]["request_id"] == rid
    assert jobs[0]["object"] == {"type": "network", "uuid": net}


def test_missing_body_schema_stops_the_start(api, tmp_path):
    schemas = tmp_path / "schemas"
    shutil.copytree(api.schema_dir, schemas)
    (schemas / "api" / "networks-create.json").unlink()
    server = SfApi("sf-api-no-schema-" + random_name(), api.redis_url, "sf-unused:",
                   api.amqp_url, env={"SF_SCHEMA_DIR": str(schemas)})
    server.start()
    try:
        server.proc.wait(30)
    finally:
        server.stop()
    assert server.proc.returncode == 1
    assert "networks-create.json" in server.log_text()


def test_sigterm_lets_in_flight_requests_finish(api, private_vhost):
    server = SfApi("sf-api-drain-" + random_name(), api.redis_url, f"sftest-drain-{random_name()}:",
                   private_vhost)
    results = []
    try:
        server.start().wait_ready()

        def login():  # POST /auth hashes the key: slow enough to be in flight
            try:
                r = requests.post(server.url + "/auth", json={"namespace": "system",
                                                              "key": server.system_key},
                                  timeout=30)
                results.append(r.status_code)
            except requests.RequestException as e:
                results.append(repr(e))

        threads = [threading.Thread(target=login) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        server.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(30)
    finally:
        rc = server.stop()
        redis_delete_prefix(api.redis_url, server.env["SF_REDIS_PREFIX"])
    assert results == [200] * 4, results
    assert rc == 0, server.log_tail()
