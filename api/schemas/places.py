"""Place bodies: an address and/or coordinates; coordinates left out are looked up from the
address when a geocoder is configured (``dispatch.providers.geocoding``)."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import INPUT_CONFIG, PUBLIC_CONFIG, InputModel
from dispatch.fields import ID_PATTERN, POSTCODE_PATTERN
from dispatch.storage.models import ID_LEN, PlaceBase
from dispatch.domain import PlaceKind

LOOKUP_DOC = ("leave lat and lon out to look them up from the address (needs CAREPATH_GEOCODER=nominatim; "
              "without a geocoder the answer is 422 naming lat)")


class PlaceCreate(PlaceBase):
    """A new place: the fields and rules of ``dispatch.storage.models.PlaceBase``, an optional id, and
    coordinates that may be left out to be looked up from the address."""

    model_config = INPUT_CONFIG
    id: str | None = Field(default=None, pattern=ID_PATTERN,
                           description="generated from kind and name (destination-szpital-kielecki) when omitted")
    lat: float | None = Field(default=None, ge=-90, le=90, description=LOOKUP_DOC)  # type: ignore[assignment]
    lon: float | None = Field(default=None, ge=-180, le=180)  # type: ignore[assignment]


class PlaceUpdate(InputModel):
    """Only the fields sent change; a changed address without lat/lon is looked up again (with a
    geocoder) or refused (422 naming lat: send the coordinates of the new address)."""

    kind: PlaceKind | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    street: str | None = Field(default=None, min_length=1, max_length=200)
    number: str | None = Field(default=None, min_length=1, max_length=20)
    postcode: str | None = Field(default=None, pattern=POSTCODE_PATTERN)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    note: str | None = Field(default=None, max_length=500)


class PlacePublic(PlaceBase):
    """A place as stored."""

    model_config = PUBLIC_CONFIG
    id: str = Field(max_length=ID_LEN)
