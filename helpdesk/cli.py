"""The helpdesk command: the knowledge-base commands of search_api (lint,
build, eval), ``serve`` for the whole web service, and the desk's commands
(migrate, agents and tokens, routing check, deployment check, gaps, import of existing
help content as drafts, demo data, mail, the procedures' audit log, and the data-protection
commands purge, erase, export).

Every command reads the deployment configuration first (helpdesk/deployment.py):
its languages and public URL are the defaults of the search settings, so
``helpdesk build`` indexes the languages the deployment serves.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from helpdesk.deployment import DeploymentError, search_defaults
from search_api.cli import add_commands as add_kb_commands
from search_api.cli import cmd_lint as lint_articles
from search_api.cli import settings_from_args, with_dirs
from search_api.settings import SettingsError


def cmd_lint(args: argparse.Namespace) -> int:
    """The articles' problems (exit 1), then where configuration and KB disagree (warnings only)."""
    from helpdesk.deployment import load_checked
    from helpdesk.handoffs.routing import RoutingConfig, RoutingConfigError
    from helpdesk.profile import consistency_warnings
    from helpdesk.settings import Settings
    from search_api.kb.articles import load_articles

    status = lint_articles(args)
    settings = settings_from_args(args)
    try:
        routing = RoutingConfig.load(Settings.from_env().routing_file)
    except RoutingConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    warnings = consistency_warnings(
        load_checked(),
        routing,
        load_articles(settings.articles_dir, settings.languages).articles,
        settings.articles_dir,
    )
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(f"{len(warnings)} warnings (configuration and knowledge base)", file=sys.stderr)
    if lint_systems(settings):
        status = 1
    lint_drafts(Path(args.drafts) if args.drafts else Settings.from_env().drafts_dir, settings)
    return status


def lint_systems(settings) -> int:
    """Procedures that name a system config/procedures.yml does not have (they could never run), as
    ``file:line``; a broken configuration counts too. Returns how many problems."""
    from helpdesk.procedures.config import ProceduresConfigError, load_procedures_config
    from helpdesk.settings import Settings
    from search_api.kb.procedures import key_line, load_procedures

    try:
        config = load_procedures_config(Settings.from_env().procedures_file)
    except ProceduresConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    root = settings.procedures_root
    problems = [
        f"{root.parent}/{p.path}:{key_line(root.parent / p.path, 'call')}: call.system: '{p.spec.call.system}' "
        f"is not a system of {config.source}"
        for p in load_procedures(root, settings.languages).procedures
        if p.spec.call.system not in config.systems
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    return len(problems)


def lint_drafts(drafts_dir: Path, settings) -> int:
    """The drafts' problems, as ``draft <file>:<line>: ...``; they are work in progress, so they do not fail
    the lint: an author fixes them before moving the draft into the articles. Returns how many."""
    from helpdesk.inbox.drafts import load_drafts
    from search_api.kb.articles import load_articles
    from search_api.kb.lint import lint

    if not drafts_dir.is_dir():
        print(f"0 drafts ({drafts_dir} does not exist)", file=sys.stderr)
        return 0
    errors, count = lint(drafts_dir, settings.languages, drafts=True)
    problems = [str(e) for e in errors]
    published = {a.id: a.path for a in load_articles(settings.articles_dir, settings.languages).articles}
    drafts = load_drafts(drafts_dir, settings.languages).articles
    problems += [
        f"{d.path}:1: id '{d.id}' is already the id of the article {published[d.id]}"
        for d in drafts
        if d.id in published
    ]
    for problem in problems:
        print(f"draft {drafts_dir.name}/{problem}", file=sys.stderr)
    guessed = sum(1 for d in drafts if d.guessed)
    print(
        f"{count} drafts checked in {drafts_dir}, {len(problems)} problems (drafts do not fail the lint)"
        + (f"; {guessed} with guessed fields to confirm (front matter 'guessed')" if guessed else ""),
        file=sys.stderr,
    )
    return len(problems)


def cmd_deployment_check(args: argparse.Namespace) -> int:
    from helpdesk.deployment import load_checked

    deployment = load_checked()  # a DeploymentError is printed by main
    print(
        f"{deployment.source}: OK, {deployment.company} / {deployment.assistant}, languages "
        f"{', '.join(deployment.languages)}, public URL {deployment.urls.public}"
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    # One math thread per request: a query encode gains little from two threads,
    # and OpenMP workers spinning between requests made HTTP p50 73 ms instead of
    # 14 ms on 2 cores (docs/search.md, "The index"). Concurrent requests still use every core.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.articles:
        os.environ["HELPDESK_ARTICLES_DIR"] = args.articles
    if args.index:
        os.environ["HELPDESK_INDEX_DIR"] = args.index
    if args.watch:
        os.environ["HELPDESK_WATCH"] = "1"
    # A wrong setting stops here with its one-line message (main prints it), not in uvicorn's traceback.
    from helpdesk.chat.config import ChatConfig
    from helpdesk.settings import Settings

    Settings.from_env()
    ChatConfig.from_env()
    uvicorn.run("helpdesk.app:create_app", factory=True, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_mail(args: argparse.Namespace) -> int:
    """The e-mail channel's process (helpdesk/mail/worker.py)."""
    import logging

    from helpdesk.mail.config import MailConfigError
    from helpdesk.mail.worker import MailWorker
    from helpdesk.settings import Settings

    try:
        settings = Settings.from_env()
        if args.configured:  # scripts/run starts the process only for a configured mailbox
            return 0 if settings.mail.enabled else 3
        from helpdesk.privacy.masking import install_log_masking

        install_log_masking()  # no customer's address in the log, as in the web service's
        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        worker = MailWorker(settings)
    except MailConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.once:
        print(f"{worker.once()} mail(s) taken in")
        worker.stop()
        return 0
    worker.run_forever()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpdesk", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_kb_commands(sub)  # lint, build, eval
    sub.choices["lint"].set_defaults(func=cmd_lint)
    sub.choices["lint"].add_argument(
        "--drafts",
        help="article drafts to check too (default: HELPDESK_DRAFTS_DIR "
        "or kb/drafts); reported, never failing the lint",
    )
    p = sub.add_parser("deployment-check", help="validate the deployment configuration (HELPDESK_DEPLOYMENT_FILE)")
    p.set_defaults(func=cmd_deployment_check)
    p = with_dirs(sub.add_parser("serve", help="run the HTTP service"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info")
    p.add_argument("--watch", action="store_true", help="rebuild the index when an article changes (preview)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("mail", help="take in the support mailbox (IMAP, IDLE) and answer by mail")
    p.add_argument("--once", action="store_true", help="take in what is there now, then exit")
    p.add_argument("--configured", action="store_true", help="exit 0 when a mailbox is configured, 3 when not")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_mail)
    from helpdesk.handoffs.cli import add_commands as add_handoff_commands

    add_handoff_commands(sub)  # migrate, create-agent, create-agent-token, routing-check
    from helpdesk.feedback.cli import add_commands as add_feedback_commands

    add_feedback_commands(sub)  # gaps
    from helpdesk.kbimport.cli import add_commands as add_import_commands

    add_import_commands(sub)  # import
    from helpdesk.reports.demo import add_commands as add_report_commands

    add_report_commands(sub)  # demo-data
    from helpdesk.procedures.cli import add_commands as add_procedure_commands

    add_procedure_commands(sub)  # procedure-runs

    from helpdesk.privacy.cli import add_commands as add_privacy_commands

    add_privacy_commands(sub)  # purge, erase, export, privacy-audit, privacy-check
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with search_defaults():
            return args.func(args)
    except (DeploymentError, SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
