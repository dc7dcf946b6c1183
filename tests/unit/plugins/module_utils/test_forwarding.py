# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._host import forwarding


def params(**kwargs):
    result = dict(ipv4=None, ipv6=None, interfaces=None, uplinks=None, bridge_netfilter=None, apply='both',
                  sysctl_file=forwarding.DEFAULT_SYSCTL_FILE, modules_load_file=forwarding.DEFAULT_MODULES_LOAD_FILE,
                  on_override='fail')
    result.update(kwargs)
    return result


@pytest.fixture
def proc(tmp_path):
    """A fake /proc/sys with eth0 and lo, IPv6 on, no br_netfilter."""
    for path, value in (('net/ipv4/ip_forward', '0'), ('net/ipv6/conf/all/forwarding', '0'),
                        ('net/ipv4/conf/eth0/forwarding', '0'), ('net/ipv6/conf/eth0/forwarding', '0'),
                        ('net/ipv6/conf/eth0/accept_ra', '1'), ('net/ipv4/conf/lo/forwarding', '0')):
        full = tmp_path / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(value + '\n')
    return str(tmp_path)


def test_order_accept_ra_first_then_bridge_global_interfaces(proc):
    request = forwarding.Request(params(ipv4=True, ipv6=True, uplinks=['eth0'], bridge_netfilter=False,
                                        interfaces=[dict(name='eth0', ipv4=False, ipv6=None)]), proc=proc)
    assert request.problems == []
    assert [key for key, value, ignore in request.wanted] == [
        'net/ipv6/conf/eth0/accept_ra', 'net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables',
        'net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding', 'net/ipv4/conf/eth0/forwarding']
    assert request.wanted[0] == ('net/ipv6/conf/eth0/accept_ra', '2', True)


def test_uplinks_without_ipv6_warn_and_are_left_alone(proc):
    request = forwarding.Request(params(ipv4=True, uplinks=['eth0']), proc=proc)
    assert request.problems == []
    assert [key for key, value, ignore in request.wanted] == ['net/ipv4/ip_forward']
    assert 'only matter with ipv6: true' in request.warnings[0]


def test_every_problem_is_collected(proc):
    request = forwarding.Request(params(ipv6=True, uplinks=['nope0'], sysctl_file='/etc/sysctl.x/a.conf',
                                        interfaces=[dict(name='eth0/x', ipv4=True, ipv6=None)]), proc=proc)
    text = ' | '.join(request.problems)
    assert "uplink 'nope0' does not exist on this host (it has: eth0, lo)" in text
    assert "sysctl_file '/etc/sysctl.x/a.conf' is in /etc/sysctl.x" in text
    assert "interface 'eth0/x' is not a valid interface name" in text


@pytest.mark.parametrize('path, expect', [
    ('relative.conf', 'is not an absolute path'),
    ('/etc/sysctl.d/90-x', 'does not end in .conf'),
    ('/etc/sysctl.d/../sysctl.x/9.conf', 'is in /etc/sysctl.x'),
])
def test_sysctl_file_checks(proc, path, expect):
    request = forwarding.Request(params(ipv4=True, sysctl_file=path), proc=proc)
    assert expect in request.problems[0]


def test_nothing_to_manage(proc):
    assert 'nothing to manage' in forwarding.Request(params(), proc=proc).problems[0]


def test_ipv6_disabled_kernel(tmp_path):
    (tmp_path / 'net/ipv4').mkdir(parents=True)
    request = forwarding.Request(params(ipv6=True), proc=str(tmp_path))
    assert 'IPv6 is disabled in this kernel' in request.problems[0]


def test_br_netfilter_cannot_be_loaded_fails_clearly(proc):
    request = forwarding.Request(params(bridge_netfilter=True), proc=proc,
                                 probe_module=lambda name: 'modprobe: FATAL: Module br_netfilter not found')
    assert 'br_netfilter kernel module is not loaded and cannot be loaded (modprobe: FATAL' in request.problems[0]
    assert request.load_br_netfilter is False


def test_br_netfilter_loadable_is_loaded_and_its_keys_set(proc):
    request = forwarding.Request(params(bridge_netfilter=True), proc=proc, probe_module=lambda name: None)
    assert request.problems == [] and request.load_br_netfilter is True
    assert request.modules_load_file == forwarding.DEFAULT_MODULES_LOAD_FILE
    keys, new_text, overrides, shadowed = forwarding.plan(request, None, proc=proc, root=os.path.dirname(proc) + '/noroot')
    assert [(k['key'], k['runtime_change'], k['file_change']) for k in keys] == [
        ('net/bridge/bridge-nf-call-iptables', True, True), ('net/bridge/bridge-nf-call-ip6tables', True, True)]
    assert '-net.bridge.bridge-nf-call-iptables = 1' in new_text
    assert overrides == [] and shadowed is None


def test_br_netfilter_off_without_the_module_needs_no_module(proc):
    request = forwarding.Request(params(bridge_netfilter=False, apply='runtime'), proc=proc,
                                 probe_module=lambda name: 'should not be asked')
    assert request.problems == [] and request.load_br_netfilter is False and request.modules_load_file is None
    keys = forwarding.plan(request, None, proc=proc)[0]
    assert [k['runtime_change'] for k in keys] == [False, False]


def test_plan_runtime_only_and_idempotent(proc, tmp_path):
    request = forwarding.Request(params(ipv4=True, apply='runtime'), proc=proc)
    keys, new_text, overrides, shadowed = forwarding.plan(request, 'kernel.x = 1\n', proc=proc)
    assert keys[0]['runtime_change'] is True and keys[0]['file_change'] is False
    assert new_text == 'kernel.x = 1\n' and overrides == []
    (tmp_path / 'net/ipv4/ip_forward').write_text('1\n')
    assert forwarding.plan(request, None, proc=proc)[0][0]['runtime_change'] is False


def test_plan_reports_a_later_file(proc, tmp_path):
    root = tmp_path / 'root'
    (root / 'etc/sysctl.d').mkdir(parents=True)
    (root / 'etc/sysctl.d/99-late.conf').write_text('net.ipv4.ip_forward=0\n')
    request = forwarding.Request(params(ipv4=True), proc=proc)
    keys, new_text, overrides, shadowed = forwarding.plan(request, None, proc=proc, root=str(root))
    assert overrides == [dict(key='net.ipv4.ip_forward', wanted='1', value='0', file='/etc/sysctl.d/99-late.conf', line=1)]
    message = forwarding.override_message(request, overrides, shadowed)[0]
    assert message.startswith('/etc/sysctl.d/99-late.conf:1 sets net.ipv4.ip_forward = 0, read at boot after '
                              '/etc/sysctl.d/90-netfleet-forwarding.conf')


def test_br_netfilter_persistent_only_is_not_loaded_now(proc):
    request = forwarding.Request(params(bridge_netfilter=True, apply='persistent'), proc=proc, probe_module=lambda name: None)
    assert request.problems == [] and request.load_br_netfilter is False
    assert request.modules_load_file == forwarding.DEFAULT_MODULES_LOAD_FILE
