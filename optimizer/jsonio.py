"""The documented JSON format of optimizer problems and solutions.

JSON is how problems leave the process: the CLI (``carepath solve problem.json``), the
HTTP API, benchmark instances and bug reports all carry a problem as a file, so the format
is a public contract, versioned by the ``"format"`` key (``carepath-problem/1``,
``carepath-solution/2``).  This module is the reference reader and writer.

One source of truth: the JSON mirrors ``optimizer.model`` one to one (same key names, same
nesting), and everything about the shape (types, ranges, defaults, descriptions) is read off
the model: ``optimizer._shape`` reads and writes it, and ``python -m optimizer.schema_gen``
generates ``optimizer/schema/*.schema.json`` and the field reference in
``optimizer/FORMAT.md`` from it.  The rules between values (ids that must exist, windows in
order, matrix sizes) are code, in ``optimizer._validation``.

Design choices, and why:

* Fields at their default are left out on output, and may be left out on input: a typical
  visit is four keys, not twenty, which keeps files small and diffs readable.
* Reading validates everything the solver would otherwise trip over later, far from the
  cause: types, ranges, matrix shapes, window order and every cross-reference (location
  indices, worker and visit ids).  The first problem found raises
  :class:`ProblemFormatError` naming the JSON path and what is wrong.
* Writing does not validate (a broken problem can still be dumped to look at it);
  :func:`check_problem` validates a :class:`Problem` built in code.
* ``carepath-solution/2`` differs from ``/1`` only in ``unassigned``: a reason is a code and
  its facts (``details``, times in minutes), without the English and Polish sentences ``/1``
  carried (``message_en``, ``message_pl``), which printed minutes as clock times of a 24-hour
  day and were wrong on DST days.  The reader still accepts ``/1`` and drops those two keys;
  sentences are made by whoever shows a reason (``dispatch.planning.explanations``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from optimizer import _shape
from optimizer._validation import (
    FormatError,
    ProblemFormatError,
    SolutionFormatError,
    check_problem_rules,
    check_solution_rules,
    describe,
)
from optimizer.model import AreaResult, Problem, Route, Solution

__all__ = [
    "PROBLEM_FORMAT",
    "SOLUTION_FORMAT",
    "SOLUTION_FORMATS_READ",
    "FormatError",
    "ProblemFormatError",
    "SolutionFormatError",
    "problem_to_dict",
    "problem_from_dict",
    "solution_to_dict",
    "solution_from_dict",
    "read_problem",
    "write_problem",
    "read_solution",
    "write_solution",
    "check_problem",
    "dumps",
    "AREA_RESULT_FORMAT",
    "area_result_to_dict",
    "area_result_from_dict",
]

PROBLEM_FORMAT = "carepath-problem/1"
SOLUTION_FORMAT = "carepath-solution/2"
SOLUTION_FORMATS_READ = (SOLUTION_FORMAT, "carepath-solution/1")
"""Solution versions the reader accepts: ``/1`` documents lose their worded messages on reading."""
_WORDED_KEYS = ("message_en", "message_pl")

AREA_RESULT_FORMAT = "carepath-area-result/1"
"""One area's search result (``model.AreaResult``) between the steps of a split solve; a working
document, not a public file format (no schema, no version promise beyond this marker)."""

PathLike = str | os.PathLike[str]


# =========================================================================== writing


def problem_to_dict(p: Problem) -> dict[str, Any]:
    """The JSON document (a dict of JSON values) for ``p``; defaults are left out."""
    return {"format": PROBLEM_FORMAT} | _shape.to_json(p)


def solution_to_dict(s: Solution) -> dict[str, Any]:
    """The JSON document for ``s``; defaults are left out.

    ``Unassigned.details`` and ``SolveStats.parameters`` are written as JSON values, so
    tuples in them read back as lists.  Non-finite floats are refused (``ValueError``):
    NaN is not JSON.
    """
    return {"format": SOLUTION_FORMAT} | _shape.to_json(s)


# =========================================================================== reading


def _body(d: Any, fmt: str, error: type[FormatError], also: tuple[str, ...] = ()) -> dict[str, Any]:
    """The document without its format marker, after checking the marker (``fmt``, or one of ``also``).

    The marker is checked before anything else so that a solution passed where a problem is
    expected says so, instead of complaining about an unknown key ``routes``.
    """
    if not isinstance(d, Mapping):
        raise error("", f"must be an object, got {describe(d)}")
    if "format" not in d:
        raise error("format", f"missing format marker; expected \"format\": \"{fmt}\"")
    found = d["format"]
    if found != fmt and found not in also:
        kind = fmt.split("/")[0]
        if isinstance(found, str) and found.startswith(kind + "/"):
            raise error("format", f"unsupported format version {found!r}; this reader understands {fmt!r}")
        raise error("format", f"expected {fmt!r}, got {found!r}")
    return {k: v for k, v in d.items() if k != "format"}


def problem_from_dict(d: Mapping[str, Any]) -> Problem:
    """Validate a problem document and build the :class:`Problem`.

    Raises :class:`ProblemFormatError` (a ``ValueError``) at the first problem found.
    """
    body = _body(d, PROBLEM_FORMAT, ProblemFormatError)
    problem: Problem = _shape.read(Problem, body, ProblemFormatError)
    check_problem_rules(problem, body)
    return problem


def check_problem(p: Problem) -> None:
    """Apply the reader's checks to a problem built in code (raises ``ProblemFormatError``).

    Paths in the error are those of the JSON form of ``p``, which mirrors the dataclasses.
    """
    problem_from_dict(problem_to_dict(p))


def solution_from_dict(d: Mapping[str, Any]) -> Solution:
    """Validate a solution document and build the :class:`Solution`.

    Only the document itself is checked (types, ranges, ``end >= start``); whether the
    solution fits a problem is the checker's business, not the file format's.
    Raises :class:`SolutionFormatError` (a ``ValueError``).
    """
    body = _body(d, SOLUTION_FORMAT, SolutionFormatError, SOLUTION_FORMATS_READ)
    if d["format"] != SOLUTION_FORMAT:
        body = _without_words(body)
    solution: Solution = _shape.read(Solution, body, SolutionFormatError)
    check_solution_rules(solution, body)
    return solution


def _without_words(body: dict[str, Any]) -> dict[str, Any]:
    """A ``carepath-solution/1`` body as ``/2``: unassigned entries without their worded messages."""
    unassigned = body.get("unassigned")
    if not isinstance(unassigned, list):
        return body
    return body | {"unassigned": [
        {k: v for k, v in u.items() if k not in _WORDED_KEYS} if isinstance(u, Mapping) else u for u in unassigned
    ]}


# ============================================================= one area of a split day


def area_result_to_dict(r: AreaResult) -> dict[str, Any]:
    """The JSON document of one area's result: its routes as in a solution document (area-local
    location indices), the ids left out, and the search's figures."""
    return {"format": AREA_RESULT_FORMAT, "routes": [_shape.to_json(route) for route in r.routes],
            "dropped": list(r.dropped), "status": r.status, "objective": r.objective,
            "solutions_found": r.solutions_found, "elapsed_s": r.elapsed_s,
            "first_plan_s": r.first_plan_s}


def area_result_from_dict(d: Mapping[str, Any]) -> AreaResult:
    """Read an area result document (raises :class:`SolutionFormatError` on a malformed one; the
    routes are checked as a solution's are, and whether they fit the area is the checker's
    business, on the merged plan)."""
    body = _body(d, AREA_RESULT_FORMAT, SolutionFormatError)
    known = {"routes", "dropped", "status", "objective", "solutions_found", "elapsed_s", "first_plan_s"}
    if unknown := sorted(set(body) - known):
        raise SolutionFormatError(unknown[0], "unknown key in an area result")
    routes = body.get("routes", [])
    dropped = body.get("dropped", [])
    if not isinstance(routes, list) or not isinstance(dropped, list) or not all(isinstance(x, str) for x in dropped):
        raise SolutionFormatError("", "an area result needs a list of routes and a list of visit ids")
    try:
        figures = (str(body["status"]), int(body.get("objective", 0)), int(body.get("solutions_found", 0)),
                   float(body.get("elapsed_s", 0.0)), float(body.get("first_plan_s", 0.0)))
    except (KeyError, TypeError, ValueError):
        raise SolutionFormatError("status", "an area result needs a status and numeric figures") from None
    read = tuple(_shape.read(Route, route, SolutionFormatError) for route in routes)
    return AreaResult(read, tuple(dropped), *figures)


# ====================================================================== files


def dumps(doc: Mapping[str, Any]) -> str:
    """JSON text for a document: indented, but short values, number rows and records on one line.

    Plain ``indent=2`` puts every matrix entry on its own line (a 50-location matrix
    becomes 2,500 lines) and every field of every stop on its own line.  Here arrays of
    scalars (matrix rows) and flat objects inside arrays (stops, windows, locations) always
    stay on one line each, and any other value whose compact form fits in the line width
    is written compactly: files stay small and still diff line by line.
    """
    return _format(doc, 0, 0) + "\n"


_WIDTH = 100


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _flat(value: Any) -> bool:
    """An object of scalars only: a record that reads best on one line."""
    return isinstance(value, dict) and not any(isinstance(v, (dict, list)) for v in value.values())


def _format(value: Any, indent: int, used: int) -> str:
    compact = _compact(value)
    if not isinstance(value, (dict, list)) or not value:
        return compact
    if used + len(compact) <= _WIDTH:
        return compact
    if isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value):
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            key = json.dumps(k, ensure_ascii=False) + ": "
            lines.append(pad + key + _format(v, indent + 2, indent + 2 + len(key)))
        return "{\n" + ",\n".join(lines) + "\n" + " " * indent + "}"
    lines = [pad + (_compact(v) if _flat(v) else _format(v, indent + 2, indent + 2)) for v in value]
    return "[\n" + ",\n".join(lines) + "\n" + " " * indent + "]"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _load(path: PathLike, error: type[FormatError]) -> Any:
    """Parse a JSON file, turning syntax errors into ``error`` so callers catch one type."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:  # json would silently keep the last one
                raise error("", f"duplicate key {k!r} in a JSON object")
            out[k] = v
        return out

    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise error("", f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except FormatError:
        raise
    except ValueError as e:
        raise error("", f"not valid JSON: {e}") from None


def _write(doc: Mapping[str, Any], path: PathLike) -> None:
    text = dumps(doc)  # build first so a failure leaves no half-written file
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def read_problem(path: PathLike) -> Problem:
    """Read and validate a problem file (raises ``ProblemFormatError``, ``OSError``)."""
    return problem_from_dict(_load(path, ProblemFormatError))


def write_problem(p: Problem, path: PathLike) -> None:
    _write(problem_to_dict(p), path)


def read_solution(path: PathLike) -> Solution:
    """Read and validate a solution file (raises ``SolutionFormatError``, ``OSError``)."""
    return solution_from_dict(_load(path, SolutionFormatError))


def write_solution(s: Solution, path: PathLike) -> None:
    _write(solution_to_dict(s), path)
