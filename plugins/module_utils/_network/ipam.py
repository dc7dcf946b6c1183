# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPAM arithmetic: parse, normalize, validate and compare address pools (netaddr).

Normalized pools are plain dicts of canonical strings so that two spellings of the same
configuration (``2001:DB8::/64`` and ``2001:db8:0::/64``, pools in another order) compare
equal, and so that they print well in diffs.
"""

from __future__ import annotations

import traceback
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

try:
    import netaddr
    NETADDR_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by the sanity import test
    netaddr = None
    NETADDR_IMPORT_ERROR = traceback.format_exc()


class IpamError(ValueError):
    """Bad address input; the message names the object, the problem and the fix."""


def _require_netaddr():
    if netaddr is None:
        raise IpamError('the Python library netaddr is required for address checks: pip install netaddr')


def parse_network(text: Any, owner: str, field: str = 'subnet') -> Any:
    """Parse a CIDR; refuse host bits, since Docker would silently keep or reject them."""
    _require_netaddr()
    try:
        network = netaddr.IPNetwork(str(text).strip())
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise IpamError("%s: %s '%s' is not a valid CIDR; write it as address/prefix, e.g. 10.10.0.0/24 or fd00:10::/64"
                        % (owner, field, text))
    if '/' not in str(text):
        raise IpamError("%s: %s '%s' has no prefix length; write it as address/prefix, e.g. %s/%d"
                        % (owner, field, text, network.ip, network.prefixlen))
    if network.ip != network.network:
        raise IpamError("%s: %s '%s' has host bits set; did you mean %s?" % (owner, field, text, network.cidr))
    return network


def parse_address(text: Any, owner: str, field: str) -> Any:
    _require_netaddr()
    try:
        value = str(text).strip()
        if '/' in value:
            raise ValueError(value)
        return netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise IpamError("%s: %s '%s' is not a valid IP address (no prefix length here)" % (owner, field, text))


def canonical_network(text: Optional[str]) -> Optional[str]:
    """Canonical spelling of a CIDR as Docker would report it, or the text unchanged if unparseable."""
    if not text:
        return text
    try:
        return str(netaddr.IPNetwork(str(text)).cidr) if '/' in str(text) else str(netaddr.IPAddress(str(text)))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return text


def canonical_address(text: Optional[str]) -> Optional[str]:
    if not text:
        return text
    value = str(text).split('/', maxsplit=1)[0]
    try:
        return str(netaddr.IPAddress(value))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return text


def normalize_pool(pool: Mapping[str, Any], owner: str) -> Dict[str, Any]:
    """Validate one requested pool and return its canonical form (IpamError names the first problem).

    Keys: subnet, gateway (None = let the engine pick), ip_range (None = whole subnet),
    aux_addresses (dict name -> address).
    """
    result, problems = check_pool(pool, owner)
    if problems:
        raise IpamError(problems[0])
    return result


def check_pool(pool: Mapping[str, Any], owner: str) -> Tuple[Optional[Dict[str, Any]], List[str]]:
    """The canonical pool (None when it has problems) and every problem of it, in field order."""
    subnet_text = pool.get('subnet')
    if not subnet_text:
        return None, ['%s: every ipam config entry needs a subnet; add one, e.g. subnet: 10.10.0.0/24' % owner]
    try:
        subnet = parse_network(subnet_text, owner)
    except IpamError as exc:
        return None, [str(exc)]
    where = "%s subnet %s" % (owner, subnet)
    problems: List[str] = []
    gateway = _collect(problems, _pool_gateway, pool.get('gateway'), subnet, owner, where)
    ip_range = _collect(problems, _pool_ip_range, pool.get('ip_range'), subnet, owner, where)
    aux = {}
    for name, address_text in sorted((pool.get('aux_addresses') or {}).items()):
        address = _collect(problems, _aux_address, name, address_text, subnet, gateway, owner, where)
        if address is not None:
            aux[str(name)] = str(address)
    if problems:
        return None, problems
    return dict(subnet=str(subnet), gateway=_text(gateway), ip_range=_text(ip_range), aux_addresses=aux), []


def _text(value):
    return str(value) if value is not None else None


def _collect(problems, check, *args):
    """Run one field check; its IpamError joins the problems (and the field counts as not given)."""
    try:
        return check(*args)
    except IpamError as exc:
        problems.append(str(exc))
        return None


def _pool_gateway(text, subnet, owner, where):
    if not text:
        return None
    gateway = parse_address(text, owner, 'gateway')
    _check_inside(gateway, subnet, where, 'gateway')
    if subnet.version == 4 and subnet.prefixlen < 31 and gateway in (subnet.network, subnet.broadcast):
        raise IpamError('%s: gateway %s is the %s address; pick a host address such as %s'
                        % (where, gateway, 'network' if gateway == subnet.network else 'broadcast', subnet[1]))
    return gateway


def _pool_ip_range(text, subnet, owner, where):
    if not text:
        return None
    ip_range = parse_network(text, owner, 'ip_range')
    if ip_range.version != subnet.version or ip_range not in subnet:
        raise IpamError('%s: ip_range %s is outside the subnet; give a range inside %s' % (where, ip_range, subnet))
    return ip_range


def _aux_address(name, text, subnet, gateway, owner, where):
    address = parse_address(text, owner, "aux_addresses['%s']" % name)
    _check_inside(address, subnet, where, "aux address '%s'" % name)
    if gateway is not None and address == gateway:
        raise IpamError("%s: aux address '%s' (%s) is the gateway; Docker reserves the gateway itself, drop it"
                        % (where, name, address))
    return address


def _check_inside(address, subnet, where, what):
    if address.version != subnet.version or address not in subnet:
        raise IpamError('%s: %s %s is outside the subnet; use an address inside %s' % (where, what, address, subnet))


def normalize_pools(pools: Optional[Sequence[Mapping[str, Any]]], owner: str) -> List[Dict[str, Any]]:
    """Validate a list of pools, refuse duplicates and overlaps among them, return them sorted."""
    normalized, problems = check_pools(pools, owner)
    if problems:
        raise IpamError(problems[0])
    return normalized


def check_pools(pools: Optional[Sequence[Mapping[str, Any]]], owner: str) -> Tuple[List[Dict[str, Any]], List[str]]:
    """The valid pools, sorted, and every problem of the list (each pool's, then overlaps among them)."""
    normalized, problems = [], []
    for pool in pools or []:
        result, found = check_pool(pool or {}, owner)
        problems.extend(found)
        if result is not None:
            normalized.append(result)
    for index, first in enumerate(normalized):
        for second in normalized[index + 1:]:
            if networks_overlap(first['subnet'], second['subnet']):
                problems.append('%s: subnets %s and %s overlap; a network needs disjoint subnets'
                                % (owner, first['subnet'], second['subnet']))
    return sorted(normalized, key=pool_sort_key), problems


def pool_sort_key(pool: Mapping[str, Any]) -> Tuple[int, int, int]:
    network = netaddr.IPNetwork(pool['subnet'])
    return (network.version, int(network.network), network.prefixlen)


def inspected_pool(config: Mapping[str, Any]) -> Dict[str, Any]:
    """Docker's IPAM.Config entry -> canonical pool (same shape as normalize_pool)."""
    aux = config.get('AuxiliaryAddresses') or {}
    return dict(
        subnet=canonical_network(config.get('Subnet')),
        gateway=canonical_address(config.get('Gateway')) or None,
        ip_range=canonical_network(config.get('IPRange')) or None,
        aux_addresses=dict((str(k), canonical_address(v)) for k, v in aux.items()),
    )


def pool_is_ipv6(pool: Mapping[str, Any]) -> bool:
    return ':' in pool['subnet']


def networks_overlap(first: str, second: str) -> bool:
    a, b = netaddr.IPNetwork(first), netaddr.IPNetwork(second)
    if a.version != b.version:
        return False
    return a.first <= b.last and b.first <= a.last


def address_in_pools(address: str, pools: Sequence[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """The pool whose subnet holds the address, or None."""
    ip = netaddr.IPAddress(canonical_address(address))
    for pool in pools:
        subnet = netaddr.IPNetwork(pool['subnet'])
        if ip.version == subnet.version and ip in subnet:
            return pool
    return None


def find_overlaps(candidates: Iterable[Tuple[str, str]], existing: Iterable[Tuple[str, str]]) -> List[Tuple[str, str, str, str]]:
    """Pairs (candidate_owner, candidate_subnet, other_owner, other_subnet) that overlap.

    ``candidates`` and ``existing`` are iterables of (owner, subnet). Uses sorted intervals
    so that checking a batch of hundreds of networks stays cheap.
    """
    intervals = []
    for source, items in ((0, candidates), (1, existing)):
        for owner, subnet in items:
            network = netaddr.IPNetwork(subnet)
            intervals.append((network.version, network.first, network.last, source, owner, str(network.cidr)))
    intervals.sort()
    found = []
    active = []
    for version, first, last, source, owner, subnet in intervals:
        active = [item for item in active if item[0] == version and item[2] >= first]
        for other in active:
            if source == 1 and other[3] == 1:
                continue
            if other[4] == owner:
                continue
            if source == 0:
                found.append((owner, subnet, other[4], other[5]))
            else:
                found.append((other[4], other[5], owner, subnet))
        active.append((version, first, last, source, owner, subnet))
    return found
