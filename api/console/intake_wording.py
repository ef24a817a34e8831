"""Intake-rule violations worded in the page's language from their rule code and numbers.

Why here: ``dispatch.catalog.intake_rules`` returns each broken rule as a code, the request field and
the numbers (``Violation.as_error``: ``used``, ``limit``, ``date``, ...), with an English sentence for
the JSON API.  The console words them at the edge (conventions: "the core returns reason codes and
numbers; Polish and English wording is made at the edge"), so a Polish page never shows the API's
English.  A rule this module does not know keeps the service's own sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from api.console.i18n import N_

#: One sentence per rule code; ``%(name)s`` are the violation's numbers (``unit`` translated first).
SENTENCES = {
    "no_past": N_("%(date)s is in the past (today is %(today)s)"),
    "lead_time": N_("this service is booked at least %(lead_working_days)s working days ahead: %(date)s is too "
                    "soon, the earliest date is %(earliest)s"),
    "service_days": N_("the service does not run on the day of the week of %(date)s"),
    "service_hours": N_("the service runs %(service_from)s–%(service_to)s; this visit spans %(from)s–%(to)s"),
    "month_quota": N_("%(used)s of %(limit)s days with a booking used in the month of %(date)s; this request "
                      "would go over the limit"),
    "year_quota": N_("%(used)s of %(limit)s days with a booking used in the year of %(date)s; this request "
                     "would go over the limit"),
    "budget": N_("%(used)s of %(limit)s %(unit)s used in the budget period holding %(date)s under decision "
                 "%(reference)s; this request would go over it"),
}


def _number(value: Any) -> Any:
    return f"{value:g}" if isinstance(value, float) else value


def word(error: Mapping[str, Any], gettext: Callable[[str], str]) -> str:
    """The error's sentence in the page's language and its rule code, e.g. "... [budget]"."""
    rule = str(error.get("rule") or "")
    template = SENTENCES.get(rule)
    message = str(error.get("message", ""))
    if template is not None:
        numbers = {k: _number(v) for k, v in error.items()}
        if "unit" in numbers:
            numbers["unit"] = gettext(str(numbers["unit"]))
        try:
            message = gettext(template) % numbers
        except (KeyError, TypeError, ValueError):
            pass  # numbers missing: the service's own sentence
    return f"{message} [{rule}]" if rule else message
