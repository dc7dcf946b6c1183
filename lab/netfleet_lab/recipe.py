"""What a lab image is made of.

Everything that shapes an image is in recipe(): the Debian suite, the packages, apt options,
the files of lab/image/ (customize hook, entrypoint, sshd drop-in), dpkg excludes, import
changes and the Docker SDK version.  It is hashed into the image tag, its label and the cache
tarball name: change any of it and the image is rebuilt.
"""

import glob
import hashlib
import json
import os

from . import settings
from .engine import LabError

COMMON_PACKAGES = [
    "docker.io", "etcd-server", "python3", "python3-requests", "python3-urllib3",
    "python3-netaddr", "python3-yaml",
    "iproute2", "iptables", "systemd", "systemd-sysv", "openssh-server", "tcpdump",
    "iputils-ping", "procps", "kmod", "ca-certificates", "curl", "netcat-openbsd", "ethtool",
    "mount", "less",
]

# engine: the Docker version the image gives (the lab tests assert it).
# apt_options: extra apt settings for the build (given to mmdebstrap as --aptopt).
IMAGES = {
    "bookworm": {"suite": "bookworm", "packages": COMMON_PACKAGES, "engine": "20.10"},
    # in trixie and forky docker-cli is only a Recommends of docker.io
    "trixie": {"suite": "trixie", "packages": COMMON_PACKAGES + ["docker-cli"], "engine": "26.1"},
    # forky (testing): the mirror's Release file is past its Valid-Until between snapshots;
    # its systemd needs cgroup v2 (lab/image/netfleet-lab-init.sh mounts it)
    "forky": {"suite": "forky", "packages": COMMON_PACKAGES + ["docker-cli"], "engine": "28.5",
              "apt_options": ['Acquire::Check-Valid-Until "false"']},
}

DPKG_OPTS = [
    "path-exclude=/usr/share/man/*", "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/info/*",
]
IMPORT_CHANGES = [
    'ENTRYPOINT ["/usr/local/sbin/netfleet-lab-init"]',
    "ENV container=docker",
]   # docker import refuses STOPSIGNAL: the stop signal is given at `docker create`
RECIPE_VERSION = 2   # 2: the image's shell moved to lab/image/ (cgroup2 for systemd >= 258)
CUSTOMIZE_HOOK = os.path.join(settings.IMAGE_FILES_DIR, "customize.sh")


def check_name(name, what="lab image"):
    if name not in IMAGES:
        raise LabError("unknown %s %r: choose one of %s" % (what, name, ", ".join(sorted(IMAGES))))
    return IMAGES[name]


def image_files():
    """{file name: content} of lab/image/: what the customize hook puts into every image."""
    files = {}
    for path in sorted(glob.glob(os.path.join(settings.IMAGE_FILES_DIR, "*"))):
        with open(path, encoding="utf-8") as f:
            files[os.path.basename(path)] = f.read()
    return files


def venv_docker_sdk():
    """The Docker SDK for Python of the project venv (pure Python, pinned in requirements.txt):
    (version, [package dir, dist-info dir]).

    Debian ships python3-docker 5.0; the collection needs >= 7.1 on the managed host, so the
    venv's copy goes into /usr/local/lib/python3.X/dist-packages of the image (it runs on
    Debian's python3-requests and python3-urllib3)."""
    import docker as sdk  # pylint: disable=import-outside-toplevel  # the venv's, only when building
    pkg = os.path.dirname(os.path.abspath(sdk.__file__))
    site = os.path.dirname(pkg)
    dist = glob.glob(os.path.join(site, "docker-%s.dist-info" % sdk.__version__))
    if not dist:
        raise LabError("cannot find the dist-info of the Docker SDK %s in %s" % (sdk.__version__, site))
    return sdk.__version__, [pkg, dist[0]]


def recipe(name):
    spec = check_name(name)
    r = {"version": RECIPE_VERSION, "name": name, "suite": spec["suite"],
         "variant": "required", "packages": sorted(spec["packages"]),
         "apt_options": spec.get("apt_options", []), "files": image_files(),
         "dpkg": DPKG_OPTS, "changes": IMPORT_CHANGES, "docker_sdk": venv_docker_sdk()[0]}
    if os.environ.get("LAB_RECIPE_SALT"):
        # tests set it to get a recipe that is neither built nor cached
        r["salt"] = os.environ["LAB_RECIPE_SALT"]
    return r


def recipe_hash(name):
    blob = json.dumps(recipe(name), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def image_ref(name):
    return "netfleet/lab-%s:%s" % (name, recipe_hash(name))


def cache_tarball(name, digest=None):
    """The cache tarball of image `name` (digest: the recipe hash, when the caller has it)."""
    return os.path.join(settings.CACHE, "lab-%s-%s.tar.gz" % (name, digest or recipe_hash(name)))
