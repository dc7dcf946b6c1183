# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find secrets in captured Ansible output (the swarm scenario's secrets scan, issue 11 item 6).

    find_secrets.py SECRETS_FILE PATH...

SECRETS_FILE holds one secret a line, as ``name<TAB>value`` (mode 0600, written with no_log: the values
are never on a command line). Every PATH (a file, or a directory searched recursively: the -vvv --diff
stdout and stderr of a run, the result JSON files of the tree callback) is searched for

- each secret's value, and its last dash-separated part (the secret half of a swarm join token, which
  a message that shortens or re-wraps the token would still carry);
- anything shaped like a swarm join token (``SWMTKN-1-...``) or a PEM private key header, known or not.

Each hit is printed as ``path:line: <what>`` with the secret itself replaced; exit 1 when anything is
found, 0 when nothing is, 2 on a usage error. The verify runs it once on a run that must be clean and
once on a run that prints a token on purpose (it must find it there: the scan can see a leak).
"""

import os
import re
import sys

PATTERNS = (
    ('something shaped like a swarm join token', re.compile(r'SWMTKN-1-[0-9a-z]{20,}-[0-9a-z]{10,}')),
    ('a PEM private key', re.compile(r'-----BEGIN [A-Z ]*PRIVATE KEY-----')),
)
# The secret part of a token is 25 characters; shorter fragments would match by chance.
MIN_FRAGMENT = 16


def read_secrets(path):
    """[(name, needle)] to look for: each value, and its last dash-separated part when long enough."""
    needles = []
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            name, _sep, value = line.rstrip('\n').partition('\t')
            if not value:
                continue
            needles.append((name, value))
            tail = value.rsplit('-', 1)[-1]
            if tail != value and len(tail) >= MIN_FRAGMENT:
                needles.append(('the secret part of ' + name, tail))
    return needles


def files_under(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, _dirs, names in os.walk(path):
                for name in sorted(names):
                    yield os.path.join(root, name)
        elif os.path.exists(path):
            yield path


def scan(paths, needles):
    """[(path, line number, what)] for every hit; the secret values never leave this function."""
    hits = []
    for path in files_under(paths):
        with open(path, encoding='utf-8', errors='replace') as handle:
            for number, line in enumerate(handle, 1):
                hits.extend((path, number, name) for name, needle in needles if needle in line)
                hits.extend((path, number, what) for what, pattern in PATTERNS if pattern.search(line))
    return hits


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    needles = read_secrets(argv[1])
    if not needles:
        sys.stderr.write('no secret in %s: nothing to look for, which would prove nothing\n' % argv[1])
        return 2
    scanned = list(files_under(argv[2:]))
    hits = scan(scanned, needles)
    for path, number, what in hits:
        print('%s:%d: %s' % (path, number, what))
    size = sum(os.path.getsize(path) for path in scanned)
    print('scanned %d files (%d bytes) for %d secrets and %d patterns: %d hits'
          % (len(scanned), size, len(needles), len(PATTERNS), len(hits)))
    return 1 if hits else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
