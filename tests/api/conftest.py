# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the API layer: black-box tests of sf-api over HTTP.

Run through tests/lib/run-api.sh, which starts Redis and RabbitMQ and exports SF_REDIS_URL,
SF_AMQP_URL and SF_RABBITMQCTL. The session starts its own sf-api (build-test/sf-api, the
sanitizer build) on a free port, with a Redis key prefix and a RabbitMQ vhost of its own, and
declares the job queues networknode, hypervisor.hv1 and hypervisor.hv2 so that tests can read
back the jobs a call published. No worker runs: networks stay "initial".

Fixtures: api (session), tenant (a Client of a fresh namespace), new_client(namespace, key).
"""
import json
import os
import secrets
import shlex
import signal
import socket
import string
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import jsonschema
import pika
import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "schemas"
RUN_DIR = Path(os.environ.get("SF_TEST_RUN_DIR", REPO / "run" / "test"))
SF_API_BIN = Path(os.environ.get("SF_API_BIN", REPO / "build-test" / "sf-api"))
JOB_ROLES = ("networknode", "hypervisor.hv1", "hypervisor.hv2")
REQUEST_TIMEOUT = 60  # seconds; ping waits for the network node, and ASan is slow


def random_name(n=8):
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rabbitmqctl(*args):
    cmd = os.environ.get("SF_RABBITMQCTL")
    if not cmd:
        pytest.exit("SF_RABBITMQCTL is not set: run tests/lib/run-api.sh", returncode=2)
    res = subprocess.run(shlex.split(cmd) + list(args), capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, f"rabbitmqctl {' '.join(args)}: {res.stdout}{res.stderr}"
    return res.stdout


def vhost_url(base, vhost):
    """The AMQP URL of base (amqp://user:pass@host:port/...) with another vhost."""
    u = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + urllib.parse.quote(vhost, safe=""),
                                    "", ""))


def create_vhost(vhost):
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")


def delete_vhost(vhost):
    rabbitmqctl("delete_vhost", vhost)


def declare_topology(amqp_url, roles=JOB_ROLES):
    """The topology sf_mq_declare_topology() declares, with one job queue per role (the
    arguments must match sf_mq's, or a later declaration by a daemon would fail)."""
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        ch.exchange_declare("sf.jobs", "direct", durable=True)
        ch.exchange_declare("sf.jobs.dlx", "fanout", durable=True)
        ch.exchange_declare("sf.events", "topic", durable=True)
        ch.queue_declare("sf.jobs.dead", durable=True)
        ch.queue_bind("sf.jobs.dead", "sf.jobs.dlx", "")
        ch.queue_declare("sf.events.record", durable=True)
        ch.queue_bind("sf.events.record", "sf.events", "#")
        for role in roles:
            ch.queue_declare("sf.jobs." + role, durable=True,
                             arguments={"x-queue-type": "quorum", "x-delivery-limit": 5,
                                        "x-dead-letter-exchange": "sf.jobs.dlx"})
            ch.queue_bind("sf.jobs." + role, "sf.jobs", role)
    finally:
        conn.close()


def redis_cli(redis_url, *args):
    res = subprocess.run(["redis-cli", "-u", redis_url, *args], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, f"redis-cli {' '.join(args)}: {res.stderr}"
    return res.stdout


def redis_delete_prefix(redis_url, prefix):
    keys = [k for k in redis_cli(redis_url, "--scan", "--pattern", prefix + "*").splitlines() if k]
    for i in range(0, len(keys), 500):
        redis_cli(redis_url, "DEL", *keys[i:i + 500])


def publish_event(amqp_url, event, routing_key=None):
    """Publish an event to sf.events as a worker would; a dict is validated against
    schemas/events/event.json first, bytes are sent as they are."""
    if isinstance(event, bytes):
        body = event
    else:
        with open(SCHEMA_DIR / "events" / "event.json") as f:
            jsonschema.validate(event, json.load(f))
        body = json.dumps(event).encode()
        if routing_key is None:
            routing_key = f"{event['object']['type']}.{event['object']['uuid']}.{event['type']}"
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.basic_publish("sf.events", routing_key or "network.x.audit", body,
                         pika.BasicProperties(content_type="application/json", delivery_mode=2),
                         mandatory=True)
    finally:
        conn.close()


class Client:
    """A caller of the API: one namespace and key, and the token POST /auth gave for them.
    Unlike Shaken Fist's client it never retries, so tests see every status as it is."""

    def __init__(self, url, namespace=None, key=None):
        self.url = url
        self.namespace = namespace
        self.key = key
        self.token = None
        self.last_request_id = None
        self.session = requests.Session()

    def login(self):
        r = self.session.post(self.url + "/auth",
                              json={"namespace": self.namespace, "key": self.key},
                              timeout=REQUEST_TIMEOUT)
        assert r.status_code == 200, f"login as {self.namespace}: {r.status_code} {r.text}"
        self.token = r.json()["access_token"]
        return self.token

    def request(self, method, path, body=None, headers=None, raw=None):
        """body is sent as JSON when not None; raw (bytes, or an iterator of bytes for a
        chunked upload) is sent as it is. A header given as None is not sent."""
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        r = self.session.request(method, self.url + path, data=data, headers=h,
                                 timeout=REQUEST_TIMEOUT)
        self.last_request_id = r.headers.get("X-Request-ID")
        return r

    def get(self, path, body=None, headers=None, raw=None):
        return self.request("GET", path, body, headers, raw)

    def post(self, path, body=None, headers=None, raw=None):
        return self.request("POST", path, body, headers, raw)

    def put(self, path, body=None, headers=None, raw=None):
        return self.request("PUT", path, body, headers, raw)

    def delete(self, path, body=None, headers=None, raw=None):
        return self.request("DELETE", path, body, headers, raw)


class SfApi:
    """One sf-api process with its log file under run/test/."""

    def __init__(self, name, redis_url, redis_prefix, amqp_url, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.system_key = secrets.token_urlsafe(24)
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = RUN_DIR / f"{name}.log"
        self.env = dict(os.environ)
        self.env.update({
            "SF_REDIS_URL": redis_url,
            "SF_REDIS_PREFIX": redis_prefix,
            "SF_AMQP_URL": amqp_url,
            "SF_API_LISTEN_ADDRESS": "127.0.0.1",
            "SF_API_PORT": str(self.port),
            "SF_SYSTEM_KEY": self.system_key,
            "SF_SYSTEM_KEY_FILE": str(RUN_DIR / f"{name}.system-key"),
            "SF_SCHEMA_DIR": str(SCHEMA_DIR),
            "SF_LOG_LEVEL": "info",
        })
        self.env.update(env or {})
        self.proc = None

    def start(self):
        if not SF_API_BIN.exists():
            pytest.exit(f"{SF_API_BIN} is missing: make BUILD=test all", returncode=2)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([str(SF_API_BIN)], env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"sf-api exited with {self.proc.returncode}:\n"
                                     + self.log_tail())
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"sf-api did not answer within {timeout}s:\n" + self.log_tail())

    def stop(self, timeout=30.0):
        """SIGTERM and wait; the exit status (a sanitizer report makes it non-zero)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"sf-api ignored SIGTERM for {timeout}s:\n"
                                     + self.log_tail())
        return self.proc.returncode

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])


class Api:
    """What the `api` fixture gives tests."""

    def __init__(self, server, redis_url, redis_prefix, amqp_url, vhost):
        self.server = server
        self.url = server.url
        self.redis_url = redis_url
        self.redis_prefix = redis_prefix
        self.amqp_url = amqp_url
        self.vhost = vhost
        self.schema_dir = SCHEMA_DIR
        with open(SCHEMA_DIR / "jobs" / "job.json") as f:
            self.job_schema = json.load(f)
        with open(SCHEMA_DIR / "events" / "event.json") as f:
            self.event_schema = json.load(f)
        self.system = Client(self.url, "system", server.system_key)
        self.system.login()

    def jobs(self, queue_role, timeout=2.0):
        """Drain sf.jobs.<queue_role>: the jobs waiting there, each validated against
        schemas/jobs/job.json (and its message id checked). Waits up to timeout for the first
        one; [] when none came."""
        conn = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        got = []
        try:
            ch = conn.channel()
            deadline = time.monotonic() + timeout
            while True:
                method, props, body = ch.basic_get("sf.jobs." + queue_role, auto_ack=False)
                if method is None:
                    if got or time.monotonic() >= deadline:
                        break
                    time.sleep(0.05)
                    continue
                job = json.loads(body)
                jsonschema.validate(job, self.job_schema)
                assert props.message_id == job["job"], "message id is not the job id"
                ch.basic_ack(method.delivery_tag)
                got.append(job)
        finally:
            conn.close()
        return got

    def publish_event(self, event, routing_key=None):
        publish_event(self.amqp_url, event, routing_key)


class PrivateRedis:
    """A redis-server of our own, so that a test can stop it without disturbing the session."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="sf-api-test-redis-")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        """Start (again, with the same port and data: every write was synced)."""
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
             self.dir.name, "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)

    def close(self):
        self.stop()
        self.dir.cleanup()


def _services():
    redis_url = os.environ.get("SF_REDIS_URL")
    amqp_url = os.environ.get("SF_AMQP_URL")
    if not redis_url or not amqp_url or not os.environ.get("SF_RABBITMQCTL"):
        pytest.exit("SF_REDIS_URL, SF_AMQP_URL and SF_RABBITMQCTL are not set: "
                    "run the API tests through tests/lib/run-api.sh", returncode=2)
    return redis_url, amqp_url


_session_server = None


@pytest.fixture(scope="session")
def api():
    global _session_server
    redis_url, amqp_base = _services()
    tag = random_name()
    prefix = f"sftest-{tag}:"
    vhost = f"sfapi-{tag}"
    create_vhost(vhost)
    amqp_url = vhost_url(amqp_base, vhost)
    server = None
    try:
        declare_topology(amqp_url)
        server = SfApi(f"sf-api-{tag}", redis_url, prefix, amqp_url).start()
        _session_server = server
        server.wait_ready()
        yield Api(server, redis_url, prefix, amqp_url, vhost)
        rc = server.stop()
        assert rc == 0, f"sf-api exited with {rc} (a sanitizer report?):\n{server.log_tail(80)}"
    finally:
        _session_server = None
        if server:
            server.stop()
        delete_vhost(vhost)
        redis_delete_prefix(redis_url, prefix)


@pytest.fixture
def private_vhost(api):
    """The AMQP URL of a vhost of its own (with the job queues), for a second sf-api."""
    vhost = "sfapi-" + random_name()
    create_vhost(vhost)
    url = vhost_url(api.amqp_url, vhost)
    declare_topology(url)
    yield url
    delete_vhost(vhost)


@pytest.fixture
def new_client(api):
    """new_client(namespace, key) -> a logged-in Client."""
    def make(namespace, key):
        c = Client(api.url, namespace, key)
        c.login()
        return c
    return make


@pytest.fixture
def tenant(api, new_client):
    """A Client of a fresh namespace "t-<random>" with one key."""
    ns = "t-" + random_name()
    key = secrets.token_urlsafe(16)
    r = api.system.post("/auth/namespaces", {"namespace": ns, "key_name": "k1", "key": key})
    assert r.status_code == 200, f"creating namespace {ns}: {r.status_code} {r.text}"
    return new_client(ns, key)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with the tail of the session sf-api's log."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _session_server is not None:
        rep.sections.append((f"sf-api log ({_session_server.log_path}, last lines)",
                             _session_server.log_tail(60)))
