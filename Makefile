# Thin wrappers around scripts/; every target works from a fresh checkout.
# Pass extra pytest/bench arguments with ARGS="...", a log name with PROGRAM=..., extra
# install.sh flags with INSTALL_ARGS="--with webai".

SHELL := /bin/bash
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV_BIN := $(ROOT)/.venv/bin
ARGS ?=
PROGRAM ?= router
INSTALL_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install dev-install start stop restart status logs reload test bench bench-peers lint format clients record-clients

help:
	@echo "targets: install dev-install start stop restart status logs reload test bench bench-peers lint format clients record-clients"
	@echo "  make test ARGS='-k health -x'   make logs PROGRAM=webai   make install INSTALL_ARGS='--with webai'"
	@echo "  make bench-peers: cliproxy next to LiteLLM, claude-code-router and 9router (installs them"
	@echo "    into ~/.cache/cliproxy/bench-peers, or \$$CLIPROXY_BENCH_PEERS_DIR; not in CI); ARGS='--quick'"

install:
	"$(ROOT)/scripts/install.sh" $(INSTALL_ARGS)

# The test toolchain (pytest, ruff, the SDKs) on top of the runtime dependencies.
dev-install:
	"$(ROOT)/scripts/install.sh" --with test $(INSTALL_ARGS)

start:
	"$(ROOT)/scripts/start.sh"

stop:
	"$(ROOT)/scripts/stop.sh"

restart:
	"$(ROOT)/scripts/restart.sh"

status:
	"$(ROOT)/scripts/status.sh"

logs:
	"$(ROOT)/scripts/logs.sh" $(PROGRAM)

reload:
	"$(ROOT)/scripts/reload.sh"

test:
	"$(ROOT)/scripts/test.sh" $(ARGS)

bench: dev-install
	cd "$(ROOT)" && "$(VENV_BIN)/python" -m bench $(ARGS)

# The peer comparison of issue 16, never run by make bench or CI: installs the pinned peers
# (bench/peers/pins.py) into a scratch folder outside the repo and writes
# bench/results/peers.json. Needs node and npm; ARGS="--quick", ARGS="--only 9router",
# ARGS="--before REV" (also the router of an older commit: a before/after table from one run).
bench-peers: dev-install
	cd "$(ROOT)" && "$(VENV_BIN)/python" -m bench.peers $(ARGS)

lint: dev-install
	cd "$(ROOT)" && "$(VENV_BIN)/ruff" format --check . && "$(VENV_BIN)/ruff" check . \
		&& "$(VENV_BIN)/mypy" router providers && "$(VENV_BIN)/lint-imports"

format: dev-install
	cd "$(ROOT)" && "$(VENV_BIN)/ruff" format . && "$(VENV_BIN)/ruff" check --fix .

# The pinned agent CLIs (tests/clients/package.json) the client tests drive.
clients:
	"$(ROOT)/scripts/install-clients.sh"

# Re-record what each pinned client sends (tests/clients/corpus/<client>/<version>/).
record-clients: install clients
	cd "$(ROOT)" && "$(VENV_BIN)/python" -m tests.clients.record $(ARGS)
