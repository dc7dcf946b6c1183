# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_net's 2025-2026 options end to end against an in-memory engine of a given version.

enable_ipv4, gateway modes, trusted host interfaces, the swarm ingress network and the endpoint
settings gw_priority, mac_address, interface_name, sysctls: each created, compared idempotently
(also across the 28.2 inspect change), shown in diff, kept by a recreate, and refused with the
version it needs on an older engine.
"""

from __future__ import annotations

import pytest
from engine_fakes import FakeAPI, FakeModule, ModuleExit, StatefulAPI, container, network

from ansible_collections.netfleet.docker.plugins.module_utils._common.client import Engine
from ansible_collections.netfleet.docker.plugins.modules import docker_net

ENDPOINT = 'unix:///fake/docker.sock'
V20 = dict(api_version='1.41', engine_version='20.10.24')
V26 = dict(api_version='1.45', engine_version='26.1.5')
V27 = dict(api_version='1.46', engine_version='27.0.3')
V28 = dict(api_version='1.48', engine_version='28.0.4')
V285 = dict(api_version='1.51', engine_version='28.5.2')
GW4 = 'com.docker.network.bridge.gateway_mode_ipv4'
GW6 = 'com.docker.network.bridge.gateway_mode_ipv6'
TRUSTED = 'com.docker.network.bridge.trusted_host_interfaces'
IFNAME = 'com.docker.network.endpoint.ifname'
SYSCTLS = 'com.docker.network.endpoint.sysctls'


def run(api, check_mode=False, diff=False, **params):
    module = FakeModule(docker_net.argument_spec(), params, check_mode=check_mode, diff=diff)
    driver = docker_net.DockerNetDriver(module)
    driver.connect = lambda: Engine(api, ENDPOINT)
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    return exc.value


def pools(*subnets):
    return dict(config=[dict(subnet=subnet) for subnet in subnets])


def posts(api):
    return [write[2] for write in api.writes if write[0] == 'post']


def second_run_unchanged(api, **params):
    """The same task again: nothing to do, against the state the first run left."""
    out = run(FakeAPI(api._networks, api._containers, api_version=api.api_version,
                      engine_version=api._engine_version), **params)
    assert not out.failed, out.result
    assert out.result['changed'] is False, out.result['networks']
    return out


# -- enable_ipv4: IPv6-only networks ------------------------------------------------------------

def test_ipv6_only_network_on_28():
    api = StatefulAPI(**V285)
    args = dict(name='v6', enable_ipv6=True, enable_ipv4=False, ipam=pools('fd00:6::/64'))
    check = run(FakeAPI(**V285), check_mode=True, diff=True, **args)
    assert check.result['changed'] and check.result['diff']['after']['enable_ipv4'] is False
    out = run(api, **args)
    assert not out.failed and out.result['networks'][0]['action'] == 'created'
    [body] = posts(api)
    assert body['EnableIPv4'] is False and body['EnableIPv6'] is True
    assert [pool['Subnet'] for pool in body['IPAM']['Config']] == ['fd00:6::/64']
    second_run_unchanged(api, **args)


def test_enable_ipv4_false_refused_before_28_naming_the_version():
    out = run(FakeAPI(**V27), name='v6', enable_ipv6=True, enable_ipv4=False, ipam=pools('fd00:6::/64'))
    assert out.failed and out.result['changed'] is False
    message = out.result['msg']
    assert "option 'enable_ipv4: false' of network 'v6' needs Docker API 1.48 (Docker 28.0) or later" in message
    assert 'speaks API 1.46' in message and 'upgrade the engine or drop the option' in message


def test_enable_ipv4_true_is_what_every_engine_does():
    api = FakeAPI([network('web', [('10.1.0.0/24', '10.1.0.1')])], **V20)
    assert run(api, name='web', enable_ipv4=True).result['changed'] is False
    off = FakeAPI([network('web', [('fd00:1::/64', None)], EnableIPv4=False, EnableIPv6=True)], **V285)
    out = run(off, check_mode=True, name='web', enable_ipv4=True)
    assert out.result['networks'][0]['changes'] == ['enable_ipv4']


# -- IPv6-only requests without enable_ipv4 (issue 15 item 3) ---------------------------------------

def test_ipv6_only_request_ignores_the_ipv4_pool_the_engine_added_on_20_10():
    """Regression: Docker 20.10 adds a 172.x pool of its own; every run used to recreate the network."""
    api = FakeAPI([network('v6', [('172.30.0.0/16', '172.30.0.1'), ('fd00:7::/64', 'fd00:7::1')], EnableIPv6=True)], **V20)
    out = run(api, name='v6', enable_ipv6=True, ipam=pools('fd00:7::/64'))
    assert not out.failed and out.result['changed'] is False


def test_engine_added_ipv6_pool_is_no_difference_either():
    api = FakeAPI([network('dual', [('10.9.0.0/24', '10.9.0.1'), ('fd12:3456::/64', 'fd12:3456::1')],
                           EnableIPv6=True)], **V285)
    assert run(api, name='dual', enable_ipv6=True, ipam=pools('10.9.0.0/24')).result['changed'] is False


def test_a_named_ipv6_pool_still_counts():
    api = FakeAPI([network('v6', [('172.30.0.0/16', '172.30.0.1'), ('fd00:7::/64', 'fd00:7::1')], EnableIPv6=True)], **V20)
    out = run(api, check_mode=True, name='v6', enable_ipv6=True, ipam=pools('fd00:8::/64'))
    assert out.result['networks'][0]['changes'] == ['ipam.config']
    assert out.result['networks'][0]['differences'][0]['actual'] == ['fd00:7::/64']


# -- the 28.2 inspect change ----------------------------------------------------------------------

def test_enable_ip_options_are_compared_as_the_fields_across_28_2():
    before_28_2 = network('v6', [('fd00:9::/64', 'fd00:9::1')], EnableIPv6=True, EnableIPv4=False,
                          Options={'com.docker.network.enable_ipv4': 'false', 'com.docker.network.enable_ipv6': 'true'})
    after_28_2 = network('v6', [('fd00:9::/64', 'fd00:9::1')], EnableIPv6=True, EnableIPv4=False, Options={})
    for data, version in ((before_28_2, dict(api_version='1.49', engine_version='28.1.1')), (after_28_2, V285)):
        for args in (dict(enable_ipv6=True, enable_ipv4=False),
                     dict(driver_options={'com.docker.network.enable_ipv6': True,
                                          'com.docker.network.enable_ipv4': 'false'})):
            out = run(FakeAPI([data], **version), name='v6', ipam=pools('fd00:9::/64'), **args)
            assert not out.failed and out.result['changed'] is False, (version, args)


def test_recreate_sends_the_fields_not_the_old_options():
    data = network('v6', [('fd00:9::/64', 'fd00:9::1')], EnableIPv6=True, EnableIPv4=False, Labels=dict(a='1'),
                   Options={'com.docker.network.enable_ipv4': 'false', 'com.docker.network.enable_ipv6': 'true'})
    api = StatefulAPI([data], api_version='1.49', engine_version='28.1.1')
    out = run(api, name='v6', labels=dict(a='2'))
    assert out.result['networks'][0]['action'] == 'recreated'
    [body] = posts(api)
    assert body['Options'] == {} and body['EnableIPv4'] is False and body['EnableIPv6'] is True


# -- gateway modes and trusted host interfaces ----------------------------------------------------

def test_routed_gateway_mode_on_27():
    api = StatefulAPI(**V27)
    args = dict(name='r', gateway_mode_ipv4='routed', ipam=pools('10.30.0.0/24'))
    out = run(api, **args)
    assert out.result['networks'][0]['action'] == 'created'
    assert posts(api)[0]['Options'] == {GW4: 'routed'}
    second_run_unchanged(api, **args)
    second_run_unchanged(api, name='r', driver_options={GW4: 'routed'})
    changed = run(FakeAPI(api._networks, **V27), check_mode=True, diff=True, name='r', gateway_mode_ipv4='nat')
    assert changed.result['networks'][0]['differences'] == [
        dict(path='driver_options.%s' % GW4, wanted='nat', actual='routed')]
    assert changed.result['diff']['after']['driver_options'][GW4] == 'nat'


@pytest.mark.parametrize('mode, version, needed', [
    ('routed', V26, 'needs Docker API 1.46 (Docker 27.0) or later'),
    ('nat', V20, 'needs Docker API 1.46 (Docker 27.0) or later'),
    ('isolated', V27, 'needs Docker API 1.48 (Docker 28.0) or later'),
    ('nat-unprotected', V27, 'needs Docker API 1.48 (Docker 28.0) or later'),
])
def test_gateway_modes_refused_on_older_engines(mode, version, needed):
    out = run(FakeAPI(**version), name='g', gateway_mode_ipv6=mode, internal=True)
    assert out.failed and out.result['changed'] is False
    assert "option 'gateway_mode_ipv6: %s' of network 'g' %s" % (mode, needed) in out.result['msg']


def test_isolated_and_trusted_interfaces_on_28_5_order_of_interfaces_does_not_matter():
    api = StatefulAPI(**V285)
    args = dict(name='iso', gateway_mode_ipv4='isolated', gateway_mode_ipv6='nat-unprotected', enable_ipv6=True,
                internal=True, trusted_host_interfaces=['eth1', 'eth2'], ipam=pools('10.31.0.0/24', 'fd00:31::/64'))
    run(api, **args)
    assert posts(api)[0]['Options'] == {GW4: 'isolated', GW6: 'nat-unprotected', TRUSTED: 'eth1:eth2'}
    reordered = dict(args)
    reordered['trusted_host_interfaces'] = ['eth2', 'eth1']
    second_run_unchanged(api, **reordered)


def test_trusted_host_interfaces_refused_before_28_2():
    out = run(FakeAPI(api_version='1.49', engine_version='28.1.1'), name='t', trusted_host_interfaces=['eth1'])
    assert "option 'trusted_host_interfaces' of network 't' needs Docker API 1.50 (Docker 28.2) or later" in out.result['msg']


def test_gateway_mode_on_an_existing_macvlan_network_is_refused_at_planning():
    api = FakeAPI([network('mv', driver='macvlan', Options=dict(parent='eth0'))], **V285)
    out = run(api, name='mv', gateway_mode_ipv4='routed')
    assert out.failed and out.result['changed'] is False
    assert "network 'mv': gateway_mode_ipv4 is an option of the bridge driver, but the network's driver is macvlan" \
        in out.result['msg']


# -- bad input: every problem named, nothing changed ----------------------------------------------

BAD_INPUT = [
    (dict(enable_ipv4=False, enable_ipv6=True),
     ["network 'bad': enable_ipv4 is false but ipam.config has no IPv6 subnet", 'add one, e.g.']),
    (dict(enable_ipv4=False, ipam=pools('fd00:1::/64')),
     ["network 'bad': subnet fd00:1::/64 is IPv6 but enable_ipv6 is not true",
      'enable_ipv4 is false but enable_ipv6 is not true', 'add enable_ipv6: true and an IPv6 subnet']),
    (dict(enable_ipv4=False, enable_ipv6=True, ipam=pools('10.1.0.0/24', 'fd00:1::/64')),
     ['subnet 10.1.0.0/24 is IPv4 but enable_ipv4 is false', 'drop the IPv4 subnet']),
    (dict(driver='macvlan', gateway_mode_ipv4='routed'),
     ["gateway_mode_ipv4 is an option of the bridge driver, but the network's driver is macvlan",
      'use driver: bridge']),
    (dict(driver='overlay', driver_options={TRUSTED: 'eth1'}),
     ['trusted_host_interfaces is an option of the bridge driver', 'overlay']),
    (dict(gateway_mode_ipv4='masquerade'),
     ["gateway_mode_ipv4 'masquerade' is not a gateway mode", 'use one of nat, routed, nat-unprotected, isolated']),
    (dict(driver_options={GW6: 'Routed'}), ["gateway_mode_ipv6 'Routed' is not a gateway mode"]),
    # Docker 28.5 answers a create of an isolated, non-internal bridge with HTTP 500 (lab, forky)
    (dict(gateway_mode_ipv4='isolated'),
     ["gateway_mode_ipv4 'isolated' needs an internal network", 'add internal: true']),
    (dict(gateway_mode_ipv6='isolated', internal=False, enable_ipv6=True, ipam=pools('fd00:1::/64')),
     ["gateway_mode_ipv6 'isolated' needs an internal network"]),
    (dict(trusted_host_interfaces=[]), ['trusted_host_interfaces names no interface', 'e.g. [eth1]']),
    (dict(trusted_host_interfaces=['', ' ']), ['trusted_host_interfaces names no interface']),
    (dict(trusted_host_interfaces=['eth1', 'a/b']), ["trusted_host_interfaces has 'a/b', not an interface name"]),
    (dict(gateway_mode_ipv4='nat', driver_options={GW4: 'routed'}),
     ['gateway_mode_ipv4 nat contradicts driver_options[%s]=routed' % GW4, 'set only one of them']),
    (dict(enable_ipv6=False, driver_options={'com.docker.network.enable_ipv6': 'true'}),
     ['enable_ipv6 false contradicts driver_options[com.docker.network.enable_ipv6]=true', 'set only enable_ipv6']),
    (dict(driver_options={'com.docker.network.enable_ipv4': 'maybe'}),
     ["driver_options[com.docker.network.enable_ipv4] is 'maybe', not a boolean", 'set enable_ipv4: true or false']),
    (dict(ingress=True, driver='bridge', attachable=True),
     ['an ingress network uses the overlay driver, not bridge', 'an ingress network cannot be attachable']),
    (dict(connected=[dict(container='app', gw_priority='high')]),
     ["container app: gw_priority 'high' is not a whole number"]),
    (dict(connected=[dict(container='app', mac_address='02:42')]),
     ["container app: mac_address '02:42' is not a MAC address", 'e.g. 02:42:0a:00:00:10']),
    (dict(connected=[dict(container='app', interface_name='a-very-long-interface')]),
     ["interface_name 'a-very-long-interface' is not a Linux interface name", '1-15 characters']),
    (dict(connected=[dict(container='app', sysctls={'kernel.shmmax': 1})]),
     ["sysctl 'kernel.shmmax=1' cannot be set on an endpoint", 'net.ipv4.conf.IFNAME.forwarding']),
    (dict(connected=[dict(container='app', interface_name='eth3', driver_opts={IFNAME: 'eth4'})]),
     ['interface_name and driver_opts[%s] both given; set only interface_name' % IFNAME]),
]


@pytest.mark.parametrize('args, expected', BAD_INPUT)
def test_bad_input_is_named_and_nothing_changes(args, expected):
    api = FakeAPI([network('bad', [('10.50.0.0/24', '10.50.0.1')])],
                  containers=[container('app', networks=dict(bad={}))], **V285)  # any write fails the test
    out = run(api, name='bad', **args)
    assert out.failed and out.result['changed'] is False
    for words in expected:
        assert words in out.result['msg'], out.result['msg']


def test_gw_priority_refused_before_28_with_every_endpoint_gate():
    api = FakeAPI(containers=[container('app')], **V26)
    endpoint = dict(container='app', gw_priority=10, interface_name='eth5', sysctls={'net.ipv4.conf.IFNAME.forwarding': 0})
    out = run(api, name='e', connected=[endpoint])
    assert out.failed and out.result['changed'] is False
    problems = out.result['problems']
    assert any("option 'gw_priority (container app)' of network 'e' needs Docker API 1.48 (Docker 28.0)" in p
               for p in problems)
    assert any("option 'interface_name (container app)'" in p and '1.48 (Docker 28.0)' in p for p in problems)
    assert any("option 'sysctls (container app)'" in p and '1.46 (Docker 27.0)' in p for p in problems)
    assert not any('mac_address' in p for p in problems)


def test_mac_address_refused_before_api_1_44():
    out = run(FakeAPI(containers=[container('app')], **V20), name='e',
              connected=[dict(container='app', mac_address='02:42:0A:00:00:10')])
    assert "option 'mac_address (container app)' of network 'e' needs Docker API 1.44 or later" in out.result['msg']


# -- endpoints: gw_priority, mac_address, interface_name, sysctls ---------------------------------

def _connect_args(api):
    return [(w[0], w[1], w[3]) for w in api.writes if w[0] in ('connect', 'connect-post')]


def test_endpoint_settings_on_create_and_second_run():
    app = container('app')
    api = StatefulAPI(containers=[app], **V285)
    endpoint = dict(container='app', ipv4_address='10.40.0.10', gw_priority=10,
                    interface_name='eth5', sysctls={'net.ipv4.conf.IFNAME.forwarding': 0, 'net.ipv6.conf.IFNAME.accept_ra': 2})
    args = dict(name='ep', ipam=pools('10.40.0.0/24'), connected=[endpoint])
    out = run(api, **args)
    assert not out.failed, out.result
    [(kind, container_id, config)] = _connect_args(api)
    assert kind == 'connect-post' and container_id == app['Id']
    assert config['GwPriority'] == 10 and 'MacAddress' not in config
    assert config['IPAMConfig'] == dict(IPv4Address='10.40.0.10')
    assert config['DriverOpts'] == {IFNAME: 'eth5',
                                    SYSCTLS: 'net.ipv4.conf.IFNAME.forwarding=0,net.ipv6.conf.IFNAME.accept_ra=2'}
    # The engine now holds the endpoint as connected.
    new_id = out.result['network']['Id']
    app['NetworkSettings']['Networks']['ep'] = dict(
        NetworkID=new_id, IPAMConfig=dict(IPv4Address='10.40.0.10'), Aliases=[app['Id'][:12]], Links=None,
        DriverOpts=config['DriverOpts'], MacAddress='02:42:0a:28:00:0a', GwPriority=10, IPAddress='10.40.0.10')
    second_run_unchanged(api, **args)
    # the MAC the endpoint has, asked for (written any case): kept, nothing to do
    with_mac = dict(args)
    with_mac['connected'] = [dict(endpoint, mac_address='02:42:0A:28:00:0A')]
    second_run_unchanged(api, **with_mac)
    again = run(FakeAPI(api._networks, [app], **V285), check_mode=True, name='ep',
                connected=[dict(endpoint, gw_priority=20, sysctls={'net.ipv4.conf.IFNAME.forwarding': 1})])
    record = again.result['networks'][0]
    assert record['action'] == 'endpoints-changed'
    assert record['changes'] == ['connected[app].gw_priority', 'connected[app].sysctls']


MAC_CASES = [
    # case, MAC asked for, what the message says
    ('new network', '02:42:0a:2a:00:99', 'mac_address 02:42:0a:2a:00:99 cannot be set by connecting'),
    ('connect', '02:42:0a:2a:00:99', 'mac_address 02:42:0a:2a:00:99 cannot be set by connecting'),
    ('reconnect', '02:42:0a:2a:00:99', 'mac_address 02:42:0a:2a:00:99 cannot be set by connecting'),
    ('recreate', '02:42:0a:2a:00:99', 'the network must be recreated, which reconnects every container, and '
                                      'mac_address 02:42:0a:2a:00:99 cannot be restored'),
    # the MAC the endpoint has: a recreate would lose it (lab: 26.1 and 28.5 gave another MAC back)
    ('recreate', '02:42:0a:2a:00:05', 'the network must be recreated, which reconnects every container, and '
                                      'mac_address 02:42:0a:2a:00:05 cannot be restored'),
]


@pytest.mark.parametrize('case, mac, expected', MAC_CASES)
def test_a_mac_only_a_connect_could_give_is_refused_before_any_write(case, mac, expected):
    # The engine ignores MacAddress on network connect (moby/moby#48192; lab: Docker 26.1 and 28.5 pick
    # their own): before this check the module connected, reported changed, and did so on every run, and a
    # recreate lost a MAC the task asked to keep.
    have = dict(ip='10.42.0.5', mac='02:42:0a:2a:00:05')
    app = container('app', networks=dict(mac=have) if case in ('reconnect', 'recreate') else None)
    nets = [] if case == 'new network' else [network('mac', [('10.42.0.0/24', '10.42.0.1')])]
    args = dict(name='mac', ipam=pools('10.42.0.0/24'), connected=[dict(container='app', mac_address=mac)])
    if case == 'recreate':
        args['labels'] = dict(v='2')
    out = run(FakeAPI(nets, containers=[app], **V285), **args)
    assert out.failed and out.result['changed'] is False
    assert "network 'mac': container app: " + expected in out.result['msg']
    assert 'moby/moby#48192' in out.result['msg'] and '--mac-address' in out.result['msg']


def test_recreate_restores_gw_priority_ifname_sysctls_and_mac_exactly():
    net = network('keep', [('10.41.0.0/24', '10.41.0.1')], Labels=dict(v='1'))
    opts = {IFNAME: 'data0', SYSCTLS: 'net.ipv4.conf.IFNAME.forwarding=0', 'custom': 'x'}
    app = container('app', networks=dict(keep=dict(ip='10.41.0.5', gw_priority=7, driver_opts=opts,
                                                   mac='02:42:0A:29:00:05')))
    stopped = container('cold', running=False, networks=dict(keep=dict(driver_opts={IFNAME: 'cold0'})))
    api = StatefulAPI([net], containers=[app, stopped], **V285)
    out = run(api, name='keep', labels=dict(v='2'))
    assert out.result['networks'][0]['action'] == 'recreated', out.result
    connects = dict((w[1], w) for w in api.writes if w[0] in ('connect', 'connect-post'))
    kind, _cid, _net, config = connects[app['Id']]
    assert kind == 'connect-post'
    assert config['GwPriority'] == 7 and config['MacAddress'] == '02:42:0a:29:00:05'
    assert config['DriverOpts'] == opts and config['IPAMConfig'] == dict(IPv4Address='10.41.0.5')
    kind, _cid, _net, kwargs = connects[stopped['Id']]
    assert kind == 'connect' and kwargs['driver_opt'] == {IFNAME: 'cold0'}


# -- the swarm's ingress network ------------------------------------------------------------------

def _ingress(subnet='10.0.0.0/24'):
    return network('ingress', [(subnet, subnet.replace('.0/24', '.1'))], driver='overlay', Scope='swarm',
                   Ingress=True, Options={'com.docker.network.driver.overlay.vxlanid_list': '4096'})


def test_ingress_recreated_with_a_new_subnet():
    api = StatefulAPI([_ingress()], **V285)
    args = dict(name='ingress', ingress=True, ipam=pools('10.255.0.0/24'))
    check = run(FakeAPI([_ingress()], **V285), check_mode=True, diff=True, **args)
    assert check.result['networks'][0]['action'] == 'recreated'
    assert check.result['networks'][0]['steps'] == ['remove', 'create']
    out = run(api, **args)
    assert not out.failed, out.result
    [body] = posts(api)
    assert body['Ingress'] is True and body['Driver'] == 'overlay' and body['Scope'] == 'swarm'
    assert body['IPAM']['Config'] == [dict(Subnet='10.255.0.0/24')]
    assert [w[0] for w in api.writes] == ['remove', 'post']
    second_run_unchanged(api, **args)


class LingeringIngressAPI(StatefulAPI):
    """The swarm removes ingress asynchronously: listed for a few polls after its remove returned."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lingering, self.listed_while_lingering = [], 0

    def remove_network(self, network_id):
        self.lingering = [net for net in self._networks if net['Id'] == network_id]
        super().remove_network(network_id)

    def networks(self):
        listed = super().networks()
        if self.lingering:
            self.listed_while_lingering += 1
            listed, self.lingering = listed + self.lingering, self.lingering if self.listed_while_lingering < 2 else []
        return listed

    def _post_json(self, url, data):
        assert not self.lingering, 'created while the old ingress was still listed'
        return super()._post_json(url, data)


def test_ingress_recreate_waits_until_the_old_one_is_no_longer_listed(monkeypatch):
    from ansible_collections.netfleet.docker.plugins.module_utils._network import network as network_module
    naps = []
    monkeypatch.setattr(network_module.time, 'sleep', naps.append)
    api = LingeringIngressAPI([_ingress()], **V285)
    out = run(api, name='ingress', ingress=True, ipam=pools('10.255.0.0/24'))
    assert not out.failed, out.result
    assert api.listed_while_lingering == 2 and naps == [0.5, 0.5]
    assert [w[0] for w in api.writes] == ['remove', 'post']


def test_ingress_created_under_its_own_name_when_none_exists():
    api = StatefulAPI(**V285)
    run(api, name='fleet-ingress', ingress=True, ipam=pools('10.254.0.0/24'))
    [body] = posts(api)
    assert body['Name'] == 'fleet-ingress' and body['Ingress'] is True and body['Driver'] == 'overlay'


def test_second_ingress_refused_naming_the_first():
    out = run(FakeAPI([_ingress()], **V285), name='fleet-ingress', ingress=True, ipam=pools('10.254.0.0/24'))
    assert out.failed and out.result['changed'] is False
    assert "the swarm already has the ingress network 'ingress'" in out.result['msg']
    assert 'remove it first (name: ingress, ingress: true, state: absent' in out.result['msg']


def test_ingress_removed_only_when_asked_as_ingress():
    api = StatefulAPI([_ingress()], **V285)
    assert run(api, name='ingress', ingress=True, state='absent').result['networks'][0]['action'] == 'removed'
    refused = run(FakeAPI([_ingress()], **V285), name='ingress', state='absent')
    assert refused.failed and 'predefined by dockerd' in refused.result['msg']
