# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml's fast path on the controller: the declaration digest, each host's fingerprint options, the decision."""

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter import fast_path as fast_path_filter
from ansible_collections.netfleet.docker.plugins.plugin_utils import fast_path

CODE = 'c' * 64


def declarations(**per_host):
    base = {
        'host1': dict(vars=dict(fleet_overlay=False, networks_by_group=dict(web=[dict(name='frontend')])),
                      group_names=['docker_hosts', 'web']),
        'host2': dict(vars=dict(networks_host=[dict(name='backend')]), group_names=['docker_hosts']),
    }
    base.update(per_host)
    return base


def declare(hosts=None, code=CODE):
    return fast_path.fleet_declaration(hosts if hosts is not None else declarations(), code=code)


# -- fleet_declaration ---------------------------------------------------------------------------

def test_declaration_digest_is_stable_across_dict_and_group_ordering():
    first = declare()
    reordered = dict(reversed(list(declarations().items())))
    reordered['host1'] = dict(group_names=['web', 'docker_hosts'],
                              vars=dict(reversed(list(reordered['host1']['vars'].items()))))
    assert declare(reordered)['fleet'] == first['fleet']
    assert first['covered'] is True and first['reasons'] == []


@pytest.mark.parametrize('change', [
    lambda hosts: hosts['host1']['vars'].update(networks_by_group=dict(web=[dict(name='frontend', subnet='auto')])),
    lambda hosts: hosts['host2']['vars'].update(daemon_options=dict(mtu=1450)),
    lambda hosts: hosts['host2']['vars'].update(overlay_networks=[dict(name='ov')]),
    lambda hosts: hosts['host2']['vars'].update(kv_store_members=['host1']),
    lambda hosts: hosts['host2']['vars'].update(firewall_allow=['10.0.0.0/8']),
    lambda hosts: hosts.update(host3=dict(vars={}, group_names=['docker_hosts'])),
    lambda hosts: hosts.pop('host2'),
    lambda hosts: hosts['host2'].update(group_names=['docker_hosts', 'web']),
])
def test_declaration_digest_moves_with_the_declaration(change):
    hosts = declarations()
    change(hosts)
    assert declare(hosts)['fleet'] != declare()['fleet']


def test_declaration_digest_moves_with_the_code():
    assert declare(code='e' * 64)['fleet'] != declare()['fleet']


def test_runtime_facts_and_foreign_variables_are_not_declarations():
    assert fast_path.is_declaration('networks_by_group') and fast_path.is_declaration('fleet_plan_supernets')
    for name in sorted(fast_path.RUNTIME_FACTS) + ['ansible_host', 'verify_mode', 'group_names', 'myfleet_x']:
        assert not fast_path.is_declaration(name), name


def test_filter_leaves_runtime_facts_and_other_variables_out_of_the_digest():
    hostvars = dict(host1=dict(group_names=['docker_hosts'], fleet_overlay=True, ansible_host='192.0.2.10'))
    first = fast_path_filter.fleet_declaration(['host1'], hostvars)
    hostvars['host1'].update(fleet_plan=dict(plan={}), fleet_engine_facts=dict(networks=[]), overlay_facts={},
                             ansible_host='192.0.2.99', verify_mode='full', fleet_fingerprint=dict(fingerprint='x'))
    assert fast_path_filter.fleet_declaration(['host1'], hostvars)['fleet'] == first['fleet']
    hostvars['host1']['fleet_overlay'] = False
    assert fast_path_filter.fleet_declaration(['host1'], hostvars)['fleet'] != first['fleet']


def test_filter_turns_an_unreadable_variable_into_an_uncovered_host():
    class Unrenderable(dict):
        def __getitem__(self, name):
            if name == 'fleet_broken':
                raise ValueError("'ansible_default_ipv4' is undefined")
            return dict.__getitem__(self, name)

    hostvars = dict(host1=Unrenderable(group_names=['docker_hosts'], fleet_broken='{{ x }}'),
                    host2=dict(group_names=['docker_hosts']))
    result = fast_path_filter.fleet_declaration(['host1', 'host2'], hostvars)
    assert result['covered'] is False
    assert result['reasons'] == ["host1: its variables could not be read (ValueError: 'ansible_default_ipv4' is undefined)"]
    assert sorted(result['inputs']) == ['host2']


def test_filter_needs_the_play_hosts():
    with pytest.raises(AnsibleFilterError, match='needs the play hosts'):
        fast_path_filter.fleet_declaration([], {})


def test_host_with_an_error_is_not_covered_and_named():
    hosts = declarations(host3=dict(error='AnsibleUndefinedVariable: x is undefined'))
    result = declare(hosts)
    assert result['covered'] is False
    assert result['reasons'] == ['host3: its variables could not be read (AnsibleUndefinedVariable: x is undefined)']
    assert sorted(result['inputs']) == ['host1', 'host2']


@pytest.mark.parametrize('declared, reason', [
    (dict(fleet_fast_path=False), 'fleet_fast_path is false'),
    (dict(fleet_overlay=True, overlay_backend='kv'), 'the KV-store backend (its etcd containers) is not fingerprinted'),
    (dict(fleet_firewall=True), "the control-plane firewall's rules are not fingerprinted"),
    (dict(networks_macvlan=[dict(name='mv', parent='eth1')]), 'macvlan networks (their host shims) are not fingerprinted'),
])
def test_what_the_fingerprint_does_not_read_is_not_covered(declared, reason):
    hosts = declarations()
    hosts['host2']['vars'].update(declared)
    result = declare(hosts)
    assert result['covered'] is False and result['reasons'] == ['host2: ' + reason]


@pytest.mark.parametrize('declared', [
    dict(fleet_fast_path=True), dict(overlay_backend='kv'), dict(fleet_overlay=True, overlay_backend='swarm'),
    dict(fleet_overlay=True), dict(fleet_firewall=False), dict(networks_macvlan=[]),
])
def test_covered_declarations(declared):
    assert fast_path.uncovered(declared) == []


@pytest.mark.parametrize('declared, reasons', [
    # -e name=value passes strings; site.yml reads these with | bool
    (dict(fleet_fast_path='false'), ['fleet_fast_path is false']),
    (dict(fleet_fast_path='no'), ['fleet_fast_path is false']),
    (dict(fleet_fast_path='true'), []),
    (dict(fleet_firewall='false'), []),
    (dict(fleet_overlay='false', overlay_backend='kv'), []),
    (dict(fleet_overlay='true', overlay_backend='kv'), ['the KV-store backend (its etcd containers) is not fingerprinted']),
])
def test_string_booleans_from_extra_vars_read_as_site_yml_reads_them(declared, reasons):
    assert fast_path.uncovered(declared) == reasons


# -- fingerprint_inputs --------------------------------------------------------------------------

def test_inputs_networks_of_the_hosts_groups_and_its_own():
    declared = dict(networks_by_group=dict(web=[dict(name='frontend'), dict(name='shared')],
                                           db=[dict(name='backend'), dict(name='shared')],
                                           other=[dict(name='not-mine')]),
                    networks_host=[dict(name='local'), dict(subnet='no name'), 'not a dict'],
                    overlay_networks=[dict(name='ov1')])
    inputs = fast_path.fingerprint_inputs(declared, ['db', 'web', 'docker_hosts'])
    assert inputs['networks'] == ['backend', 'frontend', 'local', 'shared']
    assert inputs['routes'] is False


def test_inputs_overlay_networks_and_ingress_only_with_fleet_overlay():
    declared = dict(overlay_networks=[dict(name='ov1'), dict(name='ov2')])
    assert fast_path.fingerprint_inputs(declared, [])['networks'] == []
    declared['fleet_overlay'] = True
    assert fast_path.fingerprint_inputs(declared, [])['networks'] == ['ingress', 'ov1', 'ov2']
    declared['fleet_overlay'] = 'false'  # -e fleet_overlay=false
    assert fast_path.fingerprint_inputs(declared, [])['networks'] == []


def test_inputs_default_files_directories_and_sysctls():
    inputs = fast_path.fingerprint_inputs({}, ['docker_hosts'])
    assert inputs['files'] == ['/etc/docker/daemon.json',
                               '/etc/systemd/system/docker.service.d/netfleet-daemon-flags.conf',
                               '/etc/sysctl.d/90-netfleet-forwarding.conf',
                               '/etc/modules-load.d/netfleet-br_netfilter.conf', '/etc/sysctl.conf']
    assert inputs['directories'] == list(fast_path.SYSCTL_DIRECTORIES) and '/etc/sysctl.d' in inputs['directories']
    assert inputs['sysctls'] == list(fast_path.FORWARDING_SYSCTLS) and 'net.ipv4.ip_forward' in inputs['sysctls']


def test_inputs_custom_paths_and_interface_sysctls():
    declared = dict(daemon_config_path='/srv/docker/daemon.json', daemon_flag_dropin_path='/run/flags.conf',
                    networks_forwarding=dict(ipv4=True, sysctl_file='/etc/sysctl.d/50-fwd.conf',
                                             modules_load_file='/etc/modules-load.d/50-br.conf',
                                             interfaces=[dict(name='eth1', ipv4=True), dict(ipv4=True), 'eth9']))
    inputs = fast_path.fingerprint_inputs(declared, [])
    assert inputs['files'] == ['/srv/docker/daemon.json', '/run/flags.conf', '/etc/sysctl.d/50-fwd.conf',
                               '/etc/modules-load.d/50-br.conf', '/etc/sysctl.conf']
    interface_sysctls = inputs['sysctls'][len(fast_path.FORWARDING_SYSCTLS):]
    assert interface_sysctls == ['net.ipv4.conf.eth1.forwarding', 'net.ipv6.conf.eth1.forwarding']


def test_inputs_vlan_interfaces_use_the_slash_form_and_uplinks_their_accept_ra():
    declared = dict(networks_forwarding=dict(ipv6=True, interfaces=[dict(name='eth0.10')], uplinks=['eth0', 'bond0.20']))
    interface_sysctls = fast_path.fingerprint_inputs(declared, [])['sysctls'][len(fast_path.FORWARDING_SYSCTLS):]
    assert interface_sysctls == ['net/ipv4/conf/eth0.10/forwarding', 'net/ipv6/conf/eth0.10/forwarding',
                                 'net.ipv6.conf.eth0.accept_ra', 'net/ipv6/conf/bond0.20/accept_ra']


def test_inputs_routes_only_with_an_address_plan():
    assert fast_path.fingerprint_inputs(dict(fleet_plan_supernets=['10.96.0.0/12']), [])['routes'] is True
    assert fast_path.fingerprint_inputs(dict(fleet_plan_state_file='/x'), [])['routes'] is False


def test_declaration_carries_each_hosts_inputs():
    result = declare()
    assert result['inputs']['host1']['networks'] == ['frontend']
    assert result['inputs']['host2']['networks'] == ['backend']


# -- fleet_unchanged -----------------------------------------------------------------------------

def fingerprint_result(declaration, recorded_at='2025-01-02T00:00:00Z', **overrides):
    value = dict(changed=False, supported=True, fingerprint='f' * 64, parts={'engine': 'e' * 64}, moved=[],
                 recorded=dict(fingerprint='f' * 64, declaration=declaration, recorded_at=recorded_at))
    value.update(overrides)
    return value


def all_recorded():
    declaration = declare()
    return declaration, dict(host1=fingerprint_result(declaration['fleet'], recorded_at='2025-01-02T00:00:00Z'),
                             host2=fingerprint_result(declaration['fleet'], recorded_at='2025-01-01T00:00:00Z'))


def test_unchanged_when_every_host_matches_with_the_oldest_record():
    declaration, results = all_recorded()
    results['host1']['networks'] = ['backend', 'frontend']
    fast = dict(planned={}, path='fast')
    assert fast_path.fleet_unchanged(results, declaration) == dict(
        unchanged=True, reasons=[], recorded_at='2025-01-01T00:00:00Z',
        # what site.yml gives AWX (set_stats fleet_hosts) when the summary play has no host: the networks each has
        hosts=dict(host1=dict(fast, networks=dict(backend='unchanged', frontend='unchanged')), host2=dict(fast, networks={})))


@pytest.mark.parametrize('change, reason', [
    (lambda results: results.update(host2=None), 'host2: no fingerprint (the task did not run)'),
    (lambda results: results.update(host2=dict(skipped=True, changed=False)), 'host2: no fingerprint (the task did not run)'),
    (lambda results: results.update(host2=dict(failed=True, msg='cannot reach the Docker engine')),
     'host2: no fingerprint (cannot reach the Docker engine)'),
    # failed_when: false turns a failure into failed=False: the missing fingerprint still counts
    (lambda results: results.update(host2=dict(failed=False, failed_when_result=False, msg='ip failed')),
     'host2: no fingerprint (ip failed)'),
    (lambda results: results.update(host2=dict(unreachable=True, msg='ssh: connection refused')),
     'host2: no fingerprint (ssh: connection refused)'),
    (lambda results: results['host2'].update(supported=False, fingerprint=None),
     'host2: no fingerprint (the engine is not on a local unix socket)'),
    (lambda results: results['host2'].update(recorded=None, moved=['engine']), 'host2: no record of a complete converge'),
    (lambda results: results['host2']['recorded'].update(declaration='0' * 64),
     'host2: the declaration, the fleet or the collection changed since 2025-01-01T00:00:00Z'),
    (lambda results: results['host2'].update(moved=['network backend', 'sysctl net.ipv4.ip_forward']),
     'host2: moved since 2025-01-01T00:00:00Z: network backend, sysctl net.ipv4.ip_forward'),
])
def test_one_host_off_sends_the_fleet_down_the_full_path(change, reason):
    declaration, results = all_recorded()
    change(results)
    decision = fast_path.fleet_unchanged(results, declaration)
    assert decision == dict(unchanged=False, reasons=[reason], recorded_at=None, hosts={})


def test_every_host_off_is_named():
    declaration, results = all_recorded()
    results['host1']['moved'] = ['engine']
    results['host2'] = None
    reasons = fast_path.fleet_unchanged(results, declaration)['reasons']
    assert reasons == ['host1: moved since 2025-01-02T00:00:00Z: engine', 'host2: no fingerprint (the task did not run)']


def test_not_covered_gives_the_declarations_reasons():
    hosts = declarations()
    hosts['host1']['vars']['fleet_fast_path'] = False
    declaration = declare(hosts)
    _declaration, results = all_recorded()
    assert fast_path.fleet_unchanged(results, declaration) == dict(
        unchanged=False, reasons=['host1: fleet_fast_path is false'], recorded_at=None, hosts={})
    assert fast_path.fleet_unchanged(results, {})['reasons'] == ['no declaration']


def test_no_host_is_not_unchanged():
    assert fast_path.fleet_unchanged({}, declare())['unchanged'] is False


def test_filter_reads_the_registered_results_from_hostvars():
    declaration, results = all_recorded()
    hostvars = dict(host1=dict(fleet_fingerprint=results['host1']), host2=dict(fleet_fingerprint=results['host2']))
    assert fast_path_filter.fleet_unchanged(['host1', 'host2'], hostvars, 'fleet_fingerprint', declaration)['unchanged']
    del hostvars['host2']['fleet_fingerprint']
    decision = fast_path_filter.fleet_unchanged(['host1', 'host2'], hostvars, 'fleet_fingerprint', declaration)
    assert decision['reasons'] == ['host2: no fingerprint (the task did not run)']


# -- code_digest ---------------------------------------------------------------------------------

@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setattr(fast_path, '_code_digests', {})
    for path, text in (('plugins/modules/a.py', 'A = 1\n'), ('roles/net/tasks/main.yml', '---\n'),
                       ('playbooks/site.yml', '---\n'), ('docs/x.md', 'doc\n')):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    return tmp_path


def fresh_digest(root):
    fast_path._code_digests.clear()  # pylint: disable=protected-access
    return fast_path.code_digest(str(root))


def test_code_digest_moves_when_a_file_changes_is_added_or_renamed(tree):
    first = fresh_digest(tree)
    assert fresh_digest(tree) == first
    (tree / 'plugins' / 'modules' / 'a.py').write_text('A = 2\n')
    second = fresh_digest(tree)
    assert second != first
    (tree / 'roles' / 'net' / 'defaults').mkdir()
    (tree / 'roles' / 'net' / 'defaults' / 'main.yml').write_text('---\n')
    third = fresh_digest(tree)
    assert third != second
    (tree / 'playbooks' / 'site.yml').rename(tree / 'playbooks' / 'other.yml')
    assert fresh_digest(tree) != third


def test_code_digest_ignores_bytecode_and_other_directories(tree):
    first = fresh_digest(tree)
    (tree / 'plugins' / 'modules' / '__pycache__').mkdir()
    (tree / 'plugins' / 'modules' / '__pycache__' / 'a.cpython-39.pyc').write_bytes(b'\0\1')
    (tree / 'plugins' / 'modules' / 'b.pyc').write_bytes(b'\0\2')
    (tree / 'docs' / 'x.md').write_text('changed\n')
    (tree / 'changelogs').mkdir()
    (tree / 'changelogs' / 'x.yml').write_text('---\n')
    assert fresh_digest(tree) == first


def test_code_digest_is_computed_once_per_root(tree):
    first = fast_path.code_digest(str(tree))
    (tree / 'plugins' / 'modules' / 'a.py').write_text('A = 3\n')
    assert fast_path.code_digest(str(tree)) == first


def test_code_digest_root_is_the_collection():
    assert os.path.isfile(os.path.join(fast_path.COLLECTION_ROOT, 'plugins', 'plugin_utils', 'fast_path.py'))
    assert os.path.isdir(os.path.join(fast_path.COLLECTION_ROOT, 'roles'))
    assert len(fast_path.code_digest()) == 64
