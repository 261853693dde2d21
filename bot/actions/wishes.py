"""What a message asks of the conversation itself rather than of the knowledge base: a person,
another language, the ways to reach the company, to stop what the bot is doing; and what it tells
the handoff: what the customer already tried, whether it describes a problem, and a second problem announced in it.

Pure functions over the customer's text (no Rasa, no HTTP). NLU's intent says what a message is
probably about; these say what its words explicitly ask for, so that a question about cancelling,
an outage or a refund that NLU took for "request_human" is searched instead of handed over, and a
request to switch language or for the hotline is answered wherever NLU put it. Each is written
to say "no" when unsure: the message is then searched, which is the bot's default.
Both spellings of umlauts count ("zurückrufen", "zurueckrufen").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from actions.answers import content_words, has_code


def folded(text: str) -> str:
    """Lower case with umlauts spelled out, so one pattern matches "zurückrufen" and "zurueckrufen"."""
    text = (text or "").lower()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelled)
    return text


# -- a person --------------------------------------------------------------------------------------

# Words that mean a person of the company on their own ...
_PERSON = re.compile(
    r"\b(humans?|real person|a person|(live |real |support |service )?agents?|employees?|staff|operators?|"
    r"representatives?|colleagues?|customer (service|care|support)|"
    r"mensch(en)?|mitarbeiter(in|innen|n)?|ansprechpartner(in)?|(kunden)?berater(in)?|kolleg(e|en|in)|"
    r"(echte[nmr]?|richtige[nmr]?) person|kundenservice|kundendienst|servicemitarbeiter\w*)\b"
)
# ... someone, the support or the service only together with talking to or reaching them ...
_SOMEONE = r"(someone|somebody|anyone|anybody|jemand\w*|support|service|team|hotline)"
_TALK = (
    r"(talk|speak|chat|call|ring|connect|transfer|put me through|pass me|forward|get me|give me|"
    r"reden|sprechen|telefonieren|schreiben|anrufen|verbinden|weiterleiten|weitergeben|durchstellen)"
)
_REACH = re.compile(rf"\b{_TALK}\b.{{0,40}}\b{_SOMEONE}\b|\b{_SOMEONE}\b.{{0,40}}\b{_TALK}\w*\b")
# ... a call back, a ticket, or no bot.
_CALLBACK = re.compile(
    r"\b(call me( back)?|call back|callback|ring me|rueckruf\w*|zurueckruf\w*|\bruf\w*\b.{0,30}\b(an|zurueck)|"
    r"(open|create|raise|file|make|start)\b.{0,15}\bticket|ticket\b.{0,20}\b(auf|er)?(machen|oeffnen|eroeffnen|"
    r"anlegen|erstellen|aufmachen)|"
    r"(no|not a|not with a|don'?t want a|stop the|without a) ?(chat)?bot|kein(en)? ?(chat)?bot|"
    r"nicht mit (einem|nem) ?(chat)?bot)\b"
)


# A wish in so many words, whatever NLU made of the message: a person named together with
# wanting or talking to them ("ich brauche einen Mitarbeiter", "can a real person look at
# this"), a call back, no bot. "My colleague can't send mails" names a person but wants none.
_WANT = (
    r"(want|need|like|prefer|rather|get me|give me|talk|speak|chat|connect|transfer|will|moechte|moecht|"
    r"brauch\w*|haette gern|haett gern|reden|sprechen|verbinden|weiterleiten|gib mir|geben sie mir)"
)
_WISH = re.compile(
    rf"\b{_WANT}\b.{{0,40}}{_PERSON.pattern}|{_PERSON.pattern}\s*(bitte|please|pls|plz)\b|"
    rf"^\W*{_PERSON.pattern}\W*$"
)


def asks_for_person(text: str) -> bool:
    """Whether the message asks for a person in so many words, whatever else it says: a person
    with a verb of wanting or talking, someone to talk to, a call back, no bot ("Kann mich bitte
    jemand zurückrufen? Outlook verschickt nichts mehr"). Stricter than ``wants_person``: it
    decides on messages NLU took for a problem ("my colleague can't send mails" is one)."""
    lowered = folded(text)
    return bool(_WISH.search(lowered) or _REACH.search(lowered) or _CALLBACK.search(lowered))


def wants_person(text: str) -> bool:
    """Whether the message asks for a person in so many words: a human, an agent, someone to
    talk to, a call back, a ticket, no bot. The button payload ``/request_human`` is one too.
    "How much notice do I have to give?" or "is something going on with your network?" is not."""
    if (text or "").strip().startswith("/request_human"):
        return True
    lowered = folded(text)
    return bool(_PERSON.search(lowered) or _REACH.search(lowered) or _CALLBACK.search(lowered))


# -- stop -----------------------------------------------------------------------------------------

_STOP = (
    r"(cancel|stop|quit|abort|never ?mind|forget it|abbrechen|abbruch|stopp|aufhoeren|beenden|vergiss es|"
    r"vergessen sie es|lass es|lassen sie es|lieber doch nicht|doch nicht)"
)
_CANCEL = re.compile(
    rf"^\W*((please|bitte|ok|okay|nein|no)\W+)?((i want to|i'd like to|let's|ich (moechte|will)|bitte)\s+)?{_STOP}"
    r"(\s+(it|that|this|now|please|bitte|das|jetzt|den vorgang))?\W*$"
)


def cancels(text: str) -> bool:
    """Whether the whole message asks to stop what the bot is doing ("abbrechen", "cancel", "stop it",
    "vergiss es"); "cancel my contract" does not, it names something else."""
    return bool(_CANCEL.match(folded(text)))


# -- another language ------------------------------------------------------------------------------

LANGUAGE_NAMES = {"de": ("deutsch", "german", "germanisch"), "en": ("englisch", "english", "engl")}
OTHER_LANGUAGE = "other"
_OTHER_NAMES = (
    "franzoesisch",
    "french",
    "francais",
    "spanisch",
    "spanish",
    "espanol",
    "italienisch",
    "italian",
    "tuerkisch",
    "turkish",
    "polnisch",
    "polish",
    "russisch",
    "russian",
    "arabisch",
    "arabic",
    "niederlaendisch",
    "dutch",
    "portugiesisch",
    "portuguese",
)
_NAME = re.compile(
    r"\b(" + "|".join(n for names in LANGUAGE_NAMES.values() for n in names) + "|" + "|".join(_OTHER_NAMES) + r")\b"
)
_TARGET = re.compile(
    r"\b(auf|in|into|to|zu|ins)\s+("
    + "|".join(n for names in LANGUAGE_NAMES.values() for n in names)
    + "|"
    + "|".join(_OTHER_NAMES)
    + r")\b"
)
# The conversation as the thing to change: "können wir", "sprechen Sie", "can we", "do you speak".
_CONVERSATION = re.compile(
    r"\b(wir|sie|du|ihr|we|you|u|us|chat|conversation|gespraech|unterhaltung|hier|here|weiter\w*|"
    r"continue|switch|change|carry on|go on|wechseln|umstellen|antworten|answer|reply|sprechen|speak|"
    r"reden|talk|schreiben|write|bitte|please|pls|plz)\b"
)
# Words of the request itself; anything else in the message is a problem to search.
_REQUEST_WORDS = frozenset(
    """
koennen koennten kann koennt wir sie ihr du bitte gerne gern lieber weiter weitermachen weiterschreiben fortfahren
sprechen spricht sprichst reden schreiben antworten wechseln umstellen umschalten sprache hier chat gespraech
unterhaltung mal eigentlich auch please pls plz can could we you speak talk write answer reply continue switch
change carry go language instead rather prefer would like let lets let's us chat conversation here instead
""".split()
)
_REQUEST_MAX_OTHER_WORDS = 1
# The language of a product, not of the conversation: "die Sprache von Office", "the language of the app".
_LANGUAGE_OF_A_THING = re.compile(r"\b(sprache|language)\s+(von|in|der|des|im|bei|meines|meiner|of|in|for)\b")


def language_asked(text: str) -> str | None:
    """ "de" or "en" when the message asks to go on in that language ("können wir bitte auf deutsch
    weitermachen?", "can we continue in English please", "English?"), "other" for a language the
    bot does not speak, else None. A problem that names a language ("Word zeigt die Menüs auf
    Englisch") is not a request: the message may hold little besides the request."""
    lowered = folded(text)
    names = _NAME.findall(lowered)
    if not names or _LANGUAGE_OF_A_THING.search(lowered):
        return None
    others = [w for w in content_words(lowered) if w not in _REQUEST_WORDS and not _NAME.fullmatch(w)]
    short = len(lowered.split()) <= 3
    if len(others) > _REQUEST_MAX_OTHER_WORDS or not (short or _CONVERSATION.search(lowered)):
        return None
    target = _TARGET.search(lowered)
    name = target.group(2) if target else names[0]
    return next((lang for lang, spelled in LANGUAGE_NAMES.items() if name in spelled), OTHER_LANGUAGE)


# -- how to reach the company ----------------------------------------------------------------------

PHONE, HOURS, EMAIL = "phone", "hours", "email"
_CONTACT = {
    PHONE: re.compile(
        r"\b(hotline|telefon\w*|rufnummer|servicenummer|supportnummer|nummer|phone( number)?|"
        r"telephone|number|call you|ring you|anrufen|anruf|erreiche\w*|erreichen|reach you)\b"
    ),
    HOURS: re.compile(
        r"\b(oeffnungszeit\w*|geschaeftszeit\w*|servicezeit\w*|sprechzeit\w*|opening hours|"
        r"business hours|office hours|hours|erreichbar\w*|besetzt|staffed|geoeffnet|offen|open|"
        r"nachts|night|nights|wochenende\w*|weekends?|sonntags?|samstags?|feiertag\w*|sundays?|"
        r"saturdays?|holidays?|abends|evenings?|24/7|rund um die uhr|wann)\b"
    ),
    EMAIL: re.compile(r"\b(e-?mail-?adresse|mailadresse|e-?mail address|mail address|e-?mail|mail)\b"),
}
# The company as the one to reach: "euch", "Ihre Hotline", "your support".
_COMPANY = re.compile(
    r"\b(euch|ihr|ihre\w*|sie|eure\w*|euer|you|your|u|ur|support|kundenservice|kundendienst|"
    r"service|hotline|team|firma|company|kontakt\w*|contact)\b"
)
_QUESTION = re.compile(
    r"\?|^\s*(wie|wo|wann|welche\w*|an wen|gibt es|gibts|habt ihr|haben sie|hat|ist|sind|"
    r"seid|kann|koennen|what|whats|where|when|which|how|is|are|do|does|can|could|have)\b"
)
# Words of such a question itself; more than a few others make it a problem that mentions the hotline.
_CONTACT_WORDS = frozenset(
    """
hotline telefon telefonisch telefonnummer rufnummer servicenummer supportnummer nummer phone number telephone call
ring anrufen anruf erreiche erreichen erreicht reach contact kontakt kontaktieren oeffnungszeiten geschaeftszeiten
servicezeiten sprechzeiten opening hours business office erreichbar besetzt staffed geoeffnet offen open nachts
night nights wochenende weekend weekends sonntag sonntags samstag samstags feiertag feiertagen sunday sundays
saturday saturdays holiday holidays abends evening evenings uhr rund mail e-mail email adresse address
mailadresse e-mail-adresse support kundenservice kundendienst service team euch eure euer ihre your you
schreiben write send schicken person someone jemand menschen mensch also noch
""".split()
)
_CONTACT_MAX_OTHER_WORDS = 3


def addresses_company(text: str) -> bool:
    """Whether the message speaks of the company or its support ("your hotline", "euch", "Kontakt"):
    "my landline phone has no dial tone" speaks of a phone, not of reaching anyone."""
    return bool(_COMPANY.search(folded(text)))


def contact_asked(text: str) -> frozenset[str]:
    """Which ways of reaching the company a question asks for ({"phone", "hours", "email"}), or an
    empty set: "Wie erreiche ich euch telefonisch und ist die Hotline auch nachts besetzt?" is
    {"phone", "hours"}. A message with more than a few other words ("I called your hotline three
    times and my internet is still down") is a problem, not this question."""
    lowered = folded(text)
    if not (_QUESTION.search(lowered) and addresses_company(lowered)):
        return frozenset()
    kinds = {kind for kind, pattern in _CONTACT.items() if pattern.search(lowered)}
    if kinds == {HOURS} and not re.search(
        r"\b(hotline|support|service|kundenservice|kundendienst|erreichbar|"
        r"euch|ihr|you)\b",
        lowered,
    ):
        return frozenset()
    others = [w for w in content_words(lowered) if w not in _CONTACT_WORDS]
    if len(others) > _CONTACT_MAX_OTHER_WORDS:
        return frozenset()
    return frozenset(kinds)


# -- what the customer already tried ---------------------------------------------------------------

# Verbs that say on their own that the customer did something ("router neu gestartet", "already
# cleared the cache"), and verbs that need a "schon", "habe", "I", "already" to mean it ("I checked
# the cables"; not "my mails were deleted", "how do I reset my password").
_DONE = (
    r"tried|restarted|rebooted|re-?started|reinstalled|re-?installed|unplugged|power[- ]?cycled|"
    r"versucht|probiert|ausprobiert|neu ?gestartet|neugestartet|neu ?installiert|neu ?eingerichtet|"
    r"aus- und (wieder )?eingeschaltet|aus und (wieder )?an|ausgesteckt|abgezogen"
)
_DONE_WITH_SUBJECT = (
    r"cleared|deleted|checked|tested|updated|changed|replaced|disabled|enabled|"
    r"switched \w+ off|turned \w+ off|plugged|removed|re-?entered|entered|"
    r"gestartet|installiert|zurueckgesetzt|geloescht|geleert|eingesteckt|ausgeschaltet|"
    r"eingeschaltet|geprueft|ueberprueft|kontrolliert|getestet|aktualisiert|geaendert|"
    r"getauscht|ausgetauscht|deaktiviert|aktiviert|entfernt|eingegeben|eingetragen"
)
_SUBJECT = (
    r"\b(i|we|i've|we've|ive|already|also|even|schon|bereits|habe|hab|haben|hatte|hatten|mehrmals|"
    r"mehrfach|zweimal|dreimal|nochmal)\b"
)
_AFTER = r"\b(already|too|schon|bereits|mehrmals|mehrfach|zweimal|dreimal)\b"
_TRIED = re.compile(
    rf"\b({_DONE})\b|{_SUBJECT}.{{0,40}}\b({_DONE_WITH_SUBJECT})\b|"
    rf"\b({_DONE_WITH_SUBJECT})\b.{{0,40}}{_AFTER}"
)
_CLAUSE = re.compile(r"(?<=[.!?;])\s+|,\s*(?=(?:and|but|und|aber|auch|also|dann|then)\b)|\n+")
_PART = re.compile(r"\s*,\s*")
MAX_TRIED_CHARS = 600


def tried_in(texts: Iterable[str]) -> str:
    """What the customer said they already did, in their words: the sentences (or comma parts) of
    their messages with a verb of trying ("router schon neu gestartet", "already cleared the
    cache"); "" when they said nothing of the kind."""
    found: list[str] = []
    for text in texts or ():
        for sentence in _CLAUSE.split(text or ""):
            parts = [p.strip(" .!?;") for p in _PART.split(sentence) if p.strip(" .!?;")]
            for part in parts:
                if _TRIED.search(folded(part)) and part not in found:
                    found.append(part)
    return "; ".join(found)[:MAX_TRIED_CHARS]


# -- a problem, or two -----------------------------------------------------------------------------


def describes_problem(text: str) -> bool:
    """A typed answer that describes a problem rather than naming a topic: an error code, or at
    least three content words ("Word zeigt beim Öffnen den Fehler OFF-5015"; not "meine Rechnung")."""
    return has_code(text) or len(content_words(text)) >= 3


# A second matter announced in so many words, at the start of a sentence or after a comma.
_NEXT = re.compile(
    r"(?:^|[.!?;:]\s+|,\s*|\s+(?=(?:und|and)\s))(?:(?:und|and)\s+)?"
    r"(?:au(?:ss|ß)erdem|zudem|zweitens|und noch (?:was|etwas|eine frage|"
    r"ein problem|eine sache)|noch (?:eine|ne) (?:frage|sache)|another (?:thing|question|problem)|one more thing|"
    r"second(?:ly| question| problem)?|by the way|btw|p\.?\s?s\.?|nebenbei)\b[\s,:-]*",
    re.IGNORECASE,
)


# "Außerdem wollte ich fragen, wo …": the question starts after the lead-in.
_LEAD_IN = re.compile(
    r"^(?:(?:ich\s+)?wollte\s+(?:ich\s+)?(?:noch\s+|auch\s+)?(?:mal\s+)?(?:kurz\s+)?fragen|"
    r"(?:ich\s+)?h(?:ae|ä)tte\s+(?:da\s+)?(?:noch\s+)?(?:eine|ne)\s+frage|"
    r"i\s+(?:also\s+)?wanted\s+to\s+ask|i\s+was\s+wondering|i'?d\s+like\s+to\s+know)[\s,:]*",
    re.IGNORECASE,
)


def problems_in(text: str) -> list[str]:
    """The message's problems when it announces a second one ("Mein WLAN bricht ab. Außerdem: wo
    finde ich meine Rechnung?"): [first, second], each a problem of its own; else [text]."""
    for match in _NEXT.finditer(text or ""):
        first = text[: match.start()].strip(" ,.;:-")
        second = _LEAD_IN.sub("", text[match.end() :].strip(" ,.;:-"))
        if match.start() > 0 and _names_something(first) and _names_something(second):
            return [first, second]
    return [text]


def _names_something(text: str) -> bool:
    return has_code(text) or len(content_words(text)) >= 2
