"""``helpdesk demo-data``: weeks of realistic traffic in the database, so the reports can be judged and tested.

Everything goes through the stores the service itself writes with, never raw
SQL: the bot's searches (``ActivityStore``), unanswered searches and verdicts
(``FeedbackStore``), handoffs routed by the routing file with its real promise
(``RoutingConfig.route``, ``HandoffStore.create``), then claims, the agents'
replies to the customer, notes, escalations to the expert team and resolutions
on the store's clock set to the simulated moment. Traffic follows office hours (busy 08-18 on weekdays,
quiet nights, a third on weekends), both languages, every category, all
priorities; first responses scatter around the promised time, so some miss
it, and recent tickets are still open. The same seed gives the same data; a
seed already in the database is refused (its conversations would count twice).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from helpdesk.db import utcnow
from helpdesk.feedback.store import FeedbackStore
from helpdesk.handoffs.routing import RoutingConfig
from helpdesk.handoffs.schemas import HandoffIn, Message
from helpdesk.handoffs.store import HandoffStore
from helpdesk.reports.activity import ActivityStore, ReportConversation

# Share of a day's conversations per local hour (0-23), weekdays; weekends get WEEKEND_SHARE of the volume.
HOURLY = (1, 1, 0.5, 0.5, 0.5, 1, 2, 5, 9, 10, 10, 9, 8, 9, 10, 9, 8, 6, 4, 3, 3, 2, 2, 1)
WEEKEND_SHARE = 0.35
UNANSWERED = {
    "de": [
        "Kann ich meinen Vertrag pausieren?",
        "Wo finde ich die Rechnung von letztem Jahr?",
        "Wie kündige ich die Zusatzoption TV?",
        "Warum ist mein Paket noch nicht da?",
        "Gibt es einen Studentenrabatt?",
        "Wie ändere ich meine Bankverbindung?",
    ],
    "en": [
        "Can I pause my contract?",
        "How do I cancel the TV add-on?",
        "Is there a student discount?",
        "Where is my parcel?",
        "How do I change my bank details?",
        "Do you offer static IP addresses?",
    ],
}
URGENCY = (("low", 0.25), ("normal", 0.45), ("high", 0.22), ("critical", 0.08))
AGENTS = ("anna", "ben", "carla", "deniz", "emil", "fatma")


@dataclass(frozen=True)
class DemoArticle:
    id: str
    title: str
    lang: str
    category: str | None
    questions: tuple[str, ...]


@dataclass
class DemoSummary:
    conversations: int = 0
    searches: int = 0
    handoffs: int = 0
    resolved: int = 0


class DemoExists(Exception):
    pass


def pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def generate(
    handoffs: HandoffStore,
    routing: RoutingConfig,
    articles: Sequence[DemoArticle],
    weeks: int = 4,
    seed: int = 1,
    per_day: int = 60,
    now: datetime | None = None,
) -> DemoSummary:
    """Write ``weeks`` of traffic ending at ``now``; ``per_day``: conversations on a busy weekday."""
    now = now or utcnow()
    rng = random.Random(seed)
    activity, feedback = ActivityStore(handoffs.engine), FeedbackStore(handoffs.engine)
    prefix = f"demo-{seed}-"
    with activity.transaction() as s:
        if s.query(ReportConversation.id).filter(ReportConversation.conversation_id.like(prefix + "%")).first():
            raise DemoExists(f"demo data of seed {seed} is already in this database; use another --seed")
    by_lang = {lang: [a for a in articles if a.lang == lang] for lang in ("de", "en")}
    categories = sorted(routing.categories)
    summary = DemoSummary()
    tz = routing.tz
    first_day = (now.astimezone(tz) - timedelta(days=weeks * 7)).date()
    saved_clock = handoffs.clock
    try:
        for offset in range(weeks * 7 + 1):
            day = first_day + timedelta(days=offset)
            volume = per_day * (WEEKEND_SHARE if day.weekday() >= 5 else 1.0) * rng.uniform(0.8, 1.2)
            for hour, share in enumerate(HOURLY):
                expected = volume * share / sum(HOURLY)
                count = int(expected) + (rng.random() < expected - int(expected))
                for _ in range(count):
                    local = datetime(
                        day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=tz
                    )
                    start = local.astimezone(UTC)
                    if start > now - timedelta(minutes=5):
                        continue
                    conversation(
                        handoffs,
                        activity,
                        feedback,
                        routing,
                        rng,
                        f"{prefix}{summary.conversations}",
                        start,
                        now,
                        by_lang,
                        categories,
                        summary,
                    )
    finally:
        handoffs.clock = saved_clock
    return summary


def conversation(
    handoffs: HandoffStore,
    activity: ActivityStore,
    feedback: FeedbackStore,
    routing: RoutingConfig,
    rng: random.Random,
    cid: str,
    start: datetime,
    now: datetime,
    by_lang: dict[str, list[DemoArticle]],
    categories: list[str],
    summary: DemoSummary,
) -> None:
    lang = "de" if rng.random() < 0.6 else "en"
    summary.conversations += 1
    at = start
    shown: DemoArticle | None = None
    query = ""
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        at += timedelta(seconds=rng.randint(20, 120))
        summary.searches += 1
        if by_lang[lang] and rng.random() < 0.72:
            article = rng.choice(by_lang[lang])
            query = rng.choice(article.questions or (article.title,))
            activity.record_search(cid, lang, article.id, now=at)
            shown = shown or article
        else:
            query = rng.choice(UNANSWERED[lang])
            top = rng.choice(by_lang[lang]).id if by_lang[lang] else None
            activity.record_search(cid, lang, None, now=at)
            feedback.record_unanswered(query, lang, rng.uniform(0.1, 0.45), 0.5, top, now=at)
    verdict = None
    if shown is not None and rng.random() < 0.8:
        verdict = rng.random() < 0.62
        at += timedelta(seconds=rng.randint(30, 300))
        feedback.record_feedback(cid, shown.id, query, verdict, now=at)
    chance = 0.45 if shown is None else (0.5 if verdict is False else 0.02 if verdict else 0.12)
    if rng.random() >= chance:
        return
    at += timedelta(seconds=rng.randint(60, 240))
    handoff(handoffs, routing, rng, cid, lang, at, now, shown, verdict, query, categories, summary)


def handoff(
    handoffs: HandoffStore,
    routing: RoutingConfig,
    rng: random.Random,
    cid: str,
    lang: str,
    at: datetime,
    now: datetime,
    shown: DemoArticle | None,
    verdict: bool | None,
    query: str,
    categories: list[str],
    summary: DemoSummary,
) -> None:
    category = shown.category if shown and shown.category in routing.categories else rng.choice(categories)
    urgency = pick(rng, URGENCY)
    reason = (
        "unresolved"
        if verdict is False
        else "no_answer"
        if shown is None
        else pick(rng, (("customer_request", 0.8), ("frustration", 0.2)))
    )
    decision = routing.route(category, urgency, reason, now=at)
    data = HandoffIn.model_validate(
        {
            "idempotency_key": f"{cid}-handoff-1",
            "conversation_id": cid,
            "channel": "web-chat",
            "language": lang,
            "reason": reason,
            "summary": {
                "category": category,
                "description": query or "(no description)",
                "urgency": urgency,
                "tried": f"article {shown.id}" if shown else "",
                "contact": {"name": "Demo Customer", "email": f"{cid}@demo.invalid"},
            },
            "transcript": [{"sender": "customer", "text": query or "hello", "timestamp": at - timedelta(minutes=2)}],
            "articles_shown": (
                [
                    {
                        "article_id": shown.id,
                        "title": shown.title,
                        "feedback": {True: "solved", False: "not_solved", None: "none"}[verdict],
                    }
                ]
                if shown
                else []
            ),
        }
    )
    view, _ = handoffs.create(
        data,
        team=decision.team,
        priority=decision.priority,
        on_call=decision.on_call,
        expected_minutes=decision.expected.minutes,
        due_at=decision.expected.due_at,
        now=at,
    )
    summary.handoffs += 1
    ticket = view["ticket_id"]
    # First response around the promise: most in time, a tail of late ones.
    promised = decision.expected.due_at - at
    respond = at + promised * rng.lognormvariate(-0.6, 0.6) + timedelta(minutes=rng.randint(1, 10))
    if respond > now:
        return
    agent = rng.choice(AGENTS)
    act(handoffs, respond, lambda: handoffs.claim(ticket, agent))
    reply(handoffs, ticket, agent, lang, respond)
    moment = respond
    if rng.random() < 0.3:
        moment += timedelta(minutes=rng.randint(2, 30))
        if moment > now:
            return
        act(handoffs, moment, lambda: handoffs.add_note(ticket, agent, "Called the customer, waiting for logs."))
    if rng.random() < 0.12 and decision.team != routing.escalation_team:
        moment += timedelta(minutes=rng.randint(10, 90))
        if moment > now:
            return
        due = routing.expected_for_team(routing.escalation_team, decision.priority, moment).due_at
        act(
            handoffs,
            moment,
            lambda: handoffs.escalate(ticket, agent, "Needs the expert team.", routing.escalation_team, due),
        )
        moment += (due - moment) * rng.lognormvariate(-0.7, 0.5)
        agent = "expert-" + rng.choice(("kim", "lou"))
        if moment > now:
            return
        act(handoffs, moment, lambda: handoffs.claim(ticket, agent))
        reply(handoffs, ticket, agent, lang, moment)
    if now - at < timedelta(days=10) and rng.random() < 0.15:
        return  # waiting for the customer: still open (the backlog)
    moment += timedelta(minutes=rng.lognormvariate(4.6, 1.0))  # median ~100 min of work after the response
    if moment > now:
        return
    act(handoffs, moment, lambda: handoffs.resolve(ticket, agent, "Solved with the customer."))
    summary.resolved += 1


REPLIES = {
    "de": "Guten Tag, hier ist der Support. Ich sehe mir das jetzt an.",
    "en": "Hello, support here. I am looking into it now.",
}


def reply(handoffs: HandoffStore, ticket: str, agent: str, lang: str, moment: datetime) -> None:
    """An agent's message to the customer: what the reports count as a response."""
    message = Message(sender="agent", text=REPLIES[lang], timestamp=moment)
    act(handoffs, moment, lambda: handoffs.append_messages(ticket, [message], actor=agent))


def act(handoffs: HandoffStore, moment: datetime, action) -> None:
    handoffs.clock = lambda: moment
    action()


def demo_articles(settings) -> list[DemoArticle]:
    from search_api.kb.articles import load_articles

    loaded = load_articles(settings.articles_dir, settings.languages).articles
    return [DemoArticle(a.id, a.title, a.lang, a.category, a.questions) for a in loaded if a.audience == "public"]


def cmd_demo_data(args: argparse.Namespace) -> int:
    from helpdesk.settings import Settings

    if not 1 <= args.weeks <= 52 or not 1 <= args.per_day <= 2000:
        print("demo-data: --weeks is 1..52 and --per-day 1..2000", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    routing = RoutingConfig.load(settings.routing_file)
    store = HandoffStore.open(settings.database_url)
    try:
        summary = generate(store, routing, demo_articles(settings), args.weeks, args.seed, args.per_day)
    except DemoExists as exc:
        print(f"demo-data: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(
        f"demo-data: {summary.conversations} conversations, {summary.searches} searches, "
        f"{summary.handoffs} handoffs ({summary.resolved} resolved) over {args.weeks} weeks in "
        f"{settings.database_url.split('@')[-1]}"
    )
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo-data", help="fill DATABASE_URL with weeks of realistic traffic (for the reports)")
    p.add_argument("--weeks", type=int, default=4, help="weeks of traffic ending now (default 4)")
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same data")
    p.add_argument("--per-day", type=int, default=60, help="conversations on a busy weekday (default 60)")
    p.set_defaults(func=cmd_demo_data)
