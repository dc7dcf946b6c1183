#!/usr/bin/env bash
# The controller matrix of `make test` (its `controllers` stage):
#   core218  ansible-core 2.18 on Python 3.11 (the oldest requires_ansible allows)
#   core221  ansible-core 2.21 on Python 3.13 (the newest)
# each runs sanity, unit and integration (scripts/run-tests.sh with that controller's venv) and
# the Molecule `fleet` scenario; `targets` runs compile and import sanity of the modules and
# module_utils for every target Python the collection supports (tests/config.yml: >= 3.9).
# Usage: scripts/controller-matrix.sh [core218] [core221] [targets] [static] [outer] [lab] [engine]
#         (default: all)
#   static  targets + sanity and unit of both controllers: needs no engine and no lab;
#   outer   integration of both controllers on the outer engine (no lab): make test runs static
#           and outer in the background while the lab stage runs (the lab stage holds the
#           outer-engine lock while pytest tests/lab watches the outer engine);
#   lab     the Molecule scenario of both controllers (the lab: after the lab stage);
#   engine  outer + lab.
# Pythons come from pyenv (PYENV_ROOT, default ~/.pyenv), as on the project's machines.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
TARGET_PYTHONS=(3.9 3.10 3.11 3.12 3.13)
declare -A CONTROLLER_PYTHON=([core218]=3.11 [core221]=3.13)
CONTROLLER_SCENARIO=${CONTROLLER_SCENARIO:-fleet}

# The interpreter of a pyenv-installed Python X.Y (the newest patch release present).
python_of() {
  local minor=$1 candidate found=''
  for candidate in "$PYENV_ROOT"/versions/"$minor".*/bin/python"$minor"; do
    [ -x "$candidate" ] && found=$candidate
  done
  if [ -z "$found" ] && command -v "python$minor" >/dev/null; then found=$(command -v "python$minor"); fi
  [ -n "$found" ] || { echo "controllers: no Python $minor found (pyenv install $minor, or put python$minor on PATH)" >&2; return 1; }
  echo "$found"
}

# .venv-<name> from tests/controllers/<name>.txt, rebuilt when the pins change.
controller_venv() {
  local name=$1 python pins=tests/controllers/$1.txt venv=$ROOT/.venv-$1
  python=$(python_of "${CONTROLLER_PYTHON[$name]}") || return 1
  if ! cmp -s "$pins" "$venv/.pins" 2>/dev/null; then
    rm -rf "$venv"
    "$python" -m venv "$venv" || return 1
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$pins" || return 1
    cp "$pins" "$venv/.pins"
  fi
  echo "$venv"
}

# Every target Python on PATH as pythonX.Y, so ansible-test --local finds them.
target_pythons_path() {
  local minor python dirs=''
  for minor in "${TARGET_PYTHONS[@]}"; do
    python=$(python_of "$minor") || return 1
    dirs=$dirs:$(dirname "$python")
  done
  echo "${dirs#:}"
}

# run_controller NAME [static|outer|lab|engine|all]: static = sanity + unit; outer = integration;
# lab = Molecule; engine = outer + lab.
run_controller() {
  local name=$1 part=${2:-all} venv start=$SECONDS rc=0 stages=()
  echo "=== controller $name ($part): ansible-core $(grep -oP '^ansible-core==\K.*' "tests/controllers/$name.txt") on Python ${CONTROLLER_PYTHON[$name]}"
  venv=$(controller_venv "$name") || return 1
  case $part in static|all) stages+=(sanity unit) ;; esac
  case $part in outer|engine|all) stages+=(integration) ;; esac
  if [ ${#stages[@]} -gt 0 ]; then
    NETFLEET_VENV=$venv TEST_PYTHON=${CONTROLLER_PYTHON[$name]} TEST_LOG_PREFIX=$name- \
      bash scripts/run-tests.sh "${stages[@]}" || rc=1
  fi
  if [[ $part =~ ^(lab|engine|all)$ ]]; then
    echo "--- controller $name: molecule test -s $CONTROLLER_SCENARIO"
    # reset: a state left by a run that died says "created", and test would skip the lab's bring-up
    PATH=$venv/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg "$venv/bin/molecule" reset -s "$CONTROLLER_SCENARIO" >/dev/null 2>&1
    PATH=$venv/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg "$venv/bin/molecule" test -s "$CONTROLLER_SCENARIO" \
      > ".tmp/test-logs/$name-molecule.log" 2>&1 || { rc=1; tail -60 ".tmp/test-logs/$name-molecule.log"; }
  fi
  echo "=== controller $name ($part): $([ $rc = 0 ] && echo PASSED || echo FAILED) in $((SECONDS - start))s"
  return $rc
}

run_targets() {
  local path start=$SECONDS rc=0 minor
  path=$(target_pythons_path) || return 1
  echo "=== target Pythons: compile and import sanity on ${TARGET_PYTHONS[*]}"
  for minor in "${TARGET_PYTHONS[@]}"; do
    PATH=$path:$PATH TEST_PYTHON=$minor TEST_LOG_PREFIX=py$minor- SANITY_TESTS="compile import" \
      bash scripts/run-tests.sh sanity || rc=1
  done
  echo "=== target Pythons: $([ $rc = 0 ] && echo PASSED || echo FAILED) in $((SECONDS - start))s"
  return $rc
}

mkdir -p .tmp/test-logs
WHAT=("$@")
[ ${#WHAT[@]} -eq 0 ] && WHAT=(targets core218 core221)
failed=0
for what in "${WHAT[@]}"; do
  case $what in
    core218|core221) run_controller "$what" || failed=1 ;;
    targets) run_targets || failed=1 ;;
    static) { run_targets && run_controller core218 static && run_controller core221 static; } || failed=1 ;;
    outer|lab|engine) { run_controller core218 "$what" && run_controller core221 "$what"; } || failed=1 ;;
    *) echo "controllers: unknown '$what' (core218, core221, targets, static, outer, lab, engine)" >&2; failed=1 ;;
  esac
done
exit $failed
