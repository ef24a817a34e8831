"""Our HHCRSP results in the solution format of the best-known authors' own validator.

Why: the costs we report are recomputed by :mod:`benchmarks.hhcrsp.evaluate`, which we wrote
ourselves.  An independent check is to hand the same plans to the validator published with
the best known solutions (Ceschia, Di Gaspero, Rosati, Schaerf, ITOR 2024,
github.com/iolab-uniud/hhcrsp, ``validator/validator.py check-solution INSTANCE SOLUTION``)
and compare its cost with ours.  This module only writes their JSON: it is stdlib-only and
never imports the validator or its pinned packages (numpy, pandas, scipy, ...), which are
run from a venv of their own.

Their solution format (as ``validator/solution.py`` reads it and as their stored solutions
``solutions/mankowska/sol-*.json`` are written)::

    {"global_ordering": ["p8", "p10", ...],
     "routes": [{"caregiver_id": "c1",
                 "locations": [{"patient": "p10", "service": "s3",
                                "arrival_time": 148.0, "departure_time": 162.0}, ...]},
                ...]}

* one route per caregiver of the instance, empty ones included (the validator asserts
  ``len(routes) == caregivers``), in the instance's caregiver order; an empty route is
  written with ``"locations": []`` where their files leave the key out (their reader takes
  both);
* ``arrival_time`` is the *start of service* (the validator checks it against the previous
  departure + distance, the window start and the synchronisation, and charges tardiness on
  it), ``departure_time`` = start + the service's duration (checked to 1e-3);
* ``global_ordering`` (here: patients by their first start; in their files their solver's
  own decoding order) is ignored by the validator; it is written so the files have the same
  shape as theirs.

The ``routes`` of a results.json entry (:mod:`benchmarks.hhcrsp.run`) hold starts in the
family's real minutes already: :func:`benchmarks.hhcrsp.convert.to_routes` divides carepath's
integer times by the entry's ``scale`` (100) before they are stored, so no rescaling is done
here.

CLI::

    python -m benchmarks.hhcrsp.iolab RESULTS.json --instances DIR --out OUTDIR [--solver carepath]

writes ``OUTDIR/sol-<instance>.json`` for every entry of ``--solver`` with a plan, reading
``DIR/<instance>.json``; then, for each, with the validator's venv::

    python validator/validator.py check-solution DIR/<instance>.json OUTDIR/sol-<instance>.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from benchmarks.hhcrsp.evaluate import PlannedStop, Routes, routes_from_json
from benchmarks.hhcrsp.instance import Instance, InstanceError, read_instance


class ConversionError(ValueError):
    """A plan or a solution file that does not fit the instance (unknown id, duplicate route)."""


def to_solution(inst: Instance, routes: Routes) -> dict[str, Any]:
    """``routes`` (caregiver -> stops with real starts) as the validator's solution JSON."""
    durations = {(p.id, r.service): r.duration for p in inst.patients for r in p.required}
    known = {c.id for c in inst.caregivers}
    unknown = sorted(set(routes) - known)
    if unknown:
        raise ConversionError(f"{inst.name}: caregivers not in the instance: {unknown}")
    first_start: dict[str, float] = {}
    out_routes: list[dict[str, Any]] = []
    for c in inst.caregivers:
        locations: list[dict[str, Any]] = []
        for s in routes.get(c.id, []):
            if (s.patient, s.service) not in durations:
                raise ConversionError(f"{inst.name}: {c.id} serves {s.patient}/{s.service}, not a required service")
            locations.append({
                "patient": s.patient,
                "service": s.service,
                "arrival_time": s.start,
                "departure_time": s.start + durations[(s.patient, s.service)],
            })
            first_start[s.patient] = min(first_start.get(s.patient, s.start), s.start)
        out_routes.append({"caregiver_id": c.id, "locations": locations})
    order = {p.id: k for k, p in enumerate(inst.patients)}
    ordering = sorted(first_start, key=lambda pid: (first_start[pid], order[pid]))
    return {"global_ordering": ordering, "routes": out_routes}


def record_to_solution(record: Mapping[str, Any], inst: Instance) -> dict[str, Any]:
    """One results.json entry (see :mod:`benchmarks.hhcrsp.run`) as the validator's JSON."""
    if record.get("instance") != inst.name:
        raise ConversionError(f"entry is for {record.get('instance')!r}, instance is {inst.name!r}")
    if record.get("routes") is None:
        raise ConversionError(f"{inst.name}: the entry has no plan (cost {record.get('cost')})")
    return to_solution(inst, routes_from_json(record["routes"]))


def from_solution(data: Mapping[str, Any], inst: Instance) -> Routes:
    """The validator's solution JSON back to our routes (starts = ``arrival_time``), so their
    stored solutions can be scored by :func:`benchmarks.hhcrsp.evaluate.evaluate`.  Accepts the
    alternative keys their reader accepts (``caregiver``, ``patient_id``, ``service_id``)."""
    known = {c.id for c in inst.caregivers}
    out: Routes = {c.id: [] for c in inst.caregivers}
    seen: set[str] = set()
    raw_routes: Sequence[Mapping[str, Any]] = data["routes"]
    for r in raw_routes:
        cid = r.get("caregiver") or r.get("caregiver_id")
        if cid not in known:
            raise ConversionError(f"{inst.name}: unknown caregiver {cid!r}")
        if cid in seen:
            raise ConversionError(f"{inst.name}: two routes for caregiver {cid!r}")
        seen.add(cid)
        out[cid] = [PlannedStop(str(step.get("patient") or step.get("patient_id")),
                                str(step.get("service") or step.get("service_id")),
                                float(step["arrival_time"]))
                    for step in r.get("locations", [])]
    return out


def convert_results(results: Sequence[Mapping[str, Any]], instances: Path, out: Path,
                    solver: str = "carepath") -> list[Path]:
    """Write ``out/sol-<instance>.json`` for each entry of ``solver`` with a plan (entries
    without a ``solver`` key count as ``solver``; those without a plan are skipped with a note
    on stderr); returns the files written, in the results' order."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    done: set[str] = set()
    for record in results:
        if record.get("solver", solver) != solver:
            continue
        name = str(record["instance"])
        if name in done:
            raise ConversionError(f"{name}: more than one {solver} entry")
        done.add(name)
        if record.get("routes") is None:
            print(f"skipped {name}: the entry has no plan", file=sys.stderr)
            continue
        inst = read_instance(instances / f"{name}.json")
        path = out / f"sol-{name}.json"
        path.write_text(json.dumps(record_to_solution(record, inst), indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hhcrsp.iolab",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="results.json of python -m benchmarks.hhcrsp")
    ap.add_argument("--instances", type=Path, required=True, help="directory of <instance>.json")
    ap.add_argument("--out", type=Path, required=True, help="directory for sol-<instance>.json")
    ap.add_argument("--solver", default="carepath", help="which entries to convert (default carepath)")
    args = ap.parse_args(argv)
    try:
        results = json.loads(args.results.read_text(encoding="utf-8"))
        written = convert_results(results, args.instances, args.out, args.solver)
    except (OSError, json.JSONDecodeError, InstanceError, ConversionError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
