"""labctl: a fleet of Docker hosts on one machine (the netfleet.docker lab).

Each lab host is a NON-privileged container on the outer Docker engine with systemd as
PID 1, its own inner dockerd (overlay2 on a tmpfs), sshd and etcd installed.  Images are
built from Debian packages (mmdebstrap | docker import, no registry) and cached as a
gzip'ed `docker save` tarball named after a hash of the recipe.

    labctl.py image [forky|trixie|bookworm|all]   build or load the lab image(s)
    labctl.py up                                   bring the lab up (idempotent)
    labctl.py down                                 remove everything labelled as lab-owned
    labctl.py status                               print the running lab

Parameters come from the environment (the Makefile exports them):
    LAB_HOSTS=3              number of hosts (1..244)
    LAB_IMAGE=trixie         image for every host: forky (Docker 28.5) | trixie (26.1) | bookworm (20.10)
    LAB_IMAGES=a,b,...       per-host images, cycled over LAB_HOSTS (overrides LAB_IMAGE)
    LAB_SECOND_NIC=0|1       give every host a second underlay NIC (10.231.1.0/24)
    LAB_SWITCH=0|1           give every host a port (sw0) on a plain Linux bridge of the outer host,
                             nflab-sw0, that carries any subnet between the hosts (lab/netfleet_lab/switch.py)
    LAB_MIRROR=URL           Debian mirror for image builds (default: from /etc/apt/sources*)
    LAB_MIRROR_TIMEOUT=10    seconds to wait for the mirror before failing
    LAB_BOOT_TIMEOUT=90      seconds for the hosts to boot (docker.service, sshd)
    NETFLEET_CACHE=DIR       image tarball cache (default /var/cache/netfleet)
    LAB_DOCKER=/usr/bin/docker

Run it with the project venv: .venv/bin/python lab/labctl.py up  (no shebang: ansible-test
sanity allows only a few; it is always run by an explicit interpreter).  The code is the
package lab/netfleet_lab/, the shell that runs in the images is in lab/image/.
"""

import json
import os
import sys
import time

from . import recipe, settings, state
from .engine import LabError, docker, say
from .hosts import bring_up, teardown
from .images import ensure_images


def cmd_status():
    current, _names = state.running_params()
    if current is None:
        say("no lab is up")
        return 0
    say("lab up: %s" % (state.describe(current) if "hosts" in current else current))
    out = docker("ps", "-a", "--filter", "label=%s=1" % settings.LABEL, "--format",
                 "{{.Names}}\t{{.Status}}\t{{.Image}}")[1]
    for line in sorted(out.splitlines()):
        say("  " + line)
    lab = state.read_state()
    if lab:
        for h in lab["hosts"]:
            say("  %-16s %-12s if=%s docker %s"
                % (h["name"], h["ansible_host"], h["lab_underlay_if"], h["lab_engine_version"]))
        say("inventory: %s" % os.path.relpath(settings.INVENTORY, settings.REPO))
    return 0


def cmd_image(which):
    names = sorted(recipe.IMAGES) if which == "all" else [which]
    for n in names:
        if n not in recipe.IMAGES:
            raise LabError("unknown lab image %r: choose one of %s, all" % (n, ", ".join(sorted(recipe.IMAGES))))
    t0 = time.time()
    for n, ref in ensure_images(names).items():
        say("image %s ready (cache %s)" % (ref, recipe.cache_tarball(n, ref.rsplit(":", 1)[1])))
    say("images ready in %.1fs" % (time.time() - t0))
    return 0


COMMANDS = {
    "up": lambda argv: bring_up(),
    "down": lambda argv: teardown(),
    "status": lambda argv: cmd_status(),
    "image": lambda argv: cmd_image(argv[2] if len(argv) > 2 else os.environ.get("LAB_IMAGE", settings.DEFAULT_IMAGE)),
    "image-ref": lambda argv: print(recipe.image_ref(argv[2])) or 0,
    "params": lambda argv: print(json.dumps(state.params_from_env())) or 0,
}


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    command = COMMANDS.get(argv[1])
    if command is None:
        print("usage: labctl.py image|up|down|status", file=sys.stderr)
        return 2
    try:
        return command(argv)
    except LabError as e:
        print("lab: ERROR: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
