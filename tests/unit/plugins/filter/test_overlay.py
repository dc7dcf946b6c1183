# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

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


# -- the swarm ingress network ----------------------------------------------------------------

from ansible.errors import AnsibleFilterError  # noqa: E402

from ansible_collections.netfleet.docker.plugins.filter.overlay import ingress_publishers, planned_ingress_subnet  # noqa: E402


@pytest.mark.parametrize('plan, explicit, wanted', [
    (dict(ingress='10.66.16.0/24'), '', '10.66.16.0/24'),      # the plan's
    (dict(ingress=None), '10.250.0.0/24', '10.250.0.0/24'),    # explicit, no plan
    ({}, None, ''),                                              # neither: the ingress is left as it is
    (dict(ingress='10.66.16.0/24'), '10.66.16.0/24', '10.66.16.0/24'),
])
def test_ingress_subnet_precedence(plan, explicit, wanted):
    assert planned_ingress_subnet(plan, explicit) == wanted


def test_ingress_subnet_explicit_and_plan_differ_fails_naming_both():
    with pytest.raises(AnsibleFilterError) as error:
        planned_ingress_subnet(dict(ingress='10.66.16.0/24'), '10.250.0.0/24')
    message = str(error.value)
    assert 'overlay_ingress_subnet is set to 10.250.0.0/24' in message and '10.66.16.0/24 (fleet_plan_ingress)' in message


def _service(name, *ports):
    return dict(ID='id-' + name, Spec=dict(Name=name, EndpointSpec=dict(Ports=list(ports))))


def test_ingress_publishers_names_services_publishing_in_ingress_mode_only():
    services = [
        _service('web', dict(Protocol='tcp', TargetPort=80, PublishedPort=8080)),   # mode omitted: ingress
        _service('dns', dict(Protocol='udp', TargetPort=53, PublishedPort=53, PublishMode='ingress')),
        _service('agent', dict(Protocol='tcp', TargetPort=9100, PublishedPort=9100, PublishMode='host')),
        _service('worker'),
    ]
    assert ingress_publishers(json.dumps(services)) == ['dns (53/udp)', 'web (8080/tcp)']
    assert ingress_publishers('') == [] and ingress_publishers('  \n') == []


def test_ingress_publishers_unreadable_output_fails():
    with pytest.raises(AnsibleFilterError):
        ingress_publishers('Error: not a swarm manager')
