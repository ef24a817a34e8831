"""The console's languages: Polish by default, English on request (a cookie).

Message ids in templates and page code are English; ``locale/pl/LC_MESSAGES/messages.po`` is
the Polish catalogue.  The ``.po`` file is the only copy: it is compiled in memory when first
needed (``babel.messages.mofile.write_mo``), so no build step can leave a stale ``.mo`` behind
and nothing binary is committed.  English needs no catalogue (the ids are the text).

After changing a page's wording, update the catalogue with the commands in ``babel.cfg`` and
translate the new entries (``tests/api/test_console_package.py`` fails while one is missing).

Reasons why a visit was not placed are stored per language (``dispatch.planning.explanations``); pages
pick ``message_pl`` or ``message_en`` with :func:`pick`, never translate them again.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request

LANGUAGES = ("pl", "en")
DEFAULT_LANGUAGE = "pl"
LANG_COOKIE = "carepath_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (English: the ids themselves)."""
    path = catalogue_path(lang)
    if lang == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def language(request: Request) -> str:
    value = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def pick(lang: str, polish: str, english: str) -> str:
    """The stored wording in the page's language (reasons, service names)."""
    return polish if lang == "pl" else english


def long_date(day: dt.date, lang: str) -> str:
    """e.g. "wtorek, 1 grudnia 2026" / "Tuesday, December 1, 2026"."""
    return format_date(day, format="full", locale=lang)


def template_helpers(lang: str) -> dict[str, Any]:
    """What every template gets for its language: gettext as ``_``, the language, date wording."""
    trans = translations(lang)
    return {
        "_": trans.gettext,
        "ngettext": trans.ngettext,
        "lang": lang,
        "long_date": lambda day: long_date(day, lang),
        "pick": lambda polish, english: pick(lang, polish, english),
    }


def N_(message: str) -> str:
    """Marks a message id for extraction without translating it (the value is looked up later)."""
    return message


#: Ids that templates translate from data (roles, statuses, board block kinds, budget units, import kinds,
#: check-in states and outcomes).
DYNAMIC_MESSAGES = (
    N_("admin"), N_("coordinator"), N_("dispatcher"), N_("worker"),
    N_("draft"), N_("published"), N_("superseded"),
    N_("visit"), N_("travel"), N_("waiting"), N_("break"),
    N_("active"), N_("cancelled"), N_("hours"), N_("rides"),
    N_("per day"), N_("per week"), N_("per month"), N_("per year"),
    N_("import:places"), N_("import:services"), N_("import:cars"), N_("import:workers"), N_("import:seniors"),
    N_("import:requests"),
    N_("started"), N_("finished"), N_("planned"), N_("delivered"), N_("absent"), N_("refused"),
    N_("Not delivered: absent"), N_("Not delivered: refused"),
)
