# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control-plane firewall's pure logic: validation, wanted rules, parsing what hosts print, steps."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import UNCHANGED
from ansible_collections.netfleet.docker.plugins.module_utils._host import firewall, firewall_plan, firewall_state
from ansible_collections.netfleet.docker.plugins.module_utils._host.firewall_state import Backend, ChainState

SWARM_DROPS = ['-p tcp -m tcp --dport 2377 -j DROP', '-p tcp -m tcp --dport 7946 -j DROP',
               '-p udp -m udp --dport 4789 -j DROP', '-p udp -m udp --dport 7946 -j DROP']


def params(**kwargs):
    result = dict(state='present', allowed_sources=['10.231.0.12', '10.231.0.11'], swarm=True, data_path_port=4789,
                  encrypted=False, etcd=False, etcd_ports=[2379, 2380], extra_ports=[], ipv6=None, backend='auto',
                  chain='NETFLEET-CP', persist=True, rules_dir='/etc/netfleet/firewall',
                  unit_name='netfleet-control-plane-firewall.service', unit_dir='/etc/systemd/system')
    result.update(kwargs)
    return result


def spec(**kwargs):
    made = firewall.FirewallSpec(params(**kwargs))
    assert made.problems == []
    return made


# -- validation, one row per bad input: the words the message must hold ----------------------------

BAD_INPUT = [
    (dict(allowed_sources=[]), ['allowed_sources is empty while state=present', 'ansible_default_ipv4.address']),
    (dict(allowed_sources=['10.0.0.1', 'db01']), ["allowed_sources[1] 'db01' is not an IPv4/IPv6 address or CIDR",
                                                  'give e.g. 10.231.0.11']),
    (dict(allowed_sources=['10.0.0.300/24']), ["allowed_sources[0] '10.0.0.300/24'"]),
    (dict(allowed_sources=['0.0.0.0/0']), ["allowed_sources[0] '0.0.0.0/0' allows every address"]),
    (dict(allowed_sources=['::/0']), ["allowed_sources[0] '::/0' allows every address"]),
    (dict(data_path_port=70000), ['data_path_port 70000 is out of range', '1024-49151']),
    (dict(data_path_port=80), ['data_path_port 80 is out of range']),
    (dict(etcd=True, etcd_ports=[2379, 0]), ['etcd_ports[1] 0 is out of range', '1 to 65535']),
    (dict(extra_ports=['8080']), ["extra_ports[0] '8080' is not PORT/PROTOCOL", 'e.g. 8080/tcp']),
    (dict(extra_ports=['99999/udp']), ['extra_ports[0] 99999 is out of range']),
    (dict(extra_ports=['53/sctp']), ["extra_ports[0] '53/sctp' is not PORT/PROTOCOL"]),
    (dict(chain='INPUT'), ["chain 'INPUT' belongs to the kernel or to Docker"]),
    (dict(chain='DOCKER-USER'), ["chain 'DOCKER-USER' belongs to the kernel or to Docker"]),
    (dict(chain='my chain'), ["chain 'my chain' is not a valid iptables chain name"]),
    (dict(chain='X' * 29), ['is not a valid iptables chain name']),
    (dict(ipv6=False, allowed_sources=['fd00::1']), ['allowed_sources fd00::1/128 are IPv6 but ipv6 is false']),
    (dict(swarm=False), ['nothing to protect']),
    (dict(rules_dir='etc/fw'), ["rules_dir 'etc/fw' is not an absolute path"]),
    (dict(unit_dir='systemd'), ["unit_dir 'systemd' is not an absolute path"]),
    (dict(unit_name='netfleet fw'), ["unit_name 'netfleet fw' is not a systemd service name"]),
]


@pytest.mark.parametrize('kwargs, words', BAD_INPUT, ids=[str(row[0]) for row in BAD_INPUT])
def test_bad_input_is_named_with_its_fix(kwargs, words):
    problems = firewall.FirewallSpec(params(**kwargs)).problems
    assert problems, kwargs
    text = ' | '.join(problems)
    for word in words:
        assert word in text


def test_every_problem_is_collected():
    problems = firewall.FirewallSpec(params(allowed_sources=['x', 'y'], data_path_port=1, chain='FORWARD')).problems
    assert len(problems) == 4


def test_absent_needs_no_sources():
    assert firewall.FirewallSpec(params(state='absent', allowed_sources=[])).problems == []


def test_sources_are_canonical_sorted_and_unique():
    made = spec(allowed_sources=['10.231.0.12', 'fd00::2', '10.231.0.11', '10.0.0.5/24', '10.231.0.12/32'])
    assert [str(net) for net in made.sources] == ['10.0.0.0/24', '10.231.0.11/32', '10.231.0.12/32', 'fd00::2/128']
    assert made.view()['allowed_sources'] == ['10.0.0.0/24', '10.231.0.11/32', '10.231.0.12/32', 'fd00::2/128']


# -- wanted rules ------------------------------------------------------------------------------

def test_iptables_rules_swarm_default():
    assert firewall.iptables_rules(spec(), 4) == [
        '-i lo -j RETURN', '-s 10.231.0.11/32 -j RETURN', '-s 10.231.0.12/32 -j RETURN'] + SWARM_DROPS


def test_iptables_rules_encrypted_etcd_custom_vxlan_and_extra_ports():
    made = spec(data_path_port=7789, encrypted=True, etcd=True, extra_ports=['8080/tcp', '5353/udp'])
    drops = firewall.iptables_rules(made, 4)[3:]
    assert drops == ['-p tcp -m tcp --dport %d -j DROP' % port for port in (2377, 2379, 2380, 7946, 8080)] + \
        ['-p udp -m udp --dport %d -j DROP' % port for port in (5353, 7789, 7946)] + ['-p esp -j DROP']
    assert made.view()['ports'][-1] == 'esp'


def test_etcd_alone():
    made = spec(swarm=False, etcd=True)
    assert made.view()['ports'] == ['2379/tcp', '2380/tcp']


def test_ipv6_rules_take_only_ipv6_sources():
    made = spec(allowed_sources=['10.231.0.11', 'fd00:1::/64'])
    assert firewall.iptables_rules(made, 6)[:2] == ['-i lo -j RETURN', '-s fd00:1::/64 -j RETURN']


def test_nft_rules_print_like_nft_list():
    made = spec(allowed_sources=['10.231.0.11', '10.0.0.0/24', 'fd00::1'], encrypted=True)
    assert firewall.nft_rules(made, True) == [
        'iifname "lo" accept', 'ip saddr 10.0.0.0/24 accept', 'ip saddr 10.231.0.11 accept', 'ip6 saddr fd00::1 accept',
        'tcp dport 2377 drop', 'tcp dport 7946 drop', 'udp dport 4789 drop', 'udp dport 7946 drop',
        'meta l4proto esp drop']
    ipv4_only = firewall.nft_rules(spec(encrypted=True), False)
    assert ipv4_only[-2:] == ['meta nfproto ipv4 udp dport 7946 drop', 'meta nfproto ipv4 meta l4proto esp drop']
    assert spec(chain='NETFLEET-CP').table == 'netfleet_cp'


# -- parsing what hosts print ----------------------------------------------------------------------

IPTABLES_S = """-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N NETFLEET-CP
-A INPUT -j NETFLEET-CP
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A FORWARD -j DOCKER-USER
-A NETFLEET-CP -i lo -j RETURN
-A NETFLEET-CP -s 10.231.0.11/32 -j RETURN
-A NETFLEET-CP -p tcp -m tcp --dport 2377 -j DROP
"""


def test_parse_iptables_listing():
    state = firewall_state.parse_iptables_listing(IPTABLES_S, 'NETFLEET-CP', 4)
    assert state.exists
    assert state.rules == ('-i lo -j RETURN', '-s 10.231.0.11/32 -j RETURN', '-p tcp -m tcp --dport 2377 -j DROP')
    assert state.input_rules == ('-j NETFLEET-CP', '-p tcp -m tcp --dport 22 -j ACCEPT')
    assert state.jump_positions('NETFLEET-CP') == [0]
    absent = firewall_state.parse_iptables_listing('-P INPUT ACCEPT\n-N DOCKER\n', 'NETFLEET-CP', 4)
    assert not absent.exists and absent.rules == () and absent.jump_positions('NETFLEET-CP') == []


@pytest.mark.parametrize('text, variant', [
    ('iptables v1.8.9 (nf_tables)', 'nf_tables'), ('iptables v1.8.9 (legacy)', 'legacy'), ('iptables v1.6.1', 'legacy')])
def test_iptables_variant(text, variant):
    assert firewall_state.iptables_variant(text) == variant


NFT_LIST = """table inet netfleet_cp {
\tchain input {
\t\ttype filter hook input priority filter - 10; policy accept;
\t\tiifname "lo" accept
\t\tip saddr 10.231.0.11 accept
\t\ttcp dport 2377 drop
\t}
}
"""


def test_parse_nft_table():
    assert firewall_state.parse_nft_table(NFT_LIST) == ('iifname "lo" accept', 'ip saddr 10.231.0.11 accept',
                                                        'tcp dport 2377 drop')
    # A chain added by hand is kept as a line: the table differs and gets replaced.
    assert 'chain other {' in firewall_state.parse_nft_table(NFT_LIST.replace('\t}\n}', '\t}\n\tchain other {\n\t}\n}'))


# -- steps --------------------------------------------------------------------------------------

def chain_state(rules=None, input_rules=('-j NETFLEET-CP',), family=4):
    return ChainState(family=family, exists=rules is not None, rules=tuple(rules or ()), input_rules=tuple(input_rules))


def test_chain_step_created_from_nothing_is_one_restore_transaction():
    step = firewall_plan.chain_step(spec(), chain_state(None, ()), True)
    assert step.action == 'created'
    assert step.changes[0] == '+ -i lo -j RETURN'
    (command,) = step.payload
    assert command.args == ('iptables-restore', '-w', '5', '--noflush')
    assert command.data.splitlines()[:3] == ['*filter', ':NETFLEET-CP - [0:0]', '-A NETFLEET-CP -i lo -j RETURN']
    assert command.data.endswith('COMMIT\n')


def test_chain_step_unchanged_when_rules_match():
    made = spec()
    step = firewall_plan.chain_step(made, chain_state(firewall.iptables_rules(made, 4)), True)
    assert step.action == UNCHANGED and step.payload is None and step.changes == ()


def test_chain_step_lists_added_and_removed_rules():
    made = spec(allowed_sources=['10.231.0.11', '10.231.0.13'])
    current = firewall.iptables_rules(spec(), 4)
    step = firewall_plan.chain_step(made, chain_state(current), True)
    assert step.action == 'updated'
    assert step.changes == ('- -s 10.231.0.12/32 -j RETURN', '+ -s 10.231.0.13/32 -j RETURN')
    assert step.before['rules'] == current and step.after['rules'] == firewall.iptables_rules(made, 4)


def test_chain_step_order_matters():
    made = spec()
    rules = firewall.iptables_rules(made, 4)
    step = firewall_plan.chain_step(made, chain_state(rules[1:] + rules[:1]), True)
    assert step.action == 'updated'


def test_chain_step_removed():
    step = firewall_plan.chain_step(spec(state='absent', allowed_sources=[]), chain_state(['-i lo -j RETURN'], ()), False)
    assert step.action == 'removed'
    assert step.payload[0].data == '*filter\n-F NETFLEET-CP\n-X NETFLEET-CP\nCOMMIT\n'
    assert firewall_plan.chain_step(spec(), chain_state(None, ()), False).action == UNCHANGED


@pytest.mark.parametrize('input_rules, action, deletes', [
    ((), 'created', 0),
    (('-j NETFLEET-CP', '-j ACCEPT'), UNCHANGED, 0),
    (('-j ACCEPT', '-j NETFLEET-CP'), 'updated', 1),
    (('-j NETFLEET-CP', '-j NETFLEET-CP'), 'updated', 2),
])
def test_jump_step_one_jump_first_in_input(input_rules, action, deletes):
    step = firewall_plan.jump_step(spec(), chain_state([], input_rules), True)
    assert step.action == action
    if action != UNCHANGED:
        text = step.payload[0].data
        assert text.count('-D INPUT -j NETFLEET-CP') == deletes
        assert '-I INPUT 1 -j NETFLEET-CP' in text
        assert step.after == dict(jump='-j NETFLEET-CP', positions=[1])


def test_jump_step_absent_removes_every_jump():
    step = firewall_plan.jump_step(spec(), chain_state([], ('-j ACCEPT', '-j NETFLEET-CP', '-j NETFLEET-CP')), False)
    assert step.action == 'removed' and step.before['positions'] == [2, 3]
    assert step.payload[0].data == '*filter\n-D INPUT -j NETFLEET-CP\n-D INPUT -j NETFLEET-CP\nCOMMIT\n'
    assert firewall_plan.jump_step(spec(), chain_state([], ()), False).action == UNCHANGED


def test_nft_step():
    made = spec()
    wanted = firewall.nft_rules(made, True)
    created = firewall_plan.nft_step(made, None, True, True)
    assert created.action == 'created' and created.payload[0].args == ('nft', '-f', '-')
    assert 'delete table inet netfleet_cp' in created.payload[0].data
    assert firewall_plan.nft_step(made, tuple(wanted), True, True).action == UNCHANGED
    assert firewall_plan.nft_step(made, tuple(wanted[:-1]), True, True).action == 'updated'
    removed = firewall_plan.nft_step(made, tuple(wanted), False, True)
    assert removed.action == 'removed' and removed.payload[0].args == ('nft', 'delete', 'table', 'inet', 'netfleet_cp')


def test_nft_script_lists_back_as_the_wanted_rules():
    made = spec(encrypted=True)
    rules = firewall.nft_rules(made, True)
    script = firewall_plan.nft_script(made.table, rules)
    assert firewall_state.parse_nft_table(script.split('delete table inet netfleet_cp\n')[1]) == tuple(rules)


# -- persistence ---------------------------------------------------------------------------------

def which(name):
    return '/usr/sbin/%s' % name


def test_iptables_boot_file_has_the_chain_then_the_jump():
    text = firewall_plan.iptables_boot_text('NETFLEET-CP', ['-i lo -j RETURN'])
    assert text.splitlines() == [
        firewall_plan.HEADER.strip(), '*filter', ':NETFLEET-CP - [0:0]', '-A NETFLEET-CP -i lo -j RETURN',
        '-I INPUT 1 -j NETFLEET-CP', 'COMMIT']


def test_unit_text_iptables_both_families():
    made = spec()
    paths = firewall_plan.boot_file_paths(made)
    text = firewall_plan.unit_text(made, Backend('iptables', 'nf_tables', (4, 6)), paths, which)
    assert 'ExecStartPre=-/usr/sbin/iptables -w 5 -D INPUT -j NETFLEET-CP' in text
    assert 'ExecStart=/usr/sbin/iptables-restore -w 5 --noflush /etc/netfleet/firewall/NETFLEET-CP.v4' in text
    assert 'ExecStart=/usr/sbin/ip6tables-restore -w 5 --noflush /etc/netfleet/firewall/NETFLEET-CP.v6' in text
    assert 'Before=network-pre.target docker.service' in text
    assert 'WantedBy=multi-user.target' in text


def test_unit_text_nftables():
    made = spec()
    text = firewall_plan.unit_text(made, Backend('nftables', 'native', (4, 6)), firewall_plan.boot_file_paths(made), which)
    assert 'ExecStart=/usr/sbin/nft -f /etc/netfleet/firewall/NETFLEET-CP.nft' in text
    assert 'iptables' not in text.replace('netfilter-persistent', '')


def test_file_step_actions():
    assert firewall_plan.file_step('/f', None, 'a').action == 'created'
    assert firewall_plan.file_step('/f', 'a', 'a').action == UNCHANGED
    updated = firewall_plan.file_step('/f', 'a', 'b')
    assert updated.action == 'updated' and updated.payload == (firewall_plan.WriteFile('/f', 'b'),)
    removed = firewall_plan.file_step('/f', 'a', None)
    assert removed.action == 'removed' and removed.payload == (firewall_plan.RemoveFile('/f'),)
    assert firewall_plan.file_step('/f', None, None).action == UNCHANGED


def test_unit_step_enables_an_unchanged_unit_that_is_disabled():
    made = spec()
    step = firewall_plan.unit_step(made, 'text', 'text', enabled=False)
    assert step.action == 'enabled'
    assert step.payload == (firewall_plan.Command(('systemctl', 'enable', made.unit)),)
    assert firewall_plan.unit_step(made, 'text', 'text', enabled=True).action == UNCHANGED


def test_unit_step_written_then_reloaded_and_enabled():
    step = firewall_plan.unit_step(spec(), None, 'text', enabled=False)
    assert step.action == 'created'
    assert [getattr(op, 'args', None) for op in step.payload[1:]] == [
        ('systemctl', 'daemon-reload'), ('systemctl', 'enable', 'netfleet-control-plane-firewall.service')]


def test_unit_step_removed_disables_first():
    step = firewall_plan.unit_step(spec(), 'text', None, enabled=True)
    assert step.action == 'removed'
    disable, remove, reload = step.payload
    assert disable.args == ('systemctl', 'disable', 'netfleet-control-plane-firewall.service') and disable.tolerate_failure
    assert remove == firewall_plan.RemoveFile('/etc/systemd/system/netfleet-control-plane-firewall.service')
    assert reload.args == ('systemctl', 'daemon-reload')
    assert firewall_plan.unit_step(spec(), None, None, enabled=False).payload is None
