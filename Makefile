# manyi: `make demo` and `make test` work on a fresh machine from the repo alone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean install fuzz browser compile

install: compile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# an editable install is not byte-compiled by pip, and where PYTHONDONTWRITEBYTECODE is set
# every command would compile manyi's modules again (up-to-date files are skipped)
compile: $(STAMP)
	@$(BIN)/python -m compileall -q src

demo: compile
	$(BIN)/manyi demo manyi-demo --force

test: compile browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n auto  # every core: about 6 minutes on 2 cores

fuzz: $(STAMP)   # the fuzz suite with a long budget (make test runs a short one)
	MANYI_FUZZ_EXAMPLES=$${MANYI_FUZZ_EXAMPLES:-500} $(BIN)/pytest -q tests/test_fuzz.py tests/test_instrument.py -k "fuzz or broken or options or holey or bounded"

# Debian's chromium and chromium-driver (browser tests, the PDF report; no browser downloads),
# a CJK font, and LibreOffice Impress/Calc to render the report's deck and workbook in tests
BROWSER_PKGS := chromium chromium-driver fonts-noto-cjk libreoffice-impress libreoffice-calc
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && command -v soffice >/dev/null 2>&1 || \
	  (apt-get install -y -q --no-install-recommends $(BROWSER_PKGS) >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends $(BROWSER_PKGS) >/dev/null 2>&1) || \
	   echo "chromium/chromium-driver/LibreOffice could not be installed: the tests that need them will skip and say so")

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: compile
	$(BIN)/python benchmarks/score_1m.py
	$(BIN)/python benchmarks/pls_bootstrap.py

clean:
	rm -rf $(VENV) manyi-demo build *.egg-info src/*.egg-info .pytest_cache
