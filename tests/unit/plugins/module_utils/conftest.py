# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every test gets its own journal directory: no driver test writes /var/lib/netfleet on this machine."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._network import journal


@pytest.fixture(autouse=True)
def journal_dir(tmp_path, monkeypatch):
    directory = str(tmp_path / 'journal')
    monkeypatch.setattr(journal, 'DEFAULT_DIR', directory)
    return directory
