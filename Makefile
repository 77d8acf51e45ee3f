# Every target installs what it needs on first use (.venv from the pinned requirements, the pinned
# CDK CLI from package-lock.json): a fresh clone needs nothing but Python 3.11+, Node 20+ and make.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
ARGS ?=

.PHONY: help test test-fast test-e2e lint format synth deploy diff destroy local demo query replay bench clean

help:
	@echo "make demo       start the local system, send CallFire's sample reports, show what was stored"
	@echo "make local      run the whole system on this machine (moto, gateway, stand-in CallFire)"
	@echo "make query      ARGS='calls --campaign 22222' (see python -m tools.query --help)"
	@echo "make test       lint and every test (unit, integration, infra, e2e)"
	@echo "make test-fast  lint and every test but the slow end-to-end ones"
	@echo "make synth      write the CloudFormation template to cdk.out/"
	@echo "make deploy     deploy to the AWS account of your credentials (ARGS='-c name=value ...')"
	@echo "make replay     ARGS='archived unstored --since 2026-11-01' (see python -m tools.replay --help)"
	@echo "make bench      print the benchmarks (ARGS=--write records them in BENCHMARKS.md)"

$(VENV)/.installed: requirements.txt requirements-dev.txt functions/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

venv: $(VENV)/.installed
node: node_modules/.installed

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint node_modules/.installed
	$(PY) -m pytest $(ARGS)

test-fast: lint
	$(PY) -m pytest -m "not e2e" $(ARGS)

test-e2e: $(VENV)/.installed node_modules/.installed
	$(PY) -m pytest -m e2e $(ARGS)

synth: $(VENV)/.installed node_modules/.installed
	$(CDK) synth --quiet $(ARGS)
	@echo "Template: cdk.out/CallfireReceiver.template.json"

deploy: $(VENV)/.installed node_modules/.installed
	$(CDK) deploy $(ARGS)

diff: $(VENV)/.installed node_modules/.installed
	$(CDK) diff $(ARGS)

destroy: $(VENV)/.installed node_modules/.installed
	$(CDK) destroy $(ARGS)

local: $(VENV)/.installed
	$(PY) -m local $(ARGS)

demo: $(VENV)/.installed
	$(PY) -m local.demo

query: $(VENV)/.installed
	$(PY) -m tools.query $(ARGS)

replay: $(VENV)/.installed
	$(PY) -m tools.replay $(ARGS)

bench: $(VENV)/.installed
	$(PY) -m bench $(ARGS)

clean:
	rm -rf cdk.out .local .pytest_cache .ruff_cache .hypothesis
