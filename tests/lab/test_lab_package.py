"""Tests of the lab package (lab/netfleet_lab) and its shell (lab/image) that need no engine:
the recipe, the mirror choice, and the entrypoint's cgroup decision run against fakes."""

import os
import shutil
import stat
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE_DIR = os.path.join(REPO, "lab", "image")
sys.path.insert(0, os.path.join(REPO, "lab"))

from netfleet_lab import mirror, recipe, settings  # noqa: E402  pylint: disable=wrong-import-position


def test_every_image_file_passes_shellcheck():
    scripts = sorted(os.path.join(IMAGE_DIR, f) for f in os.listdir(IMAGE_DIR) if f.endswith(".sh"))
    assert len(scripts) >= 2
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (scripts/install-deps.sh installs it)")
    p = subprocess.run(["shellcheck"] + scripts, capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stdout


def test_recipe_covers_the_image_files(tmp_path, monkeypatch):
    monkeypatch.delenv("LAB_RECIPE_SALT", raising=False)
    before = recipe.recipe_hash("forky")
    copy = tmp_path / "image"
    shutil.copytree(IMAGE_DIR, copy)
    monkeypatch.setattr(settings, "IMAGE_FILES_DIR", str(copy))
    assert recipe.recipe_hash("forky") == before
    with open(copy / "ssh-keygen.conf", "a", encoding="utf-8") as f:
        f.write("# changed\n")
    assert recipe.recipe_hash("forky") != before


def test_images_and_engines():
    assert {n: s["engine"] for n, s in recipe.IMAGES.items()} == {
        "bookworm": "20.10", "trixie": "26.1", "forky": "28.5"}
    forky = recipe.recipe("forky")
    assert forky["apt_options"] == ['Acquire::Check-Valid-Until "false"']
    assert "docker-cli" in forky["packages"]
    assert recipe.recipe("trixie")["apt_options"] == []


MIRROR_CASES = [
    # (sources, suite, expected mirror)
    ([("http://a/debian", ["bookworm", "bookworm-updates"])], "forky", "http://a/debian"),
    ([("http://a/debian", ["bookworm"]), ("http://f/debian", ["forky"])], "forky", "http://f/debian"),
    ([("http://a/debian", ["bookworm"]), ("http://f/debian", ["forky"])], "trixie", "http://a/debian"),
    ([("http://s/debian-security", ["bookworm-security"]), ("http://a/debian", ["trixie"])],
     "bookworm", "http://a/debian"),
]


@pytest.mark.parametrize("sources,suite,expected", MIRROR_CASES)
def test_mirror_prefers_a_source_of_the_suite(sources, suite, expected, monkeypatch):
    monkeypatch.delenv("LAB_MIRROR", raising=False)
    monkeypatch.setattr(mirror, "apt_sources", lambda: sources)
    assert mirror.default_mirror(suite) == expected


def test_no_debian_source_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("LAB_MIRROR", raising=False)
    monkeypatch.setattr(mirror, "apt_sources", lambda: [("http://x/apt", ["nodistro"])])
    with pytest.raises(recipe.LabError, match="LAB_MIRROR"):
        mirror.default_mirror("forky")


# --- the entrypoint, with fake mount/umount/stat/systemd/init on PATH ------------------------

V1_MOUNTS = """\
sysfs /sys sysfs ro 0 0
tmpfs {root} tmpfs ro 0 0
cgroup {root}/systemd cgroup ro 0 0
cgroup {root}/cpu,cpuacct cgroup ro 0 0
cgroup {root}/memory cgroup ro 0 0
cgroup2 {root}/unified cgroup2 ro 0 0
proc /proc/sys proc ro 0 0
"""


def fake(path, body):
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run_entrypoint(tmp_path, fs_type, systemd_version):
    root = "/sys/fs/cgroup"
    log = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("mount", "umount"):
        fake(bin_dir / tool, 'echo "%s $*" >> %s\n' % (tool, log))
    fake(bin_dir / "stat", "echo %s\n" % fs_type)
    fake(tmp_path / "systemd", "echo 'systemd %s (%s-1)'\n" % (systemd_version, systemd_version))
    fake(tmp_path / "init", 'echo "init $*" >> %s\n' % log)
    (tmp_path / "mounts").write_text(V1_MOUNTS.format(root=root))
    env = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]),
               NETFLEET_LAB_MOUNTS=str(tmp_path / "mounts"), NETFLEET_LAB_SYSTEMD=str(tmp_path / "systemd"),
               NETFLEET_LAB_INIT=str(tmp_path / "init"))
    p = subprocess.run(["sh", os.path.join(IMAGE_DIR, "netfleet-lab-init.sh"), "--arg"], env=env,
                       capture_output=True, text=True, check=False, timeout=30)
    assert p.returncode == 0, p.stderr
    return log.read_text().splitlines(), p.stderr


def test_entrypoint_mounts_cgroup2_for_a_systemd_without_v1(tmp_path):
    calls, stderr = run_entrypoint(tmp_path, "tmpfs", 262)
    umounts = [c.split()[1] for c in calls if c.startswith("umount ")]
    assert umounts[-1] == "/sys/fs/cgroup"
    assert set(umounts[:-1]) == {"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/cpu,cpuacct",
                                 "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified"}
    assert "mount -t cgroup2 -o rw,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup" in calls
    assert calls.index("mount -t cgroup2 -o rw,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup") > \
        calls.index("umount /sys/fs/cgroup")
    assert calls[-1] == "init --arg"
    assert "systemd 262 needs cgroup v2" in stderr


@pytest.mark.parametrize("fs_type,version", [("tmpfs", 257), ("tmpfs", 252), ("cgroup2fs", 262)])
def test_entrypoint_keeps_the_hierarchy_otherwise(tmp_path, fs_type, version):
    calls, _stderr = run_entrypoint(tmp_path, fs_type, version)
    assert not [c for c in calls if c.startswith("umount") or "cgroup2" in c.split()[:4]]
    remounted = [c.split()[-1] for c in calls if c.startswith("mount -o remount,bind,rw")]
    assert remounted == ["/sys", "/sys/fs/cgroup", "/sys/fs/cgroup/systemd",
                         "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory",
                         "/sys/fs/cgroup/unified", "/proc/sys"]
    assert calls[-1] == "init --arg"
