# Two commands do everything on a fresh machine (both idempotent):
#   make lab   - create .venv, install the course, start JupyterLab on notebooks/
#   make test  - create .venv, install the course + dev tools, run ruff, pytest, then
#                every notebook headless in quick mode (METACOT_QUICK=1)
# TORCH_SPEC picks the PyTorch build. The default lets pip choose (CUDA wheels on Linux,
# fine on a GPU machine); CPU-only CI passes TORCH_SPEC=torch==2.13.0, a local CPU build.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch
JOBS ?= 2
BIN := $(VENV)/bin

.PHONY: install lab test lint unit notebooks bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev,widgets]"
	touch $@

$(VENV)/.installed-lab: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[lab]"
	touch $@

install: $(VENV)/.installed

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks

lint: install
	$(BIN)/ruff check metacot_lab tests benchmarks notebooks

unit: install
	HF_HUB_OFFLINE=1 $(BIN)/pytest -n $(JOBS) tests

notebooks: install
	HF_HUB_OFFLINE=1 METACOT_QUICK=1 $(BIN)/pytest -n $(JOBS) --nbmake \
		--nbmake-timeout=600 notebooks

test: lint unit notebooks

bench: install
	$(BIN)/python benchmarks/generation.py
	$(BIN)/python benchmarks/trace_formats.py
	$(BIN)/python benchmarks/traces.py
	$(BIN)/python benchmarks/training.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
