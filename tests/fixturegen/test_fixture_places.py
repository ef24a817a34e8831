"""Kielce places from the packaged CSV, and the Polish names and addresses used for people."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from fixtures import names
from dispatch.domain import slugify
from fixtures.places import load_places, place_id, places_of_kind
from dispatch.domain import PlaceKind

SHARED_CSV = Path("/work/shared/fixtures-data/kielce_places.csv")
PACKAGED_CSV = Path(__file__).resolve().parents[2] / "fixtures" / "data" / "kielce_places.csv"


def test_place_ids_are_stable_slugs() -> None:
    """Ids are <kind>-<slug of the name>, addresses in parentheses dropped, disambiguators kept."""
    ids = {p.id for p in load_places()}
    for expected in (
        "area-centrum-rynek",
        "area-slichowice",
        "destination-wojewodzki-szpital-zespolony",
        "destination-swietokrzyskie-centrum-psychiatrii",
        "office-mopr-kielce-project-office",
        "office-mopr-kielce-headquarters",
        "gmina-bieliny",
        "gmina-lopuszno",
        "gmina-maslow",
        "gmina-sitkowka-nowiny",
    ):
        assert expected in ids
    assert slugify("Łagów Świętokrzyski") == "lagow-swietokrzyski"
    assert place_id(PlaceKind.AREA, "Centrum (Rynek)") == "area-centrum-rynek"


def test_all_places_load_with_their_kinds() -> None:
    """The CSV gives 23 areas, 9 destinations, 2 MOPR offices and 11 gminas, ids unique."""
    places = load_places()
    assert len({p.id for p in places}) == len(places)
    kinds = Counter(p.kind for p in places)
    assert kinds == {PlaceKind.AREA: 23, PlaceKind.DESTINATION: 9, PlaceKind.OFFICE: 2, PlaceKind.GMINA: 11}
    for p in places:
        assert 50.6 < p.lat < 51.1 and 20.1 < p.lon < 21.0, p.id
    assert all("PLACEHOLDER" in p.note for p in places_of_kind(places, PlaceKind.OFFICE))


def test_packaged_csv_is_a_verbatim_copy_of_the_shared_one() -> None:
    """fixtures/data/kielce_places.csv equals the shared research file byte for byte."""
    if not SHARED_CSV.exists():
        pytest.skip("shared fixtures-data not present on this machine")
    assert PACKAGED_CSV.read_bytes() == SHARED_CSV.read_bytes()


def test_loading_another_csv(tmp_path: Path) -> None:
    """load_places(path) reads a CSV with the same columns; duplicate ids are refused."""
    csv_file = tmp_path / "p.csv"
    csv_file.write_text("kind,name,lat,lon,note\narea,Test (ul. Polna 1),50.1,20.1,x\n", encoding="utf-8")
    (only,) = load_places(csv_file)
    assert only.id == "area-test" and only.note == "x"
    csv_file.write_text(
        "kind,name,lat,lon,note\narea,Test,50.1,20.1,\narea,Test (ul. Polna 1),50.1,20.1,\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="duplicate"):
        load_places(csv_file)


def test_every_area_and_gmina_has_streets_and_postcodes() -> None:
    """Addresses can be drawn everywhere people live: Kielce 25-xxx, gminas 26-0xx."""
    for p in load_places():
        if p.kind is PlaceKind.AREA:
            loc = names.LOCALITIES[p.id]
            assert loc.cities == ("Kielce",) and all(c.startswith("25-") for c in loc.postcodes)
        elif p.kind is PlaceKind.GMINA:
            loc = names.LOCALITIES[p.id]
            assert all(c.startswith("26-0") for c in loc.postcodes) and "Kielce" not in loc.cities
            assert not loc.blocks


def test_surnames_take_the_gendered_form() -> None:
    """Kowalski/Kowalska, Zawadzki/Zawadzka, Nowak/Nowak."""
    assert names.surname_for("Kowalski", "F") == "Kowalska"
    assert names.surname_for("Czarnecki", "F") == "Czarnecka"
    assert names.surname_for("Zawadzki", "F") == "Zawadzka"
    assert names.surname_for("Nowak", "F") == "Nowak"
    assert names.surname_for("Kowalski", "M") == "Kowalski"


def test_people_get_names_of_their_generation() -> None:
    """Seniors get older first names, workers working-age ones; women never get -ski surnames."""
    rng = random.Random(1)
    for _ in range(200):
        first, last = names.person_name(rng, "F", senior=True)
        assert first in names.SENIOR_FEMALE_FIRST_NAMES and not last.endswith("ski")
        first, _ = names.person_name(rng, "M", senior=False)
        assert first in names.WORKER_MALE_FIRST_NAMES


def test_phone_numbers_are_synthetic_and_unique() -> None:
    """Numbers live in the fixture block "+48 500 xxx xxx", one per serial."""
    numbers = [names.phone_number(i) for i in range(5000)]
    assert len(set(numbers)) == 5000 and numbers[0] == "+48 500 000 000"
    assert names.phone_number(123_456) == "+48 500 123 456"
    with pytest.raises(ValueError):
        names.phone_number(1_000_000)
