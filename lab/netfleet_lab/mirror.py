"""Which Debian mirror an image is built from, and whether it answers."""

import glob
import os
import re
import urllib.error
import urllib.request

from . import settings
from .engine import LabError

DEBIAN_SUITES = r"(bookworm|trixie|forky|sid|unstable|testing|stable|oldstable)"


def apt_sources():
    """(uri, [suites]) of every Debian source apt on this machine has (deb822 and one-line)."""
    sources = []
    for path in glob.glob("/etc/apt/sources.list.d/*.sources"):
        for stanza in re.split(r"\n\s*\n", _read(path)):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            types = re.search(r"^Types:\s*(.+)$", stanza, re.M)
            if uris and suites and (not types or "deb" in types.group(1).split()):
                sources.append((uris.group(1).rstrip("/"), suites.group(1).split()))
    for path in ["/etc/apt/sources.list"] + glob.glob("/etc/apt/sources.list.d/*.list"):
        for line in _read(path).splitlines():
            m = re.match(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)\s", line)
            if m:
                sources.append((m.group(1).rstrip("/"), [m.group(2)]))
    return sources


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


def default_mirror(suite):
    """LAB_MIRROR, else the apt source that lists `suite` itself (a machine may have e.g.
    forky as a source of its own), else any Debian release source (the same mirror serves
    every suite)."""
    if os.environ.get("LAB_MIRROR"):
        return os.environ["LAB_MIRROR"].rstrip("/")
    sources = apt_sources()
    for uri, suites in sources:
        if suite in suites:
            return uri
    for uri, suites in sources:
        if any(re.fullmatch(DEBIAN_SUITES, s) for s in suites):
            return uri
    raise LabError("no Debian mirror found in /etc/apt/sources*; set LAB_MIRROR=http://.../debian")


def check_mirror(mirror, suite):
    """Fail at once, naming the URL and what to set, when the mirror does not answer."""
    timeout = settings.env_float("LAB_MIRROR_TIMEOUT", "10")
    url = "%s/dists/%s/InRelease" % (mirror, suite)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            r.read(64)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise LabError("Debian mirror not reachable: %s (%s). The lab image is built from Debian "
                       "packages; point LAB_MIRROR at a reachable mirror (it is read from "
                       "/etc/apt/sources* by default)." % (url, getattr(e, "reason", e)))
