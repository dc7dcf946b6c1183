# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The networks role's group merge and its validation before anything changes."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter.networks import (
    host_networks, network_item_problems, unknown_keys)

PLAN = dict(hosts=dict(h1=dict(networks=dict(front='10.96.1.0/26'))))
LABELS = {'netfleet.managed': 'true'}


def test_items_from_every_group_and_host_vars_merged_resolved_and_labelled():
    by_group = dict(web=[dict(name='front', prefix=26, supernet='fleet', ipam=dict(config=[dict(subnet='auto')]),
                              labels=dict(tier='web'))],
                    db=[dict(name='back', internal=True)], other=[dict(name='never')])
    result = host_networks(by_group, ['web', 'db'], [dict(name='own')], 'h1', PLAN, LABELS)
    assert result['problems'] == []
    assert [item['name'] for item in result['items']] == ['back', 'front', 'own'], 'groups in name order, then host_vars'
    front = result['items'][1]
    assert front == dict(name='front', ipam=dict(config=[dict(subnet='10.96.1.0/26')]),
                         labels={'netfleet.managed': 'true', 'tier': 'web'})
    assert result['items'][0]['labels'] == LABELS


def test_identical_declarations_in_two_groups_are_one_network():
    same = dict(name='front', internal=False)
    result = host_networks(dict(a=[same], b=[dict(same)]), ['a', 'b'], host='h1')
    assert result['problems'] == [] and len(result['items']) == 1


def test_network_declared_differently_names_both_groups():
    result = host_networks(dict(lab=[dict(name='demo_frontend', internal=False)],
                                lab_trixie=[dict(name='demo_frontend', internal=True)]), ['lab_trixie', 'lab'], host='h1')
    assert len(result['problems']) == 1
    assert "network 'demo_frontend' in lab and lab_trixie" in result['problems'][0]
    assert result['problems'][0].startswith('h1 is in groups that declare the same network differently')


def test_auto_subnet_missing_from_the_plan():
    result = host_networks(dict(web=[dict(name='front', ipam=dict(config=[dict(subnet='auto')]))]), ['web'], host='h2',
                           plan=PLAN)
    assert result['problems'] == ['h2: networks front ask for subnet auto but the fleet plan has no subnet for them on '
                                  'this host; run netfleet.docker.address_plan with these networks and pass its plan as '
                                  'networks_plan.']


def test_items_without_a_name_and_bad_shapes():
    assert 'has no name' in host_networks(dict(web=[dict(internal=True)]), ['web'])['problems'][0]
    with pytest.raises(AnsibleFilterError, match='must be a list'):
        host_networks(dict(web=dict(name='x')), ['web'])
    with pytest.raises(AnsibleFilterError, match='must map group names'):
        host_networks(['x'], ['web'])


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_conflict_names_the_group_vars_files(tmp_path):
    # hash_behaviour=merge: both files reach the host, and the conflict names each file.
    _write(tmp_path / 'group_vars' / 'web.yml', 'networks_by_group:\n  web: [{name: front, internal: false}]\n')
    _write(tmp_path / 'group_vars' / 'db' / 'nets.yml', 'networks_by_group:\n  db: [{name: front, internal: true}]\n')
    merged = dict(web=[dict(name='front', internal=False)], db=[dict(name='front', internal=True)])
    problems = host_networks(merged, ['web', 'db'], host='h1', group_vars_dirs=[str(tmp_path / 'group_vars')])['problems']
    assert len(problems) == 1
    assert "network 'front' in db and web" in problems[0]
    assert 'group_vars/db/nets.yml' in problems[0] and 'group_vars/web.yml' in problems[0]


def test_a_group_vars_file_replaced_by_another_is_named(tmp_path):
    # Ansible's default: the host sees web.yml's dict only; db's networks would silently be dropped.
    _write(tmp_path / 'web.yml', 'networks_by_group:\n  web: [{name: front}]\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1\n')
    _write(tmp_path / 'db.yml', 'networks_by_group:\n  db: [{name: back}]\n')
    _write(tmp_path / 'broken.yml', 'networks_by_group: [unclosed\n')
    problems = host_networks(dict(web=[dict(name='front')]), ['web', 'db', 'broken'], host='h1',
                             group_vars_dirs=[str(tmp_path), '', str(tmp_path / 'missing')])['problems']
    assert len(problems) == 1
    assert 'db.yml declares networks back for group db' in problems[0] and 'from %s' % (tmp_path / 'web.yml') in problems[0]


def test_a_value_from_play_or_role_vars_is_an_override_not_a_loss(tmp_path):
    _write(tmp_path / 'web.yml', 'networks_by_group:\n  web: [{name: front}]\n')
    _write(tmp_path / 'db.yml', 'networks_by_group:\n  db: [{name: back}]\n')
    result = host_networks(dict(web=[dict(name='other')]), ['web', 'db'], host='h1', group_vars_dirs=[str(tmp_path)])
    assert result['problems'] == []


def test_unknown_keys_nested_with_suggestions_and_aliases():
    spec = dict(name=dict(), ipam=dict(type='dict', options=dict(config=dict(type='list', options=dict(
        subnet=dict(), gateway=dict())))), docker_host=dict(aliases=['docker_url']))
    item = dict(name='x', gatway='1', docker_url='u', ipam=dict(config=[dict(subnet='s', gatway='g')], drver='d'))
    # without a close name, the fix lists the names this level knows
    assert unknown_keys(item, spec) == ['unknown key gatway; drop it, or use one of docker_host, ipam, name',
                                        'unknown key ipam.config[0].gatway (did you mean gateway?)',
                                        'unknown key ipam.drver; drop it, or use one of config']
    assert 'docker_url is an alias: write docker_host' in unknown_keys(item, spec, aliases=False)
    assert unknown_keys('not a dict', spec) == []


def test_every_problem_of_the_requests_before_anything_changes():
    problems = network_item_problems(
        [dict(name='a', ipam=dict(config=[dict(subnet='10.5.0.0/24', gatway='10.5.0.1')])),
         dict(name='b', internal='maybe'),
         dict(name='c', ipam=dict(config=[dict(subnet='10.6.0.0/24', gateway='10.7.0.1')]))],
        forwarding_options=dict(ipv4=True, ipv5=True))
    assert problems[0] == 'networks_forwarding: unknown key ipv5 (did you mean ipv6?)'
    assert "network 'a': unknown key ipam.config[0].gatway (did you mean gateway?)" in problems
    assert any(text.startswith("network 'b': ") and 'bool' in text for text in problems)
    assert any("'c'" in text and 'outside the subnet' in text for text in problems), 'docker_net validation, no engine'
    assert network_item_problems([], None, {}) == []
    assert network_item_problems([dict(name='ok', ipam=dict(config=[dict(subnet='10.5.0.0/24')]))]) == []


def test_macvlan_items_checked_by_name():
    problems = network_item_problems([], [dict(name='m', parent='eth1', docker_url='unix://x', shim=dict())])
    assert "macvlan network 'm': docker_url is an alias: write docker_host" in problems
    assert any("macvlan network 'm': unknown key shim" in text for text in problems)


def test_default_mtu_reaches_bridge_networks_that_name_none():
    from ansible_collections.netfleet.docker.plugins.filter.networks import with_default_mtu
    items = [dict(name='web'), dict(name='db', mtu=9000), dict(name='ov', driver='overlay'),
             dict(name='raw', driver_options={'com.docker.network.driver.mtu': '1500'}), dict(name='old', state='absent')]
    assert [item.get('mtu') for item in with_default_mtu(items, 1400)] == [1400, 9000, None, None, None]
    assert with_default_mtu(items, 0) == items
    assert with_default_mtu(items, '0') == items and with_default_mtu(items, '1400')[0]['mtu'] == 1400


class _CostlyToCopy(dict):
    """Stands for ansible-core 2.19's lazy containers: a deep copy copies the host's every variable."""

    def __deepcopy__(self, memo):
        raise AssertionError('deep-copied a lazy container')


def test_requests_validated_as_plain_data_never_deep_copying_the_callers_containers():
    subnet = _CostlyToCopy(subnet='10.5.0.0/24', gateway='10.7.0.1')
    items = [_CostlyToCopy(name='c', ipam=_CostlyToCopy(config=[subnet]), labels=_CostlyToCopy(tier='web'))]
    macvlan = [_CostlyToCopy(name='m', parent='eth1', ipam=_CostlyToCopy(config=(subnet,)))]
    problems = network_item_problems(items, macvlan, _CostlyToCopy(ipv4=True))
    assert len(problems) == 1 and "'c'" in problems[0] and 'outside the subnet' in problems[0]
