# The two commands of the README (run, test) and the maintainers' targets. Each bootstraps what it needs, idempotently.
.PHONY: run test test-quick check fmt kb-lint lint build bench cluster docs screenshots catalogs
run:
	scripts/run
test:
	scripts/test
# The Python 3.11 unit tests on both cores, without a browser, PostgreSQL, Rasa, Dovecot or HAProxy and without
# the starter KB's index (docs/development.md). Extra pytest arguments: make test-quick ARGS="-k search"
QUICK_TESTS = -m "not browser and not slow and not postgres and not rasa and not services" -n 2
test-quick:
	scripts/bootstrap py311 && .venv/py311/bin/python -m pytest $(QUICK_TESTS) $(ARGS)
# ruff check, ruff format --check, mypy and the knowledge-base lint (scripts/check); scripts/test runs it first.
check:
	scripts/check
# The desk's texts into its message catalogs (helpdesk/locale/*/LC_MESSAGES/messages.po, babel.cfg): new texts
# get an empty translation to fill in, texts gone from the code are dropped. `make check` fails until German is complete.
catalogs:
	scripts/bootstrap py311 && .venv/py311/bin/python -m helpdesk.i18n update
# Applies the formatter and ruff's fixes to the whole tree.
fmt:
	scripts/bootstrap py311 && .venv/py311/bin/ruff check --fix --exit-zero --quiet && .venv/py311/bin/ruff format
# The knowledge base (kb/articles) and the drafts.
kb-lint:
	scripts/bootstrap py311 && .venv/py311/bin/helpdesk lint
lint: kb-lint
build:
	scripts/bootstrap py311 && .venv/py311/bin/helpdesk build
bench:
	scripts/bootstrap py311 && .venv/py311/bin/python scripts/bench_search.py
cluster:
	scripts/cluster
docs:
	scripts/bootstrap py311 && .venv/py311/bin/mkdocs build --strict --site-dir site
# The documentation's pictures (docs/img): the browser tests that take them, writing there instead of var/screenshots.
screenshots:
	scripts/bootstrap py311 py310 browser clamav && scripts/train-bot && DOCS_IMAGE_DIR=$(CURDIR)/docs/img \
	  .venv/py311/bin/python -m pytest tests/e2e/test_customer_to_agent.py tests/handoffs/test_workspace_browser.py \
	  tests/reports/test_reports_browser.py tests/chat/test_embed_browser.py \
	  tests/attachments/test_attachments_browser.py tests/i18n/test_desk_german_browser.py
