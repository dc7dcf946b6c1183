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
import ipaddress
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.plugin_utils import reach_gateway, reach_sample, verify_mtu as mtus

REACH = 'reach'
ISOLATED = 'isolated'
# Nothing verify reads can tell what this pair should do (see reach_gateway): not checked.
UNKNOWN = 'unknown'
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


def _subnets(network):
    pools = ((network.get('ipam') or {}).get('config')) or []
    return [pool['subnet'] for pool in pools if pool.get('subnet') and ':' not in pool['subnet']]


def _target(network, default_mtu=0):
    mtu, mtu_why = mtus.expected_mtu(network, default_mtu)
    return dict(name=network['name'], driver=network.get('driver'), scope=network.get('scope'),
                internal=bool(network.get('internal')), gateway_mode=reach_gateway.gateway_mode(network),
                subnets=_subnets(network), mtu=mtu, mtu_why=mtu_why)


def verify_targets(host_networks, fleet_networks=None, label='netfleet.managed', declared=None, names=None,
                   default_mtu=0):
    """The networks one host probes.

    ``names`` (verify_networks) replaces both the label and the declared overlays. Otherwise: the host's
    networks with ``label``, and the declared overlays (``overlay_networks``) that exist on some host
    of the fleet (a worker lists a swarm overlay only once something attaches there). A declared overlay
    no host has is not this run's: it is not probed. Each target carries the MTU its probes should see
    (``default_mtu``: the fleet's daemon mtu, expected on bridges without an mtu option; see verify_mtu).
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
            targets.append(_target(net, default_mtu))
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
        probes.append(_probe(host, name, parts[2], by_name[parts[1]]))
    return probes


def _subnet_of(address, subnets):
    for subnet in subnets or []:
        try:
            if ipaddress.ip_address(address) in ipaddress.ip_network(subnet, strict=False):
                return subnet
        except ValueError:
            continue
    return None


def _probe(host, name, address, net):
    return dict(id='%s:%s/%s' % (host, net['name'], name.split('-')[-1]), host=host, network=net['name'],
                ip=address, name=name, driver=net.get('driver'),
                multi_host=net.get('driver') in MULTI_HOST_DRIVERS or net.get('scope') in FLEET_SCOPES,
                fleet_dns=net.get('scope') in FLEET_SCOPES, internal=bool(net.get('internal')),
                gateway_mode=net.get('gateway_mode'), subnet=_subnet_of(address, net.get('subnets')),
                mtu=net.get('mtu'), mtu_why=net.get('mtu_why'))


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
            if len(parts) == 3 and '>' in parts[0]:   # the probes' 'mtu <container> <value>' lines are not pairs
                seen[parts[0]] = dict(ping=parts[1] == '1', dns=parts[2] == '1')
    return seen


def verify_routes(hosts, hostvars, register='verify_route_table'):
    """{host: ``ip -4 route show`` lines} for the hosts that registered their route table."""
    routes = {}
    for host in hosts:
        host_vars = hostvars.get(host) if isinstance(hostvars, Mapping) else None
        result = host_vars.get(register) if isinstance(host_vars, Mapping) else None
        if isinstance(result, Mapping) and isinstance(result.get('stdout_lines'), list) and not result.get('skipped'):
            routes[host] = result['stdout_lines']
    return routes


def derived_expectation(source, target):
    if source['network'] != target['network']:
        return ISOLATED
    if source['host'] == target['host'] or target.get('multi_host'):
        return REACH
    return ISOLATED


def _holders(probes):
    """(host, network, address) -> ids of the probes holding it, to find shadowed addresses at once."""
    held = {}
    for probe in probes:
        held.setdefault((probe['host'], probe['network'], probe['ip']), set()).add(probe['id'])
    return held


def _shadowed(source, target, held):
    holders = held.get((source['host'], source['network'], target['ip'])) or set()
    return bool(holders - set([target['id']]))


def signals(source, target, probes, held=None):
    """What can tell this pair's outcome: ping, name resolution, both, or nothing.

    - Ping cannot tell when the target's address is also held on the source's host in its network
      (the same subnet on every host): the ping would reach that local container instead.
    - Name resolution cannot tell across hosts on a network whose DNS is per host (local scope:
      macvlan, ipvlan): the engine only knows its own containers.
    """
    shadowed = _shadowed(source, target, held if held is not None else _holders(probes))
    per_host_dns = (source['host'] != target['host'] and source['network'] == target['network']
                    and target.get('multi_host') and not target.get('fleet_dns', True))
    if shadowed and per_host_dns:
        return ''
    if shadowed:
        return DNS
    return PING if per_host_dns else BOTH


def _expected(source, target, rules, held, routes):
    """(expect, why, check) of one pair: derived, then the target's gateway mode, then declared rules.

    A pair the gateway mode makes reachable is read from ping (names do not resolve across networks
    or across hosts on a bridge); one that nothing here can tell is ``unknown`` and not checked,
    unless a rule declares it.
    """
    expect, why = derived_expectation(source, target), 'derived'
    by_gateway = reach_gateway.gateway_expectation(source, target, routes)
    if by_gateway is not None:
        expect, why = by_gateway[0] or UNKNOWN, by_gateway[1]
    for rule in rules:
        if _matches(rule['from'], source) and _matches(rule['to'], target):
            expect, why = rule['expect'], 'declared'
    if expect == UNKNOWN:
        return expect, why, ''
    if by_gateway is not None and expect == REACH:
        return expect, why, '' if _shadowed(source, target, held) else PING
    return expect, why, signals(source, target, None, held)


def _check_rules(rules):
    for rule in rules:
        if rule.get('expect') not in (REACH, ISOLATED) or not rule.get('from') or not rule.get('to'):
            raise AnsibleFilterError("verify rule %r needs from, to and expect: reach|isolated" % (rule,))


def _unique_probes(probes):
    probes = sorted(probes, key=lambda probe: probe['id'])
    ids = [probe['id'] for probe in probes]
    if len(set(ids)) != len(ids):
        raise AnsibleFilterError('probe ids are not unique: %s' % sorted(set(i for i in ids if ids.count(i) > 1)))
    return probes


def reach_plan(probes, rules=None, mode=reach_sample.FULL, routes=None):
    """The ordered pairs (source, target) to check, each with the expected outcome.

    ``mode`` full pairs every probe with every other probe; sample picks the pairs of
    ``reach_sample`` (hosts x networks). ``routes`` maps a host to its ``ip -4 route show`` lines,
    read when a bridge's gateway mode lets other hosts route to it.
    """
    rules = rules or []
    _check_rules(rules)
    if mode not in reach_sample.MODES:
        raise AnsibleFilterError('verify mode %r: choose one of %s' % (mode, ', '.join(reach_sample.MODES)))
    probes = _unique_probes(probes)
    held = _holders(probes)
    pairs = reach_sample.sample_pairs(probes) if mode == reach_sample.SAMPLE else reach_sample.all_pairs(probes)
    plan = []
    for source, target in pairs:
        expect, why, check = _expected(source, target, rules, held, routes or {})
        plan.append(dict(source=source['id'], source_host=source['host'], source_container=source['name'],
                         source_network=source['network'], target=target['id'], target_host=target['host'],
                         target_network=target['network'], target_ip=target['ip'], target_name=target['name'],
                         same_network=source['network'] == target['network'], expect=expect, why=why,
                         check=check))
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


def _cell(cell, expected):
    if cell == 'unchecked':
        return '   ~'
    if cell == expected:
        return '   R' if cell == REACH else '   -'
    if cell == 'missing':
        return '  ?!'
    return '  X!' if expected == REACH else '  L!'


def _matrix_lines(plan, cells, unchecked):
    """One row per probe: the printable matrix (P x P characters: for a few hosts only)."""
    ids = list(dict.fromkeys(probe_id for pair in plan for probe_id in (pair['source'], pair['target'])))
    index = dict((probe_id, 'P%d' % number) for number, probe_id in enumerate(ids, 1))
    expected = dict(('%s>%s' % (p['source'], p['target']), p['expect']) for p in plan)
    lines = ['legend: ' + ', '.join('%s=%s' % (index[i], i) for i in ids),
             'cells: R reach, - isolated, as expected; X! must reach but does not, L! must be isolated but leaks, ?! missing'
             + (', ~ cannot be told (address held on both hosts, per-host DNS, or routes beyond the hosts)'
                if unchecked else ''),
             '      ' + ' '.join('%4s' % index[i] for i in ids)]
    for source in ids:
        row = []
        for target in ids:
            key = '%s>%s' % (source, target)
            if source == target:
                row.append('   .')
            elif key not in cells:
                row.append('    ')
            else:
                row.append(_cell(cells[key], expected[key]))
        lines.append('%5s ' % index[source] + ' '.join(row))
    return lines


def reach_matrix(plan, observations, table=True):
    """Compare observations with the plan; return cells, mismatches and a printable matrix.

    ``observations`` maps 'source>target' to {'ping': bool, 'dns': bool}. A pair must reach
    when both ping and name resolution succeed, and is isolated when neither does; a pair whose
    plan reads one signal only (see ``signals``) is read from that one. With ``table`` false the
    matrix is left out (large fleets: see verify_summary) and ``table`` holds the count line only.
    """
    cells, mismatches = {}, []
    for pair in plan:
        key = '%s>%s' % (pair['source'], pair['target'])
        outcome = observed_outcome(observations.get(key), pair.get('check', BOTH))
        cells[key] = outcome
        if outcome not in (pair['expect'], 'unchecked'):
            mismatches.append(dict(pair, observed=outcome))
    unchecked = sum(1 for outcome in cells.values() if outcome == 'unchecked')
    lines = _matrix_lines(plan, cells, unchecked) if table else []
    expected = len(plan) - len(mismatches) - unchecked
    lines.append('%d pairs, %d as expected, %d mismatches' % (len(plan), expected, len(mismatches))
                 + (', %d not checkable' % unchecked if unchecked else ''))
    return dict(cells=cells, mismatches=mismatches, table=lines, ok=not mismatches)


def verify_mtu(result, probes, hosts, hostvars, register='verify_run'):
    """The reach_matrix result with ``mtu``: every probe's MTU (its ``mtu <container> <value>`` line in the
    registered probe run) against its network's expected MTU; ``ok`` is false on any MTU mismatch."""
    if not isinstance(result, Mapping) or 'cells' not in result:
        raise AnsibleFilterError('verify_mtu needs the output of reach_matrix, not %r' % (type(result).__name__,))
    lines = []
    for host in hosts or []:
        lines.extend(_registered_lines(hostvars.get(host) if isinstance(hostvars, Mapping) else None, register))
    verdict = mtus.check(probes, mtus.seen_mtus(lines))
    verdict['lines'] = [mtus.describe(mismatch) for mismatch in verdict['mismatches']]
    return dict(result, mtu=verdict, ok=bool(result.get('ok')) and verdict['ok'])


class FilterModule:
    def filters(self):
        return dict(reach_plan=reach_plan, reach_matrix=reach_matrix, verify_targets=verify_targets,
                    verify_probes=verify_probes, reach_observations=reach_observations, verify_routes=verify_routes,
                    verify_mtu=verify_mtu)
