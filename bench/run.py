# SPDX-License-Identifier: Apache-2.0
"""sf-net benchmarks (issue 6): how fast a network becomes usable, and what it costs.

Run as root through bench/run.sh (`make bench` builds the release binaries first). The harness
starts its own Redis and RabbitMQ (ops/services.sh on ports of its own), a development cluster
with a unique prefix (ops/cluster.sh: a network node, one hypervisor, the outside), sf-api,
sf-networknode and sf-hypervisor from build/, and runs:

  1. POST /networks -> the first GET that shows "created"                       (SF_BENCH_CREATE)
  2. POST /networks + POST /interfaces (veth into a fresh instance namespace on hv1) -> a DHCP
     lease by busybox udhcpc in the instance                                     (SF_BENCH_LEASE)
  3. one network's network-node dataplane through our netlink path (bench/plumb: libnn's
     observe, plan and apply) vs the same objects through `ip`, `bridge` and `nft` commands,
     alternately                                                                 (SF_BENCH_PLUMB)
  4. authenticated GET /networks/<uuid> under wrk vs bench/fixed_server (same body size, same
     MHD thread settings), and POST /networks per second          (SF_BENCH_WRK_S, _POST_S, _CONN)
  5. networks by the hundred (1,000, as the issue asks): time of each
     successive 100, the worker's RSS, the reconciler's pass time, the time to delete them all
                                                                                 (SF_BENCH_SCALE)
  6. with 200 networks live (on the way of 5), restart sf-networknode: time until its first
     reconcile pass has confirmed every network, and the devices it recreated (SF_BENCH_RECOVERY)

Each figure is printed with its median, p95 and count; bench/RESULTS.md gets them all with the
date and the machine. Targets are goals: a missed one is reported with what limits it, from a
profile taken in the same run (perf: on-CPU samples and off-CPU kernel stacks) or from the
daemons' own timings in their logs. SF_BENCH_ONLY=1,3 runs a subset.

Safety: every namespace is named with the run's unique prefix (networks' namespaces are their
uuids); nothing is configured in the machine's own namespace; traffic stays on loopback and
between the run's namespaces; every loop is bounded; everything is removed at the end.
"""
import datetime
import fcntl
import json
import math
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid as uuidlib
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("SF_BIN_DIR", REPO / "build"))
RUN = Path(os.environ.get("SF_BENCH_RUN_DIR", REPO / "run" / "bench"))
RESULTS = Path(os.environ.get("SF_BENCH_RESULTS", REPO / "bench" / "RESULTS.md"))


def env_int(name, default):
    return int(os.environ.get(name, default))


N_CREATE = env_int("SF_BENCH_CREATE", 100)
N_LEASE = env_int("SF_BENCH_LEASE", 20)
N_PLUMB = env_int("SF_BENCH_PLUMB", 50)
WRK_S = env_int("SF_BENCH_WRK_S", 20)
WRK_CONN = env_int("SF_BENCH_CONN", 64)
POST_S = env_int("SF_BENCH_POST_S", 10)
# The 1,000 networks: about 5 minutes here, creation, passes and deletion included.
N_SCALE = env_int("SF_BENCH_SCALE", 1000)
N_RECOVERY = env_int("SF_BENCH_RECOVERY", 200)
API_THREADS = env_int("SF_BENCH_API_THREADS", 4)  # sf-api's default `threads`
REDIS_PORT = env_int("SF_BENCH_REDIS_PORT", 16879)
AMQP_PORT = env_int("SF_BENCH_AMQP_PORT", 18072)
EPMD_PORT = env_int("SF_BENCH_EPMD_PORT", 14869)
ONLY = {int(x) for x in os.environ.get("SF_BENCH_ONLY", "1,2,3,4,5,6").split(",") if x}
# 1,000 networks need 1,000 floating gateways, and released ones stay in the halo for 5 min:
# a /20 instead of the development default /24. Only ever inside the run's namespaces.
FLOATING = os.environ.get("SF_BENCH_FLOATING_NETWORK", "100.64.0.0/20")
POLL_S = 0.005  # API polling interval while waiting for a state
RECONCILE_S = 30  # sf-networknode's default reconcile_s, which the run keeps


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(*args, check=True, timeout=120, **kw):
    return subprocess.run([str(a) for a in args], check=check, capture_output=True, text=True,
                          timeout=timeout, **kw)


def wait_for(fn, timeout, what, interval=POLL_S):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ---- figures -------------------------------------------------------------------------------

def pctl(xs, p):
    """Nearest-rank percentile."""
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


class Figure:
    """One measured quantity: its samples (or one value), unit, target and whether it was met.
    summary=(median, p95, n) stands for samples another tool summarised (wrk's latencies)."""

    def __init__(self, bench, name, values, unit, target=None, met=None, summary=None):
        self.bench, self.name, self.unit = bench, name, unit
        self.values = list(values) if isinstance(values, (list, tuple)) else [values]
        self.target, self.met = target, met
        if summary:
            self.median, self.p95, self.n = summary
        else:
            self.median = statistics.median(self.values)
            self.p95 = pctl(self.values, 95)
            self.n = len(self.values)

    def fmt(self, v):
        if self.unit == "ms":
            return f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms"
        if self.unit == "s":
            return f"{v:.2f} s"
        if self.unit == "x":
            return f"{v:.1f}x"
        if self.unit == "%":
            return f"{v:.0f}%"
        if self.unit in ("req/s", "MiB"):
            return f"{v:.1f} {self.unit}"
        return f"{v:g} {self.unit}".strip()

    def line(self):
        if self.n > 1:
            s = f"median {self.fmt(self.median)}, p95 {self.fmt(self.p95)}, n={self.n}"
        else:
            s = f"{self.fmt(self.median)} (n=1)"
        if self.target:
            s += f"  [target {self.target}: {'met' if self.met else 'MISSED'}]"
        return f"{self.name}: {s}"

    def row(self):
        p95 = self.fmt(self.p95) if self.n > 1 else "-"
        tgt = f"{self.target} ({'met' if self.met else '**missed**'})" if self.target else ""
        return f"| {self.name} | {self.fmt(self.median)} | {p95} | {self.n} | {tgt} |"


class Report:
    def __init__(self):
        self.figures = []
        self.notes = {}  # bench -> [text]
        self.failures = {}  # bench -> error text
        self.done = set()  # benchmarks run inside another one
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.load = " ".join(open("/proc/loadavg").read().split()[:3])

    def add(self, fig):
        self.figures.append(fig)
        print(f"  [{fig.bench}] {fig.line()}", flush=True)
        return fig

    def note(self, bench, text):
        self.notes.setdefault(bench, []).append(text)
        for line in text.splitlines():
            print(f"  [{bench}] note: {line}", flush=True)


TITLES = {
    1: "Create to `created` (POST /networks -> first GET showing created)",
    2: "Create to first lease (POST /networks + POST /interfaces -> DHCP lease in the instance)",
    3: "Plumbing cost: netlink (libnn) vs `ip`/`bridge`/`nft` commands",
    4: "API throughput (wrk)",
    5: "Scale",
    6: "Recovery (restart of sf-networknode)",
}


def machine():
    mem_kib = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (f"{os.cpu_count()} cores ({model}), {mem_kib / 1048576:.1f} GiB memory, "
            f"Linux {platform.release()}")


def write_results(rep, cfg_line):
    commit = run("git", "-C", REPO, "describe", "--always", "--dirty", check=False).stdout.strip()
    out = ["# sf-net benchmarks", "",
           f"Run of bench/run.sh (`make bench`) on {rep.started:%Y-%m-%d %H:%M} UTC, commit "
           f"{commit or '?'}.",
           f"Machine: {machine()}; load average {rep.load} at the start (other work on the "
           "machine shares its cores with the run).", f"Settings: {cfg_line}.", "",
           "Figures are medians, 95th percentiles (nearest rank) and sample counts; the targets "
           "of issue 6 are goals, not assertions. Everything ran on the one machine: clients, "
           "daemons, Redis and RabbitMQ share its cores.", ""]
    for b in sorted(TITLES):
        figs = [f for f in rep.figures if f.bench == b]
        if not figs and b not in rep.failures:
            continue
        out += [f"## {b}. {TITLES[b]}", ""]
        if figs:
            out += ["| figure | median | p95 | n | target |", "|---|---|---|---|---|"]
            out += [f.row() for f in figs]
            out.append("")
        if b in rep.failures:
            out += [f"**This benchmark failed:** {rep.failures[b]}", ""]
        for n in rep.notes.get(b, []):
            out += [n, ""]
    RESULTS.write_text("\n".join(out))
    log(f"wrote {RESULTS}")


# ---- profiles (perf) -----------------------------------------------------------------------

def have_perf():
    return run("perf", "--version", check=False).returncode == 0


class Profile:
    """perf while something runs: the CPU share of each command on the whole machine
    (cpu-clock samples); the process pid's hottest symbols and its own functions by inclusive
    time (cpu-clock with DWARF call graphs: the release build has no frame pointers); and, with
    comm, off-CPU time by kernel stack from sched_switch for the threads of that name."""

    def __init__(self, tag, pid, comm=None):
        self.pid, self.comm = pid, comm
        self.files = {k: RUN / f"perf-{tag}-{k}.data" for k in ("all", "pid", "off")}
        cmds = {"all": ["-a", "-e", "cpu-clock", "-F", "499"],
                "pid": ["-p", str(pid), "-e", "cpu-clock", "-F", "499", "--call-graph",
                        "dwarf,16384"]}
        if comm:
            cmds["off"] = ["-a", "-e", "sched:sched_switch", "-g"]
        self.procs = [subprocess.Popen(["perf", "record", "-q", "-o", str(self.files[k]), *c],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for k, c in cmds.items()]
        time.sleep(0.5)  # perf is attached

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        res = {"by_comm": self._report(self.files["all"], "comm", []),
               "by_dso": self._report(self.files["pid"], "dso", []),
               "ours": self._ours(self.files["pid"]),
               "on": self._report(self.files["pid"], "dso,sym", ["--percent-limit", "0.7"])}
        if self.comm:
            res["off"] = self._offcpu(self.files["off"])
        for f in self.files.values():
            f.unlink(missing_ok=True)
        return res

    @staticmethod
    def _report(path, sort, extra, top=10):
        out = run("perf", "report", "-i", path, "--no-children", "--sort", sort, "--stdio",
                  "-g", "none", "--percent-limit", "1.5", *extra, check=False,
                  timeout=300).stdout  # a later --percent-limit in extra wins
        rows = []
        for line in out.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+(.*)", line)
            if m and not line.lstrip().startswith("#"):
                rows.append(f"{m.group(1)}% {' '.join(m.group(2).split())}")
        return rows[:top]

    def _ours(self, path, top=12):
        """Our own functions by inclusive time (the process's binary, with its callees): which
        of our calls the time is spent under."""
        try:
            binary = Path(os.readlink(f"/proc/{self.pid}/exe")).name
        except OSError:
            return []
        out = run("perf", "report", "-i", path, "--children", "--sort", "dso,sym", "--stdio",
                  "-g", "none", check=False, timeout=600).stdout
        rows = []
        for line in out.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+(\S+)\s+\[.\]\s+(\S+)", line)
            if m and m.group(3) == binary and m.group(4) not in ("main", "_start", "wk_run",
                                                                  "wk_loop_run"):
                rows.append(f"{m.group(1)}% {m.group(4)}")
        return rows[:top]

    def _offcpu(self, path, top=6):
        """Seconds off CPU per kernel stack, for the threads whose comm is self.comm."""
        out = run("perf", "script", "-i", path, "-F", "comm,tid,time,event,trace,ip,sym",
                  check=False, timeout=300).stdout
        away, total, count = {}, {}, {}
        skip = {"__schedule", "schedule", "schedule_timeout", "schedule_preempt_disabled",
                "__cond_resched"}
        for blk in out.split("\n\n"):
            ls = [x for x in blk.strip().splitlines() if x.strip()]
            if not ls:
                continue
            m = re.search(r"(\d+\.\d+):\s+sched:sched_switch: prev_comm=(.+?) prev_pid=(\d+) .*"
                          r"next_comm=(.+?) next_pid=(\d+)", ls[0])
            if not m:
                continue
            t = float(m.group(1))
            if m.group(2) == self.comm:
                kern, user = [], []
                for x in ls[1:]:
                    f = x.split()
                    if len(f) < 2 or f[1] in skip or f[1].startswith("["):
                        continue
                    (kern if f[0].startswith("ffffffff") else user).append(f[1].split("+")[0])
                st = " <- ".join(kern[:3]) + " | " + " <- ".join(user[:4])
                away[m.group(3)] = (t, st)
            if m.group(5) in away:
                t0, st = away.pop(m.group(5))
                total[st] = total.get(st, 0) + t - t0
                count[st] = count.get(st, 0) + 1
        rows = sorted(total.items(), key=lambda kv: -kv[1])[:top]
        return [f"{v * 1000:.0f} ms in {count[k]} waits: {k}" for k, v in rows]


def profile_text(res):
    """The profile as Markdown list items, one per view."""
    parts = []
    if res.get("by_comm"):
        parts.append("CPU by command (perf cpu-clock, whole machine): "
                     + "; ".join(res["by_comm"][:6]))
    if res.get("by_dso"):
        parts.append("the process's CPU by library: " + "; ".join(res["by_dso"][:6]))
    if res.get("ours"):
        parts.append("its own functions with their callees (inclusive, % of its samples): "
                     + "; ".join(res["ours"]))
    if res.get("on"):
        parts.append("its hottest symbols (self time): " + "; ".join(res["on"][:10]))
    if res.get("off"):
        parts.append("off-CPU (sched_switch: wall time blocked, by kernel stack): "
                     + "; ".join(res["off"]))
    return "\n".join("- " + p for p in parts)


# ---- the system under test -----------------------------------------------------------------

def read_env(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        k, _, v = line.partition("=")
        env[k] = v.strip('"')
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, name, binary, env):
        self.name, self.binary, self.env = name, binary, env
        self.log_path = RUN / f"{name}.log"
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        with open(self.log_path, "ab") as f:
            self.offset = f.tell()
            self.proc = subprocess.Popen([str(self.binary)], env=self.env, stdout=f,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.started = time.time()
        return self

    def stop(self, timeout=30):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def log_since(self, offset=None):
        with open(self.log_path, "rb") as f:
            f.seek(self.offset if offset is None else offset)
            return f.read().decode(errors="replace")

    def log_range(self, a, b):
        with open(self.log_path, "rb") as f:
            f.seek(a)
            return f.read(b - a).decode(errors="replace")

    def log_size(self):
        return self.log_path.stat().st_size

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_mib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def log_ts(line):
    """The epoch time of a logfmt line (ts=2026-11-28T10:15:34.566Z)."""
    m = re.match(r"ts=(\S+)Z", line)
    return datetime.datetime.fromisoformat(m.group(1)).replace(
        tzinfo=datetime.timezone.utc).timestamp() if m else None


JOB_RE = re.compile(r'msg="job (\S+) (\S+)/(\S+) (\w+).*\(attempt \d+, (\d+) ms\)"')


def job_times(text, job_type):
    """{object uuid: ms} of the done jobs of a type in a log text (the last one wins)."""
    out = {}
    for m in JOB_RE.finditer(text):
        if m.group(1) == job_type and m.group(4) == "done":
            out[m.group(3)] = int(m.group(5))
    return out


class System:
    """Services, cluster and daemons of the run, and an API client."""

    def __init__(self):
        self.tag = secrets.token_hex(3)  # six hex digits
        self.prefix = "sfb" + self.tag  # cluster prefix: [a-z][a-z0-9]{0,9}
        self.redis_prefix = f"sfbench-{self.tag}:"
        self.vhost = f"sfbench-{self.tag}"
        self.services_env = dict(os.environ, SF_RUN_DIR=str(RUN), SF_REDIS_PORT=str(REDIS_PORT),
                                 SF_AMQP_PORT=str(AMQP_PORT), SF_EPMD_PORT=str(EPMD_PORT))
        self.redis_url = f"redis://127.0.0.1:{REDIS_PORT}/0"
        self.amqp_url = f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/{self.vhost}"
        self.rabbitmqctl = ["env", f"HOME={RUN}/rabbitmq-{AMQP_PORT}/home",
                            f"ERL_EPMD_PORT={EPMD_PORT}", "/usr/lib/rabbitmq/bin/rabbitmqctl",
                            "-q", "-n", f"sfnet-{AMQP_PORT}@localhost"]
        self.storage = RUN / f"nn-{self.tag}"
        self.api_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.system_key = secrets.token_urlsafe(24)
        self.netns_made = set()
        self.daemons = []
        self.services_up = self.cluster_up = self.vhost_made = False
        self.session = requests.Session()
        self.block = 0  # netblocks handed out: 10.<b / 256>.<b % 256>.0/24

    # -- setup --
    def up(self):
        RUN.mkdir(parents=True, exist_ok=True)
        res = subprocess.run([REPO / "ops" / "services.sh", "start"], env=self.services_env,
                             capture_output=True, text=True, timeout=300)
        self.services_up = True
        if res.returncode != 0:
            raise RuntimeError(f"ops/services.sh start failed:\n{res.stdout}{res.stderr}")
        self.ctl("add_vhost", self.vhost)
        self.vhost_made = True
        self.ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.cluster_sh("up", "--hypervisors", "1")
        self.cluster_up = True
        self.cluster = read_env(RUN / f"cluster-{self.prefix}.env")
        common = dict(os.environ, SF_REDIS_URL=self.redis_url, SF_REDIS_PREFIX=self.redis_prefix,
                      SF_AMQP_URL=self.amqp_url, SF_SCHEMA_DIR=str(REPO / "schemas"),
                      SF_LOG_LEVEL="info", SF_FLOATING_NETWORK=FLOATING)
        c = self.cluster
        self.api = Daemon(f"sf-api-{self.tag}", BIN / "sf-api", dict(
            common, SF_API_LISTEN_ADDRESS="127.0.0.1", SF_API_PORT=str(self.api_port),
            SF_API_THREADS=str(API_THREADS), SF_SYSTEM_KEY=self.system_key,
            SF_SYSTEM_KEY_FILE=str(RUN / f"sf-api-{self.tag}.key")))
        self.nn = Daemon(f"sf-networknode-{self.tag}", BIN / "sf-networknode", dict(
            common, SF_NODE_NAME="networknode", SF_NODE_NETNS=c["SF_NN_NETNS"],
            SF_NODE_MESH_NIC=c["SF_MESH_NIC"], SF_NODE_MESH_IP=c["SF_NN_MESH_IP"],
            SF_NODE_EGRESS_NIC=c["SF_EGRESS_NIC"], SF_DNS_SERVER=c["SF_OUTSIDE_IP"],
            SF_STORAGE_DIR=str(self.storage)))
        self.hv = Daemon(f"sf-hypervisor-{self.tag}", BIN / "sf-hypervisor", dict(
            common, SF_NODE_NAME="hv1", SF_NODE_NETNS=c["SF_HV1_NETNS"],
            SF_NODE_MESH_NIC=c["SF_MESH_NIC"], SF_NODE_MESH_IP=c["SF_HV1_MESH_IP"]))
        self.daemons = [self.api, self.nn, self.hv]
        self.api.start()
        self.wait_api()
        self.start_worker(self.nn)
        self.start_worker(self.hv)
        wait_for(lambda: {"networknode", "hv1"} <= {
            n["name"] for n in self.call("GET", "/nodes").json() if n.get("state") == "up"},
            60, "the nodes to register", interval=0.2)

    def ctl(self, *args):
        res = run(*self.rabbitmqctl, *args, check=False, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {res.stdout}{res.stderr}")
        return res.stdout

    def cluster_sh(self, *args):
        res = subprocess.run([REPO / "ops" / "cluster.sh", args[0], "--prefix", self.prefix,
                              *args[1:]], env=dict(os.environ, SF_RUN_DIR=str(RUN)),
                             capture_output=True, text=True, timeout=180)
        if res.returncode != 0:
            raise RuntimeError(f"cluster.sh {args[0]}: {res.stdout}{res.stderr}")

    def wait_api(self):
        def up():
            if not self.api.alive():
                raise RuntimeError(f"sf-api exited; see {self.api.log_path}")
            try:
                return requests.get(self.url + "/", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False
        wait_for(up, 60, "sf-api", interval=0.1)
        self.authenticate()

    def authenticate(self):
        """A new access token (they last sf-api's token_minutes, 15 by default)."""
        r = requests.post(self.url + "/auth", json={"namespace": "system",
                                                    "key": self.system_key}, timeout=30)
        r.raise_for_status()
        self.token = r.json()["access_token"]
        self.session.headers["Authorization"] = "Bearer " + self.token

    def start_worker(self, d):
        d.start()

        def ready():
            if not d.alive():
                raise RuntimeError(f"{d.name} exited; see {d.log_path}")
            return "ready: consuming" in d.log_since()
        wait_for(ready, 60, d.name, interval=0.02)

    # -- API --
    def call(self, method, path, body=None, timeout=60):
        r = self.session.request(method, self.url + path, json=body, timeout=timeout)
        if r.status_code == 401:  # the token expired during a long benchmark
            self.authenticate()
            r = self.session.request(method, self.url + path, json=body, timeout=timeout)
        return r

    def next_block(self):
        b = self.block
        self.block += 1
        return f"10.{b // 256}.{b % 256}.0/24"

    def post_network(self, name, dhcp=True):
        r = self.call("POST", "/networks", {"netblock": self.next_block(), "name": name,
                                            "provide_dhcp": dhcp, "provide_nat": True})
        if r.status_code != 200:
            raise RuntimeError(f"POST /networks: {r.status_code} {r.text}")
        return r.json()

    def state(self, uuid):
        r = self.call("GET", f"/networks/{uuid}")
        if r.status_code == 404:
            return "deleted"
        r.raise_for_status()
        return r.json()["state"]

    def wait_states(self, uuids, want, timeout):
        """Wait until every network is in state want (they progress in queue order, so poll
        the first one not there yet). Returns {uuid: time.monotonic() it was first seen}."""
        seen, pending = {}, list(uuids)
        deadline = time.monotonic() + timeout
        while pending:
            if not self.nn.alive():  # nothing would ever change: say so now
                raise RuntimeError(f"sf-networknode died (exit {self.nn.proc.poll()}); see "
                                   f"{self.nn.log_path}")
            st = self.state(pending[0])
            if st == want:
                seen[pending.pop(0)] = time.monotonic()
                continue
            if st == "error":
                raise RuntimeError(f"network {pending[0]} went to state error")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} networks not {want} after {timeout}s")
            time.sleep(POLL_S)
        return seen

    def delete_networks(self, uuids, timeout):
        """DELETE each, then wait until all are deleted and their namespaces gone; seconds."""
        t0 = time.monotonic()
        if not self.nn.alive():  # a benchmark killed it: the deletion needs it
            log("sf-networknode is not running: starting it again to delete the networks")
            self.start_worker(self.nn)
        for u in uuids:
            r = self.call("DELETE", f"/networks/{u}")
            if r.status_code != 200:
                raise RuntimeError(f"DELETE /networks/{u}: {r.status_code} {r.text}")
        self.wait_states(uuids, "deleted", timeout)
        wait_for(lambda: not any(os.path.exists(f"/run/netns/{u}") for u in uuids), timeout,
                 "the networks' namespaces to go", interval=0.05)
        return time.monotonic() - t0

    # -- kernel --
    def links(self, netns):
        out = run("ip", "-j", "-n", netns, "link", "show", check=False).stdout.strip()
        return {e["ifname"]: e["ifindex"] for e in json.loads(out or "[]")}

    def add_netns(self, name):
        run("ip", "netns", "add", name)
        self.netns_made.add(name)
        run("ip", "-n", name, "link", "set", "lo", "up")

    def dnsmasq_pids(self):
        want, pids = str(self.storage).encode(), {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"dnsmasq") and any(want in a for a in cmd):
                m = re.search(rb"/dhcp/([0-9a-f-]{36})", b" ".join(cmd))
                pids[int(d.name)] = m.group(1).decode() if m else "?"
        return pids

    def redis_calls(self):
        """(commands executed, reads from client sockets) of redis-server (all clients), from
        INFO commandstats and stats: a pipeline of several commands is one read."""
        out = run("redis-cli", "-u", self.redis_url, "INFO", "commandstats").stdout
        reads = run("redis-cli", "-u", self.redis_url, "INFO", "stats").stdout
        m = re.search(r"total_reads_processed:(\d+)", reads)
        return (sum(int(m) for m in re.findall(r"calls=(\d+)", out)),
                int(m.group(1)) if m else 0)

    def networks_in_redis(self):
        return run("redis-cli", "-u", self.redis_url, "SMEMBERS",
                   self.redis_prefix + "networks").stdout.split()

    def submit_reconcile(self):
        """node.reconcile to the network node with sf-submit: the envelope of --dry-run, then
        published with --file, which routes node.* jobs to the network node's queue (with
        --node, older sf-submits route them to hypervisor.<node>). False on failure; the
        caller then waits for the periodic pass."""
        env = dict(os.environ, SF_AMQP_URL=self.amqp_url, SF_REDIS_URL=self.redis_url,
                   SF_REDIS_PREFIX=self.redis_prefix, SF_SCHEMA_DIR=str(REPO / "schemas"))
        res = run(BIN / "sf-submit", "node.reconcile", "--node", "networknode", "--dry-run",
                  env=env, check=False)
        if res.returncode == 0:
            path = RUN / f"reconcile-{self.tag}.json"
            path.write_text(res.stdout)
            res = run(BIN / "sf-submit", "--file", path, env=env, check=False)
            path.unlink()
        if res.returncode != 0:
            log(f"sf-submit node.reconcile failed ({res.stderr.strip()}); waiting for the "
                "periodic pass instead")
        return res.returncode == 0

    # -- teardown --
    def down(self):
        for d in self.daemons:
            d.stop()
        for pid in self.dnsmasq_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        names = set(self.netns_made)
        if self.services_up:
            try:
                names |= set(self.networks_in_redis())
            except Exception as e:  # the services may be what failed
                log(f"cannot list the networks in redis: {e}")
        for ns in names:
            if os.path.exists(f"/run/netns/{ns}"):
                run("ip", "netns", "del", ns, check=False)
        if self.cluster_up:
            try:
                self.cluster_sh("down")
            except Exception as e:
                log(str(e))
        if self.services_up:
            keys = run("redis-cli", "-u", self.redis_url, "--scan", "--pattern",
                       self.redis_prefix + "*", check=False).stdout.split()
            for i in range(0, len(keys), 500):
                run("redis-cli", "-u", self.redis_url, "DEL", *keys[i:i + 500], check=False)
            if self.vhost_made:
                subprocess.run(self.rabbitmqctl + ["delete_vhost", self.vhost],
                               capture_output=True, timeout=120)
            subprocess.run([REPO / "ops" / "services.sh", "stop"], env=self.services_env,
                           capture_output=True, timeout=300)
        run("rm", "-rf", self.storage, check=False)
        left = [n for n in os.listdir("/run/netns") if self.tag in n] if os.path.isdir(
            "/run/netns") else []
        left += [n for n in names if os.path.exists(f"/run/netns/{n}")]
        if left:
            log(f"LEFT BEHIND: namespaces {sorted(set(left))}")
        else:
            log("cleaned up: no namespace, dnsmasq or daemon of this run is left")


# ---- 1. create to created ------------------------------------------------------------------

def bench_create(sy, rep):
    times, posts, uuids = [], [], []
    off = sy.nn.log_size()
    for i in range(N_CREATE):
        t0 = time.monotonic()
        net = sy.post_network(f"bench-create-{i}")
        posts.append(time.monotonic() - t0)
        wait_for(lambda: sy.state(net["uuid"]) == "created", 60, f"network {i} created")
        times.append(time.monotonic() - t0)
        uuids.append(net["uuid"])
    jobs = job_times(sy.nn.log_since(off), "network.deploy")
    ms = [t * 1000 for t in times]
    f = rep.add(Figure(1, "POST /networks -> created", ms, "ms", "median <= 50 ms",
                       statistics.median(ms) <= 50))
    rep.add(Figure(1, "POST /networks response time (part of the above)",
                   [t * 1000 for t in posts], "ms"))
    worker = [jobs[u] for u in uuids if u in jobs]
    rep.add(Figure(1, "network.deploy in sf-networknode (its log; part of the above)", worker,
                   "ms"))
    rep.note(1, f"The median {f.fmt(f.median)} is the POST's answer "
                f"({statistics.median(posts) * 1000:.1f} ms: stored, and the deploy job "
                f"published with a broker confirm), the worker's deploy job "
                f"({statistics.median(worker):.0f} ms), and the rest: delivery by RabbitMQ and "
                f"the client's {POLL_S * 1000:.0f} ms polling.")
    if not f.met and have_perf():
        pr = Profile("deploy", pid=sy.nn.proc.pid, comm="sf-networknode")
        more = []
        for i in range(10):
            net = sy.post_network(f"bench-create-profiled-{i}")
            wait_for(lambda: sy.state(net["uuid"]) == "created", 60, "a profiled network")
            more.append(net["uuid"])
        res = pr.stop()
        uuids += more
        rep.note(1, "Profile of sf-networknode over 10 more creates:\n" + profile_text(res))
    t = sy.delete_networks(uuids, 120)
    rep.add(Figure(1, f"delete all {len(uuids)} (DELETE each -> all deleted, namespaces gone)",
                   t, "s"))
    return uuids


# ---- 2. create to first lease --------------------------------------------------------------

def udhcpc(inst, deadline):
    """Run busybox udhcpc in the instance until it gets a lease: it exits at once while eth0
    does not exist yet (then again after 10 ms), else sends a DISCOVER a second. Returns
    (time.monotonic() of the lease, DISCOVERs of the successful run)."""
    while time.monotonic() < deadline:
        res = run("ip", "netns", "exec", inst, "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                  "-t", "10", "-T", "1", "-A", "1", "-s", "/bin/true", check=False, timeout=30)
        if res.returncode == 0:
            return time.monotonic(), res.stderr.count("broadcasting discover")
        time.sleep(0.01)
    raise RuntimeError(f"no lease in {inst}")


def bench_lease(sy, rep):
    rows, made = [], []
    off_nn, off_hv = sy.nn.log_size(), sy.hv.log_size()
    for i in range(N_LEASE):
        inst = f"{sy.prefix}-i{i}"
        sy.add_netns(inst)
        t0 = time.monotonic()
        net = sy.post_network(f"bench-lease-{i}")
        body = {"network_uuid": net["uuid"], "instance_uuid": str(uuidlib.uuid4()),
                "node": "hv1", "kind": "veth", "netns": inst}
        deadline = t0 + 60
        while True:  # 406: the network is not ready yet; the client retries
            r = sy.call("POST", "/interfaces", body)
            if r.status_code != 406 or time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
        if r.status_code != 200:
            raise RuntimeError(f"POST /interfaces: {r.status_code} {r.text}")
        t_iface = time.monotonic()
        t_lease, discovers = udhcpc(inst, deadline)
        rows.append((t_lease - t0, t_iface - t0, discovers))
        made.append((net["uuid"], r.json()["uuid"], inst))
    lease = [r[0] * 1000 for r in rows]
    rep.add(Figure(2, "POST /networks + POST /interfaces -> DHCP lease", lease, "ms",
                   "median <= 500 ms", statistics.median(lease) <= 500))
    rep.add(Figure(2, "  of which: until POST /interfaces was accepted (network created)",
                   [r[1] * 1000 for r in rows], "ms"))
    rep.add(Figure(2, "  of which: POST /interfaces accepted -> lease",
                   [(r[0] - r[1]) * 1000 for r in rows], "ms"))
    plug = list(job_times(sy.hv.log_since(off_hv), "interface.plug").values())
    hosts = list(job_times(sy.nn.log_since(off_nn), "network.dhcp_hosts").values())
    if plug:
        rep.add(Figure(2, "interface.plug in sf-hypervisor (its log)", plug, "ms"))
    if hosts:
        rep.add(Figure(2, "network.dhcp_hosts in sf-networknode (its log)", hosts, "ms"))
    retried = sum(1 for r in rows if r[2] > 1)
    med = statistics.median
    parts = (f"Medians: the network was created and POST /interfaces accepted after "
             f"{med([r[1] for r in rows]) * 1000:.0f} ms, the lease came "
             f"{med([r[0] - r[1] for r in rows]) * 1000:.0f} ms later")
    if plug and hosts:
        parts += (f" (the hypervisor's interface.plug job {med(plug):.0f} ms and the network "
                  f"node's network.dhcp_hosts job {med(hosts):.0f} ms run in that time)")
    rep.note(2, parts + f". {retried} of {len(rows)} udhcpc runs needed more than one DISCOVER "
                "(busybox sends one a second at the most, -T 1): the first went unanswered.")
    for net, iface, inst in made:
        sy.call("DELETE", f"/interfaces/{iface}")
    sy.delete_networks([m[0] for m in made], 120)
    for _, _, inst in made:
        run("ip", "netns", "del", inst, check=False)
        sy.netns_made.discard(inst)


# ---- 3. plumbing -----------------------------------------------------------------------------

class Plumb:
    """bench/plumb in a throwaway node namespace of the run."""

    def __init__(self, sy):
        self.node = f"{sy.prefix}-pn"
        self.dir = RUN / f"plumb-{sy.tag}"
        self.dir.mkdir(parents=True, exist_ok=True)
        sy.add_netns(self.node)
        # the node's NICs: veth pairs inside the namespace (the kernel may lack dummy)
        for nic, peer, mtu in (("mesh0", "mesh0p", 9000), ("egress0", "egress0p", 1500)):
            run("ip", "-n", self.node, "link", "add", nic, "mtu", mtu, "type", "veth", "peer",
                "name", peer, "mtu", mtu)
            run("ip", "-n", self.node, "link", "set", nic, "up")
            run("ip", "-n", self.node, "link", "set", peer, "up")
        run("ip", "-n", self.node, "addr", "add", "198.18.0.2/24", "dev", "mesh0")
        self.tag = sy.tag
        self.proc = subprocess.Popen([str(BIN / "bench" / "plumb"), self.node, str(self.dir),
                                      sy.tag], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.ask("egress")

    def ask(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().strip()
        if not line.startswith("ok"):
            raise RuntimeError(f"plumb {cmd}: {line or 'exited'}")
        return line.split()[1:]

    def commands(self, n):
        self.proc.stdin.write(f"commands {n}\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline().strip()
            if line == "end":
                return lines
            if not line or line.startswith("err"):
                raise RuntimeError(f"plumb commands {n}: {line or 'exited'}")
            lines.append(line)

    def close(self, sy):
        try:
            self.proc.stdin.close()
            self.proc.wait(30)
        except Exception:
            self.proc.kill()
        for name in os.listdir("/run/netns"):
            if name.startswith(f"5f000000-0000-4000-8000-{self.tag}"):
                run("ip", "netns", "del", name, check=False)
        run("ip", "netns", "del", self.node, check=False)
        sy.netns_made.discard(self.node)
        run("rm", "-rf", self.dir, check=False)


def run_commands(lines):
    """Run each command as its own process, as upstream's processutils.execute does; returns
    (total seconds, seconds of the nft command)."""
    t0, t_nft = time.monotonic(), 0.0
    for line in lines:
        t = time.monotonic()
        res = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=30)
        if res.returncode != 0:
            raise RuntimeError(f"{line}: {res.stderr.strip()}")
        if " nft " in line:
            t_nft += time.monotonic() - t
    return time.monotonic() - t0, t_nft


def bench_plumb(sy, rep):
    p = Plumb(sy)
    try:
        nl, nl_apply, cmd, cmd_nft, destroy, mismatch, n_ops = [], [], [], [], [], 0, 0
        reap = []
        k = 0
        for i in range(N_PLUMB + 1):  # the first pair warms up and is not counted
            order = ("netlink", "commands") if i % 2 == 0 else ("commands", "netlink")
            for way in order:
                if way == "netlink":
                    obs, plan, apply_, n_ops = map(int, p.ask(f"build {k}"))
                    if i:
                        nl.append((obs + plan + apply_) / 1000)
                        nl_apply.append(apply_ / 1000)
                else:
                    lines = p.commands(k)
                    total, t_nft = run_commands(lines)
                    if i:
                        cmd.append(total * 1000)
                        cmd_nft.append(t_nft * 1000)
                # both ways built the same network: the worker would change nothing
                mismatch += int(p.ask(f"pending {k}")[0]) != 0
                destroy.append(int(p.ask(f"destroy {k}")[0]) / 1000)
                us, freed = map(int, p.ask("reap"))
                if way == "netlink" and i:
                    reap.append(us / 1000)
                k += 1
        f_nl = rep.add(Figure(3, "netlink path (observe + plan + apply)", nl, "ms"))
        rep.add(Figure(3, "  of which apply", nl_apply, "ms"))
        f_cmd = rep.add(Figure(3, f"commands path ({len(lines)} commands)", cmd, "ms"))
        rep.add(Figure(3, "  of which `ip netns exec <ns> nft -f`", cmd_nft, "ms"))
        ratio = f_cmd.median / f_nl.median
        fr = rep.add(Figure(3, "ratio of the medians (commands / netlink)", ratio, "x",
                            ">= 10x", ratio >= 10))
        rep.add(Figure(3, "teardown through the worker's path (not compared)", destroy, "ms"))
        rep.add(Figure(3, "closing the build's nft contexts, after its teardown (not compared)",
                       reap, "ms"))
        rep.note(3, f"{n_ops} operations per network. After each build, the worker's own "
                    f"observe and plan found {mismatch} of {2 * N_PLUMB + 2} networks needing any "
                    "change, i.e. both ways built the same objects. Commands use `ip -n` (one "
                    "process each; upstream's `ip netns exec <ns> ip ...` costs a second exec), "
                    "one `nft -f` for the whole table (upstream runs one iptables per rule).")
        # where the netlink path's time goes: per kind of operation, and off-CPU stacks
        prof = {}
        base = k
        use_perf = have_perf()
        pr = Profile("plumb", pid=p.proc.pid, comm="plumb") if use_perf else None
        for j in range(10):  # builds only under perf; the teardowns come after
            for kv in p.ask(f"profile {base + j}"):
                name, _, v = kv.partition("=")
                prof.setdefault(name, []).append(int(v.partition("x")[0]) / 1000)
        res = pr.stop() if pr else {}
        for j in range(10):
            p.ask(f"destroy {base + j}")
        parts = sorted(((statistics.median(v), n) for n, v in prof.items()), reverse=True)
        total = sum(m for m, _ in parts)
        rep.note(3, "Netlink path by operation kind (medians of 10 builds, wall time): "
                    + ", ".join(f"{n} {m:.2f} ms" for m, n in parts)
                    + f" (sum {total:.1f} ms).")
        nft_nl = statistics.median(prof.get("nft_apply", [0]))
        rest_nl = total - nft_nl
        rest_cmd = statistics.median([c - n for c, n in zip(cmd, cmd_nft)])
        if rest_nl > 0:
            rep.add(Figure(3, "ratio without the nft table (commands / netlink)",
                           rest_cmd / rest_nl, "x"))
        if not fr.met or use_perf:
            rep.note(3, "Profile of the netlink path's builds: " + (profile_text(res) or
                                                                    "perf unavailable"))
        off = res.get("off") or []
        if not fr.met:
            why = (f"What limits the ratio: the nftables table is the largest part of both "
                   f"paths ({nft_nl:.1f} ms of ours, {statistics.median(cmd_nft):.1f} ms as a "
                   "command), and without it the ratio is the figure above. ")
            if off and "nft_rcv_nl_event" in off[0]:
                why += ("The profile's largest wait is the kernel's, not ours: "
                        "nft_rcv_nl_event -> __flush_work, when the libnftables socket closes "
                        "nf_tables flushes its deferred-destroy work, which waits for an RCU "
                        "grace period; our transaction's `add table; delete table` prelude "
                        "leaves such work even for a new namespace.")
            elif off:
                why += f"The profile's largest wait: {off[0]}."
            rep.note(3, why)
    finally:
        p.close(sy)


# ---- 4. API throughput ---------------------------------------------------------------------

def wrk(url, seconds, conns, headers=(), post=False):
    args = ["wrk", "-t", str(os.cpu_count() or 2), "-c", str(conns), "-d", f"{seconds}s",
            "--timeout", "10s", "-s", str(REPO / "bench" / "wrk-report.lua")]
    for h in headers:
        args += ["-H", h]
    env = dict(os.environ, SF_BENCH_POST="1") if post else None
    res = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 60,
                         env=env)
    m = re.search(r"WRK-JSON (\{.*\})", res.stdout)
    if not m:
        raise RuntimeError(f"wrk: {res.stdout}{res.stderr}")
    d = json.loads(m.group(1))
    d["rps"] = d["requests"] / (d["duration_us"] / 1e6)
    return d


def latency(bench, name, d):
    """A latency figure from wrk's histogram: its median, p95 and request count."""
    return Figure(bench, name, [], "ms",
                  summary=(d["p50_us"] / 1000, d["p95_us"] / 1000, d["requests"]))


def bench_api(sy, rep):
    net = sy.post_network("bench-get", dhcp=False)
    wait_for(lambda: sy.state(net["uuid"]) == "created", 60, "the GET network")
    r = sy.call("GET", f"/networks/{net['uuid']}")
    size = len(r.content)
    sy.authenticate()  # valid for the whole of the wrk runs
    auth = f"Authorization: Bearer {sy.token}"
    path = f"/networks/{net['uuid']}"
    calls = sy.redis_calls()
    api = wrk(sy.url + path, WRK_S, WRK_CONN, [auth])
    after = sy.redis_calls()
    per_req, trips = ((b - a) / max(1, api["requests"]) for a, b in zip(calls, after))
    port = free_port()
    fixed = subprocess.Popen([str(BIN / "bench" / "fixed_server"), str(port), str(API_THREADS),
                              str(size)], stdout=subprocess.PIPE, text=True)
    try:
        fixed.stdout.readline()  # listening
        ceil = wrk(f"http://127.0.0.1:{port}{path}", WRK_S, WRK_CONN, [auth])
    finally:
        fixed.send_signal(signal.SIGTERM)
        fixed.wait(30)
    for name, d in ((f"sf-api GET /networks/<uuid> ({size}-byte body)", api),
                    ("fixed_server (same body size and threads)", ceil)):
        rep.add(Figure(4, f"{name}: requests/s", d["rps"], "req/s"))
        rep.add(latency(4, f"{name}: latency", d))
        if d["non2xx"] or d["socket_errors"]:
            rep.note(4, f"{name}: {d['non2xx']} non-2xx answers, {d['socket_errors']} socket "
                        "errors")
    pct = 100 * api["rps"] / ceil["rps"]
    f = rep.add(Figure(4, "sf-api as a share of the fixed-response ceiling", pct, "%",
                       ">= 50%", pct >= 50))
    rep.note(4, f"wrk: {WRK_CONN} connections, {WRK_S} s for each server, one after the other "
                f"in this run; wrk's {os.cpu_count()} threads share the cores with the server. "
                "Latency figures are wrk's histogram (n = requests).")
    rep.note(4, f"sf-api made {per_req:.1f} Redis commands per GET in {trips:.2f} round trips "
                "(INFO commandstats and total_reads_processed over the run: the token's key "
                "check and the handler's reads go in one pipeline) to redis-server on the same "
                "cores.")
    if not f.met and have_perf():
        pr = Profile("api", pid=sy.api.proc.pid)
        wrk(sy.url + path, 5, WRK_CONN, [auth])
        res = pr.stop()
        rep.note(4, "Profile of sf-api under the same load (5 s more of it):\n"
                 + profile_text(res))
    return net["uuid"]


def bench_post(sy, rep):
    """POST /networks per second, with sf-networknode stopped: the API alone (publish with a
    broker confirm); the networks are removed with the run's Redis keys and vhost."""
    sy.nn.stop()
    sy.authenticate()
    d = wrk(sy.url + "/networks", POST_S, WRK_CONN, [f"Authorization: Bearer {sy.token}"],
            post=True)
    ok = (d["requests"] - d["non2xx"]) / (d["duration_us"] / 1e6)
    rep.add(Figure(4, "POST /networks: networks created per second (200s only)", ok, "req/s"))
    rep.add(latency(4, "POST /networks: latency", d))
    rep.note(4, f"POST /networks: {d['requests']} in {d['duration_us'] / 1e6:.1f} s over "
                f"{WRK_CONN} connections, {d['non2xx']} non-2xx; sf-networknode was stopped "
                "meanwhile (the deploy jobs queue), so this is the API, Redis and RabbitMQ "
                "alone. The networks go with the run's Redis keys and vhost.")


# ---- 5. scale --------------------------------------------------------------------------------

PASS_RE = re.compile(r'reconciled (\d+) networks in (\d+) ms, (\d+) repairs, (\d+) failed')


def wait_pass(d, offset, min_networks, timeout):
    """The first reconcile pass logged after offset over at least min_networks:
    (epoch time of the line, networks, ms, repairs, failed)."""
    def find():
        for line in d.log_since(offset).splitlines():
            m = PASS_RE.search(line)
            if m and int(m.group(1)) >= min_networks:
                return (log_ts(line), *map(int, m.groups()))
        return None
    return wait_for(find, timeout, "a reconcile pass", interval=0.02)


def create_batch(sy, n, name):
    uuids = [sy.post_network(f"{name}-{i}")["uuid"] for i in range(n)]
    sy.wait_states(uuids, "created", 120 + 2 * n)
    return uuids


def passes_logged(text):
    """[(networks, ms)] of the reconcile passes in a log text."""
    return [(int(m.group(1)), int(m.group(2))) for m in PASS_RE.finditer(text)]


def bench_scale(sy, rep):
    """Benchmark 5, with benchmark 6 run on the way when the count reaches N_RECOVERY (the
    same networks: no second fleet to create and delete)."""
    do5, do6 = 5 in ONLY, 6 in ONLY
    goal = max(N_SCALE if do5 else 0, N_RECOVERY if do6 else 0)
    uuids, per100, rss, deploy = [], [], [], []
    segments = [[sy.nn.log_size(), None]]  # log ranges of the creation, without benchmark 6
    try:
        while len(uuids) < goal:
            t0, off = time.monotonic(), sy.nn.log_size()
            batch = create_batch(sy, min(100, goal - len(uuids)), f"bench-scale-{len(uuids)}")
            per100.append(time.monotonic() - t0)
            jobs = job_times(sy.nn.log_since(off), "network.deploy")
            deploy.append([jobs[u] for u in batch if u in jobs])
            uuids += batch
            rss.append(sy.nn.rss_mib())
            log(f"scale: {len(uuids)} networks, the last batch in {per100[-1]:.1f} s, "
                f"RSS {rss[-1]:.1f} MiB")
            if do6 and len(uuids) >= N_RECOVERY and 6 not in rep.done:
                rep.done.add(6)
                segments[-1][1] = sy.nn.log_size()
                try:
                    recovery(sy, rep, uuids)
                except Exception as e:
                    rep.failures[6] = f"{type(e).__name__}: {e}"
                    log(f"benchmark 6 failed: {e}")
                    if not sy.nn.alive():
                        sy.start_worker(sy.nn)
                segments.append([sy.nn.log_size(), None])
        segments[-1][1] = sy.nn.log_size()
        if do5:
            seen = [p for a, b in segments for p in passes_logged(sy.nn.log_range(a, b))]
            scale_figures(sy, rep, uuids, per100, rss, deploy, seen)
            if per100[-1] / per100[0] > 1.5 and have_perf():
                profile_deploys(sy, rep, uuids)
    finally:
        if uuids:
            t = sy.delete_networks(uuids, 3600)
            rep.add(Figure(5 if do5 else 6, f"delete all {len(uuids)} (DELETE each -> all "
                           "deleted, namespaces gone)", t, "s"))


def profile_deploys(sy, rep, uuids, n=20):
    """Why the last hundred took longer than the first: n more networks created under perf
    (added to uuids, so they are deleted with the others)."""
    pr = Profile("deploy", pid=sy.nn.proc.pid, comm="sf-networknode")
    off = sy.nn.log_size()
    batch = create_batch(sy, n, f"bench-scale-profile-{len(uuids)}")
    res = pr.stop()
    uuids += batch
    jobs = job_times(sy.nn.log_since(off), "network.deploy")
    ms = [jobs[u] for u in batch if u in jobs]
    rep.note(5, f"Profile of {n} more network.deploy jobs at {len(uuids) - n} networks (under "
                f"perf they took {statistics.median(ms) if ms else '?'} ms each, median):\n"
                + profile_text(res))


def scale_figures(sy, rep, uuids, per100, rss, deploy, seen):
    n = len(uuids)
    for i, t in enumerate(per100):
        rep.add(Figure(5, f"networks {100 * i + 1}-{min(n, 100 * i + 100)}: POST all, wait "
                       "all created", t, "s"))
    ratio = per100[-1] / per100[0]
    rep.add(Figure(5, "last hundred / first hundred", ratio, "x", "<= 1.5x", ratio <= 1.5))
    for i in (0, len(deploy) - 1) if len(deploy) > 1 else ():
        if deploy[i]:
            rep.add(Figure(5, f"  network.deploy in the worker (its log), networks "
                           f"{100 * i + 1}-{min(n, 100 * i + 100)}", deploy[i], "ms"))
    rep.add(Figure(5, f"sf-networknode RSS at {n} networks", rss[-1], "MiB"))
    rep.note(5, "RSS after each hundred (MiB): " + ", ".join(f"{r:.1f}" for r in rss)
                + f"; {len(sy.dnsmasq_pids())} dnsmasq processes (one per network).")
    # The reconciler's own next pass over all of them. Only short passes are also asked for
    # as node.reconcile jobs: a job longer than two AMQP heartbeats (60 s) loses its channel,
    # its ack fails and the broker redelivers it, again and again (seen at 1,000 networks).
    o = sy.nn.log_size()
    t_end, _, ms = wait_pass(sy.nn, o, n, RECONCILE_S + 1800)[:3]
    passes = [ms]
    while passes[-1] < 10000 and len(passes) < 3:
        o = sy.nn.log_size()
        sy.submit_reconcile()
        t_end, _, ms = wait_pass(sy.nn, o, n, RECONCILE_S + 600)[:3]
        passes.append(ms)
    f = rep.add(Figure(5, f"reconcile pass at {n} networks", passes, "ms", "<= 2 s",
                       statistics.median(passes) <= 2000))
    if seen:
        rep.note(5, "Reconcile passes logged while the networks were being created "
                    "(networks: ms): " + ", ".join(f"{k}: {v}" for k, v in seen)
                    + ". A pass works in slices and the deploy jobs take turns in between, so "
                    "these wall times include jobs.")
    if (not f.met or ratio > 1.5) and have_perf():
        o = sy.nn.log_size()
        if passes[-1] < 10000:  # a short one: ask for it, profile all of it
            pr = Profile("reconcile", pid=sy.nn.proc.pid, comm="sf-networknode")
            sy.submit_reconcile()
            ms = wait_pass(sy.nn, o, n, RECONCILE_S + 600)[2]
            res, what = pr.stop(), "a whole reconcile pass"
        else:  # 20 s of the next periodic one, due reconcile_s after the last one ended
            time.sleep(max(0.0, t_end + RECONCILE_S + 1 - time.time()))
            pr = Profile("reconcile", pid=sy.nn.proc.pid, comm="sf-networknode")
            time.sleep(20)
            res, what = pr.stop(), "20 s of the reconciler's next pass"
            ms = wait_pass(sy.nn, o, n, 1800)[2]
        rep.note(5, f"Profile of {what} at {n} networks (that pass took {ms} ms, under "
                    "perf):\n" + profile_text(res))


# ---- 6. recovery -----------------------------------------------------------------------------

def snapshot(sy, uuids):
    dev = {(sy.nn.env["SF_NODE_NETNS"], n): i
           for n, i in sy.links(sy.nn.env["SF_NODE_NETNS"]).items()}
    for u in uuids:
        dev.update({(u, n): i for n, i in sy.links(u).items()})
    return dev, sy.dnsmasq_pids()


def restart_nn(sy, n, profile=False):
    """Stop sf-networknode, start it again and wait for its first pass over n networks:
    (SIGTERM time, start time, (pass line time, networks, ms, repairs, failed), profile)."""
    t_stop = time.time()
    sy.nn.stop()
    t_start = time.time()
    sy.nn.start()
    # perf attaches to the new process, which has its first half second to itself
    pr = Profile("recovery", pid=sy.nn.proc.pid, comm="sf-networknode") if profile else None
    p = wait_pass(sy.nn, sy.nn.offset, n, 600)
    return t_stop, t_start, p, pr.stop() if pr else None


def recovery(sy, rep, uuids):
    before, dns_before = snapshot(sy, uuids)
    t_stop, t_start, (at, n, ms, repairs, failed), _ = restart_nn(sy, len(uuids))
    first_pass = sy.nn.log_since()
    converged = re.findall(r"network \S+ converged \((\d+) operations\)", first_pass)
    after, dns_after = snapshot(sy, uuids)
    changed = [k for k, v in before.items() if after.get(k) != v]
    extra = [k for k in after if k not in before]
    pid_of = {u: p for p, u in dns_before.items()}
    dns_replaced = sum(1 for p, u in dns_after.items() if pid_of.get(u) != p)
    f = rep.add(Figure(6, f"start -> first pass confirmed all {n} networks", at - t_start, "s",
                       "<= 5 s", at - t_start <= 5 and failed == 0))
    rep.add(Figure(6, "SIGTERM -> first pass done (includes the stop)", at - t_stop, "s"))
    rep.add(Figure(6, "the first pass itself", ms / 1000, "s"))
    rep.add(Figure(6, "devices recreated (ifindex changed or new)",
                   len(changed) + len(extra), "", "0", not changed and not extra))
    rep.note(6, f"{len(before)} devices checked in the node namespace and the {len(uuids)} "
                f"networks' namespaces; the pass reported {repairs} repairs and {failed} "
                f"failures; {dns_replaced} of {len(dns_after)} dnsmasq processes have a new "
                f"pid ({len(dns_before)} before the restart; the others were adopted). The "
                f"first pass applied operations to {len(converged)} networks "
                f"({sum(map(int, converged))} in all; {repairs} counted as repairs). An nft "
                "table whose mark (its comment: the fingerprint of the rules the worker applied) "
                "is that of the desired rules is not applied again.")
    if changed or extra:
        rep.note(6, "Recreated: " + ", ".join(f"{ns}:{d}" for ns, d in (changed + extra)[:20]))
    if not f.met and have_perf():
        _, t2, (at2, _, ms2, _, _), res = restart_nn(sy, len(uuids), profile=True)
        rep.note(6, f"Profile of a second restart, from its start to its first pass's end "
                    f"({at2 - t2:.2f} s, the pass {ms2} ms):\n" + profile_text(res))


# ---- main ------------------------------------------------------------------------------------

def stop_on_signal(signum, frame):
    """SIGTERM (and SIGINT, also when started in the background, where Python would ignore
    it): stop the way Ctrl-C does, through every finally, so the run cleans up after itself."""
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    if os.geteuid() != 0:
        log("needs root (network namespaces)")
        return 1
    for b in (BIN / "sf-api", BIN / "sf-networknode", BIN / "sf-hypervisor", BIN / "sf-submit",
              BIN / "bench" / "plumb", BIN / "bench" / "fixed_server"):
        if not b.exists():
            log(f"{b} is missing: make bench builds it")
            return 1
    RUN.mkdir(parents=True, exist_ok=True)
    lock = open(RUN / "bench.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    cfg = (f"SF_BENCH_ONLY={','.join(map(str, sorted(ONLY)))} "
           f"SF_BENCH_CREATE={N_CREATE} SF_BENCH_LEASE={N_LEASE} SF_BENCH_PLUMB={N_PLUMB} "
           f"SF_BENCH_WRK_S={WRK_S} SF_BENCH_CONN={WRK_CONN} SF_BENCH_POST_S={POST_S} "
           f"SF_BENCH_SCALE={N_SCALE} SF_BENCH_RECOVERY={N_RECOVERY} "
           f"SF_BENCH_API_THREADS={API_THREADS}; release binaries from {BIN}; daemons at "
           "their default settings (log level info, reconcile every 30 s) but the floating "
           f"pool {FLOATING}")
    rep = Report()
    sy = System()
    t0 = time.monotonic()
    log(f"run {sy.tag}: cluster prefix {sy.prefix}, state in {RUN}")
    # the order keeps the machine quiet for each: plumbing first (no daemons busy), the POST
    # rate last (it stops sf-networknode)
    steps = [(3, bench_plumb), (1, bench_create), (2, bench_lease), (4, bench_api),
             (5, bench_scale), (4, bench_post)]
    try:
        sy.up()
        log(f"system up in {time.monotonic() - t0:.0f} s")
        for b, fn in steps:
            if b not in ONLY and not (fn is bench_scale and 6 in ONLY):
                continue
            t = time.monotonic()
            log(f"benchmark {b}: {TITLES[b]}")
            try:
                fn(sy, rep)
            except Exception as e:  # report it and go on with the next one
                rep.failures[b] = f"{type(e).__name__}: {e}"
                log(f"benchmark {b} failed: {e}")
                for d in sy.daemons:
                    if d is not sy.nn and not d.alive():
                        raise
                if not sy.nn.alive() and fn is not bench_post:
                    sy.start_worker(sy.nn)
            log(f"benchmark {b} took {time.monotonic() - t:.0f} s")
    finally:
        sy.down()
        write_results(rep, cfg)
        log(f"total {time.monotonic() - t0:.0f} s")
    print(f"\n{len(rep.figures)} figures, {len(rep.failures)} benchmarks failed; "
          f"see {RESULTS}")
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
