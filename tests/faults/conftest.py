"""Shared by the fleet-safety tests: the lab's hosts, brought up when no lab is (the fault suite's parameters).

tests/faults/test_faults.py keeps its own `host` fixture; this one gives every host of the lab, for tests that
run playbooks across the fleet.
"""

import pytest

from lab_helpers import lab_hosts_up


@pytest.fixture(scope="session")
def lab_hosts():
    """Names of the lab's hosts (inventory group `lab`, containers on the outer engine), in lab order."""
    return [h["name"] for h in lab_hosts_up()]
