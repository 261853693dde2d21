# The two commands of the README (run, test) and the maintainers' targets. Each bootstraps what it needs, idempotently.
.PHONY: run test lint build bench cluster docs screenshots
run:
	scripts/run
test:
	scripts/test
lint:
	scripts/bootstrap py311 && .venv/py311/bin/helpdesk lint
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
	scripts/bootstrap py311 py310 browser && scripts/train-bot && DOCS_IMAGE_DIR=$(CURDIR)/docs/img \
	  .venv/py311/bin/python -m pytest tests/e2e/test_customer_to_agent.py tests/handoffs/test_workspace_browser.py \
	  tests/reports/test_reports_browser.py
