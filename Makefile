# Two commands: `make demo` and `make test`. Each creates .venv on first use
# and re-installs only when pyproject.toml, constraints.txt or data-requirements.txt change.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: demo test check bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt data-requirements.txt | $(BIN)/python
	$(PIP) torch==2.13.0
	$(PIP) -e ".[dev,export,tune]"
	$(PIP) --no-deps -r data-requirements.txt
	-$(BIN)/python -m lstmkit.nn.fused
	-$(BIN)/python -m lstmkit.forecast.fused_step
	$(BIN)/python -m compileall -q lstmkit >/dev/null  # start-up: bytecode even where PYTHONDONTWRITEBYTECODE is set
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lstmkit demo

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/lstmkit check

lint: $(STAMP)
	$(BIN)/ruff check lstmkit tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
