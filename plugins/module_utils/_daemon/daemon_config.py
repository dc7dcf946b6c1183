# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json: deep merge, validation of known keys and value shapes, restart classification,
and the service-flag / file clash (``-H fd://`` in ExecStart and ``hosts`` in the file).

Pure functions only: the daemon_config module and the unit tests share them.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import shlex
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common import versions
from ansible_collections.netfleet.docker.plugins.module_utils._common.versions import parse_version, version_text
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError

DROPIN_MARKER = '# Managed by netfleet.docker (daemon_config)'

BOOL, INT, STR, DICT, STR_LIST = 'bool', 'int', 'str', 'dict', 'str_list'

# Every key this collection knows, with the shape of its value. Network keys get a precise
# check (see _check_value); the others are checked for their JSON type.
KEY_KINDS = {
    # network
    'bip': 'bip', 'fixed-cidr': 'ipv4_net', 'fixed-cidr-v6': 'ipv6_net',
    'default-address-pools': 'pools', 'mtu': 'mtu', 'dns': 'ip_list', 'dns-opts': STR_LIST,
    'dns-search': STR_LIST, 'iptables': BOOL, 'ip6tables': BOOL, 'ip-forward': BOOL,
    'ip-forward-no-drop': BOOL, 'ip-masq': BOOL, 'userland-proxy': BOOL, 'userland-proxy-path': STR,
    'ipv6': BOOL, 'icc': BOOL, 'ip': 'ip', 'default-gateway': 'ip', 'default-gateway-v6': 'ip',
    'bridge': STR, 'default-network-opts': DICT, 'allow-direct-routing': BOOL,
    'bip6': 'bip6', 'host-gateway-ip': 'ip', 'host-gateway-ips': 'ip_list', 'firewall-backend': 'firewall_backend',
    'bridge-accept-fwmark': 'fwmark', 'min-api-version': 'api_version', 'network-diagnostic-port': INT,
    'hosts': 'hosts', 'tls': BOOL, 'tlsverify': BOOL, 'tlscacert': STR, 'tlscert': STR, 'tlskey': STR,
    'cluster-store': 'cluster_store', 'cluster-advertise': 'cluster_advertise', 'cluster-store-opts': DICT,
    # engine
    'live-restore': BOOL, 'debug': BOOL, 'log-level': 'log_level', 'labels': STR_LIST,
    'experimental': BOOL, 'data-root': STR, 'exec-root': STR, 'storage-driver': STR,
    'storage-opts': STR_LIST, 'log-driver': STR, 'log-opts': DICT, 'registry-mirrors': STR_LIST,
    'insecure-registries': STR_LIST, 'max-concurrent-downloads': INT, 'max-concurrent-uploads': INT,
    'max-download-attempts': INT, 'shutdown-timeout': INT, 'features': DICT, 'builder': DICT,
    'default-runtime': STR, 'runtimes': DICT, 'exec-opts': STR_LIST, 'group': STR, 'pidfile': STR,
    'containerd': STR, 'authorization-plugins': STR_LIST, 'default-ulimits': DICT,
    'default-shm-size': STR, 'userns-remap': STR, 'selinux-enabled': BOOL, 'no-new-privileges': BOOL,
    'init': BOOL, 'metrics-addr': STR, 'default-cgroupns-mode': STR, 'cgroup-parent': STR,
}

# Applied by SIGHUP (`systemctl reload docker`); every other key needs a restart.
# https://docs.docker.com/reference/cli/dockerd/#configuration-reload-behavior
RELOADABLE_KEYS = frozenset([
    'debug', 'labels', 'live-restore', 'max-concurrent-downloads', 'max-concurrent-uploads',
    'max-download-attempts', 'default-runtime', 'runtimes', 'authorization-plugins',
    'insecure-registries', 'registry-mirrors', 'shutdown-timeout', 'features', 'builder',
    'network-diagnostic-port',
])

# Top-level keys that came or went with an engine version -> their row in the one version-gate
# table: the rows named here, and every 'daemon.<key>' row (a dotted one is a key inside a mapping,
# e.g. features.swarm-nftables, which dockerd ignores rather than refuses: checked where it matters).
KEY_GATES = dict({
    'cluster-store': 'legacy_kv_overlay',
    'cluster-advertise': 'legacy_kv_overlay',
    'cluster-store-opts': 'legacy_kv_overlay',
    'default-network-opts': 'default_network_opts',
    'ip-forward-no-drop': 'ip_forward_no_drop',
    'allow-direct-routing': 'allow_direct_routing',
}, **dict((key, 'daemon.' + key) for key in versions.option_gates('daemon') if '.' not in key))

# dockerd command-line spellings of a key, where they are not simply `--<key>`.
FLAG_NAMES = {
    'hosts': ['-H', '--host'], 'debug': ['-D', '--debug'], 'log-level': ['-l', '--log-level'],
    'group': ['-G', '--group'], 'bridge': ['-b', '--bridge'], 'pidfile': ['-p', '--pidfile'],
    'default-address-pools': ['--default-address-pool'], 'dns-opts': ['--dns-opt'],
    'labels': ['--label'], 'insecure-registries': ['--insecure-registry'],
    'registry-mirrors': ['--registry-mirror'], 'log-opts': ['--log-opt'], 'exec-opts': ['--exec-opt'],
    'storage-opts': ['--storage-opt'], 'cluster-store-opts': ['--cluster-store-opt'],
    'authorization-plugins': ['--authorization-plugin'], 'default-ulimits': ['--default-ulimit'],
    'runtimes': ['--add-runtime'], 'default-network-opts': ['--default-network-opt'],
    'host-gateway-ips': ['--host-gateway-ip'],
    'storage-driver': ['-s', '--storage-driver'], 'data-root': ['--data-root', '-g', '--graph'],
}

LOG_LEVELS = ('debug', 'info', 'warn', 'error', 'fatal')
FIREWALL_BACKENDS = ('iptables', 'nftables')
CLUSTER_STORE_SCHEMES = ('etcd', 'consul', 'zk')


_MISSING = object()


class ConfigError(HostError):
    """The existing file cannot be read as a daemon.json (a host problem: the request may be fine)."""


# ---------------------------------------------------------------------------------------
# merge and compare
# ---------------------------------------------------------------------------------------
def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> Dict[str, Any]:
    """A new dict: `base` with `overlay` merged in. Dicts merge recursively; anything else
    (lists included) is replaced by the overlay's value."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def merged_config(current: Mapping[str, Any], options: Optional[Mapping[str, Any]],
                  absent_keys: Iterable[str] = ()) -> Dict[str, Any]:
    merged = deep_merge(current, options or {})
    for key in absent_keys or ():
        merged.pop(key, None)
    return merged


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> List[str]:
    """Top-level keys whose value differs (added, removed or changed), sorted."""
    return sorted(key for key in set(before) | set(after) if before.get(key, _MISSING) != after.get(key, _MISSING))


def restart_kind(keys: Iterable[str]) -> str:
    """'none', 'reload' (SIGHUP is enough) or 'restart' for a set of changed top-level keys."""
    keys = list(keys)
    if not keys:
        return 'none'
    if all(key in RELOADABLE_KEYS for key in keys):
        return 'reload'
    return 'restart'


def parse_config_text(text: str, path: str) -> Dict[str, Any]:
    """The file's JSON object ({} for an empty file); ConfigError naming the file and line otherwise."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError('%s is not valid JSON (%s); fix or remove the file, then run again' % (path, exc))
    if not isinstance(data, dict):
        raise ConfigError('%s holds a JSON %s, not an object; daemon.json must be a JSON object'
                          % (path, type(data).__name__))
    return data


def render_config(config: Mapping[str, Any]) -> str:
    return json.dumps(config, indent=2, sort_keys=True) + '\n'


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------
def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_type(kind, value):
    if kind == BOOL:
        return None if isinstance(value, bool) else 'must be true or false'
    if kind == INT:
        return None if _is_int(value) else 'must be an integer'
    if kind == STR:
        return None if isinstance(value, str) and value else 'must be a non-empty string'
    if kind == DICT:
        return None if isinstance(value, dict) else 'must be a mapping'
    if kind == STR_LIST:
        if isinstance(value, list) and all(isinstance(item, str) and item for item in value):
            return None
        return 'must be a list of non-empty strings'
    return None


def _check_pools(value):
    if not isinstance(value, list) or not value:
        return 'must be a non-empty list of {base: <CIDR>, size: <prefix length>}'
    for index, pool in enumerate(value):
        if not isinstance(pool, dict) or set(pool) - {'base', 'size'} or 'base' not in pool or 'size' not in pool:
            return 'item %d must be exactly {base: <CIDR>, size: <prefix length>}, got %r' % (index, pool)
        try:
            base = ipaddress.ip_network(str(pool['base']), strict=True)
        except ValueError as exc:
            return 'item %d: base %r is not a network in CIDR form (%s)' % (index, pool['base'], exc)
        size = pool['size']
        if not _is_int(size) or not base.prefixlen <= size <= base.max_prefixlen:
            return ('item %d: size %r must be a prefix length between the base\'s /%d and /%d'
                    % (index, size, base.prefixlen, base.max_prefixlen))
    return None


def _check_hosts(value):
    if not isinstance(value, list) or not value or not all(isinstance(h, str) for h in value):
        return 'must be a non-empty list of addresses (unix://..., fd://, tcp://HOST:PORT)'
    for host in value:
        if not re.match(r'^(unix|fd|tcp|npipe|ssh)://', host):
            return '%r has no known scheme; use unix://PATH, fd://, or tcp://HOST:PORT' % host
    return None


def _check_bip(value, family=4):
    iface = ipaddress.IPv4Interface(value) if family == 4 else ipaddress.IPv6Interface(value)
    network = iface.network
    if network.prefixlen < network.max_prefixlen and iface.ip == network.network_address:
        key = 'bip' if family == 4 else 'bip6'
        return ('%r is a network address; %s is the bridge\'s own address with its prefix, '
                'e.g. %s/%d' % (value, key, network.network_address + 1, network.prefixlen))
    return None


def _check_ip_list(value):
    if not isinstance(value, list):
        return 'must be a list of IP addresses'
    for item in value:
        ipaddress.ip_address(item)
    return None


def _check_mtu(value):
    return None if _is_int(value) and 68 <= value <= 65535 else 'must be an integer between 68 and 65535'


def _check_choice(value, choices):
    return None if value in choices else 'must be one of %s' % ', '.join(choices)


def _check_pattern(value, pattern, expected):
    return None if isinstance(value, str) and re.match(pattern, value) else 'must be %s' % expected


def _parses(parse, value, **kwargs):
    """None when `parse` accepts the value (it raises ValueError otherwise)."""
    parse(value, **kwargs)
    return None


_NUMBER = r'(0x[0-9a-fA-F]+|[0-9]+)'

# kind -> check(value): a sentence fragment, or None. ValueError/TypeError say the value is not valid.
_VALUE_CHECKS = {
    'bip': _check_bip,
    'bip6': lambda value: _check_bip(value, family=6),
    'ipv4_net': lambda value: _parses(ipaddress.IPv4Network, value, strict=True),
    'ipv6_net': lambda value: _parses(ipaddress.IPv6Network, value, strict=True),
    'ip': lambda value: _parses(ipaddress.ip_address, value),
    'ip_list': _check_ip_list,
    'mtu': _check_mtu,
    'pools': _check_pools,
    'hosts': _check_hosts,
    'log_level': lambda value: _check_choice(value, LOG_LEVELS),
    'firewall_backend': lambda value: _check_choice(value, FIREWALL_BACKENDS),
    'cluster_store': lambda value: _check_pattern(
        value, r'^(%s)://[^/\s]+' % '|'.join(CLUSTER_STORE_SCHEMES),
        'SCHEME://HOST:PORT with SCHEME one of %s, e.g. etcd://10.0.0.1:2379' % ', '.join(CLUSTER_STORE_SCHEMES)),
    'cluster_advertise': lambda value: _check_pattern(value, r'^[^:\s]+:\d+$',
                                                      'INTERFACE:PORT or IP:PORT, e.g. eth0:2376'),
    'fwmark': lambda value: _check_pattern(value, r'^%s(/%s)?$' % (_NUMBER, _NUMBER),
                                           'a firewall mark as a string, MARK or MARK/MASK, e.g. "0x1/0xff"'),
    'api_version': lambda value: _check_pattern(value, r'^1\.\d+$', 'an Engine API version as a string, e.g. "1.40"'),
}

# kind -> the fix appended when the value does not parse at all (what a valid one looks like).
_VALUE_EXAMPLES = {
    'bip': '; give the bridge\'s address with its prefix, e.g. 172.26.0.1/16',
    'bip6': '; give the bridge\'s IPv6 address with its prefix, e.g. fd00:26::1/64',
    'ipv4_net': '; give an IPv4 network in CIDR form, e.g. 172.26.0.0/24',
    'ipv6_net': '; give an IPv6 network in CIDR form, e.g. fd00:26::/64',
    'ip': '; give an IP address, e.g. 10.0.0.1',
    'ip_list': '; give a list of IP addresses, e.g. [10.0.0.53]',
}


def _check_value(key, value):
    kind = KEY_KINDS[key]
    if kind in (BOOL, INT, STR, DICT, STR_LIST):
        return _check_type(kind, value)
    if not isinstance(value, (str, list, int)) or isinstance(value, bool):
        return 'has the wrong type (%s)' % type(value).__name__
    try:
        return _VALUE_CHECKS[kind](value)
    except (ValueError, TypeError) as exc:
        return '%r is not valid: %s%s' % (value, exc, _VALUE_EXAMPLES.get(kind, ''))


def store_url(cluster_store: str) -> str:
    """'etcd://10.0.0.1:2379' -> 'http://10.0.0.1:2379' (the first endpoint, for the v2 API check)."""
    rest = cluster_store.split('://', 1)[1]
    host = rest.split(',')[0].split('/')[0]
    return 'http://%s' % host


def validate(requested: Mapping[str, Any], merged: Mapping[str, Any], engine_version: Optional[str] = None,
             swarm_active: bool = False, allow_insecure_tcp: bool = False,
             allow_unknown_keys: bool = False) -> List[str]:
    """Every problem with the requested keys and with the merged file, as sentences that name
    the key, the problem and the fix. An empty list means the configuration may be written."""
    problems = [] if allow_unknown_keys else unknown_key_problems(requested)
    problems += value_problems(requested, merged)
    if engine_version:
        problems += version_problems(merged, engine_version)
    problems += bridge_problems(merged)
    problems += cluster_problems(merged, swarm_active)
    problems += firewall_problems(merged, swarm_active, engine_version)
    problems += hosts_problems(merged, allow_insecure_tcp)
    return problems


def unknown_key_problems(requested: Mapping[str, Any]) -> List[str]:
    problems = []
    for key in sorted(set(requested) - set(KEY_KINDS)):
        close = difflib.get_close_matches(key, list(KEY_KINDS), n=1)
        hint = ' (did you mean %r?)' % close[0] if close else ''
        problems.append('unknown daemon.json key %r%s; set allow_unknown_keys to write it anyway' % (key, hint))
    return problems


def value_problems(requested: Mapping[str, Any], merged: Mapping[str, Any]) -> List[str]:
    """Each known key's value against its shape; keys the request did not name are said to be in the file."""
    problems = []
    for key in sorted(merged):
        if key not in KEY_KINDS:
            continue
        error = _check_value(key, merged[key])
        if error:
            where = '' if key in requested else ' (already in the file)'
            problems.append('daemon.json key %r%s %s' % (key, where, error))
    return problems


def version_problems(merged: Mapping[str, Any], engine_version: str) -> List[str]:
    """Keys this engine does not have yet, or no longer has (the gates of versions.GATES): dockerd
    refuses to start on a key it does not know, so each is named with the version that has it."""
    problems = []
    version = parse_version(engine_version)
    for key in sorted(set(merged) & set(KEY_GATES)):
        row = versions.GATES[KEY_GATES[key]]
        since, until = row.get('engine'), row.get('removed_in')
        if since is not None and version < since:
            problems.append('daemon.json key %r needs Docker %s or later; this engine is %s: upgrade the engine '
                            'or remove the key' % (key, version_text(since), engine_version))
        if until is not None and version >= until:
            fix = ' (use swarm mode for multi-host overlay networks)' if key.startswith('cluster-') else ''
            problems.append('daemon.json key %r was removed in Docker %s; this engine is %s: remove the key%s'
                            % (key, version_text(until), engine_version, fix))
    return problems + _experimental_problems(merged, version, engine_version)


def _experimental_problems(merged: Mapping[str, Any], version: versions.Version, engine_version: str) -> List[str]:
    """ip6tables was experimental before Docker 27.0: dockerd refuses it without experimental: true."""
    row = versions.GATES['ip6tables_without_experimental']
    if merged.get('ip6tables') is True and merged.get('experimental') is not True and version < row['engine']:
        return ['daemon.json key \'ip6tables\' needs experimental: true before Docker %s; this engine is %s: set '
                'experimental: true as well, or upgrade the engine' % (version_text(row['engine']), engine_version)]
    return []


def bridge_problems(merged: Mapping[str, Any]) -> List[str]:
    """The default bridge's keys against each other (bip, fixed-cidr, bridge, IPv6)."""
    problems = []
    if 'bip' in merged and 'fixed-cidr' in merged and not _check_value('bip', merged['bip']) \
            and not _check_value('fixed-cidr', merged['fixed-cidr']):
        bridge_net = ipaddress.IPv4Interface(merged['bip']).network
        if not ipaddress.IPv4Network(merged['fixed-cidr']).subnet_of(bridge_net):
            problems.append('fixed-cidr %s is not inside the bridge network of bip %s (%s); give a fixed-cidr inside '
                            '%s, or change bip' % (merged['fixed-cidr'], merged['bip'], bridge_net, bridge_net))
    if merged.get('bip') and merged.get('bridge'):
        problems.append('bip and bridge are mutually exclusive (bip configures the default docker0 bridge, bridge '
                        'names an existing one); set only one (absent_keys removes the other)')
    if merged.get('fixed-cidr-v6') and merged.get('ipv6') is not True:
        problems.append('fixed-cidr-v6 is set but ipv6 is not true; set ipv6: true or drop fixed-cidr-v6')
    return problems


def cluster_problems(merged: Mapping[str, Any], swarm_active: bool) -> List[str]:
    """The legacy KV-store keys, and what a swarm member cannot have."""
    problems = []
    if merged.get('cluster-advertise') and not merged.get('cluster-store'):
        problems.append('cluster-advertise is set without cluster-store; set cluster-store too')
    if swarm_active:
        if merged.get('live-restore') is True:
            problems.append('live-restore is incompatible with swarm mode and this engine is part of a swarm; '
                            'leave the swarm first or drop live-restore')
        if merged.get('cluster-store'):
            problems.append('cluster-store (the legacy KV-store overlay) cannot be used while this engine is part '
                            'of a swarm; leave the swarm first or drop cluster-store')
    return problems


def nftables_with_rules(merged: Mapping[str, Any]) -> bool:
    """firewall-backend nftables with Docker's own rules (iptables: false makes Docker write none)."""
    return merged.get('firewall-backend') == 'nftables' and merged.get('iptables') is not False


def needs_swarm_state(merged: Mapping[str, Any]) -> bool:
    """Whether a key of the merged file depends on the engine being part of a swarm."""
    return merged.get('live-restore') is True or bool(merged.get('cluster-store')) or nftables_with_rules(merged)


def swarm_nftables_on(merged: Mapping[str, Any]) -> bool:
    features = merged.get('features')
    return isinstance(features, dict) and features.get('swarm-nftables') is True


def firewall_problems(merged: Mapping[str, Any], swarm_active: bool, engine_version: Optional[str] = None) -> List[str]:
    """firewall-backend nftables on a swarm member: Docker 29.x has no nftables rules for overlay
    networks, so dockerd refuses to start there unless features.swarm-nftables (29.6+) is on."""
    version = parse_version(engine_version) if engine_version else None
    if not swarm_active or not nftables_with_rules(merged) \
            or (version is not None and version < versions.GATES['daemon.firewall-backend']['engine']):
        return []   # no swarm, no nftables rules, or an engine the version gate already refuses the key on
    since = versions.GATES['daemon.features.swarm-nftables']['engine']
    if version is not None and version < since:
        fix = ('features.swarm-nftables needs Docker %s or later and this engine is %s: upgrade it and set '
               'features: {swarm-nftables: true}' % (version_text(since), engine_version))
    elif swarm_nftables_on(merged):
        return []
    else:
        fix = 'set features: {swarm-nftables: true} (Docker %s or later)' % version_text(since)
    return ['firewall-backend nftables cannot be used while this engine is part of a swarm (Docker 29 has no '
            'nftables rules for overlay networks, so dockerd would not start): %s, keep firewall-backend iptables, '
            'or leave the swarm first' % fix]


def forwarding_advice(merged: Mapping[str, Any]) -> List[str]:
    """Warnings (not problems): under firewall-backend nftables Docker does not turn forwarding on itself."""
    if merged.get('firewall-backend') != 'nftables' or merged.get('ip-forward') is False:
        return []
    return ['with firewall-backend nftables dockerd does not enable IP forwarding itself, and refuses to create '
            'bridge networks (or to start, for the default bridge) while it is off: turn forwarding on first '
            '(netfleet.docker.ip_forward with ipv4: true, and ipv6: true for IPv6 networks), and keep '
            'unwanted forwarding out with your own nftables rules']


def hosts_problems(merged: Mapping[str, Any], allow_insecure_tcp: bool) -> List[str]:
    """TCP without TLS client verification is a root shell for anyone; no local socket locks the CLI out."""
    hosts = merged.get('hosts')
    if not isinstance(hosts, list) or _check_hosts(hosts):
        return []
    problems = []
    tcp = [h for h in hosts if h.startswith('tcp://')]
    if tcp and not allow_insecure_tcp:
        missing = [k for k in ('tlscacert', 'tlscert', 'tlskey') if not merged.get(k)]
        if merged.get('tlsverify') is not True or missing:
            problems.append(
                'hosts %s listen on TCP without TLS client verification: anyone who reaches the port gets root '
                'on this host. Set tlsverify: true with tlscacert, tlscert and tlskey%s, or set '
                'allow_insecure_tcp to accept the risk' % (', '.join(tcp), ' (missing: %s)' % ', '.join(missing) if missing else ''))
    if not any(h.startswith(('unix://', 'fd://')) for h in hosts):
        problems.append('hosts %s has no local socket (unix:///var/run/docker.sock or fd://): the docker CLI '
                        'on this host could no longer reach the engine; add one' % ', '.join(hosts))
    return problems


# ---------------------------------------------------------------------------------------
# the unit's ExecStart and flags that clash with the file
# ---------------------------------------------------------------------------------------
def effective_exec_start(unit_text: str, skip_path: Optional[str] = None) -> Optional[str]:
    """The ExecStart= that systemd runs, from `systemctl cat UNIT` output (the unit file and its
    drop-ins, each after a `# /path` header). The drop-in at `skip_path` is ignored, so what this
    module wrote itself does not count. None when there is no ExecStart."""
    exec_start = []
    skipping = False
    section = None
    for raw in unit_text.splitlines():
        line = raw.strip()
        if re.match(r'^# /\S+$', raw):
            skipping = skip_path is not None and raw[2:].strip() == skip_path
            section = None
            continue
        if skipping or not line or line.startswith(('#', ';')):
            continue
        if line.startswith('[') and line.endswith(']'):
            section = line[1:-1]
            continue
        if section != 'Service' or not line.startswith('ExecStart='):
            continue
        value = line[len('ExecStart='):].strip()
        if value:
            exec_start.append(value)
        else:
            exec_start = []
    return exec_start[-1] if exec_start else None


def _flag_key(token, keys):
    """(key, takes_value_from_next_token) when `token` is a flag for one of `keys`, else (None, False)."""
    for key in keys:
        bool_key = KEY_KINDS.get(key) == BOOL
        for flag in FLAG_NAMES.get(key, ['--' + key]):
            if token == flag:
                return key, not bool_key
            if token.startswith(flag + '='):
                return key, False
            if len(flag) == 2 and token.startswith(flag) and len(token) > 2 and not token.startswith('--'):
                return key, False
    return None, False


def strip_flags(exec_start: str, keys: Iterable[str]) -> Tuple[str, List[str]]:
    """ExecStart without the flags that set any of `keys`: (new command line, [removed flags])."""
    tokens = shlex.split(exec_start, posix=False)
    kept, removed = [], []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        key, takes_next = _flag_key(token, keys) if index > 0 else (None, False)
        if key:
            if takes_next and index + 1 < len(tokens):
                removed.append('%s %s' % (token, tokens[index + 1]))
                index += 2
            else:
                removed.append(token)
                index += 1
            continue
        kept.append(token)
        index += 1
    return ' '.join(kept), removed


def flag_conflicts(exec_start: Optional[str], keys: Iterable[str]) -> List[str]:
    """The flags in ExecStart that set a key the file sets too (dockerd refuses to start on those)."""
    if not exec_start:
        return []
    return strip_flags(exec_start, keys)[1]


def render_dropin(exec_start: str, removed: List[str]) -> str:
    return ('%s: ExecStart without the flags that\n'
            '# daemon.json sets too (dockerd refuses to start when a key is both). Removed: %s\n'
            '[Service]\nExecStart=\nExecStart=%s\n' % (DROPIN_MARKER, ', '.join(removed), exec_start))


def dockerd_version(text: Optional[str]) -> Optional[str]:
    """'Docker version 20.10.24+dfsg1, build 297e128' -> '20.10.24+dfsg1' (None if not found)."""
    match = re.search(r'version\s+v?(\d+\.\d+[^\s,]*)', text or '')
    return match.group(1) if match else None
