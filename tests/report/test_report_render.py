# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's HTML report rendered by a real headless browser (Debian's chromium).

The report of a sample run (tests/report/sample_fleet.py: 3 and 12 lab-shaped hosts, one leak) is
opened from file:// with the network off: the DOM must hold the fleet diagram and the verdicts, and
the screenshot (kept in .tmp/test-logs/) must show a page, not a blank one. Skipped, saying why,
when /usr/bin/chromium is absent (Debian package: chromium).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
LOGS = os.path.join(ROOT, '.tmp', 'test-logs')
CHROMIUM = os.environ.get('NETFLEET_CHROMIUM', '/usr/bin/chromium')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--window-size=1400,1000']

sys.path.insert(0, HERE)
import sample_fleet  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason='%s is absent: apt-get install -y chromium to render the report' % CHROMIUM)


def _report(tmp_path, hosts):
    probes, plan, result = sample_fleet.sample_run(hosts)
    page = sample_fleet.verify_report_html(result, plan, probes, dict(mode='sample', run='browser test'))
    path = tmp_path / ('report-%d.html' % hosts)
    path.write_text(page, encoding='utf-8')
    return path


def _chromium(tmp_path, *arguments):
    command = [CHROMIUM] + FLAGS + ['--user-data-dir=%s' % (tmp_path / 'profile')] + list(arguments)
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors='replace')[-2000:]
    return done.stdout.decode('utf-8', errors='replace')


def png_pixels(path):
    """(width, height, set of distinct RGB colours) of an 8-bit RGB/RGBA PNG, with no imaging library."""
    with open(path, 'rb') as stream:
        data = stream.read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    position, chunks = 8, {}
    while position < len(data):
        length, kind = struct.unpack('>I4s', data[position:position + 8])
        chunks.setdefault(kind, []).append(data[position + 8:position + 8 + length])
        position += 12 + length
    width, height, depth, colour_type = struct.unpack('>IIBB', chunks[b'IHDR'][0][:10])
    assert depth == 8 and colour_type in (2, 6), 'unexpected PNG format %d/%d' % (depth, colour_type)
    channels = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b''.join(chunks[b'IDAT'])), width * channels
    colours, previous = set(), bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous, channels)
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, channels * 7))  # every 7th pixel is enough
        previous = line
    return width, height, colours


def _unfilter(kind, line, previous, bpp):
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            guess = left + up - corner
            nearest = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))[2]
            line[i] = (line[i] + nearest) & 0xFF
    return line


@pytest.mark.parametrize('hosts', [3, 12])
def test_the_report_renders_in_chromium(tmp_path, hosts):
    report = _report(tmp_path, hosts)
    dom = _chromium(tmp_path, '--dump-dom', report.as_uri())
    assert '<svg' in dom and 'id="fleet"' in dom
    assert 'data-host="lab%d"' % hosts in dom and 'Fleet reachability' in dom
    assert 'demo_overlay (overlay, 10.236.0.0/24) spans %d hosts' % hosts in dom
    assert 'nfprobe-lab2-demo_frontend-1' in dom[dom.index('id="failures"'):], 'the failure names its probes'
    assert '>FAIL<' in dom and '>PASS<' in dom

    os.makedirs(LOGS, exist_ok=True)
    screenshot = os.path.join(LOGS, 'verify-report-%dhosts.png' % hosts)
    if os.path.exists(screenshot):
        os.remove(screenshot)
    _chromium(tmp_path, '--screenshot=%s' % screenshot, report.as_uri())
    width, height, colours = png_pixels(screenshot)
    assert (width, height) == (1400, 1000)
    # A blank page has one colour; the report has text, the red and green verdicts and the network colours.
    assert len(colours) > 20, 'the screenshot looks blank: %d colours' % len(colours)
    assert any(c[0] > 180 and c[1] < 80 and c[2] < 80 for c in colours), 'no red (the failure) on the screenshot'
    assert any(c[1] > 100 and c[0] < 60 and c[2] < 90 for c in colours), 'no green (the passes) on the screenshot'
    print('screenshot: %s (%d colours)' % (screenshot, len(colours)))
