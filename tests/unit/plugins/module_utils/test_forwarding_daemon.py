# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_forward and the engine's daemon.json: ip-forward-no-drop (28.0+), firewall-backend nftables (29.0+),
the FORWARD-policy warning that names who set the DROP, and forwarding that must be on before networks."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._host import forwarding

DAEMON = forwarding.DEFAULT_DAEMON_CONFIG


def params(**kwargs):
    result = dict(ipv4=None, ipv6=None, interfaces=None, uplinks=None, bridge_netfilter=None, apply='both',
                  sysctl_file=forwarding.DEFAULT_SYSCTL_FILE, modules_load_file=forwarding.DEFAULT_MODULES_LOAD_FILE,
                  on_override='fail', daemon_config_path=DAEMON)
    result.update(kwargs)
    return result


@pytest.fixture
def proc(tmp_path):
    for path, value in (('net/ipv4/ip_forward', '0'), ('net/ipv6/conf/all/forwarding', '0'),
                        ('net/ipv4/conf/eth0/forwarding', '0')):
        full = tmp_path / 'proc' / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(value + '\n')
    return str(tmp_path / 'proc')


def daemon_root(tmp_path, text):
    root = tmp_path / 'root'
    (root / 'etc' / 'docker').mkdir(parents=True, exist_ok=True)
    if text is not None:
        (root / 'etc' / 'docker' / 'daemon.json').write_text(text)
    return str(root)


# daemon.json text -> (firewall_backend, ip_forward_no_drop, docker_enables_forwarding, docker_sets_drop_policy, warned)
READS = [
    (None, ('iptables', False, True, True, False)),
    ('', ('iptables', False, True, True, False)),
    ('{"ip-forward-no-drop": true}', ('iptables', True, True, False, False)),
    ('{"firewall-backend": "nftables"}', ('nftables', False, False, False, False)),
    ('{"ip-forward": false}', ('iptables', False, False, False, False)),
    ('{"iptables": false}', ('iptables', False, True, False, False)),
    ('{nope', ('iptables', False, True, True, True)),
    ('[1]', ('iptables', False, True, True, True)),
]


@pytest.mark.parametrize('text, expect', READS)
def test_read_daemon_forwarding(tmp_path, text, expect):
    daemon, warning = forwarding.read_daemon_forwarding(DAEMON, daemon_root(tmp_path, text))
    assert (daemon.firewall_backend, daemon.ip_forward_no_drop, daemon.docker_enables_forwarding,
            daemon.docker_sets_drop_policy, warning is not None) == expect
    assert daemon.found is (text is not None and not expect[4])
    if warning:
        assert warning.endswith(": the FORWARD policy advice assumes Docker's defaults")
    assert daemon.as_result()['daemon_config'] == DAEMON


def test_an_unreadable_daemon_json_is_a_warning(tmp_path):
    root = daemon_root(tmp_path, None)
    os.mkdir(os.path.join(root, 'etc/docker/daemon.json'))   # a directory: open() fails
    daemon, warning = forwarding.read_daemon_forwarding(DAEMON, root)
    assert warning.startswith('cannot read ') and daemon.docker_sets_drop_policy


def _policy_run(policy4='DROP', policy6='ACCEPT'):
    def run(args):
        policy = policy4 if args[0] == 'iptables' else policy6
        return 0, '-P FORWARD %s\n' % policy, ''
    return run


# daemon.json -> words the DROP warning must hold
POLICY_CAUSES = [
    (None, ['(dockerd sets it when it enables forwarding itself)', 'ip-forward-no-drop: true in /etc/docker/daemon.json '
                                                                   '(Docker 28.0+)', 'DOCKER-USER']),
    ({'ip-forward-no-drop': True}, ['not dockerd, whose /etc/docker/daemon.json has ip-forward-no-drop: true']),
    ({'ip-forward': False}, ['has ip-forward: false']),
    ({'iptables': False}, ['has iptables: false']),
    ({'firewall-backend': 'nftables'}, ['with firewall-backend nftables it leaves the iptables FORWARD chain alone']),
]


@pytest.mark.parametrize('config, words', POLICY_CAUSES)
def test_drop_policy_warning_names_who_set_it(tmp_path, proc, config, words):
    root = daemon_root(tmp_path, json.dumps(config) if config is not None else None)
    daemon, _warning = forwarding.read_daemon_forwarding(DAEMON, root)
    warnings = []
    request = forwarding.Request(params(ipv4=True), proc=proc)
    policy = forwarding.forward_policy_report(warnings.append, _policy_run(), request, daemon)
    assert policy == dict(ipv4='DROP', ipv6='ACCEPT') and len(warnings) == 1
    assert warnings[0].startswith('the iptables FORWARD policy is DROP (')
    for word in words:
        assert word in warnings[0], warnings[0]


def test_drop_policy_without_daemon_facts_keeps_the_old_message(proc):
    warnings = []
    request = forwarding.Request(params(ipv4=True), proc=proc)
    forwarding.forward_policy_report(warnings.append, _policy_run(), request)
    assert warnings == ["the iptables FORWARD policy is DROP (dockerd sets it when it enables forwarding itself): "
                        "traffic routed through every interface that no rule accepts (anything but Docker's own "
                        "networks) is dropped; add ACCEPT rules to the DOCKER-USER chain, or set the policy to ACCEPT "
                        "if this host is meant to route"]


NFT = forwarding.DaemonForwarding(DAEMON, found=True, firewall_backend='nftables')


# task arguments -> the keys the nftables warning names (none: no warning)
NFT_CASES = [
    (dict(ipv4=True), []),
    (dict(ipv4=True, apply='persistent'), ['net.ipv4.ip_forward (ipv4)']),
    (dict(ipv4=False), ['net.ipv4.ip_forward (ipv4)']),
    (dict(interfaces=[dict(name='eth0', ipv4=True, ipv6=None)]), ['net.ipv4.ip_forward (ipv4)']),
    (dict(ipv4=True, ipv6=False), ['net.ipv6.conf.all.forwarding (ipv6)']),
    (dict(ipv4=True, ipv6=True), []),
]


@pytest.mark.parametrize('arguments, named', NFT_CASES)
def test_nftables_needs_forwarding_on_before_networks(proc, arguments, named):
    warnings = []
    request = forwarding.Request(params(**arguments), proc=proc)
    assert request.problems == []
    forwarding.warn_nftables_forwarding(warnings.append, request, NFT, proc)
    if not named:
        assert warnings == []
        return
    assert len(warnings) == 1 and warnings[0].startswith('/etc/docker/daemon.json sets firewall-backend nftables, so '
                                                         'dockerd does not enable IP forwarding itself')
    assert 'after this task %s is off' % ', '.join(named) in warnings[0]
    assert 'before networks are created' in warnings[0]


def test_no_nftables_warning_under_iptables_or_without_ip_forward(proc):
    warnings = []
    request = forwarding.Request(params(ipv4=False), proc=proc)
    forwarding.warn_nftables_forwarding(warnings.append, request, forwarding.DaemonForwarding(DAEMON), proc)
    no_check = forwarding.DaemonForwarding(DAEMON, firewall_backend='nftables', ip_forward=False)
    forwarding.warn_nftables_forwarding(warnings.append, request, no_check, proc)
    assert warnings == [] and no_check.docker_enables_forwarding is False
