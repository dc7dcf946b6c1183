# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of version gates: which engine or API version brought (or took away) what.

Every module asks through :func:`require` (fail naming the feature, the versions and the fix) or
:func:`supports` (degrade quietly, e.g. send no MAC address to an old API). ``docker_net_info``
reports the engine-version rows as its ``features``.

A row is a plain dict; add one per feature or option:

``engine``      first engine version that has it, a tuple such as ``(23, 0)``;
``removed_in``  first engine version that no longer has it;
``api``         first Engine API version that accepts it, a string such as ``'1.30'``;
``what``        how an error names it (a feature: ``'dockerd --validate'``; an option: its name);
``option``      True when ``what`` is a task option (the API error then says "option '<what>'");
``feature``     False to keep a row out of docker_net_info's ``features`` (options are left out).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Mapping, Optional, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError

Version = Tuple[int, ...]

GATES: Dict[str, Dict[str, Any]] = {
    # -- engine features (reported by docker_net_info as `features`) -----------------------------
    'legacy_kv_overlay': dict(removed_in=(23, 0), what='the legacy KV-store overlay (cluster-store)'),
    'dockerd_validate': dict(engine=(23, 0), what='dockerd --validate'),
    'default_network_opts': dict(engine=(24, 0), what='the daemon key default-network-opts'),
    'ip_forward_no_drop': dict(engine=(28, 0), what='the daemon key ip-forward-no-drop'),
    'allow_direct_routing': dict(engine=(28, 2), what='the daemon key allow-direct-routing', feature=False),
    'config_only_networks': dict(engine=(17, 6), what='config-only networks'),
    'endpoint_mac_address': dict(engine=(25, 0), what='endpoint MAC addresses'),
    'bridge_gateway_mode_routed': dict(engine=(27, 0), what='bridge gateway modes nat and routed'),
    'endpoint_sysctls': dict(engine=(27, 0), what='per-endpoint sysctls'),
    'ipv6_only_networks': dict(engine=(28, 0), what='IPv6-only networks (EnableIPv4 false)'),
    'bridge_gateway_mode_isolated': dict(engine=(28, 0), what='bridge gateway modes nat-unprotected and isolated'),
    'endpoint_gw_priority': dict(engine=(28, 0), what='endpoint gateway priority (GwPriority)'),
    'endpoint_ifname': dict(engine=(28, 0), what='endpoint interface names (com.docker.network.endpoint.ifname)'),
    'trusted_host_interfaces': dict(engine=(28, 2), what='bridge trusted host interfaces'),
    # 28.2 no longer shows com.docker.network.enable_ipv4/6 in inspect Options (EnableIPv4/6 say it).
    'inspect_hides_enable_ip_options': dict(engine=(28, 2), what='inspect without the enable_ipv4/6 options'),
    'firewall_backend_nftables': dict(engine=(29, 0), what='the nftables firewall backend'),
    'ipam_status_subnets': dict(engine=(29, 0), what='Status.IPAM.Subnets in network inspect'),
    'swarm_nftables': dict(engine=(29, 6), what='swarm under the nftables firewall backend'),
    # -- network options (docker_net, macvlan_net): fields of POST /networks/create ---------------
    'network.attachable': dict(api='1.25', what='attachable', option=True, feature=False),
    'network.scope': dict(api='1.30', what='scope', option=True, feature=False),
    'network.config_only': dict(api='1.30', what='config_only', option=True, feature=False),
    'network.config_from': dict(api='1.30', what='config_from', option=True, feature=False),
    'network.ingress': dict(api='1.29', what='ingress', option=True, feature=False),
    # enable_ipv4 is gated only when false (every engine gives a network IPv4 by itself).
    'network.enable_ipv4': dict(api='1.48', engine=(28, 0), what='enable_ipv4: false', option=True, feature=False),
    'network.trusted_host_interfaces': dict(api='1.50', engine=(28, 2), what='trusted_host_interfaces',
                                            option=True, feature=False),
    # bridge gateway modes (gateway_mode_ipv4/6), gated per value
    'bridge_gateway_mode.nat': dict(api='1.46', engine=(27, 0), what='gateway mode nat', option=True, feature=False),
    'bridge_gateway_mode.routed': dict(api='1.46', engine=(27, 0), what='gateway mode routed', option=True,
                                       feature=False),
    'bridge_gateway_mode.nat-unprotected': dict(api='1.48', engine=(28, 0), what='gateway mode nat-unprotected',
                                                option=True, feature=False),
    'bridge_gateway_mode.isolated': dict(api='1.48', engine=(28, 0), what='gateway mode isolated', option=True,
                                         feature=False),
    # -- daemon.json keys (daemon_config): 'daemon.<key>', a dotted key for one inside a mapping ------
    # dockerd refuses to start on a key it does not know, so these fail before the file is written.
    # (default-network-opts, ip-forward-no-drop, allow-direct-routing, cluster-* use the rows above.)
    'daemon.bip6': dict(engine=(28, 0), what='the daemon key bip6', feature=False),
    'daemon.host-gateway-ips': dict(engine=(28, 0), what='the daemon key host-gateway-ips', feature=False),
    'daemon.firewall-backend': dict(engine=(29, 0), what='the daemon key firewall-backend', feature=False),
    'daemon.bridge-accept-fwmark': dict(engine=(29, 0), what='the daemon key bridge-accept-fwmark', feature=False),
    'daemon.min-api-version': dict(engine=(29, 0), what='the daemon key min-api-version', feature=False),
    'daemon.features.swarm-nftables': dict(engine=(29, 6), what='the daemon feature swarm-nftables (swarm under '
                                           'firewall-backend nftables)', feature=False),
    # Before 27.0 ip6tables was experimental: dockerd refuses ip6tables: true without experimental: true.
    'ip6tables_without_experimental': dict(engine=(27, 0), what='ip6tables without experimental', feature=False),
    # -- endpoint options (connect): sent only when the API has them, never a failure -------------
    # (asked for explicitly in `connected`, each of these fails on an engine without it)
    'endpoint.mac_address': dict(api='1.44', what='mac_address', option=True, feature=False),
    'endpoint.gw_priority': dict(api='1.48', engine=(28, 0), what='gw_priority', option=True, feature=False),
    'endpoint.interface_name': dict(api='1.48', engine=(28, 0), what='interface_name', option=True, feature=False),
    'endpoint.sysctls': dict(api='1.46', engine=(27, 0), what='sysctls', option=True, feature=False),
}


def parse_version(text: Any) -> Version:
    """'20.10.24+dfsg1' -> (20, 10, 24); '1.41' -> (1, 41). Unparseable parts count as 0."""
    parts = []
    for piece in re.split(r'[.\-+~]', str(text))[:3]:
        match = re.match(r'\d+', piece)
        if not match:
            break
        parts.append(int(match.group(0)))
    return tuple(parts) or (0,)


def version_text(version: Version) -> str:
    return '.'.join(str(part) for part in version)


def option_gates(prefix: str) -> Dict[str, Mapping[str, Any]]:
    """Rows for the options of one kind of object: {'scope': row, ...} for prefix 'network'."""
    start = prefix + '.'
    return dict((key[len(start):], row) for key, row in GATES.items() if key.startswith(start))


def engine_has(row: Mapping[str, Any], engine_version: Version) -> bool:
    """Whether an engine of this version has the row's feature (API version not considered)."""
    since, until = row.get('engine'), row.get('removed_in')
    if since is not None and engine_version < since:
        return False
    return not (until is not None and engine_version >= until)


def features_for(engine_version: Version) -> Dict[str, bool]:
    """Every engine feature of the table -> whether an engine of this version has it."""
    return dict((name, engine_has(row, engine_version)) for name, row in GATES.items()
                if row.get('feature', True))


def supports(engine: Any, feature: str) -> bool:
    """Whether the connected engine (version and API version) has the feature; never fails."""
    row = GATES[feature]
    if (row.get('engine') or row.get('removed_in')) and not engine_has(row, engine.engine_version):
        return False
    return not (row.get('api') and engine.api_version < parse_version(row['api']))


def gate_problem(engine: Any, feature: str, owner: Optional[str] = None,
                 what: Optional[str] = None) -> Optional[str]:
    """The message that says why the engine lacks the feature, or None when it has it."""
    row = GATES[feature]
    what = what or row['what']
    if row.get('api') and engine.api_version < parse_version(row['api']):
        return api_message(engine, row, what, owner)
    if row.get('engine') or row.get('removed_in'):
        return _engine_message(engine, row, what)
    return None


def require(engine: Any, feature: str, owner: Optional[str] = None, what: Optional[str] = None) -> None:
    """Raise EngineError naming the feature, the versions and the fix when the engine lacks it."""
    problem = gate_problem(engine, feature, owner, what)
    if problem:
        raise EngineError(problem)


def api_message(engine: Any, row: Mapping[str, Any], what: str, owner: Optional[str]) -> str:
    where = ' of %s' % owner if owner else ''
    name = "option '%s'" % what if row.get('option') else what
    release = ' (Docker %s)' % version_text(row['engine']) if row.get('engine') else ''
    return ("%s%s needs Docker API %s%s or later, but the engine at %s speaks API %s "
            "(engine %s); upgrade the engine or drop the option"
            % (name, where, row['api'], release, engine.endpoint, engine.api.api_version,
               engine.version_info.get('Version', '?')))


def _engine_message(engine: Any, row: Mapping[str, Any], what: str) -> Optional[str]:
    version = engine.engine_version
    since, until = row.get('engine'), row.get('removed_in')
    if since is not None and version < since:
        return ('%s needs Docker %s or later; the engine at %s is %s'
                % (what, version_text(since), engine.endpoint, version_text(version)))
    if until is not None and version >= until:
        return ('%s was removed in Docker %s; the engine at %s is %s'
                % (what, version_text(until), engine.endpoint, version_text(version)))
    return None
