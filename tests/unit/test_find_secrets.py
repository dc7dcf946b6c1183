# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secrets scan of the swarm scenario (extensions/molecule/swarm/files/find_secrets.py): it finds a token
that is printed, its secret half alone, an unknown token and a private key, and reports none of them in clear."""

from __future__ import annotations

import importlib.util
import os

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', 'extensions', 'molecule', 'swarm', 'files',
                      'find_secrets.py')
WORKER = 'SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx'
OTHER = 'SWMTKN-1-0q9w8e7r6t5y4u3i2o1p0a9s8d7f6g5h4j3k2l1z0x9c8v7b6n-7b6n5m4l3k2j1h0g9f8d7s6a5'


@pytest.fixture
def find_secrets():
    spec = importlib.util.spec_from_file_location('find_secrets', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def secrets(tmp_path):
    path = tmp_path / 'secrets'
    path.write_text('worker join token\t%s\n' % WORKER)
    return str(path)


def capture(tmp_path, text, name='stdout'):
    path = tmp_path / name
    path.write_text('TASK [Join the workers] ***\nok: [host3] => {"changed": true}\n' + text + '\nPLAY RECAP\n')
    return str(path)


@pytest.mark.parametrize('printed, found', [
    ('"msg": "worker token %s"' % WORKER, 'worker join token'),
    ('join failed: invalid token ...%s' % WORKER.rsplit('-', 1)[1], 'the secret part of worker join token'),
    ('"stdout": "%s"' % OTHER, 'something shaped like a swarm join token'),
    ('-----BEGIN EC PRIVATE KEY-----', 'a PEM private key'),
])
def test_a_leak_is_found_and_named_without_the_secret(find_secrets, secrets, tmp_path, capsys, printed, found):
    path = capture(tmp_path, printed)
    assert find_secrets.main(['find_secrets.py', secrets, path]) == 1
    out = capsys.readouterr().out
    assert '%s:3: %s' % (path, found) in out
    assert WORKER not in out and WORKER.rsplit('-', 1)[1] not in out and OTHER not in out


def test_a_clean_capture_and_a_directory_of_result_json(find_secrets, secrets, tmp_path, capsys):
    (tmp_path / 'tree').mkdir()
    capture(tmp_path, '{"censored": "the output has been hidden"}', name='tree/host1')
    assert find_secrets.main(['find_secrets.py', secrets, capture(tmp_path, 'nothing'), str(tmp_path / 'tree')]) == 0
    assert 'scanned 2 files' in capsys.readouterr().out


def test_no_secret_to_look_for_proves_nothing(find_secrets, tmp_path):
    empty = tmp_path / 'secrets'
    empty.write_text('')
    assert find_secrets.main(['find_secrets.py', str(empty), capture(tmp_path, 'x')]) == 2
