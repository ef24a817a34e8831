"""The console words every intake rule from its code and numbers, in Polish and English (never the API's
English sentence on a Polish page), and keeps the rule's code."""

from __future__ import annotations

import re
from pathlib import Path

from api.console import i18n
from api.console.intake_wording import SENTENCES, word
from dispatch.catalog import intake_rules
from dispatch.catalog.intake_rules import Violation


def _rule_codes() -> set[str]:
    """Every rule code ``intake_rules`` can return (the first argument of each ``Violation``)."""
    source = Path(intake_rules.__file__).read_text()
    codes = set(re.findall(r'Violation\(\s*"([a-z_]+)"', source))
    return codes | {"month_quota", "year_quota"}  # passed to _quota as its code


EXAMPLES = [
    Violation("no_past", "first_date", "...", {"date": "2026-12-01", "today": "2026-12-03"}),
    Violation("lead_time", "first_date", "...", {"date": "2026-12-02", "earliest": "2026-12-07",
                                                 "lead_working_days": 3}),
    Violation("service_days", "first_date", "...", {"date": "2026-12-05", "service_days": [0, 1, 2, 3, 4]}),
    Violation("service_hours", "window_start", "...", {"service_from": "06:00", "service_to": "20:00",
                                                       "from": "05:30", "to": "07:00"}),
    Violation("month_quota", "first_date", "...", {"used": 2, "limit": 2, "period": "December 2026",
                                                   "date": "2026-12-09"}),
    Violation("year_quota", "first_date", "...", {"used": 6, "limit": 6, "period": "2026", "date": "2026-12-09"}),
    Violation("budget", "duration", "...", {"used": 3.75, "limit": 5.0, "unit": "hours", "period": "the week of x",
                                            "decision_id": "d-00001", "reference": "MOPR-1", "date": "2026-12-02"}),
]


def test_every_rule_the_service_returns_has_a_sentence() -> None:
    assert _rule_codes() == set(SENTENCES) == {v.rule for v in EXAMPLES}


def test_sentences_use_the_numbers_in_both_languages() -> None:
    for lang in i18n.LANGUAGES:
        gettext = i18n.translations(lang).gettext
        for violation in EXAMPLES:
            text = word(violation.as_error(), gettext)
            assert text.endswith(f"[{violation.rule}]") and "..." not in text, (lang, text)
            assert "%(" not in text
    polish = word(EXAMPLES[-1].as_error(), i18n.translations("pl").gettext)
    assert polish.startswith("wykorzystano 3.75 z 5 godz.") and "MOPR-1" in polish
    english = word(EXAMPLES[-1].as_error(), i18n.translations("en").gettext)
    assert english.startswith("3.75 of 5 hours used")


def test_an_unknown_rule_keeps_the_services_sentence() -> None:
    assert word({"rule": "new_rule", "message": "as the API says"}, str) == "as the API says [new_rule]"
    assert word({"rule": "budget", "message": "numbers missing"}, str) == "numbers missing [budget]"
