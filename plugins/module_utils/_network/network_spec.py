# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired network spec from task parameters, the inspected state in the same shape, and their diff.

Both sides are reduced to a *view*: a dict of canonical values. The diff compares only what
the task asked for (None means "whatever the engine has"), so a second run with the same
input finds nothing to do whatever spelling, order or defaults the engine reports.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common import versions
from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam
from ansible_collections.netfleet.docker.plugins.module_utils._network.endpoints import (
    GATED_ENDPOINT_KEYS, EndpointError, normalize_connected)

MTU_OPTION = 'com.docker.network.driver.mtu'
GATEWAY_MODE_OPTIONS = dict(gateway_mode_ipv4='com.docker.network.bridge.gateway_mode_ipv4',
                            gateway_mode_ipv6='com.docker.network.bridge.gateway_mode_ipv6')
GATEWAY_MODES = ('nat', 'routed', 'nat-unprotected', 'isolated')
TRUSTED_INTERFACES_OPTION = 'com.docker.network.bridge.trusted_host_interfaces'
# Before 28.2 the engine also lists these in Options; EnableIPv4/EnableIPv6 are what count.
ENABLE_IP_OPTIONS = dict(enable_ipv4='com.docker.network.enable_ipv4', enable_ipv6='com.docker.network.enable_ipv6')
BRIDGE_ONLY_OPTIONS = dict(GATEWAY_MODE_OPTIONS, trusted_host_interfaces=TRUSTED_INTERFACES_OPTION)
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
    enable_ipv4=dict(type='bool'),
    gateway_mode_ipv4=dict(type='str'),
    gateway_mode_ipv6=dict(type='str'),
    trusted_host_interfaces=dict(type='list', elements='str'),
    ingress=dict(type='bool'),
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


SCALAR_KEYS = ('driver', 'internal', 'attachable', 'scope', 'enable_ipv6', 'enable_ipv4', 'ingress',
               'config_only', 'config_from')
# The same, in the order differences are reported.
COMPARED_KEYS = ('driver', 'scope', 'internal', 'attachable', 'enable_ipv6', 'enable_ipv4', 'ingress',
                 'config_only', 'config_from')


def _name_problems(name: Any, owner: str, ingress: bool = False) -> List[str]:
    if not name or not str(name).strip():
        return ['a network needs a non-empty name']
    if name == 'ingress' and ingress:
        return []  # the swarm's ingress network, managed with ingress: true
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
        extra = [key for key in ('ipam', 'driver_options', 'enable_ipv6', 'enable_ipv4', 'internal', 'labels')
                 if key in view]
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


def _fold_enable_options(options: Dict[str, Any], view: Dict[str, Any], owner: str) -> List[str]:
    """driver_options com.docker.network.enable_ipv4/6 become the enable_ipv4/6 fields.

    Docker 28.2 no longer lists these options in inspect when they came through EnableIPv4/6,
    so comparing them as options would differ on every run; the fields are what the engine keeps.
    """
    problems = []
    for field, option in sorted(ENABLE_IP_OPTIONS.items()):
        if option not in options:
            continue
        raw = options.pop(option)
        text = option_text(raw)
        if text not in _GO_TRUE and text not in _GO_FALSE:
            problems.append("%s: driver_options[%s] is '%s', not a boolean; set %s: true or false instead"
                            % (owner, option, raw, field))
            continue
        value = text in _GO_TRUE
        if field in view and view[field] != value:
            problems.append('%s: %s %s contradicts driver_options[%s]=%s; set only %s'
                            % (owner, field, option_text(view[field]), option, text, field))
        view[field] = value
    return problems


def _bridge_option_problems(options: Mapping[str, Any], view: Mapping[str, Any], owner: str) -> List[str]:
    """Gateway modes and trusted host interfaces: bridge options with values of their own."""
    problems = []
    driver = view.get('driver')
    for key, option in sorted(BRIDGE_ONLY_OPTIONS.items()):
        if option not in options:
            continue
        if driver and driver != 'bridge' and not view.get('config_only'):
            problems.append("%s: %s is an option of the bridge driver, but the network's driver is %s; drop it, "
                            "or use driver: bridge" % (owner, key, driver))
            continue
        text = option_text(options[option])
        if key in GATEWAY_MODE_OPTIONS and text not in GATEWAY_MODES:
            problems.append("%s: %s '%s' is not a gateway mode; use one of %s"
                            % (owner, key, text, ', '.join(GATEWAY_MODES)))
        elif key in GATEWAY_MODE_OPTIONS and text == 'isolated' and not view.get('internal'):
            # Docker 28 refuses it only at create time (HTTP 500), after earlier networks of a batch changed.
            problems.append("%s: %s 'isolated' needs an internal network (the engine refuses it otherwise); "
                            "add internal: true, or use another gateway mode" % (owner, key))
        elif key == 'trusted_host_interfaces':
            problems.extend(_interface_problems(text, owner))
    return problems


def _interface_problems(text: str, owner: str) -> List[str]:
    names = text.split(':')
    if not text.strip() or not any(name.strip() for name in names):
        return ['%s: trusted_host_interfaces names no interface; list host interfaces whose traffic may reach '
                'the containers directly (e.g. [eth1]), or drop the option' % owner]
    bad = [name for name in names if not name.strip() or len(name) > 15 or any(c in name for c in '/ \t')]
    if bad:
        return ["%s: trusted_host_interfaces has %s, not an interface name; give Linux interface names "
                "(1-15 characters, no '/', ':' or spaces), e.g. eth1" % (owner, ', '.join(repr(b) for b in bad))]
    return []


def _ingress_problems(view: Mapping[str, Any], owner: str) -> List[str]:
    """The swarm's ingress network is an overlay of scope swarm that no container attaches to."""
    if not view.get('ingress'):
        return []
    problems = []
    if view.get('driver') not in (None, 'overlay'):
        problems.append('%s: an ingress network uses the overlay driver, not %s; drop driver or set driver: overlay'
                        % (owner, view['driver']))
    if view.get('scope') not in (None, 'swarm'):
        problems.append('%s: an ingress network has scope swarm, not %s; drop scope' % (owner, view['scope']))
    wrong = [key for key in ('attachable', 'internal', 'config_only', 'config_from') if view.get(key)]
    if wrong:
        problems.append('%s: an ingress network cannot be %s; drop %s (the routing mesh carries only published '
                        'ports of swarm services)' % (owner, ' or '.join(wrong), ', '.join(wrong)))
    return problems


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
        self.problems.extend(_name_problems(self.name, self.owner, bool(request.get('ingress'))))
        view = dict((key, request[key]) for key in SCALAR_KEYS if request.get(key) is not None)
        options = self._driver_options(request)
        self.problems.extend(_fold_enable_options(options, view, self.owner))
        self.problems.extend(_bridge_option_problems(options, view, self.owner))
        self.problems.extend(_ingress_problems(view, self.owner))
        if options:
            self.raw_driver_options = options
            view['driver_options'] = dict((str(k), option_text(v)) for k, v in options.items())
        if request.get('labels') is not None:
            view['labels'] = dict((str(k), option_text(v)) for k, v in request['labels'].items())
        # enable_ipv4/6 as folded from driver_options count as given
        ipam_view = self._ipam_view(dict(request, enable_ipv6=view.get('enable_ipv6'),
                                         enable_ipv4=view.get('enable_ipv4')))
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
        for key in GATEWAY_MODE_OPTIONS:
            self._fold_option(options, key, request.get(key))
        interfaces = request.get('trusted_host_interfaces')
        if interfaces is not None:
            self._fold_option(options, 'trusted_host_interfaces',
                              ':'.join(str(name).strip() for name in interfaces))
        return options

    def _fold_option(self, options: Dict[str, Any], key: str, value: Optional[str]) -> None:
        """A first-class option becomes its driver option (the engine knows only that)."""
        if value is None:
            return
        option = BRIDGE_ONLY_OPTIONS[key]
        if option in options and option_text(options[option]) != value:
            self.problems.append('%s: %s %s contradicts driver_options[%s]=%s; set only one of them'
                                 % (self.owner, key, value, option, options[option]))
        else:
            options[option] = value

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
            v4 = [pool['subnet'] for pool in pools if not ipam.pool_is_ipv6(pool)]
            if v4 and request.get('enable_ipv4') is False:
                self.problems.append('%s: subnet %s is IPv4 but enable_ipv4 is false; drop the IPv4 subnet for an '
                                     'IPv6-only network, or drop enable_ipv4: false' % (self.owner, v4[0]))
        if request.get('enable_ipv4') is False and not request.get('config_from'):
            self.problems.extend(self._ipv6_only_problems(request, ipam_view))
        return ipam_view

    def _ipv6_only_problems(self, request: Mapping[str, Any], ipam_view: Mapping[str, Any]) -> List[str]:
        """An IPv6-only network needs IPv6 on, and a subnet of its own (no default pool gives one before 27)."""
        problems = []
        if not request.get('enable_ipv6'):
            problems.append('%s: enable_ipv4 is false but enable_ipv6 is not true, which leaves the network no '
                            'address family; add enable_ipv6: true and an IPv6 subnet, or drop enable_ipv4: false'
                            % self.owner)
        if not any(ipam.pool_is_ipv6(pool) for pool in ipam_view.get('config') or []):
            problems.append('%s: enable_ipv4 is false but ipam.config has no IPv6 subnet; add one, e.g. '
                            'ipam: {config: [{subnet: fd00:10::/64}]}' % self.owner)
        return problems

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
    options = dict(network.get('Options') or {})
    for option in ENABLE_IP_OPTIONS.values():
        options.pop(option, None)  # shown before 28.2 only; EnableIPv4/6 hold the truth
    return dict(
        driver=network.get('Driver'),
        scope=network.get('Scope'),
        internal=bool(network.get('Internal')),
        attachable=bool(network.get('Attachable')),
        enable_ipv6=bool(network.get('EnableIPv6')),
        # Engines before 28.0 have no EnableIPv4: every network of theirs has IPv4.
        enable_ipv4=bool(network.get('EnableIPv4', True)),
        ingress=bool(network.get('Ingress')),
        config_only=bool(network.get('ConfigOnly')),
        config_from=config_from,
        driver_options=options,
        labels=dict(network.get('Labels') or {}),
        ipam=dict(
            driver=ipam_data.get('Driver') or 'default',
            options=dict(ipam_data.get('Options') or {}),
            config=sorted((ipam.inspected_pool(pool) for pool in ipam_data.get('Config') or []),
                          key=ipam.pool_sort_key),
        ),
    )


def target_problems(owner: str, view: Mapping[str, Any]) -> List[str]:
    """What the engine would refuse in the network a create or recreate makes (every problem)."""
    problems = []
    driver = view.get('driver') or 'bridge'
    if not view.get('config_only') and driver != 'bridge':
        problems.extend("%s: %s is an option of the bridge driver, but the network's driver is %s; drop it, "
                        "or use driver: bridge" % (owner, key, driver)
                        for key, option in sorted(BRIDGE_ONLY_OPTIONS.items()) if option in view['driver_options'])
    family = subnet_family_problem(owner, view)
    if family:
        problems.append(family)
    return problems


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
    for key in COMPARED_KEYS:
        if key in skipped:
            continue
        if key in wanted and wanted[key] != actual.get(key):
            changes.append(dict(path=key, wanted=wanted[key], actual=actual.get(key)))
    for key, raw in sorted(desired.raw_driver_options.items()):
        have = actual['driver_options'].get(str(key))
        if not _option_matches(str(key), raw, have):
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
        changes.extend(_diff_pools(ipam_wanted['config'], _comparable_pools(wanted, ipam_actual['config'])))
    return changes


def _option_matches(key: str, raw: Any, have: Optional[str]) -> bool:
    if key == TRUSTED_INTERFACES_OPTION and have is not None:
        return sorted(option_text(raw).split(':')) == sorted(have.split(':'))  # a set of interfaces
    return options_equal(raw, have)


def _comparable_pools(wanted: Mapping[str, Any], actual_pools: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The inspected pools less those the engine added by itself.

    A request that names no pool of a family it leaves enabled (IPv4 unless enable_ipv4 is false,
    IPv6 when enable_ipv6 is true) lets the engine pick that family's pool: e.g. Docker 20.10
    gives an IPv6-only request an IPv4 pool of its own, a new one each time it is created.
    """
    families = set(ipam.pool_is_ipv6(pool) for pool in wanted['ipam']['config'])
    engine_picks = set()
    if False not in families and wanted.get('enable_ipv4') is not False:
        engine_picks.add(False)
    if True not in families and wanted.get('enable_ipv6') is True:
        engine_picks.add(True)
    return [pool for pool in actual_pools if ipam.pool_is_ipv6(pool) not in engine_picks]


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
        base = dict(driver='overlay' if wanted.get('ingress') else 'bridge', scope=None, internal=False,
                    attachable=False, enable_ipv6=False, enable_ipv4=True, ingress=False,
                    config_only=False, config_from=None, driver_options={}, labels={},
                    ipam=dict(driver='default', options={}, config=[]))
    else:
        base = dict(actual)
        base['driver_options'] = dict(actual['driver_options'])
        base['labels'] = dict(actual['labels'])
        base['ipam'] = dict(actual['ipam'])
    for key in SCALAR_KEYS:
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
    if view.get('enable_ipv4') is False:
        body['EnableIPv4'] = False  # only when false: older engines know no such field
    if view.get('ingress'):
        body['Ingress'] = True
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
        body.pop('EnableIPv4', None)
    return body


def gate_problems(engine: Any, desired: 'DesiredNetwork') -> List[str]:
    """Every option of the request that the engine's API version lacks, each naming the version."""
    problems = []
    for feature, what in _gated_options(desired):
        problem = versions.gate_problem(engine, feature, desired.owner, what)
        if problem:
            problems.append(problem)
    return problems


def _gated_options(desired: 'DesiredNetwork') -> Iterator[Tuple[str, Optional[str]]]:
    """(row of versions.GATES, how to name it) for each gated option the request uses."""
    view = desired.view
    for option in versions.option_gates('network'):
        if option == 'enable_ipv4':
            if view.get(option) is False:
                yield 'network.enable_ipv4', None
        elif view.get(option):
            yield 'network.' + option, None
    options = view.get('driver_options') or {}
    for key, option in sorted(GATEWAY_MODE_OPTIONS.items()):
        if options.get(option) in GATEWAY_MODES:
            yield 'bridge_gateway_mode.' + options[option], '%s: %s' % (key, options[option])
    if TRUSTED_INTERFACES_OPTION in options:
        yield 'network.trusted_host_interfaces', None
    for name, request in sorted(desired.connected.items()):
        for key in GATED_ENDPOINT_KEYS:
            if request.get(key) is not None:
                yield 'endpoint.' + key, '%s (container %s)' % (key, name)


def ingress_conflicts(desired: 'DesiredNetwork', networks: List[Mapping[str, Any]]) -> List[str]:
    """A swarm has one ingress network: another one must be removed first."""
    if not desired.view.get('ingress') or desired.state != 'present':
        return []
    others = [net['Name'] for net in networks if net.get('Ingress') and net['Name'] != desired.name
              and net['Id'] != desired.name]
    if not others:
        return []
    return ["%s: the swarm already has the ingress network '%s', and a swarm has one; remove it first "
            "(name: %s, ingress: true, state: absent; no service may publish ports meanwhile), or manage it "
            "under its own name" % (desired.owner, others[0], others[0])]


def _pool_body(pool):
    body = dict(Subnet=pool['subnet'])
    if pool.get('gateway'):
        body['Gateway'] = pool['gateway']
    if pool.get('ip_range'):
        body['IPRange'] = pool['ip_range']
    if pool.get('aux_addresses'):
        body['AuxiliaryAddresses'] = pool['aux_addresses']
    return body
