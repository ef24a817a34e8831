"""``carepath import <kind> FILE``: the spreadsheet imports on the configured database, as over the API.

Kinds, in the order a centre starting from nothing loads them: places, services, cars, workers,
seniors, requests (``dispatch.exchange.imports.KINDS``).  All rows or none: on any problem every one is
printed with its line (as Excel numbers it) and column, nothing is written, and the exit code is
2.  ``--dry-run`` checks and writes nothing; ``--template`` writes the header row to fill in
(CSV for Polish Excel, or ``.xlsx`` when FILE ends so) instead of importing.  Rows without
coordinates are looked up from their address first when a geocoder is configured.  Audited as
``cli:<operating-system user>``.
"""

# No ``from __future__ import annotations``: typer reads the per-kind option help from the annotations
# of a function made in a loop, which only real (not string) annotations can carry.
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from dispatch import clock
from dispatch.exchange import imports
from dispatch.cli.catalog import fail
from dispatch.cli.users import _actor, _session
from dispatch.errors import UserError
from dispatch.providers.geocoding import geocoder_from_settings

import_app = typer.Typer(help="Spreadsheet imports (CSV as Polish Excel saves it, or XLSX): all rows or none.",
                         no_args_is_help=True)

out = Console()


def _run(kind: imports.ImportKind, file: Optional[Path], dry_run: bool, template: bool) -> None:
    if template:
        target = file or Path(f"carepath-{kind.name}.csv")
        fmt = "xlsx" if target.suffix.lower() == ".xlsx" else "csv"
        if target.exists():
            raise fail(UserError(f"{target} exists; choose another name (a template never overwrites a file)"))
        target.write_bytes(imports.template(kind, fmt))
        out.print(f"wrote the {kind.name} template to {target}: fill in one row per record and import it with "
                  f"'carepath import {kind.name} {target}'", highlight=False)
        return
    if file is None:
        raise fail(UserError("give the FILE to import (or --template to write one to fill in)"))
    try:
        with file.open("rb") as handle:
            content = handle.read(imports.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(UserError(f"cannot read {file}: {exc.strerror or exc}")) from None
    try:
        with _session() as session:
            geocoder = geocoder_from_settings()
            asked = imports.prefetch(session, kind, content, file.name, geocoder)
            extra = {"now": clock.cli_clock()} if kind.uses_clock else {}
            result = kind.run(session, _actor(), content, file.name, dry_run=dry_run, geocoder=geocoder, **extra)
            if dry_run:
                session.rollback()
    except UserError as exc:
        raise fail(exc) from None
    counts = ", ".join(f"{n} {table}" for table, n in result.created.items())
    verb = "would import" if dry_run else "imported"
    looked_up = f"; {asked} address(es) looked up" if asked else ""
    out.print(f"{verb} {counts} from {result.rows} row(s) of {file.name}{looked_up}", highlight=False)
    for w in result.warnings:
        out.print(f"warning: line {w['row']}: {w['field']}: {w['message']}", highlight=False)


def _command(kind: imports.ImportKind) -> None:
    def command(
        file: Annotated[Optional[Path], typer.Argument(help="A .csv (';', UTF-8) or .xlsx file.")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")] = False,
        template: Annotated[bool, typer.Option("--template", help="Write the header row to FILE (default "
                                                                   f"carepath-{kind.name}.csv) instead.")] = False,
    ) -> None:
        _run(kind, file, dry_run, template)

    command.__doc__ = f"Import {kind.name} from a spreadsheet (columns: {', '.join(c.name for c in kind.columns)})."
    import_app.command(kind.name)(command)


for _kind in imports.KINDS.values():
    _command(_kind)
