"""Fleet safety on the lab (issue 14 items 2, 4 and 5): playbooks/verify.yml and site.yml across every lab host.

- verify cannot pass empty: an inventory without verify's group fails; hosts with nothing to probe fail; check
  mode says it verified nothing (no probe, no verdict).
- live-restore on a fleet about to form a swarm is refused before any engine is touched (daemon.json, dockerd's
  PID and start time, swarm membership as before on every host).
- drift without side effects: on a converged fleet (site.yml once), a changed plan swarm pool, and a changed
  init-only swarm setting (data_path_port) that reaches the first manager's drift check, both fail; the first
  manager gives the drift message, every other host "not done because <first> failed: <reason>", and the plan's
  cache, daemon.json, dockerd, the swarm and the networks are as before.

Runs ansible-playbook with lab/inventory.yml (or inventories derived from it) from the tree NETFLEET_SAFETY_TREE
(default: this checkout; point it at an old worktree with a .collections link to run the same steps against old
playbooks and roles). Order matters: the fresh-host tests run before the converge; the module's teardown leaves
the swarm, removes the demo networks and puts every daemon.json back as it was (dockerd restarted only where it
changed).

    LAB_HOSTS=2 LAB_IMAGES=trixie LAB_SECOND_NIC=0 .venv/bin/python -m pytest -v -s tests/faults/test_fleet_safety.py
"""

import hashlib
import json
import os
import shutil
import tempfile
import time

import pytest
import yaml

from lab_helpers import DAEMON_JSON, INVENTORY, TREE, on_host, playbook, read_daemon_json, restore_daemon_json, say

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/docker"), reason="no outer docker engine")


def engine_state(host):
    """What must not move: daemon.json's hash, dockerd's PID and start time, swarm membership and settings,
    and every network (ID, creation time, IPAM, options, labels)."""
    text = on_host(host, "cat %s 2>/dev/null || echo ABSENT" % DAEMON_JSON)
    pid = on_host(host, "systemctl show -p MainPID --value docker").strip()
    started = on_host(host, "systemctl show -p ExecMainStartTimestamp --value docker").strip()
    swarm = json.loads(on_host(host, "docker info --format '{{json .Swarm}}'"))
    cluster = swarm.get("Cluster") or {}
    swarm_view = dict(state=swarm.get("LocalNodeState"), node=swarm.get("NodeID"), cluster=cluster.get("ID"),
                      version=(cluster.get("Version") or {}).get("Index"), updated=cluster.get("UpdatedAt"),
                      pool=cluster.get("DefaultAddrPool"), size=cluster.get("SubnetSize"),
                      port=cluster.get("DataPathPort"))
    networks = on_host(host, "docker network inspect $(docker network ls -q) --format "
                             "'{{.Id}} {{.Name}} {{.Created}} {{json .IPAM.Config}} {{json .Options}} {{json .Labels}}'")
    return dict(daemon_json=hashlib.sha256(text.encode()).hexdigest(), dockerd=(pid, started), swarm=swarm_view,
                networks=sorted(networks.splitlines()))


def fleet_state(hosts):
    return dict((host, engine_state(host)) for host in hosts)


def derived_inventory(directory, group):
    """The lab inventory with its host group renamed (a real fleet's inventory names its own groups)."""
    with open(INVENTORY) as f:
        data = yaml.safe_load(f)
    children = data["all"]["children"]
    children[group] = children.pop("lab")
    path = os.path.join(directory, "%s.yml" % group)
    with open(path, "w") as f:
        yaml.safe_dump(data, f)
    return path


@pytest.fixture(scope="module")
def fleet(lab_hosts):
    """The lab's hosts, with a scratch directory (plan cache, inventories); afterwards: no swarm, no demo network,
    no probe, daemon.json as it was (dockerd restarted only where it changed)."""
    directory = tempfile.mkdtemp(prefix="netfleet-safety-")
    for host in lab_hosts:
        on_host(host, "docker swarm leave --force >/dev/null 2>&1; docker rm -f $(docker ps -aq --filter "
                      "label=netfleet.probe) >/dev/null 2>&1; true")
    say("fleet-safety tests on %s (tree %s); no host in a swarm" % (", ".join(lab_hosts), TREE))
    fleet = dict(hosts=lab_hosts, dir=directory, plan_cache=os.path.join(directory, "address_plan.json"),
                 daemon_json=dict((host, read_daemon_json(host)) for host in lab_hosts))
    yield fleet
    start = time.time()
    for host in lab_hosts:
        on_host(host, "docker swarm leave --force >/dev/null 2>&1; docker rm -f $(docker ps -aq --filter "
                      "label=netfleet.probe) >/dev/null 2>&1; for n in $(docker network ls -q --filter name=demo_); "
                      "do docker network rm $n >/dev/null 2>&1; done; true")
    restored = restore_daemon_json(fleet)
    shutil.rmtree(directory, ignore_errors=True)
    say("teardown: swarm left, demo networks removed on %s, daemon.json restored on %s in %.1fs"
        % (", ".join(lab_hosts), ", ".join(restored) or "none (unchanged)", time.time() - start))


def site_vars(fleet, **more):
    """The `make demo` fleet (playbooks/group_vars/lab.yml), with the plan's cache in the scratch directory."""
    return dict(dict(fleet_group="lab", fleet_plan_state_file=fleet["plan_cache"]), **more)


def swarm_fleet_vars(fleet, **more):
    """The demo fleet without the plan's bip and local pools: its swarm, overlay and bridge networks, and no daemon
    change, so no engine restart (the rolling restart is Molecule `rolling`'s; two rolled restarts cost ~2.5 min
    here). Every run on the converged fleet uses these, so that a run changes only what the test changes."""
    return site_vars(fleet, fleet_plan_bip=None, fleet_plan_address_pools=None, **more)


def test_verify_fails_on_an_inventory_without_its_group(fleet):
    """A real inventory names its own groups: verify's default group matches nothing there, and it must fail."""
    inventory = derived_inventory(fleet["dir"], "prod")
    outcome = playbook("verify.yml", {}, inventory=inventory)
    say("inventory with the lab hosts in group 'prod' only, no verify_hosts: rc=%d" % outcome.rc)
    assert outcome.rc != 0, outcome.out[-3000:]
    assert "matches no host of the inventory" in outcome.out, outcome.out[-3000:]
    say("checked: verify failed, saying its host pattern matches no host of the inventory")


def test_verify_fails_when_no_pair_was_checked(fleet):
    """Hosts in the default fleet group (docker_hosts), nothing labelled to probe: no pair checked, no pass."""
    inventory = derived_inventory(fleet["dir"], "docker_hosts")
    outcome = playbook("verify.yml", {}, inventory=inventory)
    assert outcome.rc != 0, outcome.out[-3000:]
    assert "verify checked no pair" in outcome.out, outcome.out[-3000:]
    say("checked: on %s (group docker_hosts, verify's default) with no managed network verify failed: "
        "'verify checked no pair'" % ", ".join(fleet["hosts"]))


def test_verify_check_mode_says_it_verified_nothing(fleet):
    inventory = derived_inventory(fleet["dir"], "docker_hosts")
    outcome = playbook("verify.yml", dict(verify_hosts="docker_hosts"), inventory=inventory, args=["--check"])
    assert "CHECK MODE: nothing was verified" in outcome.out, outcome.out[-3000:]
    assert "TASK [Every cell as expected]" not in outcome.out, outcome.out[-3000:]
    assert "TASK [Verify result, per-host summary" not in outcome.out, outcome.out[-3000:]
    probes = dict((host, on_host(host, "docker ps -aq --filter label=netfleet.probe").split())
                  for host in fleet["hosts"])
    assert not any(probes.values()), probes
    say("checked: --check printed 'CHECK MODE: nothing was verified', reached no verdict and no AWX verify stats "
        "(rc=%d), started no probe" % outcome.rc)


def test_live_restore_refused_before_any_engine_is_touched(fleet):
    """Fresh hosts, site.yml about to form a swarm, live-restore in the daemon options: refused on every host."""
    before = fleet_state(fleet["hosts"])
    assert all(state["swarm"]["state"] == "inactive" for state in before.values()), before
    try:
        outcome = playbook("site.yml", site_vars(fleet, fleet_daemon_options={"live-restore": True}))
        after = fleet_state(fleet["hosts"])
    finally:  # what a run that applied it left is undone here, so that the next tests start from fresh hosts
        for host in fleet["hosts"]:
            on_host(host, "docker swarm leave --force >/dev/null 2>&1; true")
        undone = restore_daemon_json(fleet)
        if undone:
            say("undone: daemon.json put back and dockerd restarted on %s" % ", ".join(undone))
    assert outcome.rc != 0, outcome.out[-3000:]
    for host in fleet["hosts"]:
        assert "live-restore is incompatible with swarm mode" in outcome.fatal.get(host, ""), (host, outcome.fatal)
        assert after[host]["daemon_json"] == before[host]["daemon_json"], host
        assert after[host]["dockerd"] == before[host]["dockerd"], (host, before[host]["dockerd"], after[host]["dockerd"])
        assert after[host]["swarm"]["state"] == "inactive", (host, after[host]["swarm"])
    pids = dict((host, after[host]["dockerd"][0]) for host in fleet["hosts"])
    say("checked on %s: each failed with 'live-restore is incompatible with swarm mode'; daemon.json hash, dockerd "
        "PID and start time unchanged %s; no swarm" % (", ".join(fleet["hosts"]), pids))


@pytest.fixture(scope="module")
def converged(fleet):
    """site.yml once (the demo fleet: plan, swarm, overlay and bridge networks; verify skipped)."""
    outcome = playbook("site.yml", swarm_fleet_vars(fleet), args=["--skip-tags", "verify"], timeout=900)
    assert outcome.rc == 0, outcome.out[-5000:]
    state = fleet_state(fleet["hosts"])
    assert all(s["swarm"]["state"] == "active" for s in state.values()), state
    say("converged: site.yml formed swarm %s on %s" % (state[fleet["hosts"][0]]["swarm"]["cluster"], ", ".join(state)))
    return fleet


def cache_bytes(fleet):
    path = fleet["plan_cache"]
    with open(path, "rb") as f:
        return f.read(), os.stat(path).st_mtime_ns


def assert_nothing_moved(fleet, before, cache_before, outcome):
    after = fleet_state(fleet["hosts"])
    for host in fleet["hosts"]:
        for key in ("daemon_json", "dockerd", "swarm", "networks"):
            assert after[host][key] == before[host][key], (host, key, before[host][key], after[host][key])
    assert cache_bytes(fleet) == cache_before, "the plan's cache %s was rewritten" % fleet["plan_cache"]
    assert all(recap["changed"] == 0 for recap in outcome.recap.values()), outcome.recap
    say("checked: plan cache bytes and mtime, daemon.json, dockerd PID/start, swarm (cluster, version, pool, port) "
        "and every network (ID, created, IPAM) unchanged on %s; changed=0 in the recap" % ", ".join(fleet["hosts"]))


def test_changed_plan_swarm_pool_is_refused_with_nothing_written(converged):
    fleet = converged
    before, cache_before = fleet_state(fleet["hosts"]), cache_bytes(fleet)
    pool = dict(prefix=21, size=25, supernet="swarm")
    outcome = playbook("site.yml", swarm_fleet_vars(fleet, fleet_plan_swarm_pool=pool), args=["--skip-tags", "verify"])
    say("fleet_plan_swarm_pool changed to %s on the converged fleet: rc=%d, failures %s" % (pool, outcome.rc, outcome.fatal))
    assert outcome.rc != 0, outcome.out[-3000:]
    assert_nothing_moved(fleet, before, cache_before, outcome)
    messages = " ".join(outcome.fatal.values())
    assert "fixed at swarm init" in messages, outcome.out[-3000:]
    # nor an internal error beside the refusal (a refused plan has no report for site.yml's changed_when)
    assert "has no attribute" not in outcome.out and "_overlay_init" not in outcome.out, outcome.out[-3000:]
    say("checked: the plan refused it ('fixed at swarm init'), no internal error in the output")


def test_first_manager_drift_stops_every_host_with_its_reason(converged):
    """data_path_port is set only by swarm init: the first manager refuses the drift, the others say why."""
    fleet = converged
    before, cache_before = fleet_state(fleet["hosts"]), cache_bytes(fleet)
    port = before[fleet["hosts"][0]]["swarm"]["port"] or 4789
    outcome = playbook("site.yml", swarm_fleet_vars(fleet, overlay_data_path_port=port + 1), args=["--skip-tags", "verify"])
    assert outcome.rc != 0, outcome.out[-3000:]
    drifted = [host for host, msg in outcome.fatal.items() if "data_path_port" in msg and "not done because" not in msg]
    assert len(drifted) == 1, outcome.fatal
    first = drifted[0]
    assert before[first]["swarm"]["cluster"], (first, "is not a manager", before[first]["swarm"])  # managers see it
    say("overlay_data_path_port %d (the swarm has %d): %s refused: %s" % (port + 1, port, first, outcome.fatal[first]))
    for host in fleet["hosts"]:
        assert host in outcome.fatal, (host, outcome.out[-3000:])
        assert "has no attribute" not in outcome.fatal[host] and "_overlay_init" not in outcome.fatal[host], outcome.fatal
        if host != first:
            assert outcome.fatal[host].startswith("not done because %s failed: " % first), outcome.fatal[host]
            assert "data_path_port" in outcome.fatal[host], outcome.fatal[host]
            say("%s: %s" % (host, outcome.fatal[host][:160]))
    assert_nothing_moved(fleet, before, cache_before, outcome)
