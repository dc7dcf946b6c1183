# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml's fast path, on the controller: the fleet's declaration digest, what each host fingerprints,
and whether the whole fleet is as the last complete converge left it.

The decision is all or nothing: a single host without a matching record, a moved part anywhere, or a
declaration (or collection) that differs from the recorded one sends the whole fleet down the full
path, where every role plans as always. Per-host shortcuts would have to know which roles look at
other hosts (the plan, the swarm): the fleet-wide rule needs no such knowledge.
"""

from __future__ import annotations

import hashlib
import os

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.netfleet.docker.plugins.module_utils._common.fingerprint import digest
from ansible_collections.netfleet.docker.plugins.module_utils._daemon.daemon_task import DEFAULT_DROPIN
from ansible_collections.netfleet.docker.plugins.module_utils._host.forwarding import (
    DEFAULT_DAEMON_CONFIG, DEFAULT_MODULES_LOAD_FILE, DEFAULT_SYSCTL_FILE)

# Variables of the fleet's declaration: every prefix a role or site.yml reads.
PREFIXES = ('fleet_', 'networks_', 'daemon_', 'overlay_', 'kv_store_', 'firewall_')
# Facts site.yml and the roles set during a run (present only with fact caching): not declarations.
RUNTIME_FACTS = frozenset((
    'fleet_plan', 'fleet_swarm_settings', 'fleet_ingress_subnet', 'fleet_daemon_wanted', 'fleet_host_routes',
    'fleet_daemon_json', 'fleet_engine_facts', 'fleet_declaration', 'fleet_fingerprint', 'fleet_unchanged',
    'networks_result', 'networks_forwarding_result', 'daemon_result', 'daemon_rollout_needed',
    'daemon_engine_role', 'daemon_lease_owner', 'overlay_facts',
))
SYSCTL_DIRECTORIES = ('/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d')
FORWARDING_SYSCTLS = ('net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.ipv6.conf.default.forwarding',
                      'net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables')
# The defaults of the modules the roles call (daemon_config, ip_forward): the files the roles write by default.
DEFAULT_FILES = dict(daemon_config_path=DEFAULT_DAEMON_CONFIG, daemon_flag_dropin_path=DEFAULT_DROPIN,
                     sysctl_file=DEFAULT_SYSCTL_FILE, modules_load_file=DEFAULT_MODULES_LOAD_FILE)
CODE_DIRECTORIES = ('plugins', 'roles', 'playbooks')
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


_code_digests = {}


def code_digest(root=COLLECTION_ROOT):
    """The digest of the collection's plugins, roles and playbooks: new code is a new declaration."""
    if root not in _code_digests:
        hasher = hashlib.sha256()
        for directory in CODE_DIRECTORIES:
            for base, dirs, names in os.walk(os.path.join(root, directory)):
                dirs[:] = sorted(name for name in dirs if name != '__pycache__')
                for name in sorted(names):
                    if name.endswith('.pyc'):
                        continue
                    path = os.path.join(base, name)
                    hasher.update(os.path.relpath(path, root).encode('utf-8') + b'\0')
                    with open(path, 'rb') as handle:
                        hasher.update(hashlib.sha256(handle.read()).digest())
        _code_digests[root] = hasher.hexdigest()
    return _code_digests[root]


def is_declaration(name):
    return name.startswith(PREFIXES) and name not in RUNTIME_FACTS


def _names(items):
    return [item['name'] for item in items or [] if isinstance(item, dict) and item.get('name')]


def _flag(declared, name, default=False):
    # -e name=false passes the string 'false': read it as site.yml's `| bool` does
    return boolean(declared.get(name, default), strict=False)


def uncovered(declared):
    """Why this host's declaration needs the full path every time (what the fingerprint does not read)."""
    reasons = []
    if not _flag(declared, 'fleet_fast_path', True):
        reasons.append('fleet_fast_path is false')
    if _flag(declared, 'fleet_overlay') and declared.get('overlay_backend', 'swarm') == 'kv':
        reasons.append('the KV-store backend (its etcd containers) is not fingerprinted')
    if _flag(declared, 'fleet_firewall'):
        reasons.append("the control-plane firewall's rules are not fingerprinted")
    if declared.get('networks_macvlan'):
        reasons.append('macvlan networks (their host shims) are not fingerprinted')
    return reasons


def _interface_sysctl(family, interface, leaf):
    # a VLAN's name holds a dot (eth0.10): slashes separate then, as in sysctl.d(5)
    form = 'net/ipv%d/conf/%s/%s' if '.' in interface else 'net.ipv%d.conf.%s.%s'
    return form % (family, interface, leaf)


def fingerprint_inputs(declared, group_names):
    """The state_fingerprint options for one host: what its roles would read and act on."""
    by_group = declared.get('networks_by_group') or {}
    networks = []
    for group in group_names:
        networks.extend(_names(by_group.get(group)))
    networks.extend(_names(declared.get('networks_host')))
    if _flag(declared, 'fleet_overlay'):
        networks.extend(_names(declared.get('overlay_networks')))
        networks.append('ingress')
    forwarding = declared.get('networks_forwarding') or {}
    sysctls = list(FORWARDING_SYSCTLS)
    for interface in forwarding.get('interfaces') or []:
        if isinstance(interface, dict) and interface.get('name'):
            sysctls += [_interface_sysctl(4, interface['name'], 'forwarding'),
                        _interface_sysctl(6, interface['name'], 'forwarding')]
    # ip_forward keeps accept_ra at 2 on uplinks (with ipv6): its runtime value is the role's too
    sysctls += [_interface_sysctl(6, str(name), 'accept_ra') for name in forwarding.get('uplinks') or [] if name]
    paths = [declared.get('daemon_config_path') or DEFAULT_FILES['daemon_config_path'],
             declared.get('daemon_flag_dropin_path') or DEFAULT_FILES['daemon_flag_dropin_path'],
             forwarding.get('sysctl_file') or DEFAULT_FILES['sysctl_file'],
             forwarding.get('modules_load_file') or DEFAULT_FILES['modules_load_file'],
             '/etc/sysctl.conf']
    return dict(networks=sorted(set(networks)), files=paths, directories=list(SYSCTL_DIRECTORIES),
                sysctls=sysctls, routes='fleet_plan_supernets' in declared)


def fleet_declaration(declarations, code=None):
    """``declarations``: {host: {'vars': {...}, 'group_names': [...]} or {'error': text}}.

    Returns the fleet's digest (every host's declaration, the host list and the collection's code),
    whether the fast path may be taken at all (``covered``, with ``reasons`` otherwise) and each
    host's state_fingerprint options (``inputs``).
    """
    reasons, inputs, hashed = [], {}, {}
    if not code:
        try:
            code = code_digest()
        except OSError as exc:
            # an unreadable file of the collection costs the fast path, never the run
            code = None
            reasons.append("the collection's code could not be read (%s)" % exc)
    for host in sorted(declarations):
        entry = declarations[host]
        if 'error' in entry:
            reasons.append('%s: its variables could not be read (%s)' % (host, entry['error']))
            continue
        hashed[host] = dict(vars=entry['vars'], groups=sorted(entry['group_names']))
        inputs[host] = fingerprint_inputs(entry['vars'], entry['group_names'])
        reasons.extend('%s: %s' % (host, reason) for reason in uncovered(entry['vars']))
    return dict(fleet=digest(dict(code=code, hosts=hashed)), covered=not reasons, reasons=reasons, inputs=inputs)


def fleet_unchanged(results, declaration):
    """Whether every host's fingerprint and the fleet's declaration equal the records, and if not, why.

    ``results``: {host: the state_fingerprint result, or None when the host gave none}.
    """
    if not declaration.get('covered'):
        return dict(unchanged=False, reasons=list(declaration.get('reasons') or ['no declaration']), recorded_at=None,
                    hosts={})
    reasons, times = [], []
    for host in sorted(results):
        result = results[host]
        if not result or result.get('failed') or result.get('unreachable') or 'fingerprint' not in result:
            reasons.append('%s: no fingerprint (%s)' % (host, (result or {}).get('msg') or 'the task did not run'))
            continue
        if not result.get('supported'):
            reasons.append('%s: no fingerprint (the engine is not on a local unix socket)' % host)
            continue
        recorded = result.get('recorded')
        if not recorded:
            reasons.append('%s: no record of a complete converge' % host)
            continue
        if recorded.get('declaration') != declaration['fleet']:
            reasons.append('%s: the declaration, the fleet or the collection changed since %s'
                           % (host, recorded.get('recorded_at')))
        elif result.get('moved'):
            reasons.append('%s: moved since %s: %s' % (host, recorded.get('recorded_at'), ', '.join(result['moved'])))
        times.append(recorded.get('recorded_at') or '')
    if not results:
        reasons.append('no host to check')
    unchanged = not reasons
    return dict(unchanged=unchanged, reasons=reasons, recorded_at=min(times) if times and unchanged else None,
                hosts=fast_path_summary(results) if unchanged else {})


def fast_path_summary(results):
    """The per-host summary site.yml gives AWX (set_stats fleet_hosts) when the fast path skipped the summary play:
    every network the host has, unchanged."""
    return dict((host, dict(networks=dict((name, 'unchanged') for name in result.get('networks') or []),
                            planned={}, path='fast'))
                for host, result in results.items())
