# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The overlay role's decisions from every node's membership: never from inventory order when a swarm exists."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter.swarm import swarm_blockers, swarm_decision

INACTIVE = dict(node_state='inactive', role=None, cluster_id=None, manager_addrs=[])


def manager(node_id, cluster='c1', nodes=()):
    return dict(node_state='active', role='manager', node_id=node_id, cluster_id=cluster,
                manager_addrs=['10.0.0.%s:2377' % node_id[-1]], nodes=[dict(id=n) for n in (node_id,) + tuple(nodes)])


def worker(node_id, managers=('10.0.0.1:2377',)):
    return dict(node_state='active', role='worker', node_id=node_id, cluster_id=None, manager_addrs=list(managers))


def hostvars(**members):
    return dict((host, dict(_overlay_preflight=result)) for host, result in members.items())


CONVERGED = hostvars(d1=manager('n1', nodes=('n2', 'n3')), d2=worker('n2'), d3=worker('n3'))


@pytest.mark.parametrize('order', [['d1', 'd2', 'd3'], ['d3', 'd2', 'd1'], ['d2', 'd3', 'd1']])
def test_an_existing_swarm_is_joined_through_its_manager_whatever_the_order(order):
    decision = swarm_decision(order, CONVERGED)
    assert decision == dict(init=False, first='d1', managers=['d1'], cluster_id='c1',
                            members={'d1': 'manager', 'd2': 'worker', 'd3': 'worker'})


def test_a_new_host_joins_the_existing_swarm_even_when_listed_first():
    decision = swarm_decision(['new', 'd2', 'd1'], dict(CONVERGED, new=dict(_overlay_preflight=INACTIVE)))
    assert decision['init'] is False and decision['first'] == 'd1'


def test_init_only_when_no_play_host_is_in_a_swarm():
    fresh = hostvars(d1=INACTIVE, d2=INACTIVE)
    assert swarm_decision(['d2', 'd1'], fresh) == dict(init=True, first='d2', managers=['d2'], cluster_id=None, members={})
    assert swarm_decision(['d2', 'd1'], fresh, managers=['d1'])['first'] == 'd1'


def test_overlay_managers_first_existing_manager_is_the_first():
    three = hostvars(d1=manager('n1', nodes=('n2', 'n3')), d2=manager('n2', nodes=('n1', 'n3')), d3=worker('n3'))
    assert swarm_decision(['d1', 'd2', 'd3'], three, managers=['d3', 'd2', 'd1'])['first'] == 'd2'
    assert swarm_decision(['d1', 'd2', 'd3'], three, managers=['d3', 'd2', 'd1'])['managers'] == ['d3', 'd2', 'd1']


def test_two_swarms_fail_naming_both_clusters_and_hosts():
    two = hostvars(d1=manager('n1', 'c1', nodes=('n2',)), d2=worker('n2'), d3=manager('n7', 'c9'))
    with pytest.raises(AnsibleFilterError) as error:
        swarm_decision(['d1', 'd2', 'd3'], two)
    message = str(error.value)
    assert 'cluster c1: d1 (manager), d2 (worker)' in message and 'cluster c9: d3 (manager)' in message


def test_a_worker_of_another_swarm_is_named_by_its_managers():
    other = hostvars(d1=manager('n1', nodes=('n2',)), d2=worker('n5', managers=('10.9.9.9:2377',)))
    with pytest.raises(AnsibleFilterError) as error:
        swarm_decision(['d1', 'd2'], other)
    assert 'the swarm managed at 10.9.9.9:2377' in str(error.value) and 'd2 (worker)' in str(error.value)


def test_overlay_managers_outside_the_play_fail():
    with pytest.raises(AnsibleFilterError, match='overlay_managers names hosts that are not in this play: d9'):
        swarm_decision(['d1', 'd2'], CONVERGED, managers=['d1', 'd9'])


def test_overlay_managers_without_an_existing_manager_fail():
    with pytest.raises(AnsibleFilterError, match=r'overlay_managers \(d2\) names no manager of the existing cluster c1'):
        swarm_decision(['d1', 'd2', 'd3'], CONVERGED, managers=['d2'])


def test_a_swarm_without_a_manager_in_the_play_fails():
    with pytest.raises(AnsibleFilterError, match='has no manager among the play hosts'):
        swarm_decision(['d2', 'd3'], CONVERGED)


def test_unread_membership_blocks_init_but_not_an_existing_swarm():
    partial = hostvars(d1=INACTIVE, d2=dict(failed=True, msg='advertise address 10.1.1.1 is not on this host'))
    with pytest.raises(AnsibleFilterError, match='membership of d2, d3 could not be read'):
        swarm_decision(['d1', 'd2', 'd3'], partial)
    known = dict(CONVERGED, d4=dict(_overlay_preflight=dict(failed=True, msg='x')))
    assert swarm_decision(['d1', 'd2', 'd3', 'd4'], known)['first'] == 'd1'


def test_blockers_name_the_failed_host_and_its_reason():
    facts = {'d1': dict(_overlay_init=dict(failed=True, msg='drift: default_addr_pool')), 'd2': {}}
    assert swarm_blockers(['d1'], facts, '_overlay_init', ['d1']) == [
        'not done because d1 failed: drift: default_addr_pool']
    assert swarm_blockers(['d2'], facts, '_overlay_init') == []
    assert 'd2 failed: it never reached this step' in swarm_blockers(['d2'], facts, '_overlay_init', ['d2'])[0]
    assert swarm_blockers(['d1'], {'d1': dict(_overlay_init=dict(changed=True))}, '_overlay_init', ['d1']) == []
