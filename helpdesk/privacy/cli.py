"""``helpdesk purge``, ``erase``, ``export``, ``privacy-audit`` and ``privacy-check``: the operators' commands.

``helpdesk/cli.py`` owns the ``helpdesk`` command and calls ``add_commands``. They read
DATABASE_URL and RASA_TRACKER_STORE_URL like the service does; whoever may run them on
the server is an admin (the same trust as ``create-agent``). Erase and export write an
audit entry naming ``--actor`` (default: the operating-system user).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helpdesk.settings import Settings


def _actor(args: argparse.Namespace) -> str:
    if args.actor:
        return args.actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _logging() -> None:
    from helpdesk.privacy.masking import install_log_masking

    install_log_masking()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _privacy(args: argparse.Namespace, command: str):
    """The privacy configuration (``--config``, HELPDESK_PRIVACY_FILE or config/privacy.yml); None (after
    saying why) when it is wrong."""
    from helpdesk.privacy.retention import PrivacyConfigError, load_privacy

    try:
        return load_privacy(Path(args.config) if getattr(args, "config", None) else None)
    except PrivacyConfigError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return None


@contextmanager
def _stores(settings: Settings, vacuum: str) -> Iterator[Any]:
    """Where customer data is kept: the desk's store, Rasa's tracker store (None when none is configured)
    and the files; the stores are closed afterwards."""
    from helpdesk.handoffs.store import HandoffStore
    from helpdesk.privacy.erasure import CustomerStores
    from helpdesk.privacy.files import CustomerFiles
    from helpdesk.privacy.tracker import TrackerStore

    store = HandoffStore.open(settings.database_url)
    tracker = TrackerStore(settings.tracker_store_url) if settings.tracker_store_url else None
    try:
        yield CustomerStores(store, tracker, CustomerFiles.of(settings), vacuum)
    finally:
        store.close()
        if tracker is not None:
            tracker.close()


def cmd_purge(args: argparse.Namespace) -> int:
    from helpdesk.privacy.purge import parse_interval, purge, run_every
    from helpdesk.privacy.retention import PrivacyConfigError, load_privacy

    try:
        interval = parse_interval(args.every) if args.every else None
        config = load_privacy(Path(args.config) if args.config else None)
    except (ValueError, PrivacyConfigError) as exc:
        print(f"purge: {exc}", file=sys.stderr)
        return 2
    _logging()
    settings = Settings.from_env()

    def once():
        from helpdesk.handoffs.store import HandoffStore
        from helpdesk.privacy.files import CustomerFiles

        store = HandoffStore.open(settings.database_url)
        try:
            return purge(
                store,
                config,
                settings.tracker_store_url,
                CustomerFiles.of(settings),
                settings.mail.autoreply_hours,
                dry_run=args.dry_run,
            )
        finally:
            store.close()

    if interval is None:
        print(json.dumps({"dry_run": args.dry_run, **once()}))
        return 0
    run_every(interval, once)
    return 0  # pragma: no cover - the loop ends with the process


def _selection(args: argparse.Namespace, store, command: str):
    """The customer the selector names; None (after saying why) when it names nobody sensible."""
    from helpdesk.privacy.erasure import SelectorError, find

    kind, value = next((k, getattr(args, k)) for k in ("email", "phone", "ticket") if getattr(args, k) is not None)
    try:
        return find(store.engine, kind, value)
    except SelectorError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return None


def _confirmed(selection) -> bool:
    """Whether the operator answers "yes" on standard input to erasing this selection."""
    tickets = ", ".join(selection.tickets[:10]) + (" …" if len(selection.tickets) > 10 else "")
    print(
        f"erase: everything stored about {len(selection.handoff_ids)} handoffs ({tickets or 'none'}) in "
        f"{len(selection.conversations)} conversations and {len(selection.addresses)} e-mail addresses, "
        "including Rasa's events and the files. This cannot be undone. Type yes to erase: ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):  # no standard input: closed, or held by a test runner
        answer = ""
    return answer.strip().lower() == "yes"


def cmd_erase(args: argparse.Namespace) -> int:
    from helpdesk.privacy.erasure import erase

    config = _privacy(args, "erase")
    if config is None:
        return 2
    with _stores(Settings.from_env(), config.postgresql_vacuum) as stores:
        selection = _selection(args, stores.store, "erase")
        if selection is None:
            return 2
        if not selection.handoff_ids and not args.dry_run:
            print("erase: no handoff has that contact or ticket", file=sys.stderr)
        if not (args.dry_run or args.yes or _confirmed(selection)):
            print("erase: not confirmed; nothing erased (answer yes, or add --yes)", file=sys.stderr)
            return 1
        erased = erase(stores, selection, _actor(args), dry_run=args.dry_run)
    print(
        json.dumps(
            {"dry_run": args.dry_run, "tickets": selection.tickets, "counts": erased.counts, "storage": erased.storage}
        )
    )
    if stores.tracker is None:
        print(
            "erase: no tracker store configured (RASA_TRACKER_STORE_URL): Rasa's events were not touched",
            file=sys.stderr,
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from helpdesk.deployment import load_checked
    from helpdesk.handoffs.routing import RoutingConfig, RoutingConfigError
    from helpdesk.privacy.erasure import export
    from helpdesk.privacy.readable import readable_export

    config = _privacy(args, "export")
    if config is None:
        return 2
    settings = Settings.from_env()
    output = Path(args.output) if args.output else None
    if output is not None and output.suffix == ".html":
        print(
            f"export: {output}: name the JSON file *.json; the readable copy is written next to it as *.html",
            file=sys.stderr,
        )
        return 2
    try:
        zone = RoutingConfig.load(settings.routing_file).tz  # the readable copy's times are local
    except RoutingConfigError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    with _stores(settings, config.postgresql_vacuum) as stores:
        selection = _selection(args, stores.store, "export")
        if selection is None:
            return 2
        document = export(stores, selection, _actor(args))
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if output is None:
        print(text)
        return 0
    readable = output.with_suffix(".html")
    output.write_text(text + "\n", encoding="utf-8")
    deployment = settings.deployment or load_checked()
    readable.write_text(readable_export(document, deployment, config, zone), encoding="utf-8")
    print(
        f"export: {len(document['handoffs'])} handoffs written to {output}, readable copy {readable}", file=sys.stderr
    )
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from helpdesk.db import open_engine
    from helpdesk.privacy.audit import entries

    engine = open_engine(Settings.from_env().database_url)
    try:
        rows = entries(engine, args.limit)
    finally:
        engine.dispose()
    print(json.dumps(rows, indent=2))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from helpdesk.privacy.retention import PrivacyConfigError, load_privacy

    try:
        config = load_privacy(Path(args.config) if args.config else None)
    except PrivacyConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    days = config.retention_days
    print(
        f"{config.source}: OK, kept (days, 0 = for ever): "
        + ", ".join(f"{kind} {getattr(days, kind)}" for kind in type(days).model_fields)
        + f"; batches of {config.batch_size}; "
        f"masked identifiers: {', '.join(config.masking.patterns) or 'none'}; "
        f"PostgreSQL vacuum: {config.postgresql_vacuum}"
    )
    return 0


def _selector(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--email", help="the contact e-mail address the customer gave (any case)")
    group.add_argument("--phone", help="the contact phone number (compared by its digits)")
    group.add_argument("--ticket", help="a ticket id, e.g. HD-7K2M9Q")
    p.add_argument("--actor", help="who asks, for the audit log (default: cli:<user>)")


def _config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="privacy configuration (default: HELPDESK_PRIVACY_FILE or config/privacy.yml)")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("purge", help="delete customer data past its retention period (config/privacy.yml)")
    p.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
    p.add_argument("--every", help="run again every interval (e.g. 1h, 30m) until stopped")
    _config_option(p)
    p.set_defaults(func=cmd_purge)

    p = subparsers.add_parser(
        "erase",
        help="erase one customer everywhere (handoffs, mail and its attachments, "
        "drafts, feedback, unanswered questions, Rasa's tracker store); "
        "asks first; audited",
    )
    _selector(p)
    p.add_argument("--dry-run", action="store_true", help="count what would be erased (the same keys)")
    p.add_argument("--yes", action="store_true", help="erase without asking (scripts, no terminal)")
    _config_option(p)
    p.set_defaults(func=cmd_erase)

    p = subparsers.add_parser(
        "export", help="everything stored about one customer, as JSON and as a page the customer can read; audited"
    )
    _selector(p)
    p.add_argument(
        "--output",
        "-o",
        help="write the JSON to this file (*.json) and the readable copy next to it "
        "(*.html) instead of the JSON to standard output",
    )
    _config_option(p)
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("privacy-audit", help="the audit log of erasures, exports and purges (JSON)")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_audit)

    p = subparsers.add_parser("privacy-check", help="validate the privacy configuration and print the periods")
    p.add_argument("--config", help="default: HELPDESK_PRIVACY_FILE or config/privacy.yml")
    p.set_defaults(func=cmd_check)
