.PHONY: help setup demo test lint bench

help:
	@echo "make setup  - create .venv and install b2b-analysis[dev]"
	@echo "make demo   - run the demo (scripts/demo.sh)"
	@echo "make test   - run the tests (scripts/test.sh); ARGS=\"-k foo\" passes pytest args"
	@echo "make lint   - ruff check, ruff format --check, mypy"
	@echo "make bench  - the benchmarks (bench/run.sh; not part of make test); ARGS=\"--sizes 100k,1m\""

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh $(ARGS)

test:
	bash scripts/test.sh $(ARGS)

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench:
	bash bench/run.sh $(ARGS)
