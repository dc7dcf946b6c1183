# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._network import network_spec as spec
from ansible_collections.netfleet.docker.plugins.module_utils._network.endpoints import EndpointError

MTU = spec.MTU_OPTION


def desired(name='web', **options):
    return spec.DesiredNetwork(spec.merged_requests(dict(name=name, **options), None))


def engine_network(name='web', subnets=(('172.20.0.0/16', '172.20.0.1'),), **overrides):
    """A network as the engine lists it."""
    network = dict(
        Name=name, Id=(name * 64)[:64], Driver='bridge', Scope='local', EnableIPv6=False, Internal=False,
        Attachable=False, ConfigOnly=False, ConfigFrom=dict(Network=''), Options={}, Labels={},
        IPAM=dict(Driver='default', Options=None,
                  Config=[dict(Subnet=subnet, Gateway=gateway) for subnet, gateway in subnets]),
    )
    network.update(overrides)
    return network


def actual(**overrides):
    return spec.inspected_view(engine_network(**overrides))


def paths(changes):
    return [change['path'] for change in changes]


# -- validation ---------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['bridge', 'host', 'none'])
def test_predefined_names_refused(name):
    with pytest.raises(spec.SpecError, match="network '%s' is predefined by dockerd" % name):
        desired(name)


@pytest.mark.parametrize('name', ['', '   ', None])
def test_empty_name_refused(name):
    with pytest.raises(spec.SpecError, match='non-empty name'):
        desired(name)


def test_ipv6_subnet_without_enable_ipv6_refused():
    with pytest.raises(spec.SpecError, match=r'subnet fd00:1::/64 is IPv6 but enable_ipv6 is not true'):
        desired(ipam=dict(config=[dict(subnet='10.1.0.0/24'), dict(subnet='FD00:1::/64')]))
    with pytest.raises(spec.SpecError, match='enable_ipv6 is not true'):
        desired(enable_ipv6=False, ipam=dict(config=[dict(subnet='fd00:1::/64')]))


def test_ipv6_subnet_with_enable_ipv6_accepted():
    network = desired(enable_ipv6=True, ipam=dict(config=[dict(subnet='FD00:1::/64'), dict(subnet='10.1.0.0/24')]))
    assert [pool['subnet'] for pool in network.pools] == ['10.1.0.0/24', 'fd00:1::/64']


@pytest.mark.parametrize('mtu', [0, 67, 65536, -1])
def test_mtu_out_of_range_refused(mtu):
    with pytest.raises(spec.SpecError, match='mtu %s is out of range; use 68..65535' % mtu):
        desired(mtu=mtu)


@pytest.mark.parametrize('mtu', [68, 1450, 65535])
def test_mtu_in_range_becomes_driver_option(mtu):
    network = desired(mtu=mtu)
    assert network.view['driver_options'] == {MTU: str(mtu)}


def test_mtu_contradicting_driver_option_refused():
    with pytest.raises(spec.SpecError, match=r'mtu 1400 contradicts driver_options\[com.docker.network.driver.mtu\]=1500'):
        desired(mtu=1400, driver_options={MTU: '1500'})


def test_mtu_agreeing_with_driver_option_accepted():
    assert desired(mtu=1400, driver_options={MTU: '1400'}).view['driver_options'] == {MTU: '1400'}
    assert desired(mtu=1400, driver_options={MTU: 1400}).view['driver_options'] == {MTU: '1400'}


def test_config_only_with_config_from_refused():
    with pytest.raises(spec.SpecError, match='config_only and config_from exclude each other'):
        desired(config_only=True, config_from='base')


@pytest.mark.parametrize('extra, named', [
    (dict(ipam=dict(config=[dict(subnet='10.0.0.0/24')])), 'ipam'),
    (dict(driver_options=dict(a='b')), 'driver_options'),
    (dict(mtu=1400), 'driver_options'),
    (dict(internal=True), 'internal'),
])
def test_config_from_with_own_settings_refused(extra, named):
    with pytest.raises(spec.SpecError, match='with config_from the settings come from the config-only network; remove %s' % named):
        desired(config_from='base', **extra)


def test_config_from_alone_accepted():
    assert desired(config_from='base', driver='macvlan').view == dict(config_from='base', driver='macvlan')


def test_ipam_error_becomes_spec_error():
    with pytest.raises(spec.SpecError, match="network 'web': subnet '10.0.0.1/24' has host bits set; did you mean 10.0.0.0/24"):
        desired(ipam=dict(config=[dict(subnet='10.0.0.1/24')]))


def test_bad_connected_entry_refused():
    with pytest.raises(EndpointError, match="network 'web'"):
        desired(connected=[dict(container='a', ipv4_address='nonsense')])


def test_view_contains_only_given_keys():
    network = desired(labels=dict(team='blue'))
    assert network.view == dict(labels=dict(team='blue'))
    assert network.pools == []
    assert network.connected == {}
    assert network.connected_given is False
    assert desired(connected=[]).connected_given is True


def test_address_space():
    assert desired().address_space == 'local'
    assert desired(driver='overlay').address_space == 'global'
    assert desired(scope='swarm').address_space == 'global'
    assert desired(driver='macvlan', scope='local').address_space == 'local'


# -- merged_requests -----------------------------------------------------------------------

def test_merged_requests_defaults():
    merged = spec.merged_requests(dict(name='web'), None)
    assert merged['name'] == 'web'
    assert merged['state'] == 'present'
    assert merged['recreate'] == 'auto'
    assert merged['force'] is False
    assert merged['connected_exclusive'] is False
    assert merged['driver'] is None
    assert set(merged) == set(spec.NETWORK_OPTION_SPEC) | set(['name'])


def test_merged_requests_batch_item_inherits_and_wins():
    params = dict(name=None, driver='macvlan', labels=dict(team='blue'), force=True, recreate='never',
                  driver_options=dict(parent='eth1'), state='absent')
    item = dict(name='a', labels=dict(team='red'), force=False, state=None, driver=None)
    merged = spec.merged_requests(params, item)
    assert merged['name'] == 'a'
    assert merged['labels'] == dict(team='red')          # item wins
    assert merged['force'] is False                      # an explicit False wins too
    assert merged['driver'] == 'macvlan'                 # None in the item inherits
    assert merged['driver_options'] == dict(parent='eth1')
    assert merged['recreate'] == 'never'
    assert merged['state'] == 'absent'


def test_merged_requests_item_defaults_when_top_level_silent():
    merged = spec.merged_requests(dict(networks=[dict(name='a')]), dict(name='a'))
    assert (merged['state'], merged['recreate'], merged['force'], merged['connected_exclusive']) == (
        'present', 'auto', False, False)


# -- options_equal ---------------------------------------------------------------------------

@pytest.mark.parametrize('actual_value', ['1', 'true', 'True', 'TRUE', 't', 'T'])
def test_options_equal_true(actual_value):
    assert spec.options_equal(True, actual_value)
    assert not spec.options_equal(False, actual_value)


@pytest.mark.parametrize('actual_value', ['0', 'false', 'False', 'FALSE', 'f', 'F'])
def test_options_equal_false(actual_value):
    assert spec.options_equal(False, actual_value)
    assert not spec.options_equal(True, actual_value)


def test_options_equal_other_values():
    assert spec.options_equal(1500, '1500')
    assert spec.options_equal(1500.0, '1500')
    assert not spec.options_equal(1500, '1450')
    assert spec.options_equal('eth1', 'eth1')
    assert not spec.options_equal('eth1', 'eth2')
    assert not spec.options_equal(True, None)
    assert not spec.options_equal('x', None)
    assert not spec.options_equal(True, 'yes')  # Go's ParseBool does not accept yes


# -- diff_views -----------------------------------------------------------------------------

def test_diff_labels_only_given_keys():
    have = actual(Labels=dict(team='blue', owner='ops'))
    assert spec.diff_views(desired(labels=dict(team='blue')), have) == []
    assert spec.diff_views(desired(labels={}), have) == []
    changes = spec.diff_views(desired(labels=dict(team='red', tier=1)), have)
    assert changes == [dict(path='labels.team', wanted='red', actual='blue'),
                       dict(path='labels.tier', wanted='1', actual=None)]


def test_diff_driver_options_booleans_and_ints():
    have = actual(Options={'com.docker.network.bridge.enable_icc': '1', MTU: '1450',
                           'com.docker.network.bridge.enable_ip_masquerade': 'false'})
    network = desired(mtu=1450, driver_options={'com.docker.network.bridge.enable_icc': True,
                                                'com.docker.network.bridge.enable_ip_masquerade': False})
    assert spec.diff_views(network, have) == []
    network = desired(mtu=1500, driver_options={'com.docker.network.bridge.enable_icc': False})
    changes = spec.diff_views(network, have)
    assert changes == [dict(path='driver_options.com.docker.network.bridge.enable_icc', wanted='false', actual='1'),
                       dict(path='driver_options.%s' % MTU, wanted='1500', actual='1450')]


def test_diff_driver_option_missing_on_engine():
    assert paths(spec.diff_views(desired(driver_options=dict(parent='eth1')), actual())) == ['driver_options.parent']


def test_diff_scalar_fields():
    have = actual(Internal=True)
    assert spec.diff_views(desired(driver='bridge', internal=True, attachable=False), have) == []
    changes = spec.diff_views(desired(driver='macvlan', internal=False), have)
    assert changes == [dict(path='driver', wanted='macvlan', actual='bridge'),
                       dict(path='internal', wanted=False, actual=True)]


def test_diff_pools_in_any_order_equal():
    have = actual(Driver='macvlan', EnableIPv6=True,
                  subnets=[('fd00:9::/64', 'fd00:9::1'), ('10.9.0.0/24', '10.9.0.1'), ('10.8.0.0/24', '10.8.0.1')])
    network = desired(driver='macvlan', enable_ipv6=True, ipam=dict(config=[
        dict(subnet='10.8.0.0/24', gateway='10.8.0.1'), dict(subnet='FD00:9:0::/64'), dict(subnet='10.9.0.0/24')]))
    assert spec.diff_views(network, have) == []


def test_diff_omitted_gateway_not_compared_given_gateway_compared():
    have = actual(subnets=[('10.7.0.0/24', '10.7.0.1')])
    assert spec.diff_views(desired(ipam=dict(config=[dict(subnet='10.7.0.0/24')])), have) == []
    assert spec.diff_views(desired(ipam=dict(config=[dict(subnet='10.7.0.0/24', gateway='10.7.0.1')])), have) == []
    changes = spec.diff_views(desired(ipam=dict(config=[dict(subnet='10.7.0.0/24', gateway='10.7.0.254')])), have)
    assert changes == [dict(path='ipam.config[10.7.0.0/24].gateway', wanted='10.7.0.254', actual='10.7.0.1')]


def test_diff_ip_range_and_aux_addresses():
    have = actual(IPAM=dict(Driver='default', Config=[
        dict(Subnet='10.7.0.0/24', Gateway='10.7.0.1', IPRange='10.7.0.128/25', AuxiliaryAddresses=dict(r='10.7.0.2'))]))
    same = desired(ipam=dict(config=[dict(subnet='10.7.0.0/24', ip_range='10.7.0.128/25', aux_addresses=dict(r='10.7.0.2'))]))
    assert spec.diff_views(same, have) == []
    other = desired(ipam=dict(config=[dict(subnet='10.7.0.0/24', ip_range='10.7.0.0/25', aux_addresses=dict(r='10.7.0.3'))]))
    assert spec.diff_views(other, have) == [
        dict(path='ipam.config[10.7.0.0/24].ip_range', wanted='10.7.0.0/25', actual='10.7.0.128/25'),
        dict(path='ipam.config[10.7.0.0/24].aux_addresses', wanted=dict(r='10.7.0.3'), actual=dict(r='10.7.0.2')),
    ]
    # Asking for no ip_range / aux on a network that has them is a difference too.
    bare = desired(ipam=dict(config=[dict(subnet='10.7.0.0/24')]))
    assert paths(spec.diff_views(bare, have)) == ['ipam.config[10.7.0.0/24].ip_range', 'ipam.config[10.7.0.0/24].aux_addresses']


def test_diff_different_subnet_sets_reported_as_ipam_config():
    have = actual(subnets=[('10.7.0.0/24', '10.7.0.1')])
    changes = spec.diff_views(desired(ipam=dict(config=[dict(subnet='10.8.0.0/24')])), have)
    assert changes == [dict(path='ipam.config', wanted=['10.8.0.0/24'], actual=['10.7.0.0/24'])]
    changes = spec.diff_views(desired(enable_ipv6=True, ipam=dict(config=[dict(subnet='10.7.0.0/24'), dict(subnet='fd00::/64')])),
                              actual(EnableIPv6=True, subnets=[('10.7.0.0/24', '10.7.0.1')]))
    assert changes == [dict(path='ipam.config', wanted=['10.7.0.0/24', 'fd00::/64'], actual=['10.7.0.0/24'])]


def test_diff_ipam_driver_and_options():
    have = actual(IPAM=dict(Driver='default', Options={'x': '1'}, Config=[]))
    assert spec.diff_views(desired(ipam=dict(driver='default', options={'x': 1})), have) == []
    assert paths(spec.diff_views(desired(ipam=dict(driver='other', options={'x': 2})), have)) == ['ipam.driver', 'ipam.options.x']


def test_inspected_view_fills_every_field():
    view = spec.inspected_view(dict(Name='x', Driver='bridge', Scope='local'))
    assert view == dict(driver='bridge', scope='local', internal=False, attachable=False, enable_ipv6=False,
                        enable_ipv4=True, ingress=False, config_only=False, config_from=None, driver_options={}, labels={},
                        ipam=dict(driver='default', options={}, config=[]))
    assert actual(ConfigFrom=dict(Network='base'))['config_from'] == 'base'


# -- target_view ------------------------------------------------------------------------------

def test_target_view_for_create_has_defaults():
    view = spec.target_view(desired(labels=dict(a='1'), ipam=dict(config=[dict(subnet='10.3.0.0/24')])))
    assert view['driver'] == 'bridge'
    assert view['labels'] == dict(a='1')
    assert view['ipam']['config'] == [dict(subnet='10.3.0.0/24', gateway=None, ip_range=None, aux_addresses={})]


def test_target_view_recreate_carries_over_what_is_not_named():
    have = actual(Labels=dict(keep='me', team='blue'), Options={MTU: '1450', 'x': 'y'},
                  subnets=[('10.4.0.0/24', '10.4.0.254')])
    view = spec.target_view(desired(labels=dict(team='red'), driver_options=dict(x='z')), have)
    assert view['labels'] == dict(keep='me', team='red')
    assert view['driver_options'] == {MTU: '1450', 'x': 'z'}
    assert view['ipam']['config'] == [dict(subnet='10.4.0.0/24', gateway='10.4.0.254', ip_range=None, aux_addresses={})]
    # The inspected view is not modified.
    assert have['labels'] == dict(keep='me', team='blue')
    assert have['driver_options'] == {MTU: '1450', 'x': 'y'}


def test_target_view_keeps_existing_gateway_for_same_subnet_only():
    have = actual(subnets=[('10.4.0.0/24', '10.4.0.254')])
    same = spec.target_view(desired(internal=True, ipam=dict(config=[dict(subnet='10.4.0.0/24')])), have)
    assert same['ipam']['config'][0]['gateway'] == '10.4.0.254'
    assert same['internal'] is True
    given = spec.target_view(desired(ipam=dict(config=[dict(subnet='10.4.0.0/24', gateway='10.4.0.1')])), have)
    assert given['ipam']['config'][0]['gateway'] == '10.4.0.1'
    other = spec.target_view(desired(ipam=dict(config=[dict(subnet='10.5.0.0/24')])), have)
    assert other['ipam']['config'][0]['gateway'] is None


# -- create_body --------------------------------------------------------------------------------

def test_create_body_ipam_keys():
    network = desired(enable_ipv6=True, driver='macvlan', driver_options=dict(parent='eth1'), labels=dict(a=1), internal=True,
                      ipam=dict(config=[dict(subnet='10.6.0.0/24', gateway='10.6.0.1', ip_range='10.6.0.128/25',
                                             aux_addresses=dict(r='10.6.0.2')),
                                        dict(subnet='fd00:6::/64')]))
    body = spec.create_body('web', spec.target_view(network))
    assert body['Name'] == 'web'
    assert body['Driver'] == 'macvlan'
    assert body['Options'] == dict(parent='eth1')
    assert body['Labels'] == dict(a='1')
    assert body['Internal'] is True
    assert body['EnableIPv6'] is True
    assert body['IPAM'] == dict(Driver='default', Options={}, Config=[
        dict(Subnet='10.6.0.0/24', Gateway='10.6.0.1', IPRange='10.6.0.128/25', AuxiliaryAddresses=dict(r='10.6.0.2')),
        dict(Subnet='fd00:6::/64'),
    ])
    assert 'ConfigOnly' not in body and 'ConfigFrom' not in body


def test_create_body_scope():
    assert spec.create_body('o', spec.target_view(desired(driver='overlay', scope='swarm')))['Scope'] == 'swarm'


def test_create_body_config_only():
    network = desired(config_only=True, driver_options=dict(parent='eth1'), ipam=dict(config=[dict(subnet='10.6.0.0/24')]))
    body = spec.create_body('base', spec.target_view(network))
    assert body['ConfigOnly'] is True
    assert body['Options'] == dict(parent='eth1')
    assert body['IPAM']['Config'] == [dict(Subnet='10.6.0.0/24')]
    # The engine refuses operator fields on a config-only network: "[ ingress | internal | attachable | scope ]
    # are not supported" (libnetwork validateConfiguration), and an explicit Scope, even "local", sets one.
    assert not body.get('Scope')
    assert not body['Internal'] and not body['Attachable']


def test_create_body_config_from():
    body = spec.create_body('web', spec.target_view(desired(config_from='base', driver='macvlan')))
    assert body['ConfigFrom'] == dict(Network='base')
    assert 'Options' not in body
    assert body['IPAM'] == dict(Driver='default', Config=[])
    assert body['Driver'] == 'macvlan'
    assert 'ConfigOnly' not in body


def test_create_body_config_from_recreate_does_not_send_inherited_settings():
    have = actual(Driver='macvlan', EnableIPv6=True, ConfigFrom=dict(Network='base'), Labels=dict(inherited='yes'),
                  subnets=[('10.6.0.0/24', '10.6.0.1'), ('fd00:6::/64', 'fd00:6::1')])
    body = spec.create_body('web', spec.target_view(desired(config_from='base', attachable=True), have))
    assert body['ConfigFrom'] == dict(Network='base')
    assert body['Attachable'] is True
    assert not body['Labels']
    assert body['EnableIPv6'] is False


def test_config_from_with_labels_refused():
    with pytest.raises(spec.SpecError, match='remove labels'):
        desired(config_from='base', labels=dict(a='b'))


@pytest.mark.parametrize('extra', [dict(internal=True), dict(attachable=True), dict(scope='swarm')])
def test_config_only_with_operator_fields_refused(extra):
    with pytest.raises(spec.SpecError):
        desired(config_only=True, **extra)


@pytest.mark.parametrize('value', ['abc', '9', 70000, '', '15.5'])
def test_mtu_driver_option_must_be_an_mtu(value):
    with pytest.raises(spec.SpecError, match=r"driver_options\[com.docker.network.driver.mtu\] is '.*', not an MTU"):
        desired(driver_options={MTU: value})


@pytest.mark.parametrize('value, text', [('1500', '1500'), (1450, '1450'), (' 9000 ', ' 9000 ')])
def test_mtu_driver_option_accepted(value, text):
    assert desired(driver_options={MTU: value}).view['driver_options'] == {MTU: text}


def _family_problem(**request):
    network = desired(**request)
    return spec.subnet_family_problem(network.owner, spec.target_view(network))


def test_bridge_takes_one_subnet_per_family():
    assert 'the bridge driver takes one IPv4 and one IPv6 subnet, not 10.1.0.0/24 and 10.2.0.0/24' in _family_problem(
        ipam=dict(config=[dict(subnet='10.2.0.0/24'), dict(subnet='10.1.0.0/24')]))
    assert 'not fd00:1::/64 and fd00:2::/64' in _family_problem(
        driver='bridge', enable_ipv6=True, ipam=dict(config=[dict(subnet='fd00:1::/64'), dict(subnet='fd00:2::/64')]))
    assert _family_problem(enable_ipv6=True, ipam=dict(config=[dict(subnet='10.1.0.0/24'), dict(subnet='fd00:1::/64')])) is None
    assert _family_problem(driver='macvlan', ipam=dict(config=[dict(subnet='10.1.0.0/24'), dict(subnet='10.2.0.0/24')])) is None


def test_config_only_network_may_hold_several_subnets():
    network = desired(config_only=True, ipam=dict(config=[dict(subnet='10.1.0.0/24'), dict(subnet='10.2.0.0/24')]))
    assert len(network.pools) == 2
