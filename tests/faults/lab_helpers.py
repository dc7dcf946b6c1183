"""What every fault-suite file needs: the repository's paths, a printed line, a shell inside a lab host,
the fault suite's lab (2 trixie hosts, brought up when no lab is up; left up for the caller), a bounded
ansible-playbook run read back (rc, each host's failure and recap), and daemon.json put back."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from xml.etree import ElementTree

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


TREE = os.environ.get("NETFLEET_SAFETY_TREE") or REPO
DAEMON_JSON = "/etc/docker/daemon.json"
LOGS = os.path.join(tempfile.gettempdir(), "netfleet-safety-logs")  # each playbook's whole output
FATAL = re.compile(r"^fatal: \[([^\]\s]+)(?: -> [^\]]+)?\]: FAILED! => (\{.*\})\s*$")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


class Outcome:
    """An ansible-playbook run: rc, output, each host's failure message and recap."""

    def __init__(self, proc, seconds):
        self.rc, self.out, self.seconds = proc.returncode, proc.stdout + proc.stderr, seconds
        self.fatal, self.recap = {}, {}
        for line in self.out.splitlines():
            match = FATAL.match(line)
            if match:
                try:
                    self.fatal.setdefault(match.group(1), str(json.loads(match.group(2)).get("msg")))
                except ValueError:
                    self.fatal.setdefault(match.group(1), match.group(2))
            match = RECAP.match(line)
            if match:
                self.recap[match.group(1)] = dict(changed=int(match.group(3)), failed=int(match.group(5)))


def playbook(name, extra, inventory=INVENTORY, args=(), timeout=600):
    """ansible-playbook TREE/playbooks/<name> with extra vars (a JSON file), bounded."""
    handle, path = tempfile.mkstemp(prefix="netfleet-safety-", suffix=".json")
    with os.fdopen(handle, "w") as f:
        json.dump(extra, f)
    timing = tempfile.mkdtemp(prefix="junit-", dir=LOGS)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(TREE, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.junit", JUNIT_OUTPUT_DIR=timing)
    command = [os.path.join(VENV, "ansible-playbook"), "-i", inventory, "-e", "@" + path] + list(args)
    command.append(os.path.join(TREE, "playbooks", name))
    os.makedirs(LOGS, exist_ok=True)
    start = time.time()
    try:
        proc = subprocess.run(command, cwd=TREE, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    finally:
        os.unlink(path)
    outcome = Outcome(proc, time.time() - start)
    log = os.path.join(LOGS, "%s-%s.log" % (os.environ.get("PYTEST_CURRENT_TEST", "run").split(" ")[0].split("::")[-1],
                                            time.strftime("%H%M%S")))
    with open(log, "w") as f:
        f.write(outcome.out)
    say("ansible-playbook %s %s: rc=%d in %.1fs (output: %s); slowest tasks: %s"
        % (name, " ".join(args), outcome.rc, outcome.seconds, log, slowest_tasks(timing)))
    return outcome


def slowest_tasks(directory, count=3):
    """The slowest tasks of a run, from the junit callback's report (where a run's time goes)."""
    times = {}
    for name in os.listdir(directory):
        for case in ElementTree.parse(os.path.join(directory, name)).getroot().iter("testcase"):
            task = re.sub(r"^\[[^\]]*\]\s*", "", case.get("name", "")).split(": ", 1)[-1]
            times[task] = max(times.get(task, 0.0), float(case.get("time") or 0))
    shutil.rmtree(directory, ignore_errors=True)
    return ", ".join("%s %.1fs" % (task[:70], seconds) for task, seconds in sorted(times.items(), key=lambda kv: -kv[1])[:count])


def read_daemon_json(host):
    return on_host(host, "cat %s 2>/dev/null || echo ABSENT" % DAEMON_JSON)


def restore_daemon_json(fleet):
    """daemon.json as it was before the tests, dockerd restarted where it had changed; the hosts put back."""
    restored = []
    for host in fleet["hosts"]:
        original = fleet["daemon_json"][host]
        if read_daemon_json(host) == original:
            continue
        if original == "ABSENT\n":
            on_host(host, "rm -f %s" % DAEMON_JSON)
        else:
            with tempfile.NamedTemporaryFile("w", delete=False) as f:
                f.write(original)
            subprocess.run(["docker", "cp", f.name, "%s:%s" % (host, DAEMON_JSON)], check=True, timeout=60)
            os.unlink(f.name)
        on_host(host, "systemctl reset-failed docker; systemctl restart docker && "
                      "for i in $(seq 60); do docker info >/dev/null 2>&1 && exit 0; sleep 1; done; exit 1", timeout=180)
        restored.append(host)
    return restored
