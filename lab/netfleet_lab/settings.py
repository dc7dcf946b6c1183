"""Paths, names, addresses, and the environment variables the lab reads."""

import os

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(LAB_DIR)
IMAGE_FILES_DIR = os.path.join(LAB_DIR, "image")      # shell and config copied into images
STATE_DIR = os.path.join(LAB_DIR, "state")
STATE_FILE = os.path.join(STATE_DIR, "lab.json")
INVENTORY = os.path.join(LAB_DIR, "inventory.yml")
SSH_DIR = os.path.join(LAB_DIR, ".ssh")
SSH_KEY = os.path.join(SSH_DIR, "id_ed25519")
TEST_IMAGE_SCRIPT = os.path.join(REPO, "scripts", "test-image.sh")

DOCKER = os.environ.get("LAB_DOCKER", "/usr/bin/docker")
CACHE = os.environ.get("NETFLEET_CACHE") or "/var/cache/netfleet"
TEST_IMAGE = os.environ.get("TEST_IMAGE", "netfleet/busybox:latest")
DEFAULT_IMAGE = "trixie"                   # LAB_IMAGE when unset (`make demo` asks for forky)

LABEL = "netfleet.lab"                     # every lab object carries LABEL=1
LABEL_PARAMS = "netfleet.lab.params"       # JSON of the parameters the lab was made with
LABEL_RECIPE = "netfleet.lab.recipe"       # recipe hash, on images
PREFIX = "netfleet-lab"
UNDERLAY = {"name": PREFIX + "-underlay", "subnet": "10.231.0.0/24", "gateway": "10.231.0.1",
            "prefix": "10.231.0."}
UNDERLAY2 = {"name": PREFIX + "-underlay2", "subnet": "10.231.1.0/24", "gateway": "10.231.1.1",
             "prefix": "10.231.1."}
# LAB_SWITCH=1: a plain Linux bridge on the outer host (lab/netfleet_lab/switch.py), any subnet
SWITCH = {"bridge": "nflab-sw0", "inner_if": "sw0"}
HOST_OFFSET = 10                           # host i = .(10+i)
MAX_HOSTS = 254 - HOST_OFFSET              # .11 .. .254


def env_float(name, default):
    """A number of seconds from the environment (LAB_BOOT_TIMEOUT, LAB_MIRROR_TIMEOUT)."""
    return float(os.environ.get(name, default))
