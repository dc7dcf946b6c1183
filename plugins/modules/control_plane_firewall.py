#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: control_plane_firewall
short_description: Open the swarm control/data plane and etcd ports to the fleet's members only
version_added: 0.2.0
description:
  - Anyone who reaches a Docker host's swarm ports can talk to its control plane (2377/tcp on managers,
    7946/tcp+udp gossip) or inject VXLAN frames into its overlay networks (4789/udp,
    GHSA-vwm3-crmr-xfxw); an etcd on the underlay (2379/2380) is no different. Docker's guidance is to
    open these ports to the cluster's members only. This module does that on one host.
  - Manages a dedicated chain (O(chain), default C(NETFLEET-CP)) in the filter table, jumped to first
    from C(INPUT) (where VXLAN, ESP and the ports addressed to the host are delivered). The chain lets
    loopback and every O(allowed_sources) through (C(RETURN), so the rest of C(INPUT) still decides) and
    drops the protected ports from anyone else. Docker's own chains are never touched.
  - Uses what the host has (O(backend=auto)) - C(iptables) (legacy or nf_tables backend, as
    C(iptables -V) says) with C(ip6tables) for IPv6, else native C(nft) with a table C(inet netfleet_cp)
    whose input chain holds the same rules.
  - Idempotent. The chain's current rules are compared with the wanted ones line by line; a chain that
    differs is replaced in one C(iptables-restore --noflush) (or C(nft -f)) transaction, so members are
    never cut off half-way. Sources are sorted, so inventories in any order give the same chain.
  - Persisted across reboots by a systemd oneshot unit (O(unit_name)) that restores the rules files in
    O(rules_dir) before the network and Docker start; files are written atomically.
  - O(state=absent) removes the jump, the chain (or table), the rules files and the unit.
  - Every problem with the request (a source that is not an address or CIDR, an empty O(allowed_sources)
    with O(state=present), a port out of range) fails the task before anything changes.
options:
  state:
    description: Whether the ports are closed to strangers (V(present)) or the firewall removed (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  allowed_sources:
    description:
      - Addresses or CIDRs that may reach the protected ports - the fleet's underlay addresses (every
        member, managers and workers, and the etcd members). Required non-empty with O(state=present).
      - IPv6 entries go to the IPv6 chain (C(ip6tables)).
    type: list
    elements: str
    default: []
  swarm:
    description: Protect the swarm ports - 2377/tcp, 7946/tcp, 7946/udp and O(data_path_port)/udp.
    type: bool
    default: true
  data_path_port:
    description: The VXLAN port of the swarm (C(docker swarm init --data-path-port)); Docker allows 1024-49151.
    type: int
    default: 4789
  encrypted:
    description: Also drop ESP (IP protocol 50) from strangers; set it when the fleet uses encrypted overlays.
    type: bool
    default: false
  etcd:
    description: Protect etcd's client and peer ports (O(etcd_ports)).
    type: bool
    default: false
  etcd_ports:
    description: The etcd ports protected with O(etcd=true).
    type: list
    elements: int
    default: [2379, 2380]
  extra_ports:
    description: More ports to protect, as C(PORT/PROTOCOL) (V(tcp) or V(udp)), e.g. V(8080/tcp).
    type: list
    elements: str
    default: []
  ipv6:
    description:
      - Close the ports over IPv6 too. Unset - when C(ip6tables) works on the host (always with the
        native nftables table), and required as soon as an IPv6 source is given.
      - V(false) leaves IPv6 alone and removes an IPv6 chain an earlier run left.
    type: bool
  backend:
    description: The firewall tool; V(auto) takes C(iptables) when installed, else C(nft).
    type: str
    choices: [auto, iptables, nftables]
    default: auto
  chain:
    description:
      - The dedicated chain (the nftables table is its name in lower case with C(_)). Never a built-in
        chain or one of Docker's.
    type: str
    default: NETFLEET-CP
  persist:
    description:
      - Restore the rules at boot (rules files in O(rules_dir) and the unit O(unit_name)); needs systemd.
      - V(false) removes the files and unit an earlier run wrote.
    type: bool
    default: true
  rules_dir:
    description: Where the rules files (C(<chain>.v4), C(<chain>.v6) or C(<chain>.nft)) are kept.
    type: path
    default: /etc/netfleet/firewall
  unit_name:
    description: The systemd unit that restores the rules at boot.
    type: str
    default: netfleet-control-plane-firewall.service
  unit_dir:
    description: Where the unit file is written.
    type: path
    default: /etc/systemd/system
notes:
  - The jump must be the first rule of C(INPUT); a tool that later inserts rules above it (ufw,
    fail2ban) makes the next run move the jump back to the top (reported as V(updated)).
  - Switching O(backend) on a host does not remove what the other backend has; run with
    O(state=absent) and the old backend first.
  - Outgoing traffic and replies are not affected; only packets addressed to the host's protected ports.
attributes:
  check_mode:
    support: full
    description: Reports the rules that would be added and removed and the files that would be written.
  diff_mode:
    support: full
    description: Before and after of the chain's rules, the jump, the rules files and the unit.
author:
  - netfleet.docker contributors (@netfleet)
seealso:
  - module: netfleet.docker.overlay_cluster
  - name: Docker swarm ports
    description: The ports a swarm needs, and the advice to open them to members only.
    link: https://docs.docker.com/engine/swarm/swarm-tutorial/#open-protocols-and-ports-between-the-hosts
'''

EXAMPLES = r'''
- name: Swarm ports open to the play's hosts only
  netfleet.docker.control_plane_firewall:
    allowed_sources: "{{ ansible_play_hosts | map('extract', hostvars, ['ansible_default_ipv4', 'address']) | list }}"

- name: Encrypted overlays on a custom VXLAN port, and the etcd of the legacy KV overlay
  netfleet.docker.control_plane_firewall:
    allowed_sources: [10.0.10.0/24, fd00:10::/64]
    data_path_port: 7789
    encrypted: true
    etcd: true

- name: Remove the firewall (chain, jump, files, unit)
  netfleet.docker.control_plane_firewall:
    state: absent
'''

RETURN = r'''
backend:
  description: The tool used - V(iptables-nft), V(iptables-legacy) or V(nftables).
  returned: success
  type: str
  sample: iptables-nft
families:
  description: The address families managed.
  returned: success
  type: list
  elements: str
  sample: [ipv4, ipv6]
chain:
  description: The dedicated chain.
  returned: success
  type: str
  sample: NETFLEET-CP
allowed_sources:
  description: The allowed sources, canonical and sorted, as the chain holds them.
  returned: success
  type: list
  elements: str
  sample: [10.231.0.11/32, 10.231.0.12/32]
ports:
  description: The protected ports.
  returned: success
  type: list
  elements: str
  sample: [2377/tcp, 7946/tcp, 4789/udp, 7946/udp]
objects:
  description: One record per chain, jump, table, rules file and unit, in apply order.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The object (C(iptables NETFLEET-CP), C(ip6tables INPUT), a file path, the unit).
      type: str
    action:
      description: V(created), V(updated), V(removed), V(enabled) or V(unchanged).
      type: str
    changes:
      description: Rules added (C(+ rule)) and removed (C(- rule)), or what else changed.
      type: list
      elements: str
problems:
  description: Every problem found while validating a failed request.
  returned: failure
  type: list
  elements: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Driver
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._host import firewall, firewall_plan, firewall_state

ARGUMENT_SPEC = dict(
    state=dict(type='str', default='present', choices=['present', 'absent']),
    allowed_sources=dict(type='list', elements='str', default=[]),
    swarm=dict(type='bool', default=True),
    data_path_port=dict(type='int', default=firewall.VXLAN_PORT),
    encrypted=dict(type='bool', default=False),
    etcd=dict(type='bool', default=False),
    etcd_ports=dict(type='list', elements='int', default=list(firewall.ETCD_PORTS)),
    extra_ports=dict(type='list', elements='str', default=[]),
    ipv6=dict(type='bool'),
    backend=dict(type='str', default='auto', choices=['auto', 'iptables', 'nftables']),
    chain=dict(type='str', default=firewall.DEFAULT_CHAIN),
    persist=dict(type='bool', default=True),
    rules_dir=dict(type='path', default=firewall.DEFAULT_RULES_DIR),
    unit_name=dict(type='str', default=firewall.DEFAULT_UNIT),
    unit_dir=dict(type='path', default=firewall.DEFAULT_UNIT_DIR),
)


def module_tools(module):
    """Commands resolved in the sbin directories too; a missing one is rc 127, not a module failure."""
    def which(name):
        return module.get_bin_path(name, opt_dirs=['/usr/sbin', '/sbin'])

    def run(args, data=None):
        path = which(args[0])
        if path is None:
            return 127, '', '%s: command not found' % args[0]
        return module.run_command([path] + list(args[1:]), data=data, binary_data=data is not None)
    return firewall_state.Tools(run=run, which=which)


class ControlPlaneFirewallDriver(Driver):
    """Chain (or table) per family, the jump from INPUT, then the boot files and unit."""

    kind = 'firewall'
    one_problem_suffix = '; nothing was changed'
    systemd_dir = '/run/systemd/system'

    def validate(self):
        self.spec = firewall.FirewallSpec(self.params)
        return self.spec.problems

    def plan(self):
        spec = self.spec
        self.tools = self.make_tools()
        if spec.state == 'present' and spec.persist and not os.path.isdir(self.systemd_dir):
            raise PlanningError('persist=true needs systemd to restore the rules at boot, and this host does not run '
                                'it; set persist: false and persist the chain %s another way' % spec.chain)
        self.backend = firewall_state.detect_backend(self.tools, spec)
        return (firewall_plan.firewall_steps(spec, self.tools, self.backend) +
                firewall_plan.persistence_steps(spec, self.tools, self.backend, files.read_text))

    def make_tools(self):
        return module_tools(self.module)

    def apply(self, step):
        return firewall_plan.apply_operations(step.payload, self.tools)

    def diff(self, step):
        if isinstance(step.before, str):
            # Files: their text, as the file diff of Ansible shows it.
            return dict(before=step.before, after=step.after, before_header='%s (before)' % step.name,
                        after_header='%s (%s)' % (step.name, step.action))
        return super().diff(step)

    def extra_result(self, steps):
        return dict(self.spec.view(), backend=self.backend.name,
                    families=['ipv%d' % family for family in self.backend.families])


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    ControlPlaneFirewallDriver(module).run()


if __name__ == '__main__':
    main()
