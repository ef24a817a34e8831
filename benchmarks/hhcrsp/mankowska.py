"""Reader for the original text format of the Mankowska, Meisel and Bierwirth (2014) instances.

The HHCRSP instances of Mankowska, Meisel and Bierwirth, "The home health care routing and
scheduling problem with interdependent services", *Health Care Management Science* 17(1):15-30
(2014), were distributed as text files named ``InstanzCPLEX_HCSRP_<n>_<k>.txt`` (10-75
patients) and ``InstanzVNS_HCSRP_<n>_<k>.txt`` (100-300 patients), first from the authors'
site (prodlog.wiwi.uni-halle.de, research data "hhcrsp") and since mirrored in several public
repositories.  The 2024 follow-up study (Ceschia et al., ITOR, doi:10.1111/itor.13585)
republished the family in the JSON form that :mod:`benchmarks.hhcrsp.instance` reads; this
module turns the text form into that same :class:`~benchmarks.hhcrsp.instance.Instance`, so
the converter, evaluator and runner of the harness apply unchanged.

The format, as far as this reader relies on it (written from the files themselves; no code
of any other project is used).  A file is a sequence of sections, each a keyword line
followed by whitespace-separated numbers (lines may carry trailing blanks)::

    nbNodes  N            nodes: 0 = office, 1..N-2 = patients, N-1 = the office again
    nbVehi   V            caregivers
    nbServi  S            services (S = 6 in the whole family)
    r        N x S 0/1    service requirements; rows 0 and N-1 (the office) are all ones
    DS       ...          1-based node numbers of the patients that need two services
    a        V x S 0/1    caregiver qualifications
    x, y     N each       coordinates (become the locations; travel uses ``d`` as published)
    d        N x N        distances = travel times; row N-1 repeats row 0
    p        N*V x S      durations, N blocks of V rows: p[node][caregiver][service]
    mind     N            per node: minimum delay between a patient's two services
    maxd     N            per node: maximum delay
    e, l     N each       time windows; the office's values (0 and 600 or 1000) are unused

Mapping decisions:

* patient ``p<i>`` is node ``i`` (1..N-2); services are ``s1..sS`` (column order); caregivers
  ``c1..cV``; the office is ``"d"`` at node 0 with its coordinates.  Node N-1 must be the
  office again (same distance row as node 0, zero distance between the two), else the file
  is rejected: the JSON form has a single office.
* a patient's requirements are its ``r`` row's ones, in column order; two at most.  ``DS``
  must list exactly the two-service patients (it is checked, not trusted).
* two-service patient: ``mind = maxd = 0`` means *simultaneous* (both start together);
  anything else means *sequential*: the higher-numbered service starts ``mind..maxd`` after
  the lower-numbered one (the JSON form's convention: the first listed service is first).
  ``mind``/``maxd`` of single-service patients are present in the files but meaningless and
  ignored.
* durations: the model of the paper allows ``p`` to differ per caregiver, the JSON form has
  one duration per patient-service.  Only the rows of caregivers *qualified* for the service
  are looked at (the others are meaningless).  If they all agree (the case in every file
  we have seen: one value for the whole instance), that is the duration; if they differ, the
  ``durations`` policy decides: ``"strict"`` (default) rejects the file, ``"max"`` /
  ``"min"`` take the largest / smallest qualified value (``"max"`` keeps every plan
  feasible for the real durations, so its cost is an upper bound).
* a service's ``default_duration`` is its most common duration over the patients (0 if no
  patient needs it).
* time windows ``[e, l]`` as given (the family's windows are 120 minutes long).

``python -m benchmarks.hhcrsp.mankowska FILE.txt [--out FILE.json] [--durations POLICY]``
writes the JSON form (with :func:`benchmarks.hhcrsp.instance.write_instance`) and prints a
one-line summary.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Literal, Sequence

from benchmarks.hhcrsp.instance import (
    Caregiver,
    Instance,
    InstanceError,
    Patient,
    Requirement,
    Sync,
    from_json,
    to_json,
    write_instance,
)

DurationPolicy = Literal["strict", "max", "min"]

SECTIONS = ("nbNodes", "nbVehi", "nbServi", "r", "DS", "a", "x", "y", "d", "p", "mind", "maxd", "e", "l")
"""The section keywords, in file order."""

OFFICE_TOL = 1e-4
"""How far the closing office node's distances may differ from the opening one's."""


def _sections(text: str, source: str) -> dict[str, list[str]]:
    """Keyword -> its tokens.  Every keyword must appear exactly once."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line in SECTIONS:
            if line in out:
                raise InstanceError(source, line, f"section given twice (line {lineno})")
            current = line
            out[current] = []
            continue
        if current is None:
            raise InstanceError(source, "<file>", f"line {lineno}: data before the first section keyword")
        out[current].extend(line.split())
    missing = [k for k in SECTIONS if k not in out]
    if missing:
        raise InstanceError(source, missing[0], "section missing" + (f" (also {', '.join(missing[1:])})" if missing[1:] else ""))
    return out


def _numbers(tokens: list[str], count: int | None, source: str, field: str) -> list[float]:
    if count is not None and len(tokens) != count:
        raise InstanceError(source, field, f"expected {count} numbers, got {len(tokens)}")
    vals: list[float] = []
    for t in tokens:
        try:
            v = float(t)
        except ValueError:
            raise InstanceError(source, field, f"not a number: {t!r}") from None
        if not math.isfinite(v):
            raise InstanceError(source, field, f"not a finite number: {t!r}")
        vals.append(v)
    return vals


def _count(tokens: list[str], source: str, field: str, minimum: int) -> int:
    (v,) = _numbers(tokens, 1, source, field)
    if not v.is_integer() or v < minimum:
        raise InstanceError(source, field, f"expected an integer >= {minimum}, got {tokens[0]!r}")
    return int(v)


def _flags(tokens: list[str], rows: int, cols: int, source: str, field: str) -> list[list[bool]]:
    vals = _numbers(tokens, rows * cols, source, field)
    if any(v not in (0.0, 1.0) for v in vals):
        raise InstanceError(source, field, "expected 0/1 entries")
    return [[vals[i * cols + j] == 1.0 for j in range(cols)] for i in range(rows)]


def _duration(
    values: Sequence[float], policy: DurationPolicy, source: str, field: str
) -> float:
    if not values:
        raise InstanceError(source, field, "no caregiver is qualified for this service")
    lo, hi = min(values), max(values)
    if hi < 0 or lo < 0:
        raise InstanceError(source, field, f"negative duration {lo}")
    if hi - lo <= 1e-9 or policy == "max":
        return hi
    if policy == "min":
        return lo
    raise InstanceError(source, field, f"durations differ between qualified caregivers ({lo} to {hi}); "
                                       "pass durations='max' or 'min' to choose one")


def parse_text(text: str, name: str, source: str = "<text>", durations: DurationPolicy = "strict") -> Instance:
    """Parse the text form (see the module docstring) into an :class:`Instance`.

    ``source`` names the file in :class:`InstanceError` messages.  The result is also passed
    through :func:`benchmarks.hhcrsp.instance.from_json`, so it satisfies every check the JSON
    reader makes.
    """
    sec = _sections(text, source)
    n_nodes = _count(sec["nbNodes"], source, "nbNodes", 3)
    n_veh = _count(sec["nbVehi"], source, "nbVehi", 1)
    n_serv = _count(sec["nbServi"], source, "nbServi", 1)
    n_pat = n_nodes - 2
    req = _flags(sec["r"], n_nodes, n_serv, source, "r")
    qual = _flags(sec["a"], n_veh, n_serv, source, "a")
    xs = _numbers(sec["x"], n_nodes, source, "x")
    ys = _numbers(sec["y"], n_nodes, source, "y")
    flat_d = _numbers(sec["d"], n_nodes * n_nodes, source, "d")
    dist = [flat_d[i * n_nodes:(i + 1) * n_nodes] for i in range(n_nodes)]
    flat_p = _numbers(sec["p"], n_nodes * n_veh * n_serv, source, "p")
    mind = _numbers(sec["mind"], n_nodes, source, "mind")
    maxd = _numbers(sec["maxd"], n_nodes, source, "maxd")
    e = _numbers(sec["e"], n_nodes, source, "e")
    late = _numbers(sec["l"], n_nodes, source, "l")
    ds_vals = _numbers(sec["DS"], None, source, "DS")

    last = n_nodes - 1
    if any(abs(dist[0][j] - dist[last][j]) > OFFICE_TOL for j in range(1, last)) or dist[0][last] > OFFICE_TOL:
        raise InstanceError(source, "d", f"node {last} is not the office again (its distances differ from node 0's)")

    services = [f"s{k + 1}" for k in range(n_serv)]
    caregivers = tuple(
        Caregiver(f"c{v + 1}", frozenset(services[k] for k in range(n_serv) if qual[v][k])) for v in range(n_veh)
    )

    def p_of(node: int, veh: int, serv: int) -> float:
        return flat_p[(node * n_veh + veh) * n_serv + serv]

    patients: list[Patient] = []
    two_service: set[int] = set()
    for i in range(1, n_pat + 1):
        where = f"patient node {i}"
        ks = [k for k in range(n_serv) if req[i][k]]
        if not ks:
            raise InstanceError(source, "r", f"{where} requires no service")
        if len(ks) > 2:
            raise InstanceError(source, "r", f"{where} requires {len(ks)} services (at most two supported)")
        reqs = tuple(
            Requirement(services[k], _duration([p_of(i, v, k) for v in range(n_veh) if qual[v][k]], durations,
                                               source, f"p[{where}][{services[k]}]"))
            for k in ks
        )
        sync: Sync | None = None
        if len(ks) == 2:
            two_service.add(i)
            lo, hi = mind[i], maxd[i]
            if lo < 0 or hi < lo:
                raise InstanceError(source, "mind/maxd", f"{where}: need 0 <= mind <= maxd, got {lo}, {hi}")
            sync = Sync("simultaneous") if lo == 0 and hi == 0 else Sync("sequential", lo, hi)
        if e[i] > late[i]:
            raise InstanceError(source, "e/l", f"{where}: window start {e[i]} after end {late[i]}")
        patients.append(Patient(f"p{i}", (xs[i], ys[i]), (e[i], late[i]), reqs, sync))

    ds: set[int] = set()
    for v in ds_vals:
        if not v.is_integer() or not 1 <= v <= n_nodes:
            raise InstanceError(source, "DS", f"not a 1-based node number: {v}")
        ds.add(int(v) - 1)
    if ds != two_service:
        raise InstanceError(source, "DS", f"lists nodes {sorted(x + 1 for x in ds)} (1-based) but the patients "
                                          f"with two services are {sorted(x + 1 for x in two_service)}")

    default: dict[str, float] = {}
    for s in services:
        seen = Counter(r.duration for p in patients for r in p.required if r.service == s)
        default[s] = seen.most_common(1)[0][0] if seen else 0.0
    inst = Instance(
        name=name,
        patients=tuple(patients),
        services=default,
        caregivers=caregivers,
        office_id="d",
        office=(xs[0], ys[0]),
        distances=tuple(tuple(row[:last]) for row in dist[:last]),
    )
    # Round trip through the JSON reader: same validation as a published JSON file.
    return from_json(to_json(inst), name, source)


def read_text_instance(path: Path, durations: DurationPolicy = "strict") -> Instance:
    """Read one text file; the instance name is the file name without ``.txt``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstanceError(str(path), "<file>", "no such file") from None
    name = path.name[:-4] if path.name.endswith(".txt") else path.name
    return parse_text(text, name, str(path), durations)


def summary(inst: Instance) -> str:
    simul = sum(1 for p in inst.patients if p.sync is not None and p.sync.type == "simultaneous")
    seq = sum(1 for p in inst.patients if p.sync is not None and p.sync.type == "sequential")
    durs = sorted({r.duration for p in inst.patients for r in p.required})
    return (f"{inst.name}: {len(inst.patients)} patients ({simul} simultaneous, {seq} sequential pairs), "
            f"{len(inst.caregivers)} caregivers, {len(inst.services)} services, durations {durs}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hhcrsp.mankowska",
                                 description="Convert a Mankowska et al. (2014) text instance to the JSON form.")
    ap.add_argument("file", type=Path, help="InstanzCPLEX_HCSRP_*.txt or InstanzVNS_HCSRP_*.txt")
    ap.add_argument("--out", type=Path, default=None, help="JSON file to write (default: FILE with .json)")
    ap.add_argument("--durations", choices=("strict", "max", "min"), default="strict",
                    help="what to do when qualified caregivers' durations differ (default: reject)")
    args = ap.parse_args(argv)
    try:
        inst = read_text_instance(args.file, args.durations)
    except InstanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or args.file.with_suffix(".json")
    write_instance(inst, out)
    print(f"{summary(inst)} -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
