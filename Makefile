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

# Two invocations, both always run: the tests that can share the machine on two
# workers, then the `serial` ones alone. The target fails with the first non-zero
# exit code (5, "no tests ran", included); each prints its 25 slowest durations.
TEST_PARALLEL ?= -n 2
test: setup
	@status=0; \
	echo '$(PYTEST) tests -ra --durations=25 $(TEST_PARALLEL) -m "not serial" $(ARGS)'; \
	$(PYTEST) tests -ra --durations=25 $(TEST_PARALLEL) -m "not serial" $(ARGS) || status=$$?; \
	echo '$(PYTEST) tests -ra --durations=25 -m serial $(ARGS)'; \
	$(PYTEST) tests -ra --durations=25 -m serial $(ARGS) || { code=$$?; [ $$status -ne 0 ] || status=$$code; }; \
	exit $$status

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
