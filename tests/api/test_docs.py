# SPDX-License-Identifier: Apache-2.0
"""The operators' material is checked against the programs it describes: the generated parts
of ops/docs/*.md against each binary's --help (ops/docs/gen.sh --check); the examples of
schemas/README.md against the schemas; the env files of ops/examples/ against the daemons'
configuration tables (--print-config in exactly that environment); the systemd units of
ops/systemd/ with systemd-analyze. No service is needed."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("SF_API_BIN", REPO / "build-test" / "sf-api")).parent
DAEMONS = ("sf-api", "sf-networknode", "sf-hypervisor")


def binary(name):
    path = BIN_DIR / name
    if not path.exists():
        pytest.exit(f"{path} is missing: make BUILD=test all", returncode=2)
    return path


def test_docs_are_generated_from_the_help():
    for name in DAEMONS + ("sf-submit",):
        binary(name)
    res = subprocess.run([str(REPO / "ops" / "docs" / "gen.sh"), "--check", "--bin-dir",
                          str(BIN_DIR)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    # every option of every program is in its page
    for name in DAEMONS + ("sf-submit",):
        page = (REPO / "ops" / "docs" / f"{name}.md").read_text()
        help_text = subprocess.run([str(binary(name)), "--help"], capture_output=True,
                                   text=True, env={"SF_SCHEMA_DIR": str(REPO / "schemas")},
                                   timeout=30).stdout
        for opt in re.findall(r"^  (--[a-z][-a-z_]*)", help_text, re.M):
            assert f"`{opt}" in page, (name, opt)


def readme_examples(section):
    """{heading: the first JSON example under it} for the ### headings of a ## section."""
    text = (REPO / "schemas" / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    out = {}
    for part in body.split("\n### ")[1:]:
        heading = part.split("\n", 1)[0].strip()
        m = re.search(r"```json\n(.*?)```", part, re.S)
        assert m, f"no example under {heading}"
        out[heading] = json.loads(m.group(1))
    return out


@pytest.mark.parametrize("section,schema_path,enum_path", [
    ("Jobs", "jobs/job.json", ("definitions", "envelope", "properties", "type", "enum")),
    ("Events", "events/event.json", ("properties", "type", "enum")),
])
def test_schema_readme_has_a_valid_example_of_every_type(section, schema_path, enum_path):
    schema = json.loads((REPO / "schemas" / schema_path).read_text())
    types = schema
    for k in enum_path:
        types = types[k]
    examples = readme_examples(section)
    assert sorted(examples) == sorted(types)
    for name, example in examples.items():
        jsonschema.validate(example, schema)
        assert example["type"] == name


def env_file(path):
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            k, _, v = line.partition("=")
            env[k] = v
    return env


@pytest.mark.parametrize("daemon,path", [
    ("sf-api", "control/sf-api.env"),
    ("sf-networknode", "networknode/sf-networknode.env"),
    ("sf-hypervisor", "hypervisor/hv1.env"),
    ("sf-hypervisor", "hypervisor/hv2.env"),
])
def test_example_env_files_are_accepted(daemon, path):
    env = env_file(REPO / "ops" / "examples" / path)
    res = subprocess.run([str(binary(daemon)), "--print-config=json"], env=env,
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    cfg = json.loads(res.stdout)
    shown = 0
    for key, value in env.items():
        # SF_NODE_MESH_IP -> mesh_ip, SF_API_PORT -> port ...: find the setting by its value
        if key in ("SF_REDIS_URL", "SF_AMQP_URL"):
            assert cfg[key[3:].lower()] == "********"  # secrets stay masked
            continue
        assert value in [str(v) for v in cfg.values()], (key, value)
        shown += 1
    assert shown >= 5


def test_example_hosts_agree():
    api = env_file(REPO / "ops" / "examples" / "control" / "sf-api.env")
    nn = env_file(REPO / "ops" / "examples" / "networknode" / "sf-networknode.env")
    hvs = [env_file(REPO / "ops" / "examples" / "hypervisor" / f"hv{i}.env") for i in (1, 2)]
    for node in [nn, *hvs]:
        for key in ("SF_REDIS_URL", "SF_REDIS_PREFIX", "SF_AMQP_URL"):
            assert node[key] == api[key], key
        assert node["SF_NETWORK_MTU"] == nn["SF_NETWORK_MTU"]
        assert node["SF_VXLAN_PORT"] == nn["SF_VXLAN_PORT"]
    assert nn["SF_FLOATING_NETWORK"] == api["SF_FLOATING_NETWORK"]
    names = [n["SF_NODE_NAME"] for n in [nn, *hvs]]
    mesh = [n["SF_NODE_MESH_IP"] for n in [nn, *hvs]]
    assert len(set(names)) == 3 and len(set(mesh)) == 3


def test_sysctl_examples_name_real_keys():
    for path in (REPO / "ops" / "examples").glob("*/99-sf-net.conf"):
        for line in path.read_text().splitlines():
            if not line.strip() or line.startswith("#") or line.startswith("-"):
                continue  # "-key" may be missing (br_netfilter not loaded)
            key, _, value = (s.strip() for s in line.partition("="))
            assert Path("/proc/sys", *key.split(".")).exists(), (path.name, key)
            assert value in ("0", "1", "2"), line


@pytest.mark.parametrize("daemon", DAEMONS)
def test_systemd_units(daemon, tmp_path):
    unit = (REPO / "ops" / "systemd" / f"{daemon}.service").read_text()
    fields = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    assert fields["Type"] == "simple"
    assert fields["Restart"] == "on-failure"
    assert fields["EnvironmentFile"] == f"/etc/sf-net/{daemon}.env"
    assert fields["ExecStart"] == f"/usr/local/sbin/{daemon}"
    after = fields["After"].split()
    assert {"network-online.target", "redis-server.service", "rabbitmq-server.service"} <= \
        set(after)
    assert "network-online.target" in fields["Wants"].split()
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    # verify as installed, with the binary where the unit expects it
    copy = tmp_path / f"{daemon}.service"
    copy.write_text(unit.replace(f"/usr/local/sbin/{daemon}", str(binary(daemon))))
    res = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stderr.strip() == "", res.stderr
