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
