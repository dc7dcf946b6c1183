# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json keys by Docker version (20.10 to 29.7), firewall-backend nftables with swarm, and the
bad input of issue 15 as tables: one row per case, the words expected, nothing written."""

from __future__ import annotations

import os

import pytest

from host_fakes import FakeModule, run_driver

from ansible_collections.netfleet.docker.plugins.modules import daemon_config as module_file
from ansible_collections.netfleet.docker.plugins.module_utils._common import versions
from ansible_collections.netfleet.docker.plugins.module_utils._daemon import daemon_config as dc

UNIT = ('# /lib/systemd/system/docker.service\n[Unit]\nDescription=Docker\n[Service]\n'
        'ExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock\n')


def _problems(requested, current=None, **kwargs):
    return dc.validate(requested, dc.merged_config(current or {}, requested), **kwargs)


# key, a good value, first Docker version that has it (None: always), version that removed it (None: still there)
VINTAGES = [
    ('cluster-store', 'etcd://10.0.0.1:2379', None, '23.0'),
    ('cluster-advertise', 'eth0:2376', None, '23.0'),
    ('cluster-store-opts', {'kv.path': '/x'}, None, '23.0'),
    ('default-network-opts', {'bridge': {'com.docker.network.driver.mtu': '1450'}}, '24.0', None),
    ('bip6', 'fd00:26::1/64', '28.0', None),
    ('host-gateway-ips', ['192.0.2.1', '2001:db8::1'], '28.0', None),
    ('ip-forward-no-drop', True, '28.0', None),
    ('allow-direct-routing', True, '28.2', None),
    ('firewall-backend', 'nftables', '29.0', None),
    ('bridge-accept-fwmark', '0x1/0xff', '29.0', None),
    ('min-api-version', '1.40', '29.0', None),
    ('host-gateway-ip', '192.0.2.1', None, None),
    ('userland-proxy-path', '/usr/libexec/docker/docker-proxy', None, None),
    ('network-diagnostic-port', 2000, None, None),
]
ENGINES = ['20.10.24', '23.0.6', '24.0.7', '26.1.5', '27.5.1', '28.0.4', '28.1.1', '28.2.2', '28.5.2', '29.0.1',
           '29.5.0', '29.7.0']


@pytest.mark.parametrize('key, value, since, until', VINTAGES)
@pytest.mark.parametrize('engine', ENGINES)
def test_each_key_is_known_with_its_vintage(engine, key, value, since, until):
    problems = [problem for problem in _problems({key: value}, engine_version=engine)
                if 'without cluster-store' not in problem]   # cluster-advertise alone: a problem of its own
    version = versions.parse_version(engine)
    if since and version < versions.parse_version(since):
        assert problems == ["daemon.json key %r needs Docker %s or later; this engine is %s: upgrade the engine "
                            "or remove the key" % (key, since, engine)]
    elif until and version >= versions.parse_version(until):
        assert len(problems) == 1 and 'was removed in Docker %s; this engine is %s: remove the key' % (until, engine) \
            in problems[0]
    else:
        assert problems == [], problems


def test_every_vintage_row_of_the_table_is_a_known_key():
    for key in versions.option_gates('daemon'):
        assert key.split('.')[0] in dc.KEY_KINDS, key
    assert dc.KEY_GATES['firewall-backend'] == 'daemon.firewall-backend'
    assert 'features.swarm-nftables' not in dc.KEY_GATES   # dockerd ignores an unknown feature


@pytest.mark.parametrize('options, engine, words', [
    ({'ip6tables': True, 'ipv6': True, 'fixed-cidr-v6': 'fd00::/64'}, '26.1.5',
     "'ip6tables' needs experimental: true before Docker 27.0; this engine is 26.1.5"),
])
def test_ip6tables_was_experimental_before_27(options, engine, words):
    assert words in _problems(options, engine_version=engine)[0]
    assert _problems(dict(options, experimental=True), engine_version=engine) == []
    assert _problems(options, engine_version='27.0.3') == []


NFT = {'firewall-backend': 'nftables'}


@pytest.mark.parametrize('options, engine, swarm, words', [
    (NFT, '29.0.1', False, None),
    (NFT, '29.5.0', True, 'needs Docker 29.6 or later and this engine is 29.5.0: upgrade it and set '
                          'features: {swarm-nftables: true}'),
    (NFT, '29.6.0', True, 'set features: {swarm-nftables: true} (Docker 29.6 or later)'),
    (NFT, None, True, 'set features: {swarm-nftables: true} (Docker 29.6 or later)'),
    (dict(NFT, features={'swarm-nftables': True}), '29.7.0', True, None),
    (dict(NFT, features={'swarm-nftables': True}), None, True, None),
    (dict(NFT, features={'swarm-nftables': True}), '29.2.1', True,
     'features.swarm-nftables needs Docker 29.6 or later and this engine is 29.2.1: upgrade it'),
    (dict(NFT, iptables=False), '29.0.1', True, None),   # Docker writes no firewall rules at all
    ({'firewall-backend': 'iptables'}, '29.0.1', True, None),
])
def test_nftables_with_swarm(options, engine, swarm, words):
    problems = _problems(options, engine_version=engine, swarm_active=swarm)
    if words is None:
        assert problems == []
    else:
        assert len(problems) == 1 and words in problems[0], problems
        assert problems[0].startswith('firewall-backend nftables cannot be used while this engine is part of a swarm')
        assert 'keep firewall-backend iptables, or leave the swarm first' in problems[0]


def test_nftables_on_an_old_engine_is_named_once():
    assert _problems(NFT, engine_version='28.5.2', swarm_active=True) == [
        "daemon.json key 'firewall-backend' needs Docker 29.0 or later; this engine is 28.5.2: upgrade the engine "
        "or remove the key"]


@pytest.mark.parametrize('options, words', [
    ({'firewall-backend': 'nft'}, "'firewall-backend' must be one of iptables, nftables"),
    ({'bip6': 'fd00:26::/64'}, 'is a network address; bip6 is the bridge\'s own address'),
    ({'bip6': '172.26.0.1/16'}, "'bip6'"),
    ({'host-gateway-ips': '192.0.2.1'}, 'must be a list of IP addresses'),
    ({'host-gateway-ips': ['host.lan']}, "'host-gateway-ips'"),
    ({'bridge-accept-fwmark': 1}, 'a firewall mark as a string'),
    ({'bridge-accept-fwmark': '0x1/ff'}, 'MARK or MARK/MASK'),
    ({'min-api-version': 1.4}, 'has the wrong type'),
    ({'min-api-version': 'v1.40'}, 'an Engine API version as a string'),
])
def test_new_keys_values_are_checked(options, words):
    problems = _problems(options, engine_version='29.7.0')
    assert len(problems) == 1 and words in problems[0], problems


def test_forwarding_advice_under_nftables():
    assert 'does not enable IP forwarding itself' in dc.forwarding_advice(NFT)[0]
    assert dc.forwarding_advice(dict(NFT, **{'ip-forward': False})) == []
    assert dc.forwarding_advice({}) == []


def test_needs_swarm_state():
    assert dc.needs_swarm_state(NFT) and not dc.needs_swarm_state(dict(NFT, iptables=False))
    assert dc.needs_swarm_state({'live-restore': True}) and not dc.needs_swarm_state({'debug': True})


# ---- the driver: bad input (issue 15) as a table; each row fails naming the words, nothing written ----
def params(tmp_path, **kwargs):
    result = dict(path=str(tmp_path / 'docker' / 'daemon.json'), options={}, absent_keys=[], backup=True,
                  dockerd_validate=False, allow_insecure_tcp=False, allow_unknown_keys=False,
                  engine_version='28.5.2', swarm_active=None, service='docker.service', manage_dropin=True,
                  dropin_path=str(tmp_path / 'docker.service.d' / 'netfleet-daemon-flags.conf'))
    result.update(kwargs)
    return result


def run(tmp_path, commands=None, **kwargs):
    module = FakeModule(params(tmp_path, **kwargs), tmpdir=str(tmp_path),
                        commands=dict({'systemctl': (0, UNIT, '')}, **(commands or {})))
    status, result = run_driver(module_file.DaemonConfigDriver, module)
    return status, result, module


BAD_INPUT = [
    ('a 29-only key on 28.5', dict(options={'bridge-accept-fwmark': '0x1'}, engine_version='28.5.2'),
     ["'bridge-accept-fwmark' needs Docker 29.0 or later; this engine is 28.5.2"]),
    ('firewall-backend on 28.5', dict(options={'firewall-backend': 'nftables'}, engine_version='28.5.2'),
     ["'firewall-backend' needs Docker 29.0 or later", 'upgrade the engine or remove the key']),
    ('a removed key on 23.0', dict(options={'cluster-store': 'etcd://10.0.0.1:2379'}, engine_version='23.0.6'),
     ["'cluster-store' was removed in Docker 23.0; this engine is 23.0.6", 'use swarm mode']),
    ('a removed key on 29.7', dict(options={'cluster-advertise': 'eth0:2376', 'cluster-store': 'etcd://h:2379'},
                                   engine_version='29.7.0'),
     ["'cluster-advertise' was removed in Docker 23.0", "'cluster-store' was removed in Docker 23.0"]),
    ('nftables with swarm (asked of docker info)', dict(options={'firewall-backend': 'nftables'},
                                                        engine_version='29.5.0', commands={'docker': (0, 'active\n', '')}),
     ['cannot be used while this engine is part of a swarm', 'features: {swarm-nftables: true}',
      'leave the swarm first']),
    ('nftables with swarm, feature on 29.3',
     dict(options={'firewall-backend': 'nftables', 'features': {'swarm-nftables': True}},
          engine_version='29.3.0', swarm_active=True),
     ['features.swarm-nftables needs Docker 29.6 or later and this engine is 29.3.0']),
    ('an unknown firewall-backend', dict(options={'firewall-backend': 'ebtables'}, engine_version='29.7.0'),
     ["'firewall-backend' must be one of iptables, nftables"]),
]


@pytest.mark.parametrize('case, arguments, words', BAD_INPUT, ids=[row[0] for row in BAD_INPUT])
def test_bad_input_fails_naming_the_fix_and_writes_nothing(tmp_path, case, arguments, words):
    status, result, _module = run(tmp_path, **arguments)
    assert status == 'fail' and result['changed'] is False, case
    for word in words:
        assert word in result['msg'], (case, word, result['msg'])
    assert not os.path.exists(params(tmp_path)['path']) and not os.path.exists(params(tmp_path)['dropin_path'])


def test_nftables_warns_that_forwarding_must_be_on_first(tmp_path):
    status, result, module = run(tmp_path, options={'firewall-backend': 'nftables'}, engine_version='29.7.0',
                                 commands={'docker': (0, 'inactive\n', '')})
    assert status == 'exit' and result['swarm_active'] is False and result['swarm_source'] == 'inactive'
    assert any('does not enable IP forwarding itself' in warning for warning in module.warnings)
