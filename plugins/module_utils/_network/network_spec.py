# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired network spec from task parameters, the inspected state in the same shape, and their diff.

Both sides are reduced to a *view*: a dict of canonical values. The diff compares only what
the task asked for (None means "whatever the engine has"), so a second run with the same
input finds nothing to do whatever spelling, order or defaults the engine reports.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam
from ansible_collections.netfleet.docker.plugins.module_utils._network.endpoints import EndpointError, normalize_connected

MTU_OPTION = 'com.docker.network.driver.mtu'
PREDEFINED_NETWORKS = frozenset(['bridge', 'host', 'none', 'ingress', 'docker_gwbridge'])
GLOBAL_SCOPES = frozenset(['swarm', 'global'])

IPAM_POOL_SPEC = dict(
    subnet=dict(type='str', required=True),
    gateway=dict(type='str'),
    ip_range=dict(type='str', aliases=['iprange']),
    aux_addresses=dict(type='dict'),
)

# Per-network options; shared by the top level (defaults for a batch) and each `networks` item.
NETWORK_OPTION_SPEC = dict(
    state=dict(type='str', choices=['present', 'absent']),
    driver=dict(type='str'),
    driver_options=dict(type='dict'),
    mtu=dict(type='int'),
    internal=dict(type='bool'),
    attachable=dict(type='bool'),
    scope=dict(type='str', choices=['local', 'global', 'swarm']),
    enable_ipv6=dict(type='bool'),
    labels=dict(type='dict'),
    ipam=dict(type='dict', options=dict(
        driver=dict(type='str'),
        options=dict(type='dict'),
        config=dict(type='list', elements='dict', options=IPAM_POOL_SPEC),
    )),
    config_only=dict(type='bool'),
    config_from=dict(type='str'),
    connected=dict(type='list', elements='raw'),
    connected_exclusive=dict(type='bool'),
    recreate=dict(type='str', choices=['auto', 'never']),
    force=dict(type='bool'),
)

OPTION_DEFAULTS = dict(state='present', recreate='auto', force=False, connected_exclusive=False)

# Go's strconv.ParseBool, which the engine's drivers use for boolean options.
_GO_TRUE = frozenset(['1', 't', 'T', 'TRUE', 'true', 'True'])
_GO_FALSE = frozenset(['0', 'f', 'F', 'FALSE', 'false', 'False'])


class SpecError(ValueError):
    """A request that cannot be right; raised before anything on the host changes."""


SCALAR_KEYS = ('driver', 'internal', 'attachable', 'scope', 'enable_ipv6', 'config_only', 'config_from')


def _name_problems(name: Any, owner: str) -> List[str]:
    if not name or not str(name).strip():
        return ['a network needs a non-empty name']
    if name in PREDEFINED_NETWORKS:
        return ["%s is predefined by dockerd and cannot be created, changed or removed here; "
                "configure it with the daemon role (bip, fixed-cidr, default-address-pools) instead" % owner]
    return []


def _config_only_problems(view: Mapping[str, Any], owner: str) -> List[str]:
    """config_only holds settings, config_from takes them: each excludes what the other owns."""
    if view.get('config_from') and view.get('config_only'):
        return ['%s: config_only and config_from exclude each other; a config-only network holds '
                'the settings, another network uses them with config_from' % owner]
    if view.get('config_from'):
        extra = [key for key in ('ipam', 'driver_options', 'enable_ipv6', 'internal', 'labels') if key in view]
        if extra:
            return ['%s: with config_from the settings come from the config-only network; remove %s'
                    % (owner, ', '.join(extra))]
    if view.get('config_only'):
        extra = [key for key in ('internal', 'attachable', 'scope') if view.get(key)]
        if extra:
            return ['%s: a config-only network holds only driver options and IPAM; set %s on the network '
                    'that uses it with config_from' % (owner, ', '.join(extra))]
    return []


def option_text(value: Any) -> str:
    """Stringify a driver option or label the way the engine stores it."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def options_equal(wanted_raw: Any, actual: Optional[str]) -> bool:
    if actual is None:
        return False
    if isinstance(wanted_raw, bool):
        return (actual in _GO_TRUE) if wanted_raw else (actual in _GO_FALSE)
    return option_text(wanted_raw) == actual


def merged_requests(params: Mapping[str, Any], item: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """A batch item inherits every per-network option it does not set from the task's top level."""
    merged = {}
    for key in NETWORK_OPTION_SPEC:
        value = item.get(key) if item is not None else None
        merged[key] = value if value is not None else params.get(key)
    for key, default in OPTION_DEFAULTS.items():
        if merged[key] is None:
            merged[key] = default
    merged['name'] = item['name'] if item is not None else params.get('name')
    return merged


class DesiredNetwork:
    """A request for one network, with every problem it has.

    By default the first problem raises SpecError (EndpointError for ``connected``); with
    ``collect=True`` nothing raises: ``problems`` lists them all and ``view`` keeps what is valid
    (a pool with a problem is left out), so a module can report every mistake in one answer.
    """

    def __init__(self, request: Mapping[str, Any], collect: bool = False):
        self.name = request['name']
        self.owner = "network '%s'" % self.name
        self.state = request['state']
        self.recreate = request['recreate']
        self.force = request['force']
        self.connected_exclusive = request['connected_exclusive']
        self.raw_driver_options: Dict[str, Any] = {}
        self.problems: List[str] = []
        self.view = self._build_view(request)
        if self.problems and not collect:
            raise SpecError(self.problems[0])
        self.connected: Dict[str, Dict[str, Any]] = {}
        try:
            self.connected = normalize_connected(request.get('connected'), self.owner)
        except EndpointError as exc:
            if not collect:
                raise
            self.problems.append(str(exc))
        self.connected_given = request.get('connected') is not None

    def _build_view(self, request: Mapping[str, Any]) -> Dict[str, Any]:
        self.problems.extend(_name_problems(self.name, self.owner))
        view = dict((key, request[key]) for key in SCALAR_KEYS if request.get(key) is not None)
        options = self._driver_options(request)
        if options:
            self.raw_driver_options = options
            view['driver_options'] = dict((str(k), option_text(v)) for k, v in options.items())
        if request.get('labels') is not None:
            view['labels'] = dict((str(k), option_text(v)) for k, v in request['labels'].items())
        ipam_view = self._ipam_view(request)
        if ipam_view:
            view['ipam'] = ipam_view
        self.problems.extend(_config_only_problems(view, self.owner))
        return view

    def _driver_options(self, request: Mapping[str, Any]) -> Dict[str, Any]:
        """driver_options with ``mtu`` folded in (the engine knows only the option)."""
        owner = self.owner
        options = dict(request.get('driver_options') or {})
        mtu = request.get('mtu')
        if mtu is not None:
            if mtu < 68 or mtu > 65535:
                self.problems.append('%s: mtu %s is out of range; use 68..65535 (the underlay MTU, e.g. 1500)' % (owner, mtu))
            elif MTU_OPTION in options and option_text(options[MTU_OPTION]) != str(mtu):
                self.problems.append('%s: mtu %s contradicts driver_options[%s]=%s; set only one of them'
                                     % (owner, mtu, MTU_OPTION, options[MTU_OPTION]))
            else:
                options[MTU_OPTION] = mtu
        elif MTU_OPTION in options:
            text = option_text(options[MTU_OPTION]).strip()
            if not text.isdigit() or not 68 <= int(text) <= 65535:
                self.problems.append("%s: driver_options[%s] is '%s', not an MTU; use a whole number 68..65535 "
                                     "(the underlay MTU, e.g. 1500), or set mtu instead" % (owner, MTU_OPTION, options[MTU_OPTION]))
        return options

    def _ipam_view(self, request: Mapping[str, Any]) -> Dict[str, Any]:
        ipam_request = request.get('ipam') or {}
        ipam_view: Dict[str, Any] = {}
        if ipam_request.get('driver'):
            ipam_view['driver'] = ipam_request['driver']
        if ipam_request.get('options'):
            ipam_view['options'] = dict((str(k), option_text(v)) for k, v in ipam_request['options'].items())
        if ipam_request.get('config'):
            pools, problems = ipam.check_pools(ipam_request['config'], self.owner)
            self.problems.extend(problems)
            ipam_view['config'] = pools
            v6 = [pool['subnet'] for pool in pools if ipam.pool_is_ipv6(pool)]
            if v6 and not request.get('enable_ipv6'):
                self.problems.append('%s: subnet %s is IPv6 but enable_ipv6 is not true; add enable_ipv6: true '
                                     'or drop the IPv6 subnet' % (self.owner, v6[0]))
        return ipam_view

    @property
    def pools(self) -> List[Dict[str, Any]]:
        return self.view.get('ipam', {}).get('config') or []

    @property
    def address_space(self) -> str:
        """Docker's default IPAM keeps local and global (swarm / KV) pools apart."""
        return network_address_space(self.view)


def inspected_view(network: Mapping[str, Any]) -> Dict[str, Any]:
    """The engine's network (list or inspect form) as a view with every field filled."""
    ipam_data = network.get('IPAM') or {}
    config_from = (network.get('ConfigFrom') or {}).get('Network') or None
    return dict(
        driver=network.get('Driver'),
        scope=network.get('Scope'),
        internal=bool(network.get('Internal')),
        attachable=bool(network.get('Attachable')),
        enable_ipv6=bool(network.get('EnableIPv6')),
        config_only=bool(network.get('ConfigOnly')),
        config_from=config_from,
        driver_options=dict(network.get('Options') or {}),
        labels=dict(network.get('Labels') or {}),
        ipam=dict(
            driver=ipam_data.get('Driver') or 'default',
            options=dict(ipam_data.get('Options') or {}),
            config=sorted((ipam.inspected_pool(pool) for pool in ipam_data.get('Config') or []),
                          key=ipam.pool_sort_key),
        ),
    )


def subnet_family_problem(owner: str, view: Mapping[str, Any]) -> Optional[str]:
    """The bridge driver takes at most one IPv4 and one IPv6 subnet (the engine refuses more)."""
    if view.get('config_only') or (view.get('driver') or 'bridge') != 'bridge':
        return None
    pools = view['ipam']['config']
    for family in (False, True):
        subnets = [pool['subnet'] for pool in pools if ipam.pool_is_ipv6(pool) == family]
        if len(subnets) > 1:
            return ('%s: the bridge driver takes one IPv4 and one IPv6 subnet, not %s; merge them into one '
                    'larger subnet or use separate networks' % (owner, ' and '.join(subnets)))
    return None


def network_address_space(view: Mapping[str, Any]) -> str:
    if view.get('scope') in GLOBAL_SCOPES or view.get('driver') == 'overlay':
        return 'global'
    return 'local'


def diff_views(desired: 'DesiredNetwork', actual: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Field paths where the actual view differs from what was asked, each with wanted/actual values."""
    changes = []
    wanted = desired.view
    # The engine stores config-only networks with driver "null" and scope "local" whatever was asked.
    skipped = ('driver', 'scope') if wanted.get('config_only') else ()
    for key in ('driver', 'scope', 'internal', 'attachable', 'enable_ipv6', 'config_only', 'config_from'):
        if key in skipped:
            continue
        if key in wanted and wanted[key] != actual.get(key):
            changes.append(dict(path=key, wanted=wanted[key], actual=actual.get(key)))
    for key, raw in sorted(desired.raw_driver_options.items()):
        have = actual['driver_options'].get(str(key))
        if not options_equal(raw, have):
            changes.append(dict(path='driver_options.%s' % key, wanted=option_text(raw), actual=have))
    for section in ('labels',):
        for key, value in sorted((wanted.get(section) or {}).items()):
            have = actual[section].get(key)
            if have != value:
                changes.append(dict(path='%s.%s' % (section, key), wanted=value, actual=have))
    ipam_wanted = wanted.get('ipam') or {}
    ipam_actual = actual['ipam']
    if 'driver' in ipam_wanted and ipam_wanted['driver'] != ipam_actual['driver']:
        changes.append(dict(path='ipam.driver', wanted=ipam_wanted['driver'], actual=ipam_actual['driver']))
    for key, value in sorted((ipam_wanted.get('options') or {}).items()):
        if ipam_actual['options'].get(key) != value:
            changes.append(dict(path='ipam.options.%s' % key, wanted=value, actual=ipam_actual['options'].get(key)))
    if 'config' in ipam_wanted:
        changes.extend(_diff_pools(ipam_wanted['config'], ipam_actual['config']))
    return changes


def _diff_pools(wanted_pools, actual_pools):
    changes = []
    wanted_by_subnet = dict((pool['subnet'], pool) for pool in wanted_pools)
    actual_by_subnet = dict((pool['subnet'], pool) for pool in actual_pools)
    if set(wanted_by_subnet) != set(actual_by_subnet):
        return [dict(path='ipam.config', wanted=sorted(wanted_by_subnet), actual=sorted(actual_by_subnet))]
    for subnet, pool in sorted(wanted_by_subnet.items()):
        have = actual_by_subnet[subnet]
        prefix = 'ipam.config[%s]' % subnet
        # An omitted gateway means "the engine picks"; only a requested one is compared.
        if pool['gateway'] is not None and pool['gateway'] != have['gateway']:
            changes.append(dict(path=prefix + '.gateway', wanted=pool['gateway'], actual=have['gateway']))
        if pool['ip_range'] != have['ip_range']:
            changes.append(dict(path=prefix + '.ip_range', wanted=pool['ip_range'], actual=have['ip_range']))
        if pool['aux_addresses'] != have['aux_addresses']:
            changes.append(dict(path=prefix + '.aux_addresses', wanted=pool['aux_addresses'], actual=have['aux_addresses']))
    return changes


def target_view(desired: 'DesiredNetwork', actual: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """What the network will look like after create/recreate: the request laid over what exists.

    On recreate, settings the task does not mention (labels it does not name, an existing
    subnet and gateway) are carried over, so a label change never renumbers a network.
    """
    wanted = desired.view
    if actual is None:
        # No scope unless asked: the engine picks it from the driver (local, or swarm/global for overlay).
        base = dict(driver='bridge', scope=None, internal=False, attachable=False, enable_ipv6=False,
                    config_only=False, config_from=None, driver_options={}, labels={},
                    ipam=dict(driver='default', options={}, config=[]))
    else:
        base = dict(actual)
        base['driver_options'] = dict(actual['driver_options'])
        base['labels'] = dict(actual['labels'])
        base['ipam'] = dict(actual['ipam'])
    for key in ('driver', 'scope', 'internal', 'attachable', 'enable_ipv6', 'config_only', 'config_from'):
        if key in wanted:
            base[key] = wanted[key]
    if actual is not None and wanted.get('config_only') and 'driver' not in wanted:
        base['driver'] = None
    base['driver_options'].update(wanted.get('driver_options') or {})
    base['labels'].update(wanted.get('labels') or {})
    ipam_wanted = wanted.get('ipam') or {}
    if 'driver' in ipam_wanted:
        base['ipam']['driver'] = ipam_wanted['driver']
    base['ipam']['options'] = dict(base['ipam']['options'], **(ipam_wanted.get('options') or {}))
    if 'config' in ipam_wanted:
        carried = dict((pool['subnet'], pool) for pool in (actual or {}).get('ipam', {}).get('config', []))
        pools = []
        for pool in ipam_wanted['config']:
            pool = dict(pool)
            if pool['gateway'] is None and pool['subnet'] in carried:
                pool['gateway'] = carried[pool['subnet']]['gateway']
            pools.append(pool)
        base['ipam']['config'] = pools
    return base


def create_body(name: str, view: Mapping[str, Any]) -> Dict[str, Any]:
    """The POST /networks/create body for a view."""
    body = dict(
        Name=name,
        CheckDuplicate=True,
        Driver=view['driver'] or 'bridge',
        Options=view['driver_options'],
        Internal=view['internal'],
        Attachable=view['attachable'],
        EnableIPv6=view['enable_ipv6'],
        Labels=view['labels'],
        IPAM=dict(Driver=view['ipam']['driver'] or 'default', Options=view['ipam']['options'],
                  Config=[_pool_body(pool) for pool in view['ipam']['config']]),
    )
    if view.get('scope') and not view.get('config_only'):  # the engine refuses any Scope on a config-only network
        body['Scope'] = view['scope']
    if view.get('config_only'):
        body['ConfigOnly'] = True
    if view.get('config_from'):
        body['ConfigFrom'] = dict(Network=view['config_from'])
        # The engine refuses IPAM/options on a network that takes them from a config-only one.
        body.pop('Options')
        body['IPAM'] = dict(Driver='default', Config=[])
        # Labels and EnableIPv6 come from the config-only network too; sending them back is refused.
        body['Labels'] = {}
        body['EnableIPv6'] = False
    return body


def _pool_body(pool):
    body = dict(Subnet=pool['subnet'])
    if pool.get('gateway'):
        body['Gateway'] = pool['gateway']
    if pool.get('ip_range'):
        body['IPRange'] = pool['ip_range']
    if pool.get('aux_addresses'):
        body['AuxiliaryAddresses'] = pool['aux_addresses']
    return body
