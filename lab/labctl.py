"""labctl: a fleet of Docker hosts on one machine (the netfleet.docker lab).

Each lab host is a NON-privileged container on the outer Docker engine with systemd as
PID 1, its own inner dockerd (overlay2 on a tmpfs), sshd and etcd installed.  Images are
built from Debian packages (mmdebstrap | docker import, no registry) and cached as a
gzip'ed `docker save` tarball named after a hash of the recipe.

    labctl.py image [trixie|bookworm|all]    build or load the lab image(s)
    labctl.py up                              bring the lab up (idempotent)
    labctl.py down                            remove everything labelled as lab-owned
    labctl.py status                          print the running lab

Parameters come from the environment (the Makefile exports them):
    LAB_HOSTS=3              number of hosts (1..244)
    LAB_IMAGE=trixie         image for every host: trixie | bookworm
    LAB_IMAGES=a,b,...       per-host images, cycled over LAB_HOSTS (overrides LAB_IMAGE)
    LAB_SECOND_NIC=0|1       give every host a second underlay NIC (10.231.1.0/24)
    LAB_MIRROR=URL           Debian mirror for image builds (default: from /etc/apt/sources*)
    LAB_MIRROR_TIMEOUT=10    seconds to wait for the mirror before failing
    LAB_BOOT_TIMEOUT=90      seconds for the hosts to boot (docker.service, sshd)
    NETFLEET_CACHE=DIR       image tarball cache (default /var/cache/netfleet)
    LAB_DOCKER=/usr/bin/docker

Run it with the project venv: .venv/bin/python lab/labctl.py up  (no shebang: ansible-test
sanity allows only a few; it is always run by an explicit interpreter)
"""

import concurrent.futures
import glob
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(LAB_DIR)
STATE_DIR = os.path.join(LAB_DIR, "state")
STATE_FILE = os.path.join(STATE_DIR, "lab.json")
INVENTORY = os.path.join(LAB_DIR, "inventory.yml")
SSH_DIR = os.path.join(LAB_DIR, ".ssh")
SSH_KEY = os.path.join(SSH_DIR, "id_ed25519")

DOCKER = os.environ.get("LAB_DOCKER", "/usr/bin/docker")
CACHE = os.environ.get("NETFLEET_CACHE") or "/var/cache/netfleet"
TEST_IMAGE = os.environ.get("TEST_IMAGE", "netfleet/busybox:latest")

LABEL = "netfleet.lab"                     # every lab object carries LABEL=1
LABEL_PARAMS = "netfleet.lab.params"       # JSON of the parameters the lab was made with
LABEL_RECIPE = "netfleet.lab.recipe"       # recipe hash, on images
PREFIX = "netfleet-lab"
UNDERLAY = {"name": PREFIX + "-underlay", "subnet": "10.231.0.0/24", "gateway": "10.231.0.1",
            "prefix": "10.231.0."}
UNDERLAY2 = {"name": PREFIX + "-underlay2", "subnet": "10.231.1.0/24", "gateway": "10.231.1.1",
             "prefix": "10.231.1."}
HOST_OFFSET = 10                           # host i = .(10+i)
MAX_HOSTS = 254 - HOST_OFFSET              # .11 .. .254

# ---------------------------------------------------------------------------------------
# The image recipe.  Everything that shapes the image is in here and is hashed into the
# image tag, its label and the cache tarball name: change it and the image is rebuilt.
# ---------------------------------------------------------------------------------------
COMMON_PACKAGES = [
    "docker.io", "etcd-server", "python3", "python3-requests", "python3-urllib3",
    "python3-netaddr", "python3-yaml",
    "iproute2", "iptables", "systemd", "systemd-sysv", "openssh-server", "tcpdump",
    "iputils-ping", "procps", "kmod", "ca-certificates", "curl", "netcat-openbsd", "ethtool",
    "mount", "less",
]


def venv_docker_sdk():
    """The Docker SDK for Python of the project venv (pure Python, pinned in requirements.txt).

    Debian ships python3-docker 5.0 in bookworm and trixie; the collection needs >= 7.1 on
    the managed host, so the venv's copy is put into /usr/local/lib/python3.X/dist-packages
    of the image (it runs on Debian's python3-requests and python3-urllib3)."""
    import docker as sdk  # the venv's
    pkg = os.path.dirname(os.path.abspath(sdk.__file__))
    site = os.path.dirname(pkg)
    dist = glob.glob(os.path.join(site, "docker-%s.dist-info" % sdk.__version__))
    if not dist:
        raise LabError("cannot find the dist-info of the Docker SDK %s in %s" % (sdk.__version__, site))
    return sdk.__version__, [pkg, dist[0]]


IMAGES = {
    "bookworm": {"suite": "bookworm", "packages": COMMON_PACKAGES, "engine": "20.10"},
    # in trixie docker-cli is only a Recommends of docker.io
    "trixie": {"suite": "trixie", "packages": COMMON_PACKAGES + ["docker-cli"], "engine": "26.1"},
}

ENTRYPOINT = r"""#!/bin/sh
# netfleet lab host entrypoint.  Docker mounts /sys, the cgroup hierarchies and /proc/sys
# read-only in a non-privileged container; the inner dockerd and systemd need them
# writable.  Remount the superblock (where it is ro) and the mount itself (bind remount:
# the per-mount ro flag), then systemd becomes PID 1.
rw() {
  mount -o remount,rw "$1" 2>/dev/null
  mount -o remount,bind,rw "$1" 2>/dev/null || echo "lab-init: cannot remount $1 read-write" >&2
}
rw /sys
for m in $(awk '$2 ~ "^/sys/fs/cgroup" {print $2}' /proc/self/mounts); do rw "$m"; done
rw /proc/sys
exec /sbin/init "$@"
"""

SSH_DROPIN = """[Service]
# Host keys are removed from the image (every host gets its own) and sshd's unit does not
# generate them in a container: do it before the config test.
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
"""

# Units that make no sense in a lab container.
MASKED_UNITS = [
    "systemd-remount-fs.service", "systemd-firstboot.service", "getty.target",
    "console-getty.service", "systemd-logind.service", "systemd-timesyncd.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "e2scrub_reap.service",
    "fstrim.timer", "systemd-tmpfiles-clean.timer", "dpkg-db-backup.timer",
    "sys-kernel-config.mount", "sys-kernel-debug.mount", "sys-kernel-tracing.mount",
    "sys-fs-fuse-connections.mount", "dev-hugepages.mount", "dev-mqueue.mount",
    "systemd-journald-audit.socket", "systemd-pcrphase.service",
    "systemd-pcrphase-sysinit.service", "systemd-hwdb-update.service",
]

CUSTOMIZE = r"""set -e
R="$1"
install -d -m 0755 "$R/usr/local/sbin" "$R/etc/systemd/system/ssh.service.d"
cat > "$R/usr/local/sbin/netfleet-lab-init" <<'EOF_INIT'
@ENTRYPOINT@EOF_INIT
chmod 0755 "$R/usr/local/sbin/netfleet-lab-init"
cat > "$R/etc/systemd/system/ssh.service.d/netfleet-lab-keygen.conf" <<'EOF_SSH'
@SSH_DROPIN@EOF_SSH
rm -f "$R"/etc/ssh/ssh_host_*
# Docker SDK for Python from the project venv (see venv_docker_sdk); $2.. are its directories
py=$(ls -d "$R"/usr/lib/python3.[0-9]* | sed -n 's|.*/python\(3\.[0-9]*\)$|\1|p' | sort -V | tail -1)
install -d -m 0755 "$R/usr/local/lib/python$py/dist-packages"
shift
for d in "$@"; do cp -r "$d" "$R/usr/local/lib/python$py/dist-packages/"; done
find "$R/usr/local/lib/python$py/dist-packages" -name __pycache__ -prune -exec rm -rf {} +
install -d -m 0700 "$R/root/.ssh"
: > "$R/etc/machine-id"
for u in @MASKED@; do ln -sf /dev/null "$R/etc/systemd/system/$u"; done
# etcd is installed for roles/kv_store, which configures and starts it
rm -f "$R/etc/systemd/system/multi-user.target.wants/etcd.service"
# no mirror is reachable from inside the lab: drop the package lists
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb
echo "netfleet lab host" > "$R/etc/motd"
"""

DPKG_OPTS = [
    "path-exclude=/usr/share/man/*", "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/info/*",
]
IMPORT_CHANGES = [
    'ENTRYPOINT ["/usr/local/sbin/netfleet-lab-init"]',
    "ENV container=docker",
]   # docker import refuses STOPSIGNAL: the stop signal is given at `docker create`
RECIPE_VERSION = 1


def customize_script():
    return (CUSTOMIZE.replace("@ENTRYPOINT@", ENTRYPOINT)
            .replace("@SSH_DROPIN@", SSH_DROPIN)
            .replace("@MASKED@", " ".join(MASKED_UNITS)))


def recipe(name):
    spec = IMAGES[name]
    r = {"version": RECIPE_VERSION, "name": name, "suite": spec["suite"],
         "variant": "required", "packages": sorted(spec["packages"]),
         "customize": customize_script(), "dpkg": DPKG_OPTS, "changes": IMPORT_CHANGES,
         "docker_sdk": venv_docker_sdk()[0]}
    if os.environ.get("LAB_RECIPE_SALT"):
        # tests set it to get a recipe that is neither built nor cached
        r["salt"] = os.environ["LAB_RECIPE_SALT"]
    return r


def recipe_hash(name):
    blob = json.dumps(recipe(name), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def image_ref(name):
    return "netfleet/lab-%s:%s" % (name, recipe_hash(name))


def cache_tarball(name):
    return os.path.join(CACHE, "lab-%s-%s.tar.gz" % (name, recipe_hash(name)))


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
class LabError(Exception):
    pass


_print_lock = threading.Lock()


def say(msg):
    with _print_lock:
        print("[lab] " + msg, flush=True)


def docker(*args, check=True, input=None, timeout=120):
    try:
        p = subprocess.run([DOCKER] + list(args), input=input, capture_output=True,
                           timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LabError("docker %s timed out after %ss" % (" ".join(args[:3]), timeout))
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise LabError("docker %s failed (rc=%d): %s" % (" ".join(args[:4]), p.returncode,
                                                         err.strip() or out.strip()))
    return p.returncode, out, err


def image_exists(ref):
    return docker("image", "inspect", ref, check=False)[0] == 0


def lab_containers(all_=True):
    """Names of containers labelled as lab-owned."""
    args = ["ps", "--filter", "label=%s=1" % LABEL, "--format", "{{.Names}}"]
    if all_:
        args.insert(1, "-a")
    out = docker(*args)[1]
    return sorted(out.split(), key=lambda n: (len(n), n))


def lab_networks():
    out = docker("network", "ls", "--filter", "label=%s=1" % LABEL, "--format", "{{.Name}}")[1]
    return sorted(out.split())


# ---------------------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------------------
def default_mirror():
    """The Debian mirror apt on this machine uses (deb822 or one-line sources)."""
    if os.environ.get("LAB_MIRROR"):
        return os.environ["LAB_MIRROR"].rstrip("/")
    files = glob.glob("/etc/apt/sources.list.d/*.sources") + ["/etc/apt/sources.list"] + \
        glob.glob("/etc/apt/sources.list.d/*.list")
    for f in files:
        try:
            text = open(f).read()
        except OSError:
            continue
        if f.endswith(".sources"):
            for stanza in re.split(r"\n\s*\n", text):
                uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
                suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
                if uris and suites and re.search(r"\b(bookworm|trixie)\b(?!-)", suites.group(1)):
                    return uris.group(1).rstrip("/")
        else:
            for line in text.splitlines():
                m = re.match(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(bookworm|trixie)\s", line)
                if m:
                    return m.group(1).rstrip("/")
    raise LabError("no Debian mirror found in /etc/apt/sources*; set LAB_MIRROR=http://.../debian")


def check_mirror(mirror, suite):
    timeout = float(os.environ.get("LAB_MIRROR_TIMEOUT", "10"))
    url = "%s/dists/%s/InRelease" % (mirror, suite)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            r.read(64)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise LabError("Debian mirror not reachable: %s (%s). The lab image is built from Debian "
                       "packages; point LAB_MIRROR at a reachable mirror (it is read from "
                       "/etc/apt/sources* by default)." % (url, getattr(e, "reason", e)))


def build_image(name):
    ref = image_ref(name)
    spec = IMAGES[name]
    mirror = default_mirror()
    check_mirror(mirror, spec["suite"])
    os.makedirs(CACHE, exist_ok=True)
    say("building %s from Debian %s packages (mmdebstrap | docker import); ~1 minute"
        % (ref, spec["suite"]))
    t0 = time.time()
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as hook:
        hook.write(customize_script())
    cmd = ["mmdebstrap", "--mode=root", "--variant=required", "--format=tar",
           "--include=" + ",".join(spec["packages"]),
           "--aptopt=Acquire::Retries \"0\"", "--aptopt=Acquire::http::Timeout \"20\"",
           "--aptopt=Acquire::https::Timeout \"20\"",
           "--customize-hook=sh %s \"$1\" %s" % (hook.name, " ".join(venv_docker_sdk()[1]))]
    cmd += ["--dpkgopt=" + o for o in DPKG_OPTS]
    cmd += [spec["suite"], "-", mirror]
    imp = [DOCKER, "import"]
    for c in IMPORT_CHANGES + ["LABEL %s=%s" % (LABEL_RECIPE, recipe_hash(name))]:
        imp += ["-c", c]
    partial = ref + "-partial"   # tagged as ref only once complete
    imp += ["-", partial]
    stop = threading.Event()

    def ticker():
        while not stop.wait(15):
            say("  ... %s still building, %ds" % (name, time.time() - t0))
    tick = threading.Thread(target=ticker, daemon=True)
    tick.start()
    tail = []

    def relay(stream):
        # mmdebstrap's progress, prefixed with the image name (builds may run in parallel)
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            tail.append(line)
            del tail[:-25]
            with _print_lock:
                print("  [%s] %s" % (name, line), file=sys.stderr, flush=True)
    try:
        mm = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ip = subprocess.Popen(imp, stdin=mm.stdout, stdout=subprocess.DEVNULL)
        mm.stdout.close()
        relay_t = threading.Thread(target=relay, args=(mm.stderr,), daemon=True)
        relay_t.start()
        try:
            rc_mm = mm.wait(timeout=900)
            rc_ip = ip.wait(timeout=300)
            relay_t.join(timeout=5)
        except BaseException as e:
            for p in (mm, ip):
                p.terminate()
            for p in (mm, ip):
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
            docker("rmi", partial, check=False)
            if isinstance(e, subprocess.TimeoutExpired):
                raise LabError("image build of %s timed out" % name)
            raise
    finally:
        stop.set()
        os.unlink(hook.name)
    if rc_mm != 0 or rc_ip != 0:
        docker("rmi", partial, check=False)
        raise LabError("building %s failed (mmdebstrap rc=%s, docker import rc=%s); mirror %s "
                       "(LAB_MIRROR). Last output:\n  %s"
                       % (ref, rc_mm, rc_ip, mirror, "\n  ".join(tail[-10:])))
    docker("tag", partial, ref)
    docker("rmi", partial)
    t_build = time.time() - t0
    say("built %s in %.0fs" % (ref, t_build))
    save_cache(name)
    return t_build


def save_cache(name):
    """docker save | gzip -1 into the cache, atomically (a .part file renamed at the end)."""
    ref, tarball = image_ref(name), cache_tarball(name)
    os.makedirs(CACHE, exist_ok=True)
    say("caching %s as %s" % (ref, tarball))
    t1 = time.time()
    tmp = tarball + ".part"
    with open(tmp, "wb") as f:
        sv = subprocess.Popen([DOCKER, "save", ref], stdout=subprocess.PIPE)
        gz = subprocess.Popen(["gzip", "-1"], stdin=sv.stdout, stdout=f)
        sv.stdout.close()
        if sv.wait() != 0 or gz.wait() != 0:
            os.unlink(tmp)
            raise LabError("caching %s failed (docker save | gzip)" % ref)
    os.replace(tmp, tarball)
    say("cached %s (%d MB) in %.0fs" % (tarball, os.path.getsize(tarball) >> 20, time.time() - t1))


def load_image(name):
    ref, tarball = image_ref(name), cache_tarball(name)
    t0 = time.time()
    say("loading %s from cache %s" % (ref, tarball))
    with open(tarball, "rb") as f:
        gz = subprocess.Popen(["gzip", "-dc"], stdin=f, stdout=subprocess.PIPE)
        ld = subprocess.Popen([DOCKER, "load", "-q"], stdin=gz.stdout, stdout=subprocess.DEVNULL)
        gz.stdout.close()
        ok = ld.wait() == 0 and gz.wait() == 0
    if not ok or not image_exists(ref):
        say("cache %s is unusable; removing it and rebuilding" % tarball)
        os.unlink(tarball)
        return False
    say("loaded %s in %.1fs" % (ref, time.time() - t0))
    return True


def ensure_image(name):
    if name not in IMAGES:
        raise LabError("unknown lab image %r: choose one of %s" % (name, ", ".join(sorted(IMAGES))))
    ref = image_ref(name)
    if image_exists(ref):
        if not os.path.exists(cache_tarball(name)):
            save_cache(name)    # e.g. the cache was cleared while the image stayed
        return ref
    if os.path.exists(cache_tarball(name)) and load_image(name):
        return ref
    build_image(name)
    return ref


def ensure_images(names):
    """ensure_image for several images at once (loads and builds run in parallel)."""
    names = sorted(set(names))
    for n in names:
        if n not in IMAGES:
            raise LabError("unknown lab image %r: choose one of %s" % (n, ", ".join(sorted(IMAGES))))
    with concurrent.futures.ThreadPoolExecutor(len(names)) as ex:
        futures = {n: ex.submit(ensure_image, n) for n in names}
        errors = []
        for n, f in futures.items():
            try:
                f.result()
            except LabError as e:
                errors.append(str(e))
    if errors:
        raise LabError("\n".join(errors))
    return {n: image_ref(n) for n in names}


def ensure_test_image():
    if not image_exists(TEST_IMAGE):
        say("building the test image %s" % TEST_IMAGE)
        env = dict(os.environ, DOCKER=DOCKER)
        if subprocess.run(["bash", os.path.join(REPO, "scripts", "test-image.sh")],
                          env=env, check=False).returncode != 0:
            raise LabError("cannot build the test image %s (scripts/test-image.sh)" % TEST_IMAGE)


# ---------------------------------------------------------------------------------------
# parameters and state
# ---------------------------------------------------------------------------------------
def params_from_env():
    raw_hosts = os.environ.get("LAB_HOSTS", "3").strip()
    try:
        n = int(raw_hosts)
    except ValueError:
        raise LabError("LAB_HOSTS=%r is not a number" % raw_hosts)
    if n < 1:
        raise LabError("LAB_HOSTS=%d: a lab needs at least one host" % n)
    if n > MAX_HOSTS:
        raise LabError("LAB_HOSTS=%d: the underlay %s has addresses for %d hosts "
                       "(.%d-.254); use LAB_HOSTS<=%d"
                       % (n, UNDERLAY["subnet"], MAX_HOSTS, HOST_OFFSET + 1, MAX_HOSTS))
    if os.environ.get("LAB_IMAGES", "").strip():
        names = [x.strip() for x in os.environ["LAB_IMAGES"].split(",") if x.strip()]
        what = "LAB_IMAGES"
    else:
        names = [os.environ.get("LAB_IMAGE", "trixie").strip() or "trixie"]
        what = "LAB_IMAGE"
    for x in names:
        if x not in IMAGES:
            raise LabError("%s: unknown lab image %r; choose from %s"
                           % (what, x, ", ".join(sorted(IMAGES))))
    images = [names[i % len(names)] for i in range(n)]
    second = os.environ.get("LAB_SECOND_NIC", "0").strip().lower() in ("1", "yes", "true", "on")
    return {"hosts": n, "images": images, "second_nic": second}


def describe(p):
    return "LAB_HOSTS=%d LAB_IMAGES=%s LAB_SECOND_NIC=%d" % (
        p["hosts"], ",".join(p["images"]), 1 if p["second_nic"] else 0)


def running_params():
    """Parameters of the lab that is up (from the container labels), or None."""
    names = lab_containers()
    if not names:
        return None, []
    out = docker("inspect", "--format", '{{index .Config.Labels "%s"}}' % LABEL_PARAMS, *names)[1]
    seen = {line.strip() for line in out.splitlines() if line.strip()}
    if len(seen) != 1:
        return {"inconsistent": sorted(seen)}, names
    return json.loads(seen.pop()), names


def host_name(i):
    return "%s-%d" % (PREFIX, i)


# ---------------------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------------------
def ensure_ssh_key():
    os.makedirs(SSH_DIR, mode=0o700, exist_ok=True)
    if not os.path.exists(SSH_KEY):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "netfleet-lab",
                        "-f", SSH_KEY], check=True)
    return open(SSH_KEY + ".pub").read()


def authorized_keys_tar(pubkey):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        d = tarfile.TarInfo("root/.ssh")
        d.type, d.mode = tarfile.DIRTYPE, 0o700
        t.addfile(d)
        data = pubkey.encode()
        f = tarfile.TarInfo("root/.ssh/authorized_keys")
        f.size, f.mode = len(data), 0o600
        t.addfile(f, io.BytesIO(data))
    return buf.getvalue()


def create_network(net):
    docker("network", "create", "--driver", "bridge", "--internal",
           "--subnet", net["subnet"], "--gateway", net["gateway"],
           "--label", "%s=1" % LABEL, "-o", "com.docker.network.bridge.enable_ip_masquerade=false",
           net["name"])


def create_host(i, ref, params, keytar):
    name = host_name(i)
    ip = UNDERLAY["prefix"] + str(HOST_OFFSET + i)
    args = ["create", "--name", name, "--hostname", name,
            "--label", "%s=1" % LABEL, "--label", "%s=%s" % (LABEL_PARAMS, json.dumps(params, sort_keys=True)),
            "--label", "%s.index=%d" % (LABEL, i),
            "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
            "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
            "--cgroupns", "private",
            "--tmpfs", "/run:exec", "--tmpfs", "/run/lock", "--tmpfs", "/tmp:exec",
            "--tmpfs", "/var/lib/docker:exec",
            "--stop-signal", "SIGRTMIN+3", "--stop-timeout", "10",
            "-e", "container=docker",
            "--network", UNDERLAY["name"], "--ip", ip, ref]
    docker(*args)
    if params["second_nic"]:
        docker("network", "connect", "--ip", UNDERLAY2["prefix"] + str(HOST_OFFSET + i),
               UNDERLAY2["name"], name)
    docker("cp", "-", name + ":/", input=keytar)
    docker("start", name)
    return name


def wait_host(name, ip, deadline):
    """Wait until systemd has docker.service and ssh.service active and dockerd answers."""
    last = ""
    while time.time() < deadline:
        rc, out, err = docker("exec", name, "sh", "-c",
                              "systemctl is-active docker.service ssh.service >/dev/null && "
                              "docker version --format '{{.Server.Version}}'",
                              check=False, timeout=30)
        if rc == 0 and out.strip():
            break
        last = (out + err).strip()
        time.sleep(0.3)
    else:
        st = docker("exec", name, "sh", "-c",
                    "systemctl is-system-running; systemctl --failed --no-legend; "
                    "journalctl -b -u docker -u ssh --no-pager -n 20", check=False)[1]
        raise LabError("%s did not come up (docker.service/ssh.service): %s\n%s" % (name, last, st))
    version = out.strip()
    while time.time() < deadline:
        try:
            with socket.create_connection((ip, 22), timeout=2) as s:
                s.settimeout(2)
                if s.recv(16).startswith(b"SSH-"):
                    return version
        except OSError:
            pass
        time.sleep(0.2)
    raise LabError("%s: sshd on %s:22 did not answer" % (name, ip))


def host_facts(name):
    out = docker("exec", name, "ip", "-j", "-4", "addr", "show")[1]
    facts = {}
    for link in json.loads(out):
        for a in link.get("addr_info", []):
            if a.get("local", "").startswith(UNDERLAY["prefix"]):
                facts["underlay_if"] = link["ifname"]
            elif a.get("local", "").startswith(UNDERLAY2["prefix"]):
                facts["second_if"] = link["ifname"]
    return facts


def load_test_image(name, path):
    with open(path, "rb") as f:
        p = subprocess.run([DOCKER, "exec", "-i", name, "docker", "load", "-q"], stdin=f,
                           capture_output=True, timeout=120, check=False)
    if p.returncode != 0:
        raise LabError("%s: loading %s failed: %s" % (name, TEST_IMAGE, p.stderr.decode().strip()))


def write_inventory(state):
    lines = ["# Generated by lab/labctl.py up (%s). Do not edit; `make lab-down` removes it."
             % describe(state["params"]), "all:", "  children:", "    lab:", "      hosts:"]
    for h in state["hosts"]:
        lines.append("        %s:" % h["name"])
        for k in ("ansible_host", "lab_underlay_if", "lab_underlay_ip", "lab_second_if",
                  "lab_second_ip", "lab_image", "lab_engine_version", "lab_index"):
            if h.get(k) is not None:
                lines.append("          %s: %s" % (k, json.dumps(h[k])))
    lines += ["      vars:",
              "        ansible_user: root",
              "        ansible_connection: ssh",
              "        ansible_ssh_private_key_file: %s" % json.dumps(SSH_KEY),
              "        ansible_ssh_common_args: \"-o StrictHostKeyChecking=no "
              "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10\"",
              "        ansible_python_interpreter: /usr/bin/python3",
              "        lab_underlay_subnet: %s" % UNDERLAY["subnet"]]
    if state["params"]["second_nic"]:
        lines.append("        lab_second_subnet: %s" % UNDERLAY2["subnet"])
    for img in sorted(set(state["params"]["images"])):
        lines += ["    lab_%s:" % img, "      hosts:"]
        for h in state["hosts"]:
            if h["lab_image"] == img:
                lines.append("        %s: {}" % h["name"])
    tmp = INVENTORY + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, INVENTORY)


def cmd_up():
    t_start = time.time()
    params = params_from_env()
    current, names = running_params()
    if current is not None:
        if current == params and len(names) == params["hosts"]:
            up = lab_containers(all_=False)
            if len(up) == params["hosts"] and os.path.exists(INVENTORY):
                say("lab already up with the same parameters (%s): nothing to do" % describe(params))
                return 0
            why = ("%d of %d hosts running" % (len(up), params["hosts"]) if len(up) != params["hosts"]
                   else "%s is missing" % os.path.relpath(INVENTORY, REPO))
            raise LabError("a lab with these parameters exists but is not usable (%s): run "
                           "`make lab-down` first" % why)
        cur = describe(current) if "hosts" in current else "unknown (%d containers)" % len(names)
        raise LabError("a lab with different parameters is up (%s); requested %s. Nothing was "
                       "changed: run `make lab-down` first, or ask for the same parameters."
                       % (cur, describe(params)))
    stale = lab_networks()
    if stale:
        raise LabError("lab networks exist without lab hosts (%s): run `make lab-down` first"
                       % ", ".join(stale))
    # images first: nothing exists on the outer engine until they are ready
    refs = ensure_images(params["images"])
    ensure_test_image()
    t_images = time.time() - t_start
    pub = ensure_ssh_key()
    keytar = authorized_keys_tar(pub)
    t0 = time.time()
    say("bringing up %s" % describe(params))
    try:
        create_network(UNDERLAY)
        if params["second_nic"]:
            create_network(UNDERLAY2)
        n = params["hosts"]
        workers = min(8, n)
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            list(ex.map(lambda i: create_host(i, refs[params["images"][i - 1]], params, keytar),
                        range(1, n + 1)))
        deadline = time.time() + float(os.environ.get("LAB_BOOT_TIMEOUT", "90"))
        ips = {host_name(i): UNDERLAY["prefix"] + str(HOST_OFFSET + i) for i in range(1, n + 1)}
        with concurrent.futures.ThreadPoolExecutor(min(16, n)) as ex:
            versions = dict(zip(ips, ex.map(lambda nm: wait_host(nm, ips[nm], deadline), ips)))
        t_boot = time.time() - t0
        with tempfile.NamedTemporaryFile(suffix=".tar") as tf:
            subprocess.run([DOCKER, "save", TEST_IMAGE], stdout=tf, check=True)
            tf.flush()
            with concurrent.futures.ThreadPoolExecutor(min(8, n)) as ex:
                list(ex.map(lambda nm: load_test_image(nm, tf.name), ips))
            with concurrent.futures.ThreadPoolExecutor(min(8, n)) as ex:
                facts = dict(zip(ips, ex.map(host_facts, ips)))
        hosts = []
        for i in range(1, n + 1):
            nm = host_name(i)
            h = {"name": nm, "lab_index": i, "ansible_host": ips[nm], "lab_underlay_ip": ips[nm],
                 "lab_underlay_if": facts[nm].get("underlay_if"), "lab_image": params["images"][i - 1],
                 "image_ref": refs[params["images"][i - 1]], "lab_engine_version": versions[nm]}
            if params["second_nic"]:
                h["lab_second_ip"] = UNDERLAY2["prefix"] + str(HOST_OFFSET + i)
                h["lab_second_if"] = facts[nm].get("second_if")
            hosts.append(h)
        state = {"params": params, "hosts": hosts, "ssh_key": SSH_KEY, "inventory": INVENTORY,
                 "networks": [UNDERLAY] + ([UNDERLAY2] if params["second_nic"] else []),
                 "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "timings": {"images_s": round(t_images, 2), "boot_s": round(t_boot, 2),
                             "up_s": round(time.time() - t0, 2)}}
        os.makedirs(STATE_DIR, exist_ok=True)
        with open(STATE_FILE, "w") as f:
            json.dump(state, f, indent=2)
        write_inventory(state)
    except BaseException:
        say("bring-up failed: removing what was created")
        teardown(quiet=True)
        raise
    for h in hosts:
        say("  %-16s %-12s %-9s docker %s"
            % (h["name"], h["ansible_host"], h["lab_image"], h["lab_engine_version"]))
    say("lab up in %.1fs (hosts booted in %.1fs; images ready in %.1fs); inventory: %s"
        % (time.time() - t0, t_boot, t_images, os.path.relpath(INVENTORY, REPO)))
    return 0


# ---------------------------------------------------------------------------------------
# down / status
# ---------------------------------------------------------------------------------------
def teardown(quiet=False):
    t0 = time.time()
    names = lab_containers()
    if names:
        # systemd stops on SIGRTMIN+3; rm -f would SIGKILL and may leave the inner engine's
        # mounts busy.  Stop in parallel with a short timeout, then remove.
        docker("stop", "-t", "5", *names, check=False, timeout=120)
        docker("rm", "-f", "-v", *names, check=False, timeout=120)
    nets = lab_networks()
    if nets:
        docker("network", "rm", *nets, check=False)
    left = lab_containers() + lab_networks()
    for p in (STATE_FILE, INVENTORY):
        if os.path.exists(p):
            os.unlink(p)
    if os.path.isdir(SSH_DIR):
        shutil.rmtree(SSH_DIR)
    if left:
        raise LabError("could not remove: %s" % ", ".join(left))
    if not quiet:
        if names or nets:
            say("lab down in %.1fs (removed %d hosts, %d networks)"
                % (time.time() - t0, len(names), len(nets)))
        else:
            say("no lab is up: nothing to do")
    return 0


def cmd_status():
    current, names = running_params()
    if current is None:
        say("no lab is up")
        return 0
    say("lab up: %s" % (describe(current) if "hosts" in current else current))
    out = docker("ps", "-a", "--filter", "label=%s=1" % LABEL, "--format",
                 "{{.Names}}\t{{.Status}}\t{{.Image}}")[1]
    for line in sorted(out.splitlines()):
        say("  " + line)
    if os.path.exists(STATE_FILE):
        st = json.load(open(STATE_FILE))
        for h in st["hosts"]:
            say("  %-16s %-12s if=%s docker %s"
                % (h["name"], h["ansible_host"], h["lab_underlay_if"], h["lab_engine_version"]))
        say("inventory: %s" % os.path.relpath(INVENTORY, REPO))
    return 0


def cmd_image(which):
    names = sorted(IMAGES) if which == "all" else [which]
    for n in names:
        if n not in IMAGES:
            raise LabError("unknown lab image %r: choose one of %s, all" % (n, ", ".join(sorted(IMAGES))))
    t0 = time.time()
    for n, ref in ensure_images(names).items():
        say("image %s ready (cache %s)" % (ref, cache_tarball(n)))
    say("images ready in %.1fs" % (time.time() - t0))
    return 0


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    cmd = argv[1]
    try:
        if cmd == "up":
            return cmd_up()
        if cmd == "down":
            return teardown()
        if cmd == "status":
            return cmd_status()
        if cmd == "image":
            return cmd_image(argv[2] if len(argv) > 2 else os.environ.get("LAB_IMAGE", "trixie"))
        if cmd == "image-ref":
            print(image_ref(argv[2]))
            return 0
        if cmd == "params":
            print(json.dumps(params_from_env()))
            return 0
    except LabError as e:
        print("lab: ERROR: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print("usage: labctl.py image|up|down|status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
