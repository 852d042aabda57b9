# SPDX-License-Identifier: Apache-2.0
"""`make run` end to end (issue 7): ops/run.sh in the background with a cluster prefix, a state
directory and ports of its own; once it prints "sf-net is up", the example it printed is run as
printed (with the instance namespace renamed, and the waits it asks the reader for done by the
test): a network, an instance namespace plugged into it, its DHCP lease, a ping to the
cluster's internet host through NAT. Then SIGTERM, and nothing may be left: no namespace of the
prefix or of the network, no link of ours in this namespace, no daemon, dnsmasq, redis-server,
RabbitMQ node or epmd that it started."""
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO, run, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (ip netns)")

BIN_DIR = Path(os.environ.get("SF_RUN_BIN_DIR", REPO / "build-test"))
UP_TIMEOUT = 240  # RabbitMQ's first start dominates


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports():
    """Redis, AMQP (its distribution port is AMQP + 10000), epmd and API ports, all free and
    below the ephemeral range, as ops/services.sh wants them."""
    while True:
        ports = [random.randrange(20000, 22000) for _ in range(4)]
        if len(set(ports)) == 4 and all(port_free(p) for p in ports + [ports[1] + 10000]):
            return dict(zip(("redis", "amqp", "epmd", "api"), ports))


def pids_of(pred):
    """pids of processes whose command line (a list of bytes) and environment satisfy pred."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
            environ = (d / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if pred(cmd, environ):
            out.append(int(d.name))
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def netns_names():
    return run("ip", "netns", "list").stdout.split()


def example_commands(text):
    """The shell commands of the "Try it" block run.sh printed, continuation lines joined."""
    block = text.split("Try it (in another shell, as root):", 1)[1].split("\n\n", 2)[1]
    cmds, cur = [], ""
    for line in block.splitlines():
        line = line.strip()
        if line.endswith("\\"):
            cur += line[:-1] + " "
        else:
            cmds.append(cur + line)
            cur = ""
    return [c for c in cmds if c]


class Run:
    def __init__(self, prefix):
        self.prefix = prefix
        self.dir = Path(tempfile.mkdtemp(prefix=f"sf-run-{prefix}-"))
        # as the repository's run/: dnsmasq reads its hosts file after dropping to nobody,
        # so every directory above it must be searchable by others
        self.dir.chmod(0o755)
        self.ports = free_ports()
        self.vm = f"{prefix}-vm1"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SF_")}
        env.update(SF_RUN_DIR=str(self.dir), SF_BIN_DIR=str(BIN_DIR), SF_CLUSTER_PREFIX=prefix,
                   SF_HYPERVISORS="2", SF_REDIS_PORT=str(self.ports["redis"]),
                   SF_AMQP_PORT=str(self.ports["amqp"]), SF_EPMD_PORT=str(self.ports["epmd"]),
                   SF_API_PORT=str(self.ports["api"]))
        self.env = env
        self.out = open(self.dir / "run.stdout", "wb")
        self.err = open(self.dir / "run.stderr", "wb")
        self.proc = None
        self.daemon_pids = []

    def start(self):
        self.proc = subprocess.Popen([str(REPO / "ops" / "run.sh")], env=self.env,
                                     stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def stderr(self):
        return (self.dir / "run.stderr").read_text(errors="replace")

    def logs(self):
        return self.stderr() + "\n--- stdout ---\n" + "\n".join(
            (self.dir / "run.stdout").read_text(errors="replace").splitlines()[-80:])

    def node_name(self):
        return f"sfnet-{self.ports['amqp']}@localhost"

    def leftovers(self, network_uuid=None):
        """What this run left behind, by kind."""
        storage = str(self.dir).encode()
        redis_port, node = str(self.ports["redis"]).encode(), self.node_name().encode()
        epmd_env = f"ERL_EPMD_PORT={self.ports['epmd']}".encode()
        names = netns_names()
        return {
            "netns": [n for n in names if n.startswith(self.prefix + "-") or n == network_uuid],
            "links": [e["ifname"] for e in json.loads(run("ip", "-j", "link", "show").stdout)
                      if e["ifname"].startswith(self.prefix)],
            "daemons": [p for p in self.daemon_pids if alive(p)],
            "dnsmasq": pids_of(lambda c, e: c[0].endswith(b"dnsmasq")
                               and any(storage in a for a in c)),
            "redis": pids_of(lambda c, e: c[0].startswith(b"redis-server")
                             and any(a.endswith(b":" + redis_port) for a in c)),
            "rabbitmq": pids_of(lambda c, e: any(node in a for a in c)
                                or b"RABBITMQ_NODENAME=" + node in e),
            "epmd": pids_of(lambda c, e: c[0].endswith(b"epmd") and epmd_env in e),
        }

    def cleanup(self):
        """After a failure: stop what is left (by the pids this run recorded or that name our
        state directory, ports or node), then the cluster and services."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        subprocess.run([str(REPO / "ops" / "teardown.sh")], env=self.env, capture_output=True,
                       timeout=300)
        left = self.leftovers()
        for kind in ("daemons", "dnsmasq", "redis", "rabbitmq", "epmd"):
            for pid in left[kind]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for ns in left["netns"] + [self.vm]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.out.close()
        self.err.close()
        if os.environ.get("SF_TEST_KEEP_RUN_DIR") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def make_run():
    prefix = "sfr" + "".join(secrets.choice(string.ascii_lowercase + string.digits)
                             for _ in range(6))
    r = Run(prefix)
    try:
        yield r
    finally:
        r.cleanup()


def test_make_run_end_to_end(make_run):
    r = make_run
    for name in ("sf-api", "sf-networknode", "sf-hypervisor"):
        if not (BIN_DIR / name).exists():
            pytest.exit(f"{BIN_DIR / name} is missing: make BUILD=test all", returncode=2)
    t0 = time.monotonic()
    r.start()

    def up():
        if r.proc.poll() is not None:
            raise AssertionError(f"run.sh exited with {r.proc.returncode}:\n{r.logs()}")
        return "sf-net is up" in r.stderr()
    wait_for(up, UP_TIMEOUT, "run.sh to print 'sf-net is up'", interval=0.5)
    startup_s = time.monotonic() - t0
    text = r.stderr()
    assert f"http://127.0.0.1:{r.ports['api']}" in text
    assert f"cluster prefix {r.prefix}" in text
    r.daemon_pids = [int(p) for p in (r.dir / f"run-{r.prefix}.pids").read_text().split()]
    assert len(r.daemon_pids) == 4 and all(alive(p) for p in r.daemon_pids)

    # the example, as printed
    cmds = example_commands(text)
    assert any(c.startswith("curl -s -X POST $API/networks ") for c in cmds), cmds
    script = ["set -euo pipefail"]
    for c in cmds:
        c = c.replace("demo-vm1", r.vm)
        if c.startswith("curl -s $API/networks/demo "):
            # "wait for "state": "created"": the reader's job, done here
            c = (f"until {c.split('#')[0].strip()} | python3 -c 'import json, sys; "
                 "sys.exit(json.load(sys.stdin)[\"state\"] != \"created\")'; "
                 "do sleep 0.5; done")
        elif "udhcpc" in c:
            # the plug may still be on its way: ask again, as a DHCP client would
            c = f"ok=0; for i in $(seq 10); do if {c.split('#')[0].strip()}; then ok=1; break; " \
                "fi; sleep 1; done; [ $ok = 1 ]"
        script.append(c)
    t1 = time.monotonic()
    res = subprocess.run(["bash", "-c", "\n".join(script)], env=r.env, capture_output=True,
                         text=True, timeout=180)
    example_s = time.monotonic() - t1
    assert res.returncode == 0, f"the example failed:\n{res.stdout}\n{res.stderr}\n{r.logs()}"
    assert " 0% packet loss" in res.stdout, res.stdout

    # see the lease: the instance has the address the API reserved for it
    api = f"http://127.0.0.1:{r.ports['api']}"
    key = (r.dir / "sf-api-system.key").read_text().strip()
    token = requests.post(api + "/auth", json={"namespace": "system", "key": key},
                          timeout=30).json()["access_token"]
    auth = {"Authorization": "Bearer " + token}
    net = requests.get(api + "/networks/demo", headers=auth, timeout=30).json()
    ifaces = requests.get(api + f"/networks/{net['uuid']}/interfaces", headers=auth,
                          timeout=30).json()
    assert len(ifaces) == 1, ifaces
    addrs = json.loads(run("ip", "-j", "-n", r.vm, "-4", "addr", "show", "eth0").stdout)
    assert [a["local"] for a in addrs[0]["addr_info"]] == [ifaces[0]["ipv4"]]
    assert net["uuid"] in netns_names()
    # the jobs those calls queued, each done by its worker
    jobs = requests.get(api + "/jobs", headers=auth, timeout=30).json()
    assert sorted((j["type"], j["node"], j["state"]) for j in jobs) == [
        ("interface.plug", "hv1", "done"), ("network.deploy", "networknode", "done"),
        ("network.dhcp_hosts", "networknode", "done"),
        ("network.dhcp_hosts", "networknode", "done")], jobs
    storage = str(r.dir).encode()
    assert pids_of(lambda c, e: c[0].endswith(b"dnsmasq") and any(storage in a for a in c))

    # what the check below looks for is there while it runs (and nothing in this namespace)
    running = r.leftovers(net["uuid"])
    assert running.pop("links") == []
    assert all(running.values()), running
    assert set(running["netns"]) == {f"{r.prefix}-{n}" for n in (
        "fabric", "nn", "hv1", "hv2", "outside")} | {r.vm, net["uuid"]}
    # stop it as Ctrl-C would
    t2 = time.monotonic()
    r.proc.send_signal(signal.SIGTERM)
    assert r.proc.wait(180) == 0, r.logs()
    stop_s = time.monotonic() - t2
    assert "run: stopped" in r.stderr()
    # the instance namespace is the reader's to delete (run.sh says so); its veth went with
    # the hypervisor
    assert [e["ifname"] for e in json.loads(run("ip", "-j", "-n", r.vm, "link").stdout)] == ["lo"]
    run("ip", "netns", "del", r.vm)
    left = r.leftovers(net["uuid"])
    assert left == {k: [] for k in left}, left
    print(f"\nmake run: up in {startup_s:.1f} s, example in {example_s:.1f} s, "
          f"stopped in {stop_s:.1f} s")
