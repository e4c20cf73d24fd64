# The README's two commands: `make run` and `make test`. Both set up the venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
WEB_PORT ?= 8000
export WEB_PORT HOST

.PHONY: run test install install-dev messages lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed" or 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The catalogs are compiled here; fuzzy (unchecked) translations are left out, so such a string shows
# in English until someone translates it.
$(VENV)/.installed: $(BIN)/python requirements.txt requirements-lab.txt $(wildcard locale/*/LC_MESSAGES/django.po)
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-lab.txt
	$(BIN)/pybabel compile -d locale -D django
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  Voiceclone is starting: open http://$(HOST):$(WEB_PORT)/   (Ctrl-C stops it)"
	@echo ""
	$(BIN)/honcho --no-colour start -f Procfile.dev

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Refresh the catalogs after changing user-facing strings (needs GNU gettext: apt-get install gettext),
# then translate every empty or fuzzy entry in locale/zh_Hans/LC_MESSAGES/django.po. tests/test_translations.py
# runs the same extraction and fails on anything left untranslated.
MAKEMESSAGES_ARGS := -l zh_Hans --no-obsolete --add-location file \
	-i ".venv/*" -i "sandbox/*" -i "tests/*" -i "bench/*" -i "data/*" -i "docs/*"
export MAKEMESSAGES_ARGS
messages: install-dev
	@command -v xgettext >/dev/null || { echo "GNU gettext is missing: apt-get install gettext"; exit 1; }
	$(BIN)/python manage.py makemessages $(MAKEMESSAGES_ARGS)

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV)
