# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the checkout importable as ansible_collections.netfleet.docker for plain pytest.

`make venv` links .collections/ansible_collections/netfleet/docker -> the checkout; this does
the same if the link is missing, so `.venv/bin/pytest -q tests/unit` works from a fresh clone.
Under ansible-test the collection is importable already and nothing here changes sys.path.
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTIONS = os.path.join(_ROOT, '.collections')


def _collection_importable():
    try:
        from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        for name in [name for name in sys.modules if name == 'ansible_collections' or name.startswith('ansible_collections.')]:
            del sys.modules[name]
        return False
    return True


def _link_checkout():
    namespace_dir = os.path.join(_COLLECTIONS, 'ansible_collections', 'netfleet')
    os.makedirs(namespace_dir, exist_ok=True)
    link = os.path.join(namespace_dir, 'docker')
    if not os.path.lexists(link):
        os.symlink(os.path.join('..', '..', '..'), link)
    if _COLLECTIONS not in sys.path:
        sys.path.insert(0, _COLLECTIONS)


if not _collection_importable():
    _link_checkout()
