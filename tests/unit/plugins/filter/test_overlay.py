# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.filter.overlay import container_mtu, plan_overlay_networks


def test_container_mtu_subtracts_vxlan_and_esp():
    assert container_mtu(1500, False) == 1450
    assert container_mtu(1500, True) == 1424
    assert container_mtu(9000, False) == 8950


def test_underlay_mtu_is_the_default():
    items, warnings = plan_overlay_networks([dict(name='ov', subnet='10.1.0.0/24', gateway='10.1.0.1')], underlay_mtu=1450)
    assert warnings == []
    assert items == [dict(name='ov', driver='overlay', scope='swarm', attachable=True, mtu=1450,
                          ipam=dict(config=[dict(subnet='10.1.0.0/24', gateway='10.1.0.1')]))]


def test_declared_mtu_above_underlay_warns_and_is_kept():
    items, warnings = plan_overlay_networks([dict(name='big', mtu=9000)], underlay_mtu='1500')
    assert items[0]['mtu'] == 9000
    assert len(warnings) == 1 and 'MTU 9000 exceeds the underlay MTU 1500' in warnings[0] and 'see 1450' in warnings[0]


def test_declared_mtu_below_underlay_and_role_default():
    items, warnings = plan_overlay_networks([dict(name='a', mtu=1400), dict(name='b')], underlay_mtu=1500, mtu=1450)
    assert [i['mtu'] for i in items] == [1400, 1450] and warnings == []


def test_unknown_underlay_leaves_mtu_to_docker():
    items, _warnings = plan_overlay_networks([dict(name='a')], underlay_mtu=0)
    assert 'mtu' not in items[0]


def test_encrypted_internal_labels_and_absent():
    items, _warnings = plan_overlay_networks([
        dict(name='sec', encrypted=True, internal=True, labels=dict(t='x'), attachable=False),
        dict(name='gone', state='absent', subnet='10.9.0.0/24'),
    ], underlay_mtu=1500)
    assert items[0]['driver_options'] == dict(encrypted='') and items[0]['internal'] is True
    assert items[0]['attachable'] is False and items[0]['labels'] == dict(t='x')
    assert items[1] == dict(name='gone', state='absent')


def test_global_scope_is_explicit_and_has_no_attachable():
    items, _warnings = plan_overlay_networks([dict(name='legacy')], underlay_mtu=1500, scope='global')
    assert items[0]['scope'] == 'global' and 'attachable' not in items[0]
    with pytest.raises(ValueError, match='scope'):
        plan_overlay_networks([dict(name='x')], scope='local')


@pytest.mark.parametrize('networks, match', [
    ([dict(subnet='10.0.0.0/24')], 'has no name'),
    ([dict(name='a'), dict(name='a')], 'declared twice'),
    ([dict(name='a', subnett='10.0.0.0/24')], 'unknown keys subnett'),
])
def test_bad_declarations(networks, match):
    with pytest.raises(ValueError, match=match):
        plan_overlay_networks(networks)
