# Two targets for the quick start; both set up .venv on first use.
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: kit test fast

kit: $(STAMP)  ## make the senior computer-vision engineer kit in output/
	$(VENV)/bin/kitgen --role cv-engineer --level senior --force

test: $(STAMP)  ## run the whole test suite (CI runs this), on every core
	$(VENV)/bin/pytest -n auto

fast: $(STAMP)  ## the fast tier, after every change: every module, under a minute on two cores
	$(VENV)/bin/pytest -n auto -m "not slow"

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@
