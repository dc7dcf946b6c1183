# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expected and observed reachability between probe containers, and the matrix verify.yml prints.

A probe is one container on one network on one host. What must reach what is derived from the
networks (same network and either the same host or a multi-host network: reach; anything else:
isolated) unless the inventory declares otherwise.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

REACH = 'reach'
ISOLATED = 'isolated'
PROBED_DRIVERS = ('bridge', 'overlay', 'macvlan', 'ipvlan')
MULTI_HOST_DRIVERS = ('overlay', 'macvlan', 'ipvlan')
FLEET_SCOPES = ('swarm', 'global')
# What a pair's outcome is read from: both signals, or one when the other cannot tell.
BOTH = 'ping+dns'
PING = 'ping'
DNS = 'dns'


def _matches(pattern, probe):
    # Rules name host:network; several probes of one network on one host share that name.
    return fnmatch.fnmatchcase('%s:%s' % (probe['host'], probe['network']), pattern)


def _probed(network):
    return not network.get('config_only') and network.get('driver') in PROBED_DRIVERS


def _target(network):
    return dict(name=network['name'], driver=network.get('driver'), scope=network.get('scope'))


def verify_targets(host_networks, fleet_networks=None, label='netfleet.managed', declared=None, names=None):
    """The networks one host probes.

    ``names`` (verify_networks) replaces both the label and the declared overlays. Otherwise: the host's
    networks with ``label``, and the declared overlays (``overlay_networks``) that exist on some host
    of the fleet (a worker lists a swarm overlay only once something attaches there). A declared overlay
    no host has is not this run's: it is not probed.
    """
    host_networks, fleet_networks = list(host_networks or []), list(fleet_networks or [])
    local = [net for net in host_networks if _probed(net)]
    fleet_overlays = dict((net['name'], net) for net in fleet_networks
                          if _probed(net) and net.get('scope') in FLEET_SCOPES)
    if names is not None:
        known = set(net['name'] for net in fleet_networks + host_networks)
        unknown = [name for name in names if name not in known]
        if unknown:
            raise AnsibleFilterError('verify_networks names networks no host of the play has: %s' % ', '.join(unknown))
        wanted = list(names)
    else:
        wanted = [net['name'] for net in local if label in (net.get('labels') or {})]
        wanted += [name for name in declared or [] if name in fleet_overlays]
    local_by_name = dict((net['name'], net) for net in local)
    targets = []
    for name in dict.fromkeys(wanted):
        net = local_by_name.get(name) or fleet_overlays.get(name)
        if net:
            targets.append(_target(net))
    return targets


def verify_probes(lines, host, targets):
    """This host's probes from ``docker inspect -f '{{.Name}} {{range ...}}{{$k}} {{$v.IPAddress}}{{end}}'`` lines."""
    by_name = dict((net['name'], net) for net in targets or [])
    probes = []
    for line in lines or []:
        parts = line.split()
        if len(parts) < 2 or parts[1] not in by_name:
            continue
        name = parts[0].lstrip('/')
        if len(parts) < 3:
            raise AnsibleFilterError('%s: probe %s on network %s has no IPv4 address (verify checks IPv4 only); '
                                     'leave the network out with verify_networks' % (host, name, parts[1]))
        net = by_name[parts[1]]
        probes.append(dict(id='%s:%s/%s' % (host, parts[1], name.split('-')[-1]), host=host, network=parts[1],
                           ip=parts[2], name=name,
                           multi_host=net.get('driver') in MULTI_HOST_DRIVERS or net.get('scope') in FLEET_SCOPES,
                           fleet_dns=net.get('scope') in FLEET_SCOPES))
    return probes


def _registered_lines(host_vars, register):
    result = host_vars.get(register) if isinstance(host_vars, Mapping) else None
    lines = result.get('stdout_lines') if isinstance(result, Mapping) else None
    return lines if isinstance(lines, list) else []


def reach_observations(hosts, hostvars, register='verify_run'):
    """{'source>target': {ping, dns}} from every host's registered probe run (lines ``source>target P D``)."""
    seen = {}
    for host in hosts:
        for line in _registered_lines(hostvars.get(host) if isinstance(hostvars, Mapping) else None, register):
            parts = line.split()
            if len(parts) == 3:
                seen[parts[0]] = dict(ping=parts[1] == '1', dns=parts[2] == '1')
    return seen


def derived_expectation(source, target):
    if source['network'] != target['network']:
        return ISOLATED
    if source['host'] == target['host'] or target.get('multi_host'):
        return REACH
    return ISOLATED


def signals(source, target, probes):
    """What can tell this pair's outcome: ping, name resolution, both, or nothing.

    - Ping cannot tell when the target's address is also held on the source's host in its network
      (the same subnet on every host): the ping would reach that local container instead.
    - Name resolution cannot tell across hosts on a network whose DNS is per host (local scope:
      macvlan, ipvlan): the engine only knows its own containers.
    """
    shadowed = any(probe['host'] == source['host'] and probe['network'] == source['network']
                   and probe['ip'] == target['ip'] and probe['id'] != target['id'] for probe in probes)
    per_host_dns = (source['host'] != target['host'] and source['network'] == target['network']
                    and target.get('multi_host') and not target.get('fleet_dns', True))
    if shadowed and per_host_dns:
        return ''
    if shadowed:
        return DNS
    return PING if per_host_dns else BOTH


def _expected(source, target, rules):
    expect, why = derived_expectation(source, target), 'derived'
    for rule in rules:
        if _matches(rule['from'], source) and _matches(rule['to'], target):
            expect, why = rule['expect'], 'declared'
    return expect, why


def reach_plan(probes, rules=None):
    """Every ordered pair (source, target) of distinct probes with the expected outcome."""
    rules = rules or []
    for rule in rules:
        if rule.get('expect') not in (REACH, ISOLATED) or not rule.get('from') or not rule.get('to'):
            raise AnsibleFilterError("verify rule %r needs from, to and expect: reach|isolated" % (rule,))
    probes = sorted(probes, key=lambda probe: probe['id'])
    ids = [probe['id'] for probe in probes]
    if len(set(ids)) != len(ids):
        raise AnsibleFilterError('probe ids are not unique: %s' % sorted(set(i for i in ids if ids.count(i) > 1)))
    plan = []
    for source in probes:
        for target in probes:
            if source is target:
                continue
            expect, why = _expected(source, target, rules)
            plan.append(dict(source=source['id'], source_host=source['host'], source_container=source['name'],
                             target=target['id'], target_ip=target['ip'], target_name=target['name'],
                             same_network=source['network'] == target['network'], expect=expect, why=why,
                             check=signals(source, target, probes)))
    return plan


def observed_outcome(seen, check=BOTH):
    """reach, isolated, partial(...), missing, or unchecked, from the signals the pair is read from."""
    if not check:
        return 'unchecked'
    if seen is None:
        return 'missing'
    ping, dns = bool(seen.get('ping')), bool(seen.get('dns'))
    if check == PING:
        return REACH if ping else ISOLATED
    if check == DNS:
        return REACH if dns else ISOLATED
    if ping and dns:
        return REACH
    if not ping and not dns:
        return ISOLATED
    return 'partial(ping=%s,dns=%s)' % ('ok' if ping else 'no', 'ok' if dns else 'no')


def reach_matrix(plan, observations):
    """Compare observations with the plan; return cells, mismatches and a printable matrix.

    ``observations`` maps 'source>target' to {'ping': bool, 'dns': bool}. A pair must reach
    when both ping and name resolution succeed, and is isolated when neither does; a pair whose
    plan reads one signal only (see ``signals``) is read from that one.
    """
    cells, mismatches = {}, []
    for pair in plan:
        key = '%s>%s' % (pair['source'], pair['target'])
        outcome = observed_outcome(observations.get(key), pair.get('check', BOTH))
        cells[key] = outcome
        if outcome not in (pair['expect'], 'unchecked'):
            mismatches.append(dict(pair, observed=outcome))
    unchecked = sum(1 for outcome in cells.values() if outcome == 'unchecked')
    ids = []
    for pair in plan:
        for probe_id in (pair['source'], pair['target']):
            if probe_id not in ids:
                ids.append(probe_id)
    index = dict((probe_id, 'P%d' % number) for number, probe_id in enumerate(ids, 1))
    expected = dict(('%s>%s' % (p['source'], p['target']), p['expect']) for p in plan)
    lines = ['legend: ' + ', '.join('%s=%s' % (index[i], i) for i in ids),
             'cells: R reach, - isolated, as expected; X! must reach but does not, L! must be isolated but leaks, ?! missing'
             + (', ~ cannot be told apart (address held on both hosts, per-host DNS)' if unchecked else ''),
             '      ' + ' '.join('%4s' % index[i] for i in ids)]
    for source in ids:
        row = []
        for target in ids:
            key = '%s>%s' % (source, target)
            if source == target:
                row.append('   .')
            elif key not in cells:
                row.append('    ')
            elif cells[key] == 'unchecked':
                row.append('   ~')
            elif cells[key] == expected[key]:
                row.append('   R' if cells[key] == REACH else '   -')
            elif cells[key] == 'missing':
                row.append('  ?!')
            elif expected[key] == REACH:
                row.append('  X!')
            else:
                row.append('  L!')
        lines.append('%5s ' % index[source] + ' '.join(row))
    lines.append('%d pairs, %d as expected, %d mismatches' % (len(plan), len(plan) - len(mismatches) - unchecked,
                                                             len(mismatches))
                 + (', %d not checkable' % unchecked if unchecked else ''))
    return dict(cells=cells, mismatches=mismatches, table=lines, ok=not mismatches)


class FilterModule:
    def filters(self):
        return dict(reach_plan=reach_plan, reach_matrix=reach_matrix, verify_targets=verify_targets,
                    verify_probes=verify_probes, reach_observations=reach_observations)
