# The two commands of the README. Both bootstrap what they need, idempotently.
.PHONY: run test lint build eval bench cluster
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
