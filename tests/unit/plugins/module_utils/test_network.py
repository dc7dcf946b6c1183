# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning against an in-memory engine: what NetworkManager.plan() decides, never touching Docker."""

from __future__ import annotations

import pytest
from engine_fakes import FakeAPI, RecordingAPI, _id, container, network

from ansible_collections.netfleet.docker.plugins.module_utils._network import network as net
from ansible_collections.netfleet.docker.plugins.module_utils._common.client import Engine
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import DesiredNetwork, merged_requests


def manager(networks=(), containers=(), **api_options):
    api = FakeAPI(networks, containers, **api_options)
    return net.NetworkManager(Engine(api, 'unix:///fake/docker.sock')), api


def want(name, **options):
    return DesiredNetwork(merged_requests(dict(name=name, **options), None))


def batch(*items, **top):
    params = dict(top, networks=list(items))
    return [DesiredNetwork(merged_requests(params, item)) for item in items]


def ops(plan):
    return [(step.op, step.endpoint['container']) if step.endpoint is not None else (step.op,) for step in plan.steps]


def plan_error(mgr, desired):
    with pytest.raises(net.PlanError) as exc:
        mgr.plan(desired)
    return exc.value.problems


# -- create / unchanged ---------------------------------------------------------------------------

def test_create_new_network():
    mgr, api = manager([network('other', [('10.99.0.0/24', '10.99.0.1')])])
    [plan] = mgr.plan([want('web', ipam=dict(config=[dict(subnet='10.1.0.0/24')]), labels=dict(team='blue'))])
    assert plan.action == net.CREATED
    assert ops(plan) == [('create',)]
    assert plan.target['ipam']['config'][0]['subnet'] == '10.1.0.0/24'
    assert plan.target['labels'] == dict(team='blue')
    assert plan.before() == {}
    assert plan.after() is plan.target
    assert plan.network_id is None
    assert 'containers' not in api.calls  # no endpoints asked for: no container listing needed


def test_create_with_connected_containers():
    mgr, _api = manager(containers=[container('app'), container('db', running=False)])
    [plan] = mgr.plan([want('web', ipam=dict(config=[dict(subnet='10.1.0.0/24')]),
                            connected=[dict(container='db', ipv4_address='10.1.0.10'), 'app'])])
    assert ops(plan) == [('create',), ('connect', 'app'), ('connect', 'db')]
    db_step = plan.steps[2]
    assert db_step.endpoint['id'] == _id('c-db')
    assert db_step.endpoint['ipv4_address'] == '10.1.0.10'


def test_create_connected_address_outside_subnet_fails():
    mgr, _api = manager(containers=[container('app')])
    problems = plan_error(mgr, [want('web', ipam=dict(config=[dict(subnet='10.1.0.0/24')]),
                                     connected=[dict(container='app', ipv4_address='10.2.0.10')])])
    assert len(problems) == 1
    assert 'container app' in problems[0] and '10.2.0.10' in problems[0]


IDEMPOTENT_NETWORK = network(
    'web', driver='macvlan', EnableIPv6=True,
    Options={'parent': 'eth1', 'com.docker.network.driver.mtu': '1450', 'macvlan_mode': 'bridge', 'flag': '1'},
    Labels={'team': 'blue', 'com.example.extra': 'engine-added'},
    IPAM=dict(Driver='default', Options={}, Config=[
        dict(Subnet='fd00:1::/64', Gateway='fd00:1::1'),
        dict(Subnet='10.1.0.0/24', Gateway='10.1.0.1', IPRange='10.1.0.128/25', AuxiliaryAddresses=dict(r='10.1.0.2')),
        dict(Subnet='10.2.0.0/24', Gateway='10.2.0.1'),
    ]))


def test_unchanged_when_engine_matches_request():
    app = container('app', networks=dict(web=dict(ip='10.1.0.200', aliases=['api'])))
    mgr, _api = manager([IDEMPOTENT_NETWORK], [app])
    request = want('web', driver='macvlan', enable_ipv6=True, mtu=1450, labels=dict(team='blue'),
                   driver_options=dict(parent='eth1', flag=True),
                   ipam=dict(config=[dict(subnet='10.2.0.0/24'),
                                     dict(subnet='FD00:1:0::/64'),
                                     dict(subnet='10.1.0.0/24', gateway='10.1.0.1', ip_range='10.1.0.128/25',
                                          aux_addresses=dict(r='10.1.0.2'))]),
                   connected=[dict(container='app', ipv4_address='10.1.0.200', aliases=['api'])])
    [plan] = mgr.plan([request])
    assert list(plan.changes) == []
    assert plan.action == net.UNCHANGED
    assert list(plan.steps) == []
    assert plan.after() == plan.before()
    assert plan.network_id == _id('web')


def test_unchanged_is_noticed_for_each_difference():
    # The same request with one value changed is not unchanged: the fixture above is not vacuous.
    mgr, _api = manager([IDEMPOTENT_NETWORK])
    [plan] = mgr.plan([want('web', driver='macvlan', enable_ipv6=True, driver_options=dict(flag=False))])
    assert plan.action == net.RECREATED
    assert [c['path'] for c in plan.changes] == ['driver_options.flag']


def test_unchanged_absent_network_that_does_not_exist():
    mgr, _api = manager([network('other')])
    [plan] = mgr.plan([want('web', state='absent')])
    assert plan.action == net.UNCHANGED and list(plan.steps) == []


# -- recreate -----------------------------------------------------------------------------------------

def test_recreate_on_label_change_restores_running_and_stopped_endpoints():
    web = network('web', [('172.20.0.0/16', '172.20.0.254')], Labels=dict(team='blue', keep='yes'))
    app = container('app', networks=dict(web=dict(ip='172.20.0.10', aliases=['api']), other=dict()))
    db = container('db', running=False, networks=dict(web=dict(aliases=['database'], links=['app:backend'])))
    loner = container('loner', networks=dict(other=dict()))
    mgr, _api = manager([web, network('other', [('10.9.0.0/24', '10.9.0.1')])], [app, db, loner])
    [plan] = mgr.plan([want('web', labels=dict(team='red'))])
    assert plan.action == net.RECREATED
    assert list(plan.changes) == [dict(path='labels.team', wanted='red', actual='blue')]
    assert ops(plan) == [('disconnect', 'app'), ('disconnect', 'db'), ('remove',), ('create',),
                         ('connect', 'app'), ('connect', 'db')]
    assert all(step.force is False for step in plan.steps if step.op == 'disconnect')
    restored = dict((step.endpoint['container'], step.endpoint) for step in plan.steps if step.op == 'connect')
    assert restored['app']['ipv4_address'] == '172.20.0.10'
    assert restored['app']['aliases'] == ['api']
    assert restored['app']['id'] == _id('c-app')
    assert restored['db']['running'] is False
    assert restored['db']['aliases'] == ['database']
    assert restored['db']['links'] == ['app:backend']
    # A label change never renumbers the network and keeps labels it does not name.
    assert plan.target['labels'] == dict(team='red', keep='yes')
    assert plan.target['ipam']['config'] == [
        dict(subnet='172.20.0.0/16', gateway='172.20.0.254', ip_range=None, aux_addresses={})]


def test_recreate_with_connected_exclusive_drops_unlisted_endpoints():
    web = network('web', Labels=dict(team='blue'))
    mgr, _api = manager([web], [container('app', networks=dict(web={})), container('db', networks=dict(web={}))])
    [plan] = mgr.plan([want('web', labels=dict(team='red'), connected=['app'], connected_exclusive=True)])
    assert ops(plan) == [('disconnect', 'app'), ('disconnect', 'db'), ('remove',), ('create',), ('connect', 'app')]


def test_recreate_fails_when_static_ip_leaves_the_subnet():
    web = network('web', [('172.20.0.0/16', '172.20.0.1')])
    mgr, _api = manager([web], [container('app', running=False, networks=dict(web=dict(ip='172.20.0.10')))])
    problems = plan_error(mgr, [want('web', ipam=dict(config=[dict(subnet='10.30.0.0/24')]))])
    assert len(problems) == 1
    assert 'container app' in problems[0] and '172.20.0.10' in problems[0] and '10.30.0.0/24' in problems[0]


def test_recreate_never_fails_naming_the_difference():
    mgr, _api = manager([network('web', Labels=dict(team='blue'))])
    problems = plan_error(mgr, [want('web', labels=dict(team='red'), recreate='never')])
    assert len(problems) == 1
    assert "network 'web' differs in labels.team (wanted 'red', have 'blue') and recreate is never" in problems[0]


def test_recreate_never_is_fine_when_nothing_differs():
    mgr, _api = manager([network('web', Labels=dict(team='blue'))])
    [plan] = mgr.plan([want('web', labels=dict(team='blue'), recreate='never')])
    assert plan.action == net.UNCHANGED


# -- endpoints on an unchanged network -------------------------------------------------------------------

def test_endpoint_added_and_changed_without_recreate():
    web = network('web')
    mgr, _api = manager([web], [container('app', networks=dict(web=dict(aliases=['old']))), container('new'),
                                container('stray', networks=dict(web={}))])
    [plan] = mgr.plan([want('web', connected=[dict(container='app', aliases=['fresh']), 'new'], connected_exclusive=True)])
    assert plan.action == net.ENDPOINTS_CHANGED
    assert ops(plan) == [('disconnect', 'app'), ('connect', 'app'), ('connect', 'new'), ('disconnect', 'stray')]
    assert [c['path'] for c in plan.changes] == ['connected[app].aliases', 'connected[new]', 'connected[stray]']


# -- absent ------------------------------------------------------------------------------------------------

def test_absent_with_endpoints_without_force_lists_containers():
    web = network('web')
    mgr, _api = manager([web], [container('app', networks=dict(web={})),
                                container('db', running=False, networks=dict(web={}))])
    problems = plan_error(mgr, [want('web', state='absent')])
    assert len(problems) == 1
    assert "network 'web' has endpoints: app (running), db (stopped)" in problems[0]
    assert 'force: true' in problems[0]


def test_absent_with_force_disconnects_then_removes():
    web = network('web')
    mgr, _api = manager([web], [container('app', networks=dict(web={})),
                                container('db', running=False, networks=dict(web={}))])
    [plan] = mgr.plan([want('web', state='absent', force=True)])
    assert plan.action == net.REMOVED
    assert ops(plan) == [('disconnect', 'app'), ('disconnect', 'db'), ('remove',)]
    assert all(step.force is True for step in plan.steps if step.op == 'disconnect')
    assert plan.after() == {}
    assert plan.network_id == _id('web')


def test_absent_without_endpoints():
    mgr, _api = manager([network('web')], [container('app', networks=dict(other={}))])
    [plan] = mgr.plan([want('web', state='absent')])
    assert ops(plan) == [('remove',)]


# -- problems ----------------------------------------------------------------------------------------------

def test_connected_container_missing_fails():
    mgr, _api = manager([network('web')], [container('app')])
    problems = plan_error(mgr, [want('web', connected=['app', 'ghost'])])
    assert problems == ["network 'web': connected container 'ghost' does not exist; create it first or drop it from connected"]


def test_connected_container_id_prefix_is_not_a_name():
    # The engine resolves 'c' as an ID prefix; the planner must not accept that as container 'c'.
    mgr, _api = manager([network('web')], [container('app')])
    problems = plan_error(mgr, [want('web', connected=[_id('c-app')[:4]])])
    assert 'does not exist' in problems[0]


def test_duplicate_names_in_batch():
    mgr, api = manager([network('web')])
    problems = plan_error(mgr, batch(dict(name='web'), dict(name='db'), dict(name='web', state='absent')))
    assert problems == ["network 'web' is listed twice in this task; list it once"]
    assert api.calls == []  # refused before reading the engine


def test_overlap_with_existing_network_names_it():
    mgr, _api = manager([network('legacy', [('10.1.0.0/16', '10.1.0.1')])])
    problems = plan_error(mgr, [want('web', ipam=dict(config=[dict(subnet='10.1.5.0/24')]))])
    assert problems == ["network 'web': subnet 10.1.5.0/24 overlaps subnet 10.1.0.0/16 of network 'legacy' "
                        "(already on the engine); pick a disjoint subnet"]


def test_overlap_within_batch():
    mgr, _api = manager([])
    problems = plan_error(mgr, batch(dict(name='a', ipam=dict(config=[dict(subnet='10.1.0.0/16')])),
                                     dict(name='b', ipam=dict(config=[dict(subnet='10.1.7.0/24')]))))
    assert len(problems) == 1
    assert 'overlaps' in problems[0] and "'a'" in problems[0] and "'b'" in problems[0]
    assert '(in this task)' in problems[0]


def test_overlap_with_network_removed_in_same_batch_is_fine():
    mgr, _api = manager([network('old', [('10.1.0.0/16', '10.1.0.1')])])
    plans = mgr.plan(batch(dict(name='new', ipam=dict(config=[dict(subnet='10.1.0.0/24')])),
                           dict(name='old', state='absent')))
    assert [(plan.name, plan.action) for plan in mgr.ordered(plans)] == [('old', net.REMOVED), ('new', net.CREATED)]


def test_overlap_with_network_renumbered_in_same_batch_is_fine():
    mgr, _api = manager([network('old', [('10.1.0.0/16', '10.1.0.1')])])
    plans = mgr.plan(batch(dict(name='new', ipam=dict(config=[dict(subnet='10.1.0.0/24')])),
                           dict(name='old', ipam=dict(config=[dict(subnet='10.2.0.0/16')]))))
    assert sorted((plan.name, plan.action) for plan in plans) == [('new', net.CREATED), ('old', net.RECREATED)]


def test_overlap_checks_local_and_global_spaces_apart():
    mgr, _api = manager([network('ov', [('10.1.0.0/16', '10.1.0.1')], driver='overlay', Scope='swarm')])
    [plan] = mgr.plan([want('web', ipam=dict(config=[dict(subnet='10.1.0.0/24')]))])
    assert plan.action == net.CREATED


def test_unchanged_network_does_not_overlap_itself():
    mgr, _api = manager([network('web', [('10.1.0.0/16', '10.1.0.1')])])
    [plan] = mgr.plan([want('web', ipam=dict(config=[dict(subnet='10.1.0.0/16')]))])
    assert plan.action == net.UNCHANGED


def test_recreated_network_does_not_overlap_its_old_self():
    mgr, _api = manager([network('web', [('10.1.0.0/16', '10.1.0.1')], Labels=dict(a='1'))])
    [plan] = mgr.plan([want('web', labels=dict(a='2'), ipam=dict(config=[dict(subnet='10.1.0.0/16')]))])
    assert plan.action == net.RECREATED


def test_unknown_driver():
    mgr, _api = manager([])
    problems = plan_error(mgr, [want('web', driver='nosuch')])
    assert len(problems) == 1
    assert "network 'web': driver 'nosuch' is not available on the engine at unix:///fake/docker.sock" in problems[0]
    assert 'macvlan' in problems[0]


def test_plugin_and_builtin_drivers_are_known():
    mgr, _api = manager([], plugins=[dict(Name='vendor/net:1.0', Enabled=True), dict(Name='off', Enabled=False)])
    plans = mgr.plan(batch(dict(name='a', driver='weave'), dict(name='b', driver='vendor/net'),
                           dict(name='c', driver='vendor/net:1.0'), dict(name='d', driver='ipvlan')))
    assert [plan.action for plan in plans] == [net.CREATED] * 4
    assert plan_error(manager([], plugins=[dict(Name='off', Enabled=False)])[0], [want('e', driver='off')])


def test_config_from_target_missing():
    mgr, _api = manager([])
    problems = plan_error(mgr, [want('web', config_from='base')])
    assert problems == ["network 'web': config_from names 'base', which does not exist; create it first with config_only: true"]


def test_config_from_target_not_config_only():
    mgr, _api = manager([network('base')])
    problems = plan_error(mgr, [want('web', config_from='base')])
    assert "which is not a config-only network" in problems[0]


def test_config_from_existing_config_only_network():
    mgr, _api = manager([network('base', driver='null', ConfigOnly=True)])
    [plan] = mgr.plan([want('web', config_from='base', driver='macvlan')])
    assert plan.action == net.CREATED


def test_config_from_target_in_batch():
    mgr, _api = manager([])
    plans = mgr.plan(batch(dict(name='web', config_from='base', driver='macvlan'),
                           dict(name='base', config_only=True, ipam=dict(config=[dict(subnet='10.1.0.0/24')]))))
    assert [plan.name for plan in mgr.ordered(plans)] == ['base', 'web']
    # The config-only network's pool holds no addresses: it does not overlap the network that uses it.


def test_config_from_target_in_batch_but_absent():
    mgr, _api = manager([])
    problems = plan_error(mgr, batch(dict(name='web', config_from='base'), dict(name='base', config_only=True, state='absent')))
    assert "config_from names 'base', which this task removes" in problems[0]


def test_ordering_removals_first_config_only_before_config_from():
    existing = [network('gone', [('10.5.0.0/24', '10.5.0.1')]), network('relabel', [('10.6.0.0/24', '10.6.0.1')]),
                network('same', [('10.7.0.0/24', '10.7.0.1')])]
    mgr, _api = manager(existing)
    plans = mgr.plan(batch(dict(name='user', config_from='base', driver='macvlan'),
                           dict(name='same'),
                           dict(name='plain', ipam=dict(config=[dict(subnet='10.5.0.0/24')])),
                           dict(name='relabel', labels=dict(x='y')),
                           dict(name='base', config_only=True),
                           dict(name='gone', state='absent')))
    ordered = [(plan.name, plan.action) for plan in mgr.ordered(plans)]
    assert ordered[0] == ('gone', net.REMOVED)
    names = [name for name, _action in ordered]
    assert names.index('base') < names.index('relabel') < names.index('plain')
    assert names.index('base') < names.index('user')
    assert names.index('gone') < names.index('plain')  # the freed subnet is reused
    assert ordered[-1] == ('same', net.UNCHANGED)


def test_ordering_recreate_into_config_from_after_new_config_only():
    mgr, _api = manager([network('web', Labels={})])
    plans = mgr.plan(batch(dict(name='web', config_from='base', driver='bridge'), dict(name='base', config_only=True)))
    assert [(plan.name, plan.action) for plan in plans] == [('web', net.RECREATED), ('base', net.CREATED)]
    assert [plan.name for plan in mgr.ordered(plans)] == ['base', 'web']


# -- exact names ---------------------------------------------------------------------------------------------

def test_prefix_of_a_name_is_not_matched():
    mgr, _api = manager([network('web-frontend', [('10.1.0.0/24', '10.1.0.1')])])
    [plan] = mgr.plan([want('web', ipam=dict(config=[dict(subnet='10.2.0.0/24')]))])
    assert plan.existing is None and plan.action == net.CREATED


def test_id_prefix_is_not_matched_full_id_is():
    web = network('web')
    mgr, _api = manager([web])
    assert mgr.find(web['Id'][:12]) is None
    assert mgr.find(web['Id'][:-1]) is None
    assert mgr.find(web['Id'])['Name'] == 'web'
    assert mgr.find('web')['Id'] == web['Id']
    assert mgr.find('we') is None


def test_full_id_plans_against_that_network():
    web = network('web')
    mgr, _api = manager([web, network('web2', [('10.9.0.0/24', '10.9.0.1')])], [container('app', networks=dict(web2={}))])
    [plan] = mgr.plan([want(web['Id'], state='absent')])
    assert plan.action == net.REMOVED
    assert plan.network_id == web['Id']
    # Endpoints are looked up under the network's name, not the ID it was asked by.
    problems = plan_error(manager([web], [container('app', networks=dict(web={}))])[0], [want(web['Id'], state='absent')])
    assert 'has endpoints: app (running)' in problems[0]


def test_recreate_by_full_id_keeps_the_name():
    web = network('web', [('10.1.0.0/24', '10.1.0.1')], Labels=dict(a='1'))
    mgr, _api = manager([web])
    [plan] = mgr.plan([want(web['Id'], labels=dict(a='2'))])
    assert plan.action == net.RECREATED
    assert plan.name == 'web'


def test_name_wins_over_an_id_that_equals_it():
    # A network may be *named* like another's ID; the exact name is looked up first.
    other = network('other')
    tricky = network(other['Id'], [('10.3.0.0/24', '10.3.0.1')])
    mgr, _api = manager([other, tricky])
    assert mgr.find(other['Id'])['Name'] == other['Id']
    assert mgr.find(other['Id'])['IPAM']['Config'][0]['Subnet'] == '10.3.0.0/24'


def test_two_networks_with_the_same_name():
    first, second = network('web'), network('web', Id=_id('web-2'))
    mgr, _api = manager([first, second])
    problems = plan_error(mgr, [want('web')])
    assert "the engine has 2 networks with this name" in problems[0]


# -- engine version gates -----------------------------------------------------------------------------------

def test_option_needing_newer_api_fails_with_versions():
    mgr, _api = manager([], api_version='1.24', engine_version='1.12.6')
    problems = plan_error(mgr, [want('web', attachable=True, driver='overlay')])
    assert len(problems) == 1
    assert "option 'attachable' of network 'web' needs Docker API 1.25 or later" in problems[0]
    assert 'API 1.24' in problems[0] and '1.12.6' in problems[0]


def test_config_from_target_removed_in_same_batch_fails_planning():
    mgr, _api = manager([network('base', driver='null', ConfigOnly=True, IPAM=dict(Driver='default', Config=[]))])
    problems = plan_error(mgr, batch(dict(name='web', config_from='base', driver='macvlan'),
                                     dict(name='base', state='absent')))
    assert "config_from names 'base'" in problems[0]


def test_ordering_removes_config_from_user_before_its_config_only_network():
    base = network('base', driver='null', ConfigOnly=True, IPAM=dict(Driver='default', Config=[]))
    web = network('web', driver='macvlan', ConfigFrom=dict(Network='base'))
    mgr, _api = manager([base, web])
    plans = mgr.plan(batch(dict(name='base', state='absent'), dict(name='web', state='absent')))
    assert [plan.name for plan in mgr.ordered(plans)] == ['web', 'base']


# -- apply against the same fake, with the write calls recorded --------------------------------------------

def applying(networks, containers, desired, **api_options):
    api = RecordingAPI(networks, containers, **api_options)
    mgr = net.NetworkManager(Engine(api, 'unix:///fake/docker.sock'))
    [plan] = mgr.plan([desired])
    return mgr, api, plan


def test_apply_unchanged_writes_nothing():
    mgr, api, plan = applying([network('web')], [], want('web'))
    assert mgr.apply(plan) == _id('web')
    assert api.writes == []


def test_apply_recreate_runs_steps_in_order_with_endpoint_settings():
    web = network('web', [('172.20.0.0/16', '172.20.0.254')], Labels=dict(team='blue'))
    app = container('app', networks=dict(web=dict(ip='172.20.0.10', aliases=['api'])))
    db = container('db', running=False, networks=dict(web=dict(links=['app:backend'])))
    mgr, api, plan = applying([web], [app, db], want('web', labels=dict(team='red')), api_version='1.44', engine_version='25.0.3')
    new_id = mgr.apply(plan)
    assert [write[0] for write in api.writes] == ['disconnect', 'disconnect', 'remove', 'post', 'connect', 'connect']
    assert api.writes[0] == ('disconnect', _id('c-app'), _id('web'), False)
    assert api.writes[2] == ('remove', _id('web'))
    body = api.writes[3][2]
    assert body['Name'] == 'web'
    assert body['Labels'] == dict(team='red')
    assert body['IPAM']['Config'] == [dict(Subnet='172.20.0.0/16', Gateway='172.20.0.254')]
    _op, container_id, network_id, kwargs = api.writes[4]
    assert (container_id, network_id) == (_id('c-app'), new_id)
    assert kwargs['ipv4_address'] == '172.20.0.10' and kwargs['aliases'] == ['api']
    assert kwargs['mac_address'] == '02:42:ac:14:00:05'  # API 1.44+ restores the MAC too
    assert api.writes[5][3]['links'] == dict(app='backend')


def test_apply_does_not_send_mac_before_api_1_44():
    web = network('web', Labels=dict(team='blue'))
    mgr, api, plan = applying([web], [container('app', networks=dict(web={}))], want('web', labels=dict(team='red')))
    mgr.apply(plan)
    assert 'mac_address' not in api.writes[-1][3]


def test_apply_failed_recreate_puts_the_old_network_back():
    web = network('web', [('172.20.0.0/16', '172.20.0.1')], Labels=dict(team='blue'))
    app = container('app', networks=dict(web=dict(ip='172.20.0.10')))
    mgr, api, plan = applying([web], [app], want('web', labels=dict(team='red')), fail_create=1)
    with pytest.raises(net.EngineError) as exc:
        mgr.apply(plan)
    message = str(exc.value)
    assert "refused to create network 'web'" in message
    assert 'pick a subnet that no other network' in message
    assert 'the old network and all its endpoints were put back' in message
    posts = [write for write in api.writes if write[0] == 'post']
    assert len(posts) == 2
    assert posts[1][2]['Labels'] == dict(team='blue')  # the old settings, not the new ones
    reconnect = api.writes[-1]
    assert reconnect[0] == 'connect' and reconnect[1] == _id('c-app') and reconnect[3]['ipv4_address'] == '172.20.0.10'


def test_apply_reports_endpoints_that_could_not_be_connected():
    mgr, api, plan = applying([], [container('app'), container('db')],
                              want('web', connected=['app', 'db']), fail_connect=[_id('c-app')])
    with pytest.raises(net.EngineError) as exc:
        mgr.apply(plan)
    assert "network 'web' was created but these endpoints could not be connected: container app: no address left" in str(exc.value)
    assert [write[1] for write in api.writes if write[0] == 'connect'] == [_id('c-app'), _id('c-db')]


def test_apply_remove_with_force():
    mgr, api, plan = applying([network('web')], [container('app', networks=dict(web={}))], want('web', state='absent', force=True))
    mgr.apply(plan)
    assert api.writes == [('disconnect', _id('c-app'), _id('web'), True), ('remove', _id('web'))]


def test_config_only_network_with_driver_is_idempotent():
    base = network('base', [('10.6.0.0/24', '10.6.0.1')], driver='null', ConfigOnly=True, Options=dict(parent='eth1'))
    mgr, _api = manager([base])
    [plan] = mgr.plan(batch(dict(name='base', config_only=True, driver_options=dict(parent='eth1'),
                                 ipam=dict(config=[dict(subnet='10.6.0.0/24', gateway='10.6.0.1')])),
                            driver='macvlan'))
    assert list(plan.changes) == []
    assert plan.action == net.UNCHANGED


def test_rollback_reconnects_endpoints_with_their_mac_address():
    """Regression: rollback after a failed recreate reconnected without the MAC (API 1.44+ keeps it)."""
    web = network('web', [('172.20.0.0/16', '172.20.0.1')], Labels=dict(team='blue'))
    app = container('app', networks=dict(web=dict(ip='172.20.0.10')))
    mgr, api, plan = applying([web], [app], want('web', labels=dict(team='red')), fail_create=1,
                              api_version='1.44', engine_version='25.0.3')
    with pytest.raises(net.ApplyError) as exc:
        mgr.apply(plan)
    assert 'the old network and all its endpoints were put back' in str(exc.value)
    reconnect = api.writes[-1]
    assert reconnect[0] == 'connect' and reconnect[3]['mac_address'] == '02:42:ac:14:00:05'


def test_apply_error_says_what_was_done_and_that_the_host_changed():
    web = network('web', [('172.20.0.0/16', '172.20.0.1')], Labels=dict(team='blue'))
    app = container('app', networks=dict(web=dict(ip='172.20.0.10')))
    mgr, _api, plan = applying([web], [app], want('web', labels=dict(team='red')), fail_create=2)
    with pytest.raises(net.ApplyError) as exc:
        mgr.apply(plan)
    assert exc.value.details['changed'] is True
    assert exc.value.details['step_details'] == dict(done=['disconnect app', 'remove'])
    assert exc.value.applied.removed


def test_apply_error_before_any_write_does_not_claim_a_change():
    mgr, _api, plan = applying([], [], want('web'), fail_create=1)
    with pytest.raises(net.ApplyError) as exc:
        mgr.apply(plan)
    assert 'changed' not in exc.value.details


def test_plans_are_immutable():
    mgr, _api = manager([network('web', Labels=dict(team='blue'))])
    [plan] = mgr.plan([want('web', labels=dict(team='red'))])
    with pytest.raises(AttributeError):
        plan.action = net.UNCHANGED
    with pytest.raises(AttributeError):
        plan.steps[0].op = 'create'
    assert plan.summary() == ['remove', 'create']


# -- issue 16 item 7: forced removals name the containers left on no network ------------------------

def test_forced_removal_names_containers_that_lose_their_last_network():
    app = container('app', networks=dict(web={}))
    db = container('db', running=False, networks=dict(web={}, other={}))
    mgr, _api = manager([network('web'), network('other', [('10.3.0.0/24', '10.3.0.1')])], [app, db])
    [plan] = mgr.plan([want('web', state='absent', force=True)])
    assert plan.stranded == ('app',)
    plans = mgr.plan(batch(dict(name='web', state='absent'), dict(name='other', state='absent'), force=True))
    assert [p.stranded for p in plans] == [('app', 'db'), ('db',)]


def test_removal_without_endpoints_strands_nobody():
    mgr, _api = manager([network('web')])
    [plan] = mgr.plan([want('web', state='absent', force=True)])
    assert plan.stranded == ()


# -- issue 16 item 9: one macvlan network per parent, named before the engine refuses ---------------

def macvlan_network(name, subnet, parent='eth1', **overrides):
    return network(name, [(subnet, None)], driver='macvlan', Options=dict(parent=parent), **overrides)


def test_second_macvlan_on_a_parent_names_the_network_holding_it():
    mgr, _api = manager([macvlan_network('lan', '192.168.50.0/24')])
    problems = plan_error(mgr, [want('lan2', driver='macvlan', driver_options=dict(parent='eth1'),
                                     ipam=dict(config=[dict(subnet='192.168.60.0/24')]))])
    assert problems == ["network 'lan2': parent eth1 already carries macvlan network 'lan', and Docker takes one "
                        "macvlan network per parent; use another parent (a second NIC, or an 802.1q sub-interface "
                        "such as eth1.10), or remove 'lan' first"]


def test_macvlan_parent_freed_in_the_same_batch_or_taken_twice_in_it():
    mgr, _api = manager([macvlan_network('lan', '192.168.50.0/24')])
    mgr.plan(batch(dict(name='lan', state='absent'),
                   dict(name='lan2', driver='macvlan', driver_options=dict(parent='eth1'),
                        ipam=dict(config=[dict(subnet='192.168.60.0/24')]))))
    mgr, _api = manager()
    problems = plan_error(mgr, batch(
        dict(name='a', ipam=dict(config=[dict(subnet='192.168.61.0/24')])),
        dict(name='b', ipam=dict(config=[dict(subnet='192.168.62.0/24')])),
        driver='macvlan', driver_options=dict(parent='eth2')))
    assert len(problems) == 1 and problems[0].startswith("network 'b': parent eth2 already carries macvlan network 'a'")


def test_config_only_and_config_from_networks_hold_no_parent():
    base = network('base', [('10.6.0.0/24', '10.6.0.1')], driver='null', ConfigOnly=True, Options=dict(parent='eth1'))
    swarm_lan = network('swarm_lan', [], driver='macvlan', ConfigFrom=dict(Network='base'), Scope='swarm')
    mgr, _api = manager([base, swarm_lan])
    [plan] = mgr.plan([want('lan2', driver='macvlan', driver_options=dict(parent='eth1'),
                            ipam=dict(config=[dict(subnet='192.168.60.0/24')]))])
    assert plan.action == net.CREATED


def test_recreating_a_macvlan_network_keeps_its_own_parent():
    mgr, _api = manager([macvlan_network('lan', '192.168.50.0/24', Labels=dict(a='1'))])
    [plan] = mgr.plan([want('lan', driver='macvlan', driver_options=dict(parent='eth1'), labels=dict(a='2'))])
    assert plan.action == net.RECREATED
