# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""overlay_networks: a fleet's overlay networks, declared once, as netfleet.docker.docker_net items;
planned_ingress_subnet and ingress_publishers: the swarm ingress network's subnet and what blocks moving it.

The overlay driver's MTU option is the MTU of the underlay: Docker subtracts the VXLAN
overhead (50 bytes, 76 when encrypted) itself. So every network gets the underlay MTU
(the smallest over the fleet's nodes) unless it declares one; a declared MTU above the
underlay is kept but warned about, because such packets are fragmented or dropped.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

VXLAN_OVERHEAD = 50
ESP_OVERHEAD = 26           # encrypted overlays: 76 bytes in all
NETWORK_KEYS = frozenset(['name', 'state', 'subnet', 'gateway', 'ip_range', 'attachable', 'encrypted', 'internal',
                          'labels', 'mtu', 'driver_options', 'enable_ipv6'])


def container_mtu(driver_mtu, encrypted):
    """The MTU containers see on an overlay whose driver MTU option is driver_mtu."""
    return driver_mtu - VXLAN_OVERHEAD - (ESP_OVERHEAD if encrypted else 0)


def plan_overlay_networks(networks, underlay_mtu=None, scope='swarm', mtu=None):
    """-> (docker_net items, warnings). Pure: no Ansible objects, unit-tested."""
    if scope not in ('swarm', 'global'):
        raise ValueError("scope %r: overlay networks have scope swarm (swarm) or global (legacy KV store)" % (scope,))
    items, warnings = [], []
    seen = set()
    underlay_mtu = int(underlay_mtu) if underlay_mtu not in (None, '', 0) else None
    default_mtu = int(mtu) if mtu not in (None, '', 0) else None
    for index, net in enumerate(networks or []):
        if not isinstance(net, dict) or not net.get('name'):
            raise ValueError('overlay network #%d has no name: %r' % (index + 1, net))
        name = net['name']
        unknown = sorted(set(net) - NETWORK_KEYS)
        if unknown:
            raise ValueError('overlay network %s: unknown keys %s (known: %s)'
                             % (name, ', '.join(unknown), ', '.join(sorted(NETWORK_KEYS))))
        if name in seen:
            raise ValueError('overlay network %s is declared twice' % name)
        seen.add(name)
        if net.get('state', 'present') == 'absent':
            items.append(dict(name=name, state='absent'))
            continue
        encrypted = bool(net.get('encrypted', False))
        # scope is always given: docker_net creates new networks with scope local otherwise, which the engine
        # refuses for overlays ("cannot downgrade network scope")
        item = dict(name=name, driver='overlay', scope=scope)
        if scope == 'swarm':
            item['attachable'] = bool(net.get('attachable', True))
        for key in ('internal', 'labels', 'enable_ipv6'):
            if net.get(key) is not None:
                item[key] = net[key]
        options = dict(net.get('driver_options') or {})
        if encrypted:
            options['encrypted'] = ''
        if options:
            item['driver_options'] = options
        declared = net.get('mtu') or default_mtu
        if declared:
            declared = int(declared)
            if underlay_mtu and declared > underlay_mtu:
                warnings.append('overlay network %s: MTU %d exceeds the underlay MTU %d (the smallest MTU of the interfaces '
                                'carrying the nodes\' advertise addresses); VXLAN packets would be fragmented or dropped. '
                                'The overlay driver\'s MTU option is the underlay MTU: give %d or less (containers then '
                                'see %d)' % (name, declared, underlay_mtu, underlay_mtu, container_mtu(underlay_mtu, encrypted)))
            item['mtu'] = declared
        elif underlay_mtu:
            item['mtu'] = underlay_mtu
        if net.get('subnet'):
            pool = dict(subnet=net['subnet'])
            for key in ('gateway', 'ip_range'):
                if net.get(key):
                    pool[key] = net[key]
            item['ipam'] = dict(config=[pool])
        items.append(item)
    return items, warnings


def overlay_networks(networks, underlay_mtu=None, scope='swarm', mtu=None):
    try:
        items, warnings = plan_overlay_networks(networks, underlay_mtu, scope, mtu)
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError(str(exc))
    display = Display()
    for text in warnings:
        display.warning(text)
    return items


def planned_ingress_subnet(plan, explicit=None):
    """The subnet the overlay role gives the swarm's ingress network: an explicit overlay_ingress_subnet, else the
    address plan's (fleet_plan_ingress), else '' (the ingress is left as it is). Both given and different fails
    naming both: an explicit variable is never silently overridden."""
    planned = str((plan or {}).get('ingress') or '')
    explicit = str(explicit or '')
    if planned and explicit and planned != explicit:
        raise AnsibleFilterError('overlay_ingress_subnet is set to %s, and the address plan gives the ingress network '
                                 '%s (fleet_plan_ingress): drop one of them, or make them equal. Nothing was changed.'
                                 % (explicit, planned))
    return explicit or planned


def _publishes_through_ingress(service):
    """Ports published in ingress mode (Docker's default) use the routing mesh; host mode does not."""
    spec = (service.get('Spec') or {}).get('EndpointSpec') or {}
    ports = list(spec.get('Ports') or []) + list((service.get('Endpoint') or {}).get('Ports') or [])
    return [port for port in ports if (port.get('PublishMode') or 'ingress') == 'ingress' and port.get('PublishedPort')]


def ingress_publishers(services):
    """'name (published ports)' of every swarm service publishing ports through the ingress network, from the
    output of ``docker service inspect`` (a JSON list, or '' when the swarm has no service)."""
    if isinstance(services, str):
        try:
            services = json.loads(services) if services.strip() else []
        except ValueError as exc:
            raise AnsibleFilterError('cannot read the output of docker service inspect: %s' % exc)
    found = []
    for service in services or []:
        ports = _publishes_through_ingress(service)
        if ports:
            name = (service.get('Spec') or {}).get('Name') or service.get('ID')
            published = sorted(set('%s/%s' % (port['PublishedPort'], port.get('Protocol') or 'tcp') for port in ports))
            found.append('%s (%s)' % (name, ', '.join(published)))
    return sorted(found)


class FilterModule:
    def filters(self):
        return dict(overlay_networks=overlay_networks, planned_ingress_subnet=planned_ingress_subnet,
                    ingress_publishers=ingress_publishers)
