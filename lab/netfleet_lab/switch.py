"""The lab switch (LAB_SWITCH=1): a segment that carries ANY subnet between the hosts, like a switch.

The underlays are Docker networks of the outer engine, whose iptables rules drop frames from
source subnets other than the network's own: macvlan containers on, say, 172.16.86.0/24 over
them never reach another host.  The switch is a plain Linux bridge on the outer host instead
(no Docker network, so no Docker isolation rules), named with the lab prefix, with one veth
pair per host: the outer end enslaved to the bridge, the inner end moved into the host's
network namespace as ``sw0`` (the hosts have CAP_NET_ADMIN, the outer host is root; no
--privileged).  Nothing is attached to the machine's own uplink and nothing is routed.

With br_netfilter loaded and bridge-nf-call-iptables=1, bridged frames traverse the outer
FORWARD chain (policy DROP under Docker): one narrow ACCEPT rule per family, for frames in
and out of this bridge only, tagged with the lab label and removed by `labctl down`.  The
bridge's own nf_call_iptables is set off too, but the kernel ORs it with the global sysctl.
"""

import json
import os
import subprocess

from . import settings
from .engine import LabError, docker

BRIDGE = settings.SWITCH["bridge"]
INNER_IF = settings.SWITCH["inner_if"]
FAMILIES = (("iptables", "/proc/sys/net/bridge/bridge-nf-call-iptables"),
            ("ip6tables", "/proc/sys/net/bridge/bridge-nf-call-ip6tables"))
RULE = ["FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-m", "comment", "--comment", settings.LABEL, "-j", "ACCEPT"]


def run(args, check=True):
    p = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if check and p.returncode != 0:
        raise LabError("%s failed (rc=%d): %s" % (" ".join(args), p.returncode, (p.stderr or p.stdout).strip()))
    return p


def outer_link(i):
    """The outer end of host i's veth pair (nflab-sw0-<i>, at most 15 characters)."""
    return "%s-%d" % (BRIDGE, i)


def filtered_families():
    """The iptables tools whose FORWARD chain sees this bridge's frames (br_netfilter's sysctls)."""
    found = []
    for tool, path in FAMILIES:
        try:
            with open(path, encoding="ascii") as f:
                if f.read().strip() == "1":
                    found.append(tool)
        except OSError:
            pass  # br_netfilter not loaded: bridged frames never reach iptables
    return found


def create_bridge():
    run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    run(["ip", "link", "set", BRIDGE, "type", "bridge", "nf_call_iptables", "0", "nf_call_ip6tables", "0"],
        check=False)  # older iproute2/kernels: the FORWARD rule below is what counts anyway
    run(["ip", "link", "set", BRIDGE, "up"])
    for tool in filtered_families():
        if run([tool, "-C"] + RULE, check=False).returncode != 0:
            run([tool, "-I", RULE[0], "1"] + RULE[1:])


def attach(name, i):
    """Host i (a started container) gets its own port on the switch, as INNER_IF (up, no address)."""
    pid = docker("inspect", "--format", "{{.State.Pid}}", name)[1].strip()
    outer = outer_link(i)
    run(["ip", "link", "add", outer, "type", "veth", "peer", "name", INNER_IF, "netns", pid])
    run(["ip", "link", "set", outer, "master", BRIDGE, "up"])
    run(["nsenter", "-t", pid, "-n", "ip", "link", "set", INNER_IF, "up"])


def lab_links():
    """The outer host's links that belong to the lab switch (the bridge and the veth ends)."""
    out = run(["ip", "-j", "link", "show"]).stdout
    return sorted(link["ifname"] for link in json.loads(out or "[]") if link["ifname"].startswith(BRIDGE))


def lab_rules():
    """The lab's FORWARD rules left in each family, as 'tool: rule'."""
    rules = []
    for tool, _path in FAMILIES:
        p = run([tool, "-S", "FORWARD"], check=False)
        rules += ["%s: %s" % (tool, line) for line in p.stdout.splitlines() if settings.LABEL in line]
    return rules


def remove():
    """Everything of the switch: the veth ends, the bridge, the FORWARD rules; what could not go."""
    if not os.path.exists("/sys/class/net/" + BRIDGE) and not lab_links() and not lab_rules():
        return []
    for link in lab_links():
        run(["ip", "link", "del", link], check=False)
    for tool, _path in FAMILIES:
        while run([tool, "-C"] + RULE, check=False).returncode == 0:
            if run([tool, "-D"] + RULE, check=False).returncode != 0:
                break
    return lab_links() + lab_rules()
