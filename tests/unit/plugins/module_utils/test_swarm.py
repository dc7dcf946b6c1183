# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._overlay import swarm


def managers(reachable, unreachable):
    nodes = [dict(ManagerStatus=dict(Reachability='reachable')) for _i in range(reachable)]
    nodes += [dict(ManagerStatus=dict(Reachability='unreachable')) for _i in range(unreachable)]
    nodes.append(dict(ID='worker'))      # workers have no ManagerStatus and never count
    return nodes


@pytest.mark.parametrize('members, needed', [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)])
def test_quorum_is_a_strict_majority(members, needed):
    assert swarm.quorum(members) == needed


def test_manager_counts():
    assert swarm.manager_counts(managers(3, 2)) == (3, 2)
    assert swarm.manager_counts([]) == (0, 0)


@pytest.mark.parametrize('reachable, unreachable', [(3, 0), (2, 0), (5, 1), (4, 0), (5, 0)])
def test_removal_allowed_when_the_rest_keep_quorum(reachable, unreachable):
    assert swarm.removal_problem(reachable, unreachable) is None


def test_last_manager_is_refused_with_the_reason_per_action():
    assert 'last manager' in swarm.removal_problem(1, 0)
    assert 'erases the swarm' in swarm.removal_problem(1, 0, 'leave')
    assert 'promote another node' in swarm.removal_problem(1, 0, 'demote')


def test_removal_that_breaks_quorum_is_refused():
    # 3 managers, 1 down: removing one of the 2 reachable leaves 1 of 2 -> no quorum
    problem = swarm.removal_problem(2, 1)
    assert 'leaves 1 reachable managers out of 2, and 2 are needed' in problem
    # 5 managers, 2 down: 3 reachable, removing one leaves 2 of 4 (3 needed)
    assert 'out of 4' in swarm.removal_problem(3, 2)


def test_demoting_an_unreachable_manager_keeps_the_reachable_ones():
    # 3 managers, 1 down: demoting the down one leaves 2 reachable of 2 -> allowed (Docker allows it too)
    assert swarm.removal_problem(2, 1, 'demote', target_reachable=False) is None
    # ... but a live one of the same swarm is refused, and without a quorum now nothing can be committed
    assert 'leaves 1 reachable managers out of 2' in swarm.removal_problem(2, 1, 'demote', target_reachable=True)
    assert 'no quorum now' in swarm.removal_problem(1, 2, 'demote', target_reachable=False)


def test_no_quorum_now_is_refused():
    assert 'no quorum now' in swarm.removal_problem(1, 2)


def test_drift_none_when_equal_and_defaults():
    cluster = dict(DefaultAddrPool=['10.0.0.0/8'], SubnetSize=24, DataPathPort=4789)
    request = dict(default_addr_pool=['10.0.0.0/8'], subnet_size=24, data_path_port=4789)
    assert swarm.init_drift(request, cluster, '10.1.0.1', '10.1.0.1') == ([], [])
    # not requested -> not compared; DataPathPort 0 means the default 4789
    assert swarm.init_drift(dict(data_path_port=4789), dict(DataPathPort=0), None) == ([], [])


def test_drift_lists_every_difference():
    cluster = dict(DefaultAddrPool=['10.0.0.0/8'], SubnetSize=24, DataPathPort=4789)
    request = dict(default_addr_pool=['10.128.0.0/16', '10.129.0.0/16'], subnet_size=26, data_path_port=4790)
    drift, unreadable = swarm.init_drift(request, cluster, '10.1.0.1', advertise_ip='10.1.0.2')
    assert unreadable == []
    assert [d['setting'] for d in drift] == ['default_addr_pool', 'subnet_size', 'data_path_port', 'advertise_addr']
    assert drift[0] == dict(setting='default_addr_pool', requested=['10.128.0.0/16', '10.129.0.0/16'], actual=['10.0.0.0/8'])
    text = swarm.drift_text(drift)
    assert 'subnet_size is 24 in the active swarm, the request says 26' in text


def test_drift_pool_order_and_host_bits_do_not_matter():
    cluster = dict(DefaultAddrPool=['10.129.0.0/16', '10.128.0.0/16'])
    assert swarm.init_drift(dict(default_addr_pool=['10.128.0.0/16', '10.129.0.0/16']), cluster, None) == ([], [])


def test_drift_on_worker_reports_unreadable_settings():
    drift, unreadable = swarm.init_drift(dict(subnet_size=24, default_addr_pool=[]), None, None)
    assert drift == [] and unreadable == ['subnet_size']


def test_node_changes_labels_merge_and_exclusive():
    node = dict(Spec=dict(Role='worker', Availability='active', Labels=dict(a='1', keep='x')))
    changes, spec = swarm.node_changes(node, None, None, dict(a=1), False)
    assert changes == [] and spec['Labels'] == dict(a='1', keep='x')
    changes, spec = swarm.node_changes(node, None, None, dict(a='2'), True)
    assert changes == [dict(setting='labels', requested=dict(a='2', keep=None), actual=dict(a='1', keep='x'))]
    assert spec['Labels'] == dict(a='2')


def test_node_changes_role_and_availability():
    node = dict(Spec=dict(Role='worker', Availability='active'))
    changes, spec = swarm.node_changes(node, 'manager', 'drain', None, False)
    assert [c['setting'] for c in changes] == ['role', 'availability']
    assert spec['Role'] == 'manager' and spec['Availability'] == 'drain'
    assert node['Spec']['Role'] == 'worker'       # the inspected node is not modified


def test_same_swarm():
    assert swarm.same_swarm(['10.1.0.1'], ['10.1.0.1:2377']) is True
    assert swarm.same_swarm(['10.1.0.9:2377'], ['10.1.0.1:2377', '10.1.0.2:2377']) is False
    assert swarm.same_swarm(['manager1.example'], ['10.1.0.1:2377']) is None
    assert swarm.same_swarm(['[fd00::1]:2377'], ['[fd00::1]:2377']) is True


def test_node_summary():
    node = dict(ID='n1', Description=dict(Hostname='h1'), Spec=dict(Role='manager', Availability='active'),
                Status=dict(State='ready', Addr='10.1.0.1'),
                ManagerStatus=dict(Leader=True, Reachability='reachable', Addr='10.1.0.1:2377'))
    summary = swarm.node_summary(node)
    assert summary['hostname'] == 'h1' and summary['leader'] is True and summary['labels'] == {}
