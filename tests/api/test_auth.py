# SPDX-License-Identifier: Apache-2.0
"""POST /auth, tokens and the namespace API (spec 1.3, 1.4 and section 7), against the real
sf-api of the session.

Tokens are forged here with hmac/hashlib using the session's signing secret (api.auth_secret
when the conftest sets SF_AUTH_SECRET, else the one sf-api generated into Redis), to check
expiry, algorithms and claims without waiting 15 minutes."""
import base64
import hashlib
import hmac
import json
import secrets
import subprocess
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests


# ---- helpers ---------------------------------------------------------------------------------

def url(api, path):
    return api.url.rstrip("/") + path


def redis_cli(api, *args):
    u = urlsplit(api.redis_url)
    cmd = ["redis-cli", "-h", u.hostname or "127.0.0.1", "-p", str(u.port or 6379)]
    if u.password:
        cmd += ["-a", u.password, "--no-auth-warning"]
    if u.path.strip("/"):
        cmd += ["-n", u.path.strip("/")]
    out = subprocess.run(cmd + list(args), check=True, capture_output=True, text=True)
    return out.stdout.strip()


def auth(api, body=None, raw=None):
    """POST /auth without any client machinery."""
    if raw is not None:
        return requests.post(url(api, "/auth"), data=raw)
    return requests.post(url(api, "/auth"), json=body)


def login(api, namespace, key):
    r = auth(api, {"namespace": namespace, "key": key})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def call(api, method, path, token=None, body=None, authorization=None):
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif token is not None:
        headers["Authorization"] = "Bearer " + token
    return requests.request(method, url(api, path), headers=headers,
                            json=body if body is not None else None)


def error(r, status, message):
    assert r.status_code == status, r.text
    assert r.json() == {"error": message, "status": status}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def forge(secret, claims, alg="HS256"):
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = (header + "." + payload).encode()
    if alg == "none":
        return header + "." + payload + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return header + "." + payload + "." + b64url(hmac.new(secret.encode(), signing_input,
                                                          digest).digest())


@pytest.fixture(scope="module")
def secret(api):
    s = getattr(api, "auth_secret", None)
    if not s:
        s = redis_cli(api, "GET", api.redis_prefix + "auth:secret")
    assert s, "cannot find the session's JWT signing secret"
    return s


@pytest.fixture
def make_ns(api):
    """Factory: a fresh namespace made by system with one key; deleted afterwards."""
    made = []

    def make(key_name="k1", key=None):
        name = "ta-" + uuid.uuid4().hex[:12]
        key = key or secrets.token_urlsafe(16)
        r = api.system.post("/auth/namespaces",
                            {"namespace": name, "key_name": key_name, "key": key})
        assert r.status_code == 200, r.text
        made.append(name)
        return name, key

    yield make
    for name in made:
        api.system.delete("/auth/namespaces/" + name)


def wait_for_event(api, namespace, message, timeout=10.0):
    """The namespace's event stream (kept by sf-api's recorder) gets `message`."""
    stream = api.redis_prefix + "events:namespace:" + namespace
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if message in redis_cli(api, "XRANGE", stream, "-", "+"):
            return True
        time.sleep(0.1)
    return False


# ---- POST /auth (spec 1.3) -------------------------------------------------------------------

def test_auth_success_and_claims(api, make_ns):
    ns, key = make_ns(key_name="ci")
    r = auth(api, {"namespace": ns, "key": key})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900  # the conftest's token_minutes 15, as upstream's default

    header = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "=="))
    assert header["alg"] == "HS256"
    c = claims_of(body["access_token"])
    assert c["sub"] == [ns, "ci"]
    assert c["iss"] == "shakenfist"
    assert c["type"] == "access" and c["fresh"] is False
    assert isinstance(c["nonce"], str) and c["nonce"]
    assert c["nbf"] == c["iat"] and c["exp"] - c["iat"] == 900
    assert abs(c["iat"] - time.time()) < 60
    uuid.UUID(c["jti"])

    r = call(api, "GET", "/auth/namespaces/" + ns, body["access_token"])
    assert r.status_code == 200, r.text
    assert r.json()["name"] == ns


def test_auth_error_rows_in_order(api, make_ns):
    ns, key = make_ns()
    error(auth(api, {}), 400, "missing namespace in request")
    error(auth(api, raw=b""), 400, "missing namespace in request")
    error(auth(api, {"key": key}), 400, "missing namespace in request")
    # the namespace is checked before the key
    error(auth(api, {"namespace": "no-such-ns"}), 404, "namespace not found")
    error(auth(api, {"namespace": None, "key": key}), 404, "namespace not found")
    error(auth(api, {"namespace": "bad:name", "key": key}), 404, "namespace not found")
    error(auth(api, {"namespace": ns}), 400, "missing key in request")
    error(auth(api, {"namespace": ns, "key": ""}), 400, "missing key in request")
    error(auth(api, {"namespace": ns, "key": None}), 400, "missing key in request")
    error(auth(api, {"namespace": ns, "key": 1234}), 400, "key is not a string")
    error(auth(api, {"namespace": ns, "key": ["x"]}), 400, "key is not a string")
    error(auth(api, {"namespace": ns, "key": key + "x"}), 401, "unauthorized")
    # unknown body keys are 400 (spec 1.0)
    r = auth(api, {"namespace": ns, "key": key, "key_name": "k1"})
    assert r.status_code == 400, r.text


def test_wrong_key_is_audited(api, make_ns):
    ns, key = make_ns()
    error(auth(api, {"namespace": ns, "key": "wrong"}), 401, "unauthorized")
    assert wait_for_event(api, ns, "attempt to use incorrect namespace key")


def test_any_key_of_the_namespace_works(api, make_ns):
    ns, key1 = make_ns(key_name="one")
    key2 = secrets.token_urlsafe(16)
    r = api.system.post("/auth/namespaces/%s/keys" % ns, {"key_name": "two", "key": key2})
    assert r.status_code == 200 and r.json() == "two", r.text
    assert claims_of(login(api, ns, key1))["sub"] == [ns, "one"]
    assert claims_of(login(api, ns, key2))["sub"] == [ns, "two"]


def test_system_namespace_bootstrapped(api):
    r = api.system.get("/auth/namespaces/system")
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["name"] == "system" and "deploy" in view["keys"]
    assert view["state"] == "created" and view["version"] == 5
    assert claims_of(login(api, "system", api.system.key))["sub"] == ["system", "deploy"]


# ---- tokens on protected calls ---------------------------------------------------------------

def test_missing_or_malformed_authorization(api, make_ns):
    ns, key = make_ns()
    token = login(api, ns, key)
    path = "/auth/namespaces/" + ns
    assert call(api, "GET", path, token).status_code == 200
    for authorization in (None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer x.y.z",
                          "Bearer " + token[:-4], "Bearer " + token + "x", token):
        if authorization is None:
            r = requests.get(url(api, path))
        else:
            r = call(api, "GET", path, authorization=authorization)
        assert r.status_code == 401, (authorization, r.text)
        assert r.json()["status"] == 401


def test_expired_token(api, make_ns, secret):
    ns, key = make_ns()
    c = claims_of(login(api, ns, key))
    path = "/auth/namespaces/" + ns

    # the same claims re-signed work, so the only difference below is the expiry
    assert call(api, "GET", path, forge(secret, c)).status_code == 200
    now = int(time.time())
    c.update(iat=now - 1000, nbf=now - 1000, exp=now - 100)
    error(call(api, "GET", path, forge(secret, c)), 401, "token expired")
    c.update(exp=now - 1)
    error(call(api, "GET", path, forge(secret, c)), 401, "token expired")


def test_expiry_checked_on_every_use(api, make_ns, secret):
    """sf-api keeps the tokens it verified (per thread), but the time checks run again on each
    request: a token that was accepted is refused once its exp has passed."""
    ns, key = make_ns()
    c = claims_of(login(api, ns, key))
    path = "/auth/namespaces/" + ns
    c.update(exp=int(time.time()) + 3)
    token = forge(secret, c)
    for _ in range(8):  # over several connections, so most threads have seen it
        assert call(api, "GET", path, token).status_code == 200
    time.sleep(max(0.0, c["exp"] - time.time()) + 0.2)
    for _ in range(8):
        error(call(api, "GET", path, token), 401, "token expired")


def test_token_not_yet_valid(api, make_ns, secret):
    ns, key = make_ns()
    c = claims_of(login(api, ns, key))
    now = int(time.time())
    c.update(nbf=now + 3600, exp=now + 7200)
    error(call(api, "GET", "/auth/namespaces/" + ns, forge(secret, c)), 401,
          "token not yet valid")


def test_forged_tokens_rejected(api, make_ns, secret):
    ns, key = make_ns()
    c = claims_of(login(api, ns, key))
    path = "/auth/namespaces/" + ns
    bad_sig = "invalid JWT in Authorization header"

    error(call(api, "GET", path, forge("another secret entirely, 32 bytes", c)), 401, bad_sig)
    error(call(api, "GET", path, forge(secret, c, alg="none")), 401, bad_sig)
    error(call(api, "GET", path, forge(secret, c, alg="none")[:-1]), 401, bad_sig)
    # right secret, other HMAC algorithms: only HS256 is accepted
    error(call(api, "GET", path, forge(secret, c, alg="HS512")), 401, bad_sig)
    error(call(api, "GET", path, forge(secret, c, alg="HS384")), 401, bad_sig)

    # correctly signed, but claims that are not ours
    for change in ({"sub": ns}, {"sub": [ns]}, {"sub": [ns, "k1", "x"]}, {"type": "refresh"},
                   {"iss": "otherzone"}, {"nonce": None}, {"exp": "soon"}):
        bad = dict(c, **change)
        error(call(api, "GET", path, forge(secret, bad)), 401, "invalid token")
    bad = dict(c)
    del bad["exp"]
    error(call(api, "GET", path, forge(secret, bad)), 401, "invalid token")

    # a nonce that is not the key's current one, another key name, another namespace
    for change in ({"nonce": "0" * 36}, {"sub": [ns, "nosuchkey"]}, {"sub": ["no-such-ns", "k1"]}):
        error(call(api, "GET", path, forge(secret, dict(c, **change))), 401, "token revoked")
    # a token for system cannot be made up without the key's nonce
    error(call(api, "GET", "/auth/namespaces", forge(secret, dict(c, sub=["system", "deploy"]))),
          401, "token revoked")


def test_replacing_a_key_revokes_its_tokens(api, make_ns):
    ns, old_key = make_ns(key_name="main")
    path = "/auth/namespaces/" + ns
    old_token = login(api, ns, old_key)
    assert call(api, "GET", path, old_token).status_code == 200

    new_key = secrets.token_urlsafe(16)
    r = call(api, "POST", path + "/keys", old_token, {"key_name": "main", "key": new_key})
    assert r.status_code == 200 and r.json() == "main", r.text
    error(call(api, "GET", path, old_token), 401, "token revoked")
    error(auth(api, {"namespace": ns, "key": old_key}), 401, "unauthorized")
    new_token = login(api, ns, new_key)
    assert call(api, "GET", path, new_token).status_code == 200
    assert claims_of(new_token)["nonce"] != claims_of(old_token)["nonce"]

    # PUT .../keys/<name> replaces too
    newer_key = secrets.token_urlsafe(16)
    r = api.system.put(path + "/keys/main", {"key": newer_key})
    assert r.status_code == 200 and r.json() == "main", r.text
    error(call(api, "GET", path, new_token), 401, "token revoked")
    login(api, ns, newer_key)

    # and PUT .../keys {key_name, key}, what the Python client's update_namespace_key() sends
    newest_key = secrets.token_urlsafe(16)
    r = api.system.put(path + "/keys", {"key_name": "main", "key": newest_key})
    assert r.status_code == 200 and r.json() == "main", r.text
    error(auth(api, {"namespace": ns, "key": newer_key}), 401, "unauthorized")
    login(api, ns, newest_key)


def test_deleting_a_key_revokes_its_tokens(api, make_ns):
    ns, key = make_ns(key_name="keep")
    path = "/auth/namespaces/" + ns
    key2 = secrets.token_urlsafe(16)
    assert api.system.post(path + "/keys", {"key_name": "drop", "key": key2}).status_code == 200
    token2 = login(api, ns, key2)
    token1 = login(api, ns, key)
    assert call(api, "GET", path, token2).status_code == 200

    r = call(api, "DELETE", path + "/keys/drop", token1)
    assert r.status_code == 200 and r.json() is None, r.text
    error(call(api, "GET", path, token2), 401, "token revoked")
    error(auth(api, {"namespace": ns, "key": key2}), 401, "unauthorized")
    assert call(api, "GET", path, token1).status_code == 200


def test_deleting_a_namespace_revokes_its_tokens(api, make_ns):
    ns, key = make_ns()
    token = login(api, ns, key)
    assert api.system.delete("/auth/namespaces/" + ns).status_code == 200
    error(call(api, "GET", "/auth/namespaces", token), 401, "token revoked")
    error(auth(api, {"namespace": ns, "key": key}), 404, "namespace not found")

    # a namespace made again under the same name does not honour the old token
    r = api.system.post("/auth/namespaces", {"namespace": ns, "key_name": "k1", "key": key})
    assert r.status_code == 200, r.text
    error(call(api, "GET", "/auth/namespaces", token), 401, "token revoked")
    login(api, ns, key)


# ---- the namespace API (spec 1.4) -------------------------------------------------------------

def test_namespace_create_view_and_login(api, make_ns):
    ns, key = make_ns(key_name="first")
    r = api.system.get("/auth/namespaces/" + ns)
    assert r.status_code == 200, r.text
    assert r.json() == {"name": ns, "keys": ["first"], "trust": {"full": ["system"]},
                        "state": "created", "metadata": {}, "version": 5}
    login(api, ns, key)

    # without a key: a namespace nobody can log in to yet
    name = "ta-" + uuid.uuid4().hex[:12]
    r = api.system.post("/auth/namespaces", {"namespace": name})
    try:
        assert r.status_code == 200, r.text
        assert r.json()["keys"] == [] and r.json()["name"] == name
        # null key fields, as a client sending every argument would
        name2 = name + "-2"
        r = api.system.post("/auth/namespaces", {"namespace": name2, "key_name": None,
                                                 "key": None})
        assert r.status_code == 200, r.text
        assert api.system.delete("/auth/namespaces/" + name2).status_code == 200
    finally:
        api.system.delete("/auth/namespaces/" + name)


def test_namespace_create_errors(api, make_ns):
    ns, _ = make_ns()
    post = lambda body: api.system.post("/auth/namespaces", body)  # noqa: E731
    fresh = "ta-" + uuid.uuid4().hex[:12]

    error(post({}), 400, "no namespace specified")
    error(post({"namespace": ""}), 400, "no namespace specified")
    error(post({"namespace": None}), 400, "no namespace specified")
    error(post({"namespace": ns}), 403, "namespace exists")
    error(post({"namespace": "system"}), 403, "namespace exists")
    error(post({"namespace": fresh, "key_name": "k"}), 400, "no key specified")
    error(post({"namespace": fresh, "key_name": "k", "key": ""}), 400, "no key specified")
    error(post({"namespace": fresh, "key_name": "k", "key": 42}), 400, "key is not a string")
    error(post({"namespace": fresh, "key_name": "service_key", "key": "s"}), 403,
          "illegal key name")
    error(post({"namespace": fresh, "key_name": "_service_key_abcde", "key": "s"}), 403,
          "illegal key name")
    # names that cannot be stored, and unknown members: 400 from the schema
    for body in ({"namespace": "a:keys"}, {"namespace": "a/b"}, {"namespace": "-a"},
                 {"namespace": "x" * 64}, {"namespace": 7}, {"namespace": fresh, "banana": 1},
                 {"namespace": fresh, "key_name": "a/b", "key": "s"}):
        r = post(body)
        assert r.status_code == 400, (body, r.text)
    # none of that created anything
    error(api.system.get("/auth/namespaces/" + fresh), 404, "namespace not found")


def test_namespace_create_and_delete_are_system_only(api, tenant, make_ns):
    ns, _ = make_ns()
    error(tenant.post("/auth/namespaces", {"namespace": "ta-" + uuid.uuid4().hex[:12]}), 401,
          "unauthorized")
    error(tenant.delete("/auth/namespaces/" + tenant.namespace), 401, "unauthorized")
    error(tenant.delete("/auth/namespaces/" + ns), 401, "unauthorized")
    assert api.system.get("/auth/namespaces/" + ns).status_code == 200


def test_namespace_list_create_delete(api):
    """Upstream CI test_namespace: create a, b, c, d; delete c; the list has a, b, d."""
    names = ["ta-%s-%s" % (uuid.uuid4().hex[:8], x) for x in "abcd"]
    try:
        for n in names:
            assert api.system.post("/auth/namespaces", {"namespace": n}).status_code == 200
        r = api.system.delete("/auth/namespaces/" + names[2])
        assert r.status_code == 200 and r.json() is None, r.text
        listed = {v["name"] for v in api.system.get("/auth/namespaces").json()}
        assert {names[0], names[1], names[3], "system"} <= listed
        assert names[2] not in listed
        error(api.system.get("/auth/namespaces/" + names[2]), 404, "namespace not found")
    finally:
        for n in names:
            api.system.delete("/auth/namespaces/" + n)


def test_namespace_delete_errors(api, make_ns):
    error(api.system.delete("/auth/namespaces/no-such-ns"), 404, "namespace not found")
    error(api.system.delete("/auth/namespaces/system"), 403,
          "you cannot delete the system namespace")
    assert api.system.get("/auth/namespaces/system").status_code == 200


def set_network_state(api, net, state):
    """Stand in for the network node's state changes: only the state field of the network
    record (network:{<uuid>}, shared/redis-layout.md) is written; no worker runs here."""
    redis_cli(api, "HSET", "%snetwork:{%s}" % (api.redis_prefix, net["uuid"]), "state", state)
    assert api.system.get("/networks/" + net["uuid"]).json()["state"] == state


@pytest.mark.parametrize("state,blocks", [("initial", True), ("creating", True),
                                          ("created", True), ("error", False),
                                          ("delete-wait", False), ("deleted", False)])
def test_namespace_delete_with_networks(api, make_ns, state, blocks):
    """Spec 7: initial, creating and created networks block deleting their namespace;
    error, delete-wait and deleted ones do not."""
    ns, _ = make_ns()
    r = api.system.post("/networks", {"netblock": "10.99.0.0/24", "name": "blocker",
                                       "provide_dhcp": True, "provide_nat": True,
                                       "namespace": ns})
    assert r.status_code == 200, r.text
    net = r.json()
    api.jobs("networknode", timeout=0.2)  # drop the deploy job: other tests read their own
    set_network_state(api, net, state)
    r = api.system.delete("/auth/namespaces/" + ns)
    if blocks:
        error(r, 400, "you cannot delete a namespace with networks")
        assert api.system.get("/auth/namespaces/" + ns).status_code == 200
        set_network_state(api, net, "deleted")
        r = api.system.delete("/auth/namespaces/" + ns)
    assert r.status_code == 200 and r.json() is None, r.text
    error(api.system.get("/auth/namespaces/" + ns), 404, "namespace not found")


def test_key_api(api, make_ns):
    """Upstream CI test_auth, plus every error row of the key endpoints."""
    ns, _ = make_ns(key_name="k1")
    path = "/auth/namespaces/%s/keys" % ns
    s = api.system

    r = s.post(path, {"key_name": "test", "key": "secret-of-test"})
    assert r.status_code == 200 and r.json() == "test", r.text
    assert s.get(path).json() == ["k1", "test"]
    error(s.delete(path + "/banana"), 404, "key name not found in namespace")
    r = s.delete(path + "/test")
    assert r.status_code == 200 and r.json() is None, r.text
    assert s.get(path).json() == ["k1"]
    error(s.delete(path + "/test"), 404, "key name not found in namespace")

    error(s.post(path, {"key": "x"}), 400, "no key name specified")
    error(s.post(path, {"key_name": "", "key": "x"}), 400, "no key name specified")
    error(s.post(path, {"key_name": "k2"}), 400, "no key specified")
    error(s.post(path, {"key_name": "k2", "key": ""}), 400, "no key specified")
    error(s.post(path, {"key_name": "k2", "key": 5}), 400, "key is not a string")
    error(s.post(path, {"key_name": "_service_key", "key": "x"}), 403, "illegal key name")
    error(s.post(path, {"key_name": "_service_key_xyzab", "key": "x"}), 403, "illegal key name")
    error(s.post(path, {"key_name": "service_key", "key": "x"}), 403, "illegal key name")
    assert s.post(path, {"key_name": "k2", "key": "x", "banana": 1}).status_code == 400
    error(s.put(path + "/nosuch", {"key": "x"}), 404, "key name not found in namespace")
    error(s.put(path + "/k1", {}), 400, "no key specified")
    error(s.put(path + "/k1", {"key": 1}), 400, "key is not a string")
    assert s.get(path).json() == ["k1"]

    other = "/auth/namespaces/no-such-ns/keys"
    error(s.get(other), 404, "namespace not found")
    error(s.post(other, {"key_name": "a", "key": "b"}), 404, "namespace not found")
    error(s.put(other + "/k1", {"key": "b"}), 404, "namespace not found")
    error(s.delete(other + "/k1"), 404, "namespace not found")


def test_metadata_api(api, make_ns):
    ns, _ = make_ns()
    path = "/auth/namespaces/%s/metadata" % ns
    s = api.system

    assert s.get(path).json() == {}
    r = s.post(path, {"key": "colour", "value": "blue"})
    assert r.status_code == 200 and r.json() is None, r.text
    r = s.put(path + "/nested", {"value": {"a": [1, 2.5, None, True]}})
    assert r.status_code == 200 and r.json() is None, r.text
    r = s.put(path + "/colour", {"value": 7})
    assert r.status_code == 200, r.text
    assert s.get(path).json() == {"colour": 7, "nested": {"a": [1, 2.5, None, True]}}
    assert s.get("/auth/namespaces/" + ns).json()["metadata"] == s.get(path).json()

    error(s.post(path, {"value": "v"}), 400, "no key specified")
    error(s.post(path, {"key": "", "value": "v"}), 400, "no key specified")
    for falsy in ("", 0, False, None, [], {}):
        error(s.post(path, {"key": "k", "value": falsy}), 400, "no value specified")
        error(s.put(path + "/k", {"value": falsy}), 400, "no value specified")
    error(s.put(path + "/k", {}), 400, "no value specified")
    assert s.post(path, {"key": "k", "value": "v", "x": 1}).status_code == 400

    r = s.delete(path + "/colour")
    assert r.status_code == 200 and r.json() is None, r.text
    r = s.delete(path + "/colour")  # a missing key is fine
    assert r.status_code == 200 and r.json() is None, r.text
    assert s.get(path).json() == {"nested": {"a": [1, 2.5, None, True]}}
    assert wait_for_event(api, ns, "set metadata key request from REST API")

    error(s.get(path.replace(ns, "no-such-ns")), 404, "namespace not found")
    error(s.put(path.replace(ns, "no-such-ns") + "/k", {"value": 1}), 404, "namespace not found")


def test_isolation_and_trust(api, make_ns):
    a, key_a = make_ns()
    b, key_b = make_ns()
    ta, tb = login(api, a, key_a), login(api, b, key_b)

    # tenants see themselves only; another tenant's namespace does not exist for them
    names = [v["name"] for v in call(api, "GET", "/auth/namespaces", ta).json()]
    assert names == [a]
    for method, suffix, body in (("GET", "", None), ("GET", "/keys", None),
                                 ("POST", "/keys", {"key_name": "x", "key": "y"}),
                                 ("PUT", "/keys/k1", {"key": "y"}), ("DELETE", "/keys/k1", None),
                                 ("GET", "/metadata", None),
                                 ("POST", "/metadata", {"key": "x", "value": 1}),
                                 ("PUT", "/metadata/x", {"value": 1}),
                                 ("DELETE", "/metadata/x", None),
                                 ("POST", "/trust", {"external_namespace": a}),
                                 ("DELETE", "/trust/system", None)):
        r = call(api, method, "/auth/namespaces/" + b + suffix, ta, body)
        error(r, 404, "namespace not found")
    error(call(api, "GET", "/auth/namespaces/system", ta), 404, "namespace not found")
    # nothing changed in b
    assert api.system.get("/auth/namespaces/" + b).json()["keys"] == ["k1"]
    login(api, b, key_b)

    # system sees both
    listed = {v["name"] for v in api.system.get("/auth/namespaces").json()}
    assert {a, b, "system"} <= listed

    # b trusts a: a may now see and manage b
    error(call(api, "POST", "/auth/namespaces/%s/trust" % b, tb, {}), 400,
          "no external namespace specified")
    error(call(api, "POST", "/auth/namespaces/%s/trust" % b, tb, {"external_namespace": ""}), 400,
          "no external namespace specified")
    r = call(api, "POST", "/auth/namespaces/%s/trust" % b, tb, {"external_namespace": a})
    assert r.status_code == 200, r.text
    assert r.json()["trust"] == {"full": sorted([a, "system"])}
    assert call(api, "GET", "/auth/namespaces/" + b, ta).status_code == 200
    assert sorted(v["name"] for v in call(api, "GET", "/auth/namespaces", ta).json()) == \
        sorted([a, b])
    assert call(api, "GET", "/auth/namespaces/%s/keys" % b, ta).json() == ["k1"]
    # trust is one way
    error(call(api, "GET", "/auth/namespaces/" + a, tb), 404, "namespace not found")

    # trust in system cannot be removed (silently kept); trust in a can
    r = call(api, "DELETE", "/auth/namespaces/%s/trust/system" % b, tb)
    assert r.status_code == 200 and "system" in r.json()["trust"]["full"], r.text
    r = call(api, "DELETE", "/auth/namespaces/%s/trust/%s" % (b, a), tb)
    assert r.status_code == 200 and r.json()["trust"] == {"full": ["system"]}, r.text
    error(call(api, "GET", "/auth/namespaces/" + b, ta), 404, "namespace not found")


def test_trust_forgotten_with_the_namespace(api, make_ns):
    a, key_a = make_ns()
    b, _ = make_ns()
    assert api.system.post("/auth/namespaces/%s/trust" % b,
                           {"external_namespace": a}).status_code == 200
    assert api.system.delete("/auth/namespaces/" + a).status_code == 200
    assert api.system.get("/auth/namespaces/" + b).json()["trust"] == {"full": ["system"]}
    # a namespace created again under a's name does not inherit b's trust
    assert api.system.post("/auth/namespaces", {"namespace": a, "key_name": "k1",
                                                "key": key_a}).status_code == 200
    error(call(api, "GET", "/auth/namespaces/" + b, login(api, a, key_a)), 404,
          "namespace not found")


def test_namespace_endpoints_take_no_stray_body(api, make_ns):
    ns, _ = make_ns()
    assert api.system.get("/auth/namespaces", {"all": True}).status_code == 400
    assert api.system.get("/auth/namespaces/" + ns, {"namespace": ns}).status_code == 400
    assert api.system.delete("/auth/namespaces/%s/keys/k1" % ns, {"x": 1}).status_code == 400
    assert api.system.get("/auth/namespaces/%s/keys" % ns).json() == ["k1"]


# ---- bootstrap: the system key and the signing secret -----------------------------------------

@pytest.fixture
def private_services(api):
    """A Redis prefix and RabbitMQ vhost of its own, for extra sf-api processes (they would
    otherwise consume the session's events)."""
    from conftest import create_vhost, declare_topology, delete_vhost, redis_delete_prefix, \
        vhost_url
    tag = uuid.uuid4().hex[:8]
    prefix, vhost = "sftest-boot-%s:" % tag, "sfapi-boot-%s" % tag
    create_vhost(vhost)
    amqp_url = vhost_url(api.amqp_url, vhost)
    try:
        declare_topology(amqp_url)
        yield prefix, amqp_url
    finally:
        delete_vhost(vhost)
        redis_delete_prefix(api.redis_url, prefix)


def start_sf_api(api, name, prefix, amqp_url, **env):
    from conftest import SfApi
    server = SfApi(name, api.redis_url, prefix, amqp_url, env=env).start()
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


def stop_sf_api(server):
    assert server.stop() == 0, server.log_tail(80)


def test_bootstrap_generates_the_system_key(api, private_services, tmp_path):
    import os
    import stat
    prefix, amqp_url = private_services
    key_file = tmp_path / "keys" / "system.key"
    name = "sf-api-boot-" + uuid.uuid4().hex[:6]

    server = start_sf_api(api, name, prefix, amqp_url, SF_SYSTEM_KEY="",
                          SF_SYSTEM_KEY_FILE=str(key_file))
    try:
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        key = key_file.read_text().strip()
        assert len(key) >= 32
        r = requests.post(server.url + "/auth", json={"namespace": "system", "key": key})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        assert claims_of(token)["sub"] == ["system", "deploy"]
        log = server.log_text()
        assert str(key_file) in log and key not in log
        assert [p.name for p in key_file.parent.iterdir()] == ["system.key"]  # no temp file left
    finally:
        stop_sf_api(server)

    # a restart keeps the key, the file and the signing secret: the old token still works
    server = start_sf_api(api, name, prefix, amqp_url, SF_SYSTEM_KEY="",
                          SF_SYSTEM_KEY_FILE=str(key_file))
    try:
        assert key_file.read_text().strip() == key
        r = requests.get(server.url + "/auth/namespaces/system",
                         headers={"Authorization": "Bearer " + token})
        assert r.status_code == 200 and r.json()["keys"] == ["deploy"], r.text
    finally:
        stop_sf_api(server)

    # a configured key wins over the stored one, and revokes the old key's tokens
    configured = secrets.token_urlsafe(24)
    server = start_sf_api(api, name, prefix, amqp_url, SF_SYSTEM_KEY=configured,
                          SF_SYSTEM_KEY_FILE=str(key_file))
    try:
        r = requests.get(server.url + "/auth/namespaces/system",
                         headers={"Authorization": "Bearer " + token})
        error(r, 401, "token revoked")
        r = requests.post(server.url + "/auth", json={"namespace": "system", "key": key})
        error(r, 401, "unauthorized")
        r = requests.post(server.url + "/auth", json={"namespace": "system", "key": configured})
        assert r.status_code == 200, r.text
        assert configured not in server.log_text()
    finally:
        stop_sf_api(server)


def test_configured_signing_secret(api, private_services):
    prefix, amqp_url = private_services
    auth_secret = secrets.token_urlsafe(32)
    system_key = secrets.token_urlsafe(24)
    server = start_sf_api(api, "sf-api-secret-" + uuid.uuid4().hex[:6], prefix, amqp_url,
                          SF_AUTH_SECRET=auth_secret, SF_SYSTEM_KEY=system_key)
    try:
        r = requests.post(server.url + "/auth", json={"namespace": "system", "key": system_key})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        signing_input, sig = token.rsplit(".", 1)
        expected = b64url(hmac.new(auth_secret.encode(), signing_input.encode(),
                                   hashlib.sha256).digest())
        assert hmac.compare_digest(sig, expected)
        # nothing was generated into Redis
        assert redis_cli(api, "EXISTS", prefix + "auth:secret") == "0"
        c = claims_of(token)
        r = requests.get(server.url + "/auth/namespaces",
                         headers={"Authorization": "Bearer " + forge(auth_secret, c)})
        assert r.status_code == 200, r.text
    finally:
        stop_sf_api(server)
