# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx configuration of the operator docs (`make docs`, docs/build.sh).

The source tree Sphinx reads is assembled by docs/build.sh in docs/_build/src: the Markdown
pages of docs/ (read by myst-parser) and, under reference/, the per-plugin and per-role pages
antsibull-docs generates from the collection's own documentation.

Nothing is downloaded. The generated pages point at a few labels of the Ansible docs
(ANSIBLE_LABELS below); they resolve through a small intersphinx inventory written here into
docs/_build, so they link to docs.ansible.com without fetching its inventory. A generated page
that needs another label fails the build (-W) with "undefined label": add it below.
"""

from __future__ import annotations

import os
import zlib

project = 'netfleet.docker'
author = 'netfleet.docker contributors'
copyright = 'netfleet.docker contributors, GPL-3.0-or-later'  # pylint: disable=redefined-builtin
html_title = 'netfleet.docker operator docs'
html_short_title = 'netfleet.docker'

extensions = ['myst_parser', 'sphinx_antsibull_ext', 'sphinx.ext.intersphinx']
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['reference/environment_variables.rst']

myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence', 'deflist']

pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
# No links to ansible.com's own sites in the side bar.
html_theme_options = {'show_extranav': False, 'display_version': False}
html_show_sphinx = False
html_copy_source = False
html_use_index = False
html_domain_indices = False

default_role = 'any'
nitpicky = True

ANSIBLE_DOCS = 'https://docs.ansible.com/projects/ansible/devel/'
ANSIBLE_LABELS = {
    # label: (page, anchor, title)
    'common_return_values': ('reference_appendices/common_return_values.html', 'common-return-values', 'Return Values'),
    'ansible_configuration_settings': ('reference_appendices/config.html', 'ansible-configuration-settings',
                                       'Ansible Configuration Settings'),
}


def write_inventory(path, labels):
    """Write a Sphinx objects.inv (version 2) holding std:label entries."""
    lines = ''.join('%s std:label -1 %s#%s %s\n' % (name, page, anchor, title)
                    for name, (page, anchor, title) in sorted(labels.items()))
    header = ('# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
              '# The remainder of this file is compressed using zlib.\n')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as stream:
        stream.write(header.encode('utf-8') + zlib.compress(lines.encode('utf-8')))


ANSIBLE_INVENTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), '_build', 'ansible_devel.inv')
write_inventory(ANSIBLE_INVENTORY, ANSIBLE_LABELS)
intersphinx_mapping = {'ansible_devel': (ANSIBLE_DOCS, ANSIBLE_INVENTORY)}
intersphinx_timeout = 5
