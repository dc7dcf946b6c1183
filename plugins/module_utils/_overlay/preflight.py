# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded checks of the host and of declared peers, run before anything changes.

Every probe here is bounded in count and in time, and goes only to addresses the task names
(the managers in ``remote_addrs``, the KV store in ``cluster_store``) or stays on the host
(its interfaces, its kernel). Nothing is left behind: the ESP probe runs in a network
namespace of its own that disappears with the probe.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.client import DEFAULT_DOCKER_HOST
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet

Links = Dict[str, Dict[str, Any]]

ESP_AEAD = 'rfc4106(gcm(aes))'
# A dummy transport-mode SA between two TEST-NET-1 addresses (RFC 5737); it only exists in
# the probe's own network namespace and never carries a packet.
ESP_PROBE_SA = ('xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x4e460001 reqid 1 mode transport '
                'aead rfc4106(gcm(aes)) 0x%s 128' % ('00112233445566778899aabbccddeeff' + '01020304'))


class PreflightError(PlanningError):
    """A preflight check failed (nothing has changed); the message says what, why and the fix."""


def split_host_port(text: Any, default_port: Optional[int] = None) -> Tuple[str, Optional[int]]:
    """'10.0.0.1' / '10.0.0.1:2377' / '[fd00::1]:2377' / 'fd00::1' / 'eth0:2377' -> (host, port or default)."""
    text = str(text).strip()
    if text.startswith('['):
        host, sep, rest = text[1:].partition(']')
        if not sep:
            raise ValueError("'%s': unbalanced '['" % text)
        port = rest[1:] if rest.startswith(':') else ''
    elif text.count(':') == 1:
        host, port = text.split(':')
    else:
        host, port = text, ''
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("'%s': port '%s' is not a number from 1 to 65535" % (text, port))
        return host, int(port)
    return host, default_port


def is_ip(text: Any) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_ip_addr_json(text: str) -> Links:
    """`ip -j addr show` text -> {ifname: {'mtu': int, 'addresses': [str]}}."""
    return _links_by_name(json.loads(text or '[]'))


def _links_by_name(data):
    links = {}
    for link in data:
        name = link.get('ifname')
        if not name:
            continue
        links[name] = dict(mtu=link.get('mtu'),
                           addresses=[a['local'] for a in link.get('addr_info', []) if a.get('local')])
    return links


def host_links(module: Any) -> Links:
    """The host's interfaces with their MTU and addresses (iproute2 JSON)."""
    try:
        data = hostnet.ip_json(hostnet.module_runner(module), ['addr', 'show'], 'list the host\'s addresses')
    except hostnet.HostNetError as exc:
        if 'command not found' in str(exc):
            raise PreflightError('iproute2 (the ip command) is not installed on the host; it is needed to check '
                                 'which interface carries the advertise address')
        raise PreflightError(str(exc))
    return _links_by_name(data)


def underlay_for(address: str, links: Links, option: str = 'advertise_addr') -> Dict[str, Any]:
    """The interface that carries an address (an IP or an interface name), with its MTU.

    Raises PreflightError naming the host's addresses when the address is not on the host."""
    host, _port = split_host_port(address)
    if is_ip(host):
        wanted = ipaddress.ip_address(host)
        for name, link in sorted(links.items()):
            for addr in link['addresses']:
                if ipaddress.ip_address(addr) == wanted:
                    return dict(interface=name, address=addr, mtu=link['mtu'])
        on_host = sorted('%s (%s)' % (addr, name) for name, link in links.items()
                         for addr in link['addresses'] if name != 'lo')
        raise PreflightError(
            "%s %s is not an address of this host; the host has %s. Give one of these (or an interface "
            "name) so that the other nodes can reach this one" % (option, host, ', '.join(on_host) or 'no addresses'))
    link = links.get(host)
    if link is None:
        raise PreflightError("%s %s: this host has no interface and no address of that name; interfaces: %s"
                             % (option, host, ', '.join(sorted(links))))
    v4 = [a for a in link['addresses'] if ipaddress.ip_address(a).version == 4]
    chosen = (v4 or link['addresses'] or [None])[0]
    if chosen is None:
        raise PreflightError('%s %s: the interface has no address' % (option, host))
    return dict(interface=host, address=chosen, mtu=link['mtu'])


def tcp_reachable(addresses: List[str], default_port: int, timeout: float) -> Tuple[List[str], Dict[str, str]]:
    """Try one TCP connection to each address (bounded by timeout); -> (reachable list, {addr: error})."""
    ok, errors = [], {}
    for text in addresses:
        try:
            host, port = split_host_port(text, default_port)
        except ValueError as exc:
            errors[text] = str(exc)
            continue
        try:
            with socket.create_connection((host, port), timeout=timeout):
                ok.append(text)
        except OSError as exc:
            errors[text] = str(exc) or exc.__class__.__name__
    return ok, errors


def require_manager_port(remote_addrs: List[str], timeout: float = 3.0) -> Dict[str, List[str]]:
    """Before a join: at least one manager must answer on its swarm port (2377/tcp unless given)."""
    ok, errors = tcp_reachable(remote_addrs, 2377, timeout)
    if not ok:
        detail = '; '.join('%s: %s' % (addr, err) for addr, err in errors.items())
        raise PreflightError(
            'no manager in remote_addrs answers on its swarm port (2377/tcp unless given), tried once each with a '
            '%ss timeout: %s. Check the addresses, that the manager is initialized, and that no firewall blocks '
            '2377/tcp between the nodes' % (timeout, detail))
    return dict(reachable=ok, unreachable=sorted(errors))


def esp_support(module: Any) -> Dict[str, Any]:
    """Can this kernel carry an encrypted overlay (ESP with rfc4106(gcm(aes)))?

    Method: the kernel is asked to install a dummy transport-mode ESP SA with that AEAD in a
    throw-away network namespace (``unshare --net ip xfrm state add ...``). That needs both the
    ESP protocol (esp4/xfrm) and the algorithm, and makes the kernel load them on demand exactly
    as dockerd would; the namespace and the SA vanish with the probe and no packet is sent.
    Only when unshare or ip are missing does /proc/crypto decide (the algorithm registered there
    is taken as support, without proof of esp4). Returns dict(supported=bool, method=str, reason=str)."""
    unshare, ip_bin = module.get_bin_path('unshare'), module.get_bin_path('ip')
    if unshare and ip_bin:
        rc, out, err = module.run_command([unshare, '--net', ip_bin] + ESP_PROBE_SA.split())
        if rc == 0:
            return dict(supported=True, method='xfrm probe', reason='the kernel accepted an ESP SA with %s' % ESP_AEAD)
        text = (err or out).strip() or 'rc=%s' % rc
        return dict(supported=False, method='xfrm probe',
                    reason='the kernel refused an ESP SA with %s (%s): it lacks ESP (esp4, xfrm) or the AES-GCM '
                           'AEAD' % (ESP_AEAD, text))
    try:
        with open('/proc/crypto') as handle:
            registered = ESP_AEAD in handle.read()
    except OSError:
        registered = False
    if registered:
        return dict(supported=True, method='/proc/crypto',
                    reason='%s is registered in /proc/crypto (esp4 not probed: unshare or ip is missing)' % ESP_AEAD)
    return dict(supported=False, method='/proc/crypto',
                reason='%s is not in /proc/crypto, and the xfrm probe needs unshare and ip (util-linux, iproute2), '
                       'which are not installed: cannot confirm ESP support' % ESP_AEAD)


def require_esp(module: Any) -> Dict[str, Any]:
    result = esp_support(module)
    if not result['supported']:
        raise PreflightError(
            'encrypted overlay networks need IPsec ESP with %s in the kernel of every node, and this host cannot: '
            '%s. Docker would create the network but drop its traffic. Load esp4 and the AES-GCM modules '
            '(modprobe esp4; modprobe aes-gcm / gcm), or request the network without encryption'
            % (ESP_AEAD, result['reason']))
    return result


# -- the host checks of one overlay_cluster run ----------------------------------------------

def local_engine(params: Mapping) -> bool:
    """The engine runs on this host (a unix socket), so this host's interfaces and kernel are its own."""
    return (params.get('docker_host') or DEFAULT_DOCKER_HOST).startswith('unix://')


@dataclass(frozen=True)
class HostFacts:
    """What the host checks found: the underlay, the advertise IP to compare, the ESP probe."""

    underlay: Optional[Mapping] = None
    advertise_ip: Optional[str] = None
    esp: Optional[Mapping] = None

    def result(self) -> Dict[str, Any]:
        """The keys these facts add to the module's result."""
        result: Dict[str, Any] = dict(preflight=dict(esp=self.esp) if self.esp else {})
        if self.underlay:
            result['underlay'] = dict(self.underlay)
        return result


class HostProbe:
    """This host as the checks see it: its links, read once per run (iproute2 JSON)."""

    def __init__(self, module: Any, read_links: Optional[Callable[[Any], Links]] = None):
        self.module = module
        self._read_links = read_links or host_links
        self._links: Optional[Links] = None

    def links(self) -> Links:
        if self._links is None:
            self._links = self._read_links(self.module)
        return self._links

    def ipv4_candidates(self) -> List[str]:
        """Addresses dockerd could advertise (it refuses to choose among several)."""
        return sorted(addr for name, link in self.links().items() if name != 'lo' and not name.startswith('docker')
                      for addr in link['addresses'] if ipaddress.ip_address(addr).version == 4)

    def check(self, params: Mapping) -> HostFacts:
        """Addresses on this host, the underlay interface and ESP support (local engines only)."""
        fallback_ip = addr_ip(params.get('advertise_addr') or '')
        if params['state'] == 'absent' or params.get('node'):
            return HostFacts(advertise_ip=fallback_ip)
        if not local_engine(params):
            if (params.get('advertise_addr') or params.get('data_path_addr') or params.get('cluster_advertise')
                    or params['encrypted_overlay']):
                self.module.warn('docker_host %s is not a local socket: the advertise address, the underlay MTU and '
                                 'ESP support of the engine\'s host were not checked' % params['docker_host'])
            return HostFacts(advertise_ip=fallback_ip)
        underlay = None
        if params.get('advertise_addr'):
            underlay = underlay_for(params['advertise_addr'], self.links())
        if params.get('data_path_addr'):
            underlay_for(params['data_path_addr'], self.links(), option='data_path_addr')
        if params.get('cluster_advertise'):
            underlay = underlay_for(params['cluster_advertise'], self.links(), option='cluster_advertise')
        esp = require_esp(self.module) if params['encrypted_overlay'] else None
        advertise_ip = underlay['address'] if underlay and params.get('advertise_addr') else fallback_ip
        return HostFacts(underlay=underlay, advertise_ip=advertise_ip, esp=esp)

    def underlay_of(self, address: str) -> Optional[Dict[str, Any]]:
        """The interface carrying an address the engine reports, or None when it is not on this host."""
        try:
            return underlay_for(address, self.links())
        except PreflightError:
            return None


def addr_ip(text: str) -> Optional[str]:
    """The IP of 'ip:port' / '[ip]:port' / 'ip', or None for a name (or nothing)."""
    if not text:
        return None
    try:
        host = split_host_port(text)[0]
    except ValueError:
        return None
    return str(ipaddress.ip_address(host)) if is_ip(host) else None
