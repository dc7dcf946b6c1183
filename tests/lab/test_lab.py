"""Tests of the lab (lab/labctl.py, the package lab/netfleet_lab): a fleet of Docker hosts on this machine.

Run by lab/run-lab-tests.sh (`make lab-test`), which brings the lab up first with
LAB_HOSTS / LAB_IMAGES / LAB_SECOND_NIC in the environment; the `lab` fixture brings it up
itself (idempotent) when run alone:
    LAB_IMAGES=forky,trixie,bookworm LAB_SECOND_NIC=1 .venv/bin/python -m pytest -v tests/lab
The last test takes the lab down twice; the lab is down when this module ends.
"""

import json
import os
import socket
import subprocess
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = os.path.join(REPO, ".venv", "bin", "python")
LABCTL = [PY, os.path.join(REPO, "lab", "labctl.py")]
DOCKER = "/usr/bin/docker"
STATE = os.path.join(REPO, "lab", "state", "lab.json")
INVENTORY = os.path.join(REPO, "lab", "inventory.yml")
ENGINE = {"bookworm": "20.10.", "trixie": "26.1.", "forky": "28.5."}

pytestmark = pytest.mark.skipif(not os.path.exists(DOCKER), reason="no outer docker engine")


def lab_env(**over):
    env = dict(os.environ)
    env.setdefault("LAB_HOSTS", "3")
    env.setdefault("LAB_IMAGES", "forky,trixie,bookworm")
    env.setdefault("LAB_SECOND_NIC", "1")
    env.setdefault("LAB_SWITCH", "1")
    env.update(over)
    return env


def labctl(*args, timeout=600, **over):
    return subprocess.run(LABCTL + list(args), env=lab_env(**over), capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, check=False)


def docker(*args, timeout=60):
    return subprocess.run([DOCKER] + list(args), capture_output=True, text=True, timeout=timeout,
                          check=False)


def outer_engine():
    """Everything on the outer engine a lab could leave behind: {kind: {id: name}} (a
    container or network counts as the lab's when its name starts with netfleet-lab or it
    carries the label netfleet.lab=1)."""
    def listing(*args):
        objs = {}
        for line in docker(*args).stdout.splitlines():
            oid, name, labels = (line.split("\t") + ["", ""])[:3]
            objs[oid] = (name, "netfleet.lab=1" in labels.split(","))
        return objs
    return {"containers": listing("ps", "-a", "--no-trunc", "--format",
                                  "{{.ID}}\t{{.Names}}\t{{.Labels}}"),
            "networks": listing("network", "ls", "--no-trunc", "--format",
                                "{{.ID}}\t{{.Name}}\t{{.Labels}}"),
            "volumes": listing("volume", "ls", "--format", "{{.Name}}\t{{.Name}}\t{{.Labels}}"),
            "links": {name: (name, False) for name in outer_links()},
            "rules": {rule: (rule, True) for rule in outer_lab_rules()}}


def outer_links():
    """The outer host's network interfaces (the lab switch adds nflab-sw0 and its veth ends)."""
    out = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout
    return sorted(link["ifname"] for link in json.loads(out))


def outer_lab_rules():
    """The lab switch's ACCEPT rules in the outer FORWARD chains (tagged with the lab label)."""
    rules = []
    for tool in ("iptables", "ip6tables"):
        p = subprocess.run([tool, "-S", "FORWARD"], capture_output=True, text=True, check=False)
        rules += ["%s %s" % (tool, line) for line in p.stdout.splitlines() if "netfleet.lab" in line]
    return rules


def is_lab(entry):
    name, labelled = entry
    return labelled or name.startswith(("netfleet-lab", "nflab-"))


class EngineWatch:
    """The outer engine before and after a step.  Lab objects (see outer_engine) must be
    exactly the same afterwards; with nothing else running, so must everything else.  Other
    work may share the engine (the integration tests and benchmarks create and remove
    networks and containers meanwhile): such non-lab changes are reported, not failed."""

    def __init__(self):
        self.before = outer_engine()

    def assert_unchanged(self):
        after = outer_engine()
        foreign = []
        for kind, before in self.before.items():
            lab_before = {k: v for k, v in before.items() if is_lab(v)}
            lab_after = {k: v for k, v in after[kind].items() if is_lab(v)}
            assert lab_after == lab_before, "%s: lab objects before %s, after %s" % (
                kind, sorted(v[0] for v in lab_before.values()),
                sorted(v[0] for v in lab_after.values()))
            changed = set(before) ^ set(after[kind])
            foreign += ["%s %s" % (kind[:-1], (before.get(k) or after[kind][k])[0]) for k in changed]
        if foreign:
            print("not lab objects, changed by other work meanwhile: %d (%s ...)"
                  % (len(foreign), ", ".join(sorted(foreign)[:5])))
        return foreign


def lab_objects():
    return (docker("ps", "-aq", "--filter", "label=netfleet.lab=1").stdout.split()
            + docker("network", "ls", "-q", "--filter", "label=netfleet.lab=1").stdout.split()
            + [name for name in outer_links() if name.startswith("nflab-")] + outer_lab_rules())


def container_ids():
    out = docker("ps", "-a", "--filter", "label=netfleet.lab=1",
                 "--format", "{{.ID}} {{.Names}} {{.CreatedAt}}").stdout
    return sorted(out.splitlines())


@pytest.fixture(scope="module")
def lab():
    p = labctl("up")
    assert p.returncode == 0, p.stdout + p.stderr
    with open(STATE) as f:
        return json.load(f)


# --- bad input: a clear error and nothing made ----------------------------------------------

BAD_INPUT = [
    ({"LAB_HOSTS": "245"}, "the underlay 10.231.0.0/24 has addresses for 244 hosts"),
    ({"LAB_HOSTS": "0"}, "at least one host"),
    ({"LAB_HOSTS": "three"}, "is not a number"),
    ({"LAB_IMAGES": "", "LAB_IMAGE": "sid"}, "LAB_IMAGE: unknown lab image 'sid'"),
    ({"LAB_IMAGES": "trixie,buster"}, "LAB_IMAGES: unknown lab image 'buster'"),
]


@pytest.mark.parametrize("env,message", BAD_INPUT, ids=[case[1] for case in BAD_INPUT])
def test_bad_input_fails_clearly_and_makes_nothing(env, message):
    watch = EngineWatch()
    p = labctl("up", timeout=60, **env)
    assert p.returncode == 1
    assert message in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    watch.assert_unchanged()


def test_no_mirror_fails_fast_and_makes_nothing():
    """An image that must be built while no Debian mirror answers: a refused port."""
    watch = EngineWatch()
    image_refs = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    t0 = time.time()
    p = labctl("image", "bookworm", timeout=120, LAB_RECIPE_SALT="no-mirror-test",
               LAB_MIRROR="http://127.0.0.1:9/debian", NETFLEET_CACHE="/nonexistent-netfleet-cache")
    elapsed = time.time() - t0
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Debian mirror not reachable: http://127.0.0.1:9/debian/dists/" in p.stderr, p.stderr
    assert "LAB_MIRROR" in p.stderr
    assert elapsed < 30, "took %.0fs" % elapsed
    watch.assert_unchanged()
    assert not [r for r in docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
                if r.startswith("netfleet/lab-") and r not in image_refs]
    assert not os.path.exists("/nonexistent-netfleet-cache")


def test_hanging_mirror_times_out():
    """A mirror that accepts the connection and never answers must not hang the build."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    conns = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.5)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        t0 = time.time()
        p = labctl("image", "trixie", timeout=60, LAB_RECIPE_SALT="hanging-mirror-test",
                   LAB_MIRROR="http://127.0.0.1:%d/debian" % srv.getsockname()[1],
                   LAB_MIRROR_TIMEOUT="3")
        elapsed = time.time() - t0
    finally:
        stop.set()
        t.join()
        for c in conns:
            c.close()
        srv.close()
    assert p.returncode == 1
    assert "Debian mirror not reachable" in p.stderr and "timed out" in p.stderr, p.stderr
    assert elapsed < 20, "took %.0fs" % elapsed


# --- the running lab ----------------------------------------------------------------------

def test_hosts_and_inventory(lab):
    n = int(lab_env()["LAB_HOSTS"])
    assert [h["name"] for h in lab["hosts"]] == ["netfleet-lab-%d" % i for i in range(1, n + 1)]
    for i, h in enumerate(lab["hosts"], 1):
        assert h["ansible_host"] == h["lab_underlay_ip"] == "10.231.0.%d" % (10 + i)
        assert h["lab_underlay_if"]
        if lab["params"]["second_nic"]:
            assert h["lab_second_ip"] == "10.231.1.%d" % (10 + i)
            assert h["lab_second_if"] and h["lab_second_if"] != h["lab_underlay_if"]
        if lab["params"].get("switch"):
            assert h["lab_switch_if"] == "sw0"
    inv = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-inventory"), "-i", INVENTORY,
                          "--list"], capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert inv.returncode == 0, inv.stderr
    data = json.loads(inv.stdout)
    assert sorted(data["lab"]["hosts"]) == sorted(h["name"] for h in lab["hosts"])
    for img in set(lab["params"]["images"]):
        assert sorted(data["lab_" + img]["hosts"]) == sorted(
            h["name"] for h in lab["hosts"] if h["lab_image"] == img)
    hv = data["_meta"]["hostvars"]["netfleet-lab-1"]
    assert hv["ansible_user"] == "root"
    assert hv["ansible_python_interpreter"] == "/usr/bin/python3"
    assert "StrictHostKeyChecking=no" in hv["ansible_ssh_common_args"]
    assert os.path.exists(hv["ansible_ssh_private_key_file"])


def test_inner_engine_version_per_image(lab):
    for h in lab["hosts"]:
        p = docker("exec", h["name"], "docker", "version", "--format",
                   "{{.Server.Version}} {{.Client.Version}}")
        assert p.returncode == 0, p.stderr
        server, client = p.stdout.split()
        assert server.startswith(ENGINE[h["lab_image"]]), (h["name"], server)
        assert client.startswith(ENGINE[h["lab_image"]]), (h["name"], client)


def test_cgroup_hierarchy_per_image(lab):
    """forky's systemd (>= 258) runs only on cgroup v2: its entrypoint mounted cgroup2; the
    other images keep the hierarchy the outer engine gives (the same on every such host)."""
    kinds = {}
    for h in lab["hosts"]:
        p = docker("exec", h["name"], "stat", "-fc", "%T", "/sys/fs/cgroup")
        assert p.returncode == 0, p.stderr
        kinds.setdefault(h["lab_image"], set()).add(p.stdout.strip())
    if "forky" not in kinds:
        pytest.skip("no forky host in this lab (LAB_IMAGES=%s)" % ",".join(lab["params"]["images"]))
    assert kinds["forky"] == {"cgroup2fs"}
    for image, seen in kinds.items():
        assert len(seen) == 1, (image, seen)


def test_every_image_asked_for_is_in_the_fleet(lab):
    """The test lab mixes the images (lab/run-lab-tests.sh: forky, trixie, bookworm); every
    engine version asked for must be exercised."""
    asked = [x.strip() for x in lab_env()["LAB_IMAGES"].split(",") if x.strip()]
    if len(set(asked)) < 2:
        pytest.skip("LAB_IMAGES=%s: not a mixed lab" % ",".join(asked))
    assert {h["lab_image"] for h in lab["hosts"]} == set(asked[:len(lab["hosts"])])


def test_inner_engine_runs_containers_and_sdk(lab):
    """cgroups and /proc/sys are writable: the inner engine can run the test image; the
    Docker SDK for Python on the host is new enough for the collection."""
    for h in lab["hosts"]:
        p = docker("exec", h["name"], "docker", "run", "--rm", "netfleet/busybox:latest",
                   "echo", "inner-ok", timeout=60)
        assert p.returncode == 0 and "inner-ok" in p.stdout, (h["name"], p.stderr)
        p = docker("exec", h["name"], "python3", "-c",
                   "import docker; print(docker.__version__)")
        assert p.returncode == 0, p.stderr
        assert tuple(int(x) for x in p.stdout.strip().split(".")[:2]) >= (7, 1), p.stdout


def test_underlay_reachability(lab):
    keys = ["lab_underlay_ip"]
    if lab["params"]["second_nic"]:
        keys.append("lab_second_ip")
    for src in lab["hosts"]:
        for dst in lab["hosts"]:
            if src is dst:
                continue
            for key in keys:
                p = docker("exec", src["name"], "ping", "-c", "2", "-i", "0.2", "-W", "2",
                           dst[key], timeout=30)
                assert p.returncode == 0, "%s -> %s (%s): %s" % (
                    src["name"], dst[key], key, p.stdout + p.stderr)


def test_switch_carries_any_subnet_between_hosts(lab):
    """LAB_SWITCH=1: a subnet that is none of the lab's (TEST-NET-1) crosses the switch like a wire."""
    if not lab["params"].get("switch"):
        pytest.skip("the lab is up without LAB_SWITCH=1")
    hosts = lab["hosts"]
    address = {h["name"]: "192.0.2.%d" % (10 + h["lab_index"]) for h in hosts}
    try:
        for h in hosts:
            p = docker("exec", h["name"], "ip", "addr", "add", address[h["name"]] + "/24", "dev", h["lab_switch_if"])
            assert p.returncode == 0, p.stderr
        for src in hosts:
            for dst in hosts:
                if src is not dst:
                    p = docker("exec", src["name"], "ping", "-c", "2", "-i", "0.2", "-W", "2", address[dst["name"]],
                               timeout=30)
                    assert p.returncode == 0, "%s -> %s over the switch: %s" % (src["name"], dst["name"], p.stdout)
    finally:
        for h in hosts:
            docker("exec", h["name"], "ip", "addr", "del", address[h["name"]] + "/24", "dev", "sw0")
    bridge = json.loads(subprocess.run(["ip", "-j", "-d", "link", "show", "nflab-sw0"], capture_output=True,
                                       text=True, check=True).stdout)[0]
    assert bridge["linkinfo"]["info_kind"] == "bridge"
    assert "master" not in bridge  # nothing of the machine's own uplink is attached


def test_ansible_reaches_every_host_over_ssh(lab):
    t0 = time.time()
    p = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible"), "-i", INVENTORY, "lab",
                        "-m", "ping"], capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
                       env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg")))
    assert p.returncode == 0, p.stdout + p.stderr
    for h in lab["hosts"]:
        assert '%s | SUCCESS' % h["name"] in p.stdout, p.stdout
    print("ansible -m ping on %d hosts over SSH: %.1fs" % (len(lab["hosts"]), time.time() - t0))


def test_up_again_with_same_parameters_is_a_noop(lab):
    before = container_ids()
    p = labctl("up", timeout=60)
    assert p.returncode == 0, p.stderr
    assert "nothing to do" in p.stdout
    assert container_ids() == before


def test_up_with_different_parameters_fails_and_changes_nothing(lab):
    before, watch = container_ids(), EngineWatch()
    for over in ({"LAB_HOSTS": "2"}, {"LAB_IMAGES": "bookworm"}, {"LAB_SECOND_NIC": "0"}, {"LAB_SWITCH": "0"}):
        p = labctl("up", timeout=60, **over)
        assert p.returncode == 1, over
        assert "a lab with different parameters is up" in p.stderr, p.stderr
        assert "make lab-down" in p.stderr
        assert container_ids() == before
    watch.assert_unchanged()


# --- up/down leaves the outer engine as it was (last: the lab is down afterwards) -----------

def test_up_down_twice_leaves_outer_engine_as_it_was(lab):
    p = labctl("down", timeout=300)
    assert p.returncode == 0, p.stderr
    assert lab_objects() == []
    watch = EngineWatch()
    for round_ in (1, 2):
        t0 = time.time()
        p = labctl("up", timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        up_s = time.time() - t0
        assert len(docker("ps", "-q", "--filter", "label=netfleet.lab=1").stdout.split()) == \
            int(lab_env()["LAB_HOSTS"])
        t0 = time.time()
        p = labctl("down", timeout=300)
        assert p.returncode == 0, p.stderr
        print("round %d: up %.1fs, down %.1fs" % (round_, up_s, time.time() - t0))
        assert lab_objects() == []
        watch.assert_unchanged()
        assert not os.path.exists(STATE) and not os.path.exists(INVENTORY)


def test_failed_bring_up_leaves_nothing_behind():
    """A bring-up that fails half way (hosts created, boot wait times out) removes it all."""
    assert lab_objects() == []
    watch = EngineWatch()
    p = labctl("up", timeout=300, LAB_BOOT_TIMEOUT="0")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "did not come up" in p.stderr or "did not answer" in p.stderr, p.stderr
    assert "bring-up failed: removing what was created" in p.stdout
    assert lab_objects() == []
    watch.assert_unchanged()
    assert not os.path.exists(STATE) and not os.path.exists(INVENTORY)
