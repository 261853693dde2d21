"""``helpdesk`` subcommands of the handoff part: agents, tokens, migrations, routing check.

``helpdesk/cli.py`` owns the ``helpdesk`` command and calls ``add_commands``.
Passwords are never taken from the command line (it ends up in shell history
and ``ps``): they come from ``--password-file``, HELPDESK_AGENT_PASSWORD, or a
prompt.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from helpdesk.handoffs.models import ROLES
from helpdesk.i18n import LANGUAGES
from helpdesk.settings import Settings

if TYPE_CHECKING:
    from helpdesk.handoffs.store import HandoffStore

MIN_PASSWORD_LENGTH = 10


def _settings(args: argparse.Namespace) -> Settings:

    settings = Settings.from_env()
    if getattr(args, "routing", None):
        settings = settings.model_copy(update={"routing_file": Path(args.routing)})
    return settings


def _read_password(args: argparse.Namespace) -> str:
    if args.password_file:
        lines = Path(args.password_file).read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if os.environ.get("HELPDESK_AGENT_PASSWORD"):
        return os.environ["HELPDESK_AGENT_PASSWORD"]
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat: ") != first:
        raise SystemExit("the passwords differ")
    return first


def cmd_migrate(args: argparse.Namespace) -> int:
    from helpdesk.migrations import upgrade

    url = _settings(args).database_url
    upgrade(url)
    print(
        f"handoff store at {make_url(url).render_as_string(hide_password=True)} is at the latest revision",
        file=sys.stderr,
    )
    return 0


def _with_store(args: argparse.Namespace, command: str, action: Callable[[Any], str]) -> int:
    """Run ``action(store)``; print what it returns, or the store's refusal with exit status 1."""
    from helpdesk.handoffs.errors import StoreError
    from helpdesk.handoffs.store import HandoffStore

    store = HandoffStore.open(_settings(args).database_url)
    try:
        message = action(store)
    except StoreError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(message, file=sys.stderr)
    return 0


def cmd_create_agent(args: argparse.Namespace) -> int:
    from helpdesk.handoffs.routing import RoutingConfig

    routing = RoutingConfig.load(_settings(args).routing_file)
    teams = [t.strip() for spec in args.team for t in spec.split(",") if t.strip()]
    unknown = [t for t in teams if not routing.has_team(t)]
    if (not teams and args.role == "agent") or unknown:
        print(
            f"create-agent: unknown team(s) {unknown or '(none given)'}; teams: {', '.join(routing.teams)}",
            file=sys.stderr,
        )
        return 2
    password = _read_password(args)
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"create-agent: the password needs at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return 2

    def create(store: HandoffStore) -> str:
        agent = store.create_agent(args.username, args.name or args.username, teams, password, args.role, args.language)
        return (
            f"{agent.role} {agent.username} ({agent.display_name}) created, "
            f"teams: {', '.join(agent.teams) or '(all, as ' + agent.role + ')'}"
        )

    return _with_store(args, "create-agent", create)


def cmd_create_token(args: argparse.Namespace) -> int:
    def create(store: HandoffStore) -> str:
        print(store.create_token(args.username, args.name))  # on stdout, shown once; only its hash is stored
        return f"token {args.name!r} created for {args.username}"

    return _with_store(args, "create-agent-token", create)


def cmd_deactivate_agent(args: argparse.Namespace) -> int:
    def deactivate(store: HandoffStore) -> str:
        store.deactivate_agent(args.username)
        return f"agent {args.username} deactivated: no logins, sessions or API tokens any more"

    return _with_store(args, "deactivate-agent", deactivate)


def cmd_set_password(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"set-password: the password needs at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return 2

    def change(store: HandoffStore) -> str:
        store.set_password(args.username, password)
        return f"password of {args.username} changed; every session of {args.username} has ended"

    return _with_store(args, "set-password", change)


def cmd_set_role(args: argparse.Namespace) -> int:
    def change(store: HandoffStore) -> str:
        agent = store.update_agent(args.username, role=args.role)
        return f"{agent.username} is now {agent.role} (sessions and tokens carry it from their next request)"

    return _with_store(args, "set-role", change)


def cmd_set_language(args: argparse.Namespace) -> int:
    def change(store: HandoffStore) -> str:
        agent = store.set_language(args.username, None if args.language == "browser" else args.language)
        language = agent.language or "the browser's language"
        return f"{agent.username} reads the desk in {language}"

    return _with_store(args, "set-language", change)


def cmd_routing_check(args: argparse.Namespace) -> int:
    from helpdesk.handoffs.routing import RoutingConfig, RoutingConfigError

    path = _settings(args).routing_file
    try:
        routing = RoutingConfig.load(path)
    except RoutingConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"{path}: OK, {len(routing.teams)} teams ({', '.join(routing.teams)}), time zone {routing.tz.key}, "
        f"escalation to {routing.escalation_team}, on-call: {routing.on_call.team if routing.on_call else 'none'}"
    )
    return 0


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("migrate", help="create or upgrade the handoff store (DATABASE_URL)")
    p.set_defaults(func=cmd_migrate)

    p = subparsers.add_parser(
        "create-agent",
        help="create an inbox agent account (password from a prompt, --password-file or HELPDESK_AGENT_PASSWORD)",
    )
    p.add_argument("username")
    p.add_argument("--name", help="display name (default: the user name)")
    p.add_argument(
        "--team",
        action="append",
        default=[],
        help="team of the routing file; repeat or comma-separate for several (an agent needs one)",
    )
    p.add_argument(
        "--role",
        choices=ROLES,
        default="agent",
        help="agent: own teams; supervisor: all teams, reassign; admin: also accounts and tokens",
    )
    p.add_argument("--password-file", help="read the password from the first line of this file")
    p.add_argument("--language", choices=LANGUAGES, help="the desk's language for the agent (default: their browser's)")
    p.add_argument("--routing", help="routing file to check the teams against (default: HELPDESK_ROUTING_FILE)")
    p.set_defaults(func=cmd_create_agent)

    p = subparsers.add_parser("create-agent-token", help="print a new bearer token for the agent JSON API")
    p.add_argument("username")
    p.add_argument("--name", default="api", help="what the token is for (kept with it)")
    p.set_defaults(func=cmd_create_token)

    p = subparsers.add_parser("deactivate-agent", help="lock an agent out (login, sessions, API tokens)")
    p.add_argument("username")
    p.set_defaults(func=cmd_deactivate_agent)

    p = subparsers.add_parser("set-password", help="change an agent's password; ends all their sessions")
    p.add_argument("username")
    p.add_argument("--password-file", help="read the password from the first line of this file")
    p.set_defaults(func=cmd_set_password)

    p = subparsers.add_parser("set-role", help="change an agent's role")
    p.add_argument("username")
    p.add_argument("role", choices=ROLES)
    p.set_defaults(func=cmd_set_role)

    p = subparsers.add_parser("set-language", help="the desk's language for an agent; browser: their browser's")
    p.add_argument("username")
    p.add_argument("language", choices=(*LANGUAGES, "browser"))
    p.set_defaults(func=cmd_set_language)

    p = subparsers.add_parser("routing-check", help="validate the routing file and print what it declares")
    p.add_argument("--routing", help="routing file (default: HELPDESK_ROUTING_FILE or config/routing.yml)")
    p.set_defaults(func=cmd_routing_check)
