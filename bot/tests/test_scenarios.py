"""The conversation suite: customer conversations from ``scenarios.yml`` played through Rasa's REST
channel against the real stack (Rasa + action server + web service with the starter KB).

Each reply is classified by the text it was rendered from (``bot/actions/texts.yml``: the key and
its language), so a scenario asserts what the bot *did* — answered with article X, suggested,
asked which topic, refused, offered a person, started the handoff form, made a ticket, added a
message to it — and in which language, and that German replies say "Sie", never "du". A scenario
that reaches a ticket is checked in the real handoff store: team, category, reason, priority,
what the description and "already tried" hold and lack.

Format of a scenario (see the file's header for the full list)::

    - id: de-vague-internet
      page: de                 # the chat page's language, sent as metadata with every message
      lang: de                 # the language every reply must be in
      turns:
        - user: internet kaputt!!!
          says: [clarify_topic]
        - button: DSL          # press the offered button whose title contains this
          article: [de-router-kein-internet, de-wlan-bricht-ab]

A procedure's own texts (kb/procedures: its questions, a wrong answer's error, its replies, its
failure) are classified as ``procedure_prompt``, ``procedure_error``, ``procedure_reply`` and
``procedure_failure``, in the file's language.

Run: ``scripts/test-bot -k scenarios`` (the pass count is in docs/benchmarks.md).
"""

from __future__ import annotations

import json
import re
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
SCENARIOS = yaml.safe_load((HERE / "scenarios.yml").read_text(encoding="utf-8"))["scenarios"]
TEXTS_FILE = HERE.parent / "actions" / "texts.yml"
DOMAIN_FILE = HERE.parent / "domain.yml"
PROCEDURES_DIR = HERE.parents[1] / "kb" / "procedures"
# "{customer_number}", "{response.line.since|datetime}": a procedure text's placeholders.
PROCEDURE_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_.]*(?:\|[a-z]+)?\}")
# Text names of older checkouts of the bot -> the names the texts have now, so that the same suite
# measures an older checkout too (copy this file, scenarios.yml and conftest.py into it); there an
# answer is the "article" text with a link and small talk comes from the domain's responses.
ALIASES = {
    "article": "answer_card",
    "next_article": "answer_card",
    "ask_solved": "answer_card",
    "clarify": "clarify_details",
    "handoff_intro_frustration": "handoff_intro",
    "utter_goodbye": "small_goodbye",
    "utter_welcome": "small_thank",
    "utter_iamabot": "small_bot_challenge",
    "utter_chitchat": "small_chitchat",
    "utter_how_can_i_help": "small_how_can_i_help",
}
ARTICLE_LINK = re.compile(r"/articles/([a-z0-9_-]+)")
INFORMAL = re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|du's)\b", re.IGNORECASE)
TICKET = re.compile(r"HD-[A-Z0-9]{4,}")
CONTACT = "kunde.test@example.com"


@lru_cache(maxsize=1)
def text_patterns() -> list[tuple[str, str, re.Pattern]]:
    """(key, lang, pattern) for every text the actions can send; ``{name}`` matches anything."""
    patterns = []
    entries = dict(yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8")))
    for name, variants in (yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8")).get("responses") or {}).items():
        entries[name] = {
            ("de" if any(c.get("value") == "de" for c in v.get("condition") or []) else "en"): v["text"]
            for v in variants
            if "text" in v
        }
    for key, entry in entries.items():
        variants = [entry, entry.get("fallback") or {}] if isinstance(entry, dict) else []
        for variant in variants:  # a text, and the variant used while the profile is unknown
            for lang in ("de", "en"):
                value = variant.get(lang)
                text = value.get("text") if isinstance(value, dict) else value
                if not isinstance(text, str) or not text.strip():
                    continue
                pattern = re.sub(r"\\\{[a-z_]+\\\}", lambda _: ".*?", re.escape(text.strip()))
                patterns.append((key, lang, re.compile(pattern, re.DOTALL)))
    patterns += procedure_patterns()
    # Longest first: a text that contains another ("{x}" texts) must win over the shorter one.
    return sorted(patterns, key=lambda p: -len(p[2].pattern))


def procedure_patterns() -> list[tuple[str, str, re.Pattern]]:
    """(key, lang, pattern) of the procedures' own texts: what the bot says from their files."""
    patterns = []
    for path in sorted(PROCEDURES_DIR.glob("*/*.md")):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---", 2)[1])
        texts = [("procedure_prompt", i["prompt"]) for i in front["inputs"]]
        texts += [("procedure_error", i["error"]) for i in front["inputs"] if i.get("error")]
        texts += [("procedure_reply", r["text"]) for r in front["replies"]]
        texts.append(("procedure_failure", front["failure"]))
        for key, text in texts:
            parts = PROCEDURE_PLACEHOLDER.split(text.strip())
            pattern = ".*?".join(re.escape(part) for part in parts)
            patterns.append((key, front["lang"], re.compile(pattern, re.DOTALL)))
    return patterns


class Reply:
    """One turn's bot messages, classified."""

    def __init__(self, messages: list[dict[str, Any]]):
        self.messages = messages
        self.keys: list[tuple[str, str | None]] = []
        self.cards = [
            m["custom"]["data"]
            for m in messages
            if isinstance(m.get("custom"), dict) and isinstance(m["custom"].get("data"), dict)
        ]
        for card in self.cards:
            self.keys.append(("answer_card", card.get("lang")))
        # Rasa's REST channel sends each paragraph of a text as its own message: a text is the
        # shortest run of consecutive messages that, joined again, is one of the bot's texts.
        parts = [(m.get("text") or "").strip() for m in messages if (m.get("text") or "").strip()]
        start = 0
        while start < len(parts):
            match, end = None, start + 1
            for stop in range(start + 1, len(parts) + 1):  # the shortest run: "{x}" matches much
                joined = "\n\n".join(parts[start:stop])
                match = next(((k, lang) for k, lang, p in text_patterns() if p.fullmatch(joined)), None)
                if match:
                    end = stop
                    break
            text = "\n\n".join(parts[start:end])
            start = end
            if match and match[0] in ALIASES:
                link = ARTICLE_LINK.search(text)
                if link and match[0] != "ask_solved":
                    self.cards.append({"article_id": link.group(1), "lang": match[1], "text": text})
                match = (ALIASES[match[0]], match[1])
            self.keys.append(match or ("?", None))

    @property
    def names(self) -> list[str]:
        return [k for k, _ in self.keys]

    @property
    def text(self) -> str:
        custom = [
            c.get("text", "")
            for m in self.messages
            if isinstance(m.get("custom"), dict)
            for c in [m["custom"].get("data") or {}]
        ]
        return "\n".join([m.get("text") or "" for m in self.messages] + custom)

    @property
    def buttons(self) -> list[dict[str, str]]:
        found = [b for m in self.messages for b in m.get("buttons") or []]
        return found + [b for c in self.cards for b in c.get("buttons") or []]

    def describe(self) -> str:
        return (
            f"keys={self.keys} cards={[c.get('article_id') for c in self.cards]} "
            f"buttons={[b['title'] for b in self.buttons]} text={self.text[:300]!r}"
        )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def check_reply(reply: Reply, expect: dict[str, Any], lang: str | None, where: str) -> None:
    info = f"{where}: {reply.describe()}"
    if expect.get("silent"):
        assert not reply.messages, f"expected no reply; {info}"
        return
    assert reply.messages, f"no reply; {info}"
    assert "?" not in reply.names, f"a reply that is none of the bot's texts; {info}"
    for key in as_list(expect.get("says")):
        assert key in reply.names, f"expected {key}; {info}"
    if "says_any" in expect:
        assert set(as_list(expect["says_any"])) & set(reply.names), f"expected one of {expect['says_any']}; {info}"
    for key in as_list(expect.get("not_says")):
        assert key not in reply.names, f"did not expect {key}; {info}"
    if "article" in expect:
        ids = [c.get("article_id") for c in reply.cards]
        assert ids and ids[0] in as_list(expect["article"]), f"expected an answer with {expect['article']}; {info}"
    if "not_article" in expect:
        ids = [c.get("article_id") for c in reply.cards]
        assert not set(ids) & set(as_list(expect["not_article"])), f"did not expect {expect['not_article']}; {info}"
    if "shows" in expect:
        shown = [c.get("article_id") for c in reply.cards][:1] + [
            b["payload"].split("article:", 1)[1].split('"')[0] for b in reply.buttons if "article:" in b["payload"]
        ]
        assert set(shown) & set(as_list(expect["shows"])), f"expected {expect['shows']} shown; {info}"
    if "suggests_any" in expect:
        offered = [b["payload"] for b in reply.buttons if "article:" in b["payload"]]
        assert any(f"article:{a}" in p for a in as_list(expect["suggests_any"]) for p in offered), (
            f"expected suggestions among {expect['suggests_any']}; {info}"
        )
    for text in as_list(expect.get("text_has")):
        assert text in reply.text, f"expected {text!r} in the reply; {info}"
    for label in as_list(expect.get("options_any")):
        titles = [b["title"].lower() for b in reply.buttons]
        assert any(label.lower() in t for t in titles), f"expected a button like {label!r}; {info}"
    if lang:
        langs = {key_lang for _, key_lang in reply.keys if key_lang}
        assert langs <= {lang}, f"reply not in {lang}; {info}"
    if lang == "de":
        assert not INFORMAL.search(reply.text), f"German reply without formal 'Sie'; {info}"


def press_code(reply: Reply, code: str, where: str) -> str:
    """The payload of the button that sends the choice ``code`` (form buttons: topic, urgency)."""
    for button in reply.buttons:
        if f'"{code}"' in button["payload"]:
            return button["payload"]
    pytest.fail(f"{where}: no button for {code!r}; {reply.describe()}")


def press(reply: Reply, wanted: Any, where: str) -> str:
    """The payload of the button whose title contains ``wanted`` (or one of a list of such parts,
    or the n-th button)."""
    buttons = reply.buttons
    if isinstance(wanted, int):
        assert len(buttons) > wanted, f"{where}: no button {wanted}; {reply.describe()}"
        return buttons[wanted]["payload"]
    parts = wanted if isinstance(wanted, list) else [wanted]
    for button in buttons:
        if any(str(part).lower() in button["title"].lower() for part in parts):
            return button["payload"]
    pytest.fail(f"{where}: no button like {wanted!r}; {reply.describe()}")


FORM_ANSWERS = {
    "ask_handoff_description": "description",
    "ask_handoff_tried": "tried",
    "ask_handoff_contact": "contact",
}


def form_budget(form: dict[str, Any], asked: list[str]) -> int:
    """Customer turns the form may take: five once the conversation has told the problem (topic,
    what was tried, contact, urgency, confirmation at most), one more when it had to ask for the
    description, three more per correction at the summary (no, which field, the new value)."""
    if "turns_at_most" in form:
        return form["turns_at_most"]
    return 5 + ("description" in asked) + 3 * len(as_list(form.get("fix")))


def complete_form(
    bot_stack, me: str, reply: Reply, form: dict[str, Any], page: str | None, lang: str | None, where: str
) -> str:
    """Answers the handoff form's questions as a customer would, corrects what ``fix`` says at the
    summary, confirms, and returns the ticket number."""
    fixes = list(form.get("fix") or [])
    asked: list[str] = []
    for step in range(14):
        names = reply.names
        match = TICKET.search(reply.text)
        if "handoff_created" in names and match:
            budget = form_budget(form, asked)
            assert step <= budget, f"{where}: {step} customer turns in the form (at most {budget}), asked {asked}"
            for field in as_list(form.get("asks")):
                assert field in asked, f"{where}: the form never asked for {field} (asked {asked})"
            for field in as_list(form.get("never_asks")):
                assert field not in asked, f"{where}: the form asked for {field}, which it knew"
            return match.group(0)
        pending = fixes[0]["value"] if fixes and fixes[0].get("done") else None
        if "ask_handoff_category" in names:
            message = press_code(reply, pending or form["topic"], where)
            asked.append("category")
        elif "ask_handoff_urgency" in names:
            message = press_code(reply, pending or form.get("urgency", "normal"), where)
            asked.append("urgency")
        elif "ask_fix_field" in names:
            asked.append("which field")
            message = f'/inform{{"choice": "fix_{fixes[0]["field"]}"}}'
        elif "handoff_summary" in names:
            for text in as_list(form.get("summary_has")):
                assert text in reply.text, f"{where}: summary lacks {text!r}; {reply.describe()}"
            if fixes and fixes[0].get("done"):
                fixes.pop(0)
            asked.append("summary")
            if fixes:
                fixes[0]["done"] = True
                message = "/deny"
            else:
                message = "/affirm"
        else:
            key = next((k for k in names if k in FORM_ANSWERS), None)
            assert key, f"{where}: not a form question; {reply.describe()}"
            field = FORM_ANSWERS[key]
            asked.append(field)
            message = pending or form.get(field) or CONTACT
        reply = Reply(bot_stack.say(me, message, metadata={"language": page} if page else None))
        check_reply(reply, {}, lang, f"{where} form step {step}")
    pytest.fail(f"{where}: no ticket after the form; {reply.describe()}")


def check_ticket(bot_stack, ticket: str, expect: dict[str, Any], where: str) -> None:
    rows = bot_stack.search.query("SELECT * FROM handoffs WHERE ticket_id = ?", ticket)
    assert len(rows) == 1, f"{where}: {ticket} not stored"
    row = rows[0]
    for column in ("team", "category", "reason", "priority", "language"):
        if column in expect:
            assert row[column] == expect[column], f"{where}: {column} {row[column]!r} != {expect[column]!r}"
    for text in as_list(expect.get("description_has")):
        assert text.lower() in row["description"].lower(), f"{where}: description {row['description']!r}"
    for text in as_list(expect.get("description_lacks")):
        assert text.lower() not in row["description"].lower(), f"{where}: description {row['description']!r}"
    for text in as_list(expect.get("tried_has")):
        assert text.lower() in row["tried"].lower(), f"{where}: tried {row['tried']!r}"
    if "tried_once" in expect:
        for title in as_list(expect["tried_once"]):
            assert row["tried"].count(title) == 1, f"{where}: {title!r} not exactly once in {row['tried']!r}"
    if "articles" in expect:
        stored = bot_stack.search.query(
            "SELECT article_id, feedback FROM handoff_articles WHERE handoff_id = ? ORDER BY position", row["id"]
        )
        assert {a["article_id"]: a["feedback"] for a in stored} == expect["articles"], f"{where}: articles"
    if "procedure" in expect:  # the run the workspace shows as a panel
        run = json.loads(row["procedure_run"] or "null")
        assert run, f"{where}: no procedure run in the ticket"
        for key, value in expect["procedure"].items():
            assert run[key] == value, f"{where}: procedure_run {key} {run[key]!r} != {value!r}"
    if "transcript_has" in expect:
        messages = [
            m["text"]
            for m in bot_stack.search.query(
                "SELECT text FROM handoff_messages WHERE handoff_id = ? ORDER BY position", row["id"]
            )
        ]
        for text in as_list(expect["transcript_has"]):
            assert text in messages, f"{where}: {text!r} not in the transcript"


def scenario_params():
    """Every scenario; one with ``known_gap`` is an expected failure with that reason (not
    strict: a gap that closes shows as XPASS), so the suite's pass rate stays honest."""
    for s in SCENARIOS:
        marks = [pytest.mark.xfail(reason=s["known_gap"], strict=False)] if s.get("known_gap") else []
        yield pytest.param(s, id=s["id"], marks=marks)


@pytest.mark.parametrize("scenario", list(scenario_params()))
def test_scenario(bot_stack, scenario, conversation_outcomes):
    me = f"scn-{scenario['id']}-{uuid.uuid4().hex[:6]}"
    page, lang = scenario.get("page"), scenario.get("lang")
    conversation_outcomes["played"].add(scenario["id"])
    reply: Reply | None = None
    ticket = None
    for number, turn in enumerate(scenario["turns"], 1):
        where = f"{scenario['id']} turn {number}"
        if "user" in turn:
            assert isinstance(turn["user"], str), f"{where}: quote the message (YAML reads no/yes as booleans)"
            message = turn["user"]
        elif "pick" in turn:  # the customer chooses the article when it came as an option
            pick = f'article:{turn["pick"]}"'
            offered = [b["payload"] for b in reply.buttons if pick in b["payload"]] if reply else []
            if not offered:
                continue
            message = offered[0]
        elif "button" in turn:
            assert reply is not None, f"{where}: a button before any reply"
            message = press(reply, turn["button"], where)
        else:
            message = turn["payload"]
        reply = Reply(bot_stack.say(me, message, metadata={"language": page} if page else None))
        if "solved" in reply.names:
            conversation_outcomes["solved"].add(scenario["id"])
        check_reply(reply, turn, turn.get("lang", lang), where)
        if "form" in turn:
            ticket = complete_form(bot_stack, me, reply, turn["form"], page, lang, where)
            reply = None
    if ticket:
        conversation_outcomes["ticket"].add(scenario["id"])
    if "ticket" in scenario:
        assert ticket, f"{scenario['id']}: no ticket was made"
        check_ticket(bot_stack, ticket, scenario["ticket"], scenario["id"])
    for number, turn in enumerate(scenario.get("after_ticket") or [], 1):
        where = f"{scenario['id']} after the ticket, turn {number}"
        reply = Reply(bot_stack.say(me, turn["user"], metadata={"language": page} if page else None))
        check_reply(reply, {"says": ["after_ticket"]}, lang, where)
        assert ticket in reply.text, f"{where}: ticket number missing; {reply.describe()}"
        check_ticket(bot_stack, ticket, {"transcript_has": [turn["user"]]}, where)
