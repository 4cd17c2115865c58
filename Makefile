# The two commands the README starts with: `make run` and `make test`.
# Both create .venv/ from constraints.txt on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run chat test lint bench bench-dispatch setup lock clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# With a channel token (in the environment or .env) this starts the bot; without one it
# opens the terminal chat on the default SQLite database.
run: $(STAMP)
	@if $(BIN)/python -c 'from bot.settings import Settings; exit(not Settings().has_channel)'; then \
		$(BIN)/interview-coach run; \
	else \
		$(BIN)/interview-coach chat; \
	fi

chat: $(STAMP)
	$(BIN)/interview-coach chat

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/interview-coach content check

bench: $(STAMP)
	$(BIN)/python -m benchmarks.scheduler_tick --users $(or $(USERS),10000)

# The real bot's daily dispatch to USERS users, unthrottled and at Telegram's 30/s.
bench-dispatch: $(STAMP)
	$(BIN)/python -m benchmarks.dispatch --users $(or $(USERS),3000)

lock:
	rm -rf /tmp/ic-lock && $(PYTHON) -m venv /tmp/ic-lock
	/tmp/ic-lock/bin/pip install --quiet -e '.[dev]'
	(echo "# Exact versions for .venv; regenerate with 'make lock'."; \
	 /tmp/ic-lock/bin/pip freeze --exclude-editable) > constraints.txt

clean:
	rm -rf $(VENV)
