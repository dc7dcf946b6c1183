# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host has: which firewall tool it uses, and the control-plane chain / table as it is now.

Every function takes ``Tools``: ``run(args, data=None) -> (rc, stdout, stderr)`` (a missing command is
rc 127) and ``which(name) -> absolute path or None``, so unit tests give fakes and the module gives
``AnsibleModule.run_command`` / ``get_bin_path``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._host.firewall import FirewallSpec

WAIT = ('-w', '5')          # wait for the xtables lock instead of failing while Docker holds it
IPTABLES = {4: 'iptables', 6: 'ip6tables'}


@dataclass(frozen=True)
class Tools:
    run: Callable
    which: Callable[[str], Optional[str]]


@dataclass(frozen=True)
class Backend:
    """``kind`` iptables (``variant`` legacy or nf_tables, as ``iptables -V`` says) or nftables (native)."""

    kind: str
    variant: str
    families: Tuple[int, ...]

    @property
    def name(self) -> str:
        return 'nftables' if self.kind == 'nftables' else 'iptables-%s' % ('nft' if self.variant == 'nf_tables' else 'legacy')


@dataclass(frozen=True)
class ChainState:
    """One family's filter table as far as the chain is concerned (from ``iptables -S``)."""

    family: int
    exists: bool = False
    rules: Tuple[str, ...] = ()
    input_rules: Tuple[str, ...] = field(default_factory=tuple)

    def jump_positions(self, chain: str) -> List[int]:
        return [index for index, rule in enumerate(self.input_rules) if rule == '-j %s' % chain]


def iptables_variant(version_text: str) -> str:
    """'nf_tables' or 'legacy' from ``iptables -V`` (before 1.8 there was no suffix: legacy)."""
    match = re.search(r'\((nf_tables|legacy)\)', version_text or '')
    return match.group(1) if match else 'legacy'


def parse_iptables_listing(text: str, chain: str, family: int) -> ChainState:
    """The chain's rules and INPUT's rules from ``iptables -S`` of the filter table."""
    exists = False
    rules, input_rules = [], []
    own_rule, input_rule = '-A %s ' % chain, '-A INPUT '
    for line in (text or '').splitlines():
        line = line.strip()
        if line == '-N %s' % chain:
            exists = True
        elif line.startswith(own_rule):
            rules.append(line[len(own_rule):])
        elif line.startswith(input_rule):
            input_rules.append(line[len(input_rule):])
    return ChainState(family=family, exists=exists, rules=tuple(rules), input_rules=tuple(input_rules))


def parse_nft_table(text: str) -> Tuple[str, ...]:
    """The rules of a table as ``nft list table`` prints it: every line that is not structure.

    Chain headers other than ``chain input`` are kept as lines, so a table changed by hand (another
    chain in it) differs from the wanted one and is replaced.
    """
    rules = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line == '}' or line.startswith('table ') or line == 'chain input {' or line.startswith('type '):
            continue
        rules.append(line)
    return tuple(rules)


def detect_backend(tools: Tools, spec: FirewallSpec) -> Backend:
    """iptables (legacy or nft backend) when the host has it, else native nftables; IPv6 as asked or found."""
    wanted = spec.params.get('backend') or 'auto'
    has_iptables = tools.which('iptables') is not None and tools.which('iptables-restore') is not None
    if wanted == 'nftables' or (wanted == 'auto' and not has_iptables):
        if tools.which('nft') is None:
            raise PlanningError('this host has neither iptables (with iptables-restore) nor nft; install the '
                                'iptables package (Debian: apt-get install iptables), or set backend to the one it has')
        return Backend('nftables', 'native', (4, 6) if spec.ipv6 is not False else (4,))
    if not has_iptables:
        raise PlanningError('backend=iptables but iptables or iptables-restore is not installed; install the iptables '
                            'package (Debian: apt-get install iptables) or use backend: auto')
    rc, out, err = tools.run(['iptables', '-V'])
    if rc != 0:
        raise HostError('iptables -V failed (rc %s): %s' % (rc, (err or out).strip()))
    return Backend('iptables', iptables_variant(out), (4,) + ((6,) if _ipv6_managed(tools, spec) else ()))


def _ipv6_managed(tools: Tools, spec: FirewallSpec) -> bool:
    """IPv6 is closed too when asked, when IPv6 sources are given, or (by default) when ip6tables works."""
    if spec.ipv6 is False:
        return False
    usable = tools.which('ip6tables') is not None and tools.which('ip6tables-restore') is not None and \
        tools.run(['ip6tables'] + list(WAIT) + ['-S', 'INPUT'])[0] == 0
    if not usable and (spec.ipv6 or spec.ipv6_sources):
        raise PlanningError('IPv6 is asked for (ipv6: true or IPv6 allowed_sources) but ip6tables does not work on this '
                            'host; install ip6tables / load ip6_tables, or set ipv6: false and drop the IPv6 sources')
    return usable


def read_chain(tools: Tools, chain: str, family: int) -> ChainState:
    rc, out, err = tools.run([IPTABLES[family]] + list(WAIT) + ['-S'])
    if rc != 0:
        raise HostError('%s -S failed (rc %s): %s; check that the filter table can be read (root, xtables lock)'
                        % (IPTABLES[family], rc, (err or out).strip()))
    return parse_iptables_listing(out, chain, family)


def read_nft_table(tools: Tools, table: str) -> Optional[Tuple[str, ...]]:
    """The rules of ``inet <table>``, or None when the table does not exist."""
    rc, out, err = tools.run(['nft', 'list', 'table', 'inet', table])
    if rc == 0:
        return parse_nft_table(out)
    if 'No such file or directory' in (err or ''):
        return None
    raise HostError('nft list table inet %s failed (rc %s): %s' % (table, rc, (err or out).strip()))


def unit_enabled(tools: Tools, unit: str) -> bool:
    rc, out, dummy = tools.run(['systemctl', 'is-enabled', unit])
    return rc == 0 and out.strip() == 'enabled'
