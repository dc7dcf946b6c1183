# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam

OWNER = "network 'web'"


# -- parse / normalize ------------------------------------------------------------------

@pytest.mark.parametrize('text, canonical', [
    ('10.10.0.0/24', '10.10.0.0/24'),
    (' 10.10.0.0/24 ', '10.10.0.0/24'),
    ('2001:DB8:0::/64', '2001:db8::/64'),
    ('2001:0db8:0000:0000::/64', '2001:db8::/64'),
    ('FD00:10::/48', 'fd00:10::/48'),
])
def test_normalize_pool_canonicalizes_subnet(text, canonical):
    assert ipam.normalize_pool(dict(subnet=text), OWNER)['subnet'] == canonical


def test_two_ipv6_spellings_normalize_equal():
    first = ipam.normalize_pools([dict(subnet='2001:DB8:0::/64', gateway='2001:DB8::1',
                                       aux_addresses=dict(r='2001:db8:0:0::FE'))], OWNER)
    second = ipam.normalize_pools([dict(subnet='2001:db8::/64', gateway='2001:db8::1',
                                        aux_addresses=dict(r='2001:db8::fe'))], OWNER)
    assert first == second
    assert first[0]['gateway'] == '2001:db8::1'
    assert first[0]['aux_addresses'] == dict(r='2001:db8::fe')


def test_normalize_pool_full_shape():
    pool = ipam.normalize_pool(dict(subnet='10.1.0.0/16', gateway='10.1.0.1', ip_range='10.1.8.0/24',
                                    aux_addresses=dict(router='10.1.0.2')), OWNER)
    assert pool == dict(subnet='10.1.0.0/16', gateway='10.1.0.1', ip_range='10.1.8.0/24',
                        aux_addresses=dict(router='10.1.0.2'))


def test_normalize_pool_defaults_are_none_and_empty():
    assert ipam.normalize_pool(dict(subnet='10.1.0.0/16'), OWNER) == dict(
        subnet='10.1.0.0/16', gateway=None, ip_range=None, aux_addresses={})


@pytest.mark.parametrize('text, hint', [
    ('10.10.0.5/24', 'did you mean 10.10.0.0/24?'),
    ('2001:db8::1/64', 'did you mean 2001:db8::/64?'),
])
def test_host_bits_refused_with_hint(text, hint):
    with pytest.raises(ipam.IpamError) as exc:
        ipam.parse_network(text, OWNER)
    message = str(exc.value)
    assert 'host bits' in message
    assert hint in message
    assert message.startswith(OWNER)


def test_missing_prefix_refused():
    with pytest.raises(ipam.IpamError, match=r"subnet '10\.10\.0\.0' has no prefix length"):
        ipam.parse_network('10.10.0.0', OWNER)


@pytest.mark.parametrize('text', ['abc', '10.0.0.0/33', '300.1.2.0/24', '10/8', '', 'fd00::/129'])
def test_invalid_cidr_refused(text):
    with pytest.raises(ipam.IpamError, match='not a valid CIDR|no prefix length'):
        ipam.parse_network(text, OWNER, field='ip_range')


def test_invalid_cidr_names_field_and_owner():
    with pytest.raises(ipam.IpamError) as exc:
        ipam.parse_network('nonsense', OWNER, field='ip_range')
    assert str(exc.value).startswith("network 'web': ip_range 'nonsense' is not a valid CIDR")


def test_missing_subnet_refused():
    with pytest.raises(ipam.IpamError, match='needs a subnet'):
        ipam.normalize_pool(dict(gateway='10.0.0.1'), OWNER)


@pytest.mark.parametrize('text', ['10.0.0.1/24', 'bogus', '10.0.0'])
def test_parse_address_refuses_prefix_and_garbage(text):
    with pytest.raises(ipam.IpamError, match='not a valid IP address'):
        ipam.parse_address(text, OWNER, 'gateway')


def test_parse_address_accepts_both_families():
    assert ipam.parse_address(' 10.0.0.1 ', OWNER, 'gateway').version == 4
    assert str(ipam.parse_address('FD00::1', OWNER, 'gateway')) == 'fd00::1'


# -- pool validation ---------------------------------------------------------------------

@pytest.mark.parametrize('pool, pattern', [
    (dict(subnet='10.0.0.0/24', gateway='10.0.1.1'), r'gateway 10\.0\.1\.1 is outside the subnet'),
    (dict(subnet='10.0.0.0/24', gateway='fd00::1'), r'gateway fd00::1 is outside the subnet'),
    (dict(subnet='fd00::/64', gateway='fd01::1'), r'gateway fd01::1 is outside the subnet'),
    (dict(subnet='10.0.0.0/24', ip_range='10.0.1.0/28'), r'ip_range 10\.0\.1\.0/28 is outside the subnet'),
    (dict(subnet='10.0.0.0/24', ip_range='10.0.0.0/23'), r'ip_range 10\.0\.0\.0/23 is outside the subnet'),
    (dict(subnet='10.0.0.0/24', ip_range='fd00::/120'), r'ip_range fd00::/120 is outside the subnet'),
    (dict(subnet='10.0.0.0/24', aux_addresses=dict(r='10.0.9.9')), r"aux address 'r' 10\.0\.9\.9 is outside the subnet"),
])
def test_addresses_outside_subnet_refused(pool, pattern):
    with pytest.raises(ipam.IpamError, match=pattern) as exc:
        ipam.normalize_pool(pool, OWNER)
    assert str(exc.value).startswith("network 'web' subnet ")


@pytest.mark.parametrize('subnet, gateway, which', [
    ('10.0.0.0/24', '10.0.0.0', 'network'),
    ('10.0.0.0/24', '10.0.0.255', 'broadcast'),
    ('10.0.0.0/30', '10.0.0.0', 'network'),
    ('10.0.0.0/30', '10.0.0.3', 'broadcast'),
])
def test_gateway_on_network_or_broadcast_address_refused(subnet, gateway, which):
    with pytest.raises(ipam.IpamError) as exc:
        ipam.normalize_pool(dict(subnet=subnet, gateway=gateway), OWNER)
    assert 'is the %s address' % which in str(exc.value)
    assert 'such as 10.0.0.1' in str(exc.value)


def test_gateway_on_point_to_point_subnet_allowed():
    # /31 has no network/broadcast address (RFC 3021).
    assert ipam.normalize_pool(dict(subnet='10.0.0.0/31', gateway='10.0.0.0'), OWNER)['gateway'] == '10.0.0.0'


def test_aux_address_equal_to_gateway_refused():
    with pytest.raises(ipam.IpamError, match=r"aux address 'gw' \(10\.0\.0\.1\) is the gateway"):
        ipam.normalize_pool(dict(subnet='10.0.0.0/24', gateway='10.0.0.1', aux_addresses=dict(gw='10.0.0.1')), OWNER)


def test_aux_address_equal_to_gateway_in_other_spelling_refused():
    with pytest.raises(ipam.IpamError, match='is the gateway'):
        ipam.normalize_pool(dict(subnet='fd00::/64', gateway='fd00::1', aux_addresses=dict(gw='FD00:0::1')), OWNER)


@pytest.mark.parametrize('pools', [
    [dict(subnet='10.0.0.0/16'), dict(subnet='10.0.5.0/24')],
    [dict(subnet='10.0.5.0/24'), dict(subnet='10.0.0.0/16')],
    [dict(subnet='10.0.0.0/24'), dict(subnet='10.0.0.0/24')],
    [dict(subnet='fd00::/48'), dict(subnet='FD00:0:0:1::/64')],
])
def test_overlapping_pools_in_one_network_refused(pools):
    with pytest.raises(ipam.IpamError, match='overlap; a network needs disjoint subnets'):
        ipam.normalize_pools(pools, OWNER)


def test_ipv4_and_ipv6_pools_do_not_overlap():
    pools = ipam.normalize_pools([dict(subnet='fd00::/64'), dict(subnet='10.0.0.0/24')], OWNER)
    assert [pool['subnet'] for pool in pools] == ['10.0.0.0/24', 'fd00::/64']


def test_pool_order_does_not_matter():
    pools = [dict(subnet='fd00:2::/64'), dict(subnet='10.2.0.0/24', gateway='10.2.0.1'),
             dict(subnet='10.1.0.0/24'), dict(subnet='fd00:1::/64'), dict(subnet='9.0.0.0/8')]
    forward = ipam.normalize_pools(pools, OWNER)
    backward = ipam.normalize_pools(list(reversed(pools)), OWNER)
    assert forward == backward
    # IPv4 before IPv6, numerically (not lexically: 9.0.0.0 before 10.x).
    assert [pool['subnet'] for pool in forward] == ['9.0.0.0/8', '10.1.0.0/24', '10.2.0.0/24', 'fd00:1::/64', 'fd00:2::/64']


def test_normalize_pools_empty():
    assert ipam.normalize_pools(None, OWNER) == []
    assert ipam.normalize_pools([], OWNER) == []


# -- overlaps -----------------------------------------------------------------------------

def test_networks_overlap():
    assert ipam.networks_overlap('10.0.0.0/8', '10.200.0.0/16')
    assert ipam.networks_overlap('10.200.0.0/16', '10.0.0.0/8')
    assert not ipam.networks_overlap('10.0.0.0/24', '10.0.1.0/24')
    assert not ipam.networks_overlap('0.0.0.0/0', '::/0')


def test_find_overlaps_within_candidates():
    found = ipam.find_overlaps([('a', '10.0.0.0/16'), ('b', '10.1.0.0/16'), ('c', '10.0.128.0/24')], [])
    assert len(found) == 1
    assert set([found[0][0], found[0][2]]) == set(['a', 'c'])
    assert set([found[0][1], found[0][3]]) == set(['10.0.0.0/16', '10.0.128.0/24'])


def test_find_overlaps_candidate_vs_existing_reports_candidate_first():
    # The existing network sorts before the candidate; the pair must still name the candidate first.
    found = ipam.find_overlaps([('new', '10.0.5.0/24')], [('old', '10.0.0.0/16')])
    assert found == [('new', '10.0.5.0/24', 'old', '10.0.0.0/16')]
    found = ipam.find_overlaps([('new', '10.0.0.0/16')], [('old', '10.0.5.0/24')])
    assert found == [('new', '10.0.0.0/16', 'old', '10.0.5.0/24')]


def test_find_overlaps_ignores_existing_vs_existing():
    assert ipam.find_overlaps([('new', '192.168.0.0/24')], [('x', '10.0.0.0/16'), ('y', '10.0.0.0/24')]) == []


def test_find_overlaps_ipv4_and_ipv6_never_overlap():
    # ::/0 covers every IPv6 integer, including the ones numerically equal to IPv4 addresses.
    assert ipam.find_overlaps([('a', '0.0.0.0/0')], [('b', '::/0'), ('c', '::ffff:0:0/96')]) == []
    assert ipam.find_overlaps([('a', '::/0')], [('b', '10.0.0.0/8')]) == []


def test_find_overlaps_ipv6():
    assert ipam.find_overlaps([('a', 'fd00::/48')], [('b', 'FD00:0:0:7::/64')]) == [('a', 'fd00::/48', 'b', 'fd00:0:0:7::/64')]


def test_find_overlaps_same_owner_ignored():
    assert ipam.find_overlaps([('a', '10.0.0.0/16')], [('a', '10.0.0.0/16')]) == []
    assert ipam.find_overlaps([('a', '10.0.0.0/16'), ('a', '10.0.1.0/24')], []) == []


def test_find_overlaps_sharing_one_address():
    # The candidate starts on the very last address of the existing subnet.
    assert ipam.find_overlaps([('host', '10.0.0.255/32')], [('net', '10.0.0.0/24')]) == [
        ('host', '10.0.0.255/32', 'net', '10.0.0.0/24')]


def test_find_overlaps_adjacent_is_not_overlap():
    assert ipam.find_overlaps([('a', '10.0.0.0/24'), ('b', '10.0.1.0/24')], [('c', '10.0.2.0/24')]) == []


def test_find_overlaps_long_interval_seen_past_short_ones():
    # 'big' must still be active when 'late' starts, even though short intervals ended in between.
    candidates = [('big', '10.0.0.0/8')] + [('n%d' % i, '172.16.%d.0/24' % i) for i in range(5)]
    existing = [('short', '10.0.0.0/24'), ('late', '10.255.255.0/24')]
    found = ipam.find_overlaps(candidates, existing)
    assert sorted(found) == [('big', '10.0.0.0/8', 'late', '10.255.255.0/24'),
                             ('big', '10.0.0.0/8', 'short', '10.0.0.0/24')]


def test_find_overlaps_many_intervals_matches_pairwise():
    candidates = [('c%d' % i, '10.%d.%d.0/24' % (i // 256, i % 256)) for i in range(0, 600, 3)]
    candidates += [('wide%d' % i, '10.%d.0.0/16' % i) for i in (0, 1)]
    existing = [('e%d' % i, '10.%d.%d.0/23' % (i // 128, (i % 128) * 2)) for i in range(0, 300, 7)]
    existing += [('v6-%d' % i, 'fd00:%x::/32' % i) for i in range(20)]
    found = ipam.find_overlaps(candidates, existing)

    expected = set()
    for index, (owner, subnet) in enumerate(candidates):
        for other, other_subnet in candidates[index + 1:] + existing:
            if owner != other and ipam.networks_overlap(subnet, other_subnet):
                expected.add(frozenset([(owner, subnet), (other, other_subnet)]))
    got = set(frozenset([(a, s), (b, t)]) for a, s, b, t in found)
    assert len(found) == len(got)  # no pair reported twice
    assert got == expected
    assert len(expected) > 100
    # Each reported pair names a candidate first.
    candidate_owners = set(owner for owner, _subnet in candidates)
    assert all(pair[0] in candidate_owners for pair in found)


# -- addresses and inspected pools --------------------------------------------------------

def test_address_in_pools():
    pools = ipam.normalize_pools([dict(subnet='10.0.0.0/24'), dict(subnet='fd00::/64')], OWNER)
    assert ipam.address_in_pools('10.0.0.7', pools)['subnet'] == '10.0.0.0/24'
    assert ipam.address_in_pools('10.0.0.7/24', pools)['subnet'] == '10.0.0.0/24'
    assert ipam.address_in_pools('FD00::7', pools)['subnet'] == 'fd00::/64'
    assert ipam.address_in_pools('10.0.1.7', pools) is None
    assert ipam.address_in_pools('fd01::7', pools) is None
    assert ipam.address_in_pools('10.0.0.7', []) is None


def test_inspected_pool_canonical_and_empty_fields():
    pool = ipam.inspected_pool(dict(Subnet='2001:DB8:0::/64', Gateway='2001:db8::1/64', IPRange='',
                                    AuxiliaryAddresses=dict(r='2001:DB8::FE')))
    assert pool == dict(subnet='2001:db8::/64', gateway='2001:db8::1', ip_range=None, aux_addresses=dict(r='2001:db8::fe'))


def test_inspected_pool_without_gateway_or_aux():
    assert ipam.inspected_pool(dict(Subnet='172.18.0.0/16')) == dict(
        subnet='172.18.0.0/16', gateway=None, ip_range=None, aux_addresses={})
    assert ipam.inspected_pool(dict(Subnet='172.18.0.0/16', Gateway='', AuxiliaryAddresses=None))['gateway'] is None


def test_inspected_pool_matches_normalized_request():
    requested = ipam.normalize_pool(dict(subnet='10.5.0.0/16', gateway='10.5.0.1', ip_range='10.5.1.0/24',
                                         aux_addresses=dict(a='10.5.0.2')), OWNER)
    inspected = ipam.inspected_pool(dict(Subnet='10.5.0.0/16', Gateway='10.5.0.1', IPRange='10.5.1.0/24',
                                         AuxiliaryAddresses=dict(a='10.5.0.2')))
    assert requested == inspected


def test_canonical_helpers_leave_garbage_alone():
    assert ipam.canonical_network('garbage') == 'garbage'
    assert ipam.canonical_address('garbage') == 'garbage'
    assert ipam.canonical_network(None) is None
    assert ipam.canonical_address('') == ''
    assert ipam.canonical_network('FD00::1') == 'fd00::1'
