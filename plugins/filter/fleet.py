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
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# Interfaces Docker creates (bridges, veths, VXLAN and overlay namespaces' links) and loopback.
DOCKER_OWNED = re.compile(r'^(docker|br-|veth|vx-|ov-|nfs-|lo$)')
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
        if (route.get('dst') != 'default' and 'dev' in route and not DOCKER_OWNED.match(route['dev'])
                and route.get('type', 'unicast') == 'unicast'):
            cidrs.append(route['dst'])
    for link in _parse_json(addrs_text, 'ip -j -4 addr', host):
        if DOCKER_OWNED.match(link.get('ifname', '')):
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


class FilterModule:
    def filters(self):
        return dict(host_claims=host_claims, planned_networks=planned_networks,
                    planned_daemon_options=planned_daemon_options)
