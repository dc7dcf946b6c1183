"""site.yml's fast path on the lab (issue 13 item 2): a fleet where nothing moved skips every role, and anything a
role manages that moved sends the fleet down the full path, which repairs it.

On the demo fleet (playbooks/group_vars/lab.yml: address plan, forwarding, swarm, overlay and bridge networks), in
order: a complete converge records every host's fingerprint; the next run takes the fast path (changed=0, the record
untouched), also in check mode; a container on a managed network is not drift; a forwarding sysctl turned off, a
managed network removed and a new sysctl.d drop-in are each named in the full path's reason, and a run limited by
--tags repairs what it covers without recording; the next complete run records again and the one after is fast;
-e fleet_fast_path=false takes the full path, where every role finds nothing to do (changed=0).

    LAB_HOSTS=2 LAB_IMAGES=trixie LAB_SECOND_NIC=0 .venv/bin/python -m pytest -v -s tests/faults/test_fast_path.py
"""

import json
import os
import shutil
import tempfile
import time

import pytest

from lab_helpers import on_host, playbook, read_daemon_json, restore_daemon_json, say

RECORD = "/var/lib/netfleet/state-fingerprint.json"
DROPIN = "/etc/sysctl.d/50-netfleet-fast-path-test.conf"
FAST = "fast path: nothing moved"
FULL = "full path: "

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/docker"), reason="no outer docker engine")


def clean_hosts(hosts):
    for host in hosts:
        on_host(host, "docker swarm leave --force >/dev/null 2>&1; docker rm -f fastpath-probe >/dev/null 2>&1; "
                      "docker rm -f $(docker ps -aq --filter label=netfleet.probe) >/dev/null 2>&1; "
                      "for n in $(docker network ls -q --filter name=demo_); do docker network rm $n >/dev/null 2>&1; done; "
                      "rm -f %s %s; true" % (RECORD, DROPIN))


@pytest.fixture(scope="module")
def fleet(lab_hosts):
    """The lab's hosts without a swarm, a demo network or a record; afterwards the same, daemon.json as it was."""
    directory = tempfile.mkdtemp(prefix="netfleet-fast-path-")
    clean_hosts(lab_hosts)
    fleet = dict(hosts=lab_hosts, dir=directory, daemon_json=dict((host, read_daemon_json(host)) for host in lab_hosts))
    yield fleet
    clean_hosts(lab_hosts)
    restored = restore_daemon_json(fleet)
    shutil.rmtree(directory, ignore_errors=True)
    say("teardown: swarm left, demo networks and records removed; daemon.json restored on %s"
        % (", ".join(restored) or "none (unchanged)"))


def site(fleet, *args, **extra):
    """site.yml on the demo fleet, verify skipped (tests/faults/test_fleet_safety.py covers verify)."""
    variables = dict(fleet_group="lab", fleet_plan_state_file=os.path.join(fleet["dir"], "address_plan.json"), **extra)
    return playbook("site.yml", variables, args=["--skip-tags", "verify"] + list(args), timeout=900)


def path_message(outcome):
    """The first play's line: which path the run took, and why."""
    for line in outcome.out.splitlines():
        if '"msg": "fast path' in line or '"msg": "full path' in line:
            return json.loads("{%s}" % line.strip())["msg"]
    raise AssertionError("no path message in:\n" + outcome.out[-3000:])


def records(hosts):
    """Each host's record file: (mtime, content), or None without one."""
    found = {}
    for host in hosts:
        text = on_host(host, "test -f {0} && stat -c '%Y %a' {0} && cat {0} || echo ABSENT".format(RECORD))
        found[host] = None if text.strip() == "ABSENT" else text
    return found


def changed_total(outcome):
    return sum(entry["changed"] for entry in outcome.recap.values())


@pytest.fixture(scope="module")
def recorded(fleet):
    """A complete converge: the full path (no record yet), then every host's record (mode 0600)."""
    outcome = site(fleet)
    assert outcome.rc == 0, outcome.out[-5000:]
    message = path_message(outcome)
    assert message.startswith(FULL) and "no record of a complete converge" in message, message
    found = records(fleet["hosts"])
    for host, text in found.items():
        assert text is not None, "%s has no record after a complete converge" % host
        assert text.split("\n", 1)[0].split()[1] == "600", (host, text[:80])
    say("converged on the full path (%.1fs): %s; every host recorded (0600)" % (outcome.seconds, message[:120]))
    return found


def test_nothing_moved_takes_the_fast_path(fleet, recorded):
    outcome = site(fleet)
    assert outcome.rc == 0, outcome.out[-3000:]
    assert path_message(outcome).startswith(FAST), path_message(outcome)
    assert changed_total(outcome) == 0, outcome.recap
    assert "TASK [netfleet.docker." not in outcome.out, "a role ran on the fast path"
    assert records(fleet["hosts"]) == recorded, "the fast path rewrote a record"
    checked = site(fleet, "--check")
    assert checked.rc == 0 and path_message(checked).startswith(FAST), checked.out[-3000:]
    assert records(fleet["hosts"]) == recorded, "check mode rewrote a record"
    say("checked: nothing moved -> %s (%.1fs, changed=0, no role task, records untouched; --check the same, %.1fs)"
        % (path_message(outcome)[:60], outcome.seconds, checked.seconds))


def test_a_container_on_a_managed_network_is_not_drift(fleet, recorded):
    host = fleet["hosts"][-1]
    on_host(host, "docker run -d --name fastpath-probe --network demo_frontend netfleet/busybox:latest sleep 300")
    try:
        outcome = site(fleet)
    finally:
        on_host(host, "docker rm -f fastpath-probe >/dev/null")
    assert outcome.rc == 0 and path_message(outcome).startswith(FAST), path_message(outcome)
    say("checked: a container attached to demo_frontend on %s -> still the fast path (endpoints are not managed)" % host)


def test_what_moved_is_named_and_repaired(fleet, recorded):
    first, last = fleet["hosts"][0], fleet["hosts"][-1]
    on_host(last, "sysctl -qw net.ipv4.ip_forward=0 && docker network rm demo_backend >/dev/null")
    on_host(first, "echo 'kernel.printk_ratelimit = 5' > %s" % DROPIN)
    # Limited by tags: the full path, repaired for what the tags cover, and no record written.
    limited = site(fleet, "--tags", "forwarding,networks")
    assert limited.rc == 0, limited.out[-3000:]
    message = path_message(limited)
    assert message.startswith(FULL), message
    for part in ("%s: moved" % last, "sysctl net.ipv4.ip_forward", "network demo_backend",
                 "%s: moved" % first, "directory /etc/sysctl.d"):
        assert part in message, (part, message)
    assert on_host(last, "sysctl -n net.ipv4.ip_forward").strip() == "1"
    assert on_host(last, "docker network inspect -f '{{.Internal}}' demo_backend").strip() == "true"
    assert records(fleet["hosts"]) == recorded, "a run limited by tags wrote a record"
    say("checked: ip_forward=0 and demo_backend removed on %s, a sysctl.d drop-in on %s -> %s; --tags "
        "forwarding,networks repaired both, records untouched" % (last, first, message[:160]))
    # The next complete run still finds them moved (against the old record), converges, and records again.
    complete = site(fleet)
    assert complete.rc == 0 and path_message(complete).startswith(FULL), path_message(complete)
    assert changed_total(complete) == 0, complete.recap
    again = records(fleet["hosts"])
    assert all(again[host] != recorded[host] for host in (first, last)), "no new record after a complete run"
    fast = site(fleet)
    assert fast.rc == 0 and path_message(fast).startswith(FAST), path_message(fast)
    say("checked: the next complete run took the full path (changed=0) and recorded; the one after: fast (%.1fs)"
        % fast.seconds)


def test_fast_path_off_runs_every_role_and_they_change_nothing(fleet, recorded):
    before = records(fleet["hosts"])
    start = time.time()
    outcome = site(fleet, fleet_fast_path=False)
    assert outcome.rc == 0, outcome.out[-3000:]
    message = path_message(outcome)
    assert message.startswith(FULL) and "fleet_fast_path is false" in message, message
    assert "TASK [netfleet.docker.networks : Bridge networks in one batch]" in outcome.out
    assert changed_total(outcome) == 0, outcome.recap
    assert records(fleet["hosts"]) == before, "a run with the fast path off wrote a record"
    say("checked: -e fleet_fast_path=false -> every role ran (%.1fs), changed=0, records untouched"
        % (time.time() - start))
