"""labctl: the lab's command line (`.venv/bin/python lab/labctl.py --help`).

The entry point Makefile, lab/run-lab-tests.sh, tests/lab and the Molecule scenarios call;
the code is the package lab/netfleet_lab/ (netfleet_lab.cli has the usage).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netfleet_lab.cli import main  # noqa: E402  (after the path it is found on)

if __name__ == "__main__":
    sys.exit(main(sys.argv))
