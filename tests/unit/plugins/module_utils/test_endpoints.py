# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._network import endpoints as ep
from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam

OWNER = "network 'web'"
CID = 'abcdef0123456789' * 4


def container(name='app', running=True, network='web', **settings):
    endpoint = dict(IPAMConfig=None, Links=None, Aliases=None, DriverOpts=None, MacAddress='02:42:ac:14:00:05',
                    IPAddress='172.20.0.5', GlobalIPv6Address='')
    endpoint.update(settings)
    return dict(Id=CID, Name='/' + name, State=dict(Running=running, Status='running' if running else 'exited'),
                NetworkSettings=dict(Networks={network: endpoint}))


def pools(*subnets, **first_pool):
    result = ipam.normalize_pools([dict(subnet=subnet) for subnet in subnets], OWNER)
    result[0].update(first_pool)
    return result


# -- normalize_connected -----------------------------------------------------------------

def test_normalize_connected_strings_and_dicts():
    requests = ep.normalize_connected(['db', dict(container='app', ipv4_address='172.20.0.5', ipv6_address='FD00::5',
                                                  aliases=['b', 'a', 'b'], links=['/db', 'cache:c'],
                                                  driver_opts=dict(x=1))], OWNER)
    unset = dict(mac_address=None, gw_priority=None, interface_name=None, sysctls=None)
    assert requests['db'] == dict(unset, container='db', ipv4_address=None, ipv6_address=None, aliases=None,
                                  links=None, driver_opts=None)
    assert requests['app'] == dict(unset, container='app', ipv4_address='172.20.0.5', ipv6_address='fd00::5',
                                   aliases=['a', 'b'], links=['cache:c', 'db:db'], driver_opts=dict(x='1'))


def test_normalize_connected_none_and_empty():
    assert ep.normalize_connected(None, OWNER) == {}
    assert ep.normalize_connected([], OWNER) == {}


def test_normalize_connected_unknown_keys():
    with pytest.raises(ep.EndpointError) as exc:
        ep.normalize_connected([dict(container='app', ip='1.2.3.4', alias=['x'])], OWNER)
    message = str(exc.value)
    assert message.startswith(OWNER)
    assert 'connected entry for app has unknown keys alias, ip' in message
    assert 'ipv4_address' in message


@pytest.mark.parametrize('item', [dict(ipv4_address='10.0.0.1'), dict(container=''), 42, ['app']])
def test_normalize_connected_entry_without_container(item):
    with pytest.raises(ep.EndpointError, match='each connected entry is a container name or a dict with a container key'):
        ep.normalize_connected([item], OWNER)


def test_normalize_connected_duplicates():
    with pytest.raises(ep.EndpointError, match='container app is listed twice in connected'):
        ep.normalize_connected(['app', dict(container='app', aliases=['x'])], OWNER)


@pytest.mark.parametrize('key, value', [('ipv4_address', '10.0.0.300'), ('ipv4_address', '10.0.0.1/24'),
                                        ('ipv6_address', 'fd00::zz')])
def test_normalize_connected_bad_ip(key, value):
    with pytest.raises(ep.EndpointError) as exc:
        ep.normalize_connected([{'container': 'app', key: value}], OWNER)
    assert "network 'web', container app: %s '%s' is not a valid IP address" % (key, value) in str(exc.value)


def test_normalize_connected_wrong_family():
    with pytest.raises(ep.EndpointError, match=r'container app: ipv4_address fd00::5 is not an IPv4 address'):
        ep.normalize_connected([dict(container='app', ipv4_address='fd00::5')], OWNER)
    with pytest.raises(ep.EndpointError, match=r'container app: ipv6_address 10.0.0.5 is not an IPv6 address'):
        ep.normalize_connected([dict(container='app', ipv6_address='10.0.0.5')], OWNER)


def test_normalize_connected_empty_link():
    with pytest.raises(ep.EndpointError, match='empty link'):
        ep.normalize_connected([dict(container='app', links=[' '])], OWNER)


# -- snapshot -----------------------------------------------------------------------------

def test_snapshot_filters_automatic_aliases():
    data = container(Aliases=[CID[:12], 'app', 'web-app', 'api'],
                     IPAMConfig=dict(IPv4Address='172.20.0.5', IPv6Address='FD00:0::5', LinkLocalIPs=['169.254.1.1']),
                     Links=['db:db'], DriverOpts=dict(k='v'), GlobalIPv6Address='fd00::5')
    snap = ep.snapshot(data, 'web')
    assert snap == dict(container='app', id=CID, running=True, ipv4_address='172.20.0.5', ipv6_address='fd00::5',
                        link_local_ips=['169.254.1.1'], aliases=['api', 'web-app'], links=['db:db'],
                        driver_opts=dict(k='v'), mac_address='02:42:ac:14:00:05', address='172.20.0.5',
                        ipv6='fd00::5', gw_priority=0, interface_name=None, sysctls=None)


def test_snapshot_stopped_container_keeps_its_settings():
    data = container(running=False, IPAMConfig=dict(IPv4Address='172.20.0.9'), Aliases=['db'], IPAddress='',
                     MacAddress='')
    snap = ep.snapshot(data, 'web')
    assert snap['running'] is False
    assert snap['ipv4_address'] == '172.20.0.9'
    assert snap['aliases'] == ['db']
    assert snap['mac_address'] is None and snap['address'] is None


def test_snapshot_dynamic_address_is_not_static():
    snap = ep.snapshot(container(IPAMConfig={}), 'web')
    assert snap['ipv4_address'] is None and snap['ipv6_address'] is None
    assert snap['aliases'] == [] and snap['links'] == [] and snap['driver_opts'] == {}


def test_snapshot_other_network_is_none():
    assert ep.snapshot(container(network='other'), 'web') is None
    assert ep.snapshot(dict(Id=CID, Name='/x', NetworkSettings=None), 'web') is None


# -- endpoint_changes / request_as_endpoint ---------------------------------------------------

def test_endpoint_changes_only_requested_fields():
    current = ep.snapshot(container(Aliases=[CID[:12], 'api'], IPAMConfig=dict(IPv4Address='172.20.0.5')), 'web')
    request = ep.normalize_connected([dict(container='app')], OWNER)['app']
    assert ep.endpoint_changes(request, current) == []
    same = ep.normalize_connected([dict(container='app', ipv4_address='172.20.0.5', aliases=['api'], driver_opts={})], OWNER)['app']
    assert ep.endpoint_changes(same, current) == []
    other = ep.normalize_connected([dict(container='app', ipv4_address='172.20.0.6', aliases=['api', 'x'], links=['db'])], OWNER)['app']
    assert ep.endpoint_changes(other, current) == [
        dict(path='connected[app].ipv4_address', wanted='172.20.0.6', actual='172.20.0.5'),
        dict(path='connected[app].aliases', wanted=['api', 'x'], actual=['api']),
        dict(path='connected[app].links', wanted=['db:db'], actual=[]),
    ]


def test_request_as_endpoint_lays_request_over_current():
    current = ep.snapshot(container(Aliases=['api'], IPAMConfig=dict(IPv4Address='172.20.0.5')), 'web')
    request = ep.normalize_connected([dict(container='app', aliases=['new'])], OWNER)['app']
    endpoint = ep.request_as_endpoint(request, current)
    assert endpoint['aliases'] == ['new']
    assert endpoint['ipv4_address'] == '172.20.0.5'
    assert endpoint['id'] == CID
    assert current['aliases'] == ['api']  # not modified
    fresh = ep.request_as_endpoint(request)
    assert fresh == dict(container='app', aliases=['new'])


# -- connect_kwargs ---------------------------------------------------------------------------

def test_connect_kwargs_full():
    endpoint = dict(container='app', ipv4_address='172.20.0.5', ipv6_address='fd00::5', aliases=['api'],
                    links=['db:database', 'cache:cache'], link_local_ips=['169.254.1.1'], driver_opts=dict(k='v'),
                    mac_address='02:42:ac:14:00:05')
    kwargs = ep.connect_kwargs(endpoint)
    assert kwargs == dict(ipv4_address='172.20.0.5', ipv6_address='fd00::5', aliases=['api'],
                          links=dict(db='database', cache='cache'), link_local_ips=['169.254.1.1'], driver_opt=dict(k='v'))
    assert ep.connect_kwargs(endpoint, with_mac=True)['mac_address'] == '02:42:ac:14:00:05'


def test_connect_kwargs_empty_values_become_none():
    kwargs = ep.connect_kwargs(dict(container='app', aliases=[], links=[], driver_opts={}, mac_address=None), with_mac=True)
    assert kwargs == dict(ipv4_address=None, ipv6_address=None, aliases=None, links=None, link_local_ips=None, driver_opt=None)


# -- restore_problems -------------------------------------------------------------------------

def test_restore_problems_none_when_address_fits():
    endpoint = dict(container='app', ipv4_address='10.1.0.5', ipv6_address='fd00::5')
    assert ep.restore_problems(endpoint, pools('10.1.0.0/24', 'fd00::/64'), OWNER) == []
    assert ep.restore_problems(dict(container='app'), [], OWNER) == []


def test_restore_problems_static_ip_outside_new_subnet():
    problems = ep.restore_problems(dict(container='app', ipv4_address='10.1.0.5'), pools('10.2.0.0/24'), OWNER)
    assert len(problems) == 1
    assert problems[0].startswith(OWNER)
    assert 'container app' in problems[0]
    assert '10.1.0.5' in problems[0]
    assert 'outside the new subnets 10.2.0.0/24' in problems[0]


def test_restore_problems_ipv6_outside():
    problems = ep.restore_problems(dict(container='app', ipv6_address='fd01::5'), pools('10.1.0.0/24', 'fd00::/64'), OWNER)
    assert len(problems) == 1 and 'ipv6_address fd01::5' in problems[0]


def test_restore_problems_no_subnet_configured():
    problems = ep.restore_problems(dict(container='app', ipv4_address='10.1.0.5'), [], OWNER)
    assert len(problems) == 1
    assert 'container app has static ipv4_address 10.1.0.5 but the new network has no configured subnet' in problems[0]


def test_restore_problems_reserved_addresses():
    target = pools('10.1.0.0/24', gateway='10.1.0.1', aux_addresses=dict(r='10.1.0.2'))
    for address in ('10.1.0.1', '10.1.0.2'):
        problems = ep.restore_problems(dict(container='app', ipv4_address=address), target, OWNER)
        assert len(problems) == 1
        assert 'container app has static ipv4_address %s, which the new network reserves' % address in problems[0]
    assert ep.restore_problems(dict(container='app', ipv4_address='10.1.0.3'), target, OWNER) == []
