# smarttrace.sso: every command a contributor or CI needs. Works with only PyPI reachable.
#   make demo   set everything up, run playbooks/configure.yml against the sandbox twice
#   make test   set everything up, run every check (sanity, units, sandbox, integration, lint, docs, conformance,
#               changelog, execution environment, the built artifact, ansible-core 2.16, documented examples)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
# The Python that runs ansible-test is the one that made .venv: any version ansible-core 2.19's controller supports.
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
CONTROLLER_PYTHONS := 3.11 3.12 3.13
# ansible-core 2.16 (make test-matrix) runs its controller on 3.10 to 3.12: the first of PYTHON, python3.12,
# python3.11, python3.10 on PATH that is one of those; none (e.g. a machine with only 3.13) skips test-matrix loudly.
MATRIX_216_PYTHONS := 3.10 3.11 3.12
PYTHON_216 ?= $(firstword $(foreach candidate,$(PYTHON) python3.12 python3.11 python3.10,$(if $(filter $(MATRIX_216_PYTHONS),\
	$(shell $(candidate) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)),$(candidate))))
PYTHON_216_VERSION = $(if $(PYTHON_216),$(shell $(PYTHON_216) -c 'import sys; print("%d.%d" % sys.version_info[:2])'))
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
BUILD := $(CURDIR)/.build
COLLECTIONS := $(BUILD)/collections
TREE := $(COLLECTIONS)/ansible_collections/smarttrace/sso
SHARED ?= $(CURDIR)/../shared
ANSIBLE_TEST_CACHE := $(HOME)/.ansible/test/cache
PIP_BOOTSTRAP_VERSION := 24.2
PIP_BOOTSTRAP := $(ANSIBLE_TEST_CACHE)/get_pip_$(subst .,_,$(PIP_BOOTSTRAP_VERSION)).py
SANDBOX_STATE ?= .sandbox
# The oldest supported ansible-core (meta/runtime.yml) gets its own venv for make test-matrix.
VENV_216 ?= .venv-2.16
BIN_216 := $(CURDIR)/$(VENV_216)/bin
MATRIX_216 := $(BUILD)/matrix-2.16
TREE_216 := $(MATRIX_216)/ansible_collections/smarttrace/sso
PIP_BOOTSTRAP_216_VERSION := 23.1.2
PIP_BOOTSTRAP_216 := $(ANSIBLE_TEST_CACHE)/get_pip_$(subst .,_,$(PIP_BOOTSTRAP_216_VERSION)).py
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0

.PHONY: help venv tree sanity units sandbox-tests integration lint docs-lint conformance test demo sandbox sandbox-start sandbox-stop docs-examples \
	ansible-test-bootstrap build clean changelog-lint test-ee test-artifact test-matrix test-matrix-run venv-2.16 ansible-test-ssh-key integration-live cleanup-live bench

help:
	@echo "make demo            run the main playbook against the built-in sandbox (twice: the second changes nothing)"
	@echo "make test            every check: sanity, units, sandbox, integration, ansible-lint, docs lint, Graph conformance,"
	@echo "                     changelog lint, execution environment, the built artifact, ansible-core 2.16, documented examples (about 19 min from a clean clone on 2 cores)"
	@echo "make sandbox         run the sandbox in the foreground (state in $(SANDBOX_STATE)/, flags in SANDBOX_FLAGS)"
	@echo "make sandbox-start   install the collection, start the sandbox in the background, write $(SANDBOX_STATE)/env.sh (README)"
	@echo "make sandbox-stop    stop the sandbox make sandbox-start started"
	@echo "make docs-examples   run every documented example (modules' EXAMPLES, role README, docs/*.md, README) against the sandbox"
	@echo "make build           build the Galaxy artifact"
	@echo "make test-artifact   build the artifact, check it is clean, install it into an empty path, run the demo from it"
	@echo "make test-ee         ansible-builder create on docs/execution-environment.yml, introspection of the artifact"
	@echo "make test-matrix     ansible-test sanity, ansible-lint and configure twice (sandbox) on ansible-core 2.16 (in $(VENV_216))"
	@echo "make integration-live  the integration targets against a real tenant (tests/integration/integration_config.yml)"
	@echo "make cleanup-live    remove st-sso-it-* apps and users an interrupted live run left in the tenant"
	@echo "make bench           benchmarks against sandboxes: docs/performance.md and docs/performance.json (not part of make test)"

# ---------------------------------------------------------------------------- environment
$(VENV)/.installed: requirements.txt tests/requirements-dev.txt
	@case " $(CONTROLLER_PYTHONS) " in *" $(PYTHON_VERSION) "*) ;; *) \
		echo "$(PYTHON) is Python $(or $(PYTHON_VERSION),(not found)); ansible-core 2.19 needs $(CONTROLLER_PYTHONS): run make PYTHON=python3.12 ..." >&2; \
		exit 1;; esac
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r tests/requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

$(VENV_216)/.installed: requirements.txt tests/requirements-2.16.txt
	$(PYTHON_216) -m venv $(VENV_216)
	$(BIN_216)/python -m pip install --quiet --disable-pip-version-check -r tests/requirements-2.16.txt
	touch $@

venv-2.16: $(VENV_216)/.installed

# ansible-test bootstraps pip in its sanity environments with a script from its own download host,
# unless the script is in its cache; put a stand-in there that installs pip from PyPI's wheel.
ansible-test-bootstrap: $(PIP_BOOTSTRAP)
$(PIP_BOOTSTRAP): tests/tools/get_pip_offline.py | venv
	mkdir -p $(ANSIBLE_TEST_CACHE)
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
		-d $(ANSIBLE_TEST_CACHE) pip==$(PIP_BOOTSTRAP_VERSION)
	cp tests/tools/get_pip_offline.py $@

# ansible-test 2.16 bootstraps an older pip.
$(PIP_BOOTSTRAP_216): tests/tools/get_pip_offline.py | venv
	mkdir -p $(ANSIBLE_TEST_CACHE)
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
		-d $(ANSIBLE_TEST_CACHE) pip==$(PIP_BOOTSTRAP_216_VERSION)
	cp tests/tools/get_pip_offline.py $@

# ansible-test integration makes ~/.ansible/test/id_rsa on its first run; two of them started side by side (the
# integration shards) would both run ssh-keygen and the second would fail. Make the key once, before they start,
# exactly as ansible-test does (PEM, RSA, no passphrase, "RSA PRIVATE KEY" header for paramiko).
SSH_KEY := $(HOME)/.ansible/test/id_rsa
ansible-test-ssh-key: $(SSH_KEY)
$(SSH_KEY):
	mkdir -p $(dir $@)
	rm -f $@ $@.pub
	ssh-keygen -m PEM -q -t rsa -N '' -f $@
	sed -i -E 's/(BEGIN|END) PRIVATE KEY/\1 RSA PRIVATE KEY/' $@

# ansible-test needs the collection at a real .../ansible_collections/smarttrace/sso path (no symlink).
tree: venv
	rm -rf $(TREE)
	mkdir -p $(TREE)
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C $(TREE)
	cd $(TREE) && git init -q && git add -A  # ansible-test lists files with git; the copy is its own repository

build: venv
	mkdir -p $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .

# ---------------------------------------------------------------------------- checks
sanity: tree ansible-test-bootstrap
	cd $(TREE) && PATH=$(BIN):$$PATH $(BIN)/ansible-test sanity --python $(PYTHON_VERSION) --color no

units: tree
	cd $(TREE) && PYTHONPATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

sandbox-tests: venv
	PYTHONPATH=tests $(BIN)/python -m pytest -q -p no:cacheprovider tests/sandbox/tests

# Integration targets run with ansible-test against a sandbox started for the run; its request
# log is then checked against Microsoft's Graph v1.0 description. Without TARGETS, the targets run as two shards
# side by side, each in its own copy of the tree against its own sandbox: they mostly wait (Retry-After, replication
# delay), so two cores run both in the time of the longer one. The second shard's output follows the first's.
INTEGRATION_SHARD_2 := role_entra_sso smarttrace_integration smarttrace_integration_info create_automation_identity audit
TREE_2 := $(BUILD)/shard-2/collections/ansible_collections/smarttrace/sso
integration: tree ansible-test-ssh-key
	rm -rf $(BUILD)/sandbox-integration*
	@if [ -n "$(TARGETS)" ]; then \
		BIN=$(BIN) tests/tools/run_integration.sh $(TREE) $(BUILD)/sandbox-integration $(TARGETS); \
	else \
		rm -rf $(TREE_2) && mkdir -p $(dir $(TREE_2)) && cp -a $(TREE) $(TREE_2) && \
		{ rc=0; BIN=$(BIN) ANSIBLE_COLLECTIONS_PATH=$(BUILD)/shard-2/collections tests/tools/run_integration.sh \
			$(TREE_2) $(BUILD)/sandbox-integration-2 $(INTEGRATION_SHARD_2) > $(BUILD)/integration-2.log 2>&1 || rc=$$?; \
		  echo $$rc > $(BUILD)/integration-2.rc; } & \
		status=0; \
		BIN=$(BIN) tests/tools/run_integration.sh $(TREE) $(BUILD)/sandbox-integration \
			$(addprefix --exclude ,$(INTEGRATION_SHARD_2)) || status=$$?; \
		wait; \
		echo "== integration, second shard: $(INTEGRATION_SHARD_2) (log $(BUILD)/integration-2.log) =="; \
		cat $(BUILD)/integration-2.log; \
		if [ "$$(cat $(BUILD)/integration-2.rc)" != 0 ]; then status=1; fi; \
		exit $$status; \
	fi

# Without its inputs the check cannot run: in CI (CI=true) that fails; elsewhere it says SKIPPED loudly and leaves
# $(BUILD)/conformance.skipped, so make test does not report that every check passed.
conformance:
	@rm -f $(BUILD)/conformance.skipped; \
	if [ -f $(SHARED)/tools/graph_conformance.py ]; then \
		$(BIN)/python tests/tools/graph_log.py $(BUILD)/graph-requests.jsonl $(BUILD)/sandbox-integration*/requests.jsonl && \
		$(BIN)/python $(SHARED)/tools/graph_conformance.py --spec $(SHARED)/reference/graph-v1.0-subset.json $(BUILD)/graph-requests.jsonl; \
	elif [ "$${CI:-}" = true ]; then \
		echo "conformance: FAILED: $(SHARED)/tools/graph_conformance.py not found, and CI=true requires this check: put the shared reference next to the repository or set SHARED=..." >&2; \
		exit 1; \
	else \
		echo "************************************************************************"; \
		echo "conformance: SKIPPED: $(SHARED)/tools/graph_conformance.py not found (set SHARED=...): the Graph requests were NOT checked"; \
		echo "************************************************************************"; \
		mkdir -p $(BUILD) && touch $(BUILD)/conformance.skipped; \
	fi

lint: tree
	cd $(TREE) && $(BIN)/ansible-lint --profile production --offline

docs-lint: tree
	PATH=$(BIN):$$PATH $(BIN)/antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck $(TREE)

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

# The execution environment: ansible-builder create on the docs example (no container engine) and
# ansible-builder's introspection of the built artifact.
test-ee: venv
	PATH=$(BIN):$$PATH tests/release/test_ee.sh $(BUILD)/test-ee

# The Galaxy artifact: built, checked for tests output, sandbox state, caches and secrets, installed
# into an empty collections path, ansible-doc'd and its demo playbook run from there against a sandbox.
test-artifact: venv
	PATH=$(BIN):$$PATH PYTHON=$(BIN)/python tests/release/test_artifact.sh $(BUILD)/test-artifact

# ansible-core 2.16 (the oldest supported): ansible-test sanity and ansible-lint on a copy of the tree
# of its own, so it can run beside the 2.19 checks.
test-matrix:
	@if [ -z "$(PYTHON_216)" ]; then \
		echo "test-matrix: SKIPPED: ansible-core 2.16 needs Python $(MATRIX_216_PYTHONS) and none of $(PYTHON), python3.12, python3.11, python3.10 is one (set PYTHON_216=...)"; \
		mkdir -p $(BUILD) && touch $(BUILD)/test-matrix.skipped; \
	else $(MAKE) --no-print-directory test-matrix-run; fi

test-matrix-run: venv $(VENV_216)/.installed $(PIP_BOOTSTRAP_216)
	rm -rf $(TREE_216)
	mkdir -p $(TREE_216)
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C $(TREE_216)
	cd $(TREE_216) && git init -q && git add -A
	cd $(TREE_216) && PATH=$(BIN_216):$$PATH ANSIBLE_COLLECTIONS_PATH=$(MATRIX_216) \
		$(BIN_216)/ansible-test sanity --python $(PYTHON_216_VERSION) --color no
	cd $(TREE_216) && PATH=$(BIN_216):$$PATH ANSIBLE_COLLECTIONS_PATH=$(MATRIX_216) \
		$(BIN_216)/ansible-lint --profile production --offline
	rm -rf $(MATRIX_216)/sandbox $(MATRIX_216)/configure
	ANSIBLE_COLLECTIONS_PATH=$(MATRIX_216) PYTHON=$(BIN)/python tests/tools/with_sandbox.sh $(MATRIX_216)/sandbox -- \
		tests/tools/configure_twice.sh $(BIN_216) $(MATRIX_216)/configure
	@echo "test-matrix: ansible-core $$($(BIN_216)/python -c 'import ansible.release as r; print(r.__version__)'): sanity and ansible-lint clean, configure twice against the sandbox"

# The same integration targets against a real tenant and a real SmartTrace: needs
# tests/integration/integration_config.yml (copy the .sample; git-ignored and build-ignored).
# Not part of make test (CI has no tenant). See docs/testing-live.md.
integration-live: tree ansible-test-ssh-key
	@if [ ! -f tests/integration/integration_config.yml ]; then \
		echo "integration-live: skipped, tests/integration/integration_config.yml not found (see docs/testing-live.md)"; exit 0; fi; \
	if grep -Eq '^sandbox:[[:space:]]*(true|yes)' tests/integration/integration_config.yml; then \
		echo "integration-live: tests/integration/integration_config.yml says sandbox: true; use make integration for the sandbox" >&2; exit 1; fi; \
	install -m 0600 tests/integration/integration_config.yml $(TREE)/tests/integration/integration_config.yml && \
	cd $(TREE) && PATH=$(BIN):$$PATH $(BIN)/ansible-test integration --python $(PYTHON_VERSION) --color no $(TARGETS)

# Remove every st-sso-it-* app and user an interrupted live run left in the tenant.
cleanup-live: tree
	@if [ ! -f tests/integration/integration_config.yml ]; then \
		echo "cleanup-live: nothing to do, tests/integration/integration_config.yml not found"; exit 0; fi; \
	PATH=$(BIN):$$PATH $(BIN)/ansible-playbook tests/integration/cleanup_live.yml -e @tests/integration/integration_config.yml

# The checks that have their own copy of the tree (2.16 matrix, execution environment, artifact, documented examples) run beside the
# others: the integration targets mostly wait (Retry-After, replication delay), so the two cores stay busy.
SIDE_CHECKS := test-matrix test-ee test-artifact docs-examples
MAIN_CHECKS := sanity units sandbox-tests integration conformance lint docs-lint changelog-lint
test: venv ansible-test-bootstrap ansible-test-ssh-key
	rm -rf $(BUILD)/side $(BUILD)/test-matrix.skipped $(BUILD)/conformance.skipped && mkdir -p $(BUILD)/side
	for check in $(SIDE_CHECKS); do \
		( rc=0; $(MAKE) --no-print-directory $$check > $(BUILD)/side/$$check.log 2>&1 || rc=$$?; echo $$rc > $(BUILD)/side/$$check.rc ) & \
	done; \
	{ rc=0; $(MAKE) -k --no-print-directory $(MAIN_CHECKS) || rc=$$?; echo $$rc > $(BUILD)/main.rc; } 2>&1 | tee $(BUILD)/main.log; \
	status=$$(cat $(BUILD)/main.rc); \
	wait; \
	for check in $(SIDE_CHECKS); do \
		echo "== $$check (ran beside the other checks; whole log $(BUILD)/side/$$check.log) =="; \
		if [ "$$(cat $(BUILD)/side/$$check.rc)" != 0 ]; then cat $(BUILD)/side/$$check.log; echo "make test: $$check FAILED"; status=1; \
		else tail -n 12 $(BUILD)/side/$$check.log; fi; \
	done; \
	if [ $$status != 0 ]; then \
		echo "== make test: what failed (from $(BUILD)/main.log) =="; \
		grep -E -B3 -A40 '^(fatal|failed): |FAILED|^FATAL|^ERROR|[*][*][*] |^line [0-9]+ |[1-9][0-9]* violations' $(BUILD)/main.log \
			| cut -c1-400 | tail -n 300; \
	fi; \
	skipped=""; \
	if [ -f $(BUILD)/test-matrix.skipped ]; then skipped="$$skipped test-matrix (no Python for ansible-core 2.16)"; fi; \
	if [ -f $(BUILD)/conformance.skipped ]; then skipped="$$skipped conformance (no $(SHARED)/tools/graph_conformance.py)"; fi; \
	if [ $$status = 0 ] && [ -n "$$skipped" ]; then \
		echo "make test: the checks that ran passed, but NOT all checks ran; SKIPPED:$$skipped"; \
	elif [ $$status = 0 ]; then echo "make test: all checks passed"; fi; \
	exit $$status

# ---------------------------------------------------------------------------- execution environment image (begin)
# make ee-image: the execution environment built and run for real (not part of make test: it needs podman, runc and
# debootstrap, as root; CI installs them, see .ci/run; Debian: apt-get install podman runc debootstrap). A Debian base
# image is made locally (ee-base-image, kept once made), ansible-builder builds the definition docs/execution-environment.md
# gives with the tarball of make build, and the role runs inside it against a sandbox: twice (changed, then unchanged)
# and once through ansible-runner transmit | worker | process. Only PyPI and a Debian mirror are reached.
.PHONY: ee-image ee-base-image
EE_BASE_IMAGE ?= localhost/smarttrace-sso-ee-base:bookworm
EE_IMAGE ?= localhost/smarttrace-sso-ee:test
COLLECTION_VERSION = $(shell sed -n 's/^version:[[:space:]]*//p' galaxy.yml)
ee-base-image:
	mkdir -p $(BUILD)/ee-base
	tests/ee/base_image.sh $(EE_BASE_IMAGE) $(BUILD)/ee-base
ee-image: build ee-base-image
	PATH=$(BIN):$$PATH tests/ee/ee_image.sh $(BUILD)/ee-image $(BUILD)/dist/smarttrace-sso-$(COLLECTION_VERSION).tar.gz \
		$(EE_BASE_IMAGE) $(EE_IMAGE)
# ---------------------------------------------------------------------------- execution environment image (end)

# ---------------------------------------------------------------------------- benchmarks
# Measurements, not tests (not part of make test): each part against a sandbox of its own (its own request log),
# then docs/performance.md (table between its markers) and docs/performance.json. See tests/bench/bench.py.
BENCH := $(BUILD)/bench
BENCH_FLEET_HOSTS ?= 50
BENCH_FLEET_FORKS ?= 10
BENCH_USERS ?= 1000
BENCH_RUNS ?= 7
BENCH_TASKS ?= 20
# make bench should end within this many seconds: the per-task part starts no run after 30 % of it (at least 3 runs), the
# fleet part takes as many of BENCH_FLEET_HOSTS as fit in what is left (at least twice the forks), judged from one
# instance's wall time measured first (tests/bench/bench.py, fleet_size).
BENCH_BUDGET ?= 570
bench: venv
	rm -rf $(BENCH) && mkdir -p $(BENCH)/collections/ansible_collections/smarttrace/sso
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C $(BENCH)/collections/ansible_collections/smarttrace/sso
	deadline=$$(( $$(date +%s) + $(BENCH_BUDGET) )) && \
	export BENCH_COLLECTIONS=$(BENCH)/collections ANSIBLE_COLLECTIONS_PATH=$(BENCH)/collections && \
	PYTHON=$(BIN)/python tests/tools/with_sandbox.sh $(BENCH)/sandbox-role -- $(BIN)/python tests/bench/bench.py role --out $(BENCH)/role.json && \
	PYTHON=$(BIN)/python tests/tools/with_sandbox.sh $(BENCH)/sandbox-per-task -- \
		$(BIN)/python tests/bench/bench.py per-task --tasks $(BENCH_TASKS) --runs $(BENCH_RUNS) \
		--deadline $$(( $$(date +%s) + $(BENCH_BUDGET) * 30 / 100 )) --out $(BENCH)/per_task.json && \
	$(BIN)/python tests/bench/bench.py imports --runs $(BENCH_RUNS) --out $(BENCH)/imports.json && \
	PYTHON=$(BIN)/python tests/tools/with_sandbox.sh $(BENCH)/sandbox-bulk -- \
		$(BIN)/python tests/tools/bench_bulk_users.py --users $(BENCH_USERS) --collections $(BENCH)/collections --json $(BENCH)/bulk.json && \
	SANDBOX_EXTRA_INSTANCES=fleet-solo,$$(seq -f 'fleet-%02g' -s , 1 $(BENCH_FLEET_HOSTS)) PYTHON=$(BIN)/python \
		tests/tools/with_sandbox.sh $(BENCH)/sandbox-fleet --throttle-every 5 -- \
		$(BIN)/python tests/bench/bench.py fleet --hosts $(BENCH_FLEET_HOSTS) --forks $(BENCH_FLEET_FORKS) --deadline $$deadline --out $(BENCH)/fleet.json
	$(BIN)/python tests/bench/bench.py report --dir $(BENCH) --json docs/performance.json --markdown docs/performance.md

# ---------------------------------------------------------------------------- demo and sandbox
demo: build
	rm -rf $(BUILD)/demo-collections $(BUILD)/sandbox-demo
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/demo-collections $(BIN)/ansible-galaxy collection install --force -p $(BUILD)/demo-collections $(BUILD)/dist/smarttrace-sso-*.tar.gz
	PYTHON=$(BIN)/python tests/tools/with_sandbox.sh $(BUILD)/sandbox-demo -- bash -c '\
		eval "$$($(BIN)/python tests/tools/sandbox_env.py "$$SANDBOX_ENDPOINT")" && \
		export ANSIBLE_COLLECTIONS_PATH=$(BUILD)/demo-collections && \
		echo "== first run: configures SmartTrace SSO for instance acme ==" && \
		$(BIN)/ansible-playbook -i localhost, smarttrace.sso.configure -e smarttrace_sso_instance=acme -e @playbooks/demo_vars.yml && \
		echo "== second run: nothing to change ==" && \
		$(BIN)/ansible-playbook -i localhost, smarttrace.sso.configure -e smarttrace_sso_instance=acme -e @playbooks/demo_vars.yml'

sandbox: venv
	PYTHONPATH=tests $(BIN)/python -m sandbox --state $(SANDBOX_STATE) $(SANDBOX_FLAGS)

clean:
	rm -rf $(BUILD) tests/output

# The README's rehearsal: the built collection installed into $(SANDBOX_STATE)/collections, the sandbox in the background
# (pid in $(SANDBOX_STATE)/sandbox.pid, log in sandbox.log) and $(SANDBOX_STATE)/env.sh for ". $(SANDBOX_STATE)/env.sh".
SANDBOX_PID = $(SANDBOX_STATE)/sandbox.pid
sandbox-start: build
	@if [ -f $(SANDBOX_PID) ] && kill -0 "$$(cat $(SANDBOX_PID))" 2>/dev/null && grep -qa sandbox /proc/"$$(cat $(SANDBOX_PID))"/cmdline; then \
		echo "sandbox-start: a sandbox already runs (pid $$(cat $(SANDBOX_PID))): make sandbox-stop first" >&2; exit 1; fi
	mkdir -p $(SANDBOX_STATE)
	rm -rf $(SANDBOX_STATE)/collections $(SANDBOX_STATE)/endpoint.json $(SANDBOX_STATE)/env.sh
	$(BIN)/ansible-galaxy collection install --force -p $(SANDBOX_STATE)/collections $(BUILD)/dist/smarttrace-sso-*.tar.gz >/dev/null
	PYTHONPATH=tests $(BIN)/python -m sandbox --state $(SANDBOX_STATE) $(SANDBOX_FLAGS) </dev/null >$(SANDBOX_STATE)/sandbox.log 2>&1 & \
	echo $$! > $(SANDBOX_PID); \
	for _ in $$(seq 1 300); do [ -s $(SANDBOX_STATE)/endpoint.json ] && break; \
		kill -0 "$$(cat $(SANDBOX_PID))" 2>/dev/null || { cat $(SANDBOX_STATE)/sandbox.log >&2; exit 1; }; sleep 0.1; done; \
	[ -s $(SANDBOX_STATE)/endpoint.json ] || { echo "sandbox-start: no endpoint.json after 30 s" >&2; exit 1; }
	$(BIN)/python tests/tools/sandbox_env.py $(SANDBOX_STATE)/endpoint.json --env-file $(SANDBOX_STATE)/env.sh \
		--venv $(VENV) --collections $(SANDBOX_STATE)/collections
	@echo "sandbox running: $$(head -n 1 $(SANDBOX_STATE)/sandbox.log)"
	@echo "in your shell: . $(SANDBOX_STATE)/env.sh   (then ansible-playbook smarttrace.sso.configure ...); stop it: make sandbox-stop"

sandbox-stop:
	@if [ ! -f $(SANDBOX_PID) ]; then echo "sandbox-stop: no sandbox started by make sandbox-start in $(SANDBOX_STATE)/"; exit 0; fi; \
	pid=$$(cat $(SANDBOX_PID)); \
	if kill -0 "$$pid" 2>/dev/null && grep -qa sandbox /proc/"$$pid"/cmdline; then \
		kill -TERM "$$pid"; \
		for _ in $$(seq 1 80); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.1; done; \
		if kill -0 "$$pid" 2>/dev/null; then echo "sandbox-stop: pid $$pid did not stop within 8 s of SIGTERM" >&2; exit 1; fi; \
	fi; \
	rm -f $(SANDBOX_PID) $(SANDBOX_STATE)/env.sh; echo "sandbox stopped"

# Every documented example against a sandbox of its own (tests/docs/run_examples.py says what each needs), then the
# README's shell blocks pasted into a fresh bash (empty HOME, system PATH), with their sandbox in $(DOCS_EXAMPLES)/rehearse.
DOCS_EXAMPLES := $(BUILD)/docs-examples
docs-examples: build
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/docs
	rm -rf $(DOCS_EXAMPLES) && mkdir -p $(DOCS_EXAMPLES)
	$(BIN)/ansible-galaxy collection install --force -p $(DOCS_EXAMPLES)/collections $(BUILD)/dist/smarttrace-sso-*.tar.gz >/dev/null
	PATH=$(BIN):$$PATH PYTHON=$(BIN)/python tests/tools/with_sandbox.sh $(DOCS_EXAMPLES)/sandbox -- \
		$(BIN)/python tests/docs/run_examples.py --endpoint $(DOCS_EXAMPLES)/sandbox/endpoint.json \
		--collections $(DOCS_EXAMPLES)/collections --work $(DOCS_EXAMPLES)/work --shell $(addprefix --only ,$(EXAMPLES))
