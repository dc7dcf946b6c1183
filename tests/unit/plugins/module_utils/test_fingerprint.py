# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host fingerprint: what moves it (what the roles manage) and what does not (what is volatile)."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._common import fingerprint


def network(**overrides):
    value = dict(
        Name='frontend', Id='a' * 64, Created='2025-01-01T00:00:00.000000000Z', Scope='local', Driver='bridge',
        EnableIPv4=True, EnableIPv6=False, Internal=False, Attachable=False, Ingress=False,
        ConfigFrom=dict(Network=''), ConfigOnly=False,
        IPAM=dict(Driver='default', Options=None, Config=[dict(Subnet='172.20.0.0/16', Gateway='172.20.0.1')]),
        Options={'com.docker.network.driver.mtu': '1450'}, Labels={'netfleet.managed': 'true'},
        Containers={'c' * 64: dict(Name='web', EndpointID='e' * 64, IPv4Address='172.20.0.2/16')})
    value.update(overrides)
    return value


def node(**overrides):
    value = dict(
        ID='node1', Version=dict(Index=10), CreatedAt='2025-01-01T00:00:00Z', UpdatedAt='2025-01-01T00:00:00Z',
        Spec=dict(Role='manager', Availability='active', Labels={'zone': 'a'}),
        Description=dict(Hostname='host1', Engine=dict(EngineVersion='28.5.0')),
        Status=dict(State='ready', Addr='192.0.2.10'),
        ManagerStatus=dict(Leader=True, Reachability='reachable', Addr='192.0.2.10:2377'))
    value.update(overrides)
    return value


def info(**swarm_overrides):
    swarm = dict(
        NodeID='node1', NodeAddr='192.0.2.10', LocalNodeState='active', ControlAvailable=True, Error='',
        RemoteManagers=[dict(NodeID='node1', Addr='192.0.2.10:2377')], Nodes=3, Managers=1,
        Cluster=dict(ID='cluster1', Version=dict(Index=40), CreatedAt='2025-01-01T00:00:00Z',
                     UpdatedAt='2025-01-02T00:00:00Z', Spec=dict(Name='default', Orchestration={},
                                                                 Raft=dict(SnapshotInterval=10000)),
                     TLSInfo=dict(TrustRoot='---'), RootRotationInProgress=False, DataPathPort=4789,
                     DefaultAddrPool=['10.0.0.0/8'], SubnetSize=24))
    swarm.update(swarm_overrides)
    return dict(ID='ENGINE', ServerVersion='28.5.0', Containers=5, ContainersRunning=3, SystemTime='now',
                NGoroutines=40, Swarm=swarm)


ROUTES = [
    dict(dst='default', gateway='192.0.2.1', dev='eth0', protocol='dhcp', metric=100),
    dict(dst='192.0.2.0/24', dev='eth0', protocol='kernel', scope='link', prefsrc='192.0.2.10'),
    dict(dst='172.17.0.0/16', dev='docker0', protocol='kernel', scope='link', prefsrc='172.17.0.1'),
    dict(dst='172.20.0.0/16', dev='br-0123456789ab', protocol='kernel', scope='link', flags=['linkdown']),
    dict(dst='10.9.0.0/16', type='unreachable'),
]
ADDRESSES = [
    dict(ifname='eth0', mtu=1500, addr_info=[dict(family='inet', local='192.0.2.10', prefixlen=24, dynamic=True,
                                                  valid_life_time=86000, preferred_life_time=86000)]),
    dict(ifname='lo', addr_info=[dict(family='inet', local='127.0.0.1', prefixlen=8)]),
    dict(ifname='docker0', addr_info=[dict(family='inet', local='172.17.0.1', prefixlen=16)]),
]


def net_digest(value):
    return fingerprint.digest(fingerprint.network_state(value))


def nodes_digest(nodes):
    return fingerprint.digest(fingerprint.nodes_state(nodes))


def engine_digest(value):
    return fingerprint.digest(fingerprint.engine_state(value))


def routes_digest(routes, addresses):
    return fingerprint.digest(fingerprint.routes_state(routes, addresses))


# -- digest --------------------------------------------------------------------------------------

def test_digest_ignores_key_order():
    assert fingerprint.digest(dict(a=1, b=dict(c=2, d=3))) == fingerprint.digest(dict(b=dict(d=3, c=2), a=1))
    assert fingerprint.digest([1, 2]) != fingerprint.digest([2, 1])


# -- networks ------------------------------------------------------------------------------------

@pytest.mark.parametrize('volatile', [
    dict(Containers={}),
    dict(Containers={'d' * 64: dict(Name='other', IPv4Address='172.20.0.3/16')}),
    dict(Created='2025-06-01T00:00:00.000000000Z'),
    dict(Peers=[dict(Name='host2', IP='192.0.2.11')]),
    dict(Services={'web': {}}),
])
def test_network_endpoints_and_timestamps_do_not_move_it(volatile):
    assert net_digest(network(**volatile)) == net_digest(network())


@pytest.mark.parametrize('managed', [
    dict(IPAM=dict(Driver='default', Options=None, Config=[dict(Subnet='172.21.0.0/16', Gateway='172.21.0.1')])),
    dict(Options={'com.docker.network.driver.mtu': '1500'}),
    dict(Labels={'netfleet.managed': 'true', 'owner': 'x'}),
    dict(Internal=True),
    dict(Attachable=True),
    dict(EnableIPv6=True),
    dict(Driver='macvlan'),
    dict(Id='b' * 64),
])
def test_network_managed_fields_move_it(managed):
    assert net_digest(network(**managed)) != net_digest(network())


def test_network_absent_is_none_and_labels_null_equal_empty():
    assert fingerprint.network_state(None) is None
    assert net_digest(network(Labels=None)) == net_digest(network(Labels={}))


# -- swarm nodes ---------------------------------------------------------------------------------

@pytest.mark.parametrize('volatile', [
    dict(UpdatedAt='2025-06-01T00:00:00Z'),
    dict(Version=dict(Index=99)),
    dict(ManagerStatus=dict(Leader=False, Reachability='reachable', Addr='192.0.2.10:2377')),
    dict(Description=dict(Hostname='host1', Engine=dict(EngineVersion='29.0.0'))),
])
def test_node_volatile_fields_do_not_move_it(volatile):
    assert nodes_digest([node(**volatile)]) == nodes_digest([node()])


@pytest.mark.parametrize('managed', [
    dict(Spec=dict(Role='manager', Availability='drain', Labels={'zone': 'a'})),
    dict(Spec=dict(Role='worker', Availability='active', Labels={'zone': 'a'})),
    dict(Spec=dict(Role='manager', Availability='active', Labels={'zone': 'b'})),
    dict(Status=dict(State='down', Addr='192.0.2.10')),
    dict(ManagerStatus=dict(Leader=True, Reachability='unreachable', Addr='192.0.2.10:2377')),
])
def test_node_managed_fields_move_it(managed):
    assert nodes_digest([node(**managed)]) != nodes_digest([node()])


def test_nodes_order_does_not_matter_but_a_new_node_does():
    other = node(ID='node2', Spec=dict(Role='worker', Availability='active'), ManagerStatus=None)
    assert nodes_digest([node(), other]) == nodes_digest([other, node()])
    assert nodes_digest([node(), other]) != nodes_digest([node()])
    assert fingerprint.nodes_state(None) == []


# -- engine and swarm ----------------------------------------------------------------------------

def test_engine_counters_and_cluster_versions_do_not_move_it():
    moved = info(Nodes=4, Managers=2)
    moved.update(Containers=9, ContainersRunning=0, SystemTime='later', NGoroutines=80)
    moved['Swarm']['Cluster'].update(Version=dict(Index=41), UpdatedAt='2025-07-01T00:00:00Z',
                                     TLSInfo=dict(TrustRoot='other'))
    assert engine_digest(moved) == engine_digest(info())


def test_remote_managers_order_does_not_move_it():
    two = [dict(NodeID='node1', Addr='192.0.2.10:2377'), dict(NodeID='node2', Addr='192.0.2.11:2377')]
    assert engine_digest(info(RemoteManagers=two)) == engine_digest(info(RemoteManagers=list(reversed(two))))


@pytest.mark.parametrize('change', [
    lambda value: value['Swarm']['Cluster']['Spec']['Raft'].update(SnapshotInterval=5000),
    lambda value: value['Swarm']['Cluster'].update(DefaultAddrPool=['10.10.0.0/16']),
    lambda value: value['Swarm']['Cluster'].update(DataPathPort=7789),
    lambda value: value['Swarm'].update(LocalNodeState='inactive', Cluster=None),
    lambda value: value['Swarm'].update(ControlAvailable=False),
    lambda value: value['Swarm'].update(NodeAddr='192.0.2.99'),
    lambda value: value['Swarm'].update(RemoteManagers=[dict(NodeID='node9', Addr='192.0.2.9:2377')]),
    lambda value: value.update(ServerVersion='29.0.0'),
    lambda value: value.update(ID='OTHER'),
])
def test_engine_identity_and_swarm_settings_move_it(change):
    moved = info()
    change(moved)
    assert engine_digest(moved) != engine_digest(info())


def test_engine_state_without_swarm():
    state = fingerprint.engine_state(dict(ID='E', ServerVersion='20.10.24'))
    assert state['swarm'] == dict(state=None, node_id=None, node_addr=None, manager=False, cluster=None,
                                  remote_managers=[])


# -- routes and addresses ------------------------------------------------------------------------

def test_docker_devices_and_address_lifetimes_do_not_move_routes():
    routes = ROUTES + [dict(dst='10.0.1.0/24', dev='vethabc123'), dict(dst='172.18.0.0/16', dev='docker_gwbridge'),
                       dict(dst='172.21.0.0/16', dev='br-fedcba987654', flags=[])]
    addresses = copy.deepcopy(ADDRESSES) + [dict(ifname='br-fedcba987654', addr_info=[dict(local='172.21.0.1')]),
                                            dict(ifname='veth1234', addr_info=[])]
    addresses[0]['addr_info'][0].update(valid_life_time=100, preferred_life_time=50)
    assert routes_digest(routes, addresses) == routes_digest(ROUTES, ADDRESSES)


def test_route_order_and_address_order_do_not_move_routes():
    assert routes_digest(list(reversed(ROUTES)), list(reversed(ADDRESSES))) == routes_digest(ROUTES, ADDRESSES)


def test_route_expiry_is_volatile():
    expiring = copy.deepcopy(ROUTES)
    expiring[0]['expires'] = 300
    assert routes_digest(expiring, ADDRESSES) == routes_digest(ROUTES, ADDRESSES)


@pytest.mark.parametrize('routes, addresses', [
    (ROUTES + [dict(dst='10.50.0.0/16', gateway='192.0.2.254', dev='eth0')], ADDRESSES),
    (ROUTES[1:], ADDRESSES),
    ([dict(route, metric=200) if route.get('dst') == 'default' else route for route in ROUTES], ADDRESSES),
    (ROUTES, ADDRESSES + [dict(ifname='eth1', addr_info=[dict(family='inet', local='198.51.100.2', prefixlen=24)])]),
    (ROUTES, [dict(ADDRESSES[0], mtu=1400)] + ADDRESSES[1:]),
])
def test_host_routes_and_addresses_move_routes(routes, addresses):
    assert routes_digest(routes, addresses) != routes_digest(ROUTES, ADDRESSES)


def test_routes_state_tolerates_missing_keys():
    state = fingerprint.routes_state([dict(dst='blackhole 10.0.0.0/8')], [dict(addr_info=[])])
    assert state == dict(routes=[dict(dst='blackhole 10.0.0.0/8')],
                         addresses=[dict(ifname=None, mtu=None, addresses=[])])
    assert fingerprint.routes_state(None, None) == dict(routes=[], addresses=[])


# -- directories ---------------------------------------------------------------------------------

def test_directory_state_sees_new_changed_and_removed_files(tmp_path):
    (tmp_path / '90-netfleet.conf').write_text('net.ipv4.ip_forward = 1\n')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'nested.conf').write_text('ignored\n')
    first = fingerprint.directory_state(str(tmp_path))
    assert list(first) == ['90-netfleet.conf']
    (tmp_path / 'sub' / 'nested.conf').write_text('still ignored\n')
    assert fingerprint.directory_state(str(tmp_path)) == first
    (tmp_path / '99-other.conf').write_text('net.ipv4.ip_forward = 0\n')
    second = fingerprint.directory_state(str(tmp_path))
    assert sorted(second) == ['90-netfleet.conf', '99-other.conf'] and second['90-netfleet.conf'] == first['90-netfleet.conf']
    (tmp_path / '90-netfleet.conf').write_text('net.ipv4.ip_forward = 0\n')
    third = fingerprint.directory_state(str(tmp_path))
    assert third['90-netfleet.conf'] != second['90-netfleet.conf']
    (tmp_path / '99-other.conf').unlink()
    assert sorted(fingerprint.directory_state(str(tmp_path))) == ['90-netfleet.conf']


def test_directory_state_of_a_missing_directory_is_empty(tmp_path):
    assert fingerprint.directory_state(str(tmp_path / 'absent')) == {}


def test_directory_state_skips_dangling_symlinks(tmp_path):
    (tmp_path / 'README.sysctl').symlink_to(tmp_path / 'nowhere')
    assert fingerprint.directory_state(str(tmp_path)) == {}


# -- the record ----------------------------------------------------------------------------------

def test_record_round_trips_through_parse_record():
    value = fingerprint.record('f' * 64, {'engine': 'e' * 64}, 'd' * 64, '2025-01-01T00:00:00Z')
    assert fingerprint.parse_record(json.dumps(value)) == value
    assert value['format'] == fingerprint.RECORD_FORMAT


@pytest.mark.parametrize('text', [None, '', 'not json {', '[1, 2]', '"text"', json.dumps(dict(fingerprint='x')),
                                  json.dumps(dict(format=fingerprint.RECORD_FORMAT + 1, fingerprint='x')),
                                  json.dumps(dict(format=str(fingerprint.RECORD_FORMAT), fingerprint='x'))])
def test_parse_record_refuses_missing_garbage_and_other_formats(text):
    assert fingerprint.parse_record(text) is None


# -- moved parts ---------------------------------------------------------------------------------

def test_moved_parts_without_a_record_is_every_part():
    assert fingerprint.moved_parts({'b': '2', 'a': '1'}, None) == ['a', 'b']
    assert fingerprint.moved_parts({'b': '2', 'a': '1'}, {}) == ['a', 'b']


def test_moved_parts_names_changed_new_and_gone_parts():
    recorded = dict(parts={'engine': 'e', 'network a': 'n', 'file x': 'f', 'sysctl k': 's'})
    current = {'engine': 'e', 'network a': 'N', 'file x': 'f', 'routes': 'r'}
    assert fingerprint.moved_parts(current, recorded) == ['network a', 'routes', 'sysctl k']
    assert fingerprint.moved_parts(dict(recorded['parts']), recorded) == []


def test_host_fingerprint_moves_with_any_part_and_digests_each():
    parts = {'engine': fingerprint.engine_state(info()), 'sysctl net.ipv4.ip_forward': '1\n'}
    whole, digests = fingerprint.host_fingerprint(parts)
    assert sorted(digests) == ['engine', 'sysctl net.ipv4.ip_forward']
    assert digests['sysctl net.ipv4.ip_forward'] == fingerprint.digest('1\n')
    moved, moved_digests = fingerprint.host_fingerprint(dict(parts, **{'sysctl net.ipv4.ip_forward': '0\n'}))
    assert moved != whole and moved_digests['engine'] == digests['engine']
