# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container endpoints on a network: what was asked, what exists, and how to restore it exactly.

A snapshot is taken from the *container* (not the network), because the network lists only
running containers while stopped ones keep their endpoint settings too, and a recreate that
forgets them leaves containers that cannot start.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam


class EndpointError(ValueError):
    pass


ENDPOINT_KEYS = ('ipv4_address', 'ipv6_address', 'aliases', 'links', 'driver_opts',
                 'mac_address', 'gw_priority', 'interface_name', 'sysctls')
# Asked for explicitly, these need an engine that has them (versions.GATES 'endpoint.<key>').
GATED_ENDPOINT_KEYS = ('mac_address', 'gw_priority', 'interface_name', 'sysctls')
# Endpoint driver options that have keys of their own (compared and restored through those).
IFNAME_OPTION = 'com.docker.network.endpoint.ifname'
SYSCTLS_OPTION = 'com.docker.network.endpoint.sysctls'
_MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')


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
        request = dict((key, None) for key in ENDPOINT_KEYS)
        request['container'] = name
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
        _add_endpoint_settings(item, request, where)
        requests[name] = request
    return requests


def _add_endpoint_settings(item: Mapping[str, Any], request: Dict[str, Any], where: str) -> None:
    """mac_address, gw_priority, interface_name and sysctls (the last two may come as driver_opts)."""
    opts = request['driver_opts'] or {}
    for key, option in (('interface_name', IFNAME_OPTION), ('sysctls', SYSCTLS_OPTION)):
        if option in opts:
            if item.get(key) is not None:
                raise EndpointError('%s: %s and driver_opts[%s] both given; set only %s' % (where, key, option, key))
            request[key] = opts.pop(option) if key == 'interface_name' else parse_sysctls(opts.pop(option))
    if item.get('mac_address') is not None:
        mac = str(item['mac_address']).strip().lower().replace('-', ':')
        if not _MAC.match(mac):
            raise EndpointError("%s: mac_address '%s' is not a MAC address; write six hex pairs, e.g. 02:42:0a:00:00:10"
                                % (where, item['mac_address']))
        request['mac_address'] = mac
    if item.get('gw_priority') is not None:
        try:
            request['gw_priority'] = int(str(item['gw_priority']).strip())
        except ValueError:
            raise EndpointError("%s: gw_priority '%s' is not a whole number; the endpoint with the highest "
                                "gw_priority gives the container its default gateway, e.g. 10" % (where, item['gw_priority']))
    if item.get('interface_name') is not None:
        request['interface_name'] = str(item['interface_name']).strip()
    if request['interface_name'] is not None and not _valid_ifname(request['interface_name']):
        raise EndpointError("%s: interface_name '%s' is not a Linux interface name; use 1-15 characters without "
                            "'/', ':' or spaces, e.g. eth1" % (where, request['interface_name']))
    if item.get('sysctls') is not None:
        request['sysctls'] = _check_sysctls(item['sysctls'], where)
    elif request['sysctls'] is not None:
        request['sysctls'] = _check_sysctls(request['sysctls'], where)
    if request['driver_opts'] is not None:
        request['driver_opts'] = opts


def _valid_ifname(name: str) -> bool:
    return 0 < len(name) <= 15 and not any(c in name for c in '/: \t')


def _check_sysctls(sysctls: Any, where: str) -> Dict[str, str]:
    if not isinstance(sysctls, dict):
        raise EndpointError('%s: sysctls is a dict of sysctl to value, e.g. {net.ipv4.conf.IFNAME.forwarding: 0}, '
                            'not %r' % (where, sysctls))
    result = {}
    for key, value in sysctls.items():
        key, text = str(key).strip(), str(value).strip()
        if not key.startswith('net.') or any(c in key for c in ',= ') or ',' in text or not text:
            raise EndpointError("%s: sysctl '%s=%s' cannot be set on an endpoint; give net.* sysctls with a value "
                                "and no commas, IFNAME for the interface, e.g. net.ipv4.conf.IFNAME.forwarding: 0"
                                % (where, key, text))
        result[key] = text
    return result


def parse_sysctls(text: Optional[str]) -> Dict[str, str]:
    """'net.a=1,net.b=0' (the endpoint option's form) -> {'net.a': '1', 'net.b': '0'}."""
    result = {}
    for item in (text or '').split(','):
        key, _sep, value = item.partition('=')
        if key.strip():
            result[key.strip()] = value.strip()
    return result


def sysctls_text(sysctls: Mapping[str, str]) -> str:
    return ','.join('%s=%s' % (key, sysctls[key]) for key in sorted(sysctls))


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
    driver_opts = dict(settings.get('DriverOpts') or {})
    interface_name = driver_opts.pop(IFNAME_OPTION, None)
    sysctls = parse_sysctls(driver_opts.pop(SYSCTLS_OPTION)) if SYSCTLS_OPTION in driver_opts else None
    return dict(
        container=name,
        id=container['Id'],
        running=bool(state.get('Running')),
        ipv4_address=ipam.canonical_address(ipam_config.get('IPv4Address')) or None,
        ipv6_address=ipam.canonical_address(ipam_config.get('IPv6Address')) or None,
        link_local_ips=list(ipam_config.get('LinkLocalIPs') or []),
        aliases=aliases,
        links=sorted(settings.get('Links') or []),
        driver_opts=driver_opts,
        mac_address=(settings.get('MacAddress') or '').lower() or None,
        gw_priority=int(settings.get('GwPriority') or 0),
        interface_name=interface_name or None,
        sysctls=sysctls,
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
        if key in ('driver_opts', 'sysctls'):
            have = dict(have or {})
        elif key == 'gw_priority':
            have = have or 0
        if wanted != have:
            changes.append(dict(path='connected[%s].%s' % (request['container'], key), wanted=wanted, actual=have))
    return changes


def mac_problems(request: Optional[Mapping[str, Any]], have: Optional[Mapping[str, Any]], network_owner: str,
                 recreate: bool = False) -> List[str]:
    """A mac_address that only a connect could give (or, in a recreate, give back): refused.

    The engine ignores MacAddress on POST /networks/{id}/connect (moby/moby#48192; measured on
    Docker 26.1 and 28.5: a running container gets a MAC of the engine's choosing, a stopped one a new
    one when it starts), so a new MAC would be "changed" on every run and never converge, and a recreate
    (which reconnects every container) would lose the MAC the request asks to keep.
    """
    wanted = (request or {}).get('mac_address')
    if not wanted or (not recreate and (have or {}).get('mac_address') == wanted):
        return []
    what = ('the network must be recreated, which reconnects every container, and mac_address %s cannot be '
            'restored' % wanted) if recreate else 'mac_address %s cannot be set by connecting the container' % wanted
    fix = ('make the other change when the container can be recreated too (docker run --network NAME '
           '--mac-address MAC after the network), or drop mac_address to accept the MAC the engine picks'
           if recreate else 'give the MAC when the container is created (docker run --network NAME --mac-address '
           'MAC) and list the same mac_address here to keep it')
    return ["%s: container %s: %s, because the engine ignores a MAC address given on network connect "
            "(moby/moby#48192) and picks its own; %s" % (network_owner, request['container'], what, fix)]


def connect_kwargs(endpoint: Mapping[str, Any], with_mac: bool = False) -> Dict[str, Any]:
    """Arguments for APIClient.connect_container_to_network that recreate the endpoint."""
    kwargs = dict(
        ipv4_address=endpoint.get('ipv4_address'),
        ipv6_address=endpoint.get('ipv6_address'),
        aliases=endpoint.get('aliases') or None,
        links=dict(link.split(':', 1) for link in endpoint.get('links') or []) or None,
        link_local_ips=endpoint.get('link_local_ips') or None,
        driver_opt=endpoint_driver_opts(endpoint) or None,
    )
    if with_mac and endpoint.get('mac_address'):
        kwargs['mac_address'] = endpoint['mac_address']
    return kwargs


def endpoint_driver_opts(endpoint: Mapping[str, Any]) -> Dict[str, str]:
    """driver_opts with the interface name and sysctls put back as the engine takes them."""
    opts = dict(endpoint.get('driver_opts') or {})
    if endpoint.get('interface_name'):
        opts[IFNAME_OPTION] = endpoint['interface_name']
    if endpoint.get('sysctls'):
        opts[SYSCTLS_OPTION] = sysctls_text(endpoint['sysctls'])
    return opts


def connect_body(container_id: str, endpoint: Mapping[str, Any], with_mac: bool = False) -> Dict[str, Any]:
    """POST /networks/{id}/connect body, for what the SDK (7.2) cannot send: GwPriority."""
    kwargs = connect_kwargs(endpoint, with_mac)
    ipam_config = dict((field, kwargs[key]) for key, field in (
        ('ipv4_address', 'IPv4Address'), ('ipv6_address', 'IPv6Address'), ('link_local_ips', 'LinkLocalIPs'))
        if kwargs.get(key))
    config = dict(IPAMConfig=ipam_config or None, Aliases=kwargs['aliases'], DriverOpts=kwargs['driver_opt'],
                  Links=['%s:%s' % pair for pair in sorted((kwargs['links'] or {}).items())] or None,
                  GwPriority=int(endpoint.get('gw_priority') or 0))
    if kwargs.get('mac_address'):
        config['MacAddress'] = kwargs['mac_address']
    return dict(Container=container_id, EndpointConfig=dict((k, v) for k, v in config.items() if v is not None))


def connect_endpoint(api: Any, container_id: str, network_id: str, endpoint: Mapping[str, Any],
                     with_mac: bool = False) -> None:
    """Connect one endpoint exactly as recorded; through the Engine API itself when it has a gw_priority."""
    if endpoint.get('gw_priority'):
        response = api._post_json(api._url('/networks/{0}/connect', network_id),
                                  data=connect_body(container_id, endpoint, with_mac))
        api._raise_for_status(response)
        return
    api.connect_container_to_network(container_id, network_id, **connect_kwargs(endpoint, with_mac))


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
