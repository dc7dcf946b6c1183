"""Bring-up and teardown: the underlay networks and the hosts on the outer engine.

A host is a NON-privileged container (--privileged does not work on these machines) with
systemd as PID 1 (lab/image/netfleet-lab-init.sh makes /sys, the cgroups and /proc/sys
writable first), an inner dockerd on a tmpfs /var/lib/docker, and sshd.
"""

import concurrent.futures
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

from . import access, settings, state, switch
from .engine import LabError, docker, lab_containers, lab_networks, say
from .images import ensure_images, ensure_test_image

# `docker create` arguments every host gets (docs/lab.md explains each)
HOST_OPTIONS = ["--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
                "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
                "--cgroupns", "private",
                "--tmpfs", "/run:exec", "--tmpfs", "/run/lock", "--tmpfs", "/tmp:exec",
                "--tmpfs", "/var/lib/docker:exec",
                "--stop-signal", "SIGRTMIN+3", "--stop-timeout", "10",
                "-e", "container=docker"]
READY_CHECK = "systemctl is-active docker.service ssh.service >/dev/null && docker version --format '{{.Server.Version}}'"
BOOT_REPORT = "systemctl is-system-running; systemctl --failed --no-legend; journalctl -b -u docker -u ssh --no-pager -n 20"


def create_network(net):
    docker("network", "create", "--driver", "bridge", "--internal",
           "--subnet", net["subnet"], "--gateway", net["gateway"],
           "--label", "%s=1" % settings.LABEL, "-o", "com.docker.network.bridge.enable_ip_masquerade=false",
           net["name"])


def create_host(i, ref, params, keytar):
    """Create host i, give it root's authorized_keys, start it; its name."""
    name = state.host_name(i)
    labels = ["--label", "%s=1" % settings.LABEL,
              "--label", "%s=%s" % (settings.LABEL_PARAMS, json.dumps(params, sort_keys=True)),
              "--label", "%s.index=%d" % (settings.LABEL, i)]
    docker("create", "--name", name, "--hostname", name, *labels, *HOST_OPTIONS,
           "--network", settings.UNDERLAY["name"], "--ip", state.host_ip(i), ref)
    if params["second_nic"]:
        docker("network", "connect", "--ip", state.host_ip(i, settings.UNDERLAY2),
               settings.UNDERLAY2["name"], name)
    docker("cp", "-", name + ":/", input=keytar)
    docker("start", name)
    if params.get("switch"):
        switch.attach(name, i)
    return name


def wait_host(name, ip, deadline):
    """Wait until systemd has docker.service and ssh.service active, dockerd answers and sshd
    greets on port 22; the inner engine's version."""
    version = wait_engine(name, deadline)
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


def wait_engine(name, deadline):
    last = ""
    while time.time() < deadline:
        rc, out, err = docker("exec", name, "sh", "-c", READY_CHECK, check=False, timeout=30)
        if rc == 0 and out.strip():
            return out.strip()
        last = (out + err).strip()
        time.sleep(0.3)
    report = docker("exec", name, "sh", "-c", BOOT_REPORT, check=False)[1]
    raise LabError("%s did not come up (docker.service/ssh.service): %s\n%s" % (name, last, report))


def host_facts(name):
    """The interface names of the underlays inside the host (read after start)."""
    out = docker("exec", name, "ip", "-j", "-4", "addr", "show")[1]
    facts = {}
    for link in json.loads(out):
        for a in link.get("addr_info", []):
            if a.get("local", "").startswith(settings.UNDERLAY["prefix"]):
                facts["underlay_if"] = link["ifname"]
            elif a.get("local", "").startswith(settings.UNDERLAY2["prefix"]):
                facts["second_if"] = link["ifname"]
    return facts


def load_test_image(name, path):
    with open(path, "rb") as f:
        p = subprocess.run([settings.DOCKER, "exec", "-i", name, "docker", "load", "-q"], stdin=f,
                           capture_output=True, timeout=120, check=False)
    if p.returncode != 0:
        raise LabError("%s: loading %s failed: %s" % (name, settings.TEST_IMAGE, p.stderr.decode().strip()))


def check_nothing_else_up(params):
    """True when a lab with these parameters is already up and usable; LabError when another
    lab, a broken one, or stray lab networks are there; False when the engine is clean."""
    current, names = state.running_params()
    if current is None:
        stale = lab_networks() + switch.lab_links()
        if stale:
            raise LabError("lab networks or switch links exist without lab hosts (%s): run `make lab-down` first"
                           % ", ".join(stale))
        return False
    if current != params or len(names) != params["hosts"]:
        cur = state.describe(current) if "hosts" in current else "unknown (%d containers)" % len(names)
        raise LabError("a lab with different parameters is up (%s); requested %s. Nothing was "
                       "changed: run `make lab-down` first, or ask for the same parameters."
                       % (cur, state.describe(params)))
    up = lab_containers(all_=False)
    if len(up) == params["hosts"] and os.path.exists(settings.INVENTORY):
        return True
    why = ("%d of %d hosts running" % (len(up), params["hosts"]) if len(up) != params["hosts"]
           else "%s is missing" % os.path.relpath(settings.INVENTORY, settings.REPO))
    raise LabError("a lab with these parameters exists but is not usable (%s): run "
                   "`make lab-down` first" % why)


def in_parallel(fn, items, workers):
    with concurrent.futures.ThreadPoolExecutor(max(1, min(workers, len(items)))) as ex:
        return list(ex.map(fn, items))


def start_hosts(params, refs, keytar):
    """Networks and hosts created and booted; {host name: inner engine version}."""
    create_network(settings.UNDERLAY)
    if params["second_nic"]:
        create_network(settings.UNDERLAY2)
    if params.get("switch"):
        switch.create_bridge()
    indexes = list(range(1, params["hosts"] + 1))
    in_parallel(lambda i: create_host(i, refs[params["images"][i - 1]], params, keytar), indexes, 8)
    deadline = time.time() + settings.env_float("LAB_BOOT_TIMEOUT", "90")
    ips = {state.host_name(i): state.host_ip(i) for i in indexes}
    versions = in_parallel(lambda nm: wait_host(nm, ips[nm], deadline), list(ips), 16)
    return dict(zip(ips, versions))


def prepare_hosts(names):
    """The test image loaded into every inner engine; {host name: interface facts}."""
    with tempfile.NamedTemporaryFile(suffix=".tar") as tf:
        subprocess.run([settings.DOCKER, "save", settings.TEST_IMAGE], stdout=tf, check=True)
        tf.flush()
        in_parallel(lambda nm: load_test_image(nm, tf.name), names, 8)
    return dict(zip(names, in_parallel(host_facts, names, 8)))


def host_records(params, refs, versions, facts):
    hosts = []
    for i in range(1, params["hosts"] + 1):
        nm, image = state.host_name(i), params["images"][i - 1]
        h = {"name": nm, "lab_index": i, "ansible_host": state.host_ip(i),
             "lab_underlay_ip": state.host_ip(i), "lab_underlay_if": facts[nm].get("underlay_if"),
             "lab_image": image, "image_ref": refs[image], "lab_engine_version": versions[nm]}
        if params["second_nic"]:
            h["lab_second_ip"] = state.host_ip(i, settings.UNDERLAY2)
            h["lab_second_if"] = facts[nm].get("second_if")
        if params.get("switch"):
            h["lab_switch_if"] = settings.SWITCH["inner_if"]
        hosts.append(h)
    return hosts


def bring_up():
    """`labctl.py up`: idempotent; a failure half way removes whatever was made."""
    t_start = time.time()
    params = state.params_from_env()
    if check_nothing_else_up(params):
        say("lab already up with the same parameters (%s): nothing to do" % state.describe(params))
        return 0
    # images first: nothing exists on the outer engine until they are ready
    refs = ensure_images(params["images"])
    ensure_test_image()
    t_images = time.time() - t_start
    keytar = access.authorized_keys_tar(access.ensure_ssh_key())
    t0 = time.time()
    say("bringing up %s" % state.describe(params))
    try:
        versions = start_hosts(params, refs, keytar)
        t_boot = time.time() - t0
        hosts = host_records(params, refs, versions, prepare_hosts(sorted(versions)))
        lab = {"params": params, "hosts": hosts, "ssh_key": settings.SSH_KEY,
               "inventory": settings.INVENTORY,
               "networks": [settings.UNDERLAY] + ([settings.UNDERLAY2] if params["second_nic"] else []),
               "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "timings": {"images_s": round(t_images, 2), "boot_s": round(t_boot, 2),
                           "up_s": round(time.time() - t0, 2)}}
        state.write_state(lab)
        access.write_inventory(lab)
    except BaseException:
        say("bring-up failed: removing what was created")
        teardown(quiet=True)
        raise
    for h in hosts:
        say("  %-16s %-12s %-9s docker %s" % (h["name"], h["ansible_host"], h["lab_image"], h["lab_engine_version"]))
    say("lab up in %.1fs (hosts booted in %.1fs; images ready in %.1fs); inventory: %s"
        % (time.time() - t0, t_boot, t_images, os.path.relpath(settings.INVENTORY, settings.REPO)))
    return 0


def teardown(quiet=False):
    """`labctl.py down`: remove exactly what carries the lab label, the state, inventory and key."""
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
    links = switch.lab_links()
    left = lab_containers() + lab_networks() + switch.remove()
    for p in (settings.STATE_FILE, settings.INVENTORY):
        if os.path.exists(p):
            os.unlink(p)
    if os.path.isdir(settings.SSH_DIR):
        shutil.rmtree(settings.SSH_DIR)
    if left:
        raise LabError("could not remove: %s" % ", ".join(left))
    if not quiet:
        if names or nets or links:
            say("lab down in %.1fs (removed %d hosts, %d networks, %d switch links)"
                % (time.time() - t0, len(names), len(nets), len(links)))
        else:
            say("no lab is up: nothing to do")
    return 0
