# Two commands (see README): `make demo` sets everything up and analyses the example video;
# `make test` runs the tests (this is what .ci/run runs).
VENV    ?= .venv
PYTHON  ?= python3
EXAMPLE := fixtures/videos/squat_front_banded_bodyweight_01.mp4

.PHONY: setup system-deps demo test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test,distributed,workspace]"
	touch $@

setup: $(VENV)/.installed

# Debian packages the tests use (headless browser, virtual display, offline speech).
system-deps:
	bash scripts/system-deps.sh

demo: setup
	$(VENV)/bin/movescreen analyze $(EXAMPLE) --out movescreen-out/example

test: setup system-deps
	$(VENV)/bin/python -m pytest
	bash scripts/lowest-deps.sh  # the lowest versions pyproject.toml allows (about 1 minute)

bench: setup
	$(VENV)/bin/python benchmarks/bench_pipeline.py

clean:
	rm -rf $(VENV) movescreen-out
