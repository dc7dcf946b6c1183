# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only facts: networks with their endpoints, and the engine's network configuration."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError
from ansible_collections.netfleet.docker.plugins.module_utils._common.versions import features_for, parse_version
from ansible_collections.netfleet.docker.plugins.module_utils._network.endpoints import snapshot
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import inspected_view

try:
    import docker.errors as docker_errors
except ImportError:  # pragma: no cover - client.connect() reports the missing SDK first
    docker_errors = None


def select_networks(networks: Sequence[Mapping[str, Any]], names: Optional[Sequence[str]] = None) -> Tuple[List[Any], List[str]]:
    """Networks matching the names exactly (name or full ID), plus the names that matched nothing."""
    if not names:
        return sorted(networks, key=lambda net: net['Name']), []
    selected, missing = [], []
    for name in names:
        found = [net for net in networks if net['Name'] == name or net['Id'] == name]
        if found:
            selected.extend(net for net in found if net not in selected)
        else:
            missing.append(name)
    return selected, missing


def inspected_containers(engine: Any) -> List[Dict[str, Any]]:
    """Every container, running and stopped, in inspect form (one listing, one inspect each)."""
    result = []
    for summary in engine.call('list containers', engine.api.containers, all=True):
        try:
            result.append(engine.api.inspect_container(summary['Id']))
        except docker_errors.NotFound:
            continue  # removed between the listing and now
    return result


def endpoint_fact(container: Mapping[str, Any], network_name: str) -> Optional[Dict[str, Any]]:
    """One endpoint as docker_net_info reports it (addresses in use and the static ones asked for)."""
    endpoint = snapshot(container, network_name)
    if endpoint is None:
        return None
    return dict(
        container=endpoint['container'],
        id=endpoint['id'],
        state=(container.get('State') or {}).get('Status'),
        running=endpoint['running'],
        ipv4_address=endpoint['address'] or endpoint['ipv4_address'],
        ipv6_address=endpoint['ipv6'] or endpoint['ipv6_address'],
        static_ipv4_address=endpoint['ipv4_address'],
        static_ipv6_address=endpoint['ipv6_address'],
        mac_address=endpoint['mac_address'],
        aliases=endpoint['aliases'],
        links=endpoint['links'],
        driver_opts=endpoint['driver_opts'],
        gw_priority=endpoint['gw_priority'],
        interface_name=endpoint['interface_name'],
        sysctls=endpoint['sysctls'],
    )


def endpoints_by_network(engine: Any, wanted_names: Sequence[str],
                         containers: Optional[List[Mapping[str, Any]]] = None) -> Dict[str, List[Dict[str, Any]]]:
    """Endpoints of running and stopped containers, keyed by network name."""
    result = dict((name, []) for name in wanted_names)
    for container in inspected_containers(engine) if containers is None else containers:
        for name in (container.get('NetworkSettings') or {}).get('Networks') or {}:
            endpoint = endpoint_fact(container, name) if name in result else None
            if endpoint is not None:
                result[name].append(endpoint)
    for endpoints in result.values():
        endpoints.sort(key=lambda endpoint: endpoint['container'])
    return result


def network_mode(container: Mapping[str, Any], container_names: Mapping[str, str],
                 network_names: Mapping[str, str]) -> str:
    """bridge, host, none, container:<name> or the network's name (IDs resolved to names)."""
    mode = (container.get('HostConfig') or {}).get('NetworkMode') or 'default'
    if mode == 'default':
        return 'bridge'  # what "default" means on Linux
    if mode.startswith('container:'):
        ref = mode.split(':', 1)[1]
        name = container_names.get(ref) or next(
            (name for cid, name in container_names.items() if len(ref) >= 12 and cid.startswith(ref)), ref)
        return 'container:' + name
    return network_names.get(mode, mode)


def container_facts(containers: Sequence[Mapping[str, Any]], networks: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Every container with its network mode, its networks and its endpoints, sorted by name."""
    container_names = dict((c['Id'], c['Name'].lstrip('/')) for c in containers)
    network_names = dict((net['Id'], net['Name']) for net in networks)
    result = []
    for container in containers:
        attached = sorted((container.get('NetworkSettings') or {}).get('Networks') or {})
        endpoints = [endpoint_fact(container, name) for name in attached]
        for name, endpoint in zip(attached, endpoints):
            endpoint['network'] = name
        result.append(dict(
            name=container['Name'].lstrip('/'),
            id=container['Id'],
            state=(container.get('State') or {}).get('Status'),
            running=bool((container.get('State') or {}).get('Running')),
            network_mode=network_mode(container, container_names, network_names),
            networks=attached,
            endpoints=[endpoint for endpoint in endpoints if endpoint is not None],
        ))
    return sorted(result, key=lambda fact: fact['name'])


def network_facts(network: Mapping[str, Any], endpoints: Optional[List[Dict[str, Any]]]) -> Dict[str, Any]:
    view = inspected_view(network)
    facts = dict(name=network['Name'], id=network['Id'], created=network.get('Created'))
    facts.update(view)
    facts['ingress'] = bool(network.get('Ingress'))
    if endpoints is not None:
        facts['endpoints'] = endpoints
    return facts


def engine_facts(engine: Any) -> Tuple[Dict[str, Any], Dict[str, bool]]:
    info = engine.call('read engine info', engine.api.info)
    version = engine.version_info
    swarm = info.get('Swarm') or {}
    cluster = swarm.get('Cluster') or {}
    bridge = None
    try:
        bridge = engine.api.inspect_network('bridge')
    except docker_errors.NotFound:
        pass
    default_bridge = None
    if bridge is not None:
        view = inspected_view(bridge)
        pools = view['ipam']['config']
        default_bridge = dict(
            subnet=pools[0]['subnet'] if pools else None,
            gateway=pools[0]['gateway'] if pools else None,
            mtu=view['driver_options'].get('com.docker.network.driver.mtu'),
            options=view['driver_options'],
        )
    server_version = version.get('Version', '')
    return dict(
        server_version=server_version,
        api_version=version.get('ApiVersion'),
        min_api_version=version.get('MinAPIVersion'),
        connection_api_version=engine.api.api_version,
        os=info.get('OperatingSystem'),
        kernel_version=info.get('KernelVersion'),
        ipv4_forwarding=info.get('IPv4Forwarding'),
        bridge_nf_iptables=info.get('BridgeNfIptables'),
        bridge_nf_ip6tables=info.get('BridgeNfIp6tables'),
        live_restore=info.get('LiveRestoreEnabled'),
        network_drivers=sorted((info.get('Plugins') or {}).get('Network') or []),
        default_address_pools=info.get('DefaultAddressPools'),
        cluster_store=info.get('ClusterStore') or None,
        cluster_advertise=info.get('ClusterAdvertise') or None,
        swarm=dict(
            state=swarm.get('LocalNodeState') or 'inactive',
            node_id=swarm.get('NodeID') or None,
            node_addr=swarm.get('NodeAddr') or None,
            control_available=bool(swarm.get('ControlAvailable')),
            cluster_id=cluster.get('ID') or None,
            default_addr_pool=cluster.get('DefaultAddrPool') or None,
            subnet_size=cluster.get('SubnetSize') or None,
            managers=swarm.get('Managers'),
            nodes=swarm.get('Nodes'),
        ),
        default_bridge=default_bridge,
    ), features_for(parse_version(server_version))


# The filters GET /networks takes (Engine API); anything else is refused with HTTP 400.
NETWORK_LIST_FILTERS = ('dangling', 'driver', 'id', 'label', 'name', 'scope', 'type')


def listed_networks(engine: Any, filters: Optional[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The engine's network list; a refused filter says which filters the engine takes."""
    try:
        return engine.call('list networks', engine.api.networks, filters=filters or None)
    except EngineError as exc:
        if not filters or 'HTTP 400' not in str(exc):
            raise
        raise EngineError('filters %s: %s; filters takes the engine\'s network list filters (%s), e.g. '
                          '{driver: bridge} or {label: netfleet.managed=true}'
                          % (', '.join(sorted(filters)), exc, ', '.join(NETWORK_LIST_FILTERS)))


def gather(engine: Any, names: Optional[Sequence[str]] = None, filters: Optional[Mapping[str, Any]] = None,
           endpoints: bool = True, engine_config: bool = True, containers: bool = False) -> Dict[str, Any]:
    listing = listed_networks(engine, filters)
    selected, missing = select_networks(listing, names)
    inspected = inspected_containers(engine) if endpoints or containers else []
    endpoint_map = endpoints_by_network(engine, [net['Name'] for net in selected], inspected) if endpoints else {}
    result = dict(
        networks=[network_facts(net, endpoint_map.get(net['Name']) if endpoints else None) for net in selected],
        missing=missing,
    )
    if containers:
        # Every network, not only the filtered ones, resolves a network mode given by ID.
        every_network = listing if not filters else engine.call('list networks', engine.api.networks)
        result['containers'] = container_facts(inspected, every_network)
    if engine_config:
        result['engine'], result['features'] = engine_facts(engine)
    return result
