"""HHCRSP instances (Mankowska, Meisel and Bierwirth 2014) in the published JSON form.

The JSON form is the one the authors of the 2024 follow-up study (Ceschia, Di Gaspero,
Rosati, Schaerf, ITOR, doi:10.1111/itor.13585) publish the instance family in::

    {"patients": [{"id", "location": [x, y], "time_window": [e, l],
                   "required_caregivers": [{"service", "duration"}, ...],
                   "synchronization": {"type": "simultaneous"}
                                    | {"type": "sequential", "distance": [dmin, dmax]}}],
     "services": [{"id", "default_duration"}], "caregivers": [{"id", "abilities"}],
     "central_offices": [{"id", "location"}], "distances": [[...], ...]}

Row 0 of ``distances`` is the office, row i the i-th patient.  The reader checks every field
it uses and raises :class:`InstanceError` naming the file and the field, so a malformed file
fails before any solver starts (and never as a ``KeyError`` deep inside one).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

SyncType = Literal["simultaneous", "sequential"]


class InstanceError(ValueError):
    """A file that is not a valid instance: says which file and which field."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        super().__init__(f"{source}: {field}: {problem}")
        self.source, self.field, self.problem = source, field, problem


@dataclass(frozen=True)
class Requirement:
    """One service a patient needs, done by one caregiver."""

    service: str
    duration: float


@dataclass(frozen=True)
class Sync:
    """How a patient's two services relate: same start, or the second ``[dmin, dmax]`` later."""

    type: SyncType
    dmin: float = 0.0
    dmax: float = 0.0


@dataclass(frozen=True)
class Patient:
    id: str
    location: tuple[float, float]
    window: tuple[float, float]
    """``[e, l]``: service may not start before ``e``; minutes after ``l`` are tardiness."""
    required: tuple[Requirement, ...]
    sync: Sync | None = None


@dataclass(frozen=True)
class Caregiver:
    id: str
    abilities: frozenset[str]


@dataclass(frozen=True)
class Instance:
    name: str
    patients: tuple[Patient, ...]
    services: dict[str, float]
    """Service id -> default duration."""
    caregivers: tuple[Caregiver, ...]
    office_id: str
    office: tuple[float, float]
    distances: tuple[tuple[float, ...], ...]
    """Row 0: the office; row i: the i-th patient (1-based)."""

    def node_of(self) -> dict[str, int]:
        """Patient id -> row of ``distances``."""
        return {p.id: i + 1 for i, p in enumerate(self.patients)}


# ----------------------------------------------------------------------------- reading


def _need(obj: Any, key: str, source: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise InstanceError(source, f"{where}.{key}" if where else key, "missing")
    return obj[key]


def _number(value: Any, source: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InstanceError(source, field, f"expected a finite number, got {value!r}")
    return float(value)


def _pair(value: Any, source: str, field: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InstanceError(source, field, f"expected [a, b], got {value!r}")
    return _number(value[0], source, f"{field}[0]"), _number(value[1], source, f"{field}[1]")


def _ident(value: Any, source: str, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InstanceError(source, field, f"expected a non-empty string, got {value!r}")
    return value


def _list(value: Any, source: str, field: str, min_len: int = 0) -> list[Any]:
    if not isinstance(value, list) or len(value) < min_len:
        raise InstanceError(source, field, f"expected a list of at least {min_len} item(s)")
    return value


def _services(data: dict[str, Any], source: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, s in enumerate(_list(_need(data, "services", source, ""), source, "services", 1)):
        where = f"services[{k}]"
        sid = _ident(_need(s, "id", source, where), source, f"{where}.id")
        if sid in out:
            raise InstanceError(source, f"{where}.id", f"duplicate service {sid!r}")
        dur = s.get("default_duration")
        out[sid] = 0.0 if dur is None else _number(dur, source, f"{where}.default_duration")
    return out


def _caregivers(data: dict[str, Any], services: dict[str, float], source: str) -> tuple[Caregiver, ...]:
    out: list[Caregiver] = []
    seen: set[str] = set()
    for k, c in enumerate(_list(_need(data, "caregivers", source, ""), source, "caregivers", 1)):
        where = f"caregivers[{k}]"
        cid = _ident(_need(c, "id", source, where), source, f"{where}.id")
        if cid in seen:
            raise InstanceError(source, f"{where}.id", f"duplicate caregiver {cid!r}")
        seen.add(cid)
        abilities = _list(_need(c, "abilities", source, where), source, f"{where}.abilities", 1)
        for a in abilities:
            if a not in services:
                raise InstanceError(source, f"{where}.abilities", f"unknown service {a!r}")
        out.append(Caregiver(cid, frozenset(abilities)))
    return tuple(out)


def _sync(p: dict[str, Any], n_req: int, source: str, where: str) -> Sync | None:
    raw = p.get("synchronization")
    if n_req == 1:
        if raw is not None:
            raise InstanceError(source, f"{where}.synchronization", "given for a patient with one service")
        return None
    if raw is None:
        raise InstanceError(source, f"{where}.synchronization", "missing (the patient needs two services)")
    kind = _need(raw, "type", source, f"{where}.synchronization")
    if kind == "simultaneous":
        return Sync("simultaneous")
    if kind == "sequential":
        dmin, dmax = _pair(_need(raw, "distance", source, f"{where}.synchronization"), source,
                           f"{where}.synchronization.distance")
        if not 0 <= dmin <= dmax:
            raise InstanceError(source, f"{where}.synchronization.distance", f"need 0 <= dmin <= dmax, got {[dmin, dmax]}")
        return Sync("sequential", dmin, dmax)
    raise InstanceError(source, f"{where}.synchronization.type", f"expected 'simultaneous' or 'sequential', got {kind!r}")


def _patients(data: dict[str, Any], services: dict[str, float], source: str) -> tuple[Patient, ...]:
    out: list[Patient] = []
    seen: set[str] = set()
    for k, p in enumerate(_list(_need(data, "patients", source, ""), source, "patients", 1)):
        where = f"patients[{k}]"
        pid = _ident(_need(p, "id", source, where), source, f"{where}.id")
        if pid in seen:
            raise InstanceError(source, f"{where}.id", f"duplicate patient {pid!r}")
        seen.add(pid)
        loc = _pair(p.get("location", [0.0, 0.0]), source, f"{where}.location")
        e, l = _pair(_need(p, "time_window", source, where), source, f"{where}.time_window")
        if e > l:
            raise InstanceError(source, f"{where}.time_window", f"start {e} after end {l}")
        reqs: list[Requirement] = []
        raw_reqs = _list(_need(p, "required_caregivers", source, where), source, f"{where}.required_caregivers", 1)
        if len(raw_reqs) > 2:
            raise InstanceError(source, f"{where}.required_caregivers", "at most two services per patient")
        for j, r in enumerate(raw_reqs):
            rw = f"{where}.required_caregivers[{j}]"
            sid = _ident(_need(r, "service", source, rw), source, f"{rw}.service")
            if sid not in services:
                raise InstanceError(source, f"{rw}.service", f"unknown service {sid!r}")
            dur = r.get("duration")
            duration = services[sid] if dur is None else _number(dur, source, f"{rw}.duration")
            if duration < 0:
                raise InstanceError(source, f"{rw}.duration", f"negative duration {duration}")
            reqs.append(Requirement(sid, duration))
        if len(reqs) == 2 and reqs[0].service == reqs[1].service:
            raise InstanceError(source, f"{where}.required_caregivers", "the two services must differ")
        out.append(Patient(pid, loc, (e, l), tuple(reqs), _sync(p, len(reqs), source, where)))
    return tuple(out)


def _distances(data: dict[str, Any], n: int, source: str) -> tuple[tuple[float, ...], ...]:
    rows = _list(_need(data, "distances", source, ""), source, "distances")
    if len(rows) != n:
        raise InstanceError(source, "distances", f"expected {n} rows (office + patients), got {len(rows)}")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != n:
            raise InstanceError(source, f"distances[{i}]", f"expected {n} numbers")
        vals = tuple(_number(x, source, f"distances[{i}][{j}]") for j, x in enumerate(row))
        if any(x < 0 for x in vals):
            raise InstanceError(source, f"distances[{i}]", "negative distance")
        out.append(vals)
    return tuple(out)


def from_json(data: Any, name: str, source: str = "<data>") -> Instance:
    """Validate parsed JSON and build an :class:`Instance` (``source`` names it in errors)."""
    if not isinstance(data, dict):
        raise InstanceError(source, "<root>", "expected a JSON object")
    services = _services(data, source)
    caregivers = _caregivers(data, services, source)
    patients = _patients(data, services, source)
    offices = _list(_need(data, "central_offices", source, ""), source, "central_offices", 1)
    if len(offices) != 1:
        raise InstanceError(source, "central_offices", f"expected exactly one office, got {len(offices)}")
    office_id = _ident(_need(offices[0], "id", source, "central_offices[0]"), source, "central_offices[0].id")
    office = _pair(offices[0].get("location", [0.0, 0.0]), source, "central_offices[0].location")
    distances = _distances(data, len(patients) + 1, source)
    for k, p in enumerate(patients):
        for j, r in enumerate(p.required):
            if not any(r.service in c.abilities for c in caregivers):
                raise InstanceError(source, f"patients[{k}].required_caregivers[{j}].service",
                                    f"no caregiver can do {r.service!r}")
    return Instance(name, patients, services, caregivers, office_id, office, distances)


def read_instance(path: Path) -> Instance:
    """Read and validate one instance file; its name is the file name without ``.json``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstanceError(str(path), "<file>", "no such file") from None
    except json.JSONDecodeError as exc:
        raise InstanceError(str(path), "<file>", f"not JSON ({exc})") from None
    name = path.name[:-5] if path.name.endswith(".json") else path.name
    return from_json(data, name, str(path))


# ----------------------------------------------------------------------------- writing


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else x


def to_json(inst: Instance) -> dict[str, Any]:
    """The published JSON form (time windows as integers when they are whole minutes)."""
    patients = []
    for p in inst.patients:
        item: dict[str, Any] = {
            "id": p.id,
            "location": [_num(p.location[0]), _num(p.location[1])],
            "time_window": [_num(p.window[0]), _num(p.window[1])],
            "required_caregivers": [{"service": r.service, "duration": float(r.duration)} for r in p.required],
        }
        if p.sync is not None:
            item["synchronization"] = (
                {"type": "simultaneous"} if p.sync.type == "simultaneous"
                else {"type": "sequential", "distance": [_num(p.sync.dmin), _num(p.sync.dmax)]}
            )
        patients.append(item)
    return {
        "patients": patients,
        "services": [{"id": s, "default_duration": float(d)} for s, d in inst.services.items()],
        "caregivers": [{"id": c.id, "abilities": sorted(c.abilities)} for c in inst.caregivers],
        "central_offices": [{"id": inst.office_id, "location": [_num(inst.office[0]), _num(inst.office[1])]}],
        "distances": [list(row) for row in inst.distances],
    }


def write_instance(inst: Instance, path: Path) -> None:
    """Write the JSON form with one patient, caregiver, service or distance row per line
    (diffable and still compact)."""
    data = to_json(inst)
    parts = []
    for key, items in data.items():
        body = ",\n  ".join(json.dumps(x, separators=(",", ":")) for x in items)
        parts.append(f' "{key}": [\n  {body}\n ]')
    path.write_text("{\n" + ",\n".join(parts) + "\n}\n", encoding="utf-8")
