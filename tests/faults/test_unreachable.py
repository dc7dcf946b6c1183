"""Fault case (issue 11 item 3): a host unreachable mid-play - the others finish; after it is back a rerun
converges.

The networks role (netfleet.docker.networks, what site.yml's networks play runs) converges two bridge
networks per host in two batches, over SSH, on the fault suite's 2-host lab. Between the batches every host
stops at a gate (a task that waits, bounded, for a marker); while both wait, the second host's own firewall
starts resetting its SSH port (iptables REJECT with tcp-reset on 22/tcp: the live connection and every new
one fail), then the gate opens. Checked: the play reports that host unreachable (exit code 4, its recap line),
the first host finished its work (both networks as declared), the second kept what its first batch made;
then, with the firewall rule removed, a rerun converges it and a second rerun changes nothing.

    LAB_HOSTS=2 LAB_IMAGES=trixie LAB_SECOND_NIC=0 .venv/bin/python -m pytest -v -s tests/faults/test_unreachable.py
"""

import json
import os
import re
import subprocess
import tempfile
import time

import pytest

from lab_helpers import INVENTORY, REPO, VENV, lab_hosts_up, on_host, say

GATE, GO = "/run/nfu-at-gate", "/run/nfu-go"
BLOCK_SSH = "INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset"
NETWORKS = {"nfu_a": "10.78.1.0/26", "nfu_b": "10.78.1.64/26"}
LABELS = {"netfleet.managed": "true", "netfleet.test": "unreachable"}

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/docker"), reason="no outer docker engine")


def clean(names):
    for name in names:
        on_host(name, "rm -f %s %s; iptables -D %s 2>/dev/null; docker network rm %s >/dev/null 2>&1; true"
                % (GATE, GO, BLOCK_SSH, " ".join(NETWORKS)))


@pytest.fixture(scope="module")
def hosts():
    names = [h["name"] for h in lab_hosts_up()][:2]
    assert len(names) == 2, "the case needs two lab hosts: %s" % names
    clean(names)
    yield names
    clean(names)


def playbook(directory):
    """The networks role in two batches with a gate between them (only when nfu_gate is true)."""
    def batch(names):
        return {"name": "networks %s" % ", ".join(names), "ansible.builtin.include_role": {
            "name": "netfleet.docker.networks"}, "vars": {
                "networks_forwarding": {},
                "networks_host": [dict(name=n, ipam=dict(config=[dict(subnet=NETWORKS[n])]),
                                       labels={"netfleet.test": "unreachable"}) for n in names]}}
    gate = {"name": "gate", "when": "nfu_gate | default(false) | bool", "changed_when": False,
            "ansible.builtin.shell": "touch %s; i=0; while [ ! -e %s ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; "
                                     "sleep 0.1; done" % (GATE, GO)}
    path = os.path.join(directory, "play.yml")
    with open(path, "w") as f:
        json.dump([dict(name="unreachable mid-play", hosts="lab", gather_facts=False,
                        tasks=[batch(["nfu_a"]), gate, batch(["nfu_a", "nfu_b"])])], f)
    return path


def start(path, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.Popen([os.path.join(VENV, "ansible-playbook"), "-i", INVENTORY, path] + list(extra),
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc, timeout=300):
    out, _stderr = proc.communicate(timeout=timeout)
    return proc.returncode, out


def recap(out, name):
    """{ok, changed, unreachable, failed, ...} of a host's PLAY RECAP line."""
    line = re.search(r"^%s\s+:(.*)$" % re.escape(name), out, re.M)
    assert line, "no recap line for %s:\n%s" % (name, out[-3000:])
    return dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", line.group(1)))


def networks_on(name):
    """{network: (subnets, netfleet labels)} of the case's networks on a host."""
    found = {}
    for net in NETWORKS:
        # a missing network: "[]" on stdout and an error on stderr
        for data in json.loads(on_host(name, "docker network inspect %s 2>/dev/null || true" % net) or "[]"):
            found[net] = ([c["Subnet"] for c in data["IPAM"]["Config"]],
                          dict((k, v) for k, v in (data.get("Labels") or {}).items() if k.startswith("netfleet.")))
    return found


def declared(names):
    return dict((n, ([NETWORKS[n]], LABELS)) for n in names)


def wait_for_gate(names, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(on_host(n, "test -e %s && echo yes || true" % GATE).strip() == "yes" for n in names):
            return
        time.sleep(0.3)
    raise AssertionError("the hosts did not reach the gate within %ds" % timeout)


def test_host_unreachable_mid_play_the_other_finishes_and_a_rerun_converges(hosts):
    first, lost = hosts
    path = playbook(tempfile.mkdtemp(prefix="netfleet-unreachable-"))
    started = time.time()
    run = start(path, "-e", "nfu_gate=true")
    try:
        wait_for_gate(hosts)
        say("both hosts made nfu_a and wait at the gate (%.1fs); %s's firewall now resets its SSH port: %s"
            % (time.time() - started, lost, BLOCK_SSH))
        on_host(lost, "iptables -I %s" % BLOCK_SSH)
        for name in hosts:
            on_host(name, "touch %s" % GO)
        rc, out = finish(run)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)
        on_host(lost, "iptables -D %s; rm -f %s %s" % (BLOCK_SSH, GATE, GO), check=False)
        on_host(first, "rm -f %s %s" % (GATE, GO), check=False)
    say("SSH to %s unblocked again; the run with the host lost exited %d in %.1fs"
        % (lost, rc, time.time() - started))
    assert rc == 4, "ansible-playbook exits 4 when a host was unreachable:\n" + out[-3000:]
    assert re.search(r"fatal: \[%s\]: UNREACHABLE!" % re.escape(lost), out), out[-3000:]
    lost_recap, first_recap = recap(out, lost), recap(out, first)
    assert lost_recap["unreachable"] == 1 and first_recap["unreachable"] == 0 and first_recap["failed"] == 0
    assert networks_on(first) == declared(["nfu_a", "nfu_b"])
    assert networks_on(lost) == declared(["nfu_a"])
    say("checked: the play reported %s UNREACHABLE (recap %s); %s finished: %s as declared; %s kept its first "
        "batch: %s" % (lost, lost_recap, first, sorted(networks_on(first)), lost, sorted(networks_on(lost))))

    rc, out = finish(start(path))
    assert rc == 0, out[-3000:]
    assert recap(out, lost)["changed"] >= 1 and recap(out, first)["failed"] == 0
    assert networks_on(lost) == declared(["nfu_a", "nfu_b"]) and networks_on(first) == declared(["nfu_a", "nfu_b"])
    rc, out = finish(start(path))
    assert rc == 0, out[-3000:]
    again = dict((name, recap(out, name)) for name in hosts)
    assert all(r["changed"] == 0 and r["failed"] == 0 and r["unreachable"] == 0 for r in again.values()), again
    say("checked: the rerun converged %s (nfu_b created, both as declared); the second rerun changed nothing: %s"
        % (lost, again))
