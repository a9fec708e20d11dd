# Horizon — every target bootstraps its own virtual environment from the requirements files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: venv run reset dead-letters redrive token test test-slow lint typecheck unit integration e2e smoke infra-test bench synth bootstrap diff deploy destroy clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

## make run — the local stack on http://127.0.0.1:$${PORT:-3000}, its tables on http://127.0.0.1:$${DYNAMODB_PORT:-8000}
run: $(STAMP)
	$(BIN)/python -m functions.local

## make reset — delete the local stack's saved data (stop `make run` first); the next run starts clean
reset:
	rm -rf $${HORIZON_LOCAL_DATA:-.local/data}

## make dead-letters / make redrive — list the running stack's dead letters / hand them to their consumers again
dead-letters: $(STAMP)
	$(BIN)/python -m functions.local --dead-letters

redrive: $(STAMP)
	$(BIN)/python -m functions.local --redrive

## make test — lint, types, then every test tier (the slow load tests are left to make test-slow)
test: lint typecheck
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow"

## make test-slow — the sustained-load tests of the local stack (minutes)
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow -s

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy horizon domain functions infra bench tests
	$(BIN)/mypy --python-version $$($(BIN)/python -c 'from infra.lambda_python import LAMBDA_PYTHON as v; print(v)') \
		--cache-dir .mypy_cache/lambda horizon domain functions

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

## make smoke API=<ApiUrl> — the end-to-end suite, unchanged, against a deployed stack; HORIZON_TOKEN_HOST and
## HORIZON_TOKEN_GUEST hold a host's and a guest's bearer token (README). Tests marked local_only are left out.
smoke: $(STAMP)
	@test -n "$(API)" || { echo "usage: make smoke API=<ApiUrl>, with HORIZON_TOKEN_HOST and HORIZON_TOKEN_GUEST set" >&2; exit 2; }
	HORIZON_API_URL=$(API) $(BIN)/python -m pytest -q -p no:cacheprovider -m "e2e and not local_only and not slow" tests/e2e

## make infra-test — CDK assertions and cdk-nag on the synthesized stack (no bundling, no AWS)
infra-test: $(STAMP)
	$(BIN)/python -m pytest -q tests/infra

# AWS targets: STAGE=dev (default) or prod picks the stack Horizon-$(STAGE); CDK_ARGS passes anything else to
# the CDK CLI, e.g. CDK_ARGS="-c guest_limit=5 -c alarm_email=ops@example.com --require-approval never".
STAGE ?= dev
CDK   := npx --yes aws-cdk@2
CDK_STAGE := -c stage=$(STAGE)

## make synth — CloudFormation template and Lambda asset in cdk.out/ (no AWS account, no Docker)
synth: $(STAMP)
	$(CDK) synth --no-notices --quiet $(CDK_STAGE) $(CDK_ARGS)

## make bootstrap — the CDK bootstrap stack, once per account and region
bootstrap: $(STAMP)
	$(CDK) bootstrap --no-notices $(CDK_STAGE) $(CDK_ARGS)

## make diff — what a deploy of Horizon-$(STAGE) would change
diff: $(STAMP)
	$(CDK) diff --no-notices $(CDK_STAGE) $(CDK_ARGS)

## make deploy — the Horizon-$(STAGE) stack, to the account and region of your AWS credentials
deploy: $(STAMP)
	$(CDK) deploy --no-notices $(CDK_STAGE) $(CDK_ARGS)

## make destroy — delete Horizon-$(STAGE); a prod stack keeps its tables and logs (and refuses while protected)
destroy: $(STAMP)
	$(CDK) destroy --no-notices $(CDK_STAGE) $(CDK_ARGS)

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $(BENCH_STAMP)

## make bench [QUICK=1] — Horizon against the peer on one moto backend; rewrites bench/README.md
bench: $(BENCH_STAMP)
	QUICK=$(QUICK) $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache cdk.out

## make token ROLE=host | ROLE=guest EMAIL=… — a bearer token for the local stack (signed with the key in .local/),
## alone on one line; EMAIL is the token's verified e-mail (a guest answers and reads the invitation with it)
token: $(STAMP)
	@$(BIN)/python -m horizon.local.auth --role $(or $(ROLE),host) $(if $(EMAIL),--email '$(EMAIL)')
