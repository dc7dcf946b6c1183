"""Lab images: built from Debian packages (mmdebstrap | docker import, no registry), cached as
a gzip'ed `docker save` tarball named after the recipe hash, loaded from it when present."""

import concurrent.futures
import os
import shlex
import subprocess
import sys
import threading
import time

from . import mirror, recipe, settings
from .engine import LabError, docker, image_exists, relay_line, say

BUILD_TIMEOUT = 900       # mmdebstrap
IMPORT_TIMEOUT = 300      # docker import, after mmdebstrap has finished


def mmdebstrap_command(name, mirror_url):
    spec = recipe.IMAGES[name]
    cmd = ["mmdebstrap", "--mode=root", "--variant=required", "--format=tar",
           "--include=" + ",".join(spec["packages"]),
           "--aptopt=Acquire::Retries \"0\"", "--aptopt=Acquire::http::Timeout \"20\"",
           "--aptopt=Acquire::https::Timeout \"20\""]
    cmd += ["--aptopt=" + o for o in spec.get("apt_options", [])]
    # mmdebstrap runs the hook with "$1" = the root directory being built
    quoted = [shlex.quote(a) for a in [settings.IMAGE_FILES_DIR] + recipe.venv_docker_sdk()[1]]
    cmd += ["--customize-hook=sh %s \"$1\" %s" % (shlex.quote(recipe.CUSTOMIZE_HOOK), " ".join(quoted))]
    cmd += ["--dpkgopt=" + o for o in recipe.DPKG_OPTS]
    return cmd + [spec["suite"], "-", mirror_url]


def import_command(ref, tag):
    cmd = [settings.DOCKER, "import"]
    for c in recipe.IMPORT_CHANGES + ["LABEL %s=%s" % (settings.LABEL_RECIPE, ref.rsplit(":", 1)[1])]:
        cmd += ["-c", c]
    return cmd + ["-", tag]


class Progress:
    """An elapsed-time line every 15 s, and mmdebstrap's output relayed with the image name
    (builds run in parallel); keeps the last lines for the error message."""

    def __init__(self, name):
        self.name, self.t0, self.tail = name, time.time(), []
        self.stop = threading.Event()
        threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self):
        while not self.stop.wait(15):
            say("  ... %s still building, %ds" % (self.name, time.time() - self.t0))

    def relay(self, stream):
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self.tail.append(line)
            del self.tail[:-25]
            relay_line(self.name, line, sys.stderr)


def run_pipeline(name, build_cmd, import_cmd, partial):
    """mmdebstrap | docker import; (rc of mmdebstrap, rc of import, last output lines).
    Interrupted or timed out: both are stopped and the partial image removed."""
    progress = Progress(name)
    try:
        mm = subprocess.Popen(build_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        imp = subprocess.Popen(import_cmd, stdin=mm.stdout, stdout=subprocess.DEVNULL)
        mm.stdout.close()
        relay = threading.Thread(target=progress.relay, args=(mm.stderr,), daemon=True)
        relay.start()
        try:
            rc_mm = mm.wait(timeout=BUILD_TIMEOUT)
            rc_imp = imp.wait(timeout=IMPORT_TIMEOUT)
            relay.join(timeout=5)
        except BaseException as e:
            stop_processes(mm, imp)
            docker("rmi", partial, check=False)
            if isinstance(e, subprocess.TimeoutExpired):
                raise LabError("image build of %s timed out" % name)
            raise
    finally:
        progress.stop.set()
    return rc_mm, rc_imp, progress.tail


def stop_processes(*procs):
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def build_image(name, ref, tarball):
    """Build `ref` (the recipe's hash is taken once, by the caller: a file of lab/image/ edited
    during the build must not change the name it is tagged and cached under)."""
    suite = recipe.IMAGES[name]["suite"]
    mirror_url = mirror.default_mirror(suite)
    mirror.check_mirror(mirror_url, suite)
    os.makedirs(settings.CACHE, exist_ok=True)
    say("building %s from Debian %s packages (mmdebstrap | docker import); ~1 minute" % (ref, suite))
    t0 = time.time()
    partial = ref + "-partial"   # tagged as ref only once complete
    rc_mm, rc_imp, tail = run_pipeline(name, mmdebstrap_command(name, mirror_url),
                                       import_command(ref, partial), partial)
    if rc_mm != 0 or rc_imp != 0:
        docker("rmi", partial, check=False)
        raise LabError("building %s failed (mmdebstrap rc=%s, docker import rc=%s); mirror %s "
                       "(LAB_MIRROR). Last output:\n  %s"
                       % (ref, rc_mm, rc_imp, mirror_url, "\n  ".join(tail[-10:])))
    docker("tag", partial, ref)
    docker("rmi", partial)
    t_build = time.time() - t0
    say("built %s in %.0fs" % (ref, t_build))
    save_cache(ref, tarball)
    return t_build


def save_cache(ref, tarball):
    """docker save | gzip -1 into the cache, atomically (a .part file renamed at the end)."""
    os.makedirs(settings.CACHE, exist_ok=True)
    say("caching %s as %s" % (ref, tarball))
    t1 = time.time()
    tmp = tarball + ".part"
    with open(tmp, "wb") as f:
        sv = subprocess.Popen([settings.DOCKER, "save", ref], stdout=subprocess.PIPE)
        gz = subprocess.Popen(["gzip", "-1"], stdin=sv.stdout, stdout=f)
        sv.stdout.close()
        if sv.wait() != 0 or gz.wait() != 0:
            os.unlink(tmp)
            raise LabError("caching %s failed (docker save | gzip)" % ref)
    os.replace(tmp, tarball)
    say("cached %s (%d MB) in %.0fs" % (tarball, os.path.getsize(tarball) >> 20, time.time() - t1))


def load_image(ref, tarball):
    """Load the cached tarball; False (and the tarball removed) when it is unusable."""
    t0 = time.time()
    say("loading %s from cache %s" % (ref, tarball))
    with open(tarball, "rb") as f:
        gz = subprocess.Popen(["gzip", "-dc"], stdin=f, stdout=subprocess.PIPE)
        ld = subprocess.Popen([settings.DOCKER, "load", "-q"], stdin=gz.stdout, stdout=subprocess.DEVNULL)
        gz.stdout.close()
        ok = ld.wait() == 0 and gz.wait() == 0
    if not ok or not image_exists(ref):
        say("cache %s is unusable; removing it and rebuilding" % tarball)
        os.unlink(tarball)
        return False
    say("loaded %s in %.1fs" % (ref, time.time() - t0))
    return True


def ensure_image(name):
    """The image in the outer engine: already there, loaded from the cache, or built."""
    recipe.check_name(name)
    ref, tarball = recipe.image_ref(name), recipe.cache_tarball(name)
    if image_exists(ref):
        if not os.path.exists(tarball):
            save_cache(ref, tarball)    # e.g. the cache was cleared while the image stayed
        return ref
    if os.path.exists(tarball) and load_image(ref, tarball):
        return ref
    build_image(name, ref, tarball)
    return ref


def ensure_images(names):
    """ensure_image for several images at once (loads and builds run in parallel)."""
    names = sorted(set(names))
    for n in names:
        recipe.check_name(n)
    with concurrent.futures.ThreadPoolExecutor(len(names)) as ex:
        futures = {n: ex.submit(ensure_image, n) for n in names}
        refs, errors = {}, []
        for n, f in futures.items():
            try:
                refs[n] = f.result()
            except LabError as e:
                errors.append(str(e))
    if errors:
        raise LabError("\n".join(errors))
    return refs


def ensure_test_image():
    if not image_exists(settings.TEST_IMAGE):
        say("building the test image %s" % settings.TEST_IMAGE)
        env = dict(os.environ, DOCKER=settings.DOCKER)
        if subprocess.run(["bash", settings.TEST_IMAGE_SCRIPT], env=env, check=False).returncode != 0:
            raise LabError("cannot build the test image %s (scripts/test-image.sh)" % settings.TEST_IMAGE)
