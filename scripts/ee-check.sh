#!/usr/bin/env bash
# The execution-environment check of `make test` (`make ee` runs the same):
#   1. builds the collection tarball and the EE build context with `ansible-builder create`
#      from ee/execution-environment.yml into .tmp/ee/context (no image: no registry here);
#   2. checks the context holds the Containerfile, the collection and its galaxy requirements;
#   3. installs the tarball into a scratch collections path and runs `ansible-builder introspect`
#      on it: the collection's meta/execution-environment.yml must yield its Python and system
#      requirements (what the image build would install).
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
VENV=$ROOT/.venv-ee
WORK=$ROOT/.tmp/ee
PY=${PY:-python3}

if ! cmp -s tests/ee/requirements.txt "$VENV/.pins" 2>/dev/null; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/ee/requirements.txt
  cp tests/ee/requirements.txt "$VENV/.pins"
fi

rm -rf "$WORK" && mkdir -p "$WORK/collections"
"$ROOT/.venv/bin/ansible-galaxy" collection build --force --output-path "$WORK/collections" . >/dev/null
mv "$WORK"/collections/netfleet-docker-*.tar.gz "$WORK/collections/netfleet-docker.tar.gz"
"$VENV/bin/ansible-builder" create -f ee/execution-environment.yml -c "$WORK/context" --output-filename Containerfile

fail() { echo "ee: $*" >&2; exit 1; }
context=$WORK/context
[ -s "$context/Containerfile" ] || fail "ansible-builder wrote no Containerfile"
[ -s "$context/_build/collections/netfleet-docker.tar.gz" ] || fail "the collection tarball is not in the build context"
grep -q 'COPY _build/collections/ /build/collections/' "$context/Containerfile" || fail "the Containerfile does not copy the collection"
grep -q 'netfleet-docker.tar.gz' "$context/_build/requirements.yml" || fail "the galaxy requirements do not name the collection"

scratch=$WORK/installed
"$ROOT/.venv/bin/ansible-galaxy" collection install --force -p "$scratch" "$WORK/collections/netfleet-docker.tar.gz" >/dev/null
"$VENV/bin/ansible-builder" introspect "$scratch" > "$WORK/introspect.txt"
for wanted in 'netaddr>=1.3,<2' 'docker>=7.1,<8' 'openssh-client \[platform:dpkg\]'; do
  grep -q "$wanted" "$WORK/introspect.txt" || fail "introspect does not list '$wanted' (see $WORK/introspect.txt)"
done
echo "ee: build context in $context ($(wc -l < "$context/Containerfile") Containerfile lines); introspect lists:"
sed 's/^/  /' "$WORK/introspect.txt"
