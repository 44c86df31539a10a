# The two commands: `make run` (the dashboard on the bundled config) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install bench drill man clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# (compat: the checkout on sys.path by a .pth line; the default editable finder costs every
	# command ~10 ms at interpreter start, 3 % of an all-304 `poll --once`)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]' \
		--config-settings editable_mode=compat
	# Editable installs leave our own modules uncompiled; compile them once so a one-shot
	# command does not recompile ~100 modules per run where PYTHONDONTWRITEBYTECODE is set.
	$(BIN)/python -m compileall -q feeds storage tui
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/diplowatch $(ARGS)

# The layering contracts first (pyproject.toml, [tool.importlinter]), then the suite.
test: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n auto -q $(PYTEST_ARGS)

# The man page, from the command line's own help (tests check it is up to date).
man: $(STAMP)
	$(BIN)/python -m tui.cli.manpage > tui/cli/diplowatch.1

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
