"""``carepath places`` and ``carepath services``: the centre's places and catalogue of services on the
configured database, through the same ``dispatch`` use cases as the API (``places``,
``service_catalog``, ``geocoding``).

Writes are audited with the actor ``cli:<operating-system user>``.  Mistakes end with every problem
on its own line (``field: message``) and exit code 2; a geocoder that cannot answer too.  A place
(``places add``) without ``--lat``/``--lon`` is located from its address when a geocoder is
configured (``CAREPATH_GEOCODER=nominatim``), like over the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from sqlmodel import col
from rich.table import Table

from dispatch.providers import geocoding
from dispatch.catalog import places
from dispatch.catalog import services as service_catalog
from dispatch.catalog.records import InvalidInput
from dispatch.cli.users import _actor, _session
from dispatch.errors import UserError
from dispatch.storage.models import Place, Service, ServiceKind
from dispatch.domain import PlaceKind, as_text

places_app = typer.Typer(help="Places: areas, gminas, offices and ride destinations.", no_args_is_help=True)
services_app = typer.Typer(help="The catalogue of services requests refer to.", no_args_is_help=True)

out = Console()
err = Console(stderr=True)


def fail(exc: UserError) -> typer.Exit:
    """Every problem of ``exc`` on its own line (one for a plain error), exit code 2."""
    if isinstance(exc, InvalidInput) and exc.errors:
        for e in exc.errors:
            where = f"line {e['row']}, " if "row" in e else ""
            err.print(f"[bold red]error:[/] {where}{e.get('field') or 'file'}: {e.get('message', '')}", highlight=False)
    else:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
    return typer.Exit(2)


def _given(**values: Any) -> dict[str, Any]:
    """The options a person gave (``None`` means not given)."""
    return {k: v for k, v in values.items() if v is not None}


def _show(record: Mapping[str, Any]) -> None:
    width = max(len(k) for k in record)
    for key, value in record.items():
        shown = ", ".join(value) if isinstance(value, list) else ("" if value is None else as_text(value))
        out.print(f"{key:<{width}}  {shown}", highlight=False)


def _table(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    table = Table(header_style="bold")
    for name in columns:
        table.add_column(name, no_wrap=name in ("id", "code"))  # ids are copied into other commands whole
    for row in rows:
        table.add_row(*("" if v is None else as_text(v) for v in row))
    return table


# --------------------------------------------------------------------------- places

Kind = Annotated[Optional[PlaceKind], typer.Option("--kind", help="area | gmina | office | destination")]
Street = Annotated[Optional[str], typer.Option(help="Street, e.g. Sienkiewicza.")]
Number = Annotated[Optional[str], typer.Option(help="House number.")]
Postcode = Annotated[Optional[str], typer.Option(help="Polish postcode, 25-001.")]
City = Annotated[Optional[str], typer.Option(help="City (needed to look the coordinates up).")]
Lat = Annotated[Optional[float], typer.Option(help="Latitude; left out: looked up from the address (geocoder).")]
Lon = Annotated[Optional[float], typer.Option(help="Longitude.")]
Note = Annotated[Optional[str], typer.Option(help="E.g. which entrance.")]


@places_app.command("add")
def places_add(
    name: Annotated[str, typer.Argument(help="The place's name, e.g. 'Wojewódzki Szpital Zespolony'.")],
    kind: Kind = None,
    place_id: Annotated[Optional[str], typer.Option("--id", help="Id (default: from kind and name).")] = None,
    street: Street = None, number: Number = None, postcode: Postcode = None, city: City = None,
    lat: Lat = None, lon: Lon = None, note: Note = None,
) -> None:
    """Add a place from its address and coordinates (given, or looked up with a configured geocoder)."""
    if kind is None:
        raise fail(UserError("--kind is required: area, gmina, office or destination"))
    data = {"id": place_id, "kind": kind, "name": name, "street": street, "number": number, "postcode": postcode,
            "city": city, "lat": lat, "lon": lon, "note": note or ""}
    try:
        with _session() as session:
            data = geocoding.fill_coordinates(session, geocoding.geocoder_from_settings(), data)
            row = places.create_place(session, _actor(), data)
            summary = f"added place {row.id} ({row.kind.value}) at {row.lat:.5f}, {row.lon:.5f}"
    except UserError as exc:
        raise fail(exc) from None
    out.print(summary, highlight=False)


@places_app.command("list")
def places_list(
    kind: Kind = None,
    name: Annotated[Optional[str], typer.Option(help="Name starts with (any case).")] = None,
) -> None:
    """List places, by id."""
    try:
        with _session() as session:
            rows = [(p.id, p.kind, p.name, places_address(p), f"{p.lat:.5f}, {p.lon:.5f}")
                    for p in session.scalars(places.place_query(kind, name).order_by(col(Place.id))).all()]
    except UserError as exc:
        raise fail(exc) from None
    if not rows:
        out.print("no places yet: add one with 'carepath places add NAME --kind area --lat .. --lon ..' or import a "
                  "spreadsheet with 'carepath import places FILE'")
        return
    out.print(_table(("id", "kind", "name", "address", "lat, lon"), rows))


def places_address(p: Any) -> str:
    street = " ".join(x for x in (p.street, p.number) if x)
    town = " ".join(x for x in (p.postcode, p.city) if x)
    return ", ".join(x for x in (street, town) if x)


@places_app.command("show")
def places_show(place_id: Annotated[str, typer.Argument(help="Place id.")]) -> None:
    """Show one place."""
    try:
        with _session() as session:
            row = places.get_place(session, place_id)
            record = {"id": row.id, **{k: getattr(row, k) for k in places.PLACE_FIELDS}}
    except UserError as exc:
        raise fail(exc) from None
    _show(record)


@places_app.command("update")
def places_update(
    place_id: Annotated[str, typer.Argument(help="Place id.")],
    name: Annotated[Optional[str], typer.Option(help="New name.")] = None,
    kind: Kind = None,
    street: Street = None, number: Number = None, postcode: Postcode = None, city: City = None,
    lat: Lat = None, lon: Lon = None, note: Note = None,
) -> None:
    """Change the options given; a new address without --lat/--lon is looked up (or refused without a geocoder)."""
    changes = _given(name=name, kind=kind, street=street, number=number, postcode=postcode, city=city, lat=lat,
                     lon=lon, note=note)
    if not changes:
        raise fail(UserError("nothing to change: give at least one option (see --help)"))
    try:
        with _session() as session:
            current = places.get_place(session, place_id)
            before = {k: getattr(current, k) for k in places.PLACE_FIELDS}
            changes = geocoding.fill_coordinates(session, geocoding.geocoder_from_settings(), changes, before=before)
            row = places.update_place(session, _actor(), place_id, changes)
            summary = f"updated place {row.id}"
    except UserError as exc:
        raise fail(exc) from None
    out.print(summary, highlight=False)


@places_app.command("delete")
def places_delete(place_id: Annotated[str, typer.Argument(help="Place id.")]) -> None:
    """Delete a place nothing refers to (otherwise the message says who does)."""
    try:
        with _session() as session:
            places.delete_place(session, _actor(), place_id)
    except UserError as exc:
        raise fail(exc) from None
    out.print(f"deleted place {place_id}", highlight=False)


# --------------------------------------------------------------------------- services

WorkerKinds = Annotated[Optional[list[str]], typer.Option(
    "--worker-kind", help="Who may do it (repeat): carer, specialist_carer, personal_assistant, driver, handyman.")]
Skills = Annotated[Optional[list[str]], typer.Option("--skill", help="A required skill (repeat).")]
Duration = Annotated[Optional[int], typer.Option("--duration", help="Default minutes on site.")]
Mandatory = Annotated[Optional[bool], typer.Option("--mandatory/--optional",
                                                   help="Requests are mandatory by default (or not).")]
WorkingDays = Annotated[Optional[bool], typer.Option("--working-days-only/--every-day",
                                                     help="Monday to Friday except public holidays (or every day).")]
ServiceKindOption = Annotated[Optional[ServiceKind], typer.Option("--kind", help="visit | ride (the taxi)")]
NamePl = Annotated[Optional[str], typer.Option("--name-pl", help="Polish name.")]
NameEn = Annotated[Optional[str], typer.Option("--name-en", help="English name.")]


def _service_record(row: Any) -> dict[str, Any]:
    return {"code": row.code, **{k: getattr(row, k) for k in service_catalog.SERVICE_FIELDS}}


@services_app.command("add")
def services_add(
    code: Annotated[str, typer.Argument(help="The id requests use, e.g. rehabilitation.")],
    name_pl: NamePl = None, name_en: NameEn = None, duration: Duration = None, worker_kind: WorkerKinds = None,
    skill: Skills = None, mandatory: Mandatory = None, kind: ServiceKindOption = None,
    working_days_only: WorkingDays = None,
) -> None:
    """Add a service to the catalogue."""
    data = {"code": code, "name_pl": name_pl, "name_en": name_en, "default_duration": duration,
            "worker_kinds": worker_kind or [], "required_skills": skill or [], "mandatory": mandatory, "kind": kind,
            "working_days_only": working_days_only}
    try:
        with _session() as session:
            row = service_catalog.create_service(session, _actor(), data)
            summary = f"added service {row.code} ({row.kind.value}, {row.default_duration} min)"
    except UserError as exc:
        raise fail(exc) from None
    out.print(summary, highlight=False)


@services_app.command("list")
def services_list() -> None:
    """List the services, by code."""
    try:
        with _session() as session:
            rows = [(s.code, s.name_pl, s.kind, s.default_duration, ", ".join(s.worker_kinds),
                     ", ".join(s.required_skills), "yes" if s.mandatory else "", "yes" if s.working_days_only else "")
                    for s in session.scalars(service_catalog.service_query().order_by(col(Service.code))).all()]
    except UserError as exc:
        raise fail(exc) from None
    if not rows:
        out.print("no services yet: add one with 'carepath services add CODE ...' or 'carepath import services FILE'")
        return
    out.print(_table(("code", "name", "kind", "minutes", "worker kinds", "skills", "mandatory", "working days only"),
                     rows))


@services_app.command("show")
def services_show(code: Annotated[str, typer.Argument(help="Service code.")]) -> None:
    """Show one service."""
    try:
        with _session() as session:
            record = _service_record(service_catalog.get_service(session, code))
    except UserError as exc:
        raise fail(exc) from None
    _show(record)


@services_app.command("update")
def services_update(
    code: Annotated[str, typer.Argument(help="Service code.")],
    name_pl: NamePl = None, name_en: NameEn = None, duration: Duration = None, worker_kind: WorkerKinds = None,
    skill: Skills = None, mandatory: Mandatory = None, kind: ServiceKindOption = None,
    working_days_only: WorkingDays = None,
) -> None:
    """Change the options given (--worker-kind and --skill replace the whole list)."""
    changes = _given(name_pl=name_pl, name_en=name_en, default_duration=duration, worker_kinds=worker_kind or None,
                     required_skills=skill or None, mandatory=mandatory, kind=kind, working_days_only=working_days_only)
    if not changes:
        raise fail(UserError("nothing to change: give at least one option (see --help)"))
    try:
        with _session() as session:
            row = service_catalog.update_service(session, _actor(), code, changes)
            summary = f"updated service {row.code}"
    except UserError as exc:
        raise fail(exc) from None
    out.print(summary, highlight=False)
