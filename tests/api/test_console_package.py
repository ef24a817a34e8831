"""The console's catalogue and files: every message the pages use is translated into Polish, and
``pip install .`` ships the templates, static files, vendored libraries and catalogue (the
package-data globs of pyproject.toml cover every file under them)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import api.console
from api.console import i18n
from api.console.headers import policy, tile_origin

CONSOLE = Path(api.console.__file__).parent
ROOT = CONSOLE.parents[1]


def _extracted() -> set[str]:
    out = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(CONSOLE), method_map=[("templates/**.html", "jinja2"), ("**.py", "python")]):
        out.add(message[0] if isinstance(message, tuple) else message)
    return out


def test_every_console_message_has_a_polish_translation() -> None:
    with i18n.catalogue_path("pl").open("rb") as po:
        catalogue = read_po(po, locale="pl")
    translated = {msg.id: msg.string for msg in catalogue if msg.id and msg.string and not msg.fuzzy}
    used = _extracted()
    assert len(used) > 100
    assert sorted(used - set(translated)) == []
    assert i18n.translations("pl").gettext("Log in") == "Zaloguj się"
    assert i18n.translations("en").gettext("Log in") == "Log in"


def test_package_data_globs_cover_every_console_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["api"]
    files = [p.relative_to(ROOT / "api").as_posix() for p in (CONSOLE).rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"]
    assert any(f.endswith("htmx.min.js") for f in files) and any(f.endswith("messages.po") for f in files)
    shipped = {p.relative_to(ROOT / "api").as_posix() for g in globs for p in (ROOT / "api").glob(g) if p.is_file()}
    uncovered = [f for f in files if f not in shipped]  # Path.glob, like setuptools: * stops at /
    assert uncovered == []
    for vendor in (CONSOLE / "static" / "vendor").iterdir():
        if vendor.is_dir():
            assert (vendor / "LICENSE").exists(), vendor


def test_the_csp_names_the_tile_server_only_when_one_is_set() -> None:
    assert tile_origin(None) is None
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert tile_origin("javascript:alert(1)") is None
    assert "img-src 'self' data:;" in policy(None)
    assert "img-src 'self' data: https://tiles.example.org;" in policy("https://tiles.example.org/{z}/{x}/{y}.png")
