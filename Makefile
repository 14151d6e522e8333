# The two commands of the README: `make compat` (the main job) and `make test`.
# Both run the idempotent set-up first.
IMAGES ?= alpine,debian-slim,distroless
PYTEST ?= .venv/bin/python -m pytest
REPORT_DIR ?= compat-report

.PHONY: setup compat test test-unit lint bench clean

setup:
	@bash scripts/setup.sh

compat: setup
	$(PYTEST) --pyargs pytest_traefik_compat.suite --traefik-images=$(IMAGES) \
		--traefik-report-dir=$(REPORT_DIR) $(ARGS)

test: setup
	$(PYTEST) tests -ra --durations=25 $(ARGS)

test-unit: setup
	$(PYTEST) tests/unit -ra $(ARGS)

lint: setup
	.venv/bin/ruff check pytest_traefik_compat tests
	.venv/bin/mypy pytest_traefik_compat

bench: setup
	.venv/bin/python benchmarks/bench_bases.py

clean:
	.venv/bin/python -m pytest_traefik_compat cleanup --all || true
	rm -rf $(REPORT_DIR)
