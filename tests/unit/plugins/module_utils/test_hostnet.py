# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hostnet: iproute2 JSON and the FORWARD policy read through a fake ``run``."""

from __future__ import annotations

import json

import pytest

from host_fakes import FakeModule

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError
from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet


def answering(answer):
    calls = []

    def run(args):
        calls.append(list(args))
        return answer(args) if callable(answer) else answer
    run.calls = calls
    return run


def test_ip_json_failures_name_the_command_and_are_host_errors():
    with pytest.raises(hostnet.HostNetError, match=r'cannot list addresses \(ip -j addr show\): RTNETLINK') as error:
        hostnet.ip_json(answering((2, '', 'RTNETLINK answers: denied')), ['addr', 'show'], 'list addresses')
    assert isinstance(error.value, HostError)
    with pytest.raises(hostnet.HostNetError, match='iproute2 4.14 or later'):
        hostnet.ip_json(answering((0, 'not json', '')), ['addr', 'show'], 'list addresses')
    assert hostnet.ip_json(answering((0, '  ', '')), ['addr'], 'x') == []


def test_links_and_one_link():
    data = [dict(ifname='eth0', flags=['UP', 'LOWER_UP'], linkinfo=dict(info_kind='veth')),
            dict(ifname='mv0', flags=['UP'], link='eth0')]
    found = hostnet.links(answering((0, json.dumps(data), '')))
    assert sorted(found) == ['eth0', 'mv0']
    assert hostnet.link_kind(found['eth0']) == 'veth' and hostnet.link_is_up(found['mv0'])
    assert hostnet.link_has_carrier(found['eth0']) and not hostnet.link_has_carrier(found['mv0'])
    assert hostnet.link_parent(found['mv0']) == 'eth0' and hostnet.link_kind(None) is None
    assert hostnet.link(answering((0, json.dumps(data[:1]), '')), 'eth0')['ifname'] == 'eth0'
    assert hostnet.link(answering((1, '', 'Device "x" does not exist.')), 'x') is None
    with pytest.raises(hostnet.HostNetError, match='cannot read link x: denied'):
        hostnet.link(answering((1, '', 'denied')), 'x')


def test_addresses_and_routes_build_their_command():
    data = [dict(ifname='eth0', addr_info=[dict(local='10.0.0.2', prefixlen=24), dict(prefixlen=64)])]
    run = answering((0, json.dumps(data), ''))
    assert hostnet.addresses(run, 'eth0', 4) == [('10.0.0.2', 24, 'eth0')]
    assert run.calls[-1] == ['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0']
    run = answering((0, '[]', ''))
    hostnet.routes(run, 6, dev='eth0', selector=['default'])
    assert run.calls[-1] == ['ip', '-j', '-6', 'route', 'show', 'default', 'dev', 'eth0']


def test_ra_default_routes_only_from_router_advertisements():
    routes = [dict(dev='eth0', gateway='fe80::1', protocol='ra'), dict(dev='eth1', gateway='fe80::2', protocol='static')]
    assert hostnet.ra_default_routes(answering((0, json.dumps(routes), ''))) == [('eth0', 'fe80::1')]
    assert hostnet.ra_default_routes(answering((1, '', 'no ipv6'))) == []


def test_forward_policy():
    assert hostnet.forward_policy(answering((0, '-P FORWARD DROP\n-A FORWARD -j DOCKER-USER\n', ''))) == 'DROP'
    assert hostnet.forward_policy(answering((4, '', 'denied'))) is None
    assert hostnet.forward_policy(answering((0, '-A FORWARD -j X\n', '')), 6) is None

    def missing(args):
        raise OSError('no such file')
    assert hostnet.forward_policy(missing) is None


def test_module_runner_turns_a_missing_command_into_rc_127():
    module = FakeModule({}, commands={'ip': (0, '[]', '')})
    run = hostnet.module_runner(module)
    assert run(['ip', '-j', 'link']) == (0, '[]', '') and module.ran == [['/usr/bin/ip', '-j', 'link']]
    assert run(['nft', 'list']) == (127, '', 'nft: command not found')
