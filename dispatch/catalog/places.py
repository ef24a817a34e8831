"""Places: the centre's areas and gminas, its offices, and the taxi's destinations.

A place is where something starts, ends or is registered: seniors and workers belong to an area
(or gmina), cars and workers who start at the office start there, taxi rides go to destinations.
It is created from an address (``street``, ``number``, ``postcode``, ``city``, as a senior's) and
coordinates: given, or looked up from the address by the configured geocoder before the record
is written (``geocoding.fill_coordinates``).  An area given by its centroid needs no address.

Ids are readable: given, or made from the kind and the name (``destination-szpital-kielecki``),
with ``-2``, ``-3`` ... when taken.  A place that anything refers to (seniors, workers, cars,
visit requests, rosters, planning jobs) cannot be deleted: the answer says who refers to it.
Writes are audited; the caller owns the transaction (``catalog`` module docstring).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session, SQLModel, col

from dispatch.access import audit
from dispatch.storage import models as m
from dispatch.catalog.records import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    check_id,
    created_changes,
    err,
    flush,
    length_errors,
    missing_coordinates,
    moved_without_coordinates,
    name_prefix_filter,
    rule_errors,
    null_errors,
    postcode_errors,
    snapshot,
)
from dispatch.domain import as_text, slugify
from dispatch.domain import PlaceKind

#: Fields of a place besides its id.
PLACE_FIELDS = tuple(m.PlaceBase.model_fields)
#: How many referring ids a conflict names per kind of record (the count says the rest).
_NAMED = 5


def validate_place(data: Mapping[str, Any]) -> list[FieldError]:
    """Every rule a place must satisfy (``data``: the whole record without the id, typed)."""
    errors: list[FieldError] = []
    try:
        PlaceKind(data.get("kind"))
    except ValueError:
        errors.append(err("kind", f"must be one of {', '.join(k.value for k in PlaceKind)}"))
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        errors.append(err("name", "must not be empty"))
    lat, lon = data.get("lat"), data.get("lon")
    if lat is None and lon is None:
        errors.append(err("lat", missing_coordinates("lat", "lon")))
    else:
        if not isinstance(lat, int | float) or isinstance(lat, bool) or not -90 <= lat <= 90:
            errors.append(err("lat", "must be a latitude between -90 and 90" if lat is not None else
                                     "missing: give lat with lon"))
        if not isinstance(lon, int | float) or isinstance(lon, bool) or not -180 <= lon <= 180:
            errors.append(err("lon", "must be a longitude between -180 and 180" if lon is not None else
                                     "missing: give lon with lat"))
    errors += postcode_errors(data)
    for name in ("street", "number", "city"):
        if data.get(name) is not None and (not isinstance(data[name], str) or not data[name].strip()):
            errors.append(err(name, "must not be blank (leave it out instead)"))
    texts = {k: data[k] for k in ("name", "street", "number", "postcode", "city", "note") if isinstance(data.get(k), str)}
    errors += length_errors(m.Place, texts)
    return errors + rule_errors(m.PlaceBase, data, skip=(e["field"] for e in errors))


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored form: trimmed texts, empty address parts as None, the note never None."""
    out = dict(data)
    for name in ("name", "street", "number", "postcode", "city", "note"):
        if isinstance(out.get(name), str):
            out[name] = out[name].strip()
    for name in ("street", "number", "postcode", "city"):
        if out.get(name) == "":
            out[name] = None
    if "note" in out and out["note"] is None:
        out["note"] = ""
    return out


def new_place_ids(session: Session, wanted: Iterable[tuple[str, str]], taken: set[str] | None = None) -> list[str]:
    """Readable ids for new places from ``(kind, name)``: ``<kind>-<slug of name>``, at most
    ``ID_LEN`` characters, ``-2``, ``-3`` ... appended when stored or already given out."""
    taken = set(taken or ())
    out: list[str] = []
    for kind, name in wanted:
        base = slugify(f"{kind} {name}")[: m.ID_LEN].strip("-") or "place"
        candidate, n = base, 1
        while candidate in taken or session.get(m.Place, candidate) is not None:
            n += 1
            suffix = f"-{n}"
            candidate = base[: m.ID_LEN - len(suffix)].rstrip("-") + suffix
        taken.add(candidate)
        out.append(candidate)
    return out


def prepare_place(data: Mapping[str, Any]) -> tuple[str | None, dict[str, Any], list[FieldError]]:
    """The id given (or None), the stored values and every rule the new place breaks."""
    values = _values({k: v for k, v in data.items() if k != "id"})
    values.setdefault("note", "")
    errors: list[FieldError] = []
    check_id(data.get("id"), errors)
    errors += validate_place(values)
    return data.get("id"), values, errors


def get_place(session: Session, place_id: str) -> m.Place:
    row = session.get(m.Place, place_id)
    if row is None:
        raise NotFound("place", place_id)
    return row


def create_place(session: Session, actor: str, data: Mapping[str, Any]) -> m.Place:
    """Add a place (coordinates already filled in, ``geocoding.fill_coordinates``); 409 on a taken id."""
    place_id, values, errors = prepare_place(data)
    if errors:
        raise InvalidInput(errors)
    if place_id is not None and session.get(m.Place, place_id) is not None:
        raise Conflict(f"place {place_id!r} already exists", "id")
    if place_id is None:
        kind = as_text(values["kind"])
        place_id = new_place_ids(session, [(kind, values["name"])])[0]
    row = m.Place(id=place_id, **values)
    session.add(row)
    flush(session, f"place {place_id!r}")
    record_place_created(session, actor, row)
    return row


def record_place_created(session: Session, actor: str, row: m.Place, source: str | None = None) -> None:
    audit.record(session, actor, "place.create", "place", row.id,
                 created_changes(row, {"source": source} if source else None))


def update_place(session: Session, actor: str, place_id: str, changes: Mapping[str, Any]) -> m.Place:
    """Change the fields given; a new address needs new coordinates (given or looked up first)."""
    row = get_place(session, place_id)
    values = _values(changes)
    errors = null_errors(m.Place, values)
    if errors:
        raise InvalidInput(errors)
    before = snapshot(row)
    current = {k: getattr(row, k) for k in PLACE_FIELDS}
    errors = validate_place(current | values) + moved_without_coordinates(values, current)
    if errors:
        raise InvalidInput(errors)
    for name, value in values.items():
        setattr(row, name, value)
    flush(session, f"place {place_id!r}")
    changed = audit.diff(before, snapshot(row))
    if changed:
        audit.record(session, actor, "place.update", "place", place_id, changed)
    return row


#: Who may refer to a place: (model, column, what the records are called, their id column).
_REFERENCES: tuple[tuple[type[SQLModel], str, str, str], ...] = (
    (m.Senior, "area", "senior", "id"),
    (m.Worker, "home_area", "worker", "id"),
    (m.Car, "base_place", "car", "id"),
    (m.VisitRequest, "destination_place_id", "visit request", "id"),
    (m.Roster, "area", "roster", "date"),
    (m.PlanJob, "area", "planning job", "id"),
)


def references(session: Session, place_id: str) -> list[str]:
    """What refers to the place, as "3 senior(s) (s-00001, s-00002, s-00003)" per kind of record."""
    out: list[str] = []
    for model, column, what, id_column in _REFERENCES:
        ids = session.scalars(
            select(getattr(model, id_column)).where(getattr(model, column) == place_id)
            .order_by(getattr(model, id_column))
        ).all()
        if ids:
            named = ", ".join(str(i) for i in dict.fromkeys(ids[:_NAMED]))
            more = " ..." if len(ids) > _NAMED else ""
            out.append(f"{len(ids)} {what}(s) ({named}{more})")
    return out


def delete_place(session: Session, actor: str, place_id: str) -> None:
    """Delete a place nothing refers to (409 naming who does otherwise)."""
    row = get_place(session, place_id)
    referred = references(session, place_id)
    if referred:
        raise Conflict(f"place {place_id!r} is referred to by {'; '.join(referred)}: change or remove those first")
    before = snapshot(row)
    session.delete(row)
    flush(session, f"place {place_id!r}")
    audit.record(session, actor, "place.delete", "place", place_id, {k: {"old": v, "new": None} for k, v in before.items()})


def place_query(kind: PlaceKind | None = None, name: str | None = None) -> Select[Any]:
    """Places, optionally of one kind and/or whose name starts with ``name`` (any case)."""
    stmt = select(m.Place)
    if kind is not None:
        stmt = stmt.where(col(m.Place.kind) == kind)
    if name:
        stmt = stmt.where(name_prefix_filter((col(m.Place.name),), name))
    return stmt
