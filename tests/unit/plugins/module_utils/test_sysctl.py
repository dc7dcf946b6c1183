# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._host import sysctl


def write(root, path, text):
    full = os.path.join(str(root), path.lstrip('/'))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w', encoding='utf-8') as handle:
        handle.write(text)
    return full


@pytest.mark.parametrize('text, expected', [
    ('net.ipv4.ip_forward', 'net/ipv4/ip_forward'),
    ('net/ipv4/ip_forward', 'net/ipv4/ip_forward'),
    ('net/ipv4/conf/eth0.10/forwarding', 'net/ipv4/conf/eth0.10/forwarding'),
    (' net.ipv6.conf.all.forwarding ', 'net/ipv6/conf/all/forwarding'),
])
def test_canonical_key(text, expected):
    assert sysctl.canonical_key(text) == expected


def test_display_key_keeps_slashes_for_dotted_interfaces():
    assert sysctl.display_key('net/ipv4/ip_forward') == 'net.ipv4.ip_forward'
    assert sysctl.display_key('net/ipv4/conf/eth0.10/forwarding') == 'net/ipv4/conf/eth0.10/forwarding'


def test_parse_text_comments_ignore_prefix_and_whitespace():
    text = '# c\n; c\n\n-net.bridge.bridge-nf-call-iptables=1\nnet.ipv4.ip_forward =  1 \nbogus line\nkernel.x = 1\t 2\n'
    entries = sysctl.parse_text(text)
    assert [(e['line'], e['key'], e['value'], e['ignore_errors']) for e in entries] == [
        (4, 'net/bridge/bridge-nf-call-iptables', '1', True),
        (5, 'net/ipv4/ip_forward', '1', False),
        (7, 'kernel/x', '1 2', False),
    ]


def test_order_by_basename_across_dirs_etc_wins_and_sysctl_conf_last(tmp_path):
    write(tmp_path, '/usr/lib/sysctl.d/50-default.conf', 'net.ipv4.ip_forward = 0\n')
    write(tmp_path, '/usr/lib/sysctl.d/30-lib.conf', 'x = 1\n')
    write(tmp_path, '/etc/sysctl.d/50-default.conf', 'net.ipv4.ip_forward = 1\n')   # hides /usr/lib's
    write(tmp_path, '/run/sysctl.d/40-run.conf', 'x = 2\n')
    write(tmp_path, '/etc/sysctl.d/README', 'not read\n')
    write(tmp_path, '/etc/sysctl.conf', 'x = 3\n')
    order = [entry['path'] for entry in sysctl.read_order(str(tmp_path))]
    assert order == ['/usr/lib/sysctl.d/30-lib.conf', '/run/sysctl.d/40-run.conf', '/etc/sysctl.d/50-default.conf',
                     '/etc/sysctl.conf']


def test_lib_symlink_to_usr_lib_is_read_once(tmp_path):
    write(tmp_path, '/usr/lib/sysctl.d/50-pid-max.conf', 'kernel.pid_max = 4194304\n')
    os.symlink('usr/lib', os.path.join(str(tmp_path), 'lib'))
    order = [entry['path'] for entry in sysctl.read_order(str(tmp_path))]
    assert order == ['/usr/lib/sysctl.d/50-pid-max.conf']


def test_dev_null_symlink_masks_the_basename(tmp_path):
    write(tmp_path, '/usr/lib/sysctl.d/50-x.conf', 'net.ipv4.ip_forward = 0\n')
    os.makedirs(os.path.join(str(tmp_path), 'etc/sysctl.d'))
    os.symlink(os.devnull, os.path.join(str(tmp_path), 'etc/sysctl.d/50-x.conf'))
    view = sysctl.BootView(str(tmp_path))
    assert view.winner('net/ipv4/ip_forward') is None


def test_later_file_overrides_and_names_file_and_line(tmp_path):
    ours = '/etc/sysctl.d/90-netfleet.conf'
    write(tmp_path, '/usr/lib/sysctl.d/10-early.conf', 'net.ipv4.ip_forward = 0\n')   # read before: harmless
    write(tmp_path, '/usr/lib/sysctl.d/95-late.conf', '# c\nnet.ipv4.ip_forward = 0\n')
    write(tmp_path, '/etc/sysctl.conf', '\n\n\nnet.ipv4.ip_forward=1\nnet.ipv6.conf.all.forwarding=0\n')
    view = sysctl.BootView(str(tmp_path), replace={ours: 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n'})
    over = view.overrides('net/ipv4/ip_forward', ours, '1')
    assert [(o['path'], o['line'], o['value']) for o in over] == [('/usr/lib/sysctl.d/95-late.conf', 2, '0')]
    over6 = view.overrides('net/ipv6/conf/all/forwarding', ours, '1')
    assert [(o['path'], o['line']) for o in over6] == [('/etc/sysctl.conf', 5)]
    assert view.winner('net/ipv4/ip_forward')['path'] == '/etc/sysctl.conf'


def test_our_file_sorting_last_wins(tmp_path):
    ours = '/etc/sysctl.d/99-zz-netfleet.conf'
    write(tmp_path, '/usr/lib/sysctl.d/95-late.conf', 'net.ipv4.ip_forward = 0\n')
    view = sysctl.BootView(str(tmp_path), replace={ours: 'net.ipv4.ip_forward = 1\n'})
    assert view.overrides('net/ipv4/ip_forward', ours, '1') == []
    assert view.winner('net/ipv4/ip_forward')['path'] == ours


def test_glob_keys_override_interface_keys(tmp_path):
    ours = '/etc/sysctl.d/50-netfleet.conf'
    write(tmp_path, '/etc/sysctl.d/60-all.conf', 'net.ipv6.conf.*.accept_ra = 0\n')
    view = sysctl.BootView(str(tmp_path), replace={ours: 'net.ipv6.conf.eth0.accept_ra = 2\n'})
    over = view.overrides('net/ipv6/conf/eth0/accept_ra', ours, '2')
    assert [(o['path'], o['value']) for o in over] == [('/etc/sysctl.d/60-all.conf', '0')]


def test_same_value_later_is_not_an_override(tmp_path):
    ours = '/etc/sysctl.d/50-netfleet.conf'
    write(tmp_path, '/etc/sysctl.d/60-same.conf', 'net.ipv4.ip_forward=1\n')
    view = sysctl.BootView(str(tmp_path), replace={ours: 'net.ipv4.ip_forward = 1\n'})
    assert view.overrides('net/ipv4/ip_forward', ours, '1') == []


def test_shadowing_file(tmp_path):
    write(tmp_path, '/etc/sysctl.d/50-x.conf', 'a = 1\n')
    assert sysctl.shadowing_file('/usr/lib/sysctl.d/50-x.conf', str(tmp_path)) == '/etc/sysctl.d/50-x.conf'
    assert sysctl.shadowing_file('/etc/sysctl.d/50-x.conf', str(tmp_path)) is None
    assert sysctl.shadowing_file('/etc/sysctl.d/60-new.conf', str(tmp_path)) is None


def test_render_keeps_other_lines_rewrites_in_place_and_drops_duplicates():
    existing = '# mine\nkernel.x = 5\nnet.ipv4.ip_forward = 0\nnet.ipv4.ip_forward = 0\n'
    text = sysctl.render(existing, [('net/ipv4/ip_forward', '1', False), ('net/bridge/bridge-nf-call-iptables', '1', True)], 'H')
    assert text == '# mine\nkernel.x = 5\nnet.ipv4.ip_forward = 1\n-net.bridge.bridge-nf-call-iptables = 1\n'
    assert sysctl.render(text, [('net/ipv4/ip_forward', '1', False), ('net/bridge/bridge-nf-call-iptables', '1', True)], 'H') == text


def test_render_new_file_has_header_and_slash_form_for_dotted_names():
    text = sysctl.render('', [('net/ipv4/conf/eth0.10/forwarding', '1', True)], 'line one\nline two')
    assert text == '# line one\n# line two\n-net/ipv4/conf/eth0.10/forwarding = 1\n'
    assert sysctl.file_values(text) == {'net/ipv4/conf/eth0.10/forwarding': '1'}


def test_runtime_read_and_write(tmp_path):
    write(tmp_path, '/net/ipv4/ip_forward', '0\n')
    proc = str(tmp_path)
    assert sysctl.read_runtime('net/ipv4/ip_forward', proc) == '0'
    sysctl.write_runtime('net/ipv4/ip_forward', '1', proc)
    assert sysctl.read_runtime('net/ipv4/ip_forward', proc) == '1'
    assert sysctl.read_runtime('net/ipv4/nothing', proc) is None
    with pytest.raises(sysctl.SysctlError, match='cannot set net.ipv4.nope.x'):
        sysctl.write_runtime('net/ipv4/nope/x', '1', proc)
