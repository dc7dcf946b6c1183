# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a bridge network's gateway mode changes in verify's expectations, and the routes it reads.

Docker's bridge option ``com.docker.network.bridge.gateway_mode_ipv4`` (27.0 and 28.0):

- ``nat`` (the default): containers are reached from outside their bridge only through published
  ports on host addresses; direct routing to their addresses is dropped (28.0+). Today's rule holds.
- ``isolated`` (28.0, internal networks only): the bridge has no address, nothing leaves or enters
  it. Today's rule holds: same host and network reach, anything else is isolated.
- ``nat-unprotected``: no filtering of direct routing from other hosts; other networks of the same
  host still cannot route to it. Across hosts, reach depends on the source host's routes.
- ``routed``: no NAT; the engine accepts ICMP to the containers from anywhere, other networks of
  the same host included, and published ports only. A ping from another network of the same host
  reaches; from another host it reaches when that host routes the address to this one.

Name resolution never crosses networks or hosts on a bridge, so these pairs are read from ping.
"""

from __future__ import annotations

import ipaddress

GATEWAY_MODE_OPTION = 'com.docker.network.bridge.gateway_mode_ipv4'
DIRECT_ROUTING_MODES = ('routed', 'nat-unprotected')
REJECT_TYPES = ('blackhole', 'unreachable', 'prohibit', 'throw')


def gateway_mode(network):
    """The IPv4 gateway mode of a bridge network's facts (``nat`` when unset), None for other drivers."""
    if network.get('driver') != 'bridge':
        return None
    mode = network.get('gateway_mode_ipv4') or (network.get('driver_options') or {}).get(GATEWAY_MODE_OPTION)
    return mode or 'nat'


def _route(line):
    """(network, kind) of one ``ip -4 route show`` line: kind is via, link, reject or default."""
    parts = line.split()
    if not parts:
        return None
    kind = 'link'
    if parts[0] in REJECT_TYPES:
        kind, parts = 'reject', parts[1:]
    if not parts:
        return None
    if parts[0] == 'default':
        return ipaddress.ip_network('0.0.0.0/0'), 'default'
    try:
        network = ipaddress.ip_network(parts[0], strict=False)
    except ValueError:
        return None
    if kind == 'link' and 'via' in parts:
        kind = 'via'
    return network, kind


def route_kind(lines, address):
    """How a host's main routing table sends ``address``: via, link, reject, default, or none.

    The most specific route wins, as in the kernel (policy routing is not read).
    """
    target = ipaddress.ip_address(address)
    best = None
    for line in lines or []:
        route = _route(line)
        if route and target in route[0] and (best is None or route[0].prefixlen > best[0].prefixlen):
            best = route
    return best[1] if best else 'none'


def _has_gateway(probe):
    # A network without a way out of its bridge (internal, gateway mode isolated) reaches nothing beyond it.
    return not probe.get('internal') and probe.get('gateway_mode') != 'isolated'


def _routed_to(routes, host, address):
    """reach, isolated, or None (cannot tell) for packets from ``host`` to ``address``."""
    if host not in routes:
        return None, 'the route table of %s was not read' % host
    kind = route_kind(routes[host], address)
    if kind == 'via':
        return 'reach', '%s routes %s through a gateway' % (host, address)
    if kind == 'default':
        return None, '%s sends %s to its default router, which decides: declare it in verify_rules' % (host, address)
    return 'isolated', '%s has no route to %s (%s)' % (host, address, kind)


def _across_hosts(source, target, routes):
    expect, why = _routed_to(routes, source['host'], target['ip'])
    if expect == 'reach' and target.get('gateway_mode') == 'routed' and source.get('gateway_mode') == 'routed':
        # Neither side masquerades: the reply needs the way back too.
        expect, back = _routed_to(routes, target['host'], source['ip'])
        why = '%s; back: %s' % (why, back)
    return expect, why


def gateway_expectation(source, target, routes):
    """(expect, why) when the target's gateway mode changes the derived rule, else None.

    ``expect`` is None when nothing here can tell (the routes were not read, or only a default
    route leads there): the pair is then not checkable unless a verify rule declares it.
    """
    mode = target.get('gateway_mode')
    if mode not in DIRECT_ROUTING_MODES:
        return None
    same_host = source['host'] == target['host']
    if same_host and source['network'] == target['network']:
        return None
    if same_host and mode == 'nat-unprotected':
        return None
    label = 'gateway mode %s of %s' % (mode, target['network'])
    if source.get('driver') in ('macvlan', 'ipvlan'):
        return None, '%s: a %s source leaves through its parent, whose routers decide' % (label, source['driver'])
    if not _has_gateway(source):
        return 'isolated', '%s: %s has no gateway' % (label, source['network'])
    if same_host:
        return 'reach', '%s: ICMP from other networks of the host is accepted' % label
    expect, why = _across_hosts(source, target, routes or {})
    return expect, '%s: %s' % (label, why)
