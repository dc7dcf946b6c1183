"""Shared by the fleet-safety tests: the lab's hosts, brought up when no lab is (the fault suite's parameters).

tests/faults/test_faults.py keeps its own `host` fixture; this one gives every host of the lab, for tests that
run playbooks across the fleet.
"""

import json
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_STATE = os.path.join(REPO, "lab", "state", "lab.json")


@pytest.fixture(scope="session")
def lab_hosts():
    """Names of the lab's hosts (inventory group `lab`, containers on the outer engine), in lab order."""
    if not os.path.exists(LAB_STATE):
        env = dict(os.environ)
        for key, value in (("LAB_HOSTS", "2"), ("LAB_IMAGES", "trixie"), ("LAB_SECOND_NIC", "0")):
            env.setdefault(key, value)
        p = subprocess.run([os.path.join(REPO, ".venv", "bin", "python"), "lab/labctl.py", "up"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=900, check=False)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    with open(LAB_STATE) as f:
        return [h["name"] for h in json.load(f)["hosts"]]
