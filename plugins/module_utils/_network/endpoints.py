# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container endpoints on a network: what was asked, what exists, and how to restore it exactly.

A snapshot is taken from the *container* (not the network), because the network lists only
running containers while stopped ones keep their endpoint settings too, and a recreate that
forgets them leaves containers that cannot start.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam


class EndpointError(ValueError):
    pass


ENDPOINT_KEYS = ('ipv4_address', 'ipv6_address', 'aliases', 'links', 'driver_opts')


def _normalize_links(links, owner):
    result = []
    for link in links or []:
        text = str(link).strip()
        if not text:
            raise EndpointError('%s: empty link; write container or container:alias' % owner)
        name, _sep, alias = text.partition(':')
        result.append('%s:%s' % (name.lstrip('/'), alias or name.lstrip('/')))
    return sorted(result)


def normalize_connected(connected: Optional[Sequence[Any]], owner: str) -> Dict[str, Dict[str, Any]]:
    """`connected` items (names or dicts) -> {container: request}; None values mean 'not compared'."""
    requests = {}
    for item in connected or []:
        if isinstance(item, str):
            item = dict(container=item)
        if not isinstance(item, dict) or not item.get('container'):
            raise EndpointError('%s: each connected entry is a container name or a dict with a container key, not %r'
                                % (owner, item))
        unknown = set(item) - set(ENDPOINT_KEYS) - set(['container'])
        if unknown:
            raise EndpointError('%s: connected entry for %s has unknown keys %s; known: container, %s'
                                % (owner, item['container'], ', '.join(sorted(unknown)), ', '.join(ENDPOINT_KEYS)))
        name = str(item['container'])
        where = '%s, container %s' % (owner, name)
        if name in requests:
            raise EndpointError('%s: container %s is listed twice in connected; list it once' % (owner, name))
        request = dict(container=name, ipv4_address=None, ipv6_address=None, aliases=None, links=None, driver_opts=None)
        for key, version in (('ipv4_address', 4), ('ipv6_address', 6)):
            if item.get(key):
                try:
                    address = ipam.parse_address(item[key], where, key)
                except ipam.IpamError as exc:
                    raise EndpointError(str(exc))
                if address.version != version:
                    raise EndpointError('%s: %s %s is not an IPv%d address' % (where, key, item[key], version))
                request[key] = str(address)
        if item.get('aliases') is not None:
            request['aliases'] = sorted(set(str(alias) for alias in item['aliases']))
        if item.get('links') is not None:
            request['links'] = _normalize_links(item['links'], where)
        if item.get('driver_opts') is not None:
            request['driver_opts'] = dict((str(k), str(v)) for k, v in item['driver_opts'].items())
        requests[name] = request
    return requests


def snapshot(container: Mapping[str, Any], network_name: str) -> Optional[Dict[str, Any]]:
    """Everything needed to reconnect this container to a network of that name exactly as it is now."""
    settings = (container.get('NetworkSettings') or {}).get('Networks', {}).get(network_name)
    if settings is None:
        return None
    ipam_config = settings.get('IPAMConfig') or {}
    short_id = container['Id'][:12]
    name = container['Name'].lstrip('/')
    # The engine adds the short ID (and on newer engines the name) as aliases by itself.
    aliases = sorted(alias for alias in settings.get('Aliases') or [] if alias not in (short_id, name))
    state = container.get('State') or {}
    return dict(
        container=name,
        id=container['Id'],
        running=bool(state.get('Running')),
        ipv4_address=ipam.canonical_address(ipam_config.get('IPv4Address')) or None,
        ipv6_address=ipam.canonical_address(ipam_config.get('IPv6Address')) or None,
        link_local_ips=list(ipam_config.get('LinkLocalIPs') or []),
        aliases=aliases,
        links=sorted(settings.get('Links') or []),
        driver_opts=dict(settings.get('DriverOpts') or {}),
        mac_address=settings.get('MacAddress') or None,
        address=settings.get('IPAddress') or None,
        ipv6=settings.get('GlobalIPv6Address') or None,
    )


def endpoint_changes(request: Mapping[str, Any], current: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Fields of a requested endpoint that differ from the container's current one."""
    changes = []
    for key in ENDPOINT_KEYS:
        wanted = request.get(key)
        if wanted is None:
            continue
        have = current.get(key)
        if key == 'driver_opts':
            have = dict(have or {})
        if wanted != have:
            changes.append(dict(path='connected[%s].%s' % (request['container'], key), wanted=wanted, actual=have))
    return changes


def connect_kwargs(endpoint: Mapping[str, Any], with_mac: bool = False) -> Dict[str, Any]:
    """Arguments for APIClient.connect_container_to_network that recreate the endpoint."""
    kwargs = dict(
        ipv4_address=endpoint.get('ipv4_address'),
        ipv6_address=endpoint.get('ipv6_address'),
        aliases=endpoint.get('aliases') or None,
        links=dict(link.split(':', 1) for link in endpoint.get('links') or []) or None,
        link_local_ips=endpoint.get('link_local_ips') or None,
        driver_opt=endpoint.get('driver_opts') or None,
    )
    if with_mac and endpoint.get('mac_address'):
        kwargs['mac_address'] = endpoint['mac_address']
    return kwargs


def request_as_endpoint(request: Mapping[str, Any], current: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """The endpoint a request produces: requested fields over the current ones (if any)."""
    endpoint = dict(current or {})
    endpoint.setdefault('container', request['container'])
    for key in ENDPOINT_KEYS:
        if request.get(key) is not None:
            endpoint[key] = request[key]
    return endpoint


def restore_problems(endpoint: Mapping[str, Any], target_pools: Sequence[Mapping[str, Any]], network_owner: str) -> List[str]:
    """Why this endpoint could not be restored on a network with these pools (empty when it can)."""
    problems = []
    for key in ('ipv4_address', 'ipv6_address'):
        address = endpoint.get(key)
        if not address:
            continue
        if not target_pools:
            problems.append('%s: container %s has static %s %s but the new network has no configured subnet, '
                            'so the engine would refuse it; keep the subnet in ipam.config'
                            % (network_owner, endpoint['container'], key, address))
            continue
        pool = ipam.address_in_pools(address, target_pools)
        if pool is None:
            problems.append('%s: container %s has static %s %s, outside the new subnets %s; '
                            'change the container address first or keep a subnet that holds it'
                            % (network_owner, endpoint['container'], key, address,
                               ', '.join(p['subnet'] for p in target_pools)))
        elif pool.get('gateway') == address or address in (pool.get('aux_addresses') or {}).values():
            problems.append('%s: container %s has static %s %s, which the new network reserves '
                            '(gateway or aux address); pick another address' % (network_owner, endpoint['container'], key, address))
    return problems
