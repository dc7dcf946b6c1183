# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json logic: deep merge, validation, restart classification, the flag/file clash."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._common import versions
from ansible_collections.netfleet.docker.plugins.module_utils._daemon import daemon_config as dc

UNIT = """# /lib/systemd/system/docker.service
[Unit]
Description=Docker Application Container Engine

[Service]
Type=notify
# the comment ExecStart=/bin/false is not a setting
ExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS
ExecReload=/bin/kill -s HUP $MAINPID
"""

OWN_DROPIN = '/etc/systemd/system/docker.service.d/netfleet-daemon-flags.conf'


def test_deep_merge_merges_dicts_and_replaces_lists():
    base = {'log-opts': {'max-size': '10m', 'max-file': '3'}, 'dns': ['10.0.0.1'], 'debug': True}
    overlay = {'log-opts': {'max-size': '20m'}, 'dns': ['10.0.0.2'], 'mtu': 1450}
    merged = dc.deep_merge(base, overlay)
    assert merged == {'log-opts': {'max-size': '20m', 'max-file': '3'}, 'dns': ['10.0.0.2'], 'debug': True, 'mtu': 1450}
    assert base['log-opts'] == {'max-size': '10m', 'max-file': '3'}, 'the base is not modified'


def test_merged_config_removes_absent_keys():
    assert dc.merged_config({'bip': '172.26.0.1/16', 'mtu': 1500}, {'mtu': 1450}, ['bip', 'nothere']) == {'mtu': 1450}


def test_changed_keys_added_removed_changed():
    before = {'bip': '172.26.0.1/16', 'mtu': 1500, 'debug': False}
    after = {'bip': '172.26.0.1/16', 'mtu': 1450, 'labels': ['a=b']}
    assert dc.changed_keys(before, after) == ['debug', 'labels', 'mtu']
    assert dc.changed_keys(before, dict(before)) == []


@pytest.mark.parametrize('keys, kind', [
    ([], 'none'),
    (['debug', 'labels', 'live-restore'], 'reload'),
    (['debug', 'bip'], 'restart'),
    (['default-address-pools'], 'restart'),
    (['hosts'], 'restart'),
])
def test_restart_kind(keys, kind):
    assert dc.restart_kind(keys) == kind


def test_parse_config_text():
    assert dc.parse_config_text('', '/x') == {}
    assert dc.parse_config_text('{"mtu": 1450}', '/x') == {'mtu': 1450}
    with pytest.raises(dc.ConfigError, match='/x is not valid JSON'):
        dc.parse_config_text('{"mtu": ', '/x')
    with pytest.raises(dc.ConfigError, match='not an object'):
        dc.parse_config_text('[1]', '/x')


def test_render_is_stable():
    assert dc.render_config({'b': 1, 'a': [1]}) == '{\n  "a": [\n    1\n  ],\n  "b": 1\n}\n'


def _problems(requested, current=None, **kwargs):
    merged = dc.merged_config(current or {}, requested)
    return dc.validate(requested, merged, **kwargs)


def test_good_network_options_pass():
    good = {'bip': '172.26.0.1/16', 'fixed-cidr': '172.26.5.0/24', 'mtu': 1450, 'dns': ['10.0.0.2', 'fd00::53'],
            'default-address-pools': [{'base': '10.201.0.0/16', 'size': 24}, {'base': 'fd00:10::/48', 'size': 64}],
            'iptables': True, 'ip-forward': True, 'ip-masq': True, 'userland-proxy': False, 'ipv6': True,
            'fixed-cidr-v6': 'fd00:26::/64', 'live-restore': True, 'hosts': ['unix:///var/run/docker.sock']}
    assert _problems(good, engine_version='26.1.5') == []


@pytest.mark.parametrize('requested, fragment', [
    ({'bip': '172.26.0.0/16'}, 'network address'),
    ({'bip': 'nonsense'}, "'bip'"),
    ({'fixed-cidr': '172.26.0.1/16'}, "'fixed-cidr'"),
    ({'mtu': 40}, 'between 68 and 65535'),
    ({'mtu': '1450'}, 'between 68 and 65535'),
    ({'dns': ['10.0.0.300']}, "'dns'"),
    ({'iptables': 'yes'}, 'true or false'),
    ({'default-address-pools': [{'base': '10.1.0.0/16'}]}, 'exactly {base'),
    ({'default-address-pools': [{'base': '10.1.0.0/16', 'size': 8}]}, 'size 8'),
    ({'default-address-pools': [{'base': '10.1.0.1/16', 'size': 24}]}, 'not a network'),
    ({'hosts': ['0.0.0.0:2375']}, 'no known scheme'),
    ({'log-level': 'loud'}, 'must be one of'),
    ({'bipp': '172.26.0.1/16'}, "did you mean 'bip'"),
    ({'bip': '172.26.0.1/16', 'fixed-cidr': '10.0.0.0/24'}, 'not inside the bridge network'),
    ({'bip': '172.26.0.1/16', 'bridge': 'br0'}, 'mutually exclusive'),
    ({'fixed-cidr-v6': 'fd00::/64'}, 'ipv6 is not true'),
    ({'cluster-advertise': 'eth0:2376'}, 'without cluster-store'),
    ({'cluster-store': 'http://10.0.0.1:2379'}, 'SCHEME://HOST:PORT'),
])
def test_bad_values_are_named(requested, fragment):
    problems = _problems(requested, engine_version='20.10.24')
    assert problems, requested
    assert any(fragment in problem for problem in problems), problems


def test_every_problem_is_reported_at_once():
    assert len(_problems({'mtu': 1, 'iptables': 'no', 'bipp': 'x'})) == 3


def test_unknown_keys_allowed_on_request():
    assert _problems({'some-future-key': 1}, allow_unknown_keys=True) == []


def test_bad_value_already_in_file_is_named_as_such():
    problems = _problems({'mtu': 1450}, current={'iptables': 'yes'})
    assert problems == ["daemon.json key 'iptables' (already in the file) must be true or false"]


def test_version_gates():
    store = {'cluster-store': 'etcd://10.0.0.1:2379', 'cluster-advertise': 'eth0:2376'}
    assert _problems(store, engine_version='20.10.24+dfsg1') == []
    problems = _problems(store, engine_version='26.1.5+dfsg1')
    assert len(problems) == 2 and all('removed in Docker 23.0' in p for p in problems)
    assert 'needs Docker 24.0' in _problems({'default-network-opts': {'bridge': {}}}, engine_version='20.10.24')[0]
    assert 'needs Docker 28.0' in _problems({'ip-forward-no-drop': True}, engine_version='26.1.5')[0]
    assert _problems({'ip-forward-no-drop': True}, engine_version='28.0.1') == []


def test_allow_direct_routing_came_with_28_2():
    # Docker 28.0 and 28.1 refuse to start on a key they do not know.
    assert 'needs Docker 28.2' in _problems({'allow-direct-routing': True}, engine_version='28.1.1')[0]
    assert _problems({'allow-direct-routing': True}, engine_version='28.2.0') == []


def test_every_gated_key_has_a_row_in_the_version_table():
    for key, feature in dc.KEY_GATES.items():
        row = versions.GATES[feature]
        assert row.get('engine') or row.get('removed_in'), key


def test_swarm_refuses_live_restore_and_cluster_store():
    assert 'incompatible with swarm' in _problems({'live-restore': True}, swarm_active=True)[0]
    assert _problems({'live-restore': False}, swarm_active=True) == []
    problems = _problems({'cluster-store': 'etcd://10.0.0.1:2379'}, swarm_active=True, engine_version='20.10.24')
    assert len(problems) == 1 and 'part of a swarm' in problems[0]


def test_tcp_without_tls_verification_refused():
    hosts = {'hosts': ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2375']}
    problems = _problems(hosts)
    assert len(problems) == 1 and 'without TLS client verification' in problems[0]
    assert 'missing: tlscacert, tlscert, tlskey' in _problems(dict(hosts, tlsverify=True))[0]
    assert _problems(hosts, allow_insecure_tcp=True) == []
    tls = dict(hosts, tlsverify=True, tlscacert='/c/ca.pem', tlscert='/c/cert.pem', tlskey='/c/key.pem')
    assert _problems(tls) == []


def test_hosts_need_a_local_socket():
    problems = _problems({'hosts': ['tcp://0.0.0.0:2375']}, allow_insecure_tcp=True)
    assert len(problems) == 1 and 'no local socket' in problems[0]
    assert _problems({'hosts': ['fd://']}) == []


def test_effective_exec_start_from_unit_and_dropins():
    assert dc.effective_exec_start(UNIT).startswith('/usr/sbin/dockerd -H fd://')
    other = UNIT + '\n# /etc/systemd/system/docker.service.d/other.conf\n[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H fd:// --mtu 1400\n'
    assert dc.effective_exec_start(other) == '/usr/bin/dockerd -H fd:// --mtu 1400'
    own = UNIT + ('\n# %s\n# Managed by netfleet.docker\n# daemon.json sets too\n[Service]\nExecStart=\n'
                  'ExecStart=/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock\n' % OWN_DROPIN)
    assert dc.effective_exec_start(own, skip_path=OWN_DROPIN).startswith('/usr/sbin/dockerd -H fd://')
    assert dc.effective_exec_start(own) == '/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock'
    assert dc.effective_exec_start('# /x.service\n[Unit]\nDescription=x\n') is None


@pytest.mark.parametrize('line, keys, stripped, removed', [
    ('/usr/sbin/dockerd -H fd:// --containerd=/run/c.sock $DOCKER_OPTS', ['hosts', 'bip'],
     '/usr/sbin/dockerd --containerd=/run/c.sock $DOCKER_OPTS', ['-H fd://']),
    ('/usr/sbin/dockerd -Hfd:// --host=tcp://1.2.3.4:2376', ['hosts'], '/usr/sbin/dockerd', ['-Hfd://', '--host=tcp://1.2.3.4:2376']),
    ('/usr/sbin/dockerd -H fd:// --bip 10.1.0.1/24 --iptables=false --mtu=1400', ['bip', 'iptables', 'mtu'],
     '/usr/sbin/dockerd -H fd://', ['--bip 10.1.0.1/24', '--iptables=false', '--mtu=1400']),
    ('/usr/sbin/dockerd --ipv6 -H fd://', ['ipv6'], '/usr/sbin/dockerd -H fd://', ['--ipv6']),
    ('/usr/sbin/dockerd --containerd=/x --default-address-pool base=10.0.0.0/8,size=24', ['default-address-pools', 'containerd'],
     '/usr/sbin/dockerd', ['--containerd=/x', '--default-address-pool base=10.0.0.0/8,size=24']),
    ('/usr/sbin/dockerd -H fd://', ['bip'], '/usr/sbin/dockerd -H fd://', []),
])
def test_strip_flags(line, keys, stripped, removed):
    assert dc.strip_flags(line, keys) == (stripped, removed)
    assert dc.flag_conflicts(line, keys) == removed


def test_render_dropin_resets_exec_start():
    text = dc.render_dropin('/usr/sbin/dockerd --containerd=/x', ['-H fd://'])
    assert '[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd --containerd=/x\n' in text
    assert text.startswith(dc.DROPIN_MARKER)
    # its comments must not read as a `systemctl cat` file header
    assert dc.effective_exec_start(UNIT + '\n# /d.conf\n' + text, skip_path='/d.conf').startswith('/usr/sbin/dockerd -H fd://')


@pytest.mark.parametrize('text, version', [
    ('Docker version 20.10.24+dfsg1, build 297e128', '20.10.24+dfsg1'),
    ('Docker version 26.1.5+dfsg1, build 411e817', '26.1.5+dfsg1'),
    ('garbage', None),
])
def test_dockerd_version(text, version):
    assert dc.dockerd_version(text) == version


def test_store_url():
    assert dc.store_url('etcd://10.0.0.1:2379') == 'http://10.0.0.1:2379'
    assert dc.store_url('etcd://10.0.0.1:2379,10.0.0.2:2379/prefix') == 'http://10.0.0.1:2379'
