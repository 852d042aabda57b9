# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the end-to-end layer: tests that run as root against the development cluster
of network namespaces (ops/cluster.sh). Run through tests/lib/run-e2e.sh.

Fixtures: cluster_sh (runs ops/cluster.sh), new_prefix (makes cluster prefixes unique to a run).
"""
import os
import secrets
import string
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLUSTER_SH = REPO / "ops" / "cluster.sh"
RUN_DIR = Path(os.environ.get("SF_TEST_RUN_DIR", REPO / "run" / "test"))


@pytest.fixture(scope="session")
def cluster_sh():
    """cluster_sh(command, prefix, hypervisors=None) runs ops/cluster.sh with the state file
    under the test run directory and returns the CompletedProcess (output captured)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SF_RUN_DIR=str(RUN_DIR))

    def run(command, prefix, hypervisors=None):
        args = [str(CLUSTER_SH), command, "--prefix", prefix]
        if hypervisors is not None:
            args += ["--hypervisors", str(hypervisors)]
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)

    run.state_file = lambda prefix: RUN_DIR / f"cluster-{prefix}.env"
    return run


@pytest.fixture(scope="session")
def new_prefix():
    """new_prefix() returns a cluster prefix no other run uses: "sft" and six random
    characters, so a crashed run never collides with the next."""
    alphabet = string.ascii_lowercase + string.digits
    return lambda: "sft" + "".join(secrets.choice(alphabet) for _ in range(6))


# ---- sf-net daemons on a cluster (tests/e2e/test_networknode.py) -----------------------------
#
# services: our own Redis and RabbitMQ (ops/services.sh) on the e2e ports, started for the
#   session and stopped after it (a lock file serialises sessions that share them).
# sfnet: a development cluster of its own (unique prefix, one hypervisor namespace) with sf-api
#   and sf-networknode (the sanitizer builds) on it, a Redis key prefix and a RabbitMQ vhost of
#   their own. The finalizer stops the daemons (a non-zero exit, e.g. a sanitizer report,
#   fails the module), kills the dnsmasq processes of its state directory, deletes the
#   namespaces its tests made and the cluster, and drops its Redis keys and vhost.

import fcntl
import json
import signal
import socket
import time

import requests

E2E_REDIS_PORT = int(os.environ.get("SF_TEST_E2E_REDIS_PORT", "16779"))
E2E_AMQP_PORT = int(os.environ.get("SF_TEST_E2E_AMQP_PORT", "17972"))
E2E_EPMD_PORT = int(os.environ.get("SF_TEST_E2E_EPMD_PORT", "14769"))
SF_API_BIN = Path(os.environ.get("SF_API_BIN", REPO / "build-test" / "sf-api"))
SF_NN_BIN = Path(os.environ.get("SF_NN_BIN", REPO / "build-test" / "sf-networknode"))
SCHEMA_DIR = REPO / "schemas"


def wait_for(fn, timeout, what, interval=0.2):
    """Call fn until it returns something true (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def run(*args, check=True, timeout=60, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True,
                          timeout=timeout, **kw)


class Services:
    def __init__(self):
        self.env = dict(os.environ, SF_REDIS_PORT=str(E2E_REDIS_PORT),
                        SF_AMQP_PORT=str(E2E_AMQP_PORT), SF_EPMD_PORT=str(E2E_EPMD_PORT),
                        SF_RUN_DIR=str(RUN_DIR))
        self.redis_url = f"redis://127.0.0.1:{E2E_REDIS_PORT}/0"
        self.amqp_url = f"amqp://guest:guest@127.0.0.1:{E2E_AMQP_PORT}/"
        node = f"sfnet-{E2E_AMQP_PORT}@localhost"
        self.rabbitmqctl = ["env", f"HOME={RUN_DIR}/rabbitmq-{E2E_AMQP_PORT}/home",
                            f"ERL_EPMD_PORT={E2E_EPMD_PORT}",
                            "/usr/lib/rabbitmq/bin/rabbitmqctl", "-q", "-n", node]

    def services_sh(self, command):
        return subprocess.run([str(REPO / "ops" / "services.sh"), command], env=self.env,
                              capture_output=True, text=True, timeout=300)

    def ctl(self, *args):
        res = run(*self.rabbitmqctl, *args, check=False, timeout=120)
        assert res.returncode == 0, f"rabbitmqctl {' '.join(args)}: {res.stdout}{res.stderr}"
        return res.stdout

    def redis(self, *args):
        return run("redis-cli", "-u", self.redis_url, *args).stdout


@pytest.fixture(scope="session")
def services():
    if os.geteuid() != 0:
        pytest.skip("needs root (ip netns)")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    lock = open(RUN_DIR / "e2e-services.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    s = Services()
    try:
        res = s.services_sh("start")
        if res.returncode != 0:
            pytest.exit(f"ops/services.sh start failed:\n{res.stdout}{res.stderr}", returncode=2)
        yield s
    finally:
        s.services_sh("stop")
        lock.close()


class Daemon:
    """One sf-net daemon with its log file; stdout and stderr go to the log."""

    def __init__(self, name, binary, env):
        self.name = name
        self.binary = binary
        self.env = env
        self.log_path = RUN_DIR / f"{name}.log"
        self.proc = None

    def start(self):
        if not self.binary.exists():
            pytest.exit(f"{self.binary} is missing: make BUILD=test all", returncode=2)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(self.binary)], env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(30)

    def stop(self, timeout=30.0):
        """SIGTERM and wait; the exit status (None when it never ran)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} ignored SIGTERM:\n{self.log_tail()}")
        return self.proc.returncode

    def log_tail(self, lines=60):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class SfNet:
    """What the sfnet fixture gives: the cluster, the daemons, an API client, helpers."""

    def __init__(self, services, cluster, tag):
        self.services = services
        self.cluster = cluster  # the cluster's state file as a dict
        self.prefix = cluster["SF_CLUSTER_PREFIX"]
        self.nn_netns = cluster["SF_NN_NETNS"]
        self.tag = tag
        self.redis_prefix = f"sfe2e-{tag}:"
        self.vhost = f"sfe2e-{tag}"
        self.amqp_url = services.amqp_url.rstrip("/") + "/" + self.vhost
        self.storage_dir = RUN_DIR / f"nn-{tag}"
        self.node_name = f"nn-{tag}"
        self.api_port = _free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.system_key = secrets.token_urlsafe(24)
        self.token = None
        self.netns_made = set()  # namespaces tests made, removed by the finalizer
        common = dict(os.environ, SF_REDIS_URL=services.redis_url,
                      SF_REDIS_PREFIX=self.redis_prefix, SF_AMQP_URL=self.amqp_url,
                      SF_SCHEMA_DIR=str(SCHEMA_DIR), SF_LOG_LEVEL="info")
        self.api = Daemon(f"sf-api-e2e-{tag}", SF_API_BIN, dict(
            common, SF_API_LISTEN_ADDRESS="127.0.0.1", SF_API_PORT=str(self.api_port),
            SF_SYSTEM_KEY=self.system_key,
            SF_SYSTEM_KEY_FILE=str(RUN_DIR / f"sf-api-e2e-{tag}.system-key")))
        self.nn_env = dict(
            common, SF_NODE_NAME=self.node_name, SF_NODE_NETNS=self.nn_netns,
            SF_NODE_MESH_NIC=cluster["SF_MESH_NIC"], SF_NODE_MESH_IP=cluster["SF_NN_MESH_IP"],
            SF_NODE_EGRESS_NIC=cluster["SF_EGRESS_NIC"],
            SF_FLOATING_NETWORK=cluster["SF_FLOATING_NETWORK"],
            SF_DNS_SERVER=cluster["SF_OUTSIDE_IP"], SF_STORAGE_DIR=str(self.storage_dir),
            SF_RECONCILE_S="3", SF_USAGE_S="3", SF_STRAY_GRACE_S="2",
            SF_PING_INTERVAL_MS="200", SF_NODE_HEARTBEAT_S="2")
        self.nn = None
        self.nn_runs = 0

    # -- daemons --
    def start_nn(self):
        self.nn_runs += 1
        self.nn = Daemon(f"sf-networknode-e2e-{self.tag}-{self.nn_runs}", SF_NN_BIN,
                         self.nn_env).start()

        def ready():  # its queue is declared: jobs published from now on reach it
            if self.nn.proc.poll() is not None:
                raise AssertionError(f"sf-networknode exited:\n{self.nn.log_tail()}")
            return "ready: consuming" in self.nn.log_path.read_text(errors="replace")
        wait_for(ready, 60, "sf-networknode")
        return self.nn

    def wait_api(self):
        def up():
            if self.api.proc.poll() is not None:
                raise AssertionError(f"sf-api exited:\n{self.api.log_tail()}")
            try:
                return requests.get(self.url + "/", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False
        wait_for(up, 60, "sf-api")
        r = requests.post(self.url + "/auth", json={"namespace": "system",
                                                    "key": self.system_key}, timeout=30)
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]

    # -- API --
    def call(self, method, path, body=None, timeout=60):
        return requests.request(method, self.url + path, json=body, timeout=timeout,
                                headers={"Authorization": "Bearer " + self.token})

    def network(self, uuid):
        r = self.call("GET", f"/networks/{uuid}")
        assert r.status_code == 200, r.text
        return r.json()

    def wait_state(self, uuid, state, timeout=30):
        return wait_for(lambda: self.network(uuid)["state"] == state and self.network(uuid),
                        timeout, f"network {uuid} to become {state}")

    def events(self, uuid, event_type=None):
        body = {"limit": 500}  # in the body, as Shaken Fist's client sends them
        if event_type:
            body["event_type"] = event_type
        r = self.call("GET", f"/networks/{uuid}/events", body)
        assert r.status_code == 200, r.text
        return r.json()

    # -- the kernel --
    def ip_json(self, netns, *args):
        out = run("ip", "-j", "-n", netns, *args).stdout.strip()
        return json.loads(out) if out else []

    def add_netns(self, name):
        run("ip", "netns", "add", name)
        self.netns_made.add(name)

    def register_hypervisor(self, name, mesh_ip):
        """A hypervisor in the node registry and its job queue (no sf-hypervisor runs: its
        jobs wait in the queue), so that POST /interfaces accepts it."""
        rec = json.dumps({"name": name, "role": "hypervisor", "mesh_ip": mesh_ip,
                          "version": "e2e", "last_seen": time.time()})
        self.services.redis("HSET", self.redis_prefix + "nodes", name, rec)
        _declare_queue(self.amqp_url, "hypervisor." + name)

    def networks_in_redis(self):
        """uuids of every network of our Redis prefix: their namespaces are ours to remove
        (a worker stopped by a failed test leaves them)."""
        return self.services.redis("SMEMBERS", self.redis_prefix + "networks").split()

    def remove_leftovers(self):
        """Kill the dnsmasq processes of our state directory, delete the namespaces the tests
        made and those of our networks. For finalizers, after the daemons are stopped."""
        for pid in self.dnsmasq_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for ns in set(self.netns_made) | set(self.networks_in_redis()):
            if os.path.exists(f"/run/netns/{ns}"):
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def dnsmasq_pids(self, network=None):
        """pids of dnsmasq processes whose command line names our state directory (and the
        network's uuid, when given)."""
        want = str(self.storage_dir).encode()
        if network:
            want += b"/dhcp/" + network.encode() + b"/"
        pids = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"dnsmasq") and any(want in a for a in cmd):
                pids.append(int(d.name))
        return pids


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _declare_queue(amqp_url, role):
    """A job queue as sf_mq_declare_topology() declares it (same arguments)."""
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        ch.exchange_declare("sf.jobs", "direct", durable=True)
        ch.exchange_declare("sf.jobs.dlx", "fanout", durable=True)
        ch.queue_declare("sf.jobs." + role, durable=True,
                         arguments={"x-queue-type": "quorum", "x-delivery-limit": 5,
                                    "x-dead-letter-exchange": "sf.jobs.dlx"})
        ch.queue_bind("sf.jobs." + role, "sf.jobs", role)
    finally:
        conn.close()


def _read_env(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        k, _, v = line.partition("=")
        env[k] = v.strip('"')
    return env


@pytest.fixture(scope="module")
def sfnet(services, cluster_sh, new_prefix):
    prefix = new_prefix()
    tag = prefix[3:]
    res = cluster_sh("up", prefix, hypervisors=1)
    net = None
    try:
        assert res.returncode == 0, f"cluster up failed:\n{res.stdout}{res.stderr}"
        net = SfNet(services, _read_env(cluster_sh.state_file(prefix)), tag)
        services.ctl("add_vhost", net.vhost)
        services.ctl("set_permissions", "-p", net.vhost, "guest", ".*", ".*", ".*")
        net.api.start()
        net.wait_api()
        net.start_nn()
        yield net
        rc_api = net.api.stop()
        rc_nn = net.nn.stop()
        assert rc_api == 0, f"sf-api exited with {rc_api}:\n{net.api.log_tail()}"
        assert rc_nn == 0, f"sf-networknode exited with {rc_nn}:\n{net.nn.log_tail()}"
    finally:
        if net:
            for d in (net.api, net.nn):
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


# ---- sf-hypervisor on a cluster (tests/e2e/test_hypervisor.py) -------------------------------
#
# hvnet: as sfnet (its own cluster, Redis key prefix and RabbitMQ vhost; sf-api and
#   sf-networknode), with two hypervisor namespaces and an sf-hypervisor on each (node names
#   hv1 and hv2, node_netns <prefix>-hv<i>). The finalizer also stops the hypervisors (a
#   non-zero exit fails the module) and deletes the instance namespaces the tests made.

SF_HV_BIN = Path(os.environ.get("SF_HV_BIN", REPO / "build-test" / "sf-hypervisor"))


class HvNet(SfNet):
    """SfNet plus the sf-hypervisor daemons: hvs[name] is the Daemon of node name."""

    HYPERVISORS = ("hv1", "hv2")

    def __init__(self, services, cluster, tag):
        super().__init__(services, cluster, tag)
        self.hvs = {}
        self.hv_runs = 0

    def hv_netns(self, name):
        return self.cluster[f"SF_{name.upper()}_NETNS"]

    def hv_mesh_ip(self, name):
        return self.cluster[f"SF_{name.upper()}_MESH_IP"]

    def start_hv(self, name):
        self.hv_runs += 1
        env = dict(self.nn_env, SF_NODE_NAME=name, SF_NODE_NETNS=self.hv_netns(name),
                   SF_NODE_MESH_NIC=self.cluster["SF_MESH_NIC"],
                   SF_NODE_MESH_IP=self.hv_mesh_ip(name), SF_RECONCILE_S="3",
                   SF_STRAY_GRACE_S="2", SF_NODE_HEARTBEAT_S="2")
        self.hvs[name] = Daemon(f"sf-hypervisor-e2e-{self.tag}-{name}-{self.hv_runs}", SF_HV_BIN,
                                env).start()
        return self.hvs[name]

    def wait_registered(self, timeout=30):
        def up():
            r = self.call("GET", "/nodes")
            assert r.status_code == 200, r.text
            have = {n["name"] for n in r.json() if n.get("role") == "hypervisor"
                    and n.get("state") == "up"}
            return set(self.HYPERVISORS) <= have
        wait_for(up, timeout, "the hypervisors in the node registry")


@pytest.fixture(scope="module")
def hvnet(services, cluster_sh, new_prefix):
    prefix = new_prefix()
    tag = prefix[3:]
    res = cluster_sh("up", prefix, hypervisors=len(HvNet.HYPERVISORS))
    net = None
    try:
        assert res.returncode == 0, f"cluster up failed:\n{res.stdout}{res.stderr}"
        net = HvNet(services, _read_env(cluster_sh.state_file(prefix)), tag)
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
            for pid in net.dnsmasq_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for ns in net.netns_made:
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            keys = [k for k in services.redis("--scan", "--pattern",
                                              net.redis_prefix + "*").split() if k]
            for i in range(0, len(keys), 500):
                services.redis("DEL", *keys[i:i + 500])
            subprocess.run(services.rabbitmqctl + ["delete_vhost", net.vhost],
                           capture_output=True, timeout=120)
        cluster_sh("down", prefix)
