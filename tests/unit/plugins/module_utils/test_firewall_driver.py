# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""control_plane_firewall end to end against a fake host whose iptables / nft / systemctl keep state:
restore transactions change it, listings print it, so a second run must find nothing to do."""

from __future__ import annotations

import os

import pytest

from host_fakes import Exited, Failed

from ansible_collections.netfleet.docker.plugins.modules import control_plane_firewall as module_file
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._host import firewall, firewall_plan, firewall_state
from ansible_collections.netfleet.docker.plugins.module_utils._host.firewall_state import Tools

from test_firewall import params


class FakeNetfilter:
    """Filter tables per family (chain -> rules), one nft table, systemd's enabled units."""

    def __init__(self, variant='nf_tables', binaries=('iptables', 'iptables-restore', 'ip6tables', 'ip6tables-restore',
                                                      'nft', 'systemctl'), ip6_works=True, fail=None):
        self.variant = variant
        self.binaries = set(binaries)
        self.tables = {4: {'INPUT': ['-p tcp -m tcp --dport 22 -j ACCEPT']}, 6: {'INPUT': []}}
        self.nft = None
        self.enabled = set()
        self.ip6_works = ip6_works
        self.fail = fail
        self.ran = []

    def which(self, name):
        return '/usr/sbin/%s' % name if name in self.binaries else None

    def run(self, args, data=None):
        self.ran.append((list(args), data))
        if self.fail and self.fail in ' '.join(args):
            return 1, '', 'fake failure'
        tool = args[0]
        if tool in ('iptables', 'ip6tables'):
            return self._iptables(4 if tool == 'iptables' else 6, args)
        if tool.endswith('-restore'):
            return self._restore(4 if tool.startswith('iptables') else 6, data)
        return getattr(self, '_' + tool)(args, data)

    def _iptables(self, family, args):
        if args[1] == '-V':
            return 0, 'iptables v1.8.9 (%s)\n' % self.variant, ''
        if family == 6 and not self.ip6_works:
            return 3, '', "can't initialize ip6tables table `filter'"
        lines = ['-P INPUT ACCEPT'] + ['-N %s' % chain for chain in self.tables[family] if chain != 'INPUT']
        for chain, rules in self.tables[family].items():
            lines += ['-A %s %s' % (chain, rule) for rule in rules]
        return 0, '\n'.join(lines) + '\n', ''

    def _restore(self, family, data):
        table = self.tables[family]
        for line in data.splitlines():
            words = line.split(' ', 2)
            if line.startswith(':'):
                table[line[1:].split()[0]] = []
            elif words[0] == '-A':
                table[words[1]].append(words[2])
            elif words[0] == '-D':
                table[words[1]].remove(words[2])
            elif words[0] == '-I':
                table[words[1]].insert(0, line.split(' ', 3)[3])
            elif words[0] == '-X':
                del table[words[1]]
        return 0, '', ''

    def _nft(self, args, data):
        if args[1] == 'list':
            if self.nft is None:
                return 1, '', 'Error: No such file or directory'
            return 0, 'table inet %s {\n\tchain input {\n%s\t}\n}\n' % (args[4], ''.join('\t\t%s\n' % r for r in self.nft)), ''
        if args[1] == 'delete':
            self.nft = None
            return 0, '', ''
        self.nft = list(firewall_state.parse_nft_table(data.split('delete table inet netfleet_cp\n')[1]))
        return 0, '', ''

    def _systemctl(self, args, data):
        if args[1] == 'is-enabled':
            return (0, 'enabled\n', '') if args[2] in self.enabled else (1, 'disabled\n', '')
        if args[1] == 'enable':
            self.enabled.add(args[2])
        elif args[1] == 'disable':
            self.enabled.discard(args[2])
        return 0, '', ''


class Module:
    def __init__(self, params, check_mode=False, diff=False):
        self.params, self.check_mode, self._diff = params, check_mode, diff

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, **result):
        raise Failed(result)


@pytest.fixture
def host(tmp_path):
    (tmp_path / 'run-systemd').mkdir()
    return FakeNetfilter(), tmp_path


def run(host, check_mode=False, diff=False, **kwargs):
    fake, tmp = host

    class Driver(module_file.ControlPlaneFirewallDriver):
        systemd_dir = str(tmp / 'run-systemd')

        def make_tools(self):
            return Tools(run=fake.run, which=fake.which)
    kwargs.setdefault('rules_dir', str(tmp / 'etc/netfleet/firewall'))
    kwargs.setdefault('unit_dir', str(tmp / 'etc/systemd/system'))
    try:
        Driver(Module(params(**kwargs), check_mode=check_mode, diff=diff)).run()
    except Exited as exc:
        return 'exit', exc.result
    except Failed as exc:
        return 'fail', exc.result
    raise AssertionError('no exit_json or fail_json')


def actions(result):
    return dict((record['name'].replace(os.sep, '/').rsplit('/', 1)[-1], record['action']) for record in result['objects'])


def test_present_then_idempotent(host):
    fake, tmp = host
    outcome, result = run(host)
    assert outcome == 'exit' and result['changed']
    assert result['backend'] == 'iptables-nft' and result['families'] == ['ipv4', 'ipv6']
    assert actions(result) == {'iptables NETFLEET-CP': 'created', 'iptables INPUT': 'created',
                               'ip6tables NETFLEET-CP': 'created', 'ip6tables INPUT': 'created',
                               'NETFLEET-CP.v4': 'created', 'NETFLEET-CP.v6': 'created',
                               'netfleet-control-plane-firewall.service': 'created'}
    assert fake.tables[4]['INPUT'][0] == '-j NETFLEET-CP'
    assert fake.tables[4]['NETFLEET-CP'] == firewall.iptables_rules(firewall.FirewallSpec(params()), 4)
    assert fake.tables[6]['NETFLEET-CP'][0] == '-i lo -j RETURN'
    assert 'netfleet-control-plane-firewall.service' in fake.enabled
    unit = (tmp / 'etc/systemd/system/netfleet-control-plane-firewall.service').read_text()
    assert 'NETFLEET-CP.v4' in unit and 'NETFLEET-CP.v6' in unit
    outcome, again = run(host)
    assert outcome == 'exit' and not again['changed']
    assert set(actions(again).values()) == {'unchanged'}


def test_check_mode_predicts_and_changes_nothing(host):
    fake, tmp = host
    outcome, result = run(host, check_mode=True, diff=True)
    assert outcome == 'exit' and result['changed']
    assert 'NETFLEET-CP' not in fake.tables[4] and not fake.enabled
    assert not (tmp / 'etc').exists()
    assert not [args for args, data in fake.ran if args[0].endswith('-restore')]
    chain_diff = result['diff'][0]
    assert chain_diff['before'] == {} and '-i lo -j RETURN' in chain_diff['after']['rules']
    file_diff = [item for item in result['diff'] if item['before_header'].endswith('NETFLEET-CP.v4 (before)')][0]
    assert file_diff['before'] == '' and '*filter' in file_diff['after']


def test_a_changed_source_updates_chain_and_boot_file_only(host):
    fake, dummy = host
    run(host)
    outcome, result = run(host, allowed_sources=['10.231.0.11', '10.231.0.13'])
    assert outcome == 'exit' and result['changed']
    got = actions(result)
    assert got['iptables NETFLEET-CP'] == 'updated' and got['NETFLEET-CP.v4'] == 'updated'
    assert got['iptables INPUT'] == 'unchanged' and got['ip6tables NETFLEET-CP'] == 'unchanged'
    record = [r for r in result['objects'] if r['name'] == 'iptables NETFLEET-CP'][0]
    assert record['changes'] == ['- -s 10.231.0.12/32 -j RETURN', '+ -s 10.231.0.13/32 -j RETURN']
    assert '-s 10.231.0.13/32 -j RETURN' in fake.tables[4]['NETFLEET-CP']


def test_sources_in_another_order_change_nothing(host):
    run(host, allowed_sources=['10.231.0.11', '10.231.0.12', '10.231.0.13'])
    outcome, result = run(host, allowed_sources=['10.231.0.13', '10.231.0.11', '10.231.0.12'])
    assert not result['changed']


def test_jump_moved_back_first(host):
    fake, dummy = host
    run(host)
    fake.tables[4]['INPUT'].insert(0, '-j ACCEPT')
    outcome, result = run(host)
    assert actions(result)['iptables INPUT'] == 'updated'
    assert fake.tables[4]['INPUT'][:2] == ['-j NETFLEET-CP', '-j ACCEPT']
    assert fake.tables[4]['INPUT'].count('-j NETFLEET-CP') == 1


def test_absent_removes_everything_and_is_idempotent(host):
    fake, tmp = host
    run(host)
    outcome, result = run(host, state='absent', allowed_sources=[])
    assert outcome == 'exit' and result['changed']
    assert list(result['objects'][0].values())[:2] == ['iptables INPUT', 'removed']
    assert 'NETFLEET-CP' not in fake.tables[4] and fake.tables[4]['INPUT'] == ['-p tcp -m tcp --dport 22 -j ACCEPT']
    assert 'NETFLEET-CP' not in fake.tables[6]
    assert not fake.enabled
    assert not os.listdir(str(tmp / 'etc/netfleet/firewall')) and not os.listdir(str(tmp / 'etc/systemd/system'))
    outcome, again = run(host, state='absent', allowed_sources=[])
    assert not again['changed'] and set(actions(again).values()) == {'unchanged'}


def test_ipv6_false_removes_an_earlier_ipv6_chain(host):
    fake, tmp = host
    run(host)
    outcome, result = run(host, ipv6=False)
    got = actions(result)
    assert got['ip6tables INPUT'] == 'removed' and got['ip6tables NETFLEET-CP'] == 'removed'
    assert got['NETFLEET-CP.v6'] == 'removed' and got['netfleet-control-plane-firewall.service'] == 'updated'
    assert 'NETFLEET-CP' not in fake.tables[6] and result['families'] == ['ipv4']


def test_ipv6_auto_skips_a_host_whose_ip6tables_does_not_work(tmp_path):
    (tmp_path / 'run-systemd').mkdir()
    host = (FakeNetfilter(ip6_works=False), tmp_path)
    outcome, result = run(host)
    assert outcome == 'exit' and result['families'] == ['ipv4']
    assert 'ip6tables NETFLEET-CP' not in actions(result)


def test_ipv6_sources_need_a_working_ip6tables(tmp_path):
    (tmp_path / 'run-systemd').mkdir()
    outcome, result = run((FakeNetfilter(ip6_works=False), tmp_path), allowed_sources=['10.0.0.1', 'fd00::1'])
    assert outcome == 'fail' and 'ip6tables does not work on this host' in result['msg']
    assert result['changed'] is False


def test_native_nftables_when_iptables_is_missing(tmp_path):
    (tmp_path / 'run-systemd').mkdir()
    fake = FakeNetfilter(binaries=('nft', 'systemctl'))
    host = (fake, tmp_path)
    outcome, result = run(host, encrypted=True)
    assert outcome == 'exit' and result['backend'] == 'nftables'
    assert actions(result) == {'nftables inet netfleet_cp': 'created', 'NETFLEET-CP.nft': 'created',
                               'netfleet-control-plane-firewall.service': 'created'}
    assert fake.nft[-1] == 'meta l4proto esp drop'
    assert not run(host, encrypted=True)[1]['changed']
    outcome, result = run(host, state='absent', allowed_sources=[])
    assert fake.nft is None and actions(result)['nftables inet netfleet_cp'] == 'removed'


def test_legacy_backend_is_reported(tmp_path):
    (tmp_path / 'run-systemd').mkdir()
    assert run((FakeNetfilter(variant='legacy'), tmp_path))[1]['backend'] == 'iptables-legacy'


def test_no_firewall_tool_fails_before_any_change(tmp_path):
    (tmp_path / 'run-systemd').mkdir()
    outcome, result = run((FakeNetfilter(binaries=('systemctl',)), tmp_path))
    assert outcome == 'fail' and 'neither iptables (with iptables-restore) nor nft' in result['msg']
    outcome, result = run((FakeNetfilter(binaries=('nft',)), tmp_path), backend='iptables')
    assert outcome == 'fail' and 'backend=iptables but iptables' in result['msg']
    outcome, result = run((FakeNetfilter(binaries=('iptables',)), tmp_path), backend='nftables')
    assert outcome == 'fail' and 'neither iptables' in result['msg']


def test_persist_needs_systemd(tmp_path):
    outcome, result = run((FakeNetfilter(), tmp_path))
    assert outcome == 'fail' and 'persist=true needs systemd' in result['msg']
    outcome, result = run((FakeNetfilter(), tmp_path), persist=False)
    assert outcome == 'exit' and 'netfleet-control-plane-firewall.service' not in actions(result)


def test_bad_input_fails_before_the_host_is_read(host):
    fake, dummy = host
    outcome, result = run(host, allowed_sources=['10.0.0.1', 'not-an-ip'], data_path_port=99999)
    assert outcome == 'fail' and result['msg'].startswith('2 problems, nothing was changed')
    assert len(result['problems']) == 2 and fake.ran == []


def test_a_failed_step_reports_completed_failed_and_not_attempted(host):
    fake, dummy = host
    fake.fail = 'ip6tables-restore'
    outcome, result = run(host)
    assert outcome == 'fail' and result['changed'] is True
    assert [r['name'] for r in result['completed']] == ['iptables NETFLEET-CP', 'iptables INPUT']
    assert result['failed_steps'][0]['name'] == 'ip6tables NETFLEET-CP' and 'fake failure' in result['failed_steps'][0]['error']
    assert len(result['not_attempted']) == 4


def test_unit_disabled_by_hand_is_enabled_again(host):
    fake, dummy = host
    run(host)
    fake.enabled.clear()
    outcome, result = run(host)
    assert actions(result)['netfleet-control-plane-firewall.service'] == 'enabled'
    assert fake.enabled == {'netfleet-control-plane-firewall.service'}


def test_apply_operations_names_what_was_done_before_a_failure(tmp_path):
    fake = FakeNetfilter(fail='daemon-reload')
    operations = (firewall_plan.WriteFile(str(tmp_path / 'a/unit'), 'x'), firewall_plan.Command(('systemctl', 'daemon-reload')))
    with pytest.raises(HostError) as caught:
        firewall_plan.apply_operations(operations, Tools(run=fake.run, which=fake.which))
    assert caught.value.details['step_details'] == dict(done=['wrote %s' % (tmp_path / 'a/unit')])
    assert 'systemctl daemon-reload failed (rc 1): fake failure' in str(caught.value)


def test_read_errors_are_host_errors():
    fake = FakeNetfilter(fail='-S')
    with pytest.raises(HostError, match='iptables -S failed'):
        firewall_state.read_chain(Tools(run=fake.run, which=fake.which), 'NETFLEET-CP', 4)
    fake = FakeNetfilter(fail='list')
    with pytest.raises(HostError, match='nft list table inet netfleet_cp failed'):
        firewall_state.read_nft_table(Tools(run=fake.run, which=fake.which), 'netfleet_cp')
    fake = FakeNetfilter(fail='-V')
    with pytest.raises(HostError, match='iptables -V failed'):
        firewall_state.detect_backend(Tools(run=fake.run, which=fake.which), firewall.FirewallSpec(params()))


def test_module_tools_resolve_in_sbin_and_report_missing_commands():
    calls = []

    class Stub:
        def get_bin_path(self, name, opt_dirs=None):
            return '/usr/sbin/iptables' if name == 'iptables' else None

        def run_command(self, args, data=None, binary_data=False):
            calls.append((args, data, binary_data))
            return 0, 'ok', ''
    tools = module_file.module_tools(Stub())
    assert tools.run(['nft', 'list']) == (127, '', 'nft: command not found')
    assert tools.run(['iptables', '-S'], data='x') == (0, 'ok', '')
    assert calls == [(['/usr/sbin/iptables', '-S'], 'x', True)]


def test_planning_error_is_nothing_changed():
    assert PlanningError.nothing_changed
