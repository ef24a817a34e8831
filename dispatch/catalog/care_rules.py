"""Who may give which care: intimate care and the senior's gender rule, defined once.

* A service is **intimate care** when it includes care of the body (washing, dressing,
  toileting): ``Service.intimate_care``, which the centre sets per service.  Where a service
  row does not say (fixture scenarios, rows from before migration 0010) the programme's own
  services are read as the migration set them: home care, both specialist cares, personal
  assistance and respite are intimate care (respite stands in for the family carer, whose day
  includes exactly that care); the taxi and the handyman are not.
* A senior's **gender rule** (``Senior.gender_rule``) says how ``preferred_gender`` binds:
  ``none`` (no wish), ``prefer`` (a soft wish) or ``require`` (intimate care only from the
  preferred gender; other services keep it as a wish).  A senior record without a rule reads
  as ``prefer`` when it names a preferred gender (what the planner always did), else ``none``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch.storage.models import GenderRule
from dispatch.domain import ServiceCode, as_text

#: The programme's services that include care of the body (see the module docstring).
INTIMATE_CARE_SERVICES: frozenset[ServiceCode] = frozenset({
    ServiceCode.HOME_CARE,
    ServiceCode.SPECIALIST_CARE,
    ServiceCode.SPECIALIST_CARE_MENTAL,
    ServiceCode.PERSONAL_ASSISTANCE,
    ServiceCode.RESPITE,
})


def is_intimate_care(service: Any) -> bool:
    """Whether ``service`` (a row, or a fixture service without the flag) is intimate care."""
    flag = getattr(service, "intimate_care", None)
    if flag is not None:
        return bool(flag)
    return as_text(getattr(service, "code", "")) in {s.value for s in INTIMATE_CARE_SERVICES}


def default_gender_rule(preferred_gender: str | None) -> GenderRule:
    """The rule of a senior whose record does not state one: a named gender is a wish."""
    return GenderRule.PREFER if preferred_gender else GenderRule.NONE


def gender_rule_of(senior: Any) -> GenderRule:
    """The senior's rule (a row, or a fixture senior that has none: ``default_gender_rule``)."""
    rule = getattr(senior, "gender_rule", None)
    preferred = getattr(senior, "preferred_gender", None)
    if rule is None:
        return default_gender_rule(preferred)
    return GenderRule(as_text(rule))


def gender_rule_after(changes: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> GenderRule | None:
    """The rule to store when a senior is created or changed without naming one (``None``: keep it).

    Old clients and files only know ``preferred_gender``: naming one makes it a wish unless the
    senior already has a rule for it; clearing it clears the rule.
    """
    if changes.get("gender_rule") is not None:
        return None
    preferred = changes["preferred_gender"] if "preferred_gender" in changes else (current or {}).get("preferred_gender")
    rule = (current or {}).get("gender_rule")
    if preferred is None:
        return GenderRule.NONE
    if rule is None or GenderRule(as_text(rule)) is GenderRule.NONE:
        return GenderRule.PREFER
    return None


def gender_rule_problem(rule: object, preferred_gender: object) -> str | None:
    """Why a rule and a preferred gender do not go together (``None``: they do)."""
    try:
        rule = GenderRule(as_text(rule))
    except ValueError:
        return f"must be one of {', '.join(r.value for r in GenderRule)}"
    if rule is GenderRule.NONE and preferred_gender is not None:
        return (f"is 'none' but preferred_gender is {preferred_gender!r}: send gender_rule 'prefer' or "
                "'require', or clear preferred_gender")
    if rule is not GenderRule.NONE and preferred_gender is None:
        return f"'{rule.value}' needs a preferred_gender ('F' or 'M')"
    return None


def gender_terms(senior: Any, service: Any) -> tuple[str | None, bool]:
    """The visit's gender preference ('F', 'M' or None) and whether it is strict.

    Strict only for intimate care of a senior whose rule is ``require``.
    """
    rule = gender_rule_of(senior)
    preferred = getattr(senior, "preferred_gender", None)
    if rule is GenderRule.NONE or preferred not in ("F", "M"):
        return None, False
    return preferred, rule is GenderRule.REQUIRE and service is not None and is_intimate_care(service)


def capability_problem(worker: Any, kinds: Any, skills: Any, service: str) -> str | None:
    """Why ``worker`` cannot do a visit of ``service`` done by worker ``kinds`` with ``skills`` (None: it can).

    The optimizer's own hard rules (kind and skills); a request naming a worker who could never
    do it is refused at intake instead of ending every day unplaced.
    """
    kind = as_text(worker.kind)
    allowed = [as_text(k) for k in kinds or ()]
    if allowed and kind not in allowed:
        return f"worker {worker.id!r} is a {kind}; {service} is done by {', '.join(allowed)}"
    missing = sorted(set(skills or ()) - set(worker.skills or ()))
    if missing:
        return f"worker {worker.id!r} lacks the skill(s) {', '.join(missing)} that this request needs"
    return None
