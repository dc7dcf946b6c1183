"""The lab's parameters: asked for (the environment), and up (labels of the running hosts);
the state file of a running lab."""

import json
import os

from . import recipe, settings
from .engine import LabError, docker, lab_containers

TRUE_WORDS = ("1", "yes", "true", "on")


def hosts_from_env():
    raw = os.environ.get("LAB_HOSTS", "3").strip()
    try:
        n = int(raw)
    except ValueError:
        raise LabError("LAB_HOSTS=%r is not a number" % raw)
    if n < 1:
        raise LabError("LAB_HOSTS=%d: a lab needs at least one host" % n)
    if n > settings.MAX_HOSTS:
        raise LabError("LAB_HOSTS=%d: the underlay %s has addresses for %d hosts "
                       "(.%d-.254); use LAB_HOSTS<=%d"
                       % (n, settings.UNDERLAY["subnet"], settings.MAX_HOSTS,
                          settings.HOST_OFFSET + 1, settings.MAX_HOSTS))
    return n


def images_from_env():
    """The image names asked for: LAB_IMAGES (per host, cycled) or LAB_IMAGE."""
    if os.environ.get("LAB_IMAGES", "").strip():
        names = [x.strip() for x in os.environ["LAB_IMAGES"].split(",") if x.strip()]
        what = "LAB_IMAGES"
    else:
        names = [os.environ.get("LAB_IMAGE", settings.DEFAULT_IMAGE).strip() or settings.DEFAULT_IMAGE]
        what = "LAB_IMAGE"
    for x in names:
        if x not in recipe.IMAGES:
            raise LabError("%s: unknown lab image %r; choose from %s"
                           % (what, x, ", ".join(sorted(recipe.IMAGES))))
    return names


def params_from_env():
    n = hosts_from_env()
    names = images_from_env()
    images = [names[i % len(names)] for i in range(n)]
    second = os.environ.get("LAB_SECOND_NIC", "0").strip().lower() in TRUE_WORDS
    params = {"hosts": n, "images": images, "second_nic": second}
    # only when asked for: the parameters (and labels) of a lab without the switch stay as they were
    if os.environ.get("LAB_SWITCH", "0").strip().lower() in TRUE_WORDS:
        params["switch"] = True
    return params


def describe(p):
    return "LAB_HOSTS=%d LAB_IMAGES=%s LAB_SECOND_NIC=%d%s" % (
        p["hosts"], ",".join(p["images"]), 1 if p["second_nic"] else 0, " LAB_SWITCH=1" if p.get("switch") else "")


def running_params():
    """Parameters of the lab that is up (from the container labels), or None; and its hosts."""
    names = lab_containers()
    if not names:
        return None, []
    out = docker("inspect", "--format", '{{index .Config.Labels "%s"}}' % settings.LABEL_PARAMS, *names)[1]
    seen = {line.strip() for line in out.splitlines() if line.strip()}
    if len(seen) != 1:
        return {"inconsistent": sorted(seen)}, names
    return json.loads(seen.pop()), names


def host_name(i):
    return "%s-%d" % (settings.PREFIX, i)


def host_ip(i, underlay=None):
    return (underlay or settings.UNDERLAY)["prefix"] + str(settings.HOST_OFFSET + i)


def write_state(state):
    os.makedirs(settings.STATE_DIR, exist_ok=True)
    with open(settings.STATE_FILE, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=2)


def read_state():
    """The state file of the running lab, or None."""
    if not os.path.exists(settings.STATE_FILE):
        return None
    with open(settings.STATE_FILE, encoding="utf-8") as f:
        return json.load(f)
