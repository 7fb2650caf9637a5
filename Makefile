# manyi: `make demo` and `make test` work on a fresh machine from the repo alone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean install fuzz

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/manyi demo manyi-demo --force

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/pytest -q

fuzz: $(STAMP)   # the fuzz suite with a long budget (make test runs a short one)
	MANYI_FUZZ_EXAMPLES=$${MANYI_FUZZ_EXAMPLES:-500} $(BIN)/pytest -q tests/test_fuzz.py tests/test_instrument.py -k "fuzz or broken or options or holey or bounded"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/score_1m.py
	$(BIN)/python benchmarks/pls_bootstrap.py

clean:
	rm -rf $(VENV) manyi-demo build *.egg-info src/*.egg-info .pytest_cache
