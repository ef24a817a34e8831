"""The JSON problem/solution format (optimizer.jsonio, optimizer/schema, optimizer/examples).

The hypothesis strategies live in this module rather than in a shared ``strategies.py``
because the suite runs with ``--import-mode=importlib`` (no package ``__init__`` files), under
which sibling test modules cannot import each other without path tricks.
"""

from __future__ import annotations

import copy
import json
import pickle
import re
from dataclasses import MISSING, dataclass, fields, is_dataclass, replace
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any

import jsonschema
import pytest
from annotated_types import Ge
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import _shape, schema_gen
from optimizer.jsonio import (
    PROBLEM_FORMAT,
    SOLUTION_FORMAT,
    FormatError,
    ProblemFormatError,
    SolutionFormatError,
    check_problem,
    dumps,
    problem_from_dict,
    problem_to_dict,
    read_problem,
    read_solution,
    solution_from_dict,
    solution_to_dict,
    write_problem,
    write_solution,
)
from optimizer.model import (
    BreakRule,
    BreakTaken,
    Dependency,
    Gender,
    Kpis,
    Location,
    PlannedVisit,
    Problem,
    ReasonCode,
    Route,
    Shift,
    Solution,
    SolveStats,
    Stop,
    TimeWindow,
    TravelMode,
    Unassigned,
    Visit,
    Weights,
    Worker,
    WorkerKind,
)

OPTIMIZER = Path(__file__).resolve().parents[2] / "optimizer"
EXAMPLE = OPTIMIZER / "examples" / "small_problem.json"
PROBLEM_SCHEMA = json.loads((OPTIMIZER / "schema" / "problem.schema.json").read_text(encoding="utf-8"))
SOLUTION_SCHEMA = json.loads((OPTIMIZER / "schema" / "solution.schema.json").read_text(encoding="utf-8"))
FORMAT_MD = OPTIMIZER / "FORMAT.md"

PROBLEM_VALIDATOR = jsonschema.Draft202012Validator(PROBLEM_SCHEMA)
SOLUTION_VALIDATOR = jsonschema.Draft202012Validator(SOLUTION_SCHEMA)


def example_dict() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


# ============================================================ hypothesis strategies

ids = st.text(alphabet="abwvz019-_.ąłż ", min_size=1, max_size=6)
names = st.text(max_size=12)
minutes = st.integers(0, 3000)
small = st.integers(0, 500)
skills = st.frozensets(st.sampled_from(["personal_care", "medication", "transfer", "shopping", "bathing"]))
amounts = st.dictionaries(st.sampled_from(["seats", "wheelchair", "demand"]), small, max_size=2)
finite = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=5), json_values, max_size=3)


def increasing(draw: st.DrawFn, count: int, hi: int = 1440) -> list[int]:
    """``count`` distinct sorted minutes: consecutive pairs make ordered, disjoint intervals."""
    return sorted(draw(st.lists(st.integers(0, hi), min_size=count, max_size=count, unique=True)))


@st.composite
def shifts(draw: st.DrawFn) -> tuple[Shift, ...]:
    count = draw(st.integers(0, 2))
    points = increasing(draw, 2 * count)
    out = []
    for i in range(count):
        start, end = points[2 * i], points[2 * i + 1]
        breaks = []
        for _ in range(draw(st.integers(0, 2))):
            earliest = draw(st.integers(start, end))
            breaks.append(BreakRule(draw(st.integers(1, 30)), earliest, draw(st.integers(earliest, end))))
        out.append(Shift(start, end, draw(st.integers(0, 120)), tuple(breaks)))
    return tuple(out)


@st.composite
def windows(draw: st.DrawFn) -> tuple[TimeWindow, ...]:
    points = increasing(draw, 2 * draw(st.integers(1, 3)))
    return tuple(TimeWindow(points[i], points[i + 1]) for i in range(0, len(points), 2))


def matrix(draw: st.DrawFn, n: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(draw(small) for _ in range(n)) for _ in range(n))


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    """Small problems that pass every check of the reader (so round trips are meaningful)."""
    n = draw(st.integers(1, 4))
    coords = draw(st.booleans())
    locations = tuple(
        Location(
            loc_id,
            draw(st.floats(-90, 90)) if coords else None,
            draw(st.floats(-180, 180)) if coords else None,
        )
        for loc_id in draw(st.lists(ids, min_size=n, max_size=n, unique=True))
    )
    modes = sorted(draw(st.sets(st.sampled_from(TravelMode), min_size=1)), key=lambda m: m.value)
    travel = {m: matrix(draw, n) for m in modes}
    distances = {m: matrix(draw, n) for m in draw(st.sets(st.sampled_from(TravelMode)))}
    location_index = st.integers(0, n - 1)
    worker_ids = draw(st.lists(ids, max_size=3, unique=True))
    workers = tuple(
        Worker(
            id=wid,
            kind=draw(st.sampled_from(WorkerKind)),
            shifts=draw(shifts()),
            start_location=draw(location_index),
            end_location=draw(location_index),
            travel_mode=draw(st.sampled_from(modes)),
            skills=draw(skills),
            gender=draw(st.none() | st.sampled_from(Gender)),
            max_work_minutes=draw(st.none() | minutes),
            capacity=draw(amounts),
        )
        for wid in worker_ids
    )
    visit_ids = draw(st.lists(ids, max_size=4, unique=True))
    visits = []
    for vid in visit_ids:
        forbidden = draw(st.frozensets(st.sampled_from(worker_ids))) if worker_ids else frozenset()
        allowed = [w for w in worker_ids if w not in forbidden]
        some_allowed = st.frozensets(st.sampled_from(allowed)) if allowed else st.just(frozenset())
        soft = draw(st.booleans())
        gender = draw(st.none() | st.sampled_from(Gender))
        visits.append(Visit(
            id=vid,
            location=draw(location_index),
            end_location=draw(st.none() | location_index),
            duration=draw(small),
            windows=draw(windows()),
            duration_by_kind=draw(st.dictionaries(st.sampled_from(WorkerKind), small, max_size=2)),
            required_skills=draw(skills),
            worker_kinds=draw(st.frozensets(st.sampled_from(WorkerKind))),
            mandatory=draw(st.booleans()),
            priority=draw(st.integers(1, 5)),
            soft_windows=soft,
            max_lateness=draw(small),
            required_workers=draw(some_allowed),
            preferred_workers=draw(some_allowed),
            forbidden_workers=forbidden,
            gender_preference=gender,
            gender_strict=draw(st.booleans()) if gender else False,
            workers_needed=draw(st.integers(1, 3)),
            pinned_worker=draw(st.none() | st.sampled_from(allowed)) if allowed else None,
            pinned_start=draw(st.none() | minutes),
            demand=draw(amounts),
            client_id=draw(st.none() | ids),
        ))
    dependencies = []
    if len(visit_ids) >= 2:
        for _ in range(draw(st.integers(0, 2))):
            before, after = draw(st.lists(st.sampled_from(visit_ids), min_size=2, max_size=2, unique=True))
            min_delay = draw(small)
            max_delay = draw(st.none() | st.integers(min_delay, min_delay + 500))
            dependencies.append(Dependency(before, after, min_delay, max_delay, draw(st.booleans()),
                                           draw(st.booleans())))
    plan: tuple[PlannedVisit, ...] = ()
    if visit_ids and worker_ids:
        pairs = draw(st.lists(st.tuples(st.sampled_from(visit_ids), st.sampled_from(worker_ids)),
                              max_size=3, unique=True))
        plan = tuple(PlannedVisit(v, w, draw(minutes)) for v, w in pairs)
    weights = draw(st.builds(Weights, **{f.name: st.integers(0, 10**8) for f in fields(Weights)}))
    return Problem(
        locations=locations,
        travel_times=travel,
        workers=workers,
        visits=tuple(visits),
        dependencies=tuple(dependencies),
        distances=distances,
        previous_plan=plan,
        freeze_until=draw(st.none() | minutes),
        weights=draw(st.just(Weights()) | st.just(weights)),
        name=draw(names),
    )


@st.composite
def routes(draw: st.DrawFn) -> Route:
    def stop() -> Stop:
        arrival, start = sorted(draw(st.lists(minutes, min_size=2, max_size=2)))
        return Stop(draw(ids), draw(small), arrival, start, start + draw(small), draw(small), start - arrival)

    start = draw(minutes)
    breaks = []
    for _ in range(draw(st.integers(0, 2))):
        b = draw(minutes)
        breaks.append(BreakTaken(b, b + draw(st.integers(0, 30))))
    return Route(
        worker_id=draw(ids),
        shift_index=draw(st.integers(0, 2)),
        start=start,
        end=start + draw(small),
        stops=tuple(stop() for _ in range(draw(st.integers(0, 3)))),
        breaks=tuple(breaks),
        travel_minutes=draw(small),
        service_minutes=draw(small),
        waiting_minutes=draw(small),
        overtime_minutes=draw(small),
        distance_m=draw(st.none() | st.integers(0, 10**6)),
    )


@st.composite
def kpis(draw: st.DrawFn) -> Kpis:
    by_priority = {}
    for prio in draw(st.sets(st.integers(1, 5))):
        total = draw(small)
        by_priority[prio] = (draw(st.integers(0, total)), total)
    counts = {
        name: draw(small)
        for name in ("visits_total", "visits_placed", "mandatory_total", "mandatory_placed",
                     "travel_minutes", "service_minutes", "waiting_minutes", "work_minutes",
                     "overtime_minutes", "lateness_minutes", "workers_used")
    }
    return Kpis(
        placed_by_priority=by_priority,
        utilisation=draw(st.floats(0, 2)),
        continuity_share=draw(st.floats(0, 1)),
        distance_m=draw(st.none() | st.integers(0, 10**6)),
        max_lateness_minutes=draw(st.integers(0, 10**4)),
        **counts,
    )


@st.composite
def solutions(draw: st.DrawFn) -> Solution:
    unassigned = tuple(
        Unassigned(draw(ids), draw(st.sampled_from(ReasonCode)), draw(json_objects))
        for _ in range(draw(st.integers(0, 2)))
    )
    stats = SolveStats(
        status=draw(st.sampled_from(["ROUTING_SUCCESS", "ROUTING_FAIL_TIMEOUT", "OPTIMAL"])),
        objective=draw(st.integers(-(10**12), 10**12)),
        elapsed_s=draw(st.floats(0, 1e4)),
        solutions_found=draw(small),
        time_limit_s=draw(st.none() | st.floats(0, 1e4)),
        seed=draw(st.integers(-(2**31), 2**31)),
        parameters=draw(json_objects),
    )
    return Solution(
        routes=tuple(draw(st.lists(routes(), max_size=3))),
        unassigned=unassigned,
        kpis=draw(st.none() | kpis()),
        stats=draw(st.none() | st.just(stats)),
    )


def example_solution() -> Solution:
    """A plausible answer to the example problem (hand-computed, not solver output)."""
    return Solution(
        routes=(
            Route("w-anna", 0, 450, 771, (
                Stop("v01-halina-morning-care", 2, 486, 486, 531, 36, 0),
                Stop("v07-jan-lunch", 7, 616, 690, 720, 85, 74),
            ), travel_minutes=172, service_minutes=75, waiting_minutes=74),
            Route("w-marek", 0, 420, 652, (
                Stop("v03-stanislaw-medication", 4, 430, 450, 470, 10, 20),
                Stop("v04-stanislaw-medication-check", 4, 470, 570, 585, 0, 85),
                Stop("v02-jozef-transfer", 3, 601, 612, 642, 16, 11),
            ), breaks=(BreakTaken(475, 490),), travel_minutes=36, service_minutes=65, waiting_minutes=116,
                distance_m=11_380),
        ),
        unassigned=(
            Unassigned("v05-krystyna-shopping", ReasonCode.NOT_WORTH_IT,
                       {"case": "dearer_than_dropping", "drop_penalty": 2000, "insertion_cost": 2500,
                        "slots": [{"worker": "w-ewa", "earliest_start": 600}]}),
        ),
        kpis=Kpis(8, 7, 5, 5, {2: (0, 1), 3: (2, 2), 4: (2, 2), 5: (3, 3)}, 400, 300, 250, 1100, 0, 0,
                  0.45, 0.75, 3),
        stats=SolveStats("ROUTING_SUCCESS", 1_234_567, 30.02, 17, 30.0, 1,
                         {"first_solution": "PARALLEL_CHEAPEST_INSERTION"}),
    )


# ======================================================================== example


def test_example_round_trips() -> None:
    """The example reads, and dict -> Problem -> dict -> Problem returns an equal Problem."""
    p = read_problem(EXAMPLE)
    assert problem_from_dict(problem_to_dict(p)) == p
    assert problem_to_dict(p) == example_dict()


def test_example_file_is_in_canonical_form() -> None:
    """The committed example is exactly what write_problem produces (defaults left out, compact rows).

    After editing it by hand, re-normalise it with ``p = "optimizer/examples/small_problem.json";
    write_problem(read_problem(p), p)``.
    """
    assert dumps(problem_to_dict(read_problem(EXAMPLE))) == EXAMPLE.read_text(encoding="utf-8")


def test_example_shows_the_features_it_documents() -> None:
    """The example keeps the features FORMAT.md points to: kinds, modes, split shift, breaks, visit options."""
    p = read_problem(EXAMPLE)
    assert len({w.kind for w in p.workers}) >= 2 and len({w.travel_mode for w in p.workers}) >= 2
    assert any(len(w.shifts) > 1 and any(s.breaks for s in w.shifts) for w in p.workers)
    assert any(v.workers_needed == 2 for v in p.visits)
    assert any(v.soft_windows and v.max_lateness for v in p.visits)
    assert any(v.pinned_worker and v.pinned_start is not None for v in p.visits)
    assert any(v.preferred_workers for v in p.visits) and any(v.forbidden_workers for v in p.visits)
    assert any(v.gender_preference for v in p.visits)
    assert any(v.duration_by_kind for v in p.visits) and any(v.worker_kinds for v in p.visits)
    assert p.dependencies and p.dependencies[0].max_delay is not None


def test_example_validates_against_schema() -> None:
    """The example is valid under problem.schema.json, so schema and reader agree on it."""
    PROBLEM_VALIDATOR.validate(example_dict())


def test_example_solution_round_trips_and_validates() -> None:
    """A solution for the example round-trips through a file and is valid under solution.schema.json."""
    s = example_solution()
    SOLUTION_VALIDATOR.validate(solution_to_dict(s))
    assert solution_from_dict(solution_to_dict(s)) == s


def test_version_1_solution_reads_without_its_worded_messages() -> None:
    """A ``carepath-solution/1`` document (reasons with ``message_en``/``message_pl``) still reads:
    the sentences are dropped (they printed minutes as clock times of a 24-hour day), the code and
    facts kept; ``/2`` documents have no such keys and refuse them like any unknown key."""
    s = example_solution()
    old = solution_to_dict(s) | {"format": "carepath-solution/1"}
    old["unassigned"] = [u | {"message_en": "Optional ... 10:00.", "message_pl": "Wizyta ... 10:00."}
                         for u in old["unassigned"]]
    assert solution_from_dict(old) == s
    with pytest.raises(SolutionFormatError, match="unknown key 'message_en'"):
        solution_from_dict(old | {"format": SOLUTION_FORMAT})
    with pytest.raises(SolutionFormatError, match="unsupported format version 'carepath-solution/3'"):
        solution_from_dict(old | {"format": "carepath-solution/3"})


def test_file_round_trip(tmp_path: Path) -> None:
    """write_problem/read_problem and write_solution/read_solution give back equal objects (UTF-8 intact)."""
    p = replace(read_problem(EXAMPLE), name="Kielce, Świętokrzyskie: żółć")
    write_problem(p, tmp_path / "p.json")
    assert read_problem(tmp_path / "p.json") == p
    assert "Świętokrzyskie" in (tmp_path / "p.json").read_text(encoding="utf-8")
    s = example_solution()
    write_solution(s, str(tmp_path / "s.json"))
    assert read_solution(str(tmp_path / "s.json")) == s


# ================================================================== schema files


@pytest.mark.parametrize("schema", [PROBLEM_SCHEMA, SOLUTION_SCHEMA], ids=["problem", "solution"])
def test_schemas_are_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    """Both schema files are themselves valid JSON Schema draft 2020-12 documents."""
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _model_classes() -> dict[str, type]:
    """Every dataclass and enum a problem or a solution document can contain, by name."""
    return _shape._named_types(Problem) | _shape._named_types(Solution)


def _schema_node(name: str) -> dict[str, Any]:
    for schema, root in ((PROBLEM_SCHEMA, Problem), (SOLUTION_SCHEMA, Solution)):
        if name == root.__name__:
            return schema
        if name in schema["$defs"]:
            return schema["$defs"][name]
    raise KeyError(name)


DATACLASSES = sorted(name for name, cls in _model_classes().items() if is_dataclass(cls))


@pytest.mark.parametrize("name", DATACLASSES)
def test_schema_documents_every_field_of_the_model(name: str) -> None:
    """Each schema object has exactly the dataclass's fields, each described; required = no default.

    The schema is generated, so this checks the generator and that every field of the model has
    the docstring the schema and FORMAT.md take its description from.
    """
    cls = _model_classes()[name]
    node = _schema_node(name)
    props = dict(node["properties"])
    props.pop("format", None)
    assert list(props) == [f.name for f in fields(cls)]
    for key, prop in props.items():
        assert prop.get("description"), f"{name}.{key} has no description: add a docstring under it in optimizer/model.py"
    assert node["additionalProperties"] is False
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    assert set(node.get("required", [])) - {"format"} == required


@pytest.mark.parametrize("name", DATACLASSES)
def test_schema_defaults_are_the_model_defaults(name: str) -> None:
    """Every optional key states its default, which is the model's default in JSON form."""
    cls = _model_classes()[name]
    props = _schema_node(name)["properties"]
    for f in fields(cls):
        if f.default is MISSING and f.default_factory is MISSING:
            continue
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        expected = _shape.to_json(default) if is_dataclass(default) else _shape._encode(
            _shape.field_types(cls)[f.name], default, f.name)
        assert props[f.name]["default"] == expected, f"{name}.{f.name}"


def test_schema_enums_match_model() -> None:
    """The enums in the schemas list exactly the values of the model's enums, every reason code explained."""
    defs = PROBLEM_SCHEMA["$defs"]
    assert defs["TravelMode"]["enum"] == [m.value for m in TravelMode]
    assert defs["WorkerKind"]["enum"] == [k.value for k in WorkerKind]
    assert defs["Gender"]["enum"] == [g.value for g in Gender]
    reason = SOLUTION_SCHEMA["$defs"]["ReasonCode"]
    assert reason["enum"] == [r.value for r in ReasonCode]
    for code, doc in _shape.member_docs(ReasonCode).items():
        assert doc, f"reason code {code} is not explained: add a docstring under it in optimizer/model.py"
        assert f"`{code}`: {_shape.plain_text(doc).rstrip('.')}" in reason["description"]


def test_generated_files_are_current() -> None:
    """The committed schemas and FORMAT.md's field reference are what the model generates now.

    After changing optimizer/model.py (or a rule's docstring in optimizer/_validation.py), run
    ``python -m optimizer.schema_gen`` and commit the result.
    """
    assert schema_gen.stale() == [], "generated files are stale: run python -m optimizer.schema_gen"


def test_format_md_has_one_generated_part_and_keeps_its_prose() -> None:
    """FORMAT.md has exactly one generated part, and regenerating leaves the hand-written prose as it is."""
    text = FORMAT_MD.read_text(encoding="utf-8")
    assert text.count(schema_gen.BEGIN) == 1 and text.count(schema_gen.END) == 1
    head, tail = text.split(schema_gen.BEGIN)[0], text.split(schema_gen.END)[1]
    regenerated = schema_gen.format_md_text(text)
    assert regenerated.startswith(head) and regenerated.endswith(tail)
    assert "## Running the solver" in head and "## Compatibility" in tail


def test_schema_gen_check_reports_stale_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m optimizer.schema_gen --check`` fails on a stale file; without --check it rewrites it."""
    (tmp_path / "FORMAT.md").write_text(f"# Format\n\n{schema_gen.BEGIN}\n{schema_gen.END}\n\nEnd.\n", encoding="utf-8")
    monkeypatch.setattr(schema_gen, "SCHEMA_DIR", tmp_path)
    monkeypatch.setattr(schema_gen, "FORMAT_MD", tmp_path / "FORMAT.md")
    assert schema_gen.main(["--check"]) == 1  # the schemas are missing, the reference empty
    assert schema_gen.main([]) == 0 and schema_gen.main(["--check"]) == 0
    assert "### Visit" in (tmp_path / "FORMAT.md").read_text(encoding="utf-8")
    (tmp_path / "solution.schema.json").write_text("{}", encoding="utf-8")
    capsys.readouterr()
    assert schema_gen.main(["--check"]) == 1
    assert "solution.schema.json" in capsys.readouterr().err


@dataclass(frozen=True)
class _Leaf:
    """A leaf of a made-up model."""

    at: Annotated[int, Ge(0)]
    """When it falls."""


@dataclass(frozen=True)
class _Tree:
    """A made-up model: what a field added to optimizer/model.py goes through."""

    leaves: tuple[_Leaf, ...]
    """The leaves, in order."""
    height: Annotated[int, Ge(1)] = 1
    """Metres."""


def test_a_new_field_reaches_schema_and_reader_from_its_annotation_and_docstring() -> None:
    """A dataclass field's type, range, default and docstring become its schema, its reading and its checks."""
    schema = _shape.json_schema(_Tree)
    height = schema["properties"]["height"]
    assert height == {"description": "Metres.", "type": "integer", "minimum": 1, "default": 1}
    assert schema["$defs"]["_Leaf"]["properties"]["at"]["description"] == "When it falls."
    assert _shape.read(_Tree, {"leaves": [{"at": 3}]}, ProblemFormatError) == _Tree((_Leaf(3),))
    with pytest.raises(ProblemFormatError) as e:
        _shape.read(_Tree, {"leaves": [{"at": 3}], "height": 0}, ProblemFormatError)
    assert (e.value.path, e.value.message) == ("height", "must be at least 1, got 0")
    with pytest.raises(ProblemFormatError) as e:
        _shape.read(_Tree, {"leaves": [{"at": -1}]}, ProblemFormatError)
    assert (e.value.path, e.value.message) == ("leaves[0].at", "must not be negative, got -1")
    assert _shape.to_json(_Tree((_Leaf(3),), 1)) == {"leaves": [{"at": 3}]}


EXAMPLES = sorted((OPTIMIZER / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_are_valid_under_the_generated_schema(path: Path) -> None:
    """Every file in optimizer/examples/ is valid under the generated schema of its kind and reads."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc["format"] == PROBLEM_FORMAT:
        PROBLEM_VALIDATOR.validate(doc)
        read_problem(path)
    else:
        SOLUTION_VALIDATOR.validate(doc)
        read_solution(path)


# ==================================================================== hypothesis


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_problem_round_trip(p: Problem) -> None:
    """Any valid problem survives to_dict -> JSON text -> from_dict unchanged."""
    assert problem_from_dict(json.loads(dumps(problem_to_dict(p)))) == p


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_problem_documents_match_schema(p: Problem) -> None:
    """Whatever the writer produces for a valid problem is valid under the schema."""
    PROBLEM_VALIDATOR.validate(problem_to_dict(p))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(solutions())
def test_solution_round_trip(s: Solution) -> None:
    """Any solution (with JSON-native details) survives to_dict -> JSON text -> from_dict unchanged."""
    assert solution_from_dict(json.loads(dumps(solution_to_dict(s)))) == s


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(solutions())
def test_solution_documents_match_schema(s: Solution) -> None:
    """Whatever the writer produces for a solution is valid under the schema."""
    SOLUTION_VALIDATOR.validate(solution_to_dict(s))


# ============================================================= defaults and shape


def minimal_problem() -> dict[str, Any]:
    return {
        "format": PROBLEM_FORMAT,
        "locations": [{"id": "office"}, {"id": "client"}],
        "travel_times": {"car": [[0, 7], [7, 0]]},
        "workers": [{"id": "w1", "kind": "carer", "shifts": [{"start": 480, "end": 960}],
                     "start_location": 0, "end_location": 0}],
        "visits": [{"id": "v1", "location": 1, "duration": 30, "windows": [{"start": 540, "end": 600}]}],
    }


def test_omitted_keys_take_model_defaults() -> None:
    """A document with only required keys reads, and every omitted field gets the dataclass default."""
    p = problem_from_dict(minimal_problem())
    assert p.workers[0] == Worker("w1", WorkerKind.CARER, (Shift(480, 960),), 0, 0)
    assert p.visits[0] == Visit("v1", 1, 30, (TimeWindow(540, 600),))
    assert p.weights == Weights() and p.dependencies == () and p.distances == {} and p.name == ""


def test_defaults_are_left_out_on_output() -> None:
    """Writing leaves out fields at their default, so the minimal document is written back as is."""
    d = minimal_problem()
    assert problem_to_dict(problem_from_dict(d)) == d


def test_null_means_default_only_for_optional_fields() -> None:
    """``null`` is accepted where the model's default is None, and refused elsewhere."""
    d = minimal_problem()
    d["visits"][0] |= {"pinned_worker": None, "gender_preference": None, "client_id": None}
    assert problem_from_dict(d).visits[0].pinned_worker is None
    d["visits"][0]["priority"] = None
    with pytest.raises(ProblemFormatError, match=r"visits\[0\]\.priority: must be an integer, got null"):
        problem_from_dict(d)


def test_sets_and_maps_are_written_sorted() -> None:
    """Frozensets become sorted arrays and enum-keyed maps use the enum values, so output is deterministic."""
    d = minimal_problem()
    d["visits"][0] |= {
        "required_skills": ["b", "a"],
        "duration_by_kind": {"specialist_carer": 20, "carer": 35},
    }
    p = problem_from_dict(d)
    assert p.visits[0].duration_by_kind == {WorkerKind.CARER: 35, WorkerKind.SPECIALIST_CARER: 20}
    out = problem_to_dict(p)["visits"][0]
    assert out["required_skills"] == ["a", "b"]
    assert list(out["duration_by_kind"]) == ["carer", "specialist_carer"]


def test_placed_by_priority_keys_are_strings_in_json() -> None:
    """Kpis.placed_by_priority has int keys in Python and string keys in JSON, pairs as 2-arrays."""
    d = solution_to_dict(example_solution())
    assert d["kpis"]["placed_by_priority"] == {"2": [0, 1], "3": [2, 2], "4": [2, 2], "5": [3, 3]}
    assert solution_from_dict(d).kpis.placed_by_priority[5] == (3, 3)


def test_matrix_rows_are_written_on_one_line() -> None:
    """dumps keeps number arrays on one line, so a matrix takes one line per location."""
    text = dumps(problem_to_dict(read_problem(EXAMPLE)))
    assert "      [0, 9, 9, 10, 10, 10, 10, 12],\n" in text
    assert json.loads(text) == example_dict()


def test_writer_refuses_nan() -> None:
    """A NaN KPI is refused when writing instead of producing a file that is not JSON."""
    s = replace(example_solution(), kpis=replace(example_solution().kpis, utilisation=float("nan")))
    with pytest.raises(ValueError, match="kpis.utilisation"):
        solution_to_dict(s)


def test_check_problem_validates_problems_built_in_code() -> None:
    """check_problem reports an inconsistent Problem built in Python with the JSON path."""
    p = read_problem(EXAMPLE)
    check_problem(p)
    bad = replace(p, visits=p.visits[:1] + (replace(p.visits[1], pinned_worker="w-nobody"),) + p.visits[2:])
    with pytest.raises(ProblemFormatError) as e:
        check_problem(bad)
    assert e.value.path == "visits[1].pinned_worker"


def test_format_error_is_a_value_error_and_pickles() -> None:
    """ProblemFormatError is a ValueError (callers may catch either) and survives pickling."""
    err = ProblemFormatError("visits[3].windows[0].end", "window end 400 is before its start 480")
    assert isinstance(err, ValueError) and isinstance(err, FormatError)
    assert str(err) == "visits[3].windows[0].end: window end 400 is before its start 480"
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), back.path, back.message) == (ProblemFormatError, err.path, err.message)


# =================================================================== problem errors

Mutation = Callable[[dict[str, Any]], Any]


def _walk(d: Any, path: str) -> tuple[Any, Any]:
    """The container holding the last step of ``a.b[2].c`` and that step's key or index."""
    parts = re.findall(r"[^.\[\]]+", path)
    node = d
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = parts[-1]
    return node, int(last) if isinstance(node, list) else last


def _set(path: str, value: Any) -> Mutation:
    """A mutation that sets ``a.b[2].c`` to ``value`` (creating the last key if needed)."""

    def mutate(d: dict[str, Any]) -> None:
        node, key = _walk(d, path)
        node[key] = value

    return mutate


def _del(path: str) -> Mutation:
    """A mutation that deletes ``a.b[2].c``."""

    def mutate(d: dict[str, Any]) -> None:
        node, key = _walk(d, path)
        del node[key]

    return mutate


def _rename(path: str, new_key: str) -> Mutation:
    """A mutation that renames the key at ``a.b[2].c`` to ``new_key`` (a typo in a key)."""

    def mutate(d: dict[str, Any]) -> None:
        node, key = _walk(d, path)
        node[new_key] = node.pop(key)

    return mutate


def _pop_row_entry(d: dict[str, Any]) -> None:
    d["travel_times"]["car"][4].pop()


PLAN = [{"visit_id": "v02-jozef-transfer", "worker_id": "w-ewa", "start": 612}]

PROBLEM_ERRORS = [
    # (id, mutation, path, message fragment)
    ("window-end-before-start", _set("visits[3].windows[0]", {"start": 480, "end": 400}),
     "visits[3].windows[0].end", "window end 400 is before its start 480"),
    ("windows-overlap", _set("visits[3].windows", [{"start": 480, "end": 600}, {"start": 600, "end": 700}]),
     "visits[3].windows[1].start", "not after the previous window's end 600"),
    ("windows-empty", _set("visits[3].windows", []), "visits[3].windows", "at least 1 item"),
    ("location-out-of-range", _set("visits[3].location", 12),
     "visits[3].location", "location index 12 out of range (8 locations)"),
    ("worker-location-out-of-range", _set("workers[2].end_location", 8),
     "workers[2].end_location", "location index 8 out of range (8 locations)"),
    ("worker-location-negative", _set("workers[2].end_location", -1),
     "workers[2].end_location", "must not be negative, got -1"),
    ("matrix-row-short", _pop_row_entry,
     "travel_times.car", "must be a 8x8 matrix (a row and a column per location), row 4 has 7 entries"),
    ("matrix-rows-missing", _set("travel_times.walk", [[0]]), "travel_times.walk", "8x8 matrix"),
    ("matrix-negative", _set("travel_times.walk[1][2]", -3), "travel_times.walk[1][2]", "must not be negative, got -3"),
    ("matrix-float", _set("distances.car[0][1]", 2.5), "distances.car[0][1]", "must be an integer, got 2.5"),
    ("travel-mode-unknown", _set("travel_times.bike", []), "travel_times.bike", "unknown travel mode 'bike'"),
    ("travel-times-empty", _set("travel_times", {}), "travel_times", "must have at least 1 entry"),
    ("travel-mode-without-matrix", _del("travel_times.walk"),
     "workers[0].travel_mode", "no travel_times matrix for travel mode 'walk'"),
    ("worker-kind-unknown", _set("workers[0].kind", "nurse"), "workers[0].kind", "unknown worker kind 'nurse'"),
    ("worker-kind-not-string", _set("workers[0].kind", 3), "workers[0].kind", "worker kind must be a string, got 3"),
    ("empty-id", _set("workers[0].id", ""), "workers[0].id", "must not be empty"),
    ("skill-not-string", _set("workers[0].skills", ["bathing", 7]), "workers[0].skills[1]", "must be a string, got 7"),
    ("gender-unknown", _set("workers[0].gender", "X"), "workers[0].gender", "unknown gender 'X'"),
    ("duplicate-visit", _set("visits[5].id", "v02-jozef-transfer"),
     "visits[5].id", "duplicate visit id 'v02-jozef-transfer'"),
    ("duplicate-worker", _set("workers[2].id", "w-anna"), "workers[2].id", "duplicate worker id 'w-anna'"),
    ("duplicate-location", _set("locations[3].id", "office-mopr"),
     "locations[3].id", "duplicate location id 'office-mopr'"),
    ("dependency-unknown-visit", _set("dependencies[0].after", "v99"),
     "dependencies[0].after", "dependency refers to unknown visit 'v99'"),
    ("dependency-self", _set("dependencies[0].after", "v03-stanislaw-medication"),
     "dependencies[0].after", "cannot depend on itself"),
    ("dependency-max-below-min", _set("dependencies[0].max_delay", 60),
     "dependencies[0].max_delay", "max_delay 60 is less than min_delay 120"),
    ("unknown-top-level-key", _set("colour", "blue"), "colour", "unknown key 'colour'"),
    ("unknown-nested-key", _set("visits[0].windwos", []), "visits[0].windwos", "did you mean 'windows'?"),
    ("missing-required-key", _del("visits[2].duration"), "visits[2].duration", "missing required key 'duration'"),
    ("misspelt-required-key", _rename("visits[2].duration", "duraton"),
     "visits[2].duraton", "unknown key 'duraton'; did you mean 'duration'?"),
    ("required-worker-unknown", _set("visits[0].required_workers", ["w-zenon"]),
     "visits[0].required_workers[0]", "unknown worker 'w-zenon'"),
    ("preferred-worker-unknown", _set("visits[0].preferred_workers", ["w-anna", "w-zenon"]),
     "visits[0].preferred_workers[1]", "unknown worker 'w-zenon'"),
    ("forbidden-worker-unknown", _set("visits[6].forbidden_workers", ["w-zenon"]),
     "visits[6].forbidden_workers[0]", "unknown worker 'w-zenon'"),
    ("pinned-worker-unknown", _set("visits[5].pinned_worker", "w-zenon"),
     "visits[5].pinned_worker", "unknown worker 'w-zenon'"),
    ("pinned-worker-forbidden", _set("visits[6].pinned_worker", "w-marek"),
     "visits[6].pinned_worker", "pinned worker 'w-marek' is in forbidden_workers"),
    ("preferred-and-forbidden", _set("visits[6].forbidden_workers", ["w-anna"]),
     "visits[6].forbidden_workers", "'w-anna' is both forbidden and in preferred_workers"),
    ("duplicate-set-entry", _set("visits[0].required_skills", ["bathing", "bathing"]),
     "visits[0].required_skills[1]", "duplicate entry 'bathing'"),
    ("plan-unknown-visit", _set("previous_plan", [PLAN[0] | {"visit_id": "v99"}]),
     "previous_plan[0].visit_id", "previous plan refers to unknown visit 'v99'"),
    ("plan-unknown-worker", _set("previous_plan", [PLAN[0] | {"worker_id": "w-zenon"}]),
     "previous_plan[0].worker_id", "previous plan refers to unknown worker 'w-zenon'"),
    ("plan-duplicate", _set("previous_plan", PLAN + PLAN), "previous_plan[1]", "planned twice"),
    ("negative-duration", _set("visits[2].duration", -5), "visits[2].duration", "must not be negative, got -5"),
    ("negative-duration-by-kind", _set("visits[6].duration_by_kind.carer", -1),
     "visits[6].duration_by_kind.carer", "must not be negative"),
    ("duration-by-kind-unknown", _set("visits[6].duration_by_kind", {"nurse": 20}),
     "visits[6].duration_by_kind.nurse", "unknown worker kind 'nurse'"),
    ("float-minute", _set("visits[0].windows[0].start", 480.0),
     "visits[0].windows[0].start", "must be an integer, got 480.0"),
    ("string-minute", _set("visits[0].windows[0].start", "08:00"),
     "visits[0].windows[0].start", "must be an integer, got '08:00'"),
    ("bool-as-int", _set("visits[0].priority", True), "visits[0].priority", "must be an integer, got true"),
    ("priority-range", _set("visits[0].priority", 6), "visits[0].priority", "must be at most 5, got 6"),
    ("workers-needed-zero", _set("visits[1].workers_needed", 0), "visits[1].workers_needed", "at least 1"),
    ("end-location-out-of-range", _set("visits[0].end_location", 8),
     "visits[0].end_location", "location index 8 out of range (8 locations)"),
    ("worker-kinds-unknown", _set("visits[0].worker_kinds", ["carer", "nurse"]),
     "visits[0].worker_kinds[1]", "unknown worker kind 'nurse'"),
    ("worker-kinds-duplicate", _set("visits[0].worker_kinds", ["carer", "carer"]),
     "visits[0].worker_kinds[1]", "duplicate entry 'carer'"),
    ("strict-without-gender", _del("visits[0].gender_preference"),
     "visits[0].gender_strict", "gender_strict needs a gender_preference"),
    ("shift-end-before-start", _set("workers[0].shifts[0].end", 300),
     "workers[0].shifts[0].end", "shift end 300 is before its start 450"),
    ("split-shifts-overlap", _set("workers[1].shifts[1].start", 650),
     "workers[1].shifts[1].start", "shift start 650 is before the previous shift's end 660"),
    ("break-outside-shift", _set("workers[1].shifts[0].breaks[0].latest", 700),
     "workers[1].shifts[0].breaks[0]", "break start range [540, 700] is not inside its shift [420, 660]"),
    ("break-latest-before-earliest", _set("workers[1].shifts[0].breaks[0].latest", 500),
     "workers[1].shifts[0].breaks[0].latest", "latest start 500 is before its earliest start 540"),
    ("break-zero", _set("workers[1].shifts[0].breaks[0].duration", 0),
     "workers[1].shifts[0].breaks[0].duration", "must be at least 1, got 0"),
    ("lat-without-lon", _del("locations[2].lon"), "locations[2]", "lat and lon must be given together"),
    ("lat-range", _set("locations[2].lat", 95.0), "locations[2].lat", "must be at most 90"),
    ("bool-null", _set("visits[0].mandatory", None), "visits[0].mandatory", "must be true or false, got null"),
    ("weights-unknown-key", _set("weights.travel", 5), "weights.travel", "did you mean 'travel_minute'?"),
    ("weights-negative", _set("weights.travel_minute", -1), "weights.travel_minute", "must not be negative"),
    ("weights-null", _set("weights", None), "weights", "must be an object, got null"),
    ("no-locations", _set("locations", []), "locations", "at least 1 item"),
    ("visits-not-array", _set("visits", {}), "visits", "must be an array, got an object"),
    ("format-missing", _del("format"), "format", "missing format marker"),
    ("format-version", _set("format", "carepath-problem/2"),
     "format", "unsupported format version 'carepath-problem/2'"),
    ("format-solution", _set("format", SOLUTION_FORMAT), "format", "expected 'carepath-problem/1'"),
]


@pytest.mark.parametrize(("mutate", "path", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in PROBLEM_ERRORS])
def test_problem_errors_say_what_and_where(mutate: Mutation, path: str, fragment: str) -> None:
    """Each malformed or inconsistent problem raises ProblemFormatError naming the JSON path and the fault."""
    d = copy.deepcopy(example_dict())
    mutate(d)
    with pytest.raises(ProblemFormatError) as e:
        problem_from_dict(d)
    assert e.value.path == path
    assert fragment in e.value.message
    assert str(e.value) == f"{path}: {e.value.message}"


def _shape_rejects(d: dict[str, Any], fmt: str, cls: type, error: type[FormatError]) -> bool:
    """Whether the reader refuses ``d`` before its rules between values (on the format marker or the shape)."""
    if d.get("format") != fmt:
        return True
    try:
        _shape.read(cls, {k: v for k, v in d.items() if k != "format"}, error)
    except error:
        return True
    return False


SCHEMA_CANNOT_SAY = {
    # JSON Schema counts 480.0 as an integer (draft 2020-12, "integer" is any number with a zero
    # fractional part); the reader refuses it, as a float minute usually means hours went wrong.
    "float-minute",
}


@pytest.mark.parametrize("mutate", [pytest.param(c[1], id=c[0]) for c in PROBLEM_ERRORS if c[0] not in SCHEMA_CANNOT_SAY])
def test_schema_states_exactly_the_readers_shape_checks_on_problems(mutate: Mutation) -> None:
    """For every faulty problem, the generated schema refuses it exactly when the reader's shape check does:
    what the schema cannot state is left to the rules in optimizer/_validation.py, and nothing else is."""
    d = copy.deepcopy(example_dict())
    mutate(d)
    assert (not PROBLEM_VALIDATOR.is_valid(d)) == _shape_rejects(d, PROBLEM_FORMAT, Problem, ProblemFormatError)


@pytest.mark.parametrize("bad", [1.5, -3, "7", True, None], ids=["float", "negative", "string", "bool", "null"])
def test_matrix_faults_are_found_row_by_row_before_the_document(bad: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A faulty matrix entry is reported by the row pre-check (which stops at the first fault) with the
    same path and message as the whole document's validation would give, so a float matrix of a big
    day costs one error, not one per entry."""
    d = copy.deepcopy(example_dict())
    for row in d["travel_times"]["walk"][2:]:
        row[1:] = [bad] * (len(row) - 1)
    body = {k: v for k, v in d.items() if k != "format"}
    with pytest.raises(ProblemFormatError) as pre:
        _shape._matrix_rows(Problem, body, (), ProblemFormatError, Problem)
    monkeypatch.setattr(_shape, "_matrix_rows", lambda *args: None)
    with pytest.raises(ProblemFormatError) as full:
        problem_from_dict(d)
    assert (pre.value.path, pre.value.message) == (full.value.path, full.value.message)
    assert pre.value.path == "travel_times.walk[2][1]"


def test_document_must_be_an_object() -> None:
    """A top-level value that is not an object is reported at the document root."""
    with pytest.raises(ProblemFormatError, match=r"^<document>: must be an object, got an array$"):
        problem_from_dict([])  # type: ignore[arg-type]


def test_invalid_json_file_reports_line(tmp_path: Path) -> None:
    """A file that is not JSON raises ProblemFormatError with the line, not a bare JSONDecodeError."""
    f = tmp_path / "bad.json"
    f.write_text('{\n  "format": "carepath-problem/1",\n  "locations": [,]\n}\n', encoding="utf-8")
    with pytest.raises(ProblemFormatError, match="not valid JSON: .* at line 3"):
        read_problem(f)


def test_duplicate_json_key_is_rejected(tmp_path: Path) -> None:
    """A key written twice in one object is an error (plain json would silently keep the last)."""
    f = tmp_path / "dup.json"
    f.write_text('{"format": "carepath-problem/1", "name": "a", "name": "b"}', encoding="utf-8")
    with pytest.raises(ProblemFormatError, match="duplicate key 'name'"):
        read_problem(f)


def test_nan_in_file_is_rejected(tmp_path: Path) -> None:
    """NaN, which Python's json accepts by default, is refused as not JSON."""
    f = tmp_path / "nan.json"
    f.write_text(json.dumps(example_dict()).replace('"lat": 50.8703', '"lat": NaN'), encoding="utf-8")
    with pytest.raises(ProblemFormatError, match="NaN is not valid JSON"):
        read_problem(f)


# ================================================================== solution errors

SOLUTION_ERRORS = [
    ("reason-unknown", _set("unassigned[0].reason", "too_far"),
     "unassigned[0].reason", "unknown reason code 'too_far'"),
    ("priority-key", _set("kpis.placed_by_priority.high", [1, 2]),
     "kpis.placed_by_priority.high", "key must be an integer written as a string, got 'high'"),
    ("priority-pair", _set("kpis.placed_by_priority.5", [3]),
     'kpis.placed_by_priority["5"]', "must be an array of 2 items, got 1"),
    ("priority-triple", _set("kpis.placed_by_priority.5", [3, 3, 3]),
     'kpis.placed_by_priority["5"]', "must be an array of 2 items, got 3"),
    ("time-limit-string", _set("stats.time_limit_s", "30 s"), "stats.time_limit_s", "must be a number, got '30 s'"),
    ("elapsed-nan", _set("stats.elapsed_s", float("nan")), "stats.elapsed_s", "must be a finite number"),
    ("priority-placed-above-total", _set("kpis.placed_by_priority.5", [4, 3]),
     'kpis.placed_by_priority["5"]', "placed 4 is more than total 3"),
    ("stop-end-before-start", _set("routes[1].stops[0].end", 400),
     "routes[1].stops[0].end", "stop end 400 is before its start 450"),
    ("negative-waiting", _set("routes[0].stops[1].waiting", -1), "routes[0].stops[1].waiting", "must not be negative"),
    ("route-unknown-key", _set("routes[0].stops[0].service", 1), "routes[0].stops[0].service", "unknown key 'service'"),
    ("continuity-range", _set("kpis.continuity_share", 1.5), "kpis.continuity_share", "must be at most 1"),
    ("routes-missing", _del("routes"), "routes", "missing required key 'routes'"),
    ("format-problem", _set("format", PROBLEM_FORMAT), "format", "expected 'carepath-solution/2'"),
]


@pytest.mark.parametrize(("mutate", "path", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in SOLUTION_ERRORS])
def test_solution_errors_say_what_and_where(mutate: Mutation, path: str, fragment: str) -> None:
    """Each malformed solution raises SolutionFormatError naming the JSON path and the fault."""
    d = solution_to_dict(example_solution())
    mutate(d)
    with pytest.raises(SolutionFormatError) as e:
        solution_from_dict(d)
    assert e.value.path == path
    assert fragment in e.value.message


@pytest.mark.parametrize("mutate", [pytest.param(c[1], id=c[0]) for c in SOLUTION_ERRORS if c[0] != "elapsed-nan"])
def test_schema_states_exactly_the_readers_shape_checks_on_solutions(mutate: Mutation) -> None:
    """As for problems: the solution schema refuses a faulty solution exactly when the reader's shape check does."""
    d = solution_to_dict(example_solution())
    mutate(d)
    assert (not SOLUTION_VALIDATOR.is_valid(d)) == _shape_rejects(d, SOLUTION_FORMAT, Solution, SolutionFormatError)


# =================================================================== documentation


def _json_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)```", FORMAT_MD.read_text(encoding="utf-8"), flags=re.S)


def test_format_md_json_blocks_are_valid() -> None:
    """Every ```json block in FORMAT.md parses; complete documents pass the reader and the schema,
    and excerpts of the example (visits, dependencies) are exactly as in the example file."""
    blocks = _json_blocks()
    assert blocks
    example = example_dict()
    visits = {v["id"]: v for v in example["visits"]}
    complete = 0
    for block in blocks:
        doc = json.loads(block)
        for item in doc if isinstance(doc, list) else [doc]:
            if "before" in item:
                assert item in example["dependencies"]
            elif "id" in item and item["id"] in visits:
                assert item == visits[item["id"]]
        if isinstance(doc, dict) and doc.get("format") == PROBLEM_FORMAT:
            problem_from_dict(doc)
            PROBLEM_VALIDATOR.validate(doc)
            complete += 1
        elif isinstance(doc, dict) and doc.get("format") == SOLUTION_FORMAT:
            solution_from_dict(doc)
            SOLUTION_VALIDATOR.validate(doc)
            complete += 1
    assert complete >= 2
