"""The reader of the Mankowska et al. (2014) text format (benchmarks/hhcrsp/mankowska.py).

Uses a tiny hand-written file in that format (3 patients, 2 caregivers, 3 services), not
the published instances (third-party data, never committed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.hhcrsp.convert import to_problem
from benchmarks.hhcrsp.evaluate import PlannedStop, evaluate
from benchmarks.hhcrsp.instance import InstanceError, read_instance
from benchmarks.hhcrsp.mankowska import main, parse_text

# Nodes: 0 office (0,0); 1 (3,4) needs s1; 2 (6,8) needs s2+s3 simultaneously;
# 3 (0,5) needs s1+s3 sequentially, s3 5..10 after s1; 4 = the office again.
# c1 does s1, s2; c2 does s3.  Durations 10 everywhere, except patient 1 / s1 where
# only c1 is qualified (c2's 99 must be ignored).
TINY = """nbNodes
5
nbVehi
2
nbServi
3
r
1 1 1
1 0 0
0 1 1
1 0 1
1 1 1
DS
4 3
a
1  1  0
0  0  1
x
0 3 6 0 0
y
0 4 8 5 0
d
0.0 5.0 10.0 5.0 0.0
5.0 0.0 5.0 3.1622777 5.0
10.0 5.0 0.0 6.708204 10.0
5.0 3.1622777 6.708204 0.0 5.0
0.0 5.0 10.0 5.0 0.0
p
0 0 0
0 0 0
10.0 10.0 10.0
99.0 99.0 99.0
10.0 10.0 10.0
10.0 10.0 10.0
10.0 10.0 10.0
10.0 10.0 10.0
0 0 0
0 0 0
mind
7 7 0 5 0
maxd
14 14 0 10 0
e
0 0 20 40 0
l
600 120 140 160 1000
"""


def _variant(old: str, new: str) -> str:
    assert old in TINY
    return TINY.replace(old, new, 1)


def test_reads_patients_services_and_synchronisation() -> None:
    inst = parse_text(TINY, "tiny")
    assert [p.id for p in inst.patients] == ["p1", "p2", "p3"]
    p1, p2, p3 = inst.patients
    assert p1.location == (3.0, 4.0) and p1.window == (0.0, 120.0)
    assert [(r.service, r.duration) for r in p1.required] == [("s1", 10.0)]  # c2's 99 ignored
    assert p1.sync is None  # mind/maxd of a single-service patient are ignored
    assert [r.service for r in p2.required] == ["s2", "s3"]
    assert p2.sync is not None and p2.sync.type == "simultaneous"
    assert [r.service for r in p3.required] == ["s1", "s3"]  # lower-numbered service first
    assert p3.sync is not None and (p3.sync.type, p3.sync.dmin, p3.sync.dmax) == ("sequential", 5.0, 10.0)
    assert {c.id: sorted(c.abilities) for c in inst.caregivers} == {"c1": ["s1", "s2"], "c2": ["s3"]}
    assert inst.office == (0.0, 0.0)
    assert len(inst.distances) == 4  # the closing office node is dropped
    assert inst.distances[1][3] == pytest.approx(3.1622777)


def test_trailing_blanks_and_unsorted_ds_are_accepted() -> None:
    spaced = "\n".join(line + " " if line and line[0].isdigit() else line for line in TINY.splitlines())
    inst = parse_text(spaced.replace("4 3 ", "3 4 "), "tiny")
    assert len(inst.patients) == 3


def test_converted_instance_solves_and_evaluates() -> None:
    inst = parse_text(TINY, "tiny")
    problem = to_problem(inst)
    assert len(problem.visits) == 5 and len(problem.dependencies) == 2
    # c1: p1/s1 at 5, p2/s2 at 20, p3/s1 at 40; c2: p2/s3 at 20, p3/s3 at 45.
    routes = {
        "c1": [PlannedStop("p1", "s1", 5.0), PlannedStop("p2", "s2", 20.0), PlannedStop("p3", "s1", 40.0)],
        "c2": [PlannedStop("p2", "s3", 20.0), PlannedStop("p3", "s3", 45.0)],
    }
    ev = evaluate(inst, routes)
    assert ev.feasible, ev.violations
    assert ev.total_tardiness == 0.0
    assert ev.distance == pytest.approx(5 + 5 + 6.708204 + 5 + 10 + 6.708204 + 5)


def test_differing_durations_policy() -> None:
    # c2 also qualified for s1, and slower at patient 3 (node 3, second caregiver row).
    text = _variant("10.0 10.0 10.0\n10.0 10.0 10.0\n0 0 0", "10.0 10.0 10.0\n12.0 10.0 10.0\n0 0 0")
    text = text.replace("0  0  1", "1  0  1", 1)
    with pytest.raises(InstanceError, match="durations differ"):
        parse_text(text, "tiny")
    assert parse_text(text, "tiny", durations="max").patients[2].required[0].duration == 12.0
    assert parse_text(text, "tiny", durations="min").patients[2].required[0].duration == 10.0


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("DS\n4 3", "DS\n4", "DS"),                           # DS disagrees with r
        ("1 0 0\n0 1 1", "1 1 1\n0 1 1", "r"),                # three services
        ("mind\n7 7 0 5 0", "mind\n7 7 0 11 0", "mind/maxd"),  # mind > maxd
        ("\nl\n600", "\nl\n", "l"),                           # wrong count
        ("0.0 5.0 10.0 5.0 0.0\np", "0.0 6.0 10.0 5.0 0.0\np", "d"),  # last node is no office
        ("\nx\n", "\nxx\n", "x"),                              # missing section
    ],
)
def test_malformed_files_name_the_field(old: str, new: str, field: str) -> None:
    with pytest.raises(InstanceError) as err:
        parse_text(_variant(old, new), "tiny", "tiny.txt")
    assert err.value.field == field or err.value.field.startswith(field)
    assert "tiny.txt" in str(err.value)


def test_cli_writes_the_json_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "InstanzCPLEX_HCSRP_3_1.txt"
    src.write_text(TINY)
    out = tmp_path / "tiny.json"
    assert main([str(src), "--out", str(out)]) == 0
    assert "3 patients (1 simultaneous, 1 sequential pairs)" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["patients"][2]["synchronization"] == {"type": "sequential", "distance": [5, 10]}
    back = read_instance(out)
    assert back.patients == parse_text(TINY, "x").patients
    assert main([str(tmp_path / "missing.txt")]) == 2
