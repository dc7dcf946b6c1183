"""Two ansible-playbook runs of the daemon role against one host (issue 11 item 3, the last case).

The daemon role writes daemon.json under a lease naming its run (plugins/module_utils/_common/lease.py)
and holds it through the restart, the wait and a rollback. Cases, each printing what it did and checked:

1. a lease held by a run in progress (written as that run would) refuses a second run before it writes
   anything: daemon.json and dockerd's PID unchanged, the message names the holder;
2. the same lease, expired (its run died), is taken over: the change is made and the lease given back;
3. two runs started together with different MTUs: daemon.json is valid JSON holding the MTU of a run
   that succeeded, the engine is up, no lease is left behind, and a run that failed names the lease.

Runs on the last host of the fault suite's lab (tests/faults/conftest.py) and puts daemon.json back.
"""

import json
import os
import subprocess
import tempfile
import time

import pytest

from lab_helpers import INVENTORY, REPO, VENV, on_host, say

LEASE = "/var/lib/netfleet/daemon.lease"
DAEMON_JSON = "/etc/docker/daemon.json"

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/docker"), reason="no outer docker engine")


def host_state(name):
    """(daemon.json text, dockerd's main PID, lease file or '')."""
    return (on_host(name, "cat %s 2>/dev/null || true" % DAEMON_JSON),
            on_host(name, "systemctl show -p MainPID --value docker.service").strip(),
            on_host(name, "cat %s 2>/dev/null || true" % LEASE))


def start_role(name, directory, label, **role_vars):
    """ansible-playbook of the daemon role on one host, in the background; (process, log path)."""
    playbook = os.path.join(directory, "%s.yml" % label)
    with open(playbook, "w") as stream:
        json.dump([{"name": "daemon role (%s)" % label, "hosts": name, "gather_facts": False,
                    "roles": [{"role": "netfleet.docker.daemon", "vars": role_vars}]}], stream)
    log = os.path.join(directory, "%s.log" % label)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    with open(log, "w") as stream:
        proc = subprocess.Popen([os.path.join(VENV, "ansible-playbook"), "-i", INVENTORY, playbook],
                                cwd=REPO, env=env, stdout=stream, stderr=subprocess.STDOUT)
    return proc, log


def finish(proc, log, timeout=300):
    rc = proc.wait(timeout=timeout)
    with open(log) as stream:
        return rc, stream.read()


def run_role(name, directory, label, **role_vars):
    return finish(*start_role(name, directory, label, **role_vars))


def write_lease(name, owner, expires_in):
    now = time.time()
    record = json.dumps(dict(owner=owner, since=now - 5, expires=now + expires_in, what="daemon_config"))
    on_host(name, "mkdir -p -m 0700 %s && printf '%%s\\n' '%s' > %s && chmod 0600 %s"
            % (os.path.dirname(LEASE), record, LEASE, LEASE))


def mtu_of(text):
    return json.loads(text).get("mtu") if text.strip() else None


@pytest.fixture(scope="module")
def target(lab_hosts):
    name = lab_hosts[-1]
    original = on_host(name, "cat %s 2>/dev/null || true" % DAEMON_JSON)
    say("daemon lease cases on lab host %s (daemon.json before: %s)" % (name, original.strip() or "none"))
    with tempfile.TemporaryDirectory(prefix="netfleet-lease.") as directory:
        yield name, directory
        on_host(name, "rm -f %s" % LEASE)
        rc, output = run_role(name, directory, "restore", daemon_absent_keys=["mtu"])
        assert rc == 0, output[-3000:]
        assert mtu_of(on_host(name, "cat %s 2>/dev/null || true" % DAEMON_JSON) or "{}") is None
        say("restored: the role removed mtu again (undo through the role, not by hand)")


def test_a_run_in_progress_refuses_the_second_before_it_writes(target):
    name, directory = target
    write_lease(name, "ops-20261202T040000Z-inflight", expires_in=600)
    before = host_state(name)
    rc, output = run_role(name, directory, "refused", daemon_options={"mtu": 1410})
    after = host_state(name)
    say("lease of run 'ops-...-inflight' on the host; a second run (mtu 1410): rc=%d" % rc)
    assert rc != 0
    assert "ops-20261202T040000Z-inflight" in output and "nothing was changed" in output, output[-3000:]
    assert after == before, "the refused run changed the host: %r -> %r" % (before, after)
    say("checked: refused naming the holder; daemon.json, dockerd PID %s and the lease unchanged" % before[1])


def test_an_expired_lease_is_taken_over_and_given_back(target):
    name, directory = target
    write_lease(name, "ops-20261202T030000Z-died", expires_in=-1)
    pid_before = host_state(name)[1]
    rc, output = run_role(name, directory, "takeover", daemon_options={"mtu": 1420})
    text, pid_after, lease_left = host_state(name)
    say("expired lease of a dead run; a run with mtu 1420: rc=%d, dockerd PID %s -> %s" % (rc, pid_before, pid_after))
    assert rc == 0, output[-3000:]
    assert mtu_of(text) == 1420 and pid_after != pid_before and lease_left == ""
    say("checked: the change was made (engine restarted), the lease given back")


def test_two_runs_at_once_leave_a_valid_file_and_no_lease(target):
    name, directory = target
    runs = {mtu: start_role(name, directory, "together-%d" % mtu, daemon_options={"mtu": mtu}) for mtu in (1430, 1440)}
    outcomes = dict((mtu, finish(*run)) for mtu, run in runs.items())
    text, _pid, lease_left = host_state(name)
    active = on_host(name, "systemctl is-active docker.service", check=False).strip()
    succeeded = [mtu for mtu, (rc, _out) in outcomes.items() if rc == 0]
    refused = [mtu for mtu, (rc, out) in outcomes.items() if rc != 0]
    say("two runs started together (mtu 1430, 1440): succeeded %s, refused %s; daemon.json mtu %s; engine %s"
        % (succeeded, refused, mtu_of(text), active))
    assert succeeded, "neither run succeeded: %s" % {m: o[1][-1500:] for m, o in outcomes.items()}
    for mtu in refused:
        assert "holds the lease" in outcomes[mtu][1] and "nothing was changed" in outcomes[mtu][1], \
            outcomes[mtu][1][-3000:]
    assert mtu_of(text) in succeeded and active == "active" and lease_left == ""
    say("checked: daemon.json valid with a winner's MTU, engine active, no lease left; a refused run named the lease")
