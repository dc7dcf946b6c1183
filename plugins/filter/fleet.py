# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What playbooks/site.yml hands the fleet address planner, computed here instead of in Jinja.

- ``host_claims``: the routes and addresses each host already has (corporate LAN, VPN, underlay),
  read from ``ip -j -4 route show table all && echo @@ && ip -j -4 addr show``, leaving out
  Docker's own interfaces: those are the plan's earlier allocations, not obstacles, and counting
  them would make the plan move itself.
- ``planned_networks``: the networks of ``networks_by_group`` that ask the planner for a subnet.
- ``planned_daemon_options``: one host's ``bip`` and ``default-address-pools`` from the plan.
- ``fleet_claims``: what each host already has, read back (daemon.json slurped, docker_net_info of
  the declared networks), as the planner's ``claims``, ``swarm_claims`` and ``unread``: the fleet
  is the source of truth of the plan, the state file only a cache.
- ``planned_swarm_settings``: the swarm pool the overlay role gets, the plan's or an explicit
  ``overlay_default_addr_pool``, failing when both are given and differ.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.module_utils._common.fingerprint import DOCKER_OWNED_DEVICE

ROUTES_SEPARATOR = '@@'


def _parse_json(text, what, host):
    try:
        return json.loads(text) if text.strip() else []
    except ValueError as exc:
        raise AnsibleFilterError('%s: cannot read the output of %s (%s)' % (host, what, exc))


def parse_host_claims(output, host='host'):
    """CIDRs a host already uses, from the two ``ip -j`` outputs separated by ``@@``. Pure."""
    if ROUTES_SEPARATOR not in output:
        raise AnsibleFilterError("%s: expected 'ip -j -4 route show table all', '%s', 'ip -j -4 addr show'; got %r"
                                 % (host, ROUTES_SEPARATOR, output[:200]))
    routes_text, addrs_text = output.split(ROUTES_SEPARATOR, 1)
    cidrs = []
    for route in _parse_json(routes_text, 'ip -j -4 route', host):
        if (route.get('dst') != 'default' and 'dev' in route and not DOCKER_OWNED_DEVICE.match(route['dev'])
                and route.get('type', 'unicast') == 'unicast'):
            cidrs.append(route['dst'])
    for link in _parse_json(addrs_text, 'ip -j -4 addr', host):
        if DOCKER_OWNED_DEVICE.match(link.get('ifname', '')):
            continue
        for addr in link.get('addr_info') or []:
            cidrs.append('%s/32' % addr['local'])
    return list(dict.fromkeys(cidrs))


def _registered_stdout(host_vars, register):
    result = host_vars.get(register) if isinstance(host_vars, Mapping) else None
    if not isinstance(result, Mapping):
        return None
    stdout = result.get('stdout')
    return stdout if isinstance(stdout, str) else None


def host_claims(hosts, hostvars, register='fleet_host_routes'):
    """{host: [cidr, ...]} for every host whose registered ``ip -j`` output exists (others are left out)."""
    found = {}
    for host in hosts:
        stdout = _registered_stdout(hostvars.get(host) if isinstance(hostvars, Mapping) else None, register)
        if stdout is not None:
            found[host] = parse_host_claims(stdout, host)
    return found


def planned_networks(networks_by_group, default_supernet='fleet'):
    """The planner's ``networks``: every declared item with a ``prefix``, once."""
    found = []
    for group, items in (networks_by_group or {}).items():
        if not isinstance(items, list):
            raise AnsibleFilterError('networks_by_group.%s must be a list of network items, not %r' % (group, items))
        for item in items:
            if not isinstance(item, Mapping) or 'prefix' not in item:
                continue
            entry = dict(name=item.get('name'), prefix=item['prefix'], supernet=item['supernet'] if 'supernet' in item else default_supernet)
            if entry not in found:
                found.append(entry)
    return found


def planned_daemon_options(plan, host):
    """daemon.json keys the plan sets for one host (``bip``, ``default-address-pools``); {} without a plan."""
    planned = ((plan or {}).get('hosts') or {}).get(host) or {}
    options = {}
    if 'bip' in planned:
        options['bip'] = planned['bip']
    if 'default_address_pools' in planned:
        options['default-address-pools'] = planned['default_address_pools']
    return options


def _result(host_vars, register):
    result = host_vars.get(register) if isinstance(host_vars, Mapping) else None
    return result if isinstance(result, Mapping) else None


def daemon_json_claims(result):
    """(claims, problem) from a slurp of daemon.json: a missing file holds nothing, anything else unread."""
    if result is None:
        return {}, 'daemon.json not read (host unreachable or the task did not run)'
    if result.get('failed') or 'content' not in result:
        message = str(result.get('msg') or 'no content')
        return ({}, None) if 'not found' in message.lower() else ({}, 'daemon.json: %s' % message)
    try:
        config = json.loads(base64.b64decode(result['content']).decode('utf-8') or '{}')
    except ValueError as exc:
        return {}, 'daemon.json is not JSON (%s)' % exc
    if not isinstance(config, Mapping):
        return {}, 'daemon.json is not a JSON object'
    claims = {}
    if config.get('bip'):
        claims['bip'] = config['bip']
    if config.get('default-address-pools'):
        claims['address_pools'] = [dict(base=pool.get('base'), size=pool.get('size'))
                                   for pool in config['default-address-pools'] if isinstance(pool, Mapping)]
    return claims, None


def engine_claims(result, names=None):
    """(network subnets by name, swarm or None, problem) from docker_net_info of the declared networks."""
    if result is None:
        return {}, None, 'the engine was not read (host unreachable or the task did not run)'
    if result.get('failed'):
        return {}, None, 'engine: %s' % (result.get('msg') or 'read failed')
    networks = {}
    for net in result.get('networks') or []:
        subnets = [pool.get('subnet') for pool in ((net.get('ipam') or {}).get('config') or []) if pool.get('subnet')]
        if subnets and (names is None or net['name'] in names):
            networks[net['name']] = subnets
    swarm = ((result.get('engine') or {}).get('swarm')) or {}
    found = None
    if swarm.get('cluster_id') and swarm.get('default_addr_pool'):
        found = dict(cluster_id=swarm['cluster_id'], default_addr_pool=list(swarm['default_addr_pool']),
                     subnet_size=swarm.get('subnet_size'))
        # the swarm's ingress network, listed when the plan play asked for it (address_plan's ingress)
        ingress = [pool.get('subnet') for net in result.get('networks') or [] if net.get('ingress')
                   for pool in ((net.get('ipam') or {}).get('config') or []) if pool.get('subnet')]
        if ingress:
            found['ingress'] = ingress
    return networks, found, None


def fleet_claims(hosts, hostvars, daemon_register='fleet_daemon_json', engine_register='fleet_engine_facts',
                 networks=None):
    """The address planner's ``claims``, ``swarm_claims`` and ``unread`` from what each host read back;
    ``networks``: the declared names (others on the engine are not the plan's)."""
    claims, swarms, unread = {}, {}, {}
    for host in sorted(hosts):
        host_vars = hostvars.get(host) if isinstance(hostvars, Mapping) else None
        held, daemon_problem = daemon_json_claims(_result(host_vars, daemon_register))
        subnets, swarm, engine_problem = engine_claims(_result(host_vars, engine_register), networks)
        problems = [problem for problem in (daemon_problem, engine_problem) if problem]
        if problems:
            unread[host] = '; '.join(problems)
        if subnets:
            held['networks'] = subnets
        if held:
            claims[host] = held
        if swarm:
            entry = swarms.setdefault(swarm['cluster_id'], dict(swarm, hosts=[]))
            entry['hosts'].append(host)
    return dict(claims=claims, swarm_claims=[swarms[key] for key in sorted(swarms)], unread=unread)


def planned_swarm_settings(plan, explicit_pool=None, explicit_size=0, fallback=None):
    """Swarm init settings for the overlay role. Precedence: an explicit overlay_default_addr_pool /
    overlay_subnet_size (group_vars, extra vars), then the plan's swarm pool, then overlay_pool_fallback,
    then Docker's default. An explicit value the plan contradicts fails naming both: never silently overridden."""
    swarm = (plan or {}).get('swarm') or {}
    planned_pool, planned_size = list(swarm.get('default_addr_pool') or []), int(swarm.get('subnet_size') or 0)
    explicit_pool, explicit_size = list(explicit_pool or []), int(explicit_size or 0)
    if planned_pool and explicit_pool and sorted(explicit_pool) != sorted(planned_pool):
        raise AnsibleFilterError('overlay_default_addr_pool is set to %s, and the address plan gives the swarm %s '
                                 '(fleet_plan_swarm_pool): drop one of them, or make them equal. Nothing was changed.'
                                 % (', '.join(explicit_pool), ', '.join(planned_pool)))
    if planned_size and explicit_size and explicit_size != planned_size:
        raise AnsibleFilterError('overlay_subnet_size is set to %d, and the address plan gives the swarm subnets of '
                                 '/%d (fleet_plan_swarm_pool.size): drop one of them, or make them equal. Nothing '
                                 'was changed.' % (explicit_size, planned_size))
    pool = explicit_pool or planned_pool or list(fallback or [])
    return dict(default_addr_pool=pool, subnet_size=explicit_size or planned_size)


class FilterModule:
    def filters(self):
        return dict(host_claims=host_claims, planned_networks=planned_networks,
                    planned_daemon_options=planned_daemon_options, fleet_claims=fleet_claims,
                    planned_swarm_settings=planned_swarm_settings)
