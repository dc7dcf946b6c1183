# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control-plane firewall's plan: immutable steps computed from what the host has, and their apply.

Each step's payload is the exact list of operations ``apply_operations`` performs (commands with
their stdin, files written or removed), so check mode and the unit tests see what a real run does.
A chain is replaced in one ``iptables-restore --noflush`` transaction (the chain declaration flushes
it): members are never cut off between a half-removed and a half-added rule set.

Order when present: chain (full before anything jumps to it), jump from INPUT, then persistence
(rules files, then the boot unit). When absent: jump first, then the chain, then persistence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import UNCHANGED, Step
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError
from ansible_collections.netfleet.docker.plugins.module_utils._host import firewall, firewall_state
from ansible_collections.netfleet.docker.plugins.module_utils._host.firewall_state import (
    IPTABLES, WAIT, Backend, ChainState, Tools)

HEADER = '# Managed by netfleet.docker.control_plane_firewall: edit the task, not this file.\n'


@dataclass(frozen=True)
class Command:
    args: Tuple[str, ...]
    data: Optional[str] = None
    tolerate_failure: bool = False


@dataclass(frozen=True)
class WriteFile:
    path: str
    text: str
    mode: int = 0o644


@dataclass(frozen=True)
class RemoveFile:
    path: str


# -- texts ------------------------------------------------------------------------------------

def chain_restore_text(chain: str, rules: Sequence[str]) -> str:
    """iptables-restore input that creates or flushes the chain and fills it, in one transaction."""
    lines = ['*filter', ':%s - [0:0]' % chain] + ['-A %s %s' % (chain, rule) for rule in rules] + ['COMMIT']
    return '\n'.join(lines) + '\n'


def jump_restore_text(chain: str, existing_jumps: int) -> str:
    """Remove every jump there is and put one first in INPUT, atomically."""
    lines = ['*filter'] + ['-D INPUT -j %s' % chain] * existing_jumps + ['-I INPUT 1 -j %s' % chain, 'COMMIT']
    return '\n'.join(lines) + '\n'


def removal_restore_text(chain: str, existing_jumps: int, chain_exists: bool) -> str:
    lines = ['*filter'] + ['-D INPUT -j %s' % chain] * existing_jumps
    if chain_exists:
        lines += ['-F %s' % chain, '-X %s' % chain]
    return '\n'.join(lines + ['COMMIT']) + '\n'


def iptables_boot_text(chain: str, rules: Sequence[str]) -> str:
    """The file the boot unit restores: the chain, then the jump (INPUT has none at boot)."""
    body = chain_restore_text(chain, rules).replace('COMMIT\n', '-I INPUT 1 -j %s\nCOMMIT\n' % chain)
    return HEADER + body


def nft_script(table: str, rules: Sequence[str]) -> str:
    """An nft script that replaces the table atomically (create-if-missing, delete, define)."""
    lines = [HEADER.rstrip('\n'), 'table inet %s {}' % table, 'delete table inet %s' % table,
             'table inet %s {' % table, '\tchain input {',
             '\t\ttype filter hook input priority filter - 10; policy accept;']
    lines += ['\t\t%s' % rule for rule in rules] + ['\t}', '}']
    return '\n'.join(lines) + '\n'


def unit_text(spec: firewall.FirewallSpec, backend: Backend, boot_files: Dict[str, str], binary: Callable) -> str:
    """The oneshot unit that puts the chain back at boot, before the network and Docker come up."""
    lines = [HEADER.rstrip('\n'), '[Unit]',
             'Description=netfleet control-plane firewall (%s: swarm/etcd ports open to the fleet only)' % spec.chain,
             'DefaultDependencies=no', 'Wants=network-pre.target',
             'After=local-fs.target systemd-modules-load.service netfilter-persistent.service',
             'Before=network-pre.target docker.service shutdown.target', 'Conflicts=shutdown.target', '',
             '[Service]', 'Type=oneshot', 'RemainAfterExit=yes']
    if backend.kind == 'nftables':
        lines.append('ExecStart=%s -f %s' % (binary('nft'), boot_files['nft']))
    for family in backend.families if backend.kind == 'iptables' else ():
        tool = IPTABLES[family]
        # A restart must not stack a second jump: drop the one there is first ('-' ignores "none").
        lines.append('ExecStartPre=-%s %s -D INPUT -j %s' % (binary(tool), ' '.join(WAIT), spec.chain))
        restore = binary(tool + '-restore')
        lines.append('ExecStart=%s %s --noflush %s' % (restore, ' '.join(WAIT), boot_files['v%d' % family]))
    lines += ['', '[Install]', 'WantedBy=multi-user.target']
    return '\n'.join(lines) + '\n'


def boot_file_paths(spec: firewall.FirewallSpec) -> Dict[str, str]:
    return dict((suffix, os.path.join(spec.rules_dir, '%s.%s' % (spec.chain, suffix))) for suffix in ('v4', 'v6', 'nft'))


# -- steps ------------------------------------------------------------------------------------

def _rule_changes(before: Sequence[str], after: Sequence[str]) -> Tuple[str, ...]:
    return tuple(['- %s' % rule for rule in before if rule not in after] +
                 ['+ %s' % rule for rule in after if rule not in before])


def _action(exists_before: bool, exists_after: bool, same: bool) -> str:
    if exists_before and exists_after:
        return UNCHANGED if same else 'updated'
    if exists_after:
        return 'created'
    return 'removed' if exists_before else UNCHANGED


def chain_step(spec: firewall.FirewallSpec, state: ChainState, present: bool) -> Step:
    """The chain of one family: its rules compared line by line with the wanted ones."""
    tool = IPTABLES[state.family]
    wanted = firewall.iptables_rules(spec, state.family) if present else []
    action = _action(state.exists, present, list(state.rules) == wanted)
    if action == 'removed':
        # The jumps go in the jump step, which runs first; an unexpected jump elsewhere fails -X loudly.
        payload = (Command((tool + '-restore',) + WAIT + ('--noflush',), removal_restore_text(spec.chain, 0, True)),)
    else:
        payload = (Command((tool + '-restore',) + WAIT + ('--noflush',), chain_restore_text(spec.chain, wanted)),)
    return Step(name='%s %s' % (tool, spec.chain), action=action,
                before=dict(rules=list(state.rules)) if state.exists else {},
                after=dict(rules=wanted) if present else {},
                changes=_rule_changes(state.rules, wanted), details=dict(family='ipv%d' % state.family),
                payload=payload if action != UNCHANGED else None)


def jump_step(spec: firewall.FirewallSpec, state: ChainState, present: bool) -> Step:
    """Exactly one jump, first in INPUT: nothing that accepts earlier can let a stranger past the chain."""
    tool = IPTABLES[state.family]
    positions = state.jump_positions(spec.chain)
    rule = '-j %s' % spec.chain
    if present:
        action = UNCHANGED if positions == [0] else ('updated' if positions else 'created')
        text = jump_restore_text(spec.chain, len(positions))
    else:
        action = 'removed' if positions else UNCHANGED
        text = removal_restore_text(spec.chain, len(positions), False)
    return Step(name='%s INPUT' % tool, action=action,
                before=dict(jump=rule, positions=[index + 1 for index in positions]) if positions else {},
                after=dict(jump=rule, positions=[1]) if present else {},
                changes=('jump to %s first in INPUT' % spec.chain,) if action != UNCHANGED else (),
                details=dict(family='ipv%d' % state.family),
                payload=(Command((tool + '-restore',) + WAIT + ('--noflush',), text),) if action != UNCHANGED else None)


def nft_step(spec: firewall.FirewallSpec, current: Optional[Sequence[str]], present: bool, ipv6: bool) -> Step:
    """The native nftables table, replaced as a whole by one ``nft -f`` transaction when it differs."""
    wanted = firewall.nft_rules(spec, ipv6) if present else []
    action = _action(current is not None, present, list(current or ()) == wanted)
    if action == 'removed':
        payload = (Command(('nft', 'delete', 'table', 'inet', spec.table)),)
    else:
        payload = (Command(('nft', '-f', '-'), nft_script(spec.table, wanted)),)
    return Step(name='nftables inet %s' % spec.table, action=action,
                before=dict(rules=list(current)) if current is not None else {},
                after=dict(rules=wanted) if present else {},
                changes=_rule_changes(current or (), wanted),
                payload=payload if action != UNCHANGED else None)


def file_step(path: str, current: Optional[str], wanted: Optional[str], extra: Tuple = ()) -> Step:
    """A file this module owns: written when it differs, removed when no longer wanted."""
    action = _action(current is not None, wanted is not None, current == wanted)
    if action == 'removed':
        payload = (RemoveFile(path),) + extra
    else:
        payload = (WriteFile(path, wanted),) + extra if wanted is not None else extra
    return Step(name=path, action=action, before=current or '', after=wanted or '',
                changes=('content',) if action != UNCHANGED else (), payload=payload if action != UNCHANGED else None)


def unit_step(spec: firewall.FirewallSpec, current: Optional[str], wanted: Optional[str], enabled: bool) -> Step:
    """The boot unit: written and enabled, or disabled and removed; daemon-reload after either."""
    path = os.path.join(spec.unit_dir, spec.unit)
    reload = Command(('systemctl', 'daemon-reload'))
    if wanted is None:
        disable = (Command(('systemctl', 'disable', spec.unit), tolerate_failure=True),) if current is not None else ()
        step = file_step(path, current, None, (reload,))
        return replace(step, payload=disable + step.payload if step.payload else None)
    step = file_step(path, current, wanted, (reload, Command(('systemctl', 'enable', spec.unit))))
    if step.action == UNCHANGED and not enabled:
        return replace(step, action='enabled', changes=('enabled',),
                       payload=(Command(('systemctl', 'enable', spec.unit)),))
    return step


def firewall_steps(spec: firewall.FirewallSpec, tools: Tools, backend: Backend) -> List[Step]:
    """The chain / jump (iptables, per family) or table (nftables) steps, in apply order."""
    present = spec.state == 'present'
    if backend.kind == 'nftables':
        return [nft_step(spec, firewall_state.read_nft_table(tools, spec.table), present, 6 in backend.families)]
    steps: List[Step] = []
    for family in (4, 6):
        wanted = present and family in backend.families
        state = _chain_state(tools, spec, family, managed=family in backend.families)
        if state is None:
            continue
        chain, jump = chain_step(spec, state, wanted), jump_step(spec, state, wanted)
        steps += [chain, jump] if wanted else [jump, chain]
    return steps


def _chain_state(tools: Tools, spec: firewall.FirewallSpec, family: int, managed: bool) -> Optional[ChainState]:
    """The family's chain; for a family no longer managed (ipv6: false now) only to remove what an
    earlier run left there, so a host whose ip6tables does not work is simply skipped."""
    if managed:
        return firewall_state.read_chain(tools, spec.chain, family)
    if tools.which(IPTABLES[family]) is None:
        return None
    try:
        return firewall_state.read_chain(tools, spec.chain, family)
    except HostError:
        return None


def persistence_steps(spec: firewall.FirewallSpec, tools: Tools, backend: Backend,
                      read_file: Callable[[str], Optional[str]]) -> List[Step]:
    """The boot files (wanted ones written, the others removed) and the unit that restores them."""
    present = spec.state == 'present' and spec.persist
    paths = boot_file_paths(spec)
    wanted: Dict[str, Optional[str]] = dict.fromkeys(paths)
    if present and backend.kind == 'nftables':
        wanted['nft'] = nft_script(spec.table, firewall.nft_rules(spec, 6 in backend.families))
    for family in backend.families if present and backend.kind == 'iptables' else ():
        wanted['v%d' % family] = iptables_boot_text(spec.chain, firewall.iptables_rules(spec, family))
    steps = [file_step(paths[key], read_file(paths[key]), wanted[key]) for key in ('v4', 'v6', 'nft')]
    unit_path = os.path.join(spec.unit_dir, spec.unit)
    unit = unit_text(spec, backend, paths, lambda name: tools.which(name) or name) if present else None
    steps.append(unit_step(spec, read_file(unit_path), unit, present and firewall_state.unit_enabled(tools, spec.unit)))
    # Files that neither exist nor are wanted are not worth a line in the result.
    return [step for step in steps if step.action != UNCHANGED or step.before]


# -- apply ------------------------------------------------------------------------------------

def apply_operations(operations: Sequence, tools: Tools) -> Dict[str, List[str]]:
    """Perform a step's operations in order; the first failure stops it, naming what was done."""
    done: List[str] = []
    for operation in operations:
        if isinstance(operation, WriteFile):
            files.write_atomic(operation.path, operation.text, mode=operation.mode, make_dirs=True)
            done.append('wrote %s' % operation.path)
        elif isinstance(operation, RemoveFile):
            files.remove_durably(operation.path)
            done.append('removed %s' % operation.path)
        else:
            rc, out, err = tools.run(list(operation.args), data=operation.data)
            if rc != 0 and not operation.tolerate_failure:
                raise HostError('%s failed (rc %s): %s' % (' '.join(operation.args), rc, (err or out).strip()),
                                step_details=dict(done=done))
            done.append(' '.join(operation.args))
    return dict(done=done)
