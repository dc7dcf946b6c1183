# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control-plane firewall wanted on a host: validated request and the rules it implies.

Pure logic, no host access: parameters -> ``FirewallSpec`` (every problem collected) -> the rules of
the dedicated chain, in the exact text ``iptables -S`` / ``nft list`` print them, so the rules a host
has can be compared with the wanted ones line by line (a second run changes nothing).

The chain lets loopback and every allowed source through (RETURN: the rest of INPUT still decides)
and drops the protected ports from anyone else. It is jumped to from INPUT, which is where VXLAN
(4789/udp), ESP and the swarm / etcd ports addressed to the host itself are delivered; Docker's own
chains (DOCKER*, FORWARD) are never touched.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

SWARM_MANAGER_PORT = 2377
SWARM_GOSSIP_PORT = 7946
VXLAN_PORT = 4789
ETCD_PORTS = (2379, 2380)
DEFAULT_CHAIN = 'NETFLEET-CP'
DEFAULT_RULES_DIR = '/etc/netfleet/firewall'
DEFAULT_UNIT = 'netfleet-control-plane-firewall.service'
DEFAULT_UNIT_DIR = '/etc/systemd/system'
BUILTIN_CHAINS = ('INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING')
_CHAIN_NAME = re.compile(r'^[A-Za-z0-9_-]{1,28}$')
_UNIT_NAME = re.compile(r'^[A-Za-z0-9_.@-]+\.service$')
#: Docker's data-path-port must lie here (dockerd refuses others).
DATA_PATH_PORT_RANGE = (1024, 49151)


def port_label(port: Tuple[int, str]) -> str:
    """A port as the result shows it: 2377/tcp, 4789/udp, esp (ESP has no port: number 0)."""
    number, protocol = port
    return protocol if protocol == 'esp' else '%d/%s' % (number, protocol)


class FirewallSpec:
    """A validated control_plane_firewall request; ``problems`` lists everything wrong with it."""

    def __init__(self, params: Mapping[str, Any]):
        self.params = params
        self.problems: List[str] = []
        self.state = params.get('state') or 'present'
        self.chain = self._checked_chain(params.get('chain') or DEFAULT_CHAIN)
        self.sources = self._checked_sources(params.get('allowed_sources') or [])
        self.ports = self._checked_ports()
        self.ipv6 = params.get('ipv6')
        if self.ipv6 is False and self.ipv6_sources:
            self.problems.append(
                'allowed_sources %s are IPv6 but ipv6 is false; set ipv6: true (or leave it unset) '
                'or remove them' % ', '.join(str(net) for net in self.ipv6_sources))
        self.persist = params.get('persist', True)
        self.rules_dir = self._checked_path('rules_dir', params.get('rules_dir') or DEFAULT_RULES_DIR)
        self.unit_dir = self._checked_path('unit_dir', params.get('unit_dir') or DEFAULT_UNIT_DIR)
        self.unit = self._checked_unit(params.get('unit_name') or DEFAULT_UNIT)

    @property
    def table(self) -> str:
        """The nftables table of the native backend, named after the chain."""
        return self.chain.lower().replace('-', '_')

    @property
    def ipv4_sources(self) -> List[Any]:
        return [net for net in self.sources if net.version == 4]

    @property
    def ipv6_sources(self) -> List[Any]:
        return [net for net in self.sources if net.version == 6]

    # -- validation --------------------------------------------------------------------------

    def _checked_chain(self, chain: str) -> str:
        if not _CHAIN_NAME.match(chain):
            self.problems.append("chain '%s' is not a valid iptables chain name (1-28 letters, digits, '-' or '_'); "
                                 'use e.g. %s' % (chain, DEFAULT_CHAIN))
        elif chain.upper() in BUILTIN_CHAINS or chain.upper().startswith('DOCKER'):
            self.problems.append("chain '%s' belongs to the kernel or to Docker, which this module never touches; "
                                 'use a chain of its own, e.g. %s' % (chain, DEFAULT_CHAIN))
        return chain

    def _checked_sources(self, sources: List[Any]) -> List[Any]:
        if self.state == 'present' and not sources:
            self.problems.append(
                'allowed_sources is empty while state=present: every fleet member would be cut off from the '
                "control plane; list the fleet's underlay addresses (e.g. each host's "
                'ansible_default_ipv4.address) or use state=absent')
        networks = set()
        for index, source in enumerate(sources):
            network = _parsed_source(source)
            if network is None:
                self.problems.append("allowed_sources[%d] '%s' is not an IPv4/IPv6 address or CIDR; "
                                     'give e.g. 10.231.0.11 or 10.231.0.0/24' % (index, source))
            elif network.prefixlen == 0:
                self.problems.append("allowed_sources[%d] '%s' allows every address, so nothing would be closed; "
                                     "list the fleet's own addresses or subnets" % (index, source))
            else:
                networks.add(network)
        # Sorted, so inventories in any order give the same chain (and a second run changes nothing).
        return sorted(networks, key=lambda net: (net.version, int(net.network_address), net.prefixlen))

    def _checked_ports(self) -> List[Tuple[int, str]]:
        params = self.params
        ports = set()
        if params.get('swarm', True):
            data_path_port = params.get('data_path_port') or VXLAN_PORT
            low, high = DATA_PATH_PORT_RANGE
            if not low <= data_path_port <= high:
                self.problems.append('data_path_port %s is out of range: Docker accepts %d-%d; use the port given '
                                     'to docker swarm init --data-path-port (default %d)'
                                     % (data_path_port, low, high, VXLAN_PORT))
            ports.update([(SWARM_MANAGER_PORT, 'tcp'), (SWARM_GOSSIP_PORT, 'tcp'), (SWARM_GOSSIP_PORT, 'udp'),
                          (data_path_port, 'udp')])
            if params.get('encrypted'):
                ports.add((0, 'esp'))
        if params.get('etcd'):
            for index, number in enumerate(params.get('etcd_ports') or ETCD_PORTS):
                if self._port_in_range('etcd_ports[%d]' % index, number):
                    ports.add((number, 'tcp'))
        for index, text in enumerate(params.get('extra_ports') or []):
            port = self._parsed_extra_port(index, text)
            if port:
                ports.add(port)
        if self.state == 'present' and not ports and not self.problems:
            self.problems.append('nothing to protect: swarm and etcd are false and extra_ports is empty; '
                                 'enable swarm or etcd, list extra_ports, or use state=absent')
        order = {'tcp': 0, 'udp': 1, 'esp': 2}
        return sorted(ports, key=lambda port: (order[port[1]], port[0]))

    def _port_in_range(self, name: str, number: Any) -> bool:
        if not isinstance(number, int) or not 1 <= number <= 65535:
            self.problems.append('%s %s is out of range; give a port number from 1 to 65535' % (name, number))
            return False
        return True

    def _parsed_extra_port(self, index: int, text: Any) -> Optional[Tuple[int, str]]:
        name = 'extra_ports[%d]' % index
        match = re.match(r'^(\d+)/(tcp|udp)$', str(text).strip())
        if not match:
            self.problems.append("%s '%s' is not PORT/PROTOCOL; write e.g. 8080/tcp or 5353/udp" % (name, text))
            return None
        number = int(match.group(1))
        return (number, match.group(2)) if self._port_in_range(name, number) else None

    def _checked_path(self, option: str, path: str) -> str:
        if not os.path.isabs(path):
            self.problems.append("%s '%s' is not an absolute path; give e.g. %s" % (
                option, path, DEFAULT_RULES_DIR if option == 'rules_dir' else DEFAULT_UNIT_DIR))
        return os.path.normpath(path)

    def _checked_unit(self, unit: str) -> str:
        if not _UNIT_NAME.match(unit):
            self.problems.append("unit_name '%s' is not a systemd service name; give e.g. %s" % (unit, DEFAULT_UNIT))
        return unit

    # -- what the request means --------------------------------------------------------------

    def view(self) -> Dict[str, Any]:
        return dict(chain=self.chain, allowed_sources=[str(net) for net in self.sources],
                    ports=[port_label(port) for port in self.ports])


def _parsed_source(source: Any):
    try:
        return ipaddress.ip_network(str(source).strip(), strict=False)
    except ValueError:
        return None


def iptables_rules(spec: FirewallSpec, family: int) -> List[str]:
    """The chain's rules for iptables (4) or ip6tables (6), as ``iptables -S`` prints them after ``-A CHAIN``."""
    sources = spec.ipv4_sources if family == 4 else spec.ipv6_sources
    rules = ['-i lo -j RETURN']
    rules += ['-s %s -j RETURN' % net.with_prefixlen for net in sources]
    for number, protocol in spec.ports:
        if protocol == 'esp':
            rules.append('-p esp -j DROP')
        else:
            rules.append('-p %s -m %s --dport %d -j DROP' % (protocol, protocol, number))
    return rules


def _nft_source(net) -> str:
    # nft prints a single address without its /32 or /128.
    text = str(net.network_address) if net.prefixlen == net.max_prefixlen else net.with_prefixlen
    return '%s saddr %s accept' % ('ip' if net.version == 4 else 'ip6', text)


def nft_rules(spec: FirewallSpec, ipv6: bool) -> List[str]:
    """The input chain's rules of the native nftables table, as ``nft list table`` prints them."""
    sources = spec.sources if ipv6 else spec.ipv4_sources
    # Without IPv6 the drops are limited to IPv4 so the inet table leaves IPv6 alone.
    only = '' if ipv6 else 'meta nfproto ipv4 '
    rules = ['iifname "lo" accept'] + [_nft_source(net) for net in sources]
    for number, protocol in spec.ports:
        if protocol == 'esp':
            rules.append('%smeta l4proto esp drop' % only)
        else:
            rules.append('%s%s dport %d drop' % (only, protocol, number))
    return rules
