"""The fault suite (issue 11 item 3): runs die, engines stop, two runs collide; nothing is lost.

Runs docker_net on a lab host over SSH with ansible-playbook (lab/inventory.yml). The module's
test hook (plugins/module_utils/_network/journal.py: NETFLEET_FAULT_PAUSE_AFTER) makes it write a
marker holding its PID right after an engine operation and wait; each case then kills that PID
(SIGKILL, by PID, inside the lab host), stops dockerd, or starts a second run. Every case prints
what it did and what it checked, and is bounded in time (subprocess timeouts, pause <= 90 s).

    LAB_HOSTS=2 LAB_IMAGES=trixie LAB_SECOND_NIC=0 .venv/bin/python -m pytest -v -s tests/faults

The lab is brought up when it is not (those parameters); it is left up for the caller to take down.
"""

import json
import os
import subprocess
import tempfile
import threading
import time

import pytest

from lab_helpers import INVENTORY, REPO, VENV, lab_hosts_up, on_host, say

IMAGE = "netfleet/busybox:latest"
JOURNAL_DIR = "/var/lib/netfleet-faults/journal"  # the suite's own, under a directory it removes
MARKER = "/run/netfleet-fault-marker"
SUBNET = "10.77.%d.0/24"

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/docker"), reason="no outer docker engine")


@pytest.fixture(scope="module")
def host():
    hosts = lab_hosts_up()
    # An engine of 25.0 or later (trixie, forky) restores a MAC on connect; 20.10 cannot.
    name = ([h["name"] for h in hosts if h.get("lab_image") != "bookworm"] or [hosts[0]["name"]])[0]
    say("fault suite on lab host %s" % name)
    on_host(name, "rm -rf %s %s; docker rm -f $(docker ps -aq) >/dev/null 2>&1; docker network prune -f >/dev/null"
            % (os.path.dirname(JOURNAL_DIR), MARKER))
    return name


def inspect_endpoint(name, container, network):
    """(static IPv4, aliases without the automatic ones, MAC) of a container on a network, or None."""
    data = json.loads(on_host(name, "docker inspect %s" % container))[0]
    settings = data["NetworkSettings"]["Networks"].get(network)
    if settings is None:
        return None
    automatic = (data["Id"][:12], container)
    return ((settings.get("IPAMConfig") or {}).get("IPv4Address"),
            sorted(a for a in settings.get("Aliases") or [] if a not in automatic),
            settings.get("MacAddress") or None)


class Run:
    """One ansible-playbook run of docker_net (and docker_net_info) against the host, in the background."""

    def __init__(self, host, module_args, env=None, info=False):
        self.dir = tempfile.mkdtemp(prefix="netfleet-faults-")
        self.result_path = os.path.join(self.dir, "result.json")
        tasks = [dict(name="the module", register="r", ignore_errors=True, environment=env or {},
                      **{"netfleet.docker.docker_net": dict(module_args, journal_dir=JOURNAL_DIR)})]
        if info:
            tasks = [dict(name="info", register="r", **{"netfleet.docker.docker_net_info": dict(
                journal_dir=JOURNAL_DIR, endpoints=False, engine=False)})]
        tasks.append({"name": "keep the result", "delegate_to": "localhost",
                      "ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": self.result_path}})
        playbook = os.path.join(self.dir, "play.yml")
        with open(playbook, "w") as f:
            json.dump([dict(hosts=host, gather_facts=False, tasks=tasks)], f)
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
        self.proc = subprocess.Popen([os.path.join(VENV, "ansible-playbook"), "-i", INVENTORY, playbook],
                                     cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def result(self, timeout=300):
        out, _stderr = self.proc.communicate(timeout=timeout)
        assert os.path.exists(self.result_path), out[-4000:]
        with open(self.result_path) as f:
            return json.load(f)


def run(host, module_args, **kwargs):
    return Run(host, module_args, **kwargs).result()


def wait_marker(host, timeout=120):
    """The PID the paused module wrote (the test hook), once it is there."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = on_host(host, "cat %s 2>/dev/null || true" % MARKER).strip()
        if text:
            return int(text.split()[0]), text
        time.sleep(0.3)
    raise AssertionError("the module did not reach its pause point within %ds" % timeout)


def pause_env(point, network=None, seconds=90):
    env = dict(NETFLEET_FAULT_PAUSE_AFTER=point, NETFLEET_FAULT_MARKER=MARKER, NETFLEET_FAULT_PAUSE_SECONDS=str(seconds))
    if network:
        env["NETFLEET_FAULT_PAUSE_NETWORK"] = network
    return env


def make_network(host, network, index, containers):
    """A network with containers: (name, static IP, alias, MAC, running)."""
    script = ["docker rm -f %s >/dev/null 2>&1; true" % " ".join(c[0] for c in containers),
              "docker network rm %s >/dev/null 2>&1; true" % network,
              "docker network create --subnet %s --label gen=1 %s >/dev/null" % (SUBNET % index, network)]
    for name, ip, alias, mac, running in containers:
        script.append("docker %s --name %s --network %s --ip %s --network-alias %s %s %s %s sleep 3600 >/dev/null"
                      % ("run -d" if running else "create", name, network, ip, alias,
                         "--mac-address %s" % mac if mac else "", "", IMAGE))
    on_host(host, " && ".join(script))


def resolves(host, client, alias, ip):
    out = on_host(host, "docker exec %s ping -c1 -W2 %s 2>&1 || true" % (client, alias))
    return ("(%s)" % ip) in out


@pytest.mark.parametrize("point", ["disconnect", "remove", "create"])
def test_module_killed_mid_recreate_is_finished_by_the_next_run(host, point):
    network = "fkill"
    make_network(host, network, 1, [("fa", "10.77.1.10", "fa-alias", "02:42:0a:4d:01:0a", True),
                                    ("fb", "10.77.1.11", "fb-alias", None, False),
                                    ("fprobe", "10.77.1.12", "fprobe-alias", None, True)])
    before = dict((c, inspect_endpoint(host, c, network)) for c in ("fa", "fb", "fprobe"))
    say("made %s with fa (running, static IP, alias, MAC), fb (stopped), fprobe: %s" % (network, before))
    args = dict(name=network, labels=dict(gen="2"), ipam=dict(config=[dict(subnet=SUBNET % 1)]))
    first = Run(host, args, env=pause_env(point))
    pid, text = wait_marker(host)
    on_host(host, "kill -9 %d" % pid)
    say("module paused after %r (marker: %s); killed PID %d with SIGKILL" % (point, text, pid))
    killed = first.result()
    assert killed.get("failed"), killed
    lost = dict((c, inspect_endpoint(host, c, network)) for c in ("fa", "fb", "fprobe"))
    say("after the kill, endpoints on %s: %s" % (network, lost))
    assert lost["fa"] is None  # the first disconnect happened in every case: fa is on no network now
    info = run(host, {}, info=True)
    [pending] = [j for j in info["journals"] if j["network"] == network]
    say("docker_net_info reports the pending journal: %s done=%s" % (pending["path"], pending["done"]))
    on_host(host, "rm -f %s" % MARKER)
    again = run(host, args)
    assert not again.get("failed"), again
    [report] = again["recovered"]
    say("next run: action=%s, recovery steps=%s" % (again["networks"][0]["action"], report["steps"]))
    after = dict((c, inspect_endpoint(host, c, network)) for c in ("fa", "fb", "fprobe"))
    assert after == before, (before, after)
    assert resolves(host, "fprobe", "fa-alias", "10.77.1.10")
    labels = json.loads(on_host(host, "docker network inspect %s" % network))[0]["Labels"]
    assert labels == dict(gen="2")
    assert on_host(host, "ls %s" % JOURNAL_DIR).split() == []
    say("checked: IP, aliases and MAC of fa, fb (stopped) and fprobe as before; fa-alias resolves to 10.77.1.10 "
        "from fprobe; labels gen=2; no journal left")
    assert run(host, args)["changed"] is False


def test_without_the_journal_the_endpoint_is_lost(host):
    """The control: the same kill, the journal moved away - the rerun cannot know fa was there."""
    network = "fcontrol"
    make_network(host, network, 2, [("fc", "10.77.2.10", "fc-alias", None, True)])
    args = dict(name=network, labels=dict(gen="2"), ipam=dict(config=[dict(subnet=SUBNET % 2)]))
    first = Run(host, args, env=pause_env("remove"))
    pid, _marker = wait_marker(host)
    on_host(host, "kill -9 %d; mv %s/%s.json /tmp/held-journal.json; rm -f %s" % (pid, JOURNAL_DIR, network, MARKER))
    first.result()
    again = run(host, args)
    lost = inspect_endpoint(host, "fc", network)
    say("journal moved away: the rerun says changed=%s action=%s, fc on %s: %s (lost)"
        % (again["changed"], again["networks"][0]["action"], network, lost))
    assert lost is None
    on_host(host, "docker network rm %s && mv /tmp/held-journal.json %s/%s.json" % (network, JOURNAL_DIR, network))
    restored = run(host, args)
    endpoint = inspect_endpoint(host, "fc", network)
    say("journal put back: the next run %s fc: %s" % (restored["networks"][0]["action"], endpoint))
    assert inspect_endpoint(host, "fc", network)[:2] == ("10.77.2.10", ["fc-alias"])


def test_dockerd_stopped_mid_batch_fails_clearly_and_a_rerun_converges(host):
    names = ["fb%02d" % i for i in range(1, 13)]
    for i, name in enumerate(names, start=10):
        make_network(host, name, i, [("c" + name, "10.77.%d.10" % i, name + "-alias", None, True)])
    say("made 12 networks fb01..fb12, each with one running container (static IP, alias)")
    args = dict(labels=dict(gen="2"), networks=[dict(name=n, ipam=dict(config=[dict(subnet=SUBNET % i)]))
                                                for i, n in enumerate(names, start=10)])
    batch = Run(host, args, env=pause_env("create", network="fb03"))
    wait_marker(host)
    try:
        on_host(host, "systemctl stop docker.socket docker.service")
        say("paused after creating fb03 (its container not yet reconnected); stopped docker.socket and docker.service")
        on_host(host, "rm -f %s" % MARKER)
        failed = batch.result()
    finally:
        on_host(host, "systemctl reset-failed docker.service docker.socket 2>/dev/null; systemctl start docker.socket "
                      "docker.service && timeout 60 sh -c 'until docker info >/dev/null 2>&1; do sleep 0.5; done'")
    assert failed.get("failed") and failed["changed"] is True and failed["failed_steps"]
    completed = [r["name"] for r in failed["completed"]]
    not_attempted = [r["name"] for r in failed["not_attempted"]]
    # Ansible's own `failed: true` replaces the module's `failed` list in a registered result: the
    # failed network is the one neither completed nor not attempted, and the message names its journal.
    say("task failed: %s | completed=%s not_attempted=%s" % (failed["msg"], completed, not_attempted))
    assert completed == ["fb01", "fb02"] and not_attempted == names[3:]
    assert "cannot reach the Docker engine" in failed["msg"] and "/fb03.json" in failed["msg"]
    say("engine started again")
    again = run(host, args)
    assert not again.get("failed"), again
    say("engine started; rerun: recovered %s, actions %s" % ([r["network"] for r in again["recovered"]],
                                                             sorted(set(r["action"] for r in again["networks"]))))
    on_host(host, "docker start %s >/dev/null" % " ".join("c" + n for n in names))
    for i, name in enumerate(names, start=10):
        assert inspect_endpoint(host, "c" + name, name)[:2] == ("10.77.%d.10" % i, [name + "-alias"]), name
        assert json.loads(on_host(host, "docker network inspect %s" % name))[0]["Labels"] == dict(gen="2")
    say("checked: all 12 containers back on their networks with their static IP and alias; all labels gen=2")
    assert run(host, args)["changed"] is False


def test_two_runs_at_once_one_waits_or_is_refused_naming_the_holder(host):
    network = "flock"
    make_network(host, network, 3, [("fl", "10.77.3.10", "fl-alias", None, True)])
    args = dict(name=network, labels=dict(gen="2"), ipam=dict(config=[dict(subnet=SUBNET % 3)]))
    first = Run(host, args, env=pause_env("remove"))
    pid, _marker = wait_marker(host)
    say("run 1 paused after removing %s (PID %d holds the host lock)" % (network, pid))
    refused = run(host, dict(args, labels=dict(gen="3"), lock_timeout=3))
    say("run 2 (lock_timeout 3): failed=%s: %s" % (refused.get("failed"), refused.get("msg")))
    assert refused.get("failed") and "pid %d" % pid in refused["msg"] and refused["changed"] is False
    waiting = Run(host, dict(args, labels=dict(gen="3"), lock_timeout=60))
    deadline = time.time() + 30
    while time.time() < deadline and int(on_host(host, "pgrep -c -x python3 || true").strip() or 0) < 2:
        time.sleep(0.3)
    time.sleep(1)
    say("run 3 started (lock_timeout 60): %s module processes on the host"
        % on_host(host, "pgrep -c -x python3 || true").strip())
    threading.Timer(0, on_host, (host, "rm -f %s" % MARKER)).start()
    assert not first.result().get("failed")
    second = waiting.result()
    say("run 1 resumed and finished; run 3 (lock_timeout 60) waited, then: %s" % second["networks"][0]["action"])
    assert not second.get("failed") and second["networks"][0]["action"] == "recreated"
    assert inspect_endpoint(host, "fl", network)[:2] == ("10.77.3.10", ["fl-alias"])
    say("checked: never a half-recreated network; fl kept its IP and alias through both recreates")
