# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of the connection layer: version parsing, feature gates, error translation."""

from __future__ import annotations

import docker.errors
import pytest
import requests

from ansible_collections.netfleet.docker.plugins.module_utils._common import client


@pytest.mark.parametrize('text, version', [
    ('20.10.24+dfsg1', (20, 10, 24)),
    ('26.1.5', (26, 1, 5)),
    ('1.41', (1, 41)),
    ('28.0.0-rc.1', (28, 0, 0)),
    ('garbage', (0,)),
    ('', (0,)),
])
def test_parse_version(text, version):
    assert client.parse_version(text) == version


def test_features_for_versions():
    old = client.features_for((20, 10, 24))
    assert old['legacy_kv_overlay'] is True
    assert old['dockerd_validate'] is False
    new = client.features_for((26, 1, 5))
    assert new['legacy_kv_overlay'] is False
    assert new['dockerd_validate'] is True
    assert new['default_network_opts'] is True
    assert new['ip_forward_no_drop'] is False
    assert client.features_for((23, 0))['legacy_kv_overlay'] is False
    assert client.features_for((28, 0, 0))['ip_forward_no_drop'] is True


class _Api:
    def __init__(self, api_version='1.41', engine_version='20.10.24'):
        self.api_version = api_version
        self._engine_version = engine_version

    def version(self):
        return dict(Version=self._engine_version)


def test_require_api():
    engine = client.Engine(_Api('1.24', '1.12.6'), 'tcp://h:2376')
    engine.require_api('1.24', 'x')
    with pytest.raises(client.EngineError) as exc:
        engine.require_api('1.30', 'scope', "network 'web'")
    assert str(exc.value) == ("option 'scope' of network 'web' needs Docker API 1.30 or later, but the engine at "
                              "tcp://h:2376 speaks API 1.24 (engine 1.12.6); upgrade the engine or drop the option")


def test_require_engine():
    engine = client.Engine(_Api('1.45', '26.1.5'), 'unix:///s')
    engine.require_engine('dockerd_validate', 'dockerd --validate')
    with pytest.raises(client.EngineError, match=r'legacy overlay was removed in Docker 23.0; the engine at unix:///s is 26.1.5'):
        engine.require_engine('legacy_kv_overlay', 'legacy overlay')
    with pytest.raises(client.EngineError, match=r'needs Docker 28.0 or later'):
        engine.require_engine('ip_forward_no_drop', 'ip-forward-no-drop')


def test_call_translates_api_errors():
    engine = client.Engine(_Api(), 'unix:///s')

    def refuse():
        raise docker.errors.APIError('500 Server Error', explanation=b'network web not found')
    with pytest.raises(client.EngineError, match=r'the engine at unix:///s refused to remove network web: network web not found'):
        engine.call('remove network web', refuse)
    assert engine.call('add', lambda a, b=0: a + b, 1, b=2) == 3


def test_call_translates_unreachable(tmp_path):
    engine = client.Engine(_Api(), 'unix://%s/docker.sock' % tmp_path)

    def unreachable():
        raise requests.exceptions.ConnectionError('refused')
    with pytest.raises(client.EngineError, match='cannot reach the Docker engine at unix://.*no socket exists at'):
        engine.call('list networks', unreachable)


def test_api_error_text_and_conflict():
    class Exc(Exception):
        explanation = b'conflict: name in use'
        status_code = 409
    assert client.api_error_text(Exc()) == 'conflict: name in use (HTTP 409)'
    assert client.is_conflict(Exc())
    assert not client.is_conflict(ValueError('x'))
    assert client.api_error_text(ValueError('plain')) == 'plain'
