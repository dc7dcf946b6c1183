#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: ip_forward
short_description: IPv4/IPv6 forwarding for Docker hosts, persisted in the sysctl.d file that wins at boot
version_added: 0.1.0
description:
  - Docker's bridge and overlay traffic leaves a host only when the kernel forwards. This module
    sets forwarding (C(net.ipv4.ip_forward), C(net.ipv6.conf.all.forwarding), and per interface),
    keeps C(accept_ra) at V(2) on the uplinks so that IPv6 forwarding does not drop the default
    route learned from router advertisements, and optionally turns on bridge netfilter.
  - Values are set at runtime (in C(/proc/sys)) and written to a file under C(/etc/sysctl.d), together
    or either alone (O(apply)).
  - Before anything changes, the module reads every file that C(systemd-sysctl) and C(sysctl --system)
    read, in their order (C(*.conf) in C(/etc/sysctl.d), C(/run/sysctl.d), C(/usr/local/lib/sysctl.d),
    C(/usr/lib/sysctl.d), C(/lib/sysctl.d) sorted by file name, the same name taken from the first of
    those directories; C(/etc/sysctl.conf) last). A file read after O(sysctl_file) that sets another
    value would undo this task at the next boot; it is named with its line, and the task fails, warns,
    or comments the line out (O(on_override)).
  - C(/etc/sysctl.conf) is read last of all by C(sysctl --system), so no name of O(sysctl_file) sorts
    after it. The boot-time C(systemd-sysctl) reads it only through a link in a C(sysctl.d) directory
    (C(/etc/sysctl.d/99-sysctl.conf) on Debian 12); Debian 13 ships neither the link nor the file, and
    there a line in it is undone only by a C(sysctl --system) run. The message says which applies.
  - Returns the iptables FORWARD chain policy and warns when that policy drops traffic the task says
    should be routed. The warning reflects the engine's settings, read from its daemon.json
    (O(daemon_config_path), RV(docker_forwarding)). dockerd sets the policy to DROP when it turns
    forwarding on itself, unless C(ip-forward-no-drop) is true (Docker 28.0+); then, or with
    C(firewall-backend=nftables), the DROP was set by something else, and the warning says so.
  - Under C(firewall-backend=nftables) (Docker 29.0+) dockerd no longer turns forwarding on itself, and
    refuses to create bridge networks while it is off. Forwarding must then be on before networks are
    created; the task warns when forwarding is off after it.
  - Every problem with the request (unknown interface, sysctl file in a directory nothing reads,
    br_netfilter that cannot be loaded) fails the task before anything changes.
options:
  ipv4:
    description:
      - IPv4 forwarding, C(net.ipv4.ip_forward). Not managed when omitted.
    type: bool
  ipv6:
    description:
      - IPv6 forwarding on every interface, C(net.ipv6.conf.all.forwarding). Not managed when omitted.
      - With V(true), C(accept_ra) is set to V(2) on each of O(uplinks) first.
    type: bool
  interfaces:
    description:
      - Per-interface forwarding, C(net.ipv4.conf.<name>.forwarding) and C(net.ipv6.conf.<name>.forwarding),
        set after the global keys. Each interface must exist.
      - In the sysctl file these lines start with C(-), so a boot where the interface appears later
        (udev applies them then) does not log errors.
    type: list
    elements: dict
    suboptions:
      name:
        description: Interface name.
        type: str
        required: true
      ipv4:
        description: IPv4 forwarding on this interface.
        type: bool
      ipv6:
        description: IPv6 forwarding on this interface.
        type: bool
  uplinks:
    description:
      - Interfaces that learn the IPv6 default route from router advertisements. With O(ipv6=true)
        their C(accept_ra) is kept at V(2) (accept RAs even when forwarding). Each must exist.
      - Ignored, with a warning, unless O(ipv6=true).
      - When O(ipv6=true) and a default route learned from an RA goes through an interface that is not
        listed here and does not have C(accept_ra=2), the task warns.
    type: list
    elements: str
  bridge_netfilter:
    description:
      - V(true) sets C(net.bridge.bridge-nf-call-iptables) and C(net.bridge.bridge-nf-call-ip6tables) to V(1)
        (bridged traffic passes iptables), V(false) to V(0). Not managed when omitted.
      - These keys exist only with the C(br_netfilter) kernel module. With V(true) the module is loaded
        (C(modprobe)) and, when persisting, listed in O(modules_load_file); when the kernel cannot load it,
        the task fails before anything changes.
    type: bool
  apply:
    description:
      - V(both) sets the runtime values and the persistent file, V(runtime) only the runtime values,
        V(persistent) only the file (the change takes effect at the next boot or C(sysctl --system)).
    type: str
    default: both
    choices: [both, runtime, persistent]
  sysctl_file:
    description:
      - The persistent file. It must be a C(.conf) file in one of the directories read at boot;
        normally C(/etc/sysctl.d). Keys this task does not manage and comments in it are kept.
    type: path
    default: /etc/sysctl.d/90-netfleet-forwarding.conf
  modules_load_file:
    description:
      - Where C(br_netfilter) is listed for C(systemd-modules-load) when O(bridge_netfilter=true) and the
        change is persisted. Must be a C(.conf) file in a C(modules-load.d) directory.
    type: path
    default: /etc/modules-load.d/netfleet-br_netfilter.conf
  on_override:
    description:
      - What to do when a file read at boot after O(sysctl_file) sets one of the keys to another value
        (or another file hides O(sysctl_file)). V(fail) stops before anything changes; V(warn) goes on
        and warns, naming the file and line.
      - V(fix) comments the overriding lines out. A file in C(/etc) (C(/etc/sysctl.conf), C(/etc/sysctl.d))
        is backed up next to itself first (RV(sysctls[].backup_file)); a file of a package (C(/usr/lib/sysctl.d),
        C(/lib/sysctl.d), C(/run/sysctl.d)) is left alone and a copy without those lines is written to
        C(/etc/sysctl.d) under its name, which is read instead of it. Each file is one entry of RV(sysctls)
        (action V(commented) or V(shadowed)), shown in check and diff mode. Lines that set keys by a
        pattern, a link in C(/etc/sysctl.d) to another file, and a hidden O(sysctl_file) are not fixed;
        the task fails naming them.
    type: str
    default: fail
    choices: [fail, warn, fix]
  daemon_config_path:
    description:
      - The engine's daemon configuration file, read (never written) for C(firewall-backend),
        C(ip-forward), C(ip-forward-no-drop) and C(iptables). A missing file means Docker's defaults;
        an unreadable one is warned about and Docker's defaults are assumed.
    type: path
    default: /etc/docker/daemon.json
    version_added: 0.2.0
notes:
  - The keys under C(net.) belong to the network namespace; run the module on the host (or in the
    lab host container) whose forwarding should change.
  - Does not touch the iptables policy; see RV(forward_policy).
attributes:
  check_mode:
    support: full
    description: Reports exactly the keys, files and module load a real run changes.
  diff_mode:
    support: full
    description: Before and after per key (runtime value and value in the file).
author:
  - netfleet.docker contributors (@netfleet)
seealso:
  - module: netfleet.docker.docker_net
'''

EXAMPLES = r'''
- name: Forward IPv4 and IPv6, keeping the RA default route on eth0
  netfleet.docker.ip_forward:
    ipv4: true
    ipv6: true
    uplinks: [eth0]

- name: Bridge netfilter for Docker's bridge networks (loads and persists br_netfilter)
  netfleet.docker.ip_forward:
    ipv4: true
    bridge_netfilter: true

- name: Forward on one interface only, runtime value only
  netfleet.docker.ip_forward:
    interfaces:
      - name: eth1
        ipv4: true
    apply: runtime

- name: Own file name; warn instead of failing when a later file overrides a key
  netfleet.docker.ip_forward:
    ipv4: true
    sysctl_file: /etc/sysctl.d/95-docker-forwarding.conf
    on_override: warn
  register: fwd

- name: Show the FORWARD policy
  ansible.builtin.debug:
    msg: "{{ ansible_facts.netfleet_forward_policy }}"
'''

RETURN = r'''
sysctls:
  description:
    - One entry per key the task manages, and per file it writes besides O(sysctl_file) (C(br_netfilter)
      loaded, a fixed overriding file, O(modules_load_file)), in the order they are applied.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The key, dotted (or in slash form when an interface name holds a dot).
      type: str
      sample: net.ipv4.ip_forward
    action:
      description: V(changed) or V(unchanged) (in check mode, what a real run would do).
      type: str
      sample: changed
    changes:
      description: What changes, V(runtime) and/or V(file).
      type: list
      elements: str
    value:
      description: The value asked for.
      type: str
      sample: '1'
    runtime_before:
      description: The runtime value before (none when the key does not exist).
      type: str
    runtime_after:
      description: The runtime value after.
      type: str
    file_before:
      description: The value in O(sysctl_file) before (none when not there).
      type: str
    file_after:
      description: The value in O(sysctl_file) after.
      type: str
    backup_file:
      description: The copy of an overriding file taken before its lines were commented out (O(on_override=fix)).
      type: str
    source:
      description: The package file a V(shadowed) copy replaces (O(on_override=fix)).
      type: str
overrides:
  description:
    - Lines read at boot after O(sysctl_file) that set a managed key to another value (with O(on_override=warn),
      or the lines commented out with O(on_override=fix)).
  returned: success
  type: list
  elements: dict
  sample: [{key: net.ipv4.ip_forward, wanted: '1', value: '0', file: /etc/sysctl.conf, line: 28}]
forward_policy:
  description: Policy of the FORWARD chain of iptables and ip6tables (none when it cannot be read).
  returned: success
  type: dict
  sample: {ipv4: DROP, ipv6: ACCEPT}
docker_forwarding:
  description:
    - The engine's forwarding settings from O(daemon_config_path) (Docker's defaults for absent keys),
      and what dockerd does with them.
  returned: success
  type: dict
  contains:
    daemon_config:
      description: The file read.
      type: str
    found:
      description: Whether the file exists.
      type: bool
    firewall_backend:
      description: C(iptables) or C(nftables) (Docker 29.0+).
      type: str
    ip_forward:
      description: The C(ip-forward) key (dockerd checks or enables forwarding).
      type: bool
    ip_forward_no_drop:
      description: The C(ip-forward-no-drop) key (Docker 28.0+).
      type: bool
    iptables:
      description: The C(iptables) key (dockerd writes firewall rules).
      type: bool
    docker_enables_forwarding:
      description:
        - Whether dockerd turns forwarding on by itself. V(false) under C(firewall-backend=nftables);
          forwarding must then be on before networks are created.
      type: bool
    docker_sets_drop_policy:
      description: Whether dockerd sets the iptables FORWARD policy to DROP when it turns forwarding on.
      type: bool
  sample: {daemon_config: /etc/docker/daemon.json, found: true, firewall_backend: nftables, ip_forward: true,
           ip_forward_no_drop: false, iptables: true, docker_enables_forwarding: false, docker_sets_drop_policy: false}
sysctl_file:
  description: The persistent file (none with O(apply=runtime)).
  returned: success
  type: str
  sample: /etc/sysctl.d/90-netfleet-forwarding.conf
ansible_facts:
  description: Facts set by the task.
  returned: success
  type: dict
  contains:
    netfleet_forward_policy:
      description: The same as RV(forward_policy).
      type: dict
problems:
  description: Every problem found while validating a failed request.
  returned: failure
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Driver
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError
from ansible_collections.netfleet.docker.plugins.module_utils._host import forwarding, hostnet

ARGUMENT_SPEC = dict(
    ipv4=dict(type='bool'),
    ipv6=dict(type='bool'),
    interfaces=dict(type='list', elements='dict', options=dict(
        name=dict(type='str', required=True),
        ipv4=dict(type='bool'),
        ipv6=dict(type='bool'),
    )),
    uplinks=dict(type='list', elements='str'),
    bridge_netfilter=dict(type='bool'),
    apply=dict(type='str', default='both', choices=['both', 'runtime', 'persistent']),
    sysctl_file=dict(type='path', default=forwarding.DEFAULT_SYSCTL_FILE),
    modules_load_file=dict(type='path', default=forwarding.DEFAULT_MODULES_LOAD_FILE),
    on_override=dict(type='str', default='fail', choices=['fail', 'warn', 'fix']),
    daemon_config_path=dict(type='path', default=forwarding.DEFAULT_DAEMON_CONFIG),
)


class IpForwardDriver(Driver):
    """Forwarding sysctls: one step per key (runtime and file), br_netfilter, the files that persist them."""

    kind = 'sysctl'
    records_key = 'sysctls'
    one_problem_suffix = '; nothing was changed'
    proc = forwarding.sysctl.PROC_SYS
    root = '/'

    def validate(self):
        self.run_command = hostnet.module_runner(self.module)
        self.request = forwarding.Request(self.params, proc=self.proc,
                                          probe_module=forwarding.probe_module(self.run_command))
        for warning in self.request.warnings:
            self.module.warn(warning)
        return self.request.problems

    def plan(self):
        request = self.request
        file_text = files.read_text(forwarding.on_root(self.root, request.sysctl_file)) if request.persistent else None
        keys, new_text, overrides, shadowed = forwarding.plan(request, file_text, proc=self.proc, root=self.root)
        fixes = forwarding.check_overrides(request, overrides, shadowed, self.params['on_override'], self.module.warn,
                                           self.root)
        self.overrides = overrides
        self.steps = forwarding.plan_steps(request, file_text, keys, new_text, self.root, fixes)
        return self.steps

    def apply(self, step):
        try:
            return forwarding.apply_step(step, self.run_command, self.proc, self.module.backup_local)
        except HostError as exc:
            # A failed run still says what each key was planned to become.
            raise HostError(exc.problems, sysctls=[self.record(item) for item in self.steps if item.report],
                            **exc.details)

    def extra_result(self, steps):
        daemon, unreadable = forwarding.read_daemon_forwarding(
            self.params.get('daemon_config_path') or forwarding.DEFAULT_DAEMON_CONFIG, self.root)
        if unreadable:
            self.module.warn(unreadable)
        policy = forwarding.forward_policy_report(self.module.warn, self.run_command, self.request, daemon)
        forwarding.warn_nftables_forwarding(self.module.warn, self.request, daemon, self.proc)
        forwarding.warn_ra_routes(self.module.warn, self.run_command, self.request, self.proc)
        return dict(overrides=self.overrides, forward_policy=policy, docker_forwarding=daemon.as_result(),
                    sysctl_file=self.request.sysctl_file if self.request.persistent else None,
                    ansible_facts=dict(netfleet_forward_policy=policy))


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    IpForwardDriver(module).run()


if __name__ == '__main__':
    main()
