"""What every fault-suite file needs: the repository's paths, a printed line, a shell inside a lab host,
and the fault suite's lab (2 trixie hosts, brought up when no lab is up; left up for the caller)."""

import json
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(REPO, ".venv", "bin")
STATE = os.path.join(REPO, "lab", "state", "lab.json")
INVENTORY = os.path.join(REPO, "lab", "inventory.yml")
LAB_DEFAULTS = (("LAB_HOSTS", "2"), ("LAB_IMAGES", "trixie"), ("LAB_SECOND_NIC", "0"))


def say(text):
    print("  | " + text, flush=True)


def on_host(name, script, timeout=120, check=True):
    """A shell script inside the lab host through the outer engine (setup and checks only; it works
    while the host's SSH is blocked)."""
    p = subprocess.run(["/usr/bin/docker", "exec", name, "sh", "-c", script], capture_output=True, text=True,
                       timeout=timeout, check=False)
    assert p.returncode == 0 or not check, "%s on %s: %s%s" % (script, name, p.stdout, p.stderr)
    return p.stdout


def lab_hosts_up():
    """The lab's hosts as recorded in its state (lab order), after bringing the fault suite's lab up if none is."""
    if not os.path.exists(STATE):
        env = dict(os.environ)
        for key, value in LAB_DEFAULTS:
            env.setdefault(key, value)
        p = subprocess.run([os.path.join(VENV, "python"), "lab/labctl.py", "up"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=900, check=False)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    with open(STATE) as f:
        return json.load(f)["hosts"]
