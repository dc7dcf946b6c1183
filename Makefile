# netfleet.docker — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VBIN := $(VENV)/bin
LAB_HOSTS ?= 3
LAB_IMAGE ?= trixie
export LAB_HOSTS LAB_IMAGE
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help demo test venv deps engine link sanity unit integration lab-up lab-down lab-test molecule build pin bench clean test-image docs

help:
	@echo "make demo        lab fleet up (3 forky hosts, Docker 28.5) + playbooks/site.yml against it"
	@echo "make test        install what is missing, start dockerd, run every check"
	@echo "make venv        .venv with ansible-playbook, ansible-doc, ansible-galaxy"
	@echo "make lab-up / lab-down   (LAB_HOSTS=$(LAB_HOSTS) LAB_IMAGE=$(LAB_IMAGE))"
	@echo "make bench       benchmarks against the incumbent and the SDK floor"
	@echo "make bench-fleet site.yml vs community.docker + ansible.posix on 3/8/16 lab hosts (BENCH_FLEET_SIZES, BENCH_FLEET_REPS)"

$(VENV)/.stamp: requirements.txt
	@test -x $(VBIN)/python || $(PY) -m venv $(VENV)
	$(VBIN)/pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

venv: $(VENV)/.stamp link

# The checkout is the collection; ansible.cfg looks for it under .collections/.
link:
	@mkdir -p .collections/ansible_collections/netfleet
	@ln -sfn ../../.. .collections/ansible_collections/netfleet/docker

deps:
	@bash scripts/install-deps.sh

engine: deps
	@bash scripts/ensure-engine.sh

test-image: engine
	@bash scripts/test-image.sh

test: deps engine venv test-image
	@bash scripts/run-tests.sh

sanity: venv
	@bash scripts/run-tests.sh sanity

unit: venv
	@bash scripts/run-tests.sh unit

integration: venv engine test-image
	@bash scripts/run-tests.sh integration

build: venv
	@mkdir -p .tmp && $(VBIN)/ansible-galaxy collection build --force --output-path .tmp/

pin:
	$(PY) -m venv .tmp/pin-venv && .tmp/pin-venv/bin/pip install -q -r requirements.in
	(echo '# Pinned, complete set for .venv (generated from requirements.in by `make pin`).'; .tmp/pin-venv/bin/pip freeze) > requirements.txt

clean:
	rm -rf .tmp tests/output

# ---- the lab: a fleet of Docker hosts on this machine (docs/lab.md) ----------------------
# LAB_HOSTS, LAB_IMAGE (forky|trixie|bookworm), LAB_IMAGES (per host, e.g. forky,trixie,bookworm),
# LAB_SECOND_NIC=1, LAB_MIRROR, NETFLEET_CACHE are read by lab/labctl.py (lab/netfleet_lab/).
# Every lab target installs what is missing and starts the outer engine first (deps, engine).
.PHONY: lab-image lab-status
LABCTL := $(VBIN)/python lab/labctl.py

lab-image: venv engine
	@$(LABCTL) image $(if $(LAB_IMAGES),all,$(LAB_IMAGE))

lab-up: venv engine
	@$(LABCTL) up

lab-down: venv engine
	@$(LABCTL) down

lab-status: venv engine
	@$(LABCTL) status

lab-test: venv engine
	@bash lab/run-lab-tests.sh

# `make demo` runs the fleet on the engine fleets run today, forky's Docker 28.5, unless
# LAB_IMAGE or LAB_IMAGES is given; on a fresh machine it installs the Debian packages, starts
# dockerd, makes the venv and builds the image first (deps, engine, venv; labctl builds images).
DEMO_IMAGE := $(if $(filter file,$(origin LAB_IMAGE)),forky,$(LAB_IMAGE))

demo: deps engine venv
	@LAB_IMAGE=$(DEMO_IMAGE) $(LABCTL) up
	$(VBIN)/ansible-playbook -i lab/inventory.yml -e fleet_group=lab playbooks/site.yml

# --- benchmarks (issue 7) -------------------------------------------------------------------
# `make bench`: docker_net (batch, loop) vs community.docker's docker_network loop vs the SDK floor,
# N=50 and 200; writes benchmarks/results/<timestamp>.json and refreshes docs/benchmarks.md.
# `make bench BENCH_QUICK=1`: N=10, one repetition, a smoke run. More knobs: BENCH_ARGS=--help.
BENCH_VENV := .venv-bench
BENCH_QUICK ?=
BENCH_ARGS ?=

$(BENCH_VENV)/.stamp: benchmarks/requirements-bench.txt
	@test -x $(BENCH_VENV)/bin/python || $(PY) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check -r benchmarks/requirements-bench.txt
	@touch $@

bench: venv engine $(BENCH_VENV)/.stamp
	$(VBIN)/python benchmarks/run_bench.py $(if $(filter 1 yes true,$(BENCH_QUICK)),--quick) $(BENCH_ARGS)

# `make bench-fleet` (issue 13): the daily fleet run, playbooks/site.yml (without verify) against the incumbent
# stack (benchmarks/fleet/incumbent.yml: community.docker + ansible.posix from .venv-bench), same declaration
# (benchmarks/fleet/fleet.yml), first converge and nothing to change, on LAB_HOSTS=N trixie lab hosts per size;
# writes benchmarks/results/fleet-<timestamp>.json and the fleet section of docs/benchmarks.md. It brings the lab
# up per size and takes it down at the end: on a shared machine run it under the lab lock. Not part of `make test`.
# Knobs: BENCH_FLEET_SIZES="3" (default 3 8 16), BENCH_FLEET_REPS=1 (default 3), BENCH_FLEET_ARGS=--help.
.PHONY: bench-fleet
BENCH_FLEET_SIZES ?= 3 8 16
BENCH_FLEET_REPS ?= 3
BENCH_FLEET_ARGS ?=

bench-fleet: deps engine venv $(BENCH_VENV)/.stamp bench-fleet-lint
	$(VBIN)/python benchmarks/run_fleet_bench.py --sizes $(BENCH_FLEET_SIZES) --reps $(BENCH_FLEET_REPS) $(BENCH_FLEET_ARGS)

# The incumbent playbook needs community.docker and ansible.posix, which only .venv-bench has (the `ansible`
# bundle): the lint stage of `make test` excludes it (.ansible-lint) and this lints it, production profile, strict.
.PHONY: bench-fleet-lint
bench-fleet-lint: venv $(BENCH_VENV)/.stamp
	@mkdir -p .tmp && printf 'profile: production\n' > .tmp/lint-bench-fleet.yml
	ANSIBLE_COLLECTIONS_PATH=$$($(BENCH_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'):$(CURDIR)/.collections \
	  $(VBIN)/ansible-lint -c .tmp/lint-bench-fleet.yml --strict benchmarks/fleet/incumbent.yml

# --- operator docs (issue 6) ----------------------------------------------------------------
# `make docs`: docs/*.md (myst-parser) + a page per module, filter and role generated from the
# collection's own docs (antsibull-docs), built by Sphinx with -W to docs/_build/html.
# The toolchain lives in its own venv, .venv-docs, pinned by docs/requirements.txt. DOCS_LINT=0
# skips `antsibull-docs lint-collection-docs`.
DOCS_VENV := .venv-docs

$(DOCS_VENV)/.stamp: docs/requirements.txt
	@test -x $(DOCS_VENV)/bin/python || $(PY) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/pip install -q --disable-pip-version-check -r docs/requirements.txt
	@touch $@

docs: link $(DOCS_VENV)/.stamp
	@DOCS_VENV=$(CURDIR)/$(DOCS_VENV) bash docs/build.sh

.PHONY: docs-pin
docs-pin:
	rm -rf .tmp/docs-pin-venv && $(PY) -m venv .tmp/docs-pin-venv && .tmp/docs-pin-venv/bin/pip install -q -r docs/requirements.in
	(echo '# Pinned, complete set for .venv-docs, the toolchain of `make docs` (generated from docs/requirements.in'; \
	 echo '# by `make docs-pin`; kept apart from .venv so the main venv stays lean).'; \
	 .tmp/docs-pin-venv/bin/pip freeze) > docs/requirements.txt

.PHONY: docs-clean
docs-clean:
	rm -rf docs/_build

# --- execution environment (issue 12) ----------------------------------------------------------
# `make ee`: collection tarball + ansible-builder build context in .tmp/ee/context, checked and
# introspected (scripts/ee-check.sh; no image is built: no container registry is reachable here).
.PHONY: ee controllers
ee: venv
	@bash scripts/ee-check.sh

# `make controllers`: sanity, unit, integration and Molecule fleet on ansible-core 2.18 and 2.21.
controllers: venv engine test-image
	@bash scripts/controller-matrix.sh
