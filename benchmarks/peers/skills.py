"""Who may do a visit, as conjunctive skill tokens (VROOM's model) or eligibility classes (PyVRP).

carepath's eligibility mixes conjunctions (all required skills) with disjunctions (any of
the allowed worker kinds, any of the required workers) and negations (forbidden workers,
strict gender).  Each distinct disjunction or negation becomes one token that exactly the
workers who satisfy it hold, so "worker holds every token of the visit" is the same rule
as ``optimizer.rules.eligible_workers``.
"""

from __future__ import annotations

from typing import Hashable

from optimizer import Problem, Visit, Worker

Token = tuple[str, Hashable]


def visit_tokens(visit: Visit) -> set[Token]:
    tokens: set[Token] = {("skill", s) for s in visit.required_skills}
    if visit.worker_kinds:
        tokens.add(("kinds", frozenset(visit.worker_kinds)))
    if visit.required_workers:
        tokens.add(("workers", frozenset(visit.required_workers)))
    if visit.pinned_worker is not None:
        tokens.add(("workers", frozenset({visit.pinned_worker})))
    if visit.forbidden_workers:
        tokens.add(("not", frozenset(visit.forbidden_workers)))
    if visit.gender_strict and visit.gender_preference is not None:
        tokens.add(("gender", visit.gender_preference))
    return tokens


def holds(worker: Worker, token: Token) -> bool:
    kind, value = token
    if kind == "skill":
        return value in worker.skills
    if kind == "kinds":
        return worker.kind in value  # type: ignore[operator]
    if kind == "workers":
        return worker.id in value  # type: ignore[operator]
    if kind == "not":
        return worker.id not in value  # type: ignore[operator]
    if kind == "gender":
        return worker.gender == value
    raise ValueError(f"unknown token kind {kind!r}")


def integer_skills(problem: Problem, visit_indices: list[int]) -> tuple[list[set[int]], list[set[int]]]:
    """(skills per visit index in ``visit_indices``, skills per worker) as small integers."""
    per_visit = [visit_tokens(problem.visits[vi]) for vi in visit_indices]
    ids: dict[Token, int] = {}
    for tokens in per_visit:
        for t in sorted(tokens, key=repr):
            ids.setdefault(t, len(ids) + 1)
    visits = [{ids[t] for t in tokens} for tokens in per_visit]
    workers = [{i for t, i in ids.items() if holds(w, t)} for w in problem.workers]
    return visits, workers
