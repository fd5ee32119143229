# Cercle — the two commands of the README do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The runtime only (make run), and the runtime with the test tools (make test and the rest).
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
# Synapse (AGPL) is a test/dev tool: its own virtualenv, never a dependency of the bot.
SYNAPSE_VENV := .venv-synapse
SYNAPSE_STAMP := $(SYNAPSE_VENV)/.cercle-installed
PYBABEL_KEYWORDS := -k _ -k N_ -k ngettext:1,2 --no-default-keywords

.PHONY: run test lint typecheck bench i18n clean moderation-model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies change. A test install is a runtime install too.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP) $(RUN_STAMP)

# The real Matrix homeserver the Matrix adapter tests talk to (pinned in devserver.py).
$(SYNAPSE_STAMP): bot/adapters/matrix/devserver.py | $(STAMP)
	$(BIN)/python -m bot.adapters.matrix.devserver install $(SYNAPSE_VENV)

# A real PostgreSQL for the tests that run on both databases (the suite starts its own
# throwaway cluster on loopback from these binaries). Installed from Debian when missing.
.PHONY: postgres
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing PostgreSQL (apt) for the tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else \
			echo "PostgreSQL is missing: sudo apt-get install postgresql (its tests are skipped)"; \
		fi; }

# Headless Chromium for the tests that open the digest's web pages (tests/cogs/digest/test_html.py,
# test_archive.py). Installed from Debian when missing; with CI set, those tests fail without it.
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Chromium (apt) for the tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "Chromium is missing: sudo apt-get install chromium (its tests are skipped)"; \
		fi; }

# systemd-analyze, which checks deploy/cercle.service (tests/test_deploy.py). Installed from
# Debian when missing; with CI set, those tests fail without it.
.PHONY: systemd-analyze
systemd-analyze:
	@command -v systemd-analyze >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing systemd-analyze (apt systemd) for the tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null; \
		else \
			echo "systemd-analyze is missing: sudo apt-get install systemd (its tests are skipped)"; \
		fi; }

## Run the bot on the embedded default: SQLite in ./data, the console room on this terminal.
run: $(RUN_STAMP)
	$(BIN)/cercle run $(ARGS)

## The whole test suite, lint and type checks.
test: $(STAMP) $(SYNAPSE_STAMP) postgres chromium systemd-analyze
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

## Retrain the courtesy cog's semantic layer on cogs/courtesy/data/corpus/ (deterministic, ~20 s);
## the result, cogs/courtesy/data/semantic.npz, is committed. Then: bench/moderation_quality.py.
moderation-model: $(STAMP)
	$(BIN)/python -m cogs.courtesy.train

## Extract marked strings and update the French and English catalogs (then fill in msgstr).
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(PYBABEL_KEYWORDS) --sort-by-file --omit-header \
		-o bot/locales/cercle.pot bot cogs
	for lang in fr en; do \
		if [ -f bot/locales/$$lang/LC_MESSAGES/cercle.po ]; then \
			$(BIN)/pybabel update -D cercle -i bot/locales/cercle.pot -d bot/locales -l $$lang --omit-header --no-fuzzy-matching; \
		else \
			$(BIN)/pybabel init -D cercle -i bot/locales/cercle.pot -d bot/locales -l $$lang; \
		fi; \
	done

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) .pytest_cache .mypy_cache .ruff_cache
