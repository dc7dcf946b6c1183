# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host lease (_common/lease.py): take, renew, refuse, expire, release."""

from __future__ import annotations

import json
import threading

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._common import lease
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError


def test_take_refuse_release(tmp_path):
    path = str(tmp_path / 'dir' / 'x.lease')
    assert lease.take(path, 'a', 60, what='test', clock=lambda: 1000.0) is None
    assert lease.read(path) == lease.Lease(path=path, owner='a', since=1000.0, expires=1060.0, what='test')
    with pytest.raises(lease.LeaseHeld, match="another run 'a' \\(since 1970-01-01T00:16:40Z"):
        lease.take(path, 'b', 60, clock=lambda: 1010.0)
    assert lease.held_by_other(path, 'b', now=1010.0).owner == 'a'
    assert lease.held_by_other(path, 'a', now=1010.0) is None
    assert lease.release(path, 'b') is False and lease.read(path).owner == 'a'
    assert lease.release(path, 'a') is True and lease.read(path) is None


def test_renewal_keeps_since_and_expiry_hands_over(tmp_path):
    path = str(tmp_path / 'x.lease')
    lease.take(path, 'a', 60, clock=lambda: 1000.0)
    lease.take(path, 'a', 60, clock=lambda: 1050.0)
    assert lease.read(path).since == 1000.0 and lease.read(path).expires == 1110.0
    assert lease.held_by_other(path, 'b', now=1111.0) is None
    took_over = lease.take(path, 'b', 60, clock=lambda: 1111.0)
    assert took_over.owner == 'a' and lease.read(path).owner == 'b'


def test_a_file_that_is_not_a_lease_is_no_lease(tmp_path):
    path = tmp_path / 'x.lease'
    path.write_text('{"owner": "a"}')
    assert lease.read(str(path)) is None
    path.write_text('garbage')
    assert lease.read(str(path)) is None and lease.take(str(path), 'b', 5) is None


def test_two_takers_at_once_one_wins(tmp_path):
    path = str(tmp_path / 'x.lease')
    outcomes = []

    def taker(owner):
        try:
            lease.take(path, owner, 60)
            outcomes.append(('took', owner))
        except lease.LeaseHeld:
            outcomes.append(('refused', owner))
    threads = [threading.Thread(target=taker, args=('run-%d' % index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = [owner for outcome, owner in outcomes if outcome == 'took']
    assert len(took) == 1 and lease.read(path).owner == took[0]
    with open(path) as stream:
        assert json.load(stream)['owner'] == took[0]


def test_an_unwritable_directory_is_a_host_error(tmp_path):
    blocker = tmp_path / 'blocker'
    blocker.write_text('a file where a directory should be')
    with pytest.raises(HostError, match='cannot create the lease'):
        lease.take(str(blocker / 'x.lease'), 'a', 5)
