#!/usr/bin/env bash
# Builds the operator docs to docs/_build/html (`make docs` runs this after building .venv-docs).
#
#   1. antsibull-docs lint-collection-docs --plugin-docs: the collection's own plugin and role
#      docs (markup, references to options that do not exist). It runs in the background while
#      the next steps run, and fails the build at the end. DOCS_LINT=0 skips it.
#   2. antsibull-docs collection: a reStructuredText page per module, filter and role, generated
#      from the collection's DOCUMENTATION / argument specs, into docs/_build/reference.
#   3. Assembly of the Sphinx source tree docs/_build/src: the Markdown pages of docs/ (every
#      *.md; index.md's toctree picks up new ones with a glob) plus reference/.
#   4. sphinx-build -W --keep-going with docs/conf.py, from scratch: every warning is an error.
#
# Offline: no Galaxy, no intersphinx download (docs/conf.py).
# Usage: docs/build.sh        env: DOCS_VENV (default .venv-docs), DOCS_LINT (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VBIN=${DOCS_VENV:-$ROOT/.venv-docs}/bin
BUILD=$ROOT/docs/_build
GEN=$BUILD/reference
SRC=$BUILD/src

for tool in antsibull-docs sphinx-build ansible-doc; do
  [ -x "$VBIN/$tool" ] || { echo "docs: $VBIN/$tool is missing; run \`make docs\` (it builds .venv-docs from docs/requirements.txt)" >&2; exit 2; }
done
command -v rsync >/dev/null || { echo "docs: rsync is missing (apt-get install rsync, or make deps)" >&2; exit 2; }
if [ ! -e .collections/ansible_collections/netfleet/docker/galaxy.yml ]; then
  echo "docs: .collections/ansible_collections/netfleet/docker does not point at this checkout; run \`make link\`" >&2
  exit 2
fi

# antsibull-docs runs `ansible` / `ansible-doc` from PATH; they must find this checkout and only it
# (not a snapshot of netfleet.docker that molecule or ansible-galaxy may have put in ~/.ansible).
export PATH=$VBIN:$PATH
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH=$ROOT/.collections
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_NOCOLOR=1

step() { printf 'docs: %-46s' "$1"; STEP_START=$(date +%s%N); }
done_step() { local ms=$(( ($(date +%s%N) - STEP_START) / 1000000 )); printf ' %3d.%ds\n' $((ms / 1000)) $((ms % 1000 / 100)); }
TOTAL_START=$(date +%s)

mkdir -p "$BUILD"
LINT_PID=
# A failing step ends the script; the lint running in the background goes with it.
trap 'if [ -n "$LINT_PID" ]; then kill "$LINT_PID" 2>/dev/null || true; fi' EXIT
if [ "${DOCS_LINT:-1}" != "0" ]; then
  # Runs while the pages are generated and built; its result is reported at the end.
  LINT_START=$(date +%s)
  "$VBIN/antsibull-docs" lint-collection-docs --plugin-docs . > "$BUILD/lint.log" 2>&1 &
  LINT_PID=$!
fi

step "generate reference pages (antsibull-docs)"
# antsibull-docs wants a destination directory that only its owner can write to.
mkdir -p "$GEN" && chmod 700 "$GEN"
"$VBIN/antsibull-docs" collection --use-current --squash-hierarchy --fail-on-error --cleanup everything \
  --no-add-antsibull-docs-version --dest-dir "$GEN" netfleet.docker > "$BUILD/antsibull-docs.log" 2>&1 \
  || { cat "$BUILD/antsibull-docs.log" >&2; exit 1; }
done_step

step "assemble the source tree"
mkdir -p "$SRC"
rsync -a --delete --include='*.md' --exclude='*' docs/ "$SRC/"
rsync -a --delete "$GEN/" "$SRC/reference/"
done_step

# Always from scratch: an incremental Sphinx build keeps the pages of deleted sources and the old
# navigation (titles, new pages) in pages that did not change. A full build takes a few seconds,
# less than the lint running next to it.
step "sphinx-build -W (warnings are errors)"
rm -rf "$BUILD/html" "$BUILD/doctrees"
"$VBIN/sphinx-build" -b html -d "$BUILD/doctrees" -c docs -W --keep-going -q "$SRC" "$BUILD/html"
done_step

if [ -n "$LINT_PID" ]; then
  step "lint the collection's docs (in parallel)"
  lint_rc=0
  wait "$LINT_PID" || lint_rc=$?
  LINT_PID=
  if [ $lint_rc -ne 0 ]; then
    echo " FAILED (exit $lint_rc)"; cat "$BUILD/lint.log" >&2
    echo "docs: antsibull-docs lint-collection-docs --plugin-docs found the problems above" >&2
    exit 1
  fi
  printf ' %3ds in all\n' $(( $(date +%s) - LINT_START ))
fi

pages=$(find "$BUILD/html" -name '*.html' -not -path '*/_static/*' | wc -l)
echo "docs: OK, $pages pages in docs/_build/html (open docs/_build/html/index.html), $(( $(date +%s) - TOTAL_START ))s"
