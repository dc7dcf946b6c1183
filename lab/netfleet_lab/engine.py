"""The outer Docker engine, through its CLI; the lab's one error type and progress lines."""

import subprocess
import threading

from . import settings

_print_lock = threading.Lock()


class LabError(Exception):
    """A failure the user can act on: printed as `lab: ERROR: <message>`, exit 1."""


def say(msg):
    """A progress line (thread-safe: images build and hosts boot in parallel)."""
    with _print_lock:
        print("[lab] " + msg, flush=True)


def relay_line(prefix, line, stream):
    """A line of a child's output, prefixed, without interleaving with say()."""
    with _print_lock:
        print("  [%s] %s" % (prefix, line), file=stream, flush=True)


def docker(*args, check=True, input=None, timeout=120):  # pylint: disable=redefined-builtin
    """Run the docker CLI; (rc, stdout, stderr).  check=True turns a failure into LabError."""
    try:
        p = subprocess.run([settings.DOCKER] + list(args), input=input, capture_output=True,
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
    """Names of containers labelled as lab-owned (all_=False: running ones only)."""
    args = ["ps", "--filter", "label=%s=1" % settings.LABEL, "--format", "{{.Names}}"]
    if all_:
        args.insert(1, "-a")
    out = docker(*args)[1]
    return sorted(out.split(), key=lambda n: (len(n), n))


def lab_networks():
    out = docker("network", "ls", "--filter", "label=%s=1" % settings.LABEL,
                 "--format", "{{.Name}}")[1]
    return sorted(out.split())
