"""The desk in its agents' language: German or English, chosen per agent.

Every text of the desk's pages (the inbox, the ticket workspace, the reports, the
incident pages, the login), the messages its routes produce and the team
notification mails is English in the code and translated through the gettext
catalogs under ``helpdesk/locale`` (``catalogs``). ``language.DeskLanguage`` is one
reader's language: its translations and Babel's formats of dates, times, numbers
and durations in the desk's time zone. ``messages.Text`` carries an English message
with its parameters from the code that produces it to the page that shows it, so a
store error reads in the agent's language on the page and in English in the JSON
API. The customer-facing chat, the status page and the bot have texts of their own
and are not part of this.
"""

from helpdesk.i18n.catalogs import DEFAULT_LANGUAGE, LANGUAGES
from helpdesk.i18n.language import DeskLanguage, desk_language, english, negotiate
from helpdesk.i18n.messages import N_, Text, msg, term

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "DeskLanguage",
    "Text",
    "desk_language",
    "english",
    "msg",
    "negotiate",
    "term",
]
