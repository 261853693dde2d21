"""``python -m examples.company_api``: the reference company system on 127.0.0.1:8010.

Its token is ``NORDWIND_API_TOKEN`` (``--token-env`` names another) from the environment or the
secrets file (``HELPDESK_SECRETS_FILE``, default var/secrets.env, where scripts/ensure-secrets
puts it): the same value config/procedures.yml tells the desk to send.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from examples.company_api.app import CUSTOMERS_FILE, create_app
from search_api.settings import read_env

TOKEN_KEY = "NORDWIND_API_TOKEN"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--customers", default=str(CUSTOMERS_FILE), help="the customers' and orders' JSON file")
    parser.add_argument("--token-env", default=TOKEN_KEY, help=f"the secret holding its token (default {TOKEN_KEY})")
    args = parser.parse_args()
    token = read_env().get(args.token_env, "")
    if not token:
        parser.error(f"{args.token_env} is not set (environment or secrets file): run scripts/ensure-secrets")

    uvicorn.run(create_app(token, Path(args.customers)), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
