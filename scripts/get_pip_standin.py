# Stand-in for the get-pip.py that ansible-test downloads to bootstrap pip in its sanity
# virtualenvs: that download host is not reachable from these machines, PyPI is. ansible-test
# runs this file with get-pip's arguments (pip==X, setuptools/wheel pins or --no-* flags).
# ensurepip runs in a child process because in-process it points PIP_CONFIG_FILE at
# /dev/null, which would hide the machine's pip configuration (CA bundle, mirrors).
import subprocess
import sys

subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check', '-q'] + args)
