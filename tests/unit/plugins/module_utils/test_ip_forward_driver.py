# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ip_forward driver end to end: a fake /proc/sys, a temporary root for the sysctl.d files,
fake iptables / ip / modprobe."""

from __future__ import annotations

import json
import os

import pytest

from host_fakes import FakeModule, run_driver

from ansible_collections.netfleet.docker.plugins.modules import ip_forward as module_file
from ansible_collections.netfleet.docker.plugins.module_utils._host import forwarding, sysctl

SYSCTL_FILE = forwarding.DEFAULT_SYSCTL_FILE


def params(**kwargs):
    result = dict(ipv4=None, ipv6=None, interfaces=None, uplinks=None, bridge_netfilter=None, apply='both',
                  sysctl_file=SYSCTL_FILE, modules_load_file=forwarding.DEFAULT_MODULES_LOAD_FILE,
                  on_override='fail', daemon_config_path=forwarding.DEFAULT_DAEMON_CONFIG)
    result.update(kwargs)
    return result


@pytest.fixture
def host(tmp_path):
    """(proc, root): a fake /proc/sys with eth0 and lo, no br_netfilter; an empty root tree."""
    proc = tmp_path / 'proc'
    for path, value in (('net/ipv4/ip_forward', '0'), ('net/ipv6/conf/all/forwarding', '0'),
                        ('net/ipv4/conf/eth0/forwarding', '0'), ('net/ipv6/conf/eth0/forwarding', '0'),
                        ('net/ipv6/conf/eth0/accept_ra', '1'), ('net/ipv4/conf/lo/forwarding', '0')):
        full = proc / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(value + '\n')
    root = tmp_path / 'root'
    (root / 'etc' / 'sysctl.d').mkdir(parents=True)
    return str(proc), str(root)


def commands(policy='ACCEPT', ra_routes=(), modprobe=(0, '', '')):
    return {
        'iptables': (0, '-P FORWARD %s\n' % policy, ''),
        'ip6tables': (0, '-P FORWARD ACCEPT\n', ''),
        'ip': (0, json.dumps(list(ra_routes)), ''),
        'modprobe': modprobe,
    }


def run(host, check_mode=False, diff=False, cmds=None, **kwargs):
    proc, root = host

    class Driver(module_file.IpForwardDriver):
        pass
    Driver.proc, Driver.root = proc, root
    module = FakeModule(params(**kwargs), check_mode=check_mode, diff=diff,
                        commands=cmds if cmds is not None else commands())
    status, result = run_driver(Driver, module)
    return status, result, module


def runtime(host, key):
    with open(os.path.join(host[0], key)) as stream:
        return stream.read().strip()


def on_root(host, path):
    return os.path.join(host[1], path.lstrip('/'))


def test_check_mode_predicts_runtime_and_file_and_changes_nothing(host):
    status, result, _module = run(host, check_mode=True, ipv4=True)
    assert status == 'exit' and result['changed'] is True
    assert result['sysctls'] == [dict(name='net.ipv4.ip_forward', action='changed', changes=['runtime', 'file'],
                                      value='1', runtime_before='0', runtime_after='1', file_before=None,
                                      file_after='1')]
    assert runtime(host, 'net/ipv4/ip_forward') == '0' and not os.path.exists(on_root(host, SYSCTL_FILE))
    assert result['sysctl_file'] == SYSCTL_FILE and result['overrides'] == []
    assert result['forward_policy'] == dict(ipv4='ACCEPT', ipv6='ACCEPT')
    assert result['ansible_facts'] == dict(netfleet_forward_policy=result['forward_policy'])


def test_real_run_sets_and_persists_then_settles(host):
    status, result, _module = run(host, ipv4=True, ipv6=True, uplinks=['eth0'])
    assert status == 'exit' and result['changed'] is True
    assert runtime(host, 'net/ipv4/ip_forward') == '1' and runtime(host, 'net/ipv6/conf/eth0/accept_ra') == '2'
    with open(on_root(host, SYSCTL_FILE)) as stream:
        lines = [line for line in stream.read().splitlines() if not line.startswith('#')]
    assert lines == ['-net.ipv6.conf.eth0.accept_ra = 2', 'net.ipv4.ip_forward = 1', 'net.ipv6.conf.all.forwarding = 1']
    status, again, _module = run(host, ipv4=True, ipv6=True, uplinks=['eth0'])
    assert again['changed'] is False
    assert [record['action'] for record in again['sysctls']] == ['unchanged'] * 3


def test_runtime_drift_diff_is_one_block(host):
    run(host, ipv4=True)
    with open(os.path.join(host[0], 'net/ipv4/ip_forward'), 'w') as stream:
        stream.write('0\n')
    status, result, _module = run(host, check_mode=True, diff=True, ipv4=True)
    assert result['diff']['before'] == {'runtime': '0', SYSCTL_FILE: '1'}
    assert result['diff']['after'] == {'runtime': '1', SYSCTL_FILE: '1'}
    assert result['diff']['after_header'] == 'sysctl net.ipv4.ip_forward (changed)'
    assert result['sysctls'][0]['changes'] == ['runtime']


def test_runtime_only_writes_no_file(host):
    status, result, _module = run(host, ipv4=True, apply='runtime')
    assert result['sysctl_file'] is None and result['sysctls'][0]['changes'] == ['runtime']
    assert not os.path.exists(on_root(host, SYSCTL_FILE))


def test_bad_request_fails_with_every_problem_and_changes_nothing(host):
    status, result, _module = run(host)
    assert status == 'fail' and result['changed'] is False
    assert result['msg'].startswith('ip_forward: nothing to manage') and result['msg'].endswith('; nothing was changed')
    status, result, _module = run(host, ipv6=True, uplinks=['nope0'], sysctl_file='/etc/sysctl.x/9.conf')
    assert result['msg'].startswith('2 problems, nothing was changed') and len(result['problems']) == 2


def test_uplinks_without_ipv6_are_warned_about(host):
    status, result, module = run(host, ipv4=True, uplinks=['eth0'])
    assert status == 'exit' and any('only matter with ipv6: true' in text for text in module.warnings)


def test_a_later_file_fails_or_warns(host):
    with open(on_root(host, '/etc/sysctl.d/99-late.conf'), 'w') as stream:
        stream.write('net.ipv4.ip_forward = 0\n')
    status, result, _module = run(host, ipv4=True)
    assert status == 'fail' and result['changed'] is False
    assert result['overrides'] == [dict(key='net.ipv4.ip_forward', wanted='1', value='0',
                                        file='/etc/sysctl.d/99-late.conf', line=1)]
    assert result['msg'].startswith('/etc/sysctl.d/99-late.conf:1 sets net.ipv4.ip_forward = 0')
    assert runtime(host, 'net/ipv4/ip_forward') == '0'
    status, result, module = run(host, ipv4=True, on_override='warn')
    assert status == 'exit' and result['changed'] is True and len(result['overrides']) == 1
    assert any(text.startswith('on boot, /etc/sysctl.d/99-late.conf:1') for text in module.warnings)


def _modprobe_loading(proc):
    def modprobe(args):
        if args[1] != '-n':
            for key in forwarding.BRIDGE_KEYS:
                path = os.path.join(proc, key)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, 'w') as stream:
                    stream.write('0\n')
        return 0, '', ''
    return modprobe


def test_br_netfilter_is_loaded_first_then_its_keys_set_and_listed_for_boot(host):
    status, result, module = run(host, bridge_netfilter=True, cmds=commands(modprobe=_modprobe_loading(host[0])))
    assert status == 'exit', result
    assert [(record['name'], record['action']) for record in result['sysctls']] == [
        ('br_netfilter', 'loaded'), ('net.bridge.bridge-nf-call-iptables', 'changed'),
        ('net.bridge.bridge-nf-call-ip6tables', 'changed'), (forwarding.DEFAULT_MODULES_LOAD_FILE, 'changed')]
    assert runtime(host, 'net/bridge/bridge-nf-call-iptables') == '1'
    with open(on_root(host, forwarding.DEFAULT_MODULES_LOAD_FILE)) as stream:
        assert stream.read() == 'br_netfilter\n'
    assert [args[1:] for args in module.ran if args[0].endswith('modprobe')] == [
        ['-n', '-q', 'br_netfilter'], ['br_netfilter']]


def test_br_netfilter_that_fails_to_load_stops_before_anything_else(host):
    def modprobe(args):
        return (0, '', '') if args[1] == '-n' else (1, '', 'modprobe: ERROR: could not insert')
    status, result, _module = run(host, bridge_netfilter=True, ipv4=True, cmds=commands(modprobe=modprobe))
    assert status == 'fail' and result['changed'] is False
    assert result['msg'] == ('cannot load the br_netfilter kernel module: modprobe: ERROR: could not insert; '
                             'nothing else was changed')
    assert result['completed'] == [] and result['failed_steps'][0]['name'] == 'br_netfilter'
    assert [item['name'] for item in result['not_attempted']][:3] == [
        'net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables', 'net.ipv4.ip_forward']
    assert [item['name'] for item in result['sysctls']][0] == 'br_netfilter'
    assert runtime(host, 'net/ipv4/ip_forward') == '0'


def test_a_key_that_cannot_be_set_reports_what_completed(host, monkeypatch):
    real_write = sysctl.write_runtime

    def write_runtime(key, value, proc=sysctl.PROC_SYS):
        if key == forwarding.IPV6_FORWARD:   # as on a read-only /proc/sys
            raise sysctl.SysctlError('cannot set net.ipv6.conf.all.forwarding to 1 (...): /proc/sys is mounted read-only')
        return real_write(key, value, proc)
    monkeypatch.setattr(sysctl, 'write_runtime', write_runtime)
    status, result, _module = run(host, ipv4=True, ipv6=True)
    assert status == 'fail' and result['changed'] is True
    assert result['msg'].startswith('cannot set net.ipv6.conf.all.forwarding to 1')
    assert [item['name'] for item in result['completed']] == ['net.ipv4.ip_forward']
    assert [item['name'] for item in result['not_attempted']] == [SYSCTL_FILE]
    assert len(result['sysctls']) == 2


def test_drop_policy_and_ra_routes_are_warned_about(host):
    routes = [dict(dst='default', dev='eth0', gateway='fe80::1', protocol='ra')]
    status, result, module = run(host, check_mode=True, ipv4=True, ipv6=True,
                                 cmds=commands(policy='DROP', ra_routes=routes))
    assert result['forward_policy']['ipv4'] == 'DROP'
    assert sum('FORWARD policy is DROP' in text for text in module.warnings) == 1
    assert any('learned from a router advertisement' in text and 'add eth0 to uplinks' in text
               for text in module.warnings)


def test_missing_iptables_gives_no_policy(host):
    status, result, _module = run(host, check_mode=True, ipv4=True, cmds={})
    assert status == 'exit' and result['forward_policy'] == dict(ipv4=None, ipv6=None)


# ---- on_override: fix, and the wording per distribution (issue 16 item 8) ----------------------
def write(host, path, text):
    full = on_root(host, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as stream:
        stream.write(text)
    return full


def read(host, path):
    with open(on_root(host, path)) as stream:
        return stream.read()


def test_sysctl_conf_without_a_link_is_not_read_at_boot_but_by_sysctl_system(host):
    write(host, '/etc/sysctl.conf', '# local\nnet.ipv4.ip_forward=0\n')   # Debian 13: no 99-sysctl.conf link
    status, result, _module = run(host, ipv4=True)
    assert status == 'fail'
    assert result['msg'].startswith('/etc/sysctl.conf:2 sets net.ipv4.ip_forward = 0; sysctl --system reads '
                                    '/etc/sysctl.conf last of all')
    assert 'no name of sysctl_file sorts after it' in result['msg']
    assert 'systemd-sysctl does not read it at boot on this host' in result['msg']
    assert 'on_override: fix' in result['msg'] and 'name sysctl_file so it sorts' not in result['msg']


def test_sysctl_conf_through_the_debian_12_link_is_read_at_boot(host):
    write(host, '/etc/sysctl.conf', 'net.ipv4.ip_forward=0\n')
    os.symlink('../sysctl.conf', on_root(host, '/etc/sysctl.d/99-sysctl.conf'))
    status, result, _module = run(host, ipv4=True)
    assert status == 'fail' and result['msg'].startswith('/etc/sysctl.conf (via /etc/sysctl.d/99-sysctl.conf):1 sets')
    assert 'read last of all, at boot (through /etc/sysctl.d/99-sysctl.conf) and by sysctl --system' in result['msg']
    assert len(result['overrides']) == 1


def test_fix_comments_out_the_line_in_sysctl_conf_with_a_backup(host):
    original = '# local\nnet.ipv4.ip_forward=0\nkernel.x = 1\n'
    write(host, '/etc/sysctl.conf', original)
    os.symlink('../sysctl.conf', on_root(host, '/etc/sysctl.d/99-sysctl.conf'))
    status, predicted, _module = run(host, check_mode=True, diff=True, ipv4=True, on_override='fix')
    fix = [record for record in predicted['sysctls'] if record['name'] == '/etc/sysctl.conf']
    assert status == 'exit' and fix == [dict(name='/etc/sysctl.conf', action='commented', changes=['line 2'])]
    assert read(host, '/etc/sysctl.conf') == original
    block = [diff for diff in predicted['diff'] if diff['after_header'] == 'sysctl /etc/sysctl.conf (commented)'][0]
    assert '# net.ipv4.ip_forward=0  # commented out by netfleet.docker.ip_forward' in block['after']['content']

    status, result, module = run(host, ipv4=True, on_override='fix')
    assert status == 'exit' and result['changed'] is True
    assert read(host, '/etc/sysctl.conf') == (
        '# local\n# net.ipv4.ip_forward=0  # commented out by netfleet.docker.ip_forward: it undid %s at boot\n'
        'kernel.x = 1\n' % SYSCTL_FILE)
    assert os.path.islink(on_root(host, '/etc/sysctl.d/99-sysctl.conf'))
    backup = [record for record in result['sysctls'] if record['name'] == '/etc/sysctl.conf'][0]['backup_file']
    with open(backup) as stream:
        assert stream.read() == original

    status, again, _module = run(host, ipv4=True, on_override='fix')
    assert again['changed'] is False and again['overrides'] == []


def test_fix_shadows_a_package_file_instead_of_editing_it(host):
    vendor = '/usr/lib/sysctl.d/99-vendor.conf'
    write(host, vendor, 'net.ipv4.ip_forward = 0\nnet.core.x = 1\n')
    status, result, _module = run(host, ipv4=True, on_override='fix')
    record = [item for item in result['sysctls'] if item['action'] == 'shadowed'][0]
    assert status == 'exit' and record['name'] == '/etc/sysctl.d/99-vendor.conf' and record['source'] == vendor
    assert read(host, vendor) == 'net.ipv4.ip_forward = 0\nnet.core.x = 1\n'
    copy = read(host, '/etc/sysctl.d/99-vendor.conf')
    assert copy.startswith('# Copy of %s' % vendor) and '\nnet.core.x = 1\n' in copy
    status, again, _module = run(host, ipv4=True, on_override='fix')
    assert again['changed'] is False


@pytest.mark.parametrize('setup, words', [
    (lambda host: write(host, '/etc/sysctl.d/99-late.conf', 'net.ipv4.ip_for* = 0\nnet/ipv4/ip_forward = 0\n'),
     'sets keys by a pattern'),
    (lambda host: write(host, '/etc/sysctl.d/90-netfleet-forwarding.conf', '# hides /usr/lib\'s\n'),
     'is never read at boot'),
])
def test_fix_refuses_what_it_cannot_fix_and_changes_nothing(host, setup, words):
    setup(host)
    write(host, '/etc/sysctl.d/99-zz.conf', 'net.ipv4.ip_forward = 0\n')
    status, result, _module = run(host, ipv4=True, on_override='fix',
                                  sysctl_file='/usr/lib/sysctl.d/90-netfleet-forwarding.conf'
                                  if 'never' in words else SYSCTL_FILE)
    assert status == 'fail' and words in result['msg'] and result['changed'] is False
    assert read(host, '/etc/sysctl.d/99-zz.conf') == 'net.ipv4.ip_forward = 0\n'
    assert runtime(host, 'net/ipv4/ip_forward') == '0'


def test_fix_refuses_a_link_in_etc_to_a_file_elsewhere(host):
    write(host, '/usr/share/netconf/forward.conf', 'net.ipv4.ip_forward = 0\n')
    os.symlink(on_root(host, '/usr/share/netconf/forward.conf'), on_root(host, '/etc/sysctl.d/99-link.conf'))
    status, result, _module = run(host, ipv4=True, on_override='fix')
    assert status == 'fail' and result['msg'].startswith(
        '/etc/sysctl.d/99-link.conf is a link to /usr/share/netconf/forward.conf, which sets the lines 1')


# ---- the engine's daemon.json: ip-forward-no-drop, firewall-backend nftables (issue 15 item 7) ----------
def test_result_reports_the_engines_forwarding_settings(host):
    write(host, '/etc/docker/daemon.json', '{"ip-forward-no-drop": true}')
    status, result, module = run(host, check_mode=True, ipv4=True, cmds=commands(policy='DROP'))
    assert status == 'exit' and result['docker_forwarding'] == dict(
        daemon_config='/etc/docker/daemon.json', found=True, firewall_backend='iptables', ip_forward=True,
        ip_forward_no_drop=True, iptables=True, docker_enables_forwarding=True, docker_sets_drop_policy=False)
    drop = [text for text in module.warnings if 'FORWARD policy is DROP' in text]
    assert len(drop) == 1 and 'not dockerd, whose /etc/docker/daemon.json has ip-forward-no-drop: true' in drop[0]


def test_nftables_engine_warns_when_forwarding_stays_off(host):
    write(host, '/srv/docker/daemon.json', '{"firewall-backend": "nftables"}')
    status, result, module = run(host, check_mode=True, interfaces=[dict(name='eth0', ipv4=True, ipv6=None)],
                                 daemon_config_path='/srv/docker/daemon.json')
    assert status == 'exit' and result['docker_forwarding']['docker_enables_forwarding'] is False
    assert any(text.startswith('/srv/docker/daemon.json sets firewall-backend nftables') and
               'net.ipv4.ip_forward (ipv4) is off' in text for text in module.warnings)
    status, result, module = run(host, check_mode=True, ipv4=True, daemon_config_path='/srv/docker/daemon.json')
    assert not any('firewall-backend nftables' in text for text in module.warnings)


def test_a_broken_daemon_json_is_only_a_warning(host):
    write(host, '/etc/docker/daemon.json', '{broken')
    status, result, module = run(host, ipv4=True)
    assert status == 'exit' and result['changed'] is True and result['docker_forwarding']['found'] is False
    assert any(text.startswith('/etc/docker/daemon.json is not valid JSON') for text in module.warnings)
