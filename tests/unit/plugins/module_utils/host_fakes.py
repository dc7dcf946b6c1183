# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small stand-in for AnsibleModule, for driving the host-side drivers (daemon_config,
ip_forward, address_plan) in unit tests: commands answer from a table, exit/fail raise."""

from __future__ import annotations


class Exited(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class Failed(Exception):
    def __init__(self, result):
        super().__init__(result.get('msg'))
        self.result = result


class FakeModule:
    """``commands`` maps the first word of a command (its basename) to (rc, out, err) or a callable
    taking the argument list; every command run is recorded in ``ran``."""

    def __init__(self, params, check_mode=False, diff=False, commands=None, binaries=None, tmpdir=None):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.commands = dict(commands or {})
        self.binaries = set(binaries if binaries is not None else self.commands)
        self.tmpdir = tmpdir
        self.ran = []
        self.warnings = []
        self.backups = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/bin/%s' % name if name in self.binaries else None

    def run_command(self, args, **kwargs):
        self.ran.append(list(args))
        answer = self.commands.get(args[0].rsplit('/', 1)[-1], (127, '', 'not found'))
        return answer(args) if callable(answer) else answer

    def warn(self, text):
        self.warnings.append(text)

    def backup_local(self, path):
        backup = path + '.bak'
        with open(path, 'rb') as source, open(backup, 'wb') as target:
            target.write(source.read())
        self.backups.append(backup)
        return backup

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, **result):
        raise Failed(result)


def run_driver(driver_class, module):
    """Run a driver to its end: ('exit' or 'fail', result)."""
    try:
        driver_class(module).run()
    except Exited as exc:
        return 'exit', exc.result
    except Failed as exc:
        return 'fail', exc.result
    raise AssertionError('the driver returned without exit_json or fail_json')
