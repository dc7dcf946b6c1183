"""playbooks/site.yml through ansible-runner, as an AWX job runs it (issue 12 item 4).

On a converged 3-host trixie lab, two `ansible-runner run` jobs, each in a fresh private data
directory built the way AWX builds one:
  project/      the checkout's files (tracked and not ignored, as a clone has them), with the
                collection installed from its own `ansible-galaxy collection build` tarball into
                project/collections/ansible_collections/netfleet/docker, the only collection path
                (ANSIBLE_COLLECTIONS_PATH): the project is self-contained;
  inventory/    the lab's hosts in a shuffled order, a different one for each job (dynamic
                inventories give no stable order), without the key file;
  env/          extravars (fleet_group: lab), envvars, settings, and ssh_key: the lab's key handed
                over as AWX hands a machine credential (runner's ssh-agent, never a file the play sees).
ansible-runner runs with a minimal environment whose PATH starts with the project venv, so
.venv/bin/ansible-playbook runs the play.  Each job must succeed and change nothing (play recap
changed=0 for every host, no changed task result), its artifacts/ must hold no secret (no swarm
join token, no private key), and the custom stats of the playbook_on_stats event (what an AWX job
shows under "artifacts") must carry the per-host summary (fleet_hosts) and verify's verdict
(verify).

Needs: the outer docker engine, .venv (make venv), .venv-ee (created from tests/ee/requirements.txt
when missing, as scripts/ee-check.sh does).  Brings the lab up when none is up
(LAB_HOSTS=3 LAB_IMAGE=trixie, no second NIC), converges it with one plain ansible-playbook run of
site.yml, and takes it down at the end if it brought it up.  A lab with other parameters makes
labctl fail clearly.  The private data directories stay in .tmp/awx/ for inspection.
    flock /tmp/netfleet-lab.lock .venv/bin/python -m pytest -v -s tests/awx
Environment: AWX_TEST_SEED (the shuffle's seed; printed), AWX_TEST_TIMEOUT (seconds per job, 1800).
"""

import glob
import json
import os
import random
import shutil
import subprocess
import time

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(REPO, ".venv", "bin")
EE_VENV = os.path.join(REPO, ".venv-ee")
RUNNER = os.path.join(EE_VENV, "bin", "ansible-runner")
LABCTL = [os.path.join(VENV_BIN, "python"), os.path.join(REPO, "lab", "labctl.py")]
INVENTORY = os.path.join(REPO, "lab", "inventory.yml")
WORK = os.path.join(REPO, ".tmp", "awx")
LAB_PARAMS = {"LAB_HOSTS": "3", "LAB_IMAGE": "trixie", "LAB_IMAGES": "", "LAB_SECOND_NIC": "0"}
JOB_TIMEOUT = int(os.environ.get("AWX_TEST_TIMEOUT", "1800"))
SECRET_MARKERS = (b"SWMTKN-", b"PRIVATE KEY")

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/docker"), reason="no outer docker engine")


def run(cmd, timeout=JOB_TIMEOUT, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)


def timed(label, cmd, **kw):
    start = time.monotonic()
    proc = run(cmd, **kw)
    took = time.monotonic() - start
    print("awx test: %s took %.1fs (rc %d)" % (label, took, proc.returncode))
    return proc, took


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def tail(proc, lines=60):
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-lines:])


# --- what the jobs need: the runner, a snapshot of the project, the lab, the collection tarball ----

@pytest.fixture(scope="module")
def source():
    """The project as a clone has it, taken once (the working tree is shared: edits made meanwhile must
    not reach the converge or the jobs halfway): tracked files and new ones that are not ignored, from
    the working tree, or the commit HEAD with AWX_TEST_SOURCE=head.  The converge runs from it too,
    with .collections linked as `make link` does."""
    shutil.rmtree(WORK, ignore_errors=True)
    path = os.path.join(WORK, "source")
    os.makedirs(path)
    if os.environ.get("AWX_TEST_SOURCE", "worktree") == "head":
        listed = run(["git", "ls-tree", "-r", "-z", "--name-only", "HEAD"], timeout=60, cwd=REPO)
        unpacked = run(["sh", "-c", 'git -C "$1" archive HEAD | tar -x -C "$2"', "-", REPO, path], timeout=300)
        assert unpacked.returncode == 0, unpacked.stderr
        files = [p for p in listed.stdout.split("\0") if p and os.path.isfile(os.path.join(path, p))]
    else:
        listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], timeout=60, cwd=REPO)
        files = [p for p in listed.stdout.split("\0") if p and os.path.isfile(os.path.join(REPO, p))]
        copy_files(files, REPO, path)
    assert listed.returncode == 0, listed.stderr
    os.makedirs(os.path.join(path, ".collections", "ansible_collections", "netfleet"))
    os.symlink("../../..", os.path.join(path, ".collections", "ansible_collections", "netfleet", "docker"))
    return {"path": path, "files": files}


@pytest.fixture(scope="module")
def runner_bin():
    """.venv-ee with the pinned ansible-runner (the same venv and pins as scripts/ee-check.sh)."""
    pins = os.path.join(REPO, "tests", "ee", "requirements.txt")
    marker = os.path.join(EE_VENV, ".pins")
    if not (os.path.exists(marker) and read(marker) == read(pins)):
        shutil.rmtree(EE_VENV, ignore_errors=True)
        for cmd in (["python3", "-m", "venv", EE_VENV],
                    [os.path.join(EE_VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check",
                     "-r", pins]):
            proc = run(cmd, timeout=900)
            assert proc.returncode == 0, tail(proc)
        shutil.copy(pins, marker)
    return RUNNER


@pytest.fixture(scope="module")
def lab(source):
    """The lab's inventory (parsed), after one plain ansible-playbook run of site.yml converged it."""
    env = dict(os.environ, **LAB_PARAMS)
    was_up = os.path.exists(INVENTORY)
    proc, _seconds = timed("lab up", LABCTL + ["up"], env=env, cwd=REPO)
    assert proc.returncode == 0, tail(proc)
    with open(INVENTORY, encoding="utf-8") as f:
        inventory = yaml.safe_load(f)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(source["path"], "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(source["path"], ".collections"),
               PATH=VENV_BIN + os.pathsep + os.environ["PATH"])
    converge = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", INVENTORY, "playbooks/site.yml", "-e", "fleet_group=lab"]
    proc, _seconds = timed("converge (plain ansible-playbook site.yml)", converge, env=env, cwd=source["path"])
    assert proc.returncode == 0, tail(proc)
    yield inventory
    if not was_up:
        proc, _seconds = timed("lab down", LABCTL + ["down"], env=dict(os.environ, **LAB_PARAMS), cwd=REPO)
        assert proc.returncode == 0, tail(proc)


@pytest.fixture(scope="module")
def collection_tarball(tmp_path_factory, source):
    """The collection as `ansible-galaxy collection build` makes it (galaxy.yml's build_ignore applied)."""
    out = tmp_path_factory.mktemp("collection")
    proc = run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(out),
                source["path"]], timeout=300, cwd=source["path"])
    assert proc.returncode == 0, tail(proc)
    return glob.glob(str(out / "netfleet-docker-*.tar.gz"))[0]


# --- a private data directory, as AWX writes one -----------------------------------------------

def copy_files(files, src, dest):
    for rel in files:
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(os.path.join(src, rel), os.path.join(dest, rel))


def write_project(pdd, source, tarball):
    project = os.path.join(pdd, "project")
    copy_files(source["files"], source["path"], project)
    collections = os.path.join(project, "collections")
    proc = run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "install", "--force", "-p", collections,
                tarball], timeout=300, cwd=pdd)
    assert proc.returncode == 0, tail(proc)
    assert os.path.isfile(os.path.join(collections, "ansible_collections", "netfleet", "docker", "galaxy.yml")) \
        or os.path.isfile(os.path.join(collections, "ansible_collections", "netfleet", "docker", "MANIFEST.json"))
    return project


def shuffled_inventory(inventory, order):
    """The lab inventory with the group `lab` (and the per-image groups) in `order`, and no key file:
    the key comes as a credential (env/ssh_key)."""
    inv = json.loads(json.dumps(inventory))
    children = inv["all"]["children"]
    lab = children["lab"]
    lab["hosts"] = dict((name, lab["hosts"][name]) for name in order)
    key_file = lab["vars"].pop("ansible_ssh_private_key_file")
    for name, group in children.items():
        if name != "lab" and group.get("hosts"):
            group["hosts"] = dict((h, group["hosts"][h]) for h in order if h in group["hosts"])
    return inv, key_file


def write_private_data_dir(pdd, source, tarball, inventory, order):
    shutil.rmtree(pdd, ignore_errors=True)
    os.makedirs(os.path.join(pdd, "inventory"))
    os.makedirs(os.path.join(pdd, "env"))
    project = write_project(pdd, source, tarball)
    inv, key_file = shuffled_inventory(inventory, order)
    with open(os.path.join(pdd, "inventory", "hosts.yml"), "w", encoding="utf-8") as f:
        yaml.safe_dump(inv, f, sort_keys=False)
    env_files = {
        "extravars": {"fleet_group": "lab"},
        "envvars": {"ANSIBLE_COLLECTIONS_PATH": os.path.join(project, "collections"),
                    "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                    "ANSIBLE_NOCOLOR": "1",
                    "NETFLEET_REPORT_DIR": os.path.join(pdd, "reports")},
        "settings": {"job_timeout": JOB_TIMEOUT, "pexpect_timeout": 5},
    }
    for name, data in env_files.items():
        with open(os.path.join(pdd, "env", name), "w", encoding="utf-8") as f:
            yaml.safe_dump(data, f)
    shutil.copy(key_file, os.path.join(pdd, "env", "ssh_key"))
    os.makedirs(os.path.join(pdd, "reports"))
    return key_file


def runner_env():
    """A bare environment, like an execution environment's: nothing from this shell leaks into the
    job (no ANSIBLE_CONFIG: the project's ansible.cfg applies; nothing secret in the artifacts'
    env dump); the project venv's ansible-playbook comes first on PATH."""
    env = {"PATH": os.pathsep.join([VENV_BIN, "/usr/local/bin", "/usr/bin", "/bin"]),
           "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    assert shutil.which("ansible-playbook", path=env["PATH"]) == os.path.join(VENV_BIN, "ansible-playbook")
    return env


# --- reading a job's artifacts ------------------------------------------------------------------

def job_events(artifacts):
    events = []
    for path in glob.glob(os.path.join(artifacts, "job_events", "*.json")):
        with open(path, encoding="utf-8") as f:
            events.append(json.load(f))
    return sorted(events, key=lambda e: e.get("counter", 0))


def on_controller(data):
    """A result of a task delegated to the controller (delegate_to: localhost, a local connection)."""
    delegated = data.get("res", {}).get("_ansible_delegated_vars") or {}
    return delegated.get("ansible_connection") == "local" or delegated.get("ansible_host") in ("localhost", "127.0.0.1")


def changed_results(events):
    """'host: task' for every task result that reported a change (loop items included), split into
    changes on the fleet and changes on the controller (the plan's cache, which a fresh private data
    directory never has: AWX throws the project copy away after each job)."""
    fleet, controller = [], []
    for ev in events:
        data = ev.get("event_data", {})
        if ev.get("event") in ("runner_on_ok", "runner_item_on_ok") and data.get("res", {}).get("changed"):
            (controller if on_controller(data) else fleet).append("%s: %s" % (data.get("host"), data.get("task")))
    return fleet, controller


def plan_report(events):
    """The address plan's report (new, moved, claimed ... allocation keys) of the job's plan task."""
    for ev in events:
        res = ev.get("event_data", {}).get("res", {})
        if ev.get("event") == "runner_on_ok" and ev["event_data"].get("task_action", "").endswith("address_plan"):
            return res.get("report") or {}
    return None


def secrets_in(artifacts, extra=()):
    """Files under artifacts/ that hold a marker of a secret (or one of the extra strings)."""
    markers = SECRET_MARKERS + tuple(s.encode() for s in extra if s)
    hits = []
    for root, _dirs, files in os.walk(artifacts):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.isfile(path):   # the ssh key fifo, if runner left it
                continue
            with open(path, "rb") as f:
                data = f.read()
            hits += ["%s: %s" % (os.path.relpath(path, artifacts), m.decode()[:12]) for m in markers if m in data]
    return hits


def key_body(key_file):
    """The base64 lines of the private key: none of them may appear in the artifacts either."""
    with open(key_file, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and "PRIVATE KEY" not in line]


def join_tokens(inventory):
    """The lab swarm's join tokens, read on a manager (the markers catch them anyway: belt and braces)."""
    tokens = []
    for name in inventory["all"]["children"]["lab"]["hosts"]:
        for role in ("worker", "manager"):
            proc = run(["docker", "exec", name, "docker", "swarm", "join-token", "-q", role], timeout=60)
            if proc.returncode == 0 and proc.stdout.strip():
                tokens.append(proc.stdout.strip())
        if tokens:
            break
    return tokens


def shuffled_orders(hosts, count, seed):
    """`count` orders of `hosts`, each different from the lab's own order and from one another
    (when there are enough permutations)."""
    rng = random.Random(seed)
    seen, orders = [list(hosts)], []
    for _attempt in range(count):
        order = list(hosts)
        for _attempt in range(50):
            rng.shuffle(order)
            if order not in seen:
                break
        seen.append(list(order))
        orders.append(list(order))
    return orders


# --- the test -------------------------------------------------------------------------------------

def run_job(runner, pdd, ident):
    proc, took = timed("ansible-runner job %s" % ident,
                       [runner, "run", pdd, "-p", "playbooks/site.yml", "--ident", ident],
                       env=runner_env(), cwd=pdd)
    artifacts = os.path.join(pdd, "artifacts", ident)
    status_file = os.path.join(artifacts, "status")
    status = read(status_file).strip() if os.path.exists(status_file) else "no status"
    return proc, took, artifacts, status


def check_job(ident, artifacts, hosts, secrets):
    events = job_events(artifacts)
    stats = [e for e in events if e.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, "%s: %d playbook_on_stats events" % (ident, len(stats))
    recap = stats[0]["event_data"]
    fleet, controller = changed_results(events)
    assert not fleet, "%s changed the converged fleet: %s" % (ident, fleet)
    # The recap counts the controller's results too: it must count nothing else.
    changed = sum((recap.get("changed") or {}).values())
    assert changed == len(controller), "%s: recap changed %s, results %s" % (ident, recap.get("changed"), controller)
    report = plan_report(events)
    assert report is not None and report.get("claimed"), "%s: no address plan claimed from the fleet" % ident
    moved = dict((k, report.get(k)) for k in ("new", "moved", "corrected", "released") if report.get(k))
    assert not moved, "%s: the plan allocated or moved %s on a converged fleet" % (ident, moved)
    assert not recap.get("failures") and not recap.get("dark"), "%s: %s" % (ident, recap)
    leaks = secrets_in(os.path.dirname(artifacts), secrets)
    assert not leaks, "%s: secrets in the artifacts: %s" % (ident, leaks)
    custom = recap.get("artifact_data") or {}
    summary, verify = custom.get("fleet_hosts") or {}, custom.get("verify") or {}
    assert sorted(summary) == sorted(hosts), "%s: set_stats fleet_hosts %s, lab hosts %s" % (ident, summary, hosts)
    for host, entry in summary.items():
        assert entry.get("networks") and entry.get("planned"), "%s: %s summary %s" % (ident, host, entry)
    assert verify.get("ok") is True and verify.get("pairs"), "%s: set_stats verify %s" % (ident, verify)
    assert sorted(verify.get("hosts", {})) == sorted(hosts), "%s: verify hosts %s" % (ident, verify.get("hosts"))
    assert verify.get("report") and os.path.isfile(verify["report"]), "%s: report %s" % (ident, verify.get("report"))
    return len(events), verify, controller


def test_site_twice_through_ansible_runner(runner_bin, source, lab, collection_tarball):
    hosts = list(lab["all"]["children"]["lab"]["hosts"])
    seed = os.environ.get("AWX_TEST_SEED") or str(random.randrange(1 << 30))
    orders = shuffled_orders(hosts, 2, seed)
    print("awx test: lab order %s; shuffle seed %s (AWX_TEST_SEED) -> %s" % (hosts, seed, orders))
    timings = []
    for number, order in enumerate(orders, 1):
        ident = "job%d" % number
        pdd = os.path.join(WORK, ident)
        start = time.monotonic()
        key_file = write_private_data_dir(pdd, source, collection_tarball, lab, order)
        prepared = time.monotonic() - start
        proc, took, artifacts, status = run_job(runner_bin, pdd, ident)
        assert proc.returncode == 0 and status == "successful", "%s (%s):\n%s" % (ident, status, tail(proc))
        tokens = join_tokens(lab)
        assert tokens, "no swarm join token could be read on the lab: the secret check would look for none"
        count, verify, controller = check_job(ident, artifacts, hosts, tokens + key_body(key_file))
        timings.append((ident, order, prepared, took))
        print("awx test: %s hosts %s: private data dir %.1fs, job %.1fs, %d events; fleet changed nothing; "
              "controller-side changes %d %s; verify %s (%d pairs), report %s"
              % (ident, order, prepared, took, count, len(controller), controller, verify["verdict"], verify["pairs"],
                 verify["report"]))
    assert timings[0][1] != timings[1][1]
