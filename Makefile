# Every target installs what it needs on first use (.venv from the pinned requirements; the pinned
# CDK CLI and the Node.js 22 it runs on from package-lock.json): a fresh clone needs nothing but
# Python 3.11+, Node.js 20+ (only to run npm) and make. `make help` lists the targets.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
ARGS ?=

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# The CDK CLI and jsii run on the project's Node.js 22 (node_modules/.bin), not the machine's.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export JSII_NODE := $(CURDIR)/node_modules/.bin/node

.PHONY: help venv node test test-fast test-e2e lint format synth deploy diff destroy local demo \
	query replay smoke status erase bench clean

help: ## list the targets
	@grep -E '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) \
		| sed -E 's/^([a-z0-9-]+):.*## (.*)$$/\1\t\2/' \
		| awk -F'\t' '{printf "make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt functions/requirements.txt
	@echo "First run (or new requirements): installing the pinned Python packages into $(VENV) (about a minute)."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --progress-bar off -r requirements-dev.txt \
		| { grep --line-buffered -E '^Collecting ' || true; } | sed -E 's/^Collecting ([^ ]+).*/  \1/'
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "First run (or new package.json): installing the pinned CDK CLI and Node.js 22 into node_modules (about 20 s)."
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

venv: $(VENV)/.installed ## install the Python packages (.venv)
node: node_modules/.installed ## install the CDK CLI and its Node.js (node_modules)

lint: $(VENV)/.installed ## ruff: lint and check the formatting
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed ## ruff: format the code and apply safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint node_modules/.installed ## lint and every test (unit, integration, infra, e2e)
	$(PY) -m pytest $(ARGS)

test-fast: lint node_modules/.installed ## lint and every test but the slow end-to-end ones
	$(PY) -m pytest -m "not e2e" $(ARGS)

test-e2e: $(VENV)/.installed node_modules/.installed ## only the slow end-to-end tests
	$(PY) -m pytest -m e2e $(ARGS)

synth: $(VENV)/.installed node_modules/.installed ## write the CloudFormation template to cdk.out/
	$(CDK) synth --quiet $(ARGS)
	@echo "Template: cdk.out/CallfireReceiver.template.json (CallfireReceiver-<stage> with -c stage=<stage>)"

deploy: $(VENV)/.installed node_modules/.installed ## deploy to your AWS account (ARGS='-c name=value ...')
	$(CDK) deploy $(ARGS)

diff: $(VENV)/.installed node_modules/.installed ## what a deploy would change in your AWS account
	$(CDK) diff $(ARGS)

destroy: $(VENV)/.installed node_modules/.installed ## delete the stack (tables and bucket stay with retainData)
	$(CDK) destroy $(ARGS)

local: $(VENV)/.installed node_modules/.installed ## run the whole system here until Ctrl-C (moto, gateway, stand-in CallFire)
	$(PY) -m local $(ARGS)

demo: $(VENV)/.installed node_modules/.installed ## start the local system, send CallFire's sample reports, show what was stored (ARGS=--running: to the running make local)
	$(PY) -m local.demo $(ARGS)

query: $(VENV)/.installed ## the stored reports: ARGS='calls --campaign 22222' (python -m tools.query --help)
	$(PY) -m tools.query $(ARGS)

replay: $(VENV)/.installed ## store archived bodies again, re-map items, re-queue recordings, redrive dead letters (python -m tools.replay --help)
	$(PY) -m tools.replay $(ARGS)

smoke: $(VENV)/.installed ## prove the receiver answers, checks the token and stores (ARGS=--aws: the deployed stack)
	$(PY) -m tools.smoke $(ARGS)

status: $(VENV)/.installed ## one screen of health, with the command for what needs a person (ARGS=--aws)
	$(PY) -m tools.status $(ARGS)

erase: $(VENV)/.installed ## erase a person, a call or a campaign: ARGS='--phone 2132212289 --dry-run' (python -m tools.erase --help)
	$(PY) -m tools.erase $(ARGS)

bench: $(VENV)/.installed node_modules/.installed ## print the benchmarks (ARGS=--write records them in BENCHMARKS.md)
	$(PY) -m bench $(ARGS)

clean: ## remove cdk.out, .local and the caches (not .venv or node_modules)
	rm -rf cdk.out .local .pytest_cache .ruff_cache .hypothesis
