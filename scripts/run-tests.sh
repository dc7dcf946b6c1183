#!/usr/bin/env bash
# Runs every check of `make test`, stage by stage, and ends with a readable summary.
# Usage: scripts/run-tests.sh [stage ...]   stages: lint sanity unit docs integration lab
# A stage's full output goes to .tmp/test-logs/<stage>.log; failures print its tail.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
# NETFLEET_VENV / TEST_PYTHON / TEST_LOG_PREFIX let scripts/controller-matrix.sh run the same stages
# with another controller (ansible-core and Python); SANITY_TESTS limits sanity to some tests.
VBIN=${NETFLEET_VENV:-$ROOT/.venv}/bin
TEST_PYTHON=${TEST_PYTHON:-3.11}
LOGS=$ROOT/.tmp/test-logs
mkdir -p "$LOGS"
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
export PATH=$VBIN:$PATH
ALL_STAGES=(lint sanity unit docs ee integration lab controllers)
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=("${ALL_STAGES[@]}")

# ansible-test needs the collection at .../ansible_collections/<ns>/<name>; stage a copy of
# exactly the files git would ship (tracked and new, not ignored).
collection_copy() {
  # Outside the checkout: inside it, ansible-test would ask git and see only ignored files.
  # One copy per run, so two checkouts (or two runs) never overwrite each other's copy.
  local base
  base=/tmp/netfleet-ac-$(echo "$ROOT" | md5sum | cut -c1-8)-$$
  local dest=$base/ansible_collections/netfleet/docker
  rm -rf "$base" && mkdir -p "$dest"
  (git ls-files -co --exclude-standard 2>/dev/null || find . -type f -not -path './.git/*') \
    | grep -vE '^(\.venv|\.collections|\.cache|\.tmp)/' \
    | rsync -a --files-from=- "$ROOT/" "$dest/"
  echo "$dest"
}

# ansible-lint at the production profile over the whole checkout (.ansible-lint excludes only
# generated and machine-local trees; no skipped or downgraded rules, and --strict makes its
# warnings count too), then the function-length bar of plugins/ (60 lines).
stage_lint() {
  local rc=0
  echo "--- ansible-lint --profile production ---"
  "$VBIN/ansible-lint" --offline --strict --profile production --nocolor -f pep8 || rc=1
  echo "--- scripts/check_function_length.py (plugins/, limit 60 lines) ---"
  python3 scripts/check_function_length.py || rc=1
  return $rc
}

stage_sanity() {
  local dest; dest=$(collection_copy)
  local pip_version; pip_version=$(grep -oP "pip='\K[0-9.]+" "$VBIN"/../lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
  local standin=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
  mkdir -p "$(dirname "$standin")"
  cmp -s scripts/get_pip_standin.py "$standin" || cp scripts/get_pip_standin.py "$standin"
  local only=() test
  for test in ${SANITY_TESTS:-}; do only+=(--test "$test"); done
  (cd "$dest" && "$VBIN/ansible-test" sanity --local --requirements --python "$TEST_PYTHON" --color no "${only[@]}" "$@")
  local rc=$?
  local ignores; ignores=$(cat "$ROOT"/tests/sanity/ignore-*.txt 2>/dev/null | grep -cv '^\s*$' || true)
  if [ "${ignores:-0}" != "0" ]; then echo "sanity: tests/sanity/ignore-*.txt has $ignores entries; the project keeps zero"; return 1; fi
  return $rc
}

# Unit tests with the coverage of plugins/module_utils (every file, imported by a test or not:
# --cov takes the directory, not the ansible_collections.* package name, which would drop the
# files no test imports). The table and a total line are printed; below 85 % the stage fails.
stage_unit() {
  local coverage=(--cov="$ROOT/plugins/module_utils" --cov-report=term --cov-fail-under=85)
  # Another controller's venv (controller matrix) runs the same tests without measuring again.
  [ -n "${NETFLEET_VENV:-}" ] && coverage=()
  COVERAGE_FILE=$ROOT/.tmp/unit.coverage "$VBIN/pytest" -q tests/unit tests/report "${coverage[@]}"
}

# The operator docs: .venv-docs from docs/requirements.txt (built once), then docs/build.sh:
# antsibull-docs lint, the generated reference, sphinx-build -W. Output: docs/_build/html.
stage_docs() {
  make --no-print-directory docs
}

# Stages that use the one Docker engine or the one lab of this machine take a machine-wide lock,
# so two checkouts (or a developer's run beside CI's) wait for each other instead of colliding.
with_lock() {
  local lock=/tmp/netfleet-$1.lock; shift
  if command -v flock >/dev/null; then flock "$lock" "$@"; else "$@"; fi
}

stage_integration() {
  local dest; dest=$(collection_copy)
  (cd "$dest" && with_lock outer-engine "$VBIN/ansible-test" integration --local --allow-destructive --python "$TEST_PYTHON" --color no -v "$@")
}

# The execution environment (issue 12): ansible-builder's context for ee/execution-environment.yml
# and the collection's own meta/execution-environment.yml, introspected (scripts/ee-check.sh).
stage_ee() {
  bash scripts/ee-check.sh
}

# The controller matrix (issue 12): ansible-core 2.18 / Python 3.11 and 2.21 / Python 3.13 run
# sanity, unit, integration and the Molecule fleet scenario; compile + import sanity on every
# target Python (scripts/controller-matrix.sh).
# Its static half (compile/import on every target Python, sanity and unit of both controllers:
# no engine, no lab) and then its integration on the outer engine (no lab; it waits for the
# outer-engine lock, which the lab stage holds while pytest tests/lab watches the outer engine)
# start in the background with the lab stage when both stages run; the Molecule half runs here,
# after the lab, on the lab alone.
CONTROLLERS_STATIC_PID=''
start_controllers_static() {
  case " ${STAGES[*]} " in *" controllers "*) ;; *) return 0 ;; esac
  bash scripts/controller-matrix.sh static outer > "$LOGS/controllers-static.log" 2>&1 &
  CONTROLLERS_STATIC_PID=$!
}

stage_controllers() {
  local rc=0
  if [ -n "$CONTROLLERS_STATIC_PID" ]; then
    wait "$CONTROLLERS_STATIC_PID" || rc=1
    echo "--- static and outer-engine half (ran beside the lab stage): .tmp/test-logs/controllers-static.log"
    grep -E '^=== ' "$LOGS/controllers-static.log"
    with_lock lab bash scripts/controller-matrix.sh lab || rc=1
  else
    with_lock lab bash scripts/controller-matrix.sh || rc=1
  fi
  return $rc
}

stage_lab() {
  start_controllers_static
  # The controllers stage runs the Molecule fleet scenario on its two controllers: not a third time here.
  local skip=''
  case " ${STAGES[*]} " in *" controllers "*) skip=${CONTROLLER_SCENARIO:-fleet} ;; esac
  if [ -x lab/run-lab-tests.sh ] || [ -f lab/run-lab-tests.sh ]; then
    LAB_TEST_SKIP_SCENARIOS=$skip with_lock lab bash lab/run-lab-tests.sh
  else
    echo "lab: lab/run-lab-tests.sh is missing"; return 1
  fi
}

trap 'rm -rf /tmp/netfleet-ac-$(echo "$ROOT" | md5sum | cut -c1-8)-$$' EXIT
declare -A RESULT TIME
failed=0 passed=0
for stage in "${STAGES[@]}"; do
  echo "=== $stage ($(date +%H:%M:%S)) ==="
  start=$(date +%s)
  "stage_$stage" > "$LOGS/${TEST_LOG_PREFIX:-}$stage.log" 2>&1
  rc=$?
  TIME[$stage]=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then
    RESULT[$stage]=PASS; passed=$((passed + 1))
    tail -3 "$LOGS/${TEST_LOG_PREFIX:-}$stage.log"
  else
    RESULT[$stage]="FAIL (exit $rc)"; failed=$((failed + 1))
    echo "--- last 60 lines of $LOGS/${TEST_LOG_PREFIX:-}$stage.log ---"
    tail -60 "$LOGS/${TEST_LOG_PREFIX:-}$stage.log"
  fi
done

echo
echo "=== summary ==="
for stage in "${STAGES[@]}"; do
  printf '  %-12s %-16s %5ss   log: .tmp/test-logs/%s.log\n' "$stage" "${RESULT[$stage]}" "${TIME[$stage]}" "$stage"
done
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
