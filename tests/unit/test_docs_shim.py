# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docs name the host shim's interface and unit as the code makes them, and define host_index (issue 16 item 10)."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._host import macvlan_shim

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = ['docs/forwarding-and-macvlan.md', 'docs/modules.md', 'docs/troubleshooting.md', 'plugins/modules/macvlan_net.py']


def text(path):
    with open(os.path.join(REPO, path), encoding='utf-8') as f:
        return f.read()


@pytest.mark.parametrize('path', PAGES)
def test_unit_name_pattern_is_the_codes(path):
    names = set(re.findall(r'netfleet-shim-[<>\w-]+\.service', text(path)))
    assert names, path
    assert names <= {macvlan_shim.unit_name('<interface>'), macvlan_shim.unit_name('nfs-lan')}, names


@pytest.mark.parametrize('path', PAGES)
def test_every_shim_name_example_is_what_the_code_makes(path):
    # pairs written as "`network` gives `nfs-...`" (or C(...) in module docs)
    pairs = re.findall(r'[`(]([\w.-]+)[`)] gives [`C(]+(nfs-[\w-]+)', text(path))
    for network, shim in pairs:
        assert macvlan_shim.default_shim_name(network) == shim, (path, network, shim)
    assert 'first 11 characters' not in text(path)


@pytest.mark.parametrize('path', [p for p in PAGES if 'host_index' in text(p)])
def test_host_index_is_defined_where_it_is_used(path):
    assert re.search(r'host_index`?\s+is\s+not\s+a\s+variable\s+of\s+the\s+collection', text(path)), path


def test_long_names_do_not_share_a_shim():
    assert macvlan_shim.default_shim_name('storage_vlan40') == 'nfs-storag-863c'
    assert macvlan_shim.default_shim_name('lan') == 'nfs-lan'
    assert len(macvlan_shim.default_shim_name('x' * 40)) <= macvlan_shim.IFNAME_MAX
