# Two targets for the quick start; both set up .venv on first use.
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: kit test

kit: $(STAMP)  ## make the senior computer-vision engineer kit in output/
	$(VENV)/bin/kitgen --role cv-engineer --level senior --force

test: $(STAMP)  ## run the test suite
	$(VENV)/bin/pytest

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@
